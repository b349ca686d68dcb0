/* SPDX-License-Identifier: ISC */
/*
 * ICMP "too big" parsing and the path MTU policy (pmtu.h): messages built
 * byte by byte as a router sends them, quoting a sealed segment whole, cut
 * to RFC 792's eight bytes, or not quoting ours at all.
 */
#include <arpa/inet.h>
#include <string.h>

#include "check.h"
#include "zcc/packet.h"
#include "zcc/pmtu.h"

#define OUTER4 20
#define ICMP 8
#define TCP_TS 12               /* NOP NOP timestamps */

static size_t
put_tcp(uint8_t *t, int with_option, uint8_t key_id)
{
	size_t hl = 20 + TCP_TS + (with_option ? ZCC_OPT_LEN : 0);

	memset(t, 0, hl + 4);
	t[0] = 0xa1, t[1] = 0x22;               /* 41250 */
	t[2] = 0x00, t[3] = 0x50;               /* 80 */
	t[4] = 0xde, t[5] = 0xad, t[6] = 0xbe, t[7] = 0xef;
	t[12] = (uint8_t)(hl / 4 << 4);
	t[13] = 0x18;
	t[20] = 1, t[21] = 1, t[22] = 8, t[23] = 10;
	if (with_option) {
		uint8_t *o = t + 20 + TCP_TS;

		o[0] = ZCC_OPT_KIND, o[1] = ZCC_OPT_LEN;
		o[2] = ZCC_OPT_EXID >> 8, o[3] = ZCC_OPT_EXID & 0xff;
		o[ZCC_OPT_KEYID_OFF] = key_id;
	}
	memcpy(t + hl, "data", 4);
	return hl + 4;
}

/* An IPv4 "fragmentation needed" from 192.0.2.254 quoting 10.0.0.1 -> .2. */
static size_t
icmp4(uint8_t *b, uint8_t type, uint8_t code, uint16_t mtu, uint8_t proto,
    int with_option)
{
	uint8_t *q = b + OUTER4 + ICMP;
	size_t tl;

	memset(b, 0, OUTER4 + ICMP + 20);
	b[0] = 0x45, b[9] = 1;
	b[OUTER4] = type, b[OUTER4 + 1] = code;
	b[OUTER4 + 6] = (uint8_t)(mtu >> 8), b[OUTER4 + 7] = (uint8_t)mtu;
	q[0] = 0x45, q[8] = 64, q[9] = proto;
	q[12] = 10, q[15] = 1;
	q[16] = 10, q[19] = 2;
	tl = put_tcp(q + 20, with_option, 7);
	return OUTER4 + ICMP + 20 + tl;
}

/* An ICMPv6 "packet too big" quoting 2001:db8::1 -> 2001:db8::2. */
static size_t
icmp6(uint8_t *b, uint8_t type, uint32_t mtu, uint8_t next, int with_option)
{
	uint8_t *q = b + ICMP;
	size_t tl;

	memset(b, 0, ICMP + 40);
	b[0] = type;
	b[4] = (uint8_t)(mtu >> 24), b[5] = (uint8_t)(mtu >> 16);
	b[6] = (uint8_t)(mtu >> 8), b[7] = (uint8_t)mtu;
	q[0] = 0x60, q[6] = next, q[7] = 64;
	q[8] = 0x20, q[9] = 0x01, q[10] = 0x0d, q[11] = 0xb8, q[23] = 1;
	q[24] = 0x20, q[25] = 0x01, q[26] = 0x0d, q[27] = 0xb8, q[39] = 2;
	tl = put_tcp(q + 40, with_option, 9);
	return ICMP + 40 + tl;
}

static void
check_ipv4(void)
{
	uint8_t b[256];
	struct pmtu_report r;
	size_t n = icmp4(b, 3, 4, 1280, 6, 1);
	const uint8_t src[4] = { 10, 0, 0, 1 }, dst[4] = { 10, 0, 0, 2 };

	CHECK_EQ(pmtu_parse(AF_INET, b, n, &r), 0);
	CHECK_EQ(r.mtu, 1280);
	CHECK(addr_is(&r.src, AF_INET, src));
	CHECK(addr_is(&r.dst, AF_INET, dst));
	CHECK_EQ(r.sport, 41250);
	CHECK_EQ(r.dport, 80);
	CHECK_EQ(r.seq, 0xdeadbeefu);
	CHECK_EQ(r.option, 1);
	CHECK_EQ(r.key_id, 7);
	/* RFC 792's minimum quote: ports and sequence, options unknown. */
	CHECK_EQ(pmtu_parse(AF_INET, b, OUTER4 + ICMP + 20 + 8, &r), 0);
	CHECK_EQ(r.option, 0);
	CHECK_EQ(r.sport, 41250);
	/* A whole header without the option: not a sealed segment. */
	n = icmp4(b, 3, 4, 1280, 6, 0);
	CHECK_EQ(pmtu_parse(AF_INET, b, n, &r), 0);
	CHECK_EQ(r.option, -1);
	/* Other messages, and ones with nothing to believe. */
	n = icmp4(b, 3, 3, 1280, 6, 1);
	CHECK_EQ(pmtu_parse(AF_INET, b, n, &r), PMTU_NOT_TOO_BIG);
	n = icmp4(b, 11, 0, 1280, 6, 1);
	CHECK_EQ(pmtu_parse(AF_INET, b, n, &r), PMTU_NOT_TOO_BIG);
	n = icmp4(b, 3, 4, 0, 6, 1);
	CHECK_EQ(pmtu_parse(AF_INET, b, n, &r), PMTU_MALFORMED);
	n = icmp4(b, 3, 4, 1280, 17, 1);
	CHECK_EQ(pmtu_parse(AF_INET, b, n, &r), PMTU_MALFORMED);
	n = icmp4(b, 3, 4, 1280, 6, 1);
	b[0] = 0x44;                            /* IHL 16 bytes */
	CHECK_EQ(pmtu_parse(AF_INET, b, n, &r), PMTU_MALFORMED);
	b[0] = 0x65;
	CHECK_EQ(pmtu_parse(AF_INET, b, n, &r), PMTU_MALFORMED);
	b[0] = 0x45;
	b[OUTER4 + ICMP] = 0x43;                /* the quote's IHL */
	CHECK_EQ(pmtu_parse(AF_INET, b, n, &r), PMTU_MALFORMED);
}

static void
check_ipv6(void)
{
	uint8_t b[256], dst[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	struct pmtu_report r;
	size_t n = icmp6(b, 2, 1280, 6, 1);

	dst[15] = 2;
	CHECK_EQ(pmtu_parse(AF_INET6, b, n, &r), 0);
	CHECK_EQ(r.mtu, 1280);
	CHECK(addr_is(&r.dst, AF_INET6, dst));
	CHECK_EQ(r.sport, 41250);
	CHECK_EQ(r.option, 1);
	CHECK_EQ(r.key_id, 9);
	n = icmp6(b, 2, 70000, 6, 0);           /* jumbo links: 32 bits */
	CHECK_EQ(pmtu_parse(AF_INET6, b, n, &r), 0);
	CHECK_EQ(r.mtu, 70000);
	CHECK_EQ(r.option, -1);
	n = icmp6(b, 1, 1280, 6, 1);
	CHECK_EQ(pmtu_parse(AF_INET6, b, n, &r), PMTU_NOT_TOO_BIG);
	n = icmp6(b, 2, 1280, 44, 1);           /* a fragment header first */
	CHECK_EQ(pmtu_parse(AF_INET6, b, n, &r), PMTU_MALFORMED);
	CHECK_EQ(pmtu_parse(AF_UNIX, b, n, &r), PMTU_MALFORMED);
}

/* Every cut of a valid message parses or is refused, never read beyond. */
static void
check_truncated(void)
{
	uint8_t b[256];
	struct pmtu_report r;
	size_t n4 = icmp4(b, 3, 4, 1280, 6, 1), n6;

	for (size_t n = 0; n < OUTER4 + ICMP + 20 + 8; n++)
		CHECK_EQ(pmtu_parse(AF_INET, b, n, &r), PMTU_MALFORMED);
	for (size_t n = OUTER4 + ICMP + 20 + 8; n <= n4; n++)
		CHECK_EQ(pmtu_parse(AF_INET, b, n, &r), 0);
	n6 = icmp6(b, 2, 1280, 6, 1);
	for (size_t n = 0; n < ICMP + 40 + 8; n++)
		CHECK_EQ(pmtu_parse(AF_INET6, b, n, &r), PMTU_MALFORMED);
	for (size_t n = ICMP + 40 + 8; n <= n6; n++) {
		CHECK_EQ(pmtu_parse(AF_INET6, b, n, &r), 0);
		CHECK(r.option >= 0);   /* cut: unknown; whole: found */
	}
}

static void
check_policy(void)
{
	struct pmtu p;

	pmtu_init(&p, AF_INET, 1500);
	CHECK_EQ(p.path_mtu, 1500);
	CHECK_EQ(pmtu_report(&p, 1500, 10), 0);         /* not lower */
	CHECK_EQ(pmtu_report(&p, 9000, 10), 0);
	CHECK_EQ(pmtu_expire(&p, 10 + PMTU_EXPIRE_MS), 0);  /* nothing learnt */
	CHECK_EQ(pmtu_report(&p, 1400, 1000), 1400);
	CHECK_EQ(pmtu_report(&p, 1450, 2000), 0);       /* only down */
	CHECK_EQ(pmtu_report(&p, 1400, 2000), 0);       /* once per change */
	CHECK_EQ(pmtu_report(&p, 68, 3000), PMTU_FLOOR4);
	CHECK_EQ(pmtu_report(&p, 300, 3000), 0);        /* at the floor */
	CHECK_EQ(p.path_mtu, PMTU_FLOOR4);
	CHECK_EQ(pmtu_expire(&p, 3000 + PMTU_EXPIRE_MS - 1), 0);
	CHECK_EQ(pmtu_expire(&p, 3000 + PMTU_EXPIRE_MS), 1500);
	CHECK_EQ(p.path_mtu, 1500);
	CHECK_EQ(pmtu_expire(&p, 3000 + 3 * PMTU_EXPIRE_MS), 0);
	pmtu_init(&p, AF_INET6, 1500);
	CHECK_EQ(pmtu_report(&p, 1000, 5), PMTU_FLOOR6);
	CHECK_EQ(pmtu_report(&p, 1280, 5), 0);
	/* A link below the floor is not raised to it. */
	pmtu_init(&p, AF_INET6, 1280);
	CHECK_EQ(pmtu_report(&p, 1200, 5), 0);
	CHECK_EQ(p.path_mtu, 1280);
}

int
main(void)
{
	check_ipv4();
	check_ipv6();
	check_truncated();
	check_policy();
	CHECK_DONE();
}
