#!/bin/bash
# SPDX-License-Identifier: ISC
# test_link.sh over IPv6: the link's handshake, rekeys, scripts (IPLOCAL
# and IPREMOTE are the IPv6 addresses), zccctl and SIGHUP with peers given
# by IPv6 address.
ZCC_TEST_FAMILY=6 exec "$(dirname "$0")/test_link.sh" "$@"
