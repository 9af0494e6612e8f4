#!/usr/bin/env bash
# Install what building and testing the series needs, from Debian packages.
# Only missing packages are installed.  meson and python3-pycotap come from
# bookworm-backports through the private apt configuration (/etc/apt is
# never edited).  "deps.sh guest" adds what the guest harness needs.
set -euo pipefail
. "$(dirname "$0")/common.sh"

BUILD_PKGS=(build-essential pkg-config ninja-build python3 python3-venv
    libglib2.0-dev libpixman-1-dev libfdt-dev flex bison libaio-dev
    libzstd-dev zlib1g-dev dpkg-dev git ccache xz-utils)
BPO_PKGS=(meson python3-pycotap)
GUEST_PKGS=(qemu-system-data seabios busybox-static cpio)
GUEST_BPO_PKGS=()

missing() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
            echo "$p"
    done
}

meson_ok() {
    command -v meson >/dev/null &&
        dpkg --compare-versions "$(meson --version)" ge 1.5.0
}

install_pkgs() {
    local target=$1; shift
    [ $# -gt 0 ] || return 0
    apt_private_update
    log "installing $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -y -q "${APT_OPTS[@]}" \
        ${target:+-t "$target"} --no-install-recommends install "$@" >&2
}

main() {
    local want=("${BUILD_PKGS[@]}") bpo=()
    if [ "${1:-}" = guest ]; then
        want+=("${GUEST_PKGS[@]}")
        bpo+=("${GUEST_BPO_PKGS[@]}")
    fi
    mapfile -t want < <(missing "${want[@]}")
    install_pkgs "" "${want[@]}"
    meson_ok || bpo+=(meson)
    mapfile -t more < <(missing python3-pycotap)
    bpo+=("${more[@]}")
    install_pkgs bookworm-backports "${bpo[@]}"
    meson_ok || die "meson >= 1.5 is needed (found $(meson --version 2>&1))"
}
main "$@"
