#!/bin/bash
# SPDX-License-Identifier: ISC
# test_scope.sh over IPv6.
ZCC_TEST_FAMILY=6 exec "$(dirname "$0")/test_scope.sh" "$@"
