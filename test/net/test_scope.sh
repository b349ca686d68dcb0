#!/bin/bash
# SPDX-License-Identifier: ISC
# The scope of "selected": only the link's own addresses carry selected
# flows; what else looks like one is refused, never sent or delivered in
# clear. A and B run a link on port 5001; A also has a secondary address.
#  - A client in A bound to the secondary address connects to B:5001: its
#    segments never leave (dropped as other_source, said once in A's log),
#    B's application gets nothing, and the wire carries none of its data.
#    (Before: they left encapsulated, and B answered in clear.)
#  - B connects to A's secondary address on port 5001: A's receive ring
#    does not take it (B's segments are for another address than the
#    link's; before, the ring took them and counted no_option, and A logged
#    a stripped option), A's backstop drops them, A's application gets
#    nothing.
#  - The link's own flows are byte-exact meanwhile.
#  - A selects 5001 and 5002, B only 5001: both logs say the ends select
#    other ports, every selected flow is blocked (a port sealed at one end
#    only would reach the other's application as ciphertext), B's
#    application gets nothing on 5002; B re-reads its ports (SIGHUP) and
#    a handshake tells A at once: 1 MB on 5002 byte-exact.
# test_scope6.sh runs it over IPv6.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

PORT=5001
if [ "$FAMILY" = 4 ]; then SECOND=10.0.0.11 BIND=10.0.0.11
else SECOND=fd00::11 BIND=[fd00::11]; fi

setup_topology
genkey "$TMP/key"
start_pair $PORT
# After the start: the kernel would prefer the newer address as the link's.
ip -n "$NS_A" addr add "$SECOND/$PLEN" dev eth0 nodad
head -c 200000 /dev/urandom >"$TMP/secret"
head -c 1000000 /dev/urandom >"$TMP/in"
capture_start "$NS_B" eth0 wire tcp port $PORT

log "a client in A bound to $SECOND connects to B:$PORT"
bg_start "$NS_B" "$TMP/srv1.log" socat -u "$(tcp_listen $PORT "$IP_B")" "CREATE:$TMP/out1"
srv=$BG_PID
wait_listen "$NS_B" $PORT
ip netns exec "$NS_A" timeout 10 socat -u "FILE:$TMP/secret" \
	"$(tcp_to "$IP_B" $PORT),bind=$BIND,connect-timeout=4" 2>"$TMP/cli1.err" && rc=0 || rc=$?
[ "$rc" != 0 ] || fail "the client from $SECOND got through"
wait_log A 'from another address of this host' 1 5 ||
	fail "A said nothing about the other source"
[ "$(log_count A 'from another address of this host')" = 1 ] ||
	fail "A said it $(log_count A 'from another address of this host') times"
echo "    A: $(grep 'from another address of this host' "$TMP/A.log" | sed 's/^[^:]*: //')"
n=$(counter A other_source)
[ "$n" -gt 0 ] || fail "A counted other_source=$n"
kill "$srv" 2>/dev/null || true
bg_wait "$srv" 5 || true
[ ! -s "$TMP/out1" ] || fail "B's application got $(stat -c %s "$TMP/out1") bytes"
check "A dropped $n segments from $SECOND (other_source), said so once; B's application got nothing"

log "B connects to A's secondary address $SECOND:$PORT"
before_no_opt=$(counter A no_option)
bg_start "$NS_A" "$TMP/srv2.log" socat -u "$(tcp_listen $PORT "$SECOND")" "CREATE:$TMP/out2"
srv=$BG_PID
wait_listen "$NS_A" $PORT
ip netns exec "$NS_B" timeout 10 socat -u "FILE:$TMP/secret" \
	"$(tcp_to "$SECOND" $PORT),connect-timeout=4" 2>/dev/null && rc=0 || rc=$?
[ "$rc" != 0 ] || fail "B's connection to $SECOND got through"
kill "$srv" 2>/dev/null || true
bg_wait "$srv" 5 || true
[ ! -s "$TMP/out2" ] || fail "A's application got $(stat -c %s "$TMP/out2") bytes"
after_no_opt=$(counter A no_option)
[ "$after_no_opt" = "$before_no_opt" ] ||
	fail "A's ring took B's segments to $SECOND (no_option $before_no_opt -> $after_no_opt)"
! grep -q 'arrive without the zcc option' "$TMP/A.log" ||
	fail "A blamed a middlebox: $(grep 'without the zcc option' "$TMP/A.log")"
dropped=$(nft_dropped "$NS_A" input)
[ "$dropped" -gt 0 ] || fail "A's backstop dropped nothing"
check "A's ring left B's segments to $SECOND alone (no_option unchanged), its backstop dropped $dropped; A's application got nothing"

transfer "$NS_A" "$NS_B" "$IP_B" $PORT "$TMP/in" "$TMP/out3"
capture_stop wire
capture_complete wire
$PCAP grep "$TMP/wire.pcap" --port $PORT --needle-file "$TMP/secret" ||
	fail "the secret crossed the wire in clear"
check "1 MB on the link byte-exact; none of the refused data on the wire"
stop_zcc A
stop_zcc B
ip netns exec "$NS_A" "$ZCCTUND" cleanup >/dev/null
ip netns exec "$NS_B" "$ZCCTUND" cleanup >/dev/null
# Else the kernel may pick it as A's address for the new link (IPv6 does).
ip -n "$NS_A" addr del "$SECOND/$PLEN" dev eth0

log "A selects 5001 and 5002, B only 5001 (from a file B re-reads on SIGHUP)"
echo 'encrypt-port = [ 5001 ];' >"$TMP/b.conf"
start_zcc "$NS_A" A2 peer "$IP_B" key-file "$TMP/key" encrypt-port 5001 encrypt-port 5002 nodetach
start_zcc "$NS_B" B2 peer "$IP_A" key-file "$TMP/key" file "$TMP/b.conf" nodetach
wait_up A2
wait_up B2
for n in A2 B2; do
	wait_log $n 'selects other ports than we do' 1 5 || fail "$n said nothing of the ports"
done
echo "    A: $(grep 'selects other ports' "$TMP/A2.log" | sed 's/^[^:]*: //')"
capture_start "$NS_B" eth0 ports tcp port 5002
bg_start "$NS_B" "$TMP/srv4.log" socat -u "$(tcp_listen 5002 "$IP_B")" "CREATE:$TMP/out4"
srv=$BG_PID
wait_listen "$NS_B" 5002
ip netns exec "$NS_A" timeout 10 socat -u "FILE:$TMP/secret" \
	"$(tcp_to "$IP_B" 5002),connect-timeout=4" 2>/dev/null && rc=0 || rc=$?
kill "$srv" 2>/dev/null || true
bg_wait "$srv" 5 || true
capture_stop ports
capture_complete ports
[ "$rc" != 0 ] || fail "A's connection to B:5002 went through"
[ ! -s "$TMP/out4" ] || fail "B's application got $(stat -c %s "$TMP/out4") bytes on 5002 (ciphertext?)"
ip netns exec "$NS_A" "$ZCCCTL" show zcc0 --json >"$TMP/A2.json"
[ "$(jv "$TMP/A2.json" ports_differ)" = True ] || fail "A's zccctl show: ports_differ false"
[ "$(jv "$TMP/A2.json" dropped.ports_differ)" -gt 0 ] || fail "A dropped nothing as ports_differ"
$PCAP grep "$TMP/ports.pcap" --port 5002 --needle-file "$TMP/secret" ||
	fail "the secret crossed in clear"
check "both name the difference; every selected flow blocked: B's application got nothing on 5002 (A dropped $(jv "$TMP/A2.json" dropped.ports_differ) as ports_differ)"

echo 'encrypt-port = [ 5001, 5002 ];' >"$TMP/b.conf"
kill -HUP "${ZCC_PID[B2]}"
wait_log A2 'selects the same ports as we do again' 1 10 ||
	fail "A did not hear of B's new ports: $(grep -i ports "$TMP/A2.log" | tail -3)"
transfer "$NS_A" "$NS_B" "$IP_B" 5002 "$TMP/in" "$TMP/out5"
check "B re-read its ports (SIGHUP): A heard at once, 1 MB on 5002 byte-exact"
stop_zcc A2
stop_zcc B2
pass
