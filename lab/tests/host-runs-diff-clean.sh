#!/usr/bin/env bash
# Two runs of the whole bundled suite on the same kernel compare clean under `nslab diff`: every
# field that differs from run to run is masked by default or declared `volatile` by its scenario.
# Then one changed field is found (the diff can fail).
# usage: host-runs-diff-clean.sh NSLAB SCENARIOS_DIR
set -uo pipefail
nslab=$1 scenarios=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/nslab-diff-test-XXXXXX")
trap 'rm -rf "$work"' EXIT
for i in 1 2; do
  "$nslab" run -j 2 --json "$work/$i.json" "$scenarios" > "$work/$i.txt" 2>&1
  rc=$?
  ((rc == 0 || rc == 77)) || { tail -20 "$work/$i.txt"; echo "FAIL: run $i exited $rc"; exit 1; }
done
"$nslab" diff "$work/1.json" "$work/2.json" || { echo "FAIL: two runs on one kernel differ"; exit 1; }
# A mutation: one record's field changed must show, with exit 1.
python3 - "$work/2.json" "$work/3.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for s in r["scenarios"]:
    if s["file"].endswith("netlink/requests.yaml"):
        for st in s["steps"]:
            for rec in st["records"]:
                if rec.get("event") == "error":
                    rec["error"] = "EPERM"
json.dump(r, open(sys.argv[2], "w"))
PY
"$nslab" diff --json "$work/d.json" "$work/1.json" "$work/3.json" > "$work/d.txt"
rc=$?
grep -q 'error: "EEXIST" -> "EPERM"' "$work/d.txt" && ((rc == 1)) ||
  { cat "$work/d.txt"; echo "FAIL: a changed field was not reported (exit $rc)"; exit 1; }
# The same finding, for a program (--json): the scenario, and the field with both values.
python3 - "$work/d.json" <<'PY' || { cat "$work/d.json"; echo "FAIL: diff --json"; exit 1; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["changed"] and d["steps_changed"] >= 1, d
[s] = [s for s in d["scenarios"] if s["file"].endswith("netlink/requests.yaml")]
fields = [c["fields"] for st in s["steps"] for c in st["changed"]]
assert {"error": {"a": "EEXIST", "b": "EPERM"}} in fields, fields
PY
echo "PASS: two runs diff clean; a changed field is found, also in --json"
