/* SPDX-License-Identifier: ISC */
/*
 * The link-layer address the sealed segments go to: the next hop toward
 * the peer as the kernel's routing and neighbour tables have it, read over
 * rtnetlink. zcctund sends on the real interface's link layer with it
 * (docs/DECISIONS.md, "Sealed segments leave by the link layer"), and
 * falls back to the kernel's IP output whenever it says "none".
 */
#ifndef ZCC_NEXTHOP_H
#define ZCC_NEXTHOP_H

#include <stddef.h>
#include <stdint.h>

#include "zcc/addr.h"

#define NEXTHOP_ALEN 6          /* Ethernet: the only link type sent on */
#define NEXTHOP_MACSTRLEN 18    /* "xx:xx:xx:xx:xx:xx" and its NUL */

struct nexthop {
	int ifindex;                    /* the interface the route leaves by */
	struct zcc_addr addr;           /* the gateway, or the peer on-link */
	uint8_t mac[NEXTHOP_ALEN];
	int state;                      /* NEXTHOP_* */
};

enum {
	NEXTHOP_NONE,           /* not resolved (or not Ethernet): use IP output */
	NEXTHOP_VALID,          /* confirmed by the kernel lately */
	NEXTHOP_STALE,          /* usable, but the kernel wants traffic to recheck */
};

/* A NETLINK_ROUTE socket for lookups. The fd, or -1 (logged). */
int nexthop_open(void);

/*
 * Look up the route to peer for packets marked fwmark, then its next hop's
 * neighbour entry. Fills *nh; returns its state. Needs no privilege.
 */
int nexthop_lookup(int fd, const struct zcc_addr *peer, uint32_t fwmark,
    struct nexthop *nh);

/*
 * The interface this host's own traffic to `to` leaves by (the route, no
 * mark), or -1 when there is no route or the kernel did not answer.
 */
int nexthop_route_oif(int fd, const struct zcc_addr *to);

/*
 * The parsers of the kernel's replies, public for the unit tests. Each
 * takes one whole netlink message. 0 on success, -1 when msg is not a
 * well-formed reply of its kind (an NLMSG_ERROR too).
 *
 * route: RTM_NEWROUTE; *ifindex from RTA_OIF, *gw from RTA_GATEWAY (af 0
 * when there is none: the destination is on-link).
 * neigh: RTM_NEWNEIGH; the NUD_* state and, when the entry has one, the
 * hardware address (NEXTHOP_ALEN bytes; *have_mac says whether it did).
 */
int nexthop_parse_route(const uint8_t *msg, size_t len, int af, int *ifindex,
    struct zcc_addr *gw);
int nexthop_parse_neigh(const uint8_t *msg, size_t len, int *nud,
    uint8_t mac[NEXTHOP_ALEN], int *have_mac);

/* The state a NUD_* value maps to, given a hardware address or not. */
int nexthop_state_of(int nud, int have_mac);

/* nh's hardware address as text, or "" when nh is NEXTHOP_NONE; buf. */
const char *nexthop_format_mac(const struct nexthop *nh,
    char buf[NEXTHOP_MACSTRLEN]);

#endif
