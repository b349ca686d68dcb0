/* SPDX-License-Identifier: ISC */
/*
 * Segmentation offloads: cutting zcc0's TCP super-segments as the kernel's
 * GSO does (net/ipv4/tcp_offload.c, net/ipv4/af_inet.c, and for IPv6
 * net/ipv6/tcpv6_offload.c, net/ipv6/ip6_offload.c), and coalescing opened
 * segments as its GRO does, with the same rules for what may merge.
 */
#include <string.h>

#include "zcc/offload.h"

#define IP_HLEN_PLAIN 20
#define IP_ID_OFF 4
#define IP_LEN_OFF 2
#define IP_CSUM_OFF 10
#define IP6_HLEN 40
#define IP6_PLEN_OFF 4
#define IP6_MAX_PLEN 65535
#define TCP_SEQ_OFF 4
#define TCP_CSUM_OFF 16
#define TCP_FLAGS_OFF 13
#define TCP_CWR 0x80
#define TCP_PSH 0x08
#define IP_MAX_LEN 65535

static uint16_t
get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

/*
 * The IP length fields of a packet of len bytes whose header is p's:
 * IPv4's total length (and its checksum, over the id the caller set),
 * IPv6's payload length. out holds the header.
 */
static void
set_ip_len(const struct packet *p, uint8_t *out, size_t len)
{
	struct packet h = { .buf = out, .af = p->af, .ip_hlen = p->ip_hlen };

	if (p->af == AF_INET6) {
		packet_put16(out + IP6_PLEN_OFF, (uint16_t)(len - IP6_HLEN));
		return;
	}
	packet_put16(out + IP_LEN_OFF, (uint16_t)len);
	packet_put16(out + IP_CSUM_OFF, 0);
	packet_put16(out + IP_CSUM_OFF, packet_ip_checksum(&h));
}

long
offload_segment(const struct packet *p, size_t mss, size_t i, uint8_t *out,
    size_t cap)
{
	size_t hlen = p->ip_hlen + p->tcp_hlen, off, n, last;
	uint8_t *tcp = out + p->ip_hlen;

	if (mss == 0)
		return -1;
	last = p->payload_len == 0 ? 0 : (p->payload_len - 1) / mss;
	if (i > last)
		return 0;
	off = i * mss;
	n = i == last ? p->payload_len - off : mss;
	if (cap < hlen + n)
		return -1;
	memcpy(out, p->buf, hlen);
	memcpy(out + hlen, packet_payload(p) + off, n);
	/* IPv6 has no id: its segments differ only in length and seq. */
	if (p->af != AF_INET6)
		packet_put16(out + IP_ID_OFF,
		    (uint16_t)(get16(p->buf + IP_ID_OFF) + i));
	set_ip_len(p, out, hlen + n);
	packet_put32(tcp + TCP_SEQ_OFF, packet_seq(p) + (uint32_t)off);
	if (i != last)
		tcp[TCP_FLAGS_OFF] &= (uint8_t)~(ZCC_TCP_FIN | TCP_PSH);
	if (i != 0)
		tcp[TCP_FLAGS_OFF] &= (uint8_t)~TCP_CWR;
	/* Partial, as GSO leaves it: this segment's pseudo-header sum. */
	packet_put16(tcp + TCP_CSUM_OFF, packet_pseudo_sum(p, p->tcp_hlen + n));
	return (long)(hlen + n);
}

/* The largest super-segment the IP length field can state. */
static size_t
ip_max_len(const struct packet *p)
{
	return p->af == AF_INET6 ? IP6_HLEN + IP6_MAX_PLEN : IP_MAX_LEN;
}

void
gro_init(struct gro *g)
{
	memset(g, 0, sizeof(*g));
}

int
gro_empty(const struct gro *g)
{
	return g->nsegs == 0;
}

/*
 * Plain data: no IP options (IPv6: parsed, so no extension headers), ACK
 * with or without PSH, some payload.
 */
static int
mergeable(const struct packet *p)
{
	uint8_t flags = packet_tcp_flags(p);

	return (p->af == AF_INET6 || p->ip_hlen == IP_HLEN_PLAIN) &&
	    p->payload_len > 0 &&
	    (flags & ZCC_TCP_ACK) && !(flags & ~(ZCC_TCP_ACK | TCP_PSH));
}

static int
same_bytes(const uint8_t *a, const uint8_t *b, size_t from, size_t to)
{
	return memcmp(a + from, b + from, to - from) == 0;
}

/* The IP headers but for what differs between segments. */
static int
same_ip(const struct packet *a, const struct packet *b)
{
	if (a->af != b->af)
		return 0;
	if (a->af == AF_INET6)          /* all but the payload length */
		return same_bytes(a->buf, b->buf, 0, IP6_PLEN_OFF) &&
		    same_bytes(a->buf, b->buf, IP6_PLEN_OFF + 2, IP6_HLEN);
	return same_bytes(a->buf, b->buf, 0, IP_LEN_OFF) &&
	    same_bytes(a->buf, b->buf, IP_ID_OFF + 2, IP_CSUM_OFF) &&
	    same_bytes(a->buf, b->buf, IP_CSUM_OFF + 2, IP_HLEN_PLAIN);
}

/*
 * Everything but the IP length, id and checksum and the TCP sequence
 * number and checksum must match, options included (timestamps, as GRO
 * requires): the super-segment has one header for all.
 */
static int
same_headers(const struct packet *a, const struct packet *b)
{
	const uint8_t *ta = packet_tcp(a), *tb = packet_tcp(b);

	return a->tcp_hlen == b->tcp_hlen && same_ip(a, b) &&
	    same_bytes(ta, tb, 0, TCP_SEQ_OFF) &&
	    same_bytes(ta, tb, TCP_SEQ_OFF + 4, TCP_FLAGS_OFF) &&
	    same_bytes(ta, tb, TCP_FLAGS_OFF + 1, TCP_CSUM_OFF) &&
	    same_bytes(ta, tb, TCP_CSUM_OFF + 2, a->tcp_hlen);
}

static void
gro_begin(struct gro *g, const struct packet *p)
{
	g->first = *p;
	g->iov[1].iov_base = p->buf;
	g->iov[1].iov_len = p->len;
	g->nsegs = 1;
	g->len = p->len;
	g->gso_size = p->payload_len;
	g->next_seq = packet_seq(p) + (uint32_t)p->payload_len;
	g->closed = (packet_tcp_flags(p) & TCP_PSH) != 0;
}

void
gro_one(struct gro *g, const struct packet *p)
{
	gro_begin(g, p);
	g->closed = 1;
}

int
gro_add(struct gro *g, const struct packet *p)
{
	if (!mergeable(p))
		return 0;
	if (gro_empty(g)) {
		gro_begin(g, p);
		return 1;
	}
	if (g->closed || g->nsegs == GRO_MAX_SEGS ||
	    packet_seq(p) != g->next_seq || p->payload_len > g->gso_size ||
	    g->len + p->payload_len > ip_max_len(p) ||
	    !same_headers(&g->first, p))
		return 0;
	g->iov[1 + g->nsegs].iov_base = packet_payload(p);
	g->iov[1 + g->nsegs].iov_len = p->payload_len;
	g->nsegs++;
	g->len += p->payload_len;
	g->next_seq += (uint32_t)p->payload_len;
	if (packet_tcp_flags(p) & TCP_PSH) {
		/* The super-segment's one header carries the last one's PSH. */
		packet_tcp(&g->first)[TCP_FLAGS_OFF] |= TCP_PSH;
		g->closed = 1;
	}
	if (p->payload_len < g->gso_size)
		g->closed = 1;
	return 1;
}

int
gro_finish(struct gro *g)
{
	struct packet *f = &g->first;
	uint8_t *tcp = packet_tcp(f);

	memset(&g->vnet, 0, sizeof(g->vnet));
	g->iov[0].iov_base = &g->vnet;
	g->iov[0].iov_len = sizeof(g->vnet);
	if (g->nsegs == 1)
		return 2;       /* as opened: full checksums, no offload */
	set_ip_len(f, f->buf, g->len);
	packet_put16(tcp + TCP_CSUM_OFF,
	    packet_pseudo_sum(f, g->len - f->ip_hlen));
	g->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	g->vnet.gso_type = f->af == AF_INET6 ? VIRTIO_NET_HDR_GSO_TCPV6 :
	    VIRTIO_NET_HDR_GSO_TCPV4;
	g->vnet.hdr_len = (uint16_t)(f->ip_hlen + f->tcp_hlen);
	g->vnet.gso_size = (uint16_t)g->gso_size;
	g->vnet.csum_start = (uint16_t)f->ip_hlen;
	g->vnet.csum_offset = TCP_CSUM_OFF;
	return (int)(1 + g->nsegs);
}
