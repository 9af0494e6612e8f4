#!/bin/sh
# A VM snapshot of a running guest (guest/tests.sh qcow2-savevm).  The
# same guest runs twice from one boot:
#
#   vmsnap.sh
#
# First run: persist.sh "write" leaves zones in every state, then the
# guest prints ZQ-SAVEVM-NOW and polls a flag disk (a small read-only disk
# the host can change under QEMU).  The host takes savevm and sets the
# flag to 1; the guest then changes the zones (persist.sh "change") and
# ends.  Second run, with -loadvm: the guest comes back inside the poll,
# finds the flag at 2, and runs persist.sh "check": the zones and the data
# must be those the snapshot was taken with.
# shellcheck shell=dash source=lib.sh
. /zq/lib.sh
set -u

dev=$(zq_zoned_vdisks | head -n 1)
flag=""
for b in /sys/block/vd*; do
    [ "${b##*/}" = "$dev" ] || flag=${b##*/}
done
[ -n "$dev" ] && [ -n "$flag" ] || { echo "vmsnap.sh: no zoned disk and flag disk"; exit 2; }
read_flag() { dd if="/dev/$flag" bs=512 count=1 iflag=direct 2>/dev/null | head -c 1; }

sh /zq/files/persist.sh "$dev" write
echo ZQ-SAVEVM-NOW
i=0
while [ "$(read_flag)" = 0 ] && [ $i -lt 600 ]; do
    sleep 0.1
    i=$((i + 1))
done
case $(read_flag) in
1) zq_say "after savevm"; sh /zq/files/persist.sh "$dev" change ;;
2) zq_say "after loadvm"; sh /zq/files/persist.sh "$dev" check ;;
*) echo "ZQ-CHECK flag FAIL (the host did not set the flag)"; exit 1 ;;
esac
