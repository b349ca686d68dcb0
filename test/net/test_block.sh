#!/bin/bash
# The block: from the first start of a link until "zcctund cleanup", the
# selected flows (the peer's address and port 5001) never travel in
# plaintext and nothing unopened from the peer reaches TCP. The block is
# the nftables table inet zcc_zcc0, the ip rules into zcc's routing table
# (default unreachable) and the state file /run/zcc/zcc0.netns-INODE.state;
# an exit of zcctund for any reason other than "zcctund cleanup" leaves it,
# and its last log line names "zcctund cleanup".
#
# 1. Link failure without persist: a pair with fast keepalives carries an
#    application on 5001 that writes a plaintext marker every 0.1 s; SW's
#    bridge drops zcc's UDP (port 7437). A's zcctund exits with status 1;
#    on the wire (captured on the bridge port A sends into) across the
#    failure and 5 s after the exit, while the application keeps writing,
#    every segment of 5001 is sealed and the marker never shows. The nft
#    table, the rules and the state file stay in A. "zcctund cleanup"
#    refuses (status 1) where the daemon still runs (B, persist), lifts A's
#    block, and B's after a SIGTERM (status 0, block kept); a fresh plain
#    connection on 5001 then works, and both namespaces are as before.
# 2. Failed start: another process holds UDP port 7437 in A; zcctund exits
#    non-zero naming the UDP port, the block is in place, connections on
#    5001 fail both ways with nothing of 5001 carrying payload on the wire;
#    "zcctund cleanup" lifts it.
# 3. SIGTERM, then a start with the same command line: A's daemon exits 0
#    during a trickle on 5001; for 2 s nothing of 5001 leaves unsealed and no
#    marker shows; the new start takes over, the link comes up, the
#    application's connection survives and the receiver got exactly what
#    was sent.
#
# BLOCK_SECTIONS="2 3" in the environment runs only those sections (each
# starts and ends with the namespaces as found). test_block6.sh runs it
# over IPv6.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

PORT=5001
SECTIONS=${BLOCK_SECTIONS:-1 2 3}
MARKER="ZCC-BLOCK-PLAINTEXT-MARKER"
printf '%s' "$MARKER" >"$TMP/marker"

setup_topology
genkey "$TMP/key"
mkdir -p "$TMP/conf"
snapshot "$NS_A" "$TMP/A.before"
snapshot "$NS_B" "$TMP/B.before"
INUM_A=$(stat -L -c %i "/run/netns/$NS_A")
INUM_B=$(stat -L -c %i "/run/netns/$NS_B")

# The application: "recv" accepts one connection and appends what arrives
# to OUT (flushed per read) until EOF; "send" connects, writes one record
# (the marker, a sequence number, a newline: each write its own segment)
# every INTERVAL s and appends to SENT exactly the bytes the socket took,
# until STOPFILE exists; then it finishes the stream (shutdown, waits for
# the receiver's EOF). On SIGTERM either end aborts with SO_LINGER 0 (a
# reset, no FIN_WAIT retransmissions later), so no socket outlives it.
cat >"$TMP/blockapp.py" <<'EOF'
import os, select, signal, socket, struct, sys, time
mode = sys.argv[1]
conn = None
def abort(*_):
    if conn is not None:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
    print("aborted")
    sys.stdout.flush()
    os._exit(0)
signal.signal(signal.SIGTERM, abort)
if mode == "recv":
    host, port, out = sys.argv[2], int(sys.argv[3]), sys.argv[4]
    ls = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(1)
    conn, _ = ls.accept()
    ls.close()
    total = 0
    with open(out, "ab", buffering=0) as f:
        while True:
            d = conn.recv(65536)
            if not d:
                break
            f.write(d)
            total += len(d)
    conn.close()
    print("eof after %d bytes" % total)
else:
    host, port, sent, interval, stop = sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]), sys.argv[6]
    conn = socket.create_connection((host, port), timeout=10)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.setblocking(False)
    n, total, pending = 0, 0, b""
    with open(sent, "ab", buffering=0) as f:
        while not os.path.exists(stop):
            if not pending:
                pending = b"ZCC-BLOCK-PLAINTEXT-MARKER %08d\n" % n
                n += 1
            if select.select([], [conn], [], 0)[1]:
                try:
                    k = conn.send(pending)
                except BlockingIOError:
                    k = 0
                f.write(pending[:k])
                total += k
                pending = pending[k:]
            time.sleep(interval)
        conn.setblocking(True)
        if pending:                 # the record under way, whole
            conn.sendall(pending)
            f.write(pending)
            total += len(pending)
    conn.settimeout(60)
    conn.shutdown(socket.SHUT_WR)
    while conn.recv(4096):
        pass
    conn.close()
    print("finished after %d bytes in %d records" % (total, n))
EOF

# app_start TAG: receiver in B, sender in A (a record every 0.1 s) on PORT;
# $TMP/TAG.sent, $TMP/TAG.recv, stop file $TMP/TAG.stop.
app_start() {
	local tag=$1
	rm -f "$TMP/$tag.stop"
	: >"$TMP/$tag.sent"
	: >"$TMP/$tag.recv"
	bg_start "$NS_B" "$TMP/$tag.recv.log" $PY "$TMP/blockapp.py" recv "$IP_B" "$PORT" "$TMP/$tag.recv"
	APP_RECV=$BG_PID
	wait_listen "$NS_B" "$PORT"
	bg_start "$NS_A" "$TMP/$tag.send.log" $PY "$TMP/blockapp.py" send "$IP_B" "$PORT" \
		"$TMP/$tag.sent" 0.1 "$TMP/$tag.stop"
	APP_SEND=$BG_PID
}

# app_abort: both ends reset (SIGTERM), their sockets gone.
app_abort() {
	local pid
	for pid in "$APP_SEND" "$APP_RECV"; do
		ours "$pid" && kill -TERM "$pid" 2>/dev/null
		bg_wait "$pid" 10 >/dev/null 2>&1 || true
	done
}

size() { stat -c %s "$1"; }

# prefix_ok TAG: what B received is a prefix of what A's socket took.
prefix_ok() {
	local r
	r=$(size "$TMP/$1.recv")
	cmp -s -n "$r" "$TMP/$1.sent" "$TMP/$1.recv" ||
		fail "$1: the $r bytes received are not the first $r bytes sent"
}

# wait_grows FILE SECONDS: until FILE has grown (1 when it did not).
wait_grows() {
	local s0 i
	s0=$(size "$1")
	for i in $(seq $(($2 * 10))); do
		[ "$(size "$1")" -gt "$s0" ] && return 0
		sleep 0.1
	done
	return 1
}

# block_present NS INUM WHAT: the table inet zcc_zcc0 (input and output
# chains), a rule to/from the peer in ip (-6) rule, an unreachable default in
# some routing table, and the state file are all there; prints what was seen.
block_present() {
	local ns=$1 inum=$2 what=$3 peer rules unreach
	case $ns in "$NS_A") peer=$IP_B ;; *) peer=$IP_A ;; esac
	ip netns exec "$ns" nft list table inet zcc_zcc0 >"$TMP/nft.$what" 2>&1 ||
		fail "$what: no nft table inet zcc_zcc0: $(cat "$TMP/nft.$what")"
	if ! grep -c 'chain input' "$TMP/nft.$what" >/dev/null ||
		! grep -c 'chain output' "$TMP/nft.$what" >/dev/null; then
		fail "$what: table inet zcc_zcc0 lacks its input or output chain: $(cat "$TMP/nft.$what")"
	fi
	rules=$(ip -n "$ns" -"$FAMILY" rule show | grep -c -- "$peer" || true)
	[ "$rules" -gt 0 ] || fail "$what: no ip -$FAMILY rule naming $peer: $(ip -n "$ns" -"$FAMILY" rule show)"
	unreach=$(ip -n "$ns" -"$FAMILY" route show table all | grep -c '^unreachable default' || true)
	[ "$unreach" -gt 0 ] || fail "$what: no unreachable default route in any table"
	[ -e "/run/zcc/zcc0.netns-$inum.state" ] ||
		fail "$what: no state file /run/zcc/zcc0.netns-$inum.state"
	check "$what: block in place (table inet zcc_zcc0 with input and output chains, $rules ip -$FAMILY rules naming $peer, $unreach unreachable default, state file)"
}

# last_line_names_cleanup NAME WHAT: the daemon's last log line (the
# script helper's lines aside) says how to lift the block.
last_line_names_cleanup() {
	local last
	last=$(grep -v '^zcctund-helper' "$TMP/$1.log" | grep . | tail -n1 || true)
	log "$2: last log line: ${last}"
	grep -c 'zcctund cleanup' <<<"$last" >/dev/null ||
		fail "$2: the daemon's last log line does not name \"zcctund cleanup\": $last"
	check "$2: the last log line names \"zcctund cleanup\""
}

# cleanup_in NS WHAT: zcctund cleanup, status 0.
cleanup_in() {
	ip netns exec "$1" "$ZCCTUND" cleanup >"$TMP/cleanup.log" 2>&1 && rc=0 || rc=$?
	sed 's/^/    /' "$TMP/cleanup.log"
	[ "$rc" = 0 ] || fail "$2: zcctund cleanup exited $rc"
}

# plain_works TAG: after the cleanups, a fresh connection A -> B:PORT
# carries 64 KB byte-exact, in plaintext (no zcc option on the wire).
plain_works() {
	local tag=$1
	head -c 64K /dev/urandom >"$TMP/$tag.plain"
	capture_start "$NS_SW" vA "$tag.plaincap" tcp port "$PORT"
	transfer "$NS_A" "$NS_B" "$IP_B" "$PORT" "$TMP/$tag.plain" "$TMP/$tag.plain.out"
	capture_stop "$tag.plaincap"
	$PCAP check-plain "$TMP/$tag.plaincap.pcap" --port "$PORT" >"$TMP/$tag.plain.chk" ||
		fail "$tag: the connection after cleanup is not plain: $(cat "$TMP/$tag.plain.chk")"
	check "$tag: after cleanup a fresh plain connection A -> B:$PORT carries 64 KB byte-exact ($(cat "$TMP/$tag.plain.chk"))"
}

# wire_report PCAP WHAT [any]: segments of PORT in the capture, how many
# unsealed, how many carry the marker in their payload; fails on any of the
# last two, and on no segment at all unless "any".
wire_report() {
	local pcap=$1 what=$2 total unsealed markers
	$PCAP dump "$pcap" --port "$PORT" >"$pcap.dump"
	total=$(grep -c . "$pcap.dump" || true)
	unsealed=$(grep -vc 'zcc(key' "$pcap.dump" || true)
	markers=$($PY - "$pcap" "$PORT" "$MARKER" <<'EOF'
import os, sys
sys.path.insert(0, os.environ["NETDIR"])
import pcap
n = 0
for s in pcap.segments(sys.argv[1]):
    if int(sys.argv[2]) in (s.sport, s.dport) and sys.argv[3].encode() in s.payload:
        n += 1
print(n)
EOF
)
	log "$what: $total segments of port $PORT on the wire, $unsealed without the zcc option, $markers with the plaintext marker"
	if [ "$unsealed" -gt 0 ]; then
		grep -v 'zcc(key' "$pcap.dump" | head -n 5 | sed 's/^/    /' >&2
		fail "$what: $unsealed of $total segments of port $PORT on the wire lack the zcc option"
	fi
	[ "$markers" = 0 ] || fail "$what: $markers segments carry the plaintext marker"
	$PCAP grep "$pcap" --needle-file "$TMP/marker" --min 16 >/dev/null ||
		fail "$what: the marker in plaintext on the wire"
	[ "$total" -gt 0 ] || [ "${3:-}" = any ] || fail "$what: no segment of port $PORT captured: nothing was checked"
	check "$what: $total segments of port $PORT on the wire, all sealed, no plaintext marker"
}
export NETDIR

COMMON=(key-file "$TMP/key" encrypt-port "$PORT" keepalive-interval 1
	keepalive-failure 3 nodetach debug)

section1() {
	log "1. link failure without persist"
	local apid t0 rc took r_exit r_end s_exit s_end
	start_zcc "$NS_A" A1 peer "$IP_B" "${COMMON[@]}"
	start_zcc "$NS_B" B1 peer "$IP_A" "${COMMON[@]}" persist holdoff 1
	wait_up A1
	wait_up B1
	app_start s1
	wait_grows "$TMP/s1.recv" 5 || fail "s1: nothing arrived while the link is up"
	sleep 1
	prefix_ok s1
	check "s1: the application delivers while the link is up ($(size "$TMP/s1.recv") bytes)"

	capture_start "$NS_SW" vA s1wire
	ip netns exec "$NS_SW" nft -f - <<'EOF'
table bridge f {
	chain drop_udp {
		type filter hook forward priority 0;
		udp dport 7437 counter drop
		udp sport 7437 counter drop
	}
}
EOF
	log "zcc's UDP blocked on the bridge"
	apid=${ZCC_PID[A1]}
	t0=$(date +%s.%N)
	bg_wait "$apid" 20 && rc=0 || rc=$?
	took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	log "A's zcctund exited with status $rc after $took s"
	[ "$rc" = 1 ] || fail "A's zcctund exited with status $rc (124: still running after 20 s), expected 1"
	check "s1: A's zcctund exited with status 1 after $took s of blocked UDP"
	r_exit=$(size "$TMP/s1.recv")
	s_exit=$(size "$TMP/s1.sent")
	sleep 5
	r_end=$(size "$TMP/s1.recv")
	s_end=$(size "$TMP/s1.sent")
	capture_stop s1wire
	capture_complete s1wire
	log "after the exit: A's application wrote $((s_end - s_exit)) more bytes in 5 s, B's received $((r_end - r_exit))"
	ours "$APP_SEND" || fail "A's application died: $(cat "$TMP/s1.send.log")"
	prefix_ok s1
	wire_report "$TMP/s1wire.pcap" "s1: failure and 5 s after the exit"
	[ "$r_end" = "$r_exit" ] ||
		fail "s1: B's application received $((r_end - r_exit)) bytes after A's daemon exited"
	check "s1: nothing reached B's application after A's exit ($((s_end - s_exit)) bytes written meanwhile)"
	log "bridge: $(ip netns exec "$NS_SW" nft list chain bridge f drop_udp | grep -o 'packets [0-9]*' | tr '\n' ' ')dropped"

	block_present "$NS_A" "$INUM_A" "s1: A after its exit"
	last_line_names_cleanup A1 "s1: A"
	ip -n "$NS_A" link show zcc0 >/dev/null 2>&1 && fail "s1: zcc0 still exists in A after the exit"
	check "s1: zcc0 is gone from A"

	ours "${ZCC_PID[B1]}" || fail "B's zcctund (persist) exited"
	ip netns exec "$NS_B" "$ZCCTUND" cleanup >"$TMP/s1.refuse" 2>&1 && rc=0 || rc=$?
	sed 's/^/    /' "$TMP/s1.refuse"
	[ "$rc" = 1 ] || fail "s1: zcctund cleanup in B exited $rc while B's daemon runs, expected 1 (refused)"
	ours "${ZCC_PID[B1]}" || fail "s1: B's zcctund died of the refused cleanup"
	ip netns exec "$NS_B" nft list table inet zcc_zcc0 >/dev/null 2>&1 ||
		fail "s1: the refused cleanup in B removed B's table"
	check "s1: zcctund cleanup refuses (status 1) while B's daemon runs"

	app_abort
	ip netns exec "$NS_SW" nft delete table bridge f
	cleanup_in "$NS_A" "s1: A"
	check "s1: zcctund cleanup in A exited 0"
	stop_zcc B1
	check "s1: B's zcctund stopped by SIGTERM with status 0"
	block_present "$NS_B" "$INUM_B" "s1: B after SIGTERM"
	last_line_names_cleanup B1 "s1: B"
	cleanup_in "$NS_B" "s1: B"
	plain_works s1
	snapshot "$NS_A" "$TMP/A.after1"
	snapshot "$NS_B" "$TMP/B.after1"
	same_snapshot "$TMP/A.before" "$TMP/A.after1" "s1: A after cleanup"
	same_snapshot "$TMP/B.before" "$TMP/B.after1" "s1: B after cleanup"
	check "s1: A and B exactly as before the first start"
}

# must_not_connect FROM_NS TO_NS TO_IP TAG WHAT: TO serves PORT; FROM's
# connect and send of a marker file must fail and TO's application receive
# nothing. What went wrong is added to BAD (checked after the capture).
must_not_connect() {
	local fromns=$1 tons=$2 toip=$3 tag=$4 what=$5 srv got status
	for _ in $(seq 200); do printf '%s\n' "$MARKER"; done >"$TMP/$tag.secret"
	bg_start "$tons" "$TMP/$tag.srv.log" "$PY" "$NETDIR/tcpapp.py" serve --port "$PORT" --out "$TMP/$tag.got" \
		--status "$TMP/$tag.status" --timeout 7
	srv=$BG_PID
	wait_listen "$tons" "$PORT"
	if ip netns exec "$fromns" timeout 10 socat -u "FILE:$TMP/$tag.secret" \
		"$(tcp_to "$toip" "$PORT"),connect-timeout=5" >"$TMP/$tag.cli" 2>&1; then
		echo "connected and sent" >>"$TMP/$tag.cli"
	fi
	bg_wait "$srv" 15 || true
	got=0
	[ -e "$TMP/$tag.got" ] && got=$(size "$TMP/$tag.got")
	status=$(cat "$TMP/$tag.status" 2>/dev/null || echo none)
	log "$what: client: $(tail -n1 "$TMP/$tag.cli" | sed 's/.*E //'); server: $status"
	if [ "$got" != 0 ] || [ "$status" != "timeout 0" ]; then
		BAD+="$what: the connection was made, the server received $got bytes ($status); "
	else
		check "$what: no connection to $toip:$PORT, nothing received"
	fi
}

section2() {
	log "2. failed start: UDP port 7437 taken in A"
	local holder pid rc n payload
	bg_start "$NS_A" "$TMP/s2.holder.log" $PY -c '
import socket, sys, time
v6 = sys.argv[1] == "6"
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("::" if v6 else "0.0.0.0", 7437))
print("bound", flush=True)
time.sleep(600)' "$FAMILY"
	holder=$BG_PID
	for _ in $(seq 50); do grep -q bound "$TMP/s2.holder.log" && break; sleep 0.1; done
	grep -q bound "$TMP/s2.holder.log" || fail "s2: the holder could not bind UDP 7437: $(cat "$TMP/s2.holder.log")"
	bg_start "$NS_A" "$TMP/A2.log" "$ZCCTUND" confdir "$TMP/conf" peer "$IP_B" "${COMMON[@]}"
	pid=$BG_PID
	ZCC_PID[A2]=$pid
	ZCC_NS[A2]=$NS_A
	bg_wait "$pid" 20 && rc=0 || rc=$?
	log "zcctund in A exited with status $rc: $(grep . "$TMP/A2.log" | grep -i -m1 -E 'udp|7437|bind|address' || true)"
	if [ "$rc" = 0 ] || [ "$rc" = 124 ]; then
		fail "s2: zcctund exited with status $rc (124: still running after 20 s), expected a failure"
	fi
	grep -i -E 'udp|7437' "$TMP/A2.log" | grep -c -i -E 'in use|bind|taken' >/dev/null ||
		fail "s2: the log does not say the UDP port is taken"
	check "s2: zcctund exited with status $rc and says why (UDP port 7437 taken)"

	BAD=
	capture_start "$NS_SW" vA s2wire tcp port "$PORT"
	must_not_connect "$NS_A" "$NS_B" "$IP_B" s2ab "s2: A -> B"
	must_not_connect "$NS_B" "$NS_A" "$IP_A" s2ba "s2: B -> A"
	capture_stop s2wire
	capture_complete s2wire
	n=$($PCAP count "$TMP/s2wire.pcap" --port "$PORT")
	payload=$($PCAP dump "$TMP/s2wire.pcap" --port "$PORT" | grep -vc ' len 0 ' || true)
	log "s2: $n segments of port $PORT on the wire, $payload with payload"
	if [ "$payload" -gt 0 ]; then
		$PCAP dump "$TMP/s2wire.pcap" --port "$PORT" | grep -v ' len 0 ' | head -n 5 | sed 's/^/    /' >&2
		fail "s2: $payload segments of port $PORT with payload on the wire${BAD:+; }${BAD%; }"
	fi
	[ -z "$BAD" ] || fail "${BAD%; }"
	$PCAP grep "$TMP/s2wire.pcap" --needle-file "$TMP/marker" --min 16 >/dev/null ||
		fail "s2: the marker in plaintext on the wire"
	check "s2: no segment of port $PORT with payload on the wire ($n segments in all)"
	block_present "$NS_A" "$INUM_A" "s2: A after the failed start"
	last_line_names_cleanup A2 "s2: A"

	kill -TERM "$holder"
	bg_wait "$holder" 5 >/dev/null 2>&1 || true
	cleanup_in "$NS_A" "s2: A"
	check "s2: zcctund cleanup in A exited 0"
	plain_works s2
	snapshot "$NS_A" "$TMP/A.after2"
	same_snapshot "$TMP/A.before" "$TMP/A.after2" "s2: A after cleanup"
	check "s2: A exactly as before"
}

section3() {
	log "3. SIGTERM, 2 s gap, start again with the same command line"
	local r_term s_term r_gap s_gap got sent
	start_zcc "$NS_A" A3 peer "$IP_B" "${COMMON[@]}"
	start_zcc "$NS_B" B3 peer "$IP_A" "${COMMON[@]}" persist holdoff 1
	wait_up A3
	wait_up B3
	app_start s3
	wait_grows "$TMP/s3.recv" 5 || fail "s3: nothing arrived while the link is up"
	sleep 1
	capture_start "$NS_SW" vA s3gap tcp port "$PORT"
	stop_zcc A3
	check "s3: A's zcctund exited with status 0 on SIGTERM"
	r_term=$(size "$TMP/s3.recv")
	s_term=$(size "$TMP/s3.sent")
	sleep 2
	r_gap=$(size "$TMP/s3.recv")
	s_gap=$(size "$TMP/s3.sent")
	capture_stop s3gap
	capture_complete s3gap
	log "s3: in the 2 s gap A's application wrote $((s_gap - s_term)) bytes, B's received $((r_gap - r_term))"
	wire_report "$TMP/s3gap.pcap" "s3: the gap after SIGTERM" any
	block_present "$NS_A" "$INUM_A" "s3: A after SIGTERM"
	ip -n "$NS_A" link show zcc0 >/dev/null 2>&1 && fail "s3: zcc0 still exists in A after SIGTERM"
	last_line_names_cleanup A3 "s3: A"
	[ "$r_gap" = "$r_term" ] || fail "s3: B's application received $((r_gap - r_term)) bytes in the gap"
	prefix_ok s3

	capture_start "$NS_SW" vA s3wire tcp port "$PORT"
	start_zcc "$NS_A" A3b peer "$IP_B" "${COMMON[@]}"
	wait_up A3b 15
	check "s3: the new start took over and the link is up again"
	wait_grows "$TMP/s3.recv" 20 || fail "s3: the application's connection delivers nothing after the restart"
	sleep 1
	touch "$TMP/s3.stop"
	bg_wait "$APP_SEND" 60 || fail "s3: the sender failed: $(cat "$TMP/s3.send.log")"
	bg_wait "$APP_RECV" 30 || fail "s3: the receiver failed: $(cat "$TMP/s3.recv.log")"
	capture_stop s3wire
	capture_complete s3wire
	log "s3: sender: $(cat "$TMP/s3.send.log"); receiver: $(cat "$TMP/s3.recv.log")"
	got=$(size "$TMP/s3.recv")
	sent=$(size "$TMP/s3.sent")
	cmp -s "$TMP/s3.sent" "$TMP/s3.recv" ||
		fail "s3: received $got bytes, sent $sent: not byte-exact"
	check "s3: the connection survived: $got bytes received, exactly the $sent sent"
	wire_report "$TMP/s3wire.pcap" "s3: the restart and the rest of the stream"

	stop_zcc A3b
	stop_zcc B3
	cleanup_in "$NS_A" "s3: A"
	cleanup_in "$NS_B" "s3: B"
	snapshot "$NS_A" "$TMP/A.after3"
	snapshot "$NS_B" "$TMP/B.after3"
	same_snapshot "$TMP/A.before" "$TMP/A.after3" "s3: A after stop and cleanup"
	same_snapshot "$TMP/B.before" "$TMP/B.after3" "s3: B after stop and cleanup"
	check "s3: A and B exactly as before after SIGTERM and zcctund cleanup"
}

for s in $SECTIONS; do
	case $s in
	1) section1 ;;
	2) section2 ;;
	3) section3 ;;
	*) fail "BLOCK_SECTIONS: no section $s" ;;
	esac
done
pass
