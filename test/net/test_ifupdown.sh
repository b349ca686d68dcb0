#!/bin/bash
# SPDX-License-Identifier: ISC
# "ifup IFACE" and "ifdown IFACE" through the ifupdown hooks, as an
# administrator would use them: the stanza's zcc- options start a detached
# zcctund (interface up, pid file, steering rules, ip-up run with the
# stanza's name as ifname and linkname), selected flows travel sealed, and
# ifdown stops it (ip-down run, daemon gone, pid file removed) leaving the
# block; a second ifup takes the block over and the link works again; after
# a second ifdown, "zcctund cleanup" leaves the namespace exactly as before.
#
# The real ifup/ifdown run inside A's "ip netns exec", whose private mount
# namespace lets us bind our hooks over /etc/network/if-*.d and a copy of
# the zcctund under test over /usr/local/sbin without touching the host.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

command -v ifup >/dev/null || { echo "$0: ifupdown is not installed" >&2; exit 77; }
SRC=$(cd "$NETDIR/../.." && pwd)
IFACE="zc$$"
IFACE=${IFACE:0:15}
PIDFILE=/run/zcc-$IFACE.pid
IFT=$TMP/ifupdown

# Before lib.sh's cleanup: stop a daemon ifup left running (SIGTERM), lift
# the block it leaves, drop its pid file.
# shellcheck disable=SC2317  # called from the EXIT trap
ifupdown_cleanup() {
	local pid i
	pid=$(head -n1 "$PIDFILE" 2>/dev/null) || pid=
	case $pid in '' | *[!0-9]*) pid= ;; esac
	if [ -n "$pid" ] && is_zcctund "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		for i in $(seq 100); do
			is_zcctund "$pid" || break
			sleep 0.1
		done
		is_zcctund "$pid" && kill -KILL "$pid" 2>/dev/null
	fi
	ip netns exec "$NS_A" "$ZCCTUND" cleanup ifname "$IFACE" >/dev/null 2>&1
	rm -f "$PIDFILE"
}
# set +e first: under errexit a failing step, or "(exit $rc)" itself, would
# end the trap before lib.sh's cleanup (which reads the status from $?).
trap 'rc=$?; set +e; ifupdown_cleanup; (exit $rc); cleanup' EXIT

# is_zcctund PID: alive (not a zombie nobody reaped) and a zcctund.
is_zcctund() {
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = zcctund ] &&
		[ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# ifupdown ifup|ifdown: run it in A with our hooks, zcctund and state dir.
# if-pre-up.d and if-post-down.d are emptied so the host's hooks stay out.
ifupdown() {
	# shellcheck disable=SC2016  # expanded by the inner sh
	ip netns exec "$NS_A" sh -c '
		set -e
		d=$1
		for h in if-up.d if-down.d if-pre-up.d if-post-down.d; do
			[ -d "/etc/network/$h" ] || continue
			mount --bind "$d/hooks/$h" "/etc/network/$h"
		done
		mount --bind "$d/sbin" /usr/local/sbin
		# The hook prefers /usr/sbin/zcctund: never an installed one.
		[ ! -e /usr/sbin/zcctund ] || mount --bind "$d/sbin/zcctund" /usr/sbin/zcctund
		# Nor the host'"'"'s /etc/zcc/options (as start_zcc'"'"'s confdir).
		[ ! -d /etc/zcc ] || mount --bind "$d/etc-zcc" /etc/zcc
		exec timeout 60 "$2" -v -i "$d/interfaces" --state-dir "$d/state" "$3"
	' sh "$IFT" "$1" "$IFACE"
}

# wait_file FILE: up to 15 s for FILE to be non-empty.
wait_file() {
	for _ in $(seq 150); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

[ -d /usr/local/sbin ] || { echo "$0: no /usr/local/sbin to bind over" >&2; exit 77; }
setup_topology
genkey "$TMP/key"

mkdir -p "$IFT"/hooks/{if-up.d,if-down.d,if-pre-up.d,if-post-down.d} \
	"$IFT"/{sbin,state,etc-zcc} "$IFT"/conf/{ip-up.d,ip-down.d}
install -m 755 "$SRC/ifup.d/zcc" "$IFT/hooks/if-up.d/zcc"
install -m 755 "$SRC/ifdown.d/zcc" "$IFT/hooks/if-down.d/zcc"
install -m 755 "$ZCCTUND" "$IFT/sbin/zcctund"
# The shipped ip-up and ip-down, each running one ip-up.d (ip-down.d)
# script that records its arguments and part of its environment.
install -m 755 "$SRC/etc/zcc/ip-up" "$SRC/etc/zcc/ip-down" "$IFT/conf/"
for s in up down; do
	# shellcheck disable=SC2016  # expanded by the script, when it runs
	printf '#!/bin/sh\necho "$* LINKNAME=$LINKNAME PEERNAME=$PEERNAME" >>%s\n' \
		"$IFT/conf/$s.log" >"$IFT/conf/ip-$s.d/record"
	chmod 755 "$IFT/conf/ip-$s.d/record"
done
# zcc-options in quotes, as the documentation's example writes it.
cat >"$IFT/interfaces" <<EOF
iface $IFACE inet manual
	zcc-peer $IP_B
	zcc-key-file $TMP/key
	zcc-encrypt-port 5001 5003
	zcc-local $IP_A
	zcc-options "persist holdoff 1 ip-up-script $IFT/conf/ip-up ip-down-script $IFT/conf/ip-down"
EOF

snapshot "$NS_A" "$TMP/A.before"
start_zcc "$NS_B" B peer "$IP_A" key-file "$TMP/key" encrypt-port 5001 \
	encrypt-port 5003 persist holdoff 1 nodetach debug

log "ifup $IFACE in A"
ifupdown ifup >"$TMP/ifup.log" 2>&1 && rc=0 || rc=$?
cat "$TMP/ifup.log"
[ "$rc" = 0 ] || fail "ifup $IFACE exited with status $rc"
check "ifup exited 0"
ip -n "$NS_A" -o link show dev "$IFACE" >"$TMP/link" 2>&1 ||
	fail "no interface $IFACE in A after ifup"
grep -qE '[<,]UP[,>]' "$TMP/link" || fail "$IFACE is not up: $(cat "$TMP/link")"
check "$IFACE exists in A and is up"
[ -s "$PIDFILE" ] || fail "no pid file $PIDFILE"
# As pppd's ppp-NAME.pid: the pid, then the interface.
pid=$(sed -n 1p "$PIDFILE")
[[ $pid =~ ^[0-9]+$ ]] || fail "$PIDFILE begins with '$pid', not a pid"
[ "$(sed -n 2p "$PIDFILE")" = "$IFACE" ] ||
	fail "$PIDFILE: second line '$(sed -n 2p "$PIDFILE")', expected $IFACE"
is_zcctund "$pid" || fail "pid $pid from $PIDFILE is not a running zcctund"
ip netns pids "$NS_A" | grep -cx "$pid" >/dev/null || fail "zcctund $pid is not in A"
check "$PIDFILE: zcctund pid $pid, running in A"
rules=$(ip -n "$NS_A" rule show)
for port in 5001 5003; do
	grep -q "to $IP_B.*dport $port lookup" <<<"$rules" ||
		fail "no steering rule for port $port in A: $rules"
done
check "ip rules steer ports 5001 and 5003 (zcc-encrypt-port list)"

wait_file "$IFT/conf/up.log" || fail "ip-up.d did not run within 15 s"
want="$IFACE eth0 0 $IP_A $IP_B  LINKNAME=$IFACE PEERNAME=$IP_B"
[ "$(cat "$IFT/conf/up.log")" = "$want" ] ||
	fail "ip-up.d got '$(cat "$IFT/conf/up.log")', expected '$want'"
check "ip-up ran ip-up.d: $want"

head -c 1M /dev/urandom >"$TMP/data"
capture_start "$NS_B" eth0 wire
bg_start "$NS_B" "$TMP/srv.log" socat -u TCP-LISTEN:5001,reuseaddr "CREATE:$TMP/data.out"
srv=$BG_PID
wait_listen "$NS_B" 5001
ip netns exec "$NS_A" timeout 60 socat -u "FILE:$TMP/data" \
	"TCP:$IP_B:5001,connect-timeout=10" || fail "transfer A -> B:5001 failed"
bg_wait "$srv" 30 || fail "B's receiver did not finish"
cmp -s "$TMP/data" "$TMP/data.out" || fail "transfer A -> B:5001 not byte-exact"
capture_stop wire
capture_complete wire
check_wire_sealed "$TMP/wire.pcap" 5001 "$TMP/data"
check "1 MB A -> B:5001 byte-exact through the link ifup started"

log "ifdown $IFACE in A"
ifupdown ifdown >"$TMP/ifdown.log" 2>&1 && rc=0 || rc=$?
cat "$TMP/ifdown.log"
[ "$rc" = 0 ] || fail "ifdown $IFACE exited with status $rc"
check "ifdown exited 0"
! is_zcctund "$pid" || fail "zcctund $pid still running after ifdown"
[ ! -e "$PIDFILE" ] || fail "$PIDFILE still there after ifdown"
check "zcctund $pid gone, pid file removed"
want="$IFACE eth0 0 $IP_A $IP_B  LINKNAME=$IFACE PEERNAME=$IP_B"
[ "$(cat "$IFT/conf/down.log" 2>/dev/null)" = "$want" ] ||
	fail "ip-down.d got '$(cat "$IFT/conf/down.log" 2>/dev/null)', expected '$want'"
check "ip-down ran ip-down.d"
table=zcc_$(echo "$IFACE" | tr -c 'A-Za-z0-9_\n' _)
ip netns exec "$NS_A" nft list table inet "$table" >/dev/null 2>&1 ||
	fail "ifdown lifted the block (no table inet $table)"
grep -q "to $IP_B.*dport 5001 lookup" <<<"$(ip -n "$NS_A" rule show)" ||
	fail "ifdown removed the steering rules"
check "the block stays after ifdown (table inet $table, rules)"

log "ifup $IFACE again: takes the block over"
ifupdown ifup >"$TMP/ifup2.log" 2>&1 && rc=0 || rc=$?
cat "$TMP/ifup2.log"
[ "$rc" = 0 ] || fail "the second ifup exited with status $rc"
pid=$(sed -n 1p "$PIDFILE")
is_zcctund "$pid" || fail "no zcctund after the second ifup"
bg_start "$NS_B" "$TMP/srv2.log" socat -u TCP-LISTEN:5001,reuseaddr "CREATE:$TMP/data2.out"
srv=$BG_PID
wait_listen "$NS_B" 5001
ip netns exec "$NS_A" timeout 60 socat -u "FILE:$TMP/data" \
	"TCP:$IP_B:5001,connect-timeout=20" || fail "transfer after the second ifup failed"
bg_wait "$srv" 30 || fail "B's receiver did not finish"
cmp -s "$TMP/data" "$TMP/data2.out" || fail "transfer after the second ifup not byte-exact"
check "ifup after ifdown: zcctund $pid took the block over; 1 MB byte-exact"
ifupdown ifdown >"$TMP/ifdown2.log" 2>&1 || fail "the second ifdown failed: $(cat "$TMP/ifdown2.log")"
ip netns exec "$NS_A" "$ZCCTUND" cleanup ifname "$IFACE" >"$TMP/cleanup.log" 2>&1 ||
	fail "zcctund cleanup ifname $IFACE failed: $(cat "$TMP/cleanup.log")"
snapshot "$NS_A" "$TMP/A.after"
same_snapshot "$TMP/A.before" "$TMP/A.after" "A after ifdown and cleanup"
check "A exactly as before ifup once cleanup lifted the block"

stop_zcc B
pass
