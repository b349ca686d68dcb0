#!/bin/bash
# SPDX-License-Identifier: ISC
# test_linksend.sh over IPv6: the next hop is found by neighbour discovery,
# and the frames carry IPv6 (no header checksum; the TCP checksum is checked).
ZCC_TEST_FAMILY=6 exec "$(dirname "$0")/test_linksend.sh" "$@"
