#!/bin/sh
# Workload for the power-loss replay (guest/tests.sh qcow2-powercut):
#
#   powercut.sh DEV OPS SEED
#
# OPS random operations on the zoned disk DEV, which the host logs with
# blklogwrites: writes of the zbdconf offset pattern at a write pointer
# (some with a flush in flight beside them), finishes, resets and flushes
# (fsync of the device).  Each flush is followed by a one-sector marker
# write to the conventional zone: marker k at sector k, whose clusters the
# host allocated before the boot.  Every
# operation is printed, after it completed, for the host's model:
#   ZQ-PC W ZONE OFS LEN   ZQ-PC F ZONE   ZQ-PC R ZONE   ZQ-PC M K
# (OFS relative to the zone, bytes) and the run ends with "ZQ-PC END".
# The disk must have a conventional zone first and no open/active limits.
# shellcheck shell=dash source=lib.sh
. /zq/lib.sh
set -u

dev=${1:?usage: powercut.sh DEV OPS SEED}
ops=${2:?} rnd=${3:?}
D=/dev/$dev
eval "$(zbdconf --geometry "$D")"
zsz=$ZQ_ZONE_SIZE cap=$ZQ_ZONE_CAPACITY
conv=$ZQ_CONVENTIONAL_ZONES nz=$ZQ_NR_ZONES
[ "$conv" -ge 1 ] || { echo "ZQ-PC needs a conventional zone"; exit 2; }
blkzone reset "$D" || exit 1

# rand N: a number in 0..N-1 in $r (a fixed sequence for a given seed)
rand() {
    rnd=$(( (rnd * 1103515245 + 12345) % 2147483648 ))
    r=$(( (rnd / 65536) % $1 ))
}

z=$conv
while [ "$z" -lt "$nz" ]; do
    eval "wp_$z=0"
    z=$((z + 1))
done

marks=0
marker() {
    zbdconf --io flush "$D" || exit 1
    marks=$((marks + 1))
    zbdconf --io write "$D" $((marks * 512)) 512 || exit 1
    echo "ZQ-PC M $marks"
}

i=0
while [ "$i" -lt "$ops" ]; do
    i=$((i + 1))
    rand $((nz - conv)); z=$((conv + r))
    eval "wp=\$wp_$z"
    start=$((z * zsz / 512))
    rand 100
    if [ "$r" -lt 60 ]; then
        room=$(( (cap - wp) / 4096 ))
        [ "$room" -gt 0 ] || continue
        [ "$room" -le 32 ] || room=32
        rand "$room"; len=$(( (r + 1) * 4096 ))
        if [ "$r" -lt 8 ]; then
            # A flush while the write is in flight (it is not covered by
            # that flush: the next marker's flush covers it)
            zbdconf --io write "$D" $((z * zsz + wp)) "$len" &
            pid=$!
            zbdconf --io flush "$D" || exit 1
            wait "$pid" || exit 1
        else
            zbdconf --io write "$D" $((z * zsz + wp)) "$len" || exit 1
        fi
        echo "ZQ-PC W $z $wp $len"
        eval "wp_$z=$((wp + len))"
    elif [ "$r" -lt 70 ]; then
        blkzone finish -o "$start" -c 1 "$D" || exit 1
        echo "ZQ-PC F $z"
        eval "wp_$z=$cap"
    elif [ "$r" -lt 80 ]; then
        blkzone reset -o "$start" -c 1 "$D" || exit 1
        echo "ZQ-PC R $z"
        eval "wp_$z=0"
    elif [ "$marks" -lt 255 ]; then
        marker
    fi
done
marker
echo "ZQ-PC END"
