#!/usr/bin/env bash
# Check every patch of patches/series on its own:
#   - it carries "Signed-off-by: zoned-qcow2 <zoned-qcow2@users.noreply.invalid>"
#   - QEMU's scripts/checkpatch.pl (the base's copy) reports no error
#   - it applies with git am on top of the patches before it
#   - qemu-img, qemu-io, qemu-nbd, qemu-storage-daemon and
#     qemu-system-x86_64 then build, without a compiler warning in what the
#     patch made ninja rebuild
#   - the qemu-iotests that the patch adds or changes pass on that build
#     (./check -qcow2 NAME...), so that each test passes from the patch
#     that brings it (a change that breaks a test no patch touches shows
#     at the tip, in make test)
#
#   check-series.sh [--no-build] [--no-iotests]
#       --no-build: only sign-off, checkpatch and git am
#       --no-iotests: no iotests run
#
# The work happens in build/series-check (ZQ_SERIES_TREE): a clone of the
# base commit of build/qemu, or a fresh base tree from tree.sh --base when
# there is no build/qemu.  Its build directory is configured once and kept,
# so later runs are incremental.  build/qemu is only read, never changed.
# ZQ_PATCHES names another directory holding a series (default patches/).
# Prints "ok"/"not ok" per patch and ends with
# "check-series: N passed, N failed" (N counting patches).
set -euo pipefail
. "$(dirname "$0")/common.sh"

build=1 iotests=1
for a in "$@"; do
    case $a in
    --no-build) build=0 iotests=0 ;;
    --no-iotests) iotests=0 ;;
    -h|--help) sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) die "unknown argument $a" ;;
    esac
done

PATCHES=${ZQ_PATCHES:-$TOP/patches}
SERIES=$PATCHES/series
CHK=${ZQ_SERIES_TREE:-$TOP/build/series-check}
CHK_BUILD=$CHK/build
SIGNOFF="Signed-off-by: $IDENT_NAME <$IDENT_EMAIL>"
NINJA_TARGETS=(qemu-img qemu-io qemu-nbd storage-daemon/qemu-storage-daemon
               qemu-system-x86_64)
LOGDIR=$TOP/build/logs/series-check
export CC=${CC:-$(command -v ccache >/dev/null && echo "ccache cc" || echo cc)}

patches=()
while read -r p; do
    case $p in ''|'#'*) continue ;; esac
    patches+=("$p")
done < "$SERIES"

npass=0 nfail=0
echo "check-series: ${#patches[@]} patches in patches/series"

# Every patch file is in the series and every series entry has a file
# (the cover letter is not a patch: git am would find no diff in it).
for f in "$PATCHES"/*.patch; do
    [ -e "$f" ] || continue
    b=$(basename "$f")
    [ "$b" != 0000-cover-letter.patch ] || continue
    if ! printf '%s\n' "${patches[@]}" | grep -qxF "$b"; then
        echo "not ok $b: not listed in patches/series"
        nfail=$((nfail + 1))
    fi
done
if [ ${#patches[@]} = 0 ]; then
    echo "check-series: $npass passed, $nfail failed"
    exit $((nfail > 0))
fi

# --- the check tree -----------------------------------------------------------
src_base=
if [ -d "$TREE/.git" ]; then
    src_base=$(git -C "$TREE" rev-parse -q --verify 'base^{commit}' || true)
fi
if [ -d "$CHK/.git" ] && [ -n "$src_base" ] &&
   [ "$(git -C "$CHK" rev-parse -q --verify 'base^{commit}' || true)" != "$src_base" ]; then
    log "$CHK has another base than $TREE; making it again"
    rm -rf "$CHK"
fi
if [ ! -d "$CHK/.git" ]; then
    if [ -n "$src_base" ]; then
        log "cloning the base of $TREE into $CHK"
        rm -rf "$CHK"
        git clone -q --no-checkout "$TREE" "$CHK"
        zgit -C "$CHK" checkout -q -B series-check "$src_base"
        zgit -C "$CHK" tag -f base "$src_base" >/dev/null
    else
        ZQ_TREE=$CHK "$TOP/scripts/tree.sh" --base
    fi
fi
git -C "$CHK" am --abort >/dev/null 2>&1 || true
zgit -C "$CHK" checkout -q -B series-check base
zgit -C "$CHK" reset -q --hard base
zgit -C "$CHK" clean -q -fd   # untracked files, not the ignored build/

rm -rf "$LOGDIR"
mkdir -p "$LOGDIR"
checkpatch=$LOGDIR/checkpatch.pl
git -C "$CHK" show base:scripts/checkpatch.pl > "$checkpatch"

base_ok=1
if [ $build = 1 ]; then
    log "building the base in $CHK_BUILD"
    if ! ZQ_TREE=$CHK ZQ_SRC_DIR=$CHK ZQ_BUILD_DIR=$CHK_BUILD \
            "$TOP/scripts/build.sh" "${NINJA_TARGETS[@]}" >"$LOGDIR/base-build.log" 2>&1; then
        tail -30 "$LOGDIR/base-build.log"
        echo "check-series: the base itself does not build (see $LOGDIR/base-build.log)"
        base_ok=0
    fi
fi

# The iotests that the commit at HEAD of the check tree adds or changes
# (test scripts and their reference output), one name a line.
touched_iotests() {
    local f name
    git -C "$CHK" diff --name-only --diff-filter=AM HEAD~1 HEAD -- tests/qemu-iotests |
    while read -r f; do
        name=${f#tests/qemu-iotests/}
        name=${name%.out}
        case $name in
        tests/*|[0-9][0-9][0-9]) ;;
        *) continue ;;
        esac
        [ -x "$CHK/tests/qemu-iotests/$name" ] && echo "${name#tests/}"
    done | sort -u
}

# run_iotests TAG: run the touched iotests; sets failed_tests and tested
failed_tests="" tested=""
run_iotests() {
    local names
    mapfile -t names < <(touched_iotests)
    failed_tests="" tested=${#names[@]}
    [ ${#names[@]} -gt 0 ] || return 0
    (cd "$CHK_BUILD/tests/qemu-iotests" &&
        ./check -qcow2 "${names[@]}") >"$LOGDIR/$1-iotests.log" 2>&1 &&
        return 0
    failed_tests=$(sed -n 's/^Failures: //p' "$LOGDIR/$1-iotests.log")
    failed_tests=" ${failed_tests:-(see $LOGDIR/$1-iotests.log)}"
    return 1
}

# --- one patch at a time ----------------------------------------------------------
applied=1 i=0
for p in "${patches[@]}"; do
    i=$((i + 1))
    f=$PATCHES/$p
    problems=() tested=0
    tag=$(printf '%02d' "$i")
    if [ ! -f "$f" ]; then
        echo "not ok $i $p: listed in patches/series but there is no such file"
        nfail=$((nfail + 1)); applied=0
        continue
    fi

    grep -qxF "$SIGNOFF" "$f" || problems+=("no '$SIGNOFF'")

    rc=0
    (cd "$CHK" && perl "$checkpatch" --root="$CHK" --color=never "$f") \
        >"$LOGDIR/$tag-checkpatch.log" 2>&1 || rc=$?
    nerr=$(grep -c '^ERROR:' "$LOGDIR/$tag-checkpatch.log" || true)
    nwarn=$(grep -c '^WARNING:' "$LOGDIR/$tag-checkpatch.log" || true)
    if [ $rc != 0 ]; then
        problems+=("checkpatch: $nerr errors, $nwarn warnings")
    fi

    if [ $applied = 1 ]; then
        if ! zgit -C "$CHK" am -q --committer-date-is-author-date "$f" \
                >"$LOGDIR/$tag-am.log" 2>&1; then
            git -C "$CHK" am --abort >/dev/null 2>&1 || true
            problems+=("does not apply (git am)")
            applied=0
        elif [ $build = 1 ] && [ $base_ok = 1 ]; then
            blog=$LOGDIR/$tag-build.log
            if ! ninja -C "$CHK_BUILD" -j "$JOBS" "${NINJA_TARGETS[@]}" >"$blog" 2>&1; then
                problems+=("does not build")
            else
                nw=$(grep -c ': warning: ' "$blog" || true)
                [ "$nw" = 0 ] || problems+=("$nw compiler warning(s)")
                [ $iotests = 0 ] || run_iotests "$tag" || problems+=("iotests failed:$failed_tests")
            fi
        fi
    else
        problems+=("not applied: an earlier patch failed to apply")
    fi

    if [ ${#problems[@]} = 0 ]; then
        note="signoff, checkpatch"
        [ "$nwarn" = 0 ] || note+=" ($nwarn warnings)"
        note+=", applies"
        [ $build = 0 ] || note+=", builds"
        [ $iotests = 0 ] || [ "${tested:-0}" = 0 ] || note+=", $tested iotests pass"
        echo "ok $i $p ($note)"
        grep '^WARNING:' "$LOGDIR/$tag-checkpatch.log" | sed 's/^/    /' || true
        npass=$((npass + 1))
    else
        msg=$(IFS=';'; echo "${problems[*]}")
        echo "not ok $i $p: ${msg//;/; }"
        nfail=$((nfail + 1))
        case "${problems[*]}" in
        *checkpatch*) grep -E -A4 '^(ERROR|WARNING):' "$LOGDIR/$tag-checkpatch.log" | head -40 | sed 's/^/    /' ;;
        esac
        case "${problems[*]}" in
        *"does not apply"*) sed 's/^/    /' "$LOGDIR/$tag-am.log" | head -20 ;;
        esac
        case "${problems[*]}" in
        *"does not build"*) grep -E -B2 -A6 'error:|FAILED:' "$LOGDIR/$tag-build.log" | head -40 | sed 's/^/    /' ;;
        *"compiler warning"*) grep -A4 ': warning: ' "$LOGDIR/$tag-build.log" | head -40 | sed 's/^/    /' ;;
        esac
        case "${problems[*]}" in
        *"iotests failed"*) grep -E '^(---|\+\+\+|[-+])' "$LOGDIR/$tag-iotests.log" | head -30 | sed 's/^/    /' ;;
        esac
    fi
done
[ $base_ok = 1 ] || nfail=$((nfail + 1))
echo "check-series: logs in $LOGDIR"
echo "check-series: $npass passed, $nfail failed"
[ $nfail = 0 ]
