#!/usr/bin/env bash
# Installs what is missing (Debian packages), then configures and builds nslab in build/.
set -euo pipefail
cd "$(dirname "$0")/.."
./ci/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNSLAB_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)" 2>&1 | grep -vE '^\[ *[0-9]+%\]|^make|^-- ' || true
test -x build/lab/nslab || { echo "build failed" >&2; exit 2; }
