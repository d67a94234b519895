#!/usr/bin/env bash
# bench/gpu.sh — everything a GPU session checks, in one call (~5 minutes on
# an H100, well under 10): builds with the CUDA backend, runs the parity
# tests (tests/test_cuda: CPU vs GPU gradients, epochs, the mirror), a short
# Fashion-MNIST run on CPU and GPU if the data set and `train --device` are
# there, then `backprop bench --device cuda` beside PyTorch eager and
# CUDA-graph steps (bench/torch_gpu.py) on the same card, as one table.
#
#   bench/gpu.sh              (BUILD=build-gpu SECONDS_PER=1 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-gpu}
SECONDS_PER=${SECONDS_PER:-1}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
say() { printf '\n== %s\n' "$*"; }

say "machine"
date -u '+%Y-%m-%d %H:%M UTC'
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
else
    echo "gpu.sh: nvidia-smi not found; continuing (the tests say whether a GPU is usable)"
fi

say "build ($BUILD, CUDA required)"
if ! cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBP_CUDA=ON >"$out/cmake.log" 2>&1 ||
   ! cmake --build "$BUILD" -j "$(nproc)" >>"$out/cmake.log" 2>&1; then
    tail -n 40 "$out/cmake.log"
    echo "gpu.sh: the build failed (log above)"
    exit 1
fi
"$BUILD/backprop" --version

say "parity tests (tests/test_cuda)"
set +e
OPENBLAS_NUM_THREADS=1 "$BUILD/tests/test_cuda" 2>&1 | tail -n 30  # as ctest runs it
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -eq 77 ]; then echo "gpu.sh: no usable GPU: nothing to measure"; exit 1; fi
if [ "$rc" -ne 0 ]; then echo "gpu.sh: PARITY TESTS FAILED (exit $rc)"; exit 1; fi
echo "parity tests passed"

say "Fashion-MNIST, 3 epochs, CPU and GPU"
fm=/usr/share/datasets/fashion-mnist
if [ ! -d "$fm" ]; then
    echo "skipped: $fm is absent on this machine (the parity tests above use synthetic data)"
elif ! "$BUILD/backprop" train --help 2>&1 | grep -c -- '--device' >/dev/null; then
    # (grep -c reads to the end: grep -q could exit first and, with pipefail,
    # the writer's SIGPIPE would read as "no --device")
    echo "skipped: this build's train has no --device yet"
else
    for d in cpu cuda; do
        if ! "$BUILD/backprop" train --data fashion-mnist --layers 784,256,128,10 --act relu \
            --loss softmax_ce --opt sgd --lr 0.1 --batch 64 --epochs 3 --seed 1 --device "$d" \
            --json --out "$out/fm-$d.safetensors" >"$out/fm-$d.json"; then
            echo "gpu.sh: train --device $d FAILED"
            exit 1
        fi
        "$BUILD/backprop" eval --model "$out/fm-$d.safetensors" --data fashion-mnist --json \
            | python3 -c 'import json,sys; print(json.load(sys.stdin)["accuracy"])' >"$out/fm-$d.acc"
        echo "$d: test accuracy $(cat "$out/fm-$d.acc")"
    done
    python3 - "$out/fm-cpu.acc" "$out/fm-cuda.acc" <<'PY'
import sys
# Same seed, same maths, different rounding (cuBLAS vs OpenBLAS summation
# order): 2,500 SGD steps decorrelate the runs the way two seeds would, so
# this is a sanity check (±1 point); the parity tests above are the exact one.
c, g = (float(open(p).read()) for p in sys.argv[1:3])
ok = abs(c - g) <= 0.01
print(f"GPU {g:.4f} vs CPU {c:.4f}: {'within' if ok else 'OUTSIDE'} ±1%")
sys.exit(0 if ok else 1)
PY
fi

say "backprop bench --device cuda (TF32 off)"
"$BUILD/backprop" bench --device cuda --layers 784,256,128,10 --batch 64,128,1024 \
    --seconds "$SECONDS_PER" --json >"$out/ours-small.json" ||
    { echo "gpu.sh: bench --device cuda FAILED (small network)"; exit 1; }
"$BUILD/backprop" bench --device cuda --layers 784,4096,4096,4096,10 --batch 4096 \
    --seconds "$SECONDS_PER" --json >"$out/ours-large.json" ||
    { echo "gpu.sh: bench --device cuda FAILED (large network)"; exit 1; }
cat "$out/ours-small.json" "$out/ours-large.json"

say "PyTorch (bench/torch_gpu.py)"
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    python3 bench/torch_gpu.py --layers 784,256,128,10 --batch 64,128,1024 \
        --layers 784,4096,4096,4096,10 --batch 4096 --seconds "$SECONDS_PER" >"$out/torch.jsonl"
    cat "$out/torch.jsonl"
else
    echo "skipped: no PyTorch with CUDA in this Python"
    : >"$out/torch.jsonl"
fi

say "table: examples/s, one run, same card"
python3 - "$out/ours-small.json" "$out/ours-large.json" "$out/torch.jsonl" <<'PY'
import json, sys
ours = [r for p in sys.argv[1:3] for r in json.load(open(p))["results"]]
torch = {}
meta = {}
for line in open(sys.argv[3]):
    r = json.loads(line)
    if "mode" in r:
        torch[(r["layers"], r["batch"], r["mode"])] = r["examples_per_s"]
    else:
        meta = r
if meta:
    print(f"PyTorch {meta['torch']} on {meta['device']}")
head = f"{'layers':>22} {'batch':>6} {'backprop':>12} {'cuBLAS only':>12} {'of ceiling':>10} {'torch eager':>12} {'torch graph':>12} {'vs eager':>9} {'vs graph':>9}"
print(head)
for r in ours:
    e = torch.get((r["layers"], r["batch"], "eager"))
    g = torch.get((r["layers"], r["batch"], "graph"))
    f = lambda v: f"{v:12,.0f}" if v else f"{'-':>12}"
    q = lambda v: f"{r['examples_per_s'] / v:8.2f}x" if v else f"{'-':>9}"
    print(f"{r['layers']:>22} {r['batch']:>6} {f(r['examples_per_s'])} {f(r['ceiling_examples_per_s'])} "
          f"{100 * r['fraction_of_ceiling']:9.1f}% {f(e)} {f(g)} {q(e)} {q(g)}")
print("cuBLAS only: the same step's products alone (backprop bench's ceiling), captured in a graph")
PY
