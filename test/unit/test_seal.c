/* SPDX-License-Identifier: ISC */
/*
 * Sealing: the PROTOCOL.md vectors (read from the document itself, so the
 * two cannot drift apart), round trips, and every tamper case rejected.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include <sodium.h>

#include "check.h"
#include "zcc/keys.h"
#include "zcc/packet.h"
#include "zcc/seal.h"
#include "zcc/secmem.h"

#define CAP 2048

struct vector {
	char name[128];
	uint8_t mac[32], prf[32], enc[32], ivk[32];
	enum seal_suite suite;
	uint8_t in[CAP], out[CAP], opened[CAP];
	size_t in_len, out_len, opened_len;
};

static uint8_t link_key[32];
static enum seal_suite suite;   /* the construction under test */

/* A key of the suite under test, ready to seal and open. */
static void
derive(struct seal_key *k, const uint8_t session[32], uint8_t id)
{
	seal_key_derive(k, session, id, suite);
	CHECK_EQ(seal_key_prepare(k), 0);
}

/* After a test changed k's bytes: contexts made from the new ones. */
static void
reprepare(struct seal_key *k)
{
	struct seal_key t = *k;

	t.aes = NULL;
	seal_key_wipe(k);
	*k = t;
	sodium_memzero(&t, sizeof(t));
	CHECK_EQ(seal_key_prepare(k), 0);
}

static void
wipe2(struct seal_key *a, struct seal_key *b)
{
	seal_key_wipe(a);
	seal_key_wipe(b);
}

static size_t
unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t len = 0;

	if (sodium_hex2bin(out, cap, hex, strlen(hex), "\n", &len, NULL) != 0)
		return 0;
	return len;
}

/* Read the next vector after "vector:" lines; 0 at the end. */
static int
read_vector(FILE *f, struct vector *v)
{
	char line[4096];
	int fields = 0, want = 7;

	memset(v, 0, sizeof(*v));
	v->suite = suite;
	want += v->suite == SEAL_SUITE_AES;
	while (fgets(line, sizeof(line), f) && fields < want) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, "suite: zccseal3") == 0 && fields == 0)
			v->suite = suite = SEAL_SUITE_AES, want = 8;
		else if (strncmp(line, "link-key: ", 10) == 0)
			CHECK_EQ(unhex(line + 10, link_key, 32), 32);
		else if (strncmp(line, "vector: ", 8) == 0)
			snprintf(v->name, sizeof(v->name), "%s", line + 8), fields++;
		else if (strncmp(line, "mac-key: ", 9) == 0)
			fields += unhex(line + 9, v->mac, 32) == 32;
		else if (strncmp(line, "prf-key: ", 9) == 0)
			fields += unhex(line + 9, v->prf, 32) == 32;
		else if (strncmp(line, "enc-key: ", 9) == 0)
			fields += unhex(line + 9, v->enc, 32) == 32;
		else if (strncmp(line, "iv-key: ", 8) == 0)
			fields += unhex(line + 8, v->ivk, 32) == 32;
		else if (strncmp(line, "in: ", 4) == 0)
			fields += (v->in_len = unhex(line + 4, v->in, CAP)) > 0;
		else if (strncmp(line, "out: ", 5) == 0)
			fields += (v->out_len = unhex(line + 5, v->out, CAP)) > 0;
		else if (strncmp(line, "opened: ", 8) == 0)
			fields += (v->opened_len = unhex(line + 8, v->opened, CAP)) > 0;
	}
	if (fields != 0 && fields != want)
		fprintf(stderr, "incomplete vector '%s'\n", v->name);
	return fields == want;
}

/*
 * The vectors' session keys (PROTOCOL.md, "Test vectors"): one per
 * direction from the vectors' link-key, a convenience of the vectors only;
 * zcctund's session keys come from the handshake.
 */
static void
vector_key(uint32_t src, uint32_t dst, struct seal_key *k)
{
	uint8_t session[ZCC_KEY_LEN];
	uint64_t id = (uint64_t)src << 32 | dst;

	crypto_kdf_derive_from_key(session, sizeof(session), id, "zccstat1",
	    link_key);
	derive(k, session, 0);
	sodium_memzero(session, sizeof(session));
}

static int
is_ipv6(const uint8_t *pkt)
{
	return pkt[0] >> 4 == 6;
}

static size_t
ip_hlen(const uint8_t *pkt)
{
	return is_ipv6(pkt) ? 40 : (size_t)(pkt[0] & 15) * 4;
}

/* An address as the vectors number it: IPv4's, or IPv6's last four bytes. */
static uint32_t
addr32(const uint8_t *pkt, int dst)
{
	const uint8_t *a = is_ipv6(pkt) ? pkt + (dst ? 36 : 20) : pkt + (dst ? 16 : 12);

	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
	    (uint32_t)a[2] << 8 | a[3];
}

static void
schedule_for(const uint8_t *pkt, struct seal_key *tx, struct seal_key *rx)
{
	vector_key(addr32(pkt, 0), addr32(pkt, 1), tx);
	vector_key(addr32(pkt, 1), addr32(pkt, 0), rx);
}

static void
receiver_schedule(const struct vector *v, struct seal_key *tx, struct seal_key *rx)
{
	vector_key(addr32(v->in, 1), addr32(v->in, 0), tx);
	vector_key(addr32(v->in, 0), addr32(v->in, 1), rx);
}

static size_t
payload_len(const uint8_t *pkt, size_t len)
{
	size_t ihl = ip_hlen(pkt);

	return len - ihl - (size_t)(pkt[ihl + 12] >> 4) * 4;
}

/* Set a packet's IP length field for a packet of n bytes. */
static void
set_ip_len(uint8_t *pkt, size_t n)
{
	size_t v = is_ipv6(pkt) ? n - 40 : n;

	pkt[is_ipv6(pkt) ? 4 : 2] = (uint8_t)(v >> 8);
	pkt[is_ipv6(pkt) ? 5 : 3] = (uint8_t)v;
}

/*
 * Bytes a router may rewrite, which the tag does not cover: IPv4's TOS,
 * ID, flags, TTL and header checksum; IPv6's traffic class, flow label and
 * hop limit; and the TCP checksum. A 0x01 flip of byte 0 of IPv6 changes
 * the traffic class, not the version.
 */
static int
uncovered(const uint8_t *pkt, size_t at)
{
	size_t ihl = ip_hlen(pkt);

	if (at == ihl + 16 || at == ihl + 17)
		return 1;
	if (is_ipv6(pkt))
		return at <= 3 || at == 7;
	return at == 1 || at == 4 || at == 5 || at == 8 || at == 10 || at == 11;
}

static void
check_vector(const struct vector *v)
{
	struct seal_key tx, rx, peer_tx, peer_rx;
	struct packet p;
	uint8_t buf[CAP];

	fprintf(stderr, "vector: %s\n", v->name);
	schedule_for(v->in, &tx, &rx);
	CHECK_MEM(tx.mac, v->mac, 32);
	CHECK_MEM(tx.prf, v->prf, 32);
	CHECK_MEM(tx.enc, v->enc, 32);
	if (suite == SEAL_SUITE_AES)
		CHECK_MEM(tx.ivk, v->ivk, 32);
	/* The receiver's schedule, addresses swapped, opens what tx sealed. */
	receiver_schedule(v, &peer_tx, &peer_rx);
	CHECK_MEM(peer_rx.mac, tx.mac, 32);
	CHECK_MEM(peer_rx.prf, tx.prf, 32);
	CHECK_MEM(peer_rx.enc, tx.enc, 32);
	CHECK(memcmp(peer_tx.mac, tx.mac, 32) != 0);

	memcpy(buf, v->in, v->in_len);
	CHECK_EQ(packet_parse(&p, buf, v->in_len), PACKET_OK);
	CHECK_EQ(seal_segment(&tx, &p, sizeof(buf), NULL), SEAL_OK);
	CHECK_EQ(p.len, v->out_len);
	CHECK_MEM(buf, v->out, v->out_len);
	CHECK(packet_tcp_checksum_ok(&p));

	CHECK_EQ(packet_parse(&p, buf, p.len), PACKET_OK);
	CHECK_EQ(seal_key_id(&p), 0);
	CHECK_EQ(seal_open(&peer_rx, &p), SEAL_OK);
	CHECK_EQ(p.len, v->opened_len);
	CHECK_MEM(buf, v->opened, v->opened_len);
	wipe2(&tx, &rx);
	wipe2(&peer_tx, &peer_rx);
}

/* v's sealed segment as a NAT passes it on: another source address. */
static void
natted(const struct vector *v, uint8_t *buf, struct packet *p,
    const uint8_t public[16])
{
	memcpy(buf, v->out, v->out_len);
	CHECK_EQ(packet_parse(p, buf, v->out_len), PACKET_OK);
	memcpy(buf + (is_ipv6(buf) ? 8 : 12), public, packet_addr_len(p));
	packet_fix_checksums(p);
}

/*
 * A NAT rewrites the source address (and fixes the checksums): the tag no
 * longer opens over the packet's addresses, only over the sender's
 * (seal_open_as), and the opened packet keeps the address it arrived with.
 * A failed open leaves garbage, so each try starts from a fresh copy.
 */
static void
check_nat(const struct vector *v)
{
	uint8_t buf[CAP], src[16], dst[16], public[16];
	struct seal_key tx, rx;
	struct packet p;
	size_t alen;

	receiver_schedule(v, &tx, &rx);
	memset(public, 0xc6, sizeof(public));
	natted(v, buf, &p, public);
	alen = packet_addr_len(&p);
	memcpy(src, v->out + (is_ipv6(v->out) ? 8 : 12), alen);
	memcpy(dst, v->out + (is_ipv6(v->out) ? 24 : 16), alen);
	CHECK_EQ(seal_open(&rx, &p), SEAL_BAD_TAG);
	natted(v, buf, &p, public);
	CHECK_EQ(seal_open_as(&rx, &p, dst, src), SEAL_BAD_TAG);
	natted(v, buf, &p, public);
	CHECK_EQ(seal_open_as(&rx, &p, src, dst), SEAL_OK);
	CHECK_EQ(p.len, v->opened_len);
	CHECK_MEM(packet_saddr(&p), public, alen);
	CHECK_MEM(packet_payload(&p), v->opened + (v->opened_len - p.payload_len),
	    p.payload_len);
	wipe2(&tx, &rx);
}

/* Open a copy of out with one byte changed; returns seal_open's verdict. */
static int
open_tampered(const struct seal_key *rx, const struct vector *v, size_t at,
    uint8_t xor)
{
	uint8_t buf[CAP];
	struct packet p;

	memcpy(buf, v->out, v->out_len);
	buf[at] ^= xor;
	if (packet_parse(&p, buf, v->out_len) != PACKET_OK)
		return SEAL_BAD_TAG;    /* rejected even earlier */
	return seal_open(rx, &p);
}

/*
 * Every covered byte changed -> rejected. The bytes routers may rewrite
 * (TOS, ID, TTL, IP checksum) and the TCP checksum are not covered.
 */
static void
check_tampering(const struct vector *v)
{
	struct seal_key tx, rx;

	receiver_schedule(v, &tx, &rx);
	for (size_t at = 0; at < v->out_len; at++) {
		int verdict = open_tampered(&rx, v, at, 0x01);

		if (uncovered(v->out, at))
			CHECK_EQ(verdict, SEAL_OK);
		else if (verdict == SEAL_OK)
			fprintf(stderr, "  tampering byte %zu went unnoticed\n", at),
			    check_failures++;
	}
	/*
	 * Wrong keys: both tag keys always matter (r and s of the Poly1305
	 * key alike; byte 0 of r and byte 31, in s, escape Poly1305's
	 * clamping), the cipher key with a payload.
	 */
	rx.mac[0] ^= 1;
	CHECK_EQ(open_tampered(&rx, v, 8, 0), SEAL_BAD_TAG);
	rx.mac[0] ^= 1;
	rx.mac[31] ^= 1;
	CHECK_EQ(open_tampered(&rx, v, 8, 0), SEAL_BAD_TAG);
	rx.mac[31] ^= 1;
	rx.prf[9] ^= 1;
	reprepare(&rx);
	CHECK_EQ(open_tampered(&rx, v, 8, 0), SEAL_BAD_TAG);
	rx.prf[9] ^= 1;
	rx.enc[5] ^= 1;
	reprepare(&rx);
	CHECK_EQ(open_tampered(&rx, v, 8, 0),
	    payload_len(v->in, v->in_len) ? SEAL_BAD_TAG : SEAL_OK);
	rx.enc[5] ^= 1;
	if (suite == SEAL_SUITE_AES) {  /* K_iv names the counter blocks */
		rx.ivk[17] ^= 1;
		reprepare(&rx);
		CHECK_EQ(open_tampered(&rx, v, 8, 0),
		    payload_len(v->in, v->in_len) ? SEAL_BAD_TAG : SEAL_OK);
	}
	wipe2(&tx, &rx);
}

/* Truncations of a sealed segment never open. */
static void
check_truncation(const struct vector *v)
{
	struct seal_key tx, rx;

	receiver_schedule(v, &tx, &rx);
	for (size_t n = 0; n < v->out_len; n++) {
		uint8_t buf[CAP];
		struct packet p;

		memcpy(buf, v->out, v->out_len);
		/* A shorter packet that is internally consistent: fix its length. */
		if (n < ip_hlen(buf))
			continue;
		set_ip_len(buf, n);
		if (packet_parse(&p, buf, n) != PACKET_OK)
			continue;
		CHECK(seal_open(&rx, &p) != SEAL_OK);
	}
	wipe2(&tx, &rx);
}

/* The option missing, or naming another key. */
static void
check_missing_option(const struct vector *v)
{
	struct seal_key tx, rx;
	uint8_t buf[CAP];
	struct packet p;

	schedule_for(v->in, &tx, &rx);
	memcpy(buf, v->in, v->in_len);
	CHECK_EQ(packet_parse(&p, buf, v->in_len), PACKET_OK);
	CHECK_EQ(seal_key_id(&p), -1);
	CHECK_EQ(seal_open(&rx, &p), SEAL_NO_OPTION);

	memcpy(buf, v->out, v->out_len);
	CHECK_EQ(packet_parse(&p, buf, v->out_len), PACKET_OK);
	buf[packet_find_option(&p) + ZCC_OPT_KEYID_OFF] = 7;
	CHECK_EQ(seal_key_id(&p), 7);
	CHECK_EQ(seal_open(&rx, &p), SEAL_BAD_TAG);
	wipe2(&tx, &rx);
}

/*
 * A TCP segment of plen random payload bytes with timestamps in a (all
 * else zero), IPv4 10.0.0.1 -> 10.0.0.2 or IPv6 2001:db8::1 -> ::2; its
 * length. The checksums are left to packet_fix_checksums.
 */
static size_t
random_segment(uint8_t *a, size_t plen, int v6)
{
	size_t ihl = v6 ? 40 : 20, len = ihl + 32 + plen;
	uint8_t *t = a + ihl;

	memset(a, 0, CAP);
	if (v6) {
		a[0] = 0x60, a[4] = (uint8_t)((len - 40) >> 8);
		a[5] = (uint8_t)(len - 40), a[6] = 6, a[7] = 64;
		a[8] = 0x20, a[9] = 0x01, a[10] = 0x0d, a[11] = 0xb8, a[23] = 1;
		memcpy(a + 24, a + 8, 15), a[39] = 2;
	} else {
		a[0] = 0x45, a[2] = (uint8_t)(len >> 8), a[3] = (uint8_t)len;
		a[8] = 64, a[9] = 6;
		a[12] = 10, a[15] = 1, a[16] = 10, a[19] = 2;
	}
	t[12] = 8 << 4, t[13] = 0x18;
	memcpy(t + 20, "\x01\x01\x08\x0a", 4);
	randombytes_buf(t + 4, 8);               /* seq, ack */
	randombytes_buf(t + 24, 8);              /* timestamps */
	randombytes_buf(t + 32, plen);
	return len;
}

/* Random segments round trip, IPv4 and IPv6. */
static void
check_round_trips(int v6)
{
	struct seal_key k;
	uint8_t session[32] = { 1 };
	size_t pay = (v6 ? 40 : 20) + 32;

	derive(&k, session, 3);
	for (int i = 0; i < 200; i++) {
		uint8_t a[CAP], b[CAP];
		size_t plen = (size_t)(i * 7) % 1400;
		struct packet p;
		size_t len = random_segment(a, plen, v6);

		memcpy(b, a, len);
		CHECK_EQ(packet_parse(&p, b, len), PACKET_OK);
		CHECK_EQ(p.af, v6 ? AF_INET6 : AF_INET);
		packet_fix_checksums(&p);
		memcpy(a, b, len);
		CHECK_EQ(seal_segment(&k, &p, sizeof(b), NULL), SEAL_OK);
		CHECK_EQ(p.len, len + 16);
		CHECK(packet_tcp_checksum_ok(&p));
		if (plen >= 16)   /* the payload is no longer readable */
			CHECK(memcmp(b + pay + 16, a + pay, plen) != 0);
		CHECK_EQ(packet_parse(&p, b, p.len), PACKET_OK);
		CHECK_EQ(seal_open(&k, &p), SEAL_OK);
		CHECK_EQ(p.len, len);
		CHECK_MEM(a, b, len);
	}
	seal_key_wipe(&k);
}

/*
 * The same TCP segment between the IPv4 and the IPv6 pair, and between
 * an IPv6 pair and the IPv4-mapped forms of the IPv4 one: the tags differ
 * (M's af byte and addresses), and neither opens as the other.
 */
static void
check_families_apart(void)
{
	struct seal_key k;
	uint8_t session[32] = { 5 }, a[CAP], b[CAP];
	struct packet p, q;
	size_t la, lb;

	derive(&k, session, 1);
	la = random_segment(a, 100, 0);
	lb = random_segment(b, 100, 1);
	memcpy(b + 40, a + 20, 32 + 100);        /* the same TCP bytes */
	/* b's addresses: ::ffff:10.0.0.1 -> ::ffff:10.0.0.2 */
	memset(b + 8, 0, 32);
	b[18] = b[19] = b[34] = b[35] = 0xff;
	memcpy(b + 20, a + 12, 4);
	memcpy(b + 36, a + 16, 4);
	CHECK_EQ(packet_parse(&p, a, la), PACKET_OK);
	CHECK_EQ(packet_parse(&q, b, lb), PACKET_OK);
	CHECK_EQ(seal_segment(&k, &p, CAP, NULL), SEAL_OK);
	CHECK_EQ(seal_segment(&k, &q, CAP, NULL), SEAL_OK);
	CHECK(memcmp(a + 20, b + 40, p.len - 20) != 0);
	/* Swap the TCP parts: each tag now meets the other family's M. */
	{
		uint8_t t[CAP];
		size_t n = p.len - 20;

		memcpy(t, a + 20, n);
		memcpy(a + 20, b + 40, n);
		memcpy(b + 40, t, n);
	}
	CHECK_EQ(packet_parse(&p, a, p.len), PACKET_OK);
	CHECK_EQ(packet_parse(&q, b, q.len), PACKET_OK);
	CHECK_EQ(seal_open(&k, &p), SEAL_BAD_TAG);
	CHECK_EQ(seal_open(&k, &q), SEAL_BAD_TAG);
	seal_key_wipe(&k);
}

static void
check_keystream_differs_on_retransmission(void)
{
	struct seal_key k;
	uint8_t session[32] = { 2 };
	const char *payload = "the same payload bytes, sent twice";
	uint8_t seg[2][CAP];

	derive(&k, session, 0);
	for (int i = 0; i < 2; i++) {
		uint8_t *a = seg[i];
		size_t plen = strlen(payload), len = 20 + 32 + plen;
		struct packet p;

		memset(a, 0, CAP);
		a[0] = 0x45, a[2] = (uint8_t)(len >> 8), a[3] = (uint8_t)len;
		a[8] = 64, a[9] = 6, a[12] = 10, a[19] = 2;
		a[20 + 12] = 8 << 4, a[20 + 13] = 0x18;
		memcpy(a + 40, "\x01\x01\x08\x0a", 4);
		a[20 + 11] = (uint8_t)i;                 /* only the ack differs */
		memcpy(a + 52, payload, plen);
		CHECK_EQ(packet_parse(&p, a, len), PACKET_OK);
		CHECK_EQ(seal_segment(&k, &p, CAP, NULL), SEAL_OK);
	}
	CHECK(memcmp(seg[0] + 52 + 16, seg[1] + 52 + 16, strlen(payload)) != 0);
	seal_key_wipe(&k);
}

/* memmem without ASan's interceptor, which refuses poisoned bytes. */
__attribute__((no_sanitize("address")))
static int
contains(const uint8_t *hay, size_t len, const uint8_t *key, size_t n)
{
	for (size_t i = 0; i + n <= len; i++)
		if (hay[i] == key[0] && memcmp(hay + i, key, n) == 0)
			return 1;
	return 0;
}

/* Whether the n bytes at key are anywhere in the malloc heap ([heap]). */
static int
in_heap(const uint8_t *key, size_t n)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int found = 0;

	CHECK(f != NULL);
	while (f != NULL && !found && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (strstr(line, "[heap]") == NULL ||
		    sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		found = contains((const uint8_t *)lo, hi - lo, key, n);
	}
	if (f != NULL)
		fclose(f);
	return found;
}

/*
 * seal_key_wipe leaves nothing of any key, and gives back the locked
 * memory its libcrypto contexts took (which is where they are).
 */
static void
check_wipe(void)
{
	static const uint8_t zero[sizeof(struct seal_key)];
	uint8_t session[32] = { 4 };
	size_t before = secmem_in_use();
	struct seal_key k;

	derive(&k, session, 9);
	CHECK(memcmp(k.prf, zero, sizeof(k.prf)) != 0);
	/*
	 * AES-256's key schedule starts with the key itself: none of
	 * libcrypto's copies of K_enc is in ordinary heap.
	 */
	if (suite == SEAL_SUITE_AES) {
		CHECK(secmem_in_use() > before);
		CHECK(!in_heap(k.enc, sizeof(k.enc)));
	}
	seal_key_wipe(&k);
	CHECK_MEM(&k, zero, sizeof(k));
	CHECK_EQ(secmem_in_use(), before);
}

/* An AES key used before seal_key_prepare is refused, not run unkeyed. */
static void
check_unprepared(void)
{
	uint8_t session[32] = { 6 }, a[CAP];
	struct seal_key k;
	struct packet p;
	size_t len = random_segment(a, 100, 0);

	seal_key_derive(&k, session, 2, SEAL_SUITE_AES);
	CHECK_EQ(packet_parse(&p, a, len), PACKET_OK);
	CHECK_EQ(seal_segment(&k, &p, CAP, NULL), SEAL_UNPREPARED);
	CHECK_EQ(p.len, len);
	seal_key_wipe(&k);
}

/* The two suites' keys and tags differ for one session key and segment. */
static void
check_suites_apart(void)
{
	uint8_t session[32] = { 7 }, a[CAP], b[CAP];
	struct seal_key c, x;
	struct packet p, q;
	size_t len = random_segment(a, 200, 0);

	seal_key_derive(&c, session, 1, SEAL_SUITE_CHACHA);
	seal_key_derive(&x, session, 1, SEAL_SUITE_AES);
	CHECK_EQ(seal_key_prepare(&x), 0);
	CHECK(memcmp(c.mac, x.mac, 32) != 0 && memcmp(c.enc, x.enc, 32) != 0);
	memcpy(b, a, len);
	CHECK_EQ(packet_parse(&p, a, len), PACKET_OK);
	CHECK_EQ(packet_parse(&q, b, len), PACKET_OK);
	CHECK_EQ(seal_segment(&c, &p, CAP, NULL), SEAL_OK);
	CHECK_EQ(seal_segment(&x, &q, CAP, NULL), SEAL_OK);
	CHECK(memcmp(a, b, p.len) != 0);
	CHECK_EQ(seal_open(&x, &p), SEAL_BAD_TAG);
	wipe2(&c, &x);
}

int
main(void)
{
	struct vector *v = malloc(sizeof(*v));
	FILE *f = fopen(ZCC_SOURCE_DIR "/docs/PROTOCOL.md", "r");
	int n = 0;

	CHECK_EQ(secmem_install(), 0);     /* before libcrypto allocates */
	CHECK(sodium_init() >= 0);
	CHECK(f != NULL && v != NULL);
	if (f == NULL || v == NULL)
		CHECK_DONE();
	while (read_vector(f, v)) {
		check_vector(v);
		check_tampering(v);
		check_truncation(v);
		check_missing_option(v);
		check_nat(v);
		n++;
	}
	fclose(f);
	free(v);
	CHECK_EQ(n, 13);    /* zccseal2: 3 IPv4, 3 IPv6; zccseal3: one more */
	for (int s = 0; s < SEAL_SUITES; s++) {
		suite = (enum seal_suite)s;
		fprintf(stderr, "suite: %s\n", seal_suite_name(suite));
		check_round_trips(0);
		check_round_trips(1);
		check_families_apart();
		check_keystream_differs_on_retransmission();
		check_wipe();
	}
	check_unprepared();
	check_suites_apart();
	CHECK_EQ(secmem_in_use(), 0);
	CHECK_DONE();
}
