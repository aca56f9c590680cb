# shellcheck shell=bash
# Shared helpers for the Xen test-host scripts. Sourced, never executed.
#
# Everything here is deliberately small and dependency-free (bash + coreutils +
# binutils' readelf), because the same helpers run on a fresh CI machine.

# Prefix every message with the script's name so that, inside a long `make`
# log, it is obvious which step said what.
log()  { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
warn() { printf '%s: warning: %s\n' "${0##*/}" "$*" >&2; }
die()  { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# need CMD HINT: fail early with an actionable message instead of a cryptic
# "command not found" halfway through a build.
need() {
    command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}

# is_elf FILE: true for ELF files. We look at the magic bytes ourselves
# rather than calling `file`, which is not guaranteed to be installed.
is_elf() {
    [ -f "$1" ] && [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]
}

# elf_needed FILE: the DT_NEEDED sonames of FILE, one per line (nothing for
# static binaries). readelf reads the file without executing it, so this
# works for any architecture-compatible ELF and never runs untrusted code.
elf_needed() {
    readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p'
}

# elf_interp FILE: the PT_INTERP path (the dynamic loader), empty if static.
elf_interp() {
    readelf -l "$1" 2>/dev/null | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p'
}

# Library search directories, in priority order, relative to a root. These
# are the multiarch directories Debian's ld.so searches by default, so a
# library found here in the extracted packages is exactly what dom0's loader
# would pick at run time.
LIB_SUBDIRS="lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu lib64 lib usr/lib"

# find_lib SONAME ROOT...: print the first existing path of SONAME under any
# of the given roots (each searched through LIB_SUBDIRS). Returns 1 if none.
find_lib() {
    local soname=$1 root dir
    shift
    for root in "$@"; do
        for dir in $LIB_SUBDIRS; do
            if [ -e "$root/$dir/$soname" ]; then
                printf '%s\n' "$root/$dir/$soname"
                return 0
            fi
        done
    done
    return 1
}

# install_libs_for DEST_ROOT SYSROOT ELF...: copy into DEST_ROOT every shared
# library (transitively) that the given ELF files need, plus their dynamic
# loader. Libraries are looked up first in DEST_ROOT (already installed),
# then in SYSROOT (the extracted Debian packages), then on the host as a
# last resort (with a warning, because a host library may not match the
# packaged binaries). Libraries land in DEST_ROOT/lib/x86_64-linux-gnu under
# their soname, which is a directory Debian's ld.so searches without any
# ld.so.cache. Appends "soname <- source" lines to $LIB_REPORT if set.
# If $PRESENT_ROOT is set (the already-built base image), libraries found
# there are skipped: an overlay archive then only carries what is new.
install_libs_for() {
    local dest=$1 sysroot=$2
    shift 2
    local -a queue=("$@")
    local -A seen=()
    local f soname src interp
    mkdir -p "$dest/lib/x86_64-linux-gnu" "$dest/lib64"
    while [ "${#queue[@]}" -gt 0 ]; do
        f=${queue[0]}
        queue=("${queue[@]:1}")
        interp=$(elf_interp "$f")
        if [ -n "$interp" ] && [ ! -e "$dest$interp" ] &&
           { [ -z "${PRESENT_ROOT:-}" ] || [ ! -e "$PRESENT_ROOT$interp" ]; }; then
            src=$sysroot$interp
            [ -e "$src" ] || src=$interp
            [ -e "$src" ] || die "dynamic loader $interp (needed by $f) not found"
            mkdir -p "$dest$(dirname "$interp")"
            cp -L "$src" "$dest$interp"
            [ -z "${LIB_REPORT:-}" ] || echo "$interp <- $src" >>"$LIB_REPORT"
        fi
        for soname in $(elf_needed "$f"); do
            [ -z "${seen[$soname]:-}" ] || continue
            seen[$soname]=1
            # Already in the image (installed earlier, or present in the base
            # image): its own dependencies were resolved when it was added.
            if src=$(find_lib "$soname" "$dest" ${PRESENT_ROOT:+"$PRESENT_ROOT"}); then
                continue
            fi
            if ! src=$(find_lib "$soname" "$sysroot"); then
                if src=$(find_lib "$soname" ""); then
                    warn "$soname (needed by ${f##*/}) is not in the extracted packages; using the host's $src"
                else
                    die "shared library $soname (needed by $f) found neither in the extracted packages nor on the host"
                fi
            fi
            cp -L "$src" "$dest/lib/x86_64-linux-gnu/$soname"
            [ -z "${LIB_REPORT:-}" ] || echo "$soname <- $src" >>"$LIB_REPORT"
            queue+=("$dest/lib/x86_64-linux-gnu/$soname")
        done
    done
}

# now: seconds since the epoch with fractions, for timings.
now() { date +%s.%N; }
# elapsed START: seconds since START (as printed by `now`), one decimal.
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
