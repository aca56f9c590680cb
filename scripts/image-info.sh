#!/usr/bin/env bash
# image-info.sh ELF: prints the guest image's size on disk and the memory its PT_LOAD segments
# take once loaded (what counts toward the guest's memory).
set -euo pipefail
elf=$1
size=$(stat -c %s "$elf")
if ! command -v readelf >/dev/null 2>&1; then
    echo "image: $elf: $size bytes on disk"
    exit 0
fi
load=0
while read -r type _off va _pa _fsz msz _rest; do
    [ "$type" = LOAD ] || continue
    end=$((va + msz))
    [ "$end" -gt "$load" ] && load=$end
done < <(readelf -lW "$elf")
echo "image: $elf: $size bytes on disk, $load bytes ($((load / 1024)) KiB) loaded"
