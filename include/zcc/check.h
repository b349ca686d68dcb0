/* SPDX-License-Identifier: ISC */
/*
 * zcctund check: what a start with these words needs, checked without
 * starting (nothing on the host changes): the key file, the privileges
 * and the engine's user, the tools, the route to the peer, the kernel's
 * TUN, clsact and cls_bpf, nftables, fib rules with ports, and AF_PACKET
 * rings (tried in a scratch network namespace that goes with the check),
 * and whether the peer answers a handshake. One plain line per check.
 */
#ifndef ZCC_CHECK_H
#define ZCC_CHECK_H

#include "zcc/options.h"

/*
 * Run every check on o (parsed and checked: options_check), printing to
 * stdout. 0 when a start would find what it needs, 2 when not. A peer
 * that does not answer is a warning only (it may not be started yet); one
 * that answers with another key or other ports is a failure.
 */
int check_run(const struct zcc_options *o);

#endif
