/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the encapsulation (data messages, type 5): the bytes
 * anyone can send to our UDP port, and the replay window behind them. Each
 * input is used three ways, each with fresh receive keys:
 *
 *   - as a message, opened with three keys: the PROTOCOL.md vectors' key
 *     under ids 1 and 255, and another session's under id 1 (a shared id).
 *     A message that opens must be exactly what encap_seal makes of its
 *     packet, codec, key and counter, and must not open twice; one that does
 *     not open must leave every window as it was;
 *   - as a packet: sealed, opened, refused when replayed and when a bit
 *     of any header, codec or tag byte, or of the packet, is changed;
 *   - as a script of counters delivered (or forged) against a plain model
 *     of the window: the set of counters accepted and the greatest.
 *
 * The keys are the vectors', so test/fuzz/corpus/encap (made by
 * test/unit/encap_ref.py --corpus) holds messages that open.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "zcc/encap.h"

#define NKEYS 3
#define MAXOPS 1024

static const uint8_t vector_key[ENCAP_KEY_LEN] = {
	0x5a, 0x9a, 0xb3, 0xff, 0xe3, 0x7c, 0x1b, 0xd7, 0x98, 0x31, 0x88, 0x3a,
	0x99, 0x61, 0x90, 0xaf, 0xa1, 0xe6, 0x9a, 0xb5, 0x34, 0x71, 0xb5, 0xd7,
	0x75, 0xb0, 0xd6, 0x98, 0x6c, 0x77, 0x47, 0x21,
};

static struct encap_rx fresh[NKEYS];    /* templates: empty windows */
static uint8_t out[ENCAP_MAX_LEN], msg[ENCAP_MAX_LEN], again[ENCAP_MAX_LEN];
static int ready;

static void
init_once(void)
{
	uint8_t other[ENCAP_KEY_LEN];

	if (sodium_init() < 0)
		abort();
	memset(other, 0x77, sizeof(other));
	encap_rx_init(&fresh[0], vector_key, 1);
	encap_rx_init(&fresh[1], vector_key, 255);
	encap_rx_init(&fresh[2], other, 1);
	ready = 1;
}

static int
open_all(struct encap_rx rx[NKEYS], const uint8_t *m, size_t len, uint8_t *codec)
{
	struct encap_rx *keys[NKEYS] = { &rx[0], &rx[1], &rx[2] };

	return encap_open(keys, NKEYS, m, len, out, sizeof(out), codec, NULL);
}

/* The input as a message from anyone. */
static void
as_message(const uint8_t *data, size_t size)
{
	struct encap_rx rx[NKEYS];
	struct encap_tx tx;
	uint8_t codec = 0;
	int n, opened = -1;

	memcpy(rx, fresh, sizeof(rx));
	n = open_all(rx, data, size, &codec);
	for (int i = 0; i < NKEYS; i++)
		if (rx[i].replay.top != 0) {
			if (opened != -1)
				abort();        /* two keys took one message */
			opened = i;
		}
	if (n < 0 && n != ENCAP_ERR_CODEC) {
		if (opened != -1 || n < ENCAP_ERR_TAG)
			abort();        /* a refusal moved a window, or odd code */
		return;
	}
	if (opened == -1)
		abort();                /* authentic, but nothing recorded */
	if (n == ENCAP_ERR_CODEC)
		return;
	if ((size_t)n != size - ENCAP_OVERHEAD || codec >= ENCAP_CODECS)
		abort();
	/* The tag admits no other bytes: sealing what came out gives the input. */
	tx.key = rx[opened].key;
	tx.counter = rx[opened].replay.top - 1;
	memcpy(again, out, (size_t)n);
	if (encap_seal(&tx, codec, again, (size_t)n, msg, sizeof(msg)) != (int)size ||
	    memcmp(msg, data, size) != 0)
		abort();
	if (open_all(rx, data, size, &codec) != ENCAP_ERR_REPLAY)
		abort();
}

/* Flip one bit of byte at (chosen by the input), open, flip it back. */
static void
flip_refused(struct encap_rx rx[NKEYS], size_t len, size_t at, uint8_t bit)
{
	uint8_t codec;

	msg[at] ^= (uint8_t)(1 << bit % 8);
	if (open_all(rx, msg, len, &codec) >= 0)
		abort();
	msg[at] ^= (uint8_t)(1 << bit % 8);
}

/* The input as a packet: round trip, replay, bits flipped. */
static void
as_packet(const uint8_t *data, size_t size)
{
	struct encap_rx rx[NKEYS];
	struct encap_tx tx = { .key = fresh[0].key };
	uint8_t codec = (uint8_t)(size % ENCAP_CODECS), got = 0xee;
	uint64_t c = size;
	int len;

	if (size > ENCAP_MAX_PACKET)
		size = ENCAP_MAX_PACKET;
	if (size >= 8)
		memcpy(&c, data, 8);
	tx.counter = c % ENCAP_COUNTER_LIMIT;
	len = encap_seal(&tx, codec, data, size, msg, sizeof(msg));
	if (len != (int)(size + ENCAP_OVERHEAD))
		abort();
	memcpy(rx, fresh, sizeof(rx));
	for (size_t i = 0; i < ENCAP_PACKET_OFF; i++)
		flip_refused(rx, (size_t)len, i, size ? data[i % size] : 0);
	for (size_t i = (size_t)len - ENCAP_TAG_LEN; i < (size_t)len; i++)
		flip_refused(rx, (size_t)len, i, (uint8_t)i);
	for (size_t i = 0; i < size && i < 8; i++)
		flip_refused(rx, (size_t)len, ENCAP_PACKET_OFF + data[i] * size / 256,
		    data[size - 1 - i]);
	if (open_all(rx, msg, (size_t)len, &got) != (int)size || got != codec ||
	    memcmp(out, data, size) != 0)
		abort();
	if (open_all(rx, msg, (size_t)len, &got) != ENCAP_ERR_REPLAY)
		abort();
}

/*
 * The input as two-byte steps: the top two bits choose ahead, behind, near
 * the window's edge, or a jump of whole words (forged when odd); the rest is
 * the distance. The model accepts c when it is new and either above the
 * greatest or less than ENCAP_WINDOW below it.
 */
static void
as_script(const uint8_t *data, size_t size)
{
	static uint64_t seen[MAXOPS];
	struct encap_rx rx;
	struct encap_tx tx = { .key = fresh[0].key };
	size_t nseen = 0;
	uint64_t max = 0;

	rx = fresh[0];
	for (size_t i = 0; i + 1 < size && i / 2 < MAXOPS; i += 2) {
		uint64_t d = (uint64_t)(data[i] & 63) << 8 | data[i + 1], c;
		int forged = 0, ok, want, n;

		switch (data[i] >> 6) {
		case 0:
			c = max + 1 + d;
			break;
		case 1:
			c = max - d;
			break;
		case 2:
			c = max - (ENCAP_WINDOW - 32) - d % 64;
			break;
		default:
			c = max + d * 64;
			forged = d & 1;
			break;
		}
		if (c >= ENCAP_COUNTER_LIMIT)
			continue;       /* below 0, or past the limit */
		ok = nseen == 0 || c > max || max - c < ENCAP_WINDOW;
		for (size_t j = 0; ok && j < nseen; j++)
			ok = seen[j] != c;
		tx.counter = c;
		n = encap_seal(&tx, 0, data, 0, msg, sizeof(msg));
		if (forged)
			msg[n - 1] ^= 1;
		want = !ok ? ENCAP_ERR_REPLAY : forged ? ENCAP_ERR_TAG : 0;
		{
			struct encap_rx *keys[1] = { &rx };
			uint8_t codec;

			if (encap_open(keys, 1, msg, (size_t)n, out, sizeof(out),
			    &codec, NULL) != want)
				abort();
		}
		if (want == 0) {
			seen[nseen++] = c;
			if (c > max)
				max = c;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready)
		init_once();
	as_message(data, size);
	as_packet(data, size);
	as_script(data, size);
	return 0;
}
