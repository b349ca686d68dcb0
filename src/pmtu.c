/* SPDX-License-Identifier: ISC */
/*
 * ICMP "too big" reports about sealed segments (include/zcc/pmtu.h). The
 * bytes come from any host on the path: every read is bounded by len,
 * and the quoted segment is copied before packet.c looks at its options.
 */
#include <string.h>

#include "zcc/packet.h"
#include "zcc/pmtu.h"

#define ICMP4_HLEN 8
#define ICMP4_UNREACH 3
#define ICMP4_FRAG_NEEDED 4
#define ICMP6_TOO_BIG 2
#define IP4_MIN_HLEN 20
#define IP6_HLEN 40
#define IP_PROTO_TCP 6
#define TCP_PORTS_SEQ 8         /* what RFC 792 guarantees of the quote */
#define TCP_MIN_HLEN 20

static uint32_t
get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* Whether the quoted TCP header, when whole, ends with the zcc option. */
static void
quoted_option(int af, const uint8_t *q, size_t iphl, size_t n,
    struct pmtu_report *r)
{
	uint8_t copy[IP6_HLEN + ZCC_TCP_MAX_HLEN];
	struct packet p = { .buf = copy, .af = af, .ip_hlen = iphl };
	size_t thl;
	long at;

	r->option = 0;
	if (n < iphl + TCP_MIN_HLEN || iphl > IP6_HLEN)
		return;
	thl = (size_t)(q[iphl + 12] >> 4) * 4;
	if (thl < TCP_MIN_HLEN || n < iphl + thl)
		return;
	memcpy(copy, q, iphl + thl);
	p.tcp_hlen = thl;
	p.len = iphl + thl;
	at = packet_find_option(&p);
	r->option = at < 0 ? -1 : 1;
	if (at >= 0)
		r->key_id = copy[at + ZCC_OPT_KEYID_OFF];
}

/* The quoted packet q (n bytes, maybe cut short): IP header, then TCP. */
static int
parse_quote(int af, const uint8_t *q, size_t n, struct pmtu_report *r)
{
	size_t iphl, alen = af == AF_INET ? 4 : 16;
	const uint8_t *t;

	if (af == AF_INET) {
		if (n < IP4_MIN_HLEN || q[0] >> 4 != 4)
			return PMTU_MALFORMED;
		iphl = (size_t)(q[0] & 0x0f) * 4;
		if (iphl < IP4_MIN_HLEN || q[9] != IP_PROTO_TCP)
			return PMTU_MALFORMED;
		addr_set(&r->src, AF_INET, q + 12);
		addr_set(&r->dst, AF_INET, q + 16);
	} else {
		if (n < IP6_HLEN || q[0] >> 4 != 6 || q[6] != IP_PROTO_TCP)
			return PMTU_MALFORMED;
		iphl = IP6_HLEN;
		addr_set(&r->src, AF_INET6, q + 8);
		addr_set(&r->dst, AF_INET6, q + 8 + alen);
	}
	if (n < iphl + TCP_PORTS_SEQ)
		return PMTU_MALFORMED;
	t = q + iphl;
	r->sport = (uint16_t)(t[0] << 8 | t[1]);
	r->dport = (uint16_t)(t[2] << 8 | t[3]);
	r->seq = get32(t + 4);
	quoted_option(af, q, iphl, n, r);
	return 0;
}

int
pmtu_parse(int af, const uint8_t *buf, size_t len, struct pmtu_report *r)
{
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	if (af == AF_INET) {
		if (len < IP4_MIN_HLEN || buf[0] >> 4 != 4)
			return PMTU_MALFORMED;
		off = (size_t)(buf[0] & 0x0f) * 4;
		if (off < IP4_MIN_HLEN)
			return PMTU_MALFORMED;
	} else if (af != AF_INET6)
		return PMTU_MALFORMED;
	if (len < off + ICMP4_HLEN)
		return PMTU_MALFORMED;
	if (af == AF_INET) {
		if (buf[off] != ICMP4_UNREACH || buf[off + 1] != ICMP4_FRAG_NEEDED)
			return PMTU_NOT_TOO_BIG;
		/* RFC 1191: the next-hop MTU in the low 16 bits. */
		r->mtu = (uint32_t)(buf[off + 6] << 8 | buf[off + 7]);
	} else {
		if (buf[off] != ICMP6_TOO_BIG || buf[off + 1] != 0)
			return PMTU_NOT_TOO_BIG;
		r->mtu = get32(buf + off + 4);
	}
	if (r->mtu == 0)
		return PMTU_MALFORMED;  /* pre-RFC 1191: no number to use */
	off += ICMP4_HLEN;
	return parse_quote(af, buf + off, len - off, r);
}

void
pmtu_init(struct pmtu *p, int af, uint32_t link_mtu)
{
	p->floor = af == AF_INET6 ? PMTU_FLOOR6 : PMTU_FLOOR4;
	p->link_mtu = link_mtu;
	p->path_mtu = link_mtu;
	p->lowered_at = 0;
}

uint32_t
pmtu_report(struct pmtu *p, uint32_t mtu, uint64_t now)
{
	if (mtu < p->floor)
		mtu = p->floor;
	if (mtu >= p->path_mtu)
		return 0;
	p->path_mtu = mtu;
	p->lowered_at = now ? now : 1;
	return mtu;
}

uint32_t
pmtu_expire(struct pmtu *p, uint64_t now)
{
	if (p->lowered_at == 0 || now - p->lowered_at < PMTU_EXPIRE_MS)
		return 0;
	p->path_mtu = p->link_mtu;
	p->lowered_at = 0;
	return p->link_mtu;
}
