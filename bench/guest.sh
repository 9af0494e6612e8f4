#!/usr/bin/env bash
# Benchmark in a guest: a zoned qcow2 image behind virtio-blk against QEMU's
# NVMe ZNS emulation on a raw file with the same zone geometry, and against
# a plain (not zoned) qcow2 image behind the same virtio-blk device, all
# with the same cache mode, in ONE TCG guest (guest/run.sh), running the
# same sequential-write fio jobs (guest/scenarios/bench-fio.sh;
# --zonemode=zbd on the zoned disks).  The disks take turns at running
# first; every job runs ROUNDS times on each and the medians are compared.
# Under TCG only the ratios mean anything.  It is a benchmark, not a test:
# no pass/fail threshold.
#
#   bench/guest.sh              default run (about 3.5 minutes on an idle host,
#                               about 7 when the host is busy)
#   ZQ_GB_QUICK=1               one round, smaller jobs (about 1.5 minutes)
#   ZQ_GB_ROUNDS=N              rounds (default 5; quick 1)
#   ZQ_GB_LAYOUT=main|iothreads where the virtio-blk disks are served:
#                               QEMU's main loop (default) or two iothreads
#                               with num-queues=4 and iothread-vq-mapping,
#                               for a guest with 2 vCPUs and jobs of 4 fio
#                               writers each on its own zones.  QEMU 10.0's
#                               NVMe controller has no iothread: ZNS stays
#                               in the main loop (with 2 I/O queues)
#   ZQ_GB_PLAIN=1|0             measure the plain qcow2 disk too (default 1)
#   ZQ_GB_CACHE=direct|cached   host cache of ALL disks: cache.direct=on
#                               (default) or the host page cache
#   ZQ_GB_VIRTIO=pci|mmio       virtio-blk-pci (default, like the NVMe
#                               controller) or virtio-blk-device (virtio-mmio;
#                               main layout only)
#   ZQ_GB_ZONE_SIZE, ZQ_GB_ZONE_CAP, ZQ_GB_MAX_OPEN, ZQ_GB_MAX_ACTIVE,
#   ZQ_GB_DISK_SIZE             geometry (64M, 64M, 8, 8, 4G)
#   ZQ_GB_ZASL=N                NVMe zone append size limit 2^N x 4 KiB,
#                               also the qcow2 zone.max_append_bytes (7)
#   ZQ_GB_JOBS="NAME=ENGINE,BS,DEPTH[,SIZE[,JOBS]] ..."   other fio jobs
#   ZQ_GB_VIRTIO_OPTS, ZQ_GB_NVME_OPTS   more ",prop=value" for the
#                               virtio-blk or nvme device (experiments;
#                               main layout only)
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
layout=${ZQ_GB_LAYOUT:-main}
plain=${ZQ_GB_PLAIN:-1}
virtio=${ZQ_GB_VIRTIO:-pci}
zsize=${ZQ_GB_ZONE_SIZE:-64M}
zcap=${ZQ_GB_ZONE_CAP:-$zsize}
max_open=${ZQ_GB_MAX_OPEN:-8}
max_active=${ZQ_GB_MAX_ACTIVE:-8}
dsize=${ZQ_GB_DISK_SIZE:-4G}
zasl=${ZQ_GB_ZASL:-7}
# Each job writes from offset 0; 4k-qd1 is the per-request cost, the
# others the throughput at a few depths, request sizes and engines.
if [ "$layout" = iothreads ]; then
    # 4 writers, each at its own offset: the guest spreads them over its
    # hardware queues (one per vCPU), so both iothreads get requests.
    if [ "$quick" = 1 ]; then
        jobs=${ZQ_GB_JOBS:-"64k-qd16=libaio,64k,16,256M 4x4k-qd4=libaio,4k,4,32M,4 4x64k-qd8=libaio,64k,8,1G,4"}
    else
        jobs=${ZQ_GB_JOBS:-"64k-qd16=libaio,64k,16,1G 4x4k-qd4=libaio,4k,4,64M,4 4x64k-qd8=libaio,64k,8,2G,4 4x1m-qd2=libaio,1M,2,2G,4"}
    fi
elif [ "$quick" = 1 ]; then
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
case $layout in
main) smp=1 ;;
iothreads)
    smp=2
    [ "$virtio" = pci ] || die "ZQ_GB_LAYOUT=iothreads needs ZQ_GB_VIRTIO=pci"
    [ -z "${ZQ_GB_VIRTIO_OPTS:-}${ZQ_GB_NVME_OPTS:-}" ] ||
        die "ZQ_GB_VIRTIO_OPTS and ZQ_GB_NVME_OPTS are for the main layout"
    ;;
*) die "ZQ_GB_LAYOUT is main or iothreads" ;;
esac
case $plain in 0|1) ;; *) die "ZQ_GB_PLAIN is 0 or 1" ;; esac
append_bytes=$((4096 << zasl))

if [ -n "${ZQ_GB_KEEP:-}" ]; then
    work=$ZQ_GB_KEEP
    mkdir -p "$work"
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/zq-gbench.XXXXXX")
    trap 'rm -rf "$work"' EXIT
fi
rm -f "$work/z.qcow2" "$work/n.raw" "$work/p.qcow2"
"$QEMU_IMG" create -q -f qcow2 \
    -o "zone.mode=host-managed,zone.size=$zsize,zone.capacity=$zcap,zone.max_open_zones=$max_open,zone.max_active_zones=$max_active,zone.max_append_bytes=$append_bytes" \
    "$work/z.qcow2" "$dsize"
truncate -s "$dsize" "$work/n.raw"

# vdev_of NODE: the virtio-blk device of NODE in the chosen layout
vdev_of() {
    if [ "$layout" = iothreads ]; then
        printf '{"driver": "%s", "drive": "%s", "num-queues": 4, "iothread-vq-mapping": [{"iothread": "io0"}, {"iothread": "io1"}]}' \
            "$vdev" "$1"
    else
        echo "$vdev,drive=$1${ZQ_GB_VIRTIO_OPTS:-}"
    fi
}

sargs=(--arg --rounds --arg "$rounds" --arg --dev --arg qcow2=vda
    --arg --dev --arg zns=nvme0n1)
for j in $jobs; do sargs+=(--arg --job --arg "$j"); done
qargs=()
[ "$layout" = iothreads ] && qargs+=(-object "iothread,id=io0" -object "iothread,id=io1")
qargs+=(
    -blockdev "driver=qcow2,file.driver=file,file.filename=$work/z.qcow2,$cache_opt,discard=unmap,node-name=z"
    -device "$(vdev_of z)"
)
if [ "$plain" = 1 ]; then
    # discard=unmap on every disk: the discard before each run frees the
    # clusters and punches them out of the host file, as a zone reset
    # does on the zoned disks, so that every run allocates them again.
    "$QEMU_IMG" create -q -f qcow2 "$work/p.qcow2" "$dsize"
    sargs+=(--arg --dev --arg plain=vdb)
    qargs+=(
        -blockdev "driver=qcow2,file.driver=file,file.filename=$work/p.qcow2,$cache_opt,discard=unmap,node-name=p"
        -device "$(vdev_of p)"
    )
fi
qargs+=(
    -blockdev "driver=raw,file.driver=file,file.filename=$work/n.raw,$cache_opt,discard=unmap,node-name=n"
    -device "nvme,id=nvme0,serial=zq,zoned.zasl=$zasl${ZQ_GB_NVME_OPTS:-}"
    -device "nvme-ns,drive=n,bus=nvme0,nsid=1,zoned=true,zoned.zone_size=$zsize,zoned.zone_capacity=$zcap,zoned.max_open=$max_open,zoned.max_active=$max_active"
)

echo "guest fio bench: zoned qcow2 ($vdev) vs NVMe ZNS (nvme-ns on raw)$([ "$plain" = 1 ] && echo " and plain qcow2 ($vdev)"), one TCG guest"
echo "layout: $layout ($smp vCPU$([ "$smp" = 1 ] || echo s)$([ "$layout" = iothreads ] && echo ", virtio-blk on 2 iothreads with 4 queues; NVMe in the main loop"))"
echo "geometry: $dsize disk, zone size $zsize, capacity $zcap, max open $max_open, max active $max_active, append limit $append_bytes; host cache: $cache"
echo "fio: --direct=1 --rw=write from offset 0 (--zonemode=zbd on the zoned disks), zones reset (plain: discarded) before each run; $rounds round(s), order rotating"
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
"$RUN" --quiet --log "$log" --machine microvm,pcie=on --smp "$smp" \
    --timeout $((120 + rounds * 300)) --script "$SCN" "${sargs[@]}" -- "${qargs[@]}" &
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

# What can make the disks split requests differently.
awk '$1 == "ZQ-SYSFS" && $3 ~ /^(max_sectors_kb|max_hw_sectors_kb|max_segments|zone_append_max_bytes|nr_requests|mq)$/ {
        v[$3] = v[$3] sprintf(" %s=%s", $2, $4)
    }
    END { for (a in v) printf "sysfs %-22s%s\n", a, v[a] }' "$log" | sort

# Per job: the median bandwidth of each disk and the ratios of zoned qcow2
# to the others (the median of the per-round ratios, both disks measured
# back to back, in brackets), then QEMU's CPU time per GiB written (all
# threads, from the marks) of each disk, with the ratios other/qcow2: the
# same "above 1: qcow2 is better", but not depending on what else the host
# runs.
awk -v jobs="$jobs" -v tck="$tck" -v labels="qcow2 zns$([ "$plain" = 1 ] && echo " plain")" '
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
        bw[k] = bw[k] " " f["bw_kib"]
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
        nl = split(labels, L, " ")
        name["zns"] = "ZNS"; name["plain"] = "plain"; name["qcow2"] = "qcow2"
        target["zns"] = "1.00"; target["plain"] = "0.95"
        printf "%-15s", "job"
        for (l = 1; l <= nl; l++) printf " %11s", name[L[l]] " MiB/s"
        for (l = 2; l <= nl; l++) printf "  %-24s", "qcow2/" name[L[l]] " (per round)"
        printf " |"
        for (l = 1; l <= nl; l++) printf " %7s", name[L[l]] " s/G"
        for (l = 2; l <= nl; l++) printf " %9s", name[L[l]] "/qcow2"
        printf "\n"
        nj = split(jobs, J, " ")
        for (j = 1; j <= nj; j++) {
            jn = J[j]; sub(/=.*/, "", jn)
            printf "%-15s", jn
            for (l = 1; l <= nl; l++) {
                m[L[l]] = median(bw[jn SUBSEP L[l]])
                printf " %11.1f", m[L[l]] / 1024
            }
            for (l = 2; l <= nl; l++) {
                o = L[l]; rl = ""
                for (r = 1; r <= nr; r++) {
                    a = rb[jn SUBSEP r SUBSEP "qcow2"]; b = rb[jn SUBSEP r SUBSEP o]
                    if (a > 0 && b > 0) rl = rl " " a / b
                }
                ratio = m[o] > 0 ? m["qcow2"] / m[o] : 0
                printf "  %5.2f (%5.2f)%11s", ratio, median(rl), ""
                if (ratio > 0) { lsum[o] += log(ratio); cnt[o]++ }
                if (!(o in min) || ratio < min[o]) min[o] = ratio
            }
            printf " |"
            for (l = 1; l <= nl; l++) {
                cpu[L[l]] = median(cg[jn SUBSEP L[l]])
                printf " %7.2f", cpu[L[l]]
            }
            for (l = 2; l <= nl; l++) {
                o = L[l]
                cr = cpu["qcow2"] > 0 ? cpu[o] / cpu["qcow2"] : 0
                printf " %9.2f", cr
                if (cr > 0) { csum[o] += log(cr); ccnt[o]++ }
            }
            printf "\n"
        }
        printf "guest interrupts and context switches per I/O (medians):\n"
        for (j = 1; j <= nj; j++) {
            jn = J[j]; sub(/=.*/, "", jn)
            printf "  %-15s", jn
            for (l = 1; l <= nl; l++)
                printf " %s %5.2f intr %5.2f ctxt ", name[L[l]],
                    median(ir[jn SUBSEP L[l]]), median(cs[jn SUBSEP L[l]])
            printf "\n"
        }
        for (l = 2; l <= nl; l++) {
            o = L[l]
            if (cnt[o]) printf "bandwidth ratio qcow2/%s: geometric mean %.2f, lowest %.2f (target >= %s)\n", name[o], exp(lsum[o] / cnt[o]), min[o], target[o]
            if (ccnt[o]) printf "CPU-cost ratio %s/qcow2: geometric mean %.2f (above 1: zoned qcow2 uses less QEMU CPU per byte)\n", name[o], exp(csum[o] / ccnt[o])
        }
    }' "$cpu" "$log"
