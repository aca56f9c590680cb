#!/bin/bash
# bench/xen/linux-initramfs.sh OUT.cpio.gz: the baseline Linux PV domU's initramfs — the test
# host's static busybox and an /init that prints a marker on the console and powers off. The
# kernel is the dom0's own Debian vmlinuz (it boots as a PV domU too). Runs on the build host.
set -eu
out=$1
busybox=${BUSYBOX:-$(dirname "$0")/../../images/build/sysroot/bin/busybox}
[ -x "$busybox" ] || { echo "$0: no static busybox at $busybox (make -C images testhost)" >&2; exit 1; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/dev" "$stage/proc"
cp "$busybox" "$stage/bin/busybox"
cat > "$stage/init" <<'INIT'
#!/bin/busybox sh
# The marker the benchmark waits for in the domain's console log, then power off.
/bin/busybox mount -t proc proc /proc
echo "LINUX-DOMU-UP uptime=$(/bin/busybox cut -d' ' -f1 /proc/uptime)" > /dev/console
/bin/busybox poweroff -f
INIT
chmod 755 "$stage/init"
(cd "$stage" && find . | cpio -o -H newc --quiet) | gzip -9 > "$out"
