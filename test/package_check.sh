#!/bin/bash
# SPDX-License-Identifier: ISC
# The Debian package: dpkg-buildpackage -us -uc -b builds it from a copy of
# the source tree (its own test step runs the unit tests and says it skips
# the network ones), lintian finds nothing, and it holds what an
# administrator needs: the daemon and zccctl that run, the man pages,
# /etc/zcc with peers/, the ifupdown hooks, the systemd units, bash
# completion, the collector, and a postinst that creates the engine's user.
# Usage: package_check.sh SOURCE_DIR
set -euo pipefail
src=$1
tmp=$(mktemp -d /tmp/zcc-package.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "package_check.sh: FAIL: $*" >&2; exit 1; }

mkdir "$tmp/zcc"
(cd "$src" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) |
	tar -x -C "$tmp/zcc"
(cd "$tmp/zcc" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 || {
	tail -40 "$tmp/build.log" >&2
	fail "dpkg-buildpackage failed"
}
grep -q "skipping the network namespace tests" "$tmp/build.log" ||
	fail "the build's test step does not say it skips the network tests"
grep -q "100% tests passed" "$tmp/build.log" || fail "the build's tests did not all pass"
deb=$(ls "$tmp"/zcc_*.deb)
echo "  [ok] built $(basename "$deb") ($(stat -c %s "$deb") bytes), the unit tests passed in the build"

lintian --allow-root --fail-on error,warning "$tmp"/zcc_*.changes >"$tmp/lintian" 2>&1 ||
	fail "lintian: $(cat "$tmp/lintian")"
echo "  [ok] lintian: $(grep -c . "$tmp/lintian" || true) tags at error or warning level"

dpkg-deb -c "$deb" | awk '{ print $1, $6 }' >"$tmp/contents"
for f in "-rwxr-xr-x ./usr/sbin/zcctund" "-rwxr-xr-x ./usr/sbin/zccctl" \
	"-rw-r--r-- ./usr/share/man/man8/zcctund.8.gz" \
	"-rw-r--r-- ./usr/share/man/man8/zccctl.8.gz" \
	"-rw-r--r-- ./usr/share/man/man5/zcc.conf.5.gz" \
	"-rw-r--r-- ./etc/zcc/zcc.conf" "drwxr-xr-x ./etc/zcc/peers/" \
	"-rwxr-xr-x ./etc/zcc/ip-up" "-rwxr-xr-x ./etc/network/if-up.d/zcc" \
	"-rwxr-xr-x ./etc/network/if-down.d/zcc" \
	"-rw-r--r-- ./lib/systemd/system/zcctund@.service" \
	"-rw-r--r-- ./lib/systemd/system/zcc-textfile.timer" \
	"-rw-r--r-- ./usr/share/bash-completion/completions/zcctund" \
	"-rwxr-xr-x ./usr/share/zcc/zcc-textfile" \
	"-rw-r--r-- ./usr/share/doc/zcc/copyright"; do
	grep -qxF -- "$f" "$tmp/contents" || fail "not in the package: $f"
done
echo "  [ok] $(grep -c . "$tmp/contents") entries, among them the 15 an administrator needs"

dpkg-deb -x "$deb" "$tmp/root"
"$tmp/root/usr/sbin/zcctund" --version | grep -qx "zcctund [0-9.]*" ||
	fail "the packaged zcctund does not run"
grep -qx "ExecStart=/usr/sbin/zcctund call %i nodetach" \
	"$tmp/root/lib/systemd/system/zcctund@.service" ||
	fail "the packaged unit does not start /usr/sbin/zcctund"
dpkg-deb -e "$deb" "$tmp/control"
grep -q "adduser --system --group" "$tmp/control/postinst" ||
	fail "the postinst does not create the engine's user"
grep -qx "/etc/zcc/zcc.conf" "$tmp/control/conffiles" ||
	fail "/etc/zcc/zcc.conf is not a conffile"
echo "  [ok] the packaged zcctund runs, the unit names it, postinst creates the user, /etc files are conffiles"
echo "package_check.sh: PASS"
