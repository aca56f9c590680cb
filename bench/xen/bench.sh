#!/bin/bash
# bench/xen/bench.sh: the Xen boot benchmarks, run INSIDE the test host's dom0 (bench/xen/run.sh
# boots it and collects the results). Reproduces the ClickOS paper's measurements with an
# xl-based harness:
#   - Table 1: per-phase breakdown of one `clickos-cli create` with one vif, from the
#     time-stamped `xl -vvv create` log plus clickos-cli's own timestamps around each Xenstore
#     step (TABLE1_RUNS runs);
#   - Figure 4: create FIG4_N VMs one after another, boot time of each (all stay running);
#   - Figure 5: time to install a configuration in VM 1 while K other VMs run (K in FIG5_K),
#     measured on the Figure-4 VMs as they accumulate;
#   - Baseline: a minimal Linux PV domU (Debian's vmlinuz + a busybox initramfs whose /init
#     prints a marker) and a ClickOS VM, booted in turns (LINUX_RUNS pairs) and both timed the
#     same way: plain `xl create` -> marker line in the guest's console log.
# Results are printed between "@@BENCH-FILE name@@" and "@@BENCH-END@@" lines (CSV), which
# run.sh extracts into bench/results/.
set -u

FIG4_N=${FIG4_N:-128}
# Stop adding Figure-4 VMs after this many seconds (the run must end in the test host's time limit;
# the CSV says how far it got).
FIG4_MAX_SECONDS=${FIG4_MAX_SECONDS:-2400}
FIG5_K=${FIG5_K:-"0 1 2 5 10 20 50 100"}
FIG5_REPS=${FIG5_REPS:-3}
TABLE1_RUNS=${TABLE1_RUNS:-3}
LINUX_RUNS=${LINUX_RUNS:-3}
MEM=${MEM:-8}
LINUX_KERNEL=${LINUX_KERNEL:-/opt/bench/vmlinuz}
LINUX_INITRD=${LINUX_INITRD:-/opt/bench/linux-init.cpio.gz}
W=/tmp/bench
mkdir -p $W
LOGDIR=/var/log/xen/console

# busybox date has no %N: bash's EPOCHREALTIME has microseconds.
now_ns() { local t=${EPOCHREALTIME/./}; echo "${t}000"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", (b - a) / 1e9 }'; }
emit() { echo "@@BENCH-FILE $1@@"; cat "$2"; echo "@@BENCH-END@@"; }
# json_num KEY: a number from clickos-cli's --json output on stdin (flat keys are unique).
json_num() { tr -d ' \n' | grep -o "\"$1\":[0-9.e+-]*" | head -1 | cut -d: -f2; }

cleanup() {
    xl list 2>/dev/null | awk 'NR > 1 && $2 != 0 { print $1 }' | while read -r d; do xl destroy "$d"; done
}
trap cleanup EXIT

cat > $W/cnt.click <<'CFG'
src :: InfiniteSource(LIMIT 1000, STOP false) -> counter :: Counter -> Discard;
CFG
# The configuration Figure 5 installs: a small firewall-like chain, no devices.
cat > $W/fw.click <<'CFG'
src :: InfiniteSource(LIMIT 100, STOP false)
  -> Strip(14) -> CheckIPHeader -> f :: IPFilter(allow udp dst port 53, deny all)
  -> c :: Counter -> Discard;
CFG

echo "bench: $(xl info | grep -E '^(xen_version|total_memory|free_memory)' | tr -s ' ' | tr '\n' ' ')"
echo "bench: FIG4_N=$FIG4_N FIG5_K='$FIG5_K' TABLE1_RUNS=$TABLE1_RUNS LINUX_RUNS=$LINUX_RUNS MEM=$MEM"

# ---- Table 1 -----------------------------------------------------------------------------------
# Phase boundaries in xl's verbose log (seconds since xl create started, stamped by clickos-cli
# as each line arrived); see bench/xen/README.md for what each phase covers.
phase_times() { # LOG -> "parse create bootloader released vif console unpause end"
    awk -F'\t' '
        function first(key, t) { if (!(key in T)) T[key] = t }
        { t = $1; l = $2 }
        l ~ /Parsing config/ { first("P", t) }
        l ~ /do_domain_create: ao .*: create:/ { first("C", t) }
        l ~ /running bootloader/ { first("B", t) }
        l ~ /xc_dom_release: called/ { first("R", t) }
        l ~ /backend\/vif\/.*\/state .*: register/ { first("V", t) }
        l ~ /console\/tty .*: register/ { first("T", t) }
        l ~ /libxl_domain_unpause: .*: create:/ { first("U", t) }
        END { printf "%s %s %s %s %s %s %s %s\n", T["P"]+0, T["C"]+0, T["B"]+0, T["R"]+0, T["V"]+0, T["T"]+0, T["U"]+0, t+0 }' "$1"
}

echo "run,xl_start_s,config_memcheck_s,domain_creation_s,image_build_s,xenstore_s,network_device_s,console_s,unpause_exit_s,xl_create_s,boot_wait_s,install_s,router_start_s,total_s,guest_boot_us" > $W/table1.csv
for i in $(seq 1 "$TABLE1_RUNS"); do
    j=$(clickos-cli create $W/cnt.click --name t1-$i --memory "$MEM" --vif xenbr0 --xl-log $W/t1-$i.log --json) || {
        echo "bench: table1 run $i failed"; continue; }
    read -r P C B R V T U E <<<"$(phase_times $W/t1-$i.log)"
    echo "bench: table1 run $i markers P=$P C=$C B=$B R=$R V=$V T=$T U=$U E=$E"
    awk -v r="$i" -v P="$P" -v C="$C" -v B="$B" -v R="$R" -v V="$V" -v T="$T" -v U="$U" \
        -v xl="$(echo "$j" | json_num xl_create)" -v cr="$(echo "$j" | json_num created)" \
        -v bo="$(echo "$j" | json_num booted)" -v ins="$(echo "$j" | json_num installed)" \
        -v st="$(echo "$j" | json_num started)" -v gb="$(echo "$j" | json_num guest_boot_us)" 'BEGIN {
        x = (V > 0 ? V : T);               # end of the Xenstore writes: first device
        printf "%d,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%s\n",
            r, P, C - P, B - C, R - B, x - R, (V > 0 ? T - V : 0), U - T, xl - U, xl,
            bo - cr, ins - bo, st - ins, st, gb }' >> $W/table1.csv
    xl destroy t1-$i
done
if [ "$TABLE1_RUNS" -gt 0 ]; then
    emit table1.csv $W/table1.csv
    emit table1-xl-vvv-run1.log $W/t1-1.log
fi

# ---- Baseline: ClickOS vs a minimal Linux PV domU, in turns, measured the same way ---------------
# Both are started with a plain `xl create` of a minimal xl config (no vif) and timed from there
# to a marker line in the guest's console log (xenconsoled's log, polled every 20 ms): ClickOS's
# "click: ready" (its control plane waits for routers), Linux's LINUX-DOMU-UP (printed by /init).
# The two alternate (ClickOS, Linux, ClickOS, ...) so that both see the same host conditions.
CLICKOS_ELF=${CLICKOS_ELF:-/opt/clickos/clickos.elf}
echo "run,os,kernel,memory_mb,xl_create_s,marker_s" > $W/linux.csv
boot_to_marker() { # RUN OS NAME MARKER MEMORY KERNEL [RAMDISK EXTRA]
    local run=$1 os=$2 n=$3 marker=$4 mem=$5 kernel=$6 ramdisk=${7:-} extra=${8:-} t0 t1 t2 ok=0 k
    {
        printf 'name = "%s"\ntype = "pv"\nkernel = "%s"\nmemory = %s\nvcpus = 1\non_poweroff = "destroy"\n' \
            "$n" "$kernel" "$mem"
        [ -n "$ramdisk" ] && printf 'ramdisk = "%s"\n' "$ramdisk"
        [ -n "$extra" ] && printf 'extra = "%s"\n' "$extra"
    } > $W/$n.cfg
    rm -f $LOGDIR/guest-$n.log
    t0=$(now_ns)
    xl create $W/$n.cfg >/dev/null 2>&1 || { echo "bench: $os run $run: xl create failed"; return; }
    t1=$(now_ns)
    for k in $(seq 1 6000); do
        grep -q "$marker" $LOGDIR/guest-$n.log 2>/dev/null && { ok=1; break; }
        sleep 0.02
    done
    t2=$(now_ns)
    if [ $ok = 1 ]; then
        echo "$run,$os,$(basename "$kernel"),$mem,$(secs "$t0" "$t1"),$(secs "$t0" "$t2")" >> $W/linux.csv
        echo "bench: baseline $(tail -1 $W/linux.csv)"
    else
        echo "bench: $os run $run: no marker"; tail -5 $LOGDIR/guest-$n.log
    fi
    xl destroy $n 2>/dev/null
    for k in $(seq 1 100); do xl list $n >/dev/null 2>&1 || break; sleep 0.1; done
}
if [ -f "$LINUX_KERNEL" ] && [ -f "$LINUX_INITRD" ] && [ -f "$CLICKOS_ELF" ]; then
    for i in $(seq 1 "$LINUX_RUNS"); do
        boot_to_marker "$i" clickos clickos-b$i "click: ready" "$MEM" "$CLICKOS_ELF"
        boot_to_marker "$i" linux linux-$i LINUX-DOMU-UP 128 "$LINUX_KERNEL" "$LINUX_INITRD" "console=hvc0 quiet"
    done
else
    echo "bench: no Linux kernel/initramfs at $LINUX_KERNEL / $LINUX_INITRD or no $CLICKOS_ELF: baseline skipped"
fi
[ "$LINUX_RUNS" -gt 0 ] && emit linux.csv $W/linux.csv

# ---- Figure 4 and Figure 5 ---------------------------------------------------------------------
echo "vm,domid,xl_create_s,boot_s,router_running_s,create_wall_s,xenstore_nodes,free_memory_mb" > $W/fig4.csv
echo "k_running_others,rep,install_s,install_wall_s" > $W/fig5.csv
fig5_at() { # K: install fw.click as router 1 of VM 1, FIG5_REPS times, then remove it
    local k=$1 r j t0 t1
    for r in $(seq 1 "$FIG5_REPS"); do
        t0=$(now_ns)
        j=$(clickos-cli install f4-1 $W/fw.click --router 1 --json) || { echo "bench: fig5 K=$k failed"; return; }
        t1=$(now_ns)
        echo "$k,$r,$(echo "$j" | json_num seconds),$(secs "$t0" "$t1")" >> $W/fig5.csv
        clickos-cli remove f4-1 1 >/dev/null || echo "bench: remove failed"
    done
}
fig4_start=$(now_ns)
for i in $(seq 1 "$FIG4_N"); do
    if [ "$(secs "$fig4_start" "$(now_ns)" | cut -d. -f1)" -ge "$FIG4_MAX_SECONDS" ]; then
        echo "bench: fig4 stopped at $((i - 1)) VMs: FIG4_MAX_SECONDS=$FIG4_MAX_SECONDS reached"
        break
    fi
    t0=$(now_ns)
    j=$(clickos-cli create $W/cnt.click --name f4-$i --memory "$MEM" --json --timeout 120) || {
        echo "bench: fig4 VM $i failed; stopping at $((i - 1)) VMs"; xl info | grep free_memory; break; }
    t1=$(now_ns)
    # Counting nodes walks the whole tree (slow under emulation): only at checkpoints.
    nodes="" free=""
    if [ "$i" = 1 ] || [ $((i % 16)) = 0 ]; then
        nodes=$(xenstore-ls / 2>/dev/null | wc -l)
        free=$(xl info | awk '/^free_memory/ { print $3 }')
    fi
    echo "$i,$(echo "$j" | json_num domid),$(echo "$j" | json_num xl_create),$(echo "$j" | json_num booted),$(echo "$j" | json_num started),$(secs "$t0" "$t1"),$nodes,$free" >> $W/fig4.csv
    echo "bench: fig4 $(tail -1 $W/fig4.csv)"
    # CPU time each domain used so far: idle ClickOS guests should not accumulate any.
    { [ "$i" = 1 ] || [ $((i % 16)) = 0 ]; } && xl list | awk 'NR > 1 { printf "%s:%s ", $1, $6 } END { print "" }' | sed 's/^/bench: cpu-s /'
    for k in $FIG5_K; do [ "$k" = $((i - 1)) ] && fig5_at "$k"; done
done
emit fig4.csv $W/fig4.csv
emit fig5.csv $W/fig5.csv
echo "bench: done"
