#!/usr/bin/env bash
# The power-loss replay at length (make powercut): the qcow2-zoned-powercut
# iotest and the guest's qcow2-powercut test with many more states than
# make test gives them.
#   ZQ_PC_RUNS (iotest workload runs, default 20), ZQ_PC_IOTEST_CUTS (power
#   cuts per run, default 600), ZQ_PC_OPS (guest operations, default 600),
#   ZQ_PC_CUTS (guest power cuts, default 2000).
# Prints the number of states each part checked; exits non-zero on a
# failure.
set -euo pipefail
. "$(dirname "$0")/common.sh"

dir=${ZQ_BUILD_DIR:-$BUILD}
[ -x "$dir/qemu-img" ] || die "no build in $dir: run make build first"
iot=$dir/tests/qemu-iotests
rc=0
(cd "$iot" && QCOW2_ZONED_POWERCUT_RUNS=${ZQ_PC_RUNS:-20} \
    QCOW2_ZONED_POWERCUT_CUTS=${ZQ_PC_IOTEST_CUTS:-600} \
    ./check -qcow2 qcow2-zoned-powercut) || rc=1
states=$(cat "$iot/scratch/qcow2-file-qcow2-zoned-powercut/pc-states" 2>/dev/null || echo "?")
echo "qcow2-zoned-powercut: $states states checked"
ZQ_PC_OPS=${ZQ_PC_OPS:-600} ZQ_PC_CUTS=${ZQ_PC_CUTS:-2000} \
    QEMU=$dir/qemu-system-x86_64 QEMU_IMG=$dir/qemu-img \
    ZQ_TREE=$TREE bash "$TOP/guest/tests.sh" qcow2-powercut || rc=1
exit $rc
