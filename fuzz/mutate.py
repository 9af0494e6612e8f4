#!/usr/bin/env python3
"""Structure-aware mutational fuzzer for zoned qcow2 images.

The fallback (and complement) of the AFL++ harness: it knows the layout of
the qcow2 header, the zoned header extension and the write-pointer table,
and mutates their fields with values chosen to sit on the edges of what
qcow2_zoned_check_geometry() and zoned_load_table() accept.  A fixed
--seed makes a run reproducible.

Oracles, besides a sanitizer report, an assert or a signal:
  - a hang (timeout) or an allocation above 256 MiB (ASan limit);
  - io target: a zone report that contradicts the geometry, a failed
    pattern check of data written in the same run, or an image that
    "qemu-img check" passed before the operations and fails after them.

    mutate.py --target io --duration 600 --seed 1 --fuzz-build DIR \
        --seeds DIR --out DIR
"""

import argparse
import hashlib
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

ZONED_MAGIC = 0x007A6264
EXT_LEN = 56
# Bytes of one write-pointer table entry
ENTRY = 32
MAX_ZONES = 1 << 22
MAX_ZONE_SIZE = 1 << 40

ASAN = ("abort_on_error=1:detect_leaks=0:allocator_may_return_null=0:"
        "max_allocation_size_mb=256:handle_abort=1:"
        "detect_stack_use_after_return=0")
UBSAN = "halt_on_error=1:abort_on_error=1:print_stacktrace=1"

CRASH_RE = re.compile(r"ERROR: AddressSanitizer|runtime error:|"
                      r"Assertion .* failed|\*\*ERROR\*\*|"
                      r"ERROR: LeakSanitizer|requested allocation size|"
                      r"code should not be reached|Segmentation fault")


def crash_signature(out):
    """The first sanitizer line, without addresses, and the first frames
    in QEMU's code: what tells one crash from another"""
    head = ""
    for line in out.splitlines():
        if CRASH_RE.search(line):
            head = re.sub(r"0x[0-9a-f]+|==\d+==|\(.*?\)", "", line).strip()
            break
    frames = re.findall(r"#\d+ 0x[0-9a-f]+ in (\S+)", out)
    frames = [f for f in frames if not f.startswith("__")][:4]
    return head[:120], frames


class Image:
    """The fields of a qcow2 image that the mutations touch."""

    def __init__(self, data):
        self.data = bytearray(data)
        d = self.data
        self.cluster_bits = struct.unpack(">I", d[20:24])[0]
        self.cluster = 1 << self.cluster_bits
        self.size = struct.unpack(">Q", d[24:32])[0]
        self.l1_size = struct.unpack(">I", d[36:40])[0]
        self.l1_off = struct.unpack(">Q", d[40:48])[0]
        self.rt_off = struct.unpack(">Q", d[48:56])[0]
        self.rt_clusters = struct.unpack(">I", d[56:60])[0]
        self.hdr_len = struct.unpack(">I", d[100:104])[0]
        self.ext = None
        off = self.hdr_len
        while off + 8 <= self.cluster:
            magic, length = struct.unpack(">II", d[off:off + 8])
            if magic == 0:
                break
            if magic == ZONED_MAGIC:
                self.ext = off
            off += 8 + ((length + 7) & ~7)

    # zoned extension fields: name -> (offset in body, struct format)
    FIELDS = {
        "model": (0, ">B"), "zone_size": (8, ">Q"),
        "zone_capacity": (16, ">Q"), "zonedmeta_offset": (24, ">Q"),
        "nr_zones": (32, ">I"), "conventional_zones": (36, ">I"),
        "max_open_zones": (40, ">I"), "max_active_zones": (44, ">I"),
        "max_append_bytes": (48, ">I"), "reserved2": (52, ">I"),
    }

    def get(self, name):
        off, fmt = self.FIELDS[name]
        pos = self.ext + 8 + off
        return struct.unpack(fmt, self.data[pos:pos + struct.calcsize(fmt)])[0]

    def set(self, name, value):
        off, fmt = self.FIELDS[name]
        pos = self.ext + 8 + off
        mask = (1 << (8 * struct.calcsize(fmt))) - 1
        self.data[pos:pos + struct.calcsize(fmt)] = struct.pack(fmt,
                                                                value & mask)

    def set_ext_len(self, length):
        self.data[self.ext + 4:self.ext + 8] = struct.pack(">I", length)

    def incompat(self):
        return struct.unpack(">Q", self.data[72:80])[0]

    def set_incompat(self, v):
        self.data[72:80] = struct.pack(">Q", v)

    def set_size(self, v):
        self.data[24:32] = struct.pack(">Q", v & (2 ** 64 - 1))

    def wp_off(self):
        return self.get("zonedmeta_offset")

    def nr_zones(self):
        return self.get("nr_zones")

    def wp(self, i):
        pos = self.wp_off() + ENTRY * i
        if pos + 8 > len(self.data):
            return None
        return struct.unpack(">Q", self.data[pos:pos + 8])[0]

    def set_wp(self, i, v, verified=None, check=0):
        """Entry @i: write pointer @v, verified (default: @v), check"""
        pos = self.wp_off() + ENTRY * i
        if verified is None:
            verified = v
        if pos + 24 <= len(self.data):
            self.data[pos:pos + 24] = struct.pack(
                ">QQQ", v & (2 ** 64 - 1), verified & (2 ** 64 - 1),
                check & (2 ** 64 - 1))

    def metadata_offsets(self):
        """Cluster offsets of L1, L2, refcount table and blocks."""
        d = self.data
        offs = {self.l1_off, self.rt_off}
        for i in range(self.l1_size):
            p = self.l1_off + 8 * i
            if p + 8 <= len(d):
                e = struct.unpack(">Q", d[p:p + 8])[0] & 0x00fffffffffffe00
                if e:
                    offs.add(e)
        for i in range(self.rt_clusters * self.cluster // 8):
            p = self.rt_off + 8 * i
            if p + 8 <= len(d):
                e = struct.unpack(">Q", d[p:p + 8])[0] & ~0x1ff
                if e:
                    offs.add(e)
        return sorted(o for o in offs if o)


def interesting64(img, rng):
    c = img.cluster
    cap = img.get("zone_capacity")
    zs = img.get("zone_size")
    return rng.choice([
        0, 1, 511, 512, 513, c - 1, c, c + 512, cap, cap - 512, cap + 512,
        zs, zs - 512, zs + 512, zs * 2, zs // 2, 1 << 32, MAX_ZONE_SIZE,
        MAX_ZONE_SIZE * 2, 1 << 62, 1 << 63, 2 ** 64 - 1, 2 ** 64 - 512,
        rng.randrange(0, 2 ** 64), rng.randrange(0, max(cap, 1) + 1) & ~511,
    ])


def interesting32(img, rng):
    nr = img.get("nr_zones")
    return rng.choice([0, 1, 2, 3, nr - 1, nr, nr + 1, MAX_ZONES,
                       MAX_ZONES + 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1,
                       rng.randrange(0, 2 ** 32), rng.randrange(0, nr + 2)])


# Each mutation changes the image in place; returns a short description.

def m_ext_field(img, rng):
    name = rng.choice(list(Image.FIELDS))
    if name in ("zone_size", "zone_capacity", "zonedmeta_offset"):
        v = interesting64(img, rng)
    elif name == "model":
        v = rng.choice([0, 2, 0xff])
    elif name == "max_append_bytes":
        v = rng.choice([0, 1, 512, img.get("zone_capacity"),
                        img.get("zone_capacity") + 512, 2 ** 32 - 1,
                        2 ** 32 - 512])
    else:
        v = interesting32(img, rng)
    img.set(name, v)
    return "%s=%#x" % (name, v)


def m_geometry(img, rng):
    """A different geometry that passes the checks, with the table kept."""
    c = img.cluster
    nr_old = img.nr_zones()
    for _ in range(20):
        zs = c << rng.randrange(0, 5)
        # The L1 table was sized for the old virtual size: stay below it
        if img.size // zs < 1:
            continue
        nr = rng.randrange(1, min(img.size // zs, nr_old * 4) + 1)
        cap = rng.randrange(1, zs // 512 + 1) * 512
        conv = rng.randrange(0, nr)
        seq = nr - conv
        mact = rng.choice([0, rng.randrange(0, seq + 1)])
        mopen = rng.choice([0, rng.randrange(0, (mact or seq) + 1)])
        mapp = rng.randrange(1, cap // 512 + 1) * 512
        img.set("zone_size", zs)
        img.set("zone_capacity", cap)
        img.set("nr_zones", nr)
        img.set("conventional_zones", conv)
        img.set("max_open_zones", mopen)
        img.set("max_active_zones", mact)
        img.set("max_append_bytes", mapp)
        img.set_size(nr * zs)
        if rng.random() < 0.6:
            # Keep the entries valid for the new geometry
            for i in range(nr):
                old = img.wp(i)
                if old is None:
                    break
                img.set_wp(i, 0 if i < conv else min(old, cap) & ~511)
        return "geometry zs=%d cap=%d nr=%d conv=%d open=%d act=%d app=%d" % (
            zs, cap, nr, conv, mopen, mact, mapp)
    return "geometry unchanged"


def m_size(img, rng):
    zs = img.get("zone_size")
    v = rng.choice([0, img.size + 512, img.size - zs, img.size + zs,
                    img.size * 2, zs * (MAX_ZONES + 1), 2 ** 63, 2 ** 64 - 512])
    img.set_size(v)
    return "size=%#x" % (v & (2 ** 64 - 1))


def m_wp(img, rng):
    nr = img.nr_zones()
    if nr == 0 or nr > 4096:
        return m_ext_field(img, rng)
    descs = []
    for _ in range(rng.randrange(1, 4)):
        i = rng.randrange(0, nr)
        v = interesting64(img, rng)
        img.set_wp(i, v)
        descs.append("wp[%d]=%#x" % (i, v))
    return " ".join(descs)


def m_unverified(img, rng):
    """Entries to verify at open: the verified write pointer below the write
    pointer (the data may or may not add up), above it, or unaligned."""
    nr = img.nr_zones()
    conv = img.get("conventional_zones")
    cap = img.get("zone_capacity")
    if nr > 4096 or nr <= conv or cap < 1024:
        return m_wp(img, rng)
    descs = []
    for _ in range(rng.randrange(1, 4)):
        i = rng.randrange(conv, nr)
        v = rng.randrange(1, cap // 512 + 1) * 512
        verified = rng.choice([0, rng.randrange(0, v // 512) * 512, v + 512,
                               v - 100, interesting64(img, rng)])
        check = rng.choice([0, rng.randrange(0, 2 ** 64)])
        img.set_wp(i, v, verified, check)
        descs.append("entry[%d]=%#x/%#x/%#x" % (i, v, verified, check))
    return " ".join(descs)


def m_wp_valid_many(img, rng):
    """Valid entries, but more closed zones than max_active_zones allows."""
    nr = img.nr_zones()
    conv = img.get("conventional_zones")
    cap = img.get("zone_capacity")
    if nr > 4096 or cap < 1024:
        return m_wp(img, rng)
    n = 0
    for i in range(conv, nr):
        if rng.random() < 0.8:
            img.set_wp(i, rng.randrange(1, cap // 512) * 512)
            n += 1
    return "closed zones %d (max_active %d)" % (n, img.get("max_active_zones"))


def m_table_offset(img, rng):
    """Move the table onto other metadata, a data cluster or past the end."""
    c = img.cluster
    choices = img.metadata_offsets() + [
        len(img.data) - c, len(img.data), (len(img.data) + c - 1) // c * c,
        c, 2 * c, img.wp_off() + c, img.wp_off() - c, img.wp_off() + 512]
    v = rng.choice(choices)
    if rng.random() < 0.3:
        # Copy the table there first, so that the entries stay plausible
        nr = min(img.nr_zones(), 4096)
        tab = bytes(img.data[img.wp_off():img.wp_off() + ENTRY * nr])
        if v + len(tab) > len(img.data):
            img.data += bytes(v + len(tab) - len(img.data))
        img.data[v:v + len(tab)] = tab
    img.set("zonedmeta_offset", v)
    return "zonedmeta_offset=%#x" % v


def m_ext_len(img, rng):
    v = rng.choice([0, 8, EXT_LEN - 1, EXT_LEN + 1, EXT_LEN + 8, 64,
                    img.cluster, 2 ** 32 - 1])
    img.set_ext_len(v)
    if v > EXT_LEN and rng.random() < 0.5:
        p = img.ext + 8 + EXT_LEN
        if p < len(img.data):
            img.data[p] = rng.randrange(1, 256)
    return "ext_len=%d" % v


def m_reserved(img, rng):
    p = img.ext + 8 + rng.choice([1, 4, 7, 52, 55])
    img.data[p] = rng.randrange(1, 256)
    return "reserved byte @%#x" % p


def m_incompat(img, rng):
    bit = rng.choice([0, 1, 2, 3, 4, 5, 6, 63])
    v = img.incompat() ^ (1 << bit)
    img.set_incompat(v)
    return "incompat=%#x" % v


def m_version(img, rng):
    img.data[4:8] = struct.pack(">I", 2)
    return "version=2"


def m_dup_ext(img, rng):
    """A second zoned extension, after the first."""
    start = img.ext
    body = bytes(img.data[start:start + 8 + EXT_LEN])
    end = img.hdr_len
    while end + 8 <= img.cluster:
        magic, length = struct.unpack(">II", img.data[end:end + 8])
        if magic == 0:
            break
        end += 8 + ((length + 7) & ~7)
    if end + len(body) + 8 <= img.cluster:
        img.data[end:end + len(body)] = body
        img.data[end + len(body):end + len(body) + 8] = bytes(8)
    return "duplicate extension"


def m_bytes(img, rng):
    """Plain byte flips in the extension or the table."""
    if rng.random() < 0.5:
        lo, hi = img.ext, img.ext + 8 + EXT_LEN
    else:
        lo = img.wp_off()
        hi = lo + ENTRY * min(img.nr_zones(), 512)
    hi = min(hi, len(img.data))
    if hi <= lo:
        return "no flip"
    for _ in range(rng.randrange(1, 5)):
        p = rng.randrange(lo, hi)
        img.data[p] ^= 1 << rng.randrange(8)
    return "byte flips in [%#x, %#x)" % (lo, hi)


MUTATIONS = [
    (m_ext_field, 10), (m_geometry, 6), (m_size, 3), (m_wp, 10),
    (m_wp_valid_many, 3), (m_unverified, 4), (m_table_offset, 5), (m_ext_len, 3),
    (m_reserved, 1), (m_incompat, 2), (m_version, 1), (m_dup_ext, 1),
    (m_bytes, 5),
]


def mutate(data, rng):
    img = Image(data)
    if img.ext is None:
        return bytes(data), ["no zoned extension"]
    descs = []
    if rng.random() < 0.15:
        return bytes(data), ["none"]
    funcs = [f for f, _ in MUTATIONS]
    weights = [w for _, w in MUTATIONS]
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        descs.append(rng.choices(funcs, weights)[0](img, rng))
    return bytes(img.data), descs


def io_commands(img, rng):
    """Zone operations that fit the (mutated) geometry of @img."""
    zs = img.get("zone_size")
    cap = img.get("zone_capacity")
    nr = img.nr_zones()
    conv = img.get("conventional_zones")
    if not zs or zs > 1 << 30 or nr == 0 or nr > 1 << 16:
        return ["zrp 0 64", "read 0 4k"]
    cmds = ["zrp 0 %d" % min(nr, 64)]
    written = []
    for _ in range(rng.randrange(3, 10)):
        z = rng.randrange(0, nr)
        start = z * zs
        op = rng.choice(["write", "zap", "zo", "zc", "zf", "zrs", "read",
                         "writez", "discard", "flush", "zrsall", "wconv"])
        n = rng.choice([512, 1024, min(cap, 4096)])
        if op == "write":
            wp = img.wp(z) if z >= conv else 0
            if wp is None or wp > cap:
                wp = 0
            pat = rng.randrange(1, 256)
            cmds.append("write -P %d %d %d" % (pat, start + wp, n))
            written.append((pat, start + wp, n, z))
        elif op == "zap":
            cmds.append("zap -p %d %d" % (start, n))
        elif op in ("zo", "zc", "zf", "zrs"):
            cmds.append("%s %d %d" % (op, start, zs))
        elif op == "read":
            cmds.append("read %d %d" % (start, min(zs, 1 << 20)))
        elif op == "writez":
            cmds.append("write -z %d %d" % (start, n))
        elif op == "discard":
            cmds.append("discard %d %d" % (start, n))
        elif op == "zrsall":
            cmds.append("zrs 0 %d" % (nr * zs))
            written = []
        elif op == "wconv" and conv:
            pat = rng.randrange(1, 256)
            cmds.append("write -P %d %d %d" % (pat, start % (conv * zs), n))
        else:
            cmds.append("flush")
    cmds.append("zrp 0 %d" % min(nr, 64))
    return cmds


ZRP_RE = re.compile(r"start: 0x([0-9a-f]+), len 0x([0-9a-f]+), cap 0x"
                    r"([0-9a-f]+), wptr 0x([0-9a-f]+), zcond:(\d+), "
                    r"\[type: (\d+)\]")


def zrp_problems(out):
    """Zone report lines that contradict themselves."""
    bad = []
    for m in ZRP_RE.finditer(out):
        start, length, cap, wp = (int(m.group(i), 16) for i in range(1, 5))
        cond, typ = int(m.group(5)), int(m.group(6))
        if cap > length or wp < start or wp > start + length:
            bad.append(m.group(0))
        if typ == 2 and cond == 1 and wp != start:
            bad.append(m.group(0) + " (empty zone with wp != start)")
    return bad


class Fuzzer:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.qimg = os.path.join(args.fuzz_build, "qemu-img")
        self.qio = os.path.join(args.fuzz_build, "qemu-io")
        self.out = args.out
        self.crashdir = os.path.join(self.out, "crashes")
        self.hangdir = os.path.join(self.out, "hangs")
        for d in (self.crashdir, self.hangdir):
            os.makedirs(d, exist_ok=True)
        self.env = dict(os.environ, ASAN_OPTIONS=ASAN, UBSAN_OPTIONS=UBSAN)
        sym = shutil.which("llvm-symbolizer") or \
            shutil.which("llvm-symbolizer-14")
        if sym:
            self.env["ASAN_SYMBOLIZER_PATH"] = sym
        self.seeds = []
        for n in sorted(os.listdir(args.seeds)):
            with open(os.path.join(args.seeds, n), "rb") as f:
                self.seeds.append(f.read())
        self.execs = 0
        self.crashes = {}
        self.hangs = {}
        self.tmp = tempfile.mkdtemp(prefix="zq-fuzz-")
        self.outcomes = {}
        self.opened = 0

    def run(self, cmd):
        self.execs += 1
        try:
            r = subprocess.run(cmd, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=self.env,
                               timeout=self.args.timeout)
            return r.returncode, r.stdout.decode("utf-8", "replace")
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode("utf-8", "replace") if e.stdout else ""
            return None, out

    def target_cmd(self, path, cmds):
        t = self.args.target
        if t == "check":
            return [self.qimg, "check", "-f", "qcow2", path]
        if t == "repair":
            return [self.qimg, "check", "-r", "all", "-f", "qcow2", path]
        if t == "info":
            return [self.qimg, "info", "-f", "qcow2", path]
        io = [self.qio, "-f", "qcow2"]
        for c in cmds:
            io += ["-c", c]
        return io + [path]

    def record(self, kind, key, data, cmd, out, descs):
        table = self.crashes if kind == "crash" else self.hangs
        if key in table:
            return
        table[key] = True
        n = len(table)
        d = self.crashdir if kind == "crash" else self.hangdir
        base = os.path.join(d, "%s-%d" % (self.args.target, n))
        with open(base + ".qcow2", "wb") as f:
            f.write(data)
        with open(base + ".txt", "w") as f:
            f.write("key: %s\nmutations: %s\ncommand: %s\n\n%s\n" % (
                key, "; ".join(descs), " ".join(
                    "'%s'" % a if " " in a else a for a in cmd), out))
        print("[%s] %s %s: %s" % (time.strftime("%H:%M:%S"), kind, base,
                                  key), flush=True)

    @staticmethod
    def crash_key(out):
        head, frames = crash_signature(out)
        return (head + " @ " + "/".join(frames)).strip()

    def one(self, data, descs):
        path = os.path.join(self.tmp, "img.qcow2")
        with open(path, "wb") as f:
            f.write(data)
        img = Image(data)
        cmds = io_commands(img, self.rng) if (self.args.target == "io" and
                                              img.ext is not None) else []
        clean_before = False
        if self.args.target == "io":
            rc, out = self.run([self.qimg, "check", "-f", "qcow2", path])
            if rc is not None and (rc < 0 or CRASH_RE.search(out)):
                self.record("crash", "check: " + self.crash_key(out), data,
                            [self.qimg, "check", "-f", "qcow2", "IMG"], out,
                            descs)
                return
            clean_before = rc == 0
        cmd = self.target_cmd(path, cmds)
        rc, out = self.run(cmd)
        shown = [a if a != path else "IMG" for a in cmd]
        if rc is None:
            self.record("hang", "timeout %s" % " ".join(descs)[:80], data,
                        shown, out, descs)
            return
        self.outcomes[rc] = self.outcomes.get(rc, 0) + 1
        if rc < 0 or rc == 134 or CRASH_RE.search(out):
            self.record("crash", self.crash_key(out) or "signal %d" % rc,
                        data, shown, out, descs)
            return
        if self.args.target != "io":
            return
        if "start: 0x" in out:
            self.opened += 1
        bad = zrp_problems(out)
        if bad:
            self.record("crash", "zone report: " + bad[0][:60], data, shown,
                        out, descs)
        if "Pattern verification failed" in out:
            self.record("crash", "pattern verification failed", data, shown,
                        out, descs)
        if clean_before:
            rc2, out2 = self.run([self.qimg, "check", "-f", "qcow2", path])
            if rc2 not in (0,):
                msg = [l for l in out2.splitlines() if "ERROR" in l or
                       "Leaked" in l or "corrupt" in l.lower()]
                self.record("crash", "check after io: %s" % (
                    re.sub(r"\d+", "N", msg[0]) if msg else "rc %s" % rc2),
                    data, shown, out + "\n--- qemu-img check after ---\n" +
                    out2, descs)

    def loop(self):
        end = time.time() + self.args.duration
        last = 0
        while time.time() < end:
            data = self.rng.choice(self.seeds)
            data, descs = mutate(data, self.rng)
            self.one(data, descs)
            if time.time() - last > 30:
                last = time.time()
                self.write_stats()
        self.write_stats()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write_stats(self):
        with open(os.path.join(self.out, "stats"), "w") as f:
            f.write("execs_done : %d\nsaved_crashes : %d\nsaved_hangs : %d\n"
                    "exit_codes : %s\nio_opened : %d\n" % (
                        self.execs, len(self.crashes), len(self.hangs),
                        self.outcomes, self.opened))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True,
                    choices=["check", "repair", "info", "io"])
    ap.add_argument("--duration", type=float, default=600)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--fuzz-build", required=True)
    ap.add_argument("--seeds", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    Fuzzer(args).loop()


if __name__ == "__main__":
    sys.exit(main())
