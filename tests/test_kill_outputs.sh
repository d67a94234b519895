#!/bin/sh
# The commands other than train keep the default action of SIGINT and
# SIGTERM (they end at once), but none leaves a partial output file: every
# file is written to a temporary in the same folder and renamed whole. Each
# command that writes a file is signalled at moments spread over its run
# (seeded, printed); afterwards its output is either absent or complete and
# no temporary is left in the folder.
#   usage: test_kill_outputs.sh path/to/backprop
. "$(dirname "$0")/lib.sh"
bp=$1
[ -d /usr/share/datasets/fashion-mnist ] || { echo "skipped: no fashion-mnist"; exit 77; }

"$bp" init --layers 784,256,128,10 --act relu --loss softmax_ce --out "$d/m.safetensors" >/dev/null ||
    { bad "init"; summary; }
# 20000 rows of inputs and labels: long enough to be caught in the middle
awk 'BEGIN { srand(3); for (i = 0; i < 20000; i++) { for (j = 0; j < 784; j++)
         printf "%s%.3f", j ? "," : "", rand(); printf "\n" } }' >"$d/x.csv"
awk 'BEGIN { srand(4); for (i = 0; i < 20000; i++) print int(rand() * 10) }' >"$d/t.csv"

seed=${BP_KILL_SEED:-$(date +%s)}
echo "moments from seed $seed"
# complete OUT: a file the command's own reader would take, by its kind
complete() {
    case "$1" in
    *.csv) [ "$(wc -l <"$1")" -eq 20000 ] ;;
    *.svg | *.html) tail -c 200 "$1" | grep -q '</\(svg\|html\)>' ;;
    *.safetensors) "$bp" predict --model "$d/m.safetensors" --input "$d/x1.csv" >/dev/null 2>&1 &&
        [ -s "$1" ] && head -c 8 "$1" | od -An -tu8 | awk '{ exit !($1 > 0) }' ;;
    esac
}
head -1 "$d/x.csv" >"$d/x1.csv"
k=0
for cmd in predict eval grad explain; do
    case $cmd in
    predict) out="$d/p.csv"; run="predict --model $d/m.safetensors --input $d/x.csv --out $out" ;;
    eval) out="$d/c.svg"; run="eval --model $d/m.safetensors --data fashion-mnist --plot $out" ;;
    grad) out="$d/g.safetensors"
        run="grad --model $d/m.safetensors --input $d/x.csv --target $d/t.csv --out $out" ;;
    explain) out="$d/e.html"
        run="explain --model $d/m.safetensors --input $d/x1.csv --target 3 --neuron 1 --html $out" ;;
    esac
    for sig in INT TERM INT TERM; do
        k=$((k + 1))
        ms=$(awk -v s="$seed" -v k="$k" 'BEGIN { srand(s + k); print int(rand() * 1500) }')
        rm -f "$out"
        "$bp" $run >/dev/null 2>&1 &
        pid=$!
        sleep "$(awk -v m="$ms" 'BEGIN { print m / 1000 }')"
        kill -$sig $pid 2>/dev/null
        wait $pid
        left=$(ls -A "$d" | grep -v -e '^m.safetensors$' -e '^x.csv$' -e '^x1.csv$' -e '^t.csv$' \
            -e "^$(basename "$out")\$" || true)
        if [ -n "$left" ]; then
            bad "$cmd, SIG$sig after $ms ms: left behind: $left"
        elif [ -e "$out" ] && ! complete "$out"; then
            bad "$cmd, SIG$sig after $ms ms: $(basename "$out") is partial"
        else
            ok
        fi
    done
    rm -f "$out"
done
summary
