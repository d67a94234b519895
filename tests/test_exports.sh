#!/bin/sh
# The shared library exports exactly the functions of the public header:
# every BP_API declaration is a defined dynamic symbol of libbackprop.so,
# and no other function is (internal helpers, the CUDA backend's entry
# points, the tools' calls stay hidden).
lib="$1"
header="$2"
ref="$3" # backprop_ref.h: the reference forms, exported as well
bp="$lib"
. "$(dirname "$0")/lib.sh"

command -v nm >/dev/null || { echo "skipped: no nm"; exit 77; }
nm -D --defined-only "$lib" | awk '$2 == "T" || $2 == "W" { print $3 }' | sort -u >"$d/exported"
sed -n 's/^BP_API[^(]*[ *]\(bp_[a-z0-9_]*\)(.*/\1/p' "$header" $ref | sort -u >"$d/declared"
[ -s "$d/declared" ] || { bad "no BP_API declarations found in $header"; summary; exit; }
extra=$(comm -23 "$d/exported" "$d/declared")
missing=$(comm -13 "$d/exported" "$d/declared")
if [ -z "$extra" ]; then ok; else bad "exported but not in the header: $(echo $extra)"; fi
if [ -z "$missing" ]; then ok; else bad "in the header but not exported: $(echo $missing)"; fi
echo "$(wc -l <"$d/declared") functions declared, $(wc -l <"$d/exported") exported"
summary
