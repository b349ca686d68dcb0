#!/bin/bash
# SPDX-License-Identifier: ISC
# Starting as an administrator's script or a unit would:
#   - B runs in the foreground with JOURNAL_STREAM naming its stderr (as
#     systemd does): every line starts with its syslog priority (<6> info,
#     <3> error), and every line from the start line on names the link
#     ("zcc0 peer 10.0.0.1: "); the start line gives the version and words;
#   - A starts with updetach: the command returns 0 only once the link is
#     up (zccctl show says up at once), and the daemon runs on detached;
#   - A with updetach and no peer answering (B stopped), without persist:
#     the command returns 1 after the attempt with the reason on stderr,
#     and no daemon is left;
#   - the same with persist: it returns 1 after the attempt and its margin,
#     saying the daemon goes on trying; the daemon runs, and brings the
#     link up once B is back.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

setup_topology
genkey "$TMP/key"
mkdir -p "$TMP/conf"
ARGS=(peer "$IP_B" key-file "$TMP/key" encrypt-port 5001 keepalive-interval 1
	keepalive-failure 2)

# The journal's stream: JOURNAL_STREAM is its device and inode.
: >"$TMP/B.log"
JS=$(stat -c '%d:%i' "$TMP/B.log")
JOURNAL_STREAM=$JS start_zcc "$NS_B" B peer "$IP_A" key-file "$TMP/key" \
	encrypt-port 5001 keepalive-interval 1 keepalive-failure 2 nodetach

# updetach_a [WORDS...]: zcctund in A with updetach; status in RC, stderr
# in $TMP/a.err, seconds taken in SECS.
updetach_a() {
	local t0=$SECONDS
	ip netns exec "$NS_A" timeout 60 "$ZCCTUND" confdir "$TMP/conf" \
		"${ARGS[@]}" "$@" updetach >"$TMP/a.out" 2>"$TMP/a.err" &&
		RC=0 || RC=$?
	SECS=$((SECONDS - t0))
}

# err_holders: processes in A that still hold the command's stderr (a
# pipe there would not close: "$(zcctund ... updetach)" would hang).
err_holders() {
	local pid n=0
	for pid in $(ip netns pids "$NS_A"); do
		ls -l "/proc/$pid/fd" 2>/dev/null | grep -qF "$TMP/a.err" && n=$((n + 1))
	done
	echo $n
}

# a_daemons: zcctund processes in A.
a_daemons() { ip netns pids "$NS_A" | xargs -r ps -o comm= -p | grep -c '^zcctund$' || true; }

log "A starts with updetach while B runs"
updetach_a
[ "$RC" = 0 ] || fail "updetach: status $RC: $(cat "$TMP/a.err")"
ctl_status A "$NS_A"
[ "$(jv "$TMP/A.json" state)" = up ] ||
	fail "updetach returned with the link $(jv "$TMP/A.json" state)"
[ "$(a_daemons)" = 1 ] || fail "no detached daemon in A"
[ "$(err_holders)" = 0 ] || fail "up: $(err_holders) processes keep the command's stderr"
check "updetach returned 0 in ${SECS} s with the link up, the daemon detached"

wait_up B
log "B's log: priorities for the journal, the link named on every line"
grep -v '^<[0-7]>' "$TMP/B.log" | grep . && fail "B's lines without a priority"
grep -c "^<6>zcctund: zcc0 peer $IP_A: zcctund [^ ]* starting: confdir " \
	"$TMP/B.log" >/dev/null || fail "no start line with the version and words"
grep -c "^<6>zcctund-engine: zcc0 peer $IP_A: link up" "$TMP/B.log" >/dev/null ||
	fail "no info line for link up naming the link"
sed -n '/ starting: /,$p' "$TMP/B.log" | grep -v "zcc0 peer $IP_A: " | grep . &&
	fail "B's lines after the start that do not name the link"
check "$(grep -c . "$TMP/B.log") lines, each with its priority and, from the start line on, the link"

ip netns exec "$NS_A" "$ZCCCTL" stop zcc0 >/dev/null
for i in $(seq 50); do [ "$(a_daemons)" = 0 ] && break; sleep 0.1; done
[ "$(a_daemons)" = 0 ] || fail "A's daemon did not stop"
stop_zcc B

log "A with updetach, no peer, no persist"
updetach_a
[ "$RC" = 1 ] || fail "no peer: status $RC, expected 1: $(cat "$TMP/a.err")"
grep -c 'no handshake with the peer' "$TMP/a.err" >/dev/null ||
	fail "no peer: the reason is not on stderr: $(cat "$TMP/a.err")"
sleep 0.5
[ "$(a_daemons)" = 0 ] || fail "no peer: a daemon is left in A"
check "status 1 in ${SECS} s: $(grep -m1 'no handshake' "$TMP/a.err" | cut -c1-100)..."

log "A with updetach and persist, no peer"
updetach_a persist holdoff 1
[ "$RC" = 1 ] || fail "persist: status $RC, expected 1: $(cat "$TMP/a.err")"
grep -c 'goes on trying (persist)' "$TMP/a.err" >/dev/null ||
	fail "persist: stderr does not say it goes on: $(cat "$TMP/a.err")"
[ "$(a_daemons)" = 1 ] || fail "persist: no daemon goes on in A"
sleep 1.5  # the engine lets go at its next tick
[ "$(err_holders)" = 0 ] || fail "persist: $(err_holders) processes keep the command's stderr"
check "status 1 in ${SECS} s, and the daemon goes on: $(tail -n1 "$TMP/a.err")"
start_zcc "$NS_B" B2 peer "$IP_A" key-file "$TMP/key" encrypt-port 5001 \
	keepalive-interval 1 keepalive-failure 2 nodetach
wait_up B2 20
ctl_status A "$NS_A"
[ "$(jv "$TMP/A.json" state)" = up ] || fail "persist: A's link is not up with B back"
check "with B back, A's link came up in the background"
ip netns exec "$NS_A" "$ZCCCTL" stop zcc0 >/dev/null
pass
