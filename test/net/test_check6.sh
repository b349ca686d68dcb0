#!/bin/bash
# SPDX-License-Identifier: ISC
# test_check.sh over IPv6: zcctund check for a link to fd00::2 tries the
# ip -6 rules in its scratch namespace and probes the peer over IPv6.
ZCC_TEST_FAMILY=6 exec "$(dirname "$0")/test_check.sh" "$@"
