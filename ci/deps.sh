#!/usr/bin/env bash
# Install what nslab needs to build and test, from Debian packages only.
# Skips everything already installed; runs apt-get only when something is missing.
set -euo pipefail

packages=(
  g++ cmake make pkg-config clang-14 libclang-rt-14-dev
  libnl-3-dev libnl-route-3-dev libnftables-dev libyaml-cpp-dev
  libboost-dev libboost-filesystem-dev nlohmann-json3-dev libfmt-dev
  libcli11-dev libpcap-dev libre2-dev libgtest-dev libbenchmark-dev
  iproute2 iputils-ping iputils-tracepath util-linux procps dpkg-dev help2man bash-completion
  qemu-system-x86 busybox-static kmod xz-utils
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
