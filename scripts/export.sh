#!/usr/bin/env bash
# Write the commits above "base" in build/qemu back to patches/, with the
# cover letter 0000-cover-letter.patch made from patches/cover-letter.txt
# (its first line is the subject, the rest the text above the shortlog).
# The output is stable: the From line carries a zero commit id, there is
# no signature, and the cover letter takes the date of the last commit,
# so an unchanged series exports to identical files.
set -euo pipefail
. "$(dirname "$0")/common.sh"

[ -d "$TREE/.git" ] || die "no tree at $TREE (run make tree)"
[ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] ||
    die "$TREE has uncommitted changes; commit them first"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cover_txt=$TOP/patches/cover-letter.txt
[ -f "$cover_txt" ] || die "no $cover_txt"
git -C "$TREE" format-patch -q --zero-commit --no-signature --cover-letter \
    -o "$out" base..HEAD
# The cover letter: subject and text from cover-letter.txt, and a date
# that does not change from one export to the next
python3 - "$out/0000-cover-letter.patch" "$cover_txt" \
    "$(git -C "$TREE" log -1 --format=%aD HEAD)" <<'PY'
import re, sys
path, txt, date = sys.argv[1:4]
subject, _, body = open(txt).read().partition('\n')
letter = open(path).read()
letter = re.sub(r'^Date: .*$', 'Date: ' + date, letter, count=1, flags=re.M)
letter = letter.replace('*** SUBJECT HERE ***', subject.strip(), 1)
letter = letter.replace('*** BLURB HERE ***', body.strip(), 1)
open(path, 'w').write(letter)
PY
rm -f "$TOP"/patches/*.patch
(cd "$out" && ls -1 [0-9]*.patch | grep -v '^0000-cover-letter' || true) \
    > "$TOP/patches/series"
cp "$out"/*.patch "$TOP/patches/" 2>/dev/null || true
log "exported $(grep -c . "$TOP/patches/series" || true) patches to patches/"
