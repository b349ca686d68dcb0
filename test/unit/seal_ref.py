#!/usr/bin/python3
"""An independent reference of docs/PROTOCOL.md (BLAKE2b from hashlib,
XChaCha20 from libsodium through ctypes), used to produce the test vectors
that docs/PROTOCOL.md lists and test_seal checks against the C code.

    seal_ref.py            print the vectors in the PROTOCOL.md format
"""
import ctypes
import ctypes.util
import hashlib
import struct

sodium = ctypes.CDLL(ctypes.util.find_library("sodium"))
assert sodium.sodium_init() >= 0

OPT_KIND, OPT_LEN, EXID = 253, 16, 0x7A63


def kdf(key, subkey_id, ctx, outlen=32):
    """crypto_kdf_derive_from_key (libsodium 1.0.18: BLAKE2b, salt = id, person = ctx)."""
    return hashlib.blake2b(b"", digest_size=outlen, key=key,
                           salt=struct.pack("<Q", subkey_id) + bytes(8),
                           person=ctx + bytes(8)).digest()


def static_direction_key(link_key, src, dst):
    sid = (int.from_bytes(src, "big") << 32) | int.from_bytes(dst, "big")
    return kdf(link_key, sid, b"zccstat1")


def seal_keys(session_key):
    return kdf(session_key, 1, b"zcckeys1"), kdf(session_key, 2, b"zcckeys1")


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


def tag(k_mac, key_id, ip, tcp, payload, tag_off):
    z = bytearray(tcp)
    z[16:18] = b"\0\0"
    z[tag_off:tag_off + 11] = bytes(11)
    prefix = b"zccseal1" + bytes([key_id, 4]) + ip[12:16] + ip[16:20] + \
        bytes([6]) + struct.pack("!H", len(tcp) + len(payload))
    return hashlib.blake2b(prefix + bytes(z) + payload, digest_size=16,
                           key=k_mac).digest()[:11]


def seal(k_mac, k_enc, key_id, pkt):
    ihl = (pkt[0] & 15) * 4
    ip, rest = bytearray(pkt[:ihl]), pkt[ihl:]
    doff = (rest[12] >> 4) * 4
    tcp, payload = bytearray(rest[:doff]), rest[doff:]
    opts, trimmed = add_option(bytes(tcp[20:]), key_id)
    if opts is None:
        return None
    tcp = tcp[:20] + bytearray(opts)
    tcp[12] = (len(tcp) // 4) << 4 | (tcp[12] & 15)
    t = tag(k_mac, key_id, ip, tcp, payload, len(tcp) - 11)
    tcp[len(tcp) - 11:] = t
    nonce = t + bytes(tcp[4:12]) + bytes(tcp[0:4]) + b"\0"
    payload = xchacha20_xor(payload, nonce, k_enc) if payload else b""
    struct.pack_into("!H", ip, 2, ihl + len(tcp) + len(payload))
    ip[10:12] = b"\0\0"
    struct.pack_into("!H", ip, 10, csum(bytes(ip)))
    tcp[16:18] = b"\0\0"
    pseudo = ip[12:20] + bytes([0, 6]) + struct.pack("!H", len(tcp) + len(payload))
    struct.pack_into("!H", tcp, 16, csum(bytes(pseudo) + bytes(tcp) + payload))
    return bytes(ip) + bytes(tcp) + payload


def opened(pkt):
    """What the receiver delivers: the segment with its options as the sender
    rebuilt them (SACK trimmed, NOP padding) minus the zcc option."""
    ihl = (pkt[0] & 15) * 4
    doff = (pkt[ihl + 12] >> 4) * 4
    tcp = pkt[ihl:ihl + doff]
    opts, _ = add_option(bytes(tcp[20:]), 0)
    sport, dport, seq, ack = struct.unpack("!HHII", tcp[:12])
    return segment(pkt[12:16], pkt[16:20], sport, dport, seq, ack, tcp[13],
                   opts[:-OPT_LEN], pkt[ihl + doff:])


def segment(src, dst, sport, dport, seq, ack, flags, opts, payload):
    """A plaintext IPv4/TCP segment with valid checksums."""
    tcp = bytearray(struct.pack("!HHIIBBHHH", sport, dport, seq, ack,
                                (5 + len(opts) // 4) << 4, flags, 64240, 0, 0) + opts)
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload),
                               0x1234, 0x4000, 64, 6, 0, src, dst))
    struct.pack_into("!H", ip, 10, csum(bytes(ip)))
    pseudo = src + dst + bytes([0, 6]) + struct.pack("!H", len(tcp) + len(payload))
    struct.pack_into("!H", tcp, 16, csum(pseudo + bytes(tcp) + payload))
    return bytes(ip) + bytes(tcp) + payload


A, B = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
TS = bytes([1, 1, 8, 10]) + struct.pack("!II", 0x01020304, 0x0A0B0C0D)
VECTORS = [
    ("SYN with MSS, SACK-permitted, timestamps, window scale",
     segment(A, B, 40000, 80, 0x11223344, 0, 0x02,
             bytes([2, 4, 0x05, 0xB4, 4, 2, 8, 10]) + struct.pack("!II", 7, 0) +
             bytes([1, 3, 3, 7]), b"")),
    ("data segment with timestamps",
     segment(A, B, 40000, 80, 0x11223345, 0x55667788, 0x18, TS,
             b"GET / HTTP/1.1\r\nHost: zcc.example\r\n\r\n")),
    ("ACK with timestamps and two SACK blocks (one is trimmed)",
     segment(B, A, 80, 40000, 0x55667788, 0x11223345, 0x10,
             TS + bytes([1, 1, 5, 18]) + struct.pack("!IIII", 1000, 2000, 3000, 4000),
             b"")),
]
LINK_KEY = bytes(range(32))


def main():
    print("link-key: " + LINK_KEY.hex())
    for name, pkt in VECTORS:
        src, dst = pkt[12:16], pkt[16:20]
        session = static_direction_key(LINK_KEY, src, dst)
        k_mac, k_enc = seal_keys(session)
        print()
        print("vector: " + name)
        print("mac-key: " + k_mac.hex())
        print("enc-key: " + k_enc.hex())
        print("in: " + pkt.hex())
        print("out: " + seal(k_mac, k_enc, 0, pkt).hex())
        print("opened: " + opened(pkt).hex())


if __name__ == "__main__":
    main()
