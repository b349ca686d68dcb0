#!/bin/bash
# SPDX-License-Identifier: ISC
# test_backstop.sh over IPv6: extension headers and fragments slip past the
# ingress filter and the ip6 backstop drops them; with the ip -6 rules
# deleted, A's output chain keeps port 5001 off the wire.
ZCC_TEST_FAMILY=6 exec "$(dirname "$0")/test_backstop.sh" "$@"
