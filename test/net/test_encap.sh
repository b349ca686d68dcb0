#!/bin/bash
# SPDX-License-Identifier: ISC
# Everything routed into zcc0 that is not sealed in place travels
# encapsulated (CIPE-style, UDP to the peer's port), so zcc0 is a VPN: a
# subnet behind A (HA, 10.1.1.0/24) and one behind B (HB, 10.2.2.0/24),
# each routed into zcc0 on the other side, reach each other with ICMP (ping
# and its replies), UDP (byte-exact both ways) and TCP (byte-exact, full
# size: the path MTU is learnt from zcc's ICMP "fragmentation needed", no
# IP fragment on the wire). The wire carries none of it in plaintext. A
# replayed encapsulated datagram is dropped and counted. A packet the peer
# sends from an address this end does not route into zcc0 (a host on A's
# own LAN) is dropped and counted (unrouted_source), one from a routed
# address delivered. With compress lz4
# and compress lzs a compressible transfer arrives byte-exact and puts fewer
# bytes on the wire than without. With A's eth0 passing UDP GSO runs whole,
# runs of A's datagrams cross as single packets, B's UDP_GRO socket reads
# them coalesced, and 4 MB arrive byte-exact with no datagram dropped.
# test_vpn.sh runs the same with no encrypt-port at all (a VPN link, as
# CIPE's): nothing is selected, everything routed into zcc0 is carried.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

UDP_PORT=7437
UDPAPP="$PY $NETDIR/udpapp.py"
NS_HA=${PREFIX}HA
NS_HB=${PREFIX}HB

setup_topology
MAC_B=$(mac_of "$NS_B")
genkey "$TMP/key"

# lan ROUTER HOST ROUTER_IP HOST_IP: HOST behind ROUTER on its own veth.
lan() {
	ns_new "$2"
	ip -n "$1" link add lan type veth peer name eth0 netns "$2"
	ip -n "$1" addr add "$3/24" dev lan
	ip -n "$1" link set lan up
	ip -n "$2" addr add "$4/24" dev eth0
	ip -n "$2" link set eth0 up
	ip -n "$2" route add default via "$3"
	ip netns exec "$1" sysctl -qw net.ipv4.ip_forward=1
}
lan "$NS_A" "$NS_HA" 10.1.1.1 10.1.1.2
lan "$NS_B" "$NS_HB" 10.2.2.1 10.2.2.2

SELECT=(encrypt-port 5001)
[ "${ZCC_TEST_VPN:-0}" = 1 ] && SELECT=() && ME="test_vpn.sh"

# start_vpn [OPTIONS...]: both daemons, each routing the far subnet into zcc0.
start_vpn() {
	start_zcc "$NS_A" A peer "$IP_B" key-file "$TMP/key" ${SELECT[@]+"${SELECT[@]}"} \
		nodetach debug "$@"
	start_zcc "$NS_B" B peer "$IP_A" key-file "$TMP/key" ${SELECT[@]+"${SELECT[@]}"} \
		nodetach debug "$@"
	wait_up A
	wait_up B
	ip -n "$NS_A" route add 10.2.2.0/24 dev zcc0
	ip -n "$NS_B" route add 10.1.1.0/24 dev zcc0
}

# udp_transfer SRC_NS DST_NS DST_IP IN OUT: paced datagrams, byte-exact.
udp_transfer() {
	local srv
	bg_start "$2" "$TMP/udpsrv.log" $UDPAPP serve --port 6000 --out "$5" --timeout 10
	srv=$BG_PID
	sleep 0.3
	ip netns exec "$1" $UDPAPP send --host "$3" --port 6000 --in "$4" >/dev/null ||
		fail "udp sender to $3 failed"
	bg_wait "$srv" 20 || fail "udp receiver: $(cat "$TMP/udpsrv.log")"
	[ "$(sha "$4")" = "$(sha "$5")" ] ||
		fail "udp to $3: received data differs"
}

# wire_bytes PCAP: UDP payload bytes of encapsulated datagrams (type 5).
wire_bytes() {
	$PCAP udp "$1" --port "$UDP_PORT" |
		awk 'substr($7, 1, 2) == "05" { n += $6 } END { print n + 0 }'
}

head -c 4M /dev/urandom >"$TMP/tcp.in"
head -c 300K /dev/urandom >"$TMP/ab.in"
head -c 300K /dev/urandom >"$TMP/ba.in"

log "VPN: HA (10.1.1.2) behind A, HB (10.2.2.2) behind B, each subnet routed into zcc0"
start_vpn
capture_start "$NS_B" eth0 wire

if [ ${#SELECT[@]} = 0 ]; then
	grep -q 'ready: .* ports none (a VPN link)' "$TMP/A.log" ||
		fail "A's ready line: $(grep ' ready: ' "$TMP/A.log")"
	ctl_status A "$NS_A"
	[ "$(jv "$TMP/A.json" ports)" = "[]" ] || fail "A selects $(jv "$TMP/A.json" ports)"
	n=$(ip -n "$NS_A" rule show | grep -c ipproto || true)
	[ "$n" = 0 ] || fail "a VPN link installed $n port rules"
	check "a link with no encrypt-port: up, no port selected, no port rule"
fi

log "ping HA -> HB through zcc0"
ip netns exec "$NS_HA" ping -c 3 -i 0.2 -W 2 10.2.2.2 >"$TMP/ping.log" ||
	{ cat "$TMP/ping.log" >&2; fail "no ping replies through zcc0"; }
check "$(grep -m1 'packets transmitted' "$TMP/ping.log")"

log "UDP HA -> HB and HB -> HA, 300 KB each"
udp_transfer "$NS_HA" "$NS_HB" 10.2.2.2 "$TMP/ab.in" "$TMP/ab.out"
udp_transfer "$NS_HB" "$NS_HA" 10.1.1.2 "$TMP/ba.in" "$TMP/ba.out"
check "UDP byte-exact both ways"

log "TCP HA -> HB, 4 MB at full size (MTU 1500 everywhere but zcc0)"
transfer "$NS_HA" "$NS_HB" 10.2.2.2 5201 "$TMP/tcp.in" "$TMP/tcp.out"
check "TCP byte-exact through the VPN"
capture_stop wire
capture_complete wire

ctl_status A "$NS_A"
ctl_status B "$NS_B"
[ "$(jv "$TMP/A.json" encapsulated)" -gt 0 ] || fail "A encapsulated nothing"
[ "$(jv "$TMP/B.json" decapsulated)" -gt 0 ] || fail "B decapsulated nothing"
[ "$(jv "$TMP/A.json" dropped.too_big)" -gt 0 ] ||
	fail "A never returned ICMP too big: was the path MTU tested?"
check "A encapsulated $(jv "$TMP/A.json" encapsulated) packets, B decapsulated $(jv "$TMP/B.json" decapsulated); A returned ICMP too big $(jv "$TMP/A.json" dropped.too_big) times"

log "wire (B's eth0): no plaintext, no inner address, no fragment"
for f in tcp ab ba; do
	$PCAP grep-all "$TMP/wire.pcap" --needle-file "$TMP/$f.in" ||
		fail "plaintext of $f.in on the wire"
done
$PCAP dump "$TMP/wire.pcap" >"$TMP/wire.txt"
if grep -cE '10\.(1\.1|2\.2)\.' "$TMP/wire.txt" >/dev/null; then
	grep -m3 -E '10\.(1\.1|2\.2)\.' "$TMP/wire.txt" >&2
	fail "an inner address is visible on the wire"
fi
n=$($PCAP frags "$TMP/wire.pcap")
[ "$n" = 0 ] || fail "$n IP fragments on the wire"
check "no plaintext, inner addresses or fragments on the wire"

log "replay: C sends B a captured encapsulated datagram of A's again"
MSG=$($PCAP udp "$TMP/wire.pcap" --port "$UDP_PORT" --src "$IP_A" |
	awk 'substr($7, 1, 2) == "05" && m == "" { m = $7 } END { print m }')
[ -n "$MSG" ] || fail "no encapsulated datagram from A captured"
before_rep=$(jv "$TMP/B.json" dropped.replayed)
before_dec=$(jv "$TMP/B.json" decapsulated)
ip netns exec "$NS_C" "$PY" "$NETDIR/inject.py" --dst-mac "$MAC_B" \
	--src "$IP_A" --dst "$IP_B" --sport "$UDP_PORT" --dport "$UDP_PORT" \
	--udp-payload "$MSG" --count 3 | sed 's/^/    /'
sleep 0.5
ctl_status B "$NS_B"
[ "$(jv "$TMP/B.json" dropped.replayed)" -eq $((before_rep + 3)) ] ||
	fail "replayed: $(jv "$TMP/B.json" dropped.replayed), want $((before_rep + 3))"
[ "$(jv "$TMP/B.json" decapsulated)" -eq "$before_dec" ] ||
	fail "a replayed datagram was delivered"
check "3 replays dropped and counted (replayed), none delivered"

log "B sends into its zcc0 from 10.1.1.7 (a host on A's own LAN) and from HB's 10.2.2.2"
# zcc0 with an address of its own, as a pppd-style link has one: loose
# reverse-path filtering then lets 10.1.1.7 through (A reaches it on lan;
# without an address on zcc0 the kernel refuses every source not routed
# into it), and only zcctund's check keeps the peer from posing as it.
ip -n "$NS_A" addr add 10.99.0.1/32 dev zcc0
bg_start "$NS_HA" "$TMP/spoof.srv" $PY -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 6001))
s.settimeout(3)
try:
    while True:
        print(s.recv(100).decode(), flush=True)
except socket.timeout:
    pass'
srv=$BG_PID
sleep 0.3
ip netns exec "$NS_B" $PY -c '
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"zcc0")
for src, word in (("10.1.1.7", b"spoofed"), ("10.2.2.2", b"routed")):
    udp = struct.pack("!HHHH", 6001, 6001, 8 + len(word), 0) + word
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton("10.1.1.2"))
    s.sendto(ip + udp, ("10.1.1.2", 0))'
bg_wait "$srv" 10 || true
got=$(tr '\n' ' ' <"$TMP/spoof.srv")
[ "$got" = "routed " ] || fail "HA received: '$got' (want only the routed one)"
ctl_status A "$NS_A"
[ "$(jv "$TMP/A.json" dropped.unrouted_source)" -ge 1 ] ||
	fail "A counted unrouted_source=$(jv "$TMP/A.json" dropped.unrouted_source)"
wait_log A 'does not route into zcc0' 1 3 || fail "A said nothing about the unrouted source"
echo "    A: $(grep 'does not route into zcc0' "$TMP/A.log" | sed 's/^[^:]*: //')"
check "from 10.1.1.7: dropped and counted (unrouted_source), said once; from 10.2.2.2: delivered"
if [ ${#SELECT[@]} = 0 ]; then
	# OPERATIONS.md: a fallback route keeps the subnet off other paths
	# (here a default route through C) once zcc0 is gone.
	ip -n "$NS_A" route add default via "$IP_C"
	ip -n "$NS_A" route add unreachable 10.2.2.0/24 metric 4294967295
	stop_zcc A
	stop_zcc B
	r=$(ip -n "$NS_A" route get 10.2.2.2 2>&1 || true)
	case $r in
	*"No route to host"*) ;;
	*) fail "with A stopped, 10.2.2.2 routes: $r" ;;
	esac
	check "A stopped: 10.2.2.0/24 is unreachable, not sent elsewhere ($r)"
	pass    # compression is the same code either way
fi
stop_zcc A
stop_zcc B

# UDP GSO and GRO. uso_off (lib.sh) has each eth0 cut zcctund's UDP GSO
# runs as a NIC would; with A's passing them whole, as a NIC with UDP
# segmentation offload does into its own hardware, a run crosses the veth
# as one packet and B's UDP_GRO socket reads it as one: the engine must
# cut it back into its datagrams.
log "UDP GSO/GRO: 4 MB HA -> HB, A's eth0 passing UDP GSO runs whole"
ip netns exec "$NS_A" ethtool -K eth0 tx-udp-segmentation on >/dev/null
start_vpn
errs=$(udp_rcvbuf_errors "$NS_B")
capture_start "$NS_B" eth0 runs udp port "$UDP_PORT"
transfer "$NS_HA" "$NS_HB" 10.2.2.2 5201 "$TMP/tcp.in" "$TMP/tcp.runs.out"
capture_stop runs
capture_complete runs
runs=$($PCAP udp "$TMP/runs.pcap" --port "$UDP_PORT" --src "$IP_A" |
	awk '$6 > 1500 { n++ } END { print n + 0 }')
[ "$runs" -gt 0 ] || fail "no UDP GSO run of A's crossed: UDP_SEGMENT unused?"
[ "$(udp_rcvbuf_errors "$NS_B")" = "$errs" ] ||
	fail "B's UDP socket overflowed: RcvbufErrors $errs -> $(udp_rcvbuf_errors "$NS_B")"
d=$(nonzero_drops B)
[ -z "$d" ] || fail "B dropped datagrams cut from runs: $d"
ip netns exec "$NS_A" ethtool -K eth0 tx-udp-segmentation off >/dev/null
stop_zcc A
stop_zcc B
check "UDP GSO/GRO: $runs runs of datagrams crossed whole; byte-exact, B dropped nothing, RcvbufErrors unchanged"

# A compressible file: text lines, as logs and HTML are.
$PY -c '
import sys
for i in range(20000):
    sys.stdout.write("%06d GET /index.html HTTP/1.1 200 host=example.test ok\n" % i)
' >"$TMP/text.in"
for codec in none lz4 lzs; do
	log "compress $codec: UDP HA -> HB of $(stat -c %s "$TMP/text.in") bytes of text"
	start_vpn compress "$codec"
	capture_start "$NS_B" eth0 "c$codec" udp port "$UDP_PORT"
	udp_transfer "$NS_HA" "$NS_HB" 10.2.2.2 "$TMP/text.in" "$TMP/text.$codec.out"
	capture_stop "c$codec"
	capture_complete "c$codec"
	bytes=$(wire_bytes "$TMP/c$codec.pcap")
	declare "WIRE_$codec=$bytes"
	check "compress $codec: byte-exact, $bytes bytes of encapsulated datagrams on the wire"
	stop_zcc A
	stop_zcc B
done
[ "$WIRE_lz4" -lt "$WIRE_none" ] || fail "lz4 put $WIRE_lz4 bytes on the wire, none $WIRE_none"
[ "$WIRE_lzs" -lt "$WIRE_none" ] || fail "lzs put $WIRE_lzs bytes on the wire, none $WIRE_none"
check "fewer bytes on the wire: lz4 $WIRE_lz4, lzs $WIRE_lzs, none $WIRE_none"
pass
