#!/usr/bin/env bash
# Builds nslab and runs every test: unit (no privileges), integration (labs built and read back,
# as root and as uid 65534), and the command line end to end (real ping/tracepath, exit codes,
# signals, leaks). Run as root for the complete set; unprivileged, root-only checks skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."
./ci/build.sh
cd build
ctest -j"$(nproc)" --output-on-failure --timeout 300
