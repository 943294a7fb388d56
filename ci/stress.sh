#!/usr/bin/env bash
# ci/stress.sh [N]: runs the bundled scenario suite N times (default 30) under `ctest -j2`, as
# root (one ctest test per scenario) and as uid 65534 (the scenarios-unprivileged test), with
# the readiness and diff tests, while a CPU hog spins on every core. Prints each run's result,
# then how often each test failed in each mode. Exit 0 when nothing failed. Run it as root: the
# uid-65534 half switches users.
#
# ci/stress.sh --readiness [N]: runs the readiness-stress test N times (default 20) in a row,
# with two CPU hogs beside the test's own one per core, and `nslab run -j2` of the bundled
# scenarios in a loop all the while. Exit 0 when every run passed.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=suite
if [[ ${1:-} == --readiness ]]; then
  mode=readiness
  shift
fi
n=${1:-$([[ $mode == readiness ]] && echo 20 || echo 30)}
[[ $n =~ ^[0-9]+$ && $n -gt 0 ]] || { echo "usage: ci/stress.sh [--readiness] [N]" >&2; exit 2; }
./ci/build.sh
out=$(mktemp -d "${TMPDIR:-/tmp}/nslab-stress-XXXXXX")
hogs=()
# The hogs and the loop, and the loop's current nslab run (which then tears its labs down).
stop_hogs() {
  if ((${#hogs[@]})); then
    for p in "${hogs[@]}"; do pkill -TERM -P "$p" 2>/dev/null || true; done
    kill "${hogs[@]}" 2>/dev/null || true
  fi
  wait 2>/dev/null || true
}
trap stop_hogs EXIT
if [[ $mode == readiness ]]; then
  for _ in 1 2; do
    (while :; do :; done) &
    hogs+=($!)
  done
  (while :; do build/lab/nslab run -j2 scenarios >/dev/null 2>&1 || true; done) &
  hogs+=($!)
  echo "stress: readiness-stress $n times, 2 extra CPU hogs and an nslab run -j2 loop; logs in $out"
  failed=0
  for i in $(seq "$n"); do
    start=$SECONDS
    if (cd build && ctest -R '^readiness-stress$' -V --timeout 1800 \
      >"$out/readiness-$i.log" 2>&1); then
      result=passed
    else
      result=FAILED
      failed=$((failed + 1))
    fi
    printf 'run %d/%d (%ds, load %s): %s; %s\n' "$i" "$n" $((SECONDS - start)) \
      "$(cut -d' ' -f1 /proc/loadavg)" "$result" \
      "$(grep -hE 'builds under' "$out/readiness-$i.log" | tr '\n' ' ')"
  done
  stop_hogs
  hogs=()
  echo "stress: readiness-stress failed $failed of $n runs"
  [[ $failed -eq 0 ]]
  exit
fi
for _ in $(seq "$(nproc)"); do
  (while :; do :; done) &
  hogs+=($!)
done
echo "stress: $n runs of the bundled suite under ctest -j2, $(nproc) CPU hogs; logs in $out"
for i in $(seq "$n"); do
  start=$SECONDS
  (cd build && ctest -j2 -L 'scenario|^diff$|^stress$' --timeout 300 --output-junit "$out/run-$i.xml" \
    >"$out/run-$i.log" 2>&1) || true
  printf 'run %d/%d (%ds): %s\n' "$i" "$n" $((SECONDS - start)) \
    "$(grep -E 'tests passed' "$out/run-$i.log" || echo 'no summary')"
done
stop_hogs
hogs=()

# Root: a failed ctest test is a failed scenario. uid 65534: the FAIL lines of the suite's report;
# a failed run of that suite without one (an invalid file, a crash) counts as itself. Any other
# failed test counts too: nothing that fails may go unreported.
for xml in "$out"/run-*.xml; do
  { grep -oE '<testcase name="[^"]*"[^>]*status="fail"' "$xml" || true; } |
    sed -E 's/<testcase name="([^"]*)".*/\1/' | while read -r name; do
      if [[ $name == scenarios-unprivileged ]]; then
        fails=$({ grep -oE 'FAIL  [^ ]*/nslab-suite-[^/]*/scenarios/[^ ]*' "$xml" || true; } |
          sed -E 's#.*/(scenarios/[^ ]*)#uid-65534  \1#')
        if [[ -n $fails ]]; then echo "$fails"; else echo "uid-65534  the suite itself (see ${xml%.xml}.log)"; fi
      else
        echo "root       $name"
      fi
    done
done | sort | uniq -c | sort -rn >"$out/failures.txt"
echo
if [[ -s $out/failures.txt ]]; then
  echo "stress: failures per scenario in $n runs (count, mode, scenario):"
  cat "$out/failures.txt"
  exit 1
fi
echo "stress: 0 failures in $n runs, as root and as uid 65534 ($(grep -c '<testcase' "$out/run-1.xml") tests a run)"
