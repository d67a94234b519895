#!/bin/sh
# Data-parallel training: `mpirun -np 2 backprop train` ends with the model of
# one process trained over the same global batches (every parameter within
# 1e-5 relative), also when the ranks do not divide the batch; a failure or a
# divergence ends every rank with one line and one exit code, never a hang.
# Skipped (77) where the build has no MPI or mpirun is missing.
bp="$1"
here=$(dirname "$0")
"$bp" --version | grep -q '^MPI: yes' || { echo "skipped: this build has no MPI"; exit 77; }
command -v mpirun >/dev/null || { echo "skipped: no mpirun on PATH"; exit 77; }
command -v python3 >/dev/null || { echo "skipped: no python3 for the comparison"; exit 77; }
. "$(dirname "$0")/lib.sh"
# Open MPI refuses to run as root without --allow-run-as-root, and
# --oversubscribe lets two ranks start where it counts fewer slots; MPICH's
# mpirun needs neither
mpi="mpirun -np 2"
mpirun --version 2>/dev/null | grep -q 'Open MPI' && mpi="mpirun --allow-run-as-root --oversubscribe -np 2"

awk 'BEGIN { srand(11); print "x1,x2,x3,label";
             for (i = 0; i < 2000; i++) { c = i % 3; printf "%.5f,%.5f,%.5f,%d\n", c + rand(), rand() - c, rand(), c } }' \
    >"$d/blobs.csv"

# same NAME OPTIONS...: one process, then two ranks; the models agree
same() {
    name=$1
    shift
    run="train --data $d/blobs.csv --layers 3,32,16,3 --seed 4 --threads 1 --epochs 4 $*"
    "$bp" $run --out "$d/one.st" >/dev/null 2>"$d/stderr" || { bad "$name: one process: $(cat "$d/stderr")"; return; }
    timeout 120 $mpi "$bp" $run --out "$d/two.st" >"$d/stdout" 2>"$d/stderr" ||
        { bad "$name: mpirun: $(tail -3 "$d/stderr")"; return; }
    grep -q '^2 MPI ranks' "$d/stdout" || { bad "$name: not two ranks: $(head -3 "$d/stdout")"; return; }
    if r=$(python3 "$here/compare_models.py" "$d/one.st" "$d/two.st" 1e-5); then ok; else bad "$name: $r"; fi
    echo "$name: $r"
}
same "sgd, batch 32 (16 per rank)" --opt sgd --lr 0.1 --batch 32
same "sgd, batch 33 (17 + 16)" --opt sgd --lr 0.1 --batch 33
same "adam, batch 7 (4 + 3), standardised" --opt adam --lr 0.003 --batch 7 --standardize
same "momentum, cosine, clipping, batch 1 (1 + 0)" --opt momentum --lr 0.01 --batch 1 --schedule cosine --clip-norm 0.5 --epochs 1
# the gradient in buckets of 262 values (707 in all: layers cut in blocks of
# rows), each summed while the backward pass goes on; and in one, after it
same "adam, batch 33, l2, buckets of 1 kB" --opt adam --lr 0.003 --batch 33 --l2 0.01 --bucket-mb 0.001
cp "$d/two.st" "$d/bucketed.st"
same "adam, batch 33, l2, one bucket" --opt adam --lr 0.003 --batch 33 --l2 0.01 --bucket-mb 0
# the same ranks, buckets and threads: the same model, byte for byte
timeout 120 $mpi "$bp" train --data "$d/blobs.csv" --layers 3,32,16,3 --seed 4 --threads 1 --epochs 4 \
    --opt adam --lr 0.003 --batch 33 --l2 0.01 --bucket-mb 0.001 --out "$d/again.st" >/dev/null 2>&1
if cmp -s "$d/bucketed.st" "$d/again.st"; then ok; else bad "bucketed runs differ from run to run"; fi

# rank 0 alone writes: the two-rank run's metrics and checkpoint exist once
timeout 120 $mpi "$bp" train --data "$d/blobs.csv" --layers 3,8,3 --epochs 2 --out "$d/m.st" \
    --metrics "$d/m.csv" --checkpoint "$d/ck" >/dev/null 2>"$d/stderr"
if [ -s "$d/m.st" ] && [ "$(wc -l <"$d/m.csv")" -eq 3 ] && [ -s "$d/ck/checkpoint.bin" ]; then ok
else bad "outputs of a two-rank run: $(cat "$d/stderr")"; fi
# ... and a two-rank run resumes its own checkpoint
if timeout 120 $mpi "$bp" train --data "$d/blobs.csv" --layers 3,8,3 --epochs 2 --out "$d/m2.st" \
    --resume "$d/ck" >/dev/null 2>"$d/stderr" && cmp -s "$d/m.st" "$d/m2.st"; then ok
else bad "two-rank resume: $(cat "$d/stderr")"; fi

# A signal to one rank (as a scheduler's to the job's processes): the ranks
# agree on the stop in their per-step record, rank 0 saves and names the
# mpirun command that continues, mpirun exits with the ranks' 143, and the
# resumed run ends with the uninterrupted model
long="train --data $d/blobs.csv --layers 3,32,16,3 --seed 2 --threads 1 --batch 8 --epochs 150"
timeout 300 $mpi "$bp" $long --out "$d/full.st" >/dev/null 2>"$d/stderr" ||
    bad "uninterrupted two-rank run: $(tail -3 "$d/stderr")"
$mpi "$bp" $long --checkpoint "$d/ick" --out "$d/int.st" >"$d/int.out" 2>"$d/stderr" &
pid=$!
n=0
while ! grep -q '^epoch 1/' "$d/int.out" 2>/dev/null && [ $n -lt 1200 ]; do sleep 0.1; n=$((n + 1)); done
rank=$(pgrep -P $pid -f 'backprop train' | tail -1)
kill -TERM "${rank:-$pid}"
n=0
while kill -0 $pid 2>/dev/null && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
kill -KILL $pid 2>/dev/null
wait $pid
rc=$?
if grep -q '^backprop train: interrupted by SIGTERM at epoch' "$d/stderr" &&
    grep -q 'continue with: mpirun -np 2 backprop train' "$d/stderr" && [ $rc -eq 143 ] &&
    [ -s "$d/ick/checkpoint.bin" ]; then ok
else bad "SIGTERM to a rank: exit $rc: $(cat "$d/stderr")"; fi
echo "SIGTERM to one rank: the job ended $n tenths of a second later, mpirun exit $rc"
if timeout 300 $mpi "$bp" $long --resume "$d/ick" --out "$d/int.st" >/dev/null 2>"$d/stderr" &&
    cmp -s "$d/full.st" "$d/int.st"; then ok
else bad "resumed after SIGTERM to a rank: not the uninterrupted model: $(tail -3 "$d/stderr")"; fi

# failures: one line, one code, no output
timeout 120 $mpi "$bp" train --data "$d/none.csv" --layers 3,8,3 --out "$d/f.st" >/dev/null 2>"$d/stderr"
rc=$?
if [ $rc -eq 1 ] && [ "$(grep -c 'backprop train' "$d/stderr")" -eq 1 ] && [ ! -e "$d/f.st" ]; then ok
else bad "missing data under mpirun: exit $rc: $(cat "$d/stderr")"; fi
timeout 120 $mpi "$bp" train --data "$d/blobs.csv" --layers 3,8,3 --lr 1e30 --out "$d/f.st" >/dev/null 2>"$d/stderr"
rc=$?
if [ $rc -eq 2 ] && [ "$(grep -c 'diverged' "$d/stderr")" -eq 1 ] && [ ! -e "$d/f.st" ]; then ok
else bad "divergence under mpirun: exit $rc: $(cat "$d/stderr")"; fi

summary
