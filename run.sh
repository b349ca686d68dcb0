#!/bin/bash
# SPDX-License-Identifier: ISC
# Developer entry point on a fresh Debian 12:
#
#     ./run.sh demo     build, then the two-host demo (test/net/demo.sh)
#     ./run.sh test     build, unit and network tests, the same under
#                       ASan/UBSan, then each fuzzer for ZCC_FUZZ_SECONDS (15),
#                       then the benchmark's smoke run (bench/run.sh --smoke)
#
# Needs root (network namespaces, packages): re-runs itself with sudo.
set -euo pipefail

usage() { echo "usage: $0 demo|test" >&2; exit 2; }
[ $# = 1 ] || usage
case $1 in demo|test) ;; *) usage ;; esac

if [ "$(id -u)" != 0 ]; then
	exec sudo -E "$0" "$@"
fi
cd "$(dirname "$0")"

PACKAGES="build-essential cmake pkg-config clang libclang-rt-14-dev
	libsodium-dev libssl-dev liblz4-dev libconfig-dev libevent-dev libsystemd-dev
	iproute2 nftables tcpdump tshark socat netcat-openbsd iperf3 iputils-ping
	python3 python3-scapy python3-cryptography python3-pycryptodome man-db groff-base ifupdown
	conntrack debhelper lintian ethtool wireguard-tools"

install_missing() {
	local p missing=()
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return 0
	echo "== installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() {   # build DIR [cmake args...]
	local dir=$1
	shift
	echo "== building $dir $*"
	cmake -S . -B "$dir" -DZCC_WERROR=ON "$@"
	cmake --build "$dir" -j2
}

fuzz() {    # fuzz NAME: run one fuzzer on a temp copy of its corpus
	local name=$1 corpus rc d
	corpus=$(mktemp -d "/tmp/zcc-corpus-$name.XXXX")
	# Seeds: test/fuzz/corpus/fuzz_open/ or test/fuzz/corpus/open/.
	for d in "test/fuzz/corpus/$name" "test/fuzz/corpus/${name#fuzz_}"; do
		if [ -d "$d" ]; then cp -r "$d/." "$corpus/"; fi
	done
	echo "== fuzzing $name for ${ZCC_FUZZ_SECONDS:-15} s"
	# Crash inputs land in build-fuzz/ (crash-*, leak-*), kept for replay.
	"build-fuzz/test/$name" -max_total_time="${ZCC_FUZZ_SECONDS:-15}" \
		-print_final_stats=1 -artifact_prefix="build-fuzz/$name-" "$corpus" &&
		rc=0 || rc=$?
	rm -rf "$corpus"
	return $rc
}

# The engine's own user, as the package creates it (zcctund(8), PRIVILEGES).
ensure_user() {
	id -u zcc >/dev/null 2>&1 && return 0
	echo "== creating the system user zcc (the engine runs as it)"
	useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin zcc
}

install_missing
ensure_user
build build

case $1 in
demo)
	test/net/demo.sh build/zcctund
	;;
test)
	ctest --test-dir build --output-on-failure
	build build-asan -DZCC_SANITIZE=ON
	# The IPv6 twins of the two longest tests run once, above: the same C
	# with the other family, which the other IPv6 twins cover under ASan.
	ctest --test-dir build-asan --output-on-failure \
		-E '^(net\.test_(restart6|block6)|package)$'
	build build-fuzz -DCMAKE_C_COMPILER=clang -DZCC_FUZZ=ON
	for f in fuzz_open fuzz_options fuzz_handshake fuzz_lzs fuzz_lz4 fuzz_encap \
	    fuzz_nexthop fuzz_privsep fuzz_pmtu fuzz_tun fuzz_local; do
		fuzz "$f"
	done
	# The benchmark's smoke run: it builds, measures and writes a table
	# (timings are reported, never asserted).
	bench/run.sh --smoke
	echo "== all tests passed"
	;;
esac
