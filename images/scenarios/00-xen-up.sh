#!/bin/bash
# Scenario 00-xen-up: the test host's Xen toolstack is alive in dom0.
#
# Runs inside dom0 (see images/README.md). It is the smoke test every other
# scenario relies on: if this fails, the test host itself is broken, not the
# project. Checks:
#   - `xl info` talks to the hypervisor and reports Xen 4.17,
#   - `xl list` shows Domain-0 (so xenstored + xen-init-dom0 did their job),
#   - a xenstore write/read/remove round trip works,
#   - the xenbr0 bridge exists and is up (for guests' vifs),
#   - xenstored and xenconsoled are running.
set -u
# shellcheck source=../dom0/check.sh # installed in dom0 as /etc/sandbox/check.sh
. /etc/sandbox/check.sh

xen_version_is_4_17() {
    local v
    v=$(xl info | awk -F': *' '$1 ~ /^xen_version/ { print $2 }')
    echo "xen_version: ${v:-<none>}"
    case "$v" in 4.17*) return 0 ;; *) return 1 ;; esac
}

dom0_listed() {
    xl list
    xl list | awk 'NR > 1 && $1 == "Domain-0" && $2 == 0 { found = 1 } END { exit !found }'
}

xenstore_round_trip() {
    local key=/sandbox-test/probe value="hello-$$-$RANDOM" got
    xenstore-write "$key" "$value" || return 1
    got=$(xenstore-read "$key") || return 1
    echo "wrote '$value', read '$got'"
    [ "$got" = "$value" ] || return 1
    xenstore-rm /sandbox-test || return 1
    # After the removal the key must be gone.
    ! xenstore-exists "$key"
}

bridge_up() {
    ip -br link show xenbr0 || return 1
    [ -d /sys/class/net/xenbr0/bridge ] || { echo "xenbr0 is not a bridge"; return 1; }
    ip link show xenbr0 | grep -qE '[<,]UP[,>]' || { echo "xenbr0 is not up"; return 1; }
    # The real brctl (bridge-utils), which vif-bridge uses, must see it too.
    brctl show xenbr0
}

daemons_running() {
    pidof xenstored && pidof xenconsoled
}

check "xl info reports Xen 4.17" xen_version_is_4_17
check "xl list shows Domain-0" dom0_listed
check "xenstore write/read round trip" xenstore_round_trip
check "bridge xenbr0 exists and is up" bridge_up
check "xenstored and xenconsoled running" daemons_running
checks_done
