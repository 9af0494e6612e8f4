#!/bin/sh
# Print what the guest sees of each disk: the queue attributes of every
# virtio disk (zoned or not) and, for zoned ones, the zone report.
#
#   show.sh [--nullb SPEC]...
#
# --nullb makes a null_blk zoned device with that geometry (see lib.sh) and
# shows it too: the harness's self-test.
# shellcheck shell=dash source=lib.sh
. /zq/lib.sh
set -eu

n=0
while [ $# -gt 0 ]; do
    case $1 in
    --nullb)
        disk=$(zq_nullb_create "zqshow$n" "$2")
        zq_say "null_blk $disk: $2"
        n=$((n + 1))
        shift 2
        ;;
    *) echo "show.sh: unknown argument $1"; exit 2 ;;
    esac
done

zq_say "kernel $(uname -r)"
for b in /sys/block/vd* /sys/block/nvme* /sys/block/nullb* /sys/block/zqshow*; do
    [ -e "$b" ] || continue
    zq_show_disk "${b##*/}"
done
