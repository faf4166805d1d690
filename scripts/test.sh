#!/usr/bin/env bash
# Set up and run the whole test suite: once on SQLite, once on the local PostgreSQL.
# Installs Debian's chromium and chromium-driver for the browser tests when missing, and starts
# PostgreSQL, Redis, RabbitMQ and Mosquitto when they are not running.
# Extra arguments go to pytest (e.g. scripts/test.sh -m "not browser").
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
source scripts/services.sh
ensure_venv
apt_install chromium chromium-driver
ensure_services

PG_URL="${FLEETLIGHT_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
pg_ok() { .venv/bin/python -c "import sys, psycopg; psycopg.connect(sys.argv[1]).close()" "$1" 2>/dev/null; }
if ! pg_ok "$PG_URL"; then
  # A stock Debian cluster asks for a password on loopback: use a local test role instead.
  as_root su postgres -c "psql -qc \"DO \\\$\\\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='fleetlight_test') THEN CREATE ROLE fleetlight_test LOGIN CREATEDB PASSWORD 'fleetlight_test'; END IF; END\\\$\\\$\"" >/dev/null
  PG_URL="postgresql://fleetlight_test:fleetlight_test@127.0.0.1:5432/postgres"
  pg_ok "$PG_URL" || { echo "cannot connect to PostgreSQL at $PG_URL" >&2; exit 1; }
fi

echo "=== ruff and mypy ==="
.venv/bin/ruff check .
.venv/bin/mypy

status=0
echo "=== test suite on SQLite ==="
.venv/bin/python -m pytest "$@" || status=$?
echo "=== test suite on PostgreSQL ($PG_URL) ==="
FLEETLIGHT_TEST_DATABASE_URL="$PG_URL" .venv/bin/python -m pytest "$@" || status=$?
exit "$status"
