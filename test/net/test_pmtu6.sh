#!/bin/bash
# SPDX-License-Identifier: ISC
# test_pmtu.sh over IPv6: ICMPv6 "packet too big", a 1280-byte hop; 8 MB A
# to B and no ICMP-filtered phase unless ZCC_PMTU_PROBE=1 ZCC_PMTU_AB_MB=32.
ZCC_TEST_FAMILY=6 ZCC_PMTU_AB_MB=${ZCC_PMTU_AB_MB:-8} \
	ZCC_PMTU_PROBE=${ZCC_PMTU_PROBE:-0} exec "$(dirname "$0")/test_pmtu.sh" "$@"
