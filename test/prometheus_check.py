#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""The Prometheus textfile collector (etc/prometheus/zcc-textfile) on a
saved "zccctl show --json" of two links: the output follows the text
exposition format (every sample's family declared, label values escaped,
no sample twice), the values are the JSON's, the file is replaced whole,
and a failed run leaves the last file as it was.

usage: prometheus_check.py COLLECTOR SHOW_JSON
"""
import os
import re
import subprocess
import sys
import tempfile

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.e+]+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')


def fail(msg):
    print("prometheus_check.py: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def unescape(v):
    return re.sub(r'\\(.)', lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), v)


def parse(text):
    """{(name, frozenset(labels)): value}, or fail on any bad line."""
    typed, samples = {}, {}
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("# HELP "):
            continue
        m = re.match(r'^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter)$', line)
        if m:
            if m.group(1) in typed:
                fail("line %d: %s typed twice" % (n, m.group(1)))
            typed[m.group(1)] = m.group(2)
            continue
        m = SAMPLE.match(line)
        if not m:
            fail("line %d is not a sample: %r" % (n, line))
        name, body = m.group(1), m.group(3) or ""
        if name not in typed:
            fail("line %d: %s has no TYPE before it" % (n, name))
        labels, pos = {}, 0
        while pos < len(body):
            lm = LABEL.match(body, pos)
            if not lm:
                fail("line %d: bad labels %r" % (n, body))
            labels[lm.group(1)] = unescape(lm.group(2))
            pos = lm.end()
        key = (name, frozenset(labels.items()))
        if key in samples:
            fail("line %d: %s%s twice" % (n, name, labels))
        samples[key] = float(m.group(4))
    return samples


def value(samples, name, **labels):
    for (n, lab), v in samples.items():
        if n == name and all(dict(lab).get(k) == w for k, w in labels.items()):
            return v
    return None


def main():
    collector, show = sys.argv[1], sys.argv[2]
    d = tempfile.mkdtemp(prefix="zcc-prom.")
    out = os.path.join(d, "zcc.prom")
    try:
        subprocess.run([collector, "--from", show, "--output", out], check=True)
        with open(out, encoding="utf-8") as f:
            text = f.read()
        s = parse(text)
        checks = [
            (value(s, "zcc_links"), 2),
            (value(s, "zcc_up", ifname="zcc0", peer="10.0.0.2"), 1),
            (value(s, "zcc_up", ifname="zcc1", peer="2001:db8::2"), 0),
            (value(s, "zcc_handshake_age_seconds", ifname="zcc0"), 12),
            (value(s, "zcc_handshake_age_seconds", ifname="zcc1"), None),
            (value(s, "zcc_opened_bytes_total", ifname="zcc0"), 5000000000456),
            (value(s, "zcc_sealed_segments_total", ifname="zcc1"), 2002),
            (value(s, "zcc_dropped_total", ifname="zcc0", reason="replayed"), 11),
            (value(s, "zcc_dropped_total", ifname="zcc0", reason="bad_tag"), 0),
            (value(s, "zcc_link_events_total", ifname="zcc1", event="hs_sent"), 4),
            (value(s, "zcc_info", ifname="zcc0", linkname='office "east"\\1'), 1),
        ]
        for i, (got, want) in enumerate(checks):
            if got != want:
                fail("check %d: got %r, want %r" % (i, got, want))
        print("  [ok] %d samples in the exposition format, values as the "
              "JSON's, label values escaped" % len(s))
        if os.stat(out).st_mode & 0o777 != 0o644 or os.listdir(d) != ["zcc.prom"]:
            fail("the file is not 0644 alone in its directory: %s" % os.listdir(d))
        bad = subprocess.run([collector, "--from", os.path.join(d, "missing"),
                              "--output", out], capture_output=True, text=True)
        with open(out, encoding="utf-8") as f:
            kept = f.read()
        if bad.returncode != 1 or "zcc-textfile:" not in bad.stderr or kept != text:
            fail("a failed run: status %d, %r, file %s" % (
                bad.returncode, bad.stderr, "kept" if kept == text else "changed"))
        print("  [ok] replaced whole (0644, no temporary left); a failed run "
              "says why and keeps the last file")
    finally:
        for name in os.listdir(d):
            os.unlink(os.path.join(d, name))
        os.rmdir(d)
    print("prometheus_check.py: PASS")


if __name__ == "__main__":
    main()
