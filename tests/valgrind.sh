#!/bin/sh
# A short training run, and the commands that read what it wrote, under
# valgrind's memcheck: any invalid access, use of an uninitialised value or
# definite/indirect leak fails it (make valgrind; CI). Small files made
# here, so it takes seconds rather than the minutes Fashion-MNIST would.
#   usage: tests/valgrind.sh BACKPROP_BINARY
set -eu
bp="$1"
here=$(cd "$(dirname "$0")" && pwd)
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT

# OpenBLAS's own thread pool would only add noise; the engine's pool is
# exercised by one run with --threads 2.
export OPENBLAS_NUM_THREADS=1
vg() {
    echo "== valgrind backprop $*" >&2
    valgrind --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --track-origins=yes --suppressions="$here/valgrind.supp" "$bp" "$@"
}

# Three classes of four features: a CSV (header, label last), and the same
# examples as a gzip'ed IDX folder (2x2 "images"), train and t10k.
python3 - "$d" <<'EOF'
import gzip, random, struct, sys
d = sys.argv[1]
r = random.Random(5)
rows = []
for i in range(240):
    c = i % 3
    rows.append(([min(255, max(0, int(60 * c + 40 * r.random() + 30 * j))) for j in range(4)], c))
with open(f"{d}/train.csv", "w") as f:
    f.write("a,b,c,d,label\n")
    for px, c in rows:
        f.write(",".join(f"{p / 255:.6g}" for p in px) + f",{c}\n")
with open(f"{d}/x.csv", "w") as f, open(f"{d}/lab.csv", "w") as g:
    for px, c in rows[:20]:
        f.write(",".join(f"{p / 255:.6g}" for p in px) + "\n")
        g.write(f"{c}\n")
for prefix, part in (("train", rows[:200]), ("t10k", rows[200:])):
    with gzip.open(f"{d}/{prefix}-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, len(part), 2, 2) + bytes(p for px, _ in part for p in px))
    with gzip.open(f"{d}/{prefix}-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">II", 0x801, len(part)) + bytes(c for _, c in part))
# the same as FANN files with one-hot targets, a training and a test file
for name, part in (("train.fann", rows[:200]), ("test.fann", rows[200:])):
    with open(f"{d}/{name}", "w") as f:
        f.write(f"{len(part)} 4 3\n")
        for px, c in part:
            f.write(" ".join(f"{p / 255:.6g}" for p in px) + "\n" +
                    " ".join("1" if j == c else "0" for j in range(3)) + "\n")
EOF

vg train --data "$d/train.csv" --layers 4,16,3 --act relu --loss softmax_ce --opt adam \
    --lr 0.01 --batch 16 --epochs 2 --threads 1 --out "$d/m.safetensors" \
    --metrics "$d/metrics.csv" --plot "$d/curves.svg" --json >/dev/null
vg train --data "$d" --layers 4,8,3 --act tanh --loss softmax_ce --opt sgd --lr 0.1 \
    --batch 32 --epochs 1 --threads 2 --out "$d/m2.safetensors" >/dev/null
vg train --data "$d/train.fann" --test "$d/test.fann" --layers 4,8,3 --act tanh --loss mse \
    --out-act sigmoid --opt adamw --lr 0.01 --batch 16 --epochs 1 --standardize --threads 1 \
    --out "$d/m3.safetensors" --json >/dev/null
vg eval --model "$d/m3.safetensors" --data "$d/test.fann" --json >/dev/null
vg predict --model "$d/m.safetensors" --input "$d/x.csv" --out "$d/p.csv"
vg grad --model "$d/m.safetensors" --input "$d/x.csv" --target "$d/lab.csv" --out "$d/g.safetensors" --json >/dev/null
vg eval --model "$d/m2.safetensors" --data "$d" --plot "$d/confusion.svg" >/dev/null
# a refused input takes the error paths: exit 1 from backprop, not 1 from valgrind
printf '1,2\n' >"$d/bad.csv"
if vg predict --model "$d/m.safetensors" --input "$d/bad.csv" --out "$d/q.csv" 2>"$d/err"; then
    echo "valgrind.sh: a bad input was accepted" >&2
    exit 1
fi
if grep -q '^==[0-9]*==' "$d/err"; then
    cat "$d/err" >&2
    exit 1
fi
echo "valgrind: no errors"
