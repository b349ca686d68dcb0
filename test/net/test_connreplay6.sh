#!/bin/bash
# SPDX-License-Identifier: ISC
# test_connreplay.sh over IPv6: A and B are each other's peer by IPv6 address.
ZCC_TEST_FAMILY=6 exec "$(dirname "$0")/test_connreplay.sh" "$@"
