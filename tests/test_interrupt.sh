#!/bin/sh
# Runs stopped the ordinary way: SIGINT and SIGTERM at seeded moments
# (printed, so a failure can be replayed with BP_INTERRUPT_SEED) to
# `train --checkpoint` runs on 1 and 2 threads and both GEMM providers;
# each exits 130 or 143 with one line saying how to go on, leaves a
# loadable --out, and after --resume ends bit-identical to the run that
# was never interrupted. Also: a signal before the first step writes
# nothing; without --checkpoint the finished epochs' --out, --metrics and
# --plot are kept; a second run on a folder in use exits 1 at once naming
# the first's PID; a folder whose holder was SIGKILLed is free.
#   test_interrupt.sh BACKPROP [SIGNALS]   (default 8; `make interrupts` runs 40)
bp="$1"
signals="${2:-8}"
. "$(dirname "$0")/lib.sh"
[ -d /usr/share/datasets/fashion-mnist ] || { echo "skipped: no fashion-mnist"; exit 77; }
seed="${BP_INTERRUPT_SEED:-$(date +%s)}"
echo "moments from seed $seed"
run="train --data fashion-mnist --layers 784,48,10 --act relu --loss softmax_ce --opt adam --lr 0.001 --batch 16 --epochs 8 --val 0.5 --seed 1"

# the providers of this build
gemms=cblas
"$bp" --version | grep -q 'oneDNN' && gemms="onednn cblas"
# the uninterrupted models, one per threads x provider
for t in 1 2; do for g in $gemms; do
    "$bp" $run --threads $t --gemm $g --out "$d/full-$t-$g.safetensors" >/dev/null 2>&1 ||
        bad "uninterrupted run $t $g failed"
done; done

# seeded moments: i -> signal, threads, provider, delay in tenths of a second
awk -v s="$seed" -v n="$signals" 'BEGIN { srand(s); for (i = 0; i < n; i++)
    printf "%s %d %s %d\n", i % 2 ? "TERM" : "INT", 1 + int(rand() * 2),
           rand() < 0.5 ? "onednn" : "cblas", 2 + int(rand() * 18) }' |
    { [ "$gemms" = cblas ] && sed 's/ onednn / cblas /' || cat; } >"$d/moments"
i=0
while read -r sig t g tenths; do
    i=$((i + 1))
    ck="$d/ck$i" out="$d/m$i.safetensors"
    echo "signal $i: SIG$sig after ${tenths}00 ms, --threads $t --gemm $g"
    "$bp" $run --threads $t --gemm $g --checkpoint "$ck" --out "$out" >/dev/null 2>"$d/err" &
    pid=$!
    sleep "$(awk -v t="$tenths" 'BEGIN { print t / 10 }')"
    kill -"$sig" $pid 2>/dev/null
    wait $pid
    rc=$?
    want=130; [ "$sig" = TERM ] && want=143
    if [ $rc -eq 0 ]; then
        echo "  the run ended before the signal"
    elif [ $rc -eq $want ] && grep -q 'before the first step; nothing saved' "$d/err"; then
        [ ! -e "$out" ] && [ ! -e "$ck/checkpoint.bin" ] && ok ||
            bad "signal $i: before the first step, yet files written"
        continue
    elif [ $rc -ne $want ]; then
        bad "signal $i: exit $rc, not $want: $(cat "$d/err")"
        continue
    else
        [ "$(grep -c 'interrupted by SIG' "$d/err")" -eq 1 ] &&
            grep -q "continue with: backprop train .*--resume $ck" "$d/err" ||
            bad "signal $i: the line: $(cat "$d/err")"
        "$bp" eval --model "$out" --data fashion-mnist >/dev/null 2>&1 ||
            bad "signal $i: --out does not load"
        "$bp" $run --threads $t --gemm $g --resume "$ck" --out "$out" >/dev/null 2>"$d/err" ||
            { bad "signal $i: --resume failed: $(cat "$d/err")"; continue; }
    fi
    cmp -s "$out" "$d/full-$t-$g.safetensors" && ok ||
        bad "signal $i (SIG$sig, ${tenths}00 ms, $t threads, $g): resumed model differs"
done <"$d/moments"

# before the first step: nothing written (the data set loads first, so
# a signal at once lands before any step)
"$bp" $run --checkpoint "$d/early" --out "$d/early.safetensors" >/dev/null 2>"$d/err" &
pid=$!
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 143 ] || [ $rc -eq 0 ] || bad "signal at once: exit $rc: $(cat "$d/err")"
[ $rc -ne 143 ] || [ ! -e "$d/early.safetensors" ] || bad "signal at once: --out written"

# without --checkpoint: the finished epochs kept
"$bp" $run --epochs 60 --out "$d/plain.safetensors" --metrics "$d/plain.csv" \
    --plot "$d/plain.svg" >"$d/plain.out" 2>"$d/err" &
pid=$!
# after its first epoch, however slow the machine is today (a signal before
# the first step writes nothing, by design)
n=0
while ! grep -q '^epoch 1/' "$d/plain.out" 2>/dev/null && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
kill -INT $pid
wait $pid
rc=$?
if [ $rc -eq 130 ]; then
    [ -s "$d/plain.safetensors" ] && [ -s "$d/plain.csv" ] && grep -q '</svg>' "$d/plain.svg" &&
        grep -q 'no --checkpoint' "$d/err" && ok || bad "no --checkpoint: $(cat "$d/err")"
else
    bad "no --checkpoint: exit $rc"
fi

# one writer per folder; a SIGKILLed holder never blocks
"$bp" $run --epochs 60 --checkpoint "$d/lk" --out "$d/lk.safetensors" >/dev/null 2>&1 &
pid=$!
sleep 0.5
start=$(date +%s%N)
"$bp" $run --checkpoint "$d/lk" --out "$d/lk2.safetensors" >/dev/null 2>"$d/err"
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ $rc -eq 1 ] && grep -q "in use by another backprop train (PID $pid)" "$d/err" && [ $ms -lt 1000 ] &&
    ok || bad "second run: exit $rc after $ms ms: $(cat "$d/err")"
kill -KILL $pid
wait $pid 2>/dev/null
"$bp" $run --epochs 1 --checkpoint "$d/lk" --out "$d/lk3.safetensors" >/dev/null 2>"$d/err" &&
    ok || bad "after SIGKILL the folder is still locked: $(cat "$d/err")"
summary
