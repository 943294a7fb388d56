#!/usr/bin/env bash
# Every function in lab/ is under 80 lines (issue 23): a longer one is a switch over kinds that
# wants a table, or stages that want names. A function is a line at indentation 0-4 that starts
# with a name and whose signature ends in `) {` (possibly on a later, deeper line), up to the
# line at the same indentation that starts with `}`. Usage: check-function-length.sh SOURCE_DIR
set -euo pipefail
src=$1
limit=80
status=0
while IFS= read -r f; do
  out=$(awk -v limit="$limit" -v file="${f#"$src"/}" '
    { line[NR] = $0 }
    END {
      for (i = 1; i <= NR; i++) {
        if (line[i] !~ /\)[ ]*(const)?[ ]*(noexcept)?[ ]*(override)?[ ]*\{[ ]*$/) continue
        k = i
        while (k > 1 && line[k] !~ /^( |  |   |    )?[A-Za-z~]/) k--
        s = line[k]
        match(s, /^ */); ind = RLENGTH
        if (ind > 4) continue
        if (s ~ /^ *(if|for|while|switch|else|do|return|case)[ (]/) continue
        head = substr(s, 1, index(s, "(")); if (head ~ /=/) continue
        ok = 1
        for (x = k + 1; x <= i; x++) { match(line[x], /^ */); if (RLENGTH <= ind) ok = 0 }
        if (!ok || seen[k]++) continue
        close_at = sprintf("%" ind "s}", "")
        for (j = i + 1; j <= NR; j++) if (substr(line[j], 1, ind + 1) == close_at) break
        if (j - k + 1 >= limit) printf "%s:%d: %d lines: %s\n", file, k, j - k + 1, s
      }
    }' "$f")
  if [[ -n $out ]]; then
    echo "$out"
    status=1
  fi
done < <(find "$src/lab" \( -name '*.cpp' -o -name '*.hpp' \) | sort)
if [[ $status -eq 0 ]]; then echo "every function in lab/ is under $limit lines"; fi
exit $status
