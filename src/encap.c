/* SPDX-License-Identifier: ISC */
/*
 * Encapsulation: whole IP packets sealed with ChaCha20-Poly1305 (IETF) under
 * a counter nonce, and the sliding replay window of RFC 6479 that WireGuard
 * and IPsec use (docs/PROTOCOL.md, "Encapsulation").
 *
 * The nonce is the message counter. A sender's counter starts at 0 for each
 * new key and only grows, and every key belongs to one direction of one
 * session, so no (key, nonce) pair ever seals two messages. The receiver
 * looks at the counter before spending an AEAD on a message, and records it
 * only after the tag verifies: a forged counter costs one comparison or one
 * failed AEAD and changes nothing.
 */
#include <string.h>

#include <sodium.h>

#include "zcc/encap.h"
#include "zcc/packet.h"

#define COUNTER_OFF 4
#define NONCE_LEN crypto_aead_chacha20poly1305_ietf_NPUBBYTES

_Static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == ENCAP_KEY_LEN,
    "AEAD key length");
_Static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == ENCAP_TAG_LEN,
    "AEAD tag length");
_Static_assert(NONCE_LEN == 12, "AEAD nonce length");
_Static_assert(ENCAP_MAX_LEN <= 0x7fffffff, "lengths fit an int");
_Static_assert((ENCAP_REPLAY_WORDS & (ENCAP_REPLAY_WORDS - 1)) == 0,
    "the ring's index wraps with a mask");

/* Not "zcckeys1": no subkey of the in-place or echo keys is ever this one. */
static const char derive_ctx[crypto_kdf_CONTEXTBYTES] = "zccencp1";
#define SUBKEY_ENCAP 1

void
encap_key_derive(struct encap_key *k, const uint8_t session_key[ENCAP_KEY_LEN],
    uint8_t id)
{
	crypto_kdf_derive_from_key(k->k, sizeof(k->k), SUBKEY_ENCAP, derive_ctx,
	    session_key);
	k->id = id;
}

void
encap_tx_init(struct encap_tx *tx, const uint8_t session_key[ENCAP_KEY_LEN],
    uint8_t id)
{
	memset(tx, 0, sizeof(*tx));
	encap_key_derive(&tx->key, session_key, id);
}

void
encap_rx_init(struct encap_rx *rx, const uint8_t session_key[ENCAP_KEY_LEN],
    uint8_t id)
{
	memset(rx, 0, sizeof(*rx));
	encap_key_derive(&rx->key, session_key, id);
}

void
encap_key_wipe(struct encap_key *k)
{
	sodium_memzero(k, sizeof(*k));
}

void
encap_tx_wipe(struct encap_tx *tx)
{
	sodium_memzero(tx, sizeof(*tx));
}

void
encap_rx_wipe(struct encap_rx *rx)
{
	sodium_memzero(rx, sizeof(*rx));
}

/* ---- The replay window ---- */

/*
 * May counter c still be accepted? Any counter above the greatest one seen
 * is; below it, only an unseen one less than ENCAP_WINDOW behind. Every word
 * such a counter maps to still belongs to it: the ring holds the greatest
 * counter's word and the WORDS - 1 before it, which cover ENCAP_WINDOW.
 */
static int
replay_ok(const struct encap_replay *r, uint64_t c)
{
	if (c >= r->top)
		return 1;
	if (r->top - c > ENCAP_WINDOW)
		return 0;       /* greatest - c >= ENCAP_WINDOW: too old */
	return !(r->bits[(c / 64) & (ENCAP_REPLAY_WORDS - 1)] >> (c % 64) & 1);
}

/*
 * Record c, which replay_ok accepted and whose message is authentic. Moving
 * the top forward clears the words the new counter's word and those between
 * it and the old top's word take over from counters a full ring older (at
 * most the whole ring, however far the jump).
 */
static void
replay_mark(struct encap_replay *r, uint64_t c)
{
	uint64_t word = c / 64, old, n;

	if (c >= r->top) {
		old = r->top == 0 ? 0 : (r->top - 1) / 64;  /* empty: all zero */
		n = word - old;
		if (n > ENCAP_REPLAY_WORDS)
			n = ENCAP_REPLAY_WORDS;
		for (uint64_t i = 1; i <= n; i++)
			r->bits[(old + i) & (ENCAP_REPLAY_WORDS - 1)] = 0;
		r->top = c + 1;
	}
	r->bits[word & (ENCAP_REPLAY_WORDS - 1)] |= (uint64_t)1 << (c % 64);
}

/* ---- Messages ---- */

static void
make_nonce(uint8_t nonce[NONCE_LEN], uint64_t counter)
{
	memset(nonce, 0, 4);
	packet_put_le64(nonce + 4, counter);
}

int
encap_seal(struct encap_tx *tx, uint8_t codec, const uint8_t *packet,
    size_t n, uint8_t *out, size_t cap)
{
	uint8_t nonce[NONCE_LEN];
	uint8_t *inner = out + ENCAP_HEADER_LEN;

	if (codec >= ENCAP_CODECS)
		return ENCAP_ERR_CODEC;
	if (n > ENCAP_MAX_PACKET || cap < n + ENCAP_OVERHEAD)
		return ENCAP_ERR_ROOM;
	if (tx->counter >= ENCAP_COUNTER_LIMIT)
		return ENCAP_ERR_EXHAUSTED;

	if (packet != out + ENCAP_PACKET_OFF && n > 0)
		memmove(out + ENCAP_PACKET_OFF, packet, n);
	out[0] = ENCAP_TYPE_DATA;
	out[1] = tx->key.id;
	out[2] = out[3] = 0;
	packet_put_le64(out + COUNTER_OFF, tx->counter);
	inner[0] = codec;
	make_nonce(nonce, tx->counter);
	/* In place: libsodium allows the ciphertext to be the plaintext. */
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(inner,
	    inner + 1 + n, NULL, inner, 1 + n, out, ENCAP_HEADER_LEN, NULL,
	    nonce, tx->key.k);
	tx->counter++;
	return (int)(n + ENCAP_OVERHEAD);
}

int
encap_key_id(const uint8_t *msg, size_t len)
{
	if (len < 2 || msg[0] != ENCAP_TYPE_DATA)
		return -1;
	return msg[1];
}

/* The header's checks, before any key is looked at. */
static int
parse_header(const uint8_t *msg, size_t len, uint64_t *counter)
{
	if (len < ENCAP_OVERHEAD || len > ENCAP_MAX_LEN)
		return ENCAP_ERR_MALFORMED;
	if (msg[0] != ENCAP_TYPE_DATA || msg[2] != 0 || msg[3] != 0)
		return ENCAP_ERR_MALFORMED;
	*counter = packet_get_le64(msg + COUNTER_OFF);
	if (*counter >= ENCAP_COUNTER_LIMIT)
		return ENCAP_ERR_MALFORMED;     /* no sender ever uses it */
	return 0;
}

/* Check the counter, then the tag, under one key; mark only when authentic. */
static int
open_with(struct encap_rx *rx, const uint8_t *msg, size_t len,
    uint64_t counter, uint8_t *out)
{
	uint8_t nonce[NONCE_LEN];
	size_t clen = len - ENCAP_HEADER_LEN - ENCAP_TAG_LEN;

	if (!replay_ok(&rx->replay, counter))
		return ENCAP_ERR_REPLAY;
	make_nonce(nonce, counter);
	/* Verifies the tag (constant time) before it decrypts anything. */
	if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, NULL,
	    msg + ENCAP_HEADER_LEN, clen, msg + len - ENCAP_TAG_LEN,
	    msg, ENCAP_HEADER_LEN, nonce, rx->key.k) != 0)
		return ENCAP_ERR_TAG;
	replay_mark(&rx->replay, counter);
	return 0;
}

int
encap_open(struct encap_rx *const rx[], size_t nrx, const uint8_t *msg,
    size_t len, uint8_t *out, size_t cap, uint8_t *codec, size_t *slot)
{
	uint64_t counter;
	size_t n;
	int ret;

	if ((ret = parse_header(msg, len, &counter)) != 0)
		return ret;
	n = len - ENCAP_OVERHEAD;
	if (cap < n + 1)
		return ENCAP_ERR_ROOM;
	/*
	 * A replay under any key with the id is the verdict, as with one key,
	 * whose counter check comes first; else a bad tag; else no such key.
	 */
	ret = ENCAP_ERR_KEY_ID;
	for (size_t i = 0; i < nrx; i++) {
		int r;

		if (rx[i] == NULL || rx[i]->key.id != msg[1])
			continue;
		if ((r = open_with(rx[i], msg, len, counter, out)) == 0) {
			ret = 0;
			if (slot)
				*slot = i;
			break;
		}
		if (r == ENCAP_ERR_REPLAY || ret != ENCAP_ERR_REPLAY)
			ret = r;
	}
	if (ret != 0)
		return ret;
	/* Authentic, and its counter recorded: the codec is the peer's word. */
	if (out[0] >= ENCAP_CODECS)
		return ENCAP_ERR_CODEC;
	*codec = out[0];
	memmove(out, out + 1, n);
	return (int)n;
}
