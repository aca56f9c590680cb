#!/bin/bash
# deps.sh: install the host packages the test host needs, idempotently.
#
# Checks dpkg's database first and calls apt only for what is missing, so a
# second run is instant and works offline. `apt-get update` runs only when
# something must be installed (a fresh machine has empty package lists).
set -eu
. "$(dirname "$0")/lib.sh"

# Why each package:
#   qemu-system-x86  qemu-system-x86_64 runs Xen (TCG emulation)
#   seabios          the BIOS QEMU boots with (a dependency, named to be sure)
#   cpio             packs the initramfs archives
#   binutils         readelf/objcopy: shared-library and module dependencies
#   xz-utils, zstd   decompress kernel modules if a kernel ships them compressed
#   util-linux       flock: one QEMU per tree
#   apt, dpkg        apt-get download / dpkg-deb (always there on Debian)
PACKAGES="qemu-system-x86 seabios cpio binutils xz-utils zstd util-linux"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || missing="$missing $p"
done

if [ -z "$missing" ]; then
    log "host packages already installed"
    exit 0
fi

[ "$(id -u)" = 0 ] || die "need root to install:$missing"
log "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || die "apt-get update failed"
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends $missing >/dev/null || die "apt-get install failed:$missing"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 still missing after install"
log "done"
