#!/usr/bin/env bash
# The whole test, as CI runs it from a clean clone (make test):
#   1. deps     scripts/deps.sh
#   2. tree     build/qemu = base + patches/series (made anew unless it
#               already holds exactly that series)
#   3. build    scripts/build.sh, plus the firmware the Debian source lacks
#   4. zoned    the series' own qemu-iotests: ./check -qcow2 -g zoned
#   5. regress  scripts/regress.sh: QEMU's qcow2 iotests against the base's
#               results in tests/regress-expected.txt
#   6. guest    guest/tests.sh, when the guest harness is there
#   7. series   scripts/check-series.sh: each patch on its own
# and ends with the line "N passed, N failed"; the exit status is non-zero
# when anything failed.  Each step's full output is in build/logs/test-*.log.
#
# build/qemu is where you work: when it has commits or changes that
# patches/ does not (not exported yet), test.sh stops rather than throw them
# away.  ZQ_FORCE_TREE=1 makes it anew anyway, ZQ_TREE=DIR tests in another
# directory.  On CI (CI=true) the tree is always made anew.
# The guest tests that need a zoned qcow2 are skipped (not failed, and
# said so) while the built qemu-img has no zone.mode create option, or with
# ZQ_GUEST_ALLOW_MISSING=1.
set -euo pipefail
. "$(dirname "$0")/common.sh"

case ${1:-} in
-h|--help) sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
'') ;;
*) die "unknown argument $1" ;;
esac

LOGDIR=$TOP/build/logs
mkdir -p "$LOGDIR"
export CC=${CC:-$(command -v ccache >/dev/null && echo "ccache cc" || echo cc)}
export ZQ_TREE=$TREE ZQ_BUILD_DIR=${ZQ_BUILD_DIR:-$BUILD}
dir=$ZQ_BUILD_DIR
TOTAL_PASS=0 TOTAL_FAIL=0
SUMMARY=()
t_all=$(date +%s)

# record NAME PASSED FAILED SECONDS [NOTE]
record() {
    TOTAL_PASS=$((TOTAL_PASS + $2))
    TOTAL_FAIL=$((TOTAL_FAIL + $3))
    SUMMARY+=("$(printf '%-8s %4d passed %4d failed %6ss  %s' "$1" "$2" "$3" "$4" "${5:-}")")
}

# counts FILE: "P F" from the last "N passed, N failed" in FILE, or nothing.
counts() {
    grep -E -o '[0-9]+ passed, [0-9]+ failed' "$1" | tail -1 |
        sed -E 's/([0-9]+) passed, ([0-9]+) failed/\1 \2/'
}

# quiet NAME CMD...: a setup step; its output goes to the log, and only the
# end of it is shown when it fails.  A failure counts as one failed test;
# success counts nothing (it is no test).
quiet() {
    local name=$1 t0 rc=0; shift
    t0=$(date +%s)
    printf '\n=== %s\n' "$name"
    ("$@") >"$LOGDIR/test-$name.log" 2>&1 </dev/null || rc=$?
    if [ $rc = 0 ]; then
        echo "$name: ok ($(( $(date +%s) - t0 ))s)"
        record "$name" 0 0 $(( $(date +%s) - t0 )) ok
    else
        tail -40 "$LOGDIR/test-$name.log"
        echo "$name: FAILED (exit $rc; see $LOGDIR/test-$name.log)"
        record "$name" 0 1 $(( $(date +%s) - t0 )) "exit $rc"
    fi
    return $rc
}

# counted NAME CMD...: a test step that prints "N passed, N failed"; its
# output is shown and logged.  A non-zero exit without a failure counted in
# its output counts as one failure.
counted() {
    local name=$1 t0 rc=0 c p f note=; shift
    t0=$(date +%s)
    printf '\n=== %s\n' "$name"
    set +e
    "$@" </dev/null 2>&1 | tee "$LOGDIR/test-$name.log"
    rc=${PIPESTATUS[0]}
    set -e
    c=$(counts "$LOGDIR/test-$name.log")
    p=${c% *} f=${c#* }
    [ -n "$c" ] || { p=0 f=0; note="no counts printed"; }
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        f=1; note="exit $rc${note:+, $note}"
    fi
    record "$name" "$p" "$f" $(( $(date +%s) - t0 )) "$note"
}

# Patch ids of the series and of the tree's commits above base, in order.
series_ids() {
    local p
    while read -r p; do
        case $p in ''|'#'*) continue ;; esac
        git patch-id --stable <"$TOP/patches/$p" | cut -d' ' -f1
    done <"$TOP/patches/series"
}
tree_ids() {
    local c
    for c in $(git -C "$TREE" rev-list --reverse base..HEAD); do
        git -C "$TREE" show "$c" | git patch-id --stable | cut -d' ' -f1
    done
}

make_tree() {
    if [ ! -d "$TREE/.git" ]; then
        "$TOP/scripts/tree.sh"
    elif [ "${CI:-}" = true ] || [ "${ZQ_FORCE_TREE:-0}" = 1 ]; then
        "$TOP/scripts/tree.sh" --force
    elif [ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] &&
         [ "$(series_ids)" = "$(tree_ids)" ]; then
        log "$TREE holds exactly patches/series; using it as it is"
    else
        die "$TREE differs from patches/ (commits not exported, or uncommitted
changes).  Run 'make export' first, or ZQ_FORCE_TREE=1 make test to make it
anew from patches/, or ZQ_TREE=/some/dir make test to test elsewhere."
    fi
}

build() {
    "$TOP/scripts/build.sh" && "$TOP/scripts/firmware.sh" "$dir"
}

zoned_iotests() {
    local iot=$dir/tests/qemu-iotests list rc=0 p f s
    list=$(cd "$iot" && PATH=/usr/bin:$PATH ./check -qcow2 -g zoned -n 2>&1) || true
    if [ -z "$list" ] || grep -q 'No tests selected' <<<"$list"; then
        echo "zoned iotests: no test in group 'zoned' yet"
        echo "zoned: 0 passed, 0 failed"
        return 0
    fi
    echo "zoned iotests: $(echo "$list" | tr '\n' ' ')"
    rm -rf "$iot/scratch"
    (cd "$iot" && PATH=/usr/bin:$PATH timeout --kill-after=60 1200 \
        ./check -qcow2 -g zoned --color off -j "$JOBS") \
        >"$LOGDIR/zoned-check.log" 2>&1 || rc=$?
    sed -n '/^--- /,/^[^-+@ ]/p' "$LOGDIR/zoned-check.log" | head -200
    python3 "$TOP/scripts/iotests-parse.py" "$LOGDIR/zoned-check.log" "$dir" "$TREE" |
        awk -F'\t' '{ printf "%-7s %s%s\n", $1, $2, ($3 == "" ? "" : " " $3) }'
    read -r p f s < <(python3 "$TOP/scripts/iotests-parse.py" "$LOGDIR/zoned-check.log" |
        awk -F'\t' '{ c[$1]++ } END { printf "%d %d %d\n", c["pass"], c["fail"], c["notrun"] }')
    if [ "$p" = 0 ] && [ "$f" = 0 ] && [ "$s" = 0 ]; then
        tail -20 "$LOGDIR/zoned-check.log"
        f=1
    fi
    [ $rc != 124 ] || { echo "zoned iotests timed out"; f=$((f + 1)); }
    echo "zoned: $p passed, $f failed, $s not run"
    [ "$f" = 0 ]
}

# The guest tests run on this tree's build.  While the series is empty
# there is no zoned qcow2 to test, and the tests that need one are skipped.
guest_tests() {
    local opts=()
    "$TOP/scripts/deps.sh" guest || return 1
    if ! "$dir/qemu-img" create -f qcow2 -o help 2>/dev/null |
            grep -q 'zone\.mode'; then
        echo "SKIPPED: the series does not provide zone.mode yet:" \
             "zoned-qcow2 guest tests are skipped"
        opts+=(--allow-missing)
    elif [ "${ZQ_GUEST_ALLOW_MISSING:-0}" = 1 ]; then
        echo "ZQ_GUEST_ALLOW_MISSING=1: zoned-qcow2 guest tests are skipped" \
             "if qemu-img cannot make a zoned image"
        opts+=(--allow-missing)
    fi
    QEMU=$dir/qemu-system-x86_64 QEMU_IMG=$dir/qemu-img \
        bash "$TOP/guest/tests.sh" "${opts[@]}"
}

summary() {
    local s
    printf '\n=== summary (%ss in all)\n' "$(( $(date +%s) - t_all ))"
    for s in "${SUMMARY[@]}"; do echo "$s"; done
    echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
    [ "$TOTAL_FAIL" = 0 ]
}

built=0
if quiet deps "$TOP/scripts/deps.sh" &&
   quiet tree make_tree &&
   quiet build build; then
    built=1
fi

if [ $built = 1 ]; then
    counted zoned zoned_iotests
    counted regress "$TOP/scripts/regress.sh" --no-build
    if [ -f "$TOP/guest/tests.sh" ]; then
        counted guest guest_tests
    else
        printf '\n=== guest\nguest/tests.sh is not there yet; no guest test run\n'
    fi
else
    echo "no build: the zoned, regress and guest steps are not run"
fi
counted series "$TOP/scripts/check-series.sh"
summary
