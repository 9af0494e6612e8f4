#!/usr/bin/env bash
# Build the guest kernel and initramfs used by guest/run.sh.
#
#   guest/build-initramfs.sh [--force] [--update-kernel] [--print]
#
# Output, under $CACHE/guest/out (CACHE as in scripts/common.sh, by default
# ~/.cache/zoned-qcow2):
#   vmlinuz     the Debian 6.12 cloud kernel (from its .deb, never installed)
#   base.cpio   busybox, blkzone/blkdiscard, zbdconf, kernel modules, /init
#   fio.cpio    fio and its shared libraries; appended only for scenarios
#               that ask for it (it is large: ~85 MB of libraries)
#   zbd.cpio    fio's zoned test suite, t/zbd of the Debian source package
#               of the same version as the fio binary (the binary package
#               lacks it), under /zq/fio with bash, GNU grep and timeout, and
#               the mq-deadline module it selects; appended with fio.cpio
#               for scenarios that ask for it
#   btrfs.cpio  mkfs.btrfs, btrfs and the btrfs module with its
#               dependencies (in /lib/modules/btrfs/, loaded in the order of
#               its file "order"); appended with fio.cpio for scenarios that
#               ask for it
#   tsckhz      host tool: the host's TSC rate, for the guest's tsc_early_khz
#   inputs      what the build was made from; a rebuild happens only when it
#               changes (or with --force)
#
# The kernel package is chosen once (the current linux-image-6.12.*-cloud-amd64
# that the linux-image-6.12-cloud-amd64 meta-package depends on, from the
# machine's sources or bookworm-backports, which is preferred; today only
# bookworm-security has them) and remembered in $CACHE/guest/kernel.pkg;
# --update-kernel picks again, ZQ_GUEST_KERNEL=<package> forces one.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../scripts/common.sh
. "$HERE/../scripts/common.sh"

GDIR=$CACHE/guest
OUT=$GDIR/out
# Host packages whose files go into the guest, plus the tools to build it.
HOST_PKGS=(busybox-static cpio util-linux libzbd-dev fio kmod xz-utils gcc
    libc6-dev btrfs-progs)
# Kernel modules loaded by /init, in this order (their dependencies first),
# with their parameters.  null_blk starts with no device: the scenarios make
# theirs through configfs.
MODULES=(configfs virtio_mmio virtio_blk null_blk zonefs)
declare -A MODPARAMS=([null_blk]="nr_devices=0")
# Host binaries copied with their libraries.
BASE_BINS=(/usr/sbin/blkzone /usr/sbin/blkdiscard)
FIO_BINS=(/usr/bin/fio)
# For t/zbd, in /zq/fio/bin (busybox's applets keep their names in /bin):
# the suite uses grep -P and timeout -v.
ZBD_BINS=(/usr/bin/bash /usr/bin/grep /usr/bin/timeout)
BTRFS_BINS=(/usr/sbin/mkfs.btrfs /usr/bin/btrfs)

force=0 update_kernel=0 print=0
while [ $# -gt 0 ]; do
    case $1 in
    --force) force=1 ;;
    --update-kernel) update_kernel=1 ;;
    --print) print=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option: $1" ;;
    esac
    shift
done

missing_pkgs() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
            echo "$p"
    done
}

# Install, from the machine's own (bookworm) sources, what is missing.
ensure_host_pkgs() {
    local want
    mapfile -t want < <(missing_pkgs "${HOST_PKGS[@]}")
    [ ${#want[@]} -gt 0 ] || return 0
    log "installing host packages: ${want[*]}"
    as_root apt-get -q update >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -y -q \
        --no-install-recommends install "${want[@]}" >&2
}

# The kernel package name (see the header).
kernel_pkg() {
    local pkg
    if [ -n "${ZQ_GUEST_KERNEL:-}" ]; then
        echo "$ZQ_GUEST_KERNEL"; return
    fi
    if [ "$update_kernel" = 0 ] && [ -s "$GDIR/kernel.pkg" ]; then
        cat "$GDIR/kernel.pkg"; return
    fi
    apt_private_update
    pkg=$(apt-cache "${APT_OPTS[@]}" -t bookworm-backports depends \
            linux-image-6.12-cloud-amd64 |
          awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.12\..*-cloud-amd64$/ { print $2; exit }')
    [ -n "$pkg" ] || die "cannot resolve linux-image-6.12-cloud-amd64 in the Debian sources"
    mkdir -p "$GDIR"
    echo "$pkg" > "$GDIR/kernel.pkg"
    echo "$pkg"
}

# Download (once) and unpack (once) the kernel package; prints the tree.
kernel_tree() {
    local pkg=$1 deb tree=$GDIR/kernel/$1
    if [ ! -f "$tree/.done" ]; then
        mkdir -p "$GDIR/debs"
        deb=$(find "$GDIR/debs" -maxdepth 1 -name "${pkg}_*.deb" | sort | tail -n1)
        if [ -z "$deb" ]; then
            apt_private_update
            log "downloading $pkg"
            (cd "$GDIR/debs" &&
             apt-get -q "${APT_OPTS[@]}" download -t bookworm-backports "$pkg" >&2) ||
                die "cannot download $pkg"
            deb=$(find "$GDIR/debs" -maxdepth 1 -name "${pkg}_*.deb" | sort | tail -n1)
            [ -n "$deb" ] || die "download of $pkg left no .deb"
        fi
        rm -rf "$tree"
        mkdir -p "$tree"
        dpkg-deb -x "$deb" "$tree"
        depmod -b "$tree" "$(ls "$tree/lib/modules")"
        basename "$deb" > "$tree/.done"
    fi
    echo "$tree"
}

# fio's t/zbd from the source package of the installed fio's version,
# fetched once through the private apt configuration; prints its directory.
fio_zbd_tree() {
    local ver dir orig
    ver=$(dpkg-query -W -f='${Version}' fio) || die "fio is not installed"
    dir=$GDIR/fio-src/$ver
    if [ ! -f "$dir/.done" ]; then
        rm -rf "$dir"
        mkdir -p "$dir/dl" "$dir/src"
        apt_private_update
        log "downloading the source of fio $ver (for t/zbd)"
        (cd "$dir/dl" &&
         apt-get -q "${APT_OPTS[@]}" source --download-only "fio=$ver" >&2) ||
            die "cannot download the source of fio $ver"
        orig=$(find "$dir/dl" -maxdepth 1 -name 'fio_*.orig.tar.*' | head -n1)
        [ -n "$orig" ] || die "the source of fio $ver has no orig tarball"
        tar -xf "$orig" -C "$dir/src" --strip-components=1 --wildcards '*/t/zbd/*'
        [ -f "$dir/src/t/zbd/test-zbd-support" ] || die "no t/zbd in $orig"
        echo "fio $ver $(basename "$orig")" > "$dir/.done"
    fi
    echo "$dir"
}

# Copy a binary (to DEST, by default its own path) and the shared libraries
# it needs to the same paths.
copy_with_libs() {
    local root=$1 bin=$2 dest=${3:-$2} lib
    [ -x "$bin" ] || die "missing $bin"
    install -D -m 755 "$bin" "$root$dest"
    { ldd "$bin" 2>/dev/null || true; } | awk '/=> \// { print $3 } /^[[:space:]]*\/.*ld-linux/ { print $1 }' |
    while read -r lib; do
        [ -e "$root$lib" ] && continue
        install -D -m 755 "$(readlink -f "$lib")" "$root$lib"
    done
}

# Write to stdout the module files of "$@" with their dependencies, each once,
# dependencies first, as paths relative to the modules directory.
module_order() {
    local mdir=$1; shift
    declare -A seen=()
    local -a order=()
    visit() {
        local rel=$1 dep
        [ -n "${seen[$rel]:-}" ] && return 0
        seen[$rel]=1
        # shellcheck disable=SC2013 # one word per module path
        for dep in $(awk -v m="$rel:" '$1 == m { $1 = ""; print; exit }' "$mdir/modules.dep"); do
            visit "$dep"
        done
        order+=("$rel")
    }
    local name rel
    for name in "$@"; do
        rel=$(awk -F: -v n="$name" '{ f = $1; sub(/.*\//, "", f); sub(/\.ko(\.[a-z]+)?$/, "", f);
                                       gsub(/-/, "_", f); if (f == n) { print $1; exit } }' \
              "$mdir/modules.dep")
        if [ -z "$rel" ]; then
            grep -Eq "/${name}\.ko\$" "$mdir/modules.builtin" ||
                die "kernel module $name neither built in nor in modules.dep"
            continue
        fi
        visit "$rel"
    done
    printf '%s\n' "${order[@]}"
}

cpio_of() {
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort |
        cpio --quiet -o -H newc -R 0:0) > "$2"
}

# The module file REL of MDIR, decompressed, to FILE.
# drop_files_of A B: remove from tree B the files that tree A has (a cpio
# that goes on top of A carries only what A lacks)
drop_files_of() {
    (cd "$1" && find . -type f) | while read -r rel; do rm -f "$2/$rel"; done
}

unpack_module() {
    case $2 in
    *.xz) xz -dc "$1/$2" > "$3" ;;
    *.zst) zstd -qdc "$1/$2" > "$3" ;;
    *.gz) gzip -dc "$1/$2" > "$3" ;;
    *) cp "$1/$2" "$3" ;;
    esac
}

build() {
    local ktree=$1 zbdsrc=$2 kver mdir stage rel name base
    kver=$(ls "$ktree/lib/modules")
    mdir=$ktree/lib/modules/$kver
    stage=$(mktemp -d "$GDIR/stage.XXXXXX")
    # shellcheck disable=SC2064 # expand now: $stage is local
    trap "rm -rf '$stage'" EXIT
    mkdir -p "$stage"/{base,fio,zbd,btrfs,out}

    # base: the directory skeleton, busybox and its applets.
    local r=$stage/base
    mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,dev,proc,sys,tmp,run,mnt,etc,zq,lib/modules}
    [ "$(id -u)" = 0 ] && mknod -m 600 "$r/dev/console" c 5 1
    install -m 755 /bin/busybox "$r/bin/busybox"
    for name in $("$r/bin/busybox" --list); do
        [ "$name" = busybox ] || ln -s busybox "$r/bin/$name"
    done
    local b
    for b in "${BASE_BINS[@]}"; do
        copy_with_libs "$r" "$b"
    done
    # zbdconf, static when libzbd.a is there.
    mkdir -p "$stage/zbdconf"
    if ! gcc -O2 -Wall -Wextra -Werror -static -o "$r/usr/bin/zbdconf" \
            "$HERE/src/zbdconf.c" -lzbd 2>"$stage/zbdconf/static.log"; then
        cat "$stage/zbdconf/static.log" >&2
        log "static link of zbdconf failed; linking dynamically"
        gcc -O2 -Wall -Wextra -Werror -o "$stage/zbdconf/zbdconf" "$HERE/src/zbdconf.c" -lzbd
        copy_with_libs "$r" "$stage/zbdconf/zbdconf"
        mv "$r$stage/zbdconf/zbdconf" "$r/usr/bin/zbdconf"
    fi
    # Modules, decompressed so that busybox insmod needs no xz support.
    : > "$r/etc/zq-modules"
    while read -r rel; do
        base=${rel##*/}; base=${base%.xz}; base=${base%.zst}; base=${base%.gz}
        unpack_module "$mdir" "$rel" "$r/lib/modules/$base"
        name=${base%.ko}; name=${name//-/_}
        echo "$base ${MODPARAMS[$name]:-}" >> "$r/etc/zq-modules"
    done < <(module_order "$mdir" "${MODULES[@]}")
    echo "$kver" > "$r/etc/zq-kernel"
    install -m 755 "$HERE/init" "$r/init"
    cpio_of "$r" "$stage/out/base.cpio"

    # fio, without what base already has.
    local f=$stage/fio
    for b in "${FIO_BINS[@]}"; do
        copy_with_libs "$f" "$b"
    done
    drop_files_of "$r" "$f"
    cpio_of "$f" "$stage/out/fio.cpio"

    # t/zbd: the script calls $(dirname $0)/../../fio.
    local z=$stage/zbd
    mkdir -p "$z/zq/fio/t" "$z/zq/fio/bin" "$z/lib/modules"
    cp -r "$zbdsrc/src/t/zbd" "$z/zq/fio/t/"
    ln -s /usr/bin/fio "$z/zq/fio/fio"
    for b in "${ZBD_BINS[@]}"; do
        copy_with_libs "$z" "$b" "/zq/fio/bin/${b##*/}"
    done
    rel=$(module_order "$mdir" mq_deadline | tail -n1)
    unpack_module "$mdir" "$rel" "$z/lib/modules/mq-deadline.ko"
    drop_files_of "$r" "$z"
    drop_files_of "$f" "$z"
    cpio_of "$z" "$stage/out/zbd.cpio"

    # btrfs: its tools, and its modules loaded by the scenarios that use it.
    local t=$stage/btrfs
    mkdir -p "$t/lib/modules/btrfs"
    for b in "${BTRFS_BINS[@]}"; do
        copy_with_libs "$t" "$b"
    done
    while read -r rel; do
        base=${rel##*/}; base=${base%.xz}; base=${base%.zst}; base=${base%.gz}
        unpack_module "$mdir" "$rel" "$t/lib/modules/btrfs/$base"
        echo "$base" >> "$t/lib/modules/btrfs/order"
    done < <(module_order "$mdir" btrfs)
    drop_files_of "$r" "$t"
    drop_files_of "$f" "$t"
    cpio_of "$t" "$stage/out/btrfs.cpio"

    gcc -O2 -Wall -Wextra -Werror -o "$stage/out/tsckhz" "$HERE/src/tsckhz.c"
    cp "$ktree/boot/vmlinuz-$kver" "$stage/out/vmlinuz"
    echo "$inputs" > "$stage/out/inputs"
    rm -rf "$OUT.old"
    [ -d "$OUT" ] && mv "$OUT" "$OUT.old"
    mv "$stage/out" "$OUT"
    rm -rf "$OUT.old"
}

main() {
    local pkg ktree zbdsrc
    ensure_host_pkgs
    mkdir -p "$GDIR"
    # One build at a time (guests may be started in parallel).
    exec 9>"$GDIR/.lock"
    flock 9
    pkg=$(kernel_pkg)
    ktree=$(kernel_tree "$pkg")
    zbdsrc=$(fio_zbd_tree)
    # Everything the result depends on.
    inputs=$(
        echo "kernel $(cat "$ktree/.done")"
        cat "$zbdsrc/.done"
        dpkg-query -W -f='${Package} ${Version}\n' busybox-static util-linux \
            libzbd-dev fio bash grep btrfs-progs 2>/dev/null || true
        echo "modules ${MODULES[*]}"
        for m in "${!MODPARAMS[@]}"; do echo "param $m ${MODPARAMS[$m]}"; done | sort
        (cd "$HERE" && sha256sum build-initramfs.sh init src/zbdconf.c src/tsckhz.c)
    )
    if [ "$force" = 1 ] || [ "$(cat "$OUT/inputs" 2>/dev/null)" != "$inputs" ]; then
        log "building guest kernel + initramfs in $OUT"
        build "$ktree" "$zbdsrc"
    fi
    if [ "$print" = 1 ]; then
        echo "KERNEL=$OUT/vmlinuz"
        echo "BASE_CPIO=$OUT/base.cpio"
        echo "FIO_CPIO=$OUT/fio.cpio"
        echo "ZBD_CPIO=$OUT/zbd.cpio"
        echo "BTRFS_CPIO=$OUT/btrfs.cpio"
        echo "TSCKHZ=$OUT/tsckhz"
    fi
}
main
