#!/usr/bin/env bash
# Shared set-up for scripts/run.sh and scripts/test.sh: a Python 3.11+ virtual environment in
# .venv with the pinned requirements, re-installed only when requirements.txt changes.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root (or sudo) to run: $*" >&2; return 1; fi
}

apt_install() {
  # apt_install PKG... : install the Debian packages that are missing
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

find_python() {
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$candidate"; return 0
    fi
  done
  echo "Python 3.11 or newer is required (apt-get install python3.11 python3.11-venv)" >&2
  return 1
}

ensure_venv() {
  local py stamp want
  py="$(find_python)"
  if [ ! -x .venv/bin/python ]; then
    if ! "$py" -m venv .venv 2>/dev/null; then
      rm -rf .venv
      apt_install "$(basename "$py")-venv" || apt_install python3-venv
      "$py" -m venv .venv
    fi
  fi
  want="$(sha256sum requirements.txt | cut -d' ' -f1)"
  stamp=".venv/.requirements.sha256"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "installing Python requirements into .venv (first run takes a few minutes)"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -r requirements.txt
    echo "$want" > "$stamp"
  fi
}
