# shellcheck shell=bash
# /etc/sandbox/check.sh: optional helpers for scenario scripts.
#
#   . /etc/sandbox/check.sh
#   check "xl info works" xl info
#   checks_done            # returns 0 only if every check passed
#   wait_node PATH [S]     # Xenstore: until PATH exists (wait_gone: until it goes)
#
# Each check prints "CHECK PASS name" or "CHECK FAIL name", the per-check
# lines that `make sandbox-test` keeps in its output. The summary line is
# worded "checks: X of Y passed" on purpose: a line like "N passed, M failed"
# is reserved for the final result of the whole run.

CHECKS_TOTAL=0
CHECKS_FAILED=0

# check NAME COMMAND [ARGS...]: run COMMAND (its output is shown) and record
# whether it succeeded.
check() {
    local name=$1
    shift
    CHECKS_TOTAL=$((CHECKS_TOTAL + 1))
    if "$@"; then
        echo "CHECK PASS $name"
    else
        echo "CHECK FAIL $name (exit $?)"
        CHECKS_FAILED=$((CHECKS_FAILED + 1))
    fi
}

# checks_done: print the summary; succeed only if no check failed.
checks_done() {
    echo "checks: $((CHECKS_TOTAL - CHECKS_FAILED)) of $CHECKS_TOTAL passed"
    [ "$CHECKS_FAILED" -eq 0 ]
}

# wait_node PATH [SECONDS]: until the Xenstore node PATH exists (default 30 s).
wait_node() {
    local i n=$(( ${2:-30} * 20 ))
    for i in $(seq 1 "$n"); do xenstore-read "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done
    echo "no $1 after ${2:-30} s"; return 1
}

# wait_gone PATH [SECONDS]: until the Xenstore node PATH no longer exists.
wait_gone() {
    local i n=$(( ${2:-30} * 20 ))
    for i in $(seq 1 "$n"); do xenstore-read "$1" >/dev/null 2>&1 || return 0; sleep 0.05; done
    echo "$1 still there after ${2:-30} s"; return 1
}
