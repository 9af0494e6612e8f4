#!/usr/bin/env bash
# Write the commits above "base" in build/qemu back to patches/.  The output
# is stable: the From line carries a zero commit id and there is no
# signature, so an unchanged series exports to identical files.
set -euo pipefail
. "$(dirname "$0")/common.sh"

[ -d "$TREE/.git" ] || die "no tree at $TREE (run make tree)"
[ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] ||
    die "$TREE has uncommitted changes; commit them first"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
git -C "$TREE" format-patch -q --zero-commit --no-signature \
    -o "$out" base..HEAD
rm -f "$TOP"/patches/*.patch
(cd "$out" && ls -1 *.patch 2>/dev/null || true) > "$TOP/patches/series"
cp "$out"/*.patch "$TOP/patches/" 2>/dev/null || true
log "exported $(grep -c . "$TOP/patches/series" || true) patches to patches/"
