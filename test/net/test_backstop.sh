#!/bin/bash
# SPDX-License-Identifier: ISC
# The nftables backstop (table inet zcc_zcc0) catches what the receive ring
# and the tc ingress filter (one BPF program) cannot see: they take only
# unfragmented segments with IHL 5, so C, spoofing A, sends B fresh SYNs
# for the selected port 5001
#   (a) with IP options (router alert; NOP NOP NOP EOL): IHL 6,
#   (b) split into two IP fragments.
# They pass the ingress filter and reach B's IP layer, but B's input chain drops
# them (its counters rise by exactly the number of injections): B's TCP never
# sees them (TcpInSegs unchanged) and sends no reply, sealed or not. Control:
# the same injections toward the unselected port 5002 get a SYN-ACK, so they
# are otherwise acceptable to B's kernel.
# Outgoing: with A's steering rules for port 5001 deleted, A's kernel routes
# a new port-5001 connection straight to eth0; A's output chain drops it and
# nothing of port 5001 reaches the wire (control: port 5002 does). The
# daemons then stop with status 0 although their rules were deleted.
# test_backstop6.sh runs it over IPv6 (ZCC_TEST_FAMILY=6), where u32 misses
# (a) a SYN behind an extension header (hop-by-hop router alert, or
# destination options) and (b) fragments. IPv6 reassembles after the input
# hook, so B's backstop drops a fragmented SYN's first fragment, which
# carries the whole TCP header (RFC 8200 4.5), and nothing is reassembled.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

APP="$PY $NETDIR/tcpapp.py"

setup_topology
MAC_B=$(mac_of "$NS_B")
genkey "$TMP/key"
start_pair 5001

# snmp NS NAME: a counter of NS's /proc/net/snmp ("Tcp:InSegs", "Ip:ReasmOKs"),
# or of /proc/net/snmp6 ("Ip6ReasmOKs").
snmp() {
	case $2 in
	Ip6*)
		ip netns exec "$1" awk -v want="$2" '$1 == want { print $2 }' /proc/net/snmp6
		return
		;;
	esac
	ip netns exec "$1" awk -v want="$2" '
		{ split($0, f, " ") }
		$1 in hdr { for (i = 2; i <= NF; i++) v[$1 hdr[$1, i]] = f[i]; next }
		{ for (i = 2; i <= NF; i++) hdr[$1, i] = $i; hdr[$1] = 1 }
		END { split(want, w, ":"); print v[w[1] ":" w[2]] + 0 }' /proc/net/snmp
}

# What slips past u32 in this family: two headers it does not expect, and
# fragments; how many of a selected fragmented SYN B reassembles.
if [ "$FAMILY" = 6 ]; then
	SLIP_A=(--ext hbh)
	SLIP_B=(--ext dstopt)
	SLIP_F=(--fragsize 24)
	REASM=Ip6ReasmOKs
	REASM_SELECTED=0
	CAPTURE=(ip6 and not icmp6)         # "tcp" misses TCP behind a header
else
	SLIP_A=(--ip-options 94040000)      # router alert, IHL 6
	SLIP_B=(--ip-options 01010100)      # NOP NOP NOP EOL, IHL 6
	SLIP_F=(--fragsize 16)
	REASM=Ip:ReasmOKs
	REASM_SELECTED=1
	CAPTURE=(tcp)
fi

# inject SPORT DPORT ARGS...: C sends B a SYN from A's address (with
# timestamps, as Linux would send it).
inject() {
	local sport=$1 dport=$2
	shift 2
	ip netns exec "$NS_C" "$PY" "$NETDIR/inject.py" --dst-mac "$MAC_B" \
		--src "$IP_A" --dst "$IP_B" --sport "$sport" --dport "$dport" \
		--flags S --seq 1000 --ts 12345,0 "$@" | sed 's/^/    /'
}

# Listeners on B that record whatever they receive.
for port in 5001 5002; do
	bg_start "$NS_B" "$TMP/srv.$port.log" $APP serve --port "$port" \
		--out "$TMP/recv.$port" --status "$TMP/status.$port" --timeout 60
	wait_listen "$NS_B" "$port"
done

capture_start "$NS_B" eth0 wire "${CAPTURE[@]}"

log "C injects toward the selected port 5001 (sources 40001-40003)"
in0=$(nft_dropped "$NS_B" input)
segs0=$(snmp "$NS_B" Tcp:InSegs)
reasm0=$(snmp "$NS_B" "$REASM")
inject 40001 5001 "${SLIP_A[@]}"               # (a)
inject 40002 5001 "${SLIP_B[@]}"               # (a)
inject 40003 5001 "${SLIP_F[@]}"               # (b) two fragments
sleep 1
in1=$(nft_dropped "$NS_B" input)
segs1=$(snmp "$NS_B" Tcp:InSegs)
reasm1=$(snmp "$NS_B" "$REASM")

log "control: the same toward the unselected port 5002 (sources 40011-40013)"
inject 40011 5002 "${SLIP_A[@]}"
inject 40012 5002 "${SLIP_B[@]}"
inject 40013 5002 "${SLIP_F[@]}"
sleep 1
in2=$(nft_dropped "$NS_B" input)
segs2=$(snmp "$NS_B" Tcp:InSegs)
reasm2=$(snmp "$NS_B" "$REASM")
capture_stop wire
capture_complete wire

log "B's backstop input counter: $in0 -> $in1 (port 5001) -> $in2 (port 5002)"
log "B's Tcp InSegs: $segs0 -> $segs1 -> $segs2; Ip ReasmOKs: $reasm0 -> $reasm1 -> $reasm2"
$PCAP dump "$TMP/wire.pcap" | sed 's/^/    /'

# (pcap.py skips fragments too short for a TCP header: the fragmented SYNs
# show up in ReasmOKs instead.)
for sport in 40001 40002 40011 40012; do
	n=$($PCAP dump "$TMP/wire.pcap" --src "$IP_A" --dst "$IP_B" --port "$sport" |
		grep -c ' \[S\] ' || true)
	[ "$n" = 1 ] || fail "injection from port $sport: $n SYNs on B's wire, expected 1"
done
[ $((reasm1 - reasm0)) = "$REASM_SELECTED" ] && [ $((reasm2 - reasm1)) = 1 ] ||
	fail "B reassembled the fragmented SYNs $((reasm1 - reasm0)) and $((reasm2 - reasm1)) times, expected $REASM_SELECTED and 1 ($REASM $reasm0 -> $reasm1 -> $reasm2)"
check "every injection reached B's IP layer (fragmented SYNs reassembled: $((reasm1 - reasm0)) to 5001, $((reasm2 - reasm1)) to 5002)"

[ $((in1 - in0)) = 3 ] ||
	fail "B's backstop counted $((in1 - in0)) drops for the 3 injections to port 5001"
[ "$segs1" = "$segs0" ] ||
	fail "B's TCP received $((segs1 - segs0)) segments: the port-5001 injections got past the backstop"
n=$($PCAP count "$TMP/wire.pcap" --src "$IP_B" --port 5001)
[ "$n" = 0 ] || fail "B sent $n segments of port 5001 (a reply to an injection)"
for sport in 40001 40002 40003; do
	n=$($PCAP count "$TMP/wire.pcap" --src "$IP_B" --port "$sport")
	[ "$n" = 0 ] || fail "B answered the injection from port $sport ($n segments)"
done
check "port 5001: B's backstop dropped all 3 (+$((in1 - in0))), B's TCP saw none, B sent no reply"

[ "$in2" = "$in1" ] || fail "B's backstop counted the port-5002 injections too"
[ $((segs2 - segs1)) -ge 3 ] ||
	fail "control: B's TCP received $((segs2 - segs1)) of the 3 port-5002 injections"
for sport in 40011 40012 40013; do
	n=$($PCAP count "$TMP/wire.pcap" --src "$IP_B" --dst "$IP_A" --port "$sport")
	[ "$n" -ge 1 ] || fail "control: B did not answer the injection from port $sport to 5002"
done
check "control: port 5002 injections reached B's TCP and each got a SYN-ACK"

log "outgoing: delete A's steering rules for port 5001 (pref 31330)"
ip -n "$NS_A" -"$FAMILY" rule show pref 31330 | sed 's/^/    /'
n=0
while read -r spec; do
	# shellcheck disable=SC2086  # spec is the rule's words
	ip -n "$NS_A" -"$FAMILY" rule del pref 31330 $spec
	n=$((n + 1))
done < <(ip -n "$NS_A" -"$FAMILY" rule show pref 31330 | sed 's/^[0-9]*:[[:space:]]*//')
[ "$n" = 2 ] || fail "A had $n rules at pref 31330, expected 2 (dport and sport 5001)"
[ -z "$(ip -n "$NS_A" -"$FAMILY" rule show pref 31330)" ] || fail "A's rules at pref 31330 are still there"
route=$(ip -n "$NS_A" route get "$IP_B" ipproto tcp dport 5001)
log "A's route for B:5001 now: $route"
echo "$route" | grep -q ' dev eth0 ' || fail "A does not route port 5001 via eth0 now"

capture_start "$NS_B" eth0 wire2 "${CAPTURE[@]}"
out0=$(nft_dropped "$NS_A" output)
if ip netns exec "$NS_A" $APP client --host "$IP_B" --port 5001 --timeout 3 \
	send:PLAINTEXT >"$TMP/cli.5001" 2>&1; then
	fail "A connected to B:5001 past the backstop ($(cat "$TMP/cli.5001"))"
fi
out1=$(nft_dropped "$NS_A" output)
log "A's client to B:5001: $(cat "$TMP/cli.5001"); A's backstop output counter: $out0 -> $out1"
ip netns exec "$NS_A" $APP client --host "$IP_B" --port 5002 --timeout 5 \
	send:HELLO >"$TMP/cli.5002" 2>&1 ||
	fail "control: A cannot connect to B:5002: $(cat "$TMP/cli.5002")"
capture_stop wire2
capture_complete wire2

[ $((out1 - out0)) -ge 1 ] || fail "A's backstop output counter did not rise ($out0 -> $out1)"
n=$($PCAP count "$TMP/wire2.pcap" --port 5001)
[ "$n" = 0 ] || fail "$n segments of port 5001 on the wire after A's rules were deleted"
check "A's connection to B:5001 failed, its output chain dropped $((out1 - out0)) segments, none on the wire"
n=$($PCAP count "$TMP/wire2.pcap" --src "$IP_A" --port 5002)
[ "$n" -ge 3 ] || fail "control: only $n segments of A's port-5002 connection on the wire"
for _ in $(seq 50); do
	[ -s "$TMP/status.5002" ] && break
	sleep 0.1
done
[ "$(cat "$TMP/recv.5002" 2>/dev/null)" = HELLO ] ||
	fail "control: B's port-5002 listener received \"$(cat "$TMP/recv.5002" 2>/dev/null)\""
check "control: A -> B:5002 via eth0 delivered \"HELLO\" ($n segments of A's on the wire)"

[ ! -s "$TMP/recv.5001" ] && [ ! -e "$TMP/status.5001" ] ||
	fail "B's port-5001 listener got something: \"$(cat "$TMP/recv.5001" 2>/dev/null)\" $(cat "$TMP/status.5001" 2>/dev/null)"
check "B's port-5001 listener accepted no connection and received nothing"

for d in A B; do
	line=$(counters_line "$d")
	log "$d $line"
done

# Stopping leaves the block; "zcctund cleanup" lifts it, exactly.
stop_zcc A
stop_zcc B
for ns in "$NS_A" "$NS_B"; do
	ip netns exec "$ns" nft list table inet zcc_zcc0 >/dev/null 2>&1 ||
		fail "table inet zcc_zcc0 gone from $ns when the daemon stopped"
	ip netns exec "$ns" "$ZCCTUND" cleanup >/dev/null 2>&1 ||
		fail "zcctund cleanup failed in $ns"
	! ip netns exec "$ns" nft list table inet zcc_zcc0 >/dev/null 2>&1 ||
		fail "table inet zcc_zcc0 still in $ns after zcctund cleanup"
	[ -z "$(ip -n "$ns" -"$FAMILY" rule show pref 31330; ip -n "$ns" -"$FAMILY" rule show pref 31329)" ] ||
		fail "zcc rules left in $ns after zcctund cleanup"
done
check "both daemons stopped with status 0 leaving the block; zcctund cleanup removed all of it"
pass
