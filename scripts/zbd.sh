#!/usr/bin/env bash
# fio's zoned test suite at length (make zbd): every test of t/zbd, the
# timed ones included, in the guest tests qcow2-zbd-a and qcow2-zbd-b (make
# test runs only the tests without a fixed run time).  About 15 minutes a
# geometry under TCG.
set -euo pipefail
. "$(dirname "$0")/common.sh"

dir=${ZQ_BUILD_DIR:-$BUILD}
[ -x "$dir/qemu-img" ] || die "no build in $dir: run make build first"
ZQ_ZBD_FULL=1 QEMU=$dir/qemu-system-x86_64 QEMU_IMG=$dir/qemu-img \
    bash "$TOP/guest/tests.sh" 'qcow2-zbd-*'
