#!/usr/bin/env python3
"""Power-loss replay of a guest workload (guest/tests.sh qcow2-powercut).

  powercut-check.py QEMU_IMG QEMU_IO IOTESTS_DIR CONSOLE BASE LOG IMAGE
                    STATE_DIR CUTS SEED

CONSOLE is the guest console of scenarios/powercut.sh, BASE the image
before the boot, LOG the blklogwrites log of the boot, IMAGE the image after
it.  Rebuilds the image at every flush and at CUTS random power cuts
(qcow2_zoned_replay from the QEMU tree's iotests) and checks each state:
qemu-img check finds no corruption, the image opens, below each write
pointer is exactly the zbdconf pattern of one generation of the zone's
writes (zeros where a finish filled it), above it zeros, and write pointers
that a completed guest flush made durable are kept.  After the whole log the
write pointers must be the guest's.  Prints "ZQ-PC-REPLAY N states ok".
"""

import json
import random
import subprocess
import sys

SECTOR = 512
MASK = (1 << 64) - 1


def word(ofs):
    """zbdconf's persistence pattern (io_word() in src/zbdconf.c)"""
    return ((ofs * 0x9e3779b97f4a7c15) & MASK) ^ 0x7a71636f77320000 ^ ofs


class Pattern:
    """The zbdconf pattern of one zone, as a ZoneModel content: the bytes
    between two offsets of the zone (made once, when first needed)"""

    def __init__(self, start, length):
        self.start = start
        self.length = length
        self.data = None

    def __call__(self, begin, end):
        if self.data is None:
            self.data = b''.join(word(o).to_bytes(8, 'little')
                                 for o in range(self.start,
                                                self.start + self.length, 8))
        return self.data[begin:end]


class Failure(Exception):
    pass


def run(*args):
    return subprocess.run(args, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, check=False)


def main():
    (qemu_img, qemu_io, iotests, console, base, log, image, state_dir,
     cuts, seed) = sys.argv[1:]
    sys.path.insert(0, iotests)
    # pylint: disable=import-outside-toplevel
    from qcow2_zoned_replay import (StateFailure, ZoneModel,
                                    check_zoned_image, marker_index,
                                    parse_log, replay, snapshot, zone_report)

    info = json.loads(run(qemu_img, 'info', '--output=json', base).stdout)
    zoned = info['format-specific']['data']['zone']
    zsize, cap = zoned['size'], zoned['capacity']
    conv, nr = zoned['conventional-zones'], zoned['nr-zones']
    zones = {z: ZoneModel() for z in range(conv, nr)}
    patterns = {z: Pattern(z * zsize, cap) for z in zones}

    marks = [snapshot(zones)]
    ended = False
    with open(console, encoding='utf-8', errors='replace') as f:
        for line in f:
            w = line.split()
            if len(w) < 2 or w[0] != 'ZQ-PC':
                continue
            if w[1] == 'W':
                z, ofs, length = int(w[2]), int(w[3]), int(w[4])
                assert ofs == zones[z].wp, line
                zones[z].write(length, patterns[z])
            elif w[1] == 'F' and zones[int(w[2])].wp < cap:
                zones[int(w[2])].write(cap - zones[int(w[2])].wp, 0)
            elif w[1] == 'R':
                zones[int(w[2])].reset()
            elif w[1] == 'M':
                assert int(w[2]) == len(marks), line
                marks.append(snapshot(zones))
            elif w[1] == 'END':
                ended = True
    if not ended:
        raise Failure('the guest workload did not end')

    mapping = json.loads(run(qemu_img, 'map', '--output=json', base).stdout)
    host = {}
    for m in mapping:
        if m.get('data') and 'offset' in m:
            for k in range(1, len(marks)):
                if m['start'] <= k * SECTOR < m['start'] + m['length']:
                    host[m['offset'] + k * SECTOR - m['start']] = k
    if len(host) != len(marks) - 1:
        raise Failure('the marker sectors are not allocated in the base')

    entries = parse_log(log)
    done = marker_index(entries, host)
    if set(range(1, len(marks))) - set(done):
        raise Failure('not every marker was found in the log')
    state = state_dir + '/state.qcow2'
    raw = state_dir + '/state.raw'

    def qemu_img_run(*args):
        return run(qemu_img, *args)

    def qemu_io_run(*args):
        return run(qemu_io, *args)

    def check(k):
        check_zoned_image(qemu_img_run, qemu_io_run, state, raw, zones,
                          marks, k, zsize, cap)

    try:
        checked = replay(entries, base, state, random.Random(int(seed)),
                         int(cuts), done, check)
        with open(state, 'rb') as f, open(image, 'rb') as g:
            if f.read() != g.read():
                raise Failure('the replayed log is not the image')
        wps = zone_report(qemu_io_run, image, zones, zsize, cap)
    except StateFailure as e:
        raise Failure(str(e)) from e
    for z, zone in zones.items():
        if wps[z] != zone.wp:
            raise Failure('zone %d: write pointer %d after the guest shut '
                          'down, expected %d' % (z, wps[z], zone.wp))
    print('ZQ-PC-REPLAY %d states ok (%d log entries, %d guest flushes)' %
          (checked, len(entries), len(marks) - 1))


if __name__ == '__main__':
    try:
        main()
    except Failure as e:
        print('ZQ-PC-REPLAY FAILED: %s' % e)
        sys.exit(1)
