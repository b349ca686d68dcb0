#!/bin/bash
# SPDX-License-Identifier: ISC
# Public-key links (Noise IKpsk2), as a fleet would run them: each host has
# one private key in CONFDIR/options and a peers/NAME file per peer with its
# address and public key.
#  - zcctund pubkey prints what wg pubkey prints for the same private key
#    (an independent X25519), and zccctl show's fingerprints are the
#    documented hash of the keys, equal across the two ends.
#  - A-B with public keys: up, 1 MB byte-exact, every segment sealed.
#  - Three hosts: A keeps one private key and links to B and C. A's link to
#    C names the wrong public key (B's): C's handshakes are refused with a
#    log line naming C's key and fingerprint, and the link stays down; the
#    peers file corrected and SIGHUP, it comes up and carries 1 MB
#    byte-exact and sealed, while A-B stays up.
#  - Rotation: during a 60 s paced stream A->B, four SIGHUPs in turn
#    (A's new private key, B learns it, B's new private key, A learns it):
#    A's handshake with its new key is refused by B, and its previous key
#    makes the session; the stream arrives byte-exact with no gap over 1 s
#    at the receiver, and both ends end on the new keys (fingerprints,
#    session_keys 0).
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

setup_topology

# ---- keys ----
privkey() { (umask 077 && "$ZCCTUND" genkey private >"$1") || fail "genkey private"; }
pubkey() { "$ZCCTUND" pubkey <"$1" || fail "pubkey of $1"; }
for h in A B C A2 B2; do
	privkey "$TMP/$h.key"
	pubkey "$TMP/$h.key" >"$TMP/$h.pub"
done
if command -v wg >/dev/null; then
	for h in A B C; do
		[ "$(wg pubkey <"$TMP/$h.key")" = "$(cat "$TMP/$h.pub")" ] ||
			fail "zcctund pubkey and wg pubkey differ for $h"
	done
	check "zcctund pubkey = wg pubkey for three keys"
else
	log "wg (wireguard-tools) not installed: pubkey not cross-checked"
fi
echo garbage | "$ZCCTUND" pubkey 2>"$TMP/pk.err" && fail "pubkey took garbage"
grep -q 'does not hold the base64 of a 32-byte private key' "$TMP/pk.err" ||
	fail "pubkey's error: $(cat "$TMP/pk.err")"

# fp FILE: the documented fingerprint of the public key in FILE (PROTOCOL.md).
fp() {
	$PY -c '
import base64, hashlib, sys
k = base64.b64decode(open(sys.argv[1]).read().strip())
h = hashlib.blake2b(b"zcc key fingerprint v1" + k, digest_size=12).digest()
print(base64.b64encode(h).decode())' "$1"
}

# conf DIR NAME PEER PUBLIC PORT IFNAME: a host's CONFDIR with its private
# key (DIR.key) in options and one peers file.
conf() {
	local d=$TMP/conf$1
	mkdir -p "$d/peers"
	printf 'private-key-file = "%s";\n' "$TMP/$1.key" >"$d/options"
	cat >"$d/peers/$2.tmp" <<EOF
peer = "$3";
peer-public-key = "$4";
encrypt-port = [ $5 ];
ifname = "$6";
keepalive-interval = 1;
persist = true;
holdoff = 1;
EOF
	mv "$d/peers/$2.tmp" "$d/peers/$2"
}
show() {
	ip netns exec "$2" "$ZCCCTL" show "$3" --json >"$TMP/$1.json" ||
		fail "zccctl show $3 in $2"
}

# ---- A-B ----
conf A b "$IP_B" "$TMP/B.pub" 5001 zcc0          # a key file
conf B a "$IP_A" "$(cat "$TMP/A.pub")" 5001 zcc0  # the key itself
start_zcc "$NS_A" AB confdir "$TMP/confA" call b nodetach debug
start_zcc "$NS_B" BA confdir "$TMP/confB" call a nodetach debug
wait_up AB
wait_up BA
show A "$NS_A" zcc0
show B "$NS_B" zcc0
$PY - "$TMP/A.json" "$TMP/B.json" "$(fp "$TMP/A.pub")" "$(fp "$TMP/B.pub")" <<'EOF' || fail "fingerprints in zccctl show"
import json, sys
a, b = (json.load(open(p))["keys"] for p in sys.argv[1:3])
fa, fb = sys.argv[3:5]
assert len(a) == len(b) == 1, (a, b)
assert a[0]["fingerprint"] == fa == b[0]["peer_fingerprint"], (a, b, fa)
assert b[0]["fingerprint"] == fb == a[0]["peer_fingerprint"], (a, b, fb)
assert a[0]["shared_fingerprint"] is None, a
EOF
grep -q "keys: own public key $(fp "$TMP/A.pub"), peer's $(fp "$TMP/B.pub")" "$TMP/AB.log" ||
	fail "A's log does not name its keys by fingerprint"
check "A-B up with public keys; show and log name them by fingerprint, equal across the ends"

head -c 1048576 /dev/urandom >"$TMP/in1"
capture_start "$NS_SW" vB ab tcp port 5001
transfer "$NS_A" "$NS_B" "$IP_B" 5001 "$TMP/in1" "$TMP/out1"
capture_stop ab
capture_complete ab
check_wire_sealed "$TMP/ab.pcap" 5001 "$TMP/in1"
check "A->B 1 MB byte-exact over a public-key link"

# ---- A-C, first with the wrong key for C ----
conf C a "$IP_A" "$TMP/A.pub" 5002 zcc0
mkdir -p "$TMP/confA/peers"
cat >"$TMP/confA/peers/c" <<EOF
peer = "$IP_C";
peer-public-key = "$TMP/B.pub";
encrypt-port = [ 5002 ];
ifname = "zcc1";
keepalive-interval = 1;
persist = true;
holdoff = 1;
EOF
start_zcc "$NS_A" AC confdir "$TMP/confA" call c nodetach debug
start_zcc "$NS_C" CA confdir "$TMP/confC" call a nodetach debug
wait_log AC "handshake refused: it comes from public key $(cat "$TMP/C.pub") (fingerprint $(fp "$TMP/C.pub")), not the peer's (peer-public-key, fingerprint $(fp "$TMP/B.pub"))" 1 15 ||
	fail "A did not log C's key as refused"
[ "$(log_count AC 'link up')" = 0 ] || fail "A-C came up with the wrong key"
check "a handshake from a key other than peer-public-key: refused, logged with that key and its fingerprint"

# Corrected by SIGHUP at A; C, restarted, first checks its words. (Its
# probe is not answered: A, handshaking with C meanwhile, wins the tie of
# two inits by its lower address, as PROTOCOL.md says.)
stop_zcc CA
sed -i "s|$TMP/B.pub|$TMP/C.pub|" "$TMP/confA/peers/c"
kill -HUP "${ZCC_PID[AC]}"
wait_log AC 'SIGHUP: new keys' 1 10 || fail "A-C did not take C's key"
ip netns exec "$NS_C" "$ZCCTUND" check confdir "$TMP/confC" call a >"$TMP/check.out" 2>&1 ||
	fail "zcctund check in C: $(cat "$TMP/check.out")"
line="^ok: private key $TMP/C.key: readable by its owner alone; its public key's fingerprint $(fp "$TMP/C.pub")$"
grep -q -- "$line" "$TMP/check.out" || fail "zcctund check: no '$line' in: $(cat "$TMP/check.out")"
check "zcctund check with public keys names the private key's fingerprint"
start_zcc "$NS_C" CA2 confdir "$TMP/confC" call a nodetach debug
wait_up AC 30
wait_up CA2 30
head -c 1048576 /dev/urandom >"$TMP/in2"
capture_start "$NS_SW" vC ac tcp port 5002
transfer "$NS_A" "$NS_C" "$IP_C" 5002 "$TMP/in2" "$TMP/out2"
capture_stop ac
capture_complete ac
check_wire_sealed "$TMP/ac.pcap" 5002 "$TMP/in2"
show A "$NS_A" zcc0
[ "$(jv "$TMP/A.json" state)" = up ] || fail "A-B went down meanwhile"
check "peer key corrected by SIGHUP: A-C up, 1 MB byte-exact and sealed; A-B up, one private key for both"
stop_zcc AC
stop_zcc CA2

# ---- rotation during a 60 s stream ----
bg_start "$NS_B" "$TMP/recv.log" $PY -c '
import socket, sys, time
ls = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], 5001)); ls.listen(1); ls.settimeout(30)
c, _ = ls.accept(); c.settimeout(30)
gap, last, out = 0.0, time.monotonic(), open(sys.argv[2], "wb")
while True:
    d = c.recv(65536)
    now = time.monotonic()
    if not d:
        break
    gap, last = max(gap, now - last), now
    out.write(d)
print("maxgap %.3f" % gap)' "$IP_B" "$TMP/out3"
RECV=$BG_PID
wait_listen "$NS_B" 5001
bg_start "$NS_A" "$TMP/send.log" $PY -c '
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], 5001), timeout=10)
out, end = open(sys.argv[2], "wb"), time.monotonic() + 60
while time.monotonic() < end:
    d = os.urandom(131072)
    s.sendall(d); out.write(d)
    time.sleep(0.05)
s.close()' "$IP_B" "$TMP/in3"
SEND=$BG_PID

# rotate NAME FILE NEWFILE: FILE gets NEWFILE's contents, NAME a SIGHUP, and
# its log says it took new keys (the N-th time).
rotate() {
	cp "$3" "$2.new" && mv "$2.new" "$2"
	kill -HUP "${ZCC_PID[$1]}"
	wait_log "$1" 'SIGHUP: new keys' "$4" 10 || fail "$1 did not take the new keys"
}
sleep 8
rotate AB "$TMP/A.key" "$TMP/A2.key" 1
# A tries its new key first: B, which knows only A's old one, refuses it;
# A's next init, with the old key, makes the session.
wait_log BA "handshake refused: it comes from public key $(cat "$TMP/A2.pub")" 1 10 ||
	fail "B did not see (and refuse) A's new key first"
for i in $(seq 100); do
	show A "$NS_A" zcc0
	[ "$(jv "$TMP/A.json" session_keys)" = 1 ] && break
	sleep 0.1
done
[ "$(jv "$TMP/A.json" session_keys)" = 1 ] ||
	fail "A made no session with its previous key after the new one was refused"
check "A's new key refused by B, which does not know it yet; A's previous key made the next session"
sleep 3
sed -i "s|$(cat "$TMP/A.pub")|$(cat "$TMP/A2.pub")|" "$TMP/confB/peers/a"
kill -HUP "${ZCC_PID[BA]}"
wait_log BA 'SIGHUP: new keys' 1 10 || fail "B did not take A's new key"
sleep 10
rotate BA "$TMP/B.key" "$TMP/B2.key" 2
sleep 10
cp "$TMP/B2.pub" "$TMP/B.pub.new" && mv "$TMP/B.pub.new" "$TMP/B.pub"
kill -HUP "${ZCC_PID[AB]}"
wait_log AB 'SIGHUP: new keys' 2 10 || fail "A did not take B's new key"
bg_wait "$SEND" 40 || fail "the sender failed: $(cat "$TMP/send.log")"
bg_wait "$RECV" 40 || fail "the receiver failed: $(cat "$TMP/recv.log")"
[ "$(sha "$TMP/in3")" = "$(sha "$TMP/out3")" ] ||
	fail "the stream differs ($(stat -c %s "$TMP/out3") of $(stat -c %s "$TMP/in3") bytes)"
gap=$(sed -n 's/^maxgap //p' "$TMP/recv.log")
log "stream: $(stat -c %s "$TMP/in3") bytes, longest gap at the receiver $gap s"
$PY -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 1.0 else 1)' "$gap" ||
	fail "the stream stalled $gap s during the rotation"
check "60 s stream through four key changes: byte-exact, longest gap $gap s"

# Both ends on the new keys: a handshake since the last SIGHUP used them.
for i in $(seq 100); do
	show A "$NS_A" zcc0
	show B "$NS_B" zcc0
	[ "$(jv "$TMP/A.json" session_keys)" = 0 ] &&
		[ "$(jv "$TMP/B.json" session_keys)" = 0 ] && break
	sleep 0.1
done
$PY - "$TMP/A.json" "$TMP/B.json" "$(fp "$TMP/A2.pub")" "$(fp "$TMP/B2.pub")" <<'EOF' || fail "keys after the rotation"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
fa, fb = sys.argv[3:5]
assert a["session_keys"] == 0 and b["session_keys"] == 0, (a["session_keys"], b["session_keys"])
assert a["keys"][0]["fingerprint"] == fa == b["keys"][0]["peer_fingerprint"], (a["keys"], fa)
assert b["keys"][0]["fingerprint"] == fb == a["keys"][0]["peer_fingerprint"], (b["keys"], fb)
assert len(a["keys"]) == 2 and a["previous_keys_seconds"] > 0, a["keys"]
EOF
check "both ends on the new keys, the previous ones kept for the overlap"
pass
