#!/bin/bash
# Scenario 11-guest-shutdown: the ClickOS-rs guest's other ways out, at the smallest memory
# size it boots with (4 MiB: Xen's PV domain builder itself needs 4 MiB, see unikernel/README.md).
#   - `xl shutdown -w` (the toolstack writes control/shutdown = poweroff): the domain goes away;
#   - `crash` written to data/clickos/cmd: the guest panics, its panic message is in the console
#     log, and Xen sees a crash (on_crash = "preserve" keeps it in xl list in state 'c').
set -u
# shellcheck source=../dom0/check.sh # installed in dom0 as /etc/sandbox/check.sh
. /etc/sandbox/check.sh

ELF=${CLICKOS_ELF:-/opt/clickos/clickos.elf}
[ -f "$ELF" ] || { echo "no guest image at $ELF (make image)"; echo "CHECK FAIL guest-shutdown (no image)"; exit 1; }

# boot NAME: creates a 4 MiB guest and waits (60 s at most) for its boot=ok.
boot() {
    local name=$1 id i v
    printf 'name = "%s"\nkernel = "%s"\nmemory = 4\non_crash = "preserve"\n' "$name" "$ELF" > "/tmp/$name.cfg"
    xl create "/tmp/$name.cfg" || return 1
    id=$(xl domid "$name") || return 1
    for i in $(seq 1 1200); do
        v=$(xenstore-read "/local/domain/$id/data/clickos/boot" 2>/dev/null) && [ "$v" = ok ] && {
            echo "$name: domid $id, boot=ok"
            return 0
        }
        xl list "$name" >/dev/null 2>&1 || { echo "$name is gone"; return 1; }
        sleep 0.05
    done
    return 1
}

state_of() { xl list "$1" 2>/dev/null | awk 'NR == 2 { print $5 }'; }

xl_shutdown() {
    boot clickos-sd || return 1
    timeout 60 xl shutdown -w clickos-sd || return 1
    ! xl list clickos-sd >/dev/null 2>&1
}

crash() {
    local id i st
    boot clickos-crash || return 1
    id=$(xl domid clickos-crash)
    xenstore-write "/local/domain/$id/data/clickos/cmd" crash || return 1
    for i in $(seq 1 600); do
        st=$(state_of clickos-crash)
        case $st in *c*) echo "state $st (crashed)"; break ;; esac
        sleep 0.05
    done
    xl list
    case $st in *c*) ;; *) echo "state '$st', not crashed"; return 1 ;; esac
    sleep 0.5
    tr -d '\r' < /var/log/xen/console/guest-clickos-crash.log | tail -4
    grep -q 'ClickOS-rs PANIC' /var/log/xen/console/guest-clickos-crash.log &&
        grep -q 'crash requested through' /var/log/xen/console/guest-clickos-crash.log
}

check "guest-xl-shutdown (4 MiB)" xl_shutdown
check "guest-crash-reported (4 MiB)" crash
xl destroy clickos-crash 2>/dev/null
xl destroy clickos-sd 2>/dev/null
checks_done
