#!/bin/bash
# SPDX-License-Identifier: ISC
# test_restart.sh over IPv6: five SIGKILL-and-restart cycles of A's and B's
# zcctund under 100 live connections and a bulk transfer, then again with C
# replaying sealed segments and forging plain ACKs across each restart;
# nothing of the selected port on the wire without the zcc option or in
# plaintext, every stream whole and byte-exact.
ZCC_TEST_FAMILY=6 exec "$(dirname "$0")/test_restart.sh" "$@"
