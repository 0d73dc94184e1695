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
# chromium, ffmpeg: the viewer's browser test (tests/tests/viewer/ui.rs) plays
# MP4 clips it makes with ffmpeg in Debian's headless Chromium.
need=()
command -v age >/dev/null 2>&1 || need+=(age)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ "${#need[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  log "installing ${need[*]} (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# playwright-core (no browser download), pinned by tests/ui/package-lock.json.
if [ ! -d tests/ui/node_modules/playwright-core ]; then
  log "npm ci in tests/ui (playwright-core, drives Debian's chromium)"
  npm ci --prefix tests/ui --no-audit --no-fund --silent
fi

# --- servers ------------------------------------------------------------------
# PostgreSQL and an S3-compatible server on 127.0.0.1 for the scale-out tests;
# stopped again however this script ends.
# shellcheck source=scripts/services.sh
source scripts/services.sh start
trap 'scripts/services.sh stop' EXIT
export SEALCAM_REQUIRE_SERVICES=1

# --- tests --------------------------------------------------------------------
# One build, one run. Tests print one summary line each (counts of what they
# checked); they are collected at the end from the full log.
mkdir -p target
out=target/test-output.log
if [ "$#" -eq 0 ]; then
  # sealcam-format/tokio: the async sealing test runs too, in the same build.
  log "cargo test --workspace --features sealcam-format/tokio -- --nocapture (log: $out)"
  cargo test --workspace --locked --features sealcam-format/tokio -- --nocapture 2>&1 | tee "$out"
else
  # The arguments choose what runs (`-p PKG` narrows; `--workspace` is theirs to add).
  log "cargo test $* (log: $out)"
  cargo test --locked "$@" 2>&1 | tee "$out"
fi

log "summary lines:"
grep -E '^(ui|watch|export|tried|cctv|vectors|keys vectors|authz matrix|crash test|crash|replicas|migrate-store|sweep/upload race|incident|storm|hostile|lifecycle|trust|upgrade|c example|spool|privacy|hardening|faults)[^a-z]' "$out" | sed 's/^/  /' || true
# One line per backend pair of the server's scenarios.
for pair in sqlite_local postgres_s3; do
  line=$(awk -v t="tests/$pair.rs" 'index($0, "Running " t) { f = 1 } f && /^test result/ { print; exit }' "$out")
  [ -z "$line" ] || log "server scenarios on ${pair/_/+}: $line"
done
