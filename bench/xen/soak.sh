#!/bin/bash
# bench/xen/soak.sh: create and destroy SOAK_N ClickOS VMs with clickos-cli, one after another,
# INSIDE the test host's dom0 (bench/xen/run.sh soak), and compare dom0's resources before and
# after: Xenstore nodes, xl's domain list, memory (Xen's free memory, dom0's available memory),
# open files of xenstored and xenconsoled (event channels, grant mappings and sockets they hold),
# dom0's Xen interrupts (one per bound event channel), netback vif devices. Every 4th VM has a
# bridged vif so the netback/hotplug path is exercised too. A leak shows as a difference that
# grows with N; the "before" snapshot is taken after one warm-up cycle (first-use allocations).
set -u
SOAK_N=${SOAK_N:-200}
# Stop early after this many seconds (the run must end within the test host's time limit).
SOAK_MAX_SECONDS=${SOAK_MAX_SECONDS:-3000}
MEM=${MEM:-8}
W=/tmp/soak
mkdir -p $W
emit() { echo "@@BENCH-FILE $1@@"; cat "$2"; echo "@@BENCH-END@@"; }
now_us() { echo "${EPOCHREALTIME/./}"; }
cat > $W/cnt.click <<'CFG'
src :: InfiniteSource(LIMIT 1000, STOP false) -> counter :: Counter -> Discard;
CFG

fds() { local p; p=$(pidof "$1" | cut -d' ' -f1); [ -n "$p" ] && ls /proc/"$p"/fd | wc -l || echo -1; }
snapshot() { # LABEL: one CSV line
    local nodes xl_lines xen_free avail xs_fds xc_fds irqs vifs gnt
    nodes=$(xenstore-ls / 2>/dev/null | wc -l)
    xl_lines=$(xl list | wc -l)
    xen_free=$(xl info | awk '/^free_memory/ { print $3 }')
    avail=$(awk '/^MemAvailable/ { print $2 }' /proc/meminfo)
    xs_fds=$(fds xenstored)
    xc_fds=$(fds xenconsoled)
    irqs=$(grep -c 'xen-dyn\|xen-percpu\|evtchn' /proc/interrupts)
    vifs=$(ls /sys/class/net | grep -c '^vif')
    # Grant mappings held by dom0 processes show as gntdev mappings in their memory maps.
    gnt=$(cat /proc/[0-9]*/maps 2>/dev/null | grep -c '/dev/xen/gntdev')
    echo "$1,$nodes,$xl_lines,$xen_free,$avail,$xs_fds,$xc_fds,$irqs,$vifs,$gnt"
}
cycle() { # I: create + destroy one VM; prints "i,vif,create_s,destroy_s"
    local i=$1 vif="" t0 t1 t2
    [ $((i % 4)) = 0 ] && vif="--vif xenbr0"
    t0=$(now_us)
    # shellcheck disable=SC2086
    clickos-cli create $W/cnt.click --name soak --memory "$MEM" $vif >/dev/null || { echo "soak: create $i failed" >&2; return 1; }
    t1=$(now_us)
    clickos-cli destroy soak >/dev/null || { echo "soak: destroy $i failed" >&2; return 1; }
    t2=$(now_us)
    awk -v i="$i" -v v="${vif:+1}" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "%d,%d,%.3f,%.3f\n", i, v + 0, (b - a) / 1e6, (c - b) / 1e6 }'
}

echo "label,xenstore_nodes,xl_list_lines,xen_free_memory_mb,dom0_mem_available_kb,xenstored_fds,xenconsoled_fds,dom0_xen_irqs,vif_devices,gntdev_mappings" > $W/soak.csv
snapshot fresh >> $W/soak.csv
cycle 0 > /dev/null
sleep 1
snapshot before >> $W/soak.csv
echo "i,vif,create_s,destroy_s" > $W/soak-cycles.csv
failed=0
start=$(now_us)
done_n=0
for i in $(seq 1 "$SOAK_N"); do
    if [ $(( ($(now_us) - start) / 1000000 )) -ge "$SOAK_MAX_SECONDS" ]; then
        echo "soak: stopped after $done_n cycles: SOAK_MAX_SECONDS=$SOAK_MAX_SECONDS reached"
        break
    fi
    done_n=$i
    cycle "$i" >> $W/soak-cycles.csv || { failed=$((failed + 1)); xl destroy soak 2>/dev/null; }
    [ $((i % 10)) = 0 ] && echo "soak: cycle $(tail -1 $W/soak-cycles.csv)"
    [ $((i % 50)) = 0 ] && { snapshot "after-$i" >> $W/soak.csv; echo "soak: $i cycles ($(tail -1 $W/soak.csv))"; }
done
sleep 1
snapshot after >> $W/soak.csv
echo "soak: $failed of $done_n cycles failed"
echo "soak: console log of the reused name: $(wc -c < /var/log/xen/console/guest-soak.log 2>/dev/null) bytes (dom0 tmpfs)"
cat $W/soak.csv
emit soak.csv $W/soak.csv
emit soak-cycles.csv $W/soak-cycles.csv
[ $failed = 0 ]
