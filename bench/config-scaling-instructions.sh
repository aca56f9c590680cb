#!/usr/bin/env bash
# Instructions per element for parse + flatten, counted by callgrind: unlike time, the count does
# not depend on caches or on other load, so it shows the algorithm's growth alone. The count of a
# run with N=0 (process start-up) is subtracted; the ratio column compares with N=1000.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
cargo build --release -q -p clickos-bench --bin config-scaling
BIN=target/release/config-scaling
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" "$1" 2>&1 | awk '/Collected/ {print $4}'; }
base0=$(count 0)
declare -A total per
for n in 100 1000 10000 100000; do
    total[$n]=$(count "$n")
    per[$n]=$(( (total[$n] - base0) / n ))
done
echo "| elements | instructions | per element | ratio to 1k |"
echo "|---:|---:|---:|---:|"
for n in 100 1000 10000 100000; do
    echo "| $n | ${total[$n]} | ${per[$n]} | $(awk -v a="${per[$n]}" -v b="${per[1000]}" 'BEGIN{printf "%.2f", a/b}') |"
done
