#!/usr/bin/env bash
# Installs everything the build and the tests need, idempotently: a second run does nothing and
# needs no network. Called by `make deps` (and so by `make test` and `make demo`).
set -euo pipefail

# Debian packages: graphviz renders `clickos-cli graph`; tcpdump reads the pcap files the
# data-plane tests write; binutils (objcopy) strips the guest image.
APT_PACKAGES=(graphviz tcpdump binutils)

missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing Debian packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "install-deps: cargo not found: install Rust with rustup (https://rustup.rs) first" >&2
    exit 1
fi

# The guest and the no_std libraries build for x86_64-unknown-none.
if command -v rustup >/dev/null 2>&1; then
    if ! rustup target list --installed | grep -qx x86_64-unknown-none; then
        echo "install-deps: adding Rust target x86_64-unknown-none"
        rustup target add x86_64-unknown-none
    fi
    if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
        rustup component add rust-src
    fi
fi
exit 0
