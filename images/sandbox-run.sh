#!/bin/bash
# images/sandbox-run.sh SCRIPT [VAR=value...]
#
# The same as `make -C images sandbox-run SCRIPT=SCRIPT VAR=value...`, but
# exits with the script's own exit status. GNU make can only exit with 0, 1
# or 2: when the script exits 3, make prints "Error 3" and exits 2. This
# wrapper asks run-sandbox.sh to write the real status to a file (STATUS_FILE)
# and exits with that. Other failures (build errors, timeout: 124, no end
# marker: 125) come back the same way, or as make's own status.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: images/sandbox-run.sh SCRIPT [VAR=value...]" >&2
    exit 2
fi
script=$1
shift
[ -f "$script" ] || { echo "sandbox-run.sh: script $script not found" >&2; exit 2; }
script=$(realpath "$script")
here=$(cd "$(dirname "$0")" && pwd)

status_file=$(mktemp)
trap 'rm -f "$status_file"' EXIT
rc=0
make --no-print-directory -C "$here" sandbox-run SCRIPT="$script" STATUS_FILE="$status_file" "$@" || rc=$?
if [ -s "$status_file" ]; then
    rc=$(cat "$status_file")
fi
exit "$rc"
