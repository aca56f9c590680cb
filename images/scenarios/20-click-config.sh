#!/bin/bash
# Scenario 20-click-config: a Click configuration installed through Xenstore runs in the guest,
# and its handlers answer through Xenstore (docs/xenstore-protocol.md).
#   - boot a 16 MiB guest, wait for boot=ok;
#   - the tool writes status=Running and config_len FIRST, then the config in 16-byte chunks,
#     one xenstore-write each (the guest must wait for all of them, never parse a prefix);
#   - the guest acknowledges with error="" and status=Running (bounded wait);
#   - reading c.count through control/read gives 1000 (InfiniteSource LIMIT 1000, STOP true);
#   - writing c.reset through control/write (empty value) and reading again gives 0;
#   - its own answers do not re-trigger it (the console shows each request handled once);
#   - status=Halted stops the router; poweroff ends the domain.
set -u
# shellcheck source=../dom0/check.sh # installed in dom0 as /etc/sandbox/check.sh
. /etc/sandbox/check.sh
# shellcheck source=../dom0/clickos.sh # installed in dom0 as /etc/sandbox/clickos.sh
. /etc/sandbox/clickos.sh

NAME=${NAME:-click-config}
LOG=/var/log/xen/console/guest-$NAME.log
CONFIG='InfiniteSource(LIMIT 1000, STOP true) -> c :: Counter -> Discard'

install_chunked() {
    local b=/local/domain/$DOMID/data/clickos/0 i n=0
    xenstore-rm "$b" 2>/dev/null
    # Start request and length before the text: the guest must wait for every chunk.
    xenstore-write "$b/config_len" "${#CONFIG}" "$b/status" Running || return 1
    for ((i = 0; i < ${#CONFIG}; i += 16)); do
        sleep 0.2
        xenstore-write "$b/config/$n" "${CONFIG:i:16}" || return 1
        n=$((n + 1))
    done
    echo "wrote ${#CONFIG} bytes in $n chunks"
    wait_node "$b/error" 30 || return 1
    echo "status=$(xenstore-read "$b/status") error='$(xenstore-read "$b/error")'"
    [ "$(xenstore-read "$b/status")" = Running ] && [ -z "$(xenstore-read "$b/error")" ]
}

# handler ACCESS ELEM HANDLER [VALUE]: one request; prints the answer (reads).
handler() {
    local b=/local/domain/$DOMID/data/clickos/0 access=$1 e=$2 h=$3 v=${4-1} err
    xenstore-rm "$b/handlers/$e/$h" 2>/dev/null
    xenstore-write "$b/control/$access/$e/$h" "$v" || return 1
    wait_gone "$b/control/$access/$e/$h" 10 || return 1
    err=$(xenstore-read "$b/handler-errors/$e/$h" 2>/dev/null)
    [ -z "$err" ] || { echo "handler error: $err" >&2; return 1; }
    [ "$access" = read ] && xenstore-read "$b/handlers/$e/$h"
    return 0
}

read_count_1000() {
    local i v
    # The router may still be counting just after the start: ask again for a few seconds.
    for i in $(seq 1 20); do
        v=$(handler read c count) || return 1
        echo "c.count = $v"
        [ "$v" = 1000 ] && return 0
        sleep 0.25
    done
    return 1
}

reset_then_zero() {
    local v
    handler write c reset_counts "" || return 1
    v=$(handler read c count) || return 1
    echo "after c.reset_counts: c.count = $v"
    [ "$v" = 0 ]
}

unknown_handler_reports_error() {
    local b=/local/domain/$DOMID/data/clickos/0 err
    xenstore-write "$b/control/read/c/nosuch" 1
    wait_gone "$b/control/read/c/nosuch" 10 || return 1
    err=$(xenstore-read "$b/handler-errors/c/nosuch")
    echo "c.nosuch -> '$err'"
    [ -n "$err" ]
}

no_self_trigger() {
    local n
    sleep 0.5
    n=$(tr -d '\r' < "$LOG" | grep -c 'read c.count')
    echo "console: $n 'read c.count' lines"
    tr -d '\r' < "$LOG" | grep 'click:' | head -30
    # Each read request once: no extra reads or writes caused by the guest's own answers.
    [ "$(tr -d '\r' < "$LOG" | grep -c 'wrote c.reset_counts')" = 1 ] && [ "$n" -ge 2 ] &&
        ! tr -d '\r' < "$LOG" | grep -q 'click: xenstore error'
}

halt_router() {
    local b=/local/domain/$DOMID/data/clickos/0 i
    xenstore-write "$b/status" Halted
    for i in $(seq 1 100); do
        tr -d '\r' < "$LOG" | grep -q 'router 0 halted' && return 0
        sleep 0.05
    done
    return 1
}

check "click-boot" guest_boot "$NAME" 16
if [ -n "$DOMID" ]; then
    check "click-config-chunked-running" install_chunked
    check "click-partial-config-waited" grep -q 'of 64 bytes, waiting' "$LOG"
    check "click-read-c.count-1000" read_count_1000
    check "click-write-c.reset_counts" reset_then_zero
    check "click-unknown-handler-error" unknown_handler_reports_error
    check "click-no-self-trigger" no_self_trigger
    check "click-halted" halt_router
    xenstore-ls "/local/domain/$DOMID/data/clickos" 2>/dev/null | head -30
    check "click-poweroff" guest_poweroff "$NAME"
fi
echo "---- console log ($LOG) ----"
tr -d '\r' < "$LOG" 2>/dev/null | tail -30
echo "---- end of console log ----"
xl list "$NAME" >/dev/null 2>&1 && xl destroy "$NAME"
checks_done
