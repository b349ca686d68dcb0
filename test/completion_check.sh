#!/bin/bash
# SPDX-License-Identifier: ISC
# The bash completions (etc/bash-completion/) complete what a user types:
# zcctund's option words as its --help lists them, names for "call" from
# CONFDIR/peers, the values of compress and ready-at, nothing after a word
# that takes an argument; zccctl's commands and options.
# Usage: completion_check.sh BUILD_DIR
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$1:$PATH"
TMP=$(mktemp -d /tmp/zcc-completion.XXXX)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/conf/peers"
: >"$TMP/conf/peers/office"
: >"$TMP/conf/peers/lab"
. "$SRC/etc/bash-completion/zcctund"
. "$SRC/etc/bash-completion/zccctl"

fail() { echo "completion_check.sh: FAIL: $*" >&2; exit 1; }

# expect FUNCTION "WANT" WORDS...: completing the last word gives WANT.
expect() {
	local fn=$1 want=$2 got
	shift 2
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	"$fn"
	got=
	[ ${#COMPREPLY[@]} = 0 ] ||
		got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
	[ "$got" = "$want" ] || fail "'$*': got '$got', want '$want'"
	echo "  [ok] $* -> ${want:-nothing}"
}

expect _zcctund "encrypt-port " zcctund peer 10.0.0.2 enc
expect _zcctund "genkey " zcctund ge
expect _zcctund "check " zcctund ch
expect _zcctund "" zcctund peer 10.0.0.2 encrypt-port ""
expect _zcctund "updetach " zcctund peer 10.0.0.2 upd
expect _zcctund "ready-at rekey-interval resolve-interval " zcctund re
expect _zcctund "lz4 lzs " zcctund compress l
expect _zcctund "setup " zcctund ready-at s
expect _zcctund "lab office " zcctund confdir "$TMP/conf" call ""
expect _zcctund "ifname " zcctund cleanup i
expect _zccctl "session-id show stop " zccctl s
expect _zccctl "--json -v " zccctl show -
expect _zccctl "reload " zccctl rel
expect _zccctl "--json " zccctl session-id 5001 10.0.0.2 40000 -

# Every word of the option table, from --help: none missing, none invented.
n=$(_zcctund_words zcctund | wc -l)
[ "$n" -ge 30 ] || fail "only $n option words from zcctund --help"
for w in $(_zcctund_words zcctund); do
	m=$(printf '%s' "${w%=}" | sed 's/-/\\\\-/g')   # groff's \- for -
	grep -q "^\.BI\{0,1\} $m\( \|\$\)" "$SRC/docs/zcctund.8" ||
		fail "'${w%=}' is completed but zcctund(8) has no entry for it"
done
echo "  [ok] $n option words, each with its entry in zcctund(8)"
echo "completion_check.sh: PASS"
