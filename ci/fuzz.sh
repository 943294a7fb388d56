#!/usr/bin/env bash
# ci/fuzz.sh [SECONDS | --smoke]: builds the libFuzzer targets (the topology and scenario
# loaders, change fragments re-checked with saved values, a program's output read into records,
# a report read back by nslab diff, the command line) with clang 14 (in build-fuzz/, with AddressSanitizer and
# UBSan), seeds each from
# topologies/, scenarios/ and lab/tests, and runs each for SECONDS (default 30), keeping what it
# learns in build-fuzz/corpus/. A crash, an escaped exception, a sanitizer report, a slow input
# or an exhausted memory ends it with exit 1 and leaves the input in build-fuzz/findings/;
# reproduce with `build-fuzz/lab/fuzz/TARGET FILE`, then add the file to lab/tests/fuzz-findings.
#
# FUZZ_KEEP_GOING=1: a finding does not stop the run (libFuzzer's fork mode). The long form is
# `FUZZ_KEEP_GOING=1 ci/fuzz.sh 1800` (30 minutes each).
#
# --smoke: what ci/test.sh runs. Deterministic (a fixed seed, a fixed number of inputs, a fresh
# corpus seeded from the repository only); two targets run at once, about 70 s in all on the
# 2-core CI machine.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-30}
if [[ $mode != --smoke ]] && ! [[ $mode =~ ^[0-9]+$ && $mode -gt 0 ]]; then
  echo "usage: ci/fuzz.sh [SECONDS | --smoke]" >&2
  exit 2
fi
./ci/deps.sh
CXX=clang++-14 cmake -S . -B build-fuzz -DNSLAB_FUZZ=ON -DNSLAB_WERROR=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# A failed build ends the run: fuzzing yesterday's binaries would prove nothing.
if ! cmake --build build-fuzz -j"$(nproc)" >build-fuzz/build.log 2>&1; then
  grep -vE '^\[ *[0-9]+%\]|^g?make|^-- ' build-fuzz/build.log >&2
  echo "fuzz: the build failed (build-fuzz/build.log)" >&2
  exit 1
fi
mkdir -p build-fuzz/findings
status=0
# LeakSanitizer stops the process's threads with ptrace. Where it cannot (under a tracer, or in a
# sandbox that forbids ptrace) it ends every run with a fatal error or reports false leaks, which
# would read as a finding. Ask once, on a trivial input; the reason is printed when it is off.
probe=$(mktemp -d "${TMPDIR:-/tmp}/nslab-fuzz-lsan-XXXXXX")
echo 'nodes: {}' >"$probe/input"
leaks=(-detect_leaks=1)
cannot_stop='LeakSanitizer has encountered a fatal error|Running thread [0-9]+ was not suspended|does not work under ptrace'
if ! build-fuzz/lab/fuzz/topology_fuzz "$probe/input" >"$probe/log" 2>&1; then
  why=$(grep -m1 -oE "$cannot_stop" "$probe/log" || true)
  if [[ -z $why ]]; then
    echo "fuzz: a trivial input already fails:" >&2
    grep -E 'ERROR|SUMMARY|runtime error|terminate' "$probe/log" >&2 || tail -5 "$probe/log" >&2
    rm -rf "$probe"
    exit 1
  fi
  leaks=(-detect_leaks=0)
  echo "fuzz: leak detection off: LeakSanitizer cannot stop threads here ($why)"
fi
rm -rf "$probe"
declare -A smoke_runs=([topology_fuzz]=100000 [scenario_fuzz]=60000 [change_fuzz]=20000
  [output_fuzz]=30000 [report_fuzz]=30000 [cli_fuzz]=20000)
# Where nesting depth matters, inputs up to 1 MB (the stack overflows of issue 22 needed 40-96 KB).
declare -A max_len=([topology_fuzz]=16384 [scenario_fuzz]=16384 [change_fuzz]=16384
  [output_fuzz]=1048576 [report_fuzz]=1048576 [cli_fuzz]=4096)
# The command line prints help and usage errors by design: its stdout and stderr are closed
# (libFuzzer and the sanitizers keep reporting on a copy of stderr).
declare -A quiet=([cli_fuzz]=-close_fd_mask=3)
# One target: seeds, run, report. Exit 1 on a finding.
fuzz_one() {
  local target=$1 corpus what budget start found=0
  if [[ $mode == --smoke ]]; then
    corpus=$(mktemp -d "${TMPDIR:-/tmp}/nslab-fuzz-XXXXXX")
    budget=(-seed=1 -runs="${smoke_runs[$target]}")
    what="${smoke_runs[$target]} inputs, seed 1"
  else
    corpus=build-fuzz/corpus/$target
    budget=(-max_total_time="$mode")
    what="${mode}s"
    if [[ ${FUZZ_KEEP_GOING:-0} == 1 ]]; then
      budget+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    fi
  fi
  mkdir -p "$corpus"
  # Seeds named after their paths and copied in sorted order: the same corpus on every file system
  # (a copy by base name kept whichever of two same-named files the directory order gave first).
  if [[ $target == cli_fuzz ]]; then
    # Command lines, one per line of the seeds file, made into NUL-separated arguments.
    local n=0 line
    while IFS= read -r line; do
      [[ -z $line || $line == '#'* ]] && continue
      n=$((n + 1))
      printf '%s' "$line" | tr ' ' '\0' >"$corpus/seed-$n"
    done <lab/fuzz/command-lines.txt
  else
    while IFS= read -r -d '' f; do
      cp -n "$f" "$corpus/${f//\//_}"
    done < <(find topologies scenarios lab/tests -type f -print0 | LC_ALL=C sort -z)
  fi
  echo "fuzz: $target, $what ($(find "$corpus" -type f | wc -l) seed inputs)"
  start=$SECONDS
  if ! build-fuzz/lab/fuzz/$target "$corpus" "${budget[@]}" "${leaks[@]}" -timeout=10 -rss_limit_mb=2048 \
      -max_len="${max_len[$target]}" ${quiet[$target]:-} -print_final_stats=1 -artifact_prefix="build-fuzz/findings/$target-" \
      2>build-fuzz/$target.log ||
    compgen -G "build-fuzz/findings/$target-*" >/dev/null; then
    found=1
    # Printed at once, so that the two targets' reports do not interleave.
    local report
    report=$(
      echo "fuzz: $target FOUND A PROBLEM: inputs in build-fuzz/findings/, log build-fuzz/$target.log"
      grep -E 'ERROR|SUMMARY|runtime error|terminate|LeakSanitizer|not suspended|Test unit written' \
        build-fuzz/$target.log | head -8
      tail -3 build-fuzz/$target.log
    )
    printf '%s\n' "$report"
  fi
  echo "fuzz: $target: $(grep -oE '^stat::number_of_executed_units: *[0-9]+' build-fuzz/$target.log |
    grep -oE '[0-9]+$' || echo '?') inputs in $((SECONDS - start)) s," \
    "peak RSS $(grep -oE '^stat::peak_rss_mb: *[0-9]+' build-fuzz/$target.log |
      grep -oE '[0-9]+$' || echo '?') MB"
  [[ $mode == --smoke ]] && rm -rf "$corpus"
  return "$found"
}
# Two lanes at once: each target is one single-threaded process, and CI has two cores. A lane
# "a+b" runs a, then b (the short ones share a lane).
for pair in "topology_fuzz scenario_fuzz" "output_fuzz change_fuzz+report_fuzz+cli_fuzz"; do
  pids=()
  for lane in $pair; do
    (
      lane_status=0
      for target in ${lane//+/ }; do fuzz_one "$target" || lane_status=1; done
      exit "$lane_status"
    ) &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || status=1
  done
done
exit "$status"
