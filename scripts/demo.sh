#!/usr/bin/env bash
# make demo: build the patched QEMU, make a zoned qcow2 image and show it to
# a Linux guest as a host-managed zoned virtio-blk disk.
#
#   demo.sh          image: build/demo/z.qcow2 (1 GiB, 64 MiB zones of
#                    48 MiB capacity, one conventional, open/active limits)
#
# Steps: scripts/tree.sh and scripts/build.sh (only what changed is rebuilt),
# qemu-img create -f qcow2 -o zone.mode=host-managed,zone.size=64M,...,
# qemu-img info, then the guest: guest/demo.sh, which boots a guest that
# writes zones, checks the image on the host and boots a new QEMU that
# finds the zones and data again, and does the same on NVMe ZNS.
set -euo pipefail
. "$(dirname "$0")/common.sh"

dir=${ZQ_BUILD_DIR:-$BUILD}
DEMO=$TOP/build/demo
IMG=$DEMO/z.qcow2
export CC=${CC:-$(command -v ccache >/dev/null && echo "ccache cc" || echo cc)}

if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B='' N=''; fi
step() { printf '\n%s### %s%s\n' "$B" "$*" "$N"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "Building the patched QEMU ($(grep -c -v -e '^#' -e '^$' "$TOP/patches/series" || true) patches on ${DEB_SOURCE} ${DEB_VERSION})"
mkdir -p "$DEMO"
echo "(the first build takes 6-10 minutes on 2 cores; its log: $DEMO/build.log)"
if ! { "$TOP/scripts/tree.sh" && "$TOP/scripts/build.sh" &&
       "$TOP/scripts/firmware.sh" "$dir"; } > "$DEMO/build.log" 2>&1; then
    tail -30 "$DEMO/build.log"
    echo "the build failed: see $DEMO/build.log"
    exit 1
fi
echo "built: $dir"

step "Creating a zoned qcow2 image"
rm -f "$IMG"
cd "$DEMO"
if ! run "$dir/qemu-img" create -f qcow2 \
        -o zone.mode=host-managed,zone.size=64M,zone.capacity=48M,zone.conventional_zones=1,zone.max_open_zones=4,zone.max_active_zones=6 \
        z.qcow2 1G; then
    echo
    echo "This QEMU cannot make a zoned qcow2 image yet: the series in"
    echo "patches/ does not have that part (yet).  Nothing more to show."
    exit 1
fi

step "What qemu-img says about it"
run "$dir/qemu-img" info z.qcow2

export QEMU=$dir/qemu-system-x86_64 QEMU_IMG=$dir/qemu-img
if [ -x "$TOP/guest/demo.sh" ]; then
    step "The image in a Linux guest (guest/demo.sh)"
    ZQ_DEMO_IMG=$IMG exec "$TOP/guest/demo.sh" "$IMG"
elif [ -x "$TOP/guest/run.sh" ]; then
    step "The image in a Linux guest, as a virtio-blk disk"
    "$TOP/scripts/deps.sh" guest
    run "$TOP/guest/run.sh" --script "$TOP/guest/scenarios/show.sh" -- \
        -blockdev driver=qcow2,file.driver=file,file.filename=z.qcow2,node-name=z \
        -device virtio-blk-device,drive=z
else
    echo
    echo "The guest harness (guest/run.sh) is not in this checkout, so the"
    echo "image is not shown to a guest.  It is in $IMG."
fi
