#!/usr/bin/env bash
# fuzz/build.sh — builds the libFuzzer harnesses into build-fuzz/fuzz_<name>.
#
# Every library source (src/*/*.c) is compiled with the same instrumentation as
# the harnesses (coverage for libFuzzer, AddressSanitizer, UBSan), once into
# build-fuzz/obj/, and linked into each harness. Run from anywhere:
#   bash fuzz/build.sh            # all harnesses
#   bash fuzz/build.sh csv idx    # some of them
# CC (default clang, 14 or later with libclang-rt) and OUT (default
# build-fuzz) may be overridden from the environment.
set -euo pipefail

cd "$(dirname "$0")/.."
CC=${CC:-clang}
OUT=${OUT:-build-fuzz}
case "$CC" in *clang*) ;; *) CC=clang ;; esac # make's default CC=cc cannot build libFuzzer

HARNESSES=(safetensors idx csv fann checkpoint)
if [ $# -gt 0 ]; then HARNESSES=("$@"); fi

PKGS="openblas libcjson zlib"
CFLAGS=(-g -O1 -fno-omit-frame-pointer -std=c11 -D_POSIX_C_SOURCE=200809L
        -DBP_HAVE_OPENBLAS=1 -Iinclude -Isrc $(pkg-config --cflags $PKGS))
SAN=(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
LIBS=($(pkg-config --libs $PKGS) -lpthread -lm)

mkdir -p "$OUT/obj"
objs=()
for src in src/*/*.c; do
    case "$src" in src/backend/cuda_*) continue ;; esac # the CUDA backend: built with nvcc only
    obj="$OUT/obj/$(basename "${src%.c}").o"
    newest_h=$(ls -t src/*.h src/*/*.h | head -1)
    # fuzzer-no-link: the coverage instrumentation without a second main()
    if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ] || [ "$newest_h" -nt "$obj" ] ||
       [ include/backprop.h -nt "$obj" ] || [ fuzz/build.sh -nt "$obj" ]; then
        "$CC" "${CFLAGS[@]}" "${SAN[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
    fi
    objs+=("$obj")
done

for h in "${HARNESSES[@]}"; do
    [ -f "fuzz/fuzz_$h.c" ] || { echo "build.sh: no harness fuzz/fuzz_$h.c" >&2; exit 2; }
    "$CC" "${CFLAGS[@]}" -Wall -Wextra "${SAN[@]}" -fsanitize=fuzzer \
        "fuzz/fuzz_$h.c" "${objs[@]}" "${LIBS[@]}" -o "$OUT/fuzz_$h"
    echo "built $OUT/fuzz_$h"
done
