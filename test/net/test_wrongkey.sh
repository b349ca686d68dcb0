#!/bin/bash
# SPDX-License-Identifier: ISC
# A and B hold different keys: the link never comes up and both logs say
# why (the handshake fails authentication); a selected connection delivers
# nothing and puts nothing on the wire (no session key: fail closed), while
# an unselected port keeps working.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

APP="$PY $NETDIR/tcpapp.py"

setup_topology
genkey "$TMP/keyA"
genkey "$TMP/keyB"
cmp -s "$TMP/keyA" "$TMP/keyB" && fail "genkey made the same key twice"
start_pair 5001 A B "$TMP/keyA" "$TMP/keyB"
capture_start "$NS_B" eth0 wire
# Each end retries its handshake every 5 s: within 10 s both have seen one.
for n in A B; do
	wait_log $n 'failed authentication (mac1): a different key file' || true
done
for n in A B; do
	grep -q 'link up' "$TMP/$n.log" && fail "$n: link up with the wrong key"
	grep -q 'failed authentication (mac1): a different key file' "$TMP/$n.log" ||
		fail "$n's log does not say why the link is not up"
done
ip netns exec "$NS_B" "$ZCCCTL" show zcc0 --json >"$TMP/B.json" || fail "zccctl show failed"
$PY - "$TMP/B.json" <<'PYEOF' || fail "B's status: $(cat "$TMP/B.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["state"] != "up", s["state"]
assert s["link"]["handshakes"] == 0
assert s["link"]["hs_bad_mac"] > 0
PYEOF
check "no link up; both logs name the cause; B counts hs_bad_mac"

log "A connects to B:5001 and sends, with the wrong key"
bg_start "$NS_B" "$TMP/srv.log" $APP serve --port 5001 --out "$TMP/recv" \
	--status "$TMP/status" --timeout 8
srv=$BG_PID
wait_listen "$NS_B" 5001
ip netns exec "$NS_A" $APP client --host "$IP_B" --port 5001 --timeout 5 \
	send:secret-payload-that-must-not-arrive >"$TMP/cli.log" 2>&1 &&
	fail "A's connection to B:5001 succeeded with the wrong key: $(cat "$TMP/cli.log")"
log "A's client: $(cat "$TMP/cli.log")"
bg_wait "$srv" 15 || true
[ ! -s "$TMP/recv" ] || fail "B's server received $(stat -c %s "$TMP/recv") bytes"
status=$(cat "$TMP/status" 2>/dev/null || echo "no status")
[ "$status" = "timeout 0" ] || fail "B's server: \"$status\", expected no connection"
check "the connection failed and B's server received nothing"

capture_stop wire
capture_complete wire
n=$($PCAP count "$TMP/wire.pcap" --port 5001 --src "$IP_A")
[ "$n" = 0 ] || fail "$n segments of port 5001 left A without a session"
line=$(counters_line A)
[ "$(field "$line" no_key)" -gt 0 ] || fail "A's no_key counter is 0: $line"
[ "$(field "$line" sealed)" = 0 ] || fail "A sealed without a session: $line"
check "nothing of port 5001 on the wire; A dropped $(field "$line" no_key) segments (no_key)"

log "unselected port 5002 still works"
bg_start "$NS_B" "$TMP/srv2.log" $APP serve --port 5002 --out "$TMP/recv2" \
	--status "$TMP/status2" --timeout 10
srv=$BG_PID
wait_listen "$NS_B" 5002
ip netns exec "$NS_A" $APP client --host "$IP_B" --port 5002 --timeout 5 \
	send:hello-in-the-clear >"$TMP/cli2.log" 2>&1 ||
	fail "port 5002: $(cat "$TMP/cli2.log")"
bg_wait "$srv" 10 || true
[ "$(cat "$TMP/recv2")" = hello-in-the-clear ] || fail "port 5002: B received \"$(cat "$TMP/recv2")\""
check "port 5002 delivered"

stop_zcc A
stop_zcc B
pass
