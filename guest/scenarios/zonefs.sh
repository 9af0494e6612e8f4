#!/bin/sh
# zonefs meets a zone that goes read-only (guest/tests.sh qcow2-zonefs):
#
#   zonefs.sh
#
# On the zoned virtio disk and on a null_blk device of the same geometry,
# in turn: write the zonefs super block (/zq/files/zonefs.sb) into the
# first zone, mount zonefs with errors=zone-ro, append 8 KiB to seq/1,
# make that zone read-only (null_blk: configfs; the disk: the host, with
# x-blockdev-zone-set-condition, when the guest prints ZQ-ZONE-RO-NOW),
# then append again, read the file back, and append to seq/2.  Each step
# prints "ZQ-FS <step> <result>" for the host to compare between the two
# devices; the guest must get through all of it.
# shellcheck shell=dash source=lib.sh
. /zq/lib.sh
set -u

vd=$(zq_zoned_vdisks | head -n 1)
[ -n "$vd" ] || { echo "zonefs.sh: no zoned disk"; exit 2; }
spec=$(zq_nullb_spec_like "$vd") || exit 2
nb=$(zq_nullb_create zqfs "$spec") || exit 2
dd if=/dev/urandom of=/tmp/data bs=4096 count=2 2>/dev/null

# step NAME COMMAND...: run it, print its result
step() {
    _name=$1; shift
    if "$@" 2>/tmp/err; then
        echo "ZQ-FS $dev $_name ok"
    else
        echo "ZQ-FS $dev $_name fail $(tr '\n' ' ' < /tmp/err | sed 's/^[^:]*: //')"
    fi
}


for dev in "$vd" "$nb"; do
    D=/dev/$dev
    eval "$(zbdconf --geometry "$D")"
    zsz=$ZQ_ZONE_SIZE
    seq1=$(zq_seq_zone "$dev" 1)
    blkzone reset "$D"
    dd if=/zq/files/zonefs.sb of="$D" bs=4096 oflag=direct conv=notrunc 2>/dev/null
    mkdir -p "/mnt/$dev"
    step mount mount -t zonefs -o errors=zone-ro "$D" "/mnt/$dev"
    step append-1 sh -c "dd if=/tmp/data of=/mnt/$dev/seq/1 bs=4096 oflag=direct,append conv=notrunc 2>/dev/null"
    echo "ZQ-FS $dev size-1 $(stat -c %s "/mnt/$dev/seq/1")"
    if [ "$dev" = "$vd" ]; then
        echo "ZQ-ZONE-RO-NOW $((seq1 * zsz))"
        i=0
        while [ "$(zq_zone "$dev" "$seq1" cond)" != ro ] && [ $i -lt 300 ]; do
            sleep 0.1
            i=$((i + 1))
        done
    else
        echo $((seq1 * zsz / 512)) > "$ZQ_NULLB_CFG/zqfs/zone_readonly"
    fi
    echo "ZQ-FS $dev cond $(zq_zone "$dev" "$seq1" cond)"
    step append-2 sh -c "dd if=/tmp/data of=/mnt/$dev/seq/1 bs=4096 oflag=direct,append conv=notrunc 2>/dev/null"
    step append-3 sh -c "dd if=/tmp/data of=/mnt/$dev/seq/1 bs=4096 oflag=direct,append conv=notrunc 2>/dev/null"
    echo "ZQ-FS $dev size-2 $(stat -c %s "/mnt/$dev/seq/1")"
    step read-back sh -c "dd if=/mnt/$dev/seq/1 of=/tmp/back bs=4096 count=2 iflag=direct 2>/dev/null && cmp -s /tmp/data /tmp/back"
    step other-zone sh -c "dd if=/tmp/data of=/mnt/$dev/seq/2 bs=4096 oflag=direct,append conv=notrunc 2>/dev/null"
    echo "ZQ-FS $dev perm $(stat -c %A "/mnt/$dev/seq/1")"
    step umount umount "/mnt/$dev"
done
echo "ZQ: zonefs done"
