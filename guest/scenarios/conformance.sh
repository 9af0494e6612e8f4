#!/bin/sh
# Differential conformance: run zbdconf against a zoned disk and a null_blk
# zoned device with the same geometry (the reference), or, for the harness's
# self-test, against two null_blk devices.
#
#   conformance.sh [--dev vdX]... [--self-test SPEC] [--fault BYTE:COND]...
#                  [-- zbdconf options]
#
# Without --dev, every zoned virtio disk is tested.  --fault makes the
# zone at byte offset BYTE of the reference read-only (COND "ro") or
# offline ("off") through null_blk's configfs; the host gives the disk the
# same faults.  Prints
# "ZQ-RESULT conformance DEV pass|fail" per disk; exits 1 on any failure.
# shellcheck shell=dash source=lib.sh
. /zq/lib.sh
set -eu

devs="" selftest="" faults=""
while [ $# -gt 0 ]; do
    case $1 in
    --dev) devs="$devs $2"; shift 2 ;;
    --fault) faults="$faults $2"; shift 2 ;;
    --self-test) selftest=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "conformance.sh: unknown argument $1"; exit 2 ;;
    esac
done

# Sysfs attributes that must be the same on the disk and on its reference.
compare_sysfs() {
    local a="$1" b="$2" attr va vb bad=0
    for attr in zoned nr_zones chunk_sectors max_open_zones max_active_zones logical_block_size; do
        va=$(cat "/sys/block/$a/queue/$attr")
        vb=$(cat "/sys/block/$b/queue/$attr")
        if [ "$va" != "$vb" ]; then
            echo "ZQ: sysfs $attr differs: $a $va, $b $vb"
            bad=1
        fi
    done
    va=$(cat "/sys/block/$a/size") vb=$(cat "/sys/block/$b/size")
    [ "$va" = "$vb" ] || { echo "ZQ: size differs: $a $va, $b $vb"; bad=1; }
    # Informational: null_blk's append limit follows its own rules.
    echo "ZQ: zone_append_max_bytes $a $(cat "/sys/block/$a/queue/zone_append_max_bytes")," \
         "$b $(cat "/sys/block/$b/queue/zone_append_max_bytes")"
    return $bad
}

# The guest kernel splits large requests by each queue's limits (transfer
# size, segments), and how a write that breaks a zone rule fails depends
# on where it was split: the first part can succeed and move the write
# pointer.  Give both queues the same, small request size so that both
# devices get the same request stream and only the devices are compared.
same_splitting() {
    local a="$1" b="$2" kb=128 d
    for d in "$a" "$b"; do
        echo "$kb" > "/sys/block/$d/queue/max_sectors_kb" || return 1
    done
    zq_say "max_sectors_kb $kb on $a and $b (max_segments" \
           "$(cat "/sys/block/$a/queue/max_segments")," \
           "$(cat "/sys/block/$b/queue/max_segments"))"
}

fails=0

if [ -n "$selftest" ]; then
    a=$(zq_nullb_create zqselfa "$selftest")
    b=$(zq_nullb_create zqselfb "$selftest")
    label=self
    zq_say "conformance $label: A=/dev/$a B=/dev/$b (reference)"
    rc=0
    compare_sysfs "$a" "$b" || rc=1
    same_splitting "$a" "$b" || rc=1
    zbdconf "$@" "/dev/$a" "/dev/$b" || rc=1
    if [ $rc = 0 ]; then echo "ZQ-RESULT conformance $label pass"
    else echo "ZQ-RESULT conformance $label fail"; fails=$((fails + 1)); fi
fi

[ -n "$devs" ] || [ -n "$selftest" ] || devs=$(zq_zoned_vdisks)
[ -n "$devs" ] || [ -n "$selftest" ] || { echo "ZQ: no zoned virtio disk"; exit 1; }
i=0
for dev in $devs; do
    spec=$(zq_nullb_spec_like "$dev") || { echo "ZQ-RESULT conformance $dev fail"; fails=$((fails + 1)); continue; }
    zq_say "reference null_blk for $dev: $spec"
    ref=$(zq_nullb_create "zqref$i" "$spec")
    rc=0
    for f in $faults; do
        attr=zone_readonly
        [ "${f#*:}" = off ] && attr=zone_offline
        zq_say "null_blk $ref: $attr at byte ${f%%:*}"
        echo $((${f%%:*} / 512)) > "$ZQ_NULLB_CFG/zqref$i/$attr" || rc=1
    done
    i=$((i + 1))
    zq_say "conformance $dev: A=/dev/$dev B=/dev/$ref (reference)"
    compare_sysfs "$dev" "$ref" || rc=1
    same_splitting "$dev" "$ref" || rc=1
    zbdconf "$@" "/dev/$dev" "/dev/$ref" || rc=1
    if [ $rc = 0 ]; then echo "ZQ-RESULT conformance $dev pass"
    else echo "ZQ-RESULT conformance $dev fail"; fails=$((fails + 1)); fi
done
[ $fails = 0 ]
