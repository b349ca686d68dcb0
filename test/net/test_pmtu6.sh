#!/bin/bash
# SPDX-License-Identifier: ISC
# test_pmtu.sh over IPv6: ICMPv6 "packet too big", a 1280-byte hop.
ZCC_TEST_FAMILY=6 exec "$(dirname "$0")/test_pmtu.sh" "$@"
