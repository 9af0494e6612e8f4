#!/usr/bin/env bash
# Make build/qemu: the pinned base as one commit (tag "base") with the
# series from patches/ applied on top by git am.
#   tree.sh          create the tree if it does not exist yet
#   tree.sh --force  throw the tree away and make it again
#   tree.sh --base   only the base (no patches), e.g. for the regression run
# QEMU_SRC=/path/to/qemu-10.0.x (tree or tarball) replaces the Debian source.
set -euo pipefail
. "$(dirname "$0")/common.sh"

force=0 base_only=0
for a in "$@"; do
    case $a in
    --force) force=1 ;;
    --base) base_only=1 ;;
    *) die "unknown argument $a" ;;
    esac
done

if [ -d "$TREE/.git" ] && [ $force = 0 ]; then
    log "$TREE exists (use --force to make it again)"
    exit 0
fi
if [ -d "$TREE/.git" ] && [ -n "$(git -C "$TREE" status --porcelain --untracked-files=no)" ]; then
    die "$TREE has uncommitted changes; commit and export them first"
fi

rm -rf "$TREE"
mkdir -p "$(dirname "$TREE")"
stage=$(mktemp -d "$(dirname "$TREE")/.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT

if [ -n "${QEMU_SRC:-}" ]; then
    if [ -d "$QEMU_SRC" ]; then
        log "copying QEMU tree $QEMU_SRC"
        (cd "$QEMU_SRC" && git ls-files -z 2>/dev/null || find . -path ./build -prune -o -path ./.git -prune -o -type f -print0) |
            (cd "$QEMU_SRC" && tar --null -T - -cf -) | (mkdir -p "$stage/q" && tar -C "$stage/q" -xf -)
    elif [ -f "$QEMU_SRC" ]; then
        log "unpacking $QEMU_SRC"
        mkdir -p "$stage/q"
        tar -C "$stage/q" --strip-components=1 -xf "$QEMU_SRC"
    else
        die "QEMU_SRC=$QEMU_SRC is neither a directory nor a file"
    fi
    ver=$(cat "$stage/q/VERSION")
    case $ver in
    "$UPSTREAM_SERIES".*) ;;
    *) die "QEMU_SRC is QEMU $ver; the series is for $UPSTREAM_SERIES.x" ;;
    esac
    msg="base: QEMU $ver (from QEMU_SRC)"
else
    srcdir=$("$TOP/scripts/fetch-base.sh")
    log "unpacking $DEB_SOURCE $DEB_VERSION with dpkg-source -x"
    dpkg-source --no-check -x "$srcdir/${DEB_SOURCE}_${DEB_VERSION#*:}.dsc" \
        "$stage/q" >/dev/null
    rm -rf "$stage/q/debian" "$stage/q/.pc"
    msg="base: QEMU $(cat "$stage/q/VERSION") (Debian $DEB_SOURCE $DEB_VERSION)"
fi

mv "$stage/q" "$TREE"
cd "$TREE"
export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
zgit init -q -b master .
git config user.name "$IDENT_NAME"
git config user.email "$IDENT_EMAIL"
zgit add -f -A .
zgit commit -q -m "$msg"
zgit tag base
unset GIT_AUTHOR_DATE GIT_COMMITTER_DATE
log "base commit $(git rev-parse --short HEAD): $msg"

if [ $base_only = 0 ]; then
    n=0
    while read -r p; do
        case $p in ''|'#'*) continue ;; esac
        zgit am -q --committer-date-is-author-date "$TOP/patches/$p" ||
            die "patch $p does not apply (see git am --show-current-patch in $TREE)"
        n=$((n + 1))
    done < "$TOP/patches/series"
    log "applied $n patches"
fi
