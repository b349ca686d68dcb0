#!/bin/bash
# SPDX-License-Identifier: ISC
# The attacker C, on the same bridge, forges segments of a live selected
# connection A:x -> B:5001 with the exact next sequence number: data and RST,
# with a fake zcc option and without. None may reach B's socket: B receives
# exactly "onetwo" and no reset, and B's daemon counts each forgery once.
# Control: the same forgeries against an unselected port (5002) DO land,
# which proves the injection itself works.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

APP="$PY $NETDIR/tcpapp.py"

setup_topology
MAC_B=$(mac_of "$NS_B")
genkey "$TMP/key"
start_pair 5001
capture_start "$NS_B" eth0 wire

# converse PORT: B serves PORT, A connects and sends "one", then waits for
# $TMP/go.PORT before sending "two" and closing. Returns once B has "one".
converse() {
	local port=$1
	bg_start "$NS_B" "$TMP/srv.$port.log" $APP serve --port "$port" \
		--out "$TMP/recv.$port" --status "$TMP/status.$port" --timeout 30
	SRV=$BG_PID
	wait_listen "$NS_B" "$port"
	bg_start "$NS_A" "$TMP/cli.$port.log" $APP client --host "$IP_B" \
		--port "$port" --timeout 30 send:one "wait:$TMP/go.$port" send:two
	CLI=$BG_PID
	for _ in $(seq 100); do
		[ "$(cat "$TMP/recv.$port" 2>/dev/null)" = one ] && break
		sleep 0.1
	done
	[ "$(cat "$TMP/recv.$port" 2>/dev/null)" = one ] ||
		fail "port $port: B did not receive \"one\""
	sleep 0.5                   # B's ACK and A's state settle
}

seq='' ack='' tsval='' tsecr='' keyid='' sport='' dport=''
# state PORT: the A -> B direction as seen on B's wire: sets seq (the next
# sequence number), ack, tsval, tsecr, keyid, sport, dport.
state() {
	local line
	line=$($PCAP next "$TMP/wire.pcap" --src "$IP_A" --dst "$IP_B" --port "$1") ||
		fail "no A -> B segment of port $1 captured"
	log "A -> B port $1 now: $line"
	eval "$line"                # seq=N ack=N tsval=N tsecr=N keyid=N sport=N dport=N
}

# forge ARGS...: one segment A -> B of the current connection, sent by C.
forge() {
	ip netns exec "$NS_C" "$PY" "$NETDIR/inject.py" --dst-mac "$MAC_B" \
		--src "$IP_A" --dst "$IP_B" --sport "$sport" --dport "$dport" \
		--ack "$ack" "$@" | sed 's/^/    /'
}

log "selected port 5001: live connection A -> B, \"one\" delivered"
converse 5001
state 5001
[ "$keyid" -ge 0 ] || fail "the last A -> B segment of port 5001 is not sealed"
before=$(counters_line B)

log "C forges, all with the exact next seq $seq:"
# (a) and (c) look like sealed segments: A's timestamps and key id, a random
# tag. (b) and (d) carry no TCP option at all, as a plain forger's would.
ts="$tsval,$tsecr"
forge --seq "$seq" --payload EVIL --ts "$ts" --zcc --keyid "$keyid"  # (a) data, fake tag
forge --seq "$seq" --payload EVIL                                   # (b) data, no option
forge --seq "$seq" --flags R --ts "$ts" --zcc --keyid "$keyid"      # (c) RST, fake tag
forge --seq "$seq" --flags R                                        # (d) RST, no option
sleep 1

[ ! -e "$TMP/status.5001" ] ||
	fail "B's connection ended after the forgeries: $(cat "$TMP/status.5001")"
touch "$TMP/go.5001"
bg_wait "$CLI" 30 || fail "A's client failed: $(cat "$TMP/cli.5001.log")"
bg_wait "$SRV" 30 || fail "B's server failed: $(cat "$TMP/srv.5001.log")"
got=$(cat "$TMP/recv.5001")
status=$(cat "$TMP/status.5001")
[ "$got" = onetwo ] || fail "B received \"$got\", expected \"onetwo\""
[ "$status" = "eof 6" ] || fail "B's connection ended with \"$status\", expected \"eof 6\""
check "B received exactly \"onetwo\" and the connection closed normally"

after=$(counters_line B)
log "B before: $before"
log "B after:  $after"
bad_tag=$(( $(field "$after" bad_tag) - $(field "$before" bad_tag) ))
no_option=$(( $(field "$after" no_option) - $(field "$before" no_option) ))
total=$(( $(drops_sum "$after") - $(drops_sum "$before") ))
[ "$bad_tag" = 2 ] || fail "bad_tag rose by $bad_tag, expected 2 (forgeries a, c)"
[ "$no_option" = 2 ] || fail "no_option rose by $no_option, expected 2 (forgeries b, d)"
[ "$total" = 4 ] || fail "drop counters rose by $total in all, expected 4"
check "B dropped and counted each forgery once: bad_tag +2, no_option +2"

log "control, unselected port 5002: the same forgeries land"
converse 5002
state 5002
forge --seq "$seq" --payload EVIL --ts "$tsval,$tsecr"
forge --seq "$((seq + 4))" --flags R
for _ in $(seq 50); do
	[ -e "$TMP/status.5002" ] && break
	sleep 0.1
done
touch "$TMP/go.5002"
bg_wait "$SRV" 10 || true
bg_wait "$CLI" 10 || true
got=$(cat "$TMP/recv.5002")
status=$(cat "$TMP/status.5002" 2>/dev/null || echo "still open")
[ "$got" = oneEVIL ] ||
	fail "control: B received \"$got\", expected \"oneEVIL\": injection does not work"
[ "${status%% *}" = reset ] ||
	fail "control: the forged RST did not reset port 5002 (\"$status\"): injection does not work"
check "control: forged data and RST accepted on port 5002 (\"$got\", $status)"

capture_stop wire
stop_zcc A
stop_zcc B
pass
