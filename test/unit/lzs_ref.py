#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""An independent LZS decoder (ANSI X3.241 as RFC 1974, RFC 2395 and
RFC 3943 describe it), written from the format rules and not from
src/lzs.c, to check the hand-assembled vectors that test_compress.c uses.

    lzs_ref.py FILE           check every block of FILE (test/unit/data/
                              lzs_vectors.txt): its bits pack to its stream,
                              the stream decodes to its output (or is
                              refused under its limit), no proper prefix
                              of an accepted stream and no stream with a
                              byte appended is accepted
    lzs_ref.py --fill FILE    print FILE with each "stream: ?" replaced by
                              its bits packed into bytes
    lzs_ref.py --pairs FILE   check lines "DATA STREAM" (hex, "-" for no
                              bytes) that test_compress.c writes: each
                              stream, made by src/lzs.c from DATA, decodes
                              to DATA
    lzs_ref.py --decode HEX   print the decoded bytes of one stream, hex

The rules, bits most significant first:
    literal     0 + 8 bits
    match       1, offset, length
      offset    1 + 7 bits (1..127), or 0 + 11 bits (1..2047; 0 invalid)
      length    00 01 10 = 2 3 4; 1100 1101 1110 = 5 6 7; 1111 then
                nibbles: 8, plus 15 for each 1111, plus the last nibble
    end marker  1 1 0000000 (a 7-bit offset of 0)
    after it    zero bits up to the byte boundary, then nothing
"""
import re
import sys

NO_LIMIT = 1 << 30


class Refused(Exception):
    pass


class Bits:
    """The input as a list of bits, read front to back."""

    def __init__(self, data):
        self.bits = [(b >> (7 - k)) & 1 for b in data for k in range(8)]
        self.pos = 0

    def take(self, n):
        if self.pos + n > len(self.bits):
            raise Refused("truncated")
        v = 0
        for b in self.bits[self.pos:self.pos + n]:
            v = v << 1 | b
        self.pos += n
        return v

    def rest(self):
        return self.bits[self.pos:]


def read_length(r):
    v = r.take(2)
    if v != 3:
        return 2 + v
    v = r.take(2)
    if v != 3:
        return 5 + v
    length = 8
    while True:
        v = r.take(4)
        length += v
        if v != 15:
            return length


def decode(data, limit=NO_LIMIT):
    """The output bytes, or Refused."""
    if not data:
        raise Refused("no bytes")
    r = Bits(data)
    out = bytearray()
    while True:
        if r.take(1) == 0:
            out.append(r.take(8))
            if len(out) > limit:
                raise Refused("literal beyond the limit")
            continue
        if r.take(1) == 1:
            offset = r.take(7)
            if offset == 0:
                break
        else:
            offset = r.take(11)
            if offset == 0:
                raise Refused("11-bit offset 0")
        length = read_length(r)
        if offset > len(out):
            raise Refused("offset %d before the start (%d bytes)"
                          % (offset, len(out)))
        if len(out) + length > limit:
            raise Refused("match beyond the limit")
        for _ in range(length):
            out.append(out[-offset])
    rest = r.rest()
    if len(rest) >= 8:
        raise Refused("bytes after the end marker")
    if any(rest):
        raise Refused("nonzero padding")
    return bytes(out)


def expand_bits(text):
    """'0 0110*2 11' -> '0011001101 1': groups, with B*N repeating B."""
    out = []
    for group in text.split():
        m = re.fullmatch(r"([01]+)(?:\*(\d+))?", group)
        if not m:
            raise ValueError("bad bits group %r" % group)
        out.append(m.group(1) * int(m.group(2) or 1))
    return "".join(out)


def pack(bitstring):
    if len(bitstring) % 8:
        raise ValueError("%d bits, not whole bytes" % len(bitstring))
    return bytes(int(bitstring[i:i + 8], 2)
                 for i in range(0, len(bitstring), 8))


def expand_hex(text):
    """'ab*3 5a' -> bytes ab ab ab 5a."""
    out = bytearray()
    for group in text.split():
        m = re.fullmatch(r"([0-9a-fA-F]+)(?:\*(\d+))?", group)
        if not m:
            raise ValueError("bad hex group %r" % group)
        out += bytes.fromhex(m.group(1)) * int(m.group(2) or 1)
    return bytes(out)


def blocks(path):
    """[(line number, {key: value})] of the blocks of path."""
    result, cur = [], None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            if not line.strip():
                cur = None
                continue
            key, sep, value = line.partition(":")
            if not sep:
                raise ValueError("%s:%d: no 'key:'" % (path, n))
            if cur is None:
                cur = {}
                result.append((n, cur))
            cur[key.strip()] = value.strip()
    return result


def check_block(where, b):
    """A list of failures (strings) for one block."""
    fails = []
    packed = pack(expand_bits(b["bits"]))
    stream = b"" if b["stream"] == "-" else bytes.fromhex(b["stream"])
    if packed != stream:
        fails.append("%s: bits pack to %s, stream says %s"
                     % (where, packed.hex() or "-", stream.hex() or "-"))
    if "output" in b:
        want = expand_hex(b["output"])
        try:
            got = decode(stream)
        except Refused as e:
            return fails + ["%s: refused (%s)" % (where, e)]
        if got != want:
            fails.append("%s: decodes to %s" % (where, got.hex()))
        for cut in range(len(stream)):
            try:
                decode(stream[:cut])
                fails.append("%s: prefix of %d bytes accepted" % (where, cut))
            except Refused:
                pass
        try:
            decode(stream + b"\0")
            fails.append("%s: accepted with a byte appended" % where)
        except Refused:
            pass
    else:
        try:
            got = decode(stream, int(b["reject"]))
            fails.append("%s: accepted, %d bytes" % (where, len(got)))
        except Refused:
            pass
    return fails


def check(path):
    fails, count = [], 0
    for n, b in blocks(path):
        fails += check_block("%s:%d (%s)" % (path, n, b.get("name")), b)
        count += 1
    for f in fails:
        print(f, file=sys.stderr)
    print("%d blocks, %d failures" % (count, len(fails)))
    return 1 if fails else 0


def pairs(path):
    fails, count = 0, 0
    with open(path) as f:
        for n, line in enumerate(f, 1):
            data, stream = (b"" if x == "-" else bytes.fromhex(x)
                            for x in line.split())
            count += 1
            try:
                if decode(stream) == data:
                    continue
                why = "decodes to other bytes"
            except Refused as e:
                why = "refused (%s)" % e
            print("%s:%d: %d-byte stream %s" % (path, n, len(stream), why),
                  file=sys.stderr)
            fails += 1
    print("%d compressed streams, %d failures" % (count, fails))
    return 1 if fails or not count else 0


def fill(path):
    bits = None
    with open(path) as f:
        for line in f:
            if line.startswith("bits:"):
                bits = line[5:]
            if line.startswith("stream: ?"):
                line = "stream: %s\n" % (pack(expand_bits(bits)).hex() or "-")
            sys.stdout.write(line)
    return 0


def main(argv):
    if len(argv) == 2:
        return check(argv[1])
    if len(argv) == 3 and argv[1] == "--pairs":
        return pairs(argv[2])
    if len(argv) == 3 and argv[1] == "--fill":
        return fill(argv[2])
    if len(argv) == 3 and argv[1] == "--decode":
        print(decode(bytes.fromhex(argv[2])).hex())
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
