#!/bin/bash
# Scenario 51-fig6: the ClickOS paper's Figure 6 test, scaled by VMS (4 in `make test`; 128 with
# `make bench-fig6`): VMS ClickOS VMs, each generating frames
#   RatedSource(LENGTH 60, RATE $RATE, LIMIT ...) -> EtherEncap(0x88b5, VM's MAC, SINK) -> ToNetfront(0)
# through clickos-switchd's fast path to one sink port (sink:SINK counts and discards). Per-VM
# throughput comes from the switch's per-port counters over a WINDOW-second measurement window
# once every VM's router runs; printed as FIG6 lines (CSV-ready), with the aggregate and Jain's
# fairness index. Then every router is halted and, the switch drained, the checks: every frame a
# guest put into its ring reached the sink (sum over the VM ports = the sink's count, no
# tx_drops anywhere), and for a few VMs the guest's own out.count equals its port's count.
set -u
# shellcheck source=../dom0/check.sh # installed in dom0 as /etc/sandbox/check.sh
. /etc/sandbox/check.sh

ELF=${CLICKOS_ELF:-/opt/clickos/clickos.elf}
VMS=${VMS:-4}
RATE=${RATE:-100}
WINDOW=${WINDOW:-10}
MEM=${FIG6_MEM:-4}
SOCK=/run/clickos-switchd/fig6.sock
SINK=02:f6:00:00:00:01
W=/tmp/fig6
SWPID=
declare -a DOMS
mkdir -p "$W" /run/clickos-switchd
[ -f "$ELF" ] || { echo "CHECK FAIL fig6 (no guest image at $ELF)"; exit 1; }

mac_of() { printf '00:16:3e:f6:%02x:%02x' $(( $1 / 256 )) $(( $1 % 256 )); }
ctl() { clickos-switchctl --socket "$SOCK" "$@"; }

cleanup() {
    local i
    for i in $(seq 1 "$VMS"); do xl destroy "fig6-$i" >/dev/null 2>&1; done
    [ -n "$SWPID" ] && kill -TERM "$SWPID" 2>/dev/null && wait "$SWPID"
    rm -rf "$W"
}
trap cleanup EXIT

start_switch() {
    local i need
    # Each VM holds 1 + 2 x 33 grants from gntalloc; its default limit (1024 in all) is too
    # small for more than 15 VMs.
    need=$(( VMS * 67 + 64 ))
    if [ -w /sys/module/xen_gntalloc/parameters/limit ] &&
        [ "$(cat /sys/module/xen_gntalloc/parameters/limit)" -lt "$need" ]; then
        echo "$need" > /sys/module/xen_gntalloc/parameters/limit
    fi
    echo "gntalloc limit $(cat /sys/module/xen_gntalloc/parameters/limit 2>/dev/null)"
    clickos-switchd --control "$SOCK" --spin-passes 2 --port "sink:$SINK" >"$W/switchd.log" 2>&1 &
    SWPID=$!
    for i in $(seq 1 100); do [ -S "$SOCK" ] && ctl resources >/dev/null 2>&1 && return 0; sleep 0.1; done
    cat "$W/switchd.log"
    return 1
}

create_all() {
    local i t0 t1 d failed=0
    t0=${EPOCHREALTIME/./}
    for i in $(seq 1 "$VMS"); do
        printf 'name = "fig6-%s"\nkernel = "%s"\nmemory = %s\nvif = [ "mac=%s,bridge=fig6,script=vif-clickos" ]\n' \
            "$i" "$ELF" "$MEM" "$(mac_of "$i")" > "$W/$i.cfg"
        if ! xl create -q "$W/$i.cfg" >/dev/null 2>&1; then
            echo "xl create fig6-$i failed"
            failed=$((failed + 1))
            continue
        fi
        d=$(xl domid "fig6-$i")
        DOMS[$i]=$d
        [ $(( i % 16 )) = 0 ] && echo "created $i VMs ($(( (${EPOCHREALTIME/./} - t0) / 1000000 )) s); $(ctl resources)"
    done
    t1=${EPOCHREALTIME/./}
    echo "created $VMS VMs in $(( (t1 - t0) / 1000000 )) s, $failed failed; $(ctl resources)"
    echo "RESULT fig6 vms $VMS create_s $(( (t1 - t0) / 1000000 )) failed $failed"
    [ "$failed" = 0 ]
}

# wait_fast: every guest mapped its rings (fast path) — from the console logs.
wait_fast() {
    local i n=0 k
    for k in $(seq 1 120); do
        n=0
        for i in $(seq 1 "$VMS"); do
            grep -q 'fastpath 0: rings' "/var/log/xen/console/guest-fig6-$i.log" 2>/dev/null && n=$((n + 1))
        done
        [ "$n" = "$VMS" ] && break
        sleep 1
    done
    echo "$n of $VMS guests on the fast path"
    [ "$n" = "$VMS" ]
}

install_all() {
    local i d b cfg t0 ok=0
    t0=${EPOCHREALTIME/./}
    for i in $(seq 1 "$VMS"); do
        d=${DOMS[$i]:-}
        [ -n "$d" ] || continue
        b=/local/domain/$d/data/clickos/0
        cfg="RatedSource(LENGTH 60, RATE $RATE, LIMIT -1) -> EtherEncap(0x88b5, $(mac_of "$i"), $SINK) -> out :: ToNetfront(0)"
        xenstore-write "$b/config/0" "$cfg" "$b/config_len" "${#cfg}" "$b/status" Running || return 1
    done
    # Every router reports Running (error = ""): one VM after the other, so that a check costs
    # two reads per VM rather than a pass over all VMs per second (slow with 128 under emulation).
    for i in $(seq 1 "$VMS"); do
        d=${DOMS[$i]:-}
        [ -n "$d" ] || continue
        for k in $(seq 1 600); do
            [ "$(xenstore-read "/local/domain/$d/data/clickos/0/status" 2>/dev/null)" = Running ] &&
                [ "$(xenstore-read "/local/domain/$d/data/clickos/0/error" 2>/dev/null)" = "" ] &&
                xenstore-read "/local/domain/$d/data/clickos/0/error" >/dev/null 2>&1 && { ok=$((ok + 1)); break; }
            sleep 0.5
        done
    done
    echo "$ok of $VMS routers running after $(( (${EPOCHREALTIME/./} - t0) / 1000000 )) s"
    [ "$ok" = "$VMS" ]
}

# snapshot FILE: "domid rx_packets" per VM port, and the sink's tx_packets, from the switch.
snapshot() {
    ctl stats > "$1.json" || return 1
    grep '"name": "xen:' "$1.json" | sed -E 's/.*"name": "xen:([0-9]+)\.0", "rx_packets": ([0-9]+),.*/\1 \2/' > "$1"
    grep '"name": "sink:' "$1.json" | sed -E 's/.*"tx_packets": ([0-9]+),.*/\1/' > "$1.sink"
}

measure() {
    local t0 t1 secs
    snapshot "$W/a" || return 1
    t0=${EPOCHREALTIME/./}
    sleep "$WINDOW"
    snapshot "$W/b" || return 1
    t1=${EPOCHREALTIME/./}
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
    echo "window $secs s"
    # Per VM: packets in the window and packets per second; aggregate and Jain's index.
    awk -v secs="$secs" -v vms="$VMS" '
        NR == FNR { a[$1] = $2; next }
        { n++; d = $2 - a[$1]; r = d / secs; s += r; s2 += r * r
          if (min == "" || r < min) min = r; if (r > max) max = r
          printf "FIG6 vm %d domid %d packets %d pps %.1f\n", n, $1, d, r }
        END { j = (n && s2) ? s * s / (n * s2) : 0
              printf "FIG6-SUMMARY vms %d measured %d window_s %s aggregate_pps %.1f min_pps %.1f max_pps %.1f jain %.4f\n", vms, n, secs, s, min, max, j }
    ' "$W/a" "$W/b" | tee "$W/fig6.txt"
    grep -q "measured $VMS " "$W/fig6.txt"
}

halt_all() {
    local i d
    for i in $(seq 1 "$VMS"); do
        d=${DOMS[$i]:-}
        [ -n "$d" ] && xenstore-write "/local/domain/$d/data/clickos/0/status" Halted
    done
    sleep 3
    return 0
}

# no_loss: after the halt, every frame the guests put into their rings reached the sink.
no_loss() {
    local sum sink drops last=-1 k
    for k in $(seq 1 20); do
        snapshot "$W/c" || return 1
        sum=$(awk '{ s += $2 } END { print s + 0 }' "$W/c")
        [ "$sum" = "$last" ] && break
        last=$sum
        sleep 1
    done
    sink=$(cat "$W/c.sink")
    drops=$(grep -o '"tx_drops": [0-9]*' "$W/c.json" | awk '{ s += $2 } END { print s + 0 }')
    echo "from the VMs: $sum frames; to the sink: $sink; tx_drops: $drops"
    echo "RESULT fig6 total_from_vms $sum total_to_sink $sink tx_drops $drops"
    [ "$sum" = "$sink" ] && [ "$drops" = 0 ] && [ "$sum" -gt 0 ]
}

# guest_equals_port: for the first few VMs, the frames the guest put into its ring (the fast-path
# device's tx count, printed on its console when the halted router let go of the device) equal
# its port's rx_packets at the switch.
guest_equals_port() {
    local i d v p bad=0
    for i in $(seq 1 "$(( VMS < 4 ? VMS : 4 ))"); do
        d=${DOMS[$i]}
        v=$(tr -d '\r' < "/var/log/xen/console/guest-fig6-$i.log" | grep '^fastpath 0: rx' | tail -1 |
            sed -E 's/.*; tx ([0-9]+) packets.*/\1/')
        p=$(awk -v d="$d" '$1 == d { print $2 }' "$W/c")
        echo "fig6-$i (domid $d): guest fast-path tx $v, switch port rx_packets $p"
        [ -n "$v" ] && [ "$v" = "$p" ] || bad=1
    done
    [ "$bad" = 0 ]
}

detach_all() {
    local i r
    for i in $(seq 1 "$VMS"); do xl destroy "fig6-$i" >/dev/null 2>&1; done
    for i in $(seq 1 100); do
        r=$(ctl resources)
        case "$r" in "ok attached=0 gntalloc_fds=0 evtchn_fds=0 grants=0 "*) echo "$r"; return 0 ;; esac
        sleep 0.2
    done
    echo "$r"
    return 1
}

check "fig6: switch with a sink port" start_switch
check "fig6: $VMS VMs created with vif-clickos" create_all
check "fig6: every VM on the fast path" wait_fast
check "fig6: $VMS routers running" install_all
check "fig6: per-VM throughput over ${WINDOW} s" measure
check "fig6: routers halted" halt_all
check "fig6: no loss between the guests' rings and the sink" no_loss
check "fig6: guest counters equal the switch's" guest_equals_port
check "fig6: everything detached after destroy" detach_all
checks_done
