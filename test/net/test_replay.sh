#!/bin/bash
# SPDX-License-Identifier: ISC
# Handshake messages captured on the wire while the link came up, replayed
# later by the attacker C (spoofing the sender's address and port), are
# rejected and leave the live session alone: A's init replayed to B is
# counted in hs_replayed and not answered, B's resp replayed to A is
# counted in hs_bad, a forged init (one byte flipped) in hs_bad_mac; no
# new handshake, the same key id, the link stays up, a connection open
# across the replays delivers everything, and a new selected connection
# afterwards is byte-exact.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

APP="$PY $NETDIR/tcpapp.py"
UDP_PORT=7437

setup_topology
MAC_A=$(mac_of "$NS_A")
MAC_B=$(mac_of "$NS_B")
genkey "$TMP/key"


# payload_hex PCAP SRC TYPE LEN: the first UDP payload from SRC whose first
# byte is TYPE and whose length is LEN, in hex.
payload_hex() {
	$PCAP udp "$1" --port "$UDP_PORT" --src "$2" |
		awk -v t="$3" -v l="$4" '$6 == l && substr($7, 1, 2) == t { print $7; exit }'
}

# replay SRC DST DST_MAC HEX [COUNT]: C sends HEX as a UDP datagram
# SRC:7437 -> DST:7437 straight to DST's MAC.
replay() {
	ip netns exec "$NS_C" "$PY" "$NETDIR/inject.py" --dst-mac "$3" \
		--src "$1" --dst "$2" --sport "$UDP_PORT" --dport "$UDP_PORT" \
		--udp-payload "$4" --count "${5:-1}" | sed 's/^/    /'
}

log "capture UDP $UDP_PORT on B's eth0 while the link comes up"
capture_start "$NS_B" eth0 hs udp port "$UDP_PORT"
start_zcc "$NS_A" A peer "$IP_B" key-file "$TMP/key" encrypt-port 5001 \
	keepalive-interval 1 keepalive-failure 3 nodetach debug
start_zcc "$NS_B" B peer "$IP_A" key-file "$TMP/key" encrypt-port 5001 \
	keepalive-interval 1 keepalive-failure 3 nodetach debug
wait_up A
wait_up B
capture_stop hs
capture_complete hs

INIT=$(payload_hex "$TMP/hs.pcap" "$IP_A" 01 124)
RESP=$(payload_hex "$TMP/hs.pcap" "$IP_B" 02 112)
if [ -z "$INIT" ] || [ -z "$RESP" ]; then
	$PCAP udp "$TMP/hs.pcap" | cut -c1-80 >&2
	fail "captured no init from A (${#INIT} hex digits) or no resp from B (${#RESP})"
fi
log "A's init: ${INIT:0:32}... (124 bytes); B's resp: ${RESP:0:32}... (112 bytes)"
check "captured A's init and B's resp"

log "a connection A -> B:5001 stays open across the replays"
bg_start "$NS_B" "$TMP/srv.log" $APP serve --port 5001 --out "$TMP/recv" \
	--status "$TMP/status" --timeout 30
SRV=$BG_PID
wait_listen "$NS_B" 5001
bg_start "$NS_A" "$TMP/cli.log" $APP client --host "$IP_B" --port 5001 \
	--timeout 30 send:one "wait:$TMP/go" send:two
CLI=$BG_PID
for _ in $(seq 100); do
	[ "$(cat "$TMP/recv" 2>/dev/null)" = one ] && break
	sleep 0.1
done
[ "$(cat "$TMP/recv" 2>/dev/null)" = one ] || fail "B did not receive \"one\""

ctl_status B0 "$NS_B"
ctl_status A0 "$NS_A"
[ "$(jv "$TMP/B0.json" state)" = up ] || fail "B not up: $(jv "$TMP/B0.json" state)"
[ "$(jv "$TMP/A0.json" state)" = up ] || fail "A not up: $(jv "$TMP/A0.json" state)"
B_KEY=$(jv "$TMP/B0.json" key_id)
B_HS=$(jv "$TMP/B0.json" link.handshakes)
B_REPLAYED=$(jv "$TMP/B0.json" link.hs_replayed)
B_BADMAC=$(jv "$TMP/B0.json" link.hs_bad_mac)
B_SENT=$(jv "$TMP/B0.json" link.hs_sent)
A_KEY=$(jv "$TMP/A0.json" key_id)
A_HS=$(jv "$TMP/A0.json" link.handshakes)
A_BAD=$(jv "$TMP/A0.json" link.hs_bad)
log "B before: key_id=$B_KEY handshakes=$B_HS hs_replayed=$B_REPLAYED hs_bad_mac=$B_BADMAC hs_sent=$B_SENT"
log "A before: key_id=$A_KEY handshakes=$A_HS hs_bad=$A_BAD"
[ "$B_KEY" -gt 0 ] && [ "$A_KEY" = "$B_KEY" ] ||
	fail "key ids before the replays: A $A_KEY, B $B_KEY"

log "C replays A's init to B three times"
capture_start "$NS_B" eth0 replay udp port "$UDP_PORT"
replay "$IP_A" "$IP_B" "$MAC_B" "$INIT" 3
sleep 1
capture_stop replay
capture_complete replay
ctl_status B1 "$NS_B"
d=$(( $(jv "$TMP/B1.json" link.hs_replayed) - B_REPLAYED ))
log "B after: key_id=$(jv "$TMP/B1.json" key_id) handshakes=$(jv "$TMP/B1.json" link.handshakes)" \
	"hs_replayed=$(jv "$TMP/B1.json" link.hs_replayed) (+$d) hs_sent=$(jv "$TMP/B1.json" link.hs_sent)" \
	"state=$(jv "$TMP/B1.json" state)"
[ "$d" = 3 ] || fail "B's hs_replayed rose by $d, expected 3"
[ "$(jv "$TMP/B1.json" link.handshakes)" = "$B_HS" ] ||
	fail "B's handshakes went from $B_HS to $(jv "$TMP/B1.json" link.handshakes)"
[ "$(jv "$TMP/B1.json" key_id)" = "$B_KEY" ] ||
	fail "B's key_id went from $B_KEY to $(jv "$TMP/B1.json" key_id)"
[ "$(jv "$TMP/B1.json" state)" = up ] || fail "B's state: $(jv "$TMP/B1.json" state)"
[ "$(jv "$TMP/B1.json" link.hs_sent)" = "$B_SENT" ] ||
	fail "B's hs_sent went from $B_SENT to $(jv "$TMP/B1.json" link.hs_sent)"
check "B counted 3 replays, no new handshake, key id $B_KEY, still up, sent no handshake message"
seen=$($PCAP udp "$TMP/replay.pcap" --src "$IP_A" --dst "$IP_B" | awk -v m="$INIT" '$7 == m' | wc -l)
answers=$($PCAP udp "$TMP/replay.pcap" --src "$IP_B" | awk 'substr($7, 1, 2) == "02"' | wc -l)
log "on B's eth0: $seen replayed inits in, $answers resps out"
[ "$seen" = 3 ] || fail "the capture on B's eth0 shows $seen copies of the replayed init, expected 3"
[ "$answers" = 0 ] || fail "B sent $answers handshake responses to the replayed init"
check "the 3 replays reached B's eth0 and B answered none"

log "C replays B's resp to A"
replay "$IP_B" "$IP_A" "$MAC_A" "$RESP"
sleep 1
ctl_status A1 "$NS_A"
d=$(( $(jv "$TMP/A1.json" link.hs_bad) - A_BAD ))
log "A after: key_id=$(jv "$TMP/A1.json" key_id) handshakes=$(jv "$TMP/A1.json" link.handshakes)" \
	"hs_bad=$(jv "$TMP/A1.json" link.hs_bad) (+$d) state=$(jv "$TMP/A1.json" state)"
[ "$d" = 1 ] || fail "A's hs_bad rose by $d, expected 1"
[ "$(jv "$TMP/A1.json" link.handshakes)" = "$A_HS" ] ||
	fail "A's handshakes went from $A_HS to $(jv "$TMP/A1.json" link.handshakes)"
[ "$(jv "$TMP/A1.json" key_id)" = "$A_KEY" ] ||
	fail "A's key_id went from $A_KEY to $(jv "$TMP/A1.json" key_id)"
[ "$(jv "$TMP/A1.json" state)" = up ] || fail "A's state: $(jv "$TMP/A1.json" state)"
check "A rejected the replayed resp (hs_bad +1), key id $A_KEY, still up"

log "C sends a forged init (A's, byte 20 flipped) to B"
b=$(( 0x${INIT:40:2} ^ 0x01 ))
FORGED=${INIT:0:40}$(printf '%02x' "$b")${INIT:42}
[ "${#FORGED}" = 248 ] && [ "$FORGED" != "$INIT" ] || fail "forging went wrong: $FORGED"
replay "$IP_A" "$IP_B" "$MAC_B" "$FORGED"
sleep 1
ctl_status B2 "$NS_B"
d=$(( $(jv "$TMP/B2.json" link.hs_bad_mac) - B_BADMAC ))
r=$(( $(jv "$TMP/B2.json" link.hs_replayed) - B_REPLAYED ))
log "B after: hs_bad_mac=$(jv "$TMP/B2.json" link.hs_bad_mac) (+$d) hs_replayed +$r" \
	"handshakes=$(jv "$TMP/B2.json" link.handshakes) key_id=$(jv "$TMP/B2.json" key_id)"
[ "$d" = 1 ] || fail "B's hs_bad_mac rose by $d, expected 1"
[ "$r" = 3 ] || fail "B's hs_replayed rose by $r in all, expected 3 (the forgery is not a replay)"
[ "$(jv "$TMP/B2.json" link.handshakes)" = "$B_HS" ] ||
	fail "B's handshakes went from $B_HS to $(jv "$TMP/B2.json" link.handshakes)"
[ "$(jv "$TMP/B2.json" key_id)" = "$B_KEY" ] ||
	fail "B's key_id went from $B_KEY to $(jv "$TMP/B2.json" key_id)"
[ "$(jv "$TMP/B2.json" state)" = up ] || fail "B's state: $(jv "$TMP/B2.json" state)"
check "B rejected the forged init (hs_bad_mac +1), key id $B_KEY, still up"

log "the connection open across the replays finishes"
touch "$TMP/go"
bg_wait "$CLI" 30 || fail "A's client failed: $(cat "$TMP/cli.log")"
bg_wait "$SRV" 30 || fail "B's server failed: $(cat "$TMP/srv.log")"
[ "$(cat "$TMP/recv")" = onetwo ] || fail "B received \"$(cat "$TMP/recv")\", expected \"onetwo\""
[ "$(cat "$TMP/status")" = "eof 6" ] || fail "B's connection ended \"$(cat "$TMP/status")\", expected \"eof 6\""
check "B received exactly \"onetwo\", normal close"

log "a new connection A -> B:5001: 1 MB byte-exact"
head -c 1M /dev/urandom >"$TMP/data"
capture_start "$NS_B" eth0 wire tcp port 5001
bg_start "$NS_B" "$TMP/srv2.log" socat -u "$(tcp_listen 5001)" "CREATE:$TMP/data.out"
srv=$BG_PID
wait_listen "$NS_B" 5001
ip netns exec "$NS_A" timeout 30 socat -u "FILE:$TMP/data" \
	"$(tcp_to "$IP_B" 5001),connect-timeout=10" || fail "transfer A -> B:5001 failed"
bg_wait "$srv" 30 || fail "B's receiver did not finish"
cmp -s "$TMP/data" "$TMP/data.out" ||
	fail "transfer A -> B:5001 not byte-exact ($(stat -c %s "$TMP/data.out") bytes)"
capture_stop wire
capture_complete wire
check_wire_sealed "$TMP/wire.pcap" 5001 "$TMP/data"
ctl_status A2 "$NS_A"
ctl_status B3 "$NS_B"
for n in A2 B3; do
	[ "$(jv "$TMP/$n.json" state)" = up ] || fail "$n state $(jv "$TMP/$n.json" state)"
done
[ "$(jv "$TMP/A2.json" key_id)" = "$A_KEY" ] && [ "$(jv "$TMP/B3.json" key_id)" = "$B_KEY" ] ||
	fail "key ids changed: A $A_KEY -> $(jv "$TMP/A2.json" key_id), B $B_KEY -> $(jv "$TMP/B3.json" key_id)"
[ "$(jv "$TMP/A2.json" link.handshakes)" = "$A_HS" ] && [ "$(jv "$TMP/B3.json" link.handshakes)" = "$B_HS" ] ||
	fail "handshakes changed: A $A_HS -> $(jv "$TMP/A2.json" link.handshakes), B $B_HS -> $(jv "$TMP/B3.json" link.handshakes)"
check "1 MB byte-exact and sealed; both still up on key id $A_KEY after $A_HS/$B_HS handshakes"

stop_zcc A
stop_zcc B
pass
