#!/usr/bin/env bash
# Benchmark: a zoned qcow2 image against a plain qcow2 image, side by side
# in one run, with qemu-img bench (sequential 64 KiB writes at queue depth
# 16, then reads).  Prints each time and the ratio zoned/plain; it is not a
# test and has no pass/fail threshold.
#
#   bench/run.sh            uses the built qemu-img (build/qemu/build)
#   ZQ_BENCH_COUNT=N        requests per run (default 4096: 256 MiB)
#   ZQ_BENCH_ROUNDS=N       rounds, the best time of each is kept (default 3)
set -euo pipefail
. "$(dirname "$0")/../scripts/common.sh"

QEMU_IMG=${QEMU_IMG:-$BUILD/qemu-img}
[ -x "$QEMU_IMG" ] || die "no $QEMU_IMG: run 'make build' first"
count=${ZQ_BENCH_COUNT:-4096}
rounds=${ZQ_BENCH_ROUNDS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/zq-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# seconds MODE IMAGE: the time qemu-img bench reports
seconds() {
    local mode=$1 img=$2 flags=()
    [ "$mode" = write ] && flags=(-w)
    "$QEMU_IMG" bench -f qcow2 -t none -n -c "$count" -d 16 -s 64k -S 64k \
        "${flags[@]}" "$img" | sed -n 's/^Run completed in \([0-9.]*\) seconds.*/\1/p'
}

best() { printf '%s\n' "$@" | sort -g | head -n 1; }

mk() {
    rm -f "$work/plain.qcow2" "$work/zoned.qcow2"
    "$QEMU_IMG" create -q -f qcow2 "$work/plain.qcow2" 1G
    "$QEMU_IMG" create -q -f qcow2 \
        -o zone.mode=host-managed,zone.size=64M "$work/zoned.qcow2" 1G
}

echo "qemu-img bench: $count x 64 KiB, depth 16, cache=none; best of $rounds"
for mode in write read; do
    p=() z=()
    for _ in $(seq "$rounds"); do
        if [ "$mode" = write ]; then mk; fi
        p+=("$(seconds "$mode" "$work/plain.qcow2")")
        z+=("$(seconds "$mode" "$work/zoned.qcow2")")
    done
    bp=$(best "${p[@]}") bz=$(best "${z[@]}")
    printf '%-6s plain %8.3f s   zoned %8.3f s   zoned/plain %5.2f\n' \
        "$mode" "$bp" "$bz" "$(awk -v a="$bz" -v b="$bp" 'BEGIN { print a / b }')"
done
