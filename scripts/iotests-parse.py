#!/usr/bin/env python3
"""Turn the output of QEMU's tests/qemu-iotests/check into one line per test.

    iotests-parse.py LOG [BUILD_DIR SRC_DIR]

prints "STATUS<TAB>TEST<TAB>REASON" lines, STATUS being pass, fail or notrun,
in the order the tests finished.  check prints a line per test:

    NAME  STATUS  [start] [end]  TIME  (last: T)  DESCRIPTION

where STATUS is "pass", "fail" or "not run"; without -j the line that
announces a test ("...") is ended by a carriage return, not a newline.
Paths of the build and source directories in a reason are replaced by
BUILD and SRC, and the "(see .../NAME.out.bad)" pointer is dropped, so the
reasons do not depend on where the tree lives.
"""
import re
import sys

LINE = re.compile(
    r'^(?P<name>\S+)\s+(?P<status>pass|fail|not run)\s+'
    r'\[\d\d:\d\d:\d\d\]\s+\[\d\d:\d\d:\d\d\]\s+\S+'
    r'(?:\s+\(last: [^)]*\))?\s*(?P<reason>.*?)\s*$')


def main() -> int:
    log = sys.argv[1]
    subst = []
    if len(sys.argv) > 3:
        # Longest first: the build directory usually lies inside the source.
        subst = sorted([(sys.argv[2], 'BUILD'), (sys.argv[3], 'SRC')],
                       key=lambda p: -len(p[0]))
    with open(log, encoding='utf-8', errors='replace') as f:
        text = f.read()
    seen = {}
    for line in re.split(r'[\r\n]', text):
        m = LINE.match(line)
        if not m:
            continue
        status = m.group('status').replace('not run', 'notrun')
        reason = re.sub(r'\s*\(see [^)]*\)', '', m.group('reason'))
        for path, name in subst:
            if path:
                reason = reason.replace(path, name)
        reason = reason.replace('\t', ' ')
        seen[m.group('name')] = (status, reason)
    for name, (status, reason) in seen.items():
        print(f'{status}\t{name}\t{reason}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
