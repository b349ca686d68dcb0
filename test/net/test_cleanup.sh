#!/bin/bash
# SPDX-License-Identifier: ISC
# The host is left as it was found once "zcctund cleanup" lifts the block,
# and only then: after SIGTERM, after SIGINT and after SIGKILL the block
# stays (the nftables table, the rules, the unreachable table), and cleanup
# removes exactly what was installed. While the daemon runs, cleanup refuses
# and changes nothing. A starts with strict reverse-path filtering
# (all.rp_filter = 1), which stays: zcc0's own loose setting is enough.
# Between the SIGKILL and the cleanup, selected flows fail closed: nothing of
# port 5001 leaves A in plaintext, no connection is made, and B's sealed
# segments do not reach A's application.
# test_cleanup6.sh runs it over IPv6 (ZCC_TEST_FAMILY=6): the ip -6 rules
# and routes are then the ones the snapshots must see go, and rp_filter, an
# IPv4 setting, stays as it was.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

APP="$PY $NETDIR/tcpapp.py"

setup_topology
genkey "$TMP/key"
ip netns exec "$NS_A" sysctl -qw net.ipv4.conf.all.rp_filter=1
snapshot "$NS_A" "$TMP/A.before"
snapshot "$NS_B" "$TMP/B.before"

# must_not_connect FROM TO FROM_NS TO_NS TO_IP WHAT: TO serves 5001, recording
# into $TMP/recvTO and $TMP/statusTO; FROM tries to send $TMP/secretFROM to
# it, and that attempt must fail. Sets SRV to the server's pid.
must_not_connect() {
	local from=$1 to=$2 fromns=$3 tons=$4 toip=$5 what=$6
	head -c 256K /dev/urandom >"$TMP/secret$from"
	bg_start "$tons" "$TMP/srv$to.log" $APP serve --port 5001 --out "$TMP/recv$to" \
		--status "$TMP/status$to" --timeout 8
	SRV=$BG_PID
	wait_listen "$tons" 5001
	ip netns exec "$fromns" timeout 10 socat -u "FILE:$TMP/secret$from" \
		"$(tcp_to "$toip" 5001),connect-timeout=5" >"$TMP/cli$from.log" 2>&1 &&
		fail "$what"
	log "$from's client: $(tail -n1 "$TMP/cli$from.log")"
}

log "start both, transfer, SIGTERM A, SIGINT B"
start_pair 5001 A1 B1
snapshot "$NS_A" "$TMP/A.running"
if cmp -s "$TMP/A.before" "$TMP/A.running"; then
	fail "A's snapshot does not change while zcctund runs: the snapshot sees nothing"
fi
rp=$(ip netns exec "$NS_A" sysctl -n net.ipv4.conf.all.rp_filter)
if [ "$FAMILY" = 4 ]; then
	[ "$rp" = 1 ] || fail "A's all.rp_filter is $rp while zcctund runs, expected 1 (untouched)"
	rpz=$(ip netns exec "$NS_A" sysctl -n net.ipv4.conf.zcc0.rp_filter)
	[ "$rpz" = 2 ] || fail "A's zcc0 rp_filter is $rpz, expected 2 (loose)"
	check "A's strict all.rp_filter untouched while zcctund runs; zcc0's is 2"
else
	[ "$rp" = 1 ] || fail "A's all.rp_filter is $rp while an IPv6 link runs, expected 1 (untouched)"
	sed -n '/^## ip -6 rule$/,/^## ip route/p' "$TMP/A.running" |
		grep -c "^31330:.* to $IP_B ipproto tcp dport 5001 lookup 31331" >/dev/null ||
		fail "no ip -6 rule of zcctund's in A's snapshot"
	sed -n '/^## ip -6 route/,/^## tc/p' "$TMP/A.running" |
		grep -c "^unreachable default .*table 31331" >/dev/null ||
		fail "no ip -6 unreachable route of zcctund's in A's snapshot"
	check "A's all.rp_filter untouched by an IPv6 link; its ip -6 rules and routes are in the snapshot"
fi
head -c 1M /dev/urandom >"$TMP/data"
bg_start "$NS_B" "$TMP/srv1.log" socat -u "$(tcp_listen 5001)" "CREATE:$TMP/data.out"
srv=$BG_PID
wait_listen "$NS_B" 5001
ip netns exec "$NS_A" timeout 60 socat -u "FILE:$TMP/data" "$(tcp_to "$IP_B" 5001),connect-timeout=10" ||
	fail "transfer A -> B:5001 failed"
bg_wait "$srv" 30 || fail "B's receiver did not finish"
cmp -s "$TMP/data" "$TMP/data.out" || fail "transfer A -> B:5001 not byte-exact"
check "1 MB A -> B:5001 byte-exact"
# cleanup_in NS NAME: "zcctund cleanup" in NS must exit 0.
cleanup_in() {
	ip netns exec "$1" "$ZCCTUND" cleanup >"$TMP/cleanup.$2.log" 2>&1 ||
		fail "zcctund cleanup in $2 failed: $(cat "$TMP/cleanup.$2.log")"
}
ip netns exec "$NS_A" "$ZCCTUND" cleanup >"$TMP/refused.log" 2>&1 &&
	fail "zcctund cleanup with A's daemon running exited 0"
grep -c 'is running; stop it first' "$TMP/refused.log" >/dev/null ||
	fail "cleanup refused without saying why: $(cat "$TMP/refused.log")"
snapshot "$NS_A" "$TMP/A.refused"
same_snapshot "$TMP/A.running" "$TMP/A.refused" "A after a refused cleanup"
check "zcctund cleanup refuses while the daemon runs, and changes nothing"
stop_zcc A1
stop_zcc B1 INT
for h in A B; do
	ns=$NS_A
	[ $h = B ] && ns=$NS_B
	ip netns exec "$ns" nft list table inet zcc_zcc0 >/dev/null 2>&1 ||
		fail "$h's block (table inet zcc_zcc0) went with the daemon"
	[ -n "$(ip -n "$ns" -"$FAMILY" rule show pref 31330)" ] ||
		fail "$h's selection rules went with the daemon"
done
check "A after SIGTERM, B after SIGINT: the block stays (nftables table, rules)"
cleanup_in "$NS_A" A
cleanup_in "$NS_B" B
snapshot "$NS_A" "$TMP/A.after"
snapshot "$NS_B" "$TMP/B.after"
same_snapshot "$TMP/A.before" "$TMP/A.after" "A after SIGTERM and cleanup"
same_snapshot "$TMP/B.before" "$TMP/B.after" "B after SIGINT and cleanup"
check "A and B exactly as before once zcctund cleanup lifted the block"

log "start both again, SIGKILL A's daemon"
start_pair 5001 A2 B2
kill_zcc A2
capture_start "$NS_A" eth0 wireA
capture_start "$NS_B" eth0 wireB

log "A -> B:5001 with A's daemon dead: must fail closed"
must_not_connect A B "$NS_A" "$NS_B" "$IP_B" "A connected to B:5001 and sent with its daemon dead"
srvB=$SRV

log "B -> A:5001 (B's daemon alive, A's dead): must not reach A's application"
must_not_connect B A "$NS_B" "$NS_A" "$IP_A" "B connected to A:5001 and sent while A's daemon was dead"
srvA=$SRV
bg_wait "$srvB" 15 || true
bg_wait "$srvA" 15 || true
capture_stop wireA
capture_stop wireB
capture_complete wireA wireB

[ ! -s "$TMP/recvB" ] || fail "B's application received $(stat -c %s "$TMP/recvB") bytes"
[ ! -s "$TMP/recvA" ] || fail "A's application received $(stat -c %s "$TMP/recvA") bytes"
[ "$(cat "$TMP/statusB")" = "timeout 0" ] || fail "B's server: $(cat "$TMP/statusB")"
[ "$(cat "$TMP/statusA")" = "timeout 0" ] || fail "A's server: $(cat "$TMP/statusA")"
check "no connection either way, no byte delivered"

for w in wireA wireB; do
	n=$($PCAP count "$TMP/$w.pcap" --port 5001 --src "$IP_A")
	if [ "$n" -gt 0 ]; then
		$PCAP check-sealed "$TMP/$w.pcap" --port 5001 --src "$IP_A" ||
			fail "$w: A sent unsealed segments of port 5001 after the crash"
	fi
	$PCAP grep "$TMP/$w.pcap" --needle-file "$TMP/secretA" ||
		fail "$w: A's data on the wire in plaintext"
	$PCAP grep "$TMP/$w.pcap" --needle-file "$TMP/secretB" ||
		fail "$w: B's data on the wire in plaintext"
	log "$w: $n segments of port 5001 from A, none unsealed"
done
check "nothing of port 5001 left A in plaintext"

log "zcctund cleanup in A"
ip netns exec "$NS_A" "$ZCCTUND" cleanup >"$TMP/cleanup.log" 2>&1 && rc=0 || rc=$?
[ "$rc" = 0 ] || { cat "$TMP/cleanup.log" >&2; fail "zcctund cleanup exited $rc"; }
sed 's/^/    /' "$TMP/cleanup.log"
snapshot "$NS_A" "$TMP/A.after2"
same_snapshot "$TMP/A.before" "$TMP/A.after2" "A after SIGKILL and cleanup"
check "A as before after SIGKILL and zcctund cleanup"
ip netns exec "$NS_A" "$ZCCTUND" cleanup >"$TMP/cleanup2.log" 2>&1 ||
	fail "a second zcctund cleanup (nothing left) exited nonzero: $(cat "$TMP/cleanup2.log")"
check "a second cleanup with nothing to do exits 0"

stop_zcc B2
cleanup_in "$NS_B" B2
snapshot "$NS_B" "$TMP/B.after2"
same_snapshot "$TMP/B.before" "$TMP/B.after2" "B after SIGTERM and cleanup"
check "B as before after SIGTERM and cleanup"

# A deleted namespace's inode goes to a new one, and with it the names of
# the files the old one's links left: they record the old one's cookie and
# must neither name the new one's interface nor claim its clsact.
log "files a dead namespace left under A's inode"
ino=$(ip netns exec "$NS_A" stat -L -c %i /proc/self/ns/net)
mkdir -p -m 700 /run/zcc        # gone with the last link's file
printf 'pid=1\nifname=zcc0\nrealdev=eth0\nlocal=\npeer=%s\nports=80\nfwmark=31331\ntable=31331\npriority=31330\ntc_filter=0\nlink_hlen=14\npeer_route=0\nnetns_cookie=1\n' \
	"$([ "$FAMILY" = 6 ] && echo 2001:db8::99 || echo 192.0.2.99)" \
	>"/run/zcc/zcc0.netns-$ino.state"
echo 1 >"/run/zcc/clsact-eth0.netns-$ino.mark"
ip netns exec "$NS_A" tc qdisc add dev eth0 clsact
start_zcc "$NS_A" A3 peer "$IP_B" key-file "$TMP/key" encrypt-port 5001 nodetach
grep -q "zcc0 ready: " "$TMP/A3.log" ||
	fail "A took another name than zcc0: $(grep ready "$TMP/A3.log")"
grep -q "zcc0.netns-$ino.state: left by a network namespace that no longer exists: removed" \
	"$TMP/A3.log" || fail "A did not say it removed the dead namespace's state file"
stop_zcc A3
cleanup_in "$NS_A" A3
ip netns exec "$NS_A" tc qdisc show dev eth0 | grep -q clsact ||
	fail "the cleanup removed A's own clsact, claimed by a dead namespace's mark"
[ ! -e "/run/zcc/clsact-eth0.netns-$ino.mark" ] ||
	fail "the dead namespace's clsact mark is still there"
ip netns exec "$NS_A" tc qdisc del dev eth0 clsact
check "A's link is zcc0, the dead namespace's state file and mark removed, A's own clsact kept"
pass
