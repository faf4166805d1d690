#!/usr/bin/env bash
# Install (when missing) and start (when not running) the local services the tests talk to:
# PostgreSQL, Redis, RabbitMQ and Mosquitto on their default loopback ports.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local port=$1 name=$2 tries=${3:-60}
  for _ in $(seq "$tries"); do port_open "$port" && return 0; sleep 0.5; done
  echo "$name did not come up on port $port" >&2; return 1
}

ensure_services() {
  if ! port_open 5432; then
    apt_install postgresql
    local version; version="$(ls /etc/postgresql | sort -V | tail -1)"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || as_root pg_ctlcluster "$version" main start
    wait_port 5432 PostgreSQL
  fi
  if ! port_open 6379; then
    apt_install redis-server
    as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    wait_port 6379 Redis
  fi
  if ! port_open 5672; then
    apt_install rabbitmq-server
    as_root rabbitmq-server -detached
    wait_port 5672 RabbitMQ 120
  fi
  if ! port_open 1883; then
    apt_install mosquitto
    as_root mosquitto -d -c /etc/mosquitto/mosquitto.conf
    wait_port 1883 Mosquitto
  fi
}
