#!/bin/bash
# SPDX-License-Identifier: ISC
# zcctund under systemd. No systemd runs here as PID 1, so the unit itself
# is checked with systemd-analyze (verify, and security with the exposure
# score asserted), and the daemon talks to a stand-in for systemd's
# notification socket (NOTIFY_SOCKET), as a Type=notify unit's would:
#   - A starts while B is not running: STATUS= says it is handshaking, and
#     no READY=1 comes while the link is down;
#   - B starts: READY=1 with STATUS= "zcc0 up, peer B";
#   - SIGHUP (systemctl reload): RELOADING=1, then READY=1 again;
#   - SIGTERM (systemctl stop): STOPPING=1;
#   - with "ready-at setup" and no peer, READY=1 comes once set up;
#   - a bad option exits 2, which the unit's RestartPreventExitStatus
#     names.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

UNIT=$SRCDIR/etc/systemd/zcctund@.service
MAX_EXPOSURE=7.0

log "the unit: systemd-analyze verify and security"
# The unit as installed, naming this build's zcctund.
sed "s|/usr/sbin/zcctund|$ZCCTUND|" "$UNIT" >"$TMP/zcctund@.service"
systemd-analyze verify --man=no "$TMP/zcctund@.service" >"$TMP/verify" 2>&1 ||
	fail "systemd-analyze verify: $(cat "$TMP/verify")"
[ ! -s "$TMP/verify" ] || fail "systemd-analyze verify says: $(cat "$TMP/verify")"
systemd-analyze security --offline=true --threshold=70 \
	"$TMP/zcctund@.service" >"$TMP/security" 2>&1 ||
	fail "exposure above $MAX_EXPOSURE: $(tail -n1 "$TMP/security")"
SCORE=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$TMP/security")
[ -n "$SCORE" ] || fail "no exposure level in: $(tail -n2 "$TMP/security")"
for w in 'Type=notify' 'ExecReload=' 'RestartPreventExitStatus=2' \
    'DeviceAllow=/dev/net/tun' 'ProtectSystem=true'; do
	grep -c "^$w" "$UNIT" >/dev/null || fail "the unit has no $w"
done
check "verify clean; exposure $SCORE (at most $MAX_EXPOSURE); notify, reload, no restart on status 2"

setup_topology
genkey "$TMP/key"

# notified PATTERN [SECONDS]: until a message matching PATTERN came.
notified() {
	local i
	for i in $(seq $((${2:-10} * 20))); do
		grep -c -- "$1" "$TMP/notify" >/dev/null && return 0
		sleep 0.05
	done
	return 1
}

SOCK=$TMP/notify.sock
bg_start "$NS_A" "$TMP/notify.log" "$PY" "$NETDIR/notify_sock.py" "$SOCK" "$TMP/notify"
for i in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || fail "the notification socket did not appear"

log "A starts with NOTIFY_SOCKET, B not yet"
NOTIFY_SOCKET=$SOCK start_zcc "$NS_A" A peer "$IP_B" key-file "$TMP/key" \
	encrypt-port 5001 keepalive-interval 1 keepalive-failure 3 persist \
	holdoff 1 nodetach
notified 'STATUS=zcc0 handshaking, peer ' || fail "no STATUS while handshaking: $(cat "$TMP/notify")"
sleep 1
grep -c 'READY=1' "$TMP/notify" >/dev/null && fail "READY=1 before the link is up: $(cat "$TMP/notify")"
check "while the link is down: $(grep -m1 STATUS "$TMP/notify")"

start_zcc "$NS_B" B peer "$IP_A" key-file "$TMP/key" encrypt-port 5001 \
	keepalive-interval 1 keepalive-failure 3 nodetach
wait_up A 20
notified "READY=1 | STATUS=zcc0 up, peer $IP_B" ||
	fail "no READY=1 with the link up: $(cat "$TMP/notify")"
check "link up: $(grep -m1 READY "$TMP/notify")"

log "SIGHUP, then SIGTERM"
kill -HUP "${ZCC_PID[A]}"
notified 'RELOADING=1' || fail "no RELOADING=1 after SIGHUP"
for i in $(seq 100); do
	sed -n '/RELOADING=1/,$p' "$TMP/notify" | grep -c 'READY=1' >/dev/null && break
	sleep 0.05
done
sed -n '/RELOADING=1/,$p' "$TMP/notify" | grep -c 'READY=1' >/dev/null ||
	fail "no READY=1 after RELOADING=1: $(cat "$TMP/notify")"
stop_zcc A
notified 'STOPPING=1' || fail "no STOPPING=1 after SIGTERM: $(cat "$TMP/notify")"
check "reload and stop: $(grep -c . "$TMP/notify") messages, last: $(tail -n1 "$TMP/notify")"

log "ready-at setup: READY=1 once set up, the peer down"
stop_zcc B
: >"$TMP/notify"
NOTIFY_SOCKET=$SOCK start_zcc "$NS_A" A2 peer "$IP_B" key-file "$TMP/key" \
	encrypt-port 5001 ready-at setup persist nodetach
notified 'READY=1 | STATUS=zcc0 handshaking' ||
	fail "no READY=1 at set-up with ready-at setup: $(cat "$TMP/notify")"
stop_zcc A2
check "ready-at setup: $(grep -m1 READY "$TMP/notify")"

ip netns exec "$NS_A" "$ZCCTUND" confdir "$TMP/conf" peer "$IP_B" key-file \
	"$TMP/key" encrypt-port 5001 ready-at later nodetach 2>"$TMP/err" && rc=0 || rc=$?
[ "$rc" = 2 ] && grep -c "ready-at: 'later' is neither up nor setup" "$TMP/err" >/dev/null ||
	fail "ready-at later: status $rc: $(cat "$TMP/err")"
check "a bad option: status 2, $(cat "$TMP/err")"
pass
