#!/bin/bash
# fetch-debs.sh: make sure every .deb the test host is built from is in the
# cache folder, downloading only what is missing.
#
# Two steps, so that repeated builds are fast and work offline:
#  1. Resolve: turn packages.list (+ the kernel) into an exact list of
#     package versions, including the recursive closure of shared-library
#     dependencies, and write it to $CACHE_DIR/packages.lock. This needs apt's
#     package lists and runs only when the lock is missing or its inputs
#     (packages.list, KERNEL_PKG) changed. Delete the lock (make update-debs)
#     to pick up newer Debian versions.
#  2. Download: `apt-get download pkg=version` for each locked package whose
#     .deb is not in the cache yet. With a complete cache this step does not
#     touch the network at all.
#
# Environment: CACHE_DIR (where the .debs go), PACKAGES_FILE (packages.list),
# KERNEL_PKG (optional: a linux-image-* package; default: the one that
# linux-image-amd64 depends on).
set -eu
. "$(dirname "$0")/lib.sh"

: "${CACHE_DIR:?CACHE_DIR must be set}"
: "${PACKAGES_FILE:?PACKAGES_FILE must be set}"
KERNEL_PKG=${KERNEL_PKG:-}
LOCK=$CACHE_DIR/packages.lock

[ -r "$PACKAGES_FILE" ] || die "package list $PACKAGES_FILE not found"
mkdir -p "$CACHE_DIR"

# The names from packages.list, comments and blank lines stripped.
top_packages=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$PACKAGES_FILE")
[ -n "$top_packages" ] || die "$PACKAGES_FILE lists no packages"

# What the lock was resolved from. If this changes, the lock is stale.
inputs_hash=$(printf '%s\nkernel=%s\n' "$top_packages" "$KERNEL_PKG" | sha256sum | cut -d' ' -f1)

lock_is_current() {
    [ -s "$LOCK" ] && [ "$(sed -n 's/^# inputs-sha256 //p' "$LOCK")" = "$inputs_hash" ]
}

# apt-cache only knows packages after `apt-get update`. On a fresh machine
# the lists are empty; we are root there, so refresh them once ourselves.
ensure_apt_lists() {
    if ! apt-cache show --no-all-versions xen-utils-4.17 >/dev/null 2>&1; then
        log "apt does not know xen-utils-4.17 yet: running apt-get update"
        apt-get update -qq || die "apt-get update failed (no access to Debian's archive?)"
        apt-cache show --no-all-versions xen-utils-4.17 >/dev/null 2>&1 ||
            die "Xen packages missing from apt's lists: is this Debian 12 (bookworm) with main enabled?"
    fi
}

# deps_of PKG...: the Depends/PreDepends of the given packages, first
# alternative only, virtual packages and ":any" qualifiers dropped.
deps_of() {
    apt-cache depends --no-recommends --no-suggests --no-conflicts \
        --no-breaks --no-replaces --no-enhances "$@" |
        awk '$1 ~ /^\|?(Pre)?Depends:$/ { print $2 }' |
        grep -v '^<' | sed 's/:any$//' | sort -u
}

# lib_packages PKG...: those of the given packages whose section is "libs"
# (or "<area>/libs"): the shared-library packages.
lib_packages() {
    apt-cache show --no-all-versions "$@" |
        awk '/^Package:/ { p = $2 } /^Section:/ { if ($2 ~ /(^|\/)libs$/) print p }' | sort -u
}

resolve() {
    ensure_apt_lists
    local kernel=$KERNEL_PKG
    if [ -z "$kernel" ]; then
        # linux-image-amd64 is Debian's "current kernel" metapackage; its
        # first dependency is the real, versioned image package.
        kernel=$(apt-cache depends linux-image-amd64 | awk '$1 == "Depends:" { print $2; exit }')
        [ -n "$kernel" ] || die "cannot resolve linux-image-amd64 to a kernel package"
    fi
    log "resolving packages (kernel: $kernel)"

    # Breadth-first walk over dependencies, following only library packages.
    local all=" " queue new pkg
    for pkg in $top_packages $kernel; do all="$all$pkg "; done
    queue="$top_packages $kernel"
    while [ -n "$queue" ]; do
        new=""
        # shellcheck disable=SC2086 # word splitting of package names is intended
        for pkg in $(deps_of $queue); do
            case "$all" in *" $pkg "*) ;; *) new="$new $pkg" ;; esac
        done
        queue=""
        [ -n "$new" ] || break
        # shellcheck disable=SC2086
        for pkg in $(lib_packages $new); do
            all="$all$pkg "
            queue="$queue $pkg"
        done
    done

    # Pin each package to its current candidate version.
    local tmp=$LOCK.tmp
    {
        echo "# Exact packages of the Xen test host, written by fetch-debs.sh. Delete to re-resolve."
        echo "# inputs-sha256 $inputs_hash"
        echo "# package version architecture file"
        # shellcheck disable=SC2086
        apt-cache show --no-all-versions $all |
            awk '/^Package:/ { p = $2 } /^Version:/ { v = $2 } /^Architecture:/ { a = $2 }
                 /^$/ { if (p != "") { f = v; gsub(":", "%3a", f); print p, v, a, p "_" f "_" a ".deb" }; p = "" }
                 END { if (p != "") { f = v; gsub(":", "%3a", f); print p, v, a, p "_" f "_" a ".deb" } }' |
            sort -u
    } >"$tmp"
    local want got
    want=$(wc -w <<<"$all")
    got=$(grep -vc '^#' "$tmp" || true)
    [ "$want" = "$got" ] || die "resolved $want packages but apt-cache described $got"
    mv "$tmp" "$LOCK"
    log "locked $got packages in $LOCK"
}

lock_is_current || resolve

# Download whatever the cache lacks.
missing=()
while read -r pkg version _arch file; do
    [ -s "$CACHE_DIR/$file" ] || missing+=("$pkg=$version")
done < <(grep -v '^#' "$LOCK")

if [ "${#missing[@]}" -gt 0 ]; then
    log "downloading ${#missing[@]} package(s) into $CACHE_DIR"
    ensure_apt_lists
    # APT::Sandbox::User=root: apt otherwise tries to download as the _apt
    # user, which cannot write into a root-owned project folder.
    (cd "$CACHE_DIR" && apt-get download -qq -o APT::Sandbox::User=root "${missing[@]}") ||
        die "apt-get download failed; if a locked version left the archive, run: make -C images update-debs"
fi

# Verify, and drop .debs no longer in the lock so the cache does not grow forever.
while read -r _pkg _version _arch file; do
    [ -s "$CACHE_DIR/$file" ] || die "$file still missing after download"
done < <(grep -v '^#' "$LOCK")
for deb in "$CACHE_DIR"/*.deb; do
    [ -e "$deb" ] || continue
    awk -v f="${deb##*/}" '$4 == f { found = 1 } END { exit !found }' "$LOCK" || { log "removing stale ${deb##*/}"; rm -f "$deb"; }
done
exit 0
