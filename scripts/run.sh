#!/usr/bin/env bash
# Set up and run Fleetlight on the embedded default: SQLite, in-process bus, live simulator.
# Serves http://127.0.0.1:8050 (FLEETLIGHT_HOST / FLEETLIGHT_PORT to change) with gunicorn, the
# production server (one process, threads; deploy/gunicorn.conf.py); `python app.py` serves the same
# app through Werkzeug's development server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
ensure_venv
exec .venv/bin/gunicorn -c deploy/gunicorn.conf.py app:server
