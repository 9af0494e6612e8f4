#!/bin/sh
# Several writers on a zoned disk with several hardware queues (virtio-blk
# num-queues, served by more than one iothread on the host): fio
# --zonemode=zbd with one job per vCPU pair of zones, each job writing
# its own zones at queue depth 8 and reading them back with verify.
#
#   multiqueue.sh --dev DEV --zone-size BYTES --first BYTES [--jobs N]
#
#   --first BYTES   offset of the first sequential zone
#   --jobs N        fio jobs (default 4), each on two zones after the
#                   previous job's
#
# Prints "ZQ-MQ queues N" and "ZQ-RESULT multiqueue DEV pass|fail"; exits
# 1 on failure.
# zq-needs: fio
# shellcheck shell=dash source=lib.sh
. /zq/lib.sh

dev="" zsize="" first="" jobs=4
while [ $# -gt 0 ]; do
    case $1 in
    --dev) dev=$2; shift ;;
    --zone-size) zsize=$2; shift ;;
    --first) first=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    *) echo "multiqueue.sh: unknown option $1" >&2; exit 1 ;;
    esac
    shift
done
[ -n "$dev" ] && [ -n "$zsize" ] && [ -n "$first" ] ||
    { echo "multiqueue.sh: --dev, --zone-size and --first are required" >&2; exit 1; }

queues=$(ls -d /sys/block/"$dev"/mq/* 2>/dev/null | wc -l)
echo "ZQ-MQ queues $queues"
rc=0
[ "$queues" -ge 2 ] || { echo "only $queues hardware queue(s)"; rc=1; }
# Each job on its own two zones, so that the jobs write in parallel
if ! fio --name=mq --filename=/dev/"$dev" --direct=1 --ioengine=libaio \
        --iodepth=8 --zonemode=zbd --rw=write --bs=64k --numjobs="$jobs" \
        --offset="$first" --size=$((2 * zsize)) \
        --offset_increment=$((2 * zsize)) --verify=crc32c \
        --verify_fatal=1 --group_reporting; then
    echo "fio failed"
    rc=1
fi
blkzone report /dev/"$dev" | head -n $((first / zsize + 2 * jobs + 1))
if [ $rc = 0 ]; then echo "ZQ-RESULT multiqueue $dev pass"
else echo "ZQ-RESULT multiqueue $dev fail"; fi
exit $rc
