#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Many long-lived TCP connections whose every byte the receiver can check,
for the network tests (test_restart.sh). Standard library only.

    flows.py serve --port P --conns N --duration S --deadline S --report FILE
                   [--bind ADDR] [--size 512] [--interval 0.05]
    flows.py client --host H --port P --conns N --duration S --deadline S
                    --report FILE [--bulk BYTES] [--size 512] [--interval 0.05]
    flows.py check CLIENT_REPORT SERVER_REPORT [--all]
    flows.py wire PCAP --port P [--src IP]

The client opens N small connections and, with --bulk, one more (the bulk
connection, id N). Each connection starts with an 8-byte header, "FL",
its id (4 bytes) and its kind (2 bytes: 0 small, 1 bulk), so the server
knows which stream to expect; the header is part of the checked bytes.

Every stream is a function of (connection id, direction) alone: records
of 512 bytes, each beginning with a distinctive plaintext marker,
"<ZCC-PLAINTEXT c0042 A r000000017>" (connection 42, A -> B, record 17),
then filler taken from a fixed pseudo-random block. The receiver compares
every byte it gets with what that offset of the stream must hold, without
the sender's copy, and the marker lets "wire" find plaintext in a capture.

A small connection is full duplex: each end writes --size bytes every
--interval seconds (TCP_NODELAY, one segment per write) for --duration
seconds, then shuts down its sending side once everything is accepted by
the kernel, and reads until the peer's EOF. The bulk connection carries
BYTES from the client to the server, paced evenly over --duration.

Writes never fail the application: a socket that cannot take more (the
link is down and TCP is retransmitting) simply holds the application back,
as a blocking sendall would; an error such as EHOSTUNREACH (the route is
unreachable while zcctund is down) is counted and the write retried 50 ms
later. A reset connection is recorded. At --deadline seconds after its
start each end gives up on connections that have not seen EOF.

Each end writes a JSON report: per connection, bytes sent, bytes received,
bytes correct (equal to the stream), the offset of the first wrong byte,
whether EOF came, resets and send errors. It exits 1 when any byte
received was wrong (ciphertext or anything else delivered as data), 2
when a connection did not finish (no EOF by the deadline, a reset), 0
otherwise.

"check" joins the two reports: A -> B is the client's sent against the
server's received, B -> A the other way. It prints a summary line,
"conns=N bytes_sent=N bytes_received=N bytes_correct=N wrong_streams=N
incomplete_streams=N streams=N" (a stream: one direction of a connection), and one line per connection that is wrong or
incomplete (all of them with --all); exits 1 when a byte was wrong, 2 when
a stream is incomplete (received != sent, no EOF), 0 when every stream
arrived whole and exact.

"wire" reads a capture (pcap.py's reader) and counts, for port P, the
segments, those with payload, those without the zcc option (with payload
too), and the payloads holding a plaintext marker, with the connection ids
the markers name: "segments=N payload=N unsealed=N unsealed_payload=N
marker_segments=N marker_conns=N first=..."; exits 1 when any segment is
unsealed or any marker is found.
"""

import argparse
import errno
import json
import os
import random
import selectors
import socket
import struct
import sys
import time

HDR = struct.Struct("!2sIH")            # "FL", connection id, kind
MARK = b"<ZCC-PLAINTEXT c"
TEMPORARY = (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENOBUFS,
             errno.EPERM, errno.EHOSTDOWN, errno.ENETDOWN, errno.EAGAIN)
FILL = random.Random(0x7a63).randbytes(8192)
RECORD = 512


def record(cid, d, i):
    """Record i of connection cid's stream in direction d (b"A" or b"B")."""
    head = b"<ZCC-PLAINTEXT c%04d %s r%09d>" % (cid, d, i)
    at = (i * 613 + cid * 2029) % (len(FILL) - RECORD)
    return head + FILL[at:at + RECORD - len(head)]


class Stream:
    """The bytes of one direction of one connection, made or checked in order."""

    def __init__(self, cid, kind, d):
        self.cid, self.d = cid, d
        self.head = HDR.pack(b"FL", cid, kind)
        self.off = 0                    # next offset to make or check
        self.rec, self.rec_i = b"", -1

    def _rec(self, i):
        if i != self.rec_i:
            self.rec, self.rec_i = record(self.cid, self.d, i), i
        return self.rec

    def take(self, n):
        """The next n bytes of the stream."""
        out = []
        while n > 0:
            if self.off < len(self.head):
                piece = self.head[self.off:self.off + n]
            else:
                o = self.off - len(self.head)
                r = self._rec(o // RECORD)
                piece = r[o % RECORD:o % RECORD + n]
            out.append(piece)
            self.off += len(piece)
            n -= len(piece)
        return b"".join(out)


class Conn:
    def __init__(self, cid, kind, sock, tx_dir, rx_dir):
        self.cid, self.kind, self.sock = cid, kind, sock
        self.tx = Stream(cid, kind, tx_dir)
        self.rx = Stream(cid, kind, rx_dir)
        self.pending = b""
        self.sent = 0                   # bytes the kernel accepted
        self.recv = 0
        self.correct = 0
        self.first_bad = None
        self.eof = False
        self.reset = None
        self.shut = False
        self.producing = True
        self.send_errors = {}
        self.retry_at = 0.0
        self.next_tick = 0.0

    def report(self):
        return {"kind": self.kind, "sent": self.sent, "recv": self.recv,
                "correct": self.correct, "first_bad": self.first_bad,
                "eof": self.eof, "reset": self.reset, "shut": self.shut,
                "send_errors": self.send_errors}


def log(role, msg):
    print("%s %.2f: %s" % (role, time.monotonic() - T0, msg), flush=True)


def check_rx(role, c, data):
    want = c.rx.take(len(data))
    if data == want:
        c.correct += len(data)
    else:
        good = sum(1 for a, b in zip(data, want) if a == b)
        c.correct += good
        if c.first_bad is None:
            at = next(i for i, (a, b) in enumerate(zip(data, want)) if a != b)
            c.first_bad = c.recv + at
            log(role, "conn %d: WRONG BYTES from offset %d (%d of %d bytes differ): "
                "got %r, expected %r" % (c.cid, c.first_bad, len(data) - good,
                                         len(data), data[at:at + 24], want[at:at + 24]))
    c.recv += len(data)


def unregister(sel, c):
    try:
        sel.unregister(c.sock)
    except (KeyError, ValueError):
        pass


def pump(role, conns, sel, a, start, bulk_total):
    """The event loop of either end, until every connection is done or the
    deadline passes."""
    end_produce = start + a.duration
    deadline = start + a.deadline
    cap = 8 * a.size
    while True:
        now = time.monotonic()
        if now >= deadline:
            return False
        live = [c for c in conns.values() if not (c.shut and (c.eof or c.reset))]
        if not live:
            return True
        for c in live:
            if c.reset:
                continue
            # The application's writes.
            if c.producing:
                if now >= end_produce:
                    c.producing = False
                elif c.kind == 0 and now >= c.next_tick:
                    if len(c.pending) < cap:        # else: blocked, skip a beat
                        c.pending += c.tx.take(a.size)
                    c.next_tick += a.interval
                    if c.next_tick < now:
                        c.next_tick = now + a.interval
                elif c.kind == 1 and c.tx.d == b"A":
                    want = int(bulk_total * min(1.0, (now - start) / a.duration))
                    more = min(want - (c.tx.off), 262144 - len(c.pending))
                    if more > 0:
                        c.pending += c.tx.take(more)
                if not c.producing and c.kind == 1 and c.tx.d == b"A":
                    more = bulk_total + HDR.size - c.tx.off
                    if more > 0:
                        c.pending += c.tx.take(more)
            # The kernel takes what it can.
            if c.pending and now >= c.retry_at:
                try:
                    n = c.sock.send(c.pending[:65536])
                    c.pending = c.pending[n:]
                    c.sent += n
                except BlockingIOError:
                    c.retry_at = now + 0.01     # the socket is full
                except (ConnectionResetError, BrokenPipeError) as e:
                    c.reset = "send: %s" % e
                    log(role, "conn %d: %s" % (c.cid, c.reset))
                    continue
                except OSError as e:
                    if e.errno not in TEMPORARY:
                        c.reset = "send: %s" % e
                        log(role, "conn %d: %s" % (c.cid, c.reset))
                        continue
                    k = errno.errorcode.get(e.errno, str(e.errno))
                    c.send_errors[k] = c.send_errors.get(k, 0) + 1
                    c.retry_at = now + 0.05
            if not c.producing and not c.pending and not c.shut:
                try:
                    c.sock.shutdown(socket.SHUT_WR)
                    c.shut = True
                except OSError as e:
                    if e.errno not in TEMPORARY:
                        c.reset = "shutdown: %s" % e
        # Wait for data (or 5 ms, the writers' clock).
        for key, _ in sel.select(timeout=0.005):
            c = key.data
            for _ in range(8):
                try:
                    data = c.sock.recv(65536)
                except BlockingIOError:
                    break
                except ConnectionResetError as e:
                    c.reset = "recv: %s" % e
                    log(role, "conn %d: %s" % (c.cid, c.reset))
                    unregister(sel, c)
                    break
                except OSError as e:
                    if e.errno in TEMPORARY:
                        k = "recv_" + errno.errorcode.get(e.errno, str(e.errno))
                        c.send_errors[k] = c.send_errors.get(k, 0) + 1
                        break
                    c.reset = "recv: %s" % e
                    log(role, "conn %d: %s" % (c.cid, c.reset))
                    unregister(sel, c)
                    break
                if not data:
                    c.eof = True
                    unregister(sel, c)
                    break
                check_rx(role, c, data)


def write_report(role, a, conns, done, start):
    out = {"role": role, "done": done, "elapsed": round(time.monotonic() - start, 3),
           "conns": {str(c.cid): c.report() for c in conns.values()}}
    tmp = a.report + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f, indent=0)
    os.replace(tmp, a.report)
    wrong = [c for c in conns.values() if c.first_bad is not None]
    unfinished = [c for c in conns.values() if not (c.eof and c.shut) or c.reset]
    log(role, "%s: %d conns, sent %d, received %d, correct %d, wrong conns %d, "
        "unfinished %d, send errors %s" % (
            "done" if done else "DEADLINE", len(conns), sum(c.sent for c in conns.values()),
            sum(c.recv for c in conns.values()), sum(c.correct for c in conns.values()),
            len(wrong), len(unfinished), merged_errors(conns.values())))
    return 1 if wrong else 2 if unfinished or not done else 0


def merged_errors(conns):
    m = {}
    for c in conns:
        for k, v in c.send_errors.items():
            m[k] = m.get(k, 0) + v
    return m


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve(a):
    start = time.monotonic()
    ls = socket.socket(family(a.bind), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(256)
    ls.settimeout(max(1.0, a.deadline))
    want = a.conns + (1 if a.bulk else 0)
    conns, sel = {}, selectors.DefaultSelector()
    while len(conns) < want:
        s, peer = ls.accept()
        s.settimeout(10)
        head = b""
        while len(head) < HDR.size:
            d = s.recv(HDR.size - len(head))
            if not d:
                break
            head += d
        if len(head) < HDR.size or head[:2] != b"FL":
            log("server", "connection from %s: bad header %r" % (peer, head))
            return 1
        _, cid, kind = HDR.unpack(head)
        if cid in conns:
            log("server", "connection id %d twice" % cid)
            return 1
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        c = Conn(cid, kind, s, b"B", b"A")
        c.rx.off = HDR.size             # the header is checked above
        c.recv = c.correct = HDR.size
        c.tx.off = HDR.size             # B's streams have no header
        if kind == 1:
            c.producing = False         # the bulk runs A -> B only
        c.next_tick = time.monotonic() + a.interval * (cid % 20) / 20
        conns[cid] = c
        sel.register(s, selectors.EVENT_READ, c)
    ls.close()
    log("server", "%d connections accepted" % len(conns))
    start_load = time.monotonic()
    a.deadline -= start_load - start
    done = pump("server", conns, sel, a, start_load, 0)
    return write_report("server", a, conns, done, start)


def client(a):
    start = time.monotonic()
    conns, sel = {}, selectors.DefaultSelector()
    n = a.conns + (1 if a.bulk else 0)
    for cid in range(n):
        kind = 1 if cid >= a.conns else 0
        s = socket.create_connection((a.host, a.port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c = Conn(cid, kind, s, b"A", b"B")
        c.rx.off = HDR.size             # B's streams have no header
        s.sendall(c.tx.take(HDR.size))
        c.sent = HDR.size
        s.setblocking(False)
        c.next_tick = time.monotonic() + a.interval * (cid % 20) / 20
        conns[cid] = c
        sel.register(s, selectors.EVENT_READ, c)
    log("client", "%d connections open (%d small, bulk %d bytes)" % (n, a.conns, a.bulk))
    start_load = time.monotonic()
    a.deadline -= start_load - start
    done = pump("client", conns, sel, a, start_load, a.bulk)
    return write_report("client", a, conns, done, start)


def check(a):
    cl = json.load(open(a.client_report))["conns"]
    sv = json.load(open(a.server_report))["conns"]
    totals = dict(sent=0, recv=0, correct=0)
    wrong, incomplete, lines = 0, 0, []
    for cid in sorted(set(cl) | set(sv), key=int):
        c, s = cl.get(cid), sv.get(cid)
        for d, tx, rx in (("A->B", c, s), ("B->A", s, c)):
            if tx is None or rx is None:
                lines.append("conn %s %s: missing at one end" % (cid, d))
                incomplete += 1
                continue
            # The server counts the header it read as received and correct;
            # B's streams start without one.
            sent, recv, corr = tx["sent"], rx["recv"], rx["correct"]
            totals["sent"] += sent
            totals["recv"] += recv
            totals["correct"] += corr
            problems = []
            if rx["first_bad"] is not None or corr != recv:
                problems.append("WRONG from offset %s" % rx["first_bad"])
            if recv != sent or not rx["eof"]:
                problems.append("incomplete")
            if rx["reset"] or tx["reset"]:
                problems.append("reset (%s)" % (rx["reset"] or tx["reset"]))
            if problems or a.all:
                lines.append("conn %s %s%s: sent %d received %d correct %d eof %s errors %s %s"
                             % (cid, d, " (bulk)" if tx["kind"] else "", sent, recv, corr,
                                rx["eof"], tx["send_errors"] or "-", " ".join(problems)))
            if rx["first_bad"] is not None or corr != recv:
                wrong += 1
            elif problems:
                incomplete += 1
    print("conns=%d bytes_sent=%d bytes_received=%d bytes_correct=%d "
          "wrong_streams=%d incomplete_streams=%d streams=%d"
          % (len(set(cl) | set(sv)), totals["sent"], totals["recv"], totals["correct"],
             wrong, incomplete, 2 * len(set(cl) | set(sv))))
    for line in lines[:200]:
        print("  " + line)
    return 1 if wrong else 2 if incomplete else 0


def wire(a):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import pcap                         # noqa: E402 (the tests' reader)
    n = payload = unsealed = unsealed_payload = marker = 0
    cids, first = set(), None
    for s in pcap.segments(a.file):
        if a.port not in (s.sport, s.dport):
            continue
        if a.src and s.src != a.src:
            continue
        n += 1
        if s.plen > 0:
            payload += 1
        if not s.zcc:
            unsealed += 1
            if s.plen > 0:
                unsealed_payload += 1
            if first is None:
                first = str(s)
        p = s.payload.find(MARK)
        if p >= 0:
            marker += 1
            while p >= 0:
                try:
                    cids.add(int(s.payload[p + len(MARK):p + len(MARK) + 4]))
                except ValueError:
                    pass
                p = s.payload.find(MARK, p + 1)
    print("segments=%d payload=%d unsealed=%d unsealed_payload=%d marker_segments=%d "
          "marker_conns=%d%s" % (n, payload, unsealed, unsealed_payload, marker, len(cids),
                                 " first_unsealed: " + first if first else ""))
    if cids:
        print("plaintext markers of connections", " ".join(map(str, sorted(cids))))
    return 1 if unsealed or marker or n == 0 else 0


def main():
    global T0
    T0 = time.monotonic()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    any_addr = "::" if os.environ.get("ZCC_TEST_FAMILY") == "6" else "0.0.0.0"
    for name in ("serve", "client"):
        p = sub.add_parser(name)
        if name == "serve":
            p.add_argument("--bind", default=any_addr)
        else:
            p.add_argument("--host", required=True)
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--conns", type=int, default=100)
        p.add_argument("--bulk", type=int, default=0)
        p.add_argument("--size", type=int, default=512)
        p.add_argument("--interval", type=float, default=0.05)
        p.add_argument("--duration", type=float, required=True)
        p.add_argument("--deadline", type=float, required=True)
        p.add_argument("--report", required=True)
    p = sub.add_parser("check")
    p.add_argument("client_report")
    p.add_argument("server_report")
    p.add_argument("--all", action="store_true")
    p = sub.add_parser("wire")
    p.add_argument("file")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--src")
    a = ap.parse_args()
    return {"serve": serve, "client": client, "check": check, "wire": wire}[a.cmd](a)


T0 = 0.0

if __name__ == "__main__":
    sys.exit(main())
