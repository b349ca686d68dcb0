#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Read a pcap file (as tcpdump -w writes it) and check IPv4 and IPv6 TCP
segments.

Standard library only. Link types: Ethernet (1), raw IP (101, 12, 228),
Linux cooked SLL (113) and SLL2 (276).

    pcap.py dump FILE [--port P] [--src IP]
    pcap.py segs FILE --port P [--src IP]        "seq len" of data segments
    pcap.py count FILE --port P [--src IP]       number of segments
    pcap.py gap FILE --port P [--src IP]
        the longest pause between two segments (reported, not judged)
    pcap.py check-sealed FILE --port P [--src IP]
        exit 1 unless every segment (SYN, ACK, FIN, RST, data) ends its
        options with the zcc option; prints how many were checked (> 0)
    pcap.py check-plain FILE --port P [--src IP]
        exit 1 if any segment carries the zcc option (unselected flows)
    pcap.py grep FILE --needle-file F [--min 16] [--port P]
        exit 1 if any MIN-byte run of F appears inside one TCP payload
    pcap.py next FILE --src IP --dst IP --port P
        the state of the src->dst direction after the last segment seen:
        "seq=N ack=N tsval=N tsecr=N keyid=N" (seq: next sequence number)
    pcap.py sack-blocks FILE --port P [--src IP] [--dst IP]
        how many SACK blocks the segments carry:
        "max=N with_sack=N segments=N blocks1=N blocks2=N blocks3=N blocks4=N"
        (max: the most blocks in one segment; with_sack: segments with a
        SACK option; blocksK: segments with exactly K blocks)
    pcap.py tiles ZCC0FILE --wire WIREFILE --port P [--src IP] [--dst IP]
        checks that the wire's data segments are zcc0's cut as GSO cuts:
        every segment Z seen on zcc0 (a TSO super-segment or not) appears on
        the wire as consecutive segments of one size L (the last shorter),
        L being the MSS in the other end's SYN less Z's options,
        covering exactly Z's bytes, the first with Z's ack, window and
        timestamps; and every wire data segment belongs to such a cut.
        Prints "N zcc0 segments cut into M wire segments" or the mismatches.
    pcap.py grep-all FILE --needle-file F [--min N]
        like grep, over every captured frame whole (any protocol, headers,
        fragments): exits 1 when a run of the needle is anywhere
    pcap.py frags FILE
        the number of IP fragments captured (IPv4: MF set or offset
        nonzero; IPv6: a fragment header)
    pcap.py frames FILE --port P --src IP --dst-mac MAC
        exit 1 unless every Ethernet frame of a TCP segment of port P from
        IP goes to MAC and carries correct IPv4 header and TCP checksums
        (a packet sent on the link layer gets none filled in by the
        kernel); prints how many were checked (> 0)
    pcap.py udp FILE [--port P] [--src IP] [--dst IP]
        one line per UDP datagram (first fragments only):
        "N SRC SPORT DST DPORT LEN HEX" (N: the record number, LEN and HEX:
        the UDP payload as captured; HEX is "-" when it is empty)

The zcc option (docs/PROTOCOL.md): kind 253, length 16, ExID 0x7a63, a key
id byte and an 11-byte tag, as the last 16 bytes of the options area.

IPv6 packets are followed through their extension headers (hop-by-hop,
routing, destination options, fragment), so a segment behind any of them is
still seen and checked; addresses print in RFC 5952 form (fd00::1).
"""

import argparse
import array
import signal
import socket
import struct
import sys

ZCC_KIND = 253
ZCC_LEN = 16
ZCC_EXID = b"\x7a\x63"
MIN_WINDOW = 8          # grep indexes 8-byte words, see grep_payloads


class Seg:
    __slots__ = ("n", "src", "dst", "sport", "dport", "seq", "ack", "flags",
                 "win", "plen", "payload", "opts", "zcc", "keyid", "tsval",
                 "tsecr", "doff")

    def flagstr(self):
        names = "FSRPAUEC"
        return "".join(c for i, c in enumerate(names) if self.flags & (1 << i))

    def __str__(self):
        z = "zcc(key %d)" % self.keyid if self.zcc else "-"
        return "%d %s:%d > %s:%d [%s] seq %d ack %d len %d opts %s %s" % (
            self.n, self.src, self.sport, self.dst, self.dport,
            self.flagstr(), self.seq, self.ack, self.plen,
            ",".join(str(k) for k, _ in self.opts) or "-", z)


def records(path):
    """Yield (linktype, packet bytes) for every record of a pcap file."""
    for linktype, pkt, _ in timed_records(path):
        yield linktype, pkt


def timed_records(path):
    """Yield (linktype, packet bytes, seconds) for every record."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    elif magic == b"\x0a\x0d\x0d\x0a":
        sys.exit("%s: pcapng is not supported (use tcpdump -w)" % path)
    else:
        sys.exit("%s: not a pcap file" % path)
    linktype = struct.unpack(end + "I", data[20:24])[0] & 0x0fffffff
    off = 24
    rec = struct.Struct(end + "IIII")
    # Nanosecond-resolution files have their own magic numbers.
    frac = 1e-9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e-6
    while off + 16 <= len(data):
        sec, sub, incl, _ = rec.unpack_from(data, off)
        off += 16
        yield linktype, data[off:off + incl], sec + sub * frac
        off += incl


IP_ETHERTYPES = (0x0800, 0x86DD)


def ip_of(linktype, pkt):
    """The IPv4 or IPv6 packet inside a link-layer frame, or None."""
    if linktype == 1:                           # Ethernet, maybe 802.1Q
        off, etype = 14, struct.unpack_from("!H", pkt, 12)[0] if len(pkt) >= 14 else 0
        while etype in (0x8100, 0x88a8) and len(pkt) >= off + 4:
            etype = struct.unpack_from("!H", pkt, off + 2)[0]
            off += 4
        return pkt[off:] if etype in IP_ETHERTYPES else None
    if linktype in (101, 12, 228, 229):         # raw IP (229: raw IPv6)
        return pkt if pkt and pkt[0] >> 4 in (4, 6) else None
    if linktype == 113:                         # Linux cooked (SLL)
        if len(pkt) < 16:
            return None
        return pkt[16:] if struct.unpack_from("!H", pkt, 14)[0] in IP_ETHERTYPES else None
    if linktype == 276:                         # Linux cooked v2 (SLL2)
        if len(pkt) < 20:
            return None
        return pkt[20:] if struct.unpack_from("!H", pkt, 0)[0] in IP_ETHERTYPES else None
    sys.exit("unsupported link type %d" % linktype)


IP6_EXT = (0, 43, 60)       # hop-by-hop, routing, destination options
IP6_FRAG = 44


class IPPacket:
    """What the checks need of an IP header: addresses, protocol, where
    the upper layer starts and ends, and whether it is a fragment (first
    or not)."""
    __slots__ = ("src", "dst", "proto", "l4", "end", "frag", "later")


def ip_parse(ip):
    """An IPPacket for an IPv4 or IPv6 packet, or None when it is short."""
    if ip is None or len(ip) < 20:
        return None
    h = IPPacket()
    if ip[0] >> 4 == 4:
        h.l4 = (ip[0] & 15) * 4
        h.end = struct.unpack_from("!H", ip, 2)[0] or len(ip)   # 0: BIG TCP
        frag = struct.unpack_from("!H", ip, 6)[0]
        h.frag, h.later = frag & 0x3fff != 0, frag & 0x1fff != 0
        h.src, h.dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
        h.proto = ip[9]
        return h if len(ip) >= h.l4 else None
    if ip[0] >> 4 != 6 or len(ip) < 40:
        return None
    h.end = 40 + struct.unpack_from("!H", ip, 4)[0]
    h.src = socket.inet_ntop(socket.AF_INET6, ip[8:24])
    h.dst = socket.inet_ntop(socket.AF_INET6, ip[24:40])
    h.proto, h.l4, h.frag, h.later = ip[6], 40, False, False
    while len(ip) >= h.l4 + 8:
        if h.proto == IP6_FRAG:
            off = struct.unpack_from("!H", ip, h.l4 + 2)[0]
            h.frag, h.later = True, h.later or off & 0xfff8 != 0
            h.proto, h.l4 = ip[h.l4], h.l4 + 8
        elif h.proto in IP6_EXT:
            h.proto, h.l4 = ip[h.l4], h.l4 + (ip[h.l4 + 1] + 1) * 8
        else:
            break
    return h


def parse_options(raw):
    """List of (kind, value bytes) and the offset where each started."""
    opts, i = [], 0
    while i < len(raw):
        kind = raw[i]
        if kind == 0:                           # end of option list
            opts.append((0, b"", i))
            break
        if kind == 1:
            opts.append((1, b"", i))
            i += 1
            continue
        if i + 1 >= len(raw) or raw[i + 1] < 2 or i + raw[i + 1] > len(raw):
            opts.append((-1, raw[i:], i))       # malformed
            break
        opts.append((kind, raw[i + 2:i + raw[i + 1]], i))
        i += raw[i + 1]
    return opts


def segments(path):
    """Every IPv4 and IPv6 TCP segment (first fragments only) as a Seg."""
    n = 0
    for linktype, pkt in records(path):
        n += 1
        ip = ip_of(linktype, pkt)
        h = ip_parse(ip)
        if h is None or h.proto != 6 or h.later or len(ip) < h.l4 + 20:
            continue
        ihl, tot = h.l4, h.end
        tcp = ip[ihl:tot]
        doff = (tcp[12] >> 4) * 4
        if doff < 20 or len(tcp) < doff:
            continue
        s = Seg()
        s.n = n
        s.src, s.dst = h.src, h.dst
        s.sport, s.dport, s.seq, s.ack = struct.unpack_from("!HHII", tcp, 0)
        s.flags = tcp[13] | ((tcp[12] & 1) << 8)
        s.win = struct.unpack_from("!H", tcp, 14)[0]
        s.plen = tot - ihl - doff
        s.doff = doff
        s.payload = tcp[doff:]
        raw = tcp[20:doff]
        parsed = parse_options(raw)
        s.opts = [(k, v) for k, v, _ in parsed]
        s.zcc, s.keyid, s.tsval, s.tsecr = False, -1, None, None
        for k, v, at in parsed:
            if k == 8 and len(v) == 8:
                s.tsval, s.tsecr = struct.unpack("!II", v)
        if parsed:
            k, v, at = parsed[-1]
            if (k == ZCC_KIND and len(v) == ZCC_LEN - 2 and v[:2] == ZCC_EXID
                    and at + ZCC_LEN == len(raw)):
                s.zcc, s.keyid = True, v[2]
        yield s


def udp_datagrams(path):
    """Every IPv4 and IPv6 UDP datagram (first fragments only):
    (record number, src, sport, dst, dport, payload)."""
    n = 0
    for linktype, pkt in records(path):
        n += 1
        ip = ip_of(linktype, pkt)
        h = ip_parse(ip)
        if h is None or h.proto != 17 or h.later or len(ip) < h.l4 + 8:
            continue
        udp = ip[h.l4:h.end]
        sport, dport, ulen = struct.unpack_from("!HHH", udp, 0)
        yield (n, h.src, sport, h.dst, dport, udp[8:max(ulen, 8)])


def selected(args):
    for s in segments(args.file):
        if args.port is not None and args.port not in (s.sport, s.dport):
            continue
        if getattr(args, "src", None) and s.src != args.src:
            continue
        if getattr(args, "dst", None) and s.dst != args.dst:
            continue
        yield s


def cmd_dump(args):
    for s in selected(args):
        print(s)
    return 0


def cmd_segs(args):
    pairs = sorted({(s.seq, s.plen) for s in selected(args) if s.plen > 0})
    for seq, plen in pairs:
        print(seq, plen)
    return 0


def cmd_tiles(args):
    def data(path):
        """(seq, len) -> every segment carrying it: TCP may retransmit."""
        out = {}
        args.file = path
        for s in selected(args):
            if s.plen > 0:
                out.setdefault((s.seq, s.plen), []).append(s)
        return out

    def peer_mss(path):
        """The MSS option of the SYN the other way (the receiver's)."""
        for s in segments(path):
            if (s.flags & 2 and s.src == args.dst and s.dst == args.src and
                    args.port in (s.sport, s.dport)):
                for k, v in s.opts:
                    if k == 2 and len(v) == 2:
                        return struct.unpack("!H", v)[0]
        return None

    def headers(s):
        return (s.ack, s.win, s.tsval, s.tsecr)

    mss = peer_mss(args.wire)
    zcc0, wire = data(args.file), data(args.wire)
    if mss is None:
        print("no SYN with an MSS option from %s on the wire" % args.dst)
        return 1
    starts = {}
    for seq, plen in wire:
        starts.setdefault(seq, []).append(plen)
    covered, bad = set(), []
    for (seq, plen), sent in sorted(zcc0.items()):
        if seq not in starts:
            bad.append("zcc0 %d+%d: no wire segment starts there" % (seq, plen))
            continue
        size = min(max(starts[seq]), plen)
        for z in sent:
            # GSO cuts at the MSS less the options every segment carries.
            if size != min(mss - (z.doff - 20), plen):
                bad.append("zcc0 %d+%d: cut at %d, MSS %d with %d bytes of options"
                           % (seq, plen, size, mss, z.doff - 20))
            # Each sending of it, retransmissions too, has a first cut on
            # the wire with its own ack, window and timestamps.
            first = wire.get((seq, size), [])
            if not any(headers(w) == headers(z) for w in first):
                bad.append("zcc0 %d+%d: no wire cut has its headers %s: %s"
                           % (seq, plen, headers(z), " | ".join(map(str, first))))
        off = 0
        while off < plen:
            n = min(size, plen - off)
            key = ((seq + off) & 0xffffffff, n)
            if key not in wire:
                bad.append("zcc0 %d+%d: wire lacks %d+%d" % ((seq, plen) + key))
                break
            covered.add(key)
            off += n
    for key in sorted(set(wire) - covered):
        bad.append("wire %d+%d: not a cut of any zcc0 segment" % key)
    for b in bad[:10]:
        print(b)
    if bad or not zcc0:
        print("%d mismatches (%d zcc0 segments)" % (len(bad), len(zcc0)))
        return 1
    print("%d zcc0 segments cut into %d wire segments" % (len(zcc0), len(covered)))
    return 0


def cmd_gap(args):
    """The longest time between two segments that crossed (from the SYN on),
    and when it began."""
    times = [t for _, _, t in timed_records(args.file)]
    seen = [times[s.n - 1] for s in selected(args)]
    if len(seen) < 2:
        print("gap: fewer than 2 segments")
        return 1
    gap, at = max((b - a, a) for a, b in zip(seen, seen[1:]))
    print("longest pause %.3f s at +%.3f s, %d segments in %.3f s" % (
        gap, at - seen[0], len(seen), seen[-1] - seen[0]))
    return 0


def cmd_count(args):
    print(sum(1 for _ in selected(args)))
    return 0


def cmd_check_sealed(args):
    n, bad = 0, []
    for s in selected(args):
        n += 1
        if not s.zcc:
            bad.append(s)
    for s in bad[:10]:
        print("not sealed:", s)
    if bad:
        print("%d of %d segments of port %d lack the zcc option as last option"
              % (len(bad), n, args.port))
        return 1
    print("%d segments of port %d checked, all sealed" % (n, args.port))
    if n == 0:
        print("no segment of port %d in %s: nothing was checked" % (args.port, args.file))
        return 1
    return 0


def csum16(data):
    """The Internet checksum's ones'-complement sum of data, folded."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return total


def tcp_csum_ok(ip, h):
    """Whether the TCP checksum of the IP packet ip (parsed as h) holds."""
    tcp = ip[h.l4:h.end]
    if ip[0] >> 4 == 4:
        pseudo = ip[12:20] + struct.pack("!BBH", 0, 6, len(tcp))
    else:
        pseudo = ip[8:40] + struct.pack("!IxxxB", len(tcp), 6)
    return csum16(pseudo + tcp) == 0xffff


def cmd_frames(args):
    n, bad = 0, []
    mac = bytes.fromhex(args.dst_mac.replace(":", ""))
    for i, (linktype, pkt) in enumerate(records(args.file), 1):
        if linktype != 1:
            sys.exit("frames: %s is not an Ethernet capture" % args.file)
        ip = ip_of(linktype, pkt)
        h = ip_parse(ip)
        if h is None or h.proto != 6 or h.src != args.src or h.frag:
            continue
        sport, dport = struct.unpack_from("!HH", ip, h.l4)
        if args.port not in (sport, dport):
            continue
        n += 1
        why = []
        if pkt[:6] != mac:
            why.append("to %s" % pkt[:6].hex(":"))
        if ip[0] >> 4 == 4 and csum16(ip[:h.l4]) != 0xffff:
            why.append("bad IPv4 header checksum")
        if not tcp_csum_ok(ip, h):
            why.append("bad TCP checksum")
        if why:
            bad.append("frame %d: %s" % (i, ", ".join(why)))
    for b in bad[:10]:
        print(b)
    if bad or n == 0:
        print("%d of %d frames of port %d from %s wrong" % (len(bad), n,
              args.port, args.src))
        return 1
    print("%d frames of port %d from %s checked: to %s, checksums right"
          % (n, args.port, args.src, args.dst_mac))
    return 0


def cmd_check_plain(args):
    n, bad = 0, []
    for s in selected(args):
        n += 1
        if s.zcc or any(k == ZCC_KIND for k, _ in s.opts):
            bad.append(s)
    for s in bad[:10]:
        print("carries a zcc option:", s)
    print("%d segments of port %d checked, %d with a zcc option" % (n, args.port, len(bad)))
    return 1 if bad or n == 0 else 0


def grep_payloads(needle, payloads, minlen):
    """First (payload index, offset, needle offset, length) of a common run
    of at least minlen bytes, or None.

    The needle is indexed as 8-byte words at stride 8 (array('Q') does this
    in C); each payload is read as 8-byte words at each of the 8 phases and
    intersected with that set, also in C. Any common run of 15 bytes or more
    contains one whole aligned needle word, so no run of minlen >= 15 is
    missed; hits are then verified and extended byte by byte.
    """
    words = len(needle) // 8
    index = set(array.array("Q", needle[:words * 8]))
    for pi, pay in enumerate(payloads):
        if len(pay) < minlen:
            continue
        for phase in range(8):
            w = (len(pay) - phase) // 8
            if w <= 0:
                continue
            a = array.array("Q", pay[phase:phase + w * 8])
            hits = index.intersection(a)
            if not hits:
                continue
            for h in hits:
                word = struct.pack("=Q", h)
                p = pay.find(word)
                while p >= 0:
                    q = needle.find(word)
                    while q >= 0:
                        lo = 0
                        while p - lo > 0 and q - lo > 0 and pay[p - lo - 1] == needle[q - lo - 1]:
                            lo += 1
                        hi = 8
                        while p + hi < len(pay) and q + hi < len(needle) and pay[p + hi] == needle[q + hi]:
                            hi += 1
                        if lo + hi >= minlen:
                            return pi, p - lo, q - lo, lo + hi
                        q = needle.find(word, q + 1)
                    p = pay.find(word, p + 1)
    return None


def cmd_grep(args):
    if args.min < 15:
        sys.exit("--min must be at least 15 (the index is 8-byte words)")
    with open(args.needle_file, "rb") as f:
        needle = f.read()
    segs = [s for s in selected(args) if s.payload]
    found = grep_payloads(needle, [s.payload for s in segs], args.min)
    total = sum(len(s.payload) for s in segs)
    if found:
        pi, off, noff, length = found
        print("plaintext found: %d bytes of %s (offset %d) in payload of packet %d "
              "at offset %d: %s" % (length, args.needle_file, noff, segs[pi].n, off, segs[pi]))
        return 1
    print("no %d-byte run of %s (%d bytes) in %d payloads (%d bytes)"
          % (args.min, args.needle_file, len(needle), len(segs), total))
    return 0


def cmd_grep_all(args):
    with open(args.needle_file, "rb") as f:
        needle = f.read()
    frames = [pkt for _, pkt in records(args.file)]
    found = grep_payloads(needle, frames, args.min)
    if found:
        pi, off, noff, length = found
        print("plaintext found: %d bytes of %s (offset %d) in frame %d at offset %d"
              % (length, args.needle_file, noff, pi + 1, off))
        return 1
    print("no %d-byte run of %s (%d bytes) in %d frames (%d bytes)"
          % (args.min, args.needle_file, len(needle), len(frames),
             sum(len(f) for f in frames)))
    return 0


def cmd_frags(args):
    n = 0
    for linktype, pkt in records(args.file):
        h = ip_parse(ip_of(linktype, pkt))
        n += h is not None and h.frag
    print(n)
    return 0


def cmd_next(args):
    last, nxt = None, None
    for s in selected(args):
        end = (s.seq + s.plen + (1 if s.flags & 0x02 else 0)
               + (1 if s.flags & 0x01 else 0)) & 0xffffffff
        # Keep the highest end in sequence space (serial arithmetic).
        if nxt is None or ((end - nxt) & 0xffffffff) < 0x80000000:
            nxt = end
        last = s
    if last is None:
        print("no segment %s -> %s port %d" % (args.src, args.dst, args.port),
              file=sys.stderr)
        return 1
    print("seq=%d ack=%d tsval=%d tsecr=%d keyid=%d sport=%d dport=%d" % (
        nxt, last.ack, last.tsval or 0, last.tsecr or 0, last.keyid,
        last.sport, last.dport))
    return 0


def cmd_sack_blocks(args):
    n, hist = 0, [0] * 5
    for s in selected(args):
        n += 1
        for k, v in s.opts:
            if k == 5:
                hist[min(len(v) // 8, 4)] += 1
    top = max([i for i in range(1, 5) if hist[i]] or [0])
    print("max=%d with_sack=%d segments=%d %s" % (
        top, sum(hist[1:]), n,
        " ".join("blocks%d=%d" % (i, hist[i]) for i in range(1, 5))))
    return 0


def cmd_udp(args):
    for n, src, sport, dst, dport, pay in udp_datagrams(args.file):
        if args.port is not None and args.port not in (sport, dport):
            continue
        if args.src and src != args.src:
            continue
        if args.dst and dst != args.dst:
            continue
        print(n, src, sport, dst, dport, len(pay), pay.hex() or "-")
    return 0


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # "| head" is fine
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    def add(name, func, port_required=False):
        p = sub.add_parser(name)
        p.add_argument("file")
        p.add_argument("--port", type=int, required=port_required)
        p.add_argument("--src")
        p.add_argument("--dst")
        p.set_defaults(func=func)
        return p

    add("dump", cmd_dump)
    add("segs", cmd_segs, True)
    add("count", cmd_count, True)
    add("gap", cmd_gap, True)
    add("check-sealed", cmd_check_sealed, True)
    add("check-plain", cmd_check_plain, True)
    g = add("grep", cmd_grep)
    g.add_argument("--needle-file", required=True)
    g.add_argument("--min", type=int, default=16)
    add("next", cmd_next, True)
    add("sack-blocks", cmd_sack_blocks, True)
    add("udp", cmd_udp)
    f = add("frames", cmd_frames, True)
    f.add_argument("--dst-mac", required=True)
    g = add("grep-all", cmd_grep_all)
    g.add_argument("--needle-file", required=True)
    g.add_argument("--min", type=int, default=16)
    add("frags", cmd_frags)
    t = add("tiles", cmd_tiles, True)
    t.add_argument("--wire", required=True)
    args = ap.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
