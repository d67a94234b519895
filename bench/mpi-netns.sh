#!/bin/sh
# bench/mpi-netns.sh — data parallelism over a real network stack on this
# machine: two "hosts" (network namespaces joined through a bridge,
# tests/netns.sh), one rank of one thread each, MPI over TCP, each host's
# link shaped with tbf. Per link rate and model it times one epoch of
# Fashion-MNIST's first 6,000 examples (--val 0.9) at a global batch of
# BATCH, without overlap (--bucket-mb 0: one allreduce after the backward
# pass) and with it (buckets of 0.25 MB, the default, and 1 MB, each started
# as the pass makes it),
# and the compute alone (one process at the per-rank batch), ROUNDS rounds
# interleaved, medians. Then the cost model of docs/mpi.md set against them.
# As root; removes every namespace it made, also when interrupted.
# Usage: bench/mpi-netns.sh [ROUNDS] [BATCH] [RATES]   (defaults 3, 256, "none 10gbit 3gbit 1gbit")
cd "$(dirname "$0")/.." || exit 1
rounds=${1:-3} batch=${2:-256} rates=${3:-none 10gbit 3gbit 1gbit}
bp=$(readlink -f build/backprop)
"$bp" --version | grep -q '^MPI: yes' || { echo "this build has no MPI (make deps; make)"; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "network namespaces need root"; exit 77; }
NS_DIR=$(mktemp -d)
. tests/netns.sh
trap 'ns_down; rm -rf "$NS_DIR"' EXIT
trap 'exit 130' INT TERM
ns_up 2 || { echo "network namespaces cannot be made here"; exit 77; }
export OPENBLAS_NUM_THREADS=1
out=$NS_DIR/runs.txt
: >"$out"
rate() { grep -o '"examples_per_s": [0-9.e+]*' | head -1 | awk '{print $2}'; }
common="--data fashion-mnist --val 0.9 --epochs 1 --threads 1 --lr 0.05 --seed 1 --json"
for r in $(seq "$rounds"); do
    for net in 784,256,128,10 784,1024,1024,10; do
        # the compute: one process, the per-rank share, no exchange
        x=$(ip netns exec "$NS_TAG-h0" "$bp" train $common --layers $net --batch $((batch / 2)) \
            --out "$NS_DIR/m.st" 2>/dev/null | rate)
        echo "$r $net compute - $x" >>"$out"
        for link in $rates; do
            ns_shape "$link" || { echo "tc cannot shape at $link"; exit 1; }
            for mb in 0 0.25 1; do
                x=$(ns_within 600 ns_mpirun "$bp" train $common --layers $net --batch "$batch" \
                    --bucket-mb $mb --out "$NS_DIR/m.st" 2>/dev/null | rate)
                echo "$r $net $link $mb $x" >>"$out"
                echo "round $r: $net, link $link, --bucket-mb $mb: ${x:-failed} examples/s" >&2
            done
        done
        ns_shape none
    done
done
/usr/bin/python3 bench/mpi-model.py "$out" "$batch"
