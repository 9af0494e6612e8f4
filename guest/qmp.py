#!/usr/bin/env python3
# Send one QMP command to QEMU and print its reply (for guest/run.sh):
#   qmp.py SOCKET JSON
import json
import socket
import sys


def main() -> int:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(60)
    sock.connect(sys.argv[1])
    reader = sock.makefile('r')

    def reply() -> dict:
        while True:
            msg = json.loads(reader.readline())
            if 'return' in msg or 'error' in msg:
                return msg

    json.loads(reader.readline())   # the greeting
    sock.sendall(b'{"execute": "qmp_capabilities"}\n')
    reply()
    sock.sendall(sys.argv[2].encode() + b'\n')
    print(json.dumps(reply()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
