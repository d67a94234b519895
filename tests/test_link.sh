#!/bin/sh
# The library as an outside program gets it: `cmake --install` into a
# scratch PREFIX, then examples/xor.c compiled against the installed header
# and linked through the installed backprop.pc, once statically against
# libbackprop.a (pkg-config --static: every dependency the build holds) and
# once against libbackprop.so (found through an rpath, or LD_LIBRARY_PATH;
# without either the loader cannot find it, as README says). Each program
# must run and learn XOR. The static one is linked once more beside a
# program that has functions of the library's internal names.
build="$1" src="$2" cc="${3:-cc}"
bp=unused
. "$(dirname "$0")/lib.sh"

p="$d/prefix"
cmake --install "$build" --prefix "$p" >"$d/install.log" 2>&1 || { bad "install: $(tail -3 "$d/install.log")"; summary; exit; }
pcdir=$(dirname "$(find "$p" -name backprop.pc | head -n 1)")
[ -f "$pcdir/backprop.pc" ] || { bad "no backprop.pc installed"; summary; exit; }
export PKG_CONFIG_PATH="$pcdir"
libdir=$(pkg-config --variable=libdir backprop)
[ -f "$libdir/libbackprop.a" ] && [ -f "$p/include/backprop.h" ] || bad "libdir $libdir: no libbackprop.a or header"

xor_learns() { # the program's four outputs within 0.1 of the truth table
    awk '{ want = ($1 != $3); if ((want && $5 < 0.9) || (!want && $5 > 0.1)) bad = 1 }
         END { exit bad || NR != 4 }' "$1"
}

# static: libbackprop.a by name, then what pkg-config --static adds
libs=$(pkg-config --static --libs backprop | sed 's/-lbackprop\( \|$\)/-l:libbackprop.a /')
if $cc -o "$d/xor_static" "$src/examples/xor.c" $(pkg-config --cflags backprop) $libs \
    >"$d/cc.log" 2>&1; then
    ok
    if readelf -d "$d/xor_static" | grep -q 'libbackprop'; then
        bad "the static program still needs libbackprop.so"
    fi
    "$d/xor_static" >"$d/out" 2>&1 && xor_learns "$d/out" && ok || bad "static xor: $(cat "$d/out")"
else
    bad "static link: $(grep -c 'undefined reference' "$d/cc.log") undefined references: $(head -5 "$d/cc.log")"
fi

# libbackprop.a defines no global symbol outside the bp_ prefix, so a
# program may have its own gemm(), pool_create() and act_forward()
other=$(nm -g --defined-only "$libdir/libbackprop.a" | awk 'NF == 3 && $3 !~ /^bp_/ { print $3 }')
[ -z "$other" ] && ok || bad "libbackprop.a defines global symbols outside bp_: $(echo $other | cut -c1-200)"
if $cc -o "$d/own_static" "$src/examples/xor.c" "$src/tests/own_symbols.c" \
    $(pkg-config --cflags backprop) $libs >"$d/cc.log" 2>&1; then
    "$d/own_static" >"$d/out" 2>&1 && xor_learns "$d/out" && ok || bad "own symbols: $(cat "$d/out")"
else
    bad "static link beside the program's own gemm/pool_create/act_forward: $(grep -m3 'multiple definition' "$d/cc.log")"
fi

# shared, no rpath: the loader must be told where PREFIX/lib is
$cc -o "$d/xor_shared" "$src/examples/xor.c" $(pkg-config --cflags --libs backprop) -lm \
    >"$d/cc.log" 2>&1 || bad "shared link: $(head -5 "$d/cc.log")"
if "$d/xor_shared" >"$d/out" 2>&1; then
    bad "ran without finding libbackprop.so: is the prefix on the loader's path?"
else
    grep -q 'libbackprop.so.0: cannot open shared object file' "$d/out" && ok ||
        bad "unexpected failure: $(cat "$d/out")"
fi
LD_LIBRARY_PATH="$libdir" "$d/xor_shared" >"$d/out" 2>&1 && xor_learns "$d/out" && ok ||
    bad "LD_LIBRARY_PATH: $(cat "$d/out")"
$cc -o "$d/xor_rpath" "$src/examples/xor.c" $(pkg-config --cflags --libs backprop) -lm \
    -Wl,-rpath,"$libdir" >"$d/cc.log" 2>&1 || bad "rpath link: $(head -5 "$d/cc.log")"
"$d/xor_rpath" >"$d/out" 2>&1 && xor_learns "$d/out" && ok || bad "rpath: $(cat "$d/out")"
summary
