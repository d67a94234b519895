#!/bin/sh
# Checkpoint and resume: a run killed with SIGKILL and resumed from its last
# checkpoint ends with a model bit-identical to the uninterrupted run (same
# seed, threads and GEMM provider), for the fused SGD step (also per example), momentum with
# early stopping and Adam with a cosine schedule, on each provider; a checkpoint of another
# provider resumes with one warning; a checkpoint of other options, a damaged or a
# missing one is refused with one line and exit 1; a diverging run leaves its
# last checkpoint intact.
bp="$1"
. "$(dirname "$0")/lib.sh"

awk 'BEGIN { srand(7); print "x1,x2,label";
             for (i = 0; i < 3000; i++) { c = i % 3; printf "%.5f,%.5f,%d\n", c + rand(), rand() - c, c } }' \
    >"$d/blobs.csv"

# resume_case NAME OPTIONS...: uninterrupted, then killed once a mid-run
# checkpoint exists, resumed, compared byte for byte
resume_case() {
    name=$1
    shift
    run="train --data $d/blobs.csv --layers 2,64,64,3 --act tanh --batch 8 --epochs 30 --seed 5 --threads 2 --checkpoint-every 37 $*"
    rm -rf "$d/full" "$d/part" "$d/full.st" "$d/part.st" "$d/full.csv" "$d/part.csv"
    "$bp" $run --out "$d/full.st" --checkpoint "$d/full" --metrics "$d/full.csv" >/dev/null 2>&1 ||
        { bad "$name: the uninterrupted run failed"; return; }
    "$bp" $run --out "$d/part.st" --checkpoint "$d/part" >/dev/null 2>&1 &
    pid=$!
    i=0
    while [ ! -f "$d/part/checkpoint.bin" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
    sleep 0.3
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    if [ -e "$d/part.st" ]; then
        echo "note: $name: the run ended before the kill; the resume starts from its end"
    fi
    : >"$d/part/checkpoint.bin.tmpAbC123" # as a kill during a save leaves it
    "$bp" $run --out "$d/part.st" --resume "$d/part" --metrics "$d/part.csv" >"$d/stdout" 2>"$d/stderr" ||
        { bad "$name: resume failed: $(cat "$d/stderr")"; return; }
    grep -q '^resuming from .*checkpoint.bin: ' "$d/stdout" || bad "$name: no 'resuming' line"
    echo "$name: $(grep '^resuming' "$d/stdout")"
    if cmp -s "$d/full.st" "$d/part.st"; then ok; else bad "$name: the resumed model differs"; fi
    # the metrics agree too, but for the timing columns
    if [ "$(cut -d, -f1-4 "$d/full.csv")" = "$(cut -d, -f1-4 "$d/part.csv")" ]; then ok
    else bad "$name: the resumed metrics differ"; fi
}
resume_case "sgd (fused step)" --opt sgd --lr 0.05
resume_case "per-example sgd (W(0)'s step deferred)" --opt sgd --lr 0.01 --batch 1 --epochs 30 --checkpoint-every 500
resume_case "momentum, step schedule, patience" --opt momentum --lr 0.01 --schedule step --step-epochs 3 --gamma 0.5 --patience 4 --standardize
resume_case "adamw, cosine, warm-up, clipping" --opt adamw --lr 0.003 --weight-decay 0.01 --schedule cosine --warmup 0.5 --clip-norm 1
# refusals: one line on stderr, exit 1, the model not written
base="train --data $d/blobs.csv --layers 2,64,64,3 --act tanh --batch 8 --epochs 30 --seed 5 --threads 2 --opt adamw --lr 0.003 --weight-decay 0.01 --schedule cosine --warmup 0.5 --clip-norm 1"
refuse() {
    name=$1 want=$2
    shift 2
    rm -f "$d/r.st"
    "$bp" "$@" --out "$d/r.st" >/dev/null 2>"$d/stderr"
    rc=$?
    if [ $rc -ne 1 ]; then bad "$name: exit $rc, expected 1"; return; fi
    if [ "$(wc -l <"$d/stderr")" -ne 1 ]; then bad "$name: not one line: $(cat "$d/stderr")"; return; fi
    if ! grep -q -- "$want" "$d/stderr"; then bad "$name: '$want' not in: $(cat "$d/stderr")"; return; fi
    if [ -e "$d/r.st" ]; then bad "$name: wrote the model"; return; fi
    ok
}
refuse "other lr" "lr = 0.0030000000000000001; this run has 0.0040000000000000001" $base --lr 0.004 --resume "$d/part"
refuse "other optimiser" "optimiser adamw; this run uses adam" $base --opt adam --resume "$d/part"
refuse "other network" "network 2,64,64,3 tanh,tanh,softmax softmax_ce T=1 a=0.01; this run.s is 2,32,3" $base --layers 2,32,3 --resume "$d/part"
refuse "other seed" "another --seed" $base --seed 6 --resume "$d/part"
refuse "other batch" "warmup_steps = 169; this run has 84" $base --batch 16 --resume "$d/part"
refuse "missing checkpoint" "cannot open" $base --resume "$d/nowhere"
mkdir -p "$d/bad"
cp "$d/part/checkpoint.bin" "$d/bad/checkpoint.bin"
size=$(wc -c <"$d/bad/checkpoint.bin")
# one flipped byte in the parameters: the CRC finds it
printf 'X' | dd of="$d/bad/checkpoint.bin" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
refuse "damaged checkpoint" "CRC mismatch" $base --resume "$d/bad"
head -c $((size - 100)) "$d/part/checkpoint.bin" >"$d/bad/checkpoint.bin"
refuse "truncated checkpoint" "truncated\|claims" $base --resume "$d/bad"
printf 'not a checkpoint at all' >"$d/bad/checkpoint.bin"
refuse "junk checkpoint" "not a backprop checkpoint" $base --resume "$d/bad"

# each GEMM provider resumes bit-identically (the cases above ran on the default)
resume_case "sgd, CBLAS products" --gemm cblas --opt sgd --lr 0.05
resume_case "adamw, CBLAS products" --gemm cblas --opt adamw --lr 0.003 --weight-decay 0.01

# a checkpoint of one provider resumed under the other: allowed, one warning
if "$bp" --version | grep -q '^GEMM: oneDNN'; then
    "$bp" train --data "$d/blobs.csv" --layers 2,16,3 --epochs 4 --seed 5 --gemm cblas \
        --checkpoint "$d/prov" --out "$d/prov.st" >/dev/null 2>&1
    if "$bp" train --data "$d/blobs.csv" --layers 2,16,3 --epochs 4 --seed 5 --gemm onednn \
        --resume "$d/prov" --out "$d/prov2.st" >/dev/null 2>"$d/stderr" &&
       [ "$(grep -c 'warning: the checkpoint.s products ran on cblas' "$d/stderr")" -eq 1 ]; then ok
    else bad "resume under another provider: $(cat "$d/stderr")"; fi
else
    if "$bp" train --data "$d/blobs.csv" --layers 2,16,3 --epochs 1 --gemm onednn \
        --out "$d/prov.st" >/dev/null 2>"$d/stderr"; then bad "--gemm onednn accepted without oneDNN"
    elif grep -q 'this build has no oneDNN' "$d/stderr" && [ ! -e "$d/prov.st" ]; then ok
    else bad "--gemm onednn without oneDNN: $(cat "$d/stderr")"; fi
fi


# divergence: exit 2, and the checkpoint of the last good epoch stays
rm -rf "$d/div"
"$bp" train --data "$d/blobs.csv" --layers 2,8,3 --opt sgd --lr 0.01 --epochs 2 --checkpoint "$d/div" --out "$d/div.st" >/dev/null 2>&1
cp "$d/div/checkpoint.bin" "$d/good.bin"
"$bp" train --data "$d/blobs.csv" --layers 2,8,3 --opt sgd --lr 1e30 --epochs 2 --checkpoint "$d/div" --out "$d/div3.st" >/dev/null 2>"$d/stderr"
rc=$?
if [ $rc -eq 2 ] && grep -q 'diverged.*last checkpoint is intact' "$d/stderr" &&
   cmp -s "$d/good.bin" "$d/div/checkpoint.bin" && [ ! -e "$d/div3.st" ]; then ok
else bad "divergence with a checkpoint: exit $rc: $(cat "$d/stderr")"; fi
stale=$(find "$d/div" "$d/part" "$d/full" -name '*.tmp*')
if [ -n "$stale" ]; then bad "temporary files left behind: $stale"; else ok; fi

summary
