#!/usr/bin/env bash
# Installs what is missing (Debian packages), then configures and builds nslab in build/.
set -euo pipefail
cd "$(dirname "$0")/.."
./ci/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNSLAB_WERROR=ON >/dev/null
# Progress, one line per finished target ("[ 42%] Built target nslab_lab"), and every warning
# and error; not a line per compiled file.
cmake --build build -j"$(nproc)" 2>&1 |
  grep --line-buffered -vE 'Building CXX object|Linking CXX|Scanning dependencies|^make|^-- ' || true
test -x build/lab/nslab || { echo "build failed" >&2; exit 2; }
