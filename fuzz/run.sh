#!/usr/bin/env bash
# Fuzz the zoned qcow2 header extension and write-pointer table.
#   fuzz/run.sh [--mode afl|py] [--duration SECONDS] [--jobs N] [TARGET...]
# TARGET: check (qemu-img check), repair (qemu-img check -r all),
#         info (qemu-img info), io (qemu-io zone operations); default: all.
# --duration is per target (default 600); --jobs runs that many targets at
# once (default 1).  Results: build/fuzz-out/MODE/TARGET, and a summary
# table at the end.  Needs fuzz/build.sh first (and "make build" for the
# seeds, made with the normal build).  Environment: ZQ_FUZZ_BUILD (the
# instrumented build), ZQ_FUZZ_OUT (where the results go), FUZZ_SEED (py).
set -euo pipefail
. "$(dirname "$0")/../scripts/common.sh"

mode=afl
duration=600
jobs=1
targets=()
while [ $# -gt 0 ]; do
    case $1 in
        --mode) mode=$2; shift 2 ;;
        --mode=*) mode=${1#--mode=}; shift ;;
        --duration) duration=$2; shift 2 ;;
        --duration=*) duration=${1#--duration=}; shift ;;
        --jobs) jobs=$2; shift 2 ;;
        --jobs=*) jobs=${1#--jobs=}; shift ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        -*) die "unknown option $1" ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=(check repair info io)

fbuild=${ZQ_FUZZ_BUILD:-$TOP/build/fuzz}
out=${ZQ_FUZZ_OUT:-$TOP/build/fuzz-out}/$mode
[ -x "$fbuild/qemu-img" ] && [ -x "$fbuild/qemu-io" ] ||
    die "no instrumented build in $fbuild: run fuzz/build.sh"
[ -x "$BUILD/qemu-img" ] && [ -x "$BUILD/qemu-io" ] ||
    die "no normal build in $BUILD: run 'make build'"

seeds=$out/seeds
mkdir -p "$out"
rm -rf "$seeds"
python3 "$TOP/fuzz/gen_seeds.py" --qemu-img "$BUILD/qemu-img" \
    --qemu-io "$BUILD/qemu-io" "$seeds" >/dev/null

# Zone operations for the io target.  Offsets suit 4 KiB zones (most seeds);
# on other geometries some fail with EINVAL, which is fine.
IO_CMDS=(-c 'zrp 0 64' -c 'write -P 0xa5 4k 512' -c 'zap -p 8k 512'
         -c 'zo 12k 4k' -c 'write -P 0x5a 12k 1k' -c 'zc 12k 4k'
         -c 'zf 16k 4k' -c 'write -z 20k 512' -c 'flush'
         -c 'read -P 0xa5 4k 512' -c 'read 0 32k' -c 'zrs 8k 4k'
         -c 'zrp 0 64' -c 'discard 0 4k' -c 'zrs 0 32k' -c 'zrp 0 64')

target_cmd() {
    case $1 in
        check)  echo "$2/qemu-img check -f qcow2" ;;
        repair) echo "$2/qemu-img check -r all -f qcow2" ;;
        info)   echo "$2/qemu-img info -f qcow2" ;;
        io)     echo "$2/qemu-io -f qcow2" ;;
        *) die "unknown target $1" ;;
    esac
}

# Sanitizers: every report aborts; leaks are off (the tools leak the
# migration blocker of every zoned image, see README.md); an allocation
# above 256 MiB counts as a crash.
export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0:allocator_may_return_null=0:max_allocation_size_mb=256:handle_abort=1:detect_stack_use_after_return=0
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1

run_afl() {
    local t=$1 dir=$out/$1 cmd
    read -ra cmd <<<"$(target_cmd "$t" "$fbuild")"
    if [ "$t" = io ]; then cmd+=("${IO_CMDS[@]}"); fi
    rm -rf "$dir"
    log "afl-fuzz $t for ${duration}s"
    AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CRASHES=1 \
        nice afl-fuzz -i "$seeds" -o "$dir" -m none -t 2000 \
        -x "$TOP/fuzz/zoned.dict" -V "$duration" -- "${cmd[@]}" @@ \
        >"$out/$t.log" 2>&1 || true
}

run_py() {
    local t=$1
    log "mutational fuzzer on $t for ${duration}s"
    nice python3 "$TOP/fuzz/mutate.py" --target "$t" --duration "$duration" \
        --seed "${FUZZ_SEED:-1}" --fuzz-build "$fbuild" --seeds "$seeds" \
        --out "$out/$t" >"$out/$t.log" 2>&1 || true
}

case $mode in
    afl) command -v afl-fuzz >/dev/null || die "afl-fuzz missing: fuzz/build.sh installs it" ;;
    py) ;;
    *) die "unknown mode $mode (afl or py)" ;;
esac

running=0
for t in "${targets[@]}"; do
    target_cmd "$t" x >/dev/null
    "run_$mode" "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait

printf '%-8s %12s %8s %6s\n' target execs crashes hangs
for t in "${targets[@]}"; do
    st=$out/$t/default/fuzzer_stats
    [ "$mode" = py ] && st=$out/$t/stats
    if [ -f "$st" ]; then
        awk -v t="$t" -F' *: *' '
            $1 == "execs_done" { e = $2 }
            $1 == "saved_crashes" || $1 == "unique_crashes" { c = $2 }
            $1 == "saved_hangs" || $1 == "unique_hangs" { h = $2 }
            END { printf "%-8s %12s %8s %6s\n", t, e, c, h }' "$st"
    else
        printf '%-8s %12s\n' "$t" "no stats (see $out/$t.log)"
    fi
done
