/* SPDX-License-Identifier: ISC */
/*
 * Path MTU for sealed flows. A router that cannot forward a sealed segment
 * sends ICMP "fragmentation needed" (IPv6: "packet too big") to this host.
 * Linux records an IPv4 report on the route that a lookup without ports
 * finds (main's route to the peer), not on the zcc0 route the selected
 * socket uses, so TCP would never shrink its segments; for IPv6 it records
 * the reported MTU itself, which leaves no room for the option. zcctund
 * reads these reports, believes one only when it quotes a sealed segment
 * of a live flow (RFC 5927), and sets the MTU of the link's zcc0 route to
 * the path MTU minus the option.
 *
 * Pure: parsing and the policy (floor, only down, back up after a while);
 * no sockets, no clocks of its own.
 */
#ifndef ZCC_PMTU_H
#define ZCC_PMTU_H

#include <stddef.h>
#include <stdint.h>

#include "zcc/addr.h"

/* The smallest path MTU believed: RFC 791's 576, RFC 8200's 1280. */
#define PMTU_FLOOR4 576
#define PMTU_FLOOR6 1280
/* A lowered MTU is tried again after this long (as Linux's mtu_expires). */
#define PMTU_EXPIRE_MS (600 * 1000)

/* What an ICMP "too big" says, and the segment it quotes. */
struct pmtu_report {
	uint32_t mtu;                   /* the next hop's MTU, as reported */
	struct zcc_addr src, dst;       /* the quoted segment's addresses */
	uint16_t sport, dport;
	uint32_t seq;
	int option;                     /* 1: the quote shows the zcc option,
	                                   0: too short to tell, -1: without it */
	uint8_t key_id;                 /* when option is 1 */
};

enum pmtu_error {
	PMTU_NOT_TOO_BIG = -1,  /* well formed, another ICMP type or code */
	PMTU_MALFORMED = -2,    /* short, or the quote is not an IP/TCP packet */
};

/*
 * Parse one message as a raw socket of family af reads it: IPv4 with the
 * IP header first, ICMPv6 from its own header. 0 and *r filled, or an
 * enum pmtu_error.
 */
int pmtu_parse(int af, const uint8_t *buf, size_t len, struct pmtu_report *r);

struct pmtu {
	uint32_t floor;                 /* PMTU_FLOOR4 or 6 */
	uint32_t link_mtu;              /* the real interface's: no cap below */
	uint32_t path_mtu;              /* in use; link_mtu when none learnt */
	uint64_t lowered_at;            /* ms; 0 when path_mtu == link_mtu */
};

void pmtu_init(struct pmtu *p, int af, uint32_t link_mtu);

/*
 * A believed report of mtu at now (ms): the new path MTU when it is lower
 * than the one in use (clamped to the floor), else 0.
 */
uint32_t pmtu_report(struct pmtu *p, uint32_t mtu, uint64_t now);

/* At now: link_mtu when a lowered MTU has expired (try it again), else 0. */
uint32_t pmtu_expire(struct pmtu *p, uint64_t now);

#endif
