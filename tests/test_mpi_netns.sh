#!/bin/sh
# Two ranks on two "hosts" (network namespaces joined through a bridge,
# tests/netns.sh), over TCP: the model is the single process's within 1e-5,
# frequent checkpoints under a small --collective-timeout do not end the
# run, and a cut link or a frozen rank ends the job: mpirun exits 1 well
# inside the timeout + 10 s, with our one line naming the step and the
# silent rank, no rank of ours left running, and the checkpoint intact.
# Skipped (77) without MPI, mpirun, root or network namespaces.
bp="$1"
here=$(dirname "$0")
"$bp" --version | grep -q '^MPI: yes' || { echo "skipped: this build has no MPI"; exit 77; }
command -v mpirun >/dev/null || { echo "skipped: no mpirun on PATH"; exit 77; }
command -v ip >/dev/null || { echo "skipped: no ip(8)"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "skipped: network namespaces need root"; exit 77; }
. "$here/lib.sh"
NS_DIR=$d
. "$here/netns.sh"
trap 'ns_down; rm -rf "$d"' EXIT
trap 'exit 1' INT TERM
ns_up 2 || { echo "skipped: network namespaces cannot be made here"; exit 77; }
bp=$(readlink -f "$bp")

awk 'BEGIN { srand(11); print "x1,x2,x3,label";
             for (i = 0; i < 4000; i++) { c = i % 3; printf "%.5f,%.5f,%.5f,%d\n", c + rand(), rand() - c, rand(), c } }' \
    >"$d/blobs.csv"
T=3 # --collective-timeout

# the single process's model, over the namespaces' TCP, with a checkpoint
# every 5 steps and a 1 s timeout
run="train --data $d/blobs.csv --layers 3,64,32,3 --seed 4 --threads 1 --opt adam --lr 0.003 --batch 33 --epochs 3 --bucket-mb 0.004"
"$bp" $run --out "$d/one.st" >/dev/null 2>"$d/stderr" || bad "one process: $(cat "$d/stderr")"
if ns_within 120 ns_mpirun "$bp" $run --checkpoint "$d/fck" --checkpoint-every 5 \
    --collective-timeout 1 --out "$d/two.st" >"$d/stdout" 2>"$d/stderr" &&
    grep -q '^2 MPI ranks' "$d/stdout"; then ok
else bad "two hosts, checkpoints every 5 steps, timeout 1 s: $(tail -3 "$d/stderr")"; fi
if r=$(/usr/bin/python3 "$here/compare_models.py" "$d/one.st" "$d/two.st" 1e-5); then ok; else bad "$r"; fi
echo "two hosts against one process: $r"

# ours: the backprop processes in the namespaces
ours() {
    for h in $(ip netns list | awk '{print $1}' | grep "^$NS_TAG-h"); do
        for p in $(ip netns pids "$h"); do
            [ "$(cat /proc/$p/comm 2>/dev/null)" = backprop ] && echo "$p"
        done
    done
}

# fail HOW: a long run cut at epoch 2 by HOW (down: host 1's link; stop:
# SIGSTOP to rank 1)
fail() {
    how=$1
    rm -rf "$d/ck"
    ns_mpirun "$bp" train --data "$d/blobs.csv" --layers 3,128,128,3 --threads 1 --batch 16 \
        --epochs 12 --checkpoint "$d/ck" --collective-timeout $T --out "$d/m.st" \
        >"$d/out" 2>"$d/err" &
    pid=$!
    n=0
    while ! grep -q '^epoch 2/' "$d/out" 2>/dev/null && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
    if [ "$how" = down ]; then
        ns_link_down 1
    else
        kill -STOP $(ip netns pids "$NS_TAG-h1" | while read -r p; do
            [ "$(cat /proc/$p/comm)" = backprop ] && echo "$p"; done)
    fi
    n=0 # tenths of a second
    while kill -0 $pid 2>/dev/null && [ $n -lt $((10 * (T + 10))) ]; do sleep 0.1; n=$((n + 1)); done
    kill -KILL $pid 2>/dev/null
    wait $pid
    rc=$?
    echo "$how: mpirun exit $rc after $n tenths of a second"
    if [ $rc -eq 1 ] && grep -q "^backprop train: rank 0: the gradient exchange of epoch [0-9]*, step [0-9]* not complete after .* no word from rank 1; ending the job" "$d/err"; then ok
    else bad "$how: exit $rc after $n tenths: $(grep -v '^\[' "$d/err" | head -5)"; fi
    k=0
    while [ -n "$(ours)" ] && [ $k -lt 50 ]; do sleep 0.1; k=$((k + 1)); done
    if [ -z "$(ours)" ]; then ok; else bad "$how: backprop still running: $(ours)"; fi
    grep '^backprop train: rank' "$d/err"
    # the checkpoint is whole: the run goes on from it once the link is back
    kill -KILL $(ip netns pids "$NS_TAG-h0") $(ip netns pids "$NS_TAG-h1") 2>/dev/null
    ip -n "$NS_TAG-h1" link set eth0 up
    if ns_within 120 ns_mpirun "$bp" train --data "$d/blobs.csv" --layers 3,128,128,3 --threads 1 \
        --batch 16 --epochs 12 --resume "$d/ck" --collective-timeout $T --out "$d/m.st" \
        >/dev/null 2>"$d/err" && [ -s "$d/m.st" ]; then ok
    else bad "$how: resuming the checkpoint: $(grep -v '^\[' "$d/err" | head -3)"; fi
}
fail down
fail stop

summary
