#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""An independent reference of docs/PROTOCOL.md, used to produce the test
vectors that docs/PROTOCOL.md lists and test_seal checks against the C code.
Poly1305 and HChaCha20 are written out here in Python (RFC 8439 2.5,
draft-irtf-cfrg-xchacha 2.2) and checked against their published vectors
before use; crypto_kdf is BLAKE2b from hashlib; only XChaCha20 comes from
libsodium, through ctypes. zccseal3's AES-256 comes from PyCryptodome's
own implementation (python3-pycryptodome; not OpenSSL, which zcctund uses),
checked against FIPS-197's vector before use.

    seal_ref.py            print zccseal2's vectors in the PROTOCOL.md format
    seal_ref.py zccseal3   print zccseal3's
"""
import ctypes
import ctypes.util
import hashlib
import socket
import struct
import sys

from Cryptodome.Cipher import AES

sodium = ctypes.CDLL(ctypes.util.find_library("sodium"))
assert sodium.sodium_init() >= 0

OPT_KIND, OPT_LEN, EXID = 253, 16, 0x7A63


def kdf(key, subkey_id, ctx, outlen=32):
    """crypto_kdf_derive_from_key (libsodium 1.0.18: BLAKE2b, salt = id, person = ctx)."""
    return hashlib.blake2b(b"", digest_size=outlen, key=key,
                           salt=struct.pack("<Q", subkey_id) + bytes(8),
                           person=ctx + bytes(8)).digest()


def static_direction_key(link_key, src, dst):
    """The vectors' S: subkey id src << 32 | dst, each address as a 32-bit
    number (an IPv6 address's last four bytes)."""
    sid = (int.from_bytes(src[-4:], "big") << 32) | int.from_bytes(dst[-4:], "big")
    return kdf(link_key, sid, b"zccstat1")


def seal_keys(session_key, suite="zccseal2"):
    """K_uhf, K_prf, K_enc, and zccseal3's K_iv (PROTOCOL.md "Keys")."""
    if suite == "zccseal3":
        return tuple(kdf(session_key, i, b"zcckeys3") for i in (1, 2, 3, 4))
    return tuple(kdf(session_key, i, b"zcckeys2") for i in (1, 2, 3))


def aes256(key, block):
    """One AES-256 block (FIPS-197), PyCryptodome's ECB."""
    return AES.new(key, AES.MODE_ECB).encrypt(block)


# FIPS-197 C.3, so the AES above is known good.
assert aes256(bytes(range(32)), bytes.fromhex("00112233445566778899aabbccddeeff")) == \
    bytes.fromhex("8ea2b7ca516745bfeafc49904b496089")


def aes256_ctr_xor(data, v, key):
    """AES-256-CTR from counter block v, incremented as one 128-bit
    big-endian number (NIST SP 800-38A's standard incrementing function
    over the whole block)."""
    ctr = AES.new(key, AES.MODE_CTR, nonce=b"", initial_value=v)
    return ctr.encrypt(data)


def counter_block(k_iv, nonce):
    """V = AES(K_iv, AES(K_iv, N[0..16)) ^ (N[16..24) || 0^8))."""
    x = aes256(k_iv, nonce[:16])
    y = bytes(a ^ b for a, b in zip(x, nonce[16:] + bytes(8)))
    return aes256(k_iv, y)


def poly1305(key, msg):
    """RFC 8439 2.5: clamp r, sum 17-byte blocks (16 bytes and a 1) times
    r^i mod 2^130 - 5, add s mod 2^128."""
    r = int.from_bytes(key[:16], "little") & 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF
    s = int.from_bytes(key[16:], "little")
    p, acc = (1 << 130) - 5, 0
    for i in range(0, len(msg), 16):
        n = int.from_bytes(msg[i:i + 16] + b"\x01", "little")
        acc = (acc + n) * r % p
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, "little")


def hchacha20(key, inp):
    """draft-irtf-cfrg-xchacha 2.2: the ChaCha20 state with the 16-byte
    input where counter and nonce go, 20 rounds, no feed-forward; words 0-3
    and 12-15 out."""
    m = 0xFFFFFFFF

    def qr(x, a, b, c, d):
        for (i, j, k, n) in ((a, b, d, 16), (c, d, b, 12),
                             (a, b, d, 8), (c, d, b, 7)):
            x[i] = (x[i] + x[j]) & m
            x[k] ^= x[i]
            x[k] = ((x[k] << n) | (x[k] >> (32 - n))) & m

    x = list(struct.unpack("<4I", b"expand 32-byte k") +
             struct.unpack("<8I", key) + struct.unpack("<4I", inp))
    for _ in range(10):
        qr(x, 0, 4, 8, 12), qr(x, 1, 5, 9, 13)
        qr(x, 2, 6, 10, 14), qr(x, 3, 7, 11, 15)
        qr(x, 0, 5, 10, 15), qr(x, 1, 6, 11, 12)
        qr(x, 2, 7, 8, 13), qr(x, 3, 4, 9, 14)
    return struct.pack("<8I", *(x[0:4] + x[12:16]))


# The published vectors, so the two functions above are known good.
assert poly1305(bytes.fromhex("85d6be7857556d337f4452fe42d506a8"
                              "0103808afb0db2fd4abff6af4149f51b"),
                b"Cryptographic Forum Research Group") == \
    bytes.fromhex("a8061dc1305136c6c22b8baf0c0127a9")      # RFC 8439 2.5.2
assert hchacha20(bytes(range(32)),
                 bytes.fromhex("000000090000004a0000000031415927")) == \
    bytes.fromhex("82413b4227b27bfed30e42508a877d73"
                  "a0f9e4d58a74a853c12ec41326d3ecdc")      # xchacha 2.2.1


def xchacha20_xor(data, nonce, key):
    out = ctypes.create_string_buffer(len(data))
    sodium.crypto_stream_xchacha20_xor(out, data, ctypes.c_ulonglong(len(data)),
                                       nonce, key)
    return out.raw


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def parse_options(opts):
    """[(kind, bytes)] up to EOL."""
    out, i = [], 0
    while i < len(opts):
        k = opts[i]
        if k == 0:
            break
        if k == 1:
            out.append((1, b"\x01"))
            i += 1
            continue
        n = opts[i + 1]
        out.append((k, opts[i:i + n]))
        i += n
    return out


def add_option(opts, key_id):
    """PROTOCOL.md "Making room": keep options up to EOL, trim SACK blocks
    last first until they fit beside the 16-byte option, pad with NOP."""
    parsed = parse_options(opts)

    def size(p):
        n = sum(len(b) for _, b in p)
        return (n + 3) // 4 * 4 + OPT_LEN

    trimmed = 0
    while size(parsed) > 40:
        i = next((i for i, (k, _) in enumerate(parsed) if k == 5), None)
        if i is None:
            return None, 0
        b = parsed[i][1]
        if len(b) - 8 >= 10:
            parsed[i] = (5, bytes([5, len(b) - 8]) + b[2:len(b) - 8])
        else:
            del parsed[i]
        trimmed += 1
    body = b"".join(b for _, b in parsed)
    body += b"\x01" * ((4 - len(body) % 4) % 4)
    return body + bytes([OPT_KIND, OPT_LEN]) + struct.pack("!H", EXID) + \
        bytes([key_id]) + bytes(11), trimmed


def ip_hlen(pkt):
    """IPv4: IHL * 4; IPv6: the fixed 40-byte header (TCP follows it)."""
    return 40 if pkt[0] >> 4 == 6 else (pkt[0] & 15) * 4


def addresses(ip):
    """(af byte of M, source, destination) of an IPv4 or IPv6 header."""
    if ip[0] >> 4 == 6:
        return 6, bytes(ip[8:24]), bytes(ip[24:40])
    return 4, bytes(ip[12:16]), bytes(ip[16:20])


def pseudo_header(ip, tcp_len):
    """RFC 793, and RFC 8200 8.1 for IPv6 (32-bit length and next header)."""
    af, src, dst = addresses(ip)
    if af == 6:
        return src + dst + struct.pack("!I", tcp_len) + bytes([0, 0, 0, 6])
    return src + dst + bytes([0, 6]) + struct.pack("!H", tcp_len)


def tag(keys, key_id, ip, tcp, payload, tag_off, suite):
    """t = HChaCha20(K_prf, H)[0..11) (zccseal2) or AES-256(K_prf,
    H)[0..11) (zccseal3), H = Poly1305(K_uhf, M)."""
    k_uhf, k_prf = keys[0], keys[1]
    z = bytearray(tcp)
    z[16:18] = b"\0\0"
    z[tag_off:tag_off + 11] = bytes(11)
    af, src, dst = addresses(ip)
    prefix = suite.encode() + bytes([key_id, af]) + src + dst + \
        bytes([6]) + struct.pack("!H", len(tcp) + len(payload))
    h = poly1305(k_uhf, prefix + bytes(z) + payload)
    if suite == "zccseal3":
        return aes256(k_prf, h)[:11]
    return hchacha20(k_prf, h)[:11]


def set_ip_length(ip, ihl, length):
    """IPv4: total length and header checksum; IPv6: payload length."""
    if ip[0] >> 4 == 6:
        struct.pack_into("!H", ip, 4, length - ihl)
        return
    struct.pack_into("!H", ip, 2, length)
    ip[10:12] = b"\0\0"
    struct.pack_into("!H", ip, 10, csum(bytes(ip)))


def seal(keys, key_id, pkt, suite="zccseal2"):
    ihl = ip_hlen(pkt)
    ip, rest = bytearray(pkt[:ihl]), pkt[ihl:]
    doff = (rest[12] >> 4) * 4
    tcp, payload = bytearray(rest[:doff]), rest[doff:]
    opts, trimmed = add_option(bytes(tcp[20:]), key_id)
    if opts is None:
        return None
    tcp = tcp[:20] + bytearray(opts)
    tcp[12] = (len(tcp) // 4) << 4 | (tcp[12] & 15)
    t = tag(keys, key_id, ip, tcp, payload, len(tcp) - 11, suite)
    tcp[len(tcp) - 11:] = t
    nonce = t + bytes(tcp[4:12]) + bytes(tcp[0:4]) + b"\0"
    if not payload:
        payload = b""
    elif suite == "zccseal3":
        payload = aes256_ctr_xor(payload, counter_block(keys[3], nonce), keys[2])
    else:
        payload = xchacha20_xor(payload, nonce, keys[2])
    set_ip_length(ip, ihl, ihl + len(tcp) + len(payload))
    tcp[16:18] = b"\0\0"
    pseudo = pseudo_header(ip, len(tcp) + len(payload))
    struct.pack_into("!H", tcp, 16, csum(pseudo + bytes(tcp) + payload))
    return bytes(ip) + bytes(tcp) + payload


def opened(pkt):
    """What the receiver delivers: the segment with its options as the sender
    rebuilt them (SACK trimmed, NOP padding) minus the zcc option."""
    ihl = ip_hlen(pkt)
    doff = (pkt[ihl + 12] >> 4) * 4
    tcp = pkt[ihl:ihl + doff]
    opts, _ = add_option(bytes(tcp[20:]), 0)
    sport, dport, seq, ack = struct.unpack("!HHII", tcp[:12])
    _, src, dst = addresses(pkt)
    return segment(src, dst, sport, dport, seq, ack, tcp[13],
                   opts[:-OPT_LEN], pkt[ihl + doff:])


def segment(src, dst, sport, dport, seq, ack, flags, opts, payload):
    """A plaintext IPv4/TCP or (16-byte addresses) IPv6/TCP segment with
    valid checksums; the IPv6 one with a flow label, hop limit 64."""
    tcp = bytearray(struct.pack("!HHIIBBHHH", sport, dport, seq, ack,
                                (5 + len(opts) // 4) << 4, flags, 64240, 0, 0) + opts)
    if len(src) == 16:
        ip = bytearray(struct.pack("!IHBB16s16s", 0x60012345,
                                   len(tcp) + len(payload), 6, 64, src, dst))
    else:
        ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0,
                                   20 + len(tcp) + len(payload),
                                   0x1234, 0x4000, 64, 6, 0, src, dst))
        struct.pack_into("!H", ip, 10, csum(bytes(ip)))
    pseudo = pseudo_header(ip, len(tcp) + len(payload))
    struct.pack_into("!H", tcp, 16, csum(pseudo + bytes(tcp) + payload))
    return bytes(ip) + bytes(tcp) + payload


A, B = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
A6 = socket.inet_pton(socket.AF_INET6, "2001:db8::1")
B6 = socket.inet_pton(socket.AF_INET6, "2001:db8::2")
TS = bytes([1, 1, 8, 10]) + struct.pack("!II", 0x01020304, 0x0A0B0C0D)


def three(a, b, v6):
    """The three segments of a vector set between a and b."""
    p = "IPv6 " if v6 else ""
    return [
        (p + "SYN with MSS, SACK-permitted, timestamps, window scale",
         segment(a, b, 40000, 80, 0x11223344, 0, 0x02,
                 bytes([2, 4, 0x05, 0xB4 - (20 if v6 else 0), 4, 2, 8, 10]) +
                 struct.pack("!II", 7, 0) + bytes([1, 3, 3, 7]), b"")),
        (p + "data segment with timestamps",
         segment(a, b, 40000, 80, 0x11223345, 0x55667788, 0x18, TS,
                 b"GET / HTTP/1.1\r\nHost: zcc.example\r\n\r\n")),
        (p + "ACK with timestamps and two SACK blocks (one is trimmed)",
         segment(b, a, 80, 40000, 0x55667788, 0x11223345, 0x10,
                 TS + bytes([1, 1, 5, 18]) +
                 struct.pack("!IIII", 1000, 2000, 3000, 4000), b"")),
    ]


VECTORS = three(A, B, False) + three(A6, B6, True)
LINK_KEY = bytes(range(32))


# zccseal3 adds a full-sized segment: 91 counter blocks, the last partial.
LONG = ("data segment with timestamps, 1448 bytes of payload",
        segment(A, B, 40000, 80, 0x11223345, 0x55667788, 0x10, TS,
                bytes(i % 251 for i in range(1448))))


def main():
    suite = sys.argv[1] if len(sys.argv) > 1 else "zccseal2"
    assert suite in ("zccseal2", "zccseal3")
    vectors = VECTORS + [LONG] if suite == "zccseal3" else VECTORS
    if suite == "zccseal3":
        print("suite: zccseal3")
    print("link-key: " + LINK_KEY.hex())
    for name, pkt in vectors:
        _, src, dst = addresses(pkt)
        session = static_direction_key(LINK_KEY, src, dst)
        keys = seal_keys(session, suite)
        print()
        print("vector: " + name)
        print("mac-key: " + keys[0].hex())
        print("prf-key: " + keys[1].hex())
        print("enc-key: " + keys[2].hex())
        if suite == "zccseal3":
            print("iv-key: " + keys[3].hex())
        print("in: " + pkt.hex())
        print("out: " + seal(keys, 0, pkt, suite).hex())
        print("opened: " + opened(pkt).hex())


if __name__ == "__main__":
    main()
