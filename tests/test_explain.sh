#!/bin/sh
# backprop explain: its numbers against independent computations
# (explain_check.py: hand values, Python double forward passes and central
# differences, PyTorch float64 where it imports), and bad input: exit 1,
# one line on stderr, no page left behind.
bp="$1"
. "$(dirname "$0")/lib.sh"

py=
for p in /usr/bin/python3 python3; do
    if "$p" -c 'import json' 2>/dev/null; then py=$p; break; fi
done
if [ -z "$py" ]; then echo "skipped: no python3"; exit 77; fi
if "$py" "$(dirname "$0")/explain_check.py" "$bp" "$d"; then ok; else bad "explain_check.py"; fi

# expect_fail NAME CMD...: exit 1, exactly one line on stderr, no $d/page.html
expect_fail() {
    name=$1
    shift
    "$@" >"$d/stdout" 2>"$d/stderr"
    rc=$?
    lines=$(wc -l <"$d/stderr")
    if [ "$rc" -ne 1 ]; then bad "$name: exit $rc, expected 1"; return; fi
    if [ "$lines" -ne 1 ]; then bad "$name: $lines lines on stderr"; cat "$d/stderr"; return; fi
    if [ -e "$d/page.html" ] || [ -e "$d/page.html.tmp" ]; then bad "$name: left a page"; return; fi
    ok
}
"$bp" init --layers 3,4,2 --act relu --loss softmax_ce --seed 1 --out "$d/m.safetensors" >/dev/null
printf '1,2\n3,4\n' >"$d/x2.csv"
printf '0.1,0.2,0.3\n' >"$d/x3.csv"
printf '1,0\n0,1\n' >"$d/t2.csv"
h="--html $d/page.html"
expect_fail "input width" "$bp" explain --model "$d/m.safetensors" --input 1,2 $h
expect_fail "input csv width" "$bp" explain --model "$d/m.safetensors" --input "$d/x2.csv" --target "$d/t2.csv" $h
expect_fail "target width" "$bp" explain --model "$d/m.safetensors" --input 1,2,3 --target 1,0,0 $h
expect_fail "label range" "$bp" explain --model "$d/m.safetensors" --input 1,2,3 --target 2 $h
expect_fail "label not integer" "$bp" explain --model "$d/m.safetensors" --input 1,2,3 --target 0.5 $h
expect_fail "label for mse" "$bp" explain --input 1,2 --target 1 $h
expect_fail "rows differ" "$bp" explain --model "$d/m.safetensors" --input "$d/x3.csv" --target "$d/t2.csv" $h
expect_fail "not a number" "$bp" explain --input 1,abc $h
expect_fail "nan" "$bp" explain --input 1,nan $h
expect_fail "empty value" "$bp" explain --input 1,,2 $h
expect_fail "missing file" "$bp" explain --input "$d/none.csv" $h
expect_fail "missing model" "$bp" explain --model "$d/none.safetensors" $h
expect_fail "focus no weight" "$bp" explain --focus 'w_31^(0)' $h
expect_fail "focus layer" "$bp" explain --focus 'w_11^(2)' $h
expect_fail "focus form" "$bp" explain --focus 'v11' $h
expect_fail "lang" "$bp" explain --lang de $h
expect_fail "digits" "$bp" explain --digits 0 $h
expect_fail "layer" "$bp" explain --layer 3 $h
expect_fail "neuron" "$bp" explain --neuron 3 $h
expect_fail "lr" "$bp" explain --lr -1 $h
expect_fail "steps" "$bp" explain --steps -2 $h
expect_fail "wide" "$bp" explain --layers 2,100,2 $h
expect_fail "batch without target" "$bp" explain --input "$d/x2.csv" $h
expect_fail "softmax z" "$bp" explain softmax --z 1,x
expect_fail "softmax T" "$bp" explain softmax --z 1,2 --temperature 0
expect_fail "softmax no z" "$bp" explain softmax
expect_fail "html dir" "$bp" explain --html "$d/no/such/dir/page.html"

# a wide layer is fine once one neuron is chosen, and its numbers are the full net's
"$bp" init --layers 3,40,2 --act tanh --loss mse --seed 2 --out "$d/w.safetensors" >/dev/null
if "$bp" explain --model "$d/w.safetensors" --input 1,2,3 --target 0.5,0.5 --layer 1 --neuron 7 \
    --check >"$d/wide" 2>"$d/stderr"; then
    grep -q 'z₇⁽¹⁾' "$d/wide" && ! grep -q 'z₈⁽¹⁾' "$d/wide" && ok || bad "--layer 1 --neuron 7 shows other neurons"
else
    bad "wide with --neuron: $(cat "$d/stderr")"
fi
# filtered text: only layer 2, neuron 1
"$bp" explain --layer 2 --neuron 1 --no-update >"$d/f" 2>&1
if grep -q 'δ₁⁽²⁾' "$d/f" && ! grep -q 'δ₂⁽²⁾\|z₁⁽¹⁾\|←' "$d/f"; then ok; else bad "--layer 2 --neuron 1"; fi
summary
