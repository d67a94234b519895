#!/bin/sh
# The command line end to end: the commands work, and every kind of bad input
# gets exit code 1, exactly one line on stderr and no output file.
bp="$1"
. "$(dirname "$0")/lib.sh"

expect_ok version "$bp" --version
grep -q '^BLAS: ' "$d/stdout" || bad "--version names no BLAS"
grep -Eq '^GEMM: (oneDNN [0-9.]+ \([a-z0-9_]+\)|.*BLAS)' "$d/stdout" || bad "--version names no GEMM provider"

# bench: both limits in its JSON; the step cannot beat the FMA peak
expect_ok "bench json" "$bp" bench --layers 20,16,3 --batch 1,8 --threads 1 --seconds 0.05 --json
python3 - "$d/stdout" <<'PY' || bad "bench --json: $(cat "$d/stdout")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["peak_gflops"] > 0 and j["peak_isa"], j
for r in j["results"]:
    assert r["peak_gflops"] == j["peak_gflops"], r
    assert 0 < r["fraction_of_peak"] < 1, r
    assert abs(r["gflops"] / r["peak_gflops"] - r["fraction_of_peak"]) < 1e-3, r
PY
expect_fail "unknown --gemm" "" "$bp" bench --layers 4,3 --batch 1 --gemm mkl
grep -q "unknown provider 'mkl' (onednn, cblas)" "$d/stderr" || bad "--gemm mkl: $(cat "$d/stderr")"
expect_ok "--gemm cblas" "$bp" bench --layers 4,3 --batch 1 --seconds 0.01 --threads 1 --gemm cblas
expect_ok help "$bp" --help
for c in init grad predict explain train eval; do
    expect_ok "$c --help" "$bp" "$c" --help
    grep -Eq 'default|required' "$d/stdout" || bad "$c --help shows no defaults"
done

# a model, inputs, targets
expect_ok init "$bp" init --layers 3,5,4 --act tanh --loss softmax_ce --seed 7 --out "$d/m.safetensors"
printf '0.1,0.2,0.3\n-1,0.5,2\n' >"$d/x.csv"
printf '0,0,1,0\n0.25,0.25,0.25,0.25\n' >"$d/t.csv"
printf '2\n0\n' >"$d/lab.csv"
expect_ok predict "$bp" predict --model "$d/m.safetensors" --input "$d/x.csv" --out "$d/p.csv"
[ "$(wc -l <"$d/p.csv")" -eq 2 ] || bad "predict wrote $(wc -l <"$d/p.csv") rows"
awk -F, '{ s = 0; for (i = 1; i <= NF; i++) s += $i; if (NF != 4 || s < 0.9999 || s > 1.0001) exit 1 }' \
    "$d/p.csv" || bad "softmax outputs are not 4 probabilities summing to 1"
expect_ok "predict stdout" "$bp" predict --model "$d/m.safetensors" --input "$d/x.csv"
cmp -s "$d/stdout" "$d/p.csv" || bad "predict to stdout differs from --out"
expect_ok grad "$bp" grad --model "$d/m.safetensors" --input "$d/x.csv" --target "$d/t.csv" --out "$d/g.safetensors"
[ -s "$d/g.safetensors" ] || bad "grad wrote nothing"
expect_ok "grad json" "$bp" grad --model "$d/m.safetensors" --input "$d/x.csv" --target "$d/lab.csv" --out "$d/g2.safetensors" --json
grep -q '^{"loss": ' "$d/stdout" || bad "grad --json: $(cat "$d/stdout")"

# the worked example, by hand: L = 0.298371109 (with float32 weights, 0.2983711125)
expect_ok "explain json" "$bp" explain --json
grep -q '"loss": 0.2983711' "$d/stdout" || bad "explain: $(cat "$d/stdout")"
expect_ok explain "$bp" explain
grep -q 'eq. 26' "$d/stdout" || bad "explain shows no eq. 26"
expect_ok "explain softmax" "$bp" explain --layers 3,4,3 --act relu --loss softmax_ce --temperature 2 --seed 3

# training on a small CSV data set (two blobs, header line, label last)
awk 'BEGIN { srand(5); print "a,b,label";
             for (i = 0; i < 200; i++) { c = i % 2; printf "%.4f,%.4f,%d\n", c * 2 + rand(), c * 2 - rand(), c } }' \
    >"$d/blobs.csv"
tr="train --data $d/blobs.csv --layers 2,8,2 --act tanh --loss softmax_ce --opt adam --lr 0.05 --batch 16 --epochs 5 --seed 3"
expect_ok "train json" "$bp" $tr --out "$d/b1.safetensors" --json --metrics "$d/b.csv" --plot "$d/b.svg"
grep -q '"val_accuracy": ' "$d/stdout" && grep -q '"examples_per_s": ' "$d/stdout" || bad "train --json: $(cat "$d/stdout")"
[ "$(grep -o '"epoch": ' "$d/stdout" | wc -l)" -eq 5 ] || bad "train --json has not 5 epochs"
head -1 "$d/b.csv" | grep -q '^epoch,train_loss,val_loss,val_accuracy,examples_per_s,seconds' || bad "metrics header"
[ "$(wc -l <"$d/b.csv")" -eq 6 ] || bad "metrics rows"
grep -q '</svg>' "$d/b.svg" || bad "plot not written"
expect_ok "train again" "$bp" $tr --out "$d/b2.safetensors"
cmp -s "$d/b1.safetensors" "$d/b2.safetensors" || bad "same seed, different model"
expect_ok "train standardize" "$bp" $tr --standardize --out "$d/b3.safetensors"
expect_ok "train --val 0" "$bp" $tr --val 0 --out "$d/v0.safetensors"
grep -q nan "$d/stdout" && bad "--val 0 prints nan: $(cat "$d/stdout")"
# zeros are literal: momentum 0 is plain descent's model, beta1 0 not the default's
expect_ok "sgd" "$bp" $tr --opt sgd --out "$d/z1.safetensors"
expect_ok "momentum 0" "$bp" $tr --opt momentum --momentum 0 --out "$d/z2.safetensors"
cmp -s "$d/z1.safetensors" "$d/z2.safetensors" || bad "--momentum 0 is not --opt sgd's model"
expect_ok "adam" "$bp" $tr --opt adam --lr 0.01 --out "$d/z3.safetensors"
expect_ok "adam beta1 0" "$bp" $tr --opt adam --lr 0.01 --beta1 0 --out "$d/z4.safetensors"
cmp -s "$d/z3.safetensors" "$d/z4.safetensors" && bad "--beta1 0 gave the default's model"
expect_fail "beta1 1" "$d/z5.safetensors" "$bp" $tr --opt adam --beta1 1 --out "$d/z5.safetensors"
grep -q 'beta1 1 is not in \[0, 1)' "$d/stderr" || bad "beta1 1: $(cat "$d/stderr")"
expect_ok "eval" "$bp" eval --model "$d/b1.safetensors" --data "$d/blobs.csv" --json --plot "$d/c.svg"
grep -q '"accuracy": ' "$d/stdout" && grep -q '"confusion": \[\[' "$d/stdout" || bad "eval --json: $(cat "$d/stdout")"
acc=$(sed 's/.*"accuracy": \([0-9.]*\).*/\1/' "$d/stdout")
awk -v a="$acc" 'BEGIN { exit !(a > 0.95) }' || bad "blobs accuracy $acc"
cut -d, -f1,2 "$d/blobs.csv" | tail -n +2 >"$d/bx.csv"
expect_ok "predict classes" "$bp" predict --model "$d/b3.safetensors" --input "$d/bx.csv" --classes
[ "$(sort -u "$d/stdout" | tr '\n' ' ')" = "0 1 " ] || bad "predict --classes: $(sort -u "$d/stdout" | head -3)"
# after epoch 1 the rate is ~0, so the validation loss stops improving
expect_ok "early stop" "$bp" train --data "$d/blobs.csv" --layers 2,8,2 --opt sgd --lr 0.1 --schedule step --step-epochs 1 --gamma 1e-12 --epochs 50 --patience 2 --out "$d/b4.safetensors"
grep -q 'early stop.*keeping epoch' "$d/stdout" || bad "no early stop: $(tail -2 "$d/stdout")"
"$bp" train --data "$d/blobs.csv" --layers 2,8,2 --opt sgd --lr 1e30 --epochs 3 --out "$d/b5.safetensors" >/dev/null 2>"$d/stderr"
rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l <"$d/stderr")" -eq 1 ] && grep -q diverged "$d/stderr" && [ ! -e "$d/b5.safetensors" ]; then ok; else bad "divergence: exit $rc: $(cat "$d/stderr")"; fi

# --detect-anomaly names the first non-finite value
printf 'a,b,t\n1,2,0.5\n3,4,1\n5,6,0\n7,8,1\n' >"$d/reg.csv"
"$bp" train --data "$d/reg.csv" --target-cols 1 --val 0 --layers 2,4,1 --loss mse --lr 1e10 --epochs 5 --batch 2 --detect-anomaly --out "$d/an.safetensors" >/dev/null 2>"$d/stderr"
rc=$?
if [ $rc -eq 2 ] && grep -q 'first non-finite value: .* of ' "$d/stderr" && [ ! -e "$d/an.safetensors" ]; then ok; else bad "detect-anomaly: exit $rc: $(cat "$d/stderr")"; fi

# bad input: one line, exit 1, nothing written
m="$d/m.safetensors" x="$d/x.csv" t="$d/t.csv" o="$d/out.safetensors"
expect_fail "no command" "" "$bp"
expect_fail "unknown command" "" "$bp" fly
expect_fail "unknown option" "$o" "$bp" init --layers 2,2 --bogus 1 --out "$o"
expect_fail "missing value" "" "$bp" init --layers
expect_fail "missing --out" "" "$bp" init --layers 2,2
expect_fail "bad layers" "$o" "$bp" init --layers 2,,2 --out "$o"
expect_fail "zero width" "$o" "$bp" init --layers 2,0,2 --out "$o"
expect_fail "absurd width" "$o" "$bp" init --layers 2,999999999,2 --out "$o"
expect_fail "bad activation" "$o" "$bp" init --layers 2,3,2 --act swish --out "$o"
expect_fail "bad loss" "$o" "$bp" init --layers 2,3,2 --loss hinge --out "$o"
expect_fail "softmax hidden" "$o" "$bp" init --layers 2,3,2 --act softmax,softmax --out "$o"
expect_fail "mse + softmax" "$o" "$bp" init --layers 2,3,2 --loss mse --out-act softmax --out "$o"
expect_fail "temperature 0" "$o" "$bp" init --layers 2,3,2 --temperature 0 --out "$o"
expect_fail "temperature nan" "$o" "$bp" init --layers 2,3,2 --temperature nan --out "$o"
expect_fail "bad seed" "$o" "$bp" init --layers 2,3,2 --seed -4 --out "$o"
expect_fail "no such folder" "" "$bp" init --layers 2,3,2 --out "$d/nowhere/m.safetensors"
expect_fail "missing model" "$o" "$bp" grad --model "$d/none" --input "$x" --target "$t" --out "$o"
printf 'not a model' >"$d/junk"
expect_fail "junk model" "$o" "$bp" grad --model "$d/junk" --input "$x" --target "$t" --out "$o"
expect_fail "missing input" "$o" "$bp" grad --model "$m" --input "$d/none.csv" --target "$t" --out "$o"
printf '1,2\n' >"$d/x2.csv"
expect_fail "input width" "$o" "$bp" grad --model "$m" --input "$d/x2.csv" --target "$t" --out "$o"
printf '1,2,3\n4,5\n' >"$d/ragged.csv"
expect_fail "ragged input" "$o" "$bp" grad --model "$m" --input "$d/ragged.csv" --target "$t" --out "$o"
printf '1,nan,3\n4,5,6\n' >"$d/nan.csv"
expect_fail "NaN input" "$o" "$bp" grad --model "$m" --input "$d/nan.csv" --target "$t" --out "$o"
printf '1,x,3\n4,5,6\n' >"$d/text.csv"
expect_fail "text input" "$o" "$bp" grad --model "$m" --input "$d/text.csv" --target "$t" --out "$o"
printf '0,0,1,0\n' >"$d/t1.csv"
expect_fail "row count" "$o" "$bp" grad --model "$m" --input "$x" --target "$d/t1.csv" --out "$o"
printf '4\n0\n' >"$d/lab4.csv"
expect_fail "label range" "$o" "$bp" grad --model "$m" --input "$x" --target "$d/lab4.csv" --out "$o"
printf '1.5\n0\n' >"$d/labf.csv"
expect_fail "label not integer" "$o" "$bp" grad --model "$m" --input "$x" --target "$d/labf.csv" --out "$o"
printf '1,2\n3,4\n' >"$d/t2.csv"
expect_fail "target width" "$o" "$bp" grad --model "$m" --input "$x" --target "$d/t2.csv" --out "$o"
expect_fail "predict missing" "$d/p2.csv" "$bp" predict --model "$d/none" --input "$x" --out "$d/p2.csv"
: >"$d/empty.csv"
expect_fail "predict empty" "$d/p2.csv" "$bp" predict --model "$m" --input "$d/empty.csv" --out "$d/p2.csv"
# the fuzzers' findings: models whose T, 1/T or slope overflow float32, and
# a standardisation list that would have sized a 64 MiB allocation
for f in "$(dirname "$0")"/../fuzz/crashes/*.safetensors; do
    expect_fail "fuzz finding $(basename "$f")" "$d/p3.csv" "$bp" predict --model "$f" --input "$x" --out "$d/p3.csv"
done
expect_fail "temperature 1e-39" "$o" "$bp" init --layers 2,3,2 --temperature 1e-39 --out "$o"
expect_fail "explain wide" "" "$bp" explain --layers 2,100,2
expect_fail "explain lr" "" "$bp" explain --lr -1

# CSVs as people have them gone wrong (issue 23; the same cases are in the
# CSV fuzzer's corpus): one line naming what is wrong, exit 1, no model
corpus="$(dirname "$0")/../fuzz/corpus/csv"
bad_csv() { # name, file, what the line must say, then more options
    name=$1 f=$2 want=$3
    shift 3
    cp "$f" "$d/bad.csv"
    expect_fail "$name" "$d/bad.st" "$bp" train --data "$d/bad.csv" --hidden 4 --out "$d/bad.st" "$@"
    grep -qF "$want" "$d/stderr" || bad "$name: $(cat "$d/stderr")"
}
bad_csv "quote never closed" "$corpus/quote_unclosed_row" "bad.csv:3:2: a quote never closed on this line"
bad_csv "short header" "$corpus/header_short" "bad.csv:1: the header has 2 fields, the data 3"
bad_csv "one class" "$corpus/class_one" 'the class column holds one class, "yes"'
bad_csv "categories past the limit" "$corpus/categories_2000" \
    "bad.csv:1002:1: more than 1000 distinct words in column 1 (raise the limit with --max-categories)"
bad_csv "--max-categories 3" "$corpus/categories_over" "more than 3 distinct words" --max-categories 3
# 10^5 distinct words: refused at the 1001st, while reading (line 1002),
# not after holding them all
/usr/bin/python3 -c 'import sys; sys.stdout.write("c,y\n" + "".join(f"w{i},{i % 2}\n" for i in range(100000)))' >"$d/many.csv"
bad_csv "10^5 categories" "$d/many.csv" "bad.csv:1002:1: more than 1000 distinct words in column 1"

# --device: an unknown name is a usage error; cuda without a usable GPU (CI,
# a CPU-only build) is one clear line and exit 1, for every command that
# takes it. With a GPU, predict on it must match the CPU's outputs.
expect_fail "unknown device" "$d/p4.csv" "$bp" predict --model "$m" --input "$x" --device gpu --out "$d/p4.csv"
grep -q "unknown device 'gpu'" "$d/stderr" || bad "unknown device: $(cat "$d/stderr")"
if "$bp" predict --model "$m" --input "$x" --device cuda --out "$d/p5.csv" 2>"$d/stderr"; then
    "$bp" predict --model "$m" --input "$x" --out "$d/p6.csv"
    awk -F, 'NR == FNR { for (i = 1; i <= NF; i++) a[FNR, i] = $i; next }
             { for (i = 1; i <= NF; i++) { e = a[FNR, i] - $i; if (e < -1e-5 || e > 1e-5) exit 1 } }' \
        "$d/p5.csv" "$d/p6.csv" && ok || bad "predict --device cuda differs from the cpu"
else
    grep -q -- '--device cuda: ' "$d/stderr" || bad "predict --device cuda: $(cat "$d/stderr")"
    expect_fail "predict cuda" "$d/p5.csv" "$bp" predict --model "$m" --input "$x" --device cuda --out "$d/p5.csv"
    expect_fail "grad cuda" "$o" "$bp" grad --model "$m" --input "$x" --target "$t" --device cuda --out "$o"
    expect_fail "eval cuda" "" "$bp" eval --model "$d/b1.safetensors" --data "$d/blobs.csv" --device cuda
    expect_fail "bench cuda" "" "$bp" bench --layers 4,3,2 --batch 2 --seconds 0.01 --device cuda --tf32
fi
if "$bp" --version | grep -q '^CUDA: no$'; then
    expect_fail "cuda not built" "" "$bp" bench --device cuda
    grep -q 'no CUDA backend' "$d/stderr" || bad "cuda not built: $(cat "$d/stderr")"
fi

summary
