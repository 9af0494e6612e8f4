#!/usr/bin/env bash
# Benchmark of zoned qcow2 against plain qcow2 (and raw), measured side by
# side in one run.  It prints times, rates and ratios; it is not a test and
# has no pass/fail.  bench/README.md explains the method and each line.
#
#   bench/run.sh                  uses the built tools (build/qemu/build)
#   QEMU_IMG=... QEMU_IO=...      other binaries
#   ZQ_BENCH_QUICK=1              one round, smaller runs (about 2 minutes)
#   ZQ_BENCH_LONG=1               seven rounds
#   ZQ_BENCH_ROUNDS=N             rounds per measurement (default 3)
#   ZQ_BENCH_TMPFS=DIR            tmpfs directory (default /dev/shm; "" skips)
#   ZQ_BENCH_DISK=DIR             on-disk directory (default build/; "" skips)
#   ZQ_BENCH_ONLY="seq append busy flush reset open"   sections to run
set -uo pipefail
. "$(dirname "$0")/../scripts/common.sh"

QEMU_IMG=${QEMU_IMG:-$BUILD/qemu-img}
QEMU_IO=${QEMU_IO:-$BUILD/qemu-io}
[ -x "$QEMU_IMG" ] || die "no $QEMU_IMG: run 'make build' first"
[ -x "$QEMU_IO" ] || die "no $QEMU_IO: run 'make build' first"

MiB=$((1024 * 1024))
scale=1 rounds=3
if [ -n "${ZQ_BENCH_QUICK:-}" ]; then scale=4 rounds=1; fi
if [ -n "${ZQ_BENCH_LONG:-}" ]; then rounds=7; fi
rounds=${ZQ_BENCH_ROUNDS:-$rounds}
only=${ZQ_BENCH_ONLY:-seq append busy flush reset open}

fstype() { stat -f -c %T "$1" 2>/dev/null; }

# Where the images go: one tmpfs and one on-disk directory
dirs=() names=()
tmpfs_parent=${ZQ_BENCH_TMPFS-/dev/shm}
disk_parent=${ZQ_BENCH_DISK-$TOP/build}
if [ -n "$tmpfs_parent" ] && [ -d "$tmpfs_parent" ]; then
    if [ "$(fstype "$tmpfs_parent")" = tmpfs ]; then
        dirs+=("$(mktemp -d "$tmpfs_parent/zq-bench.XXXXXX")") names+=(tmpfs)
    else
        log "$tmpfs_parent is not tmpfs: no tmpfs measurements"
    fi
fi
if [ -n "$disk_parent" ]; then
    mkdir -p "$disk_parent"
    dirs+=("$(mktemp -d "$disk_parent/zq-bench.XXXXXX")") names+=(disk)
fi
[ ${#dirs[@]} -gt 0 ] || die "no directory to run in"
cleanup() { local d; for d in "${dirs[@]}"; do rm -rf "$d"; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Run private copies: a rebuild of the tree during the run must not change
# (or briefly remove) the binaries being measured
cp "$QEMU_IMG" "${dirs[0]}/qemu-img" && cp "$QEMU_IO" "${dirs[0]}/qemu-io" ||
    die "cannot copy the binaries"
QEMU_IMG=${dirs[0]}/qemu-img QEMU_IO=${dirs[0]}/qemu-io

now() { date +%s%N; }
# secs T0 T1: seconds between two now() values
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", (b - a) / 1e9 }'; }
# best and median of the numbers given ("fail" entries ignored)
best() { printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | head -n 1; }
median() {
    printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g |
        awk '{ v[NR] = $1 }
             END { if (NR % 2) print v[(NR + 1) / 2]
                   else if (NR) print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# ratio A B: A/B with two decimals, "-" if either is missing
ratio() {
    if [ -z "$1" ] || [ -z "$2" ]; then echo "-"; return; fi
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
}
# rate BYTES SECONDS: MiB/s
rate() {
    if [ -z "$2" ]; then echo "-"; return; fi
    awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / t / 1048576 }'
}
# usper N SECONDS: microseconds per operation
usper() {
    if [ -z "$2" ]; then echo "-"; return; fi
    awk -v n="$1" -v t="$2" 'BEGIN { printf "%.1f", t / n * 1e6 }'
}
bytes() { # 4k 64k 1M -> bytes
    case $1 in *k) echo $((${1%k} * 1024)) ;; *M) echo $((${1%M} * MiB)) ;; *) echo "$1" ;; esac
}

# mk VARIANT FILE SIZE [ZONE OPTIONS]: a fresh image
mk() {
    local v=$1 f=$2 size=$3 zopt=${4:-zone.mode=host-managed,zone.size=256M}
    rm -f "$f"
    case $v in
    plain) "$QEMU_IMG" create -q -f qcow2 "$f" "$size" ;;
    zoned) "$QEMU_IMG" create -q -f qcow2 -o "$zopt" "$f" "$size" ;;
    raw) "$QEMU_IMG" create -q -f raw "$f" "$size" ;;
    esac
}
# nreq SIZE MIB4K MIB64K: requests of SIZE (4k or 64k) that write MIB4K
# or MIB64K MiB, divided by the quick run's scale
nreq() {
    local b
    b=$(bytes "$1")
    case $1 in
    4k) echo $(($2 * MiB / b / scale)) ;;
    *) echo $(($3 * MiB / b / scale)) ;;
    esac
}
fmt_of() { [ "$1" = raw ] && echo raw || echo qcow2; }

# bench FMT FILE SIZE COUNT DEPTH [ARGS...]: qemu-img bench's own run time
bench() {
    local fmt=$1 f=$2 sz=$3 n=$4 d=$5 t; shift 5
    t=$("$QEMU_IMG" bench -w -f "$fmt" -t none -n -c "$n" -d "$d" -s "$sz" \
        -S "$sz" "$@" "$f" 2>/dev/null |
        sed -n 's/^Run completed in \([0-9.]*\) seconds.*/\1/p')
    echo "${t:-fail}"
}

# qio_cmds OP SIZE N QD ZONES: qemu-io commands in QIO, QD requests issued
# back to back then aio_flush (which waits for them).  OP write: sequential
# aio_write from 0; OP append: aio_zone_append round robin over ZONES zones.
QIO=()
qio_cmds() {
    local op=$1 sz=$2 n=$3 qd=$4 zones=$5 i zsz=$((256 * MiB))
    QIO=()
    for ((i = 0; i < n; i++)); do
        if [ "$op" = write ]; then
            QIO+=(-c "aio_write -q $((i * sz)) $sz")
        else
            QIO+=(-c "aio_zone_append $(((i % zones) * zsz)) $sz")
        fi
        if (((i + 1) % qd == 0)); then QIO+=(-c aio_flush); fi
    done
    QIO+=(-c aio_flush)
}
# qio FMT FILE: wall seconds of qemu-io running QIO minus an empty run
qio() {
    local fmt=$1 f=$2 t0 t1 t2
    t0=$(now)
    "$QEMU_IO" -f "$fmt" -t none -c quit "$f" >/dev/null 2>&1 || { echo fail; return; }
    t1=$(now)
    if "$QEMU_IO" -f "$fmt" -t none "${QIO[@]}" "$f" 2>&1 |
            grep -q 'failed\|error'; then
        echo fail; return
    fi
    t2=$(now)
    awk -v a="$t0" -v b="$t1" -v c="$t1" -v d="$t2" \
        'BEGIN { printf "%.6f", ((d - c) - (b - a)) / 1e9 }'
}

printf 'zoned-qcow2 bench: %s, %s cores, %s round(s), best of rounds (median in ())\n' \
    "$("$QEMU_IMG" --version | head -n 1)" "$(nproc)" "$rounds"
for i in "${!dirs[@]}"; do
    printf '  %-5s %s (%s)\n' "${names[$i]}" "${dirs[$i]}" "$(fstype "${dirs[$i]}")"
done
started=$(now)

# -- 1. sequential writes ----------------------------------------------------
seq_section() {
    local i dir name sz b n qd r v t
    echo
    echo "== sequential write, cache=none, fresh images (8G, zoned: 256M zones)"
    echo "   QD1: qemu-img bench -d 1; QD32: qemu-io, 32 x aio_write then aio_flush"
    for i in "${!dirs[@]}"; do
        dir=${dirs[$i]} name=${names[$i]}
        for sz in 4k 64k 1M; do
            b=$(bytes "$sz")
            case $sz in 4k) n=$((32 * MiB / b)) ;; 64k) n=$((256 * MiB / b)) ;;
                        1M) n=$((512 * MiB / b)) ;; esac
            n=$((n / scale))
            for qd in 1 32; do
                declare -A T=([plain]="" [zoned]="" [raw]="")
                for ((r = 0; r < rounds; r++)); do
                    for v in plain zoned raw; do
                        mk "$v" "$dir/img" 8G
                        if [ "$qd" = 1 ]; then
                            t=$(bench "$(fmt_of $v)" "$dir/img" "$sz" "$n" 1)
                        else
                            qio_cmds write "$b" "$n" 32 1
                            t=$(qio "$(fmt_of $v)" "$dir/img")
                        fi
                        T[$v]+="$t "
                    done
                done
                rm -f "$dir/img"
                local bp bz br
                # shellcheck disable=SC2086
                bp=$(best ${T[plain]}) bz=$(best ${T[zoned]}) br=$(best ${T[raw]})
                printf 'seq   %-5s %-3s QD%-2s plain %5s  zoned %5s  raw %5s MiB/s   zoned/plain %s (%s)  raw/plain %s\n' \
                    "$name" "$sz" "$qd" "$(rate $((b * n)) "$bp")" \
                    "$(rate $((b * n)) "$bz")" "$(rate $((b * n)) "$br")" \
                    "$(ratio "$bp" "$bz")" \
                    "$(ratio "$(median ${T[plain]})" "$(median ${T[zoned]})")" \
                    "$(ratio "$bp" "$br")"
                unset T
            done
        done
    done
}

# -- 2. zone append ----------------------------------------------------------
append_section() {
    local i dir name sz b n qd r v t
    echo
    echo "== zone append vs sequential write in the same zoned image, qemu-io batches"
    echo "   (QD requests then aio_flush); 1z: one zone, 32z: round robin over 32 zones"
    for i in "${!dirs[@]}"; do
        dir=${dirs[$i]} name=${names[$i]}
        for sz in 4k 64k; do
            b=$(bytes "$sz") n=$(nreq "$sz" 32 128)
            for qd in 1 32; do
                declare -A T=([write]="" [1z]="" [32z]="")
                for ((r = 0; r < rounds; r++)); do
                    for v in write 1z 32z; do
                        mk zoned "$dir/img" 8G
                        case $v in
                        write) qio_cmds write "$b" "$n" "$qd" 1 ;;
                        1z) qio_cmds append "$b" "$n" "$qd" 1 ;;
                        32z) qio_cmds append "$b" "$n" "$qd" 32 ;;
                        esac
                        T[$v]+="$(qio qcow2 "$dir/img") "
                    done
                done
                rm -f "$dir/img"
                local bw b1 b32
                # shellcheck disable=SC2086
                bw=$(best ${T[write]}) b1=$(best ${T[1z]}) b32=$(best ${T[32z]})
                printf 'append %-5s %-3s QD%-2s write %5s  1z %5s  32z %5s MiB/s   us/op %s %s %s   1z/write %s (%s)  32z/write %s\n' \
                    "$name" "$sz" "$qd" "$(rate $((b * n)) "$bw")" \
                    "$(rate $((b * n)) "$b1")" "$(rate $((b * n)) "$b32")" \
                    "$(usper "$n" "$bw")" "$(usper "$n" "$b1")" "$(usper "$n" "$b32")" \
                    "$(ratio "$bw" "$b1")" \
                    "$(ratio "$(median ${T[write]})" "$(median ${T[1z]})")" \
                    "$(ratio "$bw" "$b32")"
                unset T
            done
        done
    done
}

# -- 2b. writes while another zone is reset ----------------------------------
# busy_cmds SIZE N QD RESET: QIO for writers on 4 zones (1 to 4, round
# robin, QD requests then aio_flush); with RESET, each batch first writes
# 4k to zone 5 and resets it right after submitting the batch's writes,
# so that a reset which waits for every write in flight stalls the batch.
busy_cmds() {
    local sz=$1 n=$2 qd=$3 reset=$4 i zsz=$((256 * MiB))
    local -a off=(0 0 0 0)
    QIO=()
    for ((i = 0; i < n; i++)); do
        if ((i % qd == 0)) && [ "$reset" = 1 ]; then
            QIO+=(-c "write -q $((5 * zsz)) 4k")
        fi
        QIO+=(-c "aio_write -q $(((1 + i % 4) * zsz + off[i % 4])) $sz")
        off[i % 4]=$((off[i % 4] + sz))
        if (((i + 1) % qd == 0)); then
            if [ "$reset" = 1 ]; then
                QIO+=(-c "zone_reset $((5 * zsz)) 256M")
            fi
            QIO+=(-c aio_flush)
        fi
    done
    QIO+=(-c aio_flush)
}
busy_section() {
    local i dir name sz b n r v
    echo
    echo "== writers on 4 zones (QD32 batches) alone, and with a reset of a fifth"
    echo "   zone issued inside every batch; busy/alone is a throughput ratio"
    for i in "${!dirs[@]}"; do
        dir=${dirs[$i]} name=${names[$i]}
        for sz in 4k 64k; do
            b=$(bytes "$sz") n=$(nreq "$sz" 32 256)
            declare -A T=([alone]="" [busy]="")
            for ((r = 0; r < rounds; r++)); do
                for v in alone busy; do
                    mk zoned "$dir/img" 8G
                    busy_cmds "$b" "$n" 32 "$([ $v = busy ] && echo 1 || echo 0)"
                    T[$v]+="$(qio qcow2 "$dir/img") "
                done
            done
            rm -f "$dir/img"
            local ba bb
            # shellcheck disable=SC2086
            ba=$(best ${T[alone]}) bb=$(best ${T[busy]})
            printf 'busy  %-5s %-3s alone %5s  busy %5s MiB/s   busy/alone %s (%s)\n' \
                "$name" "$sz" "$(rate $((b * n)) "$ba")" "$(rate $((b * n)) "$bb")" \
                "$(ratio "$ba" "$bb")" \
                "$(ratio "$(median ${T[alone]})" "$(median ${T[busy]})")"
            unset T
        done
    done
}

# -- 3. write + flush loops --------------------------------------------------
flush_section() {
    local i dir name sz b n every r v t
    echo
    echo "== write+flush loops: qemu-img bench -d 1 --flush-interval=F (flush cost of WPs)"
    for i in "${!dirs[@]}"; do
        dir=${dirs[$i]} name=${names[$i]}
        for spec in 4k:1 64k:1 64k:16; do
            sz=${spec%:*} every=${spec#*:} b=$(bytes "$sz")
            if [ "$name" = disk ]; then n=$((1024 / scale)); else n=$((4096 / scale)); fi
            [ "$every" = 16 ] && n=$((n * 4))
            declare -A T=([plain]="" [zoned]="")
            for ((r = 0; r < rounds; r++)); do
                for v in plain zoned; do
                    mk "$v" "$dir/img" 8G
                    T[$v]+="$(bench qcow2 "$dir/img" "$sz" "$n" 1 --flush-interval="$every") "
                done
            done
            rm -f "$dir/img"
            local bp bz
            # shellcheck disable=SC2086
            bp=$(best ${T[plain]}) bz=$(best ${T[zoned]})
            printf 'flush %-5s %-3s every %-2s plain %7s  zoned %7s us/write   zoned/plain %s (%s)\n' \
                "$name" "$sz" "$every" "$(usper "$n" "$bp")" "$(usper "$n" "$bz")" \
                "$(ratio "$bp" "$bz")" \
                "$(ratio "$(median ${T[plain]})" "$(median ${T[zoned]})")"
            unset T
        done
    done
}

# -- 4. reset and finish -----------------------------------------------------
# io_of FILE CMD...: "<bytes written> <pwrite calls> <fallocate calls>"
# of a qemu-io run, from strace
io_of() {
    local f=$1 log; shift
    if ! command -v strace >/dev/null; then echo "- - -"; return; fi
    log=$(mktemp "${dirs[0]}/strace.XXXXXX")
    strace -f -qq -o "$log" -e trace=pwrite64,pwritev,pwritev2,fallocate \
        "$QEMU_IO" -f qcow2 -t none -d unmap "$@" "$f" >/dev/null 2>&1
    awk '/pwrite/ && / = [0-9]+$/ { w += $NF; p++ }
         /fallocate/ { fa++ }
         END { printf "%d %d %d", w, p, fa }' "$log"
    rm -f "$log"
}
# tcmd FILE CMD: wall seconds of one qemu-io command minus an empty run
# (the faster of two); discard requests are passed down (-d unmap)
tcmd() {
    local f=$1 t0 t1 t2 t3
    t0=$(now)
    "$QEMU_IO" -f qcow2 -t none -d unmap -c quit "$f" >/dev/null 2>&1
    t1=$(now)
    "$QEMU_IO" -f qcow2 -t none -d unmap -c quit "$f" >/dev/null 2>&1
    t2=$(now)
    "$QEMU_IO" -f qcow2 -t none -d unmap -c "$2" "$f" >/dev/null 2>&1 ||
        { echo fail; return; }
    t3=$(now)
    awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN {
        e = b - a; if (c - b < e) e = c - b
        t = (d - c - e) / 1e9; printf "%.6f", t < 0 ? 0 : t }'
}
reset_section() {
    local i dir name r tr=() tf=() tp=() io pio
    echo
    echo "== reset / finish of a full 256 MiB zone (wall time of the command minus an empty qemu-io run)"
    for i in "${!dirs[@]}"; do
        dir=${dirs[$i]} name=${names[$i]} tr=() tf=() tp=()
        for ((r = 0; r < rounds; r++)); do
            # zones 0 and 1 full, zone 2 empty
            mk zoned "$dir/z" 1G
            bench qcow2 "$dir/z" 1M 512 4 >/dev/null
            tr+=("$(tcmd "$dir/z" "zone_reset 0 256M")")
            tf+=("$(tcmd "$dir/z" "zone_finish 512M 256M")")
            if [ "$r" = 0 ]; then
                io=$(io_of "$dir/z" -c "zone_reset 256M 256M")
            fi
            mk plain "$dir/p" 1G
            bench qcow2 "$dir/p" 1M 512 4 >/dev/null
            tp+=("$(tcmd "$dir/p" "discard 0 256M")")
            if [ "$r" = 0 ]; then
                pio=$(io_of "$dir/p" -c "discard 256M 256M")
            fi
        done
        rm -f "$dir/z" "$dir/p"
        # shellcheck disable=SC2086
        printf 'reset %-5s zone_reset(full) %6s ms  zone_finish(empty) %6s ms  plain discard 256M %6s ms\n' \
            "$name" "$(awk -v t="$(best "${tr[@]}")" 'BEGIN { printf "%.2f", t * 1000 }')" \
            "$(awk -v t="$(best "${tf[@]}")" 'BEGIN { printf "%.2f", t * 1000 }')" \
            "$(awk -v t="$(best "${tp[@]}")" 'BEGIN { printf "%.2f", t * 1000 }')"
        read -r wb wp wf <<<"$io"
        read -r pb pp pf <<<"$pio"
        printf 'reset %-5s I/O of zone_reset(full zone): %s bytes written in %s pwrite, %s fallocate (plain discard: %s bytes, %s pwrite, %s fallocate)\n' \
            "$name" "$wb" "$wp" "$wf" "$pb" "$pp" "$pf"
    done
}

# -- 5. open time, RAM, zone report ------------------------------------------
# run_rss FILE CMD: "<wall seconds> <max RSS KiB>"
run_rss() {
    local f=$1 t0 t1 rss
    rss=$(mktemp "${dirs[0]}/rss.XXXXXX")
    t0=$(now)
    /usr/bin/time -f %M -o "$rss" "$QEMU_IO" -f qcow2 -c "$2" "$f" >/dev/null 2>&1
    t1=$(now)
    echo "$(secs "$t0" "$t1") $(tail -n 1 "$rss")"
    rm -f "$rss"
}
open_section() {
    local dir=${dirs[0]} name=${names[0]} nz vs r a tp=() tz=() tzr=() rp=() rz=()
    echo
    echo "== open (qemu-io -c quit) and full zone report, 1M zones, $name; plain = same virtual size"
    if [ ! -x /usr/bin/time ]; then
        echo "open  skipped: no /usr/bin/time"
        return
    fi
    for nz in 1024 65536 1048576; do
        vs=$((nz * MiB))
        mk plain "$dir/p" "$vs"
        mk zoned "$dir/z" "$vs" zone.mode=host-managed,zone.size=1M
        tp=() tz=() tzr=() rp=() rz=()
        for ((r = 0; r < rounds + 2; r++)); do
            read -r a b <<<"$(run_rss "$dir/p" quit)"; tp+=("$a") rp+=("$b")
            read -r a b <<<"$(run_rss "$dir/z" quit)"; tz+=("$a") rz+=("$b")
            read -r a b <<<"$(run_rss "$dir/z" "zrp 0 $nz")"; tzr+=("$a")
        done
        local op oz orp orz zr
        op=$(best "${tp[@]}") oz=$(best "${tz[@]}") zr=$(best "${tzr[@]}")
        orp=$(median "${rp[@]}") orz=$(median "${rz[@]}")
        printf 'open  %7s zones  plain %6.1f ms  zoned %6.1f ms (%+.1f)  RSS plain %6s KiB zoned %6s KiB: +%s B/zone, %s B/zone beyond the 8 B WP   zrp all %7.1f ms (%.2f us/zone)\n' \
            "$nz" "$(calc1 "$op*1000")" "$(calc1 "$oz*1000")" \
            "$(calc1 "($oz-$op)*1000")" "$orp" "$orz" \
            "$(calc1 "($orz-$orp)*1024/$nz" 2)" "$(calc1 "($orz-$orp)*1024/$nz-8" 2)" \
            "$(calc1 "($zr-$oz)*1000")" "$(calc1 "($zr-$oz)*1e6/$nz" 2)"
        rm -f "$dir/p" "$dir/z"
    done
}
calc1() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }

for s in $only; do
    case $s in
    seq) seq_section ;;
    append) append_section ;;
    busy) busy_section ;;
    flush) flush_section ;;
    reset) reset_section ;;
    open) open_section ;;
    *) die "unknown section $s" ;;
    esac
done
echo
printf 'host bench done in %.0f s\n' "$(secs "$started" "$(now)")"

# The guest side: zoned qcow2 on virtio-blk against NVMe ZNS and plain
# qcow2, fio in a TCG guest (bench/guest.sh), served by the main loop and
# then by two iothreads with four queues; ZQ_BENCH_GUEST=0 skips it
if [ "${ZQ_BENCH_GUEST:-1}" != 0 ]; then
    if [ "${ZQ_BENCH_QUICK:-0}" = 1 ]; then
        export ZQ_GB_QUICK=1
    fi
    for layout in main iothreads; do
        echo
        ZQ_GB_LAYOUT=$layout "$(dirname "$0")/guest.sh"
    done
fi
