/* SPDX-License-Identifier: ISC */
/*
 * The engine: the unprivileged process that moves packets. It reads zcc0,
 * the receive ring and the UDP socket, runs the link (handshakes, keys,
 * echo) and the data path, and serves the control socket; it changes
 * nothing on the host. Everything it uses was opened by the root parent
 * (privsep.h), which asks it to take re-read options over a message pair
 * and is told when the link comes up or goes down.
 */
#ifndef ZCC_ENGINE_H
#define ZCC_ENGINE_H

#include <net/if.h>
#include <stdint.h>

#include "zcc/addr.h"
#include "zcc/options.h"

struct intake;

struct engine_setup {
	struct zcc_options opt;         /* as claimed: ifname and numbers set */
	struct zcc_addr local;          /* of the peer's family */
	char realdev[IFNAMSIZ];
	unsigned int realdev_index;     /* for link-layer sends, else 0 */
	int mtu;                        /* zcc0's */
	int tun_fd, raw_fd, udp_fd;
	int link_fd, nl_fd;             /* -1: sealed segments by IP output */
	int control_fd;                 /* listening */
	int priv_fd;                    /* to the parent */
	int icmp_fd;                    /* ICMP "too big" reports (pmtu.h) */
	int route_fd;                   /* rtnetlink: is a source routed here */
	unsigned int tun_index;         /* zcc0's ifindex */
	struct intake *intake;
	const struct privsep_keys *keys;        /* wiped by the caller */
	uint64_t stderr_until;          /* updetach: stderr is the waiting
	                                   command's until the link is up or
	                                   this CLOCK_MONOTONIC ms; 0: never */
};

/*
 * Run until SIGTERM or SIGINT (0), the link failing for good without
 * persist (PRIVSEP_EXIT_GAVE_UP), the parent gone or an error (1).
 * Privileges are dropped by then: the caller has called privsep_drop.
 */
int engine_run(const struct engine_setup *s);

#endif
