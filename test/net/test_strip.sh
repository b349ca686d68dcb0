#!/bin/bash
# SPDX-License-Identifier: ISC
# A middlebox that strips the zcc option: R, between A (10.0.1.1) and B
# (10.0.2.2), replaces option 253 with NOPs in every segment from A
# (nftables "reset tcp option 253", checksum fixed up). What must hold:
#   - without fallback-encap, at the default log level: B says once, within
#     10 s, that A's segments arrive without the option, and that selected
#     flows stay blocked; the connection gets nothing, and what crosses R
#     carries no plaintext (the payload is still ciphertext, the option gone);
#   - with fallback-encap at both ends: B detects it, tells A in an
#     authenticated echo, both carry selected flows encapsulated and say so
#     once; 4 MB A to B and 2 MB B to A arrive byte for byte; zccctl show
#     says "encapsulated" and names the trouble; no plaintext crosses R.
# test_strip6.sh runs it over IPv6.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

PORT=5001
NS_R=${PREFIX}R
if [ "$FAMILY" = 6 ]; then
	IP_A=fd01::1 IP_B=fd02::2 GW_A=fd01::fe GW_B=fd02::fe
	FWD=net.ipv6.conf.all.forwarding SADDR="ip6 saddr"
else
	IP_A=10.0.1.1 IP_B=10.0.2.2 GW_A=10.0.1.254 GW_B=10.0.2.254
	FWD=net.ipv4.ip_forward SADDR="ip saddr"
fi

setup_path() {
	setup_routed
	strip_option "$NS_R" $PORT "$SADDR $IP_A"
}

# both [OPTIONS...]: zcctund in A and B, no debug: the default log level.
both() {
	start_zcc "$NS_A" A peer "$IP_B" key-file "$TMP/key" encrypt-port $PORT nodetach "$@"
	start_zcc "$NS_B" B peer "$IP_A" key-file "$TMP/key" encrypt-port $PORT nodetach "$@"
	wait_up A
	wait_up B
}

setup_path
genkey "$TMP/key"
head -c 300000 /dev/urandom >"$TMP/in.hang"
head -c 4000000 /dev/urandom >"$TMP/in.ab"
head -c 2000000 /dev/urandom >"$TMP/in.ba"
capture_start "$NS_R" rb rb tcp port $PORT or udp port 7437

log "R strips the option from A's segments; no fallback-encap"
both
bg_start "$NS_B" "$TMP/hang.srv" socat -u "$(tcp_listen $PORT "$IP_B")" "CREATE:$TMP/out.hang"
hang_srv=$BG_PID
wait_listen "$NS_B" $PORT
bg_start "$NS_A" "$TMP/hang.cli" socat -u "FILE:$TMP/in.hang" "$(tcp_to "$IP_B" $PORT),connect-timeout=10"
hang_cli=$BG_PID
wait_log B 'arrive without the zcc option' 1 10 ||
	fail "B did not say within 10 s that the option is stripped"
wait_log B 'stay blocked (with fallback-encap' 1 5 ||
	fail "B did not say that selected flows stay blocked"
sleep 3
[ "$(log_count B 'arrive without the zcc option')" = 1 ] ||
	fail "B said it $(log_count B 'arrive without the zcc option') times"
[ ! -s "$TMP/out.hang" ] ||
	fail "B's application received $(stat -c %s "$TMP/out.hang") bytes of a stripped flow"
echo "    B: $(grep 'arrive without' "$TMP/B.log" | sed 's/^[^:]*: //')"
check "B names the stripping once at the default level; nothing reached its application"
kill "$hang_cli" "$hang_srv" 2>/dev/null || true
bg_wait "$hang_cli" 5 || true
bg_wait "$hang_srv" 5 || true
stop_zcc A
stop_zcc B

log "the same with fallback-encap at both ends"
both fallback-encap
transfer "$NS_A" "$NS_B" "$IP_B" $PORT "$TMP/in.ab" "$TMP/out.ab"
transfer "$NS_B" "$NS_A" "$IP_A" $PORT "$TMP/in.ba" "$TMP/out.ba"
check "4 MB A to B and 2 MB B to A arrived whole"
for n in A B; do
	[ "$(log_count $n 'now travel encapsulated')" = 1 ] ||
		fail "$n said $(log_count $n 'now travel encapsulated') times that it encapsulates"
	echo "    $n: $(grep 'now travel encapsulated' "$TMP/$n.log" | sed 's/^[^:]*: //')"
done
grep -q 'arrive without the zcc option.*now travel encapsulated' "$TMP/B.log" ||
	fail "B does not say why it encapsulates"
grep -q 'the peer says.*now travel encapsulated' "$TMP/A.log" ||
	fail "A does not say that B asked"
ns=$NS_A
for n in A B; do
	ctl_status $n "$ns"
	[ "$(jv "$TMP/$n.json" carried)" = encapsulated ] ||
		fail "$n carries selected flows $(jv "$TMP/$n.json" carried)"
	ns=$NS_B
done
[ "$(jv "$TMP/B.json" path_trouble)" = "['option stripped']" ] ||
	fail "B's path_trouble: $(jv "$TMP/B.json" path_trouble)"
[ "$(jv "$TMP/A.json" encapsulated)" -gt 2000 ] ||
	fail "A encapsulated only $(jv "$TMP/A.json" encapsulated) packets"
check "both encapsulate, each says so once and why; zccctl show: encapsulated, B: option stripped"
stop_zcc A
stop_zcc B
capture_stop rb
capture_complete rb
for f in in.hang in.ab in.ba; do
	$PCAP grep-all "$TMP/rb.pcap" --needle-file "$TMP/$f" ||
		fail "plaintext of $f crossed R"
done
n=$(ip netns exec "$NS_R" nft list table inet strip | grep -o 'packets [0-9]*' |
	awk '{ n += $2 } END { print n + 0 }')
[ "$n" -gt 0 ] || fail "R's stripping rules matched nothing"
check "no plaintext crossed R; R stripped the option from $n segments"
pass
