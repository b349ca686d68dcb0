# shellcheck shell=bash
# SPDX-License-Identifier: ISC
# Shared helpers for the zcc network tests. Source it from a test script:
#
#     #!/bin/bash
#     set -euo pipefail
#     . "$(dirname "$0")/lib.sh" "$@"      # $1: the zcctund to test
#
# Under pipefail, "cmd | grep -q X" fails at random: grep exits at the first
# match and cmd may die of SIGPIPE. Use "cmd | grep -c X >/dev/null".
#
# Topology (setup_topology): four network namespaces named with this run's
# pid and a random suffix, so parallel runs and leftovers never collide.
#
#     A  eth0 10.0.0.1/24 --+
#     B  eth0 10.0.0.2/24 --+-- SW: bridge br0 (STP off, no forward delay)
#     C  eth0 10.0.0.3/24 --+       C is the attacker: it can inject anything
#
# With ZCC_TEST_FAMILY=6 in the environment the three talk IPv6 instead
# (fd00::1/64, fd00::2/64, fd00::3/64; FAMILY=6), so a test written with
# $IP_A, $IP_B, tcp_to and tcp_listen runs unchanged over IPv6.
#
# Everything a test starts in the background is started through bg_start or
# start_zcc, which remember its pid; the EXIT trap kills exactly those pids
# (and anything still running inside our own namespaces), deletes the
# namespaces and the temp dir, and prints the daemon logs when the test failed.

if [ $# -lt 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 PATH-TO-zcctund" >&2
	exit 2
fi
ZCCTUND=$(realpath -e "$1")
ZCCCTL=$(dirname "$ZCCTUND")/zccctl
if [ "$(id -u)" != 0 ]; then
	echo "$0: needs root (network namespaces)" >&2
	exit 2
fi

NETDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRCDIR=$(cd "$NETDIR/../.." && pwd)
PY=/usr/bin/python3                 # Debian's python3, the one with scapy
# shellcheck disable=SC2034  # for the tests that source this file
PCAP="$PY $NETDIR/pcap.py"
PREFIX="zcct$$-$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')-"
TMP=$(mktemp -d "/tmp/${PREFIX}XXXX")
NS_A=${PREFIX}A
NS_B=${PREFIX}B
NS_C=${PREFIX}C
NS_SW=${PREFIX}SW
FAMILY=${ZCC_TEST_FAMILY:-4}
case $FAMILY in
4)
	IP_A=10.0.0.1
	IP_B=10.0.0.2
	IP_C=10.0.0.3
	PLEN=24
	NFT_IP=ip
	;;
6)
	IP_A=fd00::1
	IP_B=fd00::2
	IP_C=fd00::3
	PLEN=64
	NFT_IP=ip6
	;;
*)
	echo "$0: ZCC_TEST_FAMILY must be 4 or 6" >&2
	exit 2
	;;
esac

declare -a OUR_NS=()                # namespaces we created
declare -a OUR_INO=()               # their inodes, which name zcc's run files
declare -a OUR_PIDS=()              # every background process we started
declare -A ZCC_PID=()               # daemon name -> pid
declare -A ZCC_NS=()                # daemon name -> namespace
declare -A CAP_PID=()               # capture name -> pid
declare -A CAP_LOST=()              # capture name -> packets tcpdump lost
TEST_OK=0

# The script's name, and the family when a wrapper runs it over IPv6.
ME=${0##*/}
[ "$FAMILY" = 4 ] || ME="$ME (IPv6)"
log() { printf '%s: %s\n' "$ME" "$*"; }
check() { printf '  [ok] %s\n' "$*"; }

fail() {
	printf '%s: FAIL: %s\n' "$ME" "$*" >&2
	exit 1
}

pass() {
	TEST_OK=1
	log "PASS"
	exit 0
}

# ours PID: PID is alive and a child of this script.
ours() {
	[ "$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')" = "$$" ]
}

cleanup() {
	local rc=$? pid ns name ino f busy
	set +e
	trap - EXIT INT TERM HUP
	# Only pids that are still our own children: a reaped pid may have been
	# reused by someone else's process.
	for pid in "${OUR_PIDS[@]}"; do
		ours "$pid" && kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${OUR_PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			ours "$pid" || break
			sleep 0.1
		done
		ours "$pid" && kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	# Children of what we started (socat forks, http.server, ...) that are
	# still inside our namespaces: all of them are ours.
	for ns in "${OUR_NS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
	done
	# Gone, not dying: cleanup refuses while a link's daemon still runs.
	for _ in $(seq 30); do
		busy=0
		for ns in "${OUR_NS[@]}"; do
			[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] || busy=1
		done
		[ "$busy" = 0 ] && break
		sleep 0.1
	done
	if [ "$TEST_OK" != 1 ] || [ "$rc" != 0 ]; then
		for name in "${!ZCC_PID[@]}"; do
			echo "----- log of daemon $name (${ZCC_NS[$name]}) -----" >&2
			tail -n 60 "$TMP/$name.log" >&2 2>/dev/null
		done
		[ "$rc" = 0 ] && rc=1
	fi
	# A daemon that stopped or was killed leaves its block and state file
	# under /run/zcc; remove them while the namespace still exists, in every
	# namespace of ours (tests start daemons in more ways than start_zcc).
	for ns in "${OUR_NS[@]}"; do
		ip netns exec "$ns" "$ZCCTUND" cleanup >/dev/null 2>&1
	done
	# Nothing of ours may stay under /run/zcc: a later namespace may get
	# one of these inodes, and the host keeps what it is not given back.
	for ino in "${OUR_INO[@]}"; do
		for f in /run/zcc/*.netns-"$ino".*; do
			[ -e "$f" ] || continue
			echo "$ME: left behind: $f" >&2
			rm -f "$f"
			[ "$rc" = 0 ] && rc=1
		done
	done
	rmdir /run/zcc 2>/dev/null      # only when empty
	for ns in "${OUR_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"     # a test's /etc/hosts for ns
	done
	rmdir /etc/netns 2>/dev/null    # only when empty
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ns_new NAME [ipv6]: a namespace with lo up and no IPv6 (no DAD, router
# solicitations or MLD noise in captures, on zcc0 or in snapshots); with
# "ipv6", IPv6 stays on but quiet: no router solicitations or
# advertisements taken, no duplicate address detection to wait for.
ns_new() {
	ip netns add "$1"
	OUR_NS+=("$1")
	OUR_INO+=("$(ip netns exec "$1" stat -L -c %i /proc/self/ns/net)")
	if [ "${2:-}" = ipv6 ]; then
		ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_ra=0 \
			net.ipv6.conf.default.accept_ra=0 \
			net.ipv6.conf.all.router_solicitations=0 \
			net.ipv6.conf.default.router_solicitations=0 \
			net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0
	else
		ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	fi
	ip -n "$1" link set lo up
}

# The hosts' namespaces: IPv6 on when the test runs over IPv6.
host_ns_new() {
	if [ "$FAMILY" = 6 ]; then ns_new "$1" ipv6; else ns_new "$1"; fi
}

# tcp_to IP PORT: socat's address for a TCP connection to IP:PORT.
tcp_to() {
	case $1 in
	*:*) echo "TCP6:[$1]:$2" ;;
	*) echo "TCP:$1:$2" ;;
	esac
}

# tcp_listen PORT [ADDR]: socat's address listening on PORT in ADDR's
# family (without ADDR, this run's).
tcp_listen() {
	case ${2:-$IP_A} in
	*:*) echo "TCP6-LISTEN:$1,reuseaddr" ;;
	*) echo "TCP-LISTEN:$1,reuseaddr" ;;
	esac
}

# uso_off NS...: no UDP segmentation offload on eth0 in each NS. zcctund
# sends encapsulated datagrams as UDP GSO runs, which a veth passes on as
# one packet: a capture would see one oversized datagram where a real wire
# carries the datagrams. Off, the kernel cuts each run at eth0, as a NIC
# does. test_encap switches it on again to check the runs themselves.
uso_off() {
	local ns
	for ns in "$@"; do
		ip netns exec "$ns" ethtool -K eth0 tx-udp-segmentation off >/dev/null ||
			fail "ethtool -K eth0 tx-udp-segmentation off in $ns"
	done
}

setup_topology() {
	local h addr
	ns_new "$NS_SW"
	ip -n "$NS_SW" link add br0 type bridge stp_state 0 forward_delay 0
	ip -n "$NS_SW" link set br0 up
	for h in A B C; do
		case $h in A) addr=$IP_A ;; B) addr=$IP_B ;; C) addr=$IP_C ;; esac
		host_ns_new "$PREFIX$h"
		ip -n "$NS_SW" link add "v$h" mtu 1500 type veth peer name eth0 \
			netns "$PREFIX$h"
		ip -n "$NS_SW" link set "v$h" master br0 up
		ip -n "$PREFIX$h" link set eth0 mtu 1500 up
		ip -n "$PREFIX$h" addr add "$addr/$PLEN" dev eth0
		uso_off "$PREFIX$h"
	done
	# Prove the bridge forwards (and prime ARP) before any test starts.
	reachable "$NS_A" "$IP_B" || fail "topology: A cannot reach B"
	reachable "$NS_B" "$IP_A" || fail "topology: B cannot reach A"
	reachable "$NS_C" "$IP_A" || fail "topology: C cannot reach A"
	reachable "$NS_C" "$IP_B" || fail "topology: C cannot reach B"
}

# setup_routed: A and B each on its own link to R ($NS_R), a namespace that
# forwards with the kernel and knows nothing of zcc: A's eth0 is $IP_A with
# R's ra $GW_A, B's eth0 is $IP_B with R's rb $GW_B, and each host's default
# route goes through R. The caller sets those, $FWD (R's forwarding sysctl)
# and NS_R.
setup_routed() {
	host_ns_new "$NS_A"
	host_ns_new "$NS_B"
	host_ns_new "$NS_R"
	ip netns exec "$NS_R" sysctl -qw "$FWD=1"
	ip -n "$NS_R" link add ra type veth peer name eth0 netns "$NS_A"
	ip -n "$NS_R" link add rb type veth peer name eth0 netns "$NS_B"
	ip -n "$NS_R" addr add "$GW_A/$PLEN" dev ra
	ip -n "$NS_R" addr add "$GW_B/$PLEN" dev rb
	ip -n "$NS_A" addr add "$IP_A/$PLEN" dev eth0
	ip -n "$NS_B" addr add "$IP_B/$PLEN" dev eth0
	ip -n "$NS_R" link set ra up
	ip -n "$NS_R" link set rb up
	ip -n "$NS_A" link set eth0 up
	ip -n "$NS_B" link set eth0 up
	uso_off "$NS_A" "$NS_B"
	ip -n "$NS_A" route add default via "$GW_A"
	ip -n "$NS_B" route add default via "$GW_B"
	reachable "$NS_A" "$IP_B" || fail "topology: A cannot reach B through R"
	reachable "$NS_B" "$IP_A" || fail "topology: B cannot reach A through R"
}

# strip_option NS PORT [MATCH]: NS, a router, replaces the zcc option with
# NOPs (checksum fixed up) in every forwarded segment of PORT that MATCH
# (nftables selectors, e.g. "ip saddr 10.0.1.1") also selects; counted.
strip_option() {
	ip netns exec "$1" nft -f - <<EOF
table inet strip {
	chain forwarded {
		type filter hook forward priority 0;
		${3:-} tcp dport $2 counter reset tcp option 253
		${3:-} tcp sport $2 counter reset tcp option 253
	}
}
EOF
}

# reachable NS ADDR: a TCP connect to a closed port is answered (refused).
reachable() {
	ip netns exec "$1" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.settimeout(3)
try:
    s.connect((sys.argv[1], 9))
except ConnectionRefusedError:
    sys.exit(0)
except OSError:
    sys.exit(1)
' "$2"
}

mac_of() { ip netns exec "$1" cat "/sys/class/net/${2:-eth0}/address"; }

# bg_start NS LOGFILE CMD...: run CMD in NS in the background, remember
# its pid in BG_PID (ip netns exec execs, so the pid is CMD's own).
bg_start() {
	local ns=$1 out=$2
	shift 2
	: >"$out"                   # exists before anyone greps it
	ip netns exec "$ns" "$@" >"$out" 2>&1 </dev/null &
	BG_PID=$!
	OUR_PIDS+=("$BG_PID")
}

# bg_wait PID [SECONDS]: wait for a background process, return its status
# (124 and kill it when it outlives SECONDS, default 60).
bg_wait() {
	local pid=$1 limit=$(( ${2:-60} * 10 )) i=0
	while kill -0 "$pid" 2>/dev/null; do
		if [ $i -ge $limit ]; then
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			return 124
		fi
		sleep 0.1
		i=$((i + 1))
	done
	wait "$pid"
}

# wait_listen NS PORT: wait up to 10 s for a TCP listener on PORT in NS.
wait_listen() {
	local i
	for i in $(seq 100); do
		ip netns exec "$1" ss -Hltn "sport = :$2" | grep -c . >/dev/null && return 0
		sleep 0.1
	done
	fail "nothing listens on port $2 in $1"
}

start_zcc() {
	local ns=$1 name=$2 pid i
	shift 2
	# A private configuration directory: the host's /etc/zcc never counts.
	if [ "${1:-}" != confdir ]; then
		mkdir -p "$TMP/conf"
		set -- confdir "$TMP/conf" "$@"
	fi
	bg_start "$ns" "$TMP/$name.log" "$ZCCTUND" "$@"
	pid=$BG_PID
	ZCC_PID[$name]=$pid
	ZCC_NS[$name]=$ns
	for i in $(seq 100); do
		grep -q ' ready: ' "$TMP/$name.log" && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" && i=0 || i=$?
			cat "$TMP/$name.log" >&2
			fail "zcctund $name exited (status $i) before ready"
		fi
		sleep 0.1
	done
	cat "$TMP/$name.log" >&2
	fail "zcctund $name not ready after 10 s"
}

# start_pair PORT [NAME_A NAME_B [KEY_A [KEY_B]]]: zcctund in A and in B,
# each the other's peer, selecting PORT, in the foreground with debug.
# Names default to A and B, keys to $TMP/key (KEY_B to KEY_A).
start_pair() {
	local port=$1 na=${2:-A} nb=${3:-B} ka=${4:-$TMP/key}
	local kb=${5:-$ka}
	start_zcc "$NS_A" "$na" peer "$IP_B" key-file "$ka" encrypt-port "$port" nodetach debug
	start_zcc "$NS_B" "$nb" peer "$IP_A" key-file "$kb" encrypt-port "$port" nodetach debug
	[ "$ka" != "$kb" ] && return 0
	wait_up "$na"
	wait_up "$nb"
}

# transfer SRC_NS DST_NS DST_IP PORT IN OUT: DST listens, SRC connects and sends.
transfer() {
	local srcns=$1 dstns=$2 dstip=$3 port=$4 in=$5 out=$6 srv rc
	bg_start "$dstns" "$TMP/srv.$port.log" \
		socat -u "$(tcp_listen "$port" "$dstip")" "CREATE:$out"
	srv=$BG_PID
	wait_listen "$dstns" "$port"
	ip netns exec "$srcns" timeout 120 socat -u "FILE:$in" \
		"$(tcp_to "$dstip" "$port"),connect-timeout=10" && rc=0 || rc=$?
	[ "$rc" = 0 ] || fail "sender to $dstip:$port failed (status $rc)"
	bg_wait "$srv" 30 || fail "receiver on port $port did not finish"
	[ "$(sha "$in")" = "$(sha "$out")" ] ||
		fail "port $port: received data differs ($(stat -c %s "$out") of $(stat -c %s "$in") bytes)"
}

# ctl_status NAME NS: zccctl show --json of NS's zcc0 into $TMP/NAME.json.
ctl_status() {
	ip netns exec "$2" "$ZCCCTL" show zcc0 --json >"$TMP/$1.json" 2>"$TMP/$1.json.err" ||
		fail "zccctl show in $2 failed: $(cat "$TMP/$1.json.err")"
}

# jv FILE KEY[.SUB]: one value of a saved status.
jv() {
	$PY -c '
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[k]
print(v)' "$1" "$2" || fail "no $2 in $1: $(cat "$1")"
}

# log_count NAME PATTERN: how many lines of NAME's log match PATTERN (grep).
log_count() { grep -c -- "$2" "$TMP/$1.log" || true; }

# wait_log NAME PATTERN [N [SECONDS]]: until NAME's log has N lines (default
# 1) matching PATTERN, looking every 50 ms for up to SECONDS (default 10);
# 1 when they pass first.
wait_log() {
	local i
	for i in $(seq $((${4:-10} * 20))); do
		[ "$(log_count "$1" "$2")" -ge "${3:-1}" ] && return 0
		sleep 0.05
	done
	return 1
}

# wait_up NAME [SECONDS]: until NAME's log says "link up" (N times, with UPS=N).
wait_up() {
	wait_log "$1" 'link up' "${UPS:-1}" "${2:-10}" && return 0
	cat "$TMP/$1.log" >&2
	fail "zcctund $1: link not up after ${2:-10} s"
}

# stop_zcc NAME [SIGNAL]: SIGTERM (or SIGNAL), then a clean exit (status 0).
stop_zcc() {
	local name=$1 sig=${2:-TERM} pid=${ZCC_PID[$1]} rc
	kill -"$sig" "$pid" 2>/dev/null || fail "zcctund $name is not running"
	bg_wait "$pid" 10 && rc=0 || rc=$?
	[ "$rc" = 0 ] || fail "zcctund $name exited with status $rc after SIG$sig"
}

# engine_pid NAME: the pid of NAME's engine, the daemon's child that moves
# the packets (zcctund-engine), whose CPU time and credentials tests read.
engine_pid() {
	pgrep -P "${ZCC_PID[$1]}" -x zcctund-engine ||
		fail "no zcctund-engine child of $1's zcctund (pid ${ZCC_PID[$1]})"
}

kill_zcc() {
	local pid=${ZCC_PID[$1]}
	kill -KILL "$pid" 2>/dev/null || fail "zcctund $1 is not running"
	wait "$pid" 2>/dev/null || true
}

# counter NAME FIELD: ask the daemon for its counters (SIGUSR1) and print
# FIELD's value from the new "counters:" line.
counter() {
	local name=$1 field=$2 log=$TMP/$1.log before line i
	before=$(grep -c 'counters:' "$log" || true)
	kill -USR1 "${ZCC_PID[$name]}" || fail "zcctund $name is not running"
	for i in $(seq 50); do
		if [ "$(grep -c 'counters:' "$log" || true)" -gt "$before" ]; then
			line=$(grep 'counters:' "$log" | tail -n1)
			echo "$line" | grep -oE "(^|[ :])$field=[0-9]+" |
				head -n1 | sed 's/.*=//' | grep . ||
				fail "no field $field in: $line"
			return 0
		fi
		sleep 0.1
	done
	fail "zcctund $name printed no counters line after SIGUSR1"
}

# counters_line NAME: the whole latest counters line (after a fresh SIGUSR1).
counters_line() {
	counter "$1" sealed >/dev/null
	grep 'counters:' "$TMP/$1.log" | tail -n1 | sed 's/.*counters:/counters:/'
}

# field LINE FIELD: FIELD's value in a counters line.
field() {
	echo "$1" | grep -oE "(^|[ :])$2=[0-9]+" | head -n1 | sed 's/.*=//' | grep . ||
		fail "no field $2 in: $1"
}

# drops_sum LINE: the sum of all drop counters in a counters line.
drops_sum() {
	echo "$1" | sed -n 's/.*dropped:\(.*\)/\1/p' | tr ' ' '\n' |
		awk -F= '/^[a-z_]+=[0-9]+$/ { n += $2 } END { print n + 0 }'
}

# udp_rcvbuf_errors NS: UDP datagrams NS's sockets dropped for want of
# buffer room, IPv4 and IPv6 together.
udp_rcvbuf_errors() {
	ip netns exec "$1" cat /proc/net/snmp /proc/net/snmp6 | awk '
		$1 == "Udp:" && $2 !~ /^[0-9]/ { for (i = 2; i <= NF; i++) h[i] = $i }
		$1 == "Udp:" && $2 ~ /^[0-9]/ {
			for (i = 2; i <= NF; i++) if (h[i] == "RcvbufErrors") n += $i }
		$1 == "Udp6RcvbufErrors" { n += $2 }
		END { print n + 0 }'
}

# nonzero_drops NAME: the drop counters that are not 0 ("bad_tag=2 ..."),
# from a fresh counters line; empty when nothing was dropped.
nonzero_drops() {
	local line
	line=$(counters_line "$1") || exit 1
	echo "$line" | sed -n 's/.*dropped:\(.*\)/\1/p' | tr ' ' '\n' |
		grep -E '^[a-z_]+=[0-9]+$' | grep -v '=0$' | tr '\n' ' ' || true
}

# capture_start NS IFACE NAME [tcpdump options] [filter...]: tcpdump into
# $TMP/NAME.pcap (whole packets unless -s N is given),
# returns once tcpdump is listening. Not promiscuous (-p): promiscuity
# would show up in snapshots and is not needed. The kernel ring is 256 MiB:
# with 32 MiB a CI run lost 192 of 6632 packets of a 0.2 s transfer.
capture_start() {
	local ns=$1 dev=$2 name=$3 i
	shift 3
	bg_start "$ns" "$TMP/$name.tcpdump.log" \
		tcpdump -p -n -U --immediate-mode -s 0 -B 262144 -Z root -i "$dev" -w "$TMP/$name.pcap" "$@"
	CAP_PID[$name]=$BG_PID
	for i in $(seq 100); do
		grep -q 'listening on' "$TMP/$name.tcpdump.log" && return 0
		kill -0 "$BG_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$TMP/$name.tcpdump.log" >&2
	fail "tcpdump on $ns/$dev did not start"
}

# capture_stop NAME: flush and stop; prints nothing, the file is $TMP/NAME.pcap.
capture_stop() {
	local pid=${CAP_PID[$1]} size last=-1 still=0 i
	# Let the last segments in flight land: on a loaded machine tcpdump can
	# be behind, and it does not drain its ring when interrupted. Stop once
	# the file has not grown for 0.3 s (5 s at most).
	for i in $(seq 50); do
		size=$(stat -c %s "$TMP/$1.pcap" 2>/dev/null || echo 0)
		if [ "$size" = "$last" ]; then
			still=$((still + 1))
			[ "$still" -ge 3 ] && break
		else
			still=0
		fi
		last=$size
		sleep 0.1
	done
	kill -INT "$pid" 2>/dev/null
	bg_wait "$pid" 10 >/dev/null 2>&1 || true
	CAP_DROPPED=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' \
		"$TMP/$1.tcpdump.log")
	[ "${CAP_DROPPED:-0}" = 0 ] ||
		log "warning: capture $1 lost $CAP_DROPPED packets (kernel drops)"
	local got seen
	got=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$TMP/$1.tcpdump.log")
	seen=$(sed -n 's/^\([0-9]*\) packets received by filter.*/\1/p' "$TMP/$1.tcpdump.log")
	# Not a loss by itself: libpcap counts as received the packets that
	# arrived before its filter was in the kernel, and discards them (a
	# capture started during a busy flow on another port shows this).
	[ "$got" = "$seen" ] ||
		log "warning: capture $1 wrote $got of $seen packets"
	CAP_LOST[$1]=${CAP_DROPPED:-0}
}

# capture_complete NAME...: fail when a capture lost packets, since checks
# on an incomplete capture prove nothing.
capture_complete() {
	local c
	for c in "$@"; do
		[ "${CAP_LOST[$c]:-0}" = 0 ] ||
			fail "capture $c lost ${CAP_LOST[$c]} packets: its checks would be incomplete"
	done
}

# snapshot NS FILE: everything zcctund might install or change in NS,
# without volatile fields (no statistics, no promiscuity counter).
snapshot() {
	local ns=$1 file=$2 dev inum f
	{
		echo "## ip -d link"
		ip -n "$ns" -d link show | sed -E 's/ promiscuity [0-9]+//'
		echo "## ip addr"
		ip -n "$ns" addr show
		echo "## ip rule"
		ip -n "$ns" rule show
		echo "## ip -6 rule"
		ip -n "$ns" -6 rule show 2>/dev/null
		echo "## ip route show table all"
		ip -n "$ns" route show table all
		echo "## ip -6 route show table all"
		ip -n "$ns" -6 route show table all 2>/dev/null
		echo "## tc qdisc"
		ip netns exec "$ns" tc qdisc show
		for dev in $(ip netns exec "$ns" ls /sys/class/net); do
			echo "## tc filter $dev ingress"
			ip netns exec "$ns" tc filter show dev "$dev" ingress 2>/dev/null
			echo "## tc filter $dev egress"
			ip netns exec "$ns" tc filter show dev "$dev" egress 2>/dev/null
		done
		echo "## nft list ruleset"
		ip netns exec "$ns" nft list ruleset
		echo "## rp_filter"
		ip netns exec "$ns" sh -c \
			'for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo "$f $(cat "$f")"; done'
		echo "## state files"
		# State files of this namespace (/run/zcc/IFNAME.netns-INODE.state);
		# other namespaces' files are not ours to compare.
		inum=$(stat -L -c %i "/run/netns/$ns")
		for f in /run/zcc/*."netns-$inum".* /run/zcc/*[!0-9]"$inum"[!0-9]*; do
			if [ -e "$f" ]; then echo "${f##*/}"; fi
		done | sort -u
	} >"$file" 2>&1
}

# same_snapshot BEFORE AFTER WHAT: fail with the diff when they differ.
same_snapshot() {
	if ! diff -u "$1" "$2" >"$TMP/snapdiff" 2>&1; then
		cat "$TMP/snapdiff" >&2
		fail "$3: namespace state differs from before (diff above)"
	fi
}

# genkey FILE: a fresh link key, mode 0600.
genkey() {
	(umask 077 && "$ZCCTUND" genkey >"$1") || fail "zcctund genkey failed"
	chmod 600 "$1"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# trickle PORT SECONDS BYTES INTERVAL: in the background until trickle_wait,
# A sends B BYTES every INTERVAL seconds on PORT (TCP_NODELAY: each write
# its own segment) into a sink in B.
trickle() {
	bg_start "$NS_B" "$TMP/sink.log" socat -u "$(tcp_listen "$1" "$IP_B")" /dev/null
	SINK=$BG_PID
	wait_listen "$NS_B" "$1"
	bg_start "$NS_A" "$TMP/trickle.log" $PY -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
data, pause = b"x" * int(sys.argv[4]), float(sys.argv[5])
end = time.monotonic() + float(sys.argv[3])
while time.monotonic() < end:
    s.sendall(data)
    time.sleep(pause)
s.close()' "$IP_B" "$1" "$2" "$3" "$4"
	TRICKLE=$BG_PID
}

trickle_wait() {
	bg_wait "$TRICKLE" 20 || fail "the trickle client failed: $(cat "$TMP/trickle.log")"
	bg_wait "$SINK" 20 || fail "the trickle sink failed: $(cat "$TMP/sink.log")"
}

# nft_packets NS FAMILY TABLE CHAIN: the sum of the rule counters ("counter
# packets N") in CHAIN of table FAMILY TABLE in NS; fails when the table or
# chain is missing.
nft_packets() {
	local out
	out=$(ip netns exec "$1" nft list chain "$2" "$3" "$4" 2>&1) ||
		fail "no chain $4 in table $2 $3 in $1: $out"
	echo "$out" | awk '{ for (i = 1; i < NF; i++)
		if ($i == "packets") n += $(i + 1) } END { print n + 0 }'
}

# nft_dropped NS CHAIN: nft_packets of CHAIN ("input" or "output") of
# zcctund's backstop table inet zcc_zcc0.
nft_dropped() { nft_packets "$1" inet zcc_zcc0 "$2"; }

# check_wire_sealed PCAP PORT PLAINTEXT...: every segment of PORT in the
# capture carries the zcc option, and no 16-byte run of any PLAINTEXT file
# appears in a payload of PORT.
check_wire_sealed() {
	local pcap=$1 port=$2 f
	shift 2
	$PCAP check-sealed "$pcap" --port "$port" ||
		fail "a segment of port $port on the wire lacks the zcc option"
	for f in "$@"; do
		$PCAP grep "$pcap" --port "$port" --needle-file "$f" --min 16 ||
			fail "plaintext of $(basename "$f") on the wire"
	done
	check "every port-$port segment on the wire sealed, no plaintext"
}
