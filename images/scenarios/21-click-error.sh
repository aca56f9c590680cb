#!/bin/bash
# Scenario 21-click-error: a broken Click configuration gives status=Error and the one-line
# diagnostics with the right line:col in error (docs/xenstore-protocol.md); a fixed one then runs.
#   - router 0: a syntax error on line 3 (a connection arrow with nothing before it);
#   - router 1: an unknown element class on line 2, column 19;
#   - router 1 again, Halted then Running with a fixed config: status Running, error "".
set -u
# shellcheck source=../dom0/check.sh # installed in dom0 as /etc/sandbox/check.sh
. /etc/sandbox/check.sh
# shellcheck source=../dom0/clickos.sh # installed in dom0 as /etc/sandbox/clickos.sh
. /etc/sandbox/clickos.sh

NAME=${NAME:-click-error}
LOG=/var/log/xen/console/guest-$NAME.log

# install RID TEXT: chunks (32 bytes), config_len, then status=Running in one xenstore-write;
# waits (30 s at most) for the guest's answer (the error node) and prints status and error.
install() {
    local b=/local/domain/$DOMID/data/clickos/$1 text=$2 i n=0 args=()
    xenstore-rm "$b/config" 2>/dev/null; xenstore-rm "$b/error" 2>/dev/null
    for ((i = 0; i < ${#text}; i += 32)); do
        args+=("$b/config/$n" "${text:i:32}"); n=$((n + 1))
    done
    xenstore-write "${args[@]}" "$b/config_len" "${#text}" "$b/status" Running || return 1
    for i in $(seq 1 600); do
        xenstore-read "$b/error" >/dev/null 2>&1 && break
        sleep 0.05
    done
    STATUS=$(xenstore-read "$b/status" 2>/dev/null)
    ERROR=$(xenstore-read "$b/error" 2>/dev/null)
    echo "router $1: status=$STATUS error='$ERROR'"
}

syntax_error() {
    install 0 $'// a broken configuration\nsrc :: InfiniteSource(LIMIT 10);\n  -> Discard;\n' || return 1
    [ "$STATUS" = Error ] && [[ $ERROR == config:3:3:\ error:* ]]
}

unknown_class() {
    install 1 $'src :: InfiniteSource(LIMIT 10);\nsrc -> Counter -> Bogus -> Discard;\n' || return 1
    [ "$STATUS" = Error ] && [[ $ERROR == config:2:19:\ error:*Bogus* ]]
}

fixed_config_runs() {
    xenstore-write "/local/domain/$DOMID/data/clickos/1/status" Halted
    install 1 $'src :: InfiniteSource(LIMIT 10, STOP true);\nsrc -> Counter -> Discard;\n' || return 1
    [ "$STATUS" = Running ] && [ -z "$ERROR" ]
}

check "click-boot" guest_boot "$NAME" 16
if [ -n "$DOMID" ]; then
    check "click-error-syntax-line-col" syntax_error
    check "click-error-unknown-class-line-col" unknown_class
    check "click-error-then-fixed-config-runs" fixed_config_runs
    check "click-error-guest-alive" xl list "$NAME"
    xenstore-ls "/local/domain/$DOMID/data/clickos" 2>/dev/null | head -30
fi
echo "---- console log ($LOG) ----"
tr -d '\r' < "$LOG" 2>/dev/null | tail -20
echo "---- end of console log ----"
xl list "$NAME" >/dev/null 2>&1 && xl destroy "$NAME"
checks_done
