#!/bin/bash
# SPDX-License-Identifier: ISC
# Several links in one host, as pppd's units: A runs two zcctund with
# defaults only, one to B (key K1, port 5001) and one to C (key K2, port
# 5002); B and C run their counterparts (here C is an ordinary third host).
#  - Both come up; with no ifname, each gets the first free name (zcc0,
#    zcc1) and its own routing table, rule preferences and fwmark, as its
#    state file records; both use UDP port 7437; zccctl show NAME --json
#    shows each link alone (ifname, peer). A third start that fails (the
#    name of a running link) changes nothing in A.
#  - Transfers A->B:5001, A->C:5002, B->A:5001 and C->A:5002 are byte-exact
#    and every segment of both ports on A's wire is sealed.
#  - While a long transfer runs on A-C, A-B's daemon is SIGKILLed: its nft
#    table, rules and state file stay, a connection A->B:5001 fails and
#    nothing of it leaves in plaintext; a restart with the same command line
#    takes over the same interface name without installing its rules twice;
#    A-B then carries data byte-exact again, and the A-C transfer is
#    byte-exact through it all.
#  - While a long transfer runs on A-B, A-C's daemon gets SIGTERM (its block
#    stays: A->C:5002 fails) and "zcctund cleanup ifname" removes A-C's
#    table, rules and state file and nothing of A-B's (rules, table, state
#    file, clsact on eth0 and its incoming steering).
#  - A-C again with float: on port 7437, which A-B holds, it exits 1 and
#    says a floating link needs a port of its own; with port 7438 at both
#    ends it comes up beside A-B and both carry 1 MB byte-exact.
#  - Foreign ip rules (at preferences next to and equal to zcc's) and
#    foreign routes (in tables next to zcc's) survive every start, kill,
#    stop and cleanup; after A-B's stop and a plain "zcctund cleanup", A is
#    exactly as before anything started.
# test_multilink6.sh runs it over IPv6 (ZCC_TEST_FAMILY=6).
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

APP="$PY $NETDIR/tcpapp.py"
T_START=$(date +%s.%N)

setup_topology
genkey "$TMP/K1"
genkey "$TMP/K2"
INODE_A=$(stat -L -c %i "/run/netns/$NS_A")

# ---- 1. foreign rules and routes next to zcc's defaults ----
# zcc's first link uses preferences 31329-31330 and tables 31331/31332; an
# administrator's pieces at 31328, 31329, 31330 and 31331 and in tables
# 31330 and 31333 are not zcc's to touch.
if [ "$FAMILY" = 4 ]; then
	F1=192.0.2.1 F2=192.0.2.2 F3=192.0.2.3 FNET=198.51.100.0/24
else
	F1=2001:db8::1 F2=2001:db8::2 F3=2001:db8::3 FNET=2001:db8:1::/48
fi
ipa() { ip -n "$NS_A" -"$FAMILY" "$@"; }
ipa rule add pref 31328 to "$F1" lookup 31333
ipa rule add pref 31329 fwmark 0x1234 lookup 31333
ipa rule add pref 31330 to "$F3" ipproto tcp dport 5001 lookup 31333
ipa rule add pref 31331 to "$F2" lookup 31330
ipa route add blackhole "$F1" table 31333
ipa route add "$FNET" dev eth0 table 31330

# foreign: the foreign rules and the whole of tables 31330 and 31333.
foreign() {
	echo "## rules"
	ipa rule show | grep -F -e " to $F1 " -e " to $F2 " -e " to $F3 " -e "fwmark 0x1234 " || true
	echo "## table 31333"
	ipa route show table 31333
	echo "## table 31330"
	ipa route show table 31330
}
foreign >"$TMP/foreign.before"
[ "$(grep -c . "$TMP/foreign.before")" = 9 ] ||
	fail "the foreign pieces did not all go in: $(cat "$TMP/foreign.before")"
FOREIGN_CHECKS=0
# foreign_intact WHEN: fail unless the foreign pieces are exactly as placed.
foreign_intact() {
	foreign >"$TMP/foreign.now"
	if ! diff -u "$TMP/foreign.before" "$TMP/foreign.now" >"$TMP/foreign.diff"; then
		cat "$TMP/foreign.diff" >&2
		fail "$1: the foreign ip rules / routes changed (diff above)"
	fi
	FOREIGN_CHECKS=$((FOREIGN_CHECKS + 1))
}
snapshot "$NS_A" "$TMP/A.before"
check "4 foreign rules (prefs 31328-31331) and 2 foreign routes (tables 31333, 31330) in A; snapshot taken"

# ---- helpers ----
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# ifname_of NAME: the interface NAME's daemon announced ("IFNAME ready: ").
ifname_of() {
	sed -n 's/^.* \([^ ]*\) ready: .*$/\1/p' "$TMP/$1.log" | tail -n1
}
# state_file IFNAME: A's state file of that link.
state_file() { echo "/run/zcc/$1.netns-$INODE_A.state"; }
# state_val IFNAME KEY: KEY=VALUE from the link's state file, "?" if absent.
state_val() {
	local v
	v=$(sed -n "s/^$2=//p" "$(state_file "$1")" 2>/dev/null | head -n1)
	echo "${v:-?}"
}
# link_rules PEER: A's ip rules that select flows to or from PEER.
link_rules() { ipa rule show | grep -F " to $1 " | grep -v -F -e " to $F3 " || true; }
has_nft_table() { ip netns exec "$NS_A" nft list table inet "zcc_$1" >/dev/null 2>&1; }
# ingress_filters PORT: how many of eth0's ingress bpf filters in A compare
# a port with PORT (each link's program names its ports).
ingress_filters() {
	ip netns exec "$NS_A" tc filter show dev eth0 ingress |
		grep 'bytecode' | grep -c -E "[ ,]$1," || true
}
# other_intact IFNAME PEER RULES WHAT: the link IFNAME (to PEER) still has
# its nft table, its state file, exactly the rules saved in RULES, and its
# ingress filter.
other_intact() {
	has_nft_table "$1" || fail "$4 removed nft table inet zcc_$1"
	[ -s "$(state_file "$1")" ] || fail "$4 removed $1's state file"
	link_rules "$2" | diff -u "$3" - >&2 || fail "$4 changed $1's ip rules (diff above)"
	[ "$(ingress_filters "$5")" = 1 ] || fail "$4: $(ingress_filters "$5") ingress filters for port $5 on eth0, expected 1"
}
# zcc_marks: the fwmarks in A's ip rules, the foreign one left out.
zcc_marks() {
	ipa rule show | grep -o 'fwmark 0x[0-9a-f]*' | grep -v -x 'fwmark 0x1234' |
		sort -u | awk '{ print $2 }' | tr '\n' ' '
}
# ctl_json IFNAME KEY: one value of zccctl show IFNAME --json in A.
ctl_json() {
	ip netns exec "$NS_A" "$ZCCCTL" show "$1" --json >"$TMP/ctl.$1.json" 2>&1 ||
		fail "zccctl show $1 --json in A failed: $(cat "$TMP/ctl.$1.json")"
	jv "$TMP/ctl.$1.json" "$2"
}

cat >"$TMP/paced.py" <<'EOF'
import socket, sys, time
host, port, path, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
data = open(path, "rb").read()
s = socket.create_connection((host, port), timeout=10)
chunk = 65536
start = time.time()
for i in range(0, len(data), chunk):
    s.sendall(data[i:i + chunk])
    due = start + secs * (i + chunk) / len(data)
    if due > time.time():
        time.sleep(due - time.time())
s.shutdown(socket.SHUT_WR)
s.recv(1)
s.close()
EOF
# paced_start SRCNS DSTNS DSTIP PORT FILE SECONDS: in the background, DST
# receives into FILE.out what SRC sends of FILE evenly over SECONDS; sets
# PACED_SRV and PACED_CLI.
paced_start() {
	local srcns=$1 dstns=$2 dstip=$3 port=$4 file=$5 secs=$6
	bg_start "$dstns" "$TMP/paced.srv.$port.log" socat -u "$(tcp_listen "$port" "$dstip")" "CREATE:$file.out"
	PACED_SRV=$BG_PID
	wait_listen "$dstns" "$port"
	bg_start "$srcns" "$TMP/paced.cli.$port.log" $PY "$TMP/paced.py" "$dstip" "$port" "$file" "$secs"
	PACED_CLI=$BG_PID
}
# paced_wait FILE WHAT: the paced transfer finished and FILE.out == FILE.
paced_wait() {
	bg_wait "$PACED_CLI" 60 || fail "$2: the paced sender failed: $(cat "$TMP"/paced.cli.*.log)"
	bg_wait "$PACED_SRV" 30 || fail "$2: the paced receiver did not finish"
	[ "$(sha "$1")" = "$(sha "$1.out")" ] ||
		fail "$2: received data differs ($(stat -c %s "$1.out") of $(stat -c %s "$1") bytes)"
}

# blocked SRCNS DSTNS DSTIP PORT WHAT: DST serves PORT for 3 s; SRC's
# attempt to send a secret there must fail, and DST's application must get
# nothing. Sets BLOCK_MSG to the client's last words, BLOCK_SECRET to the file.
blocked() {
	local srcns=$1 dstns=$2 dstip=$3 port=$4 what=$5 srv
	BLOCK_SECRET=$TMP/secret.$port.$RANDOM
	head -c 64K /dev/urandom >"$BLOCK_SECRET"
	rm -f "$TMP/blk.recv" "$TMP/blk.status"
	bg_start "$dstns" "$TMP/blk.srv.log" $APP serve --port "$port" --out "$TMP/blk.recv" \
		--status "$TMP/blk.status" --timeout 3
	srv=$BG_PID
	wait_listen "$dstns" "$port"
	if ip netns exec "$srcns" timeout 5 socat -u "FILE:$BLOCK_SECRET" \
		"$(tcp_to "$dstip" "$port"),connect-timeout=2" >"$TMP/blk.cli.log" 2>&1; then
		fail "$what: A connected to $dstip:$port and sent"
	fi
	bg_wait "$srv" 10 || true
	[ ! -s "$TMP/blk.recv" ] || fail "$what: $dstip's application received $(stat -c %s "$TMP/blk.recv") bytes"
	[ "$(cat "$TMP/blk.status" 2>/dev/null)" = "timeout 0" ] ||
		fail "$what: $dstip's server: $(cat "$TMP/blk.status" 2>/dev/null)"
	BLOCK_MSG=$(tail -n1 "$TMP/blk.cli.log" | sed 's/^.*E //')
}

ARGS_AB=(peer "$IP_B" key-file "$TMP/K1" encrypt-port 5001 nodetach debug)
ARGS_AC=(peer "$IP_C" key-file "$TMP/K2" encrypt-port 5002 nodetach debug)

# ---- 2. two links in A with defaults only ----
log "A: two zcctund with defaults only, to B (5001, K1) and to C (5002, K2)"
start_zcc "$NS_A" AB "${ARGS_AB[@]}"
foreign_intact "after the first link's start"
start_zcc "$NS_A" AC "${ARGS_AC[@]}"
start_zcc "$NS_B" B peer "$IP_A" key-file "$TMP/K1" encrypt-port 5001 nodetach debug
start_zcc "$NS_C" C peer "$IP_A" key-file "$TMP/K2" encrypt-port 5002 nodetach debug
for n in AB AC B C; do wait_up "$n" 15; done
IF_AB=$(ifname_of AB)
IF_AC=$(ifname_of AC)
ifs=$(ip netns exec "$NS_A" ls /sys/class/net | grep '^zcc' | sort | tr '\n' ' ')
[ "$ifs" = "zcc0 zcc1 " ] || fail "A's zcc interfaces: '$ifs', expected zcc0 zcc1"
[ "$(printf '%s\n' "$IF_AB" "$IF_AC" | sort | tr '\n' ' ')" = "zcc0 zcc1 " ] ||
	fail "the daemons announced '$IF_AB' (to B) and '$IF_AC' (to C), expected zcc0 and zcc1"
check "both links up; A has $ifs: $IF_AB to B, $IF_AC to C"

for pair in "$IF_AB $IP_B" "$IF_AC $IP_C"; do
	set -- $pair
	[ "$(ctl_json "$1" ifname)" = "$1" ] || fail "zccctl show $1 --json: ifname $(ctl_json "$1" ifname)"
	[ "$(ctl_json "$1" peer)" = "$2" ] || fail "zccctl show $1 --json: peer $(ctl_json "$1" peer), expected $2"
	[ "$(ctl_json "$1" udp_port)" = 7437 ] || fail "zccctl show $1 --json: udp_port $(ctl_json "$1" udp_port)"
	ip netns exec "$NS_A" "$ZCCCTL" show "$1" >"$TMP/ctl.$1.txt" 2>&1 ||
		fail "zccctl show $1 failed: $(cat "$TMP/ctl.$1.txt")"
done
udp=$(ip netns exec "$NS_A" ss -Huan 'sport = :7437' | grep -c . || true)
check "zccctl show NAME --json: $IF_AB peer $IP_B, $IF_AC peer $IP_C, both udp_port 7437 ($udp UDP socket(s) on 7437 in A)"

# Each link's own table, preferences and mark.
link_rules "$IP_B" >"$TMP/rules.AB"
link_rules "$IP_C" >"$TMP/rules.AC"
[ -s "$TMP/rules.AB" ] || fail "no ip rule selects flows to $IP_B"
[ -s "$TMP/rules.AC" ] || fail "no ip rule selects flows to $IP_C"
grep -c 'port 5001 ' "$TMP/rules.AB" >/dev/null || fail "A-B's rules do not select 5001: $(cat "$TMP/rules.AB")"
grep -c 'port 5002 ' "$TMP/rules.AC" >/dev/null || fail "A-C's rules do not select 5002: $(cat "$TMP/rules.AC")"
tab_ab=$(grep -o 'lookup [0-9a-z]*' "$TMP/rules.AB" | awk '{ print $2 }' | sort -u | tr '\n' ' ')
tab_ac=$(grep -o 'lookup [0-9a-z]*' "$TMP/rules.AC" | awk '{ print $2 }' | sort -u | tr '\n' ' ')
pref_ab=$(cut -d: -f1 "$TMP/rules.AB" | sort -u | tr '\n' ' ')
pref_ac=$(cut -d: -f1 "$TMP/rules.AC" | sort -u | tr '\n' ' ')
[ "$tab_ab" != "$tab_ac" ] || fail "both links steer into table $tab_ab"
for p in $pref_ab; do
	case " $pref_ac" in *" $p "*) fail "both links use rule preference $p" ;; esac
done
for t in $tab_ab $tab_ac; do
	case $t in 31330 | 31333) fail "a link steers into the foreign table $t" ;; esac
done
marks=$(zcc_marks)
[ "$(echo "$marks" | wc -w)" = 2 ] || fail "expected 2 zcc fwmarks in A's rules, found: '$marks'"
for f in AB AC; do
	i=IF_$f
	[ -s "$(state_file "${!i}")" ] || fail "no state file $(state_file "${!i}")"
	has_nft_table "${!i}" || fail "no nft table inet zcc_${!i}"
done
st_ab="table=$(state_val "$IF_AB" table) priority=$(state_val "$IF_AB" priority) fwmark=$(state_val "$IF_AB" fwmark)"
st_ac="table=$(state_val "$IF_AC" table) priority=$(state_val "$IF_AC" priority) fwmark=$(state_val "$IF_AC" fwmark)"
log "state $IF_AB: $st_ab; state $IF_AC: $st_ac"
for k in table priority fwmark; do
	a=$(state_val "$IF_AB" $k) c=$(state_val "$IF_AC" $k)
	[ "$a" = "?" ] || [ "$a" != "$c" ] || fail "both state files record $k=$a"
done
for port in 5001 5002; do
	[ "$(ingress_filters $port)" = 1 ] || fail "$(ingress_filters $port) ingress bpf filters for port $port on A's eth0, expected 1"
done
check "A-B: prefs ${pref_ab}table(s) ${tab_ab}| A-C: prefs ${pref_ac}table(s) ${tab_ac}| fwmarks ${marks}| two state files, nft tables zcc_$IF_AB and zcc_$IF_AC"
foreign_intact "after both links' start"

# A start that fails (the interface name of a running link) touches nothing.
snapshot "$NS_A" "$TMP/A.two"
bg_start "$NS_A" "$TMP/AX.log" "$ZCCTUND" confdir "$TMP/conf" peer "$IP_B" \
	key-file "$TMP/K1" encrypt-port 5003 ifname "$IF_AC" nodetach debug
bg_wait "$BG_PID" 10 && rc=0 || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] ||
	fail "a third zcctund with ifname $IF_AC (running) in A: status $rc: $(tail -n3 "$TMP/AX.log")"
snapshot "$NS_A" "$TMP/A.two2"
same_snapshot "$TMP/A.two" "$TMP/A.two2" "A after a failed start"
check "a third start with ifname $IF_AC failed (status $rc: $(tail -n1 "$TMP/AX.log" | cut -c1-90)) and changed nothing in A"

# ---- 3. transfers both ways on both links, sealed on the wire ----
for f in ab ac ba ca; do head -c 1M /dev/urandom >"$TMP/$f.in"; done
capture_start "$NS_A" eth0 wire3 tcp port 5001 or tcp port 5002
transfer "$NS_A" "$NS_B" "$IP_B" 5001 "$TMP/ab.in" "$TMP/ab.out"
transfer "$NS_A" "$NS_C" "$IP_C" 5002 "$TMP/ac.in" "$TMP/ac.out"
transfer "$NS_B" "$NS_A" "$IP_A" 5001 "$TMP/ba.in" "$TMP/ba.out"
transfer "$NS_C" "$NS_A" "$IP_A" 5002 "$TMP/ca.in" "$TMP/ca.out"
capture_stop wire3
capture_complete wire3
check "1 MB each A->B:5001, A->C:5002, B->A:5001, C->A:5002 byte-exact"
check_wire_sealed "$TMP/wire3.pcap" 5001 "$TMP/ab.in" "$TMP/ba.in"
check_wire_sealed "$TMP/wire3.pcap" 5002 "$TMP/ac.in" "$TMP/ca.in"

# ---- 4. kill -9 A-B while A-C carries a long transfer; restart A-B ----
head -c 12M /dev/urandom >"$TMP/long.ac"
head -c 1M /dev/urandom >"$TMP/ab2.in"
capture_start "$NS_A" eth0 wire4 tcp port 5001 or tcp port 5002
log "12 MB A -> C:5002 over 8 s; meanwhile A-B's daemon is SIGKILLed and restarted"
t_long=$(now)
paced_start "$NS_A" "$NS_C" "$IP_C" 5002 "$TMP/long.ac" 8
sleep 1
kill_zcc AB
t_kill=$(now)
has_nft_table "$IF_AB" || fail "A-B's nft table inet zcc_$IF_AB is gone after SIGKILL"
[ -s "$(state_file "$IF_AB")" ] || fail "A-B's state file is gone after SIGKILL"
link_rules "$IP_B" | diff -u "$TMP/rules.AB" - >&2 || fail "A-B's ip rules changed after SIGKILL"
foreign_intact "after A-B's SIGKILL"
blocked "$NS_A" "$NS_B" "$IP_B" 5001 "A-B's daemon SIGKILLed"
secret_kill=$BLOCK_SECRET
check "A-B SIGKILLed: nft table, rules and state file stay; A->B:5001 fails ($BLOCK_MSG), B's app got 0 bytes"
kill -0 "${ZCC_PID[AC]}" 2>/dev/null || fail "A-C's daemon died with A-B's"
other_intact "$IF_AC" "$IP_C" "$TMP/rules.AC" "A-B's SIGKILL" 5002
kill -0 "$PACED_CLI" 2>/dev/null && during=running || during=finished
t_restart=$(now)
start_zcc "$NS_A" AB2 "${ARGS_AB[@]}"
wait_up AB2 15
up_after=$(since "$t_restart")
[ "$(ifname_of AB2)" = "$IF_AB" ] || fail "A-B restarted as '$(ifname_of AB2)', expected its predecessor's $IF_AB"
link_rules "$IP_B" >"$TMP/rules.AB2"
[ "$(grep -c . "$TMP/rules.AB2")" = "$(grep -c . "$TMP/rules.AB")" ] ||
	fail "A-B's rules after the restart ($(grep -c . "$TMP/rules.AB2")) differ in number from before ($(grep -c . "$TMP/rules.AB")): $(cat "$TMP/rules.AB2")"
pid=$(state_val "$IF_AB" pid)
[ "$pid" = "?" ] || [ "$pid" = "${ZCC_PID[AB2]}" ] ||
	fail "A-B's state file names pid $pid after the restart, not the new daemon's ${ZCC_PID[AB2]}"
other_intact "$IF_AC" "$IP_C" "$TMP/rules.AC" "A-B's restart" 5002
other_intact "$IF_AB" "$IP_B" "$TMP/rules.AB2" "A-B's restart" 5001
[ "$(ip netns exec "$NS_A" ls /sys/class/net | grep -c '^zcc')" = 2 ] ||
	fail "A has $(ip netns exec "$NS_A" ls /sys/class/net | grep '^zcc' | tr '\n' ' ')after the restart"
check "A-B restarted with the same command line: $IF_AB again (state file pid $pid), up $up_after s after the restart, $(grep -c . "$TMP/rules.AB2") rules as before, one ingress filter per link, A-C's pieces intact; the A-C transfer was $during then"
foreign_intact "after A-B's restart"
transfer "$NS_A" "$NS_B" "$IP_B" 5001 "$TMP/ab2.in" "$TMP/ab2.out"
kill -0 "$PACED_CLI" 2>/dev/null && during=during || during=after
check "1 MB A->B:5001 byte-exact after the restart ($during the long A-C transfer)"
paced_wait "$TMP/long.ac" "A-C across A-B's kill and restart"
check "12 MB A->C:5002 byte-exact in $(since "$t_long") s across A-B's SIGKILL (at +$(awk -v a="$t_long" -v b="$t_kill" 'BEGIN { printf "%.1f", b - a }') s) and restart"
drops=$(nonzero_drops AC)
log "A-C's nonzero drop counters after that: ${drops:-none}"
capture_stop wire4
capture_complete wire4
check_wire_sealed "$TMP/wire4.pcap" 5001 "$secret_kill" "$TMP/ab2.in"
check_wire_sealed "$TMP/wire4.pcap" 5002 "$TMP/long.ac"
for f in ab3 ac3; do head -c 1M /dev/urandom >"$TMP/$f.in"; done
transfer "$NS_A" "$NS_B" "$IP_B" 5001 "$TMP/ab3.in" "$TMP/ab3.out"
transfer "$NS_A" "$NS_C" "$IP_C" 5002 "$TMP/ac3.in" "$TMP/ac3.out"
check "after the restart: 1 MB on each link byte-exact"

# ---- 5. SIGTERM A-C and clean it up while A-B carries a long transfer ----
head -c 8M /dev/urandom >"$TMP/long.ab"
capture_start "$NS_A" eth0 wire5 tcp port 5001 or tcp port 5002
log "8 MB A -> B:5001 over 7 s; meanwhile A-C's daemon gets SIGTERM and zcctund cleanup ifname $IF_AC"
t_long=$(now)
paced_start "$NS_A" "$NS_B" "$IP_B" 5001 "$TMP/long.ab" 7
sleep 1
stop_zcc AC
has_nft_table "$IF_AC" || fail "A-C's nft table inet zcc_$IF_AC is gone after SIGTERM, before any cleanup"
[ -s "$(state_file "$IF_AC")" ] || fail "A-C's state file is gone after SIGTERM, before any cleanup"
link_rules "$IP_C" | diff -u "$TMP/rules.AC" - >&2 || fail "A-C's ip rules changed after SIGTERM"
other_intact "$IF_AB" "$IP_B" "$TMP/rules.AB2" "A-C's SIGTERM" 5001
blocked "$NS_A" "$NS_C" "$IP_C" 5002 "A-C's daemon stopped"
secret_term=$BLOCK_SECRET
check "A-C stopped (SIGTERM, status 0): its nft table, rules and state file stay; A->C:5002 fails ($BLOCK_MSG)"
foreign_intact "after A-C's SIGTERM"
ip netns exec "$NS_A" "$ZCCTUND" cleanup ifname "$IF_AC" >"$TMP/cleanup.AC.log" 2>&1 && rc=0 || rc=$?
sed 's/^/    /' "$TMP/cleanup.AC.log"
[ "$rc" = 0 ] || fail "zcctund cleanup ifname $IF_AC exited $rc"
! has_nft_table "$IF_AC" || fail "nft table inet zcc_$IF_AC still there after its cleanup"
[ ! -e "$(state_file "$IF_AC")" ] || fail "A-C's state file still there after its cleanup"
[ -z "$(link_rules "$IP_C")" ] || fail "A-C's rules still there after its cleanup: $(link_rules "$IP_C")"
other_intact "$IF_AB" "$IP_B" "$TMP/rules.AB2" "cleanup ifname $IF_AC" 5001
[ "$(ingress_filters 5002)" = 0 ] || fail "A-C's ingress filter still on eth0 after its cleanup"
ip netns exec "$NS_A" tc qdisc show dev eth0 | grep -c clsact >/dev/null ||
	fail "cleanup ifname $IF_AC removed eth0's clsact qdisc while A-B uses it"
[ "$(zcc_marks | wc -w)" = 1 ] || fail "fwmarks left in A's rules after A-C's cleanup: '$(zcc_marks)'"
foreign_intact "after zcctund cleanup ifname $IF_AC"
check "cleanup ifname $IF_AC: its nft table, rules, mark and state file gone; A-B's table, $(grep -c . "$TMP/rules.AB2") rules, state file and clsact intact, A-B's ingress filter still on eth0"
paced_wait "$TMP/long.ab" "A-B across A-C's stop and cleanup"
check "8 MB A->B:5001 byte-exact in $(since "$t_long") s across A-C's SIGTERM and cleanup"
head -c 1M /dev/urandom >"$TMP/ba5.in"
transfer "$NS_B" "$NS_A" "$IP_A" 5001 "$TMP/ba5.in" "$TMP/ba5.out"
check "1 MB B->A:5001 byte-exact after A-C's cleanup (A-B's incoming steering intact)"
capture_stop wire5
capture_complete wire5
check_wire_sealed "$TMP/wire5.pcap" 5001 "$TMP/long.ab" "$TMP/ba5.in"
$PCAP grep "$TMP/wire5.pcap" --port 5002 --needle-file "$secret_term" ||
	fail "A-C's blocked data on the wire in plaintext"
n=$($PCAP count "$TMP/wire5.pcap" --port 5002 --src "$IP_A")
if [ "$n" -gt 0 ]; then
	$PCAP check-sealed "$TMP/wire5.pcap" --port 5002 --src "$IP_A" ||
		fail "A sent unsealed segments of port 5002 after A-C's SIGTERM"
fi
check "after A-C's SIGTERM: $n port-5002 segments from A on the wire, none unsealed, no plaintext"

# ---- 5b. a floating link needs a UDP port of its own ----
log "A-C again with float: on A-B's port 7437 it cannot start; on 7438 (both ends) it runs beside A-B"
ip netns exec "$NS_A" "$ZCCTUND" confdir "$TMP/conf" "${ARGS_AC[@]}" float \
	>"$TMP/float.fail.log" 2>&1 && rc=0 || rc=$?
[ "$rc" = 1 ] || fail "a floating A-C on port 7437 exited $rc: $(cat "$TMP/float.fail.log")"
grep -q 'a link with float needs a port of its own' "$TMP/float.fail.log" ||
	fail "a floating A-C on port 7437 did not say why it failed: $(cat "$TMP/float.fail.log")"
echo "    $(grep 'needs a port of its own' "$TMP/float.fail.log" | sed 's/^[^:]*: //')"
ip netns exec "$NS_A" "$ZCCTUND" cleanup ifname "$IF_AC" >/dev/null
stop_zcc C
ip netns exec "$NS_C" "$ZCCTUND" cleanup >/dev/null
start_zcc "$NS_A" AC2 "${ARGS_AC[@]}" float port 7438
start_zcc "$NS_C" C2 peer "$IP_A" key-file "$TMP/K2" encrypt-port 5002 port 7438 nodetach debug
wait_up AC2 15
wait_up C2 15
head -c 1M /dev/urandom >"$TMP/ac6.in"
transfer "$NS_A" "$NS_C" "$IP_C" 5002 "$TMP/ac6.in" "$TMP/ac6.out"
transfer "$NS_A" "$NS_B" "$IP_B" 5001 "$TMP/ab3.in" "$TMP/ab6.out"
ip netns exec "$NS_A" "$ZCCCTL" show "$(ifname_of AC2)" --json >"$TMP/AC2.json"
[ "$(jv "$TMP/AC2.json" float)" = True ] && [ "$(jv "$TMP/AC2.json" endpoint.port)" = 7438 ] ||
	fail "the floating A-C's zccctl show: float $(jv "$TMP/AC2.json" float), endpoint $(jv "$TMP/AC2.json" endpoint)"
stop_zcc AC2
ip netns exec "$NS_A" "$ZCCTUND" cleanup ifname "$(ifname_of AC2)" >/dev/null
check "float on 7437 next to A-B: exit 1 with the reason; on 7438 at both ends: up, 1 MB A->C and 1 MB A->B byte-exact"

# ---- 6. stop A-B, clean up: A as before, foreign pieces intact ----
stop_zcc AB2
has_nft_table "$IF_AB" || fail "A-B's nft table is gone after SIGTERM, before any cleanup"
foreign_intact "after A-B's SIGTERM"
ip netns exec "$NS_A" "$ZCCTUND" cleanup >"$TMP/cleanup.all.log" 2>&1 && rc=0 || rc=$?
sed 's/^/    /' "$TMP/cleanup.all.log"
[ "$rc" = 0 ] || fail "zcctund cleanup exited $rc"
foreign_intact "after the final zcctund cleanup"
check "the foreign rules and routes were intact at all $FOREIGN_CHECKS checks"
snapshot "$NS_A" "$TMP/A.after"
same_snapshot "$TMP/A.before" "$TMP/A.after" "A after both links' stop and cleanup"
check "A's snapshot after the final cleanup equals the one from before ($(grep -c . "$TMP/A.before") lines)"
stop_zcc B
stop_zcc C2
log "took $(since "$T_START") s"
pass
