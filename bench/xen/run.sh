#!/bin/bash
# bench/xen/run.sh [bench|soak]: runs the Xen benchmarks (bench/xen/bench.sh) or the soak test
# (bench/xen/soak.sh) inside the test host (images/), extracts their CSVs into bench/results/ and
# draws the plots and summary (cargo run -p clickos-bench --bin xen-plots).
#
# Knobs (environment): FIG4_N (VMs for Figure 4, default 128; 400 for the long run), FIG5_K,
# FIG5_REPS, TABLE1_RUNS, LINUX_RUNS, MEM (MiB per ClickOS VM), SOAK_N (default 200),
# RESULTS_DIR (default bench/results), CACHE_DIR (Debian package cache, see images/README.md).
# The short CI-sized run: FIG4_N=8 FIG5_K="0 4" TABLE1_RUNS=1 LINUX_RUNS=1 (about 3 minutes).
set -eu
mode=${1:-bench}
root=$(cd "$(dirname "$0")/../.." && pwd)
res=${RESULTS_DIR:-$root/bench/results}
mkdir -p "$res"

case "$mode" in
    bench) inner=$root/bench/xen/bench.sh name=bench-xen vars="FIG4_N FIG4_MAX_SECONDS FIG5_K FIG5_REPS TABLE1_RUNS LINUX_RUNS MEM" ;;
    soak) inner=$root/bench/xen/soak.sh name=soak-xen vars="SOAK_N SOAK_MAX_SECONDS MEM" ;;
    # Everything in one boot: scenarios 40 and 41, the benchmarks, then the soak.
    all) inner="" name=xen-all vars="FIG4_N FIG4_MAX_SECONDS FIG5_K FIG5_REPS TABLE1_RUNS LINUX_RUNS MEM SOAK_N SOAK_MAX_SECONDS" ;;
    *) echo "usage: $0 [bench|soak|all]" >&2; exit 2 ;;
esac

make --no-print-directory -C "$root/images" testhost
# The Linux baseline domU (/opt/bench/vmlinuz, linux-init.cpio.gz) is part of every test host
# (images/scripts/build-project.sh).
extra=${DOM0_EXTRA_FILES:-}

# The script that runs in dom0: the knobs set here, then the benchmark itself.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
script=$tmp/$name.sh
{
    echo '#!/bin/bash'
    for v in $vars; do
        [ -z "${!v+x}" ] || printf 'export %s=%q\n' "$v" "${!v}"
    done
    if [ -n "$inner" ]; then
        cat "$inner"
    else
        # Each part as a file of its own, run in turn; their output goes to the same log.
        for part in images/scenarios/40-cli.sh images/scenarios/41-cli-traffic.sh bench/xen/bench.sh bench/xen/soak.sh; do
            n=${part##*/}
            printf "cat > /tmp/%s <<'@@PART-END@@'\n" "$n"
            cat "$root/$part"
            printf '@@PART-END@@\n'
            printf 'echo "part %s: start"; bash /tmp/%s; echo "part %s: exit $?"\n' "$n" "$n" "$n"
        done
    fi
} > "$script"

# Other QEMUs on this machine (other worktrees) slow the emulated host down: record the load.
echo "host $(hostname): $(nproc) CPUs; load before: $(cut -d' ' -f1-3 /proc/loadavg); QEMUs running: $(pgrep -c qemu-system || true)" > "$res/xen-host-$mode.txt"
# Sample the build host's load every 10 s while the test host runs (for reading the timings).
( echo "unix_time,load1,qemus_running"
  while sleep 10; do echo "$(date +%s),$(cut -d' ' -f1 /proc/loadavg),$(pgrep -c qemu-system || true)"; done
) > "$res/xen-host-load-$mode.csv" &
sampler=$!
rc=0
"$root/images/sandbox-run.sh" "$script" DOM0_EXTRA_FILES="$extra" \
    TIMEOUT="${TIMEOUT:-7200}" SCENARIO_TIMEOUT="${SCENARIO_TIMEOUT:-7000}" || rc=$?
kill "$sampler" 2>/dev/null || true
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$res/xen-host-$mode.txt"
log=${OUT_DIR:-$root/images/out}/$name/output.log
[ -f "$log" ] || { echo "$0: no output at $log" >&2; exit 1; }
# Files between "@@BENCH-FILE name@@" and "@@BENCH-END@@" go to $res/xen-<name>.
awk -v dir="$res" '
    { sub(/\r$/, "") }
    /^@@BENCH-FILE .*@@$/ { f = $2; sub(/@@$/, "", f); out = dir "/xen-" f; printf "" > out; next }
    /^@@BENCH-END@@$/ { close(out); out = ""; next }
    out != "" { print >> out }' "$log"
ls -l "$res"/xen-* 2>/dev/null || true
# Plots and summary from whatever results are there (a soak run adds its table).
(cd "$root" && cargo run --release -q -p clickos-bench --bin xen-plots -- "$res")
exit "$rc"
