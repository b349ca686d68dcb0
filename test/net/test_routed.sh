#!/bin/bash
# SPDX-License-Identifier: ISC
# The peer behind a router: A (10.0.1.1) and B (10.0.2.2) each reach the
# other through R (10.0.1.254 / 10.0.2.254), a namespace that forwards with
# the kernel and knows nothing of zcc. What must hold:
#   - sealed segments leave A on the link layer to R's MAC (the gateway of
#     A's route, not the peer), and B's to R's other MAC;
#   - R forwards them as any TCP (TTL down by one, its own link header): a
#     transfer each way arrives whole, every segment crossing R is sealed
#     with no plaintext, the frames R sends on carry right checksums;
#   - nothing went by IP output, nothing was dropped.
# test_routed6.sh runs it over IPv6: fd01::1 and fd02::2 through fd01::fe /
# fd02::fe (the hop limit goes down instead, and there is no header checksum).
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

PORT=5001
NS_R=${PREFIX}R
if [ "$FAMILY" = 6 ]; then
	IP_A=fd01::1 IP_B=fd02::2 GW_A=fd01::fe GW_B=fd02::fe
	FWD=net.ipv6.conf.all.forwarding
else
	IP_A=10.0.1.1 IP_B=10.0.2.2 GW_A=10.0.1.254 GW_B=10.0.2.254
	FWD=net.ipv4.ip_forward
fi

# sent_ip NAME NS: sealed segments NAME sent by IP output.
sent_ip() {
	ctl_status "$1" "$2"
	jv "$TMP/$1.json" sent_ip
}

setup_routed
MAC_RA=$(mac_of "$NS_R" ra)
MAC_RB=$(mac_of "$NS_R" rb)
MAC_A=$(mac_of "$NS_A")
MAC_B=$(mac_of "$NS_B")
genkey "$TMP/key"
start_pair $PORT
grep -q "leave by the link layer: next hop $GW_A $MAC_RA on eth0" "$TMP/A.log" ||
	fail "A does not send to R ($MAC_RA): $(grep 'leave by' "$TMP/A.log")"
grep -q "leave by the link layer: next hop $GW_B $MAC_RB on eth0" "$TMP/B.log" ||
	fail "B does not send to R ($MAC_RB): $(grep 'leave by' "$TMP/B.log")"
check "A sends to R's $MAC_RA, B to R's $MAC_RB: the gateways, not the peers"

head -c 4000000 /dev/urandom >"$TMP/in.ab"
head -c 3000000 /dev/urandom >"$TMP/in.ba"
capture_start "$NS_A" eth0 a tcp port $PORT
capture_start "$NS_R" rb rb tcp port $PORT
transfer "$NS_A" "$NS_B" "$IP_B" $PORT "$TMP/in.ab" "$TMP/out.ab"
transfer "$NS_B" "$NS_A" "$IP_A" $PORT "$TMP/in.ba" "$TMP/out.ba"
capture_stop a
capture_stop rb
capture_complete a rb
check "4 MB A to B and 3 MB B to A arrived whole through R"
check_wire_sealed "$TMP/rb.pcap" $PORT "$TMP/in.ab" "$TMP/in.ba"
$PCAP frames "$TMP/a.pcap" --port $PORT --src "$IP_A" --dst-mac "$MAC_RA" |
	sed 's/^/    /' || fail "A's frames are wrong (above)"
$PCAP frames "$TMP/rb.pcap" --port $PORT --src "$IP_A" --dst-mac "$MAC_B" |
	sed 's/^/    /' || fail "R's frames to B are wrong (above)"
$PCAP frames "$TMP/rb.pcap" --port $PORT --src "$IP_B" --dst-mac "$MAC_RB" |
	sed 's/^/    /' || fail "B's frames to R are wrong (above)"
check "A's frames go to R, R forwards them to B with right checksums, B's go to R"
[ "$(sent_ip A "$NS_A")" = 0 ] && [ "$(sent_ip B "$NS_B")" = 0 ] ||
	fail "some went by IP output: A $(sent_ip A "$NS_A"), B $(sent_ip B "$NS_B")"
for n in A B; do
	[ -z "$(nonzero_drops $n)" ] || fail "$n dropped: $(nonzero_drops $n)"
done
check "everything by the link layer, nothing dropped"
# Control: the frame check refuses a capture whose frames go elsewhere.
! $PCAP frames "$TMP/a.pcap" --port $PORT --src "$IP_A" --dst-mac "$MAC_A" \
	>/dev/null || fail "the frame check took A's frames as sent to A's own MAC"
check "control: the frame check refuses A's own MAC as their destination"
stop_zcc A
stop_zcc B
pass
