#!/bin/bash
# cmake --install into a staging directory: the files a user needs are there,
# the binary runs, and the man pages render without warnings.
set -euo pipefail
build=$1
stage=$(mktemp -d /tmp/zcc-install.XXXXXX)
trap 'rm -rf "$stage"' EXIT

DESTDIR=$stage cmake --install "$build" >/dev/null
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
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
echo "install ok"
