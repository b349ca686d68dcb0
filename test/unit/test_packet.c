/* SPDX-License-Identifier: ISC */
/*
 * packet.c: parsing, checksums and the zcc option, on segments built byte
 * by byte here with the test's own checksum code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zcc/packet.h"
#include "check.h"

#define BUFSZ 2048
#define SPORT 40000
#define DPORT 443
#define SEQ 0x01020304u
#define ACK 0xa0b0c0d0u

/* The zcc option as packet_add_option writes it. */
static const uint8_t ZOPT[16] = { 253, 16, 0x7a, 0x63 };
static const uint8_t NONE[1];        /* an empty list (memcmp wants non-NULL) */

static const uint8_t SYN_OPTS[20] = {
	2, 4, 0x05, 0xb4,                         /* MSS 1460 */
	4, 2,                                     /* SACK permitted */
	8, 10, 0, 1, 2, 3, 0, 0, 0, 0,            /* timestamps */
	1, 3, 3, 7,                               /* NOP, window scale 7 */
};

static void
put16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static unsigned
get16(const uint8_t *b)
{
	return (unsigned)b[0] << 8 | b[1];
}

/* Internet checksum written independently of packet.c: byte at a time. */
static uint32_t
ref_add(uint32_t sum, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sum += (i & 1) ? b[i] : (uint32_t)b[i] << 8;
	return sum;
}

static unsigned
ref_fold(uint32_t sum)
{
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static void
ref_fix(uint8_t *b, size_t ihl, size_t len)
{
	uint8_t ph[4] = { 0, 6 };

	put16(b + 10, 0);
	put16(b + 10, ref_fold(ref_add(0, b, ihl)));
	put16(ph + 2, (unsigned)(len - ihl));
	put16(b + ihl + 16, 0);
	put16(b + ihl + 16, ref_fold(ref_add(ref_add(ref_add(0, b + 12, 8),
	    ph, 4), b + ihl, len - ihl)));
}

/*
 * The TCP header both builders write at t (thl bytes: 20 and olen of
 * options), then the payload: SPORT -> DPORT, SEQ, ACK, window 0xfaf0.
 */
static void
put_tcp(uint8_t *t, size_t thl, uint8_t flags, const uint8_t *opt,
    size_t olen, const uint8_t *pay, size_t plen)
{
	put16(t, SPORT);
	put16(t + 2, DPORT);
	put16(t + 4, SEQ >> 16), put16(t + 6, SEQ & 0xffff);
	put16(t + 8, ACK >> 16), put16(t + 10, ACK & 0xffff);
	t[12] = (uint8_t)(thl / 4 << 4);
	t[13] = flags;
	put16(t + 14, 0xfaf0);
	if (olen)
		memcpy(t + 20, opt, olen);
	if (plen)
		memcpy(t + thl, pay, plen);
}

/* An IPv4 + TCP segment from 10.0.0.1:40000 to 10.0.0.2:443. */
static size_t
build(uint8_t *b, const uint8_t *ipopt, size_t ipolen, const uint8_t *opt,
    size_t olen, const uint8_t *pay, size_t plen, uint8_t flags)
{
	size_t ihl = 20 + ipolen, thl = 20 + olen, len = ihl + thl + plen;
	uint8_t *t = b + ihl;

	if (ipolen % 4 || olen % 4 || ipolen > 40 || olen > 40 || len > BUFSZ)
		abort();
	memset(b, 0, ihl + thl);
	b[0] = (uint8_t)(0x40 | ihl / 4);
	put16(b + 2, (unsigned)len);
	put16(b + 4, 0x1234);
	b[6] = 0x40;                              /* DF */
	b[8] = 64;
	b[9] = 6;
	b[12] = 10, b[15] = 1;
	b[16] = 10, b[19] = 2;
	if (ipolen)
		memcpy(b + 20, ipopt, ipolen);
	put_tcp(t, thl, flags, opt, olen, pay, plen);
	ref_fix(b, ihl, len);
	return len;
}

/* The IPv6 addresses of build6: 2001:db8::1 -> 2001:db8::2. */
static const uint8_t SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t DST6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

/* The TCP checksum over RFC 8200 8.1's pseudo-header, on its own. */
static void
ref_fix6(uint8_t *b, size_t len)
{
	uint8_t ph[8] = { 0 };
	size_t tl = len - 40;

	ph[2] = (uint8_t)(tl >> 8), ph[3] = (uint8_t)tl, ph[7] = 6;
	put16(b + 56, 0);
	put16(b + 56, ref_fold(ref_add(ref_add(ref_add(0, b + 8, 32), ph, 8),
	    b + 40, tl)));
}

/*
 * An IPv6 + TCP segment from [2001:db8::1]:40000 to [2001:db8::2]:443,
 * with next header nh (6: TCP; anything else still puts the TCP header
 * right after the 40 bytes), traffic class 0xab and a flow label.
 */
static size_t
build6(uint8_t *b, uint8_t nh, const uint8_t *opt, size_t olen,
    const uint8_t *pay, size_t plen, uint8_t flags)
{
	size_t thl = 20 + olen, len = 40 + thl + plen;
	uint8_t *t = b + 40;

	if (olen % 4 || olen > 40 || len > BUFSZ)
		abort();
	memset(b, 0, 40 + thl);
	b[0] = 0x6a, b[1] = 0xb1, b[2] = 0x23, b[3] = 0x45;
	put16(b + 4, (unsigned)(len - 40));
	b[6] = nh;
	b[7] = 64;
	memcpy(b + 8, SRC6, 16);
	memcpy(b + 24, DST6, 16);
	put_tcp(t, thl, flags, opt, olen, pay, plen);
	ref_fix6(b, len);
	return len;
}

static void
fill(uint8_t *b, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + i * 7);
}

static void
test_syn(void)
{
	uint8_t b[BUFSZ];
	struct packet p;
	size_t n = build(b, NULL, 0, SYN_OPTS, sizeof(SYN_OPTS), NULL, 0,
	    ZCC_TCP_SYN);

	CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
	CHECK(p.buf == b);
	CHECK_EQ(p.len, 60);
	CHECK_EQ(p.ip_hlen, 20);
	CHECK_EQ(p.tcp_hlen, 40);
	CHECK_EQ(p.payload_len, 0);
	CHECK_EQ(packet_proto(&p), 6);
	CHECK_EQ(packet_saddr(&p)[0], 10);
	CHECK_EQ(packet_saddr(&p)[3], 1);
	CHECK_EQ(packet_daddr(&p)[3], 2);
	CHECK_EQ(packet_sport(&p), SPORT);
	CHECK_EQ(packet_dport(&p), DPORT);
	CHECK_EQ(packet_seq(&p), SEQ);
	CHECK_EQ(packet_ack(&p), ACK);
	CHECK_EQ(packet_tcp_flags(&p), ZCC_TCP_SYN);
	CHECK(packet_tcp(&p) == b + 20);
	CHECK(packet_payload(&p) == b + 60);
	CHECK(packet_has_timestamps(&p));
	CHECK_EQ(packet_find_option(&p), -1);
	CHECK_EQ(packet_ip_checksum(&p), 0);
	CHECK(packet_tcp_checksum_ok(&p));
}

static void
test_data_ts(void)
{
	static const uint8_t ts[12] = { 1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t nots[4] = { 1, 1, 1, 1 };
	uint8_t b[BUFSZ], pay[100];
	struct packet p;
	size_t n;

	fill(pay, sizeof(pay), 3);
	n = build(b, NULL, 0, ts, sizeof(ts), pay, sizeof(pay),
	    ZCC_TCP_ACK | 0x08);
	CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
	CHECK_EQ(p.len, 152);
	CHECK_EQ(p.tcp_hlen, 32);
	CHECK_EQ(p.payload_len, 100);
	CHECK(packet_payload(&p) == b + 52);
	CHECK_MEM(packet_payload(&p), pay, sizeof(pay));
	CHECK_EQ(packet_tcp_flags(&p), ZCC_TCP_ACK | 0x08);
	CHECK(packet_has_timestamps(&p));
	CHECK(packet_tcp_checksum_ok(&p));

	n = build(b, NULL, 0, nots, sizeof(nots), pay, 10, ZCC_TCP_ACK);
	CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
	CHECK(!packet_has_timestamps(&p));
	n = build(b, NULL, 0, NULL, 0, NULL, 0, ZCC_TCP_ACK);
	CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
	CHECK(!packet_has_timestamps(&p));
}

/* Parse a segment whose TCP options are opt; on error p is cleared. */
static int
parse_opts(const uint8_t *opt, size_t olen)
{
	uint8_t b[BUFSZ];
	struct packet p;
	size_t n = build(b, NULL, 0, opt, olen, (const uint8_t *)"xy", 2, 0);
	int r = packet_parse(&p, b, n);

	if (r != PACKET_OK)
		CHECK(p.buf == NULL && p.len == 0 && p.tcp_hlen == 0);
	return r;
}

static void
test_parse_errors(void)
{
	uint8_t base[BUFSZ], b[BUFSZ];
	struct packet p;
	size_t n = build(base, NULL, 0, SYN_OPTS, sizeof(SYN_OPTS),
	    (const uint8_t *)"\001\001\001\001x", 5, ZCC_TCP_ACK);

#define COPY() memcpy(b, base, n)
	COPY();
	CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
	CHECK_EQ(packet_parse(&p, b, 19), PACKET_SHORT);
	CHECK_EQ(packet_parse(&p, b, 0), PACKET_SHORT);
	CHECK_EQ(packet_parse_ip(&p, b, 19), PACKET_SHORT);
	CHECK_EQ(packet_parse(&p, b, n - 1), PACKET_BAD_LENGTH);
	CHECK(p.buf == NULL);
	b[0] = 0x46;                 /* IHL 6 but only 22 bytes read */
	CHECK_EQ(packet_parse(&p, b, 22), PACKET_SHORT);

	COPY(), b[0] = 0x55;         /* version 5: neither 4 nor 6 */
	CHECK_EQ(packet_parse(&p, b, n), PACKET_NOT_IP);
	CHECK_EQ(packet_parse_ip(&p, b, n), PACKET_NOT_IP);
	COPY(), b[0] = 0x44;
	CHECK_EQ(packet_parse(&p, b, n), PACKET_NOT_IP);
	COPY(), b[0] = 0x65;         /* read as IPv6: its payload length is 0x1234 */
	CHECK_EQ(packet_parse(&p, b, n), PACKET_BAD_LENGTH);

	COPY(), put16(b + 2, (unsigned)n + 1);
	CHECK_EQ(packet_parse(&p, b, n), PACKET_BAD_LENGTH);
	CHECK_EQ(packet_parse(&p, b, n + 1), PACKET_OK);   /* now it fits */
	COPY(), put16(b + 2, 19);
	CHECK_EQ(packet_parse(&p, b, n), PACKET_BAD_LENGTH);
	COPY(), put16(b + 2, 30);    /* IP fine, TCP header cut short */
	CHECK_EQ(packet_parse(&p, b, n), PACKET_SHORT);
	CHECK_EQ(packet_parse_ip(&p, b, n), PACKET_OK);
	CHECK_EQ(p.len, 30);

	COPY(), b[6] |= 0x20;        /* MF */
	CHECK_EQ(packet_parse(&p, b, n), PACKET_FRAGMENT);
	CHECK_EQ(packet_parse_ip(&p, b, n), PACKET_OK);
	COPY(), b[7] = 1;            /* offset 8 */
	CHECK_EQ(packet_parse(&p, b, n), PACKET_FRAGMENT);
	COPY(), b[6] = 0x01;         /* offset 2048, no DF */
	CHECK_EQ(packet_parse(&p, b, n), PACKET_FRAGMENT);
	COPY(), b[6] = 0;            /* DF cleared: still a whole segment */
	CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);

	COPY(), b[9] = 17;
	CHECK_EQ(packet_parse(&p, b, n), PACKET_NOT_TCP);
	CHECK_EQ(packet_parse_ip(&p, b, n), PACKET_OK);
	CHECK_EQ(p.len, n);
	CHECK_EQ(p.ip_hlen, 20);
	CHECK_EQ(p.tcp_hlen, 0);
	CHECK_EQ(p.payload_len, 0);
	CHECK(!packet_has_timestamps(&p));
	CHECK_EQ(packet_find_option(&p), -1);
	CHECK_EQ(packet_add_option(&p, sizeof(b), NULL), -1);
	CHECK_EQ(p.len, n);

	COPY(), b[32] = 0x40;        /* data offset 4 */
	CHECK_EQ(packet_parse(&p, b, n), PACKET_BAD_TCP);
	COPY(), b[32] = 0xf0;        /* 60 > 45 bytes of TCP */
	CHECK_EQ(packet_parse(&p, b, n), PACKET_BAD_TCP);
	COPY(), b[32] = 0xb0;        /* 44 <= 45: the 4 NOPs become options */
	CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
	CHECK_EQ(p.payload_len, 1);
#undef COPY

	{
		static const uint8_t len0[4] = { 30, 0, 1, 1 };
		static const uint8_t len1[4] = { 30, 1, 1, 1 };
		static const uint8_t past[4] = { 1, 1, 30, 3 };
		static const uint8_t nolen[4] = { 1, 1, 1, 30 };
		static const uint8_t ts9[12] = { 8, 9, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1 };
		static const uint8_t sack12[12] = { 5, 12 };
		static const uint8_t sack2[4] = { 5, 2, 1, 1 };
		static const uint8_t mss3[4] = { 2, 3, 0, 1 };
		static const uint8_t ws4[4] = { 3, 4, 7, 0 };
		static const uint8_t sp3[4] = { 4, 3, 0, 1 };
		static const uint8_t sack42[40] = { 5, 42 };
		static const uint8_t ok[12] = { 2, 4, 5, 0xb4, 3, 3, 7, 4, 2, 30, 3, 9 };
		static const uint8_t eolgarb[8] = { 1, 0, 30, 0, 5, 12, 8, 1 };
		static const uint8_t sack34[36] = { 1, 1, 5, 34 };

		CHECK_EQ(parse_opts(len0, 4), PACKET_BAD_OPTIONS);
		CHECK_EQ(parse_opts(len1, 4), PACKET_BAD_OPTIONS);
		CHECK_EQ(parse_opts(past, 4), PACKET_BAD_OPTIONS);
		CHECK_EQ(parse_opts(nolen, 4), PACKET_BAD_OPTIONS);
		CHECK_EQ(parse_opts(ts9, 12), PACKET_BAD_OPTIONS);
		CHECK_EQ(parse_opts(sack12, 12), PACKET_BAD_OPTIONS);
		CHECK_EQ(parse_opts(sack2, 4), PACKET_BAD_OPTIONS);
		CHECK_EQ(parse_opts(mss3, 4), PACKET_BAD_OPTIONS);
		CHECK_EQ(parse_opts(ws4, 4), PACKET_BAD_OPTIONS);
		CHECK_EQ(parse_opts(sp3, 4), PACKET_BAD_OPTIONS);
		CHECK_EQ(parse_opts(sack42, 40), PACKET_BAD_OPTIONS);
		/* A kind byte last in a buffer of exactly the packet's size:
		 * its length byte must not be read (ASan sees the heap end). */
		{
			uint8_t tmp[BUFSZ], *h;
			size_t m = build(tmp, NULL, 0, nolen, 4, NULL, 0, 0);

			if ((h = malloc(m)) == NULL)
				abort();
			memcpy(h, tmp, m);
			CHECK_EQ(packet_parse(&p, h, m), PACKET_BAD_OPTIONS);
			h[m - 1] = 1;
			CHECK_EQ(packet_parse(&p, h, m), PACKET_OK);
			free(h);
		}
		/* Controls: the same machinery accepts good lists. */
		CHECK_EQ(parse_opts(ok, 12), PACKET_OK);
		CHECK_EQ(parse_opts(eolgarb, 8), PACKET_OK);
		CHECK_EQ(parse_opts(sack34, 36), PACKET_OK);
	}
}

static void
test_ip_options_and_trailer(void)
{
	static const uint8_t ipopt[8] = { 1, 1, 1, 7, 3, 4, 0, 0 };
	uint8_t b[BUFSZ];
	struct packet p;
	size_t n = build(b, ipopt, sizeof(ipopt), SYN_OPTS, sizeof(SYN_OPTS),
	    (const uint8_t *)"abc", 3, ZCC_TCP_ACK);

	CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
	CHECK_EQ(p.ip_hlen, 28);
	CHECK_EQ(p.tcp_hlen, 40);
	CHECK_EQ(p.payload_len, 3);
	CHECK(packet_tcp(&p) == b + 28);
	CHECK_EQ(packet_sport(&p), SPORT);
	CHECK_EQ(packet_ack(&p), ACK);
	CHECK_MEM(packet_payload(&p), "abc", 3);
	CHECK_EQ(packet_ip_checksum(&p), 0);
	CHECK(packet_tcp_checksum_ok(&p));

	/* Bytes after the IP total length (link padding) do not count. */
	memset(b + n, 0xee, 9);
	CHECK_EQ(packet_parse(&p, b, n + 9), PACKET_OK);
	CHECK_EQ(p.len, n);
	CHECK_EQ(p.payload_len, 3);
	CHECK(packet_tcp_checksum_ok(&p));
	packet_fix_checksums(&p);
	CHECK_EQ(b[n], 0xee);
}

static void
test_checksum_known(void)
{
	/* The usual IPv4 header example (a 115-byte UDP datagram, payload
	 * zero here); its checksum is 0xb861. */
	uint8_t ip[115] = {
		0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
	};  /* 0x73 = 115 */
	/* 192.168.0.104:50000 -> 192.168.0.1:80, MSS option, payload "A"
	 * (odd length); checksums 0x9ccb and 0xb4b9 computed outside. */
	uint8_t seg[45] = {
		0x45, 0x00, 0x00, 0x2d, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06,
		0x9c, 0xcb, 0xc0, 0xa8, 0x00, 0x68, 0xc0, 0xa8, 0x00, 0x01,
		0xc3, 0x50, 0x00, 0x50, 0x00, 0xbc, 0x61, 0x4e, 0x00, 0x00,
		0x00, 0x00, 0x60, 0x18, 0xfa, 0xf0, 0xb4, 0xb9, 0x00, 0x00,
		0x02, 0x04, 0x05, 0xb4, 0x41,
	};
	uint8_t copy[45];
	struct packet p;

	CHECK_EQ(packet_parse_ip(&p, ip, 114), PACKET_BAD_LENGTH);
	CHECK_EQ(packet_parse_ip(&p, ip, sizeof(ip)), PACKET_OK);
	CHECK_EQ(p.len, 115);
	CHECK_EQ(packet_ip_checksum(&p), 0);
	put16(ip + 10, 0);
	CHECK_EQ(packet_ip_checksum(&p), 0xb861);
	ip[8] = 0x3f;                     /* TTL 63: one more in the sum */
	CHECK_EQ(packet_ip_checksum(&p), 0xb961);

	memcpy(copy, seg, sizeof(seg));
	CHECK_EQ(packet_parse(&p, seg, sizeof(seg)), PACKET_OK);
	CHECK_EQ(packet_ip_checksum(&p), 0);
	CHECK(packet_tcp_checksum_ok(&p));
	put16(seg + 10, 0);
	put16(seg + 36, 0x1111);
	CHECK(!packet_tcp_checksum_ok(&p));
	packet_fix_checksums(&p);
	CHECK_MEM(seg, copy, sizeof(seg));
	CHECK_EQ(get16(seg + 10), 0x9ccb);
	CHECK_EQ(get16(seg + 36), 0xb4b9);

	seg[44] ^= 0x01;                  /* payload */
	CHECK(!packet_tcp_checksum_ok(&p));
	seg[44] ^= 0x01;
	CHECK(packet_tcp_checksum_ok(&p));
	seg[15] ^= 0x80;                  /* address: pseudo-header */
	CHECK(!packet_tcp_checksum_ok(&p));
	CHECK(packet_ip_checksum(&p) != 0);
	seg[15] ^= 0x80;
	seg[33] ^= 0x04;                  /* flags */
	CHECK(!packet_tcp_checksum_ok(&p));
	seg[33] ^= 0x04;
	CHECK(packet_tcp_checksum_ok(&p));
}

static void
test_fix_checksums(void)
{
	uint8_t b[BUFSZ], ref[BUFSZ], pay[333];
	struct packet p;
	size_t n, i;

	fill(pay, sizeof(pay), 0xf0);
	n = build(ref, NULL, 0, SYN_OPTS, sizeof(SYN_OPTS), pay, sizeof(pay),
	    ZCC_TCP_ACK);
	memcpy(b, ref, n);
	put16(b + 10, 0xdead);
	put16(b + 36, 0xbeef);
	CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
	CHECK(packet_ip_checksum(&p) != 0);
	CHECK(!packet_tcp_checksum_ok(&p));
	packet_fix_checksums(&p);
	CHECK_EQ(packet_ip_checksum(&p), 0);
	CHECK(packet_tcp_checksum_ok(&p));
	CHECK_MEM(b, ref, n);
	/* Any single flipped bit of the segment is caught. */
	for (i = 20; i < n; i += 13) {
		b[i] ^= 0x10;
		CHECK(!packet_tcp_checksum_ok(&p));
		b[i] ^= 0x10;
	}
	CHECK(packet_tcp_checksum_ok(&p));
}

/*
 * Build a segment with options opt, add the zcc option and check the
 * result: the options become want (then the zcc option), trimmed SACK
 * blocks, lengths, payload and every other header byte. When restore,
 * stripping gives back the original bytes exactly.
 */
static void
check_add(const uint8_t *opt, size_t olen, int want_trim,
    const uint8_t *want, size_t wlen, int restore)
{
	uint8_t orig[BUFSZ], b[BUFSZ], pay[77];
	struct packet p, op;
	size_t n, thl;
	int trimmed = -1;
	long off;

	fill(pay, sizeof(pay), (unsigned)olen);
	n = build(orig, NULL, 0, opt, olen, pay, sizeof(pay), ZCC_TCP_ACK);
	orig[32] |= 0x0d;             /* reserved bits and NS must survive */
	memcpy(b, orig, n);
	CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
	op = p;
	CHECK_EQ(packet_add_option(&p, sizeof(b), &trimmed), 0);
	CHECK_EQ(trimmed, want_trim);
	thl = 20 + wlen + 16;
	CHECK_EQ(p.tcp_hlen, thl);
	CHECK_EQ(p.len, n - op.tcp_hlen + thl);
	CHECK_EQ(get16(b + 2), p.len);
	CHECK_EQ(b[32], (thl / 4) << 4 | 0x0d);
	CHECK_EQ(p.payload_len, sizeof(pay));
	CHECK_MEM(b + 20 + thl, pay, sizeof(pay));
	CHECK_MEM(b + 40, want, wlen);
	CHECK_MEM(b + 40 + wlen, ZOPT, 16);
	CHECK_MEM(b, orig, 2);                    /* IP apart from length */
	CHECK_MEM(b + 4, orig + 4, 16);
	CHECK_MEM(b + 20, orig + 20, 12);         /* ports, seq, ack */
	CHECK_MEM(b + 33, orig + 33, 7);          /* flags .. urgent */

	CHECK_EQ(packet_parse(&p, b, p.len), PACKET_OK);
	CHECK_EQ(p.tcp_hlen, thl);
	off = packet_find_option(&p);
	CHECK_EQ(off, 20 + thl - 16);
	CHECK_EQ(packet_has_timestamps(&p), packet_has_timestamps(&op));

	packet_strip_option(&p);
	CHECK_EQ(packet_find_option(&p), -1);
	CHECK_EQ(p.tcp_hlen, thl - 16);
	CHECK_EQ(p.payload_len, sizeof(pay));
	CHECK_MEM(packet_payload(&p), pay, sizeof(pay));
	CHECK_MEM(b + 40, want, wlen);
	if (restore) {
		CHECK_EQ(p.len, n);
		CHECK_MEM(b, orig, n);
		CHECK_EQ(p.ip_hlen, op.ip_hlen);
		CHECK_EQ(p.tcp_hlen, op.tcp_hlen);
	}
	CHECK_EQ(packet_parse(&p, b, p.len), PACKET_OK);
}

/* add_option refuses: -1, the packet and p untouched. */
static void
check_add_fails(const uint8_t *opt, size_t olen, size_t cap_extra)
{
	uint8_t orig[BUFSZ], b[BUFSZ];
	struct packet p, op;
	size_t n;
	int trimmed = -1;

	n = build(orig, NULL, 0, opt, olen, (const uint8_t *)"data", 4,
	    ZCC_TCP_ACK);
	fill(orig + n, sizeof(orig) - n, 0x55);
	memcpy(b, orig, sizeof(b));
	CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
	op = p;
	CHECK_EQ(packet_add_option(&p, n + cap_extra, &trimmed), -1);
	CHECK_EQ(trimmed, 0);
	CHECK_MEM(b, orig, sizeof(b));
	CHECK_MEM(&p, &op, sizeof(p));
}

static void
test_add_option(void)
{
	static const uint8_t ts_sack1[24] = {
		1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8,
		1, 1, 5, 10, 0, 0, 1, 0, 0, 0, 2, 0,
	};
	static const uint8_t ts_sack3[40] = {
		1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8,
		1, 1, 5, 26, 0, 0, 1, 0, 0, 0, 2, 0,
		0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6, 0,
	};
	static const uint8_t sack4[36] = {
		1, 1, 5, 34, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4,
		5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 8, 8, 8, 8,
	};
	static const uint8_t sack4_2[20] = {
		1, 1, 5, 18, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4,
	};
	static const uint8_t sack3[28] = {
		1, 1, 5, 26, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4,
		5, 5, 5, 5, 6, 6, 6, 6,
	};
	/* Two SACK options: the last block of the last one goes first. */
	static const uint8_t twosack[32] = {
		1, 1, 5, 10, 9, 9, 9, 9, 9, 9, 9, 9,
		1, 1, 5, 18, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4,
	};
	static const uint8_t twosack_1[24] = {
		1, 1, 5, 10, 9, 9, 9, 9, 9, 9, 9, 9,
		1, 1, 5, 10, 1, 1, 1, 1, 2, 2, 2, 2,
	};
	/* A one-block SACK option goes whole; its NOPs stay, then padding. */
	static const uint8_t sackgone[32] = {
		1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8,
		30, 8, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
		1, 1, 5, 10, 1, 1, 1, 1, 2, 2, 2, 2,
	};
	static const uint8_t sackgone_1[24] = {
		1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8,
		30, 8, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 1, 1, 1, 1,
	};
	static const uint8_t eol[8] = { 2, 4, 5, 0xb4, 0, 5, 0, 0xff };
	static const uint8_t ws_eol[8] = { 3, 3, 7, 0, 30, 9, 9, 9 };
	static const uint8_t ws_pad[4] = { 3, 3, 7, 1 };
	static const uint8_t eol_first[40] = { 0, 8, 10 };
	/* 28 bytes that are not SACK: nothing may be trimmed. */
	static const uint8_t full28[28] = {
		1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8,
		30, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	};
	static const uint8_t full28_sack[40] = {
		1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8,
		30, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
		1, 1, 5, 10, 1, 1, 1, 1, 2, 2, 2, 2,
	};
	static const uint8_t full21[24] = {
		30, 21, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
		15, 16, 17, 18, 19, 0, 0xff, 0xff,
	};
	static const uint8_t full25[28] = {
		30, 25, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
		15, 16, 17, 18, 19, 20, 21, 22, 23, 0, 1, 1,
	};

	check_add(NONE, 0, 0, NONE, 0, 1);
	check_add(SYN_OPTS, 20, 0, SYN_OPTS, 20, 1);
	check_add(ts_sack1, 24, 0, ts_sack1, 24, 1);
	check_add(ts_sack3, 40, 2, ts_sack1, 24, 0);
	check_add(sack4, 36, 2, sack4_2, 20, 0);
	check_add(sack3, 28, 1, sack4_2, 20, 0);
	check_add(twosack, 32, 1, twosack_1, 24, 0);
	check_add(sackgone, 32, 1, sackgone_1, 24, 0);
	check_add(eol, 8, 0, eol, 4, 0);
	check_add(ws_eol, 8, 0, ws_pad, 4, 0);
	check_add(eol_first, 40, 0, NONE, 0, 0);
	/* EOL at 21 inside 24 bytes: 21 kept, 3 NOPs, exactly 40 with ours. */
	{
		uint8_t want[24];

		memcpy(want, full21, 21);
		memset(want + 21, 1, 3);
		check_add(full21, 24, 0, want, 24, 0);
	}

	check_add_fails(full28, 28, 1000);
	check_add_fails(full28_sack, 40, 1000);
	check_add_fails(full25, 28, 1000);     /* 25 bytes before EOL */
	check_add_fails(NULL, 0, 15);
	check_add_fails(SYN_OPTS, 20, 0);

	/* cap exactly len + 16 is enough, and nothing past cap is written. */
	{
		uint8_t b[BUFSZ];
		struct packet p;
		size_t n = build(b, NULL, 0, SYN_OPTS, 20,
		    (const uint8_t *)"0123456789", 10, ZCC_TCP_ACK);

		memset(b + n, 0xa5, sizeof(b) - n);
		CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
		CHECK_EQ(packet_add_option(&p, n + 16, NULL), 0);
		CHECK_EQ(p.len, n + 16);
		CHECK_EQ(b[n + 16], 0xa5);
		CHECK_MEM(packet_payload(&p), "0123456789", 10);
	}
	/* The IP total length must stay <= 65535. */
	{
		static uint8_t big[70000];
		struct packet p;
		size_t n = 65530;

		memset(big, 0, sizeof(big));
		big[0] = 0x45, big[9] = 6, big[32] = 0x50;
		put16(big + 2, (unsigned)n);
		CHECK_EQ(packet_parse(&p, big, n), PACKET_OK);
		CHECK_EQ(packet_add_option(&p, sizeof(big), NULL), -1);
		CHECK_EQ(get16(big + 2), n);
		CHECK_EQ(big[32], 0x50);
		n = 65519;
		put16(big + 2, (unsigned)n);
		CHECK_EQ(packet_parse(&p, big, n), PACKET_OK);
		CHECK_EQ(packet_add_option(&p, sizeof(big), NULL), 0);
		CHECK_EQ(get16(big + 2), 65535);
	}
	/* With IP options the TCP header moves, so must everything else. */
	{
		static const uint8_t ipopt[12] = { 1, 1, 1, 1, 7, 7, 7, 7, 0 };
		uint8_t b[BUFSZ], orig[BUFSZ];
		struct packet p;
		size_t n = build(orig, ipopt, 12, ts_sack1, 24,
		    (const uint8_t *)"xyz", 3, ZCC_TCP_ACK);

		memcpy(b, orig, n);
		CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
		CHECK_EQ(packet_add_option(&p, sizeof(b), NULL), 0);
		CHECK_EQ(packet_find_option(&p), 32 + 60 - 16);
		CHECK_MEM(b + 32 + 60, "xyz", 3);
		CHECK_MEM(b + 20, ipopt, 12);
		packet_strip_option(&p);
		CHECK_MEM(b, orig, n);
	}
}

/* find_option on a segment whose options are opt. */
static long
find_in(const uint8_t *opt, size_t olen)
{
	uint8_t b[BUFSZ];
	struct packet p;
	size_t n = build(b, NULL, 0, opt, olen, (const uint8_t *)"q", 1, 0);

	if (packet_parse(&p, b, n) != PACKET_OK) {
		CHECK(!"find_in: options do not parse");
		return -2;
	}
	return packet_find_option(&p);
}

static void
test_find_option(void)
{
	uint8_t o[40];

	memcpy(o, ZOPT, 16);
	o[5] = 0x99, o[15] = 0x42;        /* tag bytes do not matter */
	CHECK_EQ(find_in(o, 16), 20 + 20);
	memset(o, 1, 4);
	memcpy(o + 4, ZOPT, 16);
	CHECK_EQ(find_in(o, 20), 20 + 24);
	memcpy(o, SYN_OPTS, 20);
	memcpy(o + 20, ZOPT, 16);
	CHECK_EQ(find_in(o, 36), 20 + 40);

	CHECK_EQ(find_in(NULL, 0), -1);
	CHECK_EQ(find_in(SYN_OPTS, 20), -1);
	memcpy(o, ZOPT, 16);                  /* not last */
	memset(o + 16, 1, 4);
	CHECK_EQ(find_in(o, 20), -1);
	memcpy(o, ZOPT, 16);                  /* wrong ExID */
	o[3] = 0x64;
	CHECK_EQ(find_in(o, 16), -1);
	o[2] = 0x63, o[3] = 0x7a;
	CHECK_EQ(find_in(o, 16), -1);
	memcpy(o, ZOPT, 16);                  /* wrong kind */
	o[0] = 254;
	CHECK_EQ(find_in(o, 16), -1);
	memcpy(o, ZOPT, 16);                  /* wrong length: 15 + NOP */
	o[1] = 15, o[15] = 1;
	CHECK_EQ(find_in(o, 16), -1);
	/* A look-alike inside an unknown option's data. */
	memset(o, 0, sizeof(o));
	o[0] = 30, o[1] = 20;
	memcpy(o + 4, ZOPT, 16);
	CHECK_EQ(find_in(o, 20), -1);
	/* ... inside the last two blocks of a SACK option. */
	memset(o, 0, sizeof(o));
	o[0] = 1, o[1] = 1, o[2] = 5, o[3] = 26;
	memcpy(o + 12, ZOPT, 16);
	CHECK_EQ(find_in(o, 28), -1);
	/* ... after an EOL. */
	memset(o, 1, 4);
	o[0] = 0;
	memcpy(o + 4, ZOPT, 16);
	CHECK_EQ(find_in(o, 20), -1);
	/* strip_option without an option changes nothing. */
	{
		uint8_t b[BUFSZ], orig[BUFSZ];
		struct packet p, op;
		size_t n = build(orig, NULL, 0, SYN_OPTS, 20,
		    (const uint8_t *)"q", 1, 0);

		memcpy(b, orig, n);
		CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
		op = p;
		packet_strip_option(&p);
		CHECK_MEM(b, orig, n);
		CHECK_MEM(&p, &op, sizeof(p));
	}
}

/*
 * Random option lists, kept as a list of items so that the expected
 * result of add_option can be computed here by a model independent of
 * packet.c's byte shuffling.
 */
struct item {
	uint8_t kind, len;
	uint8_t data[40];
};

struct optlist {
	struct item it[40];
	int n;
	size_t used;             /* bytes of the items */
};

static int
rnd(int n)
{
	return rand() % n;
}

static void
gen_item(struct item *it, size_t room)
{
	static const uint8_t fixed[][2] = {
		{ 1, 1 }, { 2, 4 }, { 3, 3 }, { 4, 2 }, { 8, 10 },
	};
	int i, c = rnd(8);

	if (c < 5) {
		it->kind = fixed[c][0];
		it->len = fixed[c][1];
	} else if (c == 5) {
		it->kind = 5;
		it->len = (uint8_t)(2 + 8 * (1 + rnd(4)));
	} else {
		/* Any other kind, 253 (ours or not) included. */
		do
			it->kind = (uint8_t)(6 + rnd(250));
		while (it->kind == 8);
		it->len = (uint8_t)(2 + rnd(20));
		if (it->kind == 253 && rnd(2))
			it->len = 16;
	}
	if (it->len > room) {
		it->kind = 1;
		it->len = 1;
	}
	for (i = 0; i < it->len - 2; i++)
		it->data[i] = (uint8_t)rnd(256);
	if (it->kind == 253 && it->len >= 4 && rnd(2))
		it->data[0] = 0x7a, it->data[1] = 0x63;
}

static size_t
serialize(const struct optlist *l, uint8_t *o)
{
	size_t k = 0;
	int i;

	for (i = 0; i < l->n; i++) {
		o[k++] = l->it[i].kind;
		if (l->it[i].kind == 1)
			continue;
		o[k++] = l->it[i].len;
		memcpy(o + k, l->it[i].data, l->it[i].len - 2u);
		k += l->it[i].len - 2u;
	}
	return k;
}

/* The model: trim SACK blocks until round4(used) + 16 <= 40. */
static int
model_trim(struct optlist *l, int *trimmed)
{
	int i, s;

	*trimmed = 0;
	while (((l->used + 3) & ~(size_t)3) + 16 > 40) {
		for (s = -1, i = 0; i < l->n; i++)
			if (l->it[i].kind == 5)
				s = i;
		if (s == -1)
			return -1;
		if (l->it[s].len > 10) {
			l->it[s].len -= 8;
			l->used -= 8;
		} else {
			l->used -= 10;
			memmove(&l->it[s], &l->it[s + 1],
			    (size_t)(l->n - s - 1) * sizeof(l->it[0]));
			l->n--;
		}
		(*trimmed)++;
	}
	return 0;
}

static void
random_round(uint8_t *orig, uint8_t *b, int v6)
{
	struct optlist l;
	uint8_t opts[40], ipopt[40], want[40], pay[300];
	size_t olen, ipolen, plen, n, cap, wlen, thl, ihl;
	struct packet p, op;
	int eol, r, trimmed, mtrim, mr, ours;
	size_t i;

	l.n = 0;
	l.used = 0;
	olen = 4 * (size_t)rnd(11);
	while (l.used < olen && rnd(8)) {
		gen_item(&l.it[l.n], olen - l.used);
		l.used += l.it[l.n].len;
		l.n++;
	}
	serialize(&l, opts);
	eol = l.used < olen && rnd(2);
	if (eol) {
		opts[l.used] = 0;
		for (n = l.used + 1; n < olen; n++)
			opts[n] = (uint8_t)rnd(256);
	} else {
		while (l.used < olen) {
			l.it[l.n].kind = 1;
			l.it[l.n++].len = 1;
			opts[l.used++] = 1;
		}
	}
	ipolen = rnd(4) || v6 ? 0 : 4 * (size_t)rnd(11);
	ihl = v6 ? 40 : 20 + ipolen;
	for (n = 0; n < ipolen; n++)
		ipopt[n] = (uint8_t)rnd(256);
	plen = (size_t)rnd(300);
	for (n = 0; n < plen; n++)
		pay[n] = (uint8_t)rnd(256);

	n = v6 ? build6(orig, 6, opts, olen, pay, plen, (uint8_t)rnd(256)) :
	    build(orig, ipopt, ipolen, opts, olen, pay, plen, (uint8_t)rnd(256));
	orig[ihl + 12] |= (uint8_t)rnd(16);
	for (i = n; i < BUFSZ; i++)
		orig[i] = (uint8_t)rnd(256);
	memcpy(b, orig, BUFSZ);
	cap = rnd(8) ? BUFSZ : n + (size_t)rnd(20);

	CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
	op = p;
	mr = model_trim(&l, &mtrim);
	if (cap < n + 16)
		mr = -1, mtrim = 0;
	r = packet_add_option(&p, cap, &trimmed);
	CHECK_EQ(r, mr);
	if (r == -1) {
		CHECK_EQ(trimmed, 0);
		CHECK_MEM(b, orig, BUFSZ);
		CHECK_MEM(&p, &op, sizeof(p));
		return;
	}
	CHECK_EQ(trimmed, mtrim);
	wlen = serialize(&l, want);
	while (wlen % 4)
		want[wlen++] = 1;
	thl = 20 + wlen + 16;
	CHECK_EQ(p.tcp_hlen, thl);
	CHECK_EQ(p.len, n - op.tcp_hlen + thl);
	CHECK_MEM(b + ihl + 20, want, wlen);
	CHECK_MEM(b + ihl + 20 + wlen, ZOPT, 16);
	CHECK_MEM(b + ihl + thl, pay, plen);
	CHECK_MEM(b + p.len, orig + p.len, cap - p.len);   /* up to cap */
	CHECK_MEM(b + ihl, orig + ihl, 12);
	CHECK_EQ(b[ihl + 12] & 0x0f, orig[ihl + 12] & 0x0f);
	if (v6)
		CHECK_EQ(get16(b + 4), p.len - 40);
	CHECK_EQ(packet_parse(&p, b, p.len), PACKET_OK);
	CHECK_EQ(packet_find_option(&p), (long)(ihl + thl - 16));
	packet_strip_option(&p);
	/* Another zcc option may now be last if the list ended with one. */
	ours = l.n > 0 && l.used % 4 == 0 && l.it[l.n - 1].kind == 253 &&
	    l.it[l.n - 1].len == 16 && l.it[l.n - 1].data[0] == 0x7a &&
	    l.it[l.n - 1].data[1] == 0x63;
	CHECK_EQ(packet_find_option(&p) != -1, ours);
	CHECK_EQ(p.payload_len, plen);
	CHECK_MEM(packet_payload(&p), pay, plen);
	if (mtrim == 0 && !eol) {
		CHECK_EQ(p.len, n);
		CHECK_MEM(b, orig, n);
	} else {
		CHECK_EQ(p.tcp_hlen, thl - 16);
		CHECK_MEM(b + ihl + 20, want, wlen);
	}
	CHECK_EQ(packet_parse(&p, b, p.len), PACKET_OK);
}

/* Mutated segments: whatever parses must be consistent, and must survive
 * add/find/strip (the sanitizers watch the bounds). */
static void
mutate_round(uint8_t *b, int v6)
{
	uint8_t pay[40];
	struct packet p;
	size_t n, i;
	int k;

	fill(pay, sizeof(pay), (unsigned)rnd(256));
	n = v6 ? build6(b, 6, SYN_OPTS, 20, pay, (size_t)rnd(40), 0) :
	    build(b, NULL, 0, SYN_OPTS, 20, pay, (size_t)rnd(40), 0);
	for (k = rnd(4) + 1; k > 0; k--)
		b[rnd((int)n)] = (uint8_t)rnd(256);
	if (rnd(4) == 0)
		n = (size_t)rnd((int)n + 1);
	if (packet_parse(&p, b, n) != PACKET_OK)
		return;
	CHECK(p.len <= n);
	CHECK_EQ(p.ip_hlen + p.tcp_hlen + p.payload_len, p.len);
	i = p.len;
	if (packet_add_option(&p, BUFSZ, NULL) == 0) {
		CHECK(p.len <= i + 16);
		CHECK_EQ(packet_parse(&p, b, p.len), PACKET_OK);
		CHECK(packet_find_option(&p) > 0);
		packet_strip_option(&p);
		CHECK_EQ(packet_parse(&p, b, p.len), PACKET_OK);
	}
}

/*
 * packet.c sums eight bytes at a time in host order; the reference sums one
 * byte at a time. Every payload length (odd and even, every alignment of
 * the tail) and random bytes, including runs of 0xff that carry most.
 */
static void
test_checksum_lengths(void)
{
	static uint8_t b[BUFSZ], ref[BUFSZ], pay[1600];
	struct packet p;
	uint8_t ph[4] = { 0, 6 };
	size_t n, len;

	srand(7);
	for (len = 0; len <= sizeof(pay); len++) {
		for (size_t i = 0; i < len; i++)
			pay[i] = (len % 3 == 0) ? 0xff : (uint8_t)rand();
		n = build(ref, NULL, 0, SYN_OPTS, sizeof(SYN_OPTS), pay, len,
		    ZCC_TCP_ACK);
		memcpy(b, ref, n);
		put16(b + 10, (unsigned)rand());
		put16(b + 36, (unsigned)rand());
		if (packet_parse(&p, b, n) != PACKET_OK) {
			CHECK(0);
			continue;
		}
		packet_fix_checksums(&p);
		CHECK_MEM(b, ref, n);
		put16(ph + 2, (unsigned)(n - 20));
		CHECK_EQ(packet_pseudo_sum(&p, n - 20),
		    (~ref_fold(ref_add(ref_add(0, b + 12, 8), ph, 4))) & 0xffff);
	}
}

/* ---- IPv6 ---- */

static void
test_v6_syn(void)
{
	uint8_t b[BUFSZ];
	struct packet p;
	size_t n = build6(b, 6, SYN_OPTS, sizeof(SYN_OPTS), NULL, 0,
	    ZCC_TCP_SYN);

	CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
	CHECK(p.buf == b);
	CHECK_EQ(p.af, AF_INET6);
	CHECK_EQ(p.len, 80);
	CHECK_EQ(p.ip_hlen, 40);
	CHECK_EQ(p.tcp_hlen, 40);
	CHECK_EQ(p.payload_len, 0);
	CHECK_EQ(packet_proto(&p), 6);
	CHECK_EQ(packet_addr_len(&p), 16);
	CHECK_MEM(packet_saddr(&p), SRC6, 16);
	CHECK_MEM(packet_daddr(&p), DST6, 16);
	CHECK_EQ(packet_sport(&p), SPORT);
	CHECK_EQ(packet_dport(&p), DPORT);
	CHECK_EQ(packet_seq(&p), SEQ);
	CHECK_EQ(packet_ack(&p), ACK);
	CHECK_EQ(packet_tcp_flags(&p), ZCC_TCP_SYN);
	CHECK(packet_tcp(&p) == b + 40);
	CHECK(packet_payload(&p) == b + 80);
	CHECK(packet_has_timestamps(&p));
	CHECK_EQ(packet_find_option(&p), -1);
	CHECK_EQ(packet_ip_checksum(&p), 0);      /* IPv6 has none */
	CHECK(packet_tcp_checksum_ok(&p));

	/* IPv4 is told apart by its version, and keeps its own fields. */
	n = build(b, NULL, 0, SYN_OPTS, sizeof(SYN_OPTS), NULL, 0, ZCC_TCP_SYN);
	CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
	CHECK_EQ(p.af, AF_INET);
	CHECK_EQ(packet_addr_len(&p), 4);
	CHECK(packet_saddr(&p) == b + 12);
	CHECK(packet_daddr(&p) == b + 16);
}

static void
test_v6_parse_errors(void)
{
	/* Every IANA extension header; 44, the fragment header, apart. */
	static const uint8_t ext[] = { 0, 43, 50, 51, 60, 135, 139, 140, 253, 254 };
	static const uint8_t other[] = { 17, 58, 59, 4, 41, 132 };
	uint8_t base[BUFSZ], b[BUFSZ];
	struct packet p;
	size_t n = build6(base, 6, SYN_OPTS, sizeof(SYN_OPTS),
	    (const uint8_t *)"abcde", 5, ZCC_TCP_ACK);

#define COPY() memcpy(b, base, n)
	COPY();
	CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
	CHECK_EQ(packet_parse(&p, b, 39), PACKET_SHORT);
	CHECK_EQ(packet_parse_ip(&p, b, 39), PACKET_SHORT);
	CHECK_EQ(packet_parse(&p, b, 1), PACKET_SHORT);
	CHECK_EQ(packet_parse(&p, b, n - 1), PACKET_BAD_LENGTH);
	CHECK(p.buf == NULL && p.af == 0);

	COPY(), put16(b + 4, (unsigned)(n - 40 + 1));
	CHECK_EQ(packet_parse(&p, b, n), PACKET_BAD_LENGTH);
	CHECK_EQ(packet_parse(&p, b, n + 1), PACKET_OK);   /* now it fits */
	COPY(), put16(b + 4, 0xffff);
	CHECK_EQ(packet_parse_ip(&p, b, n), PACKET_BAD_LENGTH);
	COPY(), put16(b + 4, 0);     /* the header alone */
	CHECK_EQ(packet_parse(&p, b, n), PACKET_SHORT);
	CHECK_EQ(packet_parse_ip(&p, b, n), PACKET_OK);
	CHECK_EQ(p.len, 40);
	COPY(), put16(b + 4, 19);    /* TCP header cut short */
	CHECK_EQ(packet_parse(&p, b, n), PACKET_SHORT);
	COPY(), put16(b + 4, 30);    /* room for TCP's 20, not its options */
	CHECK_EQ(packet_parse(&p, b, n), PACKET_BAD_TCP);

	for (size_t i = 0; i < sizeof(ext); i++) {
		COPY(), b[6] = ext[i];
		CHECK_EQ(packet_parse(&p, b, n), PACKET_EXT_HEADER);
		CHECK(p.buf == NULL && p.tcp_hlen == 0);
		CHECK_EQ(packet_parse_ip(&p, b, n), PACKET_OK);
		CHECK_EQ(packet_proto(&p), ext[i]);
	}
	COPY(), b[6] = 44;
	CHECK_EQ(packet_parse(&p, b, n), PACKET_FRAGMENT);
	for (size_t i = 0; i < sizeof(other); i++) {
		COPY(), b[6] = other[i];
		CHECK_EQ(packet_parse(&p, b, n), PACKET_NOT_TCP);
	}
	/* IPv4's fragment field means nothing in IPv6: bytes 6-7 are next
	 * header and hop limit. */
	COPY(), b[7] = 0xff;
	CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
	COPY(), b[52] = 0x40;        /* data offset 4 */
	CHECK_EQ(packet_parse(&p, b, n), PACKET_BAD_TCP);
	COPY(), b[60] = 5, b[61] = 2;   /* a SACK of no block */
	CHECK_EQ(packet_parse(&p, b, n), PACKET_BAD_OPTIONS);
#undef COPY

	/* Bytes after the payload length (link padding) do not count. */
	memcpy(b, base, n);
	memset(b + n, 0xee, 9);
	CHECK_EQ(packet_parse(&p, b, n + 9), PACKET_OK);
	CHECK_EQ(p.len, n);
	CHECK_EQ(p.payload_len, 5);
	CHECK(packet_tcp_checksum_ok(&p));
	packet_fix_checksums(&p);
	CHECK_EQ(b[n], 0xee);
	CHECK_MEM(b, base, n);
}

static void
test_v6_checksums(void)
{
	static uint8_t b[BUFSZ], ref[BUFSZ], pay[1600];
	struct packet p;
	uint8_t ph[8] = { 0 };
	size_t n, len;

	n = build6(ref, 6, SYN_OPTS, sizeof(SYN_OPTS), (const uint8_t *)"A", 1,
	    ZCC_TCP_ACK);
	memcpy(b, ref, n);
	CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
	CHECK(packet_tcp_checksum_ok(&p));
	b[7] = 1;                        /* hop limit: not in the pseudo-header */
	b[1] ^= 0x0f, b[3] ^= 0xff;      /* traffic class, flow label: neither */
	CHECK(packet_tcp_checksum_ok(&p));
	b[39] ^= 0x80;                   /* destination address */
	CHECK(!packet_tcp_checksum_ok(&p));
	b[39] ^= 0x80;
	b[8] ^= 0x01;                    /* source address */
	CHECK(!packet_tcp_checksum_ok(&p));
	b[8] ^= 0x01;
	put16(b + 56, 0x1234);
	packet_fix_checksums(&p);
	CHECK(packet_tcp_checksum_ok(&p));
	CHECK_EQ(b[7], 1);               /* fix_checksums writes only TCP's */
	CHECK_EQ(get16(b + 56), get16(ref + 56));

	srand(11);
	for (len = 0; len <= sizeof(pay); len++) {
		for (size_t i = 0; i < len; i++)
			pay[i] = (len % 3 == 0) ? 0xff : (uint8_t)rand();
		n = build6(ref, 6, SYN_OPTS, sizeof(SYN_OPTS), pay, len,
		    ZCC_TCP_ACK);
		memcpy(b, ref, n);
		put16(b + 56, (unsigned)rand());
		if (packet_parse(&p, b, n) != PACKET_OK) {
			CHECK(0);
			continue;
		}
		packet_fix_checksums(&p);
		CHECK_MEM(b, ref, n);
		ph[2] = (uint8_t)((n - 40) >> 8), ph[3] = (uint8_t)(n - 40), ph[7] = 6;
		CHECK_EQ(packet_pseudo_sum(&p, n - 40),
		    (~ref_fold(ref_add(ref_add(0, b + 8, 32), ph, 8))) & 0xffff);
	}
}

static void
test_v6_option(void)
{
	static const uint8_t ts_sack3[40] = {
		1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8,
		1, 1, 5, 26, 0, 0, 1, 0, 0, 0, 2, 0,
		0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6, 0,
	};
	uint8_t b[BUFSZ], orig[BUFSZ], pay[77];
	struct packet p;
	size_t n;
	int trimmed = -1;

	fill(pay, sizeof(pay), 9);
	n = build6(orig, 6, SYN_OPTS, 20, pay, sizeof(pay), ZCC_TCP_ACK);
	memcpy(b, orig, n);
	memset(b + n, 0xa5, sizeof(b) - n);
	CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
	CHECK_EQ(packet_add_option(&p, n + 16, &trimmed), 0);
	CHECK_EQ(trimmed, 0);
	CHECK_EQ(p.len, n + 16);
	CHECK_EQ(get16(b + 4), n + 16 - 40);     /* payload length */
	CHECK_EQ(b[52] >> 4, 14);
	CHECK_MEM(b + 60, SYN_OPTS, 20);
	CHECK_MEM(b + 80, ZOPT, 16);
	CHECK_MEM(b + 96, pay, sizeof(pay));
	CHECK_EQ(b[n + 16], 0xa5);
	CHECK_MEM(b, orig, 4);                   /* version, class, flow label */
	CHECK_MEM(b + 6, orig + 6, 34);          /* next header .. addresses */
	CHECK_EQ(packet_parse(&p, b, p.len), PACKET_OK);
	CHECK_EQ(packet_find_option(&p), 80);
	packet_strip_option(&p);
	CHECK_EQ(p.len, n);
	CHECK_MEM(b, orig, n);

	/* SACK trimming is the same as for IPv4. */
	n = build6(orig, 6, ts_sack3, 40, pay, 3, ZCC_TCP_ACK);
	memcpy(b, orig, n);
	CHECK_EQ(packet_parse(&p, b, n), PACKET_OK);
	CHECK_EQ(packet_add_option(&p, sizeof(b), &trimmed), 0);
	CHECK_EQ(trimmed, 2);
	CHECK_EQ(p.tcp_hlen, 60);
	CHECK_EQ(get16(b + 4), p.len - 40);

	/* The payload length must stay <= 65535, which lets the packet
	 * itself reach 65575 bytes. */
	{
		static uint8_t big[40 + 65535 + 100];
		size_t plen;

		memset(big, 0, sizeof(big));
		big[0] = 0x60, big[6] = 6, big[52] = 0x50;
		plen = 65520;
		put16(big + 4, (unsigned)plen);
		CHECK_EQ(packet_parse(&p, big, 40 + plen), PACKET_OK);
		CHECK_EQ(packet_add_option(&p, sizeof(big), NULL), -1);
		CHECK_EQ(get16(big + 4), plen);
		CHECK_EQ(big[52], 0x50);
		plen = 65519;
		put16(big + 4, (unsigned)plen);
		CHECK_EQ(packet_parse(&p, big, 40 + plen), PACKET_OK);
		CHECK_EQ(packet_add_option(&p, sizeof(big), NULL), 0);
		CHECK_EQ(get16(big + 4), 65535);
		CHECK_EQ(p.len, 40 + 65535);
	}
}

static void
test_random(void)
{
	static uint8_t orig[BUFSZ], b[BUFSZ];
	int i;

	srand(20240611);
	for (i = 0; i < 20000; i++)
		random_round(orig, b, 0);
	for (i = 0; i < 20000; i++)
		random_round(orig, b, 1);
	for (i = 0; i < 20000; i++)
		mutate_round(b, 0);
	for (i = 0; i < 20000; i++)
		mutate_round(b, 1);
}

/*
 * packet_finish_checksum over every length to 1700 at every alignment mod
 * 8, random bytes and all-ones (every carry taken): as the reference.
 */
static void
test_checksum_alignments(void)
{
	static uint8_t buf[1700 + 8], ref[1700 + 8];

	for (int fill = 0; fill < 2; fill++)
		for (size_t n = 2; n <= 1700; n++) {
			size_t at = n % 8;
			unsigned want;

			if (fill)
				memset(buf + at, 0xff, n);
			else
				for (size_t i = 0; i < n; i++)
					buf[at + i] = (uint8_t)rand();
			memcpy(ref, buf + at, n);
			want = ref_fold(ref_add(0, ref, n));
			CHECK_EQ(packet_finish_checksum(buf + at, n, 0, 0), 0);
			CHECK_EQ(get16(buf + at), want ? want : 0xffff);
		}
}

int
main(void)
{
	test_checksum_alignments();
	test_syn();
	test_data_ts();
	test_parse_errors();
	test_ip_options_and_trailer();
	test_checksum_known();
	test_fix_checksums();
	test_checksum_lengths();
	test_add_option();
	test_find_option();
	test_v6_syn();
	test_v6_parse_errors();
	test_v6_checksums();
	test_v6_option();
	test_random();
	CHECK_DONE();
}
