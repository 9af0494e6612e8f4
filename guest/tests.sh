#!/usr/bin/env bash
# Guest tests: boot Linux guests on zoned qcow2 images and check what they
# see and do, plus the harness's own self-tests (null_blk in the guest).
#
#   guest/tests.sh [options] [TEST...]
#
# Options:
#   --self-test      only the harness's self-tests (no zoned qcow2 needed)
#   --qcow2          only the zoned-qcow2 tests
#   --anchors        also the anchor comparisons (informational: QEMU's NVMe
#                    ZNS emulation against null_blk; differences are counted,
#                    not failed)
#   --allow-missing  report the zoned-qcow2 tests as skipped (not failed)
#                    when qemu-img cannot create a zoned image
#   --list           list the tests and exit
#   --keep           keep the work directory (images, guest consoles)
#   --workdir DIR    work there (default: a new directory under TMPDIR)
#   -v, --verbose    print each guest console as it runs
#   TEST...          run only these tests (shell patterns, matched against
#                    all tests, anchors included)
#
# Environment: QEMU, QEMU_IMG (default: the build/qemu/build binaries),
# ZQ_CONF_SEQUENCES (random sequences per conformance run, default 200),
# ZQ_ZBD_FULL=1 (the qcow2-zbd tests run all of fio's t/zbd, not only the
# tests without a fixed run time),
# ZQ_CONF_TIME_LIMIT (seconds of random sequences at most, default 90),
# ZQ_PC_OPS and ZQ_PC_CUTS (operations of the power-cut workload, default
# 150, and power cuts replayed, default 200), ZQ_TREE (the QEMU tree whose
# iotests hold qcow2_zoned_replay.py).
#
# Prints "ok - NAME" / "not ok - NAME" per test (with the tail of the guest
# console on failure) and ends with "N passed, N failed[, N skipped]";
# exits 1 if a test failed.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
QEMU=${QEMU:-$TOP/build/qemu/build/qemu-system-x86_64}
QEMU_IMG=${QEMU_IMG:-$TOP/build/qemu/build/qemu-img}
QEMU_IO=${QEMU_IO:-$TOP/build/qemu/build/qemu-io}
CONF_SEQ=${ZQ_CONF_SEQUENCES:-200}
CONF_TIME=${ZQ_CONF_TIME_LIMIT:-90}
export QEMU
RUN=$HERE/run.sh
SCN=$HERE/scenarios

# Geometries.  null_blk counts in MiB, so every size is whole MiB to let
# the conformance tests build a matching reference device.
#   g1: conventional zones, capacity < zone size, open and active limits
#   g2: no conventional zones, capacity = zone size, no limits
declare -A G1=([size]=64M [zsize]=4M [zcap]=3M [conv]=2 [max_open]=4
    [max_active]=6 [append]=65536)
declare -A G2=([size]=32M [zsize]=2M [zcap]=2M [conv]=0 [max_open]=0
    [max_active]=0 [append]=131072)
#   g3: zones larger than 4 GiB (sparse image), capacity < zone size
declare -A G3=([size]=32G [zsize]=8G [zcap]=6G [conv]=1 [max_open]=1
    [max_active]=2 [append]=1048576)
#   gpc: the power-loss replay's (a conventional zone, no limits)
declare -A GPC=([size]=32M [zsize]=2M [zcap]=1536K [conv]=1 [max_open]=0
    [max_active]=0 [append]=65536)
#   gdemo: make demo's (scripts/demo.sh)
declare -A GDEMO=([size]=1G [zsize]=64M [zcap]=48M [conv]=1 [max_open]=4
    [max_active]=6 [append]=1048576)
#   gza, gzb: fio's t/zbd (at least 130 sequential zones, 8 conventional
#   ones and 16 MiB in them, so that few of its tests skip); gzb has 4 KiB
#   logical blocks ([lbs], the virtio-blk block sizes)
declare -A GZA=([size]=300M [zsize]=2M [zcap]=1M [conv]=10 [max_open]=0
    [max_active]=0 [append]=524288 [lbs]=512)
declare -A GZB=([size]=152M [zsize]=1M [zcap]=1M [conv]=16 [max_open]=8
    [max_active]=12 [append]=262144 [lbs]=4096)
#   gbt: btrfs zoned (enough zones for its super block log, system,
#   metadata and data block groups and their relocation; capacity < zone
#   size), and no open or active limit.  With limits, btrfs 6.12 exceeds
#   them on null_blk itself now and then (its super block log zones are
#   not in its count): with 12 open and 14 active zones in about half of
#   the runs (active limit), with 10 and 14 once in CI (open limit, a
#   super block write); the limits have tests of their own.
declare -A GBT=([size]=512M [zsize]=8M [zcap]=6M [conv]=0 [max_open]=0
    [max_active]=0 [append]=262144)
NULLB_SPEC="size=64,zsize=4,zcap=3,conv=2,max_open=3,max_active=5"

SELF_TESTS=(self-boot-exit self-timeout self-kill-on self-nullb-show
    self-conformance self-conformance-detects self-zoneops self-persist)
QCOW2_TESTS=(qcow2-create qcow2-show qcow2-conformance-g1
    qcow2-conformance-g2 qcow2-conformance-faults qcow2-zoneops qcow2-persist-reboot
    qcow2-persist-kill qcow2-persist-unsynced-kill qcow2-powercut qcow2-demo
    qcow2-snapshot qcow2-snapshot-on qcow2-savevm qcow2-resize qcow2-zonefs
    qcow2-zbd-a qcow2-zbd-b qcow2-multiqueue qcow2-btrfs-multiqueue qcow2-btrfs-backup
    qcow2-check)
ANCHOR_TESTS=(anchor-zns anchor-zns-persist)

mode=all allow_missing=0 keep=0 verbose=0 workdir="" list=0 anchors=0
patterns=()
while [ $# -gt 0 ]; do
    case $1 in
    --self-test) mode=self ;;
    --qcow2) mode=qcow2 ;;
    --allow-missing) allow_missing=1 ;;
    --anchors) anchors=1 ;;
    --list) list=1 ;;
    --keep) keep=1 ;;
    --workdir) workdir=$2; shift ;;
    -v|--verbose) verbose=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "tests.sh: unknown option $1" >&2; exit 2 ;;
    *) patterns+=("$1") ;;
    esac
    shift
done

tests=()
case $mode in
self) tests=("${SELF_TESTS[@]}") ;;
qcow2) tests=("${QCOW2_TESTS[@]}") ;;
all) tests=("${SELF_TESTS[@]}" "${QCOW2_TESTS[@]}") ;;
esac
[ "$anchors" = 1 ] && tests+=("${ANCHOR_TESTS[@]}")
if [ ${#patterns[@]} -gt 0 ]; then
    sel=()
    for t in "${SELF_TESTS[@]}" "${QCOW2_TESTS[@]}" "${ANCHOR_TESTS[@]}"; do
        for p in "${patterns[@]}"; do
            # shellcheck disable=SC2053 # patterns are globs on purpose
            if [[ $t == $p ]]; then sel+=("$t"); break; fi
        done
    done
    tests=(${sel[@]+"${sel[@]}"})
fi
if [ "$list" = 1 ]; then
    printf '%s\n' ${tests[@]+"${tests[@]}"}
    exit 0
fi
[ ${#tests[@]} -gt 0 ] || { echo "tests.sh: no test selected" >&2; exit 2; }

if [ -n "$workdir" ]; then
    mkdir -p "$workdir"
    W=$(cd "$workdir" && pwd)
else
    W=$(mktemp -d "${TMPDIR:-/tmp}/zq-guest-tests.XXXXXX")
fi
[ "$keep" = 1 ] || [ -n "$workdir" ] || trap 'rm -rf "$W"' EXIT

# Build (or check) the guest once, before the clock of the first test.
"$HERE/build-initramfs.sh" >&2

LOG=/dev/null       # the current test's log
SKIP_REASON=""

say() { echo "$*" >> "$LOG"; }
# Mark the current test failed (sticky: later checks still run).
FAILED=0
failed() { say "FAILED: $*"; FAILED=1; return 1; }

# guest LOGFILE RUN.SH-ARGS...: run a guest, console to LOGFILE (and to the
# test's log).  Returns run.sh's status.
guest() {
    local out=$1 rc=0; shift
    say "\$ run.sh $*"
    if [ "$verbose" = 1 ]; then
        "$RUN" --log "$out" "$@" 2>&1 | sed 's/^/    /' >&2 || rc=${PIPESTATUS[0]}
    else
        "$RUN" --quiet --log "$out" "$@" 2>>"$LOG" || rc=$?
    fi
    cat "$out" >> "$LOG"
    say "run.sh status: $rc"
    return "$rc"
}

# The -blockdev/-device pair for an image, one word a line: disk_args FILE NODE
# The bash command that sends QMP command $1 from run.sh --host-on
qmp_cmd() { printf 'python3 %q "$ZQ_QMP" %q' "$HERE/qmp.py" "$1"; }

disk_args() {
    printf '%s\n' -blockdev "driver=qcow2,file.driver=file,file.filename=$1,node-name=$2" \
        -device "virtio-blk-device,drive=$2"
}

bytes() {
    local v=$1
    case $v in
    *K) echo $(( ${v%K} * 1024 )) ;;
    *M) echo $(( ${v%M} * 1048576 )) ;;
    *G) echo $(( ${v%G} * 1073741824 )) ;;
    *) echo "$v" ;;
    esac
}

# mkimg FILE GEOMETRY-ARRAY-NAME: a zoned qcow2 image.
mkimg() {
    local file=$1 o
    local -n g=$2
    o="zone.mode=host-managed,zone.size=$(bytes "${g[zsize]}")"
    o+=",zone.capacity=$(bytes "${g[zcap]}"),zone.conventional_zones=${g[conv]}"
    o+=",zone.max_open_zones=${g[max_open]},zone.max_active_zones=${g[max_active]}"
    o+=",zone.max_append_bytes=${g[append]}"
    rm -f "$file"
    say "\$ qemu-img create -f qcow2 -o $o $file ${g[size]}"
    "$QEMU_IMG" create -f qcow2 -o "$o" "$file" "${g[size]}" >> "$LOG" 2>&1
}

# Can this qemu-img make zoned images at all?  (Cached.)
ZONED_OK=""
zoned_supported() {
    if [ -z "$ZONED_OK" ]; then
        ZONED_OK=no
        if [ -x "$QEMU_IMG" ] && LOG=$W/probe.log mkimg "$W/probe.qcow2" G1; then
            ZONED_OK=yes
        fi
        rm -f "$W/probe.qcow2"
    fi
    [ "$ZONED_OK" = yes ]
}

need_zoned() {
    zoned_supported && return 0
    say "qemu-img cannot create a zoned qcow2 image:"
    cat "$W/probe.log" >> "$LOG" 2>/dev/null || true
    if [ "$allow_missing" = 1 ]; then
        SKIP_REASON="qemu-img cannot create zoned qcow2 images"
        return 77
    fi
    return 1
}

# Lines "ZQ-SYSFS DEV ATTR VALUE" of a console log -> value
sysfs_of() { awk -v d="$2" -v a="$3" '$1 == "ZQ-SYSFS" && $2 == d && $3 == a { print $4 }' "$1"; }

# The zoned disks of a show.sh log, by size in sectors.
disk_by_size() {
    awk -v s="$2" '$1 == "ZQ-SYSFS" && $3 == "size_sectors" && $4 == s { print $2; exit }' "$1"
}

# check_geometry LOG DEV GEOMETRY-ARRAY-NAME: the guest's view matches.
check_geometry() {
    local log=$1 dev=$2
    local -n g=$3
    local zs cap size nz ok=0 got want attr conv
    zs=$(bytes "${g[zsize]}") cap=$(bytes "${g[zcap]}") size=$(bytes "${g[size]}")
    nz=$(( (size + zs - 1) / zs ))
    for pair in "zoned host-managed" "nr_zones $nz" "chunk_sectors $((zs / 512))" \
                "max_open_zones ${g[max_open]}" "max_active_zones ${g[max_active]}" \
                "zone_append_max_bytes ${g[append]}" "size_sectors $((size / 512))"; do
        attr=${pair%% *} want=${pair#* }
        got=$(sysfs_of "$log" "$dev" "$attr")
        if [ "$got" != "$want" ]; then
            say "$dev: $attr is '$got', expected '$want'"
            ok=1
        fi
    done
    conv=$(grep -c "^ZQ-REPORT zones $dev .* type CONV " "$log" || true)
    [ "$conv" = "${g[conv]}" ] || { say "$dev: $conv conventional zones, expected ${g[conv]}"; ok=1; }
    got=$(awk -v d="$dev" '$1 == "ZQ-REPORT" && $3 == d && $0 ~ / type SW/ { for (i = 4; i < NF; i++) if ($i == "cap") print $(i + 1) }' "$log" | sort -u)
    [ "$got" = "$cap" ] || { say "$dev: zone capacities '$got', expected $cap"; ok=1; }
    got=$(grep -c "^ZQ-REPORT zones $dev .* cond em$" "$log" || true)
    [ "$got" = "$((nz - g[conv]))" ] || { say "$dev: $got empty zones, expected $((nz - g[conv]))"; ok=1; }
    return $ok
}

# Zone states of one report tag: "N WP COND" lines.
states() { awk -v t="$2" '$1 == "ZQ-REPORT" && $2 == t { print $5, $13, $17 }' "$1"; }

# After a restart, open zones come back closed (or empty without data).
restart_states() {
    awk '{ c = $3; if (c == "oi" || c == "oe") c = ($2 > 0) ? "cl" : "em"; print $1, $2, c }'
}

all_checks_ok() {
    ! grep -q '^ZQ-CHECK .* FAIL' "$1" || { failed "guest checks failed"; return 1; }
}

qemu_img_check() {
    say "\$ qemu-img check $1"
    "$QEMU_IMG" check "$1" >> "$LOG" 2>&1 || failed "qemu-img check $1"
}

# ---- self-tests of the harness ----

test_self-boot-exit() {
    cat > "$W/exit.sh" <<'EOF'
#!/bin/sh
echo "args: $#:$1:$2"
exit 7
EOF
    local rc=0
    guest "$W/exit.log" --script "$W/exit.sh" --arg "a b" --arg c --timeout 60 || rc=$?
    [ "$rc" = 7 ] || failed "exit status $rc, expected 7"
    grep -q '^args: 2:a b:c$' "$W/exit.log" || failed "arguments not passed"
}

test_self-timeout() {
    printf '#!/bin/sh\nsleep 600\n' > "$W/sleep.sh"
    local rc=0 t0=$SECONDS
    guest "$W/timeout.log" --script "$W/sleep.sh" --timeout 15 || rc=$?
    [ "$rc" = 124 ] || failed "exit status $rc, expected 124"
    [ $((SECONDS - t0)) -lt 40 ] || failed "timeout took $((SECONDS - t0))s"
}

test_self-kill-on() {
    printf '#!/bin/sh\necho KILL-ME-NOW\nsleep 600\n' > "$W/kill.sh"
    local rc=0
    guest "$W/kill.log" --script "$W/kill.sh" --kill-on KILL-ME-NOW --timeout 60 || rc=$?
    [ "$rc" = 0 ] || failed "exit status $rc, expected 0"
    grep -q '^ZQ-HOST-KILLED' "$W/kill.log" || failed "no ZQ-HOST-KILLED line"
}

test_self-nullb-show() {
    guest "$W/nshow.log" --script "$SCN/show.sh" --arg --nullb --arg "$NULLB_SPEC" \
        --timeout 60 || return 1
    # shellcheck disable=SC2034 # used through a nameref
    local -A nb=([size]=64M [zsize]=4M [zcap]=3M [conv]=2 [max_open]=3
        [max_active]=5 [append]=$(sysfs_of "$W/nshow.log" zqshow0 zone_append_max_bytes))
    check_geometry "$W/nshow.log" zqshow0 nb
}

test_self-conformance() {
    guest "$W/nconf.log" --script "$SCN/conformance.sh" --arg --self-test \
        --arg "$NULLB_SPEC" --arg -- --arg -n --arg "$CONF_SEQ" \
        --arg -t --arg "$CONF_TIME" --timeout 300 || return 1
    grep -q '^ZQ-RESULT conformance self pass' "$W/nconf.log" || failed "no pass line"
}

test_self-conformance-detects() {
    # Operation 3 is not sent to device B: zbdconf must notice.
    local rc=0
    guest "$W/ndetect.log" --script "$SCN/conformance.sh" --arg --self-test \
        --arg "$NULLB_SPEC" --arg -- --arg --skip-b-op --arg 3 --arg -R \
        --timeout 120 || rc=$?
    [ "$rc" = 1 ] || failed "exit status $rc, expected 1"
    grep -q '^DIFF in ' "$W/ndetect.log" || failed "no DIFF reported"
}

test_self-zoneops() {
    guest "$W/nops.log" --script "$SCN/zoneops.sh" --arg --nullb --arg "$NULLB_SPEC" \
        --timeout 300 || return 1
    all_checks_ok "$W/nops.log"
}

test_self-persist() {
    guest "$W/npersist.log" --script "$SCN/persist.sh" --arg --nullb \
        --arg "$NULLB_SPEC" --arg nullb --arg write --arg more --arg check \
        --timeout 120 || return 1
    all_checks_ok "$W/npersist.log" || return 1
    # Same boot: the final state is what "after" shows.
    cmp -s <(states "$W/npersist.log" final) <(states "$W/npersist.log" after) ||
        failed "zone states changed without a restart"
}

# ---- zoned qcow2 ----

test_qcow2-create() {
    need_zoned || return $?
    mkimg "$W/c1.qcow2" G1 || return 1
    "$QEMU_IMG" info "$W/c1.qcow2" >> "$LOG" 2>&1 || failed "qemu-img info"
    qemu_img_check "$W/c1.qcow2"
}

test_qcow2-show() {
    need_zoned || return $?
    mkimg "$W/s1.qcow2" G1 && mkimg "$W/s2.qcow2" G2 || return 1
    mkimg "$W/s4.qcow2" G3 || return 1
    "$QEMU_IMG" create -f qcow2 "$W/s3.qcow2" 16M >> "$LOG" 2>&1 || return 1
    local args
    mapfile -t args < <(disk_args "$W/s1.qcow2" z1; disk_args "$W/s2.qcow2" z2
                        disk_args "$W/s3.qcow2" p3; disk_args "$W/s4.qcow2" z4)
    guest "$W/show.log" --script "$SCN/show.sh" --timeout 120 -- "${args[@]}" || return 1
    local d1 d2 d3 d4 rc=0
    d1=$(disk_by_size "$W/show.log" $(( $(bytes "${G1[size]}") / 512 )))
    d2=$(disk_by_size "$W/show.log" $(( $(bytes "${G2[size]}") / 512 )))
    d3=$(disk_by_size "$W/show.log" $(( 16 * 2048 )))
    d4=$(disk_by_size "$W/show.log" $(( $(bytes "${G3[size]}") / 512 )))
    if [ -z "$d1" ] || [ -z "$d2" ] || [ -z "$d3" ] || [ -z "$d4" ]; then
        failed "disks missing (${d1:-?} ${d2:-?} ${d3:-?} ${d4:-?})"
        return 1
    fi
    check_geometry "$W/show.log" "$d1" G1 || rc=1
    check_geometry "$W/show.log" "$d2" G2 || rc=1
    check_geometry "$W/show.log" "$d4" G3 || rc=1
    [ "$(sysfs_of "$W/show.log" "$d3" zoned)" = none ] || { say "plain disk is zoned"; rc=1; }
    return $rc
}

conformance() {
    local g=$1 img=$W/conf-$1.qcow2
    need_zoned || return $?
    mkimg "$img" "$2" || return 1
    local args
    mapfile -t args < <(disk_args "$img" z)
    guest "$W/conf-$g.log" --script "$SCN/conformance.sh" --arg --dev --arg vda \
        --arg -- --arg -n --arg "$CONF_SEQ" --arg -t --arg "$CONF_TIME" \
        --arg --expect-fill-a --arg 0 --timeout 400 -- "${args[@]}" || return 1
    grep -q '^ZQ-RESULT conformance vda pass' "$W/conf-$g.log" || failed "no pass line"
    qemu_img_check "$img"
}
test_qcow2-conformance-g1() { conformance g1 G1; }
test_qcow2-conformance-g2() { conformance g2 G2; }

# The differential test with a read-only and an offline zone, made with
# qemu-io on the image (stored, so the guest boots with them) and through
# configfs on the reference null_blk: every report, error and read must
# match.  Fails if an offline zone reads (checked), if reset-all resets
# them (checked) or if the report shows other conditions.  A write to a
# read-only zone that qcow2 refused as unaligned instead of with EIO does
# not show: virtio-blk's Linux driver turns both into an I/O error
# (qcow2-zoned-conditions checks the errno).
test_qcow2-conformance-faults() {
    need_zoned || return $?
    local img=$W/conf-faults.qcow2 args ro off zs
    mkimg "$img" G1 || return 1
    zs=$(bytes "${G1[zsize]}")
    ro=$((5 * zs)) off=$((9 * zs))
    say "\$ qemu-io -c 'zsc $ro read-only' -c 'zsc $off offline' $img"
    "$QEMU_IO" -f qcow2 -c "zsc $ro read-only" -c "zsc $off offline" "$img" \
        >> "$LOG" 2>&1 || { failed "qemu-io zone_set_cond"; return 1; }
    mapfile -t args < <(disk_args "$img" z)
    guest "$W/conf-faults.log" --script "$SCN/conformance.sh" --arg --dev \
        --arg vda --arg --fault --arg "$ro:ro" --arg --fault --arg "$off:off" \
        --arg -- --arg -n --arg "$CONF_SEQ" --arg -t --arg "$CONF_TIME" \
        --arg --expect-fill-a --arg 0 --timeout 400 -- "${args[@]}" || return 1
    grep -q '^ZQ-RESULT conformance vda pass' "$W/conf-faults.log" ||
        { failed "no pass line"; return 1; }
    qemu_img_check "$img"
}

test_qcow2-zoneops() {
    need_zoned || return $?
    mkimg "$W/ops.qcow2" G1 || return 1
    local args
    mapfile -t args < <(disk_args "$W/ops.qcow2" z)
    guest "$W/ops.log" --script "$SCN/zoneops.sh" --arg --dev --arg vda \
        --timeout 300 -- "${args[@]}" || return 1
    all_checks_ok "$W/ops.log" || return 1
    qemu_img_check "$W/ops.qcow2"
}

# persist_flow KIND NAME DEV IMG RUN.SH-OPTIONS... -- QEMU-ARGS...: write
# zones on DEV in one boot, end it (KIND: reboot | kill | unsynced-kill),
# check them in a second boot.  IMG, if not empty, must pass qemu-img check
# after each boot.
persist_flow() {
    local kind=$1 name=$2 dev=$3 img=$4 opts=() qargs=()
    shift 4
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    qargs=("$@")
    local run1=(--script "$SCN/persist.sh" --arg "$dev" --arg write --timeout 120)
    case $kind in
    kill) run1+=(--arg kill --kill-on ZQ-KILL-NOW) ;;
    unsynced-kill) run1+=(--arg more --arg kill --kill-on ZQ-KILL-NOW) ;;
    esac
    local l1=$W/$name-1.log l2=$W/$name-2.log
    guest "$l1" ${opts[@]+"${opts[@]}"} "${run1[@]}" -- "${qargs[@]}" || return 1
    all_checks_ok "$l1" || return 1
    if [ -n "$img" ] && [ "$kind" != reboot ]; then
        qemu_img_check "$img" || return 1
    fi
    guest "$l2" ${opts[@]+"${opts[@]}"} --script "$SCN/persist.sh" --arg "$dev" \
        --arg check --timeout 120 -- "${qargs[@]}" || return 1
    all_checks_ok "$l2" || return 1
    if [ -n "$img" ]; then
        qemu_img_check "$img" || return 1
    fi
    local before=$W/$name.before after=$W/$name.after
    states "$l1" synced | restart_states > "$before"
    states "$l2" after > "$after"
    if [ ! -s "$before" ] || [ ! -s "$after" ]; then
        failed "no zone reports"
        return 1
    fi
    if [ "$kind" != unsynced-kill ]; then
        diff "$before" "$after" >> "$LOG" || failed "zone states not kept"
        return
    fi
    # Unsynced writes may or may not have reached the image; each WP must
    # be between the synced one and the final one (data below it was
    # verified by the guest), and conditions must be consistent with it.
    states "$l1" final > "$W/$name.final"
    paste -d' ' "$before" "$W/$name.final" "$after" |
    awk '{
            z = $1; ws = $2; cs = $3; wf = $5; wa = $8; ca = $9
            if (cs == "nw") { if (ca != "nw") bad = bad " " z; next }
            if (cs == "fu") { if (ca != "fu") bad = bad " " z; next }
            if (wa < ws || wa > wf) { bad = bad " " z; next }
            if (wa == 0 && ca != "em") bad = bad " " z
            if (wa > 0 && ca != "cl" && ca != "fu") bad = bad " " z
         }
         END { if (bad != "") { print "zones out of range:" bad; exit 1 } }' >> "$LOG" ||
        failed "write pointers after the crash out of range"
}

persist() {
    local kind=$1 img=$W/persist-$1.qcow2 args
    need_zoned || return $?
    mkimg "$img" G1 || return 1
    mapfile -t args < <(disk_args "$img" z)
    persist_flow "$kind" "persist-$kind" vda "$img" -- "${args[@]}"
}
test_qcow2-persist-reboot() { persist reboot; }
test_qcow2-persist-kill() { persist kill; }
test_qcow2-persist-unsynced-kill() { persist unsynced-kill; }

# Power-loss replay of a guest workload: the image's file node is below a
# blklogwrites filter; powercut-check.py rebuilds the image at every flush
# and at ZQ_PC_CUTS (default 200) power cuts and checks the durability rule
# on each state.  It fails, for example, when qcow2_zoned_co_flush() has no
# barrier before it writes the write pointers.
test_qcow2-powercut() {
    need_zoned || return $?
    local img=$W/powercut.qcow2 base=$W/powercut-base.qcow2 log=$W/powercut.log
    local iotests=${ZQ_TREE:-$TOP/build/qemu}/tests/qemu-iotests
    local qemu_io=${QEMU_IO:-$(dirname "$QEMU_IMG")/qemu-io}
    mkimg "$img" GPC || return 1
    # The guest's flush markers: the first 128 KiB of the conventional zone
    "$qemu_io" -f qcow2 -c "write -P 0xff 0 128k" "$img" >> "$LOG" 2>&1 || return 1
    cp "$img" "$base"
    : > "$log"
    guest "$W/powercut-guest.log" --script "$SCN/powercut.sh" --arg vda \
        --arg "${ZQ_PC_OPS:-150}" --arg 1 --timeout 300 -- \
        -blockdev "driver=file,filename=$img,node-name=f" \
        -blockdev "driver=file,filename=$log,node-name=l" \
        -blockdev "driver=blklogwrites,file=f,log=l,log-sector-size=512,node-name=lw" \
        -blockdev "driver=qcow2,file=lw,node-name=z" \
        -device virtio-blk-device,drive=z || return 1
    grep -q '^ZQ-PC END' "$W/powercut-guest.log" || { failed "the workload did not end"; return 1; }
    mkdir -p "$W/powercut-states"
    python3 "$HERE/powercut-check.py" "$QEMU_IMG" "$qemu_io" "$iotests" \
        "$W/powercut-guest.log" "$base" "$log" "$img" "$W/powercut-states" \
        "${ZQ_PC_CUTS:-200}" 1 >> "$LOG" 2>&1 || { failed "power-loss replay"; return 1; }
    rm -rf "$W/powercut-states" "$base" "$log"
    echo "# qcow2-powercut: $(grep -m1 '^ZQ-PC-REPLAY' "$LOG")"
}

# An internal snapshot taken between two boots and applied before a third:
# the third boot sees the zone conditions and write pointers of the first
# (open zones closed) and its data.  Fails, for example, if applying a
# snapshot restores its L1 table but not its write pointers (the second
# boot's reset of a full zone stays).
# expect_first_zones FIRST-LOG LOG MESSAGE QEMU-ARGS...: a boot that runs
# persist.sh "check" must find the zones (open ones closed) and the data
# of the first boot's "synced" report in FIRST-LOG; else fail with MESSAGE
expect_first_zones() {
    local first=$1 out=$2 msg=$3
    shift 3
    guest "$out" --script "$SCN/persist.sh" --arg vda --arg check \
        --timeout 120 -- "$@" || return 1
    all_checks_ok "$out" || return 1
    diff <(states "$first" synced | restart_states) <(states "$out" after) >> "$LOG" ||
        failed "$msg"
}

# QEMU's snapshot=on (-snapshot): the guest sees the image's zones in a
# throw-away zoned overlay, changes them, and the image keeps what it had.
# Fails if the temporary overlay is not zoned (persist.sh finds no zoned
# disk), does not take the write pointers (the second boot's "after"
# differs from the first boot's zones), or writes through to the image.
test_qcow2-snapshot-on() {
    need_zoned || return $?
    local img=$W/snapshot-on.qcow2 args l=$W/snapshot-on
    mkimg "$img" G1 || return 1
    mapfile -t args < <(disk_args "$img" z)
    guest "$l-1.log" --script "$SCN/persist.sh" --arg vda --arg write \
        --timeout 120 -- "${args[@]}" || return 1
    all_checks_ok "$l-1.log" || return 1
    guest "$l-2.log" --script "$SCN/persist.sh" --arg vda --arg check \
        --arg change --timeout 120 -- \
        -drive "if=none,id=z,file=$img,format=qcow2,snapshot=on" \
        -device virtio-blk-device,drive=z || return 1
    all_checks_ok "$l-2.log" || return 1
    diff <(states "$l-1.log" synced | restart_states) \
         <(states "$l-2.log" after) >> "$LOG" ||
        { failed "the snapshot=on overlay does not show the image's zones"; return 1; }
    if cmp -s <(states "$l-2.log" after) <(states "$l-2.log" changed); then
        failed "the snapshot=on boot did not change the zones"
        return 1
    fi
    qemu_img_check "$img" || return 1
    expect_first_zones "$l-1.log" "$l-3.log" \
        "the snapshot=on boot changed the image" "${args[@]}"
}

# zonefs meets a zone that goes read-only while it is mounted (see
# scenarios/zonefs.sh): on the zoned disk through
# x-blockdev-zone-set-condition, on null_blk through configfs.  Every
# step must give the same result on both, the append after the zone went
# read-only must fail, the data must read back, the other zones must take
# writes, and the guest must keep running.  Fails if the zone does not go
# read-only (its condition and the append differ from null_blk's) or if
# a read-only zone fails reads (checked).  A write that a read-only zone
# took would not show: the zone is full first.
test_qcow2-zonefs() {
    need_zoned || return $?
    local img=$W/zonefs.qcow2 sb=$W/zonefs.sb args l=$W/zonefs.log off
    mkimg "$img" G1 || return 1
    off=$(( (G1[conv] + 1) * $(bytes "${G1[zsize]}") ))
    # The zonefs super block (fs/zonefs/zonefs.h): magic, crc32, label,
    # uuid, features, uid, gid, perm, reserved; no features
    python3 -c "import struct, sys, zlib
sb = bytearray(struct.pack('<II64s16sQIII', 0x5a4f4653, 0, b'zq', b'\\x5a' * 16,
                           0, 0, 0, 0) + bytes(3988))
struct.pack_into('<I', sb, 4, zlib.crc32(sb) ^ 0xffffffff)
open(sys.argv[1], 'wb').write(sb)" "$sb" || { failed "super block"; return 1; }
    mapfile -t args < <(disk_args "$img" z)
    guest "$l" --script "$SCN/zonefs.sh" --file "$sb" \
        --host-on ZQ-ZONE-RO-NOW "$(qmp_cmd "{\"execute\": \"x-blockdev-zone-set-condition\", \"arguments\": {\"node-name\": \"z\", \"offset\": $off, \"condition\": \"read-only\"}}")" \
        --timeout 180 -- "${args[@]}" || return 1
    grep -q '^ZQ: zonefs done' "$l" || { failed "the guest did not get through"; return 1; }
    diff <(awk '$1 == "ZQ-FS" && $2 == "vda" { $2 = ""; print }' "$l") \
         <(awk '$1 == "ZQ-FS" && $2 == "zqfs" { $2 = ""; print }' "$l") >> "$LOG" ||
        { failed "zonefs on qcow2 and on null_blk differ"; return 1; }
    grep -q '^ZQ-FS vda append-2 fail' "$l" &&
        grep -q '^ZQ-FS vda read-back ok' "$l" &&
        grep -q '^ZQ-FS vda other-zone ok' "$l" ||
        { failed "zonefs did not see the zone go read-only as expected"; return 1; }
    qemu_img_check "$img"
}

# savevm of a running guest, then a second run with -loadvm (see
# scenarios/vmsnap.sh): the guest comes back to the zones and data it had
# when the snapshot was taken (open zones closed), although it changed
# them after.  Fails if savevm is refused (the migration blocker of
# before), if the VM state is written through the zone write path
# (savevm fails), or if loadvm does not bring the write pointers back.
test_qcow2-savevm() {
    need_zoned || return $?
    local img=$W/savevm.qcow2 flag=$W/savevm-flag.raw args l=$W/savevm
    mkimg "$img" G1 || return 1
    head -c 1M /dev/zero | tr '\0' 0 > "$flag"
    mapfile -t args < <(disk_args "$img" z)
    args+=(-blockdev "driver=raw,file.driver=file,file.filename=$flag,read-only=on,node-name=flag"
        -device virtio-blk-device,drive=flag)
    guest "$l-1.log" --script "$SCN/vmsnap.sh" --file "$SCN/persist.sh" \
        --host-on ZQ-SAVEVM-NOW "$(qmp_cmd '{"execute": "human-monitor-command", "arguments": {"command-line": "savevm s1"}}') && printf 1 | dd of=$flag conv=notrunc status=none" \
        --timeout 180 -- "${args[@]}" || return 1
    grep -q '^ZQ-HOST {"return": ""}' "$l-1.log" ||
        { failed "savevm failed"; return 1; }
    all_checks_ok "$l-1.log" || return 1
    if cmp -s <(states "$l-1.log" synced) <(states "$l-1.log" changed); then
        failed "the guest did not change the zones after savevm"
        return 1
    fi
    printf 2 | dd of="$flag" conv=notrunc status=none
    guest "$l-2.log" --script "$SCN/vmsnap.sh" --file "$SCN/persist.sh" \
        --timeout 180 -- "${args[@]}" -loadvm s1 || return 1
    all_checks_ok "$l-2.log" || return 1
    grep -q 'ZQ: after loadvm' "$l-2.log" ||
        { failed "the guest did not come back from loadvm"; return 1; }
    diff <(states "$l-1.log" synced | restart_states) <(states "$l-2.log" after) >> "$LOG" ||
        { failed "the zones after loadvm are not those of savevm"; return 1; }
    qemu_img_check "$img"
}

# block_resize of a zoned image under a running guest: the guest gets the
# new capacity, and after probing the device again (Linux 6.12 does not
# read the zones again on a capacity change), the new zones, empty and
# writable; the old ones keep their data.  Fails if the resize is refused
# (checked: the capacity and the zone count stay) or if the guest is not
# told.  Memory bugs of the resize (the zone state not resized) stay
# invisible here; qcow2-zoned-resize catches that one.
test_qcow2-resize() {
    need_zoned || return $?
    local img=$W/resize.qcow2 args l=$W/resize zones
    mkimg "$img" G1 || return 1
    zones=$(( $(bytes "${G1[size]}") / $(bytes "${G1[zsize]}") + 4 ))
    mapfile -t args < <(disk_args "$img" z)
    guest "$l.log" --script "$SCN/resize.sh" --arg vda --arg "$zones" \
        --host-on ZQ-RESIZE-NOW "$(qmp_cmd "{\"execute\": \"block_resize\", \"arguments\": {\"node-name\": \"z\", \"size\": $((zones * $(bytes "${G1[zsize]}")))}}")" \
        --timeout 120 -- "${args[@]}" || return 1
    grep -q '^ZQ-HOST {"return": {}}' "$l.log" ||
        { failed "block_resize failed"; return 1; }
    all_checks_ok "$l.log" || return 1
    qemu_img_check "$img" || return 1
    "$QEMU_IMG" info "$img" | grep -q "nr zones: $zones\$" ||
        failed "the image does not have $zones zones"
}

test_qcow2-snapshot() {
    need_zoned || return $?
    local img=$W/snapshot.qcow2 args l=$W/snapshot
    mkimg "$img" G1 || return 1
    mapfile -t args < <(disk_args "$img" z)
    guest "$l-1.log" --script "$SCN/persist.sh" --arg vda --arg write \
        --timeout 120 -- "${args[@]}" || return 1
    all_checks_ok "$l-1.log" || return 1
    say "\$ qemu-img snapshot -c s1 $img"
    "$QEMU_IMG" snapshot -c s1 "$img" >> "$LOG" 2>&1 || { failed "snapshot -c"; return 1; }
    guest "$l-2.log" --script "$SCN/persist.sh" --arg vda --arg more \
        --arg change --timeout 120 -- "${args[@]}" || return 1
    all_checks_ok "$l-2.log" || return 1
    if cmp -s <(states "$l-1.log" synced | restart_states) \
              <(states "$l-2.log" changed | restart_states); then
        failed "the second boot did not change the zones"
        return 1
    fi
    say "\$ qemu-img snapshot -a s1 $img"
    "$QEMU_IMG" snapshot -a s1 "$img" >> "$LOG" 2>&1 || { failed "snapshot -a"; return 1; }
    qemu_img_check "$img" || return 1
    expect_first_zones "$l-1.log" "$l-3.log" \
        "the zones after snapshot -a are not those of snapshot -c" "${args[@]}"
}

# make demo's guest half, so that the demo keeps working: the zones and
# their data come back after a restart, and NVMe ZNS loses them.  Fails if
# the image did not keep a zone (e.g. the table is not loaded at open) or
# if ZNS starts to keep its zones (then the demo's comparison is wrong).
test_qcow2-demo() {
    need_zoned || return $?
    local img=$W/demo/z.qcow2
    mkdir -p "$W/demo"
    mkimg "$img" GDEMO || return 1
    QEMU_IMG=$QEMU_IMG bash "$HERE/demo.sh" "$img" >> "$LOG" 2>&1 || { failed "demo.sh failed"; return 1; }
    grep -q '^zoned qcow2: all 16 zones came back' "$LOG" || { failed "no verdict"; return 1; }
    grep -q '^NVMe ZNS: *[1-9][0-9]* of' "$LOG" || { failed "ZNS kept its zones"; return 1; }
}

# fio's zoned test suite on the zoned qcow2 disk and on a null_blk device of
# the same geometry in the same guest (guest/scenarios/zbd.sh).  Every test
# that passes on null_blk must pass on qcow2; the others are listed, with
# both results and the reason, in guest/zbd-expected.txt, and a listed test
# that now passes on null_blk is an error too (the list must be kept true).
# "ANY ANY" marks a test whose result depends on timing on both devices.
# Fails, for example, when the zone report gives the zone size as the
# capacity of the sequential zones (checked: 20 of the 43 tests that pass
# in qcow2-zbd-a then fail on qcow2).
ZBD_EXPECTED=$HERE/zbd-expected.txt
zbd() {
    local name=$1 img=$W/$1.qcow2 log=$W/$1.log quick=(--arg --quick)
    local -n geo=$2
    need_zoned || return $?
    mkimg "$img" "$2" || return 1
    [ "${ZQ_ZBD_FULL:-0}" = 1 ] && quick=()
    guest "$log" --mem 1536 --script "$SCN/zbd.sh" --arg --dev --arg vda \
        "${quick[@]}" --timeout 5400 -- \
        -blockdev "driver=qcow2,file.driver=file,file.filename=$img,node-name=z" \
        -device "virtio-blk-device,drive=z,logical_block_size=${geo[lbs]},physical_block_size=${geo[lbs]}" ||
        return 1
    grep -q '^ZQ-ZBD-END' "$log" || { failed "the suite did not finish"; return 1; }
    zbd_compare "$name" "$log" >> "$LOG" || failed "t/zbd: qcow2 differs from null_blk or from $ZBD_EXPECTED"
    echo "# $name: $(zbd_summary "$log")"
    qemu_img_check "$img"
}

# zbd_compare NAME LOG: the results of LOG against the expectations of NAME.
zbd_compare() {
    awk -v g="$1" -v file="${ZBD_EXPECTED##*/}" '
        FNR == NR {
            if ($0 !~ /^#/ && NF >= 4 && $1 == g) want[$2] = $3 " " $4
            next
        }
        $1 == "ZQ-ZBD" {
            got[$3, $2] = $4
            if (!($3 in seen)) { seen[$3] = 1; order[++n] = $3 }
        }
        END {
            bad = n == 0
            for (i = 1; i <= n; i++) {
                t = order[i]; nb = got[t, "nullb"]; q = got[t, "qcow2"]
                if ((t in want) && want[t] == "ANY ANY")
                    continue
                if (nb == "PASS" && q != "PASS") {
                    printf "test %s passes on null_blk but is %s on qcow2\n", t, q; bad = 1
                } else if (nb == "PASS" && (t in want)) {
                    printf "test %s passes on null_blk now: remove it from %s\n", t, file; bad = 1
                } else if (nb != "PASS" && !(t in want)) {
                    printf "test %s is %s on null_blk and %s on qcow2 and not in %s\n", t, nb, q, file; bad = 1
                } else if (nb != "PASS" && want[t] != nb " " q) {
                    printf "test %s is %s on null_blk and %s on qcow2, %s expects %s\n", t, nb, q, file, want[t]; bad = 1
                }
            }
            exit bad
        }' "$ZBD_EXPECTED" "$2"
}

# "N tests: C NULLB/QCOW2, ..." of a zbd.sh log (C tests had those results).
zbd_summary() {
    awk '$1 == "ZQ-ZBD" { r[$3, $2] = $4; if (!($3 in t)) { t[$3] = 1; n++ } }
         END { for (x in t) c[r[x, "nullb"] "/" r[x, "qcow2"]]++
               printf "%d tests (null_blk/qcow2):", n
               for (k in c) printf " %d %s", c[k], k
               print "" }' "$1"
}
test_qcow2-zbd-a() { zbd qcow2-zbd-a GZA; }
test_qcow2-zbd-b() { zbd qcow2-zbd-b GZB; }

# The multiqueue layout: two iothreads serving the four virtqueues of
# virtio-blk-pci (with --smp 2, so that the guest uses several queues).
MQ_ARGS=(-object iothread,id=io0 -object iothread,id=io1)
MQ_DEVICE='{"driver": "virtio-blk-pci", "drive": "z", "num-queues": 4, "iothread-vq-mapping": [{"iothread": "io0"}, {"iothread": "io1"}]}'

# Two vCPUs, two iothreads and four virtqueues (iothread-vq-mapping) on
# one zoned image: the differential test against null_blk, then four fio
# jobs (zonemode=zbd, queue depth 8, verify) on their own zones at once.
# Fails if a write is reordered or lost between queues (verify or the
# zone report), or if the guest does not get several hardware queues.
test_qcow2-multiqueue() {
    need_zoned || return $?
    local img=$W/mq.qcow2 args zs first
    mkimg "$img" G1 || return 1
    zs=$(bytes "${G1[zsize]}")
    first=$((${G1[conv]} * zs))
    args=(--machine microvm,pcie=on --smp 2 --timeout 600 -- "${MQ_ARGS[@]}"
          -blockdev "driver=qcow2,file.driver=file,file.filename=$img,node-name=z"
          -device "$MQ_DEVICE")
    guest "$W/mq-conf.log" --script "$SCN/conformance.sh" --arg --dev \
        --arg vda --arg -- --arg -n --arg 50 --arg -t --arg "$CONF_TIME" \
        --arg --expect-fill-a --arg 0 "${args[@]}" || return 1
    grep -q '^ZQ-RESULT conformance vda pass' "$W/mq-conf.log" ||
        { failed "differential test"; return 1; }
    mkimg "$img" G1 || return 1
    guest "$W/mq-fio.log" --script "$SCN/multiqueue.sh" --arg --dev --arg vda \
        --arg --zone-size --arg "$zs" --arg --first --arg "$first" \
        "${args[@]}" || return 1
    grep -q '^ZQ-RESULT multiqueue vda pass' "$W/mq-fio.log" ||
        { failed "fio jobs on several queues"; return 1; }
    qemu_img_check "$img"
}

# btrfs in zoned mode (data by zone append) through the same multiqueue
# layout, against null_blk of the same geometry in the same guest: every
# step (mkfs, fio with verify on several files at once, umount, btrfs
# check, remount and md5sum of every file) must pass on both.  Fails if an
# append lands elsewhere than reported or is lost (fio's verify, btrfs
# check, the md5sums), if the active limit or capacity is not what
# null_blk does (mkfs or the writers fail on one device only), or if the
# guest gets a single hardware queue.
test_qcow2-btrfs-multiqueue() {
    need_zoned || return $?
    local img=$W/btrfs.qcow2 log=$W/btrfs.log q
    mkimg "$img" GBT || return 1
    guest "$log" --mem 1024 --script "$SCN/btrfs.sh" \
        --machine microvm,pcie=on --smp 2 --timeout 900 -- \
        "${MQ_ARGS[@]}" \
        -blockdev "driver=qcow2,file.driver=file,file.filename=$img,node-name=z" \
        -device "$MQ_DEVICE" || return 1
    q=$(awk '$1 == "ZQ-BTRFS" && $2 == "queues" { print $4 }' "$log")
    [ "${q:-0}" -ge 2 ] || { failed "only ${q:-0} hardware queue(s)"; return 1; }
    grep -q '^ZQ-RESULT btrfs pass' "$log" || { failed "btrfs"; return 1; }
    qemu_img_check "$img"
}

# btrfs (as in qcow2-btrfs-multiqueue, on one queue) while a backup job
# of the zoned disk runs, held at 1 byte/s so that it stays in place: the
# guest's zone reports, resets and appends all go through the job's
# copy-before-write filter, which copies what they change to the target
# first.  Fails if the filter has no zone limits or callbacks (mkfs.btrfs
# fails to report the zones, or writes fail), if virtio-blk reads
# bs->wps of a node that has none (QEMU crashes at the first append), or
# if the filter copies after the guest's writes (the target holds their
# data).
test_qcow2-btrfs-backup() {
    need_zoned || return $?
    local img=$W/btrfs-bk.qcow2 tgt=$W/btrfs-bk-target.qcow2 flag=$W/btrfs-bk-flag.raw
    local log=$W/btrfs-bk.log args qmp_add qmp_backup copied
    mkimg "$img" GBT || return 1
    "$QEMU_IMG" create -f qcow2 "$tgt" "${GBT[size]}" >> "$LOG" 2>&1 || return 1
    head -c 1M /dev/zero | tr '\0' 0 > "$flag"
    mapfile -t args < <(disk_args "$img" z)
    args+=(-blockdev "driver=raw,file.driver=file,file.filename=$flag,read-only=on,node-name=flag"
        -device virtio-blk-device,drive=flag)
    qmp_add=$(qmp_cmd "{\"execute\": \"blockdev-add\", \"arguments\": {\"driver\": \"qcow2\", \"node-name\": \"tgt\", \"file\": {\"driver\": \"file\", \"filename\": \"$tgt\"}}}")
    qmp_backup=$(qmp_cmd '{"execute": "blockdev-backup", "arguments": {"job-id": "bk", "device": "z", "target": "tgt", "sync": "full", "speed": 1, "x-perf": {"max-workers": 1, "max-chunk": 65536}}}')
    guest "$log" --mem 1024 --script "$SCN/btrfs.sh" --arg --host-job \
        --host-on ZQ-HOST-JOB-NOW "$qmp_add && $qmp_backup && printf 1 | dd of=$flag conv=notrunc status=none" \
        --timeout 900 -- "${args[@]}" || return 1
    [ "$(grep -c '^ZQ-HOST {"return": {}}' "$log")" = 2 ] ||
        { failed "the host could not start the backup job"; return 1; }
    grep -q '^ZQ-BTRFS host job running' "$log" || { failed "no job"; return 1; }
    grep -q '^ZQ-RESULT btrfs pass' "$log" || { failed "btrfs"; return 1; }
    # The disk was blank when the job started: the target holds the
    # blank ranges the filter copied before the guest wrote them (more
    # than the job's own first 64 KiB), and no guest data
    "$QEMU_IO" -r -f qcow2 -c "read -P 0 0 ${GBT[size]}" "$tgt" >> "$LOG" 2>&1 ||
        { failed "the backup target holds data written after the job started"; return 1; }
    copied=$("$QEMU_IMG" map --output=json "$tgt" | python3 -c "import json, sys
print(sum(m['length'] for m in json.load(sys.stdin) if m['present']))")
    say "the filter copied $copied bytes to the target"
    [ "$copied" -gt 65536 ] || { failed "the filter copied nothing"; return 1; }
    qemu_img_check "$img"
}

test_qcow2-check() {
    need_zoned || return $?
    # Every image the other tests left must still pass qemu-img check.
    local f count=0 rc=0
    for f in "$W"/*.qcow2; do
        [ -e "$f" ] || continue
        count=$((count + 1))
        qemu_img_check "$f" || rc=1
    done
    say "$count images checked"
    return $rc
}

# ---- anchors (informational) ----

# QEMU's own NVMe ZNS emulation, with the g1 geometry less the conventional
# zones (ZNS has none), against null_blk: the differences are printed.
test_anchor-zns() {
    local rc=0 summary
    truncate -s 64M "$W/zns.raw"
    guest "$W/zns.log" --machine microvm,pcie=on --script "$SCN/conformance.sh" \
        --arg --dev --arg nvme0n1 --arg -- --arg -n --arg 50 --arg -m --arg 1000 \
        --timeout 300 -- \
        -drive "file=$W/zns.raw,if=none,id=zns,format=raw" \
        -device nvme,serial=zns1,id=nvme0 \
        -device nvme-ns,drive=zns,bus=nvme0,zoned=true,zoned.zone_size=4M,zoned.zone_capacity=3M,zoned.max_open=4,zoned.max_active=6 ||
        rc=$?
    summary=$(grep -m1 '^zbdconf: .* differences' "$W/zns.log" || true)
    [ -n "$summary" ] || { failed "zbdconf did not run (status $rc)"; return 1; }
    echo "# anchor-zns: NVMe ZNS vs null_blk: ${summary#zbdconf: }"
}

# The same device across a restart: QEMU's ZNS emulation does not keep its
# zone states, and the persistence check must notice (this also checks the
# check).
test_anchor-zns-persist() {
    truncate -s 64M "$W/znsp.raw"
    # shellcheck disable=SC2054 # the commas are inside QEMU arguments
    local args=(-drive "file=$W/znsp.raw,if=none,id=zns,format=raw"
        -device nvme,serial=zns1,id=nvme0
        -device nvme-ns,drive=zns,bus=nvme0,zoned=true,zoned.zone_size=4M,zoned.zone_capacity=3M,zoned.max_open=4,zoned.max_active=6)
    if persist_flow reboot zns-persist nvme0n1 "" --machine microvm,pcie=on -- "${args[@]}"; then
        echo "# anchor-zns-persist: NVMe ZNS kept its zone states across a restart"
        return 0
    fi
    FAILED=0
    local l1=$W/zns-persist-1.log l2=$W/zns-persist-2.log lost checks
    [ -s "$l2" ] || { failed "no second boot"; return 1; }
    lost=$(diff <(states "$l1" synced | restart_states) <(states "$l2" after) | grep -c '^<' || true)
    checks=$(grep -c '^ZQ-CHECK .* FAIL' "$l2" || true)
    echo "# anchor-zns-persist: NVMe ZNS after a restart: $lost zone states lost, $checks data checks failed (expected: it keeps no zone state)"
    [ "$lost" -gt 0 ] || [ "$checks" -gt 0 ] || failed "the persistence check failed for another reason"
}

# ---- runner ----

passed=0 nfailed=0 skipped=0
t_start=$SECONDS
for t in "${tests[@]}"; do
    LOG=$W/$t.test.log
    : > "$LOG"
    SKIP_REASON=""
    FAILED=0
    t0=$SECONDS
    rc=0
    "test_$t" || rc=$?
    [ "$rc" = 0 ] && [ "$FAILED" = 1 ] && rc=1
    dt=$((SECONDS - t0))
    if [ "$rc" = 0 ]; then
        echo "ok - $t (${dt}s)"
        passed=$((passed + 1))
    elif [ "$rc" = 77 ]; then
        echo "ok - $t # SKIP ${SKIP_REASON}"
        skipped=$((skipped + 1))
    else
        echo "not ok - $t (${dt}s)"
        tail -n 40 "$LOG" | sed 's/^/#   /'
        nfailed=$((nfailed + 1))
    fi
done
echo "# guest tests took $((SECONDS - t_start))s; logs in $W$([ "$keep" = 1 ] || [ -n "$workdir" ] || echo ' (removed)')"
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $nfailed failed, $skipped skipped"
else
    echo "$passed passed, $nfailed failed"
fi
[ "$nfailed" = 0 ]
