#!/bin/bash
# SPDX-License-Identifier: ISC
# test_encap.sh on a link with no encrypt-port: a VPN link, as CIPE's.
ZCC_TEST_VPN=1 exec "$(dirname "$0")/test_encap.sh" "$@"
