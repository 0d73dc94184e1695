#!/usr/bin/env bash
# sealcam against the stock Go `age` (Debian's package), seal and open of one
# file as whole processes: installs `age` when it is missing, then runs
# crates/format/benches/vs_age.rs. Environment: SEALCAM_VS_AGE_MIB (256),
# SEALCAM_VS_AGE_ROUNDS (7).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v age >/dev/null || ! command -v age-keygen >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get install -y -q age
fi
exec cargo bench -p sealcam-format --bench vs_age "$@"
