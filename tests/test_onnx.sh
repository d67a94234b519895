#!/bin/sh
# backprop export against the outside: every exported model passes Debian's
# python3-onnx checker (tests/onnx_check.py) and gives in ONNX Runtime
# (onnxruntime-node, tests/onnx_check.js) the outputs of `backprop predict`
# at batch 1 and 1000, max|a - b| <= 1e-5 max|b|, and predict --classes'
# labels: every hidden activation x loss (mse with that activation at the
# output too), with and without standardisation (train --standardize),
# temperature 0.7, leaky slope 0.3, and a 784-1024-1024-10 network. Then
# bad input: exit 1, one line, no file. Skips (77) without onnxruntime-node
# or python3-onnx, except in CI (CI=true), where their absence fails.
#   usage: tests/test_onnx.sh BACKPROP
bp="$1"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
py=/usr/bin/python3
export NODE_PATH="$here/../tools/node/node_modules"
missing=
[ -d "$NODE_PATH/onnxruntime-node" ] || missing="onnxruntime-node in tools/node (make deps)"
command -v node >/dev/null || missing="node"
"$py" -c 'import onnx' 2>/dev/null || missing="python3-onnx"
if [ -n "$missing" ]; then
    if [ "${CI:-}" = true ]; then echo "FAIL: no $missing, which CI requires"; exit 1; fi
    echo "SKIP: no $missing"; exit 77
fi

# inputs: float32 values written exactly (repr of the float as a double),
# unit scale for the plain models, the training data's scale for the
# standardised ones; training data with 3 classes and 3 targets in (0, 1)
"$py" - "$d" <<'PY'
import math, random, struct, sys
d = sys.argv[1]
r = random.Random(24)
f32 = lambda v: struct.unpack("f", struct.pack("f", v))[0]
mu, sd = [10, -5, 100, 0.5, 3], [5, 2, 30, 0.1, 1]
def raw():
    return [f32(m + s * r.gauss(0, 1)) for m, s in zip(mu, sd)]
def write(name, rows):
    with open(f"{d}/{name}", "w") as f:
        f.writelines(",".join(repr(v) for v in row) + "\n" for row in rows)
for n in (1, 1000):
    write(f"unit{n}.csv", [[f32(r.gauss(0, 1)) for _ in range(5)] for _ in range(n)])
    write(f"scaled{n}.csv", [raw() for _ in range(n)])
    write(f"wide{n}.csv", [[f32(r.random()) for _ in range(784)] for _ in range(n)])
cls, reg = [], []
for _ in range(200):
    x = raw()
    z = [(v - m) / s for v, m, s in zip(x, mu, sd)]
    cls.append(x + [float(int(z[0] > 0) + int(z[2] > 0.5))])
    reg.append(x + [1 / (1 + math.exp(-z[k])) for k in (0, 1, 3)])
write("cls.csv", cls)
write("reg.csv", reg)
PY

: >"$d/runs"
models=
# model NAME INPUTS: export it, predict on INPUTS1 and INPUTS1000, list the runs
model() {
    m="$d/$1" in=$2
    expect_ok "export $1" "$bp" export --model "$m.safetensors" --onnx "$m.onnx" || return
    for n in 1 1000; do
        expect_ok "predict $1" "$bp" predict --model "$m.safetensors" --input "$d/$in$n.csv" --out "$m.p$n.csv"
        labels=
        if grep -q '"loss":"softmax_ce"' "$m.safetensors"; then
            labels="$m.l$n.csv"
            expect_ok "predict --classes $1" "$bp" predict --model "$m.safetensors" --input "$d/$in$n.csv" --classes --out "$labels"
        fi
        echo "$m.onnx $d/$in$n.csv $m.p$n.csv $labels" >>"$d/runs"
    done
    models="$models $m.onnx"
}

seed=1
for act in identity sigmoid relu leaky_relu tanh; do
    for loss in mse softmax_ce sigmoid_bce; do
        net="--layers 5,7,6,3 --act $act --loss $loss --leaky-slope 0.3 --seed $seed"
        [ "$loss" = mse ] && net="$net --out-act $act"
        [ "$loss" = softmax_ce ] && net="$net --temperature 0.7"
        seed=$((seed + 1))
        expect_ok "init $act $loss" "$bp" init $net --out "$d/$act-$loss.safetensors" &&
            model "$act-$loss" unit
        data="$d/cls.csv"
        [ "$loss" = softmax_ce ] || data="$d/reg.csv --target-cols 3"
        expect_ok "train $act $loss" "$bp" train --data $data $net --standardize --epochs 1 \
            --batch 16 --lr 0.01 --val 0 --threads 1 --out "$d/$act-$loss-std.safetensors" &&
            model "$act-$loss-std" scaled
    done
done
expect_ok "init 784-1024-1024-10" "$bp" init --layers 784,1024,1024,10 --act relu --loss softmax_ce \
    --seed 9 --out "$d/wide.safetensors" && model wide wide

grep -q standardize_mean "$d/relu-mse-std.safetensors" || bad "train --standardize stored no standardisation"
if "$py" "$here/onnx_check.py" $models >"$d/py.log" 2>&1; then ok; else bad "onnx_check.py"; fi
tail -n 12 "$d/py.log"
if node "$here/onnx_check.js" "$d/runs" >"$d/js.log" 2>&1; then ok; else bad "onnx_check.js"; fi
tail -n 12 "$d/js.log"

# README's snippet as written, on README's model and rows (paths into $d)
"$bp" init --layers 4,8,3 --act relu --loss softmax_ce --seed 1 --out "$d/readme.safetensors" &&
    "$bp" export --model "$d/readme.safetensors" --onnx "$d/readme.onnx" || bad "README's model"
sed -n '/^```js$/,/^```$/p' "$here/../README.md" | sed '1d;$d' | sed "s|/tmp/m.onnx|$d/readme.onnx|" >"$d/run.js"
printf '0.1,0.2,0.3,0.4\n1,0,-1,0.5\n' >"$d/x2.csv"
"$bp" predict --model "$d/readme.safetensors" --input "$d/x2.csv" --classes --out "$d/l2.csv"
want="BigInt64Array(2) [ $(sed -n 1p "$d/l2.csv")n, $(sed -n 2p "$d/l2.csv")n ]"
if node "$d/run.js" >"$d/readme.out" 2>&1 && grep -qF "$want" "$d/readme.out" &&
    [ "$(wc -l <"$d/run.js")" -eq 5 ]; then ok; else bad "README's snippet: $(cat "$d/readme.out")"; fi

# bad input: exit 1, one line, no ONNX file and no temporary
m="$d/relu-mse.safetensors"
expect_fail "missing model" "$d/o.onnx" "$bp" export --model "$d/nope.safetensors" --onnx "$d/o.onnx"
printf 'not a model' >"$d/junk.safetensors"
expect_fail "unreadable model" "$d/o.onnx" "$bp" export --model "$d/junk.safetensors" --onnx "$d/o.onnx"
expect_fail "missing folder" "$d/no/o.onnx" "$bp" export --model "$m" --onnx "$d/no/o.onnx"
mkdir "$d/dir.onnx"
expect_fail "path is a folder" "" "$bp" export --model "$m" --onnx "$d/dir.onnx"
[ -z "$(ls "$d/dir.onnx")" ] || bad "export into a folder's name left $(ls "$d/dir.onnx")"
expect_fail "no --onnx" "" "$bp" export --model "$m"
# 23171 x 23170 weights: 2.15e9 bytes, over protobuf's 2^31 - 1, as a
# sparse file; export refuses from the header's widths, never reading them
"$py" - "$d/big.safetensors" <<'PY'
import json, struct, sys
w, b = 23171 * 23170 * 4, 23170 * 4
h = json.dumps({"__metadata__": {"format": "backprop", "sizes": "23171,23170",
                                 "activations": "identity", "loss": "mse"},
                "layers.0.weight": {"dtype": "F32", "shape": [23170, 23171], "data_offsets": [0, w]},
                "layers.0.bias": {"dtype": "F32", "shape": [23170], "data_offsets": [w, w + b]}}).encode()
h += b" " * (-len(h) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h)
    f.truncate(8 + len(h) + w + b)
PY
expect_fail "over 2 GiB" "$d/big.onnx" "$bp" export --model "$d/big.safetensors" --onnx "$d/big.onnx"
grep -q "2 GiB" "$d/stderr" || bad "over 2 GiB: $(cat "$d/stderr")"
cat "$d/stderr"
# a model with names and a CSV encoding: both in metadata_props, and
# export says in one line that the graph starts after the encoding
src=$(cd "$here/.." && pwd)
"$bp" train --data "$src/tests/data/fruit.csv" --target fruit --drop id --missing mean \
    --layers 6,8,3 --act tanh --loss softmax_ce --epochs 2 --seed 1 --out "$d/fruit.st" >/dev/null &&
    "$bp" export --model "$d/fruit.st" --onnx "$d/fruit.onnx" 2>"$d/err" || bad "export fruit: $(cat "$d/err")"
grep -q 'takes the 6 numbers after it' "$d/err" && [ "$(wc -l <"$d/err")" -eq 1 ] && ok ||
    bad "export of an encoded model: $(cat "$d/err")"
"$py" - "$d/fruit.onnx" <<'PY' && ok || bad "fruit.onnx metadata"
import json, sys, onnx
props = {p.key: p.value for p in onnx.load(sys.argv[1]).metadata_props}
assert json.loads(props["classes"]) == ["apple", "banana", "cherry"], props
assert json.loads(props["columns"])["missing"] == "mean", props
PY
summary
