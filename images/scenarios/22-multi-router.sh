#!/bin/bash
# Scenario 22-multi-router: several routers in one guest, each in its own thread.
#   - router 0 runs RatedSource(RATE 200) -> Counter forever; router 1 counts 500 packets and
#     stops; router 2 carries a config of more than 5000 bytes;
#   - router 1 is halted and started again with another config while router 0 keeps counting;
#   - then routers 3..63 start at once (64 in all) and router 0 still counts;
#   - router 2's `@/config` answer (larger than one guest Xenstore node) comes back in chunks
#     (`handlers/@/config` = "", `len`, `0..N-1`) and equals the installed text byte for byte.
set -u
# shellcheck source=../dom0/check.sh # installed in dom0 as /etc/sandbox/check.sh
. /etc/sandbox/check.sh

# shellcheck source=../dom0/clickos.sh # installed in dom0 as /etc/sandbox/clickos.sh
. /etc/sandbox/clickos.sh

NAME=${NAME:-multi-router}
LOG=/var/log/xen/console/guest-$NAME.log

install() { click_install "$@"; }
count() { click_handler "$1" read c count; }
count_is() { click_count_is "$1" c "$2"; }

R0='RatedSource(RATE 200) -> c :: Counter -> Discard'
R1='InfiniteSource(LIMIT 500, STOP true) -> c :: Counter -> Discard'
R1B='InfiniteSource(LIMIT 300, STOP true) -> c :: Counter -> Discard'
R64='InfiniteSource(LIMIT 5, STOP true) -> c :: Counter -> Discard'
# More than 5000 bytes: a long comment block, then a small graph.
pad=$(for i in $(seq 1 90); do printf '// padding line %03d: %s\n' "$i" "the quick brown fox jumps over the lazy dog"; done)
R2="$pad
src :: InfiniteSource(LIMIT 10, STOP true) -> c :: Counter -> Discard"

# r0_grows: router 0's count grows over one second.
r0_grows() {
    local a b
    a=$(count 0) || return 1
    sleep 1
    b=$(count 0) || return 1
    echo "router 0: c.count $a -> $b over 1 s"
    [ "$b" -gt "$a" ]
}

halt1() {
    local b=/local/domain/$DOMID/data/clickos/1 i
    xenstore-write "$b/status" Halted
    for i in $(seq 1 100); do
        tr -d '\r' < "$LOG" | grep -q 'router 1 halted' && return 0
        sleep 0.05
    done
    return 1
}

r1_gone() {
    local b=/local/domain/$DOMID/data/clickos/1 err
    xenstore-write "$b/control/read/c/count" 1
    wait_gone "$b/control/read/c/count" 10 || return 1
    err=$(xenstore-read "$b/handler-errors/c/count")
    echo "router 1 after halt: '$err'"
    [ "$err" = "router 1 is not running" ]
}

big_answer() {
    local b=/local/domain/$DOMID/data/clickos/2 len n i
    click_handler 2 read @ config >/dev/null || return 1
    len=$(xenstore-read "$b/handlers/@/config/len") || { echo "no len node"; return 1; }
    [ -z "$(xenstore-read "$b/handlers/@/config")" ] || { echo "answer node not empty"; return 1; }
    n=$(( (len + 1899) / 1900 ))
    : > /tmp/answer
    for ((i = 0; i < n; i++)); do
        # -R: the raw value, no escapes and no newline added.
        xenstore-read -R "$b/handlers/@/config/$i" >> /tmp/answer || return 1
    done
    printf '%s' "$R2" > /tmp/installed
    echo "router 2: @/config is $len bytes in $n chunks (installed ${#R2}; reassembled $(wc -c < /tmp/answer))"
    [ "$len" = "${#R2}" ] && cmp /tmp/answer /tmp/installed
}

# all_64: routers 3..63 installed at once (64 in all, the protocol's limit), each counting 5.
all_64() {
    local rid b i answered=0 running
    for rid in $(seq 3 63); do
        b=$(click_path "$rid")
        xenstore-write "$b/config/0" "$R64" "$b/config_len" "${#R64}" "$b/status" Running || return 1
    done
    # One listing per look (not 61 reads): every router has answered when it has an `error` node.
    for i in $(seq 1 120); do
        xenstore-ls -f "/local/domain/$DOMID/data/clickos" > /tmp/clickos.ls 2>/dev/null
        answered=$(grep -cE '/clickos/([3-9]|[1-5][0-9]|6[0-3])/error = ' /tmp/clickos.ls)
        [ "$answered" = 61 ] && break
        sleep 0.5
    done
    running=$(grep -cE '/clickos/([3-9]|[1-5][0-9]|6[0-3])/status = "Running"' /tmp/clickos.ls)
    echo "routers 3..63: $answered answered, $running Running"
    [ "$running" = 61 ] || { grep -E '/(status|error) = ' /tmp/clickos.ls | grep -v 'Running\|= ""' | head; return 1; }
    for rid in 3 33 63; do count_is "$rid" 5 || return 1; done
}

check "multi-boot" guest_boot "$NAME" 8
if [ -n "$DOMID" ]; then
    check "multi-install-0" install 0 "$R0"
    check "multi-install-1" install 1 "$R1"
    check "multi-install-2" install 2 "$R2"
    check "multi-r1-counts-500" count_is 1 500
    check "multi-r0-counting" r0_grows
    check "multi-halt-r1" halt1
    check "multi-r1-not-running" r1_gone
    check "multi-r0-counting-after-halt" r0_grows
    check "multi-restart-r1" install 1 "$R1B"
    check "multi-r1-counts-300" count_is 1 300
    check "multi-r0-still-counting" r0_grows
    check "multi-big-answer-chunked" big_answer
    check "multi-r2-counts-10" count_is 2 10
    check "multi-64-routers" all_64
    check "multi-r0-counting-with-64" r0_grows
    check "multi-poweroff" guest_poweroff "$NAME"
fi
guest_console "$NAME" 25
xl list "$NAME" >/dev/null 2>&1 && xl destroy "$NAME"
checks_done
