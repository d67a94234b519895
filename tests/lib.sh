# lib.sh — what the shell tests share, sourced after they set bp="$1": a
# scratch folder removed on exit, the pass/fail counters, expect_fail and
# expect_ok, and the summary.
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# expect_fail NAME OUTFILE CMD...: exit 1, one stderr line, OUTFILE absent,
# no temporary file in $d; expect_ok NAME CMD...: exit 0.
expect_fail() {
    name=$1 out=$2
    shift 2
    "$@" >"$d/stdout" 2>"$d/stderr"
    rc=$?
    lines=$(wc -l <"$d/stderr")
    if [ "$rc" -ne 1 ]; then bad "$name: exit $rc, expected 1"; return; fi
    if [ "$lines" -ne 1 ]; then bad "$name: $lines lines on stderr"; cat "$d/stderr"; return; fi
    if [ -n "$out" ] && [ -e "$out" ]; then bad "$name: left $out behind"; return; fi
    if ls "$d" | grep -q '\.tmp'; then bad "$name: left a temporary file"; return; fi
    ok
}
expect_ok() {
    name=$1
    shift
    if "$@" >"$d/stdout" 2>"$d/stderr"; then ok; else bad "$name: exit $?: $(cat "$d/stderr")"; fi
}

# The last line of every shell test; its exit status is the test's.
summary() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
