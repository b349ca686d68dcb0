#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Stand in for systemd's notification socket.

    notify_sock.py PATH OUT

Binds a unix datagram socket at PATH (what NOTIFY_SOCKET names) and appends
every message to OUT as one line, its fields joined by " | ", until killed.
"""

import os
import socket
import sys


def main():
    path, out = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    with open(out, "a", buffering=1) as f:
        f.write("listening\n")
        while True:
            msg = s.recv(4096).decode(errors="replace")
            f.write(" | ".join(msg.strip().split("\n")) + "\n")


if __name__ == "__main__":
    sys.exit(main())
