#!/bin/bash
# run-sandbox.sh: boot the Xen test host in QEMU and run scenario scripts in
# its dom0; stream their output, collect the logs, and turn the result into
# an exit status.
#
# Usage:
#   run-sandbox.sh --single SCRIPT          one script; exit with its status
#   run-sandbox.sh --suite NAME SCRIPT...   many scripts in one boot; print
#                                           PASS/FAIL lines and the summary
#                                           "sandbox: N passed, M failed"
#   run-sandbox.sh --shell [SCRIPT...]      interactive dom0 (scripts run first)
#
# One boot costs ~30-45 s under emulation, so a suite runs all its scripts in
# the same boot. The dom0 side of the protocol is images/dom0/init; the
# markers are described there and in images/README.md.
#
# Environment (set by images/Makefile): BUILD_DIR, OUT_DIR, QEMU, QEMU_MEM,
# QEMU_SMP, XEN_CMDLINE, DOM0_CMDLINE, TIMEOUT (whole boot, s),
# SCENARIO_TIMEOUT (each script, s), DOM0_LOGS (always | on-failure: when
# to send dom0's dmesg, xl dmesg and syslog back), STATUS_FILE (if set, the
# exit status is also written there: make itself can only exit 0 or 2).
set -eu
. "$(dirname "$0")/lib.sh"

: "${BUILD_DIR:?}" "${OUT_DIR:?}"
QEMU=${QEMU:-qemu-system-x86_64}
QEMU_MEM=${QEMU_MEM:-3072}
QEMU_SMP=${QEMU_SMP:-2}
XEN_CMDLINE=${XEN_CMDLINE:-console=com1 com1=115200,8n1 dom0_mem=1024M loglvl=all guest_loglvl=all noreboot}
DOM0_CMDLINE=${DOM0_CMDLINE:-console=hvc0 earlyprintk=xen quiet}
TIMEOUT=${TIMEOUT:-600}
SCENARIO_TIMEOUT=${SCENARIO_TIMEOUT:-300}
# After dom0 says it is done, how long poweroff may take before we pull the plug.
POWEROFF_GRACE=${POWEROFF_GRACE:-60}
# Boots to try when dom0 hangs before READY (see boot_once's caller).
BOOT_ATTEMPTS=${BOOT_ATTEMPTS:-2}
# How long dom0 may take to report READY (or SETUP-FAILED). Normal: 12-30 s;
# a hang during setup is then reported in minutes, not after all of TIMEOUT.
BOOT_TIMEOUT=${BOOT_TIMEOUT:-120}
DOM0_LOGS=${DOM0_LOGS:-on-failure}
STATUS_FILE=${STATUS_FILE:-}

usage() { die "usage: run-sandbox.sh --single SCRIPT | --suite NAME SCRIPT... | --shell [SCRIPT...]"; }
[ $# -ge 1 ] || usage
kind=$1
shift
case "$kind" in
    --single) [ $# -eq 1 ] || usage; run_name=""; mode="batch" ;;
    --suite)  [ $# -ge 1 ] || usage; run_name=$1; shift; mode="batch" ;;
    --shell)  run_name="sandbox-shell"; mode="shell" ;;
    *) usage ;;
esac

# ---------------------------------------------------------------------------
# Preconditions, with messages that say what to do.
# ---------------------------------------------------------------------------
command -v "$QEMU" >/dev/null 2>&1 || die "QEMU not installed ($QEMU): run make -C images deps"
need flock "run: make -C images deps"
for f in xen vmlinuz dom0.cpio.gz project.cpio.gz; do
    [ -s "$BUILD_DIR/$f" ] || die "$BUILD_DIR/$f missing: run make -C images testhost"
done
case "$BUILD_DIR" in *,* | *' '*) die "BUILD_DIR must not contain commas or spaces (QEMU's -initrd syntax): $BUILD_DIR" ;; esac
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "TIMEOUT must be a number of seconds, not '$TIMEOUT'"
[[ "$BOOT_ATTEMPTS" =~ ^[1-9][0-9]*$ ]] || die "BOOT_ATTEMPTS must be a positive number, not '$BOOT_ATTEMPTS'"
[[ "$BOOT_TIMEOUT" =~ ^[0-9]+$ ]] || die "BOOT_TIMEOUT must be a number of seconds, not '$BOOT_TIMEOUT'"
[[ "$SCENARIO_TIMEOUT" =~ ^[0-9]+$ ]] || die "SCENARIO_TIMEOUT must be a number of seconds, not '$SCENARIO_TIMEOUT'"
case "$DOM0_LOGS" in always | on-failure) ;; *) die "DOM0_LOGS must be 'always' or 'on-failure'" ;; esac

# Only one QEMU per tree: two TCG guests on a 2-core machine would each run
# at half speed and blow their timeouts, and they would share build/run/.
exec 9>"$BUILD_DIR/.qemu.lock"
flock -n 9 || die "another sandbox QEMU from this tree is running (lock $BUILD_DIR/.qemu.lock)"
# And only one per machine, whichever tree (git worktrees) it comes from: wait
# for the other one rather than fail, so parallel work queues up.
MACHINE_LOCK=${MACHINE_LOCK:-/tmp/clickos-sandbox-qemu.lock}
exec 8>"$MACHINE_LOCK"
if ! flock -n 8; then
    log "another test-host QEMU runs on this machine (lock $MACHINE_LOCK): waiting for it"
    flock 8
fi

# The scripts, under their base names (which become the scenario names).
scripts=("$@")
names=()
declare -A seen_name=()
for s in "${scripts[@]}"; do
    [ -f "$s" ] || die "script $s not found"
    n=${s##*/}
    n=${n%.sh}
    [[ "$n" =~ ^[A-Za-z0-9._-]+$ ]] || die "script name '$n' must use only letters, digits, '.', '_' and '-'"
    [ -z "${seen_name[$n]:-}" ] || die "two scripts named $n"
    seen_name[$n]=1
    names+=("$n")
done
[ "$kind" != --single ] || run_name=${names[0]}

# ---------------------------------------------------------------------------
# The run archive: the scripts and how to run them, appended after the base
# image and the project overlay (later archives win on name clashes).
# ---------------------------------------------------------------------------
run_dir=$BUILD_DIR/run
mkdir -p "$run_dir"
printf 'MODE=%s\nSCENARIO_TIMEOUT=%s\nDOM0_LOGS=%s\n' "$mode" "$SCENARIO_TIMEOUT" "$DOM0_LOGS" >"$run_dir/config"
overlay_args=(--file "$run_dir/config" /sandbox/config --dir /sandbox/scripts)
for i in "${!scripts[@]}"; do
    overlay_args+=(--file "${scripts[$i]}" "/sandbox/scripts/${names[$i]}.sh")
done
"$(dirname "$0")/make-overlay.sh" "$run_dir/run.cpio.gz" "${overlay_args[@]}"
initrd=$run_dir/initrd.cpio.gz
cat "$BUILD_DIR/dom0.cpio.gz" "$BUILD_DIR/project.cpio.gz" "$run_dir/run.cpio.gz" >"$initrd"

# Same machine as in shared/notes/xen-test-host.md: TCG (Xen cannot run on
# this host's nested KVM), qemu64 CPU (the dom0 kernel faults with -cpu max),
# Xen as the multiboot kernel, dom0's kernel and initramfs as its modules.
# No NIC: the test host needs no network, and must not reach any.
qemu_args=(-accel tcg -cpu qemu64 -m "$QEMU_MEM" -smp "$QEMU_SMP"
    -nographic -no-reboot -nic none
    -kernel "$BUILD_DIR/xen" -append "$XEN_CMDLINE"
    -initrd "$BUILD_DIR/vmlinuz $DOM0_CMDLINE,$initrd")

if [ "$mode" = shell ]; then
    log "booting the test host interactively (~40 s to the dom0 prompt)."
    log "QEMU keys: Ctrl-a x quits, Ctrl-a c toggles the QEMU monitor; 'exit' in dom0 powers off."
    exec "$QEMU" "${qemu_args[@]}"
fi

# ---------------------------------------------------------------------------
# Batch run.
# ---------------------------------------------------------------------------
run_out=$OUT_DIR/$run_name
rm -rf "$run_out"
for n in "${names[@]}"; do rm -rf "${OUT_DIR:?}/$n"; done
mkdir -p "$run_out"
serial=$run_out/serial.log
: >"$serial"

declare -A rc_of=() secs_of=()
current=""      # scenario whose output is streaming
file_out=""     # log file being received
ready=0 done_seen=0 setup_failed="" t_ready="" t_first="" t_done=""

# Print a line to the terminal and, for scenario output, to its output.log.
emit() {
    printf '%s\n' "$1"
    [ -z "$current" ] || printf '%s\n' "$1" >>"$OUT_DIR/$current/output.log"
}

# group_dir GROUP: where a dumped log of GROUP goes on the host.
group_dir() {
    case "$1" in
        _*) echo "$run_out/${1#_}" ;;   # _dom0, _setup: belong to the run
        *) echo "$OUT_DIR/$1" ;;        # a scenario's own folder
    esac
}

# The argument may itself contain '=' (rc=0), so match up to the last '====='.
marker_re='=====SANDBOX:([A-Z-]+)( (.*))?====='
# handle_line LINE: one line of serial output.
handle_line() {
    local line=$1 what arg prefix n rcf secsf group fname d
    line=${line%$'\r'}
    if [[ "$line" =~ $marker_re ]]; then
        what=${BASH_REMATCH[1]}
        arg=${BASH_REMATCH[3]}
        # Text before the marker on the same line (a script's last line
        # without a newline) still belongs to what came before.
        prefix=${line%%=====SANDBOX:*}
        if [ -n "$prefix" ]; then
            if [ -n "$file_out" ]; then printf '%s\n' "$prefix" >>"$file_out"
            elif [ -n "$current" ]; then emit "$prefix"; fi
        fi
        case "$what" in
            READY)
                ready=1 t_ready=$(now)
                log "dom0 ready after $(awk -v a="$t_start" -v b="$t_ready" 'BEGIN { printf "%.1f", b - a }') s wall (dom0 ${arg})" ;;
            SETUP-FAILED)
                setup_failed=$arg
                log "dom0 setup FAILED: $arg" ;;
            BEGIN)
                current=$arg
                [ -n "$t_first" ] || t_first=$(now)
                mkdir -p "$OUT_DIR/$current"
                : >"$OUT_DIR/$current/output.log"
                [ "$kind" = --single ] || printf -- '----- %s -----\n' "$current" ;;
            END)
                read -r n rcf secsf <<<"$arg"
                [ -n "$n" ] || return 0
                rc_of[$n]=${rcf#rc=}
                secs_of[$n]=${secsf#secs=}
                current=""
                if [ "$kind" = --suite ]; then
                    printf -- '----- %s: exit %s after %s s -----\n' "$n" "${rc_of[$n]}" "${secs_of[$n]}"
                    if [ "${rc_of[$n]}" = 0 ]; then echo "PASS $n"; else echo "FAIL $n"; fi
                fi ;;
            FILE)
                read -r group fname <<<"$arg"
                fname=${fname##*/}
                [ -n "$fname" ] || return 0
                d=$(group_dir "$group")
                mkdir -p "$d"
                file_out=$d/$fname
                : >"$file_out" ;;
            EOF)
                file_out="" ;;
            DONE)
                done_seen=1 t_done=$(now) done_at=$SECONDS ;;
        esac
        return 0
    fi
    if [ -n "$file_out" ]; then
        printf '%s\n' "$line" >>"$file_out"
    elif [ -n "$current" ]; then
        emit "$line"
    elif [[ "$line" == sandbox-init:* ]]; then
        # dom0's own progress/error messages: few, and useful when setup breaks.
        printf '%s\n' "$line"
    fi
}

# xen_debug_dump: ask Xen (not dom0) what is going on, via its serial
# console: Ctrl-a three times switches the serial input from dom0 to Xen
# (QEMU's -nographic multiplexer passes a literal Ctrl-a on for Ctrl-a
# Ctrl-a), then Xen's
# debug keys: '0' dom0's vCPU registers and stacks, 'r' the run queues,
# 'd' the physical CPUs' registers. If nothing comes back, Xen itself is stuck.
xen_debug_dump() {
    printf '\001\001\001\001\001\001' >&6 || return 0
    sleep 1
    printf '0' >&6; sleep 2
    printf 'r' >&6; sleep 2
    printf 'd' >&6; sleep 3
}

# boot_once: start QEMU, stream and parse its serial output until it exits.
# Sets qrc (QEMU's exit status, 124 for TIMEOUT) and boot_hung (1 if dom0
# never reported READY or SETUP-FAILED within BOOT_TIMEOUT).
boot_once() {
    local fifo=$run_dir/serial.in pending="" done_at="" killed=0 chunk st
    : >"$serial"
    rm -f "$fifo"
    mkfifo "$fifo"
    # Keep a writer on QEMU's stdin (for xen_debug_dump). Opened read-write so
    # that opening does not wait for a reader. (Not on fd 8 or 9: those hold
    # the QEMU locks for as long as this script runs.)
    exec 6<>"$fifo"
    t_start=$(now)
    SECONDS=0   # BOOT_TIMEOUT and the poweroff grace count from QEMU's start
    boot_hung=0
    # timeout(1) guards against hangs; it also puts QEMU in its own process
    # group, so the trap below must stop it explicitly on Ctrl-C or errors.
    timeout -k 10 "$TIMEOUT" "$QEMU" "${qemu_args[@]}" <"$fifo" >"$serial" 2>"$run_out/qemu.stderr" &
    qpid=$!
    log "booting Xen + dom0 in QEMU (TCG; pid $qpid; timeout ${TIMEOUT} s; serial log $serial)"

    # Read the serial log as it grows. `read -t 1` wakes up every second even
    # when dom0 is silent, to enforce BOOT_TIMEOUT and the poweroff grace time;
    # bash keeps a partial line read before the time-out, and we complete it.
    while :; do
        chunk="" st=0
        IFS= read -r -t 1 chunk || st=$?
        if [ "$st" = 0 ]; then
            handle_line "${pending}${chunk}"
            pending=""
        elif [ "$st" -le 128 ]; then
            # End of file: QEMU is gone. Handle a last unterminated line.
            [ -z "$pending$chunk" ] || handle_line "$pending$chunk"
            break
        else
            pending+=$chunk
        fi
        # Deadlines, checked after every line and at least once a second.
        if [ "$killed" = 0 ] && [ "$ready" = 0 ] && [ -z "$setup_failed" ] && [ "$SECONDS" -ge "$BOOT_TIMEOUT" ]; then
            boot_hung=1 killed=1
            log "dom0 did not report READY within BOOT_TIMEOUT=${BOOT_TIMEOUT} s: asking Xen for a state dump, then stopping QEMU"
            xen_debug_dump
            kill "$qpid" 2>/dev/null || true
        fi
        if [ "$killed" = 0 ] && [ -n "$done_at" ] && [ $((SECONDS - done_at)) -ge "$POWEROFF_GRACE" ]; then
            log "dom0 did not power off within ${POWEROFF_GRACE} s: stopping QEMU"
            killed=1
            kill "$qpid" 2>/dev/null || true
        fi
    done < <(tail -n +1 -f --pid="$qpid" "$serial" 2>/dev/null)

    qrc=0
    wait "$qpid" || qrc=$?
    exec 6>&-
    rm -f "$fifo"
}

# shellcheck disable=SC2317 # called from the traps
cleanup() {
    kill "$qpid" 2>/dev/null || true
}
qpid=""
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# A boot very rarely wedges before dom0's /init runs (seen once in ~25
# boots on a loaded machine: no output at all, not even a lock-up warning).
# Nothing has run at that point, so booting again is safe: BOOT_ATTEMPTS
# boots at most; the hung attempt's serial log is kept for diagnosis.
attempt=1
t_run_start=$(now)
while :; do
    boot_once
    if [ "$boot_hung" = 1 ] && [ "$attempt" -lt "$BOOT_ATTEMPTS" ]; then
        mv "$serial" "$run_out/serial.hung-attempt$attempt.log"
        log "boot attempt $attempt hung (serial log and Xen's state dump kept in serial.hung-attempt$attempt.log); booting again"
        attempt=$((attempt + 1))
        continue
    fi
    break
done
t_end=$(now)
trap - EXIT INT TERM

diff_s() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "?"; else printf "%.1f", b - a }'; }
timings="boot-to-ready $(diff_s "$t_start" "$t_ready") s, scenarios $(diff_s "$t_first" "$t_done") s, poweroff $(diff_s "$t_done" "$t_end") s, total $(diff_s "$t_run_start" "$t_end") s (wall)"
[ "$attempt" = 1 ] || timings="$timings, after $attempt boot attempts"
echo "$timings" >"$run_out/timings.txt"

# Explain a run that did not end properly, with the end of the serial log.
explain_abort() {
    if [ "$boot_hung" = 1 ]; then
        log "TIMEOUT: dom0 did not report READY within BOOT_TIMEOUT=${BOOT_TIMEOUT} s (boot attempts: $attempt); QEMU was killed"
    elif [ "$qrc" = 124 ]; then
        log "TIMEOUT: no end marker within TIMEOUT=${TIMEOUT} s; QEMU was killed"
    elif [ "$done_seen" = 0 ]; then
        log "QEMU exited (status $qrc) before dom0 printed its end marker"
    fi
    [ "$ready" = 1 ] || log "dom0 never reported READY (boot or setup problem)"
    if [ -s "$run_out/qemu.stderr" ]; then
        log "QEMU stderr:"
        sed 's/^/  | /' "$run_out/qemu.stderr" >&2
    fi
    log "last lines of $serial:"
    tail -n 40 "$serial" | tr -d '\r' | sed 's/^/  | /' >&2
}

log "timings: $timings; logs in $run_out"

# finish CODE: record the exit status for callers that cannot see ours
# (make exits 2 for any failing recipe), then exit with it.
finish() {
    [ -z "$STATUS_FILE" ] || echo "$1" >"$STATUS_FILE"
    exit "$1"
}

if [ "$kind" = --single ]; then
    n=${names[0]}
    if [ -n "$setup_failed" ]; then
        explain_abort
        log "error: dom0 setup failed ($setup_failed): $n was not run"
        finish 125
    fi
    if [ -z "${rc_of[$n]:-}" ]; then
        explain_abort
        if [ "$qrc" = 124 ] || [ "$boot_hung" = 1 ]; then finish 124; fi
        finish 125
    fi
    [ "$done_seen" = 1 ] || explain_abort
    log "$n exited with status ${rc_of[$n]}"
    finish "${rc_of[$n]}"
fi

# Suite: every script that did not report an exit status failed.
passed=0 failed=0
for n in "${names[@]}"; do
    if [ "${rc_of[$n]:-x}" = 0 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        if [ -z "${rc_of[$n]:-}" ]; then
            echo "FAIL $n"
            log "$n did not run to completion"
        fi
    fi
done
[ -z "$setup_failed" ] || log "dom0 setup failed: $setup_failed"
if [ "$done_seen" = 0 ] || [ -n "$setup_failed" ]; then
    explain_abort
fi
echo "sandbox: $passed passed, $failed failed"
if [ "$failed" = 0 ] && [ "$done_seen" = 1 ] && [ -z "$setup_failed" ]; then
    finish 0
fi
finish 1
