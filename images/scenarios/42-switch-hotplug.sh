#!/bin/bash
# Scenario 42-switch-hotplug: a ClickOS guest's vif attaches to clickos-switchd through the
# project's hotplug script, and everything is freed again.
#   - clickos-switchd with a guest control socket; `xl create` with
#     vif = [ '...,bridge=sw0,script=vif-clickos' ]: the script attaches the vif, the switch
#     grants the fast-path rings (gntalloc) and an event channel and publishes them under the
#     vif's backend directory; xl sees hotplug-status=connected;
#   - 50 detach/attach cycles of that vif: descriptors and grants come back to the same count;
#   - a second, unannounced vif (devid 9) is reaped by the @releaseDomain watch when the domain
#     is destroyed, the real one detached by the script's "offline": nothing left held.
set -u
# shellcheck source=../dom0/check.sh # installed in dom0 as /etc/sandbox/check.sh
. /etc/sandbox/check.sh

ELF=${CLICKOS_ELF:-/opt/clickos/clickos.elf}
NAME=hotplug
SW=sw0
SOCK=/run/clickos-switchd/$SW.sock
MAC=00:16:3e:c1:00:01
DOMID=
BE=

ctl() { clickos-switchctl --socket "$SOCK" "$@"; }

start_switch() {
    local i
    mkdir -p /run/clickos-switchd
    clickos-switchd --control "$SOCK" --port pcap:-,/tmp/hotplug-cap.pcap -q >/tmp/switchd.log 2>&1 &
    SWPID=$!
    for i in $(seq 1 100); do [ -S "$SOCK" ] && ctl resources && return 0; sleep 0.1; done
    cat /tmp/switchd.log
    return 1
}

boot() {
    printf 'name = "%s"\nkernel = "%s"\nmemory = 8\nvif = [ "mac=%s,bridge=%s,script=vif-clickos" ]\n' \
        "$NAME" "$ELF" "$MAC" "$SW" >"/tmp/$NAME.cfg"
    xl create "/tmp/$NAME.cfg" || return 1
    DOMID=$(xl domid "$NAME") || return 1
    BE=/local/domain/0/backend/vif/$DOMID/0
    echo "domid $DOMID"
}

published() {
    local f r e g s
    f=$(xenstore-read "$BE/feature-clickos-fast") || return 1
    r=$(xenstore-read "$BE/clickos-fast/ref") || return 1
    e=$(xenstore-read "$BE/clickos-fast/event-channel") || return 1
    g=$(xenstore-read "$BE/clickos-fast/ring-geometry") || return 1
    s=$(xenstore-read "$BE/hotplug-status") || return 1
    echo "feature=$f ref=$r event-channel=$e ring-geometry='$g' hotplug-status=$s"
    [ "$f" = 1 ] && [ "$g" = "64 2048" ] && [ "$s" = connected ] && [ "$r" -gt 0 ] && [ "$e" -gt 0 ]
}

resources() { ctl resources | sed 's/ attaches=.*//'; }

one_attached() {
    local r
    r=$(resources)
    echo "$r"
    # One vif: one gntalloc and one evtchn descriptor; 1 ref page + 2 x 33 ring pages.
    [ "$r" = "ok attached=1 gntalloc_fds=1 evtchn_fds=1 grants=67" ]
}

cycles() {
    local i before after
    before=$(resources)
    for i in $(seq 1 50); do
        ctl detach "$DOMID" 0 >/dev/null || return 1
        xenstore-read "$BE/feature-clickos-fast" >/dev/null 2>&1 && { echo "feature left after detach $i"; return 1; }
        ctl attach "$DOMID" 0 "$MAC" >/dev/null || return 1
    done
    after=$(resources)
    echo "before: $before"
    echo "after 50 cycles: $after ($(ctl resources | sed 's/.* attaches=/attaches=/'))"
    [ "$before" = "$after" ] && published >/dev/null
}

extra_vif() {
    ctl attach "$DOMID" 9 00:16:3e:c1:00:09 && resources | grep -q 'attached=2 gntalloc_fds=2 evtchn_fds=2 grants=134'
}

destroy_frees_all() {
    local i r
    xl destroy "$NAME" || return 1
    for i in $(seq 1 100); do
        r=$(ctl resources)
        case "$r" in "ok attached=0 gntalloc_fds=0 evtchn_fds=0 grants=0 "*) break ;; esac
        sleep 0.1
    done
    echo "$r"
    xenstore-read "$BE/feature-clickos-fast" >/dev/null 2>&1 && { echo "feature node left"; return 1; }
    case "$r" in "ok attached=0 gntalloc_fds=0 evtchn_fds=0 grants=0 "*reaped=1) return 0 ;; esac
    return 1
}

stop_switch() {
    kill -TERM "$SWPID" && wait "$SWPID"
}

[ -f "$ELF" ] || { echo "CHECK FAIL hotplug (no guest image at $ELF)"; exit 1; }
check "switch-starts" start_switch
check "create-with-vif-clickos" boot
if [ -n "$DOMID" ]; then
    check "fast-path-nodes-published" published
    check "one-vif-resources" one_attached
    check "50-detach-attach-cycles-no-leak" cycles
    check "second-vif" extra_vif
    check "destroy-detaches-and-reaps" destroy_frees_all
fi
check "switch-stops-cleanly" stop_switch
grep vif-clickos /var/log/xen/xen-hotplug.log 2>/dev/null | tail -5
xl list "$NAME" >/dev/null 2>&1 && xl destroy "$NAME"
checks_done
