/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the handshake messages: the bytes anyone can send
 * to our UDP port. Each input goes to hs_type, hs_receiver_index,
 * hs_init_consume (the responder), hs_resp_consume (an initiator with one
 * pending initiation, made once) and hs_echo_open (both directions' keys),
 * twice: as it came, and with its last 16 bytes replaced by a valid mac1,
 * as a peer holding the link key could send, so that the fuzzer gets past
 * mac1 into the Noise layer. Nothing may crash, and:
 *
 *   - an init accepted must be answerable, and its resp must complete our
 *     pending initiation exactly when it was our own init with our index;
 *   - a resp accepted must give the session keys of the real handshake;
 *   - an echo accepted must be exactly what hs_echo_create makes of its
 *     fields (the tag admits no other bytes);
 *   - an echo made from the input's bytes opens, and with any one bit
 *     changed does not.
 *
 * All of it for two pairs of ends: a shared-key link (the PROTOCOL.md
 * vector's configuration, so test/fuzz/corpus/handshake, made by
 * test/unit/handshake_ref.py --corpus, holds valid messages for it) and a
 * public-key link whose responder holds two keysets, as during a rotation
 * (its init and resp get the mac1 of their receiver's public key).
 */
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <sodium.h>

#include "zcc/handshake.h"

#define IDX_I 0x11223344u
#define IDX_R 0x55667788u
#define KEY_ID 1

/* Two ends of one link, and an initiation of ci's that is never consumed. */
struct pair {
	struct hs_config ci, cr;        /* initiator's and responder's */
	struct hs_state pending;
	struct hs_keys want_i;          /* what completing it gives */
};

static struct pair nn, pk;
static uint8_t e_r[HS_KEY_LEN], ek_i2r[HS_KEY_LEN], ek_r2i[HS_KEY_LEN];
static int ready;

static void
pair_start(struct pair *p)
{
	uint8_t e_i[HS_KEY_LEN], tai[HS_TAI64N_LEN], ts[HS_TAI64N_LEN];
	uint8_t m1[HS_INIT_MAX], m2[HS_RESP_LEN];
	struct hs_state st, str;
	struct hs_keys kr;

	for (int i = 0; i < HS_KEY_LEN; i++)
		e_i[i] = (uint8_t)(0x40 + i);
	p->ci.port = p->cr.port = 7437; /* the corpus is the PROTOCOL.md vector's */
	hs_tai64n(tai, 1700000000, 123456789);
	if (hs_init_create(&p->ci, &p->pending, e_i, IDX_I, KEY_ID, tai, m1) != HS_OK)
		abort();
	st = p->pending;
	if (hs_init_consume(&p->cr, &str, m1, hs_init_len(&p->ci), NULL, ts) != HS_OK ||
	    hs_resp_create(&p->cr, &str, e_r, IDX_R, m2, &kr) != HS_OK ||
	    hs_resp_consume(&p->ci, &st, m2, sizeof(m2), &p->want_i) != HS_OK)
		abort();
}

static void
init_once(void)
{
	uint8_t psk[HS_KEY_LEN], s_i[HS_KEY_LEN], s_r[HS_KEY_LEN], s_new[HS_KEY_LEN];
	uint8_t pub_i[HS_KEY_LEN], pub_r[HS_KEY_LEN];
	struct hs_keyset ks[2];
	struct zcc_addr a, b;

	if (sodium_init() < 0)
		abort();
	for (int i = 0; i < HS_KEY_LEN; i++) {
		psk[i] = (uint8_t)i;
		e_r[i] = (uint8_t)(0x60 + i);
		s_i[i] = (uint8_t)(0xa0 + i);
		s_r[i] = (uint8_t)(0xc0 + i);
		s_new[i] = (uint8_t)(0xe0 + i);
	}
	crypto_scalarmult_base(pub_i, s_i);
	crypto_scalarmult_base(pub_r, s_r);
	addr_parse(&a, "10.0.0.1");
	addr_parse(&b, "10.0.0.2");
	hs_config_init(&nn.ci, psk, &a, &b);
	hs_config_init(&nn.cr, psk, &b, &a);
	pair_start(&nn);
	hs_echo_key(ek_i2r, nn.want_i.send);
	hs_echo_key(ek_r2i, nn.want_i.recv);

	/*
	 * The responder in a rotation: a new key pair first, which the
	 * initiator does not know yet, and the one it knows second.
	 */
	pk = nn;
	if (hs_keyset_init(&ks[0], NULL, s_i, pub_r) != 0)
		abort();
	hs_config_set_keys(&pk.ci, ks, 1);
	if (hs_keyset_init(&ks[0], NULL, s_new, pub_i) != 0 ||
	    hs_keyset_init(&ks[1], NULL, s_r, pub_i) != 0)
		abort();
	hs_config_set_keys(&pk.cr, ks, 2);
	pair_start(&pk);
	ready = 1;
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* The responder's side, and what our pending initiation makes of its answer. */
static void
fuzz_init(struct pair *p, const uint8_t *msg, size_t len)
{
	struct hs_state str, st;
	struct hs_keys kr, ki;
	uint8_t ts[HS_TAI64N_LEN], m2[HS_RESP_LEN];
	int ours, rc;

	if (hs_init_consume(&p->cr, &str, msg, len, p->pending.e_pub, ts) == HS_OK &&
	    memcmp(msg + 8, p->pending.e_pub, HS_KEY_LEN) == 0)
		abort();        /* our own ephemeral: always a reflection */
	if (hs_init_consume(&p->cr, &str, msg, len, NULL, ts) != HS_OK)
		return;
	if (hs_resp_create(&p->cr, &str, e_r, IDX_R, m2, &kr) != HS_OK)
		return;         /* a low-order e from a peer with the key */
	ours = memcmp(msg + 8, p->pending.e_pub, HS_KEY_LEN) == 0 &&
	    le32(msg + 4) == IDX_I;
	st = p->pending;
	rc = hs_resp_consume(&p->ci, &st, m2, sizeof(m2), &ki);
	if (ours != (rc == HS_OK))
		abort();
	if (rc == HS_OK && (memcmp(ki.send, kr.recv, HS_KEY_LEN) != 0 ||
	    memcmp(ki.recv, kr.send, HS_KEY_LEN) != 0 ||
	    memcmp(ki.binding, kr.binding, HS_KEY_LEN) != 0 ||
	    memcmp(ki.send, p->want_i.send, HS_KEY_LEN) != 0))
		abort();
}

static void
fuzz_resp(struct pair *p, const uint8_t *msg, size_t len)
{
	struct hs_state st = p->pending;
	struct hs_keys k;

	if (hs_resp_consume(&p->ci, &st, msg, len, &k) != HS_OK) {
		if (memcmp(&st, &p->pending, sizeof(st)) != 0)
			abort();    /* a refused resp must not touch the state */
		return;
	}
	if (memcmp(k.send, p->want_i.send, HS_KEY_LEN) != 0 ||
	    memcmp(k.recv, p->want_i.recv, HS_KEY_LEN) != 0 ||
	    k.local_index != IDX_I || k.key_id != KEY_ID)
		abort();
}

static void
fuzz_echo_open(const uint8_t *key, const uint8_t *msg, size_t len)
{
	uint8_t again[HS_ECHO_LEN];
	enum hs_type type;
	uint8_t flags;
	uint64_t counter;

	if (hs_echo_open(key, msg, len, &type, &flags, &counter) != HS_OK)
		return;
	hs_echo_create(key, type, flags, hs_receiver_index(msg, len), counter,
	    again);
	if (len != HS_ECHO_LEN || memcmp(again, msg, HS_ECHO_LEN) != 0)
		abort();
}

/* Whatever the bytes, an echo made of them opens, and a changed one does not. */
static void
fuzz_echo_round_trip(const uint8_t *data, size_t size)
{
	uint8_t msg[HS_ECHO_LEN];
	enum hs_type type, want_type;
	uint8_t flags;
	uint64_t counter = 0;
	uint32_t index = 0;
	size_t bit;

	if (size < 13)
		return;
	for (int i = 0; i < 8; i++)
		counter = counter << 8 | data[i];
	index = le32(data + 8);
	want_type = data[12] & 1 ? HS_TYPE_ECHO_REPLY : HS_TYPE_ECHO_REQUEST;
	hs_echo_create(ek_i2r, want_type, 0, index, counter, msg);
	{
		uint64_t got;

		if (hs_echo_open(ek_i2r, msg, sizeof(msg), &type, &flags, &got) != HS_OK ||
		    type != want_type || got != counter ||
		    hs_receiver_index(msg, sizeof(msg)) != index)
			abort();
		if (hs_echo_open(ek_r2i, msg, sizeof(msg), &type, &flags, &got) == HS_OK)
			abort();    /* the other direction's key */
		bit = (data[12] >> 1) % (HS_ECHO_LEN * 8);
		msg[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		if (hs_echo_open(ek_i2r, msg, sizeof(msg), &type, &flags, &got) == HS_OK)
			abort();
	}
}

static void
fuzz_message(const uint8_t *msg, size_t len)
{
	(void)hs_type(msg, len);
	(void)hs_receiver_index(msg, len);
	(void)hs_is_init(msg, len);
	(void)hs_init_ephemeral(msg, len);
	fuzz_init(&nn, msg, len);
	fuzz_resp(&nn, msg, len);
	fuzz_init(&pk, msg, len);
	fuzz_resp(&pk, msg, len);
	fuzz_echo_open(ek_i2r, msg, len);
	fuzz_echo_open(ek_r2i, msg, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (!ready)
		init_once();
	if (size > 4096)
		return 0;
	/* An exact-size heap copy, so ASan sees any read past the end. */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	fuzz_message(copy, size);
	/* As ends holding the keys would send: to each receiver's mac1 key. */
	for (int k = 0; k < 4 && size >= 16; k++) {
		const uint8_t *key = k == 0 ? nn.cr.keys[0].mac1_in :
		    k == 1 ? pk.cr.keys[0].mac1_in : k == 2 ?
		    pk.cr.keys[1].mac1_in : pk.ci.keys[0].mac1_in;

		crypto_generichash(copy + size - 16, 16, copy, size - 16, key,
		    HS_KEY_LEN);
		fuzz_message(copy, size);
	}
	free(copy);
	fuzz_echo_round_trip(data, size);
	return 0;
}
