#!/bin/sh
# Growing a zoned disk under a running guest (guest/tests.sh qcow2-resize):
#
#   resize.sh DEV NEW_ZONES
#
# Writes into the last zone, prints ZQ-RESIZE-NOW (the host then grows the
# image to NEW_ZONES zones with block_resize), waits for the capacity to
# change, probes the device again (unbinding and binding virtio_blk, which
# makes Linux read the zones again), and checks that the report has
# NEW_ZONES zones, that the old last zone kept its write pointer and data,
# and that a new zone is empty and takes writes.
# shellcheck shell=dash source=lib.sh
. /zq/lib.sh
set -u

dev=$1 want=$2
D=/dev/$dev
eval "$(zbdconf --geometry "$D")"
zs=$ZQ_ZONE_SIZE old=$ZQ_NR_ZONES
last=$((old - 1))
pat=/tmp/pat
dd if=/dev/urandom of=$pat bs=4096 count=2 2>/dev/null
dd if=$pat of="$D" bs=4096 seek=$((last * zs / 4096)) oflag=direct \
    conv=notrunc 2>/dev/null
zq_check old-last-written [ "$(zq_zone "$dev" "$last" wp)" = 8192 ]

sectors=$(cat "/sys/block/$dev/size")
echo ZQ-RESIZE-NOW
i=0
while [ "$(cat "/sys/block/$dev/size")" = "$sectors" ] && [ $i -lt 600 ]; do
    sleep 0.1
    i=$((i + 1))
done
zq_expect_eq capacity "$(cat "/sys/block/$dev/size")" $((want * zs / 512))

vdev=$(basename "$(readlink "/sys/block/$dev/device")")
echo "$vdev" > /sys/bus/virtio/drivers/virtio_blk/unbind
echo "$vdev" > /sys/bus/virtio/drivers/virtio_blk/bind
i=0
while [ ! -e "/sys/block/$dev" ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
zq_report "$dev" grown
zq_expect_eq zones "$(zbdconf --report "$D" | wc -l)" "$want"
zq_expect_eq nr_zones "$(cat "/sys/block/$dev/queue/nr_zones")" "$want"
zq_check old-last-kept [ "$(zq_zone "$dev" "$last" wp)" = 8192 ]
dd if="$D" of=/tmp/back bs=4096 skip=$((last * zs / 4096)) count=2 \
    iflag=direct 2>/dev/null
zq_check old-last-data cmp -s $pat /tmp/back
new=$((want - 1))
zq_check new-empty [ "$(zq_zone "$dev" "$new" cond)" = em ]
dd if=$pat of="$D" bs=4096 seek=$((new * zs / 4096)) oflag=direct \
    conv=notrunc 2>/dev/null
zq_check new-written [ "$(zq_zone "$dev" "$new" wp)" = 8192 ]
dd if="$D" of=/tmp/back bs=4096 skip=$((new * zs / 4096)) count=2 \
    iflag=direct 2>/dev/null
zq_check new-data cmp -s $pat /tmp/back
zq_say "resize checks failed: $ZQ_FAILS"
[ "$ZQ_FAILS" = 0 ]
