#!/bin/bash
# SPDX-License-Identifier: ISC
# In-place sealing requires TCP timestamps (docs/PROTOCOL.md, "Replay").
# With net.ipv4.tcp_timestamps=0 in A only, a connection A -> B:5001 fails:
# A's daemon refuses to seal the timestamp-less SYNs (no_timestamps > 0, the
# refusal logged once), nothing of port 5001 reaches the wire (no plaintext,
# nothing unsealed, nothing at all) and B's application receives nothing.
# Control: with timestamps back on in A, the same listener receives a small
# transfer byte-exact, every segment sealed: the failure was the timestamps.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

APP="$PY $NETDIR/tcpapp.py"
REFUSAL="refusing to seal a segment without TCP timestamps"

setup_topology
genkey "$TMP/key"
start_pair 5001
head -c 200K /dev/urandom >"$TMP/data.in"

bg_start "$NS_B" "$TMP/srv.log" $APP serve --port 5001 \
	--out "$TMP/recv" --status "$TMP/status" --timeout 40
SRV=$BG_PID
wait_listen "$NS_B" 5001

log "timestamps off in A only"
ip netns exec "$NS_A" sysctl -qw net.ipv4.tcp_timestamps=0
[ "$(ip netns exec "$NS_A" sysctl -n net.ipv4.tcp_timestamps)" = 0 ] ||
	fail "cannot turn timestamps off in A"
[ "$(ip netns exec "$NS_B" sysctl -n net.ipv4.tcp_timestamps)" = 1 ] ||
	fail "B's timestamps are off too: the sysctl is not per namespace here"

capture_start "$NS_B" eth0 off tcp
if ip netns exec "$NS_A" timeout 20 $APP client --host "$IP_B" --port 5001 \
	--timeout 4 send:PLAINTEXT-WITHOUT-TIMESTAMPS >"$TMP/cli.off" 2>&1; then
	fail "A connected to B:5001 without timestamps: $(cat "$TMP/cli.off")"
fi
log "A's client: $(cat "$TMP/cli.off")"
capture_stop off
capture_complete off
lineA=$(counters_line A)
lineB=$(counters_line B)
log "A $lineA"
log "B $lineB"

{ grep 'dropped (no_timestamps)' "$TMP/A.log" || true; } | sed 's/^/    /'
nots=$(field "$lineA" no_timestamps)
[ "$nots" -gt 0 ] || fail "A's no_timestamps is $nots"
[ "$(field "$lineA" sealed)" = 0 ] || fail "A sealed segments without timestamps"
n=$(grep -c "$REFUSAL" "$TMP/A.log" || true)
[ "$n" = 1 ] || fail "A logged the refusal $n times, expected once"
check "A refused $nots timestamp-less SYNs (no_timestamps=$nots, sealed=0), logged once: $(grep -m1 "$REFUSAL" "$TMP/A.log")"

n=$($PCAP count "$TMP/off.pcap" --port 5001)
[ "$n" = 0 ] || {
	$PCAP dump "$TMP/off.pcap" --port 5001 | head >&2
	fail "$n segments of port 5001 on the wire with timestamps off"
}
check "nothing of port 5001 on the wire: no plaintext, nothing unsealed"
[ "$(field "$lineB" opened)" = 0 ] && [ "$(drops_sum "$lineB")" = 0 ] ||
	fail "B's daemon saw something: $lineB"
[ ! -s "$TMP/recv" ] && [ ! -e "$TMP/status" ] ||
	fail "B's application got something: \"$(cat "$TMP/recv" 2>/dev/null)\" $(cat "$TMP/status" 2>/dev/null)"
check "B's daemon and B's application received nothing"

log "control: timestamps back on in A, the same listener"
ip netns exec "$NS_A" sysctl -qw net.ipv4.tcp_timestamps=1
capture_start "$NS_B" eth0 on tcp
ip netns exec "$NS_A" timeout 30 socat -u "FILE:$TMP/data.in" \
	"$(tcp_to "$IP_B" 5001),connect-timeout=10" || fail "A -> B:5001 failed with timestamps on"
bg_wait "$SRV" 30 || fail "B's server failed: $(cat "$TMP/srv.log")"
capture_stop on
capture_complete on
[ "$(cat "$TMP/status")" = "eof $(stat -c %s "$TMP/data.in")" ] ||
	fail "B's connection ended with \"$(cat "$TMP/status")\""
[ "$(sha "$TMP/data.in")" = "$(sha "$TMP/recv")" ] ||
	fail "received data differs ($(stat -c %s "$TMP/recv") of $(stat -c %s "$TMP/data.in") bytes)"
check "200 KB arrived byte-exact ($(cat "$TMP/status"))"
check_wire_sealed "$TMP/on.pcap" 5001 "$TMP/data.in"

lineA2=$(counters_line A)
lineB2=$(counters_line B)
log "A $lineA2"
log "B $lineB2"
[ "$(field "$lineA2" no_timestamps)" = "$nots" ] ||
	fail "A's no_timestamps rose during the control transfer"
[ "$(field "$lineA2" sealed)" -gt 0 ] && [ "$(field "$lineB2" opened)" -gt 0 ] ||
	fail "control: nothing sealed or opened"
drops=$(nonzero_drops B)
[ -z "$drops" ] || fail "B: drop counters not zero: $drops"
check "control: A sealed $(field "$lineA2" sealed), B opened $(field "$lineB2" opened), no new refusal, B dropped nothing"

stop_zcc A
stop_zcc B
pass
