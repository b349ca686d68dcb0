#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""An independent reference of the encapsulation in docs/PROTOCOL.md
("Encapsulation"), written from the document, not from src/encap.c:
ChaCha20-Poly1305 from python3-cryptography, crypto_kdf as BLAKE2b from
hashlib. test_encap checks the C code against the vectors it prints.

    encap_ref.py                print the vectors in the PROTOCOL.md format
    encap_ref.py --check FILE   exit 1 unless FILE lists exactly these vectors
    encap_ref.py --corpus DIR   write the fuzzing seeds (test/fuzz/corpus/encap)
"""
import hashlib
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

TYPE_DATA = 5
COUNTER_LIMIT = 1 << 60

# key-i2r of the handshake test vectors: a real session's key, key id 1.
SESSION_KEY = bytes.fromhex(
    "5a9ab3ffe37c1bd79831883a996190afa1e69ab53471b5d775b0d6986c774721")


def kdf(key, subkey_id, ctx, outlen=32):
    """crypto_kdf_derive_from_key: BLAKE2b keyed with key, the subkey id
    little-endian in the salt's first 8 bytes, the context in the
    personalisation's first 8 bytes, empty input."""
    return hashlib.blake2b(b"", digest_size=outlen, key=key,
                           salt=struct.pack("<Q", subkey_id) + bytes(8),
                           person=ctx + bytes(8)).digest()


def encap_key(session_key):
    return kdf(session_key, 1, b"zccencp1")


def seal(key, key_id, counter, codec, packet):
    assert 0 <= counter < COUNTER_LIMIT and 0 <= codec < 3
    header = struct.pack("<BBHQ", TYPE_DATA, key_id, 0, counter)
    nonce = bytes(4) + struct.pack("<Q", counter)
    return header + ChaCha20Poly1305(key).encrypt(nonce, bytes([codec]) + packet,
                                                  header)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4_icmp_echo():
    """10.0.0.1 -> 10.0.0.2, ICMP echo request id 0x7a63 seq 1."""
    data = b"zcc encapsulation test vector"
    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x7A63, 1) + data
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0x1234, 0x4000,
                     64, 1, 0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + icmp


def ipv6_udp():
    """fd00::1 port 5353 -> fd00::2 port 53, a DNS query for example.org A."""
    src = bytes.fromhex("fd000000000000000000000000000001")
    dst = bytes.fromhex("fd000000000000000000000000000002")
    dns = (struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) +
           b"\x07example\x03org\x00" + struct.pack("!HH", 1, 1))
    ulen = 8 + len(dns)
    udp = struct.pack("!HHHH", 5353, 53, ulen, 0) + dns
    pseudo = src + dst + struct.pack("!IxxxB", ulen, 17)
    udp = udp[:6] + struct.pack("!H", csum(pseudo + udp) or 0xFFFF) + udp[8:]
    ip = struct.pack("!IHBB", 6 << 28, ulen, 17, 64) + src + dst
    return ip + udp


def lz4_literals(data):
    """An LZ4 block of one literals-only sequence (valid, if not smaller)."""
    n = len(data)
    if n < 15:
        return bytes([n << 4]) + data
    rest, ext = n - 15, b""
    while rest >= 255:
        ext += b"\xff"
        rest -= 255
    return b"\xf0" + ext + bytes([rest]) + data


# (name, key id, counter, codec, packet)
VECTORS = [
    ("IPv4 ICMP echo request, stored, the first message", 1, 0, 0,
     ipv4_icmp_echo()),
    ("IPv6 UDP DNS query, an LZ4 block, counter above 2^32", 1,
     0x0123456789ABCDE, 1, lz4_literals(ipv6_udp())),
    ("empty packet, LZS codec byte, the last counter, key id 255", 255,
     COUNTER_LIMIT - 1, 2, b""),
]


def lines():
    key = encap_key(SESSION_KEY)
    out = ["encap-session-key: " + SESSION_KEY.hex(),
           "encap-key: " + key.hex()]
    for name, key_id, counter, codec, packet in VECTORS:
        out += ["encap-vector: " + name,
                "encap-key-id: %d" % key_id,
                "encap-counter: %d" % counter,
                "encap-codec: %d" % codec,
                ("encap-packet: " + packet.hex()).rstrip(),
                "encap-message: " + seal(key, key_id, counter, codec,
                                         packet).hex()]
    return out


def check(path):
    with open(path) as f:
        listed = [l.rstrip("\n") for l in f if l.startswith("encap-")]
    want = lines()
    if listed == want:
        print("%s: the %d encapsulation vectors match" % (path, len(VECTORS)))
        return 0
    for a, b in zip(listed + [""] * len(want), want):
        if a != b:
            print("%s lists:\n  %s\nthe reference makes:\n  %s" % (path, a, b))
            break
    return 1


def corpus(directory):
    """The vectors' messages, and each one broken a different way."""
    key = encap_key(SESSION_KEY)
    os.makedirs(directory, exist_ok=True)
    seeds = {}
    for i, (_, key_id, counter, codec, packet) in enumerate(VECTORS):
        seeds["vec%d" % i] = seal(key, key_id, counter, codec, packet)
    m = seeds["vec0"]
    seeds["short"] = m[:28]             # one byte below the minimum
    seeds["type1"] = b"\x01" + m[1:]
    seeds["key-id"] = m[:1] + b"\x02" + m[2:]
    seeds["reserved"] = m[:2] + b"\x01" + m[3:]
    seeds["over-limit"] = seal(key, 1, 0, 0, b"")[:4] + \
        struct.pack("<Q", COUNTER_LIMIT) + bytes(17)
    seeds["tag"] = m[:-1] + bytes([m[-1] ^ 1])
    for name, data in seeds.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        return check(sys.argv[2])
    if len(sys.argv) == 3 and sys.argv[1] == "--corpus":
        corpus(sys.argv[2])
        return 0
    if len(sys.argv) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    print("\n".join(lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
