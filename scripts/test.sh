#!/usr/bin/env bash
# sealcam's test command (README "Quick start", and what .ci/run calls).
#
# On a fresh machine it installs what the tests need, starts the servers they
# use on 127.0.0.1, runs the whole workspace's tests, and stops what it started.
# Extra arguments go to `cargo test` (e.g. `scripts/test.sh -p sealcam-format`).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[test.sh] %s\n' "$*" >&2; }

# --- packages -----------------------------------------------------------------
# age: the stock age command, which must decrypt a sealed object's outer layer.
need=()
command -v age >/dev/null 2>&1 || need+=(age)
if [ "${#need[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  log "installing ${need[*]} (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# --- servers ------------------------------------------------------------------
# PostgreSQL and an S3-compatible server on 127.0.0.1 for the scale-out tests;
# stopped again however this script ends.
# shellcheck source=scripts/services.sh
source scripts/services.sh start
trap 'scripts/services.sh stop' EXIT
export SEALCAM_REQUIRE_SERVICES=1

# --- tests --------------------------------------------------------------------
log "cargo test --workspace $*"
cargo test --workspace --locked "$@"
if [ "$#" -eq 0 ]; then
  # One line per backend pair for the server's scenarios (already run above; ~4 s).
  for pair in sqlite_local postgres_s3; do
    out=$(cargo test -p sealcam-server --locked --test "$pair" 2>&1) || { echo "$out"; exit 1; }
    log "server scenarios on ${pair/_/+}: $(grep '^test result' <<<"$out")"
  done
  # Feature-gated: async sealing over tokio's AsyncRead/AsyncWrite.
  log "cargo test -p sealcam-format --features tokio --test async_seal"
  cargo test -p sealcam-format --locked --features tokio --test async_seal
fi
