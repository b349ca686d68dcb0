#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Where a process holds the link key: memscan.py PID KEYFILE [--no-lock].

Reads every readable mapping of PID through /proc/PID/mem (as root) and
looks for the 32 key bytes (the base64 line of KEYFILE, decoded). Each
mapping that holds them must be locked and left out of core dumps (VmFlags
"lo" and "dd" in /proc/PID/smaps). Prints one line: the mappings that hold
the key and how many mappings are locked and not dumped. Exits 1 when the
key is in a mapping without both flags, or nowhere (then the scan proved
nothing), 2 on a usage or read error.
"""
import base64
import re
import sys

SKIP = ("[vvar]", "[vsyscall]", "[vvar_vclock]")
BIG = 1 << 30           # larger mappings are a sanitizer's reservations
CHUNK = 1 << 20


def contains(mem, start, end, key):
    """Whether [start, end) of mem holds key, read in chunks that overlap."""
    at, tail = start, b""
    while at < end:
        try:
            mem.seek(at)
            data = mem.read(min(CHUNK, end - at))
        except OSError:
            return False
        if key in tail + data:
            return True
        tail = data[-(len(key) - 1):]
        at += len(data) or CHUNK
    return False


def mappings(pid):
    """(start, end, perms, name, flags) of each mapping, from smaps."""
    out, cur = [], None
    head = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$")
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            m = head.match(line)
            if m:
                cur = [int(m.group(1), 16), int(m.group(2), 16), m.group(3),
                       m.group(4), set()]
                out.append(cur)
            elif line.startswith("VmFlags:") and cur is not None:
                cur[4] = set(line.split()[1:])
    return out


def main():
    # --no-lock: a sanitizer's mlock does nothing (ASan ignores it), so only
    # "dd" can be asked of a sanitized build.
    need = {"lo", "dd"}
    if len(sys.argv) == 4 and sys.argv[3] == "--no-lock":
        need = {"dd"}
        del sys.argv[3]
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    pid = int(sys.argv[1])
    with open(sys.argv[2]) as f:
        key = base64.b64decode(f.read().strip())
    if len(key) != 32:
        print("memscan: %s does not hold a 32-byte key" % sys.argv[2])
        return 2
    held, bad, locked = [], [], 0
    with open("/proc/%d/mem" % pid, "rb", buffering=0) as mem:
        for start, end, perms, name, flags in mappings(pid):
            if {"lo", "dd"} <= flags:
                locked += 1
            # ASan's shadow is terabytes of reserved, untouched memory.
            if perms[0] != "r" or name in SKIP or end - start > BIG:
                continue
            if contains(mem, start, end, key):
                where = "%x-%x %s %s [%s]" % (start, end, perms, name or "anon",
                                              " ".join(sorted(flags & {"lo", "dd", "wf"})))
                held.append(where)
                if not need <= flags:
                    bad.append(where)
    print("pid %d: the key in %d mapping(s): %s; %d mapping(s) locked and "
          "not dumped" % (pid, len(held), "; ".join(held) or "none", locked))
    if bad:
        print("memscan: the key is in memory that is swapped or dumped: %s"
              % "; ".join(bad))
        return 1
    if not held:
        print("memscan: the key is nowhere: the scan proved nothing")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
