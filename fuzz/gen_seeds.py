#!/usr/bin/env python3
"""Make the seed corpus of the zoned qcow2 fuzz harness.

Small zoned images (cluster size 512 to 2048, so a few KB each) in several
geometries, with zones left empty, closed, full and finished, so that the
write-pointer table holds every kind of entry.  A few seeds also have header
fields changed by hand (dirty bit, a longer extension with zero padding) to
reach open paths that qemu-img create never produces.

    gen_seeds.py --qemu-img PATH --qemu-io PATH OUTDIR
"""

import argparse
import os
import struct
import subprocess
import sys

ZONED_MAGIC = 0x007A6264
INCOMPAT_DIRTY = 1 << 0

# name, cluster, size, zone options, qemu-io commands run after create
SEEDS = [
    ("basic", 512, "32k",
     "zone.size=4k,zone.capacity=3k,zone.conventional_zones=1,"
     "zone.max_open_zones=2,zone.max_active_zones=3",
     ["write -P 0x11 0 4k", "write -P 0x22 4k 1k", "zap -p 8k 512",
      "zf 12k 4k", "write -P 0x33 16k 3k", "flush"]),
    ("nolimits", 512, "16k",
     "zone.size=4k,zone.conventional_zones=0",
     ["write -P 0x44 0 4k", "zap -p 4k 2k", "zap -p 4k 512", "flush"]),
    ("manyzones", 512, "64k",
     "zone.size=2k,zone.capacity=1536,zone.conventional_zones=3,"
     "zone.max_open_zones=4,zone.max_active_zones=4,"
     "zone.max_append_bytes=1k",
     ["write -P 0x55 6k 512", "write -P 0x56 8k 1536", "zo 10k 2k",
      "zc 10k 2k", "write -P 0x57 12k 1k", "zf 14k 2k", "flush"]),
    ("bigzone", 1024, "64k",
     "zone.size=16k,zone.capacity=12k,zone.conventional_zones=1,"
     "zone.max_open_zones=1",
     ["write -P 0x66 16k 8k", "zap -p 32k 4k", "zrs 32k 16k", "flush"]),
    ("clusterzone", 2048, "16k",
     "zone.size=2k,zone.conventional_zones=2,zone.max_active_zones=2",
     ["write -P 0x77 0 2k", "write -P 0x78 4k 1k", "zf 6k 2k", "flush"]),
    ("empty", 512, "8k",
     "zone.size=1k,zone.capacity=512,zone.conventional_zones=1", []),
    ("refbits1", 512, "16k",
     "zone.size=4k,zone.max_open_zones=1,zone.max_active_zones=1",
     ["write -P 0x88 0 2k", "flush"]),
]


def run(cmd):
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    if res.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), res.stdout))
    return res.stdout


def find_ext(data):
    """Offset and length of the body of the zoned header extension."""
    hdr_len = struct.unpack(">I", data[100:104])[0]
    off = hdr_len
    while off + 8 <= len(data):
        magic, length = struct.unpack(">II", data[off:off + 8])
        if magic == 0:
            break
        if magic == ZONED_MAGIC:
            return off + 8, length
        off += 8 + ((length + 7) & ~7)
    return None, None


def set_dirty(path):
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        incompat = struct.unpack(">Q", data[72:80])[0] | INCOMPAT_DIRTY
        data[72:80] = struct.pack(">Q", incompat)
        f.seek(0)
        f.write(data)


def pad_ext(path, extra):
    """Make the zoned extension @extra bytes longer (zero tail)."""
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        body, length = find_ext(data)
        start = body - 8
        # Everything after the extension moves down: only other header
        # extensions and the end marker live there, within cluster 0.
        aligned = (length + 7) & ~7
        rest_start = body + aligned
        hdr_len = struct.unpack(">I", data[100:104])[0]
        cluster_bits = struct.unpack(">I", data[20:24])[0]
        end = 1 << cluster_bits
        rest = bytes(data[rest_start:end])
        new_len = length + extra
        new = struct.pack(">II", ZONED_MAGIC, new_len) + \
            bytes(data[body:body + length]) + bytes((new_len + 7 & ~7) - length)
        blob = (new + rest)[:end - start]
        data[start:end] = blob + bytes(end - start - len(blob))
        assert hdr_len <= start
        f.seek(0)
        f.write(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu-img", required=True)
    ap.add_argument("--qemu-io", required=True)
    ap.add_argument("outdir")
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)

    made = []
    for name, cluster, size, zopts, cmds in SEEDS:
        path = os.path.join(args.outdir, name + ".qcow2")
        if os.path.exists(path):
            os.unlink(path)
        opts = "cluster_size=%d,zone.mode=host-managed,%s" % (cluster, zopts)
        if name == "refbits1":
            opts += ",refcount_bits=1"
        run([args.qemu_img, "create", "-q", "-f", "qcow2", "-o", opts,
             path, size])
        if cmds:
            io = [args.qemu_io, "-f", "qcow2"]
            for c in cmds:
                io += ["-c", c]
            run(io + [path])
        run([args.qemu_img, "check", "-q", path])
        made.append(path)

    # Variants that qemu-img create does not make
    base = os.path.join(args.outdir, "basic.qcow2")
    with open(base, "rb") as f:
        data = f.read()
    dirty = os.path.join(args.outdir, "dirty.qcow2")
    with open(dirty, "wb") as f:
        f.write(data)
    set_dirty(dirty)
    made.append(dirty)
    longer = os.path.join(args.outdir, "longext.qcow2")
    with open(longer, "wb") as f:
        f.write(data)
    pad_ext(longer, 16)
    run([args.qemu_img, "check", "-q", longer])
    made.append(longer)

    for p in made:
        print("%6d %s" % (os.path.getsize(p), p))


if __name__ == "__main__":
    main()
