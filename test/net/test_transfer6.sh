#!/bin/bash
# SPDX-License-Identifier: ISC
# test_transfer.sh over IPv6: A and B are fd00::1 and fd00::2 on their eth0
# and each other's peer by IPv6 address, so the selected flows are sealed
# in place as IPv6 segments (steered by ip -6 rules, taken by the receive
# ring). The same checks: byte-exact both ways and in both roles, every
# port-5001 segment on the wire sealed, no plaintext, zcc0's segments on the
# wire as GSO cuts them with their headers intact, port 5002 untouched.
ZCC_TEST_FAMILY=6 exec "$(dirname "$0")/test_transfer.sh" "$@"
