#!/bin/bash
# SPDX-License-Identifier: ISC
# Privilege separation, on a real link:
#  - the engine (the process that reads every packet from the network) runs
#    as user zcc, not root, with no capability in any set, no_new_privs and
#    not dumpable, and holds no file but its sockets, zcc0 and stdio; with
#    its credentials, the ip-up script cannot be opened for writing;
#  - the link key is, in the parent and in the engine, only in pages that
#    are locked and left out of core dumps (memscan.py reads their memory);
#  - the engine killed alone is restarted by the root parent: the link
#    comes back, a transfer across the restart arrives byte-exact, and
#    every segment of the port on the wire is sealed;
#  - SIGHUP under a bulk transfer, handled by the parent while the engine
#    forwards: no gap longer than 100 ms between the sender's segments;
#  - zccctl shows the daemon's pid and version; zccctl reload re-reads the
#    options and zccctl stop stops the link, leaving the block.
# test_privsep6.sh runs it over IPv6.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

CONF=$TMP/conf
setup_topology
genkey "$TMP/key"
mkdir -p "$CONF"
install -m 755 "$SRCDIR/etc/zcc/ip-up" "$SRCDIR/etc/zcc/ip-down" "$CONF/"
start_pair 5001

status_field() { awk -v k="$2:" '$1 == k { $1 = ""; print substr($0, 2) }' "/proc/$1/status"; }

# ---- the engine's credentials ----
eng=$(engine_pid A)
uids=$(status_field "$eng" Uid)
gids=$(status_field "$eng" Gid)
zuid=$(id -u zcc)
zgid=$(id -g zcc)
[ "$uids" = "$zuid $zuid $zuid $zuid" ] || fail "engine uids: $uids, expected zcc's $zuid"
[ "$gids" = "$zgid $zgid $zgid $zgid" ] || fail "engine gids: $gids, expected zcc's $zgid"
[ "$(status_field "$eng" Groups)" = "$zgid" ] ||
	fail "engine groups: $(status_field "$eng" Groups)"
for c in CapInh CapPrm CapEff CapBnd CapAmb; do
	[ "$(status_field "$eng" $c)" = 0000000000000000 ] ||
		fail "engine $c: $(status_field "$eng" $c)"
done
[ "$(status_field "$eng" NoNewPrivs)" = 1 ] || fail "engine NoNewPrivs is not 1"
[ "$(status_field "${ZCC_PID[A]}" Uid | cut -d" " -f1)" = 0 ] || fail "the parent is not root"
check "engine pid $eng: uid/gid $zuid/$zgid (zcc), no capabilities (5 sets 0), NoNewPrivs 1; parent root"

# ---- the link key in memory: only in locked pages out of core dumps ----
# A process that is not dumpable has its /proc files owned by root.
[ "$(stat -c %U "/proc/$eng/environ")" = root ] ||
	fail "the engine is dumpable: /proc/$eng/environ is $(stat -c %U "/proc/$eng/environ")'s"
# AddressSanitizer makes mlock a no-op: of such a build, only "dd" is asked.
nolock=
ldd "$ZCCTUND" 2>/dev/null | grep -q libasan && nolock=--no-lock
for pid in "${ZCC_PID[A]}" "$eng"; do
	$PY "$NETDIR/memscan.py" "$pid" "$TMP/key" $nolock >"$TMP/memscan.$pid" 2>&1 ||
		fail "$(cat "$TMP/memscan.$pid")"
	sed 's/^/    /' "$TMP/memscan.$pid"
done
check "the link key is only in locked pages left out of core dumps (parent and engine); the engine is not dumpable"

# What it holds: sockets, zcc0, anonymous inodes, and libevent's own
# signal pipe (made by the engine: the parent holds no end of it); past
# stdio, no file.
targets() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		[ "${fd##*/}" -le 2 ] && continue
		readlink "$fd"
	done
}
parent_fds=$(targets "${ZCC_PID[A]}")
files=$(targets "$eng" | grep -v -e '^socket:' -e '^anon_inode:' -e '^/dev/net/tun$' |
	while read -r t; do
		case $t in
		pipe:*) grep -qxF "$t" <<<"$parent_fds" && echo "$t (shared with the parent)" ;;
		*) echo "$t" ;;
		esac
	done || true)
[ -z "$files" ] || fail "the engine holds more than its sockets: $files"
check "engine fds past stdio: sockets, anon inodes, /dev/net/tun, its own pipe; none shared with a file"

# With the engine's credentials, ip-up cannot be written (root's file).
if setpriv --reuid="$zuid" --regid="$zgid" --clear-groups --bounding-set=-all \
	--inh-caps=-all --no-new-privs sh -c "echo x >>'$CONF/ip-up'" 2>/dev/null; then
	fail "as the engine's user, $CONF/ip-up could be opened for writing"
fi
grep -q '^x$' "$CONF/ip-up" && fail "ip-up was changed"
check "as zcc without capabilities, ip-up cannot be opened for writing"

# ---- zccctl: pid and version ----
ctl_status A "$NS_A"
[ "$(jv "$TMP/A.json" pid)" = "${ZCC_PID[A]}" ] || fail "zccctl pid: $(jv "$TMP/A.json" pid)"
[ "$(jv "$TMP/A.json" engine_pid)" = "$eng" ] || fail "zccctl engine_pid"
[ "$(jv "$TMP/A.json" version)" = "$("$ZCCTUND" --version | cut -d' ' -f2)" ] ||
	fail "zccctl version"
check "zccctl show --json: pid ${ZCC_PID[A]}, engine_pid $eng, version $(jv "$TMP/A.json" version)"

# paced_send NS IP PORT FILE SECONDS: send FILE over about SECONDS.
paced_send() {
	ip netns exec "$1" timeout 90 $PY - "$2" "$3" "$4" "$5" <<'PYEOF'
import socket, sys, time
host, port, path, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
data = open(path, "rb").read()
s = socket.create_connection((host, port), timeout=30)
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
PYEOF
}

# ---- the engine killed alone ----
log "8 MB A -> B:5001 over 5 s; the engine of A is killed after 1 s"
head -c 8M /dev/urandom >"$TMP/kill.in"
bg_start "$NS_B" "$TMP/srv1.log" socat -u "$(tcp_listen 5001)" "CREATE:$TMP/kill.out"
srv=$BG_PID
wait_listen "$NS_B" 5001
capture_start "$NS_SW" vA wire1 tcp port 5001
paced_send "$NS_A" "$IP_B" 5001 "$TMP/kill.in" 5 &
sender=$!
OUR_PIDS+=("$sender")
sleep 1
kill -KILL "$eng"
wait_log A 'the engine died' 1 5 || fail "the parent did not see its engine die"
UPS=2 wait_up A 15
new=$(engine_pid A)
[ "$new" != "$eng" ] || fail "the engine was not replaced"
wait "$sender" || fail "the sender failed across the engine's restart"
bg_wait "$srv" 60 || fail "the receiver did not finish"
capture_stop wire1
capture_complete wire1
cmp -s "$TMP/kill.in" "$TMP/kill.out" ||
	fail "8 MB across the engine's restart not byte-exact ($(stat -c %s "$TMP/kill.out") bytes)"
check "engine $eng killed, parent started $new, link up again; 8 MB byte-exact"
check_wire_sealed "$TMP/wire1.pcap" 5001 "$TMP/kill.in"
eng=$new

# ---- SIGHUP under a bulk transfer ----
log "16 MB A -> B:5001 over 4 s; SIGHUP to both ends 5 times meanwhile"
head -c 16M /dev/urandom >"$TMP/hup.in"
bg_start "$NS_B" "$TMP/srv2.log" socat -u "$(tcp_listen 5001)" "CREATE:$TMP/hup.out"
srv=$BG_PID
wait_listen "$NS_B" 5001
capture_start "$NS_SW" vA wire2 -s 200 tcp port 5001
paced_send "$NS_A" "$IP_B" 5001 "$TMP/hup.in" 4 &
sender=$!
OUR_PIDS+=("$sender")
before=$(log_count A 'SIGHUP: options re-read')
for i in 1 2 3 4 5; do
	sleep 0.5
	kill -HUP "${ZCC_PID[A]}" "${ZCC_PID[B]}"
done
wait "$sender" || fail "the sender failed across SIGHUP"
bg_wait "$srv" 60 || fail "the receiver did not finish"
capture_stop wire2
capture_complete wire2
cmp -s "$TMP/hup.in" "$TMP/hup.out" || fail "16 MB across SIGHUP not byte-exact"
after=$(log_count A 'SIGHUP: options re-read')
[ $((after - before)) -ge 3 ] || fail "A's engine took $((after - before)) re-read options, expected at least 3 of 5 (close signals may merge)"
gap=$($PY - "$TMP/wire2.pcap" "$IP_A" <<'PYEOF'
import sys
from scapy.all import PcapReader, IP, IPv6, TCP
src = sys.argv[2]
times = []
for p in PcapReader(sys.argv[1]):
    ip = p[IP] if IP in p else p[IPv6] if IPv6 in p else None
    if ip is None or TCP not in p or ip.src != src:
        continue
    times.append(float(p.time))
gaps = [b - a for a, b in zip(times, times[1:])]
print("%d %.1f" % (len(times), 1000 * max(gaps) if gaps else -1))
PYEOF
)
nseg=${gap% *}
maxgap=${gap#* }
log "SIGHUP x5 under load: $nseg segments from A, largest gap $maxgap ms"
awk -v g="$maxgap" 'BEGIN { exit !(g >= 0 && g < 100) }' ||
	fail "a gap of $maxgap ms between A's segments across SIGHUP (limit 100)"
check "16 MB byte-exact across 5 SIGHUPs, largest gap between A's segments $maxgap ms (< 100)"

# ---- zccctl reload and stop ----
before=$(log_count A 'SIGHUP: options re-read')
ip netns exec "$NS_A" "$ZCCCTL" reload zcc0 | grep -c '^ok: reloading' >/dev/null ||
	fail "zccctl reload did not answer ok"
wait_log A 'SIGHUP: options re-read' $((before + 1)) 5 || fail "zccctl reload: options not re-read"
ip netns exec "$NS_A" "$ZCCCTL" stop zcc0 | grep -c '^ok: stopping' >/dev/null ||
	fail "zccctl stop did not answer ok"
bg_wait "${ZCC_PID[A]}" 10 || fail "zcctund A did not exit 0 after zccctl stop"
ip netns exec "$NS_A" nft list table inet zcc_zcc0 >/dev/null 2>&1 ||
	fail "zccctl stop lifted the block"
check "zccctl reload re-read A's options; zccctl stop stopped A (status 0), the block stays"
pass
