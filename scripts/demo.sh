#!/usr/bin/env bash
# The demo `make demo` runs: what clickos-cli does with a real middlebox configuration today.
set -euo pipefail
CLI=${1:-target/release/clickos-cli}
EX=toolstack-cli/examples
OUT=target/demo
mkdir -p "$OUT"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step clickos-cli check $EX/fw.click
"$CLI" check $EX/fw.click

step clickos-cli flatten $EX/fw.click
"$CLI" flatten $EX/fw.click | tee "$OUT/fw-flat.click"

step "clickos-cli flatten $EX/fw.click | clickos-cli check -"
"$CLI" flatten $EX/fw.click | "$CLI" check -

step "clickos-cli graph $EX/fw.click | dot -Tsvg > $OUT/fw.svg"
"$CLI" graph $EX/fw.click | dot -Tsvg > "$OUT/fw.svg"
echo "wrote $OUT/fw.svg ($(wc -c < "$OUT/fw.svg") bytes)"

step clickos-cli check $EX/broken.click
if "$CLI" check $EX/broken.click; then
    echo "demo: broken.click was accepted — that is a bug" >&2
    exit 1
fi
echo "(exit status $? — errors reported above, as expected)"
