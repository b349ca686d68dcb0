#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""An independent reference of the handshake in docs/PROTOCOL.md, used only
to produce the test vectors that docs/PROTOCOL.md lists and test_handshake
checks the C code against. Written from the Noise spec (rev 34) and the
document, not from src/handshake.c: X25519 and ChaCha20-Poly1305 from
python3-cryptography, SHA-256, HMAC and BLAKE2b from the standard library.

Before printing anything it reproduces the published Noise vectors in
test/unit/data/noise_nnpsk0.txt and test/unit/data/noise_ikpsk2.txt, so the
Noise core here is itself checked, for both patterns zcc uses.

    handshake_ref.py               print the vectors in the PROTOCOL.md format
    handshake_ref.py --pk          print only the public-key handshake's
                                   vectors, as PROTOCOL.md's section
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
NAME_IK = b"Noise_IKpsk2_25519_ChaChaPoly_SHA256"
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

    def __init__(self, prologue, name=NAME):
        if len(name) <= HASHLEN:
            self.h = name + bytes(HASHLEN - len(name))
        else:
            self.h = sha256(name)
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
    got = r.decrypt_and_hash(msg1[32:])  # -O drops asserts: not in one
    assert got == payload1
    # <- e, ee
    er = pub(e_r)
    r.mix_hash(er)
    r.mix_key(er)
    r.mix_key(dh(e_r, re))
    msg2 = er + r.encrypt_and_hash(payload2)
    i.mix_hash(msg2[:32])
    i.mix_key(msg2[:32])
    i.mix_key(dh(e_i, msg2[:32]))
    got = i.decrypt_and_hash(msg2[32:])  # -O drops asserts: not in one
    assert got == payload2
    assert i.h == r.h and i.split() == r.split()
    return msg1, msg2, i.split(), i.h


def ikpsk2(prologue, psk, s_i, s_r, e_i, e_r, payload1, payload2):
    """Both sides of "<- s" / ... / "-> e, es, s, ss" / "<- e, ee, se, psk";
    returns the two messages, (k1, k2) and the handshake hash, checking the
    two ends agree. The responder is given only its own keys: it learns the
    initiator's static public key from message 1, as a real one does."""
    rs = pub(s_r)
    i, r = Symmetric(prologue, NAME_IK), Symmetric(prologue, NAME_IK)
    # Pre-message "<- s": both ends know the responder's static key already.
    i.mix_hash(rs)
    r.mix_hash(rs)
    # -> e, es, s, ss  (psk mode: the e token also does MixKey(e.pub))
    ei = pub(e_i)
    i.mix_hash(ei)
    i.mix_key(ei)
    i.mix_key(dh(e_i, rs))
    c_s = i.encrypt_and_hash(pub(s_i))
    i.mix_key(dh(s_i, rs))
    msg1 = ei + c_s + i.encrypt_and_hash(payload1)
    re = msg1[:32]
    r.mix_hash(re)
    r.mix_key(re)
    r.mix_key(dh(s_r, re))
    ris = r.decrypt_and_hash(msg1[32:80])
    assert ris == pub(s_i)
    r.mix_key(dh(s_r, ris))
    got = r.decrypt_and_hash(msg1[80:])  # -O drops asserts: not in one
    assert got == payload1
    # <- e, ee, se, psk  (se: the initiator's static, the responder's
    # ephemeral)
    er = pub(e_r)
    r.mix_hash(er)
    r.mix_key(er)
    r.mix_key(dh(e_r, re))
    r.mix_key(dh(e_r, ris))
    r.mix_key_and_hash(psk)
    msg2 = er + r.encrypt_and_hash(payload2)
    i.mix_hash(msg2[:32])
    i.mix_key(msg2[:32])
    i.mix_key(dh(e_i, msg2[:32]))
    i.mix_key(dh(s_i, msg2[:32]))
    i.mix_key_and_hash(psk)
    got = i.decrypt_and_hash(msg2[32:])  # -O drops asserts: not in one
    assert got == payload2
    assert i.h == r.h and i.split() == r.split()
    return msg1, msg2, i.split(), i.h


def read_vector(path):
    """The "name: hex" fields of a published vector file and its messages as
    [payload, ciphertext] pairs, in order."""
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
    return fields, messages


def check_published_vector(path):
    fields, messages = read_vector(path)
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


def expect(path, what, got, want):
    """A mismatch with a published value stops the script, with both values
    (an exception, not assert, so that python3 -O checks too)."""
    if got != want:
        raise SystemExit("%s: %s differs from the published vector\n"
                         "  got  %s\n  want %s" % (path, what, got.hex(),
                                                   want.hex()))


def check_published_ikpsk2(path):
    fields, messages = read_vector(path)
    h = lambda k: bytes.fromhex(fields[k])
    expect(path, "protocol_name", fields["protocol_name"].encode(), NAME_IK)
    expect(path, "resp_prologue", h("resp_prologue"), h("init_prologue"))
    expect(path, "resp_psk", h("resp_psk"), h("init_psk"))
    # The file gives the initiator the responder's public key and the
    # responder its private key: they must be one key pair.
    expect(path, "init_remote_static", pub(h("resp_static")),
           h("init_remote_static"))
    if len(messages) < 3:
        raise SystemExit("%s: fewer than 3 messages" % path)
    msg1, msg2, (k1, k2), hh = ikpsk2(h("init_prologue"), h("init_psk"),
                                      h("init_static"), h("resp_static"),
                                      h("init_ephemeral"), h("resp_ephemeral"),
                                      messages[0][0], messages[1][0])
    expect(path, "message 1", msg1, messages[0][1])
    expect(path, "message 2", msg2, messages[1][1])
    expect(path, "handshake_hash", hh, h("handshake_hash"))
    counters = [0, 0]
    for i, (pt, ct) in enumerate(messages[2:]):
        side = i % 2           # initiator, responder, initiator, ...
        expect(path, "message %d" % (i + 3),
               encrypt((k1, k2)[side], counters[side], b"", pt), ct)
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


def mac1_key_pk(receiver_pub, psk):
    """The public-key handshake's: from the static public key of the end the
    message goes to and the psk (zero when the link has none), so only a
    sender that knows both gets past the receiver's one BLAKE2b."""
    return blake2b(b"zcc mac1 pk v1" + receiver_pub + psk, 32)


def with_mac1_key(key, body):
    return body + blake2b(body, 16, key)


def offer_byte(codec, suites):
    """Byte 1 of an init or a resp: the codec, and the suites beyond zccseal2
    (suites bit 0 is zccseal2, which every build runs, so it is not sent)."""
    return codec | (suites >> 1) << 4


def header(typ, offer, digest, *indices):
    return (struct.pack("<BB", typ, offer) + struct.pack(">H", digest) +
            struct.pack("<%dI" % len(indices), *indices))


def tai64n(sec, nsec):
    return struct.pack(">QI", (1 << 62) + sec, nsec)


def view(self_ip, peer_ip, port):
    """One end's view: family, zero, port (big-endian), its own address and
    the one it sends to, each padded with zeros to 16 bytes."""
    fam = 6 if len(self_ip) == 16 else 4
    return (struct.pack(">BxH", fam, port) + self_ip.ljust(16, b"\0") +
            peer_ip.ljust(16, b"\0"))


PROLOGUE = b"zcc handshake v2"


def payloads(ip_i, ip_r, key_id, stamp, port, seen_i=None, seen_r=None):
    """The init's payload (TAI64N, key id, 3 zero bytes, the initiator's view)
    and the resp's (the responder's view); the same in both handshakes."""
    payload1 = (stamp + bytes([key_id]) + bytes(3) +
                view(ip_i, seen_i or ip_r, port))
    payload2 = view(ip_r, seen_r or ip_i, port)
    return payload1, payload2


def zcc_handshake(psk, ip_i, ip_r, e_i, e_r, idx_i, idx_r, key_id, stamp,
                  port=7437, seen_i=None, seen_r=None):
    """seen_i: the responder's address as the initiator sends to it (NAT:
    not ip_r); seen_r: the initiator's as the responder sends to it."""
    payload1, payload2 = payloads(ip_i, ip_r, key_id, stamp, port, seen_i,
                                  seen_r)
    msg1, msg2, (k1, k2), _ = nnpsk0(PROLOGUE, psk, e_i, e_r, payload1,
                                     payload2)
    init = with_mac1(psk, struct.pack("<B3xI", 1, idx_i) + msg1)
    resp = with_mac1(psk, struct.pack("<B3xII", 2, idx_r, idx_i) + msg2)
    assert len(init) == 124 and len(resp) == 112
    return init, resp, k1, k2


def zcc_pk_handshake(psk, s_i, s_r, ip_i, ip_r, e_i, e_r, idx_i, idx_r, key_id,
                     stamp, port=7437, offer=0, digest=0):
    """The public-key handshake: IKpsk2 in the type-6 init and type-7 resp
    (type 5 is encapsulated data).
    psk is the link's shared key, or 32 zero bytes when it has none. Returns
    the two messages, both mac1 keys, k1, k2 and the handshake hash h after
    message 2 (the session's binding)."""
    payload1, payload2 = payloads(ip_i, ip_r, key_id, stamp, port)
    msg1, msg2, (k1, k2), hh = ikpsk2(PROLOGUE, psk, s_i, s_r, e_i, e_r,
                                      payload1, payload2)
    # Each message's mac1 is keyed to the static key of the end it goes to.
    key_to_r, key_to_i = mac1_key_pk(pub(s_r), psk), mac1_key_pk(pub(s_i), psk)
    init = with_mac1_key(key_to_r, header(6, offer, digest, idx_i) + msg1)
    resp = with_mac1_key(key_to_i,
                         header(7, offer, digest, idx_r, idx_i) + msg2)
    assert len(init) == 172 and len(resp) == 112
    return {"init": init, "resp": resp, "mac1-key-to-responder": key_to_r,
            "mac1-key-to-initiator": key_to_i, "k1": k1, "k2": k2, "hash": hh}


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
# The public-key vectors' static private keys: the same kind of pattern as
# the ephemerals, in byte ranges no other input of this script uses.
S_I = bytes(range(0xa0, 0xc0))
S_R = bytes(range(0xc0, 0xe0))
# The existing vectors' byte 1 and ports digest: codec none, zccseal2 alone,
# no port selected.
CODEC, SUITES, DIGEST = 0, 1, 0


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


PK_INTRO = """\
## Public-key handshake test vectors

Produced by `test/unit/handshake_ref.py --pk`, which first reproduces the
published Noise vector in `test/unit/data/noise_ikpsk2.txt`
(`Noise_IKpsk2_25519_ChaChaPoly_SHA256`: both handshake messages, the
handshake hash and the transport messages). The static keys are X25519
private keys as stored (`-static`, 32 bytes) with their public keys
(`-static-public`); every other input is the "Handshake test vectors"
block's: addresses, port, ephemerals, indices, key id and time, byte 1 and
the ports digest zero. The unprefixed lines are a link with no shared key
(`psk` is 32 zero bytes): `mac1-key-to-responder` keys the init's mac1 (from
the responder's public key), `mac1-key-to-initiator` the resp's (from the
initiator's); `init` (type 6) and `resp` (type 7) are as sent; `key-i2r` (k1)
and `key-r2i` (k2) are the session keys and `handshake-hash` is Noise's `h`
after message 2, the session's binding. The `shared-` lines are the same
handshake on a link that also has the shared key `shared-psk` (the other
block's `psk`): the psk enters the mac1 keys at once but Noise only at
message 2 (psk2), so `shared-init` differs from `init` in its mac1 alone,
while the resp, the session keys and the hash all differ.
"""


def pk_main():
    stamp = tai64n(SEC, NSEC)
    offer = offer_byte(CODEC, SUITES)
    a = zcc_pk_handshake(bytes(32), S_I, S_R, IP_I, IP_R, E_I, E_R, IDX_I,
                         IDX_R, KEY_ID, stamp, offer=offer, digest=DIGEST)
    b = zcc_pk_handshake(PSK, S_I, S_R, IP_I, IP_R, E_I, E_R, IDX_I, IDX_R,
                         KEY_ID, stamp, offer=offer, digest=DIGEST)
    # What the paragraph above says: message 1 does not depend on the psk.
    assert a["init"][:156] == b["init"][:156] and a["init"] != b["init"]
    print(PK_INTRO)
    print("```")
    print("initiator-static: " + S_I.hex())
    print("initiator-static-public: " + pub(S_I).hex())
    print("responder-static: " + S_R.hex())
    print("responder-static-public: " + pub(S_R).hex())
    print("initiator-address: 10.0.0.1")
    print("responder-address: 10.0.0.2")
    print("port: 7437")
    print("initiator-ephemeral: " + E_I.hex())
    print("initiator-index: %08x" % IDX_I)
    print("key-id: %d" % KEY_ID)
    print("time: %d.%09d" % (SEC, NSEC))
    print("tai64n: " + stamp.hex())
    print("responder-ephemeral: " + E_R.hex())
    print("responder-index: %08x" % IDX_R)
    for prefix, psk, v in (("", bytes(32), a), ("shared-", PSK, b)):
        print(prefix + "psk: " + psk.hex())
        print(prefix + "mac1-key-to-responder: " +
              v["mac1-key-to-responder"].hex())
        print(prefix + "mac1-key-to-initiator: " +
              v["mac1-key-to-initiator"].hex())
        print(prefix + "init: " + v["init"].hex())
        print(prefix + "resp: " + v["resp"].hex())
        print(prefix + "key-i2r: " + v["k1"].hex())
        print(prefix + "key-r2i: " + v["k2"].hex())
        print(prefix + "handshake-hash: " + v["hash"].hex())
    print("```")


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
    # The public-key pair of the harness: the --pk vectors' keys.
    for prefix, psk in (("pk-", bytes(32)), ("pk-shared-", PSK)):
        h = zcc_pk_handshake(psk, S_I, S_R, IP_I, IP_R, E_I, E_R, IDX_I,
                             IDX_R, KEY_ID, tai64n(SEC, NSEC),
                             offer=offer_byte(CODEC, SUITES), digest=DIGEST)
        seeds[prefix + "init"], seeds[prefix + "resp"] = h["init"], h["resp"]
    for name, data in seeds.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    check_published_vector(os.path.join(HERE, "data", "noise_nnpsk0.txt"))
    check_published_ikpsk2(os.path.join(HERE, "data", "noise_ikpsk2.txt"))
    if len(sys.argv) == 3 and sys.argv[1] == "--corpus":
        corpus(sys.argv[2])
    elif len(sys.argv) == 2 and sys.argv[1] == "--pk":
        pk_main()
    else:
        main()
