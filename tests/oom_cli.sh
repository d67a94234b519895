#!/bin/sh
# Allocation failure in the commands: each of train, predict, grad, eval,
# explain, export and init is run once to count its allocations, then once for every N with the
# Nth failing (alone, and with all after it); every time it must exit 1 with
# one line on stderr, leave no output and no temporary file, and release
# everything it allocated (backprop_oom: tests/oom_cli.c).
#   usage: tests/oom_cli.sh BACKPROP_OOM_BINARY
bp="$1"
. "$(dirname "$0")/lib.sh"
runs=0

# inputs, made with nothing failing
awk 'BEGIN { srand(5); print "a,b,c,label";
             for (i = 0; i < 60; i++) { c = i % 3; printf "%.4f,%.4f,%.4f,%d\n", c + rand(), c - rand(), rand(), c } }' \
    >"$d/data.csv"
printf '0.1,0.2,0.3\n-1,0.5,2\n' >"$d/x.csv"
printf '2\n0\n' >"$d/lab.csv"
"$bp" init --layers 3,5,3 --act tanh --loss softmax_ce --seed 7 --out "$d/m.safetensors" >/dev/null 2>&1 ||
    { echo "FAIL: init with nothing failing"; exit 1; }
rm -f "$d/report"

# check NAME OUTFILE CMD...: OUTFILE must not exist after a failure ("" for
# train, whose model is saved, complete, before its metrics and plot are)
check() {
    name=$1 out=$2
    shift 2
    rm -f "$out" "$d/report"
    BP_OOM_REPORT="$d/report" "$@" >/dev/null 2>"$d/stderr" || { bad "$name: exit $? with nothing failing: $(cat "$d/stderr")"; return; }
    read -r total live kind <"$d/report"
    [ "$live" -eq 0 ] || bad "$name: $(tail -n +2 "$d/report" | head -3) with nothing failing"
    [ -z "$out" ] || [ -e "$out" ] || bad "$name: no $out with nothing failing"
    n=1
    while [ "$n" -le "$total" ]; do
        for how in "$n" "$n+"; do
            rm -f "$out" "$d/report" "$d/t.safetensors"
            runs=$((runs + 1))
            BP_OOM_FAIL=$how BP_OOM_REPORT="$d/report" "$@" >/dev/null 2>"$d/stderr"
            rc=$?
            read -r got live kind <"$d/report" 2>/dev/null || { got=?; live=?; kind=?; }
            lines=$(wc -l <"$d/stderr")
            if [ "$rc" -ne 1 ]; then bad "$name, failing $how ($kind): exit $rc: $(head -3 "$d/stderr")"
            elif [ "$lines" -ne 1 ]; then bad "$name, failing $how ($kind): $lines lines on stderr: $(head -3 "$d/stderr")"
            elif [ -n "$out" ] && [ -e "$out" ]; then bad "$name, failing $how ($kind): $out written"
            elif ls "$d" | grep -q '\.tmp'; then bad "$name, failing $how ($kind): a temporary file is left"; rm -f "$d"/*.tmp*
            elif [ "$live" != 0 ]; then bad "$name, failing $how ($kind): $(tail -n +2 "$d/report" | head -3)"
            elif [ "$kind" = - ]; then bad "$name, failing $how: allocation $n never came"
            else pass=$((pass + 1)); fi
        done
        n=$((n + 1))
    done
    echo "$name: $total allocations, each failed alone and with all after it"
}

check train "" "$bp" train --data "$d/data.csv" --layers 3,6,3 --act relu --loss softmax_ce \
    --opt adam --lr 0.01 --batch 16 --epochs 2 --threads 2 --standardize --out "$d/t.safetensors" \
    --metrics "$d/metrics.csv" --plot "$d/curves.svg" --missing mean
# checkpoints: saving every 3 steps, then resuming the finished run
check "train --checkpoint" "" "$bp" train --data "$d/data.csv" --layers 3,6,3 --opt momentum \
    --lr 0.01 --batch 16 --epochs 2 --checkpoint "$d/ck" --checkpoint-every 3 --out "$d/t.safetensors"
check "train --resume" "" "$bp" train --data "$d/data.csv" --layers 3,6,3 --opt momentum \
    --lr 0.01 --batch 16 --epochs 2 --resume "$d/ck" --out "$d/t.safetensors"
if ls "$d/ck" | grep -q '\.tmp'; then bad "a temporary file is left in the checkpoint folder"; fi
check predict "$d/p.csv" "$bp" predict --model "$d/m.safetensors" --input "$d/x.csv" --out "$d/p.csv"
check grad "$d/g.safetensors" "$bp" grad --model "$d/m.safetensors" --input "$d/x.csv" --target "$d/lab.csv" --out "$d/g.safetensors"
check eval "$d/c.svg" "$bp" eval --model "$d/m.safetensors" --data "$d/data.csv" --plot "$d/c.svg"
check explain "$d/e.html" "$bp" explain --model "$d/m.safetensors" --input "$d/x.csv" \
    --target "$d/lab.csv" --check --steps 2 --html "$d/e.html"
# raw rows through a model's CSV encoding (the header's names, the fills)
"$bp" train --data "$d/data.csv" --hidden 4 --epochs 1 --missing mean --out "$d/cols.safetensors" \
    >/dev/null 2>&1 || bad "train a model of named columns with nothing failing"
check "explain raw rows" "" "$bp" explain --model "$d/cols.safetensors" --input "$d/data.csv" --no-update
check "explain text" "" "$bp" explain --input 0.1,0.2 --target 0.3,0.4 --lang ru --check --focus 'w_12^(0)'
check "explain softmax" "" "$bp" explain softmax --z 1,2,3 --temperature 2 --json
check export "$d/m.onnx" "$bp" export --model "$d/m.safetensors" --onnx "$d/m.onnx"
check init "$d/i.safetensors" "$bp" init --layers 3,5,3 --act tanh --loss softmax_ce --out "$d/i.safetensors"

echo "oom_cli: $runs failing runs, $pass clean, $fail failed"
[ "$fail" -eq 0 ]
