#!/bin/bash
# SPDX-License-Identifier: ISC
# test_multilink.sh over IPv6: two links in A with defaults only (zcc0 and
# zcc1, each its own table, ip -6 rule preferences and fwmark), sealed
# transfers on both, A-B's SIGKILL and restart and A-C's stop and cleanup
# with the other link carrying on, foreign ip -6 rules and routes
# (2001:db8::/32) untouched, and A as before in the end.
ZCC_TEST_FAMILY=6 exec "$(dirname "$0")/test_multilink.sh" "$@"
