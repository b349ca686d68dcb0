#!/bin/bash
# SPDX-License-Identifier: ISC
# The link, end to end, with both daemons started by "call NAME" from a
# private configuration directory:
#  - the link comes up and ip-up (the default CONFDIR/ip-up, running
#    ip-up.d/) runs once at each end, with pppd's arguments and environment;
#  - a paced transfer across at least three rekeys (rekey-interval 2) is
#    byte-exact, nothing is dropped, and the wire shows the key ids change;
#  - zccctl show --json reports exactly the bytes of a known exchange;
#  - SIGHUP adds and removes a selected port while a flow on a kept port
#    goes on undisturbed;
#  - SIGTERM runs ip-down once at each end.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

APP="$PY $NETDIR/tcpapp.py"
CONF=$TMP/conf

setup_topology
genkey "$TMP/key"

# The installed scripts, and a recorder in ip-up.d and ip-down.d.
mkdir -p "$CONF/peers" "$CONF/ip-up.d" "$CONF/ip-down.d"
install -m 755 "$SRCDIR/etc/zcc/ip-up" "$SRCDIR/etc/zcc/ip-down" "$CONF/"
for d in up down; do
	cat >"$CONF/ip-$d.d/record" <<EOF
#!/bin/sh
out=$TMP/ip-$d.\$LINKNAME
{ echo "args: \$*"; env | LC_ALL=C sort; echo --; } >>"\$out"
EOF
	chmod 755 "$CONF/ip-$d.d/record"
done

# peers_file NAME PEER PORTS...: a libconfig peers file for call NAME.
peers_file() {
	local name=$1 peer=$2 ports
	shift 2
	ports=$(echo "$@" | tr ' ' ',')
	cat >"$CONF/peers/$name.tmp" <<EOF
peer = "$peer";
key-file = "$TMP/key";
encrypt-port = [ $ports ];
rekey-interval = 2;
keepalive-interval = 1;
ipparam = "site $name";
linkname = "lk$name$$";
EOF
	mv "$CONF/peers/$name.tmp" "$CONF/peers/$name"
}
peers_file toB "$IP_B" 5001
peers_file toA "$IP_A" 5001

start_zcc "$NS_A" A call toB nodetach debug
start_zcc "$NS_B" B call toA nodetach debug
wait_up A
wait_up B

# ---- ip-up ----
wait_file() {
	local i
	for i in $(seq 50); do [ -s "$1" ] && return 0; sleep 0.1; done
	fail "$1 was not written"
}
check_script_run() {   # check_script_run FILE ARGS PEERNAME LINKNAME LOCAL PEER
	local f=$1 args=$2 peername=$3 linkname=$4 local=$5 remote=$6 want
	wait_file "$f"
	[ "$(grep -c '^args: ' "$f")" = 1 ] || fail "$f: ran $(grep -c '^args: ' "$f") times"
	grep -qxF "args: $args" "$f" || fail "$f: $(grep '^args' "$f"), expected: $args"
	want=$(printf '%s\n' "DEVICE=eth0" "IFNAME=zcc0" "IPLOCAL=$local" \
		"IPPARAM=site $peername" "IPREMOTE=$remote" "LINKNAME=$linkname" \
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
		"PEERNAME=$peername" "SPEED=0")
	# run-parts and sh add PWD (and sh SHLVL); everything else is zcctund's.
	got=$(sed -n '/^args/,/^--$/p' "$f" | grep -v '^args\|^--$\|^PWD=\|^SHLVL=\|^_=')
	[ "$got" = "$want" ] || fail "$f environment:
$got
expected:
$want"
}
check_script_run "$TMP/ip-up.lktoB$$" "zcc0 eth0 0 $IP_A $IP_B site toB" toB "lktoB$$" "$IP_A" "$IP_B"
check_script_run "$TMP/ip-up.lktoA$$" "zcc0 eth0 0 $IP_B $IP_A site toA" toA "lktoA$$" "$IP_B" "$IP_A"
check "ip-up ran once at each end with pppd's arguments and exactly the environment"
[ -s "/run/zcc-lktoB$$.pid" ] && [ "$(head -n1 "/run/zcc-lktoB$$.pid")" = "${ZCC_PID[A]}" ] ||
	fail "/run/zcc-lktoB$$.pid does not hold A's pid"
check "linkname: /run/zcc-lktoB$$.pid holds A's pid"

# ---- a paced transfer across rekeys ----
# paced_send NS HOST PORT FILE SECONDS: send FILE evenly over SECONDS.
paced_send() {
	ip netns exec "$1" timeout 60 $PY - "$2" "$3" "$4" "$5" <<'EOF'
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
}
json() {   # json NAME: zccctl show zcc0 --json in NAME's namespace
	ip netns exec "${ZCC_NS[$1]}" "$ZCCCTL" show zcc0 --json
}
jget() {   # jget NAME EXPR: a value from NAME's status, EXPR in Python over s
	json "$1" | $PY -c "import json,sys; s=json.load(sys.stdin); print($2)"
}

head -c 24M /dev/urandom >"$TMP/rekey.in"
rekeys0=$(jget A 's["link"]["rekeys"] + 0')
capture_start "$NS_B" eth0 wire -s 128 tcp port 5001
bg_start "$NS_B" "$TMP/srv.log" socat -u "$(tcp_listen 5001)" "CREATE:$TMP/rekey.out"
srv=$BG_PID
wait_listen "$NS_B" 5001
log "24 MB A -> B:5001 over 8 s with rekey-interval 2"
paced_send "$NS_A" "$IP_B" 5001 "$TMP/rekey.in" 8 || fail "paced sender failed"
bg_wait "$srv" 30 || fail "receiver did not finish"
capture_stop wire
[ "$(sha "$TMP/rekey.in")" = "$(sha "$TMP/rekey.out")" ] ||
	fail "received data differs ($(stat -c %s "$TMP/rekey.out") bytes)"
rekeys=$(( $(jget A 's["link"]["rekeys"]') - rekeys0 ))
ids=$($PY - "$TMP/wire.pcap" <<'EOF'
import sys
from scapy.all import rdpcap, TCP
ids = []
for p in rdpcap(sys.argv[1]):
    if TCP in p and p[TCP].sport == 5001 or TCP in p and p[TCP].dport == 5001:
        opts = bytes(p[TCP])[20:p[TCP].dataofs * 4]
        if len(opts) >= 16 and opts[-16] == 253 and opts[-14:-12] == b"\x7a\x63":
            if not ids or ids[-1] != opts[-12]:
                ids.append(opts[-12])
print(len(set(ids)), " ".join(map(str, ids)))
EOF
)
log "rekeys during the transfer: $rekeys; key ids on the wire in order: ${ids#* }"
[ "$rekeys" -ge 3 ] || fail "only $rekeys rekeys during the transfer"
[ "${ids%% *}" -ge 4 ] || fail "only ${ids%% *} key ids on the wire"
for n in A B; do
	d=$(nonzero_drops $n)
	[ -z "$d" ] || fail "$n dropped segments across rekeys: $d"
done
check "byte-exact across $rekeys rekeys, ${ids%% *} key ids on the wire, nothing dropped"

# ---- zccctl: the counters of a known exchange ----
log "exactly 100000 bytes A -> B:5001 and 0 back; then zccctl show --json"
head -c 100000 /dev/urandom >"$TMP/known.in"
bg_start "$NS_B" "$TMP/srv2.log" socat -u "$(tcp_listen 5001)" "CREATE:$TMP/known.out"
srv=$BG_PID
wait_listen "$NS_B" 5001
ip netns exec "$NS_A" socat -u "FILE:$TMP/known.in" "$(tcp_to "$IP_B" 5001),sourceport=40123" ||
	fail "sender failed"
bg_wait "$srv" 10 || fail "receiver did not finish"
cmp -s "$TMP/known.in" "$TMP/known.out" || fail "known exchange differs"
json A >"$TMP/A.json"
json B >"$TMP/B.json"
$PY - "$TMP/A.json" "$TMP/B.json" "$IP_B" <<'EOF' || fail "zccctl counters do not match the exchange"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
fa = [f for f in a["flows"] if f["lport"] == 40123 and f["rport"] == 5001]
fb = [f for f in b["flows"] if f["lport"] == 5001 and f["rport"] == 40123]
assert len(fa) == 1 and len(fb) == 1, (fa, fb)
fa, fb = fa[0], fb[0]
print("A flow:", fa, "\nB flow:", fb)
assert fa["bytes_sealed"] == 100000 and fa["bytes_opened"] == 0, fa
assert fb["bytes_opened"] == 100000 and fb["bytes_sealed"] == 0, fb
assert fa["sealed"] == fb["opened"] and fb["sealed"] == fa["opened"], (fa, fb)
assert a["state"] == b["state"] == "up"
assert a["key_id"] == b["key_id"] != 0
assert a["bytes_sealed"] == b["bytes_opened"], (a["bytes_sealed"], b["bytes_opened"])
assert sum(a["dropped"].values()) == 0 and sum(b["dropped"].values()) == 0
assert a["link"]["handshakes"] >= 4 and a["handshake_age"] <= 3
assert a["ports"] == [5001] and a["peer"] == sys.argv[3] and a["linkname"].startswith("lktoB")
EOF
check "zccctl: flow 40123 -> 5001 sealed 100000 bytes at A and opened 100000 at B; totals agree"

# ---- SIGHUP: ports change, a kept flow goes on ----
head -c 16M /dev/urandom >"$TMP/hup.in"
bg_start "$NS_B" "$TMP/srv3.log" socat -u "$(tcp_listen 5001)" "CREATE:$TMP/hup.out"
srv=$BG_PID
wait_listen "$NS_B" 5001
log "16 MB A -> B:5001 over 6 s; meanwhile port 5003 is added by SIGHUP"
paced_send "$NS_A" "$IP_B" 5001 "$TMP/hup.in" 6 &
sender=$!
OUR_PIDS+=("$sender")
sleep 1
peers_file toB "$IP_B" 5001 5003
peers_file toA "$IP_A" 5001 5003
kill -HUP "${ZCC_PID[A]}" "${ZCC_PID[B]}"
for i in $(seq 50); do
	grep -q 'SIGHUP: options re-read; 2 ports' "$TMP/A.log" &&
		grep -q 'SIGHUP: options re-read; 2 ports' "$TMP/B.log" && break
	sleep 0.1
done
grep -q 'SIGHUP: options re-read; 2 ports' "$TMP/A.log" || fail "A did not re-read its options"
ip netns exec "$NS_A" ip -"$FAMILY" rule | grep -c 'dport 5003' >/dev/null || fail "A has no rule for 5003"
# A new flow on 5003 is sealed now.
bg_start "$NS_B" "$TMP/srv4.log" $APP serve --port 5003 --out "$TMP/p5003" \
	--status "$TMP/st5003" --timeout 10
s4=$BG_PID
wait_listen "$NS_B" 5003
capture_start "$NS_B" eth0 w5003 tcp port 5003
ip netns exec "$NS_A" $APP client --host "$IP_B" --port 5003 --timeout 5 \
	send:now-selected-by-sighup >/dev/null || fail "port 5003 after SIGHUP"
bg_wait "$s4" 10 || true
[ "$(cat "$TMP/p5003")" = now-selected-by-sighup ] || fail "5003 received: $(cat "$TMP/p5003")"
wait "$sender" || fail "the 5001 sender failed across SIGHUP"
bg_wait "$srv" 30 || fail "the 5001 receiver did not finish"
# Stopped once the 5001 flow is done: under its load tcpdump may not have
# read its ring yet.
capture_stop w5003
capture_complete w5003
$PCAP check-sealed "$TMP/w5003.pcap" --port 5003 || fail "port 5003 not sealed after SIGHUP"
check "SIGHUP added 5003: rules in place, its flows sealed"
[ "$(sha "$TMP/hup.in")" = "$(sha "$TMP/hup.out")" ] || fail "the kept 5001 flow broke across SIGHUP"
# Both ends reload at once, but one end's engine may take the other's new
# handshake before its own new list: then both block selected flows
# (ports_differ, OPERATIONS.md) until its reload lands, and TCP retransmits.
# That pause is allowed; any other drop, or a block that stays, is not.
for n in A B; do
	d=$(nonzero_drops $n | tr ' ' '\n' | grep -v '^ports_differ=' | tr '\n' ' ' || true)
	[ -z "${d// /}" ] || fail "$n dropped segments across SIGHUP: $d"
	if grep -q 'selects other ports than we do' "$TMP/$n.log"; then
		grep -q 'selects the same ports as we do again' "$TMP/$n.log" ||
			fail "$n still blocks selected flows after both reloads"
		log "$n paused selected flows while the other end's reload landed"
	fi
done
check "the 5001 flow carried on byte-exact across SIGHUP, nothing but ports_differ dropped"

peers_file toB "$IP_B" 5001
peers_file toA "$IP_A" 5001
kill -HUP "${ZCC_PID[A]}" "${ZCC_PID[B]}"
for n in A B; do
	wait_log $n 'SIGHUP: options re-read; 1 ports' 1 5 || true
done
ip netns exec "$NS_A" ip -"$FAMILY" rule | grep -c 'dport 5003' >/dev/null && fail "A still has a rule for 5003"
ip netns exec "$NS_B" tc filter show dev eth0 ingress | grep -c 'direct-action' >/dev/null ||
	fail "B lost its ingress filter"
bg_start "$NS_B" "$TMP/srv5.log" $APP serve --port 5003 --out "$TMP/p5003b" \
	--status "$TMP/st5003b" --timeout 10
s5=$BG_PID
wait_listen "$NS_B" 5003
ip netns exec "$NS_A" $APP client --host "$IP_B" --port 5003 --timeout 5 \
	send:plain-again >/dev/null || fail "port 5003 after removal"
bg_wait "$s5" 10 || true
[ "$(cat "$TMP/p5003b")" = plain-again ] || fail "5003 after removal received: $(cat "$TMP/p5003b")"
check "SIGHUP removed 5003: plain again, and 5001 still steered"

# ---- SIGHUP with a broken file: an error naming file:line, nothing changes ----
printf 'peer = "%s";\nencrypt-port = [ 5001, 70000 ];\n' "$IP_B" >"$CONF/peers/toB"
kill -HUP "${ZCC_PID[A]}"
for i in $(seq 50); do
	grep -q 'SIGHUP: .*peers/toB:2: encrypt-port.*keeping the options in use' "$TMP/A.log" && break
	sleep 0.1
done
grep -q 'SIGHUP: .*peers/toB:2: encrypt-port.*keeping the options in use' "$TMP/A.log" ||
	fail "A did not report the broken peers file: $(grep SIGHUP "$TMP/A.log" | tail -n1)"
ip netns exec "$NS_A" ip -"$FAMILY" rule | grep -c 'dport 5001' >/dev/null || fail "A lost its 5001 rule"
[ "$(jget A 's["ports"]')" = "[5001]" ] || fail "A's ports changed: $(jget A 's["ports"]')"
check "SIGHUP with a bad peers file: error with file:line, ports unchanged"

# ---- SIGTERM: ip-down once at each end ----
stop_zcc A
stop_zcc B
for f in "$TMP/ip-down.lktoB$$" "$TMP/ip-down.lktoA$$"; do
	wait_file "$f"
	[ "$(grep -c '^args: ' "$f")" = 1 ] || fail "$f: ran $(grep -c '^args: ' "$f") times"
done
grep -qxF "args: zcc0 eth0 0 $IP_A $IP_B site toB" "$TMP/ip-down.lktoB$$" || fail "A's ip-down args"
[ ! -e "/run/zcc-lktoB$$.pid" ] || fail "A's pid file left behind"
check "SIGTERM ran ip-down once at each end; pid file removed"

# zccctl with no daemon: a clear error, exit 1.
ip netns exec "$NS_A" "$ZCCCTL" show zcc0 >"$TMP/ctl.out" 2>&1 && rc=0 || rc=$?
[ "$rc" = 1 ] || fail "zccctl show with no daemon: status $rc"
grep -q 'no zcctund is running for zcc0' "$TMP/ctl.out" || fail "zccctl said: $(cat "$TMP/ctl.out")"
ip netns exec "$NS_A" "$ZCCCTL" show >"$TMP/ctl.out" 2>&1 && rc=0 || rc=$?
[ "$rc" = 1 ] && grep -q 'no zcctund is running' "$TMP/ctl.out" ||
	fail "zccctl show (all) with no daemon: status $rc: $(cat "$TMP/ctl.out")"
check "zccctl without a daemon: exit 1, \"$(head -n1 "$TMP/ctl.out")\""
pass
