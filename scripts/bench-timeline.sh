#!/usr/bin/env bash
# The timeline at a million events on SQLite and PostgreSQL: starts the
# throwaway PostgreSQL cluster (scripts/services.sh, which installs it when
# missing), runs server/benches/timeline.rs, stops the cluster.
# Environment: BENCH_EVENTS (1000000), BENCH_REQUESTS (300).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=services.sh
source scripts/services.sh start
trap 'scripts/services.sh stop' EXIT
cargo bench -p sealcam-server --bench timeline "$@"
