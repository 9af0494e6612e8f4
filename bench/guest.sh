#!/usr/bin/env bash
# Benchmark in a guest: a zoned qcow2 image behind virtio-blk against QEMU's
# NVMe ZNS emulation on a raw file, with the same zone geometry and cache
# mode, in ONE TCG guest (guest/run.sh), running the same fio --zonemode=zbd
# sequential-write jobs (guest/scenarios/bench-fio.sh).  The two disks take
# turns at running first; every job runs ROUNDS times on each and the
# medians are compared.  Under TCG only the ratio zoned-qcow2/NVMe-ZNS
# means anything.  It is a benchmark, not a test: no pass/fail threshold.
#
#   bench/guest.sh              default run (about 2 minutes on an idle host,
#                               about 5 when the host is busy)
#   ZQ_GB_QUICK=1               one round, smaller jobs (about 1 minute)
#   ZQ_GB_ROUNDS=N              rounds (default 5; quick 1)
#   ZQ_GB_CACHE=direct|cached   host cache of BOTH disks: cache.direct=on
#                               (default) or the host page cache
#   ZQ_GB_VIRTIO=pci|mmio       virtio-blk-pci (default, like the NVMe
#                               controller) or virtio-blk-device (virtio-mmio)
#   ZQ_GB_ZONE_SIZE, ZQ_GB_ZONE_CAP, ZQ_GB_MAX_OPEN, ZQ_GB_MAX_ACTIVE,
#   ZQ_GB_DISK_SIZE             geometry (64M, 64M, 8, 8, 4G)
#   ZQ_GB_ZASL=N                NVMe zone append size limit 2^N x 4 KiB,
#                               also the qcow2 zone.max_append_bytes (7)
#   ZQ_GB_JOBS="NAME=ENGINE,BS,DEPTH[,SIZE] ..."   other fio jobs
#   ZQ_GB_VIRTIO_OPTS, ZQ_GB_NVME_OPTS   more ",prop=value" for the
#                               virtio-blk or nvme device (experiments)
#   ZQ_GB_KEEP=DIR              keep the images and the console log there
#   QEMU, QEMU_IMG              binaries (default: build/qemu/build)
#
# Zone append is not measured: no user-space interface issues it on a
# zoned block device (fio 3.33 has no append option, and virtio-blk has
# no passthrough), see bench/README.md.
set -euo pipefail
. "$(dirname "$0")/../scripts/common.sh"

QEMU=${QEMU:-$BUILD/qemu-system-x86_64}
QEMU_IMG=${QEMU_IMG:-$BUILD/qemu-img}
export QEMU
[ -x "$QEMU" ] || die "no $QEMU: run 'make build' first"
[ -x "$QEMU_IMG" ] || die "no $QEMU_IMG: run 'make build' first"
RUN=$TOP/guest/run.sh
SCN=$TOP/guest/scenarios/bench-fio.sh

quick=${ZQ_GB_QUICK:-0}
if [ "$quick" = 1 ]; then rounds=${ZQ_GB_ROUNDS:-1}; else rounds=${ZQ_GB_ROUNDS:-5}; fi
cache=${ZQ_GB_CACHE:-direct}
virtio=${ZQ_GB_VIRTIO:-pci}
zsize=${ZQ_GB_ZONE_SIZE:-64M}
zcap=${ZQ_GB_ZONE_CAP:-$zsize}
max_open=${ZQ_GB_MAX_OPEN:-8}
max_active=${ZQ_GB_MAX_ACTIVE:-8}
dsize=${ZQ_GB_DISK_SIZE:-4G}
zasl=${ZQ_GB_ZASL:-7}
# Each job writes from offset 0; 4k-qd1 is the per-request cost, the
# others the throughput at a few depths, request sizes and engines.
if [ "$quick" = 1 ]; then
    jobs=${ZQ_GB_JOBS:-"4k-qd1=libaio,4k,1,8M 64k-qd1=libaio,64k,1,64M 64k-qd16=libaio,64k,16,256M 1m-qd4=libaio,1M,4,256M uring-64k-qd16=io_uring,64k,16,256M"}
else
    jobs=${ZQ_GB_JOBS:-"4k-qd1=libaio,4k,1,16M 64k-qd1=libaio,64k,1,256M 64k-qd16=libaio,64k,16,1G 1m-qd4=libaio,1M,4,1G uring-64k-qd16=io_uring,64k,16,1G"}
fi

case $cache in
direct) cache_opt=file.cache.direct=on ;;
cached) cache_opt=file.cache.direct=off ;;
*) die "ZQ_GB_CACHE is direct or cached" ;;
esac
case $virtio in
pci) vdev="virtio-blk-pci" ;;
mmio) vdev="virtio-blk-device" ;;
*) die "ZQ_GB_VIRTIO is pci or mmio" ;;
esac
append_bytes=$((4096 << zasl))

if [ -n "${ZQ_GB_KEEP:-}" ]; then
    work=$ZQ_GB_KEEP
    mkdir -p "$work"
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/zq-gbench.XXXXXX")
    trap 'rm -rf "$work"' EXIT
fi
rm -f "$work/z.qcow2" "$work/n.raw"
"$QEMU_IMG" create -q -f qcow2 \
    -o "zone.mode=host-managed,zone.size=$zsize,zone.capacity=$zcap,zone.max_open_zones=$max_open,zone.max_active_zones=$max_active,zone.max_append_bytes=$append_bytes" \
    "$work/z.qcow2" "$dsize"
truncate -s "$dsize" "$work/n.raw"

sargs=(--arg --rounds --arg "$rounds" --arg --dev --arg qcow2=vda
    --arg --dev --arg zns=nvme0n1)
for j in $jobs; do sargs+=(--arg --job --arg "$j"); done
qargs=(
    -blockdev "driver=qcow2,file.driver=file,file.filename=$work/z.qcow2,$cache_opt,node-name=z"
    -device "$vdev,drive=z${ZQ_GB_VIRTIO_OPTS:-}"
    -blockdev "driver=raw,file.driver=file,file.filename=$work/n.raw,$cache_opt,node-name=n"
    -device "nvme,id=nvme0,serial=zq,zoned.zasl=$zasl${ZQ_GB_NVME_OPTS:-}"
    -device "nvme-ns,drive=n,bus=nvme0,nsid=1,zoned=true,zoned.zone_size=$zsize,zoned.zone_capacity=$zcap,zoned.max_open=$max_open,zoned.max_active=$max_active"
)

echo "guest fio bench: zoned qcow2 ($vdev) vs NVMe ZNS (nvme-ns on raw), one TCG guest"
echo "geometry: $dsize disk, zone size $zsize, capacity $zcap, max open $max_open, max active $max_active, append limit $append_bytes; host cache: $cache"
echo "fio: --zonemode=zbd --direct=1 --rw=write from offset 0, zones reset before each run; $rounds round(s), order alternating"
log=$work/console.log cpu=$work/cpu.txt
: > "$log"
: > "$cpu"
tck=$(getconf CLK_TCK)

# qemu_cpu PID: the CPU time QEMU has used, all its threads (the exited
# ones too), in clock ticks.
qemu_cpu() {
    local st
    st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    st=${st##*) }
    # shellcheck disable=SC2086 # the fields, split on purpose
    set -- $st
    echo $(( ${12} + ${13} ))
}

# sample RUNPID: find the QEMU that run.sh started, then read its CPU time
# at each ZQ-BENCH-MARK line the guest prints (it is idle around them).
sample() {
    local runpid=$1 qpid="" c exe line
    while [ -z "$qpid" ] && kill -0 "$runpid" 2>/dev/null; do
        for c in $(pgrep -P "$runpid" || true); do
            exe=$(readlink "/proc/$c/exe" 2>/dev/null) || continue
            case $exe in "$(readlink -f "$QEMU")"*) qpid=$c ;; esac
        done
        [ -n "$qpid" ] || sleep 0.2
    done
    [ -n "$qpid" ] || return 0
    tail -n +1 -s 0.05 -F --pid="$runpid" "$log" 2>/dev/null |
        while IFS= read -r line; do
            case $line in
            ZQ-BENCH-MARK\ *)
                echo "${line#ZQ-BENCH-MARK } $(qemu_cpu "$qpid")" >> "$cpu" ;;
            esac
        done
}

start=$SECONDS
rc=0
"$RUN" --quiet --log "$log" --machine microvm,pcie=on \
    --timeout $((120 + rounds * 150)) --script "$SCN" "${sargs[@]}" -- "${qargs[@]}" &
runpid=$!
sample "$runpid" &
sampler=$!
wait "$runpid" || rc=$?
wait "$sampler" || true
echo "guest ran for $((SECONDS - start)) s (status $rc)"
if [ "$rc" != 0 ]; then
    grep -E 'ZQ-BENCH-FAIL|^ZQ:|run.sh' "$log" | tail -n 20 >&2 || true
    tail -n 20 "$log" >&2
    die "the guest benchmark failed"
fi

# What can make the two disks split requests differently.
awk '$1 == "ZQ-SYSFS" && $3 ~ /^(max_sectors_kb|max_hw_sectors_kb|max_segments|zone_append_max_bytes|nr_requests)$/ {
        v[$3] = v[$3] sprintf(" %s=%s", $2, $4)
    }
    END { for (a in v) printf "sysfs %-22s%s\n", a, v[a] }' "$log" | sort

# Per job: the median bandwidth and IOPS of each disk and their ratio
# zoned-qcow2/NVMe-ZNS, the ratio within each round (both disks measured
# back to back), and QEMU's CPU time per GiB written (all threads, from the
# marks), whose ratio ZNS/qcow2 is the same "above 1: qcow2 is better" but
# does not depend on what else the host runs.
awk -v jobs="$jobs" -v tck="$tck" '
    function median(list,   n, a, i, j, t) {
        n = split(list, a, " ")
        for (i = 2; i <= n; i++)
            for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
                t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
            }
        if (n == 0) return 0
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    FNR == NR {
        # cpu.txt: begin|end JOB DISK ROUND TICKS
        k = $2 SUBSEP $3 SUBSEP $4
        if ($1 == "begin") t0[k] = $5
        else if ($1 == "end" && (k in t0)) ticks[k] = $5 - t0[k]
        next
    }
    $1 == "ZQ-BENCH" {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
        k = f["job"] SUBSEP f["dev"]
        bw[k] = bw[k] " " f["bw_kib"]; io[k] = io[k] " " f["iops"]
        rb[f["job"] SUBSEP f["round"] SUBSEP f["dev"]] = f["bw_kib"]
        c = f["job"] SUBSEP f["disk"] SUBSEP f["round"]
        if ((c in ticks) && f["kib"] > 0)
            cg[k] = cg[k] " " ticks[c] / tck / (f["kib"] / 1048576)
        n = f["iops"] * f["ms"] / 1000
        if (n > 0 && f["intr"] != "") {
            ir[k] = ir[k] " " f["intr"] / n; cs[k] = cs[k] " " f["ctxt"] / n
        }
        if (f["round"] > nr) nr = f["round"]
    }
    END {
        printf "%-15s %11s %7s %10s %7s %6s %-28s %9s %9s %6s\n", "job", "qcow2 MiB/s", "IOPS",
            "ZNS MiB/s", "IOPS", "ratio", " (median per round: rounds)",
            "qcow2 s/G", "ZNS s/G", "ratio"
        nj = split(jobs, J, " ")
        for (j = 1; j <= nj; j++) {
            name = J[j]; sub(/=.*/, "", name)
            bq = median(bw[name SUBSEP "qcow2"]); bz = median(bw[name SUBSEP "zns"])
            iq = median(io[name SUBSEP "qcow2"]); iz = median(io[name SUBSEP "zns"])
            rr = ""; rl = ""
            for (r = 1; r <= nr; r++) {
                a = rb[name SUBSEP r SUBSEP "qcow2"]; b = rb[name SUBSEP r SUBSEP "zns"]
                if (a > 0 && b > 0) { rr = rr sprintf(" %.2f", a / b); rl = rl " " a / b }
            }
            ratio = bz > 0 ? bq / bz : 0
            cq = median(cg[name SUBSEP "qcow2"]); cz = median(cg[name SUBSEP "zns"])
            cr = cq > 0 ? cz / cq : 0
            printf "%-15s %11.1f %7d %10.1f %7d %6.2f  (%.2f:%s)", name,
                bq / 1024, iq, bz / 1024, iz, ratio, median(rl), rr
            if (cr > 0) printf "  %9.2f %9.2f %6.2f", cq, cz, cr
            printf "\n"
            if (ratio > 0) { lsum += log(ratio); cnt++ }
            if (cr > 0) { csum += log(cr); ccnt++ }
            if (min == "" || ratio < min) min = ratio
            if (cr > 0 && (cmin == "" || cr < cmin)) cmin = cr
        }
        printf "guest interrupts and context switches per I/O (medians):\n"
        for (j = 1; j <= nj; j++) {
            name = J[j]; sub(/=.*/, "", name)
            printf "  %-15s qcow2 %5.2f intr %5.2f ctxt   ZNS %5.2f intr %5.2f ctxt\n", name,
                median(ir[name SUBSEP "qcow2"]), median(cs[name SUBSEP "qcow2"]),
                median(ir[name SUBSEP "zns"]), median(cs[name SUBSEP "zns"])
        }
        if (cnt) printf "bandwidth ratio qcow2/ZNS: geometric mean %.2f, lowest %.2f (target >= 1.00)\n", exp(lsum / cnt), min
        if (ccnt) printf "CPU-cost ratio ZNS/qcow2:  geometric mean %.2f, lowest %.2f (above 1: qcow2 uses less QEMU CPU per byte)\n", exp(csum / ccnt), cmin
    }' "$cpu" "$log"
