#!/usr/bin/env bash
# bench/mpi.sh — data-parallel scaling on this machine: examples/s of one
# epoch of Fashion-MNIST on 784-1024-1024-10 at a global batch of 1024, with
# one process and with `mpirun -np 2`, one thread per rank, alternating,
# ROUNDS rounds (medians); then the time of the gradient's MPI_Allreduce.
# Usage: bench/mpi.sh [ROUNDS]   (after `make`; needs MPI and the data set)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
bp=build/backprop
"$bp" --version | grep -q '^MPI: yes' || { echo "this build has no MPI (make deps; make)"; exit 1; }
mpi="mpirun -np 2"
mpirun --version 2>/dev/null | grep -q 'Open MPI' && mpi="mpirun --allow-run-as-root --oversubscribe -np 2"
export OPENBLAS_NUM_THREADS=1
run="train --data fashion-mnist --layers 784,1024,1024,10 --batch 1024 --epochs 1 --val 0 --threads 1 --lr 0.05 --json"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
rate() { grep -o '"examples_per_s": [0-9.e+]*' | head -1 | awk '{print $2}'; }
one=() two=()
for r in $(seq "$rounds"); do
    one+=("$("$bp" $run --out "$out/m1.st" 2>/dev/null | rate)")
    two+=("$($mpi "$bp" $run --out "$out/m2.st" 2>/dev/null | rate)")
    echo "round $r: np 1 ${one[-1]} ex/s, np 2 ${two[-1]} ex/s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m1=$(median "${one[@]}") m2=$(median "${two[@]}")
echo
echo "| ranks | examples/s (median of $rounds) | speed-up |"
echo "|---|---|---|"
echo "| 1 | $(printf '%.0f' "$m1") | 1.00 |"
echo "| 2 | $(printf '%.0f' "$m2") | $(awk -v a="$m1" -v b="$m2" 'BEGIN {printf "%.2f", b / a}') |"
echo
# the gradient buffer of 784-1024-1024-10: 784*1024+1024 + 1024*1024+1024 + 1024*10+10
n=$((784 * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 10 + 10))
mpicc -O2 -o "$out/allreduce" bench/allreduce.c
$mpi "$out/allreduce" "$n" 50
