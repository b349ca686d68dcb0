#!/bin/bash
# SPDX-License-Identifier: ISC
# The benchmark of issue 5, one command, as root on Debian 12:
#
#     bench/run.sh [--smoke] [--reps N] [--seconds S] [--configs LIST]
#
# Installs what is missing (apt-get), builds a Release zcctund with the bench
# tools in build-bench/, runs build-bench/bench/bench_seal (seal and open per
# segment beside the bare libsodium primitives), then makes two network
# namespaces A (10.0.0.1) and B (10.0.0.2) joined by one veth pair and
# measures, alternating the configurations within each repetition:
#
#     plain     plain TCP over the veth (the physical limit here)
#     zcc       zcctund in place on both ends, the service ports selected
#     zcc-encap the same zcctunds, the clients reaching an address of B's
#               routed into zcc0: every packet encapsulated
#     zcc-poll  zcc with busy-poll 50 at both ends (zcctund(8)): polls
#               50 us after each packet instead of sleeping
#     wg-go     Debian 12's wireguard-go 0.0.20220316 (userspace, apt; the
#               old one), tunnel 10.9.0.1 - 10.9.0.2
#     wg-go-new the current wireguard-go, Debian 13's 0.0.20231211 (it prints
#               v0.0.20230223; TUN offloads, UDP GSO/GRO), started as wg-go:
#               the binary at $ZCC_WG_GO, else ../shared/peers/wireguard-go
#               beside the repository (its README.md); skipped, with one
#               line and a note in the report, when there is none
#     ovpn      OpenVPN 2.6 p2p, TLS mode, AES-256-GCM, no DCO, tun over UDP,
#               tunnel 10.8.0.1 - 10.8.0.2
#     spiped    spiped -e in A (127.0.0.1) -> spiped -d in B -> 127.0.0.1
#     stunnel   stunnel (TLS 1.3 only), the same shape as spiped
#
# For each configuration and repetition: iperf3 throughput with 1 and 4
# streams; sockperf TCP ping-pong of 64-byte messages (p50 and p99, half a
# round trip: sockperf's default); connrate connections per second
# (connect, 64 bytes each way, close) with 1 and 8 in flight; CPU cores used
# by the tunnel processes and by the whole system during each test.
# Medians and min-max go to docs/PERFORMANCE.md (tables, every figure also
# as a ratio to plain TCP and zcc's to each peer, the targets of issue 17
# met or not) and docs/performance.png; the targets are printed at the end
# too. They are information: a target not met does not fail the run.
#
#     --smoke        1 repetition, plain, zcc, zcc-encap and zcc-poll, 2 s per test, bench_seal
#                    --quick; writes build-bench/PERFORMANCE-smoke.md (and
#                    its PNG) instead of docs/, and prints the path
#     --reps N       repetitions (default 3)
#     --seconds S    seconds per test (default 5, at least 2)
#     --configs L    a subset, comma-separated (default: all nine)
#
# Exits non-zero when the table is missing or a configuration produced no
# number for a figure (wg-go-new without its binary is skipped before the
# run, so that is not such a failure). Everything it starts (daemons,
# servers, clients), its namespaces and its temp dir are removed by the EXIT trap, pass or fail;
# the raw outputs (no keys) are kept in build-bench/bench-last/. Traffic
# stays inside the two namespaces.
set -euo pipefail

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
	exit "${1:-2}"
}

ALL_CONFIGS="plain zcc zcc-encap zcc-poll wg-go wg-go-new ovpn spiped stunnel"
ARGS=("$@")
SMOKE=0
REPS=
SECS=
CONFIGS=
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) SMOKE=1 ;;
	--reps) [ $# -ge 2 ] || usage; REPS=$2; shift ;;
	--reps=*) REPS=${1#*=} ;;
	--seconds) [ $# -ge 2 ] || usage; SECS=$2; shift ;;
	--seconds=*) SECS=${1#*=} ;;
	--configs) [ $# -ge 2 ] || usage; CONFIGS=$2; shift ;;
	--configs=*) CONFIGS=${1#*=} ;;
	-h|--help) usage 0 ;;
	*) echo "$0: unknown argument: $1" >&2; usage ;;
	esac
	shift
done
if [ "$SMOKE" = 1 ]; then
	: "${REPS:=1}" "${SECS:=2}" "${CONFIGS:=plain,zcc,zcc-encap,zcc-poll}"
fi
: "${REPS:=3}" "${SECS:=5}" "${CONFIGS:=${ALL_CONFIGS// /,}}"
[[ $REPS =~ ^[1-9][0-9]*$ ]] || { echo "$0: --reps: a positive integer" >&2; exit 2; }
if ! [[ $SECS =~ ^[0-9]+$ ]] || [ "$SECS" -lt 2 ]; then
	echo "$0: --seconds: an integer, at least 2" >&2
	exit 2
fi
CONFIGS=${CONFIGS//,/ }
for c in $CONFIGS; do
	case " $ALL_CONFIGS " in *" $c "*) ;; *)
		echo "$0: unknown configuration $c (known: $ALL_CONFIGS)" >&2; exit 2 ;;
	esac
done

if [ "$(id -u)" != 0 ]; then
	exec sudo -E "$0" "${ARGS[@]}"
fi
# ZCC_WG_GO may be relative to the directory the command was typed in.
WG_GO_NEW_ENV=${ZCC_WG_GO:-}
[ -z "$WG_GO_NEW_ENV" ] || WG_GO_NEW_ENV=$(realpath -m -- "$WG_GO_NEW_ENV")
cd "$(dirname "$0")/.."
SRCDIR=$(pwd)
BENCH=$SRCDIR/bench
BUILD=$SRCDIR/build-bench
COMMAND="bench/run.sh${ARGS[*]:+ ${ARGS[*]}}"
START=$(date +%s)

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }
warn() { printf '%s WARNING: %s\n' "$(date +%H:%M:%S)" "$*" >&2; WARNINGS=$((WARNINGS + 1)); }
fail() { printf 'bench/run.sh: FAIL: %s\n' "$*" >&2; exit 1; }
WARNINGS=0

# ---- wg-go-new: the current wireguard-go, not from apt ---------------------

# The binary /work/shared/peers/README.md describes: Debian 13's package,
# taken by hand because Debian 12 has only the old one.
WG_GO_NEW_SHA256=9014f03dd4dc92d397f619ea603bc57d93d72d799301b2cd8625b7e69825ab97
WG_GO_NEW_DEB=0.0.20231211-1+b9
WG_GO_NEW=${WG_GO_NEW_ENV:-$(dirname "$SRCDIR")/shared/peers/wireguard-go}
WG_GO_NEW_SKIPPED=              # why wg-go-new did not run, for the report
declare -a WG_GO_NEW_INFO=()    # KEY<TAB>VALUE lines for machine.tsv

# probe_wg_go_new: checks the binary once, before anything is installed or
# built. Without a runnable one wg-go-new leaves CONFIGS with one line: a
# peer missing on this machine is no failure of zcc's bench.
probe_wg_go_new() {
	local out= sum c rest=
	if [ ! -f "$WG_GO_NEW" ] || [ ! -x "$WG_GO_NEW" ]; then
		WG_GO_NEW_SKIPPED="no wireguard-go at $WG_GO_NEW (set ZCC_WG_GO)"
	elif ! out=$("$WG_GO_NEW" --version 2>&1) || [[ $out != wireguard-go* ]]; then
		WG_GO_NEW_SKIPPED="$WG_GO_NEW --version failed: ${out%%$'\n'*}"
	fi
	if [ -n "$WG_GO_NEW_SKIPPED" ]; then
		log "wg-go-new skipped: $WG_GO_NEW_SKIPPED"
		for c in $CONFIGS; do
			[ "$c" = wg-go-new ] || rest+=${rest:+ }$c
		done
		CONFIGS=$rest
		return 0
	fi
	# A binary other than the README's still runs (ZCC_WG_GO is the
	# user's choice), but the report must not call it Debian 13's.
	sum=$(sha256sum <"$WG_GO_NEW") && sum=${sum%% *}
	WG_GO_NEW_INFO+=("wg_go_new_path	$WG_GO_NEW" "wg_go_new_version	${out%%$'\n'*}"
		"wg_go_new_sha256	$sum")
	if [ "$sum" = "$WG_GO_NEW_SHA256" ]; then
		WG_GO_NEW_INFO+=("wg_go_new_deb	$WG_GO_NEW_DEB")
	else
		warn "$WG_GO_NEW: sha256 $sum, not the one of shared/peers/README.md"
	fi
	log "wg-go-new: $WG_GO_NEW, ${out%%$'\n'*}, sha256 ${sum:0:16}..."
}

case " $CONFIGS " in *" wg-go-new "*) probe_wg_go_new ;; esac
if [ -z "$CONFIGS" ]; then
	log "no configuration left to measure"
	exit 0
fi

# ---- packages and build ----------------------------------------------------

PACKAGES="build-essential cmake pkg-config libsodium-dev libssl-dev liblz4-dev
	libconfig-dev libevent-dev libsystemd-dev iproute2 nftables procps python3 iperf3
	sockperf gnuplot-nox"
for c in $CONFIGS; do
	case $c in
	wg-go) PACKAGES+=" wireguard-go wireguard-tools" ;;
	wg-go-new) PACKAGES+=" wireguard-tools" ;;   # wg; the daemon is $WG_GO_NEW
	ovpn) PACKAGES+=" openvpn openssl" ;;
	spiped) PACKAGES+=" spiped" ;;
	stunnel) PACKAGES+=" stunnel4 openssl" ;;
	esac
done

# install_missing, as in ./run.sh.
install_missing() {
	local p missing=()
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return 0
	echo "== installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
}

install_missing
# zcctund's engine runs as its own user (zcctund(8), Privileges).
id -u zcc >/dev/null 2>&1 || useradd --system --no-create-home \
	--home-dir /nonexistent --shell /usr/sbin/nologin zcc
log "building a Release zcctund and the bench tools in build-bench/"
# The commit the binaries are built from, read now: files edited during the
# run do not make the report say "-dirty".
ZCC_REV=$(git -C "$SRCDIR" describe --always --dirty 2>/dev/null || echo unknown)
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DZCC_BENCH=ON >/dev/null
cmake --build "$BUILD" -j2 >/dev/null
ZCCTUND=$BUILD/zcctund
CONNRATE=$BUILD/bench/connrate
BENCH_SEAL=$BUILD/bench/bench_seal
for f in "$ZCCTUND" "$CONNRATE" "$BENCH_SEAL"; do
	[ -x "$f" ] || fail "the build made no $f"
done

# ---- state and cleanup -----------------------------------------------------

PREFIX="zccb$$-$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')-"
RID=${PREFIX#zccb}; RID=${RID//-/}; RID=${RID: -4}   # 4 hex digits
NS_A=${PREFIX}A
NS_B=${PREFIX}B
IP_A=10.0.0.1
IP_B=10.0.0.2
WG_A=zbw${RID}a                 # wireguard-go's UAPI sockets live in the
WG_B=zbw${RID}b                 # shared /var/run/wireguard: unique names,
WG_NEW_A=zbn${RID}a             # and others for wg-go-new, so that a slot
WG_NEW_B=zbn${RID}b             # never meets the other's leftovers
PORT_IPERF=5201
PORT_SOCKPERF=11111
PORT_CONNRATE=7000
SERVICE_PORTS="$PORT_IPERF $PORT_SOCKPERF $PORT_CONNRATE"
declare -a OUR_NS=()            # namespaces we created
declare -a OUR_PIDS=()          # every background process we started
declare -a SLOT_PIDS=()         # the current configuration's processes
declare -a TUN_PIDS=()          # ... those whose CPU time is the tunnel's
declare -A ZCC_PID=()           # A/B -> zcctund pid of the current slot
ZCC_STARTED=0
OK=0
TMP=

# ours PID: PID is alive and a child of this script.
ours() {
	[ "$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')" = "$$" ]
}

cleanup() {
	local rc=$? pid ns f
	set +e
	trap - EXIT INT TERM HUP
	# Only pids that are still our children: a reaped pid may be reused.
	for pid in "${OUR_PIDS[@]}"; do
		ours "$pid" && kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${OUR_PIDS[@]}"; do
		for _ in $(seq 30); do
			ours "$pid" || break
			sleep 0.1
		done
		ours "$pid" && kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	# Whatever still runs inside our own namespaces is ours too.
	for ns in "${OUR_NS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
	done
	if [ "$ZCC_STARTED" = 1 ]; then
		for ns in "${OUR_NS[@]}"; do
			ip netns exec "$ns" "$ZCCTUND" cleanup >/dev/null 2>&1
		done
	fi
	for ns in "${OUR_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	for f in "$WG_A" "$WG_B" "$WG_NEW_A" "$WG_NEW_B"; do
		f=/var/run/wireguard/$f.sock
		rm -f "$f"
	done
	if [ "$OK" != 1 ] && [ -n "$TMP" ] && [ -d "$TMP" ]; then
		for f in "$TMP"/*.log; do
			[ -s "$f" ] || continue
			echo "----- $(basename "$f") -----" >&2
			tail -n 15 "$f" >&2
		done
	fi
	# Keep the raw outputs (no keys) for a look afterwards, or to re-run
	# bench/report.py on them: build-bench/bench-last/.
	if [ -n "$TMP" ] && [ -d "$TMP" ]; then
		rm -rf "$BUILD/bench-last"
		mkdir -p "$BUILD/bench-last"
		for f in "$TMP"/*.tsv "$TMP"/*.out "$TMP"/*.json "$TMP"/*.log "$TMP"/*.dat; do
			[ -f "$f" ] && cp "$f" "$BUILD/bench-last/"
		done
		rm -rf "$TMP"
	fi
	[ "$OK" != 1 ] && [ "$rc" = 0 ] && rc=1
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

TMP=$(mktemp -d "/tmp/${PREFIX}XXXX")
RESULTS=$TMP/results.tsv
: >"$RESULTS"

# ---- helpers (after test/net/lib.sh) ---------------------------------------

# bg_start NS OUT CMD...: CMD in NS in the background, stdout and stderr to
# OUT, its pid in BG_PID (ip netns exec execs, so the pid is CMD's own).
bg_start() {
	local ns=$1 out=$2
	shift 2
	: >"$out"
	ip netns exec "$ns" "$@" >"$out" 2>&1 </dev/null &
	BG_PID=$!
	OUR_PIDS+=("$BG_PID")
}

# slot_start NS OUT CMD...: bg_start, and stopped at the end of the slot.
slot_start() {
	bg_start "$@"
	SLOT_PIDS+=("$BG_PID")
}

# bg_wait PID [SECONDS]: its exit status, or 124 after killing it when it
# outlives SECONDS (default 60).
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

# wait_listen NS PORT [ADDR]: up to 10 s for a TCP listener.
wait_listen() {
	local i
	for i in $(seq 100); do
		ip netns exec "$1" ss -Hltn "sport = :$2" | grep -c "${3:-.}" >/dev/null && return 0
		sleep 0.1
	done
	warn "nothing listens on port $2 in ${1#"$PREFIX"}"
	return 1
}

# wait_log FILE TEXT [SECONDS] [PID...]: until FILE has TEXT (default 15 s);
# fails early when one of the PIDs has exited.
wait_log() {
	local file=$1 text=$2 secs=${3:-15} i pid
	shift 3 || shift $#
	for i in $(seq $((secs * 10))); do
		grep -qF -- "$text" "$file" && return 0
		for pid in "$@"; do
			kill -0 "$pid" 2>/dev/null || { warn "$(basename "$file"): process exited"; return 1; }
		done
		sleep 0.1
	done
	warn "$(basename "$file"): no \"$text\" after $secs s"
	return 1
}

# reachable NS ADDR: a TCP connect to a closed port is answered (refused).
reachable() {
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket()
s.settimeout(2)
try:
    s.connect((sys.argv[1], 9))
except ConnectionRefusedError:
    sys.exit(0)
except OSError:
    sys.exit(1)
' "$2"
}

# wait_reachable NS ADDR: up to 15 s (a tunnel's first packets start its
# handshake).
wait_reachable() {
	local i
	for i in $(seq 15); do
		reachable "$1" "$2" && return 0
		sleep 0.5
	done
	warn "${1#"$PREFIX"} cannot reach $2"
	return 1
}

# rec CONFIG REP METRIC VALUE
rec() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RESULTS"; }

# CPU accounting: clock ticks (utime + stime, all threads) of PIDS, and of
# the whole system (/proc/stat: all but idle and iowait).
proc_ticks() {
	local pid t=0 n
	for pid in "$@"; do
		n=$(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null) || n=0
		t=$((t + ${n:-0}))
	done
	echo "$t"
}
sys_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
now() { date +%s.%N; }
HZ=$(getconf CLK_TCK)

# ---- topology --------------------------------------------------------------

ns_new() {
	ip netns add "$1"
	OUR_NS+=("$1")
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	# What connrate asks for at tens of thousands of connections per second.
	ip netns exec "$1" sysctl -qw net.ipv4.tcp_tw_reuse=1 \
		net.ipv4.ip_local_port_range="1024 65535" \
		net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535
	ip -n "$1" link set lo up
}

setup_topology() {
	ns_new "$NS_A"
	ns_new "$NS_B"
	ip -n "$NS_A" link add eth0 mtu 1500 type veth peer name eth0 mtu 1500 netns "$NS_B"
	ip -n "$NS_A" addr add "$IP_A/24" dev eth0
	ip -n "$NS_B" addr add "$IP_B/24" dev eth0
	ip -n "$NS_A" link set eth0 up
	ip -n "$NS_B" link set eth0 up
	wait_reachable "$NS_A" "$IP_B" || fail "topology: A cannot reach B"
	wait_reachable "$NS_B" "$IP_A" || fail "topology: B cannot reach A"
}

# ---- the configurations ----------------------------------------------------
# start_CFG: starts the tunnel (into SLOT_PIDS, its CPU-counted processes
# into TUN_PIDS), sets HOST and the three ports the clients in A use, and
# returns 0 once traffic can flow; 1 (with a warning) when it cannot.

start_plain() {
	HOST=$IP_B; P_IPERF=$PORT_IPERF; P_SOCKPERF=$PORT_SOCKPERF; P_CONNRATE=$PORT_CONNRATE
}

# start_zcc [WORD...]: zcctund at both ends, with the extra words.
start_zcc() {
	local n peer ns args=() p
	[ -f "$TMP/zcc.key" ] || { (umask 077 && "$ZCCTUND" genkey >"$TMP/zcc.key") || return 1; }
	mkdir -p "$TMP/zccconf"
	for p in $SERVICE_PORTS; do args+=(encrypt-port "$p"); done
	ZCC_STARTED=1
	for n in A B; do
		if [ $n = A ]; then ns=$NS_A; peer=$IP_B; else ns=$NS_B; peer=$IP_A; fi
		slot_start "$ns" "$TMP/zcc-$n.log" "$ZCCTUND" confdir "$TMP/zccconf" \
			peer "$peer" key-file "$TMP/zcc.key" "${args[@]}" "$@" nodetach
		ZCC_PID[$n]=$BG_PID
		TUN_PIDS+=("$BG_PID")
	done
	wait_log "$TMP/zcc-A.log" 'link up' 15 "${ZCC_PID[A]}" || return 1
	wait_log "$TMP/zcc-B.log" 'link up' 15 "${ZCC_PID[B]}" || return 1
	# The engines move the packets: their CPU is the tunnel's too.
	for n in A B; do
		p=$(pgrep -P "${ZCC_PID[$n]}" -x zcctund-engine) ||
			{ warn "zcctund $n has no engine"; return 1; }
		TUN_PIDS+=("$p")
	done
	start_plain
}

start_zcc-poll() { start_zcc busy-poll 50; }

# The encapsulated path: addresses that are not the two hosts', routed
# into zcc0 at both ends, so nothing is a selected in-place flow.
start_zcc-encap() {
	start_zcc || return 1
	ip -n "$NS_A" addr replace 10.9.8.1/32 dev lo || return 1
	ip -n "$NS_B" addr replace 10.9.9.2/32 dev lo || return 1
	ip -n "$NS_A" route add 10.9.9.2/32 dev zcc0 src 10.9.8.1 || return 1
	ip -n "$NS_B" route add 10.9.8.1/32 dev zcc0 src 10.9.9.2 || return 1
	wait_reachable "$NS_A" 10.9.9.2 || return 1
	HOST=10.9.9.2
}

# zcc_check FIELD: FIELD (sealed or encapsulated) of both ends' counters
# (SIGUSR1) must be non-zero, to prove the measured traffic went through
# zcctund; prints the counters lines.
zcc_check() {
	local n before i sealed field=$1
	for n in A B; do
		before=$(grep -c 'counters:' "$TMP/zcc-$n.log" || true)
		kill -USR1 "${ZCC_PID[$n]}" 2>/dev/null || { warn "zcctund $n is not running"; return 1; }
		for i in $(seq 50); do
			[ "$(grep -c 'counters:' "$TMP/zcc-$n.log" || true)" -gt "$before" ] && break
			sleep 0.1
		done
		sealed=$(python3 "$BENCH/parse.py" counter "$TMP/zcc-$n.log" "$field") || return 1
		log "  zcctund $n: $(grep 'counters:' "$TMP/zcc-$n.log" | tail -n1 | sed 's/.*counters: //')"
		[ "$sealed" -gt 0 ] || { warn "zcctund $n: $field 0, the traffic bypassed it"; return 1; }
	done
}

# start_wg BIN IF_A IF_B: the wireguard-go BIN in each namespace, its
# interfaces IF_A and IF_B, configured with wg (wireguard-tools) through
# their UAPI sockets: the same tunnel whichever wireguard-go it is.
start_wg() {
	local bin=$1 if_a=$2 if_b=$3 n ns me privA privB pubA pubB i
	privA=$(wg genkey); privB=$(wg genkey)
	pubA=$(echo "$privA" | wg pubkey); pubB=$(echo "$privB" | wg pubkey)
	(umask 077 && echo "$privA" >"$TMP/wgA.key" && echo "$privB" >"$TMP/wgB.key")
	for n in A B; do
		if [ $n = A ]; then ns=$NS_A; me=$if_a; else ns=$NS_B; me=$if_b; fi
		slot_start "$ns" "$TMP/wg-$n.log" env WG_PROCESS_FOREGROUND=1 "$bin" "$me"
		TUN_PIDS+=("$BG_PID")
		for i in $(seq 100); do
			[ -S "/var/run/wireguard/$me.sock" ] && break
			kill -0 "$BG_PID" 2>/dev/null || { warn "wireguard-go $n exited"; return 1; }
			sleep 0.1
		done
		[ -S "/var/run/wireguard/$me.sock" ] || { warn "wireguard-go $n: no UAPI socket"; return 1; }
	done
	ip netns exec "$NS_A" wg set "$if_a" private-key "$TMP/wgA.key" listen-port 51820 \
		peer "$pubB" allowed-ips 10.9.0.2/32 endpoint "$IP_B:51820" || return 1
	ip netns exec "$NS_B" wg set "$if_b" private-key "$TMP/wgB.key" listen-port 51820 \
		peer "$pubA" allowed-ips 10.9.0.1/32 endpoint "$IP_A:51820" || return 1
	ip -n "$NS_A" addr add 10.9.0.1/24 dev "$if_a" || return 1
	ip -n "$NS_B" addr add 10.9.0.2/24 dev "$if_b" || return 1
	ip -n "$NS_A" link set "$if_a" up || return 1
	ip -n "$NS_B" link set "$if_b" up || return 1
	wait_reachable "$NS_A" 10.9.0.2 || return 1
	wait_reachable "$NS_B" 10.9.0.1 || return 1
	HOST=10.9.0.2; P_IPERF=$PORT_IPERF; P_SOCKPERF=$PORT_SOCKPERF; P_CONNRATE=$PORT_CONNRATE
}

start_wg-go() { start_wg wireguard-go "$WG_A" "$WG_B"; }
start_wg-go-new() { start_wg "$WG_GO_NEW" "$WG_NEW_A" "$WG_NEW_B"; }

# make_certs: a CA and certificates for a and b (P-256), once per run.
make_certs() {
	local d=$TMP/pki n
	[ -f "$d/b.crt" ] && return 0
	mkdir -p "$d"
	(
		set -e
		cd "$d"
		umask 077
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout ca.key -out ca.crt -days 2 -subj /CN=zcc-bench-ca
		for n in a b; do
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
				-keyout $n.key -out $n.csr -subj "/CN=$n"
			openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
				-out $n.crt -days 2
		done
	) >"$TMP/pki.out" 2>&1 || { warn "openssl failed: $(tail -n3 "$TMP/pki.out")"; return 1; }
}

start_ovpn() {
	local n ns args pids=()
	make_certs || return 1
	for n in A B; do
		args=(--dev tun --proto udp --lport 1194 --rport 1194
			--data-ciphers AES-256-GCM --cipher AES-256-GCM --disable-dco
			--ca "$TMP/pki/ca.crt" --verb 3)
		if [ $n = A ]; then
			ns=$NS_A
			args+=(--local "$IP_A" --remote "$IP_B" --ifconfig 10.8.0.1 10.8.0.2
				--tls-client --cert "$TMP/pki/a.crt" --key "$TMP/pki/a.key")
		else
			ns=$NS_B
			args+=(--local "$IP_B" --remote "$IP_A" --ifconfig 10.8.0.2 10.8.0.1
				--tls-server --dh none --cert "$TMP/pki/b.crt" --key "$TMP/pki/b.key")
		fi
		slot_start "$ns" "$TMP/ovpn-$n.log" openvpn "${args[@]}"
		TUN_PIDS+=("$BG_PID")
		pids+=("$BG_PID")
	done
	wait_log "$TMP/ovpn-A.log" 'Initialization Sequence Completed' 30 "${pids[@]}" || return 1
	wait_log "$TMP/ovpn-B.log" 'Initialization Sequence Completed' 30 "${pids[@]}" || return 1
	wait_reachable "$NS_A" 10.8.0.2 || return 1
	HOST=10.8.0.2; P_IPERF=$PORT_IPERF; P_SOCKPERF=$PORT_SOCKPERF; P_CONNRATE=$PORT_CONNRATE
}

# The proxies: the client in A talks to 127.0.0.1:PORT+10000, the proxy in
# A to IP_B:PORT+20000, the proxy in B to 127.0.0.1:PORT (the server).
start_spiped() {
	local p
	[ -f "$TMP/spiped.key" ] ||
		(umask 077 && dd if=/dev/urandom of="$TMP/spiped.key" bs=32 count=1 2>/dev/null)
	for p in $SERVICE_PORTS; do
		slot_start "$NS_B" "$TMP/spiped-B-$p.log" spiped -d -F \
			-s "[$IP_B]:$((p + 20000))" -t "[127.0.0.1]:$p" -k "$TMP/spiped.key"
		TUN_PIDS+=("$BG_PID")
		slot_start "$NS_A" "$TMP/spiped-A-$p.log" spiped -e -F \
			-s "[127.0.0.1]:$((p + 10000))" -t "[$IP_B]:$((p + 20000))" -k "$TMP/spiped.key"
		TUN_PIDS+=("$BG_PID")
	done
	for p in $SERVICE_PORTS; do
		wait_listen "$NS_B" $((p + 20000)) || return 1
		wait_listen "$NS_A" $((p + 10000)) || return 1
	done
	proxy_ports
}

start_stunnel() {
	local p n conf
	make_certs || return 1
	for n in A B; do
		conf=$TMP/stunnel-$n.conf
		{
			echo "foreground = yes"
			echo "pid ="
			echo "debug = warning"
			for p in $SERVICE_PORTS; do
				echo "[s$p]"
				echo "sslVersionMin = TLSv1.3"
				if [ $n = A ]; then
					echo "client = yes"
					echo "accept = 127.0.0.1:$((p + 10000))"
					echo "connect = $IP_B:$((p + 20000))"
					echo "CAfile = $TMP/pki/ca.crt"
					echo "verifyChain = yes"
				else
					echo "accept = $IP_B:$((p + 20000))"
					echo "connect = 127.0.0.1:$p"
					echo "cert = $TMP/pki/b.crt"
					echo "key = $TMP/pki/b.key"
				fi
			done
		} >"$conf"
		if [ $n = A ]; then
			slot_start "$NS_A" "$TMP/stunnel-A.log" stunnel "$conf"
		else
			slot_start "$NS_B" "$TMP/stunnel-B.log" stunnel "$conf"
		fi
		TUN_PIDS+=("$BG_PID")
	done
	for p in $SERVICE_PORTS; do
		wait_listen "$NS_B" $((p + 20000)) || return 1
		wait_listen "$NS_A" $((p + 10000)) || return 1
	done
	proxy_ports
}

proxy_ports() {
	HOST=127.0.0.1
	P_IPERF=$((PORT_IPERF + 10000))
	P_SOCKPERF=$((PORT_SOCKPERF + 10000))
	P_CONNRATE=$((PORT_CONNRATE + 10000))
}

# The servers, in B on all addresses, started afresh for every slot.
start_servers() {
	slot_start "$NS_B" "$TMP/iperf3-server.log" iperf3 -s -B 0.0.0.0 -p "$PORT_IPERF"
	slot_start "$NS_B" "$TMP/sockperf-server.log" sockperf sr --tcp -i 0.0.0.0 -p "$PORT_SOCKPERF"
	slot_start "$NS_B" "$TMP/connrate-server.log" "$CONNRATE" server "$PORT_CONNRATE"
	wait_listen "$NS_B" "$PORT_IPERF" &&
		wait_listen "$NS_B" "$PORT_SOCKPERF" &&
		wait_listen "$NS_B" "$PORT_CONNRATE"
}

# stop_slot: SIGTERM to the slot's processes (zcctund first; "zcctund
# cleanup" then lifts the block it leaves, so the next configuration finds
# the hosts as they were), then SIGKILL to whatever outlives 5 s.
stop_slot() {
	local pid rc n ns
	for n in A B; do
		pid=${ZCC_PID[$n]:-}
		[ -n "$pid" ] || continue
		kill -TERM "$pid" 2>/dev/null || true
		bg_wait "$pid" 10 && rc=0 || rc=$?
		[ "$rc" = 0 ] || warn "zcctund $n exited with status $rc after SIGTERM"
		if [ $n = A ]; then ns=$NS_A; else ns=$NS_B; fi
		ip netns exec "$ns" "$ZCCTUND" cleanup >/dev/null 2>&1 ||
			warn "zcctund cleanup in $n failed"
	done
	ZCC_PID=()
	for pid in "${SLOT_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${SLOT_PIDS[@]}"; do
		bg_wait "$pid" 5 >/dev/null 2>&1 || true
	done
	SLOT_PIDS=()
	TUN_PIDS=()
}

# ---- the measurements ------------------------------------------------------

# cpu_begin / cpu_end CFG REP SUFFIX: the CPU of the tunnel processes and of
# the system between the two calls, recorded as cpu_tunnel_SUFFIX and
# cpu_system_SUFFIX (the 1-stream run's keep the plain names).
cpu_begin() { CPU_T0=$(now); CPU_C0=$(proc_ticks "${TUN_PIDS[@]}"); CPU_S0=$(sys_ticks); }
cpu_end() {
	local t1 c1 s1 sfx=${3:+_$3}
	t1=$(now); c1=$(proc_ticks "${TUN_PIDS[@]}"); s1=$(sys_ticks)
	CPU_TUNNEL=$(awk -v c=$((c1 - CPU_C0)) -v hz="$HZ" -v a="$CPU_T0" -v b="$t1" \
		'BEGIN { printf "%.3f", c / hz / (b - a) }')
	CPU_SYSTEM=$(awk -v c=$((s1 - CPU_S0)) -v hz="$HZ" -v a="$CPU_T0" -v b="$t1" \
		'BEGIN { printf "%.3f", c / hz / (b - a) }')
	CPU_REC=("$1 $2 cpu_tunnel$sfx $CPU_TUNNEL" "$1 $2 cpu_system$sfx $CPU_SYSTEM")
}

# cpu_window [OUT TEXT]: with a SECS-long client just started, cpu_begin
# 0.5 s into it and return 0.5 s before its end, for cpu_end. With OUT and
# TEXT, its SECS start when its output OUT says TEXT (sockperf first
# pauses about 2 s after its warm-up).
cpu_window() {
	local i
	if [ $# = 2 ]; then
		for i in $(seq 100); do
			grep -qF -- "$2" "$1" && break
			sleep 0.1
		done
	fi
	sleep 0.5
	cpu_begin
	sleep $((SECS - 1))
}

# rec_cpu: record what cpu_end measured (after the figure itself).
rec_cpu() {
	local r
	for r in "${CPU_REC[@]}"; do
		# shellcheck disable=SC2086
		rec $r
	done
}

# m_iperf CFG REP STREAMS: iperf3 throughput (Gbit/s). This and the other
# tests also record the CPU of the tunnel processes and of the system,
# sampled inside the run (from 0.5 s after its start to 0.5 s before its
# end): the 1-stream run's as cpu_tunnel and cpu_system, the others' with
# the test's suffix (_tput4, _lat, _cps1, _cps8).
m_iperf() {
	local cfg=$1 rep=$2 streams=$3 out=$TMP/iperf-$1-$2-P$3.json pid rc v
	bg_start "$NS_A" "$out" iperf3 -c "$HOST" -p "$P_IPERF" -t "$SECS" -P "$streams" -J
	pid=$BG_PID
	cpu_window
	if [ "$streams" = 1 ]; then cpu_end "$cfg" "$rep" ""; else cpu_end "$cfg" "$rep" tput4; fi
	bg_wait "$pid" $((SECS + 30)) && rc=0 || rc=$?
	if [ "$rc" != 0 ] || ! v=$(python3 "$BENCH/parse.py" iperf3 "$out"); then
		warn "$cfg rep $rep: iperf3 -P $streams failed (status $rc): $(tail -c 300 "$out" | tr '\n' ' ')"
		return 0
	fi
	rec "$cfg" "$rep" "tput$streams" "$v"
	rec_cpu
	log "  iperf3 -P $streams: $v Gbit/s (CPU: tunnel $CPU_TUNNEL, system $CPU_SYSTEM)"
}

m_sockperf() {
	local cfg=$1 rep=$2 out=$TMP/sockperf-$1-$2.out pid rc v
	bg_start "$NS_A" "$out" sockperf pp --tcp -i "$HOST" -p "$P_SOCKPERF" \
		-m 64 -t "$SECS"
	pid=$BG_PID
	cpu_window "$out" 'Starting test'
	cpu_end "$cfg" "$rep" lat
	bg_wait "$pid" $((SECS + 30)) && rc=0 || rc=$?
	if [ "$rc" != 0 ] || ! v=$(python3 "$BENCH/parse.py" sockperf "$out"); then
		warn "$cfg rep $rep: sockperf failed (status $rc): $(tail -n 3 "$out" | tr '\n' ' ')"
		return 0
	fi
	rec "$cfg" "$rep" lat_p50 "${v% *}"
	rec "$cfg" "$rep" lat_p99 "${v#* }"
	rec_cpu
	log "  sockperf 64 B ping-pong, half round trip: p50 ${v% *} us, p99 ${v#* } us" \
		"(CPU: tunnel $CPU_TUNNEL, system $CPU_SYSTEM)"
}

m_connrate() {
	local cfg=$1 rep=$2 conc=$3 out=$TMP/connrate-$1-$2-c$3.out pid rc v
	bg_start "$NS_A" "$out" "$CONNRATE" client "$HOST" "$P_CONNRATE" "$SECS" "$conc"
	pid=$BG_PID
	cpu_window
	cpu_end "$cfg" "$rep" "cps$conc"
	bg_wait "$pid" $((SECS + 30)) && rc=0 || rc=$?
	if [ "$rc" != 0 ] || ! v=$(python3 "$BENCH/parse.py" connrate "$out"); then
		warn "$cfg rep $rep: connrate -c $conc failed (status $rc): $(tail -n 3 "$out" | tr '\n' ' ')"
		return 0
	fi
	rec "$cfg" "$rep" "cps$conc" "$v"
	rec_cpu
	log "  connrate, $conc in flight: $v connections/s ($(sed -n 's/^errors //p' "$out") errors)" \
		"(CPU: tunnel $CPU_TUNNEL, system $CPU_SYSTEM)"
}

slot() {
	local cfg=$1 rep=$2 t0 field
	t0=$(date +%s)
	log "rep $rep/$REPS: $cfg"
	SLOT_PIDS=(); TUN_PIDS=(); ZCC_PID=()
	if ! start_servers || ! "start_$cfg"; then
		warn "$cfg rep $rep: could not start; no figures"
		stop_slot
		return 0
	fi
	m_iperf "$cfg" "$rep" 1
	m_iperf "$cfg" "$rep" 4
	m_sockperf "$cfg" "$rep"
	m_connrate "$cfg" "$rep" 1
	m_connrate "$cfg" "$rep" 8
	case $cfg in
	zcc|zcc-poll) field=sealed ;;
	zcc-encap) field=encapsulated ;;
	*) field= ;;
	esac
	if [ -n "$field" ] && ! zcc_check "$field"; then
		warn "$cfg rep $rep: figures discarded"
		sed -i "/^$cfg\t$rep\t/d" "$RESULTS"
	fi
	stop_slot
	log "  ($(( $(date +%s) - t0 )) s)"
	sleep 1
}

# ---- the run ---------------------------------------------------------------

if [ "$SMOKE" = 1 ]; then
	OUT_MD=$BUILD/PERFORMANCE-smoke.md
	OUT_PNG=$BUILD/performance-smoke.png
	SEAL_ARGS=(--quick)
else
	OUT_MD=$SRCDIR/docs/PERFORMANCE.md
	OUT_PNG=$SRCDIR/docs/performance.png
	SEAL_ARGS=()
fi

log "bench_seal ${SEAL_ARGS[*]:-(full)}"
"$BENCH_SEAL" "${SEAL_ARGS[@]}" >"$TMP/bench_seal.out" || fail "bench_seal failed"
grep -E '^(seal_segment|seal_open|seal_plus_open|primitives_sum|ratio_seal_plus_open_vs_primitives)' \
	"$TMP/bench_seal.out" | sed 's/^/    /'

setup_topology
log "namespaces ${NS_A} and ${NS_B}, one veth pair; repetitions: $REPS, each of: $CONFIGS; $SECS s per test"
for rep in $(seq "$REPS"); do
	for cfg in $CONFIGS; do
		slot "$cfg" "$rep"
	done
done

# The machine and the tools, for the report.
{
	echo "cpu	$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
	echo "cores	$(nproc)"
	echo "kernel	$(uname -r)"
	echo "debian	$(cat /etc/debian_version 2>/dev/null || echo unknown)"
	echo "date	$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "command	$COMMAND"
	echo "reps	$REPS"
	echo "seconds	$SECS"
	echo "configs	$CONFIGS"
	echo "zcc	$ZCC_REV"
	for p in iperf3 sockperf wireguard-go openvpn spiped stunnel4 libsodium23 openssl; do
		v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null) && echo "pkg_$p	$v"
	done
	# What each wireguard-go says it is, to name both in the report.
	case " $CONFIGS " in *" wg-go "*)
		v=$(wireguard-go --version 2>&1) && echo "wg_go_version	${v%%$'\n'*}" ;;
	esac
	[ -z "$WG_GO_NEW_SKIPPED" ] || echo "wg_go_new_skipped	$WG_GO_NEW_SKIPPED"
	for v in "${WG_GO_NEW_INFO[@]}"; do
		echo "$v"
	done
	echo "elapsed	$(( $(date +%s) - START ))"
} >"$TMP/machine.tsv"

mkdir -p "$(dirname "$OUT_MD")"
rc=0
python3 "$BENCH/report.py" --results "$RESULTS" --seal "$TMP/bench_seal.out" \
	--machine "$TMP/machine.tsv" --configs "$CONFIGS" --md "$OUT_MD" \
	--png "$OUT_PNG" --gp "$BENCH/performance.gp" --tmp "$TMP" || rc=$?
grep -q '^| plain TCP \|^| zcc in place ' "$OUT_MD" 2>/dev/null || fail "no table in $OUT_MD"
echo
sed -n '/^## Results/,/^## Targets$/p' "$OUT_MD" | sed '$d'
# The targets, met or not, for whoever runs this: information only.
awk '/^## / { p = ($0 == "## Targets") } p' "$OUT_MD"
log "report: $OUT_MD"
log "chart:  $OUT_PNG"
log "$(( $(date +%s) - START )) s in all, $WARNINGS warnings"
[ "$rc" = 0 ] || fail "a configuration produced no number for some figure (see the report)"
OK=1
