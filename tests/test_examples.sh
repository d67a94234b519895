#!/bin/sh
# The example programs (examples/), run as a newcomer would: XOR and the sine
# regression must learn what they claim (checked against the truth table and
# sin itself), and classify, a C program predicting with a model the CLI
# trained, must give the classes `backprop predict --classes` gives and the
# accuracy `backprop eval` gives; and bp_fit must give the per-epoch losses
# of the `backprop train` run with the same options.
bp="$1" ex="$2" fit="$3"
. "$(dirname "$0")/lib.sh"

# XOR: every output within 0.1 of its truth table entry
if "$ex/xor" >"$d/xor.txt" 2>"$d/stderr"; then
    awk '{ want = ($1 != $3); if ((want && $5 < 0.9) || (!want && $5 > 0.1)) bad = 1 }
         END { exit bad || NR != 4 }' "$d/xor.txt" && ok || bad "xor: $(cat "$d/xor.txt")"
else
    bad "xor: exit $?: $(cat "$d/stderr")"
fi

# the regression: sin x within 0.01 everywhere on a fine grid
if "$ex/regression" >"$d/reg.txt" 2>"$d/stderr"; then
    awk '/largest/ { found = 1; if ($NF + 0 >= 0.01) bad = 1 } END { exit bad || !found }' \
        "$d/reg.txt" && ok || bad "regression: $(cat "$d/reg.txt")"
else
    bad "regression: exit $?: $(cat "$d/stderr")"
fi

# a standardised classifier from the CLI: 3 blobs far from the origin, so
# that predicting without the model's standardisation would be wrong
awk 'BEGIN { srand(11);
             for (i = 0; i < 300; i++) { c = i % 3;
                 printf "%.4f,%.4f,%d\n", 50 + c * 3 + 2 * rand(), 80 - c * 2 + 2 * rand(), c } }' \
    >"$d/blobs.csv"
"$bp" train --data "$d/blobs.csv" --layers 2,8,3 --act tanh --loss softmax_ce --opt adam \
    --lr 0.05 --batch 16 --epochs 5 --seed 3 --standardize --out "$d/m.safetensors" \
    >/dev/null 2>"$d/stderr" || bad "train: $(cat "$d/stderr")"
cut -d, -f1,2 "$d/blobs.csv" >"$d/x.csv"
"$bp" predict --model "$d/m.safetensors" --input "$d/x.csv" --classes --out "$d/cli.txt" \
    2>"$d/stderr" || bad "predict: $(cat "$d/stderr")"
"$bp" eval --model "$d/m.safetensors" --data "$d/blobs.csv" --json >"$d/eval.json" \
    2>"$d/stderr" || bad "eval: $(cat "$d/stderr")"
if "$ex/classify" "$d/m.safetensors" "$d/blobs.csv" >"$d/c.txt" 2>"$d/stderr"; then
    grep -v accuracy "$d/c.txt" | cmp -s - "$d/cli.txt" && ok ||
        bad "classify: classes differ from backprop predict --classes"
    want=$(sed 's/.*"accuracy": \([0-9.e+-]*\).*/\1/' "$d/eval.json")
    got=$(sed -n 's/^accuracy //p' "$d/c.txt")
    [ -n "$want" ] && awk -v a="$got" -v b="$want" 'BEGIN { exit !(a == b) }' && ok ||
        bad "classify: accuracy $got, backprop eval $want"
else
    bad "classify: exit $?: $(cat "$d/stderr")"
fi

# bp_fit is the CLI's loop: the same run gives the same losses, to 9 digits
"$bp" train --data "$d/blobs.csv" --layers 2,8,3 --act tanh --loss softmax_ce --opt adam \
    --lr 0.05 --batch 16 --epochs 5 --seed 3 --val 0.2 --metrics "$d/metrics.csv" \
    --out "$d/m2.safetensors" >/dev/null 2>"$d/stderr" || bad "train: $(cat "$d/stderr")"
if "$fit" "$d/blobs.csv" >"$d/fit.csv" 2>"$d/stderr"; then
    tail -n +2 "$d/metrics.csv" | cut -d, -f1-3 | cmp -s - "$d/fit.csv" && ok ||
        bad "bp_fit and backprop train differ: $(paste -d' ' "$d/fit.csv" "$d/metrics.csv" | head -3)"
else
    bad "fit_cli: $(cat "$d/stderr")"
fi
summary
