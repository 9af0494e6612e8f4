#!/usr/bin/env bash
# Regression run: QEMU's own qemu-iotests for qcow2 on a build of the tree,
# compared with what the unpatched base does (tests/regress-expected.txt).
#
#   regress.sh               build build/qemu (unless --no-build), run the
#                            selection, fail only on failures the base
#                            does not have
#   regress.sh --record      the same on the base alone (build/base, made by
#                            tree.sh --base), then write the expectations
#   options: --no-build      use the build directory as it is
#            --expected FILE compare with / record to FILE
#
# Environment: ZQ_TREE, ZQ_BUILD_DIR (see common.sh); REGRESS_ARGS replaces
# the selection ("-qcow2 -x zoned": every qcow2 test except the series' own
# zoned group, which scripts/test.sh runs separately); REGRESS_TIMEOUT (in
# seconds, default 1500) bounds the whole run.
#
# A test that fails although the base passes it is run again on its own, up
# to REGRESS_RETRIES times (default 2); if it passes then it is reported as
# flaky and not counted as a failure.  --record runs every failure again
# the same way and lists those that pass as flaky.
# The last line is "regress: N passed, N failed, N known, N not run".
set -euo pipefail

record=0 build=1 expected=
while [ $# -gt 0 ]; do
    case $1 in
    --record) record=1 ;;
    --no-build) build=0 ;;
    --expected) expected=$2; shift ;;
    -h|--help) sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "regress.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
# The record run uses its own tree so that it never touches build/qemu.
if [ $record = 1 ] && [ -z "${ZQ_TREE:-}" ]; then
    ZQ_TREE=$(cd "$(dirname "$0")/.." && pwd)/build/base
    export ZQ_TREE
fi
. "$(dirname "$0")/common.sh"

EXPECTED=${expected:-$TOP/tests/regress-expected.txt}
SELECTION=${REGRESS_ARGS:--qcow2 -x zoned}
TIMEOUT=${REGRESS_TIMEOUT:-1500}
RETRIES=${REGRESS_RETRIES:-2}
# Cheap Debian packages that let more of the selection run: certtool for
# the TLS tests, the libnbd bindings for nbd-multiconn.
TEST_PKGS=(gnutls-bin python3-libnbd)
dir=${ZQ_BUILD_DIR:-$BUILD}
LOGDIR=$TOP/build/logs
name=$(basename "$TREE")
export CC=${CC:-$(command -v ccache >/dev/null && echo "ccache cc" || echo cc)}

install_test_pkgs() {
    local p missing=()
    for p in "${TEST_PKGS[@]}"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    apt_private_update
    log "installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -y -q "${APT_OPTS[@]}" \
        --no-install-recommends install "${missing[@]}" >&2 ||
        log "warning: could not install ${missing[*]}; some tests will not run"
}

# run_check LOG ARGS...: run ./check, never failing; results are parsed.
run_check() {
    local out=$1; shift
    local rc=0
    # Debian's python3 first: the tests import packages installed by apt
    # (python3-libnbd), which another python3 on PATH would not see.
    (cd "$dir/tests/qemu-iotests" && PATH=/usr/bin:$PATH &&
        timeout --kill-after=60 "$TIMEOUT" ./check --color off -j "$JOBS" "$@") \
        >"$out" 2>&1 </dev/null || rc=$?
    if [ $rc = 124 ] || [ $rc = 137 ]; then
        log "warning: ./check did not finish within ${TIMEOUT}s"
        echo "TIMEOUT" >>"$out"
    fi
    return 0
}

# The selection's options without the test choice (groups, test names), for
# running named tests again.
format_args() {
    local skip=0 keep=0 a
    for a in "$@"; do
        if [ $skip = 1 ]; then skip=0; continue; fi
        if [ $keep = 1 ]; then keep=0; printf '%s\n' "$a"; continue; fi
        case $a in
        -g|-x|--groups|--exclude-groups|--start-from) skip=1 ;;
        -g*|-x*|--groups=*|--exclude-groups=*|--start-from=*) ;;
        -o|-c|-i) keep=1; printf '%s\n' "$a" ;;
        -*) printf '%s\n' "$a" ;;
        esac
    done
}

parse() {
    python3 "$TOP/scripts/iotests-parse.py" "$1" "$dir" "$TREE"
}

# --- prepare ----------------------------------------------------------------
if [ $record = 1 ]; then
    if [ -d "$TREE/.git" ]; then
        [ "$(git -C "$TREE" rev-parse HEAD)" = "$(git -C "$TREE" rev-parse base)" ] ||
            die "$TREE has commits above base; --record needs the base alone"
    else
        "$TOP/scripts/tree.sh" --base
    fi
fi
if [ $build = 1 ]; then
    "$TOP/scripts/build.sh"
fi
if [ ! -x "$dir/qemu-img" ] || [ ! -x "$dir/qemu-system-x86_64" ]; then
    die "no qemu-img/qemu-system-x86_64 in $dir (build first)"
fi
install_test_pkgs
ZQ_BUILD_DIR=$dir "$TOP/scripts/firmware.sh" "$dir"
mkdir -p "$LOGDIR"
rm -f "$LOGDIR/regress-$name".log "$LOGDIR/regress-$name"-retry*.log
rm -rf "$dir/tests/qemu-iotests/scratch"

# --- run --------------------------------------------------------------------
log "regression: ./check $SELECTION -j $JOBS in $dir/tests/qemu-iotests"
log1=$LOGDIR/regress-$name.log
start=$(date +%s)
# shellcheck disable=SC2086
run_check "$log1" $SELECTION
results=$(parse "$log1")
[ -n "$results" ] || { tail -20 "$log1" >&2; die "no test results in $log1"; }
timed_out=0
grep -qx TIMEOUT "$log1" && timed_out=1

declare -A want=()
if [ $record = 0 ]; then
    [ -f "$EXPECTED" ] || die "$EXPECTED missing (make regress-base)"
    while read -r st t _; do
        case $st in ''|'#'*) continue ;; esac
        want[$t]=$st
    done < "$EXPECTED"
fi

# Failures to run again on their own: all of them when recording, else the
# ones the base does not have.
retry=()
while IFS=$'\t' read -r st t _; do
    [ "$st" = fail ] || continue
    if [ $record = 1 ] || { [ "${want[$t]:-}" != fail ] && [ "${want[$t]:-}" != flaky ]; }; then
        retry+=("$t")
    fi
done <<<"$results"
# again[TEST] is "pass" once a run on its own passed, else "fail".
declare -A again=()
# shellcheck disable=SC2086
mapfile -t fmt < <(format_args $SELECTION)
round=0
while [ ${#retry[@]} -gt 0 ] && [ $round -lt "$RETRIES" ]; do
    round=$((round + 1))
    log "running ${#retry[@]} failed test(s) again on their own ($round/$RETRIES): ${retry[*]}"
    log2=$LOGDIR/regress-$name-retry$round.log
    JOBS=1 run_check "$log2" "${fmt[@]}" "${retry[@]}"
    for t in "${retry[@]}"; do again[$t]=fail; done
    while IFS=$'\t' read -r st t _; do
        [ "$st" != pass ] || again[$t]=pass
    done < <(parse "$log2")
    still=()
    for t in "${retry[@]}"; do
        [ "${again[$t]}" = pass ] || still+=("$t")
    done
    retry=("${still[@]}")
done
secs=$(( $(date +%s) - start ))

# --- record -----------------------------------------------------------------
if [ $record = 1 ]; then
    [ $timed_out = 0 ] || die "the base run timed out; nothing recorded"
    base_desc=$(git -C "$TREE" log -1 --format=%s base)
    base_desc=${base_desc#base: }
    tmp=$(mktemp)
    while IFS=$'\t' read -r st t reason; do
        case $st in
        pass) ;;
        fail)
            if [ "${again[$t]:-}" = pass ]; then
                printf 'flaky %s failed once, passed when run again: %s\n' "$t" "$reason"
            else
                printf 'fail %s %s\n' "$t" "$reason"
            fi ;;
        notrun) printf 'notrun %s %s\n' "$t" "$reason" ;;
        esac
    done <<<"$results" | sort -k1,1 -k2,2 >"$tmp"
    total=$(grep -c . <<<"$results")
    npass=$(grep -c '^pass' <<<"$results" || true)
    {
        echo "# Results of QEMU's own qemu-iotests on the unpatched base: the"
        echo "# expectations of scripts/regress.sh.  Made by \"make regress-base\""
        echo "# (scripts/regress.sh --record: scripts/tree.sh --base in build/base,"
        echo "# scripts/build.sh there, then ./check); do not edit by hand."
        echo "# base: $base_desc"
        echo "# selection: ./check $SELECTION -j $JOBS  (in BUILD/tests/qemu-iotests)"
        echo "# totals: $total tests, $npass passed, $(grep -c '^fail' "$tmp" || true) failed," \
             "$(grep -c '^flaky' "$tmp" || true) flaky, $(grep -c '^notrun' "$tmp" || true) not run"
        echo "# One line per test that did not pass: STATUS TEST REASON, STATUS being"
        echo "# fail (fails on the base), flaky (failed, then passed when run again)"
        echo "# or notrun (skipped by the test itself).  Unlisted tests passed."
        cat "$tmp"
    } >"$EXPECTED"
    rm -f "$tmp"
    log "recorded $EXPECTED in ${secs}s"
    grep -v '^#' "$EXPECTED" | grep -v '^notrun' || true
    echo "regress-base: $total tests, $npass passed, $(grep -c -v '^#' "$EXPECTED") listed"
    exit 0
fi

# --- compare ----------------------------------------------------------------
npass=0 nfail=0 nknown=0 nskip=0
new_fail=()
while IFS=$'\t' read -r st t reason; do
    exp=${want[$t]:-pass}
    case $st in
    pass)
        npass=$((npass + 1))
        case $exp in
        fail) echo "fixed   $t (fails on the base, passes here)" ;;
        notrun) echo "note    $t runs here but not on the base" ;;
        esac ;;
    fail)
        if [ "$exp" = fail ] || [ "$exp" = flaky ]; then
            nknown=$((nknown + 1))
            echo "known   $t ($exp on the base: $reason)"
        elif [ "${again[$t]:-}" = pass ]; then
            npass=$((npass + 1))
            echo "flaky   $t (failed, then passed on its own: $reason)"
        else
            nfail=$((nfail + 1))
            new_fail+=("$t")
            echo "FAIL    $t ($reason)"
        fi ;;
    notrun)
        nskip=$((nskip + 1))
        [ "$exp" = notrun ] || echo "note    $t not run here but passes on the base: $reason" ;;
    esac
done <<<"$results"
if [ $timed_out = 1 ]; then
    nfail=$((nfail + 1))
    echo "FAIL    the run did not finish within ${TIMEOUT}s (see $log1)"
fi
if [ ${#new_fail[@]} -gt 0 ]; then
    echo "New failures: ${new_fail[*]}"
    echo "Output of the first run: $log1; of the last: ${log2:-}"
    # The diffs that check printed for them in the second run.
    sed -n '/^--- /,/^[^-+@ ]/p' "${log2:-$log1}" | head -200
fi
log "regression run took ${secs}s"
echo "regress: $npass passed, $nfail failed, $nknown known, $nskip not run"
[ $nfail = 0 ]
