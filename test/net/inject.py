#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Send one forged TCP segment out of eth0, as the attacker C does.

    inject.py --dst-mac MAC --src 10.0.0.1 --dst 10.0.0.2 --sport S --dport D
              --seq N [--ack N] [--flags PA] [--payload EVIL]
              [--ts TSVAL,TSECR] [--zcc [--keyid K]] [--iface eth0]
              [--ip-options HEX | --ext hbh|dstopt] [--fragsize N]
    inject.py --dst-mac MAC --src IP --dst IP --sport S --dport D
              --udp-payload HEX [--count N] [--iface eth0]

The frame goes out at layer 2 (scapy sendp) straight to the victim's MAC,
so the spoofed source address never meets C's own routing or rp_filter.
--zcc appends a zcc option (kind 253, length 16, ExID 0x7a63, key id,
11 random tag bytes) as the last option, as a forger would.
--ip-options puts those bytes (hex, padded with EOL to 4) into the IPv4
header as options, so its IHL is above 5 ("01010100": NOP NOP NOP EOL,
"94040000": router alert). --fragsize N sends the IP packet as fragments
of N payload bytes each (a multiple of 8; scapy's fragment()).
IPv6 addresses (--src fd00::1) send IPv6: --ext puts an extension header
before TCP (hbh: hop-by-hop with a router alert; dstopt: destination
options with padding), and --fragsize N sends fragments of N bytes after
the fragment header (scapy's fragment6()).
--udp-payload sends one UDP datagram carrying those bytes (hex) instead
of a TCP segment (a replayed or forged handshake message); --seq and the
TCP options are not used then.
"""

import argparse
import logging
import os

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (IP, TCP, UDP, Ether, IPOption, IPv6,  # noqa: E402
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, PadN, Raw, RouterAlert, conf,
                       fragment, fragment6, get_if_hwaddr, sendp)


def ip_header(a, ipopts=()):
    """IPv4 with its options, or IPv6 with the extension header asked for."""
    if ":" not in a.src:
        return IP(src=a.src, dst=a.dst, ttl=64, options=list(ipopts))
    h = IPv6(src=a.src, dst=a.dst, hlim=64)
    if getattr(a, "ext", None) == "hbh":
        h = h / IPv6ExtHdrHopByHop(options=[RouterAlert()])
    elif getattr(a, "ext", None) == "dstopt":
        h = h / IPv6ExtHdrDestOpt(options=[PadN(optdata=bytes(4))])
    if getattr(a, "fragsize", None):
        h = h / IPv6ExtHdrFragment()
    return h


def send_udp(a):
    payload = bytes.fromhex(a.udp_payload)
    eth = Ether(dst=a.dst_mac, src=get_if_hwaddr(a.iface))
    pkt = Ether(bytes(eth / ip_header(a) /
                      UDP(sport=a.sport, dport=a.dport) / Raw(payload)))
    conf.verb = 0
    sendp(pkt, iface=a.iface, count=a.count)
    print("injected %d x udp %s:%d > %s:%d len %d first byte %s" % (
        a.count, a.src, a.sport, a.dst, a.dport, len(payload),
        payload[:1].hex() or "-"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", default="eth0")
    ap.add_argument("--dst-mac", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--sport", type=int, required=True)
    ap.add_argument("--dport", type=int, required=True)
    ap.add_argument("--seq", type=int, help="required for TCP")
    ap.add_argument("--ack", type=int, default=0)
    ap.add_argument("--flags", default="PA")
    ap.add_argument("--payload", default="")
    ap.add_argument("--ts", help="TSVAL,TSECR: add a timestamps option")
    ap.add_argument("--zcc", action="store_true", help="add a fake zcc option")
    ap.add_argument("--keyid", type=int, default=0)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--ip-options", help="IPv4 header options, hex")
    ap.add_argument("--ext", choices=("hbh", "dstopt"),
                    help="IPv6: an extension header before TCP")
    ap.add_argument("--fragsize", type=int, help="send as IP fragments")
    ap.add_argument("--udp-payload", help="send a UDP datagram, payload hex")
    a = ap.parse_args()
    if a.udp_payload is not None:
        return send_udp(a)
    if a.seq is None:
        ap.error("--seq is required (unless --udp-payload)")

    opts = []
    if a.ts:
        tsval, tsecr = (int(x) for x in a.ts.split(","))
        opts += [("NOP", None), ("NOP", None), ("Timestamp", (tsval, tsecr))]
    if a.zcc:
        opts.append((253, b"\x7a\x63" + bytes([a.keyid]) + os.urandom(11)))
    tcp = TCP(sport=a.sport, dport=a.dport, seq=a.seq, ack=a.ack,
              flags=a.flags, window=502, options=opts)
    ipopts = []
    if a.ip_options:
        raw = bytes.fromhex(a.ip_options)
        ipopts = [IPOption(raw + b"\0" * (-len(raw) % 4))]
    eth = Ether(dst=a.dst_mac, src=get_if_hwaddr(a.iface))
    pkt = eth / ip_header(a, ipopts) / tcp
    if a.payload:
        pkt = pkt / Raw(a.payload.encode())
    pkt = Ether(bytes(pkt))         # fill in lengths and checksums now
    conf.verb = 0
    if a.fragsize and IPv6 in pkt:
        frags = fragment6(pkt[IPv6], 40 + 8 + a.fragsize)
        frames = [Ether(bytes(eth / f)) for f in frags]
        for _ in range(a.count):
            sendp(frames, iface=a.iface)
        print("sent as %d IPv6 fragments: %s" % (len(frames), ", ".join(
            "offset %d len %d%s" % (f[IPv6ExtHdrFragment].offset * 8,
                                     len(f[IPv6ExtHdrFragment].payload),
                                     " M" if f[IPv6ExtHdrFragment].m else "")
            for f in frames)))
    elif a.fragsize:
        frames = [Ether(bytes(eth / f)) for f in fragment(pkt[IP], fragsize=a.fragsize)]
        for _ in range(a.count):
            sendp(frames, iface=a.iface)
        print("sent as %d IP fragments: %s" % (len(frames), ", ".join(
            "offset %d len %d%s" % (f[IP].frag * 8, len(f[IP].payload),
                                     " MF" if f[IP].flags.MF else "")
            for f in frames)))
    else:
        sendp(pkt, iface=a.iface, count=a.count)
    t = pkt[TCP]
    print("injected %s:%d > %s:%d flags %s seq %d ack %d len %d options %s%s%s" % (
        a.src, a.sport, a.dst, a.dport, t.sprintf("%flags%"), t.seq, t.ack,
        len(a.payload), bytes(t)[20:t.dataofs * 4].hex() or "-",
        " ip-options %s (ihl %d)" % (bytes(pkt[IP])[20:pkt[IP].ihl * 4].hex(),
                                     pkt[IP].ihl) if ipopts else "",
        " ipv6 extension header %s" % a.ext if a.ext else ""))


if __name__ == "__main__":
    main()
