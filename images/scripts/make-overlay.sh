#!/bin/bash
# make-overlay.sh: build a small gzipped cpio archive that is appended to
# dom0.cpio.gz at boot time. Linux unpacks concatenated (separately
# compressed) cpio archives in order into the same root file system, so an
# overlay adds or replaces files without rebuilding the large, cached base.
#
# Usage: make-overlay.sh OUT.cpio.gz ITEM...
#   --bin SRC DEST    an executable; its shared libraries that the base image
#                     lacks are added too (resolved like the base's: extracted
#                     packages first, then the host)
#   --file SRC DEST   a plain file, copied as is
#   --dir DEST        an empty directory
#
# Environment: BUILD_DIR (to find the base image's rootfs/ and sysroot/).
set -eu
. "$(dirname "$0")/lib.sh"

: "${BUILD_DIR:?}"
[ $# -ge 1 ] || die "usage: make-overlay.sh OUT.cpio.gz [--bin SRC DEST | --file SRC DEST | --dir DEST]..."
out=$1
shift
need cpio "run: make -C images deps"

stage=$(mktemp -d "$BUILD_DIR/overlay.XXXXXX")
trap 'rm -rf "$stage"; [ -z "${tmp:-}" ] || rm -f "$tmp"' EXIT

bins=()
while [ $# -gt 0 ]; do
    case "$1" in
        --bin | --file)
            [ $# -ge 3 ] || die "$1 needs SRC and DEST"
            [ -f "$2" ] || die "$2: no such file"
            mkdir -p "$stage$(dirname "$3")"
            cp -L "$2" "$stage$3"
            if [ "$1" = --bin ]; then
                chmod 755 "$stage$3"
                is_elf "$stage$3" && bins+=("$stage$3")
            fi
            shift 3 ;;
        --dir)
            [ $# -ge 2 ] || die "--dir needs DEST"
            mkdir -p "$stage$2"
            shift 2 ;;
        *)
            die "unknown argument: $1" ;;
    esac
done

if [ "${#bins[@]}" -gt 0 ]; then
    # Libraries already in the base image are not duplicated.
    PRESENT_ROOT=$BUILD_DIR/rootfs install_libs_for "$stage" "$BUILD_DIR/sysroot" "${bins[@]}"
    # Drop the library directories again if nothing was needed in them.
    rmdir "$stage/lib/x86_64-linux-gnu" "$stage/lib64" 2>/dev/null || true
    rmdir "$stage/lib" 2>/dev/null || true
fi

mkdir -p "$(dirname "$out")"
# A unique temporary name, then an atomic rename: concurrent builds (other
# worktrees) and running boots never see a half-written archive.
tmp=$(mktemp "$out.XXXXXX")
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
    gzip -6n >"$tmp"
chmod 644 "$tmp"
mv "$tmp" "$out"
