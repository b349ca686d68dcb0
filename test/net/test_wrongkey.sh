#!/bin/bash
# A and B hold different keys: a selected connection must deliver nothing
# (B's daemon rejects every segment, counted as bad_tag), while an
# unselected port keeps working.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

APP="$PY $NETDIR/tcpapp.py"

setup_topology
genkey "$TMP/keyA"
genkey "$TMP/keyB"
cmp -s "$TMP/keyA" "$TMP/keyB" && fail "genkey made the same key twice"
start_pair 5001 A B "$TMP/keyA" "$TMP/keyB"
capture_start "$NS_B" eth0 wire

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
[ "$n" -gt 0 ] || fail "no segment of A's attempt reached B's wire: nothing was tested"
$PCAP check-sealed "$TMP/wire.pcap" --port 5001 --src "$IP_A" ||
	fail "A sent unsealed segments of port 5001"
check "$n sealed segments of A's attempt reached B, none delivered"

line=$(counters_line B)
log "B $line"
[ "$(field "$line" bad_tag)" -gt 0 ] || fail "B's bad_tag counter is 0"
[ "$(field "$line" opened)" = 0 ] || fail "B opened segments sealed with another key"
check "B counted bad_tag $(field "$line" bad_tag), opened 0"

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
