#!/bin/sh
# SPDX-License-Identifier: ISC
# test_privsep.sh over IPv6.
ZCC_TEST_FAMILY=6 exec "$(dirname "$0")/test_privsep.sh" "$@"
