#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""An independent reference of the handshake in docs/PROTOCOL.md, used only
to produce the test vectors that docs/PROTOCOL.md lists and test_handshake
checks the C code against. Written from the Noise spec (rev 34) and the
document, not from src/handshake.c: X25519 and ChaCha20-Poly1305 from
python3-cryptography, SHA-256, HMAC and BLAKE2b from the standard library.

Before printing anything it reproduces the published Noise vector in
test/unit/data/noise_nnpsk0.txt, so the Noise core here is itself checked.

    handshake_ref.py               print the vectors in the PROTOCOL.md format
    handshake_ref.py --corpus DIR  write the fuzzing seeds (test/fuzz/corpus/handshake)
"""
import hashlib
import hmac
import os
import socket
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.x25519 import (X25519PrivateKey,
                                                              X25519PublicKey)
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

HERE = os.path.dirname(os.path.abspath(__file__))
NAME = b"Noise_NNpsk0_25519_ChaChaPoly_SHA256"
HASHLEN = 32


# ---- Noise, from the specification ----

def sha256(data):
    return hashlib.sha256(data).digest()


def hkdf(ck, ikm, n):
    temp = hmac.new(ck, ikm, hashlib.sha256).digest()
    outs, prev = [], b""
    for i in range(1, n + 1):
        prev = hmac.new(temp, prev + bytes([i]), hashlib.sha256).digest()
        outs.append(prev)
    return outs


def noise_nonce(n):
    return bytes(4) + struct.pack("<Q", n)


def encrypt(k, n, ad, pt):
    return ChaCha20Poly1305(k).encrypt(noise_nonce(n), pt, ad)


def decrypt(k, n, ad, ct):
    return ChaCha20Poly1305(k).decrypt(noise_nonce(n), ct, ad)


def pub(priv):
    return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)


def dh(priv, peer):
    out = X25519PrivateKey.from_private_bytes(priv).exchange(
        X25519PublicKey.from_public_bytes(peer))
    assert out != bytes(32)
    return out


class Symmetric:
    """SymmetricState and its CipherState (k, n)."""

    def __init__(self, prologue):
        if len(NAME) <= HASHLEN:
            self.h = NAME + bytes(HASHLEN - len(NAME))
        else:
            self.h = sha256(NAME)
        self.ck = self.h
        self.k, self.n = None, 0
        self.mix_hash(prologue)

    def mix_hash(self, data):
        self.h = sha256(self.h + data)

    def mix_key(self, ikm):
        self.ck, self.k = hkdf(self.ck, ikm, 2)
        self.n = 0

    def mix_key_and_hash(self, ikm):
        self.ck, temp_h, self.k = hkdf(self.ck, ikm, 3)
        self.mix_hash(temp_h)
        self.n = 0

    def encrypt_and_hash(self, pt):
        ct = encrypt(self.k, self.n, self.h, pt)
        self.n += 1
        self.mix_hash(ct)
        return ct

    def decrypt_and_hash(self, ct):
        pt = decrypt(self.k, self.n, self.h, ct)
        self.n += 1
        self.mix_hash(ct)
        return pt

    def split(self):
        return hkdf(self.ck, b"", 2)


def nnpsk0(prologue, psk, e_i, e_r, payload1, payload2):
    """Both sides of "-> psk, e" / "<- e, ee"; returns the two messages,
    (k1, k2) and the handshake hash, checking the two ends agree."""
    i, r = Symmetric(prologue), Symmetric(prologue)
    # -> psk, e  (psk mode: the e token also does MixKey(e.pub))
    i.mix_key_and_hash(psk)
    ei = pub(e_i)
    i.mix_hash(ei)
    i.mix_key(ei)
    msg1 = ei + i.encrypt_and_hash(payload1)
    r.mix_key_and_hash(psk)
    re = msg1[:32]
    r.mix_hash(re)
    r.mix_key(re)
    assert r.decrypt_and_hash(msg1[32:]) == payload1
    # <- e, ee
    er = pub(e_r)
    r.mix_hash(er)
    r.mix_key(er)
    r.mix_key(dh(e_r, re))
    msg2 = er + r.encrypt_and_hash(payload2)
    i.mix_hash(msg2[:32])
    i.mix_key(msg2[:32])
    i.mix_key(dh(e_i, msg2[:32]))
    assert i.decrypt_and_hash(msg2[32:]) == payload2
    assert i.h == r.h and i.split() == r.split()
    return msg1, msg2, i.split(), i.h


def check_published_vector(path):
    fields, messages = {}, []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or ":" not in line:
                continue
            k, v = (s.strip() for s in line.split(":", 1))
            if k == "payload":
                messages.append([bytes.fromhex(v), None])
            elif k == "ciphertext":
                messages[-1][1] = bytes.fromhex(v)
            else:
                fields[k] = v
    assert fields["protocol_name"] == NAME.decode()
    h = lambda k: bytes.fromhex(fields[k])
    assert h("init_prologue") == h("resp_prologue") and h("init_psk") == h("resp_psk")
    msg1, msg2, (k1, k2), hh = nnpsk0(h("init_prologue"), h("init_psk"),
                                      h("init_ephemeral"), h("resp_ephemeral"),
                                      messages[0][0], messages[1][0])
    assert msg1 == messages[0][1], "message 1"
    assert msg2 == messages[1][1], "message 2"
    assert hh == h("handshake_hash"), "handshake hash"
    counters = [0, 0]
    for i, (pt, ct) in enumerate(messages[2:]):
        side = i % 2           # initiator, responder, initiator, ...
        assert encrypt((k1, k2)[side], counters[side], b"", pt) == ct, i + 3
        counters[side] += 1


# ---- zcc, from docs/PROTOCOL.md ----

def blake2b(data, size, key=b""):
    return hashlib.blake2b(data, digest_size=size, key=key).digest()


def kdf(key, subkey_id, ctx, outlen=32):
    """crypto_kdf_derive_from_key (libsodium 1.0.18: BLAKE2b, salt = id, person = ctx)."""
    return hashlib.blake2b(b"", digest_size=outlen, key=key,
                           salt=struct.pack("<Q", subkey_id) + bytes(8),
                           person=ctx + bytes(8)).digest()


def mac1_key(psk):
    return blake2b(b"zcc mac1 v1" + psk, 32)


def with_mac1(psk, body):
    return body + blake2b(body, 16, mac1_key(psk))


def tai64n(sec, nsec):
    return struct.pack(">QI", (1 << 62) + sec, nsec)


def view(self_ip, peer_ip, port):
    """One end's view: family, zero, port (big-endian), its own address and
    the one it sends to, each padded with zeros to 16 bytes."""
    fam = 6 if len(self_ip) == 16 else 4
    return (struct.pack(">BxH", fam, port) + self_ip.ljust(16, b"\0") +
            peer_ip.ljust(16, b"\0"))


def zcc_handshake(psk, ip_i, ip_r, e_i, e_r, idx_i, idx_r, key_id, stamp,
                  port=7437, seen_i=None, seen_r=None):
    """seen_i: the responder's address as the initiator sends to it (NAT:
    not ip_r); seen_r: the initiator's as the responder sends to it."""
    prologue = b"zcc handshake v2"
    payload1 = (stamp + bytes([key_id]) + bytes(3) +
                view(ip_i, seen_i or ip_r, port))
    payload2 = view(ip_r, seen_r or ip_i, port)
    msg1, msg2, (k1, k2), _ = nnpsk0(prologue, psk, e_i, e_r, payload1,
                                     payload2)
    init = with_mac1(psk, struct.pack("<B3xI", 1, idx_i) + msg1)
    resp = with_mac1(psk, struct.pack("<B3xII", 2, idx_r, idx_i) + msg2)
    assert len(init) == 124 and len(resp) == 112
    return init, resp, k1, k2


def echo_key(session_key):
    return kdf(session_key, 3, b"zcckeys1")


def echo(key, typ, receiver_index, counter):
    header = struct.pack("<B3xIQ", typ, receiver_index, counter)
    return header + encrypt(key, counter, header, b"")


PSK = bytes(range(32))
IP_I, IP_R = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
# The IPv6 vector: the same values but 16-byte addresses in the prologue.
IP6_I = socket.inet_pton(socket.AF_INET6, "2001:db8::1")
IP6_R = socket.inet_pton(socket.AF_INET6, "2001:db8::2")
# The NAT vector: each end addresses the other by a public address.
NAT_R = bytes([203, 0, 113, 2])
NAT_I = bytes([198, 51, 100, 1])
E_I = bytes(range(0x40, 0x60))
E_R = bytes(range(0x60, 0x80))
IDX_I, IDX_R = 0x11223344, 0x55667788
KEY_ID = 1
SEC, NSEC = 1700000000, 123456789


def vectors():
    stamp = tai64n(SEC, NSEC)
    init, resp, k1, k2 = zcc_handshake(PSK, IP_I, IP_R, E_I, E_R, IDX_I, IDX_R,
                                       KEY_ID, stamp)
    ek1, ek2 = echo_key(k1), echo_key(k2)
    return {
        "stamp": stamp, "init": init, "resp": resp, "k1": k1, "k2": k2,
        "ek1": ek1, "ek2": ek2,
        "echo-request": echo(ek1, 3, IDX_R, 1),
        "echo-reply": echo(ek2, 4, IDX_I, 1),
    }


def main():
    v = vectors()
    print("psk: " + PSK.hex())
    print("initiator-address: 10.0.0.1")
    print("responder-address: 10.0.0.2")
    print("port: 7437")
    print("mac1-key: " + mac1_key(PSK).hex())
    print("initiator-ephemeral: " + E_I.hex())
    print("initiator-index: %08x" % IDX_I)
    print("key-id: %d" % KEY_ID)
    print("time: %d.%09d" % (SEC, NSEC))
    print("tai64n: " + v["stamp"].hex())
    print("responder-ephemeral: " + E_R.hex())
    print("responder-index: %08x" % IDX_R)
    print("init: " + v["init"].hex())
    print("resp: " + v["resp"].hex())
    print("key-i2r: " + v["k1"].hex())
    print("key-r2i: " + v["k2"].hex())
    print("echo-key-i2r: " + v["ek1"].hex())
    print("echo-request: " + v["echo-request"].hex())
    print("echo-key-r2i: " + v["ek2"].hex())
    print("echo-reply: " + v["echo-reply"].hex())
    init6, resp6, k1_6, k2_6 = zcc_handshake(PSK, IP6_I, IP6_R, E_I, E_R, IDX_I,
                                             IDX_R, KEY_ID, v["stamp"])
    print("ipv6-initiator-address: 2001:db8::1")
    print("ipv6-responder-address: 2001:db8::2")
    print("ipv6-init: " + init6.hex())
    print("ipv6-resp: " + resp6.hex())
    print("ipv6-key-i2r: " + k1_6.hex())
    print("ipv6-key-r2i: " + k2_6.hex())
    init_n, resp_n, _, _ = zcc_handshake(PSK, IP_I, IP_R, E_I, E_R, IDX_I, IDX_R,
                                         KEY_ID, v["stamp"], seen_i=NAT_R,
                                         seen_r=NAT_I)
    print("nat-initiator-sends-to: 203.0.113.2")
    print("nat-responder-sends-to: 198.51.100.1")
    print("nat-init: " + init_n.hex())
    print("nat-resp: " + resp_n.hex())


def corpus(directory):
    """Valid messages under the fuzz harness's configuration (the vector's)."""
    v = vectors()
    os.makedirs(directory, exist_ok=True)
    init2, _, k1b, _ = zcc_handshake(PSK, IP_I, IP_R, bytes(range(0x80, 0xa0)),
                                     E_R, 0xdeadbeef, IDX_R, 2, tai64n(SEC + 5, 0))
    seeds = {
        "init": v["init"], "init2": init2, "resp": v["resp"],
        "echo-request": v["echo-request"], "echo-reply": v["echo-reply"],
        "echo-request-big": echo(v["ek1"], 3, IDX_R, 1 << 40),
        "short": bytes([1, 0, 0]),
    }
    for name, data in seeds.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    check_published_vector(os.path.join(HERE, "data", "noise_nnpsk0.txt"))
    if len(sys.argv) == 3 and sys.argv[1] == "--corpus":
        corpus(sys.argv[2])
    else:
        main()
