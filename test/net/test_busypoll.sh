#!/bin/bash
# SPDX-License-Identifier: ISC
# busy-poll N: with it, zcctund keeps polling for N us after each packet
# instead of sleeping. What must hold:
#   - the data path is unchanged: a transfer arrives whole and sealed;
#   - it takes effect: under a trickle of small segments (one every
#     0.5 ms) busy-poll 1000 keeps A's zcctund awake between them, so it
#     uses most of a core, where busy-poll 0 uses a small part of one;
#   - a quiet link sleeps: once traffic stops, neither end uses CPU;
#   - SIGHUP re-reads it from the options file.
# CPU is read from /proc (utime + stime): generous bounds, not timings.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

PORT=5001
HZ=$(getconf CLK_TCK)

# cpu_of NAME SECONDS: cores used by zcctund NAME over SECONDS.
cpu_of() {
	local pid t0 t1
	pid=$(engine_pid "$1")
	t0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	sleep "$2"
	t1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	awk -v d=$((t1 - t0)) -v hz="$HZ" -v s="$2" 'BEGIN { printf "%.2f", d / hz / s }'
}

setup_topology
genkey "$TMP/key"
mkdir -p "$TMP/conf"
echo 'busy-poll = 1000;' >"$TMP/conf/options"
start_pair $PORT
for n in A B; do
	grep -q 'busy-poll: 1000 us after each packet' "$TMP/$n.log" ||
		fail "$n's log does not report busy-poll 1000"
done
ctl_status A "$NS_A"
[ "$(jv "$TMP/A.json" busy_poll_us)" = 1000 ] ||
	fail "zccctl show: busy_poll_us $(jv "$TMP/A.json" busy_poll_us), not 1000"
check "both ends read busy-poll 1000 from the options file; zccctl shows it"

head -c 2000000 /dev/urandom >"$TMP/in"
capture_start "$NS_B" eth0 wire tcp port $PORT
transfer "$NS_A" "$NS_B" "$IP_B" $PORT "$TMP/in" "$TMP/out"
capture_stop wire
capture_complete wire
check "2 MB from A to B arrived whole"
check_wire_sealed "$TMP/wire.pcap" $PORT "$TMP/in"
[ -z "$(nonzero_drops B)" ] || fail "B dropped: $(nonzero_drops B)"
check "B dropped nothing"

trickle $PORT 3 1 0.0005   # a byte every 0.5 ms
sleep 1
busy=$(cpu_of A 1.5)
trickle_wait
log "busy-poll 1000, a segment every 0.5 ms: A's zcctund used $busy cores"
awk -v c="$busy" 'BEGIN { exit !(c >= 0.4) }' ||
	fail "busy-poll 1000 did not keep A polling: $busy cores"
check "busy-poll 1000 kept A polling between segments ($busy cores)"

sleep 0.5
idle_a=$(cpu_of A 1.5)
idle_b=$(cpu_of B 1.5)
log "quiet link: A $idle_a, B $idle_b cores"
awk -v a="$idle_a" -v b="$idle_b" 'BEGIN { exit !(a < 0.1 && b < 0.1) }' ||
	fail "a quiet link kept polling: A $idle_a, B $idle_b cores"
check "a quiet link sleeps (A $idle_a, B $idle_b cores)"

echo 'busy-poll = 0;' >"$TMP/conf/options"
kill -HUP "${ZCC_PID[A]}" "${ZCC_PID[B]}"
for n in A B; do
	wait_log $n 'SIGHUP: options re-read; 1 ports selected, busy-poll 0 us' 1 5 || true
done
for n in A B; do
	grep -q 'busy-poll 0 us' "$TMP/$n.log" || fail "$n did not re-read busy-poll 0"
done
ip netns exec "$NS_A" "$ZCCCTL" show zcc0 -v >"$TMP/A.txt" || fail "zccctl show -v failed"
grep -q '^  busy-poll: off$' "$TMP/A.txt" || fail "zccctl show -v after SIGHUP: $(cat "$TMP/A.txt")"
trickle $PORT 3 1 0.0005
sleep 1
calm=$(cpu_of A 1.5)
trickle_wait
log "busy-poll 0, the same trickle: A's zcctund used $calm cores"
awk -v c="$calm" -v b="$busy" 'BEGIN { exit !(c < 0.25 && c < b / 2) }' ||
	fail "after SIGHUP to busy-poll 0, A still used $calm cores (busy-poll 1000: $busy)"
check "SIGHUP to busy-poll 0: A sleeps between segments ($calm cores)"

stop_zcc A
stop_zcc B
pass
