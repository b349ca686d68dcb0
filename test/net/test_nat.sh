#!/bin/bash
# SPDX-License-Identifier: ISC
# NAT between the ends: A (10.0.1.1) behind R, B (10.0.2.2) on R's far
# side. R translates A's address as a cloud host's or a home router's
# would. What must hold:
#   - masquerading (UDP and TCP, source ports kept as Linux keeps them): B
#     knows A as 10.0.2.254; the link comes up, both logs name the NAT once,
#     zccctl show --json has it (nat) and says selected flows go in place;
#     4 MB A to B arrive byte for byte, every segment of port 5001 on R's
#     far side carries the option, and none of the data is in plaintext;
#   - 1:1 NAT (A is 10.0.2.100 on the far side): the same, both ways;
#   - NAT of TCP alone (zcc's UDP passes untranslated): A says within 10 s
#     in one line what it sees (its peer's segments arrive without the
#     option), and nothing reaches an application;
#   - masquerading and a router that strips the option, with fallback-encap
#     at both ends: selected flows switch to the encapsulated path and 2 MB
#     arrive byte for byte (each end puts the peer's whole segments, data
#     and ACKs, back on the addresses its TCP knows).
#   - masquerading that rewrites ports (random), float at B: B follows A to
#     the port its datagrams come from, both ends say in one line that
#     selected flows now travel encapsulated, zccctl show has the endpoint
#     and ports_rewritten; 4 MB arrive byte for byte; then R forgets its
#     mapping in the middle of an 8 MB transfer (A's datagrams leave from
#     another port): B follows again and the transfer arrives byte for byte,
#     and none of the data crossed R in plaintext; then A roams (R maps it
#     to another address): B follows, 8 MB arrive byte for byte.
# On main at e7a5328 the handshake failed under NAT ("rejected") every 10 s.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

PORT=5001
NS_R=${PREFIX}R
IP_A=10.0.1.1 IP_B=10.0.2.2 GW_A=10.0.1.254 GW_B=10.0.2.254
ONE_TO_ONE=10.0.2.100

# router: R, new, between A and B (a new R starts with no NAT state).
router() {
	ip netns del "$NS_R" 2>/dev/null || true
	ns_new "$NS_R"
	ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1
	ip -n "$NS_R" link add ra type veth peer name eth0 netns "$NS_A"
	ip -n "$NS_R" link add rb type veth peer name eth0 netns "$NS_B"
	ip -n "$NS_R" addr add "$GW_A/24" dev ra
	ip -n "$NS_R" addr add "$GW_B/24" dev rb
	ip -n "$NS_R" addr add "$ONE_TO_ONE/32" dev rb
	ip -n "$NS_A" addr add "$IP_A/24" dev eth0
	ip -n "$NS_B" addr add "$IP_B/24" dev eth0
	uso_off "$NS_A" "$NS_B"
	for l in "$NS_R ra" "$NS_R rb" "$NS_A eth0" "$NS_B eth0"; do
		# shellcheck disable=SC2086
		ip -n ${l% *} link set ${l#* } up
	done
	ip -n "$NS_A" route add default via "$GW_A"
	# B has no route back to 10.0.1.0/24: only the NAT's address reaches A.
}

# nat POSTROUTING [PREROUTING]: a new R whose NAT table holds these rules.
nat() {
	router
	ip netns exec "$NS_R" nft -f - <<EOF
table ip nat {
	chain post {
		type nat hook postrouting priority 100;
		$1
	}
	chain pre {
		type nat hook prerouting priority -100;
		${2:-}
	}
}
EOF
}

# pair B_PEER: A, then (once A's first init has left) B with peer B_PEER.
pair() {
	start_zcc "$NS_A" A peer "$IP_B" key-file "$TMP/key" encrypt-port $PORT nodetach ${ZCC_DEBUG:+debug}
	sleep 0.5       # A's init makes R's mapping before B sends to it
	start_zcc "$NS_B" B peer "$1" key-file "$TMP/key" encrypt-port $PORT nodetach ${ZCC_DEBUG:+debug}
	wait_up A 15
	wait_up B 15
}

# named NAME PATTERN: NAME's log names the NAT once.
named() {
	[ "$(log_count "$1" 'NAT between us')" = 1 ] ||
		fail "$1 named the NAT $(log_count "$1" 'NAT between us') times: $(grep NAT "$TMP/$1.log" || true)"
	grep -q "$2.*NAT between us" "$TMP/$1.log" ||
		fail "$1's NAT line: $(grep 'NAT between' "$TMP/$1.log")"
	echo "    $1: $(grep 'NAT between us' "$TMP/$1.log" | sed 's/^[^:]*: //')"
}

# in_place NAME NS: zccctl show has the NAT, and selected flows in place.
in_place() {
	ctl_status "$1" "$2"
	[ "$(jv "$TMP/$1.json" carried)" = "in place" ] ||
		fail "$1 carries selected flows $(jv "$TMP/$1.json" carried)"
	[ "$(jv "$TMP/$1.json" nat)" != None ] || fail "$1's zccctl show has no nat"
	[ "$(jv "$TMP/$1.json" dropped.bad_tag)" = 0 ] ||
		fail "$1 dropped $(jv "$TMP/$1.json" dropped.bad_tag) segments as bad_tag"
}

host_ns_new "$NS_A"
host_ns_new "$NS_B"
genkey "$TMP/key"
head -c 4000000 /dev/urandom >"$TMP/in.ab"
head -c 2000000 /dev/urandom >"$TMP/in.ba"
head -c 100000 /dev/urandom >"$TMP/in.tcp"

log "masquerade (UDP and TCP): B knows A as $GW_B"
nat 'oifname "rb" ip saddr 10.0.1.1 masquerade'
capture_start "$NS_R" rb masq tcp port $PORT
pair "$GW_B"
named A "we (10.0.1.1) are seen as 10.0.2.254"
named B "peer 10.0.1.1 is seen as 10.0.2.254"
transfer "$NS_A" "$NS_B" "$IP_B" $PORT "$TMP/in.ab" "$TMP/out.ab"
capture_stop masq
capture_complete masq
in_place A "$NS_A"
in_place B "$NS_B"
check "the link is up, both name the NAT once; 4 MB A to B arrived whole, in place"
check_wire_sealed "$TMP/masq.pcap" $PORT "$TMP/in.ab"
stop_zcc A
stop_zcc B
# B's next peer is another address: a new link, once this one's block goes.
ip netns exec "$NS_B" "$ZCCTUND" cleanup >/dev/null

log "1:1 NAT: A is $ONE_TO_ONE on R's far side"
nat "oifname \"rb\" ip saddr $IP_A snat to $ONE_TO_ONE" \
	"iifname \"rb\" ip daddr $ONE_TO_ONE dnat to $IP_A"
capture_start "$NS_R" rb one tcp port $PORT
pair "$ONE_TO_ONE"
named B "peer 10.0.1.1 is seen as $ONE_TO_ONE"
transfer "$NS_A" "$NS_B" "$IP_B" $PORT "$TMP/in.ab" "$TMP/out.ab2"
transfer "$NS_B" "$NS_A" "$ONE_TO_ONE" $PORT "$TMP/in.ba" "$TMP/out.ba"
capture_stop one
capture_complete one
in_place A "$NS_A"
in_place B "$NS_B"
check "4 MB A to B and 2 MB B to A (to $ONE_TO_ONE) arrived whole, in place"
check_wire_sealed "$TMP/one.pcap" $PORT "$TMP/in.ab" "$TMP/in.ba"
stop_zcc A
stop_zcc B
ip netns exec "$NS_B" "$ZCCTUND" cleanup >/dev/null

log "NAT of TCP alone: zcc's UDP passes untranslated"
nat 'oifname "rb" ip saddr 10.0.1.1 meta l4proto tcp masquerade'
ip -n "$NS_B" route add 10.0.1.0/24 via "$GW_B"
capture_start "$NS_R" rb tcponly tcp port $PORT
pair "$IP_A"
bg_start "$NS_B" "$TMP/tcp.srv" socat -u "$(tcp_listen $PORT "$IP_B")" "CREATE:$TMP/out.tcp"
srv=$BG_PID
wait_listen "$NS_B" $PORT
bg_start "$NS_A" "$TMP/tcp.cli" socat -u "FILE:$TMP/in.tcp" "$(tcp_to "$IP_B" $PORT),connect-timeout=10"
cli=$BG_PID
wait_log A 'arrive without the zcc option' 1 10 ||
	fail "A said nothing within 10 s"
echo "    A: $(grep 'arrive without' "$TMP/A.log" | sed 's/^[^:]*: //')"
[ ! -s "$TMP/out.tcp" ] || fail "B's application received $(stat -c %s "$TMP/out.tcp") bytes"
kill "$cli" "$srv" 2>/dev/null || true
bg_wait "$cli" 5 || true
bg_wait "$srv" 5 || true
capture_stop tcponly
capture_complete tcponly
$PCAP grep-all "$TMP/tcponly.pcap" --needle-file "$TMP/in.tcp" ||
	fail "plaintext of in.tcp crossed R"
check "A names what it sees within 10 s; nothing reached B's application, no plaintext"
stop_zcc A
stop_zcc B
ip netns exec "$NS_B" "$ZCCTUND" cleanup >/dev/null

log "masquerade, the option stripped, fallback-encap at both ends"
nat 'oifname "rb" ip saddr 10.0.1.1 masquerade'
strip_option "$NS_R" $PORT
head -c 2000000 /dev/urandom >"$TMP/in.e1"
capture_start "$NS_R" rb enc udp port 7437 or tcp port $PORT
start_zcc "$NS_A" A peer "$IP_B" key-file "$TMP/key" encrypt-port $PORT nodetach fallback-encap
sleep 0.5
start_zcc "$NS_B" B peer "$GW_B" key-file "$TMP/key" encrypt-port $PORT nodetach fallback-encap
wait_up A 15
wait_up B 15
# B's ACKs come back encapsulated too: without A putting them on its own
# addresses, A's TCP would get none and the transfer would stall.
transfer "$NS_A" "$NS_B" "$IP_B" $PORT "$TMP/in.e1" "$TMP/out.e1"
capture_stop enc
capture_complete enc
for n in A B; do
	[ "$(log_count $n 'now travel encapsulated')" = 1 ] ||
		fail "$n: $(grep -c 'encapsulated' "$TMP/$n.log") lines on encapsulation"
done
$PCAP grep-all "$TMP/enc.pcap" --needle-file "$TMP/in.e1" ||
	fail "plaintext of in.e1 crossed R"
check "2 MB A to B arrived whole, encapsulated across the NAT (B's ACKs too); no plaintext"
stop_zcc A
stop_zcc B
ip netns exec "$NS_B" "$ZCCTUND" cleanup >/dev/null

log "masquerade that rewrites ports; float at B"
nat 'oifname "rb" ip saddr 10.0.1.1 masquerade random'
head -c 8000000 /dev/urandom >"$TMP/in.r2"
capture_start "$NS_R" rb rand udp or tcp port $PORT
start_zcc "$NS_A" A peer "$IP_B" key-file "$TMP/key" encrypt-port $PORT nodetach ${ZCC_DEBUG:+debug}
sleep 0.5
start_zcc "$NS_B" B peer "$GW_B" key-file "$TMP/key" encrypt-port $PORT nodetach float ${ZCC_DEBUG:+debug}
wait_up A 15
wait_up B 15
wait_log B 'the NAT rewrites ports; selected flows now travel encapsulated' 1 10 ||
	fail "B did not say that the NAT rewrites ports: $(grep -i nat "$TMP/B.log" || true)"
wait_log A 'the peer says our ports are rewritten' 1 10 ||
	fail "A did not follow B to the encapsulated path: $(grep -i encap "$TMP/A.log" || true)"
named B "peer 10.0.1.1 is seen as 10.0.2.254"
echo "    B: $(grep 'rewrites ports;' "$TMP/B.log" | sed 's/^[^:]*: //')"
echo "    A: $(grep 'the peer says our ports' "$TMP/A.log" | sed 's/^[^:]*: //')"
transfer "$NS_A" "$NS_B" "$IP_B" $PORT "$TMP/in.ab" "$TMP/out.r1"
ctl_status B "$NS_B"
[ "$(jv "$TMP/B.json" carried)" = encapsulated ] ||
	fail "B carries selected flows $(jv "$TMP/B.json" carried)"
[ "$(jv "$TMP/B.json" nat.ports_rewritten)" = True ] ||
	fail "B's zccctl show: nat $(jv "$TMP/B.json" nat)"
[ "$(jv "$TMP/B.json" float)" = True ] || fail "B's zccctl show: float false"
port1=$(jv "$TMP/B.json" endpoint.port)
[ "$port1" != 7437 ] || fail "B's endpoint is still port 7437"
check "B follows A to $GW_B port $port1, both carry selected flows encapsulated; 4 MB arrived whole"

# R forgets the mapping: A's next datagram leaves from another port.
bg_start "$NS_B" "$TMP/r2.srv" socat -u "$(tcp_listen $PORT "$IP_B")" "CREATE:$TMP/out.r2"
srv=$BG_PID
wait_listen "$NS_B" $PORT
# 64 KB every 20 ms, so that the transfer still runs when R forgets.
bg_start "$NS_A" "$TMP/r2.cli" $PY -c '
import socket, sys, time
data = open(sys.argv[3], "rb").read()
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
for i in range(0, len(data), 65536):
    s.sendall(data[i:i + 65536])
    time.sleep(0.02)
s.close()' "$IP_B" $PORT "$TMP/in.r2"
cli=$BG_PID
sleep 1
t0=$(date +%s.%N)
ip netns exec "$NS_R" conntrack -F 2>/dev/null
wait_log B 'following it' 2 15 || fail "B did not follow A after R forgot the mapping: $(grep follow "$TMP/B.log" || true)"
echo "    B followed $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s after R forgot the mapping"
bg_wait "$cli" 60 || fail "the sender failed: $(cat "$TMP/r2.cli")"
bg_wait "$srv" 30 || fail "the receiver failed: $(cat "$TMP/r2.srv")"
[ "$(sha "$TMP/in.r2")" = "$(sha "$TMP/out.r2")" ] ||
	fail "received $(stat -c %s "$TMP/out.r2") bytes, not the 8 MB sent"
ctl_status B "$NS_B"
port2=$(jv "$TMP/B.json" endpoint.port)
[ "$port2" != "$port1" ] || fail "B's endpoint stayed at port $port1"
echo "    B: $(grep 'following it' "$TMP/B.log" | tail -1 | sed 's/^[^:]*: //')"
capture_stop rand
capture_complete rand
$PCAP grep-all "$TMP/rand.pcap" --needle-file "$TMP/in.ab" ||
	fail "plaintext of in.ab crossed R"
$PCAP grep-all "$TMP/rand.pcap" --needle-file "$TMP/in.r2" ||
	fail "plaintext of in.r2 crossed R"
check "R forgot the mapping mid-transfer: B followed A to port $port2, 8 MB arrived whole; no plaintext"

# A roams: R now gives it another address.
ip netns exec "$NS_R" nft flush chain ip nat post
ip netns exec "$NS_R" nft add rule ip nat post oifname rb ip saddr $IP_A snat to $ONE_TO_ONE
ip netns exec "$NS_R" conntrack -F 2>/dev/null
capture_start "$NS_R" rb roam udp or tcp port $PORT
transfer "$NS_A" "$NS_B" "$IP_B" $PORT "$TMP/in.r2" "$TMP/out.r3"
capture_stop roam
capture_complete roam
ctl_status B "$NS_B"
[ "$(jv "$TMP/B.json" endpoint.addr)" = $ONE_TO_ONE ] ||
	fail "B's endpoint is $(jv "$TMP/B.json" endpoint), not at $ONE_TO_ONE"
$PCAP grep-all "$TMP/roam.pcap" --needle-file "$TMP/in.r2" ||
	fail "plaintext of in.r2 crossed R"
echo "    B: $(grep 'following it' "$TMP/B.log" | tail -1 | sed 's/^[^:]*: //')"
check "A roamed to $ONE_TO_ONE: B followed, 8 MB arrived whole; no plaintext"
stop_zcc A
stop_zcc B
pass
