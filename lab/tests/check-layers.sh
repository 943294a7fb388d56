#!/usr/bin/env bash
# check-layers.sh CXX LAYERS_FILE: a layer of the library (lab/CMakeLists.txt) reaches the public
# headers of the layers it links, its own included, and no other: including one of those fails to
# resolve. LAYERS_FILE has a line per layer: "NAME|HEADER...|INCLUDE_DIR..." where the first
# include folder is the layer's own.
set -uo pipefail
cxx=$1 layers=$2
declare -A headers dirs
names=()
while IFS='|' read -r name hs ds; do
  names+=("$name")
  headers[$name]=$hs
  dirs[$name]=$ds
done <"$layers"
compiles() {  # LAYER HEADER
  local flags=()
  for d in ${dirs[$1]}; do flags+=(-I "$d"); done
  # Preprocessing is enough: the question is whether every include resolves.
  echo "#include <nslab/$2.hpp>" | "$cxx" -std=c++20 -E -o /dev/null "${flags[@]}" -x c++ - 2>/dev/null
}
status=0 reachable=0 unreachable=0
for layer in "${names[@]}"; do
  for other in "${names[@]}"; do
    own=${dirs[$other]%% *}
    links=0
    [[ " ${dirs[$layer]} " == *" $own "* ]] && links=1
    # Its own headers, each; another layer's, through the first (they share one folder).
    hs=${headers[$other]}
    [[ $other == "$layer" ]] || hs=${hs%% *}
    for h in $hs; do
      if compiles "$layer" "$h"; then
        ((links)) && reachable=$((reachable + 1)) && continue
        echo "FAIL: $layer includes nslab/$h.hpp of $other, which it does not link"
      else
        ((links)) || { unreachable=$((unreachable + 1)); continue; }
        echo "FAIL: $layer cannot include nslab/$h.hpp of $other, which it links"
      fi
      status=1
    done
  done
done
echo "${#names[@]} layers: $reachable includes resolve where they should, $unreachable fail where they should"
exit $status
