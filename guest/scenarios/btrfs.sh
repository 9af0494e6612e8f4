#!/bin/sh
# btrfs in zoned mode (data written by zone append, metadata by sequential
# writes) on the zoned virtio disk and on a null_blk device of the same
# geometry, in turn (guest/tests.sh qcow2-btrfs-multiqueue):
#
#   btrfs.sh [--jobs N] [--size BYTES] [--host-job]
#
# On each device: mkfs.btrfs (single data and metadata), mount, fio with N
# jobs (default 4) each writing its own file of --size bytes (default 16
# MiB) with O_DIRECT at queue depth 8, then N buffered jobs ending with an
# fsync; every file is verified (crc32c) as it is written and its md5sum
# kept; then umount, btrfs check, mount again and compare every file with
# its md5sum, and the kernel must have logged no error for the device
# (btrfs transaction aborts and failed writes are logged, but the steps
# around them can still succeed).  Each step prints "ZQ-BTRFS <device> <step> ok|fail ..." for
# the host to compare between the two devices, and "ZQ-RESULT btrfs
# pass|fail" at the end; exits 1 if a step failed on either device.
# With --host-job, first print ZQ-HOST-JOB-NOW and wait until the host
# has set the first byte of the other (not zoned) virtio disk to 1: the
# host starts a block job on the zoned disk then (guest/tests.sh
# qcow2-btrfs-backup), which runs while btrfs works on it.
# zq-needs: fio btrfs
# shellcheck shell=dash source=lib.sh
. /zq/lib.sh
set -u

jobs=4 size=$((16 << 20)) host_job=0
while [ $# -gt 0 ]; do
    case $1 in
    --jobs) jobs=$2; shift ;;
    --size) size=$2; shift ;;
    --host-job) host_job=1 ;;
    *) echo "btrfs.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

while read -r mod; do
    insmod "/lib/modules/btrfs/$mod" || { echo "btrfs.sh: insmod $mod failed"; exit 2; }
done < /lib/modules/btrfs/order

vd=$(zq_zoned_vdisks | head -n 1)
[ -n "$vd" ] || { echo "btrfs.sh: no zoned disk"; exit 2; }
spec=$(zq_nullb_spec_like "$vd") || exit 2
nb=$(zq_nullb_create zqbtrfs "$spec") || exit 2
echo "ZQ-BTRFS queues $vd $(find /sys/block/"$vd"/mq -mindepth 1 -maxdepth 1 | wc -l)"

if [ "$host_job" = 1 ]; then
    flag=""
    for b in /sys/block/vd*; do
        [ "${b##*/}" = "$vd" ] || flag=${b##*/}
    done
    [ -n "$flag" ] || { echo "btrfs.sh: no flag disk"; exit 2; }
    read_flag() { dd if="/dev/$flag" bs=512 count=1 iflag=direct 2>/dev/null | head -c 1; }
    echo ZQ-HOST-JOB-NOW
    i=0
    while [ "$(read_flag)" != 1 ] && [ $i -lt 600 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    [ "$(read_flag)" = 1 ] || { echo "btrfs.sh: the host did not start its job"; exit 1; }
    echo "ZQ-BTRFS host job running"
fi

fails=0
# step DEV NAME COMMAND...: run it, print its result
step() {
    _dev=$1 _name=$2; shift 2
    if "$@" > /tmp/out 2>&1; then
        echo "ZQ-BTRFS $_dev $_name ok"
        return 0
    fi
    echo "ZQ-BTRFS $_dev $_name fail"
    tail -n 15 /tmp/out
    fails=$((fails + 1))
    return 1
}

# writers DIRECT NAME: the N fio jobs, each on its own file
writers() {
    fio --name="$2" --directory="$mnt" --numjobs="$jobs" --size="$size" \
        --rw=write --bs=64k --ioengine=libaio --iodepth=8 --direct="$1" \
        --end_fsync=1 --verify=crc32c --verify_fatal=1 --group_reporting
}

sums() { (cd "$mnt" && find . -type f | sort | xargs md5sum); }

# no_kernel_errors DEV: fail if the kernel logged an error for DEV
no_kernel_errors() {
    dmesg | grep -E "error.*[ (]$1[):, ]" && return 1
    return 0
}

for dev in "$vd" "$nb"; do
    # A mount point of its own: one left mounted after a failed umount
    # does not hide the next device's file system
    mnt=/mnt/$dev
    mkdir -p "$mnt"
    step "$dev" mkfs mkfs.btrfs -f -d single -m single "/dev/$dev" || continue
    grep -i zoned /tmp/out | head -n 3
    step "$dev" mount mount -t btrfs "/dev/$dev" "$mnt" || continue
    step "$dev" fio-direct writers 1 direct
    step "$dev" fio-buffered writers 0 buffered
    sums > "/tmp/sums.$dev"
    echo "ZQ-BTRFS $dev files $(wc -l < "/tmp/sums.$dev")"
    step "$dev" umount umount "$mnt" || continue
    step "$dev" check btrfs check "/dev/$dev"
    step "$dev" remount mount -t btrfs "/dev/$dev" "$mnt" || continue
    sums > "/tmp/sums2.$dev"
    step "$dev" reread cmp "/tmp/sums.$dev" "/tmp/sums2.$dev"
    step "$dev" final-umount umount "$mnt"
    step "$dev" kernel-log no_kernel_errors "$dev"
done
zq_nullb_remove zqbtrfs
if [ "$fails" = 0 ]; then echo "ZQ-RESULT btrfs pass"; else echo "ZQ-RESULT btrfs fail"; fi
[ "$fails" = 0 ]
