#!/usr/bin/env bash
# Set up and run Fleetlight on the embedded default: SQLite, in-process bus, live simulator.
# Serves http://127.0.0.1:8050 (FLEETLIGHT_HOST / FLEETLIGHT_PORT to change).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
ensure_venv
exec .venv/bin/python app.py
