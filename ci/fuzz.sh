#!/usr/bin/env bash
# ci/fuzz.sh [SECONDS]: builds the libFuzzer targets of the topology and scenario loaders with
# clang 14 (in build-fuzz/, with AddressSanitizer and UBSan), seeds each from topologies/,
# scenarios/ and the bad corpora of lab/tests, and runs each for SECONDS (default 30). A crash,
# an escaped exception, a sanitizer report or a slow input stops it with exit 1 and leaves the
# input in build-fuzz/findings/; reproduce with build-fuzz/lab/fuzz/TARGET FILE. With
# FUZZ_KEEP_GOING=1 a finding does not stop the run (libFuzzer's fork mode): the long form,
# `FUZZ_KEEP_GOING=1 ci/fuzz.sh 1800`, runs each target for 30 minutes and collects them all.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || { echo "usage: ci/fuzz.sh [SECONDS]" >&2; exit 2; }
./ci/deps.sh
CXX=clang++-14 cmake -S . -B build-fuzz -DNSLAB_FUZZ=ON -DNSLAB_WERROR=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)" 2>&1 | grep -vE '^\[ *[0-9]+%\]|^make|^-- ' || true
mkdir -p build-fuzz/findings
status=0
for target in topology_fuzz scenario_fuzz; do
  corpus=build-fuzz/corpus/$target
  mkdir -p "$corpus"
  find topologies scenarios lab/tests -name '*.yaml' -exec cp -n {} "$corpus/" \; 2>/dev/null || true
  echo "fuzz: $target for ${seconds}s ($(ls "$corpus" | wc -l) inputs in its corpus)"
  keep_going=()
  if [[ ${FUZZ_KEEP_GOING:-0} == 1 ]]; then
    keep_going=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  fi
  if ! build-fuzz/lab/fuzz/$target "$corpus" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 "${keep_going[@]}" \
      -artifact_prefix="build-fuzz/findings/$target-" 2>build-fuzz/$target.log ||
    ls build-fuzz/findings/"$target"-* >/dev/null 2>&1; then
    status=1
    echo "fuzz: $target FOUND A PROBLEM; input(s) in build-fuzz/findings/, log build-fuzz/$target.log"
    grep -E 'ERROR|SUMMARY|runtime error|terminate' build-fuzz/$target.log | head -5
  fi
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+ *DONE' \
    build-fuzz/$target.log | sed 's/^/  /'
done
exit "$status"
