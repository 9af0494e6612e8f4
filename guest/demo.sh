#!/usr/bin/env bash
# The guest half of make demo: a zoned qcow2 disk keeps its zones across a
# restart of QEMU, and QEMU's NVMe ZNS emulation does not.
#
#   guest/demo.sh IMAGE
#
# 1. A guest writes zones into every condition (scenarios/persist.sh
#    write: full, closed, open, finished, empty, the conventional zone),
#    flushes and powers off.
# 2. qemu-img info and check on the host.
# 3. A new QEMU boots the guest again: zone report, data checked below each
#    write pointer, zeros above it (persist.sh check).
# 4. A verdict, and the same two boots on an NVMe ZNS namespace of the same
#    geometry (without the conventional zone, which ZNS lacks).
# QEMU and QEMU_IMG name the binaries (scripts/demo.sh sets them).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMG=${1:?usage: guest/demo.sh IMAGE}
QEMU_IMG=${QEMU_IMG:?}
export QEMU=${QEMU:?}
DIR=$(dirname "$IMG")
RUN=$HERE/run.sh
SCN=$HERE/scenarios

if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B='' N=''; fi
step() { printf '\n%s### %s%s\n' "$B" "$*" "$N"; }
say() { printf '%s\n' "$*"; }

"$HERE/build-initramfs.sh" >/dev/null

# boot LOG ACTION QEMU-ARGS...: one guest running persist.sh on its disk
boot() {
    local log=$1 action=$2 dev=$3 rc=0
    shift 3
    "$RUN" --quiet --log "$log" --timeout 300 "$@" --script "$SCN/persist.sh" \
        --arg "$dev" --arg "$action" -- "${QARGS[@]}" >/dev/null 2>&1 || rc=$?
    return $rc
}

# The zones of report TAG in LOG: "N COND WP" (WP in KiB)
zones() {
    awk -v t="$2" '$1 == "ZQ-REPORT" && $2 == t { print $5, $17, $13 / 1024 }' "$1"
}

NAMES='em:empty oi:open(implicit) oe:open(explicit) cl:closed fu:full nw:conventional'
cond_name() {
    local kv
    for kv in $NAMES; do [ "${kv%%:*}" = "$1" ] && { echo "${kv#*:}"; return; }; done
    echo "$1"
}

# table BEFORE AFTER: the zones side by side; prints how many differ
# beyond what a restart does to open zones (they come back closed)
table() {
    local n c1 w1 c2 w2 want mark lost=0
    printf '  %-5s %-28s %-28s\n' zone "before the restart" "after the restart"
    while read -r n c1 w1 && read -r _ c2 w2 <&3; do
        want=$c1
        case $c1 in oi|oe) want=$([ "$w1" = 0 ] && echo em || echo cl) ;; esac
        mark=""
        if [ "$c2" != "$want" ] || [ "$w2" != "$w1" ]; then
            mark="  <- lost"
            lost=$((lost + 1))
        fi
        printf '  %-5s %-28s %-28s%s\n' "$n" "$(zone_desc "$c1" "$w1")" \
            "$(zone_desc "$c2" "$w2")" "$mark"
    done < "$1" 3< "$2"
    LOST=$lost
}

# checks LOG: the guest's data checks; FAILS is set to the failures
checks() {
    local ok
    ok=$(grep -c '^ZQ-CHECK .* ok' "$1" || true)
    FAILS=$(grep -c '^ZQ-CHECK .* FAIL' "$1" || true)
    say "  data below every write pointer, zeros above: $ok checks passed, $FAILS failed"
}

# zone_desc COND WP: how a zone is shown
zone_desc() {
    case $1 in
    fu|nw) cond_name "$1" ;;
    *) echo "$(cond_name "$1"), wp ${2}K" ;;
    esac
}

QARGS=(-blockdev "driver=qcow2,file.driver=file,file.filename=$IMG,node-name=z"
    -device virtio-blk-device,drive=z)

step "Boot 1: the guest writes zones into every condition, flushes, powers off"
boot "$DIR/boot1.log" write vda || { say "the first boot failed: see $DIR/boot1.log"; exit 1; }
grep '^ZQ-CHECK .* FAIL' "$DIR/boot1.log" && exit 1
zones "$DIR/boot1.log" synced > "$DIR/before"
say "  zones as the guest left them: $(awk '{ print $2 }' "$DIR/before" | sort | uniq -c |
    while read -r c n; do printf '%s %s, ' "$c" "$(cond_name "$n")"; done | sed 's/, $//')"

step "On the host, with QEMU stopped: the zone state is in the image file"
printf '$ qemu-img info %s\n' "$(basename "$IMG")"
"$QEMU_IMG" info "$IMG" | sed -n '/^    zone:/,/^    lazy/p' | sed '$d'
printf '$ qemu-img check %s\n' "$(basename "$IMG")"
"$QEMU_IMG" check "$IMG"

step "Boot 2: a new QEMU process, the same image"
boot "$DIR/boot2.log" check vda || true
zones "$DIR/boot2.log" after > "$DIR/after"
table "$DIR/before" "$DIR/after"
qcow2_lost=$LOST
checks "$DIR/boot2.log"
qcow2_fails=$FAILS

step "The same two boots on QEMU's NVMe ZNS emulation (same zones, no conventional one)"
truncate -s 1G "$DIR/zns.raw"
# shellcheck disable=SC2054 # the commas are inside QEMU arguments
QARGS=(-drive "file=$DIR/zns.raw,if=none,id=zns,format=raw" -device nvme,serial=zns1,id=nvme0
    -device nvme-ns,drive=zns,bus=nvme0,zoned=true,zoned.zone_size=64M,zoned.zone_capacity=48M,zoned.max_open=4,zoned.max_active=6)
boot "$DIR/zns1.log" write nvme0n1 --machine microvm,pcie=on || true
boot "$DIR/zns2.log" check nvme0n1 --machine microvm,pcie=on || true
zones "$DIR/zns1.log" synced > "$DIR/zns.before"
zones "$DIR/zns2.log" after > "$DIR/zns.after"
table "$DIR/zns.before" "$DIR/zns.after" > "$DIR/zns.table"
zns_lost=$LOST
say "  after the restart: $zns_lost of $(wc -l < "$DIR/zns.before") zones lost their state:" \
    "$(awk '/lost/ { printf "%s%s", sep, $1; sep = ", " }' "$DIR/zns.table") came back empty"
checks "$DIR/zns2.log"
rm -f "$DIR/zns.raw"

step "Verdict"
nz=$(wc -l < "$DIR/before")
if [ "$qcow2_lost" = 0 ] && [ "$qcow2_fails" = 0 ]; then
    say "zoned qcow2: all $nz zones came back after the restart (open ones as closed), with their data."
else
    say "zoned qcow2: $qcow2_lost zones lost, $qcow2_fails data checks failed: this is a bug."
fi
say "NVMe ZNS:    $zns_lost of $(wc -l < "$DIR/zns.before") zones lost their state in the same restart."
[ "$qcow2_lost" = 0 ] && [ "$qcow2_fails" = 0 ]
