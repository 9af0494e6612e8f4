#!/bin/sh
# Zone management with blkzone and sequential/random zoned writes with fio.
#
#   zoneops.sh --dev vdX | --nullb SPEC
#
# Each step prints "ZQ-CHECK <name> ok|FAIL"; exits 1 if any failed.
# zq-needs: fio
# shellcheck shell=dash source=lib.sh
. /zq/lib.sh
set -u

# Unwritten blocks: zeros on a zoned qcow2 disk (the product spec), any
# uniform fill on null_blk (it uses 0xff).
dev="" fillcheck=zeros
case ${1:-} in
--dev) dev=$2 ;;
--nullb) dev=$(zq_nullb_create zqops "$2") || exit 1; fillcheck=unwritten ;;
*) echo "usage: zoneops.sh --dev vdX | --nullb SPEC"; exit 2 ;;
esac
D=/dev/$dev
eval "$(zbdconf --geometry "$D")"
zs=$((ZQ_ZONE_SIZE / 512))          # zone size in sectors
z=$(zq_seq_zone "$dev" 0)            # first sequential zone
s=$((z * zs))                        # its first sector
ofs=$((s * 512))
zq_say "zoneops on $D: zone $z (sector $s), $ZQ_NR_ZONES zones of $zs sectors, capacity $ZQ_ZONE_CAPACITY"

cond() { zq_zone "$dev" "$1" cond; }
wp() { zq_zone "$dev" "$1" wp; }
fails() { ! "$@" >/dev/null 2>&1; }

zq_check reset-all blkzone reset "$D"
zq_expect_eq reset-all-empty "$(zbdconf --report "$D" | grep -c ' cond em$')" \
    "$((ZQ_NR_ZONES - ZQ_CONVENTIONAL_ZONES))"

zq_check open blkzone open -o "$s" -c 1 "$D"
zq_expect_eq open-cond "$(cond "$z")" oe
zq_check close-empty blkzone close -o "$s" -c 1 "$D"
zq_expect_eq close-empty-cond "$(cond "$z")" em

zq_check write zbdconf --io write "$D" "$ofs" 64k
zq_expect_eq write-cond "$(cond "$z")" oi
zq_expect_eq write-wp "$(wp "$z")" 65536
zq_check write-off-wp fails zbdconf --io write "$D" "$ofs" 4k
zq_check write-past-wp fails zbdconf --io write "$D" $((ofs + 131072)) 4k
zq_expect_eq write-off-wp-wp "$(wp "$z")" 65536
zq_check write-dd dd if=/dev/zero of="$D" bs=4096 count=2 seek=$((ofs + 65536)) \
    oflag=direct,seek_bytes conv=notrunc
zq_expect_eq write-dd-wp "$(wp "$z")" 73728

zq_check close blkzone close -o "$s" -c 1 "$D"
zq_expect_eq close-cond "$(cond "$z")" cl
zq_check reopen blkzone open -o "$s" -c 1 "$D"
zq_expect_eq reopen-cond "$(cond "$z")" oe
zq_check finish blkzone finish -o "$s" -c 1 "$D"
zq_expect_eq finish-cond "$(cond "$z")" fu
zq_check read-back zbdconf --io verify "$D" "$ofs" 64k
zq_check write-full fails zbdconf --io write "$D" "$ofs" 4k
zq_check above-old-wp zbdconf --io "$fillcheck" "$D" $((ofs + 73728)) 64k

zq_check reset blkzone reset -o "$s" -c 1 "$D"
zq_expect_eq reset-cond "$(cond "$z")" em
zq_expect_eq reset-wp "$(wp "$z")" 0
zq_check reset-unwritten zbdconf --io "$fillcheck" "$D" "$ofs" 64k

zq_check open-2 blkzone open -o "$s" -c 2 "$D"
zq_expect_eq open-2-conds "$(cond "$z") $(cond $((z + 1)))" "oe oe"
zq_check finish-2 blkzone finish -o "$s" -c 2 "$D"
zq_expect_eq finish-2-conds "$(cond "$z") $(cond $((z + 1)))" "fu fu"
zq_check reset-all-2 blkzone reset "$D"
zq_expect_eq reset-all-2-conds "$(cond "$z") $(cond $((z + 1)))" "em em"

if [ "$ZQ_CONVENTIONAL_ZONES" -gt 0 ]; then
    zq_check conv-write zbdconf --io write "$D" 8192 64k
    zq_check conv-overwrite zbdconf --io write "$D" 4096 8k
    zq_check conv-read zbdconf --io verify "$D" 4096 68k
    zq_check conv-reset-refused fails blkzone reset -o 0 -c 1 "$D"
    zq_check conv-open-refused fails blkzone open -o 0 -c 1 "$D"
    zq_check conv-kept zbdconf --io verify "$D" 4096 68k
fi

# fio: sequential writes with verification over 4 zones, synchronous and
# with a queue depth of 8, then random zoned writes within the open limit.
nz=4
[ $((ZQ_NR_ZONES - ZQ_CONVENTIONAL_ZONES)) -lt $nz ] && nz=$((ZQ_NR_ZONES - ZQ_CONVENTIONAL_ZONES))
len=$((nz * ZQ_ZONE_SIZE))
fio_common="--filename=$D --direct=1 --zonemode=zbd --offset=$ofs --size=$len --group_reporting"
# shellcheck disable=SC2086
zq_check fio-seq-psync fio --name=seq-psync $fio_common --rw=write --bs=64k \
    --ioengine=psync --verify=crc32c --output-format=terse
full=0
i=0
while [ $i -lt $nz ]; do
    [ "$(cond $((z + i)))" = fu ] && full=$((full + 1))
    i=$((i + 1))
done
zq_expect_eq fio-seq-full-zones "$full" "$nz"
blkzone reset "$D"
# shellcheck disable=SC2086
zq_check fio-seq-libaio fio --name=seq-aio $fio_common --rw=write --bs=16k \
    --ioengine=libaio --iodepth=8 --verify=crc32c --output-format=terse
blkzone reset "$D"
mo=${ZQ_MAX_OPEN:-0}
[ "$mo" -eq 0 ] && mo=4
# shellcheck disable=SC2086
zq_check fio-randwrite fio --name=rand $fio_common --rw=randwrite --bs=8k \
    --ioengine=libaio --iodepth=4 --max_open_zones="$mo" --io_size=$((len / 2)) \
    --output-format=terse
blkzone reset "$D"

zq_say "zoneops: $ZQ_FAILS failures"
[ "$ZQ_FAILS" = 0 ]
