#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""An application that binds its own authentication to the zcc session,
as tcpcrypt's session IDs were meant to be used (docs/PROTOCOL.md,
"Session IDs"). The client proves who it is by signing the connection's
session ID with its Ed25519 key; the server checks the signature against
the session ID it sees itself. A man in the middle between the two zcc
ends would hold two zcc sessions, so the two ends would see two different
IDs and the signature would not verify, even if he relayed every byte.

    session-id-example.py genkey PRIVATE PUBLIC
    session-id-example.py server PORT CLIENT-PUBLIC
    session-id-example.py client HOST PORT PRIVATE

Each end asks its own zcctund for the ID (zccctl session-id, which needs
root, as every zccctl command does). The server prints "verified ID" and
answers "ok", or prints "refused" and answers "no"; it exits 0 only when
it verified. Python's cryptography package (python3-cryptography) signs.
"""
import os
import socket
import subprocess
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)
from cryptography.hazmat.primitives.serialization import (
    Encoding, NoEncryption, PrivateFormat, PublicFormat)

ZCCCTL = os.environ.get("ZCCCTL", "zccctl")
# What is signed: a label, so the signature means nothing anywhere else.
LABEL = b"session-id-example v1 client proof: "


def session_id(conn):
    """This end's session ID of conn, from its zcctund."""
    local, peer = conn.getsockname(), conn.getpeername()
    out = subprocess.run([ZCCCTL, "session-id", str(local[1]), peer[0],
                          str(peer[1])], check=True, capture_output=True,
                         text=True)
    return bytes.fromhex(out.stdout.strip())


def recv_exactly(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed early")
        data += chunk
    return data


def genkey(private, public):
    key = Ed25519PrivateKey.generate()
    with open(private, "wb", opener=lambda p, f: os.open(p, f, 0o600)) as f:
        f.write(key.private_bytes(Encoding.Raw, PrivateFormat.Raw,
                                  NoEncryption()))
    with open(public, "wb") as f:
        f.write(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    return 0


def server(port, client_public):
    key = Ed25519PublicKey.from_public_bytes(open(client_public, "rb").read())
    family = socket.AF_INET6 if os.environ.get("FAMILY") == "6" else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as ls:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("", int(port)))
        ls.listen(1)
        conn, _ = ls.accept()
        with conn:
            sid = session_id(conn)
            signature = recv_exactly(conn, 64)
            try:
                key.verify(signature, LABEL + sid)
            except InvalidSignature:
                print("refused", flush=True)
                conn.sendall(b"no")
                return 1
            print("verified", sid.hex(), flush=True)
            conn.sendall(b"ok")
            return 0


def client(host, port, private):
    key = Ed25519PrivateKey.from_private_bytes(open(private, "rb").read())
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        sid = session_id(conn)
        print(sid.hex(), flush=True)
        conn.sendall(key.sign(LABEL + sid))
        answer = recv_exactly(conn, 2)
    print("server says", answer.decode(), flush=True)
    return 0 if answer == b"ok" else 1


def main(argv):
    commands = {"genkey": (genkey, 2), "server": (server, 2),
                "client": (client, 3)}
    if len(argv) < 2 or argv[1] not in commands or \
            len(argv) - 2 != commands[argv[1]][1]:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    return commands[argv[1]][0](*argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
