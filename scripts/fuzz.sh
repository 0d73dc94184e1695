#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) or 10 million executions,
# whichever comes first, and prints executions and
# the outcome of each. Needs cargo-fuzz (`cargo install cargo-fuzz`); the
# stable toolchain runs it with RUSTC_BOOTSTRAP=1 (cargo-fuzz passes nightly
# sanitizer flags).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-60}"
only="${2:-}"   # optional: one target
export RUSTC_BOOTSTRAP=1
cargo run -q --bin make_seeds
cargo fuzz build -O
targets=$(cargo fuzz list | grep -v make_seeds)
[ -z "$only" ] || targets="$only"
for t in $targets; do
  log="artifacts/$t.log"
  mkdir -p artifacts corpus/"$t" seeds/"$t"
  if cargo fuzz run -O "$t" corpus/"$t" seeds/"$t" -- -max_total_time="$secs" -runs=10000000 -print_final_stats=1 >"$log" 2>&1; then
    outcome="no crash"
  else
    outcome="CRASH (see fuzz/$log and fuzz/artifacts/$t/)"
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || echo "?")
  [ "$execs" != "?" ] || outcome="DID NOT RUN (see fuzz/$log)"
  printf 'fuzz %-14s %6ss  %10s executions  %s\n' "$t" "$secs" "$execs" "$outcome"
done
