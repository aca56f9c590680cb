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

ELF=${CLICKOS_ELF:-/opt/clickos/clickos.elf}
NAME=${NAME:-multi-router}
LOG=/var/log/xen/console/guest-$NAME.log
DOMID=
[ -f "$ELF" ] || { echo "no guest image at $ELF (make image)"; echo "CHECK FAIL multi-router (no image)"; exit 1; }

boot() {
    local i v
    printf 'name = "%s"\nkernel = "%s"\nmemory = 8\non_crash = "preserve"\n' "$NAME" "$ELF" > "/tmp/$NAME.cfg"
    xl create "/tmp/$NAME.cfg" || return 1
    DOMID=$(xl domid "$NAME") || return 1
    for i in $(seq 1 1200); do
        v=$(xenstore-read "/local/domain/$DOMID/data/clickos/boot" 2>/dev/null) && [ "$v" = ok ] && {
            echo "domid $DOMID, boot=ok"; return 0; }
        sleep 0.05
    done
    return 1
}

wait_node() {
    local i n=$(( ${2:-30} * 20 ))
    for i in $(seq 1 "$n"); do xenstore-read "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done
    echo "no $1 after ${2:-30} s"; return 1
}
wait_gone() {
    local i n=$(( ${2:-30} * 20 ))
    for i in $(seq 1 "$n"); do xenstore-read "$1" >/dev/null 2>&1 || return 0; sleep 0.05; done
    echo "$1 still there after ${2:-30} s"; return 1
}

# install RID CONFIG: one chunk per 3000 bytes; waits for the guest's answer.
install() {
    local rid=$1 config=$2 b i n=0
    b=/local/domain/$DOMID/data/clickos/$rid
    xenstore-rm "$b" 2>/dev/null
    for ((i = 0; i < ${#config}; i += 3000)); do
        xenstore-write "$b/config/$n" "${config:i:3000}" || return 1
        n=$((n + 1))
    done
    xenstore-write "$b/config_len" "${#config}" "$b/status" Running || return 1
    wait_node "$b/error" 30 || return 1
    echo "router $rid: ${#config} bytes in $n chunks: status=$(xenstore-read "$b/status") error='$(xenstore-read "$b/error")'"
    [ "$(xenstore-read "$b/status")" = Running ] && [ -z "$(xenstore-read "$b/error")" ]
}

# handler RID read|write ELEM HANDLER [VALUE]
handler() {
    local b=/local/domain/$DOMID/data/clickos/$1 access=$2 e=$3 h=$4 v=${5-1} err
    xenstore-write "$b/control/$access/$e/$h" "$v" || return 1
    wait_gone "$b/control/$access/$e/$h" 10 || return 1
    err=$(xenstore-read "$b/handler-errors/$e/$h" 2>/dev/null)
    [ -z "$err" ] || { echo "handler error: $err" >&2; return 1; }
    [ "$access" = read ] && xenstore-read "$b/handlers/$e/$h"
    return 0
}

count() { handler "$1" read c count; }

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

count_is() {
    local rid=$1 want=$2 i v
    for i in $(seq 1 40); do
        v=$(count "$rid") || return 1
        [ "$v" = "$want" ] && { echo "router $rid: c.count = $v"; return 0; }
        sleep 0.25
    done
    echo "router $rid: c.count = $v, want $want"; return 1
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
    handler 2 read @ config >/dev/null || return 1
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
    local rid b n=0 bad=0 i
    for rid in $(seq 3 63); do
        b=/local/domain/$DOMID/data/clickos/$rid
        xenstore-write "$b/config/0" "$R64" "$b/config_len" "${#R64}" "$b/status" Running || return 1
    done
    for rid in $(seq 3 63); do
        b=/local/domain/$DOMID/data/clickos/$rid
        wait_node "$b/error" 60 || return 1
        if [ "$(xenstore-read "$b/status")" = Running ]; then n=$((n + 1)); else
            bad=$((bad + 1)); echo "router $rid: $(xenstore-read "$b/status"): $(xenstore-read "$b/error")"; fi
    done
    echo "routers 3..63: $n Running, $bad not"
    [ "$bad" = 0 ] || return 1
    for rid in 3 33 63; do count_is "$rid" 5 || return 1; done
}

poweroff() {
    local i
    xenstore-write "/local/domain/$DOMID/data/clickos/cmd" poweroff
    for i in $(seq 1 200); do xl list "$NAME" >/dev/null 2>&1 || return 0; sleep 0.05; done
    return 1
}

check "multi-boot" boot
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
    check "multi-poweroff" poweroff
fi
echo "---- console log ($LOG) ----"
tr -d '\r' < "$LOG" 2>/dev/null | grep -v '^click: router [0-9]: read' | tail -25
echo "---- end of console log ----"
xl list "$NAME" >/dev/null 2>&1 && xl destroy "$NAME"
checks_done
