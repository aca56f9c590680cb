#!/bin/bash
# Scenario 10-guest-boot: the ClickOS-rs guest boots on Xen and talks to dom0 through Xenstore.
#
# Runs inside dom0 (see images/README.md); needs the unikernel image (`make image`), which the
# test host copies to /opt/clickos/clickos.elf. Checks:
#   - `xl create` of an 8 MiB PV guest (no vif) succeeds,
#   - the guest writes /local/domain/<id>/data/clickos/boot = ok within 60 s
#     (prints the time from `xl create` to boot=ok),
#   - the guest answers a command through its watch on data/clickos/cmd (ping -> pong),
#   - the guest reads a 4000-byte value dom0 wrote (a reply larger than the 1024-byte ring),
#   - writing `poweroff` to data/clickos/cmd makes the domain go away (a clean shutdown),
#   - the console log shows the guest's boot and shutdown messages.
# MEMORY (MiB, default 8) and NAME may be set in the environment.
set -u
# shellcheck source=../dom0/check.sh # installed in dom0 as /etc/sandbox/check.sh
. /etc/sandbox/check.sh

ELF=${CLICKOS_ELF:-/opt/clickos/clickos.elf}
NAME=${NAME:-clickos-smoke}
MEMORY=${MEMORY:-8}
CFG=/tmp/$NAME.cfg
LOG=/var/log/xen/console/guest-$NAME.log
DOMID=

now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }
ms_since() { echo $(( ($(now_us) - $1) / 1000 )); }

if [ ! -f "$ELF" ]; then
    echo "no guest image at $ELF: build it with 'make image' before running the test host"
    echo "CHECK FAIL guest-boot (no image)"
    exit 1
fi
echo "image: $ELF, $(stat -c %s "$ELF") bytes"
readnotes "$ELF" 2>&1 | grep -E 'GUEST_OS|XEN_VERSION|LOADER|ENTRY|HYPERCALL_PAGE|VIRT_BASE' || true

cat > "$CFG" <<CFG
name = "$NAME"
kernel = "$ELF"
memory = $MEMORY
vcpus = 1
on_crash = "destroy"
CFG
cat "$CFG"

# Timestamps every Xenstore change under /local/domain/*/data/clickos/boot as it happens, so
# the create-to-boot time does not depend on when `xl create` returns (under emulation the
# toolstack's own work after unpausing the guest takes seconds).
BOOT_EVENTS=/tmp/$NAME.boot-events
start_boot_watch() {
    : > "$BOOT_EVENTS"
    command -v xenstore-watch >/dev/null || return 0
    # (No process substitution: dom0 has no /dev/fd.)
    { xenstore-watch /local/domain 2>/dev/null & echo $! > "$BOOT_EVENTS.pid"; wait; } |
        while read -r p _; do
            case $p in */data/clickos/boot) echo "$(now_us) $p" >> "$BOOT_EVENTS" ;; esac
        done &
    sleep 0.5   # let the watch register (it fires once at once)
    XW_PID=$(cat "$BOOT_EVENTS.pid" 2>/dev/null)
}

create_domain() {
    local t0
    start_boot_watch
    t0=$(now_us)
    xl create "$CFG" || return 1
    CREATE_MS=$(ms_since "$t0")
    T_CREATE=$t0
    DOMID=$(xl domid "$NAME") || return 1
    echo "xl create returned after ${CREATE_MS} ms; domid $DOMID"
}

wait_boot_ok() {
    local path=/local/domain/$DOMID/data/clickos/boot v deadline=$(( $(now_us) + 60000000 ))
    while [ "$(now_us)" -lt "$deadline" ]; do
        v=$(xenstore-read "$path" 2>/dev/null) && [ "$v" = ok ] && {
            local polled ev=
            polled=$(ms_since "$T_CREATE")
            ev=$(awk -v p="$path" '$2 == p { print $1; exit }' "$BOOT_EVENTS" 2>/dev/null)
            if [ -n "$ev" ]; then
                echo "TIME xl-create-to-boot-ok $(( (ev - T_CREATE) / 1000 )) ms (watch event; polling saw it after ${polled} ms)"
            else
                echo "TIME xl-create-to-boot-ok ${polled} ms (polling; no watch event recorded)"
            fi
            echo "TIME xl-create-command ${CREATE_MS} ms"
            # The guest writes boot-us (its own _start -> boot=ok time) right after boot=ok.
            local i us=
            for i in $(seq 1 60); do
                us=$(xenstore-read "/local/domain/$DOMID/data/clickos/boot-us" 2>/dev/null) && break
                sleep 0.05
            done
            echo "TIME guest-start-to-boot-ok ${us:-?} us (guest's own clock)"
            return 0
        }
        xl list "$NAME" >/dev/null 2>&1 || { echo "domain $NAME is gone"; return 1; }
        sleep 0.05
    done
    echo "no boot=ok after 60 s"
    return 1
}

ping_pong() {
    local base=/local/domain/$DOMID/data/clickos i
    xenstore-write "$base/cmd" ping || return 1
    for i in $(seq 1 200); do
        if xenstore-read "$base/pong" >/dev/null 2>&1; then
            echo "pong = $(xenstore-read "$base/pong") (guest uptime, us)"
            return 0
        fi
        sleep 0.05
    done
    return 1
}

fnv1a() {   # 32-bit FNV-1a of $1 (ASCII)
    local s=$1 h=2166136261 i c
    for ((i = 0; i < ${#s}; i++)); do
        printf -v c '%d' "'${s:i:1}"
        h=$(( ((h ^ c) * 16777619) & 0xffffffff ))
    done
    echo "$h"
}

# dom0 writes a 4000-byte value; the guest reads it (the reply crosses the 1024-byte ring in
# pieces) and answers with its length and hash.
large_value() {
    local base=/local/domain/$DOMID/data/clickos v want got i
    v=$(for i in $(seq 0 399); do printf '%04d-%s' "$i" abcde; done)
    want="${#v} $(fnv1a "$v")"
    xenstore-write "$base/big" "$v" || return 1
    xenstore-write "$base/cmd" big || return 1
    for i in $(seq 1 200); do
        got=$(xenstore-read "$base/big-hash" 2>/dev/null) && break
        sleep 0.05
    done
    echo "expected '$want', guest answered '${got:-nothing}'"
    [ "${got:-}" = "$want" ]
}

poweroff_domain() {
    local base=/local/domain/$DOMID/data/clickos i t0
    t0=$(now_us)
    xenstore-write "$base/cmd" poweroff || return 1
    for i in $(seq 1 600); do
        if ! xl list "$NAME" >/dev/null 2>&1; then
            echo "domain gone $(ms_since "$t0") ms after writing poweroff"
            xl list
            return 0
        fi
        sleep 0.05
    done
    xl list
    return 1
}

console_shows_run() {
    [ -f "$LOG" ] || { echo "no console log $LOG"; return 1; }
    grep -q 'ClickOS-rs: booting' "$LOG" && grep -q 'cmd: poweroff' "$LOG"
}

check "guest-create" create_domain
if [ -n "$DOMID" ]; then
    check "guest-boot" wait_boot_ok
    xenstore-ls -p "/local/domain/$DOMID/data" 2>/dev/null | head -20
    check "guest-cmd-ping" ping_pong
    check "guest-xenstore-4000-byte-read" large_value
    check "guest-poweroff" poweroff_domain
else
    echo "CHECK FAIL guest-boot (xl create failed)"
    CHECKS_TOTAL=$((CHECKS_TOTAL + 1)); CHECKS_FAILED=$((CHECKS_FAILED + 1))
fi
sleep 0.5
check "guest-console-log" console_shows_run
echo "---- console log tail ($LOG) ----"
tr -d '\r' < "$LOG" 2>/dev/null | tail -40
echo "---- end of console log ----"
xl list "$NAME" >/dev/null 2>&1 && xl destroy "$NAME"
[ -n "${XW_PID:-}" ] && kill "$XW_PID" 2>/dev/null
checks_done
