#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Figures out of one client's output, for bench/run.sh.

    parse.py iperf3 FILE      Gbit/s received (iperf3 -J: end.sum_received)
    parse.py sockperf FILE    "P50 P99" in microseconds (sockperf pp: half
                              round trip, its default without --full-rtt)
    parse.py connrate FILE    connections per second
    parse.py counter FILE F   field F of the last zcctund "counters:" line

Prints the figure(s) on stdout; exits 1 (with the reason on stderr) when the
output holds no valid figure, so run.sh records nothing rather than a zero.
"""
import json
import re
import sys


def die(msg):
    print("parse.py: " + msg, file=sys.stderr)
    sys.exit(1)


def iperf3(text):
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        die("no JSON in iperf3 output")
    try:
        doc = json.loads(text[start:end + 1])
    except ValueError as e:
        die("iperf3 JSON: %s" % e)
    if doc.get("error"):
        die("iperf3: %s" % doc["error"])
    try:
        bps = float(doc["end"]["sum_received"]["bits_per_second"])
    except (KeyError, TypeError, ValueError):
        die("iperf3: no end.sum_received.bits_per_second")
    if bps <= 0:
        die("iperf3: nothing received")
    print("%.4f" % (bps / 1e9))


def sockperf(text):
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    got = {}
    for m in re.finditer(r"percentile\s+([0-9.]+)\s*=\s*([0-9.]+)", text):
        got[float(m.group(1))] = float(m.group(2))
    if 50.0 not in got or 99.0 not in got:
        die("sockperf: no 50th and 99th percentiles")
    m = re.search(r"\[Valid Duration\].*ReceivedMessages=(\d+)", text)
    if not m or int(m.group(1)) == 0:
        die("sockperf: no message answered")
    print("%.3f %.3f" % (got[50.0], got[99.0]))


def connrate(text):
    m = re.search(r"^connections_per_second\s+([0-9.]+)\s*$", text, re.M)
    if not m or float(m.group(1)) <= 0:
        die("connrate: no connections_per_second (or 0)")
    print(m.group(1))


def counter(text, field):
    lines = [l for l in text.splitlines() if "counters:" in l]
    if not lines:
        die("no counters line")
    m = re.search(r"(?:^|[ :])%s=(\d+)" % re.escape(field), lines[-1])
    if not m:
        die("no field %s in: %s" % (field, lines[-1]))
    print(m.group(1))


def main():
    if len(sys.argv) < 3:
        die("usage: parse.py iperf3|sockperf|connrate|counter FILE [FIELD]")
    kind, path = sys.argv[1], sys.argv[2]
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError as e:
        die(str(e))
    if kind == "iperf3":
        iperf3(text)
    elif kind == "sockperf":
        sockperf(text)
    elif kind == "connrate":
        connrate(text)
    elif kind == "counter" and len(sys.argv) == 4:
        counter(text, sys.argv[3])
    else:
        die("unknown kind %s" % kind)


if __name__ == "__main__":
    main()
