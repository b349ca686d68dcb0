#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""The report of bench/run.sh: docs/PERFORMANCE.md and its chart.

    report.py --results TSV --seal FILE --machine TSV --configs "plain zcc ..."
              --md OUT.md --png OUT.png --gp performance.gp --tmp DIR

TSV lines: CONFIG REP METRIC VALUE. Medians and min-max over the
repetitions; ratios are ratios of medians. Exits 1 when a configuration has
no number for a figure (the report is written all the same, with a dash),
2 on bad input.
"""
import argparse
import os
import statistics
import subprocess
import sys

NAMES = {
    "plain": "plain TCP",
    "zcc": "zcc in place",
    "zcc-encap": "zcc encapsulated",
    "zcc-poll": "zcc in place, busy-poll 50",
    "wg-go": "wireguard-go 0.0.20220316 (Debian 12, old)",
    "wg-go-new": "wireguard-go 0.0.20231211 (Debian 13)",
    "ovpn": "OpenVPN 2.6",
    "spiped": "spiped",
    "stunnel": "stunnel TLS 1.3",
}
SHORT = {"plain": "plain", "zcc": "zcc", "zcc-encap": "zcc encap", "zcc-poll": "zcc poll",
         "wg-go": "wg-go old", "wg-go-new": "wg-go new", "ovpn": "OpenVPN", "spiped": "spiped", "stunnel": "stunnel"}
# The current wireguard-go first: zcc is compared with it; the old one is
# kept as a row.
PEERS = ["wg-go-new", "wg-go", "ovpn", "spiped", "stunnel"]

# metric, column heading, unit
METRICS = [
    ("tput1", "iperf3 1 stream", "Gbit/s"),
    ("tput4", "iperf3 4 streams", "Gbit/s"),
    ("lat_p50", "latency p50", "µs"),
    ("lat_p99", "latency p99", "µs"),
    ("cps1", "conn/s, 1 in flight", "/s"),
    ("cps8", "conn/s, 8 in flight", "/s"),
    ("cpu_tunnel", "tunnel CPU", "cores"),
    ("cpu_system", "system CPU", "cores"),
]
# CPU during the other tests: suffix of cpu_tunnel_ and cpu_system_, heading.
CPU_TESTS = [
    ("", "iperf3 1 stream"),
    ("_tput4", "iperf3 4 streams"),
    ("_lat", "latency"),
    ("_cps1", "conn/s, 1 in flight"),
    ("_cps8", "conn/s, 8 in flight"),
]

# Issue 5's "Measured on this kind of machine" (2 cores, medians of 3,
# two runs; Debian 12's wireguard-go): config -> (Gbit/s lo, hi, half round
# trip µs lo, hi).
REFERENCE = {
    "plain": (11.6, 13.1, 46, 62),
    "wg-go": (0.31, 0.31, 164, 170),
    "ovpn": (0.46, 0.54, 125, 216),
    "spiped": (1.1, 1.2, 94, 119),
    "stunnel": (3.1, 3.1, 103, 113),
}
REFERENCE_SEAL = [  # bench_seal row, label, µs per 1448-byte buffer
    ("xchacha20_xor", "XChaCha20", 1.0),
    ("blake2b_keyed", "keyed BLAKE2b", 1.7),
    ("aead_chacha20poly1305_ietf_encrypt", "ChaCha20-Poly1305", 1.5),
    ("aead_aes256gcm_encrypt", "AES-256-GCM", 0.9),
    ("poly1305_onetimeauth", "Poly1305", 0.4),
]
FAR = 1.5   # "differs a lot": outside the reference range by this factor

SEAL_ROWS = [
    ("copy", "copy of the segment and view reset (subtracted below)"),
    ("seal_segment", "seal_segment: seal one segment in place (zccseal2)"),
    ("seal_open", "seal_open: verify and open it in place (zccseal2)"),
    ("seal_segment_zccseal3", "seal_segment, zccseal3 (AES-256, libcrypto)"),
    ("seal_open_zccseal3", "seal_open, zccseal3 (AES-256, libcrypto)"),
    ("xchacha20_xor", "crypto_stream_xchacha20_xor, 1448 bytes"),
    ("poly1305_tag_input", "crypto_onetimeauth (Poly1305) incremental over the "
     "1517 bytes the tag covers"),
    ("hchacha20", "crypto_core_hchacha20 once (the PRF on Poly1305's output)"),
    ("primitives_sum", "the primitives seal and open each call (the three above)"),
    ("blake2b_keyed", "for context: crypto_generichash keyed, 16-byte tag, 1517 "
     "bytes (zccseal1's tag)"),
    ("aead_chacha20poly1305_ietf_encrypt",
     "for context: ChaCha20-Poly1305 IETF AEAD, 1448 bytes"),
    ("aead_aes256gcm_encrypt", "for context: AES-256-GCM AEAD, 1448 bytes"),
    ("poly1305_onetimeauth", "for context: Poly1305, 1448 bytes"),
]


def fmt(x, metric):
    if x is None:
        return "—"
    if metric.startswith("tput"):
        return "%.2f" % x if x < 10 else "%.1f" % x
    if metric.startswith("lat"):
        return "%.1f" % x if x < 1000 else "%.0f" % x
    if metric.startswith("cps"):
        return "%.0f" % x
    return "%.2f" % x


def ratio(a, b, digits=2):
    if a is None or b is None or b == 0:
        return "—"
    r = a / b
    if r >= 100:
        return "%.0f×" % r
    if r >= 10:
        return "%.1f×" % r
    return ("%%.%df×" % digits) % r


def load(path):
    data, raw = {}, {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            parts = line.split("\t")
            if len(parts) != 4:
                sys.exit("report.py: %s:%d: bad line" % (path, n))
            cfg, rep, metric, value = parts
            data.setdefault(cfg, {}).setdefault(metric, []).append(float(value))
            raw[cfg, int(rep), metric] = float(value)
    return data, raw


def load_kv(path, sep=None):
    kv = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            k, _, v = line.partition("\t" if sep == "\t" else " ")
            kv[k] = v.strip()
    return kv


# Issue 17's targets: (config, metric, factor, peer, label) for
# "config's metric >= factor x peer's".
RATIO_TARGETS = [
    ("zcc", "tput1", 2.0, "wg-go-new", "1 stream"),
    ("zcc", "tput1", 0.9, "stunnel", "1 stream"),
    ("zcc-encap", "tput1", 1.5, "wg-go-new", "1 stream"),
    ("zcc", "cps1", 0.4, "plain", "connections/s, 1 in flight"),
    ("zcc", "cps1", 10, "stunnel", "connections/s, 1 in flight"),
]
SEAL_OPEN_MAX_US = 1.2      # seal + open of one 1448-byte segment
ADDED_P50_SHARE = 1 / 3     # zcc's added p50 / the current wireguard-go's
UNITS = {"tput1": "Gbit/s", "cps1": "/s", "lat_p50": "µs"}


def targets(g, configs, seal, machine):
    """Issue 17's targets as lines "met: ...", "not met: ..." or "not
    measured: ...", each with the figures and the ratio."""
    def absent(c, m):
        """Why config c has no figure m, or None when it has one."""
        if c not in configs:
            if c == "wg-go-new" and machine.get("wg_go_new_skipped"):
                return "wg-go-new was skipped: %s" % machine["wg_go_new_skipped"]
            return "%s did not run" % c
        if g(c, m) is None:
            return "%s has no %s figure" % (c, m)
        return None

    def verdict(ok):
        return "met" if ok else "not met"

    out = []
    for c, m, k, p, what in RATIO_TARGETS:
        label = "%s, %s, at least %s× %s" % (
            NAMES[c], what, "%g" % k if k >= 10 else "%.1f" % k, NAMES[p])
        why = absent(c, m) or absent(p, m)
        if why:
            out.append("not measured: %s (%s)" % (label, why))
            continue
        a, b = g(c, m), g(p, m)
        out.append("%s: %s: %s vs %s %s, %s" % (
            verdict(a >= k * b), label, fmt(a, m), fmt(b, m), UNITS[m],
            ratio(a, b)))

    # The suite a link on this machine seals with: zccseal3 where bench_seal
    # could run it (AES instructions), else zccseal2.
    suite, rows = "zccseal2", ("seal_segment", "seal_open")
    if "seal_segment_zccseal3" in seal and "seal_open_zccseal3" in seal:
        suite, rows = "zccseal3", ("seal_segment_zccseal3", "seal_open_zccseal3")
    label = "seal + open of one 1448-byte segment (%s, what links here use), " \
        "at most %g µs together (bench_seal)" % (suite, SEAL_OPEN_MAX_US)
    if rows[0] in seal and rows[1] in seal:
        se, op = float(seal[rows[0]]) / 1000, float(seal[rows[1]]) / 1000
        out.append("%s: %s: %.2f + %.2f = %.2f µs, %.2f× the limit" % (
            verdict(se + op <= SEAL_OPEN_MAX_US), label, se, op, se + op,
            (se + op) / SEAL_OPEN_MAX_US))
    else:
        out.append("not measured: %s (no %s and %s lines)" % (label, *rows))

    label = "added p50 latency (p50 − plain TCP's) of %s, at most a third of %s's" % (
        NAMES["zcc"], NAMES["wg-go-new"])
    why = absent("zcc", "lat_p50") or absent("wg-go-new", "lat_p50") or \
        absent("plain", "lat_p50")
    if why:
        out.append("not measured: %s (%s)" % (label, why))
    else:
        pl = g("plain", "lat_p50")
        az, aw = g("zcc", "lat_p50") - pl, g("wg-go-new", "lat_p50") - pl
        # The ratio means nothing when the tunnel adds nothing; the
        # comparison itself still holds.
        out.append("%s: %s: %+.1f vs %+.1f µs (p50 %s and %s, plain %s µs), %s" % (
            verdict(az <= aw * ADDED_P50_SHARE), label, az, aw,
            fmt(g("zcc", "lat_p50"), "lat_p50"), fmt(g("wg-go-new", "lat_p50"), "lat_p50"),
            fmt(pl, "lat_p50"), ratio(az, aw) if aw > 0 else "no ratio"))
    return out


def upstream(deb):
    """0.0.20220316-1+b4 -> 0.0.20220316 (the Debian revision off)."""
    return deb.rsplit("-", 1)[0] if "-" in deb else deb


def name_wireguard_gos(machine):
    """Both wireguard-gos named by their versions as this run found them."""
    old = machine.get("pkg_wireguard-go")
    if old:
        NAMES["wg-go"] = "wireguard-go %s (Debian 12, old)" % upstream(old)
    deb = machine.get("wg_go_new_deb")
    ver = machine.get("wg_go_new_version", "").replace("wireguard-go ", "")
    if deb:
        NAMES["wg-go-new"] = "wireguard-go %s (Debian 13)" % upstream(deb)
    elif ver:
        # Not the binary of shared/peers/README.md: only what it prints.
        NAMES["wg-go-new"] = "wireguard-go %s (new, not Debian 13's binary)" % ver


def setup_rows(machine, configs):
    """The setup table's lines for the wireguard-gos that were asked for."""
    rows = []
    if "wg-go" in configs:
        rows.append("| wireguard-go, old (wg-go) | Debian 12's package %s, `wireguard-go "
                    "--version`: %s |" % (machine.get("pkg_wireguard-go", "?"),
                                         machine.get("wg_go_version", "?")))
    if "wg-go-new" in configs:
        deb = machine.get("wg_go_new_deb")
        rows.append("| wireguard-go, new (wg-go-new) | `%s`, `--version`: %s; sha256 "
                    "%s, %s |" % (
                        machine.get("wg_go_new_path", "?"),
                        machine.get("wg_go_new_version", "?"),
                        machine.get("wg_go_new_sha256", "?"),
                        "Debian 13's package %s as in shared/peers/README.md" % deb
                        if deb else "**not** the binary of shared/peers/README.md"))
    elif machine.get("wg_go_new_skipped"):
        rows.append("| wireguard-go, new (wg-go-new) | **not found, skipped**: %s |"
                    % machine["wg_go_new_skipped"])
    return rows


def main():
    ap = argparse.ArgumentParser()
    for a in ("results", "seal", "machine", "configs", "md", "png", "gp", "tmp"):
        ap.add_argument("--" + a, required=True)
    args = ap.parse_args()

    configs = args.configs.split()
    data, raw = load(args.results)
    seal = load_kv(args.seal)
    machine = load_kv(args.machine, "\t")
    name_wireguard_gos(machine)

    med, lo, hi = {}, {}, {}
    missing = []
    for c in configs:
        for m, _, _ in METRICS:
            v = data.get(c, {}).get(m, [])
            if v:
                med[c, m] = statistics.median(v)
                lo[c, m], hi[c, m] = min(v), max(v)
            else:
                med[c, m] = lo[c, m] = hi[c, m] = None
                missing.append("%s: %s" % (NAMES[c], m))
    for c in configs:
        for sfx, _ in CPU_TESTS[1:]:
            for m in ("cpu_tunnel" + sfx, "cpu_system" + sfx):
                v = data.get(c, {}).get(m, [])
                med[c, m] = statistics.median(v) if v else None
    nreps = {c: max((len(data.get(c, {}).get(m, [])) for m, _, _ in METRICS),
                    default=0) for c in configs}

    def g(c, m):
        return med.get((c, m))

    out = []
    w = out.append
    reps = machine.get("reps", "?")
    secs = machine.get("seconds", "?")
    w("# Performance: zcc against plain TCP and its peers")
    w("")
    w("Written by `%s` (issue 5); run it again rather than editing this file."
      % machine.get("command", "bench/run.sh"))
    w("")
    w("| | |")
    w("|---|---|")
    w("| command | `%s` (as root, from the repository root) |"
      % machine.get("command", "bench/run.sh"))
    w("| date | %s |" % machine.get("date", "?"))
    w("| machine | %s, %s cores, kernel %s, Debian %s |" % (
        machine.get("cpu", "?"), machine.get("cores", "?"),
        machine.get("kernel", "?"), machine.get("debian", "?")))
    w("| zcc | %s, Release build (build-bench/) |" % machine.get("zcc", "?"))
    pk = ["%s %s" % (p[4:], v) for p, v in machine.items() if p.startswith("pkg_")]
    w("| Debian packages | %s |" % ", ".join(pk))
    for row in setup_rows(machine, configs):
        w(row)
    w("| repetitions | %s, %s s per test, configurations alternated within each "
      "repetition; the whole run took %s s |" % (reps, secs, machine.get("elapsed", "?")))
    w("")
    w("## Method")
    w("")
    w("Two network namespaces, A (10.0.0.1) and B (10.0.0.2), joined by one veth "
      "pair (MTU 1500, the kernel's default offloads): plain TCP over it is the "
      "physical limit of this machine. Both ends, the tunnels and the test tools "
      "share the same %s cores. The servers run in B (iperf3 -s, sockperf sr "
      "--tcp, connrate server), the clients in A." % machine.get("cores", "?"))
    w("")
    w("- **plain TCP**: the clients connect to 10.0.0.2.")
    w("- **zcc in place**: zcctund on both ends (`nodetach`, one key, "
      "`encrypt-port` 5201, 11111 and 7000: the three service ports), measured once "
      "both logs say `link up`; the clients still connect to 10.0.0.2. After each "
      "repetition both daemons' `sealed` counters must be non-zero, else its "
      "figures are discarded.")
    w("- **zcc in place, busy-poll 50**: the same, with `busy-poll 50` at both "
      "ends (zcctund(8)): after each packet a zcctund keeps polling for 50 µs, "
      "yielding the CPU to any runnable task, instead of sleeping. Checked like "
      "the plain in-place run.")
    w("- **zcc encapsulated**: the same two zcctunds; A has 10.9.8.1 and B "
      "10.9.9.2 on lo, each routed into the other's zcc0 (`ip route add ... dev "
      "zcc0 src ...`), and the clients connect to 10.9.9.2: not a selected flow "
      "between the two hosts, so every packet travels whole in a UDP datagram "
      "(compress none). Checked like the in-place run, on the `encapsulated` "
      "counter.")
    w("- **%s**: Debian 12's userspace WireGuard (apt) in each namespace "
      "(`WG_PROCESS_FOREGROUND=1`, configured with `wg set`, MTU 1420 by default); "
      "the clients connect to the tunnel address 10.9.0.2. The old one: kept as "
      "a row, compared with nothing." % NAMES["wg-go"])
    w("- **%s**: the current wireguard-go, started and configured exactly as "
      "the old one (the same tunnel, Debian 12's `wg`, its own interface names); "
      "Debian 13's static binary, which prints its upstream version v0.0.20230223 "
      "and, unlike the old one, has TUN offloads (TSO/GSO) and UDP GSO/GRO. "
      "Every comparison of zcc with wireguard-go (the targets, the peer "
      "table's first row) is with this one.%s" % (
          NAMES["wg-go-new"],
          " **Not in this run**: %s." % machine["wg_go_new_skipped"]
          if machine.get("wg_go_new_skipped") else ""))
    w("- **OpenVPN 2.6**: p2p TLS mode (P-256 certificates from a throwaway CA), "
      "`--data-ciphers AES-256-GCM --cipher AES-256-GCM --disable-dco`, tun over "
      "UDP, otherwise defaults; the clients connect to 10.8.0.2.")
    w("- **spiped**: `spiped -e` in A listening on 127.0.0.1, `spiped -d` in B "
      "forwarding to the server on 127.0.0.1 (one pair per service port); the "
      "clients connect to 127.0.0.1 in A.")
    w("- **stunnel TLS 1.3**: the same shape with stunnel4 "
      "(`sslVersionMin = TLSv1.3`, the client verifies the server's chain, "
      "default session cache).")
    w("")
    w("Figures, for every configuration and repetition:")
    w("")
    w("- **iperf3** throughput, `-t %s`, 1 stream and 4 streams (`-P 4`), "
      "received bits per second." % secs)
    w("- **latency**: `sockperf pp --tcp -m 64 -t %s` against `sockperf sr "
      "--tcp`, one 64-byte message in flight; p50 and p99 in µs of **half a round "
      "trip** (sockperf's default; `--full-rtt` would double them). *Added* "
      "latency is a configuration's figure minus plain TCP's." % secs)
    w("- **connections per second**: `connrate client HOST PORT %s N` (connect, "
      "64-byte request, 64-byte reply, close; N = 1 and 8 in flight), with "
      "tcp_tw_reuse, a wide port range and deep backlogs in both namespaces."
      % secs)
    w("- **CPU** during each test, from 0.5 s after its start to "
      "0.5 s before its end, as cores used (CPU seconds / wall seconds): "
      "*tunnel* = utime+stime of the tunnel processes (both zcctunds, both "
      "wireguard-gos, both openvpns, all spipeds, both stunnels; none for plain), "
      "*system* = everything but idle and iowait in /proc/stat, for the whole "
      "machine (kernel work, softirqs and iperf3 included). At most %s."
      % machine.get("cores", "?"))
    w("")
    w("Each cell: median (min–max) over the repetitions; ratios are ratios of "
      "medians.")
    w("")

    w("## Results")
    w("")
    head = "| configuration | " + " | ".join(
        "%s (%s)" % (t, u) for _, t, u in METRICS) + " |"
    w(head)
    w("|---" * (len(METRICS) + 1) + "|")
    for c in configs:
        cells = []
        for m, _, _ in METRICS:
            if med[c, m] is None:
                cells.append("—")
            elif nreps[c] > 1 and lo[c, m] != hi[c, m]:
                cells.append("%s (%s–%s)" % (fmt(med[c, m], m), fmt(lo[c, m], m),
                                             fmt(hi[c, m], m)))
            else:
                cells.append(fmt(med[c, m], m))
        w("| %s | %s |" % (NAMES[c], " | ".join(cells)))
    w("")
    if machine.get("wg_go_new_skipped"):
        w("**wg-go-new, the current wireguard-go, was not run**: %s."
          % machine["wg_go_new_skipped"])
        w("")
    if missing:
        w("**Missing figures** (a run failed; see the run's warnings): "
          + "; ".join(missing) + ".")
        w("")

    w("## CPU during each test")
    w("")
    w("Cores used, medians: *tunnel* / *system* (the Results table's two CPU "
      "columns are the 1-stream run's). What a configuration costs besides its "
      "figure: a tunnel that polls instead of sleeping shows it here.")
    w("")
    w("| configuration | " + " | ".join(h for _, h in CPU_TESTS) + " |")
    w("|---" * (len(CPU_TESTS) + 1) + "|")
    for c in configs:
        cells = []
        for sfx, _ in CPU_TESTS:
            t, y = g(c, "cpu_tunnel" + sfx), g(c, "cpu_system" + sfx)
            cells.append("%s / %s" % ("—" if t is None else "%.2f" % t,
                                      "—" if y is None else "%.2f" % y))
        w("| %s | %s |" % (NAMES[c], " | ".join(cells)))
    w("")

    if "plain" in configs:
        w("## Relative to plain TCP")
        w("")
        w("Throughput, connections and system CPU as config / plain; latency as "
          "added µs (config − plain) and config / plain. Tunnel CPU has no ratio "
          "(plain has no tunnel process): its column is CPU seconds per GB "
          "moved instead.")
        w("")
        w("| configuration | 1 stream | 4 streams | added p50 | added p99 | p50 | "
          "p99 | conn/s, 1 | conn/s, 8 | system CPU | tunnel CPU s/GB |")
        w("|---" * 11 + "|")
        for c in configs:
            if c == "plain":
                continue
            p = "plain"
            add50 = (g(c, "lat_p50") - g(p, "lat_p50")
                     if g(c, "lat_p50") is not None and g(p, "lat_p50") is not None else None)
            add99 = (g(c, "lat_p99") - g(p, "lat_p99")
                     if g(c, "lat_p99") is not None and g(p, "lat_p99") is not None else None)
            spgb = (g(c, "cpu_tunnel") / (g(c, "tput1") / 8)
                    if g(c, "cpu_tunnel") is not None and g(c, "tput1") else None)
            w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                NAMES[c], ratio(g(c, "tput1"), g(p, "tput1")),
                ratio(g(c, "tput4"), g(p, "tput4")),
                "—" if add50 is None else "%+.1f µs" % add50,
                "—" if add99 is None else "%+.1f µs" % add99,
                ratio(g(c, "lat_p50"), g(p, "lat_p50")),
                ratio(g(c, "lat_p99"), g(p, "lat_p99")),
                ratio(g(c, "cps1"), g(p, "cps1")), ratio(g(c, "cps8"), g(p, "cps8")),
                ratio(g(c, "cpu_system"), g(p, "cpu_system")),
                "—" if spgb is None else "%.2f" % spgb))
        w("")

    peers = [p for p in PEERS if p in configs]
    if "zcc" in configs and peers:
        w("## zcc relative to each peer")
        w("")
        w("zcc / peer. Throughput and connections: above 1 is zcc ahead. Latency "
          "and CPU: below 1 is zcc ahead. Added latency: zcc's added µs / the "
          "peer's added µs.")
        w("")
        w("| zcc / | 1 stream | 4 streams | p50 | p99 | added p50 | added p99 | "
          "conn/s, 1 | conn/s, 8 | tunnel CPU | system CPU |")
        w("|---" * 11 + "|")
        for p in (["plain"] if "plain" in configs else []) + peers:
            def added(c, m):
                if g(c, m) is None or "plain" not in configs or g("plain", m) is None:
                    return None
                return g(c, m) - g("plain", m)

            def added_ratio(m):
                a, b = added("zcc", m), added(p, m)
                if p == "plain" or a is None or b is None or b <= 0:
                    return "—"
                return ratio(a, b)
            w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                NAMES[p], ratio(g("zcc", "tput1"), g(p, "tput1")),
                ratio(g("zcc", "tput4"), g(p, "tput4")),
                ratio(g("zcc", "lat_p50"), g(p, "lat_p50")),
                ratio(g("zcc", "lat_p99"), g(p, "lat_p99")),
                added_ratio("lat_p50"), added_ratio("lat_p99"),
                ratio(g("zcc", "cps1"), g(p, "cps1")),
                ratio(g("zcc", "cps8"), g(p, "cps8")),
                "—" if p == "plain" else ratio(g("zcc", "cpu_tunnel"), g(p, "cpu_tunnel")),
                ratio(g("zcc", "cpu_system"), g(p, "cpu_system"))))
        w("")

    w("## Targets")
    w("")
    w("Issue 17's targets, read from this run's medians: information only, "
      "a target not met does not fail the run. *not measured* when a "
      "configuration a target needs did not run or has no figure.")
    w("")
    for line in targets(g, configs, seal, machine):
        w("- " + line)
    w("")
    w("## Where the time goes")
    w("")
    w("Not from this run: `perf record -a -g` over 5 s of a 9 s 1-stream iperf3 "
      "through zcc in place (2.21 Gbit/s while recorded), once, at 34cef0a "
      "(sealed segments sent on the link layer). Shares of all samples on the "
      "2 cores:")
    w("")
    w("- the sending zcctund 53%, the receiving one 35%, iperf3 8%, idle 4%. "
      "By code: libsodium 39%, the zcctunds' kernel work 39%, their own code "
      "6%, libc 3%.")
    w("- `sendmmsg` on the packet socket 29%, nearly all of it the sender's. "
      "Inside it: the device transmit 20%, of which the veth's receive side, "
      "which runs in the sender's softirq, is 14% (the receive ring's copy, "
      "`tpacket_rcv`, 8.5%); the packet socket's own work (the copy from user "
      "space, the packet, the Ethernet header) is the other 5%. Before the "
      "link layer (DECISIONS.md) the raw socket's IP output path (route "
      "lookup, netfilter hooks, neighbour) added about 12% more.")
    w("- XChaCha20 21% (`crypto_stream_xchacha20_xor_ic`, its HChaCha20 "
      "included); HChaCha20 4.7% in all (the tag's PRF and XChaCha20's subkey, "
      "at both ends).")
    w("- the coalesced writes into zcc0, TCP receive included, 5.8%; the reads "
      "of super-segments from zcc0 1.7%.")
    w("")
    w("Per process, read from /proc over 5 s of another such run (2.25 Gbit/s): "
      "the sending zcctund 1.00 cores, the receiving one 0.64, the iperf3 "
      "client 0.10 and server 0.05, idle 0.20. The sending zcctund is the "
      "bottleneck: a third of its core is the crypto, most of the rest "
      "`sendmmsg`, and half of that the receiving end's softirq, which a veth "
      "runs in the sender's context (on two hosts it would run on the "
      "receiver's CPU). "
      "A sealed segment costs its own trip through the kernel at each end, "
      "which no batching of system calls removes: GRO cannot merge sealed "
      "segments (each carries its own tag option) and TSO cannot make them "
      "(each needs its own tag).")
    w("")
    w("## Seal and open per segment (bench_seal)")
    w("")
    w("`build-bench/bench/bench_seal%s`: one IPv4 segment with TCP timestamps and "
      "1448 bytes of payload, in the same process; medians of %s runs of about %s "
      "ms; libsodium %s; nanoseconds per operation. seal_segment and seal_open "
      "exclude the copy row." % (
          " --quick" if seal.get("runs") == "3" and seal.get("run_ms") == "25" else "",
          seal.get("runs", "?"), seal.get("run_ms", "?"),
          seal.get("sodium_version", "?")))
    w("")
    w("| operation | ns | µs |")
    w("|---|---|---|")
    for k, label in SEAL_ROWS:
        if k in seal:
            v = float(seal[k])
            w("| %s | %.1f | %.2f |" % (label, v, v / 1000))
    w("")
    w("(seal + open) / (2 × primitives): **%s** "
      "(`ratio_seal_plus_open_vs_primitives`)." %
      seal.get("ratio_seal_plus_open_vs_primitives", "—"))
    w("")

    # Against the reference numbers.
    w("## Against the reference numbers of issue 5")
    w("")
    w("The issue measured on this kind of machine (2 cores, both ends on one "
      "host, medians of 3, two runs; it does not say which latency statistic, "
      "compared here with p50). A figure outside the reference range by more "
      "than %.1f× is marked **differs**. The method above was not adjusted to "
      "match." % FAR)
    w("")
    w("| configuration | 1 stream, this run | reference | | p50 half round trip, "
      "this run | reference | |")
    w("|---|---|---|---|---|---|---|")
    far = []

    def cmp(v, a, b, what):
        if v is None:
            return "—"
        if v > b * FAR or v < a / FAR:
            far.append(what)
            return "**differs** (%s)" % ("%.1f× above" % (v / b) if v > b
                                         else "%.1f× below" % (a / v))
        if a <= v <= b:
            return "in range"
        return "%.2f× above" % (v / b) if v > b else "%.2f× below" % (a / v)

    for c in configs:
        if c not in REFERENCE:
            continue
        t_lo, t_hi, l_lo, l_hi = REFERENCE[c]
        t, l50 = g(c, "tput1"), g(c, "lat_p50")
        w("| %s | %s Gbit/s | %s Gbit/s | %s | %s µs | %s µs | %s |" % (
            NAMES[c], fmt(t, "tput1"),
            ("%g" % t_lo) if t_lo == t_hi else "%g–%g" % (t_lo, t_hi),
            cmp(t, t_lo, t_hi, "%s throughput" % NAMES[c]),
            fmt(l50, "lat_p50"), "%g–%g" % (l_lo, l_hi),
            cmp(l50, l_lo, l_hi, "%s latency" % NAMES[c])))
    w("")
    w("| primitive, 1448 bytes | this run | reference | |")
    w("|---|---|---|---|")
    for k, label, ref in REFERENCE_SEAL:
        if k in seal:
            v = float(seal[k]) / 1000
            w("| %s | %.2f µs | %.1f µs | %s |" % (label, v, ref,
                                                 cmp(v, ref, ref, label)))
    w("")
    if far:
        w("These figures differ a lot from the issue's: %s. Likely causes, "
          "unverified: a different host under the same 2-core label (CPU model, "
          "its load, the kernel), the topology (here one veth pair, no bridge), "
          "and the tools' versions." % ", ".join(far))
    else:
        w("No figure differs from the issue's by more than %.1f×." % FAR)
    w("")

    # Every repetition, in the order run.
    w("## Every repetition")
    w("")
    w("| configuration | rep | " + " | ".join(
        "%s (%s)" % (t, u) for _, t, u in METRICS) + " |")
    w("|---" * (len(METRICS) + 2) + "|")
    reps_run = sorted({k[1] for k in raw})
    for c in configs:
        for rep in reps_run:
            cells = [fmt(raw.get((c, rep, m)), m) for m, _, _ in METRICS]
            w("| %s | %d | %s |" % (NAMES[c], rep, " | ".join(cells)))
    w("")

    # The chart.
    png_rel = os.path.relpath(args.png, os.path.dirname(os.path.abspath(args.md)))
    dat = os.path.join(args.tmp, "chart.dat")
    with open(dat, "w") as f:
        f.write("# label " + " ".join("%s %s_min %s_max" % (m, m, m)
                                      for m in ("tput1", "tput4", "lat_p50", "lat_p99",
                                                "cps1", "cps8")) + "\n")
        for c in configs:
            row = ['"%s"' % SHORT[c]]
            for m in ("tput1", "tput4", "lat_p50", "lat_p99", "cps1", "cps8"):
                for d in (med, lo, hi):
                    v = d.get((c, m))
                    row.append("NaN" if v is None else
                               "%.6g" % (v / 1000 if m.startswith("cps") else v))
            f.write(" ".join(row) + "\n")
    title = "%s, %s cores, %s repetition(s) of %s s each: medians, error bars min-max" % (
        machine.get("cpu", "?"), machine.get("cores", "?"), reps, secs)
    chart_ok = True
    try:
        subprocess.run(["gnuplot", "-e", "datafile='%s'; outfile='%s'; subtitle='%s'; nconf=%d"
                        % (dat, args.png, title.replace("'", ""), len(configs)),
                        args.gp],
                       check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print("report.py: gnuplot failed: %s" % e, file=sys.stderr)
        chart_ok = False
    if chart_ok:
        w("## Chart")
        w("")
        w("![throughput, latency and connections per configuration](%s)" % png_rel)
        w("")

    with open(args.md, "w") as f:
        f.write("\n".join(out))
    if missing:
        print("report.py: no number for: " + "; ".join(missing), file=sys.stderr)
        sys.exit(1)
    if not chart_ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
