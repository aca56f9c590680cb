#!/bin/bash
# Scenario 40-cli: clickos-cli drives ClickOS domains end to end on real Xen (xl + xenstored).
#   - create: checks the config, xl-creates the domain, waits for the guest, installs and
#     starts the router, returns when it runs;
#   - list (text and --json); handler read gives the exact count (1000); handler write
#     src.limit 1500 changes what the source does (count becomes exactly 1500); a rejected write
#     shows the element's reason (exit 6); handler list (elements, one element's handlers);
#   - errors a user can act on: invalid config (exit 1, line:col, no domain created), unknown
#     handler / element (exit 5, lists what exists), no such domain (exit 5), missing image
#     (exit 3), an image xl cannot boot (exit 7, nothing left behind), a vif on a bridge that
#     does not exist (exit 7, the hotplug script's complaint shown, nothing left behind), a
#     kernel that crashes during boot (exit 7, its last console lines, nothing left behind);
#   - a second router with --router 1, stop/start/remove; console --tail; destroy.
# Cleans up every domain it created.
set -u
# shellcheck source=../dom0/check.sh # installed in dom0 as /etc/sandbox/check.sh
. /etc/sandbox/check.sh

D=cli-a
T=/tmp/cli40
mkdir -p $T
cleanup() {
    local n
    for n in $D clickos-bad cli-nokernel cli-nobridge cli-crash; do xl list "$n" >/dev/null 2>&1 && xl destroy "$n"; done
}
trap cleanup EXIT

cat > $T/cnt.click <<'CFG'
// 1000 packets, then the source waits (STOP false: the router keeps running).
src :: InfiniteSource(LIMIT 1000, STOP false) -> counter :: Counter -> Discard;
CFG
cat > $T/bad.click <<'CFG'
src :: InfiniteSource(LIMIT 10);
src -> NoSuchElement -> Discard;
CFG
cat > $T/second.click <<'CFG'
s2 :: InfiniteSource(LIMIT 77, STOP false) -> c2 :: Counter -> Discard;
CFG

# run_expect CODE CMD...: runs CMD, prints its output, succeeds if it exits with CODE.
OUT=
run_expect() {
    local want=$1 rc
    shift
    OUT=$("$@" 2>&1)
    rc=$?
    echo "\$ $* -> exit $rc"
    echo "$OUT"
    [ "$rc" = "$want" ]
}

# read_until HANDLER VALUE [ARGS...]: the guest counts asynchronously; ask for up to ~10 s.
read_until() {
    local h=$1 want=$2 i v
    shift 2
    for i in $(seq 1 40); do
        v=$(clickos-cli handler read "$@" "$h") || return 1
        [ "$v" = "$want" ] && { echo "$h = $v"; return 0; }
        sleep 0.25
    done
    echo "$h = $v (wanted $want)"
    return 1
}

created() {
    run_expect 0 clickos-cli create $T/cnt.click --name $D --memory 8 || return 1
    case "$OUT" in *"router 0 Running"*) ;; *) return 1 ;; esac
    [ "$(xenstore-read "/local/domain/$(xl domid $D)/data/clickos/0/status")" = Running ]
}

listed() {
    run_expect 0 clickos-cli list || return 1
    echo "$OUT" | grep -E "^$D +[0-9]+ +yes .* 0 +Running +$T/cnt.click" || return 1
    run_expect 0 clickos-cli list --json || return 1
    echo "$OUT" | tr -d ' \n' | grep -q "\"name\":\"$D\"" &&
        echo "$OUT" | tr -d ' \n' | grep -q '"id":0,"status":"Running"'
}

write_changes_behaviour() {
    run_expect 0 clickos-cli handler write $D src.limit 1500 || return 1
    read_until counter.count 1500 || return 1
    read_until src.count 1500 $D
}

rejected_write() {
    run_expect 6 clickos-cli handler write src.limit notanumber || return 1
    case "$OUT" in *"rejected"*) return 0 ;; *) return 1 ;; esac
}

handler_lists() {
    run_expect 0 clickos-cli handler list || return 1
    echo "$OUT" | grep -qx src && echo "$OUT" | grep -qx counter || return 1
    run_expect 0 clickos-cli handler list $D counter || return 1
    echo "$OUT" | grep -q "^counter.count	r" || return 1
    run_expect 0 clickos-cli handler list $D counter --json || return 1
    echo "$OUT" | tr -d ' \n' | grep -q '"name":"count","read":true'
}

bad_config_creates_nothing() {
    local before after
    before=$(xl list | wc -l)
    run_expect 1 clickos-cli create $T/bad.click || return 1
    after=$(xl list | wc -l)
    echo "xl list lines: $before before, $after after"
    case "$OUT" in *"bad.click:2:"*) ;; *) return 1 ;; esac
    [ "$before" = "$after" ] && ! xl list clickos-bad >/dev/null 2>&1
}

unknown_handler_lists_existing() {
    run_expect 5 clickos-cli handler read counter.nosuch || return 1
    case "$OUT" in *"count"*) ;; *) return 1 ;; esac
    run_expect 5 clickos-cli handler read nosuch.count || return 1
    case "$OUT" in *"counter"*"src"* | *"src"*"counter"*) return 0 ;; *) return 1 ;; esac
}

no_such_domain() {
    run_expect 5 clickos-cli handler read nodomain counter.count || return 1
    case "$OUT" in *"no domain 'nodomain'"*"$D"*) return 0 ;; *) return 1 ;; esac
}

image_errors() {
    run_expect 3 clickos-cli create $T/cnt.click --name cli-noimage --image /nonexistent.elf || return 1
    # Not a kernel: xl refuses it; nothing may be left behind.
    run_expect 7 clickos-cli create $T/cnt.click --name cli-nokernel --image /bin/true || return 1
    ! xl list cli-nokernel >/dev/null 2>&1
}

# A vif on a bridge that does not exist: the hotplug script fails, so the backend never
# connects; the error names the script's complaint and nothing is left behind.
missing_bridge() {
    run_expect 7 clickos-cli create $T/cnt.click --name cli-nobridge --vif nosuchbr0 || return 1
    echo "$OUT" | grep -q "Could not find bridge device nosuchbr0" || return 1
    ! xl list cli-nobridge >/dev/null 2>&1
}

# A kernel that crashes during boot (Linux without a root file system panics, and Xen's
# on_crash = destroy removes it): create says the domain died before its ClickOS boot and shows
# the last console lines; nothing is left behind.
crash_during_boot() {
    [ -f /opt/bench/vmlinuz ] || { echo "no /opt/bench/vmlinuz"; return 1; }
    run_expect 7 clickos-cli create $T/cnt.click --name cli-crash --image /opt/bench/vmlinuz --memory 128 --timeout 120 || return 1
    echo "$OUT" | grep -q "died before its ClickOS boot" || return 1
    echo "$OUT" | grep -q "Kernel panic" || return 1
    ! xl list cli-crash >/dev/null 2>&1
}

second_router() {
    run_expect 0 clickos-cli install $D $T/second.click --router 1 || return 1
    read_until c2.count 77 $D --router 1 || return 1
    # Router 0 is untouched.
    read_until counter.count 1500 || return 1
    run_expect 0 clickos-cli list || return 1
    echo "$OUT" | grep -qE "^$D .* 1 +Running +$T/second.click"
}

stop_start_remove() {
    run_expect 0 clickos-cli stop $D 1 || return 1
    [ "$(xenstore-read "/local/domain/$(xl domid $D)/data/clickos/1/status")" = Halted ] || return 1
    run_expect 5 clickos-cli handler read $D c2.count --router 1 || return 1
    run_expect 0 clickos-cli start $D --router 1 || return 1
    read_until c2.count 77 $D --router 1 || return 1
    run_expect 0 clickos-cli remove $D 1 || return 1
    ! xenstore-read "/local/domain/$(xl domid $D)/data/clickos/1/status" 2>/dev/null || return 1
    run_expect 5 clickos-cli start $D 1
}

console_tail() {
    run_expect 0 clickos-cli console $D --tail 5 || return 1
    [ "$(echo "$OUT" | wc -l)" -ge 1 ] && [ -n "$OUT" ]
}

destroyed() {
    run_expect 0 clickos-cli destroy $D || return 1
    ! xl list $D >/dev/null 2>&1 || return 1
    run_expect 5 clickos-cli handler read counter.count
}

check "cli-create" created
if xl list $D >/dev/null 2>&1; then
    check "cli-list-text-json" listed
    check "cli-handler-read-exact-1000" read_until counter.count 1000
    check "cli-handler-write-changes-behaviour" write_changes_behaviour
    check "cli-handler-write-rejected" rejected_write
    check "cli-handler-list" handler_lists
    check "cli-error-bad-config" bad_config_creates_nothing
    check "cli-error-unknown-handler" unknown_handler_lists_existing
    check "cli-error-no-domain" no_such_domain
    check "cli-error-image" image_errors
    check "cli-error-vif-bridge-missing" missing_bridge
    check "cli-error-crash-during-boot" crash_during_boot
    check "cli-second-router" second_router
    check "cli-stop-start-remove" stop_start_remove
    check "cli-console-tail" console_tail
    check "cli-destroy" destroyed
fi
checks_done
