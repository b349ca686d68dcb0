#!/bin/bash
# SPDX-License-Identifier: ISC
# Selected flows arrive byte-exact in both directions and in both roles
# (A connects to B:5001, B connects to A:5001), every segment on the wire is
# sealed, no plaintext is on the wire, sealing keeps the segmentation TCP
# made (same seq and length on zcc0 and on the wire), and an unselected
# port is left alone (plaintext visible: proves capture and grep work).
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

setup_topology
genkey "$TMP/key"
start_pair 5001
log "daemons ready; A: $(grep -m1 ' ready: ' "$TMP/A.log")"

# The peers are on-link: each daemon's raw socket has a route to the peer
# through itself in table 31332 (the default table + 1), looked up first.
for pair in "$NS_A $IP_B" "$NS_B $IP_A"; do
	set -- $pair
	route=$(ip -n "$1" -"$FAMILY" route show table 31332)
	[ "$route" = "$2 via $2 dev eth0 onlink " ] || [ "$route" = "$2 via $2 dev eth0 metric 1024 onlink pref medium" ] ||
		fail "$1: no route to the peer through itself in table 31332: '$route'"
	ip -n "$1" -"$FAMILY" rule show pref 31329 | sed -n 1p | grep -c 'fwmark 0x7a63 lookup 31332' >/dev/null ||
		fail "$1: the fwmark rule does not look up table 31332 first"
done
check "each raw socket routes to the peer through itself (table 31332, onlink)"

head -c 8M /dev/urandom >"$TMP/ab.in"
head -c 8M /dev/urandom >"$TMP/ba.in"
head -c 1M /dev/urandom >"$TMP/plain.in"

capture_start "$NS_B" eth0 wire
# On zcc0 only A's own segments and only their headers are needed: a small
# snapshot keeps tcpdump from losing packets at full speed.
capture_start "$NS_A" zcc0 zcc0 -s 128 src host "$IP_A" and tcp port 5001

log "8 MB A -> B:5001 (A connects)"
transfer "$NS_A" "$NS_B" "$IP_B" 5001 "$TMP/ab.in" "$TMP/ab.out"
check "A -> B:5001 arrived byte-exact"
log "8 MB B -> A:5001 (B connects, A's daemon serves the sport role)"
transfer "$NS_B" "$NS_A" "$IP_A" 5001 "$TMP/ba.in" "$TMP/ba.out"
check "B -> A:5001 arrived byte-exact"
log "1 MB A -> B:5002 (not selected)"
transfer "$NS_A" "$NS_B" "$IP_B" 5002 "$TMP/plain.in" "$TMP/plain.out"
check "A -> B:5002 arrived byte-exact"

capture_stop wire
capture_stop zcc0
capture_complete wire zcc0

log "wire (B's eth0): every segment of port 5001 sealed, no 16-byte run of either file"
check_wire_sealed "$TMP/wire.pcap" 5001 "$TMP/ab.in" "$TMP/ba.in"

# zcc0 has TSO: our stack hands it super-segments, which zcctund must cut
# exactly as the kernel's GSO would have cut them for the wire.
log "A -> B data segments: zcc0's segments reach the wire cut as GSO cuts them"
$PCAP tiles "$TMP/zcc0.pcap" --wire "$TMP/wire.pcap" --port 5001 \
	--src "$IP_A" --dst "$IP_B" >"$TMP/tiles" ||
	{ cat "$TMP/tiles" >&2; fail "wire segments are not zcc0's cut at one size"; }
check "$(cat "$TMP/tiles")"

log "control, port 5002: no zcc option, and the plaintext IS found"
$PCAP check-plain "$TMP/wire.pcap" --port 5002 ||
	fail "unselected port 5002 carries zcc options (or was not captured)"
if $PCAP grep "$TMP/wire.pcap" --port 5002 --needle-file "$TMP/plain.in" >"$TMP/grep5002"; then
	cat "$TMP/grep5002"
	fail "plaintext of port 5002 not found on the wire: capture or grep is broken"
fi
check "port 5002 untouched and visible in plaintext"

for d in A B; do
	line=$(counters_line "$d")
	log "$d $line"
	[ "$(counter "$d" sealed)" -gt 0 ] || fail "$d: sealed counter is 0"
	[ "$(counter "$d" opened)" -gt 0 ] || fail "$d: opened counter is 0"
	drops=$(nonzero_drops "$d")
	[ -z "$drops" ] || fail "$d: drop counters not zero: $drops"
done
check "counters: sealed > 0, opened > 0, nothing dropped, on both ends"

# What an administrator reads: zccctl show at a glance, -v in full.
ip netns exec "$NS_A" "$ZCCCTL" show >"$TMP/show.txt" ||
	fail "zccctl show failed"
ip netns exec "$NS_A" "$ZCCCTL" show zcc0 -v >"$TMP/show-v.txt" ||
	fail "zccctl show zcc0 -v failed"
grep -q '^  state: up for [0-9]' "$TMP/show.txt" &&
	grep -qx "  peer: $IP_B, local $IP_A on eth0" "$TMP/show.txt" &&
	grep -qx '  transfer: [0-9.]* MiB received, [0-9.]* MiB sent' "$TMP/show.txt" ||
	fail "zccctl show lacks state, peer or transfer: $(cat "$TMP/show.txt")"
grep -q 'dropped\|sealed:' "$TMP/show.txt" &&
	fail "zccctl show prints counters a glance does not need: $(cat "$TMP/show.txt")"
grep -q '^  sealed: [1-9]' "$TMP/show-v.txt" && grep -q '    bad_tag  *0$' "$TMP/show-v.txt" ||
	fail "zccctl show -v lacks the counters: $(cat "$TMP/show-v.txt")"
ip netns exec "$NS_A" "$NETDIR/../../etc/prometheus/zcc-textfile" \
	--zccctl "$ZCCCTL" --output "$TMP/zcc.prom" || fail "zcc-textfile failed"
grep -qx "zcc_up{ifname=\"zcc0\",peer=\"$IP_B\"} 1" "$TMP/zcc.prom" &&
	grep -q "^zcc_opened_bytes_total{ifname=\"zcc0\",peer=\"$IP_B\"} [1-9]" "$TMP/zcc.prom" ||
	fail "zcc-textfile: the live link is not in its metrics: $(cat "$TMP/zcc.prom")"
check "zcc-textfile wrote $(grep -vc '^#' "$TMP/zcc.prom") samples of the live link"
check "zccctl show: $(wc -l <"$TMP/show.txt") lines ($(grep transfer "$TMP/show.txt" | sed 's/^ *//')); -v: $(wc -l <"$TMP/show-v.txt")"

# The receive ring took the peer's segments and the tc ingress filter
# dropped the kernel's own copy: had any copy reached IP, the backstop's
# input chain would have dropped and counted it.
for ns in "$NS_A" "$NS_B"; do
	n=$(nft_dropped "$ns" input)
	[ "$n" = 0 ] || fail "$n sealed segments reached IP in $ns (backstop input)"
done
check "no sealed segment reached IP: the ingress filter dropped the kernel's copies"

# Sealing suites: zccseal3 at both ends when the CPU has AES instructions,
# zccseal2 once one end offers only that.
want=zccseal2
grep -qw aes /proc/cpuinfo && want=zccseal3
for ns in "$NS_A" "$NS_B"; do
	ip netns exec "$ns" "$ZCCCTL" show zcc0 -v | grep -q "^  sealing: $want " ||
		fail "$ns does not seal with $want: $(ip netns exec "$ns" "$ZCCCTL" show zcc0 -v | grep sealing)"
done
check "both ends seal with $want"

stop_zcc B
start_zcc "$NS_B" B2 peer "$IP_A" key-file "$TMP/key" encrypt-port 5001 \
	nodetach debug sealing zccseal2
wait_up B2
for i in $(seq 50); do
	ip netns exec "$NS_A" "$ZCCCTL" show zcc0 -v | grep -q '^  sealing: zccseal2 ' && break
	sleep 0.1
done
for ns in "$NS_A" "$NS_B"; do
	ip netns exec "$ns" "$ZCCCTL" show zcc0 -v | grep -q '^  sealing: zccseal2 ' ||
		fail "$ns does not seal with zccseal2 with 'sealing zccseal2' at B"
done
head -c 2M /dev/urandom >"$TMP/ab2.in"
capture_start "$NS_B" eth0 wire2
transfer "$NS_A" "$NS_B" "$IP_B" 5001 "$TMP/ab2.in" "$TMP/ab2.out"
capture_stop wire2
capture_complete wire2
check_wire_sealed "$TMP/wire2.pcap" 5001 "$TMP/ab2.in"
d=$(nonzero_drops A)
[ -z "$d" ] || fail "A dropped segments with zccseal2: $d"
check "'sealing zccseal2' at B alone: both ends seal with zccseal2; 2 MB byte-exact, sealed on the wire"

stop_zcc A
stop_zcc B2
check "both daemons stopped with status 0"
pass
