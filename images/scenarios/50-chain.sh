#!/bin/bash
# Scenario 50-chain: two ClickOS VMs chained through clickos-switchd — a firewall VM feeding a
# NAT VM — with traffic from dom0 through both, exact counts at the capture and in the guests.
#
#   dom0: ch0a (clickos-cli sends a pcap) | ch0b = switch port if:ch0b
#         ch1a (clickos-cli captures)     | ch1b = switch port if:ch1b
#   clickos-switchd --control ...: the VMs' vifs attach through vif-clickos (xl vif line
#     'mac=..,bridge=chain,script=vif-clickos'); their MACs are static entries of the switch.
#   fw  (vif mac FW):  frames to FW -> c -> IPFilter(udp dst port 53 passes) -> EtherEncap(FW -> NAT)
#   nat (vif mac NAT): frames to NAT -> c -> IPRewriter(source -> 10.9.9.9) -> EtherEncap(NAT -> CAP)
#   One broadcast "hello" from ch1a first teaches the switch where CAP is (the guests count it
#   as "other").
# 1000 frames in (600 UDP to port 53, 400 to port 80): fw c=1000 drop=400 out=600, nat c=600
# out=600, capture exactly 600, all UDP port 53 from 10.9.9.9; the switch's port counters agree
# and nothing was dropped. MODES="fast netif" runs it over the fast path (granted rings) and over
# the standard netif fallback (switchd --guest-mode netif: no fast path offered, the guests use
# netfront against Linux netback and the switch serves vifD.0 through AF_PACKET).
set -u
# shellcheck source=../dom0/check.sh # installed in dom0 as /etc/sandbox/check.sh
. /etc/sandbox/check.sh

ELF=${CLICKOS_ELF:-/opt/clickos/clickos.elf}
MODES=${MODES:-fast netif}
RATE=${CHAIN_RATE:-250}
W=/tmp/chain
SOCK=/run/clickos-switchd/chain.sock
HOST=00:16:3e:c0:00:aa
CAP=00:16:3e:c0:00:cc
FW=00:16:3e:c0:00:01
NAT=00:16:3e:c0:00:02
hex() { echo "$1" | tr -d ':'; }
FW_CONFIG="in :: FromNetfront(0) -> cl :: Classifier(0/$(hex $FW), -);
cl[1] -> other :: Counter -> Discard;
cl[0] -> c :: Counter -> Strip(14) -> CheckIPHeader -> f :: IPFilter(0 udp dst port 53, 1 all);
f[0] -> EtherEncap(0x0800, $FW, $NAT) -> out :: Counter -> ToNetfront(0);
f[1] -> drop :: Counter -> Discard;"
NAT_CONFIG="in :: FromNetfront(0) -> cl :: Classifier(0/$(hex $NAT), -);
cl[1] -> other :: Counter -> Discard;
cl[0] -> c :: Counter -> Strip(14) -> CheckIPHeader
  -> rw :: IPRewriter(pattern 10.9.9.9 1024-65535# - - 0 1);
rw[0] -> EtherEncap(0x0800, $NAT, $CAP) -> out :: Counter -> ToNetfront(0);
rw[1] -> back :: Counter -> Discard;"
SWPID=
CAP_PID=
declare -A DOMID
mkdir -p "$W" /run/clickos-switchd
[ -f "$ELF" ] || { echo "CHECK FAIL chain (no guest image at $ELF)"; exit 1; }

no_v6() { [ -e "/proc/sys/net/ipv6/conf/$1/disable_ipv6" ] && echo 1 > "/proc/sys/net/ipv6/conf/$1/disable_ipv6"; return 0; }
OLD_DEFAULT_V6=$(cat /proc/sys/net/ipv6/conf/default/disable_ipv6 2>/dev/null || echo 0)

destroy_vms() {
    local n
    for n in fw nat; do xl list "chain-$n" >/dev/null 2>&1 && xl destroy "chain-$n"; done
    DOMID=()
}
stop_switch() {
    [ -n "$SWPID" ] || return 0
    kill -TERM "$SWPID" 2>/dev/null && wait "$SWPID"
    local rc=$?
    grep -E 'stopped after|^mac' "$W"/switchd-*.log 2>/dev/null | tail -2
    SWPID=
    return $rc
}
cleanup() {
    [ -n "$CAP_PID" ] && kill "$CAP_PID" 2>/dev/null
    destroy_vms
    stop_switch
    ip link del ch0a 2>/dev/null
    ip link del ch1a 2>/dev/null
    echo "$OLD_DEFAULT_V6" > /proc/sys/net/ipv6/conf/default/disable_ipv6 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

network() {
    echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6
    local i
    for i in 0 1; do
        ip link add "ch${i}a" type veth peer name "ch${i}b" || return 1
        no_v6 "ch${i}a"
        no_v6 "ch${i}b"
        ip link set "ch${i}a" up && ip link set "ch${i}b" up || return 1
    done
}

start_switch() {
    local mode=$1 i
    # --spin-passes 2: under emulation a spinning switch takes the CPU the guests and the sender
    # need (64 passes cost ~5 ms of emulated time per wake-up).
    clickos-switchd --control "$SOCK" --guest-mode "$mode" --spin-passes 2 --port if:ch0b --port if:ch1b \
        >"$W/switchd-$mode.log" 2>&1 &
    SWPID=$!
    for i in $(seq 1 100); do
        [ -S "$SOCK" ] && clickos-switchctl --socket "$SOCK" resources >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    cat "$W/switchd-$mode.log"
    return 1
}

console() { tr -d '\r' < "/var/log/xen/console/guest-chain-$1.log" 2>/dev/null; }

boot() {
    local n=$1 mac=$2 i v d
    printf 'name = "chain-%s"\nkernel = "%s"\nmemory = 8\non_crash = "preserve"\nvif = [ "mac=%s,bridge=chain,script=vif-clickos" ]\n' \
        "$n" "$ELF" "$mac" > "$W/$n.cfg"
    xl create "$W/$n.cfg" || return 1
    d=$(xl domid "chain-$n") || return 1
    DOMID[$n]=$d
    for i in $(seq 1 1200); do
        v=$(xenstore-read "/local/domain/$d/data/clickos/boot" 2>/dev/null) && [ "$v" = ok ] && break
        sleep 0.05
    done
    no_v6 "vif$d.0"
    echo "chain-$n: domid $d, boot=$v"
    [ "$v" = ok ]
}

# device_mode VM MODE: the guest's console says which path its vif took.
device_mode() {
    local n=$1 mode=$2 i
    # Until the guest has decided (a fast-path line, or netfront connected or failed).
    for i in $(seq 1 60); do
        console "$n" | grep -qE '^fastpath 0: rings|^netfront 0: (connected|the backend)' && break
        sleep 0.25
    done
    console "$n" | grep -E '^(fastpath|netfront) 0' | head -3
    case $mode in
        fast) console "$n" | grep -q '^fastpath 0: rings' && ! console "$n" | grep -q '^netfront 0: connected' ;;
        netif) console "$n" | grep -q '^netfront 0: connected' && console "$n" | grep -q '^fastpath 0: not offered' ;;
    esac
}

install() {
    local d=${DOMID[$1]} cfg=$2 b
    b=/local/domain/$d/data/clickos/0
    xenstore-rm "$b" 2>/dev/null
    xenstore-write "$b/config/0" "$cfg" "$b/config_len" "${#cfg}" "$b/status" Running || return 1
    wait_node "$b/error" 30 || return 1
    echo "chain-$1: status=$(xenstore-read "$b/status") error='$(xenstore-read "$b/error")'"
    [ "$(xenstore-read "$b/status")" = Running ] && [ -z "$(xenstore-read "$b/error")" ]
}

# handler VM ELEM HANDLER
handler() {
    local b=/local/domain/${DOMID[$1]}/data/clickos/0 e=$2 h=$3 err
    xenstore-rm "$b/handlers/$e/$h" 2>/dev/null
    xenstore-write "$b/control/read/$e/$h" 1 || return 1
    wait_gone "$b/control/read/$e/$h" 10 || return 1
    err=$(xenstore-read "$b/handler-errors/$e/$h" 2>/dev/null)
    [ -z "$err" ] || { echo "handler error: $err" >&2; return 1; }
    xenstore-read "$b/handlers/$e/$h"
}

make_pcap() {
    clickos-cli run -e "a :: InfiniteSource(LIMIT 600) -> UDPIPEncap(10.0.0.1, 1234, 10.0.0.2, 53)
        -> EtherEncap(0x0800, $HOST, $FW) -> d :: ToDump($W/in.pcap);
      b :: InfiniteSource(LIMIT 400) -> UDPIPEncap(10.0.0.1, 1234, 10.0.0.2, 80)
        -> EtherEncap(0x0800, $HOST, $FW) -> d" -h d.count >/dev/null &&
    clickos-cli run -e "InfiniteSource(LIMIT 1, STOP true) -> UDPIPEncap(10.0.0.3, 9, 255.255.255.255, 9)
        -> EtherEncap(0x0800, $CAP, ff:ff:ff:ff:ff:ff) -> ToDump($W/hello.pcap)" >/dev/null
}

start_capture() {
    rm -f "$W/out.pcap"
    clickos-cli run -e "FromDevice(ch1a) -> cap :: Counter -> ToDump($W/out.pcap)" -h cap.count \
        > "$W/cap.txt" 2>&1 &
    CAP_PID=$!
    sleep 1
    kill -0 "$CAP_PID"
}

hello() {
    timeout -s TERM 3 clickos-cli run -e "FromDump($W/hello.pcap) -> ToDevice(ch1a)" >/dev/null 2>&1
    sleep 0.5
    return 0
}

# cpu_report: CPU seconds used so far by clickos-switchd and by each guest.
cpu_report() {
    local st
    st=$(cut -d' ' -f14,15 "/proc/$SWPID/stat" 2>/dev/null)
    echo "cpu: switchd utime+stime $(echo "$st" | awk '{ printf "%.2f", ($1 + $2) / 100 }') s; guests: $(xl list | awk 'NR > 2 { printf "%s %s s  ", $1, $6 }')"
}

send() {
    # clickos-cli itself takes several seconds to start in the emulated dom0; the run ends by
    # its timeout (an open interface keeps it alive) and prints the counter then.
    local secs=$(( 1000 / RATE + 20 )) t0 t1 sent
    cpu_report
    t0=${EPOCHREALTIME/./}
    timeout -s TERM "$secs" clickos-cli run -e "FromDump($W/in.pcap) -> Queue(1010)
        -> RatedUnqueue($RATE) -> sent :: Counter -> ToDevice(ch0a)" -h sent.count > "$W/sent.txt" 2>&1
    t1=${EPOCHREALTIME/./}
    sent=$(sed -n '/^sent.count:/{n;p}' "$W/sent.txt")
    SEND_MS=$(( (t1 - t0) / 1000 ))
    echo "sent $sent frames in $SEND_MS ms"
    cpu_report
    [ "$sent" = 1000 ]
}

# guest_counts: fw c/drop/out and nat c/out, retried while frames are in flight.
guest_counts() {
    local i fc fd fo nc no
    for i in $(seq 1 12); do
        fc=$(handler fw c count) && fd=$(handler fw drop count) && fo=$(handler fw out count) &&
            nc=$(handler nat c count) && no=$(handler nat out count) || return 1
        [ "$fc/$fd/$fo/$nc/$no" = "1000/400/600/600/600" ] && break
        sleep 0.25
    done
    echo "fw: c=$fc drop=$fd out=$fo other=$(handler fw other count); nat: c=$nc out=$no other=$(handler nat other count) back=$(handler nat back count)"
    FWC=$fc NATO=$no
    [ "$fc/$fd/$fo/$nc/$no" = "1000/400/600/600/600" ]
}

captured() {
    sleep 1
    kill -TERM "$CAP_PID" 2>/dev/null
    wait "$CAP_PID" 2>/dev/null
    CAP_PID=
    local cap ok bad out
    cap=$(sed -n '/^cap.count:/{n;p}' "$W/cap.txt")
    out=$(clickos-cli run -e "FromDump($W/out.pcap) -> Strip(14) -> CheckIPHeader
        -> f :: IPFilter(0 src host 10.9.9.9 && udp dst port 53, 1 all); f[0] -> ok :: Counter -> Discard;
        f[1] -> bad :: Counter -> Discard" -h ok.count -h bad.count) || return 1
    ok=$(echo "$out" | sed -n '/^ok.count:/{n;p}')
    bad=$(echo "$out" | sed -n '/^bad.count:/{n;p}')
    CAPTURED=$cap
    echo "captured $cap frames on ch1a: $ok UDP to port 53 from 10.9.9.9, $bad other"
    [ "$cap" = 600 ] && [ "$ok" = 600 ] && [ "$bad" = 0 ]
}

# switch_counters MODE: the guests' switch ports carried exactly what the chain implies, and
# no port dropped anything (the JSON is read with grep: no Python in dom0).
switch_counters() {
    local mode=$1 j fw nat fwname natname drops
    j=$(clickos-switchctl --socket "$SOCK" stats) || return 1
    echo "$j" | grep '"name"' | sed 's/"rx_errors".*"extra"/"extra"/'
    if [ "$mode" = fast ]; then
        fwname="xen:${DOMID[fw]}.0" natname="xen:${DOMID[nat]}.0"
    else
        fwname="if:vif${DOMID[fw]}.0" natname="if:vif${DOMID[nat]}.0"
    fi
    fw=$(echo "$j" | grep "\"name\": \"$fwname\"")
    nat=$(echo "$j" | grep "\"name\": \"$natname\"")
    [ -n "$fw" ] && [ -n "$nat" ] || { echo "no port $fwname / $natname"; return 1; }
    drops=$(echo "$j" | grep -o '"tx_drops": [0-9]*' | awk '{ s += $2 } END { print s + 0 }')
    echo "tx_drops over all ports: $drops"
    # To fw: 1000 frames + the hello broadcast; from fw: 600. To nat: 600 + hello; from nat: 600.
    echo "$fw" | grep -q '"rx_packets": 600,' && echo "$fw" | grep -q '"tx_packets": 1001,' &&
        echo "$nat" | grep -q '"rx_packets": 600,' && echo "$nat" | grep -q '"tx_packets": 601,' &&
        [ "$drops" = 0 ]
}

detached() {
    local i r
    for i in $(seq 1 50); do
        r=$(clickos-switchctl --socket "$SOCK" resources)
        case "$r" in "ok attached=0 gntalloc_fds=0 evtchn_fds=0 grants=0 "*) echo "$r"; return 0 ;; esac
        sleep 0.1
    done
    echo "$r"
    return 1
}

run_mode() {
    local mode=$1 n
    FWC= NATO= CAPTURED= SEND_MS=
    check "$mode: switch starts (--guest-mode $mode)" start_switch "$mode" || return
    check "$mode: fw VM boots (vif-clickos)" boot fw "$FW"
    check "$mode: nat VM boots (vif-clickos)" boot nat "$NAT"
    if [ -n "${DOMID[fw]:-}" ] && [ -n "${DOMID[nat]:-}" ]; then
        check "$mode: fw vif on the $mode path" device_mode fw "$mode"
        check "$mode: nat vif on the $mode path" device_mode nat "$mode"
    fi
    # The wrong path (or no guest) would only make every later check wait for its timeout.
    if [ -n "${DOMID[fw]:-}" ] && [ -n "${DOMID[nat]:-}" ] && device_mode fw "$mode" >/dev/null &&
        device_mode nat "$mode" >/dev/null; then
        check "$mode: fw router running" install fw "$FW_CONFIG"
        check "$mode: nat router running" install nat "$NAT_CONFIG"
        check "$mode: capture starts" start_capture
        check "$mode: hello teaches the switch the capture's MAC" hello
        check "$mode: 1000 frames sent from dom0" send
        check "$mode: guest counters exact (fw 1000/400/600, nat 600/600)" guest_counts
        check "$mode: capture exactly 600, rewritten by the NAT" captured
        check "$mode: switch port counters agree, no drops" switch_counters "$mode"
        echo "RESULT chain mode $mode sent 1000 fw_in ${FWC:-?} nat_out ${NATO:-?} captured ${CAPTURED:-?} send_ms ${SEND_MS:-?} rate_pps $RATE"
        for n in fw nat; do console "$n" | grep -E '^(fastpath|netfront) 0' | tail -2; done
    fi
    destroy_vms
    check "$mode: everything detached after destroy" detached
    check "$mode: switch stops cleanly" stop_switch
}

check "chain network (2 veth pairs, no IPv6)" network
check "chain pcaps" make_pcap
for m in $MODES; do run_mode "$m"; done
checks_done
