#!/usr/bin/env python3
"""Group the crashes and hangs of a fuzz run by their sanitizer report.

Reruns every saved input of the given AFL++ or mutate.py output
directories with the sanitizer build (symbolized) and with the normal
build, and prints one line per distinct report: the count, the first
sanitizer line, the top frames, whether the normal build fails too, and
one example input.

    triage.py --fuzz-build DIR --build DIR --target check OUTDIR...
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mutate import ASAN, UBSAN, crash_signature  # noqa: E402

IO_CMDS = ["zrp 0 64", "write -P 0xa5 4k 512", "zap -p 8k 512",
           "zo 12k 4k", "write -P 0x5a 12k 1k", "zc 12k 4k", "zf 16k 4k",
           "write -z 20k 512", "flush", "read -P 0xa5 4k 512", "read 0 32k",
           "zrs 8k 4k", "zrp 0 64", "discard 0 4k", "zrs 0 32k", "zrp 0 64"]


def command(build, target, path):
    if target == "check":
        return [os.path.join(build, "qemu-img"), "check", "-f", "qcow2", path]
    if target == "repair":
        return [os.path.join(build, "qemu-img"), "check", "-r", "all", "-f",
                "qcow2", path]
    if target == "info":
        return [os.path.join(build, "qemu-img"), "info", "-f", "qcow2", path]
    cmd = [os.path.join(build, "qemu-io"), "-f", "qcow2"]
    for c in IO_CMDS:
        cmd += ["-c", c]
    return cmd + [path]


def run(cmd, env, timeout):
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, env=env, timeout=timeout)
        return r.returncode, r.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return None, "timeout"


def key_of(rc, out):
    if rc is None:
        return "timeout"
    head, frames = crash_signature(out)
    if not head and rc >= 0 and rc != 134:
        return None
    return (head or "signal %d" % -rc) + " @ " + "/".join(frames)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fuzz-build", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()

    env = dict(os.environ, ASAN_OPTIONS=ASAN, UBSAN_OPTIONS=UBSAN)
    sym = shutil.which("llvm-symbolizer") or shutil.which("llvm-symbolizer-14")
    if sym:
        env["ASAN_SYMBOLIZER_PATH"] = sym
    inputs = []
    for d in args.dirs:
        for sub in ("default/crashes/id*", "default/hangs/id*",
                    "crashes/*.qcow2", "hangs/*.qcow2"):
            inputs += sorted(glob.glob(os.path.join(d, sub)))
    groups = {}
    tmp = tempfile.mkdtemp(prefix="zq-triage-")
    path = os.path.join(tmp, "img.qcow2")
    for inp in inputs:
        shutil.copyfile(inp, path)
        rc, out = run(command(args.fuzz_build, args.target, path), env,
                      args.timeout)
        key = key_of(rc, out) or "no longer reproduces (rc %s)" % rc
        shutil.copyfile(inp, path)
        nrc, _ = run(command(args.build, args.target, path),
                     dict(os.environ), args.timeout)
        normal = "timeout" if nrc is None else \
            ("signal %d" % -nrc if nrc < 0 else "rc %d" % nrc)
        g = groups.setdefault(key, {"n": 0, "normal": set(), "ex": inp})
        g["n"] += 1
        g["normal"].add(normal)
        print("%s: %s | normal %s" % (os.path.basename(inp), key, normal),
              flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    for key, g in sorted(groups.items(), key=lambda kv: -kv[1]["n"]):
        print("%3d  %s\n     normal build: %s\n     e.g. %s" % (
            g["n"], key, ", ".join(sorted(g["normal"])), g["ex"]))


if __name__ == "__main__":
    main()
