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
pass
