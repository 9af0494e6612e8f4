#!/usr/bin/env bash
# Boot the test guest under TCG and run one scenario in it.
#
#   guest/run.sh [options] --script FILE [--] [extra qemu arguments...]
#
# Options:
#   --script FILE   scenario to run in the guest (busybox sh); required
#   --arg STR       argument passed to the scenario (repeatable, in order)
#   --file PATH     file copied into the guest as /zq/files/NAME (repeatable)
#   --fio           add fio to the guest (automatic when the scenario has a
#                   line "# zq-needs: fio")
#   --zbd           add fio and its zoned test suite t/zbd, in /zq/fio
#                   (automatic with a line "# zq-needs: zbd")
#   --btrfs         add fio, mkfs.btrfs, btrfs and the btrfs modules (in
#                   /lib/modules/btrfs; automatic with "# zq-needs: btrfs")
#   --timeout S     kill QEMU after S seconds (default 300): exit status 124
#   --kill-on STR   SIGKILL QEMU as soon as a console line contains STR and
#                   exit 0 (a host crash, for persistence tests); exit 125 if
#                   the guest ends without printing it
#   --host-on STR CMD  when a console line contains STR (the first time),
#                   run the bash command CMD on the host; the guest goes on
#                   meanwhile.  $ZQ_QMP is QEMU's QMP socket (guest/qmp.py
#                   sends a command to it); CMD's output goes to the log as
#                   "ZQ-HOST ..." lines
#   --log FILE      also write the console (without CRs) to FILE
#   --quiet         do not copy the console to stdout
#   --mem MB        guest memory (default 512)
#   --smp N         vCPUs (default 1)
#   --append STR    more kernel command line
#   --machine STR   the -M value (default "microvm"; e.g. "microvm,pcie=on"
#                   for PCI devices such as an NVMe ZNS controller)
#   --verbose       show all kernel messages (default: critical ones only)
#
# Everything after "--" (or the first argument not known here) goes to QEMU,
# typically the disks:
#   -blockdev driver=qcow2,file.driver=file,file.filename=z.qcow2,node-name=z
#   -device virtio-blk-device,drive=z
#
# The scenario's exit status is the guest's "ZQ-GUEST-EXIT <rc>" line and
# becomes this script's; 124 is a timeout, 125 a harness failure.
# Environment: QEMU (default build/qemu/build/qemu-system-x86_64).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
QEMU=${QEMU:-$TOP/build/qemu/build/qemu-system-x86_64}

script="" timeout=300 kill_on="" host_on="" host_cmd="" log="" quiet=0 mem=512
smp=1 append=""
verbose=0 want_fio=0 want_zbd=0 want_btrfs=0 machine=microvm
args=() files=() qemu_args=()

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
fail() { printf 'run.sh: %s\n' "$*" >&2; exit 125; }

while [ $# -gt 0 ]; do
    case $1 in
    --script) script=$2; shift ;;
    --arg) args+=("$2"); shift ;;
    --file) files+=("$2"); shift ;;
    --fio) want_fio=1 ;;
    --zbd) want_zbd=1 ;;
    --btrfs) want_btrfs=1 ;;
    --timeout) timeout=$2; shift ;;
    --kill-on) kill_on=$2; shift ;;
    --host-on) host_on=$2; host_cmd=$3; shift 2 ;;
    --log) log=$2; shift ;;
    --quiet) quiet=1 ;;
    --mem) mem=$2; shift ;;
    --smp) smp=$2; shift ;;
    --append) append=$2; shift ;;
    --machine) machine=$2; shift ;;
    --verbose) verbose=1 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; qemu_args+=("$@"); break ;;
    *) qemu_args+=("$@"); break ;;
    esac
    shift
done
[ -n "$script" ] || { usage >&2; exit 125; }
[ -f "$script" ] || fail "no scenario $script"
[[ $timeout =~ ^[0-9]+$ ]] || fail "bad --timeout $timeout"
[ -x "$QEMU" ] || fail "no QEMU at $QEMU (set QEMU=)"
grep -q '^# zq-needs:.*\bfio\b' "$script" && want_fio=1
grep -q '^# zq-needs:.*\bzbd\b' "$script" && want_zbd=1
grep -q '^# zq-needs:.*\bbtrfs\b' "$script" && want_btrfs=1

# The kernel and base initramfs (rebuilt only when their inputs change).
paths=$("$HERE/build-initramfs.sh" --print) || fail "building the guest failed"
eval "$paths"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/zq-guest.XXXXXX")
qpid=""
# shellcheck disable=SC2317 # called through the trap
cleanup() {
    if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
        kill -KILL "$qpid" 2>/dev/null || true
        wait "$qpid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The scenario, its arguments, lib.sh and the extra files go in a small cpio
# appended to the base one: the kernel unpacks them all into the rootfs.
mkdir -p "$tmp/root/zq/files"
install -m 755 "$script" "$tmp/root/zq/scenario.sh"
install -m 644 "$HERE/scenarios/lib.sh" "$tmp/root/zq/lib.sh"
: > "$tmp/root/zq/args"
for a in ${args[@]+"${args[@]}"}; do
    case $a in *$'\n'*) fail "scenario arguments cannot hold newlines" ;; esac
    printf '%s\n' "$a" >> "$tmp/root/zq/args"
done
for f in ${files[@]+"${files[@]}"}; do
    install -m 644 "$f" "$tmp/root/zq/files/"
done
(cd "$tmp/root" && find . -mindepth 1 | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0) > "$tmp/run.cpio"
if [ "$want_zbd" = 1 ] && [ "$want_btrfs" = 1 ]; then
    cat "$BASE_CPIO" "$FIO_CPIO" "$ZBD_CPIO" "$BTRFS_CPIO" "$tmp/run.cpio" > "$tmp/initrd"
elif [ "$want_zbd" = 1 ]; then
    cat "$BASE_CPIO" "$FIO_CPIO" "$ZBD_CPIO" "$tmp/run.cpio" > "$tmp/initrd"
elif [ "$want_btrfs" = 1 ]; then
    cat "$BASE_CPIO" "$FIO_CPIO" "$BTRFS_CPIO" "$tmp/run.cpio" > "$tmp/initrd"
elif [ "$want_fio" = 1 ]; then
    cat "$BASE_CPIO" "$FIO_CPIO" "$tmp/run.cpio" > "$tmp/initrd"
else
    cat "$BASE_CPIO" "$tmp/run.cpio" > "$tmp/initrd"
fi

cmdline="console=ttyS0 panic=-1 reboot=t edd=off"
# Default: only critical kernel messages (the scenarios' own I/O errors are
# expected and would flood the console); --verbose: all of them.
if [ "$verbose" = 1 ]; then cmdline+=" loglevel=7"; else cmdline+=" loglevel=3"; fi
# Under TCG on a busy host the kernel's PIT calibration of the TSC can fail,
# and the boot then hangs: give it the TSC rate (the host's, under TCG).
if khz=$("$TSCKHZ" 2>/dev/null) && [[ $khz =~ ^[0-9]+$ ]]; then
    cmdline+=" tsc_early_khz=$khz"
fi
[ -n "$append" ] && cmdline+=" $append"

mkfifo "$tmp/console"
[ -n "$host_on" ] && qemu_args+=(-qmp "unix:$tmp/qmp.sock,server=on,wait=off")
start=$SECONDS
# Linux negotiates VIRTIO_BLK_F_ZONED only with modern (virtio 1.0)
# devices, and QEMU's virtio-mmio is legacy unless told otherwise.
"$QEMU" -M "$machine" -accel tcg -L /usr/share/qemu -L /usr/share/seabios \
    -global virtio-mmio.force-legacy=false \
    -nographic -no-reboot -m "$mem" -smp "$smp" \
    -kernel "$KERNEL" -initrd "$tmp/initrd" -append "$cmdline" \
    ${qemu_args[@]+"${qemu_args[@]}"} </dev/null >"$tmp/console" 2>&1 &
qpid=$!

[ -n "$log" ] && : > "$log"
rc="" killed=0 timed_out=0 line=""
exec 3<"$tmp/console"
while :; do
    left=$((timeout - (SECONDS - start)))
    if [ "$left" -le 0 ]; then timed_out=1; break; fi
    if IFS= read -r -t "$left" line <&3; then
        :
    else
        st=$?
        if [ "$st" -gt 128 ]; then timed_out=1; break; fi
        # End of the console; a last line without a newline is still a line.
        [ -z "$line" ] && break
    fi
    line=${line//$'\r'/}
    [ "$quiet" = 1 ] || printf '%s\n' "$line"
    [ -n "$log" ] && printf '%s\n' "$line" >> "$log"
    if [[ $line =~ ^ZQ-GUEST-EXIT\ ([0-9]+)$ ]]; then
        rc=${BASH_REMATCH[1]}
    fi
    if [ -n "$host_on" ] && [[ $line == *"$host_on"* ]]; then
        host_on=""
        while IFS= read -r out; do
            [ "$quiet" = 1 ] || printf 'ZQ-HOST %s\n' "$out"
            [ -n "$log" ] && printf 'ZQ-HOST %s\n' "$out" >> "$log"
        done < <(ZQ_QMP=$tmp/qmp.sock bash -c "$host_cmd" 2>&1)
    fi
    if [ -n "$kill_on" ] && [[ $line == *"$kill_on"* ]]; then
        kill -KILL "$qpid" 2>/dev/null || true
        killed=1
        break
    fi
    line=""
done
exec 3<&-

if [ "$timed_out" = 1 ]; then
    kill -KILL "$qpid" 2>/dev/null || true
    wait "$qpid" 2>/dev/null || true
    qpid=""
    printf 'run.sh: timeout after %ss, QEMU killed\n' "$timeout" >&2
    exit 124
fi
qst=0
wait "$qpid" || qst=$?
qpid=""
elapsed=$((SECONDS - start))
if [ "$killed" = 1 ]; then
    msg="ZQ-HOST-KILLED QEMU after ${elapsed}s"
    [ "$quiet" = 1 ] || echo "$msg"
    [ -n "$log" ] && echo "$msg" >> "$log"
    exit 0
fi
if [ -n "$kill_on" ]; then
    fail "the guest ended without printing '$kill_on' (QEMU status $qst)"
fi
[ -n "$rc" ] || fail "no ZQ-GUEST-EXIT line from the guest (QEMU status $qst)"
[ "$qst" = 0 ] || printf 'run.sh: QEMU exited with status %s\n' "$qst" >&2
exit "$rc"
