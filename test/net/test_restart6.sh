#!/bin/bash
# SPDX-License-Identifier: ISC
# test_restart.sh over IPv6, its second phase only (CI time): five
# SIGKILL-and-restart cycles of A's and B's zcctund under 100 live
# connections and a bulk transfer while C replays sealed segments and forges
# plain ACKs across each restart; nothing of the selected port on the wire
# without the zcc option or in plaintext, every stream whole and byte-exact.
# ZCC_RESTART_PHASES="1 2" runs both, as test_restart.sh does over IPv4.
ZCC_TEST_FAMILY=6 ZCC_RESTART_PHASES=${ZCC_RESTART_PHASES:-2} \
	exec "$(dirname "$0")/test_restart.sh" "$@"
