#!/bin/bash
# SPDX-License-Identifier: ISC
# A restart under load never lets a selected segment out in plaintext nor a
# sealed one into an application: 100 long-lived connections A -> B:5001
# (flows.py: each end writes 512 bytes every 50 ms, TCP_NODELAY, and checks
# every byte it receives) and a bulk connection of 30 MB run while A's and
# B's zcctund are killed (SIGKILL) and started again with the same command
# line five times, alternating ends (A, B, A, B, A), each down 1 to 3 s.
# The restarted daemon takes over its predecessor's steering without ever
# removing the block, so during the outage and the restart selected segments
# are dropped, never sent or delivered as they are: TCP retransmits, the
# connections stall and catch up, and at the end every stream has arrived
# whole and byte-exact, and the wire (both hosts' egress, captured on the
# switch) carries no segment of port 5001 without the zcc option and no
# plaintext marker.
#
# Phase 2 does it again with C as an on-path attacker (the switch floods
# unicast, so C sees A <-> B): during each restart window C replays the
# latest sealed segments of port 5001 it saw from B toward A and from A
# toward B, and forges plain duplicate ACKs from B:5001 to A for every live
# connection (sequence, acknowledgement, window and timestamps from the
# sniffed traffic) to provoke A into retransmitting. The same assertions
# hold.
#
# test_restart6.sh runs it over IPv6. For diagnosis: ZCC_RESTART_PHASES="2"
# runs only phase 2, ZCC_RESTARTS=0 runs the load alone, ZCC_RESTART_DRY=1
# keeps every step but the kill and the start (the attacker still strikes
# in phase 2): the harness's controls, which must pass on any zcctund.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

PORT=5001
CONNS=100
BULK=$((30 * 1024 * 1024))
DURATION=36                         # seconds of load per phase
RESTARTS=${ZCC_RESTARTS:-5}
DRY=${ZCC_RESTART_DRY:-0}
PHASES=${ZCC_RESTART_PHASES:-1 2}
OUTAGES=(2 1 3 1.5 2.5)             # seconds each killed daemon stays dead
FLOWS=("$PY" "$NETDIR/flows.py")

setup_topology
genkey "$TMP/key"
A_ARGS=(peer "$IP_B" key-file "$TMP/key" encrypt-port "$PORT" nodetach debug)
B_ARGS=(peer "$IP_A" key-file "$TMP/key" encrypt-port "$PORT" nodetach debug)
declare -A CUR=([A]=A0 [B]=B0)      # end -> name of its running daemon
declare -A NSOF=([A]=$NS_A [B]=$NS_B)
GEN=0
FAILED=()

start_end() {                       # start_end A|B: a new daemon for that end
	local end=$1 name
	GEN=$((GEN + 1))
	name=$end$GEN
	if [ "$end" = A ]; then
		start_zcc "$NS_A" "$name" "${A_ARGS[@]}"
	else
		start_zcc "$NS_B" "$name" "${B_ARGS[@]}"
	fi
	CUR[$end]=$name
}

# zcc_procs NS: the zcctund processes (parent, engine, helper: anything
# running our zcctund or named zcctund*) left in NS.
zcc_procs() {
	local pid n=0
	for pid in $(ip netns pids "$1" 2>/dev/null); do
		if [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$ZCCTUND" ]; then
			n=$((n + 1))
		else
			case $(ps -o comm= -p "$pid" 2>/dev/null) in zcctund*) n=$((n + 1)) ;; esac
		fi
	done
	echo "$n"
}

# restart END OUTAGE: SIGKILL END's zcctund (the pid start_zcc recorded),
# make sure nothing of it runs on, leave the end dead OUTAGE seconds, start
# it again with the same command line and wait for the link.
restart() {
	local end=$1 outage=$2 old=${CUR[$1]} i t0
	if [ "$DRY" = 1 ]; then
		sleep "$outage"
		log "  $end: dry run, $old left running (${outage} s)"
		return 0
	fi
	kill_zcc "$old"
	for i in $(seq 40); do
		[ "$(zcc_procs "${NSOF[$end]}")" = 0 ] && break
		sleep 0.05
	done
	[ "$(zcc_procs "${NSOF[$end]}")" = 0 ] ||
		fail "$end: a zcctund process outlived the SIGKILL of $old (pid ${ZCC_PID[$old]})"
	ip netns exec "${NSOF[$end]}" nft list table inet zcc_zcc0 >/dev/null 2>&1 ||
		fail "$end: no nftables table inet zcc_zcc0 after $old was killed: the block is gone"
	ip -n "${NSOF[$end]}" -"$FAMILY" route show table 31331 | grep -c '^unreachable default' >/dev/null ||
		fail "$end: no unreachable default in table 31331 after $old was killed: the block is gone"
	sleep "$outage"
	t0=$(date +%s.%N)
	start_end "$end"
	wait_up "${CUR[$end]}" 15
	log "  $end: $old killed, down ${outage} s, ${CUR[$end]} up $(awk -v a="$t0" -v b="$(date +%s.%N)" \
		'BEGIN { printf "%.2f", b - a }') s after its start"
}

# The attacker in C: sniffs port $PORT on its eth0 (the switch floods A <-> B
# to it) through a raw packet socket; while the file CTL exists it sends,
# every 20 ms, the latest sealed data segments it saw from B toward A and
# from A toward B as they were, and three plain duplicate ACKs from B:$PORT
# to A for every connection (B's next sequence number, its latest ack,
# window and timestamps). Prints one line per window and the totals at
# SIGTERM.
cat >"$TMP/attacker.py" <<'EOF'
import collections, ctypes, os, signal, socket, struct, subprocess, sys, time
iface, port, ctl = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ip_b = socket.inet_pton(socket.AF_INET6 if ":" in sys.argv[4] else socket.AF_INET, sys.argv[4])
lines = subprocess.run(["tcpdump", "-ddd", "-i", iface, "tcp port %d" % port],
                       capture_output=True, text=True, check=True).stdout.split("\n")
insns = b"".join(struct.pack("HBBI", *map(int, l.split())) for l in lines[1:int(lines[0]) + 1])
prog = ctypes.create_string_buffer(insns)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
s.setsockopt(socket.SOL_SOCKET, 26, struct.pack("HL", int(lines[0]), ctypes.addressof(prog)))
s.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)               # SO_RCVBUFFORCE
s.bind((iface, 3))                                          # ETH_P_ALL
s.settimeout(0.005)
conns = {}              # A's port -> [seq_next, ack, win, tsval, tsecr, frame head]
replay = {0: collections.deque(maxlen=16), 1: collections.deque(maxlen=16)}
tot = collections.Counter()
win = collections.Counter()
windows = 0

def after(a, b):        # serial arithmetic: a after b
    return ((a - b) & 0xffffffff) < 0x80000000 and a != b

def csum(data):
    if len(data) % 2:
        data += b"\0"
    t = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff

def forge(aport, c):
    seq, ack, wnd, tsval, tsecr, src, dst, eth, v6 = c
    opts = b"\x01\x01\x08\x0a" + struct.pack("!II", tsval, tsecr) if tsval is not None else b""
    tcp = struct.pack("!HHIIBBHHH", port, aport, seq, ack, (20 + len(opts)) // 4 << 4, 0x10,
                      wnd, 0, 0) + opts
    if v6:
        pseudo = src + dst + struct.pack("!IxxxB", len(tcp), 6)
    else:
        pseudo = src + dst + struct.pack("!xBH", 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    if v6:
        ip = struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + src + dst
    else:
        ip = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0) + src + dst
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return eth + ip + tcp

def sniffed(fr):
    et = struct.unpack_from("!H", fr, 12)[0]
    if et == 0x0800 and fr[23] == 6:
        v6, l4, end = False, 14 + (fr[14] & 15) * 4, 14 + struct.unpack_from("!H", fr, 16)[0]
        src, dst = fr[26:30], fr[30:34]
    elif et == 0x86DD and fr[20] == 6:
        v6, l4, end = True, 54, 54 + struct.unpack_from("!H", fr, 18)[0]
        src, dst = fr[22:38], fr[38:54]
    else:
        return
    tcp = fr[l4:end]
    sport, dport, seq, ack = struct.unpack_from("!HHII", tcp)
    doff, flags, wnd = (tcp[12] >> 4) * 4, tcp[13], struct.unpack_from("!H", tcp, 14)[0]
    plen = len(tcp) - doff
    opts, i, tsval, tsecr, sealed = tcp[20:doff], 0, None, None, False
    while i < len(opts):
        k = opts[i]
        if k == 0:
            break
        if k == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        if k == 8 and opts[i + 1] == 10:
            tsval, tsecr = struct.unpack_from("!II", opts, i + 2)
        if k == 253 and opts[i + 1] == 16 and i + 16 == len(opts):
            sealed = True
        i += opts[i + 1]
    tot["sniffed"] += 1
    if sealed and plen > 0:
        replay[0 if src == ip_b else 1].append(fr)
    if src != ip_b or sport != port or flags & 0x07:    # B -> A, no SYN/FIN/RST
        return
    c = conns.get(dport)
    nxt = (seq + plen) & 0xffffffff
    if c is None:
        conns[dport] = [nxt, ack, wnd, tsval, tsecr, src, dst, fr[:12] + fr[12:14], v6]
        return
    if after(nxt, c[0]):
        c[0] = nxt
    if after(ack, c[1]):
        c[1] = ack
    c[2] = wnd
    if tsval is not None:
        c[3], c[4] = tsval, tsecr

def send(fr, what):
    try:
        s.send(fr)
        tot[what] += 1
        win[what] += 1
    except OSError:
        tot["send_errors"] += 1

def stop(*_):
    print("totals: sniffed=%d windows=%d replayed=%d forged_acks=%d conns=%d send_errors=%d"
          % (tot["sniffed"], windows, tot["replayed"], tot["forged"], len(conns),
             tot["send_errors"]), flush=True)
    sys.exit(0)

signal.signal(signal.SIGTERM, stop)
print("sniffing", flush=True)
on, next_burst = False, 0.0
while True:
    try:
        fr, addr = s.recvfrom(65536)
        if addr[2] != 4:                # not our own (PACKET_OUTGOING)
            sniffed(fr)
    except socket.timeout:
        pass
    now = time.monotonic()
    if os.path.exists(ctl):
        if not on:
            on, windows, t_on = True, windows + 1, now
            win.clear()
        if now >= next_burst:
            next_burst = now + 0.02
            for d in (0, 1):
                for fr in list(replay[d]):
                    send(fr, "replayed")
            for aport, c in list(conns.items()):
                fr = forge(aport, c)
                for _ in range(3):
                    send(fr, "forged")
    elif on:
        on = False
        print("window %d: %.1f s, replayed %d sealed segments, forged %d plain ACKs B -> A "
              "for %d connections" % (windows, now - t_on, win["replayed"], win["forged"],
                                      len(conns)), flush=True)
EOF

# phase NAME ATTACK: the load, RESTARTS restarts under it (with the attacker
# in C when ATTACK is 1), then every check. Measures everything first and
# fails at the end, so a failing run prints all its numbers.
phase() {
	local name=$1 attack=$2 srv cli i end rc_cli rc_srv rc_chk t0 tl problems=() w out
	local atk="" mon=() end
	log "phase $name: $CONNS connections + ${BULK} bytes bulk A -> B:$PORT for $DURATION s," \
		"$RESTARTS restarts$([ "$DRY" = 1 ] && echo " (dry: no kill, no start)")$([ "$attack" = 1 ] && echo ", C attacking each restart")"
	for end in A B; do
		bg_start "${NSOF[$end]}" "$TMP/$name.mon$end.nft" nft monitor
		mon+=("$BG_PID")
		bg_start "${NSOF[$end]}" "$TMP/$name.mon$end.ip" ip -"$FAMILY" monitor rule route
		mon+=("$BG_PID")
	done
	capture_start "$NS_SW" vA "$name.wireA" inbound and tcp port "$PORT"
	capture_start "$NS_SW" vB "$name.wireB" inbound and tcp port "$PORT"
	if [ "$attack" = 1 ]; then
		rm -f "$TMP/attack.on"
		bg_start "$NS_C" "$TMP/$name.attacker.log" "$PY" "$TMP/attacker.py" eth0 "$PORT" \
			"$TMP/attack.on" "$IP_B"
		atk=$BG_PID
		wait_log_file "$TMP/$name.attacker.log" sniffing ||
			fail "the attacker did not start: $(cat "$TMP/$name.attacker.log")"
	fi
	bg_start "$NS_B" "$TMP/$name.srv.log" "${FLOWS[@]}" serve --bind "$IP_B" --port "$PORT" \
		--conns "$CONNS" --bulk "$BULK" --duration "$DURATION" --deadline $((DURATION + 50)) \
		--report "$TMP/$name.srv.json"
	srv=$BG_PID
	wait_listen "$NS_B" "$PORT"
	bg_start "$NS_A" "$TMP/$name.cli.log" "${FLOWS[@]}" client --host "$IP_B" --port "$PORT" \
		--conns "$CONNS" --bulk "$BULK" --duration "$DURATION" --deadline $((DURATION + 45)) \
		--report "$TMP/$name.cli.json"
	cli=$BG_PID
	wait_log_file "$TMP/$name.cli.log" 'connections open' ||
		fail "the client did not connect: $(cat "$TMP/$name.cli.log")"
	t0=$(date +%s)
	sleep 3
	for i in $(seq 0 $((RESTARTS - 1))); do
		if [ $((i % 2)) = 0 ]; then end=A; else end=B; fi
		[ "$attack" = 1 ] && touch "$TMP/attack.on"
		restart "$end" "${OUTAGES[$((i % ${#OUTAGES[@]}))]}"
		sleep 0.5
		rm -f "$TMP/attack.on"
		sleep 1.5
	done
	tl=$(($(date +%s) - t0))
	[ "$tl" -lt "$DURATION" ] ||
		fail "the $RESTARTS restarts took $tl s, longer than the load ($DURATION s)"
	log "$RESTARTS restarts done $tl s into the $DURATION s load; waiting for the connections to finish"
	bg_wait "$cli" $((DURATION + 60)) && rc_cli=0 || rc_cli=$?
	bg_wait "$srv" 15 && rc_srv=0 || rc_srv=$?
	if [ -n "$atk" ]; then
		kill -TERM "$atk"
		bg_wait "$atk" 5 || true
		sed 's/^/    attacker: /' "$TMP/$name.attacker.log"
	fi
	capture_stop "$name.wireA"
	capture_stop "$name.wireB"
	for i in "${mon[@]}"; do
		kill -TERM "$i" 2>/dev/null || true
		bg_wait "$i" 5 >/dev/null 2>&1 || true
	done
	# Information, not a check (an atomic replacement would show too): did
	# a start remove what blocks the selected flows?
	for end in A B; do
		log "  $end: the block removed during the phase: nft table deleted" \
			"$(grep -c '^delete table inet zcc_zcc0' "$TMP/$name.mon$end.nft" || true) times," \
			"nft rules deleted $(grep -c '^delete rule inet zcc_zcc0' "$TMP/$name.mon$end.nft" || true)," \
			"ip rules into 31331 deleted $(grep -c '^Deleted.*lookup 31331' "$TMP/$name.mon$end.ip" || true)," \
			"unreachable default of 31331 deleted $(grep -c '^Deleted unreachable default.*table 31331' "$TMP/$name.mon$end.ip" || true)"
	done
	capture_complete "$name.wireA" "$name.wireB"
	grep -h -E 'WRONG|DEADLINE|done:|reset|error' "$TMP/$name.cli.log" "$TMP/$name.srv.log" |
		sed -n "1,20s/^/    /p" || true

	out=$("${FLOWS[@]}" check "$TMP/$name.cli.json" "$TMP/$name.srv.json") && rc_chk=0 || rc_chk=$?
	echo "$out" | sed -n "1,30s/^/    /p"
	read -r -a nums <<<"${out%%$'\n'*}"
	nums=("${nums[@]//=/ }")
	read -r -a nums <<<"${nums[*]}"
	# conns N bytes_sent N bytes_received N bytes_correct N wrong_streams N incomplete_streams N
	case $rc_chk in
	0) check "phase $name: ${nums[1]} connections, ${nums[3]} bytes sent, ${nums[5]} received," \
		"${nums[7]} verified byte-exact, every stream whole, after $RESTARTS$([ "$DRY" = 1 ] && echo " dry") restarts" ;;
	1) problems+=("${nums[9]} streams received WRONG bytes (sealed segments delivered to the application as data), ${nums[11]} more incomplete; ${nums[7]} of ${nums[5]} received bytes correct") ;;
	*) problems+=("${nums[11]} streams incomplete (received ${nums[5]} of ${nums[3]} bytes sent; client exit $rc_cli, server $rc_srv)") ;;
	esac

	for w in wireA wireB; do
		log "  $name.$w: $($PCAP check-sealed "$TMP/$name.$w.pcap" --port "$PORT" | tail -n1)"
		out=$("${FLOWS[@]}" wire "$TMP/$name.$w.pcap" --port "$PORT") && rc=0 || rc=$?
		echo "$out" | sed 's/^/    /'
		if [ "$rc" = 0 ]; then
			check "phase $name, $w ($( [ $w = wireA ] && echo "A's" || echo "B's") egress):" \
				"$(echo "$out" | sed -n 's/^segments=\([0-9]*\) payload=\([0-9]*\).*/\1 segments of port '"$PORT"', \2 with payload/p')," \
				"every one sealed, no plaintext marker"
		else
			out=${out%%$'\n'*}
			problems+=("$w: ${out%% first_unsealed*}")
		fi
	done
	[ "$rc_cli" = 0 ] && [ "$rc_srv" = 0 ] ||
		[ "$rc_chk" != 0 ] || problems+=("flows.py exited $rc_cli (client), $rc_srv (server)")
	if [ ${#problems[@]} -gt 0 ]; then
		for w in "${problems[@]}"; do log "phase $name: FAILED: $w"; done
		FAILED+=("phase $name: ${#problems[@]} failed checks")
		return 0
	fi
	check "phase $name: $RESTARTS$([ "$DRY" = 1 ] && echo " dry") restarts (A, B, A, B, A) under load, nothing of port $PORT in plaintext, no stream corrupted"
}

# wait_log_file FILE PATTERN: up to 10 s for PATTERN in FILE.
wait_log_file() {
	local i
	for i in $(seq 200); do
		grep -c -- "$2" "$1" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

start_zcc "$NS_A" A0 "${A_ARGS[@]}"
start_zcc "$NS_B" B0 "${B_ARGS[@]}"
wait_up A0
wait_up B0
check "link A <-> B up, port $PORT selected"

for p in $PHASES; do
	case $p in
	1) phase 1 0 ;;
	2)
		# The switch floods unicast: no learning on any port, nothing
		# learnt left, so C sees A <-> B (and its forgeries teach the
		# switch nothing).
		for h in A B C; do
			ip netns exec "$NS_SW" bridge link set dev "v$h" learning off flood on
		done
		ip netns exec "$NS_SW" bridge fdb flush dev br0 2>/dev/null ||
			ip -n "$NS_SW" link set br0 type bridge fdb_flush
		phase 2 1
		;;
	*) fail "ZCC_RESTART_PHASES: no phase $p" ;;
	esac
done
[ ${#FAILED[@]} = 0 ] || fail "$(printf '%s; ' "${FAILED[@]}")see above"
pass
