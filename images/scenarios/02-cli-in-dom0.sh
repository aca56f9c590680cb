#!/bin/bash
# Scenario 02-cli-in-dom0: the project's own dom0 tool runs in the test host's dom0.
#
# clickos-cli is copied into dom0 with the libraries it needs (images/scripts/build-project.sh);
# every later scenario that drives ClickOS guests depends on it. Checks:
#   - `clickos-cli --version` runs (the binary and its libraries are all there),
#   - `clickos-cli check` accepts a firewall configuration and rejects a broken one with
#     file:line:col,
#   - `clickos-cli run` forwards packets through a queue and reports the exact count through a
#     handler (no STOP: as in Click, a stopped router does not drain its queues; the run ends when
#     nothing is left to do).
set -u
# shellcheck source=../dom0/check.sh # installed in dom0 as /etc/sandbox/check.sh
. /etc/sandbox/check.sh

cli_runs() {
    command -v clickos-cli && clickos-cli --version
}

check_accepts_and_rejects() {
    cat > /tmp/fw.click <<'CFG'
in :: FromNetfront(0) -> Strip(14) -> CheckIPHeader -> f :: IPFilter(allow udp dst port 53, deny all)
   -> Unstrip(14) -> c :: Counter -> ToNetfront(1);
CFG
    clickos-cli check /tmp/fw.click || return 1
    printf 'a :: Idle;\na -> ;\n' > /tmp/broken.click
    local err
    err=$(clickos-cli check /tmp/broken.click 2>&1) && return 1
    echo "$err"
    case "$err" in *"broken.click:2:6"*) return 0 ;; *) return 1 ;; esac
}

run_counts_exactly() {
    local out
    out=$(clickos-cli run -e 'InfiniteSource(LIMIT 1000, BURST 32) -> q :: Queue -> Unqueue -> c :: Counter -> Discard' -h c.count) || return 1
    echo "$out"
    [ "$out" = "$(printf 'c.count:\n1000')" ]
}

check "clickos-cli runs in dom0" cli_runs
check "check accepts a firewall, rejects a broken config at line:col" check_accepts_and_rejects
check "run counts 1000 packets exactly" run_counts_exactly
checks_done
