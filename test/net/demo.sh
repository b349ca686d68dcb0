#!/bin/bash
# SPDX-License-Identifier: ISC
# The two-host demo: A fetches a web page from B over port 8080, which zcc
# encrypts. Shows what the applications see (zcc0) beside what the network
# sees (eth0), the counters, and that nothing is left behind.
#
#     test/net/demo.sh build/zcctund
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Two hosts on one bridge: A $IP_A and B $IP_B (network namespaces ${PREFIX}*)"
setup_topology
snapshot "$NS_A" "$TMP/A.before"
snapshot "$NS_B" "$TMP/B.before"

say "One shared link key: zcctund genkey > key; chmod 600 key"
genkey "$TMP/key"
echo "    $TMP/key ($(stat -c %a "$TMP/key"))"

say "Start zcctund on both, encrypting port 8080"
start_zcc "$NS_A" A peer "$IP_B" key-file "$TMP/key" encrypt-port 8080 nodetach
start_zcc "$NS_B" B peer "$IP_A" key-file "$TMP/key" encrypt-port 8080 nodetach
echo "  A: zcctund peer $IP_B key-file key encrypt-port 8080"
grep -h ' ready: ' "$TMP/A.log" "$TMP/B.log" | sed 's/^/    /'

say "The handshake: the key file only authenticates; session keys are new"
wait_up A
wait_up B
grep -h 'link up' "$TMP/A.log" "$TMP/B.log" | sed 's/^/    /'

mkdir -p "$TMP/www"
cat >"$TMP/www/index.html" <<'EOF'
Hello from B. This page crossed the network encrypted by zcc,
with its TCP/IP headers left as they were.
EOF
bg_start "$NS_B" "$TMP/http.log" "$PY" -m http.server 8080 --bind "$IP_B" \
	--directory "$TMP/www"
wait_listen "$NS_B" 8080

# On zcc0, A's own segments go out in plaintext and B's come in opened
# (written by zcctund, which took them sealed off eth0). Keep what the
# applications exchange.
capture_start "$NS_A" zcc0 zcc0 "(outbound and src host $IP_A) or (inbound and src host $IP_B)"
capture_start "$NS_A" eth0 eth0

say "A fetches http://$IP_B:8080/ (python3 urllib, an unmodified application)"
ip netns exec "$NS_A" "$PY" -c '
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode(), end="")
' "http://$IP_B:8080/" | sed 's/^/    /'
capture_stop zcc0
capture_stop eth0

# show NAME [-v]: the first data segment each way (request and reply), as
# tcpdump shows them, payload as text (-A); -v decodes the TCP options.
show() {
	tcpdump -n -r "$TMP/$1.pcap" -c 2 -A $2 \
		'tcp port 8080 and (ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2)) != 0' \
		2>/dev/null | cut -c1-220 | sed 's/^/    /'
}
say "On zcc0 in A (what the applications exchange): plaintext"
show zcc0 ""
say "On eth0 in A (what the network carries): same headers, option 253, ciphertext"
show eth0 -v
say "tshark on eth0: segments carrying the zcc option (tcp.option_kind == 253)"
if command -v tshark >/dev/null; then
	n=$(tshark -r "$TMP/eth0.pcap" -Y 'tcp.port == 8080' 2>/dev/null | wc -l)
	z=$(tshark -r "$TMP/eth0.pcap" -Y 'tcp.port == 8080 && tcp.option_kind == 253' 2>/dev/null | wc -l)
	echo "    $z of $n segments of port 8080"
else
	$PCAP check-sealed "$TMP/eth0.pcap" --port 8080 | sed 's/^/    /'
fi

say "zccctl show in A (zccctl show -v adds every counter and the flows)"
ip netns exec "$NS_A" "$ZCCCTL" show zcc0 | sed 's/^/    /'

say "Stop A (zccctl stop): the block stays, port 8080 to B gets nowhere"
ip netns exec "$NS_A" "$ZCCCTL" stop zcc0 | sed 's/^/    /'
bg_wait "${ZCC_PID[A]}" 10 || true
tail -n1 "$TMP/A.log" | sed 's/^/    /'
if ip netns exec "$NS_A" timeout 3 "$PY" -c '
import sys, urllib.request
urllib.request.urlopen("http://%s:8080/" % sys.argv[1], timeout=2)' "$IP_B" 2>/dev/null; then
	fail "A fetched the page with its daemon stopped"
fi
echo "    A -> B:8080 with A's zcctund stopped: no route to host (nothing in clear)"

say "Stop B, lift both blocks (zcctund cleanup), compare the namespaces with before"
stop_zcc B
ip netns exec "$NS_A" "$ZCCTUND" cleanup 2>&1 | sed 's/^/    /'
ip netns exec "$NS_B" "$ZCCTUND" cleanup 2>&1 | sed 's/^/    /'
snapshot "$NS_A" "$TMP/A.after"
snapshot "$NS_B" "$TMP/B.after"
same_snapshot "$TMP/A.before" "$TMP/A.after" "A"
same_snapshot "$TMP/B.before" "$TMP/B.after" "B"
echo "    A and B: links, addresses, rules, routes, qdiscs, filters, nftables and"
echo "    sysctls exactly as before."
# shellcheck disable=SC2034
TEST_OK=1       # lib.sh's cleanup: a success, no logs to print
