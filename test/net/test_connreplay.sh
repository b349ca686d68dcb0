#!/bin/bash
# SPDX-License-Identifier: ISC
# A recorded connection replayed at a listener that answers with SYN
# cookies (PROTOCOL.md, "Replay"). B's kernel sends cookies for every SYN
# (tcp_syncookies=2: the path a SYN flood from anywhere puts a listener on),
# so a replayed ACK with the right cookie opens a new connection there and
# its request would reach the application again. What must hold, C being
# the attacker that recorded A's segments and sends them again:
#   - A connects to B:5001 from port 40001, sends a request and closes; C
#     replays every segment it recorded from A (all but the SYN) at once:
#     B's application sees the request once and one connection, and B
#     counts the replayed segments as "replayed" (the tags it remembers);
#   - A connects again from port 40001 0.3 s later (Linux runs a timestamp
#     clock per four-tuple: this one moves on by 300 ms), then C replays
#     the first recording again: counted as "stale", and B's log says why
#     once;
#   - A connects from port 40002 and C records it; 40 MB from A on another
#     connection make B forget that recording's tags; then C replays it:
#     "stale" again (the flow's floor), nothing delivered twice;
#   - A makes 7000 more connections: the session is renewed when a guard
#     holds three quarters of the 8192 connections it can (B's guard of A's
#     segments or A's of B's replies, whichever counts them first), and no
#     segment is refused for a full guard at either end.
# B's application receives each request exactly once and accepts exactly
# A's connections. test_connreplay6.sh runs it over IPv6.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

APP="$PY $NETDIR/tcpapp.py"
PORT=5001

setup_topology
genkey "$TMP/key"
ip netns exec "$NS_B" sysctl -qw net.ipv4.tcp_syncookies=2
start_pair "$PORT"

bg_start "$NS_B" "$TMP/srv.log" $APP serve-many --port "$PORT" \
	--out "$TMP/recv" --accepts "$TMP/accepts" --duration 120
wait_listen "$NS_B" "$PORT"

REQ1="GET /transfer?to=mallory&amount=$RANDOM$RANDOM"
REQ2="GET /balance?nonce=$RANDOM$RANDOM"
REQ3="GET /logout?nonce=$RANDOM$RANDOM"

# request TEXT SPORT: A connects from SPORT, sends TEXT, closes first (so
# B keeps no TIME_WAIT that would swallow a replay), waits for B's close.
request() {
	ip netns exec "$NS_A" $APP client --host "$IP_B" --port "$PORT" \
		--sport "$2" --timeout 10 "send:$1" >"$TMP/client.log" 2>&1 ||
		fail "A's request failed: $(cat "$TMP/client.log")"
}

# copies TEXT: how many times B's application received TEXT.
copies() { grep -a -o -F -- "$1" "$TMP/recv" | wc -l; }

# replay NAME: C sends A's segments recorded in NAME to B, then lets B
# take them.
replay() {
	ip netns exec "$NS_C" "$PY" "$NETDIR/replay_frames.py" "$TMP/$1.pcap" \
		--src "$IP_A" --dport "$PORT" | sed 's/^/    /'
	sleep 1
}

# accepted N: B's application accepted N connections, all from A.
accepted() {
	[ "$(grep -c "accepted $IP_A " "$TMP/accepts")" = "$1" ] &&
		[ "$(grep -c . "$TMP/accepts")" = "$1" ] ||
		fail "B accepted other than A's $1 connections: $(cat "$TMP/accepts")"
}

# expect TEXT N: B's application has TEXT exactly N times.
expect() {
	local n
	n=$(copies "$1")
	[ "$n" = "$2" ] || fail "B's application received \"$1\" $n times, not $2"
}

log "A connects to B:$PORT (B answers with SYN cookies), sends a request, closes"
capture_start "$NS_B" eth0 rec tcp port "$PORT" and src host "$IP_A"
request "$REQ1" 40001
capture_stop rec
capture_complete rec
expect "$REQ1" 1
accepted 1
[ "$(ip netns exec "$NS_B" nstat -az TcpExtSyncookiesSent | awk '/Syncookies/ { print $2 }')" -ge 1 ] ||
	fail "B sent no SYN cookie: the listener was not on the cookie path"
check "the request arrived once; B answered A's SYN with a cookie"

log "C replays the recorded segments at once"
replay rec
expect "$REQ1" 1
accepted 1
REPLAYED=$(counter B replayed)
[ "$REPLAYED" -ge 2 ] || fail "B counted $REPLAYED replayed segments"
check "nothing reached B's application again; B counted $REPLAYED segments replayed"

log "A connects again from port 40001, 0.3 s later"
sleep 0.3
request "$REQ2" 40001
expect "$REQ2" 1
log "C replays the first recording again"
replay rec
expect "$REQ1" 1
expect "$REQ2" 1
accepted 2
STALE=$(counter B stale)
[ "$STALE" -ge 2 ] || fail "B counted $STALE stale segments"
[ "$(log_count B 'trails the newest of their connection by over')" = 1 ] ||
	fail "B did not say once why it drops stale segments"
check "still one copy of each request; B counted $STALE segments stale and said why once"

log "A connects from port 40002 (recorded), then sends 40 MB on another connection"
capture_start "$NS_B" eth0 rec2 tcp port "$PORT" and src host "$IP_A"
request "$REQ3" 40002
capture_stop rec2
capture_complete rec2
expect "$REQ3" 1
head -c 40000000 /dev/urandom >"$TMP/bulk"
ip netns exec "$NS_A" timeout 60 socat -u "FILE:$TMP/bulk" \
	"$(tcp_to "$IP_B" "$PORT"),connect-timeout=10" ||
	fail "A's 40 MB to B failed"
OPENED=$(counter B opened)
[ "$OPENED" -gt $((2 * 8192)) ] ||
	fail "B opened only $OPENED segments: too few to forget the recording"
log "C replays the recording of port 40002"
replay rec2
expect "$REQ3" 1
accepted 4
STALE2=$(counter B stale)
[ "$STALE2" -gt "$STALE" ] || fail "B counted no more stale segments ($STALE2)"
check "after $OPENED segments opened, the replay is stale ($((STALE2 - STALE)) more), not delivered"

log "A makes 7000 more connections: the session is renewed before a guard fills"
KEYS_A=$(log_count A 'session renewed')
KEYS_B=$(log_count B 'session renewed')
ip netns exec "$NS_A" $APP connect-many --host "$IP_B" --port "$PORT" \
	--count 7000 >"$TMP/many.log" 2>&1 ||
	fail "A's connections failed: $(cat "$TMP/many.log")"
accepted 7004
# Each end keeps a guard of the other's segments, and both see every
# connection: the one whose periodic check comes first renews.
RENEWER=
for _ in $(seq 100); do
	for end in A B; do
		[ "$(log_count $end 'renewing the session: its replay guard holds')" -gt 0 ] &&
			RENEWER=$end && break 2
	done
	sleep 0.1
done
[ -n "$RENEWER" ] || fail "neither end renewed the session for its replay guard"
wait_log A 'session renewed' $((KEYS_A + 1)) &&
	wait_log B 'session renewed' $((KEYS_B + 1)) ||
	fail "$RENEWER said it would renew the session but no new session came"
[ "$(counter A guard_full)" = 0 ] && [ "$(counter B guard_full)" = 0 ] ||
	fail "a guard filled before the new session"
check "$RENEWER renewed the session at $((8192 / 4 * 3)) connections; none refused"

[ "$(counter A bad_tag)" = 0 ] && [ "$(counter B bad_tag)" = 0 ] ||
	fail "a genuine segment failed its tag"
pass
