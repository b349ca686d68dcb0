#!/bin/bash
# SPDX-License-Identifier: ISC
# zcctund check (zcctund(8), CHECK): what a start with the same words would
# need, checked without starting. What must hold:
#   - with B running: every check passes in A, one line each, the peer
#     answers a handshake with the same key and ports; status 0; A's
#     namespace is as it was (the kernel's features are tried in a scratch
#     namespace) and B's link does not come up from the probe;
#   - A selecting other ports: a FAIL line saying so, status 2, and B,
#     whose link nothing confirmed, does not report ports_differ;
#   - a key file others may read, and net.ipv4.tcp_timestamps 0: a FAIL
#     line each, status 2;
#   - B stopped: a warning (the peer may not be started yet), status 0;
#   - A's own link running: the probe is skipped with a warning (its UDP
#     port is in use), nothing disturbed;
#   - not root: FAIL lines, status 2.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

setup_topology
genkey "$TMP/key"
mkdir -p "$TMP/conf"
WORDS=(peer "$IP_B" key-file "$TMP/key" encrypt-port 5001)

# check_a [WORDS...]: zcctund check in A; output in $TMP/check.out, status RC.
check_a() {
	ip netns exec "$NS_A" "$ZCCTUND" check confdir "$TMP/conf" "$@" \
		>"$TMP/check.out" 2>&1 && RC=0 || RC=$?
}
has() { grep -q -- "$1" "$TMP/check.out" || fail "$2: no '$1' in: $(cat "$TMP/check.out")"; }

start_zcc "$NS_B" B peer "$IP_A" key-file "$TMP/key" encrypt-port 5001 nodetach debug
log "A checks its words while B runs"
snapshot "$NS_A" "$TMP/before"
check_a "${WORDS[@]}"
[ "$RC" = 0 ] || fail "check: status $RC: $(cat "$TMP/check.out")"
for line in "^ok: running as root$" "^ok: key file $TMP/key" \
	"^ok: route to the peer $IP_B: from $IP_A on eth0" \
	"^ok: kernel: TUN" "^ok: kernel: tc clsact" "^ok: kernel: nftables" \
	"^ok: kernel: fib rules" "^ok: kernel: AF_PACKET" \
	"^ok: peer $IP_B answers a handshake on UDP port 7437: the same key, the same ports$" \
	"^zcctund check: [0-9]* ok, 0 failed, 0 warnings: a start would find what it needs$"; do
	has "$line" "all good"
done
grep -v '^\(ok\|zcctund check\): ' "$TMP/check.out" && fail "lines other than ok"
snapshot "$NS_A" "$TMP/after"
same_snapshot "$TMP/before" "$TMP/after" "after zcctund check"
sleep 1
ctl_status B "$NS_B"
[ "$(jv "$TMP/B.json" state)" != up ] || fail "B's link came up from the probe"
check "$(grep -c '^ok' "$TMP/check.out") checks ok, status 0; A unchanged; B's link not up ($(jv "$TMP/B.json" state))"

log "A selects port 5002, B 5001"
check_a peer "$IP_B" key-file "$TMP/key" encrypt-port 5002
[ "$RC" = 2 ] || fail "ports differ: status $RC"
has "^FAIL: peer $IP_B answers with this key, but selects other ports" "ports differ"
ctl_status B "$NS_B"
[ "$(jv "$TMP/B.json" ports_differ)" = False ] ||
	fail "B reports ports_differ from a probe nobody confirmed"
check "status 2: $(grep '^FAIL' "$TMP/check.out" | cut -c1-90)...; B reports nothing of it"

log "a key file others may read; tcp_timestamps 0"
cp "$TMP/key" "$TMP/key644"
chmod 644 "$TMP/key644"
ip netns exec "$NS_A" sysctl -qw net.ipv4.tcp_timestamps=0
check_a peer "$IP_B" key-file "$TMP/key644" encrypt-port 5001
ip netns exec "$NS_A" sysctl -qw net.ipv4.tcp_timestamps=1
[ "$RC" = 2 ] || fail "bad key and timestamps: status $RC"
has "^FAIL: key-file: .*key644" "key mode"
has "^FAIL: net.ipv4.tcp_timestamps is 0" "timestamps"
check "status 2, a line for each: $(grep -c '^FAIL' "$TMP/check.out") FAIL lines"

log "B stopped"
stop_zcc B
check_a "${WORDS[@]}"
[ "$RC" = 0 ] || fail "no peer: status $RC: $(cat "$TMP/check.out")"
has "^warn: peer $IP_B: its UDP port 7437 is closed" "no peer"
has ", 0 failed, 1 warning: " "no peer"
check "status 0 with a warning: $(grep '^warn' "$TMP/check.out" | cut -c1-80)..."

log "A's own link runs: the probe is skipped"
start_zcc "$NS_A" A "${WORDS[@]}" nodetach
check_a "${WORDS[@]}"
has "^warn: peer not probed: UDP port 7437 is in use here" "link running"
kill -0 "${ZCC_PID[A]}" || fail "A's daemon died during the check"
stop_zcc A
check "the probe skipped with a warning; A's daemon unharmed"

log "not root"
PUB=$(mktemp -d "/tmp/${PREFIX}pub.XXXX")
cp "$ZCCTUND" "$PUB/zcctund"
mkdir "$PUB/conf"
chmod 755 "$PUB" "$PUB/zcctund" "$PUB/conf"
ip netns exec "$NS_A" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$PUB/zcctund" check confdir "$PUB/conf" "${WORDS[@]}" >"$TMP/check.out" 2>&1 &&
	RC=0 || RC=$?
rm -rf "$PUB"
[ "$RC" = 2 ] || fail "not root: status $RC: $(cat "$TMP/check.out")"
has "^FAIL: not root: zcctund must be run as root" "not root"
has "^warn: kernel: not checked without root" "not root"
check "status 2: $(grep -c '^FAIL' "$TMP/check.out") FAIL lines, the first: not root"
pass
