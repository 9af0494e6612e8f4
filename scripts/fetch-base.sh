#!/usr/bin/env bash
# Download the pinned QEMU base with apt-get source through the private apt
# configuration, check the orig tarball's sha256 and keep it in the cache.
# Prints the directory holding the .dsc and tarballs.
set -euo pipefail
. "$(dirname "$0")/common.sh"

SRCDIR=$CACHE/src/$DEB_SOURCE-${DEB_VERSION#*:}
ver=${DEB_VERSION#*:}
dsc=$SRCDIR/${DEB_SOURCE}_${ver}.dsc

verify() {
    local sum
    sum=$(sha256sum "$SRCDIR/$ORIG_TARBALL" | cut -d' ' -f1)
    [ "$sum" = "$ORIG_SHA256" ] ||
        die "$ORIG_TARBALL: sha256 $sum, expected $ORIG_SHA256"
}

if [ -f "$dsc" ] && [ -f "$SRCDIR/$ORIG_TARBALL" ]; then
    verify
    echo "$SRCDIR"
    exit 0
fi

command -v dpkg-source >/dev/null || as_root apt-get install -y -q dpkg-dev >&2
apt_private_update
mkdir -p "$SRCDIR"
log "fetching $DEB_SOURCE=$DEB_VERSION"
(cd "$SRCDIR" && apt-get -q "${APT_OPTS[@]}" source --download-only \
    "$DEB_SOURCE=$DEB_VERSION" >&2) || die "apt-get source failed"
verify
echo "$SRCDIR"
