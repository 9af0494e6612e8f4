#!/bin/sh
# zq-needs: zbd
# fio's zoned test suite (t/zbd/test-zbd-support) on a zoned disk and on a
# null_blk device of the same geometry made in the same guest.
#
#   zbd.sh --dev DEV [--seed N] [--timeout S] [--quick] [--nullb-only] [TEST...]
#
# TEST...: the suite's test numbers (default: all of them, in order);
# --quick leaves out those that run fio for a fixed time (--runtime=, 30 s
# or so each).
# Each test runs on its own: the suite is started once per test and device,
# with -r (every zone reset first, so no test sees what an earlier one left)
# and bash's RANDOM seeded with N + the test number (the suite draws fio's
# random seeds from it), so both devices get the same jobs whatever the
# selection.  Per test and device it prints
#   ZQ-ZBD <qcow2|nullb> <test> <PASS|FAIL|SKIP|TIMEOUT> <seconds> [reason]
# and, for a failure, the tail of the suite's log of that test.
# Exit status: 0 if the suite ran (the host compares the results), 1 if it
# could not run at all.
# shellcheck shell=dash source=lib.sh
. /zq/lib.sh

dev="" seed=1 per_test=900 nullb_only=0 quick=0
while [ $# -gt 0 ]; do
    case $1 in
    --dev) dev=$2; shift ;;
    --seed) seed=$2; shift ;;
    --timeout) per_test=$2; shift ;;
    --nullb-only) nullb_only=1 ;;
    --quick) quick=1 ;;
    *) break ;;
    esac
    shift
done
[ -n "$dev" ] || { echo "zbd.sh: --dev is required" >&2; exit 1; }

ZBD=/zq/fio/t/zbd
export PATH="/zq/fio/bin:$PATH"
# The suite selects the mq-deadline scheduler on the devices it tests.
insmod /lib/modules/mq-deadline.ko || exit 1
# bash's process substitution reads /dev/fd/N (devtmpfs has no /dev/fd).
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd

# The suite's tests, "N timed|untimed" in order.
suite_tests() {
    awk '/^test[0-9]+\(\)/ { n = $0; gsub(/[^0-9]/, "", n); timed = 0; next }
         n != "" && /--runtime=/ { timed = 1 }
         n != "" && /^}/ { print n, timed ? "timed" : "untimed"; n = "" }' \
        "$ZBD/test-zbd-support" | sort -n
}
tests="$*"
if [ -z "$tests" ] && [ "$quick" = 1 ]; then
    tests=$(suite_tests | awk '$2 == "untimed" { print $1 }')
elif [ -z "$tests" ]; then
    tests=$(suite_tests | awk '{ print $1 }')
fi

spec=$(zq_nullb_spec_like "$dev") || exit 1
zq_say "null_blk like $dev: $spec"
nb=$(zq_nullb_create zqzbd "$spec,completion_nsec=0") || exit 1
zq_show_disk "$nb" | grep '^ZQ-SYSFS'
zq_show_disk "$dev" | grep '^ZQ-SYSFS'

# run_one KIND DISK TEST
run_one() {
    local kind=$1 disk=$2 t=$3 out=/tmp/zbd.out t0 rc status reason
    rm -f "$ZBD/test-zbd-support.log.$t"
    t0=$(date +%s)
    rc=0
    # shellcheck disable=SC2016 # expanded by the bash that runs the suite
    timeout "$per_test" bash -c 'RANDOM=$1; shift; . "$0" "$@"' \
        "$ZBD/test-zbd-support" $((seed + t)) -r -t "$t" "/dev/$disk" \
        > "$out" 2>&1 || rc=$?
    status=$(sed -n 's/^Running test [0-9]* \.\.\. \([A-Z]*\).*/\1/p' "$out" | tail -n1)
    reason=$(sed -n 's/^Running test [0-9]* \.\.\. SKIP *//p' "$out" | tail -n1)
    [ "$rc" = 124 ] || [ "$rc" = 143 ] && status=TIMEOUT
    [ -n "$status" ] || status=FAIL
    echo "ZQ-ZBD $kind $t $status $(($(date +%s) - t0)) $reason"
    if [ "$status" = FAIL ] || [ "$status" = TIMEOUT ]; then
        sed "s/^/ZQ-ZBD-OUT $kind $t: /" "$out" | tail -n 5
        { grep -E 'err=|error|Assertion|Aborted|free\(\)|verify:' \
              "$ZBD/test-zbd-support.log.$t" | head -n 10
          tail -n 12 "$ZBD/test-zbd-support.log.$t"; } 2>/dev/null |
            sed "s/^/ZQ-ZBD-LOG $kind $t: /"
    fi
}

for t in $tests; do
    run_one nullb "$nb" "$t"
    [ "$nullb_only" = 1 ] || run_one qcow2 "$dev" "$t"
done
zq_nullb_remove zqzbd
echo "ZQ-ZBD-END"
exit 0
