#!/bin/sh
# Write-pointer persistence.  Actions run in order on one zoned disk:
#
#   persist.sh [--nullb SPEC] DEV ACTION...
#
#   write    reset all, then leave zones in every state (see below), write
#            the conventional zone, flush; print the report as "synced"
#   more     more writes, not flushed; print the report as "final"
#   change   reset s1 and write 8 KiB into it, reset s5, flush; print the
#            report as "changed" (for the snapshot test: the data and the
#            conditions differ from those "write" left)
#   check    print the report as "after", verify the data below every write
#            pointer and that nothing is read above it
#   kill     print ZQ-KILL-NOW (the host kills QEMU with SIGKILL) and wait
#
# Reports are "ZQ-REPORT <tag> DEV zone N start S len L cap C wp W type T
# cond C" lines (wp relative to the zone start).  guest/tests.sh compares
# them across a guest reboot and across a QEMU SIGKILL.  --nullb makes a
# null_blk device and uses it instead of DEV (the harness's self-test).
#
# Zones used, by order among the sequential zones (needs 7, max open >= 3
# or none, max active >= 4 or none):
#   s0 3 x 4 KiB written (implicitly open)    s1 filled to capacity (full)
#   s2 16 x 4 KiB written, closed (closed)    s3 explicitly opened, empty
#   s4 opened, 8 x 4 KiB written (explicit)   s5 finished while empty (full)
#   s6 untouched (empty)
# shellcheck shell=dash source=lib.sh
. /zq/lib.sh
set -u

if [ "${1:-}" = --nullb ]; then
    dev=$(zq_nullb_create zqpersist "$2") || exit 1
    shift 3
else
    dev=${1:?usage: persist.sh [--nullb SPEC] DEV ACTION...}
    shift
fi
D=/dev/$dev
eval "$(zbdconf --geometry "$D")"
zsz=$ZQ_ZONE_SIZE
cap=$ZQ_ZONE_CAPACITY
zsec=$((zsz / 512))
fill=zeros
case $dev in vd*) ;; *) fill=unwritten ;; esac   # null_blk reads 0xff

zone() { zq_seq_zone "$dev" "$1"; }
start() { echo $(($(zone "$1") * zsz)); }
run() { "$@" || { echo "ZQ-CHECK step FAIL ($*)"; ZQ_FAILS=$((ZQ_FAILS + 1)); }; }

do_write() {
    run blkzone reset "$D"
    run zbdconf --io write "$D" "$(start 1)" "$cap"
    run zbdconf --io write "$D" "$(start 2)" 64k
    run blkzone close -o $(($(zone 2) * zsec)) -c 1 "$D"
    run blkzone finish -o $(($(zone 5) * zsec)) -c 1 "$D"
    run zbdconf --io write "$D" "$(start 0)" 12k
    run blkzone open -o $(($(zone 3) * zsec)) -c 1 "$D"
    run blkzone open -o $(($(zone 4) * zsec)) -c 1 "$D"
    run zbdconf --io write "$D" "$(start 4)" 32k
    if [ "$ZQ_CONVENTIONAL_ZONES" -gt 0 ]; then
        run zbdconf --io write "$D" 4096 60k
    fi
    run zbdconf --io flush "$D"
    zq_report "$dev" synced
}

do_more() {
    run zbdconf --io write "$D" $(($(start 0) + 12288)) 20k
    run zbdconf --io write "$D" "$(start 6)" 8k
    run zbdconf --io write "$D" $(($(start 4) + 32768)) 4k
    zq_report "$dev" final
}

do_change() {
    run blkzone reset -o $(($(zone 1) * zsec)) -c 1 "$D"
    run zbdconf --io write "$D" "$(start 1)" 8k
    run blkzone reset -o $(($(zone 5) * zsec)) -c 1 "$D"
    run zbdconf --io flush "$D"
    zq_report "$dev" changed
}

do_check() {
    local i z wp c s
    zq_report "$dev" after
    i=0
    while [ "$i" -lt 7 ]; do
        z=$(zone "$i")
        s=$((z * zsz))
        wp=$(zq_zone "$dev" "$z" wp)
        c=$(zq_zone "$dev" "$z" cond)
        case $i:$c in
        1:fu) zq_check "data-s1" zbdconf --io verify "$D" "$s" "$cap" ;;
        5:fu) zq_check "data-s5" zbdconf --io "$fill" "$D" "$s" 64k ;;
        *:fu) zq_check "data-s$i-full" false ;;
        *)
            if [ "$wp" -gt 0 ]; then
                zq_check "data-s$i" zbdconf --io verify "$D" "$s" "$wp"
            fi
            if [ $((wp + 65536)) -le "$cap" ]; then
                zq_check "above-wp-s$i" zbdconf --io "$fill" "$D" $((s + wp)) 64k
            fi
            ;;
        esac
        i=$((i + 1))
    done
    if [ "$ZQ_CONVENTIONAL_ZONES" -gt 0 ]; then
        zq_check data-conv zbdconf --io verify "$D" 4096 60k
    fi
}

for action in "$@"; do
    case $action in
    write) do_write ;;
    more) do_more ;;
    change) do_change ;;
    check) do_check ;;
    kill)
        sync
        echo "ZQ-KILL-NOW"
        sleep 600
        ;;
    *) echo "persist.sh: unknown action $action"; exit 2 ;;
    esac
done
zq_say "persist: $ZQ_FAILS failures"
[ "$ZQ_FAILS" = 0 ]
