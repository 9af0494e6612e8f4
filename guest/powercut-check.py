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
import re
import subprocess
import sys

SECTOR = 512
MASK = (1 << 64) - 1


def word(ofs):
    """zbdconf's persistence pattern (io_word() in src/zbdconf.c)"""
    return ((ofs * 0x9e3779b97f4a7c15) & MASK) ^ 0x7a71636f77320000 ^ ofs


def pattern(start, length):
    return b''.join((word(o) & MASK).to_bytes(8, 'little')
                    for o in range(start, start + length, 8))


class Zone:
    """The guest's writes to one sequential zone, per generation (the
    writes since a reset): (start, end, filled with the pattern?)"""

    def __init__(self, number, size, cap):
        self.start = number * size
        self.cap = cap
        self.gen = 0
        self.wp = 0
        self.segs = {0: []}
        self.expected = None

    def put(self, length, data):
        self.segs[self.gen].append((self.wp, self.wp + length, data))
        self.wp += length

    def reset(self):
        if self.wp:
            self.gen += 1
            self.segs[self.gen] = []
            self.wp = 0

    def explains(self, gen, data, wp):
        if self.expected is None:
            self.expected = pattern(self.start, self.cap)
        pos = 0
        for start, end, is_data in self.segs[gen]:
            if start >= wp:
                break
            end = min(end, wp)
            want = (self.expected[start:end] if is_data
                    else bytes(end - start))
            if data[start:end] != want:
                return False
            pos = end
        return pos == wp


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
    from qcow2_zoned_replay import (StateFailure, marker_index, parse_log,
                                    replay)

    info = json.loads(run(qemu_img, 'info', '--output=json', base).stdout)
    zoned = info['format-specific']['data']['zone']
    zsize, cap = zoned['size'], zoned['capacity']
    conv, nr = zoned['conventional-zones'], zoned['nr-zones']
    zones = {z: Zone(z, zsize, cap) for z in range(conv, nr)}

    marks = [{z: (0, 0) for z in zones}]
    ended = False
    with open(console, encoding='utf-8', errors='replace') as f:
        for line in f:
            w = line.split()
            if len(w) < 2 or w[0] != 'ZQ-PC':
                continue
            if w[1] == 'W':
                z, ofs, length = int(w[2]), int(w[3]), int(w[4])
                assert ofs == zones[z].wp, line
                zones[z].put(length, True)
            elif w[1] == 'F' and zones[int(w[2])].wp < cap:
                zones[int(w[2])].put(cap - zones[int(w[2])].wp, False)
            elif w[1] == 'R':
                zones[int(w[2])].reset()
            elif w[1] == 'M':
                assert int(w[2]) == len(marks), line
                marks.append({z: (zone.gen, zone.wp)
                              for z, zone in zones.items()})
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

    def report(path):
        out = run(qemu_io, '-f', 'qcow2', '-r', '-c', 'zrp 0 %d' % nr,
                  path).stdout
        wps = {}
        for m in re.finditer(r'^start: (0x[0-9a-f]+), .* wptr '
                             r'(0x[0-9a-f]+), zcond:(\d+),', out, re.M):
            start = int(m.group(1), 16) * SECTOR
            if start // zsize >= conv:
                wp = int(m.group(2), 16) * SECTOR - start
                wps[start // zsize] = cap if int(m.group(3)) == 14 else wp
        if sorted(wps) != sorted(zones):
            raise StateFailure('no zone report:\n' + out)
        return wps

    def check(k):
        res = run(qemu_img, 'check', '-f', 'qcow2', state)
        if res.returncode not in (0, 3):
            raise StateFailure('qemu-img check:\n' + res.stdout)
        wps = report(state)
        res = run(qemu_img, 'convert', '-f', 'qcow2', '-O', 'raw', state, raw)
        if res.returncode:
            raise StateFailure('qemu-img convert:\n' + res.stdout)
        with open(raw, 'rb') as f:
            disk = f.read()
        issued = marks[min(k + 1, len(marks) - 1)]
        for z, zone in zones.items():
            wp = wps[z]
            data = disk[zone.start:zone.start + zsize]
            if data[wp:] != bytes(zsize - wp):
                raise StateFailure('zone %d: data above the write pointer %d'
                                   % (z, wp))
            first, dwp = marks[k][z]
            if not any(zone.explains(g, data, wp)
                       for g in range(first, issued[z][0] + 1)):
                raise StateFailure('zone %d: the data below the write '
                                   'pointer %d is not what the guest wrote'
                                   % (z, wp))
            if first == issued[z][0] and wp < dwp:
                raise StateFailure('zone %d: write pointer %d made durable '
                                   'by guest flush %d is lost (now %d)' %
                                   (z, dwp, k, wp))

    try:
        checked = replay(entries, base, state, random.Random(int(seed)),
                         int(cuts), done, check)
        with open(state, 'rb') as f, open(image, 'rb') as g:
            if f.read() != g.read():
                raise Failure('the replayed log is not the image')
        wps = report(image)
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
