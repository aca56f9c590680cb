#!/bin/bash
# Scenario 12-boot-time: how long a ClickOS VM takes from `xl create` to a running router, next
# to a minimal Linux PV domU booted in the same run. PAIRS pairs (3), in turns, so that both see
# the same conditions:
#   - ClickOS: `xl create` (8 MiB, no vif) -> data/clickos/boot = ok -> a firewall config written
#     through Xenstore (config/0, config_len, status = Running) -> the guest's answer (error = ""
#     with status Running);
#   - Linux: `xl create` of Debian's dom0 kernel as a PV domU (128 MiB, no vif) with a busybox
#     initramfs (bench/xen/linux-initramfs.sh) -> its /init's LINUX-DOMU-UP in the console log.
# Both are timed in dom0 from just before `xl create`, polling every 20 ms. The checks are that
# every boot completes; the times are reported (RESULT lines), not asserted: under emulation they
# vary with the build host's load (bench/xen/ has the full benchmark).
set -u
# shellcheck source=../dom0/check.sh # installed in dom0 as /etc/sandbox/check.sh
. /etc/sandbox/check.sh
# shellcheck source=../dom0/clickos.sh # installed in dom0 as /etc/sandbox/clickos.sh
. /etc/sandbox/clickos.sh

PAIRS=${PAIRS:-3}
LINUX_KERNEL=${LINUX_KERNEL:-/opt/bench/vmlinuz}
LINUX_INITRD=${LINUX_INITRD:-/opt/bench/linux-init.cpio.gz}
LOGDIR=/var/log/xen/console
W=/tmp/boot-time
mkdir -p $W
FW='src :: InfiniteSource(LIMIT 1000, STOP false) -> Strip(14) -> CheckIPHeader
  -> f :: IPFilter(allow udp dst port 53, deny all) -> c :: Counter -> Discard;'

cleanup() {
    local n
    for n in $(xl list | awk 'NR > 1 && $1 ~ /^bt-/ { print $1 }'); do xl destroy "$n"; done
}
trap cleanup EXIT

us() { echo "${EPOCHREALTIME/./}"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e6 }'; }

# clickos_boot RUN: xl create -> status Running; appends "seconds" to $W/clickos.
clickos_boot() {
    local n=bt-clickos-$1 t0 tx tb t1 d b i ok=0
    printf 'name = "%s"\nkernel = "%s"\nmemory = 8\n' "$n" "$ELF" > $W/$n.cfg
    t0=$(us)
    xl create -q $W/$n.cfg || return 1
    tx=$(us)
    d=$(xl domid "$n") || return 1
    b=/local/domain/$d/data/clickos
    for i in $(seq 1 3000); do
        [ "$(xenstore-read "$b/boot" 2>/dev/null)" = ok ] && { ok=1; break; }
        sleep 0.02
    done
    [ $ok = 1 ] || { echo "$n: no boot=ok"; guest_console "$n"; return 1; }
    tb=$(us)
    xenstore-write "$b/0/config/0" "$FW" "$b/0/config_len" "${#FW}" "$b/0/status" Running || return 1
    ok=0
    for i in $(seq 1 3000); do
        xenstore-read "$b/0/error" >/dev/null 2>&1 && { ok=1; break; }
        sleep 0.02
    done
    t1=$(us)
    [ $ok = 1 ] && [ "$(xenstore-read "$b/0/status")" = Running ] && [ -z "$(xenstore-read "$b/0/error")" ] || {
        echo "$n: router not Running"; guest_console "$n"; return 1; }
    echo "RESULT boot-time clickos run $1 xl_create_to_running_s $(secs "$t0" "$t1") (xl_create_s $(secs "$t0" "$tx") boot_ok_s $(secs "$t0" "$tb")) guest_boot_us $(xenstore-read "$b/boot-us" 2>/dev/null)"
    secs "$t0" "$t1" >> $W/clickos
    echo >> $W/clickos
    xl destroy "$n"
}

# linux_boot RUN: xl create -> LINUX-DOMU-UP in the console log; appends "seconds" to $W/linux.
linux_boot() {
    local n=bt-linux-$1 t0 tx t1 i ok=0
    printf 'name = "%s"\nkernel = "%s"\nramdisk = "%s"\nmemory = 128\nextra = "console=hvc0 quiet"\non_poweroff = "destroy"\n' \
        "$n" "$LINUX_KERNEL" "$LINUX_INITRD" > $W/$n.cfg
    rm -f "$LOGDIR/guest-$n.log"
    t0=$(us)
    xl create -q $W/$n.cfg || return 1
    tx=$(us)
    for i in $(seq 1 6000); do
        grep -q LINUX-DOMU-UP "$LOGDIR/guest-$n.log" 2>/dev/null && { ok=1; break; }
        sleep 0.02
    done
    t1=$(us)
    [ $ok = 1 ] || { echo "$n: no marker"; tail -5 "$LOGDIR/guest-$n.log"; return 1; }
    echo "RESULT boot-time linux run $1 xl_create_to_marker_s $(secs "$t0" "$t1") (xl_create_s $(secs "$t0" "$tx"))"
    secs "$t0" "$t1" >> $W/linux
    echo >> $W/linux
    # Its /init powers it off; make sure it is gone before the next boot.
    for i in $(seq 1 100); do xl list "$n" >/dev/null 2>&1 || return 0; sleep 0.1; done
    xl destroy "$n"
}

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

report() {
    local c l
    c=$(median $W/clickos) l=$(median $W/linux)
    echo "RESULT boot-time median clickos_s $c linux_s $l ratio $(awk -v c="$c" -v l="$l" 'BEGIN { printf "%.1f", l / c }') pairs $PAIRS"
}

have_linux() {
    [ -f "$LINUX_KERNEL" ] && [ -f "$LINUX_INITRD" ] && [ -f "$ELF" ] ||
        { echo "missing $LINUX_KERNEL, $LINUX_INITRD or $ELF"; return 1; }
}

check "boot-time: guest image and Linux domU kernel present" have_linux
: > $W/clickos
: > $W/linux
for p in $(seq 1 "$PAIRS"); do
    check "boot-time: ClickOS $p: xl create to router Running" clickos_boot "$p"
    check "boot-time: Linux $p: xl create to its /init" linux_boot "$p"
done
[ -s $W/clickos ] && [ -s $W/linux ] && report
checks_done
