#!/bin/bash
# SPDX-License-Identifier: ISC
# Session IDs (tcpcrypt's idea), on a shared-key link that rekeys every 2 s:
#  - docs/session-id-example.py runs as documented: the client in A signs
#    the session ID its zcctund gives, the server in B verifies it against
#    the ID its own zcctund gives: "verified", and the two IDs are equal;
#    with another client key the server refuses.
#  - two connections get different IDs; zccctl session-id --json names
#    the roles and the same ISNs at both ends.
#  - a connection held open across rekeys keeps its ID (the derivation
#    binds the session its SYN travelled in), equal at both ends.
#  - a connection carried encapsulated (routed into zcc0 by a rule, not a
#    selected port) gets an ID too, equal at both ends.
#  - errors: a connection the link never carried, a peer no link has.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

EXAMPLE="$PY $SRCDIR/docs/session-id-example.py"
export ZCCCTL FAMILY

setup_topology
genkey "$TMP/key"
start_zcc "$NS_A" A peer "$IP_B" key-file "$TMP/key" encrypt-port 5001 \
	rekey-interval 2 nodetach debug
start_zcc "$NS_B" B peer "$IP_A" key-file "$TMP/key" encrypt-port 5001 \
	rekey-interval 2 nodetach debug
wait_up A
wait_up B

# ---- the example ----
$EXAMPLE genkey "$TMP/client.key" "$TMP/client.pub"
$EXAMPLE genkey "$TMP/other.key" "$TMP/other.pub"
# example RUN CLIENT-KEY SERVER-PUB: one run; RUN.srv and RUN.cli its output.
example() {
	local srv
	bg_start "$NS_B" "$TMP/$1.srv" $EXAMPLE server 5001 "$3"
	srv=$BG_PID
	wait_listen "$NS_B" 5001
	ip netns exec "$NS_A" $EXAMPLE client "$IP_B" 5001 "$2" >"$TMP/$1.cli" 2>&1 || true
	bg_wait "$srv" 20 || true
}
example run1 "$TMP/client.key" "$TMP/client.pub"
grep -q '^verified ' "$TMP/run1.srv" || fail "the server did not verify: $(cat "$TMP/run1.srv" "$TMP/run1.cli")"
grep -q '^server says ok' "$TMP/run1.cli" || fail "the client: $(cat "$TMP/run1.cli")"
ID1=$(sed -n 's/^verified //p' "$TMP/run1.srv")
[ "$(head -1 "$TMP/run1.cli")" = "$ID1" ] ||
	fail "the ends' IDs differ: client $(head -1 "$TMP/run1.cli"), server $ID1"
[ "${#ID1}" = 64 ] || fail "an ID of ${#ID1} hex digits"
check "the documented example verifies the client's signature of the session ID; both ends' IDs equal"

example run2 "$TMP/client.key" "$TMP/client.pub"
ID2=$(sed -n 's/^verified //p' "$TMP/run2.srv")
[ -n "$ID2" ] && [ "$ID2" != "$ID1" ] || fail "a second connection's ID: '$ID2' (first $ID1)"
check "another connection, another ID"

example run3 "$TMP/other.key" "$TMP/client.pub"
grep -q '^refused' "$TMP/run3.srv" || fail "the server took another key: $(cat "$TMP/run3.srv")"
grep -q '^server says no' "$TMP/run3.cli" || fail "the client: $(cat "$TMP/run3.cli")"
check "a signature by another key: refused"

# ---- one connection across rekeys ----
# hold PORT SECONDS: A holds a connection to B:PORT open; its local port in $TMP/hold.port.
hold() {
	bg_start "$NS_B" "$TMP/sink.$1" socat -u "$(tcp_listen "$1" "$IP_B")" /dev/null
	wait_listen "$NS_B" "$1"
	bg_start "$NS_A" "$TMP/hold.log" $PY -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
open(sys.argv[4], "w").write("%d\n" % s.getsockname()[1])
time.sleep(float(sys.argv[3]))
s.close()' "$IP_B" "$1" "$2" "$TMP/hold.port"
	HOLD=$BG_PID
	for i in $(seq 100); do [ -s "$TMP/hold.port" ] && break; sleep 0.05; done
	CPORT=$(cat "$TMP/hold.port")
	rm -f "$TMP/hold.port"
}
# ids PORT NAME: both ends' JSON answers for A:CPORT - B:PORT.
ids() {
	ip netns exec "$NS_A" "$ZCCCTL" session-id "$CPORT" "$IP_B" "$1" --json >"$TMP/$2.A.json" ||
		fail "zccctl session-id in A for $CPORT-$1"
	ip netns exec "$NS_B" "$ZCCCTL" session-id "$1" "$IP_A" "$CPORT" --json >"$TMP/$2.B.json" ||
		fail "zccctl session-id in B for $1-$CPORT"
}
same_ids() {
	$PY - "$TMP/$1.A.json" "$TMP/$1.B.json" <<'EOF' || fail "$2"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["session_id"] == b["session_id"], (a, b)
assert (a["role"], b["role"]) == ("client", "server"), (a, b)
assert (a["client_isn"], a["server_isn"]) == (b["client_isn"], b["server_isn"]), (a, b)
assert a["local_port"] == b["peer_port"] and a["peer_port"] == b["local_port"], (a, b)
EOF
}
show_handshakes() {
	ip netns exec "$NS_A" "$ZCCCTL" show zcc0 --json >"$TMP/A.json"
	jv "$TMP/A.json" handshakes
}
hold 5001 8
ids 5001 early
same_ids early "the ends' IDs of a held connection differ"
h0=$(show_handshakes)
for i in $(seq 100); do
	[ "$(show_handshakes)" -ge $((h0 + 2)) ] && break
	sleep 0.1
done
[ "$(show_handshakes)" -ge $((h0 + 2)) ] || fail "no two rekeys in 10 s"
ids 5001 late
same_ids late "the ends' IDs after rekeys differ"
[ "$(jv "$TMP/early.A.json" session_id)" = "$(jv "$TMP/late.A.json" session_id)" ] ||
	fail "the ID changed across rekeys"
check "a connection's ID is the same at both ends and through two rekeys"
bg_wait "$HOLD" 20 || true

# ---- encapsulated: a port routed into zcc0, not selected ----
for ns in "$NS_A" "$NS_B"; do
	ip -n "$ns" route add default dev zcc0 table 100
done
ip -n "$NS_A" rule add pref 100 to "$IP_B" ipproto tcp dport 6000 lookup 100
ip -n "$NS_B" rule add pref 100 to "$IP_A" ipproto tcp sport 6000 lookup 100
e0=$(jv "$TMP/A.json" encapsulated)
hold 6000 2
ids 6000 encap
same_ids encap "the ends' IDs of an encapsulated connection differ"
ip netns exec "$NS_A" "$ZCCCTL" show zcc0 --json >"$TMP/A.json"
[ "$(jv "$TMP/A.json" encapsulated)" -gt "$e0" ] || fail "port 6000 was not carried encapsulated"
check "an encapsulated connection's ID, the same at both ends"
bg_wait "$HOLD" 20 || true

# ---- errors ----
if ip netns exec "$NS_A" "$ZCCCTL" session-id 40000 "$IP_B" 5001 >/dev/null 2>"$TMP/e1"; then
	fail "an ID for a connection never carried"
fi
grep -q 'no opening of 40000-5001 seen on this link' "$TMP/e1" || fail "the error: $(cat "$TMP/e1")"
if ip netns exec "$NS_A" "$ZCCCTL" session-id 40000 "$IP_C" 5001 >/dev/null 2>"$TMP/e2"; then
	fail "an ID for a peer no link has"
fi
grep -q 'no link here has that peer' "$TMP/e2" || fail "the error: $(cat "$TMP/e2")"
check "clear errors: a connection not carried, a peer no link has"
pass
