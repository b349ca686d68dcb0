#!/bin/bash
# SPDX-License-Identifier: ISC
# Command line: every bad invocation exits 2 with one line naming the
# offending word (file:line for option files) and installs nothing;
# --help, --version and genkey behave.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

# A fresh namespace with one interface that reaches the "peer" subnet, so a
# valid command line could really start (and any leftover would show).
NS_X=${PREFIX}X
ns_new "$NS_X"
ip -n "$NS_X" link add eth0 type veth peer name eth0p
ip -n "$NS_X" link set eth0p up
ip -n "$NS_X" addr add 10.0.0.1/24 dev eth0
ip -n "$NS_X" link set eth0 up
snapshot "$NS_X" "$TMP/before"

genkey "$TMP/key"
cp "$TMP/key" "$TMP/key644"
chmod 644 "$TMP/key644"
(umask 077 && echo "c2hvcnQ=" >"$TMP/keyshort")        # "short": 5 bytes
printf '# zcc options for the test\nfrobnicate = 1;\n' >"$TMP/opts.bad"
printf 'peer = "10.0.0.2";\n\nencrypt-port = [ 80 \n' >"$TMP/opts.syntax"
K=(key-file "$TMP/key")

# refuse WHAT NEEDLE ARGS...: zcctund ARGS must exit 2 with exactly one
# line on stderr containing NEEDLE, and leave the namespace unchanged.
refuse() {
	local what=$1 needle=$2 rc
	shift 2
	ip netns exec "$NS_X" timeout 10 "$ZCCTUND" "$@" >"$TMP/out" 2>"$TMP/err" &&
		rc=0 || rc=$?
	[ "$rc" = 2 ] || {
		cat "$TMP/err" >&2
		fail "$what: exit status $rc, expected 2 (zcctund $*)"
	}
	[ "$(wc -l <"$TMP/err")" = 1 ] || {
		cat "$TMP/err" >&2
		fail "$what: $(wc -l <"$TMP/err") lines on stderr, expected one"
	}
	grep -qF -- "$needle" "$TMP/err" ||
		fail "$what: message does not name \"$needle\": $(cat "$TMP/err")"
	snapshot "$NS_X" "$TMP/after"
	same_snapshot "$TMP/before" "$TMP/after" "$what"
	check "$what: $(cat "$TMP/err")"
}

refuse "unknown word" frobnicate peer 10.0.0.2 "${K[@]}" encrypt-port 80 frobnicate nodetach
refuse "missing value" peer "${K[@]}" encrypt-port 80 nodetach peer
refuse "bad address" 10.0.0.300 peer 10.0.0.300 "${K[@]}" encrypt-port 80 nodetach
refuse "bad name" "not_a_name' is neither" peer not_a_name "${K[@]}" encrypt-port 80 nodetach
refuse "port too large" 70000 peer 10.0.0.2 "${K[@]}" encrypt-port 70000 nodetach
refuse "port zero" encrypt-port peer 10.0.0.2 "${K[@]}" encrypt-port 0 nodetach
refuse "port not a number" 80x peer 10.0.0.2 "${K[@]}" encrypt-port 80x nodetach
refuse "no peer" peer "${K[@]}" encrypt-port 80 nodetach
refuse "unreadable key file" "$TMP/nokey" peer 10.0.0.2 key-file "$TMP/nokey" encrypt-port 80 nodetach
refuse "key file mode 0644" "$TMP/key644" peer 10.0.0.2 key-file "$TMP/key644" encrypt-port 80 nodetach
refuse "key not 32 bytes" "$TMP/keyshort" peer 10.0.0.2 key-file "$TMP/keyshort" encrypt-port 80 nodetach
refuse "options file, unknown setting" "$TMP/opts.bad:2" file "$TMP/opts.bad" peer 10.0.0.2 "${K[@]}" nodetach
refuse "options file, syntax error" "$TMP/opts.syntax:" file "$TMP/opts.syntax" "${K[@]}" nodetach
refuse "missing options file" "$TMP/nofile" file "$TMP/nofile" peer 10.0.0.2 "${K[@]}" nodetach

# Not root: one plain line and status 2, before any file is read (the key
# is root's, mode 600) or the kernel refuses /dev/net/tun.
# A copy nobody can reach (the build tree may sit under /root).
PUB=$(mktemp -d "/tmp/${PREFIX}pub.XXXX")
chmod 755 "$PUB"
install -m 755 "$ZCCTUND" "$PUB/zcctund"
ip netns exec "$NS_X" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$PUB/zcctund" peer 10.0.0.2 "${K[@]}" encrypt-port 80 nodetach \
	>"$TMP/out" 2>"$TMP/err" && rc=0 || rc=$?
rm -rf "$PUB"
[ "$rc" = 2 ] && [ "$(wc -l <"$TMP/err")" = 1 ] &&
	grep -c "must be run as root" "$TMP/err" >/dev/null ||
	fail "not root: status $rc, stderr: $(cat "$TMP/err")"
snapshot "$NS_X" "$TMP/after"
same_snapshot "$TMP/before" "$TMP/after" "not root"
check "not root: $(cat "$TMP/err")"

# A host without nftables: refused before anything is installed, in plain
# words. nft is hidden in a private mount namespace (a bind of /dev/null,
# which is not executable), where ip netns exec then runs zcctund.
rc=0
unshare -m sh -c 'mount --bind /dev/null "$(command -v nft)" &&
	exec ip netns exec "$1" "$2" peer 10.0.0.2 key-file "$3" encrypt-port 80 nodetach' \
	sh "$NS_X" "$ZCCTUND" "$TMP/key" >"$TMP/out" 2>"$TMP/err" || rc=$?
[ "$rc" = 2 ] || { cat "$TMP/err" >&2; fail "without nft: exit status $rc, expected 2"; }
grep -q "'nft' not found.*install nftables" "$TMP/err" ||
	fail "without nft: no plain-words message: $(cat "$TMP/err")"
snapshot "$NS_X" "$TMP/after"
same_snapshot "$TMP/before" "$TMP/after" "without nft"
check "without nft: $(cat "$TMP/err")"

"$ZCCTUND" --help >"$TMP/help" 2>&1 || fail "--help exited $?"
grep -qi usage "$TMP/help" || fail "--help prints no usage: $(head -n3 "$TMP/help")"
check "--help: $(grep -i -m1 usage "$TMP/help")"
"$ZCCTUND" --version >"$TMP/version" 2>&1 || fail "--version exited $?"
grep -qE '[0-9]+\.[0-9]+' "$TMP/version" || fail "--version prints no version: $(cat "$TMP/version")"
check "--version: $(head -n1 "$TMP/version")"

"$ZCCTUND" genkey >"$TMP/k1" || fail "genkey failed"
"$ZCCTUND" genkey >"$TMP/k2" || fail "genkey failed"
for k in k1 k2; do
	[ "$(wc -l <"$TMP/$k")" = 1 ] || fail "genkey: not one line"
	[ "$(tr -d '\n' <"$TMP/$k" | wc -c)" = 44 ] || fail "genkey: not 44 characters: $(cat "$TMP/$k")"
	grep -qE '^[A-Za-z0-9+/]{43}=$' "$TMP/$k" || fail "genkey: not base64: $(cat "$TMP/$k")"
	[ "$(base64 -d <"$TMP/$k" | wc -c)" = 32 ] || fail "genkey: does not decode to 32 bytes"
done
cmp -s "$TMP/k1" "$TMP/k2" && fail "genkey printed the same key twice"
check "genkey: 44 base64 characters, 32 bytes, fresh each time"

snapshot "$NS_X" "$TMP/after"
same_snapshot "$TMP/before" "$TMP/after" "after all"
pass
