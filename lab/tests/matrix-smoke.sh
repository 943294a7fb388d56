#!/usr/bin/env bash
# nslab matrix end to end, bounded at about two minutes: the events family on the host and on
# Debian's 6.12 booted in QEMU (downloaded into the cache on first use), the table, the diff,
# the combined JSON, --baseline; then SIGKILL of nslab in the middle of a boot leaves no QEMU, no mount and
# no file of ours.
# usage: matrix-smoke.sh NSLAB SCENARIOS_DIR
set -uo pipefail
nslab=$1 scenarios=$2
fail() { echo "FAIL: $*"; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "SKIP: the matrix test runs as root (CI does)"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 is missing (ci/deps.sh installs qemu-system-x86)"
work=$(mktemp -d "${TMPDIR:-/tmp}/nslab-matrix-test-XXXXXX")
trap 'rm -rf "$work"' EXIT
home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
cache=${XDG_CACHE_HOME:-$home/.cache}/nslab
mounts_before=$(cat /proc/self/mountinfo | awk '{print $5}' | sort)

echo "== a --baseline that names none of the kernels is refused before anything is fetched"
"$nslab" matrix --kernel host --kernel 6.12 --baseline 6.1 "$scenarios/events" > "$work/b.txt" 2>&1
rc=$?
((rc == 2)) && grep -q "baseline '6.1' is none of the kernels named (host, 6.12)" "$work/b.txt" ||
  { cat "$work/b.txt"; fail "a bad --baseline gave exit $rc"; }
[[ $(wc -l < "$work/b.txt") -eq 1 ]] || { cat "$work/b.txt"; fail "a bad --baseline did more than refuse"; }

echo "== nslab matrix --kernel host --kernel 6.12 --baseline 6.12 events"
timeout -k 5 240 "$nslab" matrix --kernel host --kernel 6.12 --baseline 6.12 --json "$work/m.json" \
  --junit "$work/m.xml" "$scenarios/events" > "$work/out.txt" 2>&1
rc=$?
cat "$work/out.txt"
((rc == 0)) || fail "nslab matrix exited $rc"
grep -q '^== 6.12: booted in [0-9.]* s' "$work/out.txt" || fail "no boot line for 6.12"
grep -Eq '^  +6\.12 \| \[13/13\] PASS' "$work/out.txt" || fail "no progress lines from the guest"
grep -q '^13 scenarios, 0 with verdicts that differ between kernels' "$work/out.txt" ||
  fail "the table does not say 13 scenarios, all alike"
grep -q '^== diff 6.12 -> host' "$work/out.txt" || fail "no diff of the host against the baseline, 6.12"
python3 - "$work/m.json" <<'PY' || fail "the combined JSON is not what it should be"
import json, sys
m = json.load(open(sys.argv[1]))["matrix"]
assert [r["label"] for r in m] == ["host", "6.12"], m
assert m[1]["kernel"]["release"].startswith("6.12."), m[1]["kernel"]
assert m[1]["kernel"]["config"]["CONFIG_VETH"] in ("y", "m")
assert m[1]["report"]["versions"]["kernel"].startswith("6.12."), "the report is not the guest's"
assert m[1]["report"]["totals"]["passed"] == 13
assert m[1]["accel"] in ("tcg", "kvm") and m[1]["time_scale"] >= 1
PY
grep -q '<testsuite name="nslab@6.12" tests="13" failures="0"' "$work/m.xml" || fail "JUnit"
"$nslab" diff "$work/m.json@host" "$work/m.json@host" > /dev/null || fail "a run does not diff clean against itself"
"$nslab" diff "$work/m.json" "$work/m.json@host" > /dev/null 2>&1
(($? == 2)) || fail "a matrix report without @LABEL is not a usage error"

echo "== the scenarios this host cannot run pass on 6.12, and each of their mutations fails there"
# This host's kernel lacks their features (they SKIP here), so a wrong expectation in them would
# pass here unseen (fixtures/mutations-guest.tsv).
src=$(cd "$scenarios/.." && pwd)
mkdir -p "$work/g" && cp -r "$src/scenarios" "$src/topologies" "$work/g/"
files=() mutated=()
while IFS=$'\t' read -r scenario from to why; do
  [[ -z $scenario || $scenario == \#* ]] && continue
  orig="$work/g/scenarios/$scenario" mut="$work/g/scenarios/${scenario%.yaml}.mutated.yaml"
  FROM=$from TO=$to perl -0pe 's/\Q$ENV{FROM}\E/$ENV{TO}/' "$orig" > "$mut"
  cmp -s "$orig" "$mut" && fail "mutations-guest.tsv: text not found in $scenario: $from"
  files+=("$orig" "$mut") mutated+=("$mut")
done < "$src/fixtures/mutations-guest.tsv"
((${#files[@]} >= 12)) || fail "mutations-guest.tsv lists fewer than six scenarios"
# In a damaged copy of the cached kernel (a private cache: other runs share the real one): a
# module cut short must be seen, and the package fetched again before anything boots.
entry=$(ls -d "$cache"/kernels/linux-image-6.12*/ | head -1)
mkdir -p "$work/cache/nslab/kernels" && cp -r "$entry" "$work/cache/nslab/kernels/"
copy="$work/cache/nslab/kernels/$(basename "$entry")"
module=$(find "$copy/tree/lib/modules" -name '*.ko*' -type f | LC_ALL=C sort | head -1)
truncate -s 100 "$module"
XDG_CACHE_HOME=$work/cache timeout -k 5 300 "$nslab" matrix --kernel 6.12 --json "$work/g.json" \
  "${files[@]}" > "$work/g.txt" 2>&1
rc=$?
cat "$work/g.txt"
grep -q "is damaged (${module#"$copy/tree/"} is 100 bytes, .* when it was unpacked): fetching it again" "$work/g.txt" ||
  fail "the damaged module in the cache went unnoticed"
((rc == 1)) || fail "the matrix of originals and mutations exited $rc, not 1 (some fail)"
python3 - "$work/g.json" "${mutated[@]}" <<'PY' || fail "an original did not pass on 6.12, or a mutation did not fail"
import json, sys
mutated = set(sys.argv[2:])
r = json.load(open(sys.argv[1]))["matrix"][0]["report"]
bad = [(s["file"], s["verdict"]) for s in r["scenarios"]
       if s["verdict"] != ("failed" if s["file"] in mutated else "passed")]
assert not bad and len(r["scenarios"]) == 2 * len(mutated), bad
print(f"{len(mutated)} scenarios pass on 6.12 and their {len(mutated)} mutations fail")
PY

echo "== SIGKILL of nslab while a kernel boots"
"$nslab" matrix --kernel 6.12 "$scenarios/events" > "$work/killed.txt" 2>&1 &
pid=$!
# Bounded: the boot line comes within seconds (the kernel is cached by now).
timeout 60 grep -q -m1 '^== 6.12: booting' <(tail -n +1 --pid=$pid -f "$work/killed.txt") ||
  fail "no boot line within 60 s"
qemu=$(timeout 10 bash -c "until p=\$(pgrep -P $pid -f qemu-system); do :; done; echo \$p") ||
  fail "no QEMU child of nslab"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
timeout 10 tail --pid="$qemu" -f /dev/null || fail "QEMU $qemu outlived nslab"
pgrep -f "qemu-system-x86_64.*$cache" && fail "a QEMU of ours is still running"
mounts_after=$(cat /proc/self/mountinfo | awk '{print $5}' | sort)
[[ $mounts_before == "$mounts_after" ]] || fail "the host's mounts changed: $(diff <(echo "$mounts_before") <(echo "$mounts_after"))"
[[ -z $(ls -A "$cache/run" 2>/dev/null) ]] || fail "files left in $cache/run"
echo "PASS: matrix, table, diff, JSON, JUnit; nothing left after SIGKILL"
