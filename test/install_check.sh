#!/bin/bash
# SPDX-License-Identifier: ISC
# cmake --install into a staging directory: the files a user needs are there,
# the binary runs, and the man pages render without warnings.
set -euo pipefail
build=$1
stage=$(mktemp -d /tmp/zcc-install.XXXXXX)
trap 'rm -rf "$stage"' EXIT

# A loose umask, as some administrators have: the directories holding the
# scripts must still come out 0755, or zcctund would refuse to run them.
(umask 002 && DESTDIR=$stage cmake --install "$build" >/dev/null)
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
units=$(sed -n 's/^ZCC_SYSTEMD_UNITDIR:PATH=//p' "$build/CMakeCache.txt")
for f in "$prefix/sbin/zcctund" /etc/zcc/zcc.conf \
	"$prefix/share/man/man8/zcctund.8" "$prefix/share/man/man5/zcc.conf.5"; do
	[ -f "$stage$f" ] || { echo "not installed: $f" >&2; exit 1; }
	echo "installed: $f"
done
"$stage$prefix/sbin/zcctund" --version | grep -q '^zcctund [0-9]' ||
	{ echo "the installed zcctund does not run" >&2; exit 1; }
for page in "$stage$prefix/share/man/man8/zcctund.8" "$stage$prefix/share/man/man5/zcc.conf.5"; do
	warnings=$(groff -man -ww -z "$page" 2>&1)
	[ -z "$warnings" ] || { echo "$page: $warnings" >&2; exit 1; }
done

# The scripts and hooks, with the modes they need: executable by all, written
# by root alone (zcctund's helper refuses a script writable by others).
mode_is() {
	local want=$1 f=$2 got
	[ -e "$stage$f" ] || { echo "not installed: $f" >&2; exit 1; }
	got=$(stat -c %a "$stage$f")
	[ "$got" = "$want" ] || { echo "$f: mode $got, expected $want" >&2; exit 1; }
	echo "installed: $f ($got)"
}
scripts="/etc/zcc/ip-up /etc/zcc/ip-down /etc/network/if-up.d/zcc
	/etc/network/if-down.d/zcc"
for f in $scripts; do
	mode_is 755 "$f"
	[ -f "$stage$f" ] || { echo "$f: not a regular file" >&2; exit 1; }
	sh -n "$stage$f" || { echo "$f: sh -n failed" >&2; exit 1; }
done
for d in /etc/zcc /etc/zcc/ip-up.d /etc/zcc/ip-down.d /etc/zcc/peers; do
	mode_is 755 "$d"
	[ -d "$stage$d" ] || { echo "$d: not a directory" >&2; exit 1; }
done
mode_is 644 "$prefix/share/bash-completion/completions/zcctund"
mode_is 644 "$prefix/share/bash-completion/completions/zccctl"
mode_is 755 "$prefix/share/zcc/zcc-textfile"
mode_is 644 "$units/zcc-textfile.timer"
grep -qx "ExecStart=$prefix/share/zcc/zcc-textfile --zccctl $prefix/sbin/zccctl" \
	"$stage$units/zcc-textfile.service" ||
	{ echo "zcc-textfile.service does not name the installed programs" >&2; exit 1; }
unit="$units/zcctund@.service"
mode_is 644 "$unit"
grep -qx "ExecStart=$prefix/sbin/zcctund call %i nodetach" "$stage$unit" ||
	{ echo "$unit: ExecStart does not name $prefix/sbin/zcctund" >&2; exit 1; }
# Linters only where installed: the test must not depend on them.
for lint in "checkbashisms" "shellcheck -s sh"; do
	command -v "${lint%% *}" >/dev/null || continue
	for f in $scripts; do
		$lint "$stage$f" || { echo "$f: ${lint%% *} complained" >&2; exit 1; }
	done
	echo "${lint%% *}: clean"
done
if command -v systemd-analyze >/dev/null; then
	# Under a name with an instance, and with the installed zcctund, since
	# verify checks that ExecStart's program exists.
	mkdir "$stage/verify"
	sed "s|^ExecStart=$prefix/sbin/zcctund|ExecStart=$stage$prefix/sbin/zcctund|" \
		"$stage$unit" >"$stage/verify/zcctund@office.service"
	sed "s|^ExecStart=$prefix/share/zcc/|ExecStart=$stage$prefix/share/zcc/|" \
		"$stage$units/zcc-textfile.service" \
		>"$stage/verify/zcc-textfile.service"
	cp "$stage$units/zcc-textfile.timer" "$stage/verify/"
	# It reports bad settings as warnings ("ignoring"), with status 0.
	for u in zcctund@office.service zcc-textfile.service zcc-textfile.timer; do
		if ! warnings=$(systemd-analyze verify --man=no \
			"$stage/verify/$u" 2>&1) || [ -n "$warnings" ]; then
			echo "$u: systemd-analyze verify: $warnings" >&2
			exit 1
		fi
	done
	echo "systemd-analyze verify: clean"
fi
echo "install ok"
