/* SPDX-License-Identifier: ISC */
/*
 * offload.c: cutting a TSO super-segment as GSO does, and coalescing
 * segments as GRO does. Segments are built byte by byte here; checksums
 * are checked with packet.c's own verifier after finishing the partial sum.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "check.h"
#include "zcc/offload.h"
#include "zcc/packet.h"

#define MSS 1448
#define BIG 5000                        /* payload of the super-segment */
#define TCP_HLEN 32                     /* with NOP NOP TS */
#define HLEN (20 + TCP_HLEN)
#define FLAG_PSH 0x08
#define FLAG_CWR 0x80

static uint8_t super[HLEN + BIG];
static uint8_t payload[BIG];

static void
put16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void
put32(uint8_t *b, uint32_t v)
{
	put16(b, v >> 16);
	put16(b + 2, v & 0xffff);
}

/* 10.0.0.1:40000 -> 10.0.0.2:5001, seq 1000, ack 77, TS 5/6, plen bytes. */
static size_t
build(uint8_t *b, const uint8_t *pay, size_t plen, uint8_t flags, uint32_t seq)
{
	uint8_t *t = b + 20;

	memset(b, 0, HLEN);
	b[0] = 0x45;
	put16(b + 2, (unsigned)(HLEN + plen));
	put16(b + 4, 0x1234);
	b[6] = 0x40;                    /* DF */
	b[8] = 64;
	b[9] = 6;
	b[12] = 10, b[15] = 1;
	b[16] = 10, b[19] = 2;
	put16(t, 40000);
	put16(t + 2, 5001);
	put32(t + 4, seq);
	put32(t + 8, 77);
	t[12] = (TCP_HLEN / 4) << 4;
	t[13] = flags;
	put16(t + 14, 500);
	t[20] = 1, t[21] = 1, t[22] = 8, t[23] = 10;
	put32(t + 24, 5);
	put32(t + 28, 6);
	memcpy(b + HLEN, pay, plen);
	return HLEN + plen;
}

static void
parse(struct packet *p, uint8_t *b, size_t n)
{
	CHECK_EQ(packet_parse(p, b, n), PACKET_OK);
}

/* The segments of the super-segment, and what GSO would make of them. */
static void
check_segments(void)
{
	struct packet p, s;
	uint8_t seg[HLEN + MSS + 16], joined[BIG];
	size_t off = 0, i;
	long n;

	build(super, payload, BIG, ZCC_TCP_ACK | FLAG_PSH | ZCC_TCP_FIN | FLAG_CWR,
	    1000);
	parse(&p, super, sizeof(super));
	for (i = 0; (n = offload_segment(&p, MSS, i, seg, sizeof(seg))) > 0; i++) {
		size_t want = BIG - off < MSS ? BIG - off : MSS;
		int last = off + want == BIG;
		uint8_t flags;

		CHECK_EQ(n, HLEN + want);
		parse(&s, seg, (size_t)n);
		CHECK_EQ(s.payload_len, want);
		CHECK_EQ(packet_seq(&s), 1000 + off);
		CHECK_EQ(packet_ack(&s), 77);
		CHECK_EQ(seg[4] << 8 | seg[5], 0x1234 + i);
		CHECK_EQ(packet_ip_checksum(&s), 0);
		flags = packet_tcp_flags(&s);
		CHECK_EQ(!!(flags & FLAG_PSH), last);
		CHECK_EQ(!!(flags & ZCC_TCP_FIN), last);
		CHECK_EQ(!!(flags & FLAG_CWR), i == 0);
		CHECK(flags & ZCC_TCP_ACK);
		CHECK_EQ(seg[20 + 16] << 8 | seg[20 + 17],
		    packet_pseudo_sum(&s, TCP_HLEN + want));
		CHECK_EQ(packet_finish_checksum(seg, (size_t)n, 20, 16), 0);
		CHECK(packet_tcp_checksum_ok(&s));
		CHECK_MEM(seg + 20 + 20, super + 20 + 20, TCP_HLEN - 20);
		memcpy(joined + off, packet_payload(&s), want);
		off += want;
	}
	CHECK_EQ(n, 0);
	CHECK_EQ(i, 4);
	CHECK_EQ(off, BIG);
	CHECK_MEM(joined, payload, BIG);
	CHECK_EQ(offload_segment(&p, MSS, 4, seg, sizeof(seg)), 0);
	CHECK_EQ(offload_segment(&p, 0, 0, seg, sizeof(seg)), -1);
	CHECK_EQ(offload_segment(&p, MSS, 0, seg, HLEN + MSS - 1), -1);

	/* No payload: one segment, the headers as they were. */
	build(super, payload, 0, ZCC_TCP_ACK | ZCC_TCP_FIN, 1000);
	parse(&p, super, HLEN);
	CHECK_EQ(offload_segment(&p, MSS, 0, seg, sizeof(seg)), HLEN);
	CHECK_EQ(packet_tcp_flags(&p), ZCC_TCP_ACK | ZCC_TCP_FIN);
	CHECK_EQ(seg[33], ZCC_TCP_ACK | ZCC_TCP_FIN);
	CHECK_EQ(offload_segment(&p, MSS, 1, seg, sizeof(seg)), 0);
}

struct run {
	uint8_t buf[GRO_MAX_SEGS + 2][HLEN + MSS];
	struct packet p[GRO_MAX_SEGS + 2];
};

/* Segment k of a stream: MSS bytes (short when plen given), ACK. */
static struct packet *
seg_of(struct run *r, size_t k, size_t plen, uint8_t flags)
{
	size_t n = build(r->buf[k], payload + (k * 7) % 100, plen, flags,
	    1000 + (uint32_t)(k * MSS));

	parse(&r->p[k], r->buf[k], n);
	packet_fix_checksums(&r->p[k]);
	return &r->p[k];
}

/* The bytes writev would write, after the virtio header. */
static size_t
flatten(const struct gro *g, int iovcnt, uint8_t *out)
{
	size_t n = 0;

	for (int i = 1; i < iovcnt; i++) {
		memcpy(out + n, g->iov[i].iov_base, g->iov[i].iov_len);
		n += g->iov[i].iov_len;
	}
	return n;
}

/* Segments of plen bytes join until the run holds want of them. */
static void
check_limit(struct run *r, size_t plen, size_t want)
{
	struct gro g;
	size_t k;

	gro_init(&g);
	for (k = 0; k < GRO_MAX_SEGS + 2; k++) {
		uint8_t *b = r->buf[k % 2];     /* contents do not matter here */
		size_t len = build(b, payload, plen, ZCC_TCP_ACK,
		    1000 + (uint32_t)(k * plen));

		parse(&r->p[k % 2], b, len);
		if (!gro_add(&g, &r->p[k % 2]))
			break;
	}
	CHECK_EQ(k, want);
	CHECK_EQ(g.nsegs, want);
	CHECK(g.len <= 65535);
}

static void
check_coalesce(void)
{
	static struct run r;
	static uint8_t out[65536];
	struct gro g;
	struct packet m;
	size_t n;
	int iovcnt;

	/* Three full segments and a short one with PSH: one super-segment. */
	gro_init(&g);
	CHECK(gro_empty(&g));
	CHECK_EQ(gro_add(&g, seg_of(&r, 0, MSS, ZCC_TCP_ACK)), 1);
	CHECK_EQ(gro_add(&g, seg_of(&r, 1, MSS, ZCC_TCP_ACK)), 1);
	CHECK_EQ(gro_add(&g, seg_of(&r, 2, MSS, ZCC_TCP_ACK)), 1);
	CHECK_EQ(gro_add(&g, seg_of(&r, 3, 100, ZCC_TCP_ACK | FLAG_PSH)), 1);
	CHECK_EQ(gro_add(&g, seg_of(&r, 4, MSS, ZCC_TCP_ACK)), 0);  /* closed */
	iovcnt = gro_finish(&g);
	CHECK_EQ(iovcnt, 5);
	CHECK_EQ(g.vnet.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	CHECK_EQ(g.vnet.gso_size, MSS);
	CHECK_EQ(g.vnet.hdr_len, HLEN);
	CHECK_EQ(g.vnet.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK_EQ(g.vnet.csum_start, 20);
	CHECK_EQ(g.vnet.csum_offset, 16);
	n = flatten(&g, iovcnt, out);
	CHECK_EQ(n, HLEN + 3 * MSS + 100);
	parse(&m, out, n);
	CHECK_EQ(packet_seq(&m), 1000);
	CHECK_EQ(packet_tcp_flags(&m), ZCC_TCP_ACK | FLAG_PSH);
	CHECK_EQ(packet_ip_checksum(&m), 0);
	CHECK_EQ(packet_finish_checksum(out, n, 20, 16), 0);
	CHECK(packet_tcp_checksum_ok(&m));
	for (size_t k = 0; k < 4; k++)
		CHECK_MEM(out + HLEN + k * MSS, payload + (k * 7) % 100,
		    k < 3 ? MSS : 100);

	/* One segment alone is written as it was, no offload. */
	gro_init(&g);
	CHECK_EQ(gro_add(&g, seg_of(&r, 0, MSS, ZCC_TCP_ACK)), 1);
	CHECK_EQ(gro_finish(&g), 2);
	CHECK_EQ(g.vnet.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	CHECK_EQ(g.vnet.flags, 0);
	CHECK(packet_tcp_checksum_ok(&r.p[0]));

	/* What may not merge. */
	gro_init(&g);
	CHECK_EQ(gro_add(&g, seg_of(&r, 0, 0, ZCC_TCP_ACK)), 0);     /* no payload */
	CHECK_EQ(gro_add(&g, seg_of(&r, 0, MSS, ZCC_TCP_ACK | ZCC_TCP_SYN)), 0);
	CHECK_EQ(gro_add(&g, seg_of(&r, 0, MSS, ZCC_TCP_ACK | ZCC_TCP_FIN)), 0);
	CHECK_EQ(gro_add(&g, seg_of(&r, 0, MSS, 0)), 0);              /* no ACK */
	CHECK(gro_empty(&g));
	CHECK_EQ(gro_add(&g, seg_of(&r, 0, MSS, ZCC_TCP_ACK)), 1);
	CHECK_EQ(gro_add(&g, seg_of(&r, 2, MSS, ZCC_TCP_ACK)), 0);    /* a gap */
	seg_of(&r, 1, MSS, ZCC_TCP_ACK);
	r.buf[1][20 + 31] ^= 1;                                       /* TSecr */
	CHECK_EQ(gro_add(&g, &r.p[1]), 0);
	seg_of(&r, 1, MSS, ZCC_TCP_ACK);
	r.buf[1][20 + 11] ^= 1;                                       /* ack */
	CHECK_EQ(gro_add(&g, &r.p[1]), 0);
	seg_of(&r, 1, MSS, ZCC_TCP_ACK);
	r.buf[1][20 + 15] ^= 1;                                       /* window */
	CHECK_EQ(gro_add(&g, &r.p[1]), 0);
	seg_of(&r, 1, MSS, ZCC_TCP_ACK);
	r.buf[1][1] ^= 1;                                             /* ECN bits */
	CHECK_EQ(gro_add(&g, &r.p[1]), 0);
	seg_of(&r, 1, MSS, ZCC_TCP_ACK);
	r.buf[1][4] ^= 1;                                             /* IP id: fine */
	CHECK_EQ(gro_add(&g, &r.p[1]), 1);
	CHECK_EQ(gro_add(&g, seg_of(&r, 2, 100, ZCC_TCP_ACK)), 1);    /* short ... */
	CHECK_EQ(gro_add(&g, seg_of(&r, 3, MSS, ZCC_TCP_ACK)), 0);    /* ... closes */

	/* At most GRO_MAX_SEGS segments, and never past 65535 bytes. */
	check_limit(&r, 900, GRO_MAX_SEGS);     /* 64 segments fit in bytes */
	check_limit(&r, 1100, 59);              /* 52 + 59 * 1100 <= 65535 */
}

int
main(void)
{
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 131 + 7);
	check_segments();
	check_coalesce();
	CHECK_DONE();
}
