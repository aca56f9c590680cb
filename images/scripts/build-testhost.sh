#!/bin/bash
# build-testhost.sh: build the Xen test host's boot files from Debian packages:
#
#   $BUILD_DIR/xen           the hypervisor (gunzipped multiboot ELF: QEMU's -kernel)
#   $BUILD_DIR/vmlinuz       the dom0 Linux kernel (first multiboot module)
#   $BUILD_DIR/dom0.cpio.gz  the dom0 initramfs (second multiboot module)
#
# The initramfs holds only Debian-derived content plus /init, so it changes
# rarely and is cached by make. Per-project files (clickos-cli, the unikernel)
# and per-run files (the scenario scripts) travel in small cpio archives that
# are appended to it at boot time (see make-overlay.sh, run-sandbox.sh).
#
# Environment (set by images/Makefile): IMAGES_DIR, CACHE_DIR, BUILD_DIR,
# PACKAGES_FILE, KERNEL_PKG, DOM0_MODULES.
set -eu
. "$(dirname "$0")/lib.sh"

: "${IMAGES_DIR:?}" "${CACHE_DIR:?}" "${BUILD_DIR:?}" "${DOM0_MODULES:?}"
for tool in readelf objcopy cpio dpkg-deb gzip tar od flock; do
    need "$tool" "run: make -C images deps"
done

# Other worktrees run these scripts on the same build folder: two builds at
# once would delete each other's sysroot/ and rootfs/. One at a time.
mkdir -p "$BUILD_DIR"
exec 7>"$BUILD_DIR/.build.lock"
if ! flock -n 7; then
    log "another build of the test host is running in $BUILD_DIR: waiting for it"
    flock 7
fi

t0=$(now)
# Make sure every locked .deb is in the cache (downloads only what is missing).
"$(dirname "$0")/fetch-debs.sh"
LOCK=$CACHE_DIR/packages.lock

SYSROOT=$BUILD_DIR/sysroot   # all non-kernel packages, extracted as-is
KROOT=$BUILD_DIR/kernel      # the few files we need from the kernel package
ROOTFS=$BUILD_DIR/rootfs     # the dom0 root file system being assembled
rm -rf "$SYSROOT" "$KROOT" "$ROOTFS"
mkdir -p "$SYSROOT" "$KROOT" "$ROOTFS"

# ---------------------------------------------------------------------------
# 1. Extract the packages.
# ---------------------------------------------------------------------------
kernel_deb="" kernel_pkg="" kernel_version=""
while read -r pkg version _arch file; do
    case "$pkg" in
        linux-image-*)
            kernel_deb=$CACHE_DIR/$file kernel_pkg=$pkg kernel_version=$version ;;
        *)
            dpkg-deb -x "$CACHE_DIR/$file" "$SYSROOT" ;;
    esac
done < <(grep -v '^#' "$LOCK")
[ -n "$kernel_deb" ] || die "no linux-image-* package in $LOCK"

# The kernel package unpacks to ~400 MB of modules; we need the image and
# about ten modules, so extract just those members (same decompression cost,
# a fraction of the disk writes). A module that is not found here may be
# built into the kernel; that is checked below against modules.builtin.
patterns=('./boot/vmlinuz-*' './lib/modules/*/modules.builtin')
for m in $DOM0_MODULES; do
    patterns+=("*/$m.ko" "*/$m.ko.*")
done
# tar exits non-zero when a pattern matches nothing; that is expected for
# built-in modules and judged per module below.
dpkg-deb --fsys-tarfile "$kernel_deb" |
    tar -x -C "$KROOT" --wildcards "${patterns[@]}" 2>/dev/null || true

vmlinuz=""
for f in "$KROOT"/boot/vmlinuz-*; do [ -f "$f" ] && vmlinuz=$f; done
[ -n "$vmlinuz" ] || die "kernel image missing from $kernel_deb"
KVER=${vmlinuz##*/vmlinuz-}
[ -d "$KROOT/lib/modules/$KVER" ] || die "modules of $KVER missing from $kernel_deb"

# ---------------------------------------------------------------------------
# 2. The hypervisor and the dom0 kernel.
# ---------------------------------------------------------------------------
xen_gz=$SYSROOT/boot/xen-4.17-amd64.gz
[ -f "$xen_gz" ] || die "Xen hypervisor package missing: $xen_gz not found (xen-hypervisor-4.17-amd64 in packages.list?)"
# QEMU's multiboot loader cannot read gzip: it wants the plain ELF.
gunzip -c "$xen_gz" >"$BUILD_DIR/xen.tmp"
cp "$vmlinuz" "$BUILD_DIR/vmlinuz.tmp"

# ---------------------------------------------------------------------------
# 3. The root file system.
# ---------------------------------------------------------------------------
# Plain (not usr-merged) layout: Debian bookworm's .debs still ship files
# under /bin, /sbin and /lib, and we copy them to the same places.
for d in bin sbin usr/bin usr/sbin usr/local/bin usr/local/sbin \
         lib/x86_64-linux-gnu lib64 etc/sandbox proc sys dev run tmp root \
         var/lib/xen/dump var/lib/xenstored var/log/xen/console opt/clickos sandbox; do
    mkdir -p "$ROOTFS/$d"
done
chmod 1777 "$ROOTFS/tmp"
# Xen's scripts use /var/run/xen and /var/lock (hotplugpath.sh); both live in /run.
ln -s ../run "$ROOTFS/var/run"
ln -s ../run/lock "$ROOTFS/var/lock"

# put SRC DEST: copy a file from the extracted packages into the image.
put() {
    [ -e "$SYSROOT/$1" ] || die "$1 missing from the extracted packages"
    mkdir -p "$ROOTFS/$(dirname "$2")"
    cp -a "$SYSROOT/$1" "$ROOTFS/$2"
}

put bin/busybox bin/busybox       # busybox-static: /init's shell and the applets
put bin/bash bin/bash             # bash: the hotplug scripts and the scenarios
put bin/ip bin/ip                 # iproute2
put sbin/bridge sbin/bridge
put bin/ss bin/ss
put sbin/brctl sbin/brctl         # bridge-utils
put usr/bin/flock usr/bin/flock   # util-linux: locking.sh in /etc/xen/scripts

# xenstore-utils: xenstore-read/-write/... are hard links to one binary
# (cp -a keeps them linked, and so does cpio). xenstore-control is a symlink
# to Debian's version-dispatch wrapper; point it at the real tool instead.
cp -a "$SYSROOT"/usr/bin/xenstore* "$ROOTFS/usr/bin/"
for f in "$ROOTFS"/usr/bin/xenstore*; do
    if [ -L "$f" ]; then
        rm "$f"
        ln -s "/usr/lib/xen-4.17/bin/${f##*/}" "$f"
    fi
done

# xen-utils-4.17: the whole tool directory except the Python scripts (no
# Python in dom0; pygrub & co. are not used for PV unikernels).
mkdir -p "$ROOTFS/usr/lib/xen-4.17"
cp -a "$SYSROOT/usr/lib/xen-4.17/bin" "$ROOTFS/usr/lib/xen-4.17/"
for f in "$ROOTFS"/usr/lib/xen-4.17/bin/*; do
    if ! is_elf "$f" && head -n 1 "$f" | grep -q python; then
        rm "$f"
    fi
done
# Debian's /usr/sbin/xl is a wrapper that picks the Xen version; we have one.
for tool in xl xenstored xenconsoled xen-init-dom0; do
    ln -s "/usr/lib/xen-4.17/bin/$tool" "$ROOTFS/usr/sbin/$tool"
done
# xen-utils-common: /etc/xen/scripts (vif-bridge, ...) and xl.conf.
cp -a "$SYSROOT/etc/xen" "$ROOTFS/etc/"

# ---------------------------------------------------------------------------
# 4. Shared libraries: walk DT_NEEDED from every ELF in the image.
# ---------------------------------------------------------------------------
LIB_REPORT=$BUILD_DIR/libs.txt
: >"$LIB_REPORT"
export LIB_REPORT
elfs=()
while IFS= read -r -d '' f; do
    is_elf "$f" && elfs+=("$f")
done < <(find "$ROOTFS" -type f -print0)
install_libs_for "$ROOTFS" "$SYSROOT" "${elfs[@]}"
# glibc dlopen()s libgcc_s.so.1 for pthread_cancel/unwinding; it is not a
# DT_NEEDED of anything, and xl aborts without it (see the notes).
src=$(find_lib libgcc_s.so.1 "$SYSROOT") || die "libgcc_s.so.1 missing (libgcc-s1 not in the lock?)"
cp -L "$src" "$ROOTFS/lib/x86_64-linux-gnu/libgcc_s.so.1"
echo "libgcc_s.so.1 <- $src (dlopen'ed by glibc)" >>"$LIB_REPORT"
install_libs_for "$ROOTFS" "$SYSROOT" "$ROOTFS/lib/x86_64-linux-gnu/libgcc_s.so.1"

# ---------------------------------------------------------------------------
# 5. Kernel modules, in load order (the order is DOM0_MODULES').
# ---------------------------------------------------------------------------
mkdir -p "$ROOTFS/lib/modules/$KVER"
: >"$ROOTFS/etc/sandbox/modules"
loaded=" "
for m in $DOM0_MODULES; do
    found=$(find "$KROOT/lib/modules/$KVER" -name "$m.ko" -o -name "$m.ko.*")
    if [ -z "$found" ]; then
        if grep -q "/$m\\.ko\$" "$KROOT/lib/modules/$KVER/modules.builtin"; then
            log "module $m is built into $KVER: nothing to load"
            loaded="$loaded$m "
            continue
        fi
        die "kernel module $m not found in $kernel_pkg"
    fi
    [ "$(echo "$found" | wc -l)" = 1 ] || die "module name $m is ambiguous: $found"
    rel=${found#"$KROOT"/}
    dest=$ROOTFS/${rel%.ko*}.ko
    mkdir -p "$(dirname "$dest")"
    # busybox's insmod loads plain .ko files only, and decompressing at
    # build time costs nothing at boot, so store modules uncompressed.
    # (bookworm's 6.1 kernels ship them uncompressed; later ones use xz/zstd.)
    case "$found" in
        *.ko)     cp "$found" "$dest" ;;
        *.ko.xz)  xz -dc "$found" >"$dest" ;;
        *.ko.zst) need zstd "run: make -C images deps"; zstd -qdc "$found" >"$dest" ;;
        *.ko.gz)  gzip -dc "$found" >"$dest" ;;
        *)        die "unknown module compression: $found" ;;
    esac
    # Check the given order against each module's own dependency list, so a
    # wrong DOM0_MODULES order fails here rather than as a boot-time mystery.
    deps=$(objcopy -O binary --only-section=.modinfo "$dest" /dev/stdout 2>/dev/null |
        tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' ')
    for dep in $deps; do
        dep_dash=$(echo "$dep" | tr _ -) dep_us=$(echo "$dep" | tr - _)
        case "$loaded" in
            *" $dep "* | *" $dep_dash "* | *" $dep_us "*) ;;
            *) die "module $m depends on $dep, which is not listed before it in DOM0_MODULES" ;;
        esac
    done
    loaded="$loaded$m "
    echo "/${rel%.ko*}.ko" >>"$ROOTFS/etc/sandbox/modules"
done

# ---------------------------------------------------------------------------
# 6. Configuration files and /init.
# ---------------------------------------------------------------------------
echo 'root:x:0:0:root:/root:/bin/bash' >"$ROOTFS/etc/passwd"
echo 'root:x:0:' >"$ROOTFS/etc/group"
echo 'dom0' >"$ROOTFS/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$ROOTFS/etc/hosts"
cp "$IMAGES_DIR/dom0/profile" "$ROOTFS/etc/profile"
cp "$IMAGES_DIR/dom0/check.sh" "$ROOTFS/etc/sandbox/check.sh"
cp "$IMAGES_DIR/dom0/clickos.sh" "$ROOTFS/etc/sandbox/clickos.sh"
cp "$IMAGES_DIR/dom0/init" "$ROOTFS/init"
chmod 755 "$ROOTFS/init"
xen_version=$(grep '^xen-hypervisor-4.17-amd64 ' "$LOCK" | cut -d' ' -f2)
{
    echo "xen=$xen_version"
    echo "kernel_package=$kernel_pkg"
    echo "kernel_version=$kernel_version"
    echo "kernel_release=$KVER"
} >"$ROOTFS/etc/sandbox/versions"

# The kernel opens /dev/console for init's stdin/stdout before /init can
# mount devtmpfs; without the node init would start with no stdio at all.
# (/init re-opens the console after mounting devtmpfs anyway.)
mknod -m 600 "$ROOTFS/dev/console" c 5 1 2>/dev/null ||
    warn "cannot create /dev/console in the image (no mknod permission?); relying on /init to reopen it"

# busybox applet links, for every applet not provided by a real program.
# Checked by *name* across all PATH directories, not by path: a busybox
# /usr/sbin/brctl would otherwise shadow the real /sbin/brctl.
declare -A have=()
for d in bin sbin usr/bin usr/sbin usr/local/bin usr/lib/xen-4.17/bin; do
    for f in "$ROOTFS/$d"/*; do
        [ -e "$f" ] || [ -L "$f" ] || continue
        have[${f##*/}]=1
    done
done
for applet in $("$ROOTFS/bin/busybox" --list-full); do
    [ -z "${have[${applet##*/}]:-}" ] || continue
    mkdir -p "$ROOTFS/$(dirname "$applet")"
    ln -s /bin/busybox "$ROOTFS/$applet"
done

# ---------------------------------------------------------------------------
# 7. Check that every dynamic program resolves all its libraries inside the
#    image, using the image's own loader (ld.so --list, like ldd, without
#    running the program). Needs chroot; skipped where that is not allowed.
# ---------------------------------------------------------------------------
if chroot "$ROOTFS" /bin/busybox true 2>/dev/null; then
    bad=0
    while IFS= read -r -d '' f; do
        is_elf "$f" || continue
        [ -n "$(elf_interp "$f")" ] || continue
        out=$(chroot "$ROOTFS" /lib64/ld-linux-x86-64.so.2 --list "${f#"$ROOTFS"}" 2>&1) || true
        if echo "$out" | grep -q 'not found'; then
            # shellcheck disable=SC2001 # prefix every line
            echo "$out" | sed "s|^|  ${f#"$ROOTFS"}: |" >&2
            bad=1
        fi
    done < <(find "$ROOTFS" -type f -print0)
    [ "$bad" = 0 ] || die "some programs in the image miss shared libraries (see above)"
else
    warn "chroot not permitted here: skipping the in-image library check"
fi

# ---------------------------------------------------------------------------
# 8. Pack. Sorted names and fixed owner make the archive's content stable.
# ---------------------------------------------------------------------------
(cd "$ROOTFS" && find . -mindepth 1 | LC_ALL=C sort |
    cpio -o -H newc -R 0:0 --quiet) | gzip -6n >"$BUILD_DIR/dom0.cpio.gz.tmp"

# Publish all three only once everything succeeded.
mv "$BUILD_DIR/xen.tmp" "$BUILD_DIR/xen"
mv "$BUILD_DIR/vmlinuz.tmp" "$BUILD_DIR/vmlinuz"
mv "$BUILD_DIR/dom0.cpio.gz.tmp" "$BUILD_DIR/dom0.cpio.gz"

{
    echo "# Xen test host build manifest ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
    cat "$ROOTFS/etc/sandbox/versions"
    echo "modules=$(tr '\n' ' ' <"$ROOTFS/etc/sandbox/modules")"
    echo "dom0.cpio.gz bytes=$(stat -c %s "$BUILD_DIR/dom0.cpio.gz") rootfs_kbytes=$(du -sk "$ROOTFS" | cut -f1)"
    echo "## packages"
    grep -v '^#' "$LOCK"
    echo "## libraries"
    cat "$LIB_REPORT"
} >"$BUILD_DIR/manifest.txt"

log "built xen, vmlinuz ($KVER) and dom0.cpio.gz ($(du -h "$BUILD_DIR/dom0.cpio.gz" | cut -f1)) in $(elapsed "$t0") s"
