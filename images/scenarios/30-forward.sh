#!/bin/bash
# Scenario 30-forward: a ClickOS guest with two vifs forwards through a firewall, on real netback.
#
#   dom0: xenbr0 <- nf0b | nf0a (test end: clickos-cli sends a pcap here)
#         xenbr1 <- nf1b | nf1a (test end: clickos-cli captures here)
#   guest (memory 8): vif 0 on xenbr0, vif 1 on xenbr1, both connected at boot;
#     FromNetfront(0) -> c :: Counter -> Strip(14) -> CheckIPHeader
#       -> f :: IPFilter(0 udp dst port 53, 1 all); f[0] -> Unstrip(14) -> out :: ToNetfront(1);
#       f[1] -> drop :: Counter -> Discard
#   installed through Xenstore as 20-click-config.sh does.
# Checks: both netfronts connect (gnttab self-test too); the router runs; 1000 frames
# (600 UDP to port 53, 400 to port 80) sent into xenbr0 give exactly c.count = 1000,
# drop.count = 400, out.count = 600, and exactly 600 frames — all UDP port 53 — captured on
# xenbr1; an idle guest does not spin; the router stopped and started again reuses the same
# devices (no second connect) and forwards a second batch exactly. IPv6 is disabled on every
# interface involved so that no stray frame is counted. Prints RESULT lines.
set -u
# shellcheck source=../dom0/check.sh # installed in dom0 as /etc/sandbox/check.sh
. /etc/sandbox/check.sh

ELF=${CLICKOS_ELF:-/opt/clickos/clickos.elf}
NAME=${NAME:-nf-forward}
MEM=${NF_MEM:-8}
RATE=${NF_RATE:-500}
LOG=/var/log/xen/console/guest-$NAME.log
W=/tmp/nf-forward
MAC0=00:16:3e:4e:00:01
MAC1=00:16:3e:4e:00:02
CONFIG='in :: FromNetfront(0) -> c :: Counter -> Strip(14) -> CheckIPHeader
  -> f :: IPFilter(0 udp dst port 53, 1 all);
f[0] -> Unstrip(14) -> out :: ToNetfront(1);
f[1] -> drop :: Counter -> Discard;'
DOMID=
CAP_PID=
[ -f "$ELF" ] || { echo "no guest image at $ELF (make image)"; echo "CHECK FAIL nf-forward (no image)"; exit 1; }
mkdir -p "$W"

OLD_DEFAULT_V6=$(cat /proc/sys/net/ipv6/conf/default/disable_ipv6 2>/dev/null || echo 0)
OLD_BR0_V6=$(cat /proc/sys/net/ipv6/conf/xenbr0/disable_ipv6 2>/dev/null || echo 0)

# Milliseconds of uptime (busybox date has no %N).
ms_now() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }

no_v6() { [ -e "/proc/sys/net/ipv6/conf/$1/disable_ipv6" ] && echo 1 > "/proc/sys/net/ipv6/conf/$1/disable_ipv6"; return 0; }

cleanup() {
    [ -n "$CAP_PID" ] && kill "$CAP_PID" 2>/dev/null
    xl list "$NAME" >/dev/null 2>&1 && xl destroy "$NAME"
    ip link del nf0a 2>/dev/null
    ip link del nf1a 2>/dev/null
    ip link del xenbr1 2>/dev/null
    echo "$OLD_DEFAULT_V6" > /proc/sys/net/ipv6/conf/default/disable_ipv6 2>/dev/null
    echo "$OLD_BR0_V6" > /proc/sys/net/ipv6/conf/xenbr0/disable_ipv6 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

network() {
    # New interfaces (the veths, xenbr1, the guest's vifs) start without IPv6.
    echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6
    ip link show xenbr0 >/dev/null 2>&1 || { ip link add xenbr0 type bridge && ip link set xenbr0 up; }
    ip link show xenbr1 >/dev/null 2>&1 || ip link add xenbr1 type bridge
    no_v6 xenbr0
    no_v6 xenbr1
    ip link set xenbr1 up || return 1
    local i
    for i in 0 1; do
        ip link add "nf${i}a" type veth peer name "nf${i}b" || return 1
        no_v6 "nf${i}a"
        no_v6 "nf${i}b"
        ip link set "nf${i}b" master "xenbr$i" || return 1
        ip link set "nf${i}b" up && ip link set "nf${i}a" up || return 1
    done
    brctl show
}

boot() {
    local i v
    cat > "$W/$NAME.cfg" <<EOF
name = "$NAME"
kernel = "$ELF"
memory = $MEM
on_crash = "preserve"
vif = [ 'bridge=xenbr0,mac=$MAC0', 'bridge=xenbr1,mac=$MAC1' ]
EOF
    local t0 t1
    t0=$(ms_now)
    xl create "$W/$NAME.cfg" || return 1
    DOMID=$(xl domid "$NAME") || return 1
    for i in $(seq 1 1200); do
        v=$(xenstore-read "/local/domain/$DOMID/data/clickos/boot" 2>/dev/null) && [ "$v" = ok ] && break
        sleep 0.05
    done
    [ "$v" = ok ] || return 1
    t1=$(ms_now)
    echo "domid $DOMID, boot=ok after $((t1 - t0)) ms"
    echo "RESULT nf-forward boot_ms $((t1 - t0)) memory_mib $MEM"
    for i in 0 1; do no_v6 "vif$DOMID.$i"; done
    return 0
}

console() { tr -d '\r' < "$LOG" 2>/dev/null; }

# wait_console PATTERN [SECONDS]
wait_console() {
    local i n=$(( ${2:-30} * 20 ))
    for i in $(seq 1 "$n"); do console | grep -q -- "$1" && return 0; sleep 0.05; done
    echo "no '$1' on the console after ${2:-30} s"; return 1
}

connected() {
    wait_console 'netfront 1: connected' 40 || { console | grep -E 'netfront|gnttab'; return 1; }
    console | grep -E 'netfront|gnttab'
    console | grep -q 'netfront 0: connected' &&
        [ "$(xenstore-read "/local/domain/0/backend/vif/$DOMID/0/state")" = 4 ] &&
        [ "$(xenstore-read "/local/domain/0/backend/vif/$DOMID/1/state")" = 4 ]
}

install() {
    local b=/local/domain/$DOMID/data/clickos/0
    xenstore-rm "$b" 2>/dev/null
    xenstore-write "$b/config/0" "$CONFIG" "$b/config_len" "${#CONFIG}" "$b/status" Running || return 1
    wait_node "$b/error" 30 || return 1
    echo "status=$(xenstore-read "$b/status") error='$(xenstore-read "$b/error")'"
    [ "$(xenstore-read "$b/status")" = Running ] && [ -z "$(xenstore-read "$b/error")" ]
}

# handler ELEM HANDLER: reads one handler through the Xenstore protocol.
handler() {
    local b=/local/domain/$DOMID/data/clickos/0 e=$1 h=$2 err
    xenstore-rm "$b/handlers/$e/$h" 2>/dev/null
    xenstore-write "$b/control/read/$e/$h" 1 || return 1
    wait_gone "$b/control/read/$e/$h" 10 || return 1
    err=$(xenstore-read "$b/handler-errors/$e/$h" 2>/dev/null)
    [ -z "$err" ] || { echo "handler error: $err" >&2; return 1; }
    xenstore-read "$b/handlers/$e/$h"
}

# make_pcap FILE ALLOWED DENIED: UDP frames to port 53 and to port 80.
make_pcap() {
    rm -f "$1"
    clickos-cli run -e "a :: InfiniteSource(LIMIT $2) -> UDPIPEncap(10.0.0.1, 1234, 10.0.0.2, 53)
        -> EtherEncap(0x0800, 00:16:3e:00:00:aa, $MAC0) -> d :: ToDump($1);
      b :: InfiniteSource(LIMIT $3) -> UDPIPEncap(10.0.0.1, 1234, 10.0.0.2, 80)
        -> EtherEncap(0x0800, 00:16:3e:00:00:aa, $MAC0) -> d" -h d.count
}

start_capture() {
    rm -f "$W/out.pcap"
    clickos-cli run -e "FromDevice(nf1a) -> cap :: Counter -> ToDump($W/out.pcap)" -h cap.count \
        > "$W/cap.txt" 2>&1 &
    CAP_PID=$!
    sleep 1
    kill -0 "$CAP_PID"
}

stop_capture() {
    kill -TERM "$CAP_PID" 2>/dev/null
    wait "$CAP_PID" 2>/dev/null
    CAP_PID=
    cat "$W/cap.txt"
}

# send FILE N: sends the N frames of FILE into xenbr0, at most RATE per second; done when nf0a
# has transmitted N frames (bounded: 60 s).
send() {
    local t0 t1 n=$2 base cur i pid
    base=$(cat /sys/class/net/nf0a/statistics/tx_packets)
    t0=$(ms_now)
    # A queue and a rate: netback drops what does not fit its queue, and the emulated guest
    # takes a few thousand frames a second. An open interface keeps the run alive: it is ended
    # once every frame left, and prints its counter then.
    clickos-cli run -e "FromDump($1) -> Queue($((n + 10)))
        -> RatedUnqueue($RATE) -> sent :: Counter -> ToDevice(nf0a)" -h sent.count > "$W/sent.txt" 2>&1 &
    pid=$!
    for i in $(seq 1 1200); do
        cur=$(cat /sys/class/net/nf0a/statistics/tx_packets)
        [ $((cur - base)) -ge "$n" ] && break
        sleep 0.05
    done
    t1=$(ms_now)
    kill -TERM "$pid"
    wait "$pid"
    cat "$W/sent.txt"
    SENT=$(sed -n '/^sent.count:/{n;p}' "$W/sent.txt")
    SEND_MS=$((t1 - t0))
    echo "nf0a sent $((cur - base)) frames in $SEND_MS ms"
    [ "$SENT" = "$n" ] && [ $((cur - base)) = "$n" ]
}

# expect_counts C DROP OUT: the guest's handlers (retried while frames are in flight).
expect_counts() {
    local i c d o od
    for i in $(seq 1 40); do
        c=$(handler c count) && d=$(handler drop count) && o=$(handler out count) || return 1
        [ "$c" = "$1" ] && [ "$d" = "$2" ] && [ "$o" = "$3" ] && break
        sleep 0.25
    done
    od=$(handler out drops)
    echo "c.count=$c drop.count=$d out.count=$o out.drops=$od"
    C_COUNT=$c DROP_COUNT=$d OUT_COUNT=$o OUT_DROPS=$od
    [ "$c" = "$1" ] && [ "$d" = "$2" ] && [ "$o" = "$3" ] && [ "$od" = 0 ]
}

# captured N: the capture saw exactly N frames, all UDP to port 53.
captured() {
    sleep 1
    local out cap ok bad
    out=$(stop_capture)
    cap=$(echo "$out" | sed -n '/^cap.count:/{n;p}')
    CAPTURED=$cap
    echo "captured $cap frames on nf1a"
    out=$(clickos-cli run -e "FromDump($W/out.pcap) -> Strip(14) -> CheckIPHeader
        -> f :: IPFilter(0 udp dst port 53, 1 all); f[0] -> ok :: Counter -> Discard;
        f[1] -> bad :: Counter -> Discard" -h ok.count -h bad.count) || return 1
    ok=$(echo "$out" | sed -n '/^ok.count:/{n;p}')
    bad=$(echo "$out" | sed -n '/^bad.count:/{n;p}')
    echo "in the capture: $ok UDP to port 53, $bad other"
    [ "$cap" = "$1" ] && [ "$ok" = "$1" ] && [ "$bad" = 0 ]
}

forward_first() {
    make_pcap "$W/in.pcap" 600 400 || return 1
    start_capture || return 1
    send "$W/in.pcap" 1000 || return 1
    expect_counts 1000 400 600 || { captured 600; return 1; }
    captured 600 || return 1
    echo "RESULT nf-forward sent 1000 forwarded $OUT_COUNT dropped $DROP_COUNT captured $CAPTURED send_ms $SEND_MS rate_pps $RATE"
}

cpu_seconds() { xl list "$NAME" | awk 'NR == 2 { print $6 }'; }

idle_does_not_spin() {
    local a b
    a=$(cpu_seconds)
    sleep 3
    b=$(cpu_seconds)
    echo "guest CPU time over 3 s idle: $a -> $b s"
    echo "RESULT nf-forward idle_cpu_s_per_3s $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", b - a }')"
    # A spinning vCPU accrues ~3 s here; an idle one 0.0-0.5 s (more on a loaded host, where
    # emulated time runs on while QEMU waits for a CPU).
    awk -v a="$a" -v b="$b" 'BEGIN { exit !(b - a < 1.5) }'
}

restart_reuses_devices() {
    local b=/local/domain/$DOMID/data/clickos/0
    xenstore-write "$b/status" Halted
    wait_console 'router 0 halted' 10 || return 1
    # The devices' own counters, printed when the router let go of them: every frame crossed
    # the rings once, and the backend gave no bad response.
    console | grep -E '^netfront [01]: rx'
    console | grep -qE '^netfront 0: rx 1000 packets 106000 bytes, errors 0, bad 0; tx 0 packets' &&
        console | grep -qE '^netfront 1: rx 0 packets .* tx 600 packets 63600 bytes, errors 0, bad 0, ring full 0, bad size 0; bad indices 0;' ||
        { echo "unexpected device counters"; return 1; }
    xenstore-rm "$b/error"
    install || return 1
    make_pcap "$W/in2.pcap" 60 40 || return 1
    start_capture || return 1
    send "$W/in2.pcap" 100 || return 1
    expect_counts 100 40 60 || return 1
    captured 60 || return 1
    # Connected once, at boot: the same pages and grants serve the second router.
    [ "$(console | grep -c 'netfront 0: connected')" = 1 ] &&
        [ "$(console | grep -c 'netfront 1: connected')" = 1 ]
}

poweroff() {
    local i
    xenstore-write "/local/domain/$DOMID/data/clickos/cmd" poweroff
    for i in $(seq 1 200); do xl list "$NAME" >/dev/null 2>&1 || return 0; sleep 0.05; done
    return 1
}

check "nf-network (2 bridges, 2 veth pairs, no IPv6)" network
check "nf-boot (memory $MEM, 2 vifs)" boot
if [ -n "$DOMID" ]; then
    check "nf-both-netfronts-connected" connected
    check "nf-gnttab-self-test" grep -q 'gnttab: self-test ok' "$LOG"
    check "nf-router-running" install
    check "nf-forward-1000-exact" forward_first
    check "nf-idle-guest-does-not-spin" idle_does_not_spin
    check "nf-restart-reuses-devices" restart_reuses_devices
    console | grep -E '^netfront [0-9]: rx' | tail -2
    check "nf-poweroff" poweroff
fi
echo "---- console log ($LOG) ----"
console | tail -40
echo "---- end of console log ----"
checks_done
