#!/bin/sh
# Benchmark scenario: the same sequential-write fio jobs on two or more
# disks in one guest, the order of the disks alternating from one job and
# round to the next.  Used by bench/guest.sh; it measures, it checks nothing.
#
#   bench-fio.sh [--rounds N] [--size BYTES] [--warmup 0|1]
#                --dev LABEL=DISK... --job NAME=ENGINE,BS,DEPTH...
#
#   --dev qcow2=vda       a disk to measure, under a label (at least two).
#                         A zoned disk is written with fio --zonemode=zbd
#                         and its zones are reset before each run; a disk
#                         that is not zoned is written the same way without
#                         zones and is discarded (blkdiscard) before each run
#   --job qd1=libaio,64k,1[,SIZE[,JOBS]]
#                         a sequential-write job: fio engine (libaio,
#                         io_uring, psync...), block size, queue depth, and
#                         optionally its own --size and a number of fio
#                         jobs that share it, each writing SIZE/JOBS bytes
#                         from its own offset: the first zone after the
#                         zones the previous job needs, on every disk
#   --size SIZE           bytes written per job and disk (fio's --io_size,
#                         in bytes or with a K, M or G suffix; default 4
#                         zones), sequentially from offset 0 of the disk
#   --rounds N            times each job runs on each disk (default 3)
#   --warmup 1            first write --size once on every disk, unmeasured
#                         (allocates the backing files on the host)
#
# Each run is bracketed by "ZQ-BENCH-MARK begin|end JOB DISK ROUND" lines
# with the guest idle for a moment on both sides of them, so that the host
# can read QEMU's CPU time when it sees them (bench/guest.sh does).  Prints,
# per run,
#   ZQ-BENCH job=NAME dev=LABEL disk=DISK round=R pos=P kib=K bw_kib=B iops=I ms=T intr=N ctxt=N
# (intr, ctxt: the guest's interrupts and context switches during the run)
# (pos: 0 when the disk ran first in its round, 1 when second...), and
# ZQ-SYSFS lines for each disk before the runs (with "mq", its number of
# hardware queues).  Exits 1 if a fio run failed.
# zq-needs: fio
# shellcheck shell=dash source=lib.sh
. /zq/lib.sh
set -u

rounds=3 size="" warmup=0 devs="" jobs=""
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --dev) devs="$devs $2"; shift 2 ;;
    --job) jobs="$jobs $2"; shift 2 ;;
    *) echo "bench-fio.sh: unknown argument $1"; exit 2 ;;
    esac
done
if [ -z "$devs" ] || [ -z "$jobs" ]; then
    echo "bench-fio.sh: need --dev and --job"
    exit 2
fi

# bytes SIZE: SIZE (with an optional K, M or G suffix) in bytes
bytes() {
    case $1 in
    *[kK]) echo $((${1%?} << 10)) ;;
    *M) echo $((${1%?} << 20)) ;;
    *G) echo $((${1%?} << 30)) ;;
    *) echo $(($1)) ;;
    esac
}

ndev=0 zoned_disk=""
for d in $devs; do
    disk=${d#*=}
    [ -b "/dev/$disk" ] || { echo "bench-fio.sh: no /dev/$disk"; exit 2; }
    case $(cat "/sys/block/$disk/queue/zoned") in
    host-managed) [ -n "$zoned_disk" ] || zoned_disk=$disk ;;
    none) ;;
    *) echo "bench-fio.sh: $disk is neither host-managed nor unzoned"; exit 2 ;;
    esac
    for a in $ZQ_QUEUE_ATTRS max_hw_sectors_kb max_segments max_segment_size nr_requests scheduler write_cache; do
        v=-
        [ -e "/sys/block/$disk/queue/$a" ] && v=$(cat "/sys/block/$disk/queue/$a")
        echo "ZQ-SYSFS $disk $a $v"
    done
    echo "ZQ-SYSFS $disk mq $(find /sys/block/"$disk"/mq -mindepth 1 -maxdepth 1 | wc -l)"
    ndev=$((ndev + 1))
done
[ -n "$zoned_disk" ] || { echo "bench-fio.sh: no zoned disk"; exit 2; }

eval "$(zbdconf --geometry "/dev/$zoned_disk")"
[ -n "$size" ] || size=$((4 * ZQ_ZONE_SIZE))
zq_say "bench: $ndev disks, zone size $ZQ_ZONE_SIZE, capacity $ZQ_ZONE_CAPACITY, $size bytes per run, $rounds rounds"

# empty DISK: reset its zones, or discard it if it has none
empty() {
    if [ "$(cat "/sys/block/$1/queue/zoned")" = none ]; then
        blkdiscard -f "/dev/$1"
    else
        blkzone reset "/dev/$1"
    fi
}

# run_fio DISK NAME ENGINE BS DEPTH SIZE JOBS: one sequential-write run;
# prints "KIB BW_KIB IOPS MS INTR CTXT" (fio's terse fields 47-50: the
# write side of all jobs, then the guest's interrupts and context switches
# from /proc/stat).
run_fio() {
    empty "$1" || return 1
    zmode=none
    [ "$(cat "/sys/block/$1/queue/zoned")" = none ] || zmode=zbd
    per_job=$(($(bytes "$6") / $7))
    # Each job starts on a zone of its own, on every disk: fio rounds a
    # zoned job's offset up to a zone boundary, so the jobs are whole
    # zones apart (enough of them for per_job bytes of capacity).
    # shellcheck disable=SC2017 # whole zones: divide first, on purpose
    incr=$(( (per_job + ZQ_ZONE_CAPACITY - 1) / ZQ_ZONE_CAPACITY * ZQ_ZONE_SIZE ))
    echo "ZQ-BENCH-MARK begin $2 $1 ${round:-0}" >&2
    sleep 0.3
    set -- "$@" "$(awk '$1 == "intr" || $1 == "ctxt" { printf "%s ", $2 }' /proc/stat)"
    fio --name="$2" --filename="/dev/$1" --direct=1 --zonemode=$zmode \
        --offset=0 --io_size="$per_job" --numjobs="$7" \
        --offset_increment="$incr" --group_reporting --rw=write \
        --ioengine="$3" --bs="$4" \
        --iodepth="$5" --output-format=terse --terse-version=3 \
        > /tmp/fio.out 2>&1 || { tail -n 3 /tmp/fio.out | tr '\n' ' '; return 1; }
    sleep 0.3
    echo "ZQ-BENCH-MARK end $2 $1 ${round:-0}" >&2
    awk '$1 == "intr" || $1 == "ctxt" { printf "%s ", $2 }' /proc/stat > /tmp/stat.after
    awk -F';' -v before="$8" -v after="$(cat /tmp/stat.after)" 'NF > 50 {
        split(before, b, " "); split(after, a, " ")
        print $47, $48, $49, $50, a[1] - b[1], a[2] - b[2]; exit }' /tmp/fio.out
}

fails=0
if [ "$warmup" = 1 ]; then
    for d in $devs; do
        r=$(run_fio "${d#*=}" warmup libaio 1M 4 "$size" 1) || fails=$((fails + 1))
        zq_say "warmup ${d%%=*}: $r"
    done
fi

round=1
while [ "$round" -le "$rounds" ]; do
    ji=0
    for j in $jobs; do
        name=${j%%=*} spec=${j#*=}
        engine=${spec%%,*} spec=${spec#*,}
        bs=${spec%%,*} spec=${spec#*,}
        depth=${spec%%,*} jsize=$size njobs=1
        case $spec in *,*) jsize=${spec#*,} ;; esac
        case $jsize in *,*) njobs=${jsize#*,} jsize=${jsize%%,*} ;; esac
        # Rotate the order of the disks from one round to the next (and
        # from one job to the next within a round).
        k=$(((round - 1 + ji) % ndev))
        # shellcheck disable=SC2086 # the labels, split on purpose
        set -- $devs
        order=""
        i=0
        while [ $i -lt "$ndev" ]; do
            eval "order=\"\$order \${$(( (i + k) % ndev + 1 ))}\""
            i=$((i + 1))
        done
        pos=0
        for d in $order; do
            label=${d%%=*} disk=${d#*=}
            if r=$(run_fio "$disk" "$name" "$engine" "$bs" "$depth" "$jsize" "$njobs") && [ -n "$r" ]; then
                # shellcheck disable=SC2086 # the fields, split on purpose
                set -- $r
                echo "ZQ-BENCH job=$name dev=$label disk=$disk round=$round pos=$pos kib=$1 bw_kib=$2 iops=$3 ms=$4 intr=$5 ctxt=$6"
            else
                echo "ZQ-BENCH-FAIL job=$name dev=$label disk=$disk round=$round: $r"
                fails=$((fails + 1))
            fi
            pos=$((pos + 1))
        done
        ji=$((ji + 1))
    done
    round=$((round + 1))
done
for d in $devs; do empty "${d#*=}"; done
zq_say "bench: $fails failed runs"
[ "$fails" = 0 ]
