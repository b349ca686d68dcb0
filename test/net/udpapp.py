#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""A file over UDP, paced, for the network tests.

    udpapp.py serve --port P --out FILE [--bind ADDR] [--timeout S]
        receive datagrams "seq (4) || count (4) || chunk" until all count
        chunks are in, write them to FILE in order and print
        "done BYTES"; exits 1 with "timeout: K of N chunks" when the
        sender goes quiet for S seconds (default 10) first.
    udpapp.py send --host H --port P --in FILE [--chunk N] [--pace-us U]
        send FILE in N-byte chunks (default 1000), one datagram every U
        microseconds (default 300): UDP has no flow control, and the test
        is about what arrives, not how fast.
"""

import argparse
import socket
import struct
import sys
import time


def serve(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((a.bind, a.port))
    s.settimeout(a.timeout)
    chunks, count = {}, None
    while count is None or len(chunks) < count:
        try:
            data = s.recv(65536)
        except socket.timeout:
            print("timeout: %d of %s chunks" % (len(chunks), count))
            return 1
        if len(data) < 8:
            continue
        seq, count = struct.unpack_from("!II", data)
        chunks[seq] = data[8:]
    with open(a.out, "wb") as out:
        for i in range(count):
            out.write(chunks[i])
    print("done %d" % sum(len(c) for c in chunks.values()))
    return 0


def send(a):
    with open(a.infile, "rb") as f:
        blob = f.read()
    parts = [blob[i:i + a.chunk] for i in range(0, len(blob), a.chunk)] or [b""]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((a.host, a.port))
    for i, p in enumerate(parts):
        s.send(struct.pack("!II", i, len(parts)) + p)
        time.sleep(a.pace_us / 1e6)
    print("sent %d chunks" % len(parts))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--bind", default="0.0.0.0")
    p.add_argument("--timeout", type=float, default=10)
    p.set_defaults(func=serve)
    p = sub.add_parser("send")
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--in", dest="infile", required=True)
    p.add_argument("--chunk", type=int, default=1000)
    p.add_argument("--pace-us", type=int, default=300)
    p.set_defaults(func=send)
    a = ap.parse_args()
    return a.func(a)


if __name__ == "__main__":
    sys.exit(main())
