# shellcheck shell=bash
# /etc/sandbox/clickos.sh: helpers for scenarios that drive ClickOS-rs guests through
# Xenstore directly, the way a tool would (docs/xenstore-protocol.md).
#
#   . /etc/sandbox/check.sh; . /etc/sandbox/clickos.sh
#   guest_boot NAME 8 'vif = [ "bridge=xenbr0" ]'   # sets DOMID; extra xl config lines optional
#   click_install 0 'InfiniteSource -> c :: Counter -> Discard'
#   click_handler 0 read c count
#   guest_poweroff NAME
#
# Functions return non-zero with a message on stdout when something does not happen in time.
# wait_node / wait_gone come from check.sh.

ELF=${CLICKOS_ELF:-/opt/clickos/clickos.elf}
DOMID=

# guest_boot NAME MEMORY_MB [XL_CONFIG_LINES]: xl create, then wait (60 s) for data/clickos/boot.
guest_boot() {
    local name=$1 mem=$2 extra=${3:-} v i
    [ -f "$ELF" ] || { echo "no guest image at $ELF (make image)"; return 1; }
    printf 'name = "%s"\nkernel = "%s"\nmemory = %s\non_crash = "preserve"\n%s\n' \
        "$name" "$ELF" "$mem" "$extra" > "/tmp/$name.cfg"
    xl create "/tmp/$name.cfg" || return 1
    DOMID=$(xl domid "$name") || return 1
    for i in $(seq 1 1200); do
        v=$(xenstore-read "/local/domain/$DOMID/data/clickos/boot" 2>/dev/null) && [ "$v" = ok ] && {
            echo "domid $DOMID, boot=ok"; return 0; }
        sleep 0.05
    done
    echo "no data/clickos/boot after 60 s"; return 1
}

# click_path RID: the router's Xenstore directory.
click_path() { echo "/local/domain/$DOMID/data/clickos/$1"; }

# click_install RID CONFIG [CHUNK]: chunks of CHUNK bytes (3000), config_len and status=Running in
# one xenstore-write; waits (30 s) for the guest's answer; succeeds if the router is Running.
click_install() {
    local b rid=$1 text=$2 chunk=${3:-3000} i n=0 args=()
    b=$(click_path "$rid")
    xenstore-rm "$b/config" 2>/dev/null; xenstore-rm "$b/error" 2>/dev/null
    for ((i = 0; i < ${#text}; i += chunk)); do
        args+=("$b/config/$n" "${text:i:chunk}"); n=$((n + 1))
    done
    xenstore-write "${args[@]}" "$b/config_len" "${#text}" "$b/status" Running || return 1
    wait_node "$b/error" 30 || return 1
    echo "router $rid: ${#text} bytes in $n chunks: status=$(xenstore-read "$b/status") error='$(xenstore-read "$b/error")'"
    [ "$(xenstore-read "$b/status")" = Running ] && [ -z "$(xenstore-read "$b/error")" ]
}

# click_handler RID read|write ELEM HANDLER [VALUE]: one request; prints a read's answer.
click_handler() {
    local b access=$2 e=$3 h=$4 v=${5-1} err
    b=$(click_path "$1")
    xenstore-write "$b/control/$access/$e/$h" "$v" || return 1
    wait_gone "$b/control/$access/$e/$h" 10 || return 1
    err=$(xenstore-read "$b/handler-errors/$e/$h" 2>/dev/null)
    [ -z "$err" ] || { echo "handler error: $err" >&2; return 1; }
    [ "$access" = read ] && xenstore-read "$b/handlers/$e/$h"
    return 0
}

# click_count_is RID ELEM WANT: ELEM.count reaches WANT within 10 s.
click_count_is() {
    local rid=$1 e=$2 want=$3 i v
    for i in $(seq 1 40); do
        v=$(click_handler "$rid" read "$e" count) || return 1
        [ "$v" = "$want" ] && { echo "router $rid: $e.count = $v"; return 0; }
        sleep 0.25
    done
    echo "router $rid: $e.count = $v, want $want"; return 1
}

# guest_poweroff NAME: asks the guest (data/clickos/cmd) and waits (10 s) for the domain to go.
guest_poweroff() {
    local i
    xenstore-write "/local/domain/$(xl domid "$1")/data/clickos/cmd" poweroff
    for i in $(seq 1 200); do xl list "$1" >/dev/null 2>&1 || return 0; sleep 0.05; done
    echo "$1 still there 10 s after poweroff"; return 1
}

# guest_console NAME [LINES]: the tail of the guest's console log, without carriage returns.
guest_console() {
    echo "---- console log of $1 ----"
    tr -d '\r' < "/var/log/xen/console/guest-$1.log" 2>/dev/null | tail -"${2:-30}"
    echo "---- end of console log ----"
}
