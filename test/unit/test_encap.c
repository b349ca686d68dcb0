/* SPDX-License-Identifier: ISC */
/*
 * Encapsulation: the PROTOCOL.md vectors (read from the document, which
 * test/unit/encap_ref.py checks against its own computation), round trips of
 * every size, every tampered byte and truncation refused with the right code,
 * and the replay window: its edges, reordering, jumps, forgeries that must
 * not move it, and a run against a plain model of what it should accept.
 */
#include <stdlib.h>

#include <sodium.h>

#include "check.h"
#include "zcc/encap.h"
#include "zcc/handshake.h"
#include "zcc/seal.h"

#define MAXMSG (ENCAP_MAX_LEN + 64)
#define NVECTORS 3

struct vector {
	char name[128];
	unsigned key_id, codec;
	uint64_t counter;
	uint8_t packet[512], message[512];
	size_t packet_len, message_len;
};

static uint8_t session_key[ENCAP_KEY_LEN], derived[ENCAP_KEY_LEN];
static uint8_t msg[MAXMSG], out[MAXMSG], pkt[MAXMSG];
static uint64_t rng = 0x9e3779b97f4a7c15ull;

/* xorshift64: the same bytes on every run. */
static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
fill(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd();
}

static size_t
unhex(const char *hex, uint8_t *b, size_t cap)
{
	size_t len = 0;

	while (*hex == ' ')
		hex++;
	if (sodium_hex2bin(b, cap, hex, strlen(hex), NULL, &len, NULL) != 0)
		return (size_t)-1;
	return len;
}

/*
 * The next vector of the "encap-" lines; 0 at the end. The session key and
 * its derived key come first and apply to all.
 */
static int
read_vector(FILE *f, struct vector *v)
{
	char line[1024];
	int fields = 0;

	memset(v, 0, sizeof(*v));
	while (fields < 6 && fgets(line, sizeof(line), f)) {
		char *val = strchr(line, ':');

		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "encap-", 6) != 0 || val == NULL)
			continue;
		*val++ = '\0';
		if (strcmp(line, "encap-session-key") == 0)
			CHECK_EQ(unhex(val, session_key, 32), 32);
		else if (strcmp(line, "encap-key") == 0)
			CHECK_EQ(unhex(val, derived, 32), 32);
		else if (strcmp(line, "encap-vector") == 0)
			snprintf(v->name, sizeof(v->name), "%s", val + 1), fields++;
		else if (strcmp(line, "encap-key-id") == 0)
			v->key_id = (unsigned)strtoul(val, NULL, 10), fields++;
		else if (strcmp(line, "encap-counter") == 0)
			v->counter = strtoull(val, NULL, 10), fields++;
		else if (strcmp(line, "encap-codec") == 0)
			v->codec = (unsigned)strtoul(val, NULL, 10), fields++;
		else if (strcmp(line, "encap-packet") == 0)
			fields += (v->packet_len = unhex(val, v->packet,
			    sizeof(v->packet))) != (size_t)-1;
		else if (strcmp(line, "encap-message") == 0)
			fields += (v->message_len = unhex(val, v->message,
			    sizeof(v->message))) != (size_t)-1;
	}
	if (fields != 0 && fields != 6)
		fprintf(stderr, "incomplete vector '%s'\n", v->name);
	return fields == 6;
}

/* Open with one key into out. */
static int
open1(struct encap_rx *rx, const uint8_t *m, size_t len, uint8_t *codec)
{
	struct encap_rx *keys[1] = { rx };
	uint8_t c;

	return encap_open(keys, 1, m, len, out, sizeof(out), codec ? codec : &c, NULL);
}

/* Seal a short packet naming its counter under tx at counter c into m. */
static size_t
seal_at(struct encap_tx *tx, uint64_t c, uint8_t *m)
{
	uint8_t p[28] = { 0x45 };
	int n;

	memcpy(p + 20, &c, sizeof(c));
	tx->counter = c;
	n = encap_seal(tx, ENCAP_CODEC_STORED, p, sizeof(p), m, MAXMSG);
	CHECK_EQ(n, sizeof(p) + ENCAP_OVERHEAD);
	return n < 0 ? 0 : (size_t)n;
}

/* Seal at counter c and open: the verdict. */
static int
deliver(struct encap_tx *tx, struct encap_rx *rx, uint64_t c)
{
	size_t n = seal_at(tx, c, msg);

	return open1(rx, msg, n, NULL);
}

/* The same, with the tag broken: a forgery carrying counter c. */
static int
forge(struct encap_tx *tx, struct encap_rx *rx, uint64_t c)
{
	size_t n = seal_at(tx, c, msg);

	msg[n - 1] ^= 0x20;
	return open1(rx, msg, n, NULL);
}

/* A message made straight with libsodium, any codec byte: the format. */
static size_t
raw_seal(const uint8_t key[32], uint8_t id, uint64_t counter, uint8_t codec,
    const uint8_t *p, size_t n, uint8_t *m)
{
	uint8_t nonce[12] = { 0 };
	unsigned long long clen;

	m[0] = 5, m[1] = id, m[2] = m[3] = 0;
	for (int i = 0; i < 8; i++)
		m[4 + i] = nonce[4 + i] = (uint8_t)(counter >> (8 * i));
	m[12] = codec;
	memcpy(m + 13, p, n);
	crypto_aead_chacha20poly1305_ietf_encrypt(m + 12, &clen, m + 12, 1 + n,
	    m, 12, NULL, nonce, key);
	return 12 + (size_t)clen;
}

static void
pair(struct encap_tx *tx, struct encap_rx *rx, uint8_t seed, uint8_t id)
{
	uint8_t s[ENCAP_KEY_LEN];

	memset(s, seed, sizeof(s));
	encap_tx_init(tx, s, id);
	encap_rx_init(rx, s, id);
}

static void
check_vector(const struct vector *v)
{
	struct encap_tx tx;
	struct encap_rx rx;
	uint8_t codec = 0xee;
	int n;

	fprintf(stderr, "vector: %s\n", v->name);
	encap_tx_init(&tx, session_key, (uint8_t)v->key_id);
	encap_rx_init(&rx, session_key, (uint8_t)v->key_id);
	CHECK_MEM(tx.key.k, derived, 32);
	tx.counter = v->counter;
	n = encap_seal(&tx, (uint8_t)v->codec, v->packet, v->packet_len, msg,
	    sizeof(msg));
	CHECK_EQ(n, v->message_len);
	CHECK_MEM(msg, v->message, v->message_len);
	CHECK_EQ(raw_seal(derived, (uint8_t)v->key_id, v->counter,
	    (uint8_t)v->codec, v->packet, v->packet_len, pkt), v->message_len);
	CHECK_MEM(pkt, v->message, v->message_len);
	CHECK_EQ(encap_key_id(v->message, v->message_len), v->key_id);

	n = open1(&rx, v->message, v->message_len, &codec);
	CHECK_EQ(n, v->packet_len);
	CHECK_EQ(codec, v->codec);
	CHECK_MEM(out, v->packet, v->packet_len);
	CHECK_EQ(open1(&rx, v->message, v->message_len, NULL), ENCAP_ERR_REPLAY);
}

/* What one changed byte of m should give: the header's checks, else the tag. */
static int
flip_verdict(const uint8_t *m, size_t at, uint8_t x, uint8_t id)
{
	uint8_t b = m[at] ^ x;

	if (at == 0 || at == 2 || at == 3)
		return ENCAP_ERR_MALFORMED;
	if (at == 1)
		return b == id ? 0 : ENCAP_ERR_KEY_ID;
	if (at == 11 && b >= 0x10)
		return ENCAP_ERR_MALFORMED;     /* counter >= 2^60 */
	return ENCAP_ERR_TAG;
}

/* Every single-byte change and every truncation refused; the window untouched. */
static void
check_tampering(const struct vector *v)
{
	static const uint8_t xors[] = { 0x01, 0x80, 0xff };
	struct encap_rx rx;
	uint8_t m[sizeof(v->message) + 1];
	size_t len = v->message_len;

	encap_rx_init(&rx, session_key, (uint8_t)v->key_id);
	for (size_t at = 0; at < len; at++)
		for (size_t i = 0; i < sizeof(xors); i++) {
			int want = flip_verdict(v->message, at, xors[i],
			    (uint8_t)v->key_id), got;

			memcpy(m, v->message, len);
			m[at] ^= xors[i];
			got = open1(&rx, m, len, NULL);
			if (got != want)
				fprintf(stderr, "  byte %zu ^ %02x: %d, expected %d\n",
				    at, xors[i], got, want), check_failures++;
		}
	for (size_t n = 0; n < len; n++)
		CHECK_EQ(open1(&rx, v->message, n, NULL),
		    n < ENCAP_OVERHEAD ? ENCAP_ERR_MALFORMED : ENCAP_ERR_TAG);
	memcpy(m, v->message, len);
	m[len] = 0;
	CHECK_EQ(open1(&rx, m, len + 1, NULL), ENCAP_ERR_TAG);
	CHECK_EQ(rx.replay.top, 0);
	CHECK_EQ(open1(&rx, v->message, len, NULL), (int)v->packet_len);
}

/* IPv4 and IPv6 packets of every size class up to 65535 go and come back. */
static void
check_round_trips(void)
{
	struct encap_tx tx;
	struct encap_rx rx;
	uint64_t count = 0;

	pair(&tx, &rx, 0x11, 9);
	for (size_t n = 0; n <= ENCAP_MAX_PACKET; n += n < 1600 ? 1 : 997) {
		uint8_t codec = (uint8_t)(n % ENCAP_CODECS), got = 0xee;
		int len;

		fill(pkt, n);
		if (n > 0)
			pkt[0] = n & 1 ? 0x45 : 0x60;
		len = encap_seal(&tx, codec, pkt, n, msg, sizeof(msg));
		CHECK_EQ(len, n + ENCAP_OVERHEAD);
		CHECK_EQ(tx.counter, ++count);
		if (n >= 16)    /* not in the clear */
			CHECK(memcmp(msg + ENCAP_PACKET_OFF, pkt, n) != 0);
		CHECK_EQ(open1(&rx, msg, (size_t)len, &got), (int)n);
		CHECK_EQ(got, codec);
		CHECK_MEM(out, pkt, n);
	}
	/* The largest, exactly. */
	fill(pkt, ENCAP_MAX_PACKET);
	CHECK_EQ(encap_seal(&tx, 0, pkt, ENCAP_MAX_PACKET, msg, sizeof(msg)),
	    ENCAP_MAX_LEN);
	CHECK_EQ(open1(&rx, msg, ENCAP_MAX_LEN, NULL), ENCAP_MAX_PACKET);
	CHECK_MEM(out, pkt, ENCAP_MAX_PACKET);
	CHECK_EQ(encap_seal(&tx, 0, pkt, ENCAP_MAX_PACKET + 1, msg, sizeof(msg)),
	    ENCAP_ERR_ROOM);
	CHECK_EQ(open1(&rx, msg, ENCAP_MAX_LEN + 1, NULL), ENCAP_ERR_MALFORMED);
}

/* Sealing in place (packet already at ENCAP_PACKET_OFF) gives the same bytes. */
static void
check_in_place(void)
{
	struct encap_tx tx;
	struct encap_rx rx;
	static uint8_t b[2048];

	pair(&tx, &rx, 0x12, 1);
	fill(pkt, 1400);
	tx.counter = 77;
	CHECK_EQ(encap_seal(&tx, 1, pkt, 1400, msg, sizeof(msg)), 1400 + ENCAP_OVERHEAD);
	memcpy(b + ENCAP_PACKET_OFF, pkt, 1400);
	tx.counter = 77;
	CHECK_EQ(encap_seal(&tx, 1, b + ENCAP_PACKET_OFF, 1400, b, sizeof(b)),
	    1400 + ENCAP_OVERHEAD);
	CHECK_MEM(b, msg, 1400 + ENCAP_OVERHEAD);
}

/* Buffers too small, codecs unknown, the counter at its limit. */
static void
check_limits(void)
{
	struct encap_tx tx;
	struct encap_rx rx;
	uint8_t p[100], c = 0;
	size_t n;

	pair(&tx, &rx, 0x13, 4);
	fill(p, sizeof(p));
	memset(msg, 0xaa, 200);
	CHECK_EQ(encap_seal(&tx, 0, p, 100, msg, 100 + ENCAP_OVERHEAD - 1),
	    ENCAP_ERR_ROOM);
	CHECK_EQ(encap_seal(&tx, ENCAP_CODECS, p, 100, msg, sizeof(msg)),
	    ENCAP_ERR_CODEC);
	CHECK_EQ(msg[0], 0xaa);
	CHECK_EQ(tx.counter, 0);

	/* Opening into too small a buffer refuses before touching the window. */
	n = (size_t)encap_seal(&tx, 0, p, 100, msg, sizeof(msg));
	{
		struct encap_rx *keys[1] = { &rx };

		CHECK_EQ(encap_open(keys, 1, msg, n, out, 100, &c, NULL), ENCAP_ERR_ROOM);
		CHECK_EQ(rx.replay.top, 0);
		CHECK_EQ(encap_open(keys, 1, msg, n, out, 101, &c, NULL), 100);
	}

	/* An authentic message with an unknown codec: refused, but recorded. */
	n = raw_seal(tx.key.k, 4, 5, 3, p, 100, msg);
	CHECK_EQ(open1(&rx, msg, n, NULL), ENCAP_ERR_CODEC);
	CHECK_EQ(open1(&rx, msg, n, NULL), ENCAP_ERR_REPLAY);

	/* The last counter seals once; then the key is exhausted. */
	tx.counter = ENCAP_COUNTER_LIMIT - 1;
	n = (size_t)encap_seal(&tx, 0, p, 100, msg, sizeof(msg));
	CHECK_EQ(n, 100 + ENCAP_OVERHEAD);
	CHECK_EQ(open1(&rx, msg, n, NULL), 100);
	memset(msg, 0xaa, 200);
	CHECK_EQ(encap_seal(&tx, 0, p, 100, msg, sizeof(msg)), ENCAP_ERR_EXHAUSTED);
	CHECK_EQ(msg[0], 0xaa);
	CHECK_EQ(tx.counter, ENCAP_COUNTER_LIMIT);
	/* A counter past it, even authentic, is malformed: no sender makes it. */
	n = raw_seal(tx.key.k, 4, ENCAP_COUNTER_LIMIT, 0, p, 100, msg);
	CHECK_EQ(open1(&rx, msg, n, NULL), ENCAP_ERR_MALFORMED);
	n = raw_seal(tx.key.k, 4, UINT64_MAX, 0, p, 100, msg);
	CHECK_EQ(open1(&rx, msg, n, NULL), ENCAP_ERR_MALFORMED);
}

/* Key ids: unknown, none held, NULL slots, and two keys sharing one. */
static void
check_key_ids(void)
{
	struct encap_tx ta, tb;
	struct encap_rx ra, rb, rc;
	struct encap_rx *keys[3];
	uint8_t c;
	size_t n, slot;

	pair(&ta, &ra, 0x21, 1);
	pair(&tb, &rb, 0x22, 1);        /* same id, another session */
	pair(&ta, &rc, 0x21, 2);        /* ta's key under another id */
	ta.key.id = 1;

	n = seal_at(&ta, 0, msg);
	CHECK_EQ(open1(&rc, msg, n, NULL), ENCAP_ERR_KEY_ID);
	CHECK_EQ(encap_open(keys, 0, msg, n, out, sizeof(out), &c, NULL), ENCAP_ERR_KEY_ID);
	keys[0] = NULL, keys[1] = &rc, keys[2] = NULL;
	CHECK_EQ(encap_open(keys, 3, msg, n, out, sizeof(out), &c, NULL), ENCAP_ERR_KEY_ID);
	CHECK_EQ(encap_key_id(msg, n), 1);
	CHECK_EQ(encap_key_id(msg, 1), -1);
	msg[0] = 1;                     /* a handshake message has no key id */
	CHECK_EQ(encap_key_id(msg, n), -1);

	/* tb's message under {ra, rb}: ra fails its tag, rb opens; ra unmoved. */
	keys[0] = &ra, keys[1] = NULL, keys[2] = &rb;
	n = seal_at(&tb, 40, msg);
	slot = 9;
	CHECK_EQ(encap_open(keys, 3, msg, n, out, sizeof(out), &c, &slot), 28);
	CHECK_EQ(slot, 2);              /* rb's: what confirms a session */
	CHECK_EQ(ra.replay.top, 0);
	CHECK_EQ(rb.replay.top, 41);
	/* Replayed: a replay for rb outranks ra's bad tag, in either order. */
	CHECK_EQ(encap_open(keys, 3, msg, n, out, sizeof(out), &c, NULL), ENCAP_ERR_REPLAY);
	keys[0] = &rb, keys[2] = &ra;
	CHECK_EQ(encap_open(keys, 3, msg, n, out, sizeof(out), &c, NULL), ENCAP_ERR_REPLAY);
	keys[0] = &ra, keys[2] = &rb;
	/* ta's message opens under ra, the first. */
	n = seal_at(&ta, 40, msg);
	CHECK_EQ(encap_open(keys, 3, msg, n, out, sizeof(out), &c, &slot), 28);
	CHECK_EQ(slot, 0);
	CHECK_EQ(ra.replay.top, 41);
	/* A forgery under the id fails both: bad tag. */
	n = seal_at(&ta, 50, msg);
	msg[20] ^= 1;
	CHECK_EQ(encap_open(keys, 3, msg, n, out, sizeof(out), &c, NULL), ENCAP_ERR_TAG);
}

/* Each direction, and each other use of a session key, has its own key. */
static void
check_keys_differ(void)
{
	uint8_t k1[32], k2[32], echo[32];
	struct encap_tx t1, t2;
	struct encap_rx r2;
	struct seal_key sk;
	size_t n;

	fill(k1, 32);
	fill(k2, 32);
	encap_tx_init(&t1, k1, 1);
	encap_tx_init(&t2, k2, 1);
	encap_rx_init(&r2, k2, 1);
	CHECK(memcmp(t1.key.k, t2.key.k, 32) != 0);
	CHECK(memcmp(t1.key.k, k1, 32) != 0);
	seal_key_derive(&sk, k1, 1, SEAL_SUITE_CHACHA);
	hs_echo_key(echo, k1);
	CHECK(memcmp(t1.key.k, sk.mac, 32) != 0);
	CHECK(memcmp(t1.key.k, sk.enc, 32) != 0);
	CHECK(memcmp(t1.key.k, echo, 32) != 0);
	/* What one direction seals, the other direction's key does not open. */
	n = seal_at(&t1, 0, msg);
	CHECK_EQ(open1(&r2, msg, n, NULL), ENCAP_ERR_TAG);
	n = seal_at(&t2, 0, msg);
	CHECK_EQ(open1(&r2, msg, n, NULL), 28);
	/* Same packet, same key, the next counter: other bytes throughout. */
	memset(pkt, 0, 64);
	CHECK_EQ(encap_seal(&t2, 0, pkt, 64 - ENCAP_OVERHEAD, msg, 64), 64);
	CHECK_EQ(encap_seal(&t2, 0, pkt, 64 - ENCAP_OVERHEAD, pkt + 64, 64), 64);
	CHECK(memcmp(msg + ENCAP_HEADER_LEN, pkt + 64 + ENCAP_HEADER_LEN,
	    64 - ENCAP_HEADER_LEN) != 0);
	seal_key_wipe(&sk);
}

static void
check_wipe(void)
{
	static const uint8_t zero[sizeof(struct encap_rx)];
	struct encap_tx tx;
	struct encap_rx rx;

	pair(&tx, &rx, 0x31, 7);
	tx.counter = 5;
	rx.replay.top = 9;
	encap_tx_wipe(&tx);
	encap_rx_wipe(&rx);
	CHECK_MEM(&tx, zero, sizeof(tx));
	CHECK_MEM(&rx, zero, sizeof(rx));
	encap_key_derive(&tx.key, zero, 3);
	encap_key_wipe(&tx.key);
	CHECK_MEM(&tx.key, zero, sizeof(tx.key));
}

/* ---- The replay window ---- */

static void
check_replay_basic(void)
{
	struct encap_tx tx;
	struct encap_rx rx;

	/* In order, round the ring three times: every next counter is new. */
	pair(&tx, &rx, 0x40, 1);
	for (uint64_t c = 0; c < 3 * ENCAP_REPLAY_WORDS * 64; c++)
		CHECK_EQ(deliver(&tx, &rx, c), 28);

	pair(&tx, &rx, 0x41, 1);
	for (uint64_t c = 0; c < 3 * ENCAP_WINDOW; c += 3) {
		CHECK_EQ(deliver(&tx, &rx, c), 28);
		CHECK_EQ(deliver(&tx, &rx, c), ENCAP_ERR_REPLAY);
	}
	/* The gaps left behind, still in the window, fill once each. */
	for (uint64_t c = 3 * ENCAP_WINDOW - 300; c < 3 * ENCAP_WINDOW; c++)
		if (c % 3 != 0) {
			CHECK_EQ(deliver(&tx, &rx, c), 28);
			CHECK_EQ(deliver(&tx, &rx, c), ENCAP_ERR_REPLAY);
		}
}

/* A whole window's worth delivered in a random order: each exactly once. */
static void
check_reordering(void)
{
	struct encap_tx tx;
	struct encap_rx rx;
	static uint64_t order[ENCAP_WINDOW];
	const uint64_t base = 1000000;

	pair(&tx, &rx, 0x42, 1);
	for (size_t i = 0; i < ENCAP_WINDOW; i++)
		order[i] = base + i;
	for (size_t i = ENCAP_WINDOW - 1; i > 0; i--) {
		size_t j = (size_t)(rnd() % (i + 1));
		uint64_t t = order[i];

		order[i] = order[j], order[j] = t;
	}
	for (size_t i = 0; i < ENCAP_WINDOW; i++)
		CHECK_EQ(deliver(&tx, &rx, order[i]), 28);
	for (size_t i = 0; i < ENCAP_WINDOW; i += 7)
		CHECK_EQ(deliver(&tx, &rx, order[i]), ENCAP_ERR_REPLAY);
	CHECK_EQ(rx.replay.top, base + ENCAP_WINDOW);
	CHECK_EQ(deliver(&tx, &rx, base - 1), ENCAP_ERR_REPLAY);  /* too old */
}

/* Exactly ENCAP_WINDOW behind is too old; one less is not. */
static void
check_window_edges(void)
{
	struct encap_tx tx;
	struct encap_rx rx;
	const uint64_t g = 100000;

	pair(&tx, &rx, 0x43, 1);
	CHECK_EQ(deliver(&tx, &rx, g), 28);
	CHECK_EQ(deliver(&tx, &rx, g - ENCAP_WINDOW - 1), ENCAP_ERR_REPLAY);
	CHECK_EQ(deliver(&tx, &rx, g - ENCAP_WINDOW), ENCAP_ERR_REPLAY);
	CHECK_EQ(deliver(&tx, &rx, g - ENCAP_WINDOW + 1), 28);
	CHECK_EQ(deliver(&tx, &rx, g - ENCAP_WINDOW + 1), ENCAP_ERR_REPLAY);
	CHECK_EQ(deliver(&tx, &rx, g - 1), 28);
	CHECK_EQ(deliver(&tx, &rx, g + 1), 28);
	CHECK_EQ(deliver(&tx, &rx, g - ENCAP_WINDOW + 1), ENCAP_ERR_REPLAY);

	/* Counter 0 first is a counter like any other. */
	pair(&tx, &rx, 0x44, 1);
	CHECK_EQ(deliver(&tx, &rx, 0), 28);
	CHECK_EQ(deliver(&tx, &rx, 0), ENCAP_ERR_REPLAY);
	CHECK_EQ(deliver(&tx, &rx, ENCAP_WINDOW - 1), 28);
	CHECK_EQ(deliver(&tx, &rx, 1), 28);
	CHECK_EQ(deliver(&tx, &rx, ENCAP_WINDOW), 28);
	CHECK_EQ(deliver(&tx, &rx, 0), ENCAP_ERR_REPLAY);        /* WINDOW behind */
	CHECK_EQ(deliver(&tx, &rx, 1), ENCAP_ERR_REPLAY);        /* seen */
	CHECK_EQ(deliver(&tx, &rx, ENCAP_WINDOW + 2), 28);
	CHECK_EQ(deliver(&tx, &rx, 2), ENCAP_ERR_REPLAY);        /* WINDOW behind */
	CHECK_EQ(deliver(&tx, &rx, 3), 28);                      /* WINDOW - 1 */
}

/*
 * The ring's words are reused: after a move forward, the words that take
 * over must start empty, and the ones still in the window must keep theirs.
 */
static void
check_ring_reuse(void)
{
	struct encap_tx tx;
	struct encap_rx rx;
	const uint64_t top = ENCAP_WINDOW + 64;

	pair(&tx, &rx, 0x45, 1);
	for (uint64_t c = 0; c < ENCAP_WINDOW; c++)
		CHECK_EQ(deliver(&tx, &rx, c), 28);
	/* Two words ahead: the slots of words 0 and 127 now serve 128 and 127. */
	CHECK_EQ(deliver(&tx, &rx, top), 28);
	for (uint64_t c = ENCAP_WINDOW; c < top; c++)
		CHECK_EQ(deliver(&tx, &rx, c), 28);
	for (uint64_t c = top + 1; c < top + 64; c++)
		CHECK_EQ(deliver(&tx, &rx, c), 28);
	for (uint64_t c = 0; c < 2 * 64; c++)       /* older than the window */
		CHECK_EQ(deliver(&tx, &rx, c), ENCAP_ERR_REPLAY);
	for (uint64_t c = 2 * 64; c < top + 64; c += 5)       /* seen */
		CHECK_EQ(deliver(&tx, &rx, c), ENCAP_ERR_REPLAY);
}

/* Far ahead, then back: what the jump left behind is too old. */
static void
check_jump(void)
{
	struct encap_tx tx;
	struct encap_rx rx;
	const uint64_t far = 5 + 1000000000000ull;

	pair(&tx, &rx, 0x46, 1);
	CHECK_EQ(deliver(&tx, &rx, 5), 28);
	CHECK_EQ(deliver(&tx, &rx, 6), 28);
	CHECK_EQ(deliver(&tx, &rx, far), 28);
	CHECK_EQ(deliver(&tx, &rx, 7), ENCAP_ERR_REPLAY);
	CHECK_EQ(deliver(&tx, &rx, far - 1), 28);
	CHECK_EQ(deliver(&tx, &rx, far - ENCAP_WINDOW + 1), 28);
	CHECK_EQ(deliver(&tx, &rx, far - ENCAP_WINDOW), ENCAP_ERR_REPLAY);
	CHECK_EQ(deliver(&tx, &rx, far), ENCAP_ERR_REPLAY);
	CHECK_EQ(deliver(&tx, &rx, ENCAP_COUNTER_LIMIT - 1), 28);
	CHECK_EQ(deliver(&tx, &rx, far + 1), ENCAP_ERR_REPLAY);
}

/* Forged messages (bad tags) never move or mark the window. */
static void
check_forgeries(void)
{
	struct encap_tx tx;
	struct encap_rx rx;
	const uint64_t huge = ENCAP_COUNTER_LIMIT - 2;

	pair(&tx, &rx, 0x47, 1);
	for (uint64_t c = 0; c < 10; c++)
		CHECK_EQ(deliver(&tx, &rx, c), 28);
	CHECK_EQ(forge(&tx, &rx, huge), ENCAP_ERR_TAG);
	CHECK_EQ(rx.replay.top, 10);
	CHECK_EQ(forge(&tx, &rx, 20), ENCAP_ERR_TAG);
	CHECK_EQ(forge(&tx, &rx, 3), ENCAP_ERR_REPLAY);   /* cheap reject first */
	CHECK_EQ(deliver(&tx, &rx, 1), ENCAP_ERR_REPLAY);
	CHECK_EQ(deliver(&tx, &rx, 20), 28);              /* not marked by the forgery */
	CHECK_EQ(deliver(&tx, &rx, 15), 28);              /* window not moved */
	CHECK_EQ(deliver(&tx, &rx, huge), 28);
	CHECK_EQ(deliver(&tx, &rx, 16), ENCAP_ERR_REPLAY);       /* now too old */
}

/*
 * Random deliveries and forgeries against a model that only remembers the
 * set of counters accepted and the greatest.
 */
static void
check_model(void)
{
	enum { RANGE = 1 << 24 };
	struct encap_tx tx;
	struct encap_rx rx;
	uint8_t *seen = calloc(RANGE, 1);
	uint64_t max = 0;
	int any = 0;

	CHECK(seen != NULL);
	if (seen == NULL)
		return;
	pair(&tx, &rx, 0x48, 1);
	for (int i = 0; i < 60000; i++) {
		uint64_t r = rnd(), c;
		int ok, fake = r % 16 == 0;

		if ((r >> 8 & 63) == 0)
			c = max + (r >> 16) % 20000;            /* a jump */
		else if ((r >> 8 & 63) < 16)
			c = max + (r >> 16) % 100;              /* ahead */
		else                                        /* near the edge or in */
			c = max - (r >> 16) % (ENCAP_WINDOW + 200);
		if (c > max && c - max > RANGE)  /* wrapped below zero */
			c = (r >> 16) % 64;
		if (c >= RANGE)
			break;
		ok = !seen[c] && (!any || c > max || max - c < ENCAP_WINDOW);
		if (fake) {
			CHECK_EQ(forge(&tx, &rx, c), ok ? ENCAP_ERR_TAG : ENCAP_ERR_REPLAY);
			continue;
		}
		CHECK_EQ(deliver(&tx, &rx, c), ok ? 28 : ENCAP_ERR_REPLAY);
		if (ok) {
			seen[c] = 1;
			if (!any || c > max)
				max = c;
			any = 1;
		}
	}
	CHECK(max > 10 * ENCAP_WINDOW);
	free(seen);
}

int
main(void)
{
	struct vector *v = malloc(sizeof(*v));
	FILE *f = fopen(ZCC_SOURCE_DIR "/docs/PROTOCOL.md", "r");
	int n = 0;

	CHECK(sodium_init() >= 0);
	CHECK(f != NULL && v != NULL);
	if (f == NULL || v == NULL)
		CHECK_DONE();
	while (read_vector(f, v)) {
		check_vector(v);
		check_tampering(v);
		n++;
	}
	fclose(f);
	free(v);
	CHECK_EQ(n, NVECTORS);
	check_round_trips();
	check_in_place();
	check_limits();
	check_key_ids();
	check_keys_differ();
	check_wipe();
	check_replay_basic();
	check_reordering();
	check_window_edges();
	check_ring_reuse();
	check_jump();
	check_forgeries();
	check_model();
	CHECK_DONE();
}
