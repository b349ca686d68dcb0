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
 * The configuration is the PROTOCOL.md vector's, so test/fuzz/corpus/
 * handshake (made by test/unit/handshake_ref.py --corpus) holds valid
 * messages for it.
 */
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <sodium.h>

#include "zcc/handshake.h"

#define IDX_I 0x11223344u
#define IDX_R 0x55667788u
#define KEY_ID 1

static struct hs_config ci, cr;         /* initiator's and responder's */
static struct hs_state pending;         /* ci's initiation, never consumed */
static struct hs_keys want_i;           /* what completing it gives */
static uint8_t e_r[HS_KEY_LEN], ek_i2r[HS_KEY_LEN], ek_r2i[HS_KEY_LEN];
static int ready;

static void
init_once(void)
{
	uint8_t psk[HS_KEY_LEN], e_i[HS_KEY_LEN], tai[HS_TAI64N_LEN], ts[HS_TAI64N_LEN];
	uint8_t m1[HS_INIT_MAX], m2[HS_RESP_LEN];
	struct zcc_addr a, b;
	struct hs_state st, str;
	struct hs_keys kr;

	if (sodium_init() < 0)
		abort();
	for (int i = 0; i < HS_KEY_LEN; i++) {
		psk[i] = (uint8_t)i;
		e_i[i] = (uint8_t)(0x40 + i);
		e_r[i] = (uint8_t)(0x60 + i);
	}
	addr_parse(&a, "10.0.0.1");
	addr_parse(&b, "10.0.0.2");
	hs_config_init(&ci, psk, &a, &b);
	hs_config_init(&cr, psk, &b, &a);
	ci.port = cr.port = 7437;       /* the corpus is the PROTOCOL.md vector's */
	hs_tai64n(tai, 1700000000, 123456789);

	if (hs_init_create(&ci, &pending, e_i, IDX_I, KEY_ID, tai, m1) != HS_OK)
		abort();
	st = pending;
	if (hs_init_consume(&cr, &str, m1, HS_INIT_LEN, NULL, ts) != HS_OK ||
	    hs_resp_create(&cr, &str, e_r, IDX_R, m2, &kr) != HS_OK ||
	    hs_resp_consume(&ci, &st, m2, sizeof(m2), &want_i) != HS_OK)
		abort();
	hs_echo_key(ek_i2r, want_i.send);
	hs_echo_key(ek_r2i, want_i.recv);
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
fuzz_init(const uint8_t *msg, size_t len)
{
	struct hs_state str, st;
	struct hs_keys kr, ki;
	uint8_t ts[HS_TAI64N_LEN], m2[HS_RESP_LEN];
	int ours, rc;

	if (hs_init_consume(&cr, &str, msg, len, pending.e_pub, ts) == HS_OK &&
	    memcmp(msg + 8, pending.e_pub, HS_KEY_LEN) == 0)
		abort();        /* our own ephemeral: always a reflection */
	if (hs_init_consume(&cr, &str, msg, len, NULL, ts) != HS_OK)
		return;
	if (hs_resp_create(&cr, &str, e_r, IDX_R, m2, &kr) != HS_OK)
		return;         /* a low-order e from a peer with the key */
	ours = memcmp(msg + 8, pending.e_pub, HS_KEY_LEN) == 0 &&
	    le32(msg + 4) == IDX_I;
	st = pending;
	rc = hs_resp_consume(&ci, &st, m2, sizeof(m2), &ki);
	if (ours != (rc == HS_OK))
		abort();
	if (rc == HS_OK && (memcmp(ki.send, kr.recv, HS_KEY_LEN) != 0 ||
	    memcmp(ki.recv, kr.send, HS_KEY_LEN) != 0 ||
	    memcmp(ki.send, want_i.send, HS_KEY_LEN) != 0))
		abort();
}

static void
fuzz_resp(const uint8_t *msg, size_t len)
{
	struct hs_state st = pending;
	struct hs_keys k;

	if (hs_resp_consume(&ci, &st, msg, len, &k) != HS_OK) {
		if (memcmp(&st, &pending, sizeof(st)) != 0)
			abort();    /* a refused resp must not touch the state */
		return;
	}
	if (memcmp(k.send, want_i.send, HS_KEY_LEN) != 0 ||
	    memcmp(k.recv, want_i.recv, HS_KEY_LEN) != 0 ||
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
	fuzz_init(msg, len);
	fuzz_resp(msg, len);
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
	if (size >= 16) {
		crypto_generichash(copy + size - 16, 16, copy, size - 16,
		    ci.mac1_key, sizeof(ci.mac1_key));
		fuzz_message(copy, size);
	}
	free(copy);
	fuzz_echo_round_trip(data, size);
	return 0;
}
