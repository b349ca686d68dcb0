#!/bin/bash
# SPDX-License-Identifier: ISC
# peer given as a host name: A knows B as "peerb" from its namespace's
# /etc/hosts (ip netns exec puts /etc/netns/NS/hosts in place). What must
# hold:
#   - A resolves the name at start and carries a selected transfer to B
#     sealed, byte for byte;
#   - B moves to another address and the name with it: A finds the new
#     address (resolve-interval 1), says so once, moves the link (its rules
#     now name the new address, not the old), and the next transfer arrives
#     byte for byte; every port-5001 segment on the wire, before, during and
#     after the move, is sealed, and none of the data is in plaintext;
#   - a name that does not resolve is refused at start with one line
#     naming it, and nothing is installed.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

PORT=5001
IP_B2=10.0.0.12

setup_topology
genkey "$TMP/key"
mkdir -p "/etc/netns/$NS_A"
printf '%s peerb\n10.0.0.250 dual\nfd00::250 dual\n' "$IP_B" >"/etc/netns/$NS_A/hosts"

log "a name that does not resolve"
before=$(ip -n "$NS_A" rule show | wc -l)
ip netns exec "$NS_A" "$ZCCTUND" confdir "$TMP" peer nosuchpeer key-file "$TMP/key" \
	encrypt-port $PORT nodetach >"$TMP/bad.log" 2>&1 && rc=0 || rc=$?
[ "$rc" = 1 ] || fail "an unresolvable peer exited $rc: $(cat "$TMP/bad.log")"
grep -q "peer nosuchpeer: cannot resolve it" "$TMP/bad.log" ||
	fail "no line names the name: $(cat "$TMP/bad.log")"
[ "$(ip -n "$NS_A" rule show | wc -l)" = "$before" ] || fail "rules were installed"
check "refused with status 1: $(head -n1 "$TMP/bad.log")"

log "a name with addresses of both families: the link takes one, and says so"
start_zcc "$NS_A" D peer dual local "$IP_A" key-file "$TMP/key" encrypt-port $PORT nodetach
grep -q 'peer dual also has IPv6 addresses: this link selects no flow to them' "$TMP/D.log" ||
	fail "no warning for the other family: $(grep dual "$TMP/D.log")"
echo "    $(grep 'also has IPv6' "$TMP/D.log" | sed 's/^[^:]*: //')"
stop_zcc D
ip netns exec "$NS_A" "$ZCCTUND" cleanup >/dev/null
check "peer dual (10.0.0.250 and fd00::250): the link is 10.0.0.250's, the warning names the IPv6 addresses"

log "peer peerb = $IP_B"
capture_start "$NS_B" eth0 wire tcp port $PORT
start_zcc "$NS_A" A peer peerb resolve-interval 1 key-file "$TMP/key" \
	encrypt-port $PORT nodetach debug
start_zcc "$NS_B" B peer "$IP_A" key-file "$TMP/key" encrypt-port $PORT nodetach debug
wait_up A
wait_up B
grep -q "ready: local $IP_A peer $IP_B " "$TMP/A.log" ||
	fail "A's ready line: $(grep ' ready: ' "$TMP/A.log")"
head -c 1000000 /dev/urandom >"$TMP/in1"
head -c 1000000 /dev/urandom >"$TMP/in2"
transfer "$NS_A" "$NS_B" "$IP_B" $PORT "$TMP/in1" "$TMP/out1"
check "peerb resolved to $IP_B; 1 MB arrived whole"

log "B moves to $IP_B2, and peerb with it"
stop_zcc B
ip -n "$NS_B" addr add "$IP_B2/24" dev eth0
echo "$IP_B2 peerb" >"/etc/netns/$NS_A/hosts"      # the same file, rewritten
start_zcc "$NS_B" B peer "$IP_A" local "$IP_B2" key-file "$TMP/key" \
	encrypt-port $PORT nodetach debug
wait_log A "peer peerb now resolves to $IP_B2 (was $IP_B): moving the link" 1 10 ||
	fail "A did not move: $(grep -i 'peerb\|resolve' "$TMP/A.log" || true)"
UPS=2 wait_up A 20
wait_up B 20
transfer "$NS_A" "$NS_B" "$IP_B2" $PORT "$TMP/in2" "$TMP/out2"
capture_stop wire
capture_complete wire
rules=$(ip -n "$NS_A" rule show)
echo "$rules" | grep -c "to $IP_B2 ipproto tcp" >/dev/null || fail "no rule for $IP_B2: $rules"
! echo "$rules" | grep -c "to $IP_B ipproto tcp" >/dev/null || fail "the old address's rules stay: $rules"
ctl_status A "$NS_A"
[ "$(jv "$TMP/A.json" peer)" = "$IP_B2" ] || fail "A's peer: $(jv "$TMP/A.json" peer)"
[ "$(log_count A 'now resolves to')" = 1 ] || fail "A moved $(log_count A 'now resolves to') times"
check "A moved once to $IP_B2 (rules and zccctl show follow); 1 MB arrived whole"
check_wire_sealed "$TMP/wire.pcap" $PORT "$TMP/in1" "$TMP/in2"
stop_zcc A
stop_zcc B
pass
