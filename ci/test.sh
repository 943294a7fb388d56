#!/usr/bin/env bash
# Builds nslab and runs every test: unit (no privileges), integration (labs built and read back,
# as root and as uid 65534), and the command line end to end (real ping/tracepath, exit codes,
# signals, leaks), the first-packet stress test in its short form, and a deterministic fuzz smoke
# run of the loaders. Run as root for the complete set; unprivileged, root-only checks skip and
# say why.
set -euo pipefail
cd "$(dirname "$0")/.."
./ci/build.sh
echo "== fuzz smoke run of the loaders (ci/fuzz.sh --smoke)"
fuzz=0
fuzz_log=$(mktemp "${TMPDIR:-/tmp}/nslab-fuzz-log-XXXXXX")
trap 'rm -f "$fuzz_log"' EXIT
./ci/fuzz.sh --smoke 2>&1 | tee "$fuzz_log" || fuzz=$?
echo "== ctest"
tests=0
(cd build && ctest -j"$(nproc)" --output-on-failure --timeout 300) || tests=$?
# A CI log may keep only its tail: the fuzz run's own lines again, where they will be read.
if ((fuzz)); then
  echo "== the fuzz smoke run failed (exit $fuzz):" >&2
  cat "$fuzz_log" >&2
fi
exit $((tests ? tests : fuzz))
