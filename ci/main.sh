#!/usr/bin/env bash
# nslab's main job: build, run the bundled scenario suite (a readable report, JUnit and JSON in
# build/reports/), then a tour of every bundled topology with real clients (ping, tracepath,
# nsenter into `nslab up`) showing that the networks are what the YAML says; then the suite on
# Debian's 6.12 kernel in QEMU and the diff of its observations against this kernel's.
set -uo pipefail
cd "$(dirname "$0")/.."
./ci/build.sh || exit 2
nslab=build/lab/nslab
mkdir -p build/reports
echo "== the bundled scenario suite (nslab run -v -j 2)"
"$nslab" run -v -j 2 --junit build/reports/scenarios.xml --json build/reports/scenarios.json
suite=$?
echo "   reports: build/reports/scenarios.xml, build/reports/scenarios.json"
echo
T=topologies
passed=0 failed=0

check() {  # check NAME EXPECTED-REGEX TOPOLOGY NODE -- CMD...
  local name=$1 want=$2 topo=$3 node=$4
  shift 5
  local out
  out=$("$nslab" exec -v "$T/$topo.yaml" "$node" -- "$@" 2>&1)
  local built
  built=$(grep -o 'built in [0-9.]* ms' <<<"$out" | head -1)
  if grep -Ezq "$want" <<<"$out"; then
    printf '  PASS  %-58s %s\n' "$name" "($built)"
    passed=$((passed + 1))
  else
    printf '  FAIL  %s\n        wanted /%s/ in:\n%s\n' "$name" "$want" "$(sed 's/^/        | /' <<<"$out")"
    failed=$((failed + 1))
  fi
}

echo "== the bundled topologies, built in fresh network namespaces, checked with real clients"
echo
echo "validate:"
"$nslab" validate "$T"/*.yaml | sed 's/^/  /'
echo
echo "two-hosts:"
check "a reaches b over IPv4 and IPv6" "1 received" two-hosts a -- \
  sh -c 'ping -c1 -W2 10.0.0.2 && ping -6 -c1 -W2 fd00::2'
echo "router-lowmtu:"
check "client reaches server through the router" "1 received" router-lowmtu client -- \
  ping -c1 -W2 10.0.2.1
check "ping -M do -s 1400: frag needed, mtu 1280, from the router" \
  "From 10.0.1.254 icmp_seq=1 Frag needed and DF set \(mtu = 1280\)" router-lowmtu client -- \
  ping -M do -s 1400 -c1 -W2 10.0.2.1
check "ping -6 -M do -s 1400: packet too big, mtu 1280" "Packet too big: mtu=1280" \
  router-lowmtu client -- ping -6 -M do -s 1400 -c1 -W2 fd00:2::1
check "tracepath -n: pmtu 1280" "Resume: pmtu 1280 hops 2 back 2" router-lowmtu client -- \
  tracepath -n 10.0.2.1
echo "chain:"
check "tracepath steps down 1500 -> 1400 -> 1280" "pmtu 1400(.|\n)*Resume: pmtu 1280 hops 3" \
  chain client -- tracepath -n 10.0.3.1
echo "blackhole:"
check "small packets pass" "1 received" blackhole client -- ping -c1 -W2 10.0.2.1
check "ping -M do -s 1400: no frag-needed comes back (within 1 s)" \
  "1 packets transmitted, 0 received, 100% packet loss" blackhole client -- \
  ping -M do -s 1400 -c1 -W1 10.0.2.1
echo "bridge-lan:"
check "h1 reaches h2, h3, h4 through the switch's bridge" "reached 3 of 3" bridge-lan h1 -- \
  sh -c 'n=0; for h in 2 3 4; do ping -c1 -W2 10.0.0.$h >/dev/null && n=$((n+1)); done
         echo "reached $n of 3"'
echo "routed-lan:"
check "h1 reaches server via the bridge's gateway, locked route mtu 1400" "mtu lock 1400" \
  routed-lan h1 -- sh -c 'ping -c1 -W2 10.2.0.1 >/dev/null && ip route get 10.2.0.1'

echo
echo "nslab up (router-lowmtu), then a shell command pasted from its output:"
exec {up}< <(exec "$nslab" up "$T/router-lowmtu.yaml")
up_pid=$!
cmd=""
while IFS= read -r -t 10 -u "$up" line; do
  echo "  | $line"
  [[ $line =~ ^\ +server\ +(nsenter.*)$ ]] && { cmd=${BASH_REMATCH[1]}; break; }
done
if [[ -n $cmd ]] && $cmd ip -o -4 addr show dev eth0 | grep -q 'inet 10.0.2.1/24'; then
  printf '  PASS  %-58s\n' "the printed command enters the server node"
  passed=$((passed + 1))
else
  printf '  FAIL  the printed command did not enter the server node\n'
  failed=$((failed + 1))
fi
kill -TERM "$up_pid"
while IFS= read -r -t 10 -u "$up" line; do echo "  | $line"; done
wait "$up_pid" 2>/dev/null


echo
echo "== the same suite on another kernel: Debian's 6.12, booted in QEMU (nslab matrix)"
echo "   (the kernel package is fetched into ~/.cache/nslab/kernels, or \$XDG_CACHE_HOME/nslab/kernels, on first use)"
"$nslab" matrix --kernel 6.12 --json build/reports/matrix.json --junit build/reports/matrix.xml
matrix=$?
echo
echo "== what changed from this kernel to 6.12 (nslab diff)"
"$nslab" diff build/reports/scenarios.json build/reports/matrix.json@6.12
echo "   (nslab diff exits 1 when something changed; here that is the finding, not a failure)"

echo
echo "scenario suite: $( ((suite == 0)) && echo passed || echo "FAILED (exit $suite)")"
echo "on 6.12: $( ((matrix == 0)) && echo passed || echo "FAILED (exit $matrix)")"
echo "tour: $passed passed, $failed failed"
[[ $failed -eq 0 && $suite -eq 0 && $matrix -eq 0 ]]
