#!/bin/bash
# build-project.sh: build $BUILD_DIR/project.cpio.gz, the overlay with the
# project's own binaries, appended to the base dom0 initramfs at boot.
#
# Kept apart from dom0.cpio.gz on purpose: the project's binaries change on
# every edit-compile cycle, the Debian-based image almost never, so only this
# small archive is rebuilt (always: it takes well under a second).
#
# Environment (set by images/Makefile):
#   CLICKOS_CLI      host path of clickos-cli -> dom0 /usr/local/bin/clickos-cli
#   CLICKOS_ELF      host path of the unikernel -> dom0 /opt/clickos/clickos.elf
#   DOM0_EXTRA_BINS  more host executables -> dom0 /usr/local/bin/<name>
#   DOM0_EXTRA_FILES more files, as HOST_PATH:DOM0_PATH pairs (copied as they are)
# Missing CLICKOS_* files are skipped with a note (they may not be built yet);
# a missing DOM0_EXTRA_BINS file is an error (someone asked for it).
set -eu
. "$(dirname "$0")/lib.sh"

: "${BUILD_DIR:?}"
[ -d "$BUILD_DIR/rootfs" ] || die "the base image is not built: run make -C images testhost"

args=()
if [ -n "${CLICKOS_CLI:-}" ] && [ -f "$CLICKOS_CLI" ]; then
    args+=(--bin "$CLICKOS_CLI" /usr/local/bin/clickos-cli)
    log "project: clickos-cli from $CLICKOS_CLI"
else
    log "project: no clickos-cli at ${CLICKOS_CLI:-<unset>} (not built yet?): not included"
fi
if [ -n "${CLICKOS_ELF:-}" ] && [ -f "$CLICKOS_ELF" ]; then
    args+=(--file "$CLICKOS_ELF" /opt/clickos/clickos.elf)
    log "project: unikernel from $CLICKOS_ELF"
else
    log "project: no unikernel at ${CLICKOS_ELF:-<unset>} (not built yet?): not included"
fi
# The fast-path switch, its control client, and the vif hotplug script that attaches guests to it
# (built by `cargo build --release -p clickos-vale`; skipped when not built).
for b in clickos-switchd clickos-switchctl; do
    src=${CLICKOS_CLI%/*}/$b
    if [ -f "$src" ]; then
        args+=(--bin "$src" "/usr/local/bin/$b")
        log "project: $b from $src"
    fi
done
args+=(--bin "$(dirname "$0")/../dom0/vif-clickos" /etc/xen/scripts/vif-clickos)
# The minimal Linux PV domU that boot times are compared with (scenario 12-boot-time, bench/xen):
# dom0's own Debian kernel and a busybox initramfs whose /init prints a marker.
BUSYBOX=$BUILD_DIR/sysroot/bin/busybox "$(dirname "$0")/../../bench/xen/linux-initramfs.sh" \
    "$BUILD_DIR/linux-init.cpio.gz"
args+=(--file "$BUILD_DIR/vmlinuz" /opt/bench/vmlinuz --file "$BUILD_DIR/linux-init.cpio.gz" /opt/bench/linux-init.cpio.gz)
log "project: Linux baseline domU (vmlinuz, linux-init.cpio.gz) in /opt/bench"
for bin in ${DOM0_EXTRA_BINS:-}; do
    [ -f "$bin" ] || die "DOM0_EXTRA_BINS: $bin not found"
    args+=(--bin "$bin" "/usr/local/bin/${bin##*/}")
    log "project: extra $bin"
done
for pair in ${DOM0_EXTRA_FILES:-}; do
    src=${pair%%:*} dest=${pair#*:}
    [ -f "$src" ] && [ "$dest" != "$pair" ] || die "DOM0_EXTRA_FILES: '$pair' is not an existing HOST_PATH:DOM0_PATH"
    args+=(--file "$src" "$dest")
    log "project: extra file $src -> $dest"
done

"$(dirname "$0")/make-overlay.sh" "$BUILD_DIR/project.cpio.gz" "${args[@]}"
