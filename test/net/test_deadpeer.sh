#!/bin/bash
# SPDX-License-Identifier: ISC
# A dead peer is noticed by the echo keepalives: B's zcctund is SIGKILLed
# and A (persist, keepalive-interval 1, keepalive-failure 3) says "link
# down" within (3 + 1) * 1 s plus slack, runs ip-down once with pppd's
# arguments, keeps running and keeps trying (a failed attempt runs no
# ip-down). After "zcctund cleanup" in B and a restart of B, A comes up
# again by itself (ip-up a second time, link_ups 2, link_downs 1) and a new
# connection on the selected port carries data byte-exact both ways,
# sealed. A clean stop of B is noticed the same way. Without persist, A
# exits by itself (status 1, "exiting") when B dies, runs ip-down once,
# and leaves the block (its last line says how to lift it); once "zcctund
# cleanup" lifts it, A's namespace is exactly as it was found.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

APP="$PY $NETDIR/tcpapp.py"
KA=1 KF=3                           # keepalive-interval, keepalive-failure
WINDOW=$(( (KF + 1) * KA ))         # a dead peer is noticed within this
SLACK=2

setup_topology
genkey "$TMP/key"
snapshot "$NS_A" "$TMP/A.before"

# make_scripts DIR: DIR/ip-up and DIR/ip-down, each appending
# "TIME ARGC [arg1][arg2]..." to DIR/ip-up.log (ip-down.log).
make_scripts() {
	local d=$1 s
	mkdir -p "$d"
	for s in ip-up ip-down; do
		cat >"$d/$s" <<EOF
#!/bin/sh
printf '%s %s %s\n' "\$(date +%s.%N)" "\$#" "\$(printf '[%s]' "\$@")" >>"$d/$s.log"
EOF
		chmod 755 "$d/$s"
	done
}

# runs DIR SCRIPT: how many times SCRIPT (ip-up or ip-down) ran.
runs() {
	if [ -e "$1/$2.log" ]; then wc -l <"$1/$2.log"; else echo 0; fi
}

# wait_runs DIR SCRIPT N [SECONDS]: until SCRIPT has run N times.
wait_runs() {
	for _ in $(seq $(( ${4:-5} * 20 ))); do
		[ "$(runs "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.05
	done
	fail "$2 in $1 ran $(runs "$1" "$2") times after ${4:-5} s, expected $3"
}

# check_args DIR SCRIPT: every run got IFNAME DEVICE 0 IPLOCAL IPREMOTE IPPARAM.
check_args() {
	local want="6 [zcc0][eth0][0][$IP_A][$IP_B][deadpeer]" got
	got=$(cut -d' ' -f2- "$1/$2.log" | sort -u)
	[ "$got" = "$want" ] || fail "$2 got \"$got\", expected \"$want\""
}


now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
within() { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x <= y) }'; }

# duplex NS_SERVER NS_CLIENT IP PORT TAG: one new connection, each end
# sends its own 512 KB and reads the other's until EOF; both byte-exact.
cat >"$TMP/duplex.py" <<'EOF'
import os, socket, sys, threading
mode, host, port, infile, outfile = sys.argv[1:6]
data = open(infile, "rb").read()
v6 = os.environ.get("ZCC_TEST_FAMILY") == "6"
if mode == "serve":
    ls = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("::" if v6 else "0.0.0.0", int(port)))
    ls.listen(1)
    ls.settimeout(20)
    s, _ = ls.accept()
else:
    s = socket.create_connection((host, int(port)), timeout=10)
s.settimeout(20)
def tx():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=tx)
t.start()
got = bytearray()
while True:
    d = s.recv(65536)
    if not d:
        break
    got += d
t.join()
open(outfile, "wb").write(got)
print("%s: sent %d, received %d" % (mode, len(data), len(got)))
EOF
duplex() {
	local nss=$1 nsc=$2 ip=$3 port=$4 tag=$5 srv
	head -c 512K /dev/urandom >"$TMP/$tag.s.in"
	head -c 512K /dev/urandom >"$TMP/$tag.c.in"
	bg_start "$nss" "$TMP/$tag.srv.log" "$PY" "$TMP/duplex.py" serve - "$port" \
		"$TMP/$tag.s.in" "$TMP/$tag.s.out"
	srv=$BG_PID
	wait_listen "$nss" "$port"
	ip netns exec "$nsc" timeout 30 "$PY" "$TMP/duplex.py" client "$ip" "$port" \
		"$TMP/$tag.c.in" "$TMP/$tag.c.out" >"$TMP/$tag.cli.log" 2>&1 ||
		fail "duplex client failed: $(cat "$TMP/$tag.cli.log")"
	bg_wait "$srv" 30 || fail "duplex server failed: $(cat "$TMP/$tag.srv.log")"
	log "$(cat "$TMP/$tag.cli.log"); $(cat "$TMP/$tag.srv.log")"
	cmp -s "$TMP/$tag.c.in" "$TMP/$tag.s.out" ||
		fail "client -> server not byte-exact ($(stat -c %s "$TMP/$tag.s.out") bytes)"
	cmp -s "$TMP/$tag.s.in" "$TMP/$tag.c.out" ||
		fail "server -> client not byte-exact ($(stat -c %s "$TMP/$tag.c.out") bytes)"
}

S1=$TMP/scripts1
make_scripts "$S1"
COMMON=(key-file "$TMP/key" encrypt-port 5001 keepalive-interval "$KA"
	keepalive-failure "$KF" nodetach debug)
A_ARGS=(peer "$IP_B" "${COMMON[@]}" holdoff 1 ipparam deadpeer)
B_ARGS=(peer "$IP_A" "${COMMON[@]}")

log "A (persist, holdoff 1, scripts) and B (plain) come up"
start_zcc "$NS_A" A "${A_ARGS[@]}" persist \
	ip-up-script "$S1/ip-up" ip-down-script "$S1/ip-down"
start_zcc "$NS_B" B "${B_ARGS[@]}"
wait_up A
wait_up B
wait_runs "$S1" ip-up 1
check_args "$S1" ip-up
check "both up; A's ip-up ran: $(cut -d' ' -f2- "$S1/ip-up.log")"

bg_start "$NS_B" "$TMP/srv.log" $APP serve --port 5001 --out "$TMP/recv" \
	--status "$TMP/status" --timeout 10
srv=$BG_PID
wait_listen "$NS_B" 5001
ip netns exec "$NS_A" $APP client --host "$IP_B" --port 5001 --timeout 10 \
	send:before-the-crash >"$TMP/cli.log" 2>&1 || fail "A's client: $(cat "$TMP/cli.log")"
bg_wait "$srv" 15 || fail "B's server failed"
[ "$(cat "$TMP/recv")" = before-the-crash ] && [ "$(cat "$TMP/status")" = "eof 16" ] ||
	fail "B received \"$(cat "$TMP/recv")\" ($(cat "$TMP/status"))"
check "A -> B:5001 delivered before the crash"

log "SIGKILL B's zcctund"
downs=$(log_count A 'link down')
kill_zcc B
t0=$(now)
wait_log A 'link down' $((downs + 1)) $((WINDOW + SLACK)) ||
	fail "A: no \"link down\" within $((WINDOW + SLACK)) s of B's death"
took=$(since "$t0")
line=$(grep 'link down' "$TMP/A.log" | sed -n "$((downs + 1))p")
log "A noticed after $took s (window $WINDOW s + $SLACK s slack): ${line#*: }"
grep -q 'link down: no answer to 3 echo requests' <<<"$line" ||
	fail "A's link down names another cause: $line"
within "$took" $((WINDOW + SLACK)) || fail "A took $took s to notice"
check "A noticed B's death after $took s (keepalive)"
wait_runs "$S1" ip-down 1 3
t_down=$(cut -d' ' -f1 "$S1/ip-down.log" | head -n1)
log "ip-down ran $(awk -v a="$t0" -v b="$t_down" 'BEGIN { printf "%.2f", b - a }') s after the kill"
sleep 0.5                           # a second run would show by now
[ "$(runs "$S1" ip-down)" = 1 ] || fail "ip-down ran $(runs "$S1" ip-down) times, expected 1"
[ "$(runs "$S1" ip-up)" = 1 ] || fail "ip-up ran $(runs "$S1" ip-up) times, expected 1"
check_args "$S1" ip-down
ours "${ZCC_PID[A]}" || fail "A's zcctund exited although persist is set"
ctl_status A1 "$NS_A"
log "A's state now: $(jv "$TMP/A1.json" state), key_id $(jv "$TMP/A1.json" key_id)"
[ "$(jv "$TMP/A1.json" state)" != up ] || fail "A's zccctl state is still up"
check "ip-down ran once with the right arguments, ip-up once; A still runs, state $(jv "$TMP/A1.json" state)"

log "A keeps trying; a failed attempt runs no ip-down"
wait_log A 'link down: no handshake with the peer' 1 $((1 + 3 + SLACK)) ||
	fail "A logged no failed attempt (holdoff 1 + attempt 3 s)"
log "A: $(grep -m1 'link down: no handshake' "$TMP/A.log" | sed 's/.*: link down/link down/')"
ours "${ZCC_PID[A]}" || fail "A's zcctund exited after a failed attempt (persist)"
[ "$(runs "$S1" ip-down)" = 1 ] || fail "ip-down ran $(runs "$S1" ip-down) times after a failed attempt"
check "A still runs after a failed attempt, ip-down still once"

log "B crashed: zcctund cleanup in B, then restart B"
ip netns exec "$NS_B" "$ZCCTUND" cleanup >"$TMP/cleanupB.log" 2>&1 ||
	fail "zcctund cleanup in B failed: $(cat "$TMP/cleanupB.log")"
sed 's/^/    /' "$TMP/cleanupB.log"
t0=$(now)
start_zcc "$NS_B" B2 "${B_ARGS[@]}"
UPS=2 wait_up A 15
wait_up B2
log "A up again $(since "$t0") s after B's restart: $(grep 'link up' "$TMP/A.log" | tail -n1 | sed 's/.*: link up/link up/')"
wait_runs "$S1" ip-up 2
[ "$(runs "$S1" ip-up)" = 2 ] || fail "ip-up ran $(runs "$S1" ip-up) times, expected 2"
[ "$(runs "$S1" ip-down)" = 1 ] || fail "ip-down ran $(runs "$S1" ip-down) times, expected 1"
check_args "$S1" ip-up
ctl_status A2 "$NS_A"
ups=$(jv "$TMP/A2.json" link.link_ups)
dns=$(jv "$TMP/A2.json" link.link_downs)
log "A: state $(jv "$TMP/A2.json" state), link_ups $ups, link_downs $dns"
[ "$(jv "$TMP/A2.json" state)" = up ] || fail "A's state: $(jv "$TMP/A2.json" state)"
[ "$ups" = 2 ] && [ "$dns" = 1 ] || fail "A: link_ups $ups link_downs $dns, expected 2 and 1"
check "A up again by itself: ip-up twice, ip-down once, link_ups 2, link_downs 1"

log "a new connection A -> B:5001, 512 KB each way"
capture_start "$NS_B" eth0 wire tcp port 5001
duplex "$NS_B" "$NS_A" "$IP_B" 5001 d1
capture_stop wire
capture_complete wire
check_wire_sealed "$TMP/wire.pcap" 5001 "$TMP/d1.s.in" "$TMP/d1.c.in"
check "byte-exact both ways and sealed after the restart"

log "B stops cleanly: A (persist) notices the same way"
downs=$(log_count A 'link down')
stop_zcc B2
t0=$(now)
wait_log A 'link down' $((downs + 1)) $((WINDOW + SLACK)) ||
	fail "A: no \"link down\" within $((WINDOW + SLACK)) s of B's stop"
took=$(since "$t0")
wait_runs "$S1" ip-down 2 3
ctl_status A3 "$NS_A"
log "A noticed after $took s; ip-down runs $(runs "$S1" ip-down); link_downs $(jv "$TMP/A3.json" link.link_downs)"
[ "$(runs "$S1" ip-down)" = 2 ] || fail "ip-down ran $(runs "$S1" ip-down) times, expected 2"
[ "$(jv "$TMP/A3.json" link.link_downs)" = 2 ] || fail "A's link_downs: $(jv "$TMP/A3.json" link.link_downs)"
ours "${ZCC_PID[A]}" || fail "A's zcctund exited (persist)"
stop_zcc A
[ "$(runs "$S1" ip-down)" = 2 ] ||
	fail "stopping A while down ran ip-down again ($(runs "$S1" ip-down) runs)"
check "A noticed B's clean stop after $took s (ip-down 2nd run); A stopped with status 0"

log "without persist: A exits by itself when B dies"
S2=$TMP/scripts2
make_scripts "$S2"
start_zcc "$NS_B" B3 "${B_ARGS[@]}"
start_zcc "$NS_A" A4 "${A_ARGS[@]}" ip-up-script "$S2/ip-up" ip-down-script "$S2/ip-down"
wait_up A4
wait_up B3
wait_runs "$S2" ip-up 1
apid=${ZCC_PID[A4]}
kill_zcc B3
t0=$(now)
wait_log A4 'link down' 1 $((WINDOW + SLACK)) ||
	fail "A: no \"link down\" within $((WINDOW + SLACK)) s of B's death"
took=$(since "$t0")
bg_wait "$apid" $((WINDOW + SLACK)) && rc=0 || rc=$?
took_exit=$(since "$t0")
log "A: link down after $took s, exited with status $rc after $took_exit s"
[ "$rc" = 1 ] || fail "A exited with status $rc, expected 1 (124: still running)"
within "$took_exit" $((WINDOW + SLACK)) || fail "A took $took_exit s to exit"
grep -q 'exiting' "$TMP/A4.log" || fail "A's log does not say it is exiting"
log "A: $(grep -m1 'exiting' "$TMP/A4.log" | sed 's/^[^:]*: //')"
[ "$(runs "$S2" ip-down)" = 1 ] || fail "ip-down ran $(runs "$S2" ip-down) times, expected 1"
[ "$(runs "$S2" ip-up)" = 1 ] || fail "ip-up ran $(runs "$S2" ip-up) times, expected 1"
check_args "$S2" ip-down
check "A exited by itself (status 1) after $took_exit s, ip-down ran once"
ip netns exec "$NS_A" nft list table inet zcc_zcc0 >/dev/null 2>&1 ||
	fail "A's block went with the failed link"
tail -n1 "$TMP/A4.log" | grep -c "zcctund cleanup ifname zcc0" >/dev/null ||
	fail "A's last log line does not say how to lift the block: $(tail -n1 "$TMP/A4.log")"
check "A's block stays; its last line: $(tail -n1 "$TMP/A4.log" | sed 's/^[^:]*: //')"
ip netns exec "$NS_A" "$ZCCTUND" cleanup >/dev/null 2>&1 || fail "zcctund cleanup in A failed"
ip netns exec "$NS_B" "$ZCCTUND" cleanup >/dev/null 2>&1 || fail "zcctund cleanup in B failed"
snapshot "$NS_A" "$TMP/A.after"
same_snapshot "$TMP/A.before" "$TMP/A.after" "A after exiting on its own and cleanup"
check "A's namespace exactly as before once cleanup lifted the block"
pass
