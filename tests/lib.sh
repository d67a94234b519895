# lib.sh — what the shell tests share, sourced after they set bp="$1": a
# scratch folder removed on exit, the pass/fail counters, and the summary.
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# The last line of every shell test; its exit status is the test's.
summary() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
