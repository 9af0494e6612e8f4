#!/usr/bin/env bash
# Give a QEMU build directory the x86 firmware that the Debian source lacks.
#   firmware.sh [BUILD_DIR]      default: $ZQ_BUILD_DIR or build/qemu/build
#
# The pinned base is Debian's "+ds" source, which ships no prebuilt BIOS
# images, so qemu-system-x86_64 run from the build directory stops with
# "could not load PC BIOS 'bios-256k.bin'".  QEMU run from its build
# directory looks up firmware below BUILD_DIR/qemu-bundle/ (see
# get_relocated_path() in util/cutils.c), and its configured firmware path
# is searched first.  This script links the firmware of Debian's seabios,
# qemu-system-data and ipxe-qemu packages there, installing those packages
# when missing.  meson never removes files from qemu-bundle/, and nothing in
# the source tree or the build's own outputs is changed.
set -euo pipefail
. "$(dirname "$0")/common.sh"

FW_PKGS=(seabios qemu-system-data ipxe-qemu)
FW_DIRS=(/usr/share/seabios /usr/share/qemu /usr/lib/ipxe/qemu)

dir=${1:-${ZQ_BUILD_DIR:-$BUILD}}
[ -f "$dir/config-host.h" ] || die "$dir is not a configured QEMU build directory"

missing=()
for p in "${FW_PKGS[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
        missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt_private_update
    log "installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -y -q "${APT_OPTS[@]}" \
        --no-install-recommends install "${missing[@]}" >&2
fi

# First entry of CONFIG_QEMU_FIRMWAREPATH, e.g. "/usr/local/share/qemu-firmware"
fwpath=$(sed -n 's/^#define CONFIG_QEMU_FIRMWAREPATH "\([^"]*\)".*/\1/p' "$dir/config-host.h")
[ -n "$fwpath" ] || die "no CONFIG_QEMU_FIRMWAREPATH in $dir/config-host.h"
dest=$dir/qemu-bundle$fwpath
mkdir -p "$dest"

n=0
for d in "${FW_DIRS[@]}"; do
    [ -d "$d" ] || continue
    for f in "$d"/*; do
        [ -f "$f" ] || continue
        case $f in *.bin|*.rom|*.img|*.lid|*.dtb) ;; *) continue ;; esac
        name=$(basename "$f")
        # The first directory that has a file wins, as in Debian's own
        # firmware path (seabios before qemu-system-data).
        if [ -e "$dest/$name" ] || [ -L "$dest/$name" ]; then
            continue
        fi
        ln -s "$(readlink -f "$f")" "$dest/$name"
        n=$((n + 1))
    done
done
[ -e "$dest/bios-256k.bin" ] || die "bios-256k.bin not found (is seabios installed?)"
log "firmware: $n new links in $dest"
