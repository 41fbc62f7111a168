#!/usr/bin/env bash
# Prints the crate's module graph (top-level module -> modules it uses via crate::),
# one edge per line, and the cycles among them. Usage: scripts/module-graph.sh [SRC_DIR]
# The unit test src/layers.rs enforces the one-way order; this shows it.
set -euo pipefail
src=${1:-"$(dirname "$0")/../src"}
edges=$(
  find "$src" -name '*.rs' | while read -r f; do
    rel=${f#"$src"/}
    top=${rel%%/*}; top=${top%.rs}
    case $top in lib|main|layers) continue ;; esac
    sed -e 's://.*$::' "$f" | { grep -o 'crate::[a-z_]*' || true; } | sed 's/crate:://' | sort -u | while read -r to; do
      if [ "$to" != "$top" ] && [ -n "$to" ]; then echo "$top -> $to"; fi
    done
  done | sort -u
)
echo "$edges"
echo "--- cycles (pairs that use each other):"
echo "$edges" | awk '{e[$1" "$3]=1} END {n=0; for (k in e) {split(k,a," "); if ((a[2]" "a[1]) in e && a[1]<a[2]) {print a[1]" <-> "a[2]; n++}} if (n==0) print "none"}'
echo "--- within modules (file -> sibling via super:: or crate::<module>::<file>):"
inner=$(
  find "$src" -mindepth 2 -name '*.rs' | while read -r f; do
    rel=${f#"$src"/}; dir=${rel%%/*}; file=$(basename "$rel" .rs)
    sed -e 's://.*$::' "$f" | { grep -oE "(super|crate::$dir)::[a-z_0-9]+" || true; } | sed -E 's/.*:://' | sort -u | while read -r to; do
      if [ -f "$src/$dir/$to.rs" ] && [ "$to" != "$file" ]; then echo "$dir/$file -> $dir/$to"; fi
    done
  done | sort -u
)
echo "$inner"
echo "--- cycles within modules:"
echo "$inner" | awk '{e[$1" "$3]=1} END {n=0; for (k in e) {split(k,a," "); if ((a[2]" "a[1]) in e && a[1]<a[2]) {print a[1]" <-> "a[2]; n++}} if (n==0) print "none"}'
