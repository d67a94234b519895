#!/bin/sh
# explain --html: the page is self-contained and renders in headless
# Chromium: one SVG circle per neuron, MathML formulas, no console errors,
# a non-blank screenshot. Skipped (77) without Debian's chromium.
# BP_EXPLAIN_SHOT=FILE keeps the screenshot for a person to look at.
bp="$1"
. "$(dirname "$0")/lib.sh"
chrome=$(command -v chromium || command -v chromium-browser)
if [ -z "$chrome" ]; then echo "skipped: no chromium (Debian: apt-get install chromium)"; exit 77; fi

"$bp" init --layers 3,4,2 --act sigmoid --loss mse --seed 5 --out "$d/m.safetensors" >/dev/null
page="$d/page.html"
if "$bp" explain --model "$d/m.safetensors" --input 0.5,-1,2 --target 0.2,0.8 --check \
    --lang ru --html "$page" >/dev/null 2>"$d/err"; then ok; else bad "explain --html: $(cat "$d/err")"; fi
# self-contained: nothing to fetch, no script
if grep -Eqi '<script|<link|<img|<iframe|src=|@import|url\(' "$page"; then
    bad "the page loads something"
else ok; fi

chromium_run() {
    timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$d/profile" --enable-logging=stderr --v=0 --window-size=1200,1600 "$@" \
        "file://$page"
}
chromium_run --dump-dom >"$d/dom" 2>"$d/log1" || bad "chromium --dump-dom failed: $(tail -n 3 "$d/log1")"
chromium_run --screenshot="$d/shot.png" >/dev/null 2>"$d/log2" || bad "chromium --screenshot failed"
[ -n "$BP_EXPLAIN_SHOT" ] && cp "$d/shot.png" "$BP_EXPLAIN_SHOT"

circles=$(grep -o '<circle' "$d/dom" | wc -l)
[ "$circles" -eq 9 ] && ok || bad "$circles circles in the rendered SVG, expected 9 (3+4+2 neurons)"
grep -q '<svg id="net"' "$d/dom" && ok || bad "no SVG diagram in the DOM"
maths=$(grep -o '<math' "$d/dom" | wc -l)
[ "$maths" -gt 50 ] && ok || bad "$maths MathML formulas in the DOM"
grep -q 'lang="ru"' "$d/dom" && grep -q 'lang="en"' "$d/dom" && ok || bad "not both languages"
grep -q 'Прямой проход' "$d/dom" && grep -q 'Forward pass' "$d/dom" && ok || bad "derivation text missing"
if grep -h 'CONSOLE' "$d/log1" "$d/log2" | grep -Eqi 'error|uncaught'; then
    bad "console errors: $(grep -h CONSOLE "$d/log1" "$d/log2" | head -n 3)"
else ok; fi
# a PNG, and not a blank one (a blank 1200x1600 page compresses to a few kB)
if [ "$(head -c 8 "$d/shot.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
    [ "$(wc -c <"$d/shot.png")" -gt 40000 ]; then ok; else bad "screenshot missing or blank"; fi
summary
