#!/usr/bin/env bash
# Build qemu-img and qemu-io of the patched tree with AFL++ instrumentation,
# AddressSanitizer and UndefinedBehaviorSanitizer, out of tree, in
# build/fuzz (or $ZQ_FUZZ_BUILD).  Needs "make tree" (or "make build") first.
#   fuzz/build.sh            configure once, then build
#   FUZZ_CC=clang fuzz/build.sh   sanitizers only, no AFL++ (for the
#                                 mutational fallback: fuzz/run.sh --mode=py)
set -euo pipefail
. "$(dirname "$0")/../scripts/common.sh"

dir=${ZQ_FUZZ_BUILD:-$TOP/build/fuzz}
cc=${FUZZ_CC:-afl-clang-fast}
case $cc in
    afl-clang-fast) cxx=afl-clang-fast++ ;;
    clang) cxx=clang++ ;;
    *) cxx=${FUZZ_CXX:-c++} ;;
esac

[ -d "$TREE/.git" ] || die "no patched tree in $TREE: run 'make tree' first"
if [ "$cc" = afl-clang-fast ] && ! command -v afl-clang-fast >/dev/null; then
    log "installing AFL++ (Debian package afl++)"
    as_root apt-get install -y afl++ >&2 || die "apt-get install afl++ failed"
fi
command -v clang >/dev/null || die "clang is needed (Debian package clang)"

if [ ! -f "$dir/build.ninja" ]; then
    log "configuring the fuzz build in $dir (cc=$cc)"
    mkdir -p "$dir"
    # Only the tools, and as few optional libraries as possible: the image
    # formats and the file protocol are all that the fuzzed paths reach.
    # UBSan findings must end the process, or AFL++ would not see them.
    (cd "$dir" && CC=$cc CXX=$cxx "$TREE/configure" \
        --cc="$cc" --cxx="$cxx" --host-cc=clang \
        --without-default-features --target-list= \
        --disable-system --disable-user --enable-tools \
        --disable-docs --disable-download --disable-install-blobs \
        --disable-werror --enable-debug-info \
        --enable-asan --enable-ubsan \
        --extra-cflags="-fno-sanitize-recover=undefined -O1 -fno-omit-frame-pointer" \
        --python=/usr/bin/python3 >"$dir/configure.log" 2>&1) ||
        { tail -30 "$dir/configure.log"; die "configure failed (see $dir/configure.log)"; }
fi
log "building qemu-img qemu-io in $dir"
# AFL_QUIET keeps afl-clang-fast from printing a banner per object.
AFL_QUIET=1 nice ninja -C "$dir" -j "$JOBS" qemu-img qemu-io
log "done: $dir/qemu-img $dir/qemu-io"
