#!/bin/bash
# SPDX-License-Identifier: ISC
# IPv6 routed into zcc0 travels encapsulated, as everything not sealed in
# place does: a subnet behind A (HA, fd01::2/64) and one behind B (HB,
# fd02::2/64), each routed into zcc0 on the other side, reach each other
# with ping -6 and with TCP at full size, the path MTU learnt from zcc's
# ICMPv6 "packet too big" (no fragment on the wire). The wire carries
# neither the data nor the inner addresses. IPv4 subnets behind the same
# routers ping along. The link between A and B runs over IPv4 first, then
# over IPv6 (the script runs itself again with ZCC_TEST_FAMILY=6).
if [ -z "${ZCC_TEST_FAMILY:-}" ]; then
	ZCC_TEST_FAMILY=4 "$0" "$@" || exit $?
	ZCC_TEST_FAMILY=6 exec "$0" "$@"
fi
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

NS_HA=${PREFIX}HA
NS_HB=${PREFIX}HB

setup_topology
genkey "$TMP/key"

# lan ROUTER HOST NET4 NET6: HOST behind ROUTER on its own veth with both
# families: ROUTER is NET4.1 and NET6 1, HOST NET4.2 and NET6 2. The
# router forwards both; IPv6 is turned on for that veth alone.
lan() {
	ns_new "$2" ipv6
	ip -n "$1" link add lan type veth peer name eth0 netns "$2"
	ip netns exec "$1" sysctl -qw net.ipv6.conf.lan.disable_ipv6=0 \
		net.ipv6.conf.lan.accept_dad=0 net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1
	ip -n "$1" addr add "$3.1/24" dev lan
	ip -n "$1" addr add "${4}1/64" dev lan nodad
	ip -n "$1" link set lan up
	ip -n "$2" addr add "$3.2/24" dev eth0
	ip -n "$2" addr add "${4}2/64" dev eth0 nodad
	ip -n "$2" link set eth0 up
	ip -n "$2" route add default via "$3.1"
	ip -n "$2" -6 route add default via "${4}1"
}
lan "$NS_A" "$NS_HA" 10.1.1 fd01::
lan "$NS_B" "$NS_HB" 10.2.2 fd02::

log "link over IPv$FAMILY; HA (fd01::2) behind A, HB (fd02::2) behind B"
start_zcc "$NS_A" A peer "$IP_B" key-file "$TMP/key" encrypt-port 5001 nodetach debug
start_zcc "$NS_B" B peer "$IP_A" key-file "$TMP/key" encrypt-port 5001 nodetach debug
wait_up A
wait_up B
ip -n "$NS_A" -6 route add fd02::/64 dev zcc0
ip -n "$NS_B" -6 route add fd01::/64 dev zcc0
ip -n "$NS_A" route add 10.2.2.0/24 dev zcc0
ip -n "$NS_B" route add 10.1.1.0/24 dev zcc0
capture_start "$NS_B" eth0 wire

log "ping -6 HA -> HB through zcc0"
ip netns exec "$NS_HA" ping -6 -c 3 -i 0.2 -W 2 fd02::2 >"$TMP/ping6.log" ||
	{ cat "$TMP/ping6.log" >&2; fail "no ping -6 replies through zcc0"; }
check "$(grep -m1 'packets transmitted' "$TMP/ping6.log")"
log "ping HA -> HB (IPv4) through the same zcc0"
ip netns exec "$NS_HA" ping -c 3 -i 0.2 -W 2 10.2.2.2 >"$TMP/ping4.log" ||
	{ cat "$TMP/ping4.log" >&2; fail "no ping replies through zcc0"; }
check "$(grep -m1 'packets transmitted' "$TMP/ping4.log")"

head -c 4M /dev/urandom >"$TMP/tcp.in"
log "TCP over IPv6 HA -> HB, 4 MB at full size (MTU 1500 everywhere but zcc0)"
transfer "$NS_HA" "$NS_HB" fd02::2 5201 "$TMP/tcp.in" "$TMP/tcp.out"
check "TCP over IPv6 byte-exact through zcc0"
capture_stop wire
capture_complete wire

ctl_status A "$NS_A"
ctl_status B "$NS_B"
[ "$(jv "$TMP/A.json" encapsulated)" -gt 0 ] || fail "A encapsulated nothing"
[ "$(jv "$TMP/B.json" decapsulated)" -gt 0 ] || fail "B decapsulated nothing"
[ "$(jv "$TMP/A.json" dropped.too_big)" -gt 0 ] ||
	fail "A never returned ICMPv6 packet too big: was the path MTU tested?"
check "A encapsulated $(jv "$TMP/A.json" encapsulated) packets, B decapsulated $(jv "$TMP/B.json" decapsulated); A returned packet too big $(jv "$TMP/A.json" dropped.too_big) times"
# The wire's 1500 less the outer IP header, UDP's 8 and zcc's 29.
want=$((1500 - (FAMILY == 6 ? 40 : 20) - 8 - 29))
mtu=$(ip -n "$NS_HA" -6 route get fd02::2 | grep -o 'mtu [0-9]*' | cut -d' ' -f2 || true)
[ "$mtu" = "$want" ] ||
	fail "HA's path MTU to HB is ${mtu:-not set}, expected $want from zcc's packet too big"
check "HA learnt the path MTU $mtu from zcc's ICMPv6 packet too big"

log "wire (B's eth0): no plaintext, no inner address, no fragment"
$PCAP grep-all "$TMP/wire.pcap" --needle-file "$TMP/tcp.in" ||
	fail "plaintext of tcp.in on the wire"
for a in fd01::2 fd02::2; do
	$PY -c 'import socket, sys
sys.stdout.buffer.write(socket.inet_pton(socket.AF_INET6, sys.argv[1]))' "$a" >"$TMP/addr"
	$PCAP grep-all "$TMP/wire.pcap" --needle-file "$TMP/addr" >/dev/null ||
		fail "inner address $a on the wire"
done
n=$($PCAP frags "$TMP/wire.pcap")
[ "$n" = 0 ] || fail "$n IP fragments on the wire"
check "no plaintext, inner addresses or fragments on the wire"

stop_zcc A
stop_zcc B
pass
