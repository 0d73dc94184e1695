#!/usr/bin/env bash
# Starts and stops the real servers the scale-out tests use, on 127.0.0.1:
# a throwaway PostgreSQL 15 cluster (initdb + pg_ctl, trust auth) and an
# S3-compatible server (moto_server from PyPI; it implements conditional
# puts, which sealcam relies on to never overwrite a committed part).
#
#   source scripts/services.sh start   # exports SEALCAM_TEST_POSTGRES_URL and SEALCAM_TEST_S3_*
#   scripts/services.sh stop
#
# State lives in $SEALCAM_SERVICES_DIR (default target/services).
set -euo pipefail

_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SEALCAM_SERVICES_DIR="${SEALCAM_SERVICES_DIR:-$_root/target/services}"

_log() { printf '[services] %s\n' "$*" >&2; }

_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

_pg_bin() {
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return; }; done
  command -v initdb >/dev/null && dirname "$(command -v initdb)" && return
  return 1
}

_as_pg() {
  # initdb and postgres refuse to run as root.
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

_ensure_packages() {
  if ! _pg_bin >/dev/null 2>&1; then
    _log "installing postgresql (apt)"
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
  fi
  if [ ! -x "$SEALCAM_SERVICES_DIR/venv/bin/moto_server" ]; then
    _log "installing moto[server] into $SEALCAM_SERVICES_DIR/venv (pip)"
    python3 -m venv "$SEALCAM_SERVICES_DIR/venv"
    "$SEALCAM_SERVICES_DIR/venv/bin/pip" install -q 'moto[server]==5.2.5'
  fi
}

_wait_for() { # url-or-port check command, description
  local i
  for i in $(seq 1 200); do
    if eval "$1" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  _log "$2 did not come up"; return 1
}

services_start() {
  mkdir -p "$SEALCAM_SERVICES_DIR"
  _ensure_packages
  local bin; bin="$(_pg_bin)"
  local pgdata="$SEALCAM_SERVICES_DIR/pgdata" pgport s3port
  pgport="$(_free_port)"
  rm -rf "$pgdata"
  mkdir -p "$pgdata"
  chown postgres: "$pgdata" 2>/dev/null || true
  _as_pg "$bin/initdb" -D "$pgdata" -A trust -U postgres --no-sync >/dev/null
  _as_pg "$bin/pg_ctl" -D "$pgdata" -l "$pgdata/log" -w \
    -o "-h 127.0.0.1 -p $pgport -k $pgdata -c fsync=off -c max_connections=300" start >/dev/null
  _as_pg "$bin/createdb" -h 127.0.0.1 -p "$pgport" -U postgres sealcam
  export SEALCAM_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pgport/sealcam"
  _log "PostgreSQL on 127.0.0.1:$pgport"

  s3port="$(_free_port)"
  "$SEALCAM_SERVICES_DIR/venv/bin/moto_server" -H 127.0.0.1 -p "$s3port" >"$SEALCAM_SERVICES_DIR/moto.log" 2>&1 &
  echo $! >"$SEALCAM_SERVICES_DIR/moto.pid"
  _wait_for "python3 -c 'import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:$s3port/moto-api/\")'" "moto_server"
  export SEALCAM_TEST_S3_ENDPOINT="http://127.0.0.1:$s3port"
  export SEALCAM_TEST_S3_REGION="us-east-1"
  export AWS_ACCESS_KEY_ID="testing" AWS_SECRET_ACCESS_KEY="testing"
  _log "S3 (moto_server) on 127.0.0.1:$s3port"
}

services_stop() {
  local bin; bin="$(_pg_bin 2>/dev/null || true)"
  if [ -n "$bin" ] && [ -f "$SEALCAM_SERVICES_DIR/pgdata/postmaster.pid" ]; then
    _as_pg "$bin/pg_ctl" -D "$SEALCAM_SERVICES_DIR/pgdata" -m fast -w stop >/dev/null || true
    _log "PostgreSQL stopped"
  fi
  if [ -f "$SEALCAM_SERVICES_DIR/moto.pid" ]; then
    kill "$(cat "$SEALCAM_SERVICES_DIR/moto.pid")" 2>/dev/null || true
    rm -f "$SEALCAM_SERVICES_DIR/moto.pid"
    _log "moto_server stopped"
  fi
}

case "${1:-}" in
  start) services_start ;;
  stop) services_stop ;;
  *) echo "usage: source scripts/services.sh start | scripts/services.sh stop" >&2; return 2 2>/dev/null || exit 2 ;;
esac
