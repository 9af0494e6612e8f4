#!/usr/bin/env bash
# Configure (once) and build the patched QEMU in build/qemu/build.
#   build.sh [ninja targets...]   default: the tools and qemu-system-x86_64
set -euo pipefail
. "$(dirname "$0")/common.sh"

TARGETS=(qemu-img qemu-io qemu-nbd storage-daemon/qemu-storage-daemon
         qemu-system-x86_64)
[ $# -gt 0 ] && TARGETS=("$@")
dir=${ZQ_BUILD_DIR:-$BUILD}
src=${ZQ_SRC_DIR:-$TREE}

"$TOP/scripts/deps.sh"
[ -d "$src/.git" ] || "$TOP/scripts/tree.sh"

# QEMU's configure hands the compiler to meson through a cross file, so
# meson's own ccache detection never applies: name it in CC instead.
if [ -z "${CC:-}" ] && command -v ccache >/dev/null; then
    export CC="ccache cc"
fi

if [ ! -f "$dir/build.ninja" ]; then
    log "configuring QEMU in $dir"
    mkdir -p "$dir"
    (cd "$dir" && "$src/configure" --target-list=x86_64-softmmu \
        --disable-docs --disable-download --disable-install-blobs \
        --python=/usr/bin/python3 --enable-tools --disable-werror \
        --enable-debug-info --disable-gtk --disable-sdl --disable-vnc \
        --disable-opengl --disable-spice --disable-xkbcommon \
        ${ZQ_CONFIGURE_EXTRA:-} >"$dir/configure.log" 2>&1) ||
        { tail -30 "$dir/configure.log"; die "configure failed (see $dir/configure.log)"; }
fi
log "building ${TARGETS[*]}"
ninja -C "$dir" -j "$JOBS" "${TARGETS[@]}"
# The +ds source has no firmware images: link Debian's where QEMU looks.
"$TOP/scripts/firmware.sh" "$dir"
