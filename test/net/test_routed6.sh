#!/bin/bash
# SPDX-License-Identifier: ISC
# test_routed.sh over IPv6: the gateways are found by neighbour discovery.
ZCC_TEST_FAMILY=6 exec "$(dirname "$0")/test_routed.sh" "$@"
