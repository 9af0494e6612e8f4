# Helpers for the guest scenarios (busybox ash).  guest/run.sh puts this file
# in the guest as /zq/lib.sh; scenarios source it.
# shellcheck shell=dash

ZQ_NULLB_CFG=/sys/kernel/config/nullb

zq_say() { echo "ZQ: $*"; }

# Print "ZQ-CHECK <name> ok" or "ZQ-CHECK <name> FAIL <details>" and count
# failures in ZQ_FAILS.
ZQ_FAILS=0
zq_check() {
    _name=$1; shift
    if "$@"; then
        echo "ZQ-CHECK $_name ok"
    else
        echo "ZQ-CHECK $_name FAIL ($*)"
        ZQ_FAILS=$((ZQ_FAILS + 1))
    fi
}
zq_expect_eq() {
    _name=$1 _got=$2 _want=$3
    if [ "$_got" = "$_want" ]; then
        echo "ZQ-CHECK $_name ok"
    else
        echo "ZQ-CHECK $_name FAIL (got '$_got', expected '$_want')"
        ZQ_FAILS=$((ZQ_FAILS + 1))
    fi
}

# The virtio disks the guest sees as zoned.
zq_zoned_vdisks() {
    for _b in /sys/block/vd*; do
        [ -e "$_b" ] || continue
        [ "$(cat "$_b/queue/zoned")" = none ] || echo "${_b##*/}"
    done
}

# zq_nullb_create NAME SPEC: make a zoned, memory-backed null_blk device
# through configfs and print its disk name.  SPEC is a comma-separated list
# of key=value: size, zsize, zcap (MiB), conv, max_open, max_active, bs,
# append_sectors, or any null_blk configfs attribute by its own name.
zq_nullb_create() {
    local name="$1" spec="$2" d kv k v f disk n old_ifs
    d=$ZQ_NULLB_CFG/$name
    mkdir "$d" || return 1
    echo 1 > "$d/zoned" && echo 1 > "$d/memory_backed" || return 1
    old_ifs=$IFS
    IFS=,
    for kv in $spec; do
        k=${kv%%=*} v=${kv#*=}
        case $k in
        size) f=size ;;
        zsize) f=zone_size ;;
        zcap) f=zone_capacity ;;
        conv) f=zone_nr_conv ;;
        max_open) f=zone_max_open ;;
        max_active) f=zone_max_active ;;
        bs) f=blocksize ;;
        append_sectors) f=zone_append_max_sectors ;;
        *) f=$k ;;
        esac
        if [ ! -e "$d/$f" ]; then
            IFS=$old_ifs
            echo "zq: null_blk has no attribute $f" >&2
            return 1
        fi
        if ! echo "$v" > "$d/$f"; then
            IFS=$old_ifs
            echo "zq: cannot set null_blk $f=$v" >&2
            return 1
        fi
    done
    IFS=$old_ifs
    echo 1 > "$d/power" || return 1
    if [ -e "/sys/block/$name" ]; then
        disk=$name
    else
        disk=nullb$(cat "$d/index")
    fi
    n=0
    while [ ! -b "/dev/$disk" ] && [ $n -lt 50 ]; do
        sleep 0.1
        n=$((n + 1))
    done
    [ -b "/dev/$disk" ] || { echo "zq: no /dev/$disk" >&2; return 1; }
    echo "$disk"
}

zq_nullb_remove() {
    echo 0 > "$ZQ_NULLB_CFG/$1/power" 2>/dev/null
    rmdir "$ZQ_NULLB_CFG/$1"
}

# zq_nullb_spec_like DEV: the null_blk SPEC with the geometry of /dev/DEV
# (null_blk counts in MiB, so sizes must be whole MiB).
zq_nullb_spec_like() {
    local dev="$1" mib=1048576 spec append
    eval "$(zbdconf --geometry "/dev/$dev")" || return 1
    for _v in "$ZQ_SIZE" "$ZQ_ZONE_SIZE" "$ZQ_ZONE_CAPACITY"; do
        if [ $((_v % mib)) != 0 ]; then
            echo "zq: $dev: $_v bytes is not a whole MiB; null_blk cannot match it" >&2
            return 1
        fi
    done
    spec="size=$((ZQ_SIZE / mib)),zsize=$((ZQ_ZONE_SIZE / mib))"
    spec="$spec,zcap=$((ZQ_ZONE_CAPACITY / mib)),conv=$ZQ_CONVENTIONAL_ZONES"
    spec="$spec,max_open=$ZQ_MAX_OPEN,max_active=$ZQ_MAX_ACTIVE,bs=$ZQ_LBLOCK"
    append=$(cat "/sys/block/$dev/queue/zone_append_max_bytes")
    if [ -e "$ZQ_NULLB_CFG/features" ] &&
       grep -q zone_append_max_sectors "$ZQ_NULLB_CFG/features" &&
       [ "$append" -gt 0 ]; then
        spec="$spec,append_sectors=$((append / 512))"
    fi
    echo "$spec"
}

# The queue attributes that describe a zoned disk.
ZQ_QUEUE_ATTRS="zoned nr_zones chunk_sectors max_open_zones max_active_zones zone_append_max_bytes logical_block_size physical_block_size max_sectors_kb"

# zq_show_disk DEV: "ZQ-SYSFS DEV ATTR VALUE" lines, then the zones.
zq_show_disk() {
    local dev="$1" a
    echo "ZQ-SYSFS $dev size_sectors $(cat "/sys/block/$dev/size")"
    for a in $ZQ_QUEUE_ATTRS; do
        if [ -e "/sys/block/$dev/queue/$a" ]; then
            echo "ZQ-SYSFS $dev $a $(cat "/sys/block/$dev/queue/$a")"
        else
            echo "ZQ-SYSFS $dev $a -"
        fi
    done
    [ "$(cat "/sys/block/$dev/queue/zoned")" = none ] && return 0
    echo "ZQ: blkzone report /dev/$dev"
    blkzone report "/dev/$dev"
    zq_report "$dev" zones
}

# zq_report DEV TAG: the zones as "ZQ-REPORT TAG DEV zone N start ... cond C".
zq_report() {
    zbdconf --report "/dev/$1" | sed "s|^|ZQ-REPORT $2 $1 |"
}

# Fields of zone N of DEV from zbdconf --report: zq_zone DEV N FIELD
# (FIELD: start len cap wp type cond; wp relative to the zone start).
zq_zone() {
    zbdconf --report "/dev/$1" |
        awk -v n="$2" -v f="$3" '$2 == n { for (i = 3; i < NF; i += 2) if ($i == f) print $(i + 1) }'
}

# Index of the K-th (from 0) sequential zone of DEV.
zq_seq_zone() {
    zbdconf --report "/dev/$1" |
        awk -v k="$2" '$0 ~ / type SW/ { if (k-- == 0) { print $2; exit } }'
}

zq_nr_conv() {
    zbdconf --report "/dev/$1" | grep -c ' type CONV ' || true
}
