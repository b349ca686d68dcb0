#!/bin/bash
# SPDX-License-Identifier: ISC
# Sealed segments leave by the link layer (an AF_PACKET socket to the next
# hop's hardware address), past the kernel's IP output. What must hold:
#   - by default they do: A's log names B's MAC as the next hop, zccctl
#     shows "link"; a transfer arrives whole, every segment on the wire is
#     sealed and goes to B's MAC with right IPv4 and TCP checksums; an
#     nftables output hook in A sees only the segments zccctl counts as
#     sent by IP output, and link + IP output add up to all sealed;
#   - a next hop the kernel no longer knows (A's neighbour entry deleted)
#     sends by IP output, which resolves it again, and then by the link
#     layer again; nothing is lost;
#   - a stale entry (set so by hand) stays in use, and the kernel is made
#     to recheck it: some segments go by IP output, the link layer carries
#     the rest, and the entry is no longer stale;
#   - ip-output sends every sealed segment by IP output, as before;
#   - either way, a netdev egress hook and the device's qdisc see them.
# test_linksend6.sh runs it over IPv6 (neighbour discovery instead of ARP).
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

PORT=5001

# out_count [CHAIN]: the segments to PORT that A's output hook (or
# postrouting, with post) saw leave on eth0.
out_count() { nft_packets "$NS_A" inet zcct_count "${1:-out}"; }

# sent A: "SEALED LINK IP" from A's zccctl show --json.
sent() {
	ctl_status A "$NS_A"
	echo "$(jv "$TMP/A.json" sealed) $(jv "$TMP/A.json" sent_link)" \
		"$(jv "$TMP/A.json" sent_ip)"
}

# wait_said PATTERN N: until A's log has N lines with PATTERN (5 s at most).
wait_said() {
	wait_log A "$1" "$2" 5 || fail "A's log never said '$1' ($2 times)"
}

# neigh_state: A's kernel's state for B ("REACHABLE", "STALE", ...).
neigh_state() {
	ip -n "$NS_A" neigh show "$IP_B" dev eth0 | awk '{ print $NF }'
}

# count_table: (re)create A's output hook that counts segments to PORT.
count_table() {
	ip netns exec "$NS_A" nft delete table inet zcct_count 2>/dev/null || true
	ip netns exec "$NS_A" nft -f - <<EOF
table inet zcct_count {
	chain out {
		type filter hook output priority 0; policy accept;
		oifname "eth0" meta l4proto tcp th dport $PORT counter
	}
	chain post {
		type filter hook postrouting priority 0; policy accept;
		oifname "eth0" meta l4proto tcp th dport $PORT counter
	}
}
EOF
}

# egress_count: the segments to PORT that A's netdev egress hook saw.
egress_count() { nft_packets "$NS_A" netdev zcct_egress e; }

# qdisc_sent: packets A's root qdisc on eth0 has sent.
qdisc_sent() {
	ip netns exec "$NS_A" tc -s qdisc show dev eth0 root |
		awk '$1 == "Sent" { print $4; exit }'
}

setup_topology
MAC_B=$(mac_of "$NS_B")
genkey "$TMP/key"
count_table
# What must still see sealed segments on the link layer: a netdev egress
# hook and the device's qdisc (a pfifo here, veth has none by default).
ip netns exec "$NS_A" nft "add table netdev zcct_egress; add chain netdev zcct_egress e { type filter hook egress device eth0 priority 0; policy accept; }; add rule netdev zcct_egress e meta l4proto tcp th dport $PORT counter"
ip netns exec "$NS_A" tc qdisc add dev eth0 root pfifo

start_pair $PORT
grep -q "leave by the link layer: next hop $IP_B $MAC_B on eth0" "$TMP/A.log" ||
	fail "A's log does not name $MAC_B as the next hop"
ctl_status A "$NS_A"
[ "$(jv "$TMP/A.json" send)" = link ] && [ "$(jv "$TMP/A.json" next_hop.mac)" = "$MAC_B" ] ||
	fail "zccctl show: send $(jv "$TMP/A.json" send), next hop $(jv "$TMP/A.json" next_hop)"
check "A sends on the link layer to B's $MAC_B (log and zccctl show)"

head -c 4000000 /dev/urandom >"$TMP/in"
capture_start "$NS_A" eth0 wire tcp port $PORT
transfer "$NS_A" "$NS_B" "$IP_B" $PORT "$TMP/in" "$TMP/out"
capture_stop wire
capture_complete wire
check "4 MB from A to B arrived whole"
check_wire_sealed "$TMP/wire.pcap" $PORT "$TMP/in"
$PCAP frames "$TMP/wire.pcap" --port $PORT --src "$IP_A" --dst-mac "$MAC_B" |
	sed 's/^/    /' || fail "A's frames on the wire are wrong (above)"
check "A's frames go to $MAC_B with right checksums"
read -r sealed link viaip < <(sent)
hooked=$(out_count)
log "A sealed $sealed: $link by the link layer, $viaip by IP output; output hook saw $hooked"
[ "$link" -gt 0 ] && [ $((link + viaip)) = "$sealed" ] ||
	fail "link $link + IP output $viaip is not all $sealed sealed"
[ "$hooked" = "$viaip" ] && [ "$(out_count post)" = "$viaip" ] ||
	fail "A's output and postrouting hooks saw $hooked and $(out_count post) segments, zccctl counts $viaip by IP output"
[ "$viaip" -lt $((sealed / 10)) ] ||
	fail "$viaip of $sealed went by IP output"
check "the link layer carried $link of $sealed; IP output ($viaip) is what the output and postrouting hooks saw"
[ "$(egress_count)" = "$sealed" ] ||
	fail "A's netdev egress hook saw $(egress_count) of $sealed sealed segments"
[ "$(qdisc_sent)" -ge "$sealed" ] ||
	fail "A's qdisc sent $(qdisc_sent) packets, fewer than $sealed sealed"
check "A's netdev egress hook saw all $sealed; its qdisc sent $(qdisc_sent) packets"
[ -z "$(nonzero_drops B)" ] || fail "B dropped: $(nonzero_drops B)"
check "B dropped nothing"

# The kernel forgets the next hop: IP output until it has resolved it again.
byip=$(log_count A 'leave by IP output')
bylink=$(log_count A 'leave by the link layer')
# The engine reads the next hop once a second; an echo in between can make
# the kernel resolve B again first (an ASan CI run saw it), so delete again
# until the engine has seen it gone.
for i in 1 2 3 4 5; do
	ip -n "$NS_A" neigh del "$IP_B" dev eth0 2>/dev/null || true
	wait_log A 'leave by IP output' $((byip + 1)) 2 && break
done
wait_said 'leave by IP output' $((byip + 1))
read -r _ _ ip0 < <(sent)
transfer "$NS_A" "$NS_B" "$IP_B" $PORT "$TMP/in" "$TMP/out"
wait_said 'leave by the link layer' $((bylink + 1))
read -r sealed link ip1 < <(sent)
[ "$ip1" -gt "$ip0" ] || fail "no segment went by IP output after the delete"
[ "$(out_count)" = "$ip1" ] || fail "output hook $(out_count), IP output $ip1"
ip -n "$NS_A" neigh show "$IP_B" dev eth0 | grep -c "$MAC_B" >/dev/null ||
	fail "A's kernel did not resolve B again: $(ip -n "$NS_A" neigh show "$IP_B")"
check "deleted next hop: $((ip1 - ip0)) segments by IP output, the transfer whole, then the link layer again"

# A stale entry stays in use, and a batch by IP output makes the kernel
# recheck it (STALE -> DELAY -> PROBE -> REACHABLE), as its own traffic
# would; without traffic through it, the kernel leaves an entry stale.
byip=$(log_count A 'leave by IP output')
read -r sealed0 link0 ip0 < <(sent)
trickle $PORT 6 1024 0.002   # 1 KB every 2 ms
sleep 0.5
# The engine reads the entry once a second; an echo in between makes the
# kernel recheck it on its own first (a CI run saw it), so make it stale
# again until the engine has sent a batch by IP output.
for i in 1 2 3; do
	ip -n "$NS_A" neigh change "$IP_B" lladdr "$MAC_B" dev eth0 nud stale
	sleep 1.5
	read -r _ _ ip1 < <(sent)
	[ "$ip1" -gt "$ip0" ] && break
done
state=$(neigh_state)
trickle_wait
read -r sealed link ip1 < <(sent)
log "stale next hop: $((link - link0)) by the link layer, $((ip1 - ip0)) by IP output; then $state"
[ "$ip1" -gt "$ip0" ] || fail "no segment went by IP output to recheck the stale entry"
[ "$state" != STALE ] || fail "A's kernel did not recheck the stale entry"
[ $((link - link0)) -gt $((10 * (ip1 - ip0))) ] ||
	fail "the link layer carried $((link - link0)), IP output $((ip1 - ip0))"
[ "$(log_count A 'leave by IP output')" = "$byip" ] ||
	fail "the next hop was dropped while only stale"
[ -z "$(nonzero_drops B)" ] || fail "B dropped: $(nonzero_drops B)"
check "stale next hop kept; IP output ($((ip1 - ip0))) made the kernel recheck it ($state)"

stop_zcc A
stop_zcc B
read -r elink eip < <(grep 'sealed segments sent:' "$TMP/A.log" | tail -n1 |
	sed -E 's/.*sent: ([0-9]+) by the link layer, ([0-9]+) by IP output/\1 \2/')
[ "${elink:-0}" -ge "$link" ] && [ "${eip:-0}" -ge "$ip1" ] ||
	fail "A's exit counts (${elink:-none}, ${eip:-none}) are below $link, $ip1"
check "A's exit log counts both paths ($elink by the link layer, $eip by IP output)"

# ip-output: every sealed segment by IP output.
count_table
start_zcc "$NS_A" A peer "$IP_B" key-file "$TMP/key" encrypt-port $PORT ip-output nodetach debug
start_zcc "$NS_B" B peer "$IP_A" key-file "$TMP/key" encrypt-port $PORT nodetach debug
wait_up A
wait_up B
grep -q 'ip-output: sealed segments leave by IP output' "$TMP/A.log" ||
	fail "A's log does not report ip-output"
transfer "$NS_A" "$NS_B" "$IP_B" $PORT "$TMP/in" "$TMP/out"
read -r sealed link viaip < <(sent)
[ "$(jv "$TMP/A.json" send)" = ip ] || fail "zccctl show: send $(jv "$TMP/A.json" send)"
[ "$link" = 0 ] && [ "$viaip" = "$sealed" ] && [ "$(out_count)" = "$sealed" ] ||
	fail "ip-output: link $link, IP output $viaip, hook $(out_count), sealed $sealed"
check "ip-output: all $sealed sealed segments by IP output, all seen by the output hook"
stop_zcc A
stop_zcc B
pass
