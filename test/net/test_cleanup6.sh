#!/bin/bash
# SPDX-License-Identifier: ISC
# test_cleanup.sh over IPv6: what an IPv6 link installs (ip -6 rules and
# routes, the ipv6 ingress filter, the ip6 backstop) stays after SIGTERM,
# SIGINT and SIGKILL and goes with "zcctund cleanup", and a killed daemon's
# flows fail closed.
ZCC_TEST_FAMILY=6 exec "$(dirname "$0")/test_cleanup.sh" "$@"
