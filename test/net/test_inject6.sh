#!/bin/bash
# SPDX-License-Identifier: ISC
# test_inject.sh over IPv6: C forges IPv6 segments of a live selected
# connection between fd00::1 and fd00::2; none reaches B's socket.
ZCC_TEST_FAMILY=6 exec "$(dirname "$0")/test_inject.sh" "$@"
