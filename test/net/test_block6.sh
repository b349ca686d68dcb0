#!/bin/bash
# test_block.sh over IPv6: the block (table inet zcc_zcc0, the ip -6 rules
# into zcc's table, the state file) holds the selected flows of an IPv6 link
# after a link failure, a failed start and SIGTERM, until "zcctund cleanup".
ZCC_TEST_FAMILY=6 exec "$(dirname "$0")/test_block.sh" "$@"
