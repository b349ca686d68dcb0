#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Tiny TCP endpoints for the network tests.

    tcpapp.py serve --port P --out FILE --status FILE [--timeout S]
        accept one connection, append everything received to FILE, then
        write "eof", "reset" or "timeout" (and the byte count) to the
        status file.
    tcpapp.py serve-many --port P --out FILE --accepts FILE [--duration S]
        accept connection after connection for S seconds, one at a time:
        append everything each one sends to FILE and a line per
        connection accepted to the accepts file.
    tcpapp.py connect-many --host H --port P --count N
        N connections one after another, each closed at once without
        sending; prints how many were made, exits 1 at the first failure.
    tcpapp.py client --host H --port P [--sport S] STEP...
        connect (from port S), then run the steps in order:
            send:TEXT       send TEXT
            wait:FILE       wait until FILE exists (up to --timeout)
            sleep:SECONDS   sleep
        then close; prints "ok" or the error and exits 1.
"""

import argparse
import os
import socket
import sys
import time


def serve(a):
    fam = socket.AF_INET6 if ":" in a.bind else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(1)
    ls.settimeout(a.timeout)
    status, total = "timeout", 0
    try:
        conn, _ = ls.accept()
        conn.settimeout(a.timeout)
        with open(a.out, "ab", buffering=0) as out:
            while True:
                data = conn.recv(65536)
                if not data:
                    status = "eof"
                    break
                out.write(data)
                total += len(data)
    except ConnectionResetError:
        status = "reset"
    except socket.timeout:
        status = "timeout"
    with open(a.status, "w") as f:
        f.write("%s %d\n" % (status, total))
    return 0


def serve_many(a):
    fam = socket.AF_INET6 if ":" in a.bind else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(16)
    end = time.time() + a.duration
    with open(a.out, "ab", buffering=0) as out, \
            open(a.accepts, "a", buffering=1) as acc:
        while time.time() < end:
            ls.settimeout(max(0.1, end - time.time()))
            try:
                conn, peer = ls.accept()
            except socket.timeout:
                break
            acc.write("accepted %s port %d\n" % (peer[0], peer[1]))
            conn.settimeout(5)
            try:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    out.write(data)
            except OSError:
                pass
            conn.close()
    return 0


def connect_many(a):
    for i in range(a.count):
        try:
            s = socket.create_connection((a.host, a.port), timeout=a.timeout)
            s.shutdown(socket.SHUT_WR)
            while s.recv(4096):     # until the server closes too
                pass
            s.close()
        except OSError as e:
            print("connection %d: %s" % (i + 1, e))
            return 1
    print("made %d connections" % a.count)
    return 0


def client(a):
    try:
        if a.sport:     # again from a port in TIME_WAIT here
            fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.settimeout(a.timeout)
            s.bind(("", a.sport))
            s.connect((a.host, a.port))
        else:
            s = socket.create_connection((a.host, a.port), timeout=a.timeout)
        for step in a.steps:
            what, _, arg = step.partition(":")
            if what == "send":
                s.sendall(arg.encode())
            elif what == "wait":
                deadline = time.time() + a.timeout
                while not os.path.exists(arg):
                    if time.time() > deadline:
                        raise TimeoutError("no " + arg)
                    time.sleep(0.05)
            elif what == "sleep":
                time.sleep(float(arg))
            else:
                raise ValueError("bad step " + step)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(a.timeout)
        while s.recv(4096):        # until the server closes too
            pass
        s.close()
    except OSError as e:
        print("error:", e)
        return 1
    print("ok")
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve")
    # lib.sh's family (ZCC_TEST_FAMILY=6: the tests run over IPv6).
    any_addr = "::" if os.environ.get("ZCC_TEST_FAMILY") == "6" else "0.0.0.0"
    p.add_argument("--bind", default=any_addr)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--status", required=True)
    p.add_argument("--timeout", type=float, default=60)
    p = sub.add_parser("serve-many")
    p.add_argument("--bind", default=any_addr)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--accepts", required=True)
    p.add_argument("--duration", type=float, default=60)
    p = sub.add_parser("connect-many")
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--timeout", type=float, default=10)
    p = sub.add_parser("client")
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--sport", type=int, default=0,
                   help="connect from this port (SO_REUSEADDR)")
    p.add_argument("steps", nargs="*")
    a = ap.parse_args()
    return {"serve": serve, "serve-many": serve_many,
            "connect-many": connect_many, "client": client}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
