/* SPDX-License-Identifier: ISC */
/*
 * The handshake (docs/PROTOCOL.md, "Handshake"). Two layers:
 *
 *  - the Noise layer (src/noise.h): Noise_NNpsk0_25519_ChaChaPoly_SHA256 and
 *    Noise_IKpsk2_25519_ChaChaPoly_SHA256 as the Noise spec (rev 34)
 *    defines them, prologue, keys and payload as parameters, checked
 *    against the published Noise vectors;
 *  - the zcc framing around it: type and indices, the mac1 that rejects a
 *    forgery for the price of one hash, the prologue that binds the version,
 *    the payloads (each end's view of the addresses), and the echo messages.
 *
 * Every primitive is libsodium's. Every secret intermediate is wiped on every
 * path; the functions that can fail work on a copy of the state, so a bad
 * message never disturbs a good pending handshake.
 */
#include <string.h>

#include <sodium.h>

#include "zcc/handshake.h"
#include "zcc/packet.h"
#include "noise.h"

#define HASH_LEN crypto_hash_sha256_BYTES
#define MAC1_LEN 16
#define HDR_LEN 4               /* type and three zero bytes */

/* Offsets in the messages (include/zcc/handshake.h). */
#define INIT_SENDER 4
#define INIT_NOISE 8
#define INIT_NOISE_LEN HS_NOISE_MSG_LEN(INIT_PAYLOAD_LEN)
#define INIT_MAC1 (INIT_NOISE + INIT_NOISE_LEN)
#define INIT_PK_NOISE_LEN HS_NOISE_IK1_LEN(INIT_PAYLOAD_LEN)
#define INIT_PAYLOAD_LEN (16 + HS_VIEW_LEN)   /* tai64n 12, key id 1, 3 zero, view */
#define INIT_VIEW 16
#define RESP_SENDER 4
#define RESP_RECEIVER 8
#define RESP_NOISE 12
#define RESP_NOISE_LEN HS_NOISE_MSG_LEN(HS_VIEW_LEN)
#define RESP_MAC1 (RESP_NOISE + RESP_NOISE_LEN)
#define ECHO_RECEIVER 4
#define ECHO_COUNTER 8
#define ECHO_TAG 16

#define PROLOGUE_LEN 16
#define VIEW_SELF 4
#define VIEW_PEER 20

/* Catch a mismatch between the header's lengths and the layout here. */
_Static_assert(INIT_MAC1 + MAC1_LEN == HS_INIT_LEN, "init length");
_Static_assert(RESP_MAC1 + MAC1_LEN == HS_RESP_LEN, "resp length");
_Static_assert(INIT_NOISE + INIT_PK_NOISE_LEN + MAC1_LEN == HS_INIT_PK_LEN,
    "public-key init length");
_Static_assert(ECHO_TAG + crypto_aead_chacha20poly1305_ietf_ABYTES == HS_ECHO_LEN,
    "echo length");
_Static_assert(HASH_LEN == HS_KEY_LEN && crypto_auth_hmacsha256_BYTES == HASH_LEN,
    "Noise HASHLEN");
_Static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12, "Noise nonce");

static const char protocol_name[] = "Noise_NNpsk0_25519_ChaChaPoly_SHA256";
static const char protocol_name_ik[] = "Noise_IKpsk2_25519_ChaChaPoly_SHA256";
static const char prologue_label[PROLOGUE_LEN] = "zcc handshake v2";
static const char mac1_label[] = "zcc mac1 v1";
static const char mac1_label_pk[] = "zcc mac1 pk v1";
static const char echo_ctx[crypto_kdf_CONTEXTBYTES] = "zcckeys1";
#define ECHO_SUBKEY 3           /* of "zcckeys1"; seal.c derives from "zcckeys2" */

static const uint8_t empty[1];  /* a valid pointer for zero-length input */

/* ---- The Noise layer ---- */

/* HMAC-SHA256(key, a || b): Noise's HMAC with HASHLEN-byte keys. */
static void
hmac2(uint8_t out[HASH_LEN], const uint8_t key[HASH_LEN], const uint8_t *a,
    size_t a_len, const uint8_t *b, size_t b_len)
{
	crypto_auth_hmacsha256_state s;

	crypto_auth_hmacsha256_init(&s, key, HASH_LEN);
	crypto_auth_hmacsha256_update(&s, a, a_len);
	crypto_auth_hmacsha256_update(&s, b, b_len);
	crypto_auth_hmacsha256_final(&s, out);
	sodium_memzero(&s, sizeof(s));
}

/*
 * Noise's HKDF(ck, ikm) with two or three outputs (out3 may be NULL). out1
 * may be ck itself: ck is read only before out1 is written.
 */
static void
hkdf(uint8_t out1[HASH_LEN], uint8_t out2[HASH_LEN], uint8_t *out3,
    const uint8_t ck[HASH_LEN], const uint8_t *ikm, size_t ikm_len)
{
	static const uint8_t one = 1, two = 2, three = 3;
	uint8_t temp_key[HASH_LEN];

	hmac2(temp_key, ck, ikm, ikm_len, empty, 0);
	hmac2(out1, temp_key, &one, 1, empty, 0);
	hmac2(out2, temp_key, out1, HASH_LEN, &two, 1);
	if (out3 != NULL)
		hmac2(out3, temp_key, out2, HASH_LEN, &three, 1);
	sodium_memzero(temp_key, sizeof(temp_key));
}

/* MixHash(data): h = HASH(h || data). */
static void
mix_hash(struct hs_state *st, const uint8_t *data, size_t len)
{
	crypto_hash_sha256_state s;

	crypto_hash_sha256_init(&s);
	crypto_hash_sha256_update(&s, st->h, sizeof(st->h));
	crypto_hash_sha256_update(&s, data, len);
	crypto_hash_sha256_final(&s, st->h);
	sodium_memzero(&s, sizeof(s));
}

/* MixKey(ikm): ck, k = HKDF(ck, ikm, 2); the nonce starts at 0 again. */
static void
mix_key(struct hs_state *st, const uint8_t *ikm, size_t len)
{
	hkdf(st->ck, st->k, NULL, st->ck, ikm, len);
}

/* MixKeyAndHash(psk): ck, temp_h, k = HKDF(ck, psk, 3); MixHash(temp_h). */
static void
mix_key_and_hash(struct hs_state *st, const uint8_t psk[HS_KEY_LEN])
{
	uint8_t temp_h[HASH_LEN];

	hkdf(st->ck, temp_h, st->k, st->ck, psk, HS_KEY_LEN);
	mix_hash(st, temp_h, sizeof(temp_h));
	sodium_memzero(temp_h, sizeof(temp_h));
}

static void
noise_nonce(uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES], uint64_t n)
{
	memset(nonce, 0, 4);
	packet_put_le64(nonce + 4, n);
}

void
hs_noise_encrypt(const uint8_t k[HS_KEY_LEN], uint64_t n, const uint8_t *ad,
    size_t ad_len, const uint8_t *pt, size_t len, uint8_t *out)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];

	noise_nonce(nonce, n);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, len ? pt : empty, len,
	    ad_len ? ad : empty, ad_len, NULL, nonce, k);
}

int
hs_noise_decrypt(const uint8_t k[HS_KEY_LEN], uint64_t n, const uint8_t *ad,
    size_t ad_len, const uint8_t *ct, size_t len, uint8_t *out)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];

	if (len < HS_NOISE_TAG_LEN)
		return HS_ERR_DECRYPT;
	noise_nonce(nonce, n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, ct, len,
	    ad_len ? ad : empty, ad_len, nonce, k) != 0)
		return HS_ERR_DECRYPT;
	return HS_OK;
}

/* EncryptAndHash(payload): out = ENCRYPT(k, 0, h, payload); MixHash(out). */
static void
encrypt_and_hash(struct hs_state *st, const uint8_t *pt, size_t len, uint8_t *out)
{
	hs_noise_encrypt(st->k, 0, st->h, sizeof(st->h), pt, len, out);
	mix_hash(st, out, len + HS_NOISE_TAG_LEN);
}

/* DecryptAndHash(ct): the payload, then MixHash(ct). */
static int
decrypt_and_hash(struct hs_state *st, const uint8_t *ct, size_t len, uint8_t *out)
{
	if (hs_noise_decrypt(st->k, 0, st->h, sizeof(st->h), ct, len, out) != HS_OK)
		return HS_ERR_DECRYPT;
	mix_hash(st, ct, len);
	return HS_OK;
}

/* DH(priv, pub), refusing the all-zero result of a low-order point. */
static int
dh(uint8_t out[HS_NOISE_DH_LEN], const uint8_t priv[HS_KEY_LEN],
    const uint8_t pub[HS_KEY_LEN])
{
	if (crypto_scalarmult(out, priv, pub) != 0 ||
	    sodium_is_zero(out, HS_NOISE_DH_LEN)) {
		sodium_memzero(out, HS_NOISE_DH_LEN);
		return HS_ERR_DH;
	}
	return HS_OK;
}

/* The e token, ours: keep the pair, send e.pub, MixHash and (psk) MixKey. */
static int
write_e(struct hs_state *st, const uint8_t e_priv[HS_KEY_LEN], uint8_t *out)
{
	memcpy(st->e_priv, e_priv, HS_KEY_LEN);
	if (crypto_scalarmult_base(st->e_pub, st->e_priv) != 0)
		return HS_ERR_DH;
	memcpy(out, st->e_pub, HS_KEY_LEN);
	mix_hash(st, st->e_pub, HS_KEY_LEN);
	mix_key(st, st->e_pub, HS_KEY_LEN);
	return HS_OK;
}

/* The e token, theirs. */
static void
read_e(struct hs_state *st, const uint8_t *msg)
{
	memcpy(st->re, msg, HS_KEY_LEN);
	mix_hash(st, st->re, HS_KEY_LEN);
	mix_key(st, st->re, HS_KEY_LEN);
}

/* A DH token (ee, es, se, ss): MixKey(DH(priv, pub)). */
static int
mix_dh(struct hs_state *st, const uint8_t priv[HS_KEY_LEN],
    const uint8_t pub[HS_KEY_LEN])
{
	uint8_t shared[HS_NOISE_DH_LEN];
	int rc;

	rc = dh(shared, priv, pub);
	if (rc == HS_OK)
		mix_key(st, shared, sizeof(shared));
	sodium_memzero(shared, sizeof(shared));
	return rc;
}

/* The ee token: MixKey(DH(e, re)), the same at both ends. */
static int
mix_ee(struct hs_state *st)
{
	return mix_dh(st, st->e_priv, st->re);
}

static void
initialize(struct hs_state *st, const char *name, const uint8_t *prologue,
    size_t prologue_len)
{
	/* Both names are longer than HASHLEN, so h = HASH(name). */
	crypto_hash_sha256(st->h, (const uint8_t *)name, strlen(name));
	memcpy(st->ck, st->h, HASH_LEN);
	sodium_memzero(st->k, sizeof(st->k));
	mix_hash(st, prologue_len ? prologue : empty, prologue_len);
}

void
hs_noise_start(struct hs_state *st, const uint8_t *prologue, size_t prologue_len)
{
	initialize(st, protocol_name, prologue, prologue_len);
}

void
hs_noise_ik_start(struct hs_state *st, const uint8_t *prologue,
    size_t prologue_len, const uint8_t rs_pub[HS_KEY_LEN])
{
	initialize(st, protocol_name_ik, prologue, prologue_len);
	mix_hash(st, rs_pub, HS_KEY_LEN);
}

int
hs_noise_write1(struct hs_state *st, const uint8_t psk[HS_KEY_LEN],
    const uint8_t e_priv[HS_KEY_LEN], const uint8_t *payload, size_t len,
    uint8_t *out)
{
	int rc;

	mix_key_and_hash(st, psk);
	if ((rc = write_e(st, e_priv, out)) != HS_OK)
		return rc;
	encrypt_and_hash(st, payload, len, out + HS_NOISE_DH_LEN);
	return HS_OK;
}

int
hs_noise_read1(struct hs_state *st, const uint8_t psk[HS_KEY_LEN],
    const uint8_t *msg, size_t len, uint8_t *payload)
{
	if (len < HS_NOISE_MSG_LEN(0))
		return HS_ERR_SHORT;
	mix_key_and_hash(st, psk);
	read_e(st, msg);
	return decrypt_and_hash(st, msg + HS_NOISE_DH_LEN, len - HS_NOISE_DH_LEN,
	    payload);
}

int
hs_noise_write2(struct hs_state *st, const uint8_t e_priv[HS_KEY_LEN],
    const uint8_t *payload, size_t len, uint8_t *out)
{
	int rc;

	if ((rc = write_e(st, e_priv, out)) != HS_OK)
		return rc;
	if ((rc = mix_ee(st)) != HS_OK)
		return rc;
	encrypt_and_hash(st, payload, len, out + HS_NOISE_DH_LEN);
	return HS_OK;
}

int
hs_noise_read2(struct hs_state *st, const uint8_t *msg, size_t len,
    uint8_t *payload)
{
	int rc;

	if (len < HS_NOISE_MSG_LEN(0))
		return HS_ERR_SHORT;
	read_e(st, msg);
	if ((rc = mix_ee(st)) != HS_OK)
		return rc;
	return decrypt_and_hash(st, msg + HS_NOISE_DH_LEN, len - HS_NOISE_DH_LEN,
	    payload);
}

int
hs_noise_ik_write1(struct hs_state *st, const uint8_t s_priv[HS_KEY_LEN],
    const uint8_t rs[HS_KEY_LEN], const uint8_t e_priv[HS_KEY_LEN],
    const uint8_t *payload, size_t len, uint8_t *out)
{
	uint8_t s_pub[HS_KEY_LEN];
	int rc;

	memcpy(st->s_priv, s_priv, HS_KEY_LEN);
	memcpy(st->rs, rs, HS_KEY_LEN);
	if ((rc = write_e(st, e_priv, out)) != HS_OK ||
	    (rc = mix_dh(st, st->e_priv, st->rs)) != HS_OK)         /* es */
		return rc;
	if (crypto_scalarmult_base(s_pub, st->s_priv) != 0)
		return HS_ERR_DH;
	encrypt_and_hash(st, s_pub, HS_KEY_LEN, out + HS_NOISE_DH_LEN);
	if ((rc = mix_dh(st, st->s_priv, st->rs)) != HS_OK)          /* ss */
		return rc;
	encrypt_and_hash(st, payload, len,
	    out + 2 * HS_NOISE_DH_LEN + HS_NOISE_TAG_LEN);
	return HS_OK;
}

int
hs_noise_ik_read1(struct hs_state *st, const uint8_t s_priv[HS_KEY_LEN],
    const uint8_t *msg, size_t len, uint8_t *payload)
{
	const uint8_t *enc_s = msg + HS_NOISE_DH_LEN;
	int rc;

	if (len < HS_NOISE_IK1_LEN(0))
		return HS_ERR_SHORT;
	memcpy(st->s_priv, s_priv, HS_KEY_LEN);
	read_e(st, msg);
	if ((rc = mix_dh(st, st->s_priv, st->re)) != HS_OK)          /* es */
		return rc;
	if ((rc = decrypt_and_hash(st, enc_s, HS_KEY_LEN + HS_NOISE_TAG_LEN,
	    st->rs)) != HS_OK)
		return rc;
	if ((rc = mix_dh(st, st->s_priv, st->rs)) != HS_OK)          /* ss */
		return rc;
	return decrypt_and_hash(st, enc_s + HS_KEY_LEN + HS_NOISE_TAG_LEN,
	    len - HS_NOISE_IK1_LEN(0) + HS_NOISE_TAG_LEN, payload);
}

int
hs_noise_ik_write2(struct hs_state *st, const uint8_t e_priv[HS_KEY_LEN],
    const uint8_t psk[HS_KEY_LEN], const uint8_t *payload, size_t len,
    uint8_t *out)
{
	int rc;

	if ((rc = write_e(st, e_priv, out)) != HS_OK ||
	    (rc = mix_ee(st)) != HS_OK ||
	    (rc = mix_dh(st, st->e_priv, st->rs)) != HS_OK)          /* se */
		return rc;
	mix_key_and_hash(st, psk);
	encrypt_and_hash(st, payload, len, out + HS_NOISE_DH_LEN);
	return HS_OK;
}

int
hs_noise_ik_read2(struct hs_state *st, const uint8_t psk[HS_KEY_LEN],
    const uint8_t *msg, size_t len, uint8_t *payload)
{
	int rc;

	if (len < HS_NOISE_MSG_LEN(0))
		return HS_ERR_SHORT;
	read_e(st, msg);
	if ((rc = mix_ee(st)) != HS_OK ||
	    (rc = mix_dh(st, st->s_priv, st->re)) != HS_OK)          /* se */
		return rc;
	mix_key_and_hash(st, psk);
	return decrypt_and_hash(st, msg + HS_NOISE_DH_LEN, len - HS_NOISE_DH_LEN,
	    payload);
}

void
hs_noise_split(const struct hs_state *st, uint8_t k1[HS_KEY_LEN],
    uint8_t k2[HS_KEY_LEN])
{
	hkdf(k1, k2, NULL, st->ck, empty, 0);
}

/* ---- The zcc framing ---- */

/* BLAKE2b-256(label || a || b): mac1's keys, apart from every other use. */
static void
mac1_key(uint8_t out[HS_KEY_LEN], const char *label, const uint8_t *a,
    const uint8_t *b)
{
	crypto_generichash_state s;

	crypto_generichash_init(&s, NULL, 0, HS_KEY_LEN);
	crypto_generichash_update(&s, (const uint8_t *)label, strlen(label));
	crypto_generichash_update(&s, a, HS_KEY_LEN);
	if (b != NULL)
		crypto_generichash_update(&s, b, HS_KEY_LEN);
	crypto_generichash_final(&s, out, HS_KEY_LEN);
	sodium_memzero(&s, sizeof(s));
}

int
hs_keyset_init(struct hs_keyset *ks, const uint8_t *psk, const uint8_t *priv,
    const uint8_t *peer_pub)
{
	memset(ks, 0, sizeof(*ks));
	if (psk != NULL)
		memcpy(ks->psk, psk, HS_KEY_LEN);
	if (priv == NULL) {
		mac1_key(ks->mac1_in, mac1_label, ks->psk, NULL);
		memcpy(ks->mac1_out, ks->mac1_in, HS_KEY_LEN);
		return 0;
	}
	ks->public_keys = 1;
	memcpy(ks->priv, priv, HS_KEY_LEN);
	memcpy(ks->peer_pub, peer_pub, HS_KEY_LEN);
	/* A low-order peer key would make every DH with it all zero. */
	if (crypto_scalarmult_base(ks->pub, ks->priv) != 0 ||
	    sodium_is_zero(ks->peer_pub, HS_KEY_LEN)) {
		sodium_memzero(ks, sizeof(*ks));
		return -1;
	}
	/* Keyed by the receiver's public key, and the shared key if any. */
	mac1_key(ks->mac1_in, mac1_label_pk, ks->pub, ks->psk);
	mac1_key(ks->mac1_out, mac1_label_pk, ks->peer_pub, ks->psk);
	return 0;
}

void
hs_config_init(struct hs_config *c, const uint8_t psk[HS_KEY_LEN],
    const struct zcc_addr *local, const struct zcc_addr *peer)
{
	memset(c, 0, sizeof(*c));
	hs_keyset_init(&c->keys[0], psk, NULL, NULL);
	c->nkeys = 1;
	c->local = *local;
	c->peer = *peer;
}

void
hs_config_set_keys(struct hs_config *c, const struct hs_keyset *sets, size_t n)
{
	sodium_memzero(c->keys, sizeof(c->keys));
	c->nkeys = n < HS_KEYSETS ? n : HS_KEYSETS;
	memcpy(c->keys, sets, c->nkeys * sizeof(*sets));
	c->use = 0;
}

void
hs_config_wipe(struct hs_config *c)
{
	sodium_memzero(c, sizeof(*c));
}

size_t
hs_init_len(const struct hs_config *c)
{
	return c->keys[c->use].public_keys ? HS_INIT_PK_LEN : HS_INIT_LEN;
}

/*
 * The prologue is the version label alone: the addresses travel in the
 * payloads as each end's view, since a NAT makes the two ends' views of
 * the same link differ (PROTOCOL.md, "Views and NAT"). A public-key
 * handshake then hashes the responder's static key (IK's pre-message).
 */
static void
start(struct hs_state *st, int initiator, const struct hs_keyset *ks,
    size_t keyset)
{
	memset(st, 0, sizeof(*st));
	st->initiator = initiator;
	st->keyset = keyset;
	st->public_keys = ks->public_keys;
	memcpy(st->psk, ks->psk, HS_KEY_LEN);
	/* The resp is checked (initiator) or made (responder) with this. */
	memcpy(st->mac1, initiator ? ks->mac1_in : ks->mac1_out, HS_KEY_LEN);
	if (ks->public_keys)
		hs_noise_ik_start(st, (const uint8_t *)prologue_label,
		    PROLOGUE_LEN, initiator ? ks->peer_pub : ks->pub);
	else
		hs_noise_start(st, (const uint8_t *)prologue_label, PROLOGUE_LEN);
}

/* Our view: family (4 or 6), 0, port, our address, the peer's (padded). */
static void
put_view(uint8_t out[HS_VIEW_LEN], const struct hs_config *c)
{
	memset(out, 0, HS_VIEW_LEN);
	out[0] = c->local.af == AF_INET6 ? 6 : 4;
	out[2] = (uint8_t)(c->port >> 8);
	out[3] = (uint8_t)c->port;
	memcpy(out + VIEW_SELF, c->local.a, addr_len(&c->local));
	memcpy(out + VIEW_PEER, c->peer.a, addr_len(&c->peer));
}

/*
 * The peer's view, of our family with nothing in the padding; and not our
 * own view sent back (a reflection that got past the ephemeral check).
 * HS_OK, HS_ERR_DECRYPT (authentic, not this version's), HS_ERR_REFLECTED.
 */
static int
get_view(struct hs_view *v, const uint8_t in[HS_VIEW_LEN],
    const struct hs_config *c)
{
	int af = c->local.af;
	size_t n = af == AF_INET6 ? 16 : 4;

	if (in[0] != (af == AF_INET6 ? 6 : 4) || in[1] != 0 ||
	    !sodium_is_zero(in + VIEW_SELF + n, 16 - n) ||
	    !sodium_is_zero(in + VIEW_PEER + n, 16 - n))
		return HS_ERR_DECRYPT;
	addr_set(&v->self, af, in + VIEW_SELF);
	addr_set(&v->peer, af, in + VIEW_PEER);
	v->port = (uint16_t)(in[2] << 8 | in[3]);
	if (addr_equal(&v->self, &c->local) && addr_equal(&v->peer, &c->peer))
		return HS_ERR_REFLECTED;
	return HS_OK;
}

static void
mac1(uint8_t out[MAC1_LEN], const uint8_t key[HS_KEY_LEN], const uint8_t *msg,
    size_t len)
{
	crypto_generichash(out, MAC1_LEN, msg, len, key, HS_KEY_LEN);
}

/* The last MAC1_LEN bytes of msg, compared in constant time. */
static int
mac1_ok(const uint8_t key[HS_KEY_LEN], const uint8_t *msg, size_t len)
{
	uint8_t want[MAC1_LEN];
	int ok;

	mac1(want, key, msg, len - MAC1_LEN);
	ok = crypto_verify_16(want, msg + len - MAC1_LEN) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}

static int
is_offer(int type)
{
	return type == HS_TYPE_INIT || type == HS_TYPE_RESP ||
	    type == HS_TYPE_INIT_PK || type == HS_TYPE_RESP_PK;
}

/*
 * A message of this type and length: header type, codec, ports digest (2,
 * big-endian). An init or resp offers its codec and says its ports'
 * digest; an echo has flags and 0, 0.
 */
static int
framed(const uint8_t *msg, size_t len, enum hs_type type, size_t want)
{
	if (msg == NULL || len != want || msg[0] != type)
		return 0;
	if (is_offer(type))     /* suites this build does not know are not chosen */
		return (msg[1] & HS_CODEC_MASK) < HS_CODECS;
	return (msg[1] & ~HS_ECHO_FLAGS) == 0 && msg[2] == 0 && msg[3] == 0;
}

static void
put_header(uint8_t *out, enum hs_type type, uint8_t byte1, uint16_t digest)
{
	out[0] = (uint8_t)type;
	out[1] = byte1;
	out[2] = (uint8_t)(digest >> 8);
	out[3] = (uint8_t)digest;
}

/* Byte 1 of an init or resp: our codec, and the suites beyond zccseal2. */
static uint8_t
offer(const struct hs_config *c)
{
	return (uint8_t)(c->codec | (c->suites >> 1) << HS_SUITES_SHIFT);
}

/* The suites byte 1 offers: zccseal2 always, the rest from its high bits. */
static uint8_t
offered_suites(const uint8_t *msg)
{
	return (uint8_t)((msg[1] >> HS_SUITES_SHIFT) << 1 | 1);
}

uint16_t
hs_ports_digest(const uint16_t *ports, size_t n)
{
	uint8_t seen[65536 / 8] = { 0 }, h[2];
	crypto_generichash_state s;
	uint16_t d;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		seen[ports[i] / 8] |= (uint8_t)(1 << ports[i] % 8);
	/* The set, not the order nor repeats: a bitmap of the ports, hashed. */
	crypto_generichash_init(&s, NULL, 0, sizeof(h));
	crypto_generichash_update(&s, (const uint8_t *)"zcc ports", 9);
	crypto_generichash_update(&s, seen, sizeof(seen));
	crypto_generichash_final(&s, h, sizeof(h));
	d = (uint16_t)(h[0] << 8 | h[1]);
	return d ? d : 1;
}

int
hs_type(const uint8_t *msg, size_t len)
{
	if (msg == NULL || len < HDR_LEN)
		return -1;
	return msg[0];
}

int
hs_is_init(const uint8_t *msg, size_t len)
{
	int t = hs_type(msg, len);

	return t == HS_TYPE_INIT || t == HS_TYPE_INIT_PK;
}

const uint8_t *
hs_init_ephemeral(const uint8_t *msg, size_t len)
{
	static const uint8_t none[HS_KEY_LEN];

	/* e comes first in either pattern. */
	return len == HS_INIT_LEN || len == HS_INIT_PK_LEN ? msg + INIT_NOISE : none;
}

uint32_t
hs_receiver_index(const uint8_t *msg, size_t len)
{
	switch (hs_type(msg, len)) {
	case HS_TYPE_RESP:
	case HS_TYPE_RESP_PK:
		return len == HS_RESP_LEN ? packet_get_le32(msg + RESP_RECEIVER) : 0;
	case HS_TYPE_ECHO_REQUEST:
	case HS_TYPE_ECHO_REPLY:
		return len == HS_ECHO_LEN ? packet_get_le32(msg + ECHO_RECEIVER) : 0;
	default:
		return 0;
	}
}

int
hs_init_create(const struct hs_config *c, struct hs_state *st,
    const uint8_t e_priv[HS_KEY_LEN], uint32_t local_index, uint8_t key_id,
    const uint8_t tai64n[HS_TAI64N_LEN], uint8_t out[HS_INIT_MAX])
{
	const struct hs_keyset *ks = &c->keys[c->use];
	size_t len = hs_init_len(c);
	struct hs_state s;
	uint8_t payload[INIT_PAYLOAD_LEN] = { 0 };
	int rc;

	start(&s, 1, ks, c->use);
	s.local_index = local_index;
	s.key_id = key_id;
	s.suites = c->suites;   /* agreed on what this init says, not on a
	                           later SIGHUP's (link.c) */
	memcpy(payload, tai64n, HS_TAI64N_LEN);
	payload[HS_TAI64N_LEN] = key_id;        /* then 3 zero bytes */
	put_view(payload + INIT_VIEW, c);

	put_header(out, ks->public_keys ? HS_TYPE_INIT_PK : HS_TYPE_INIT,
	    offer(c), c->ports_digest);
	packet_put_le32(out + INIT_SENDER, local_index);
	if (ks->public_keys)
		rc = hs_noise_ik_write1(&s, ks->priv, ks->peer_pub, e_priv,
		    payload, sizeof(payload), out + INIT_NOISE);
	else
		rc = hs_noise_write1(&s, ks->psk, e_priv, payload,
		    sizeof(payload), out + INIT_NOISE);
	if (rc != HS_OK) {
		sodium_memzero(out, len);
		goto out;
	}
	mac1(out + len - MAC1_LEN, ks->mac1_out, out, len - MAC1_LEN);
	*st = s;
out:
	sodium_memzero(&s, sizeof(s));
	sodium_memzero(payload, sizeof(payload));
	return rc;
}

/*
 * The responder's half of an init under one keyset whose mac1 it passed.
 * s gets the state; HS_ERR_PEER_KEY leaves the key it carried in
 * s->peer_static.
 */
static int
read_init(const struct hs_config *c, size_t keyset, struct hs_state *s,
    const uint8_t *msg, size_t len, uint8_t payload[INIT_PAYLOAD_LEN])
{
	const struct hs_keyset *ks = &c->keys[keyset];
	size_t noise_len = len - INIT_NOISE - MAC1_LEN;
	int rc;

	start(s, 0, ks, keyset);
	if (!ks->public_keys)
		return hs_noise_read1(s, ks->psk, msg + INIT_NOISE, noise_len,
		    payload);
	rc = hs_noise_ik_read1(s, ks->priv, msg + INIT_NOISE, noise_len, payload);
	if (rc == HS_OK && sodium_memcmp(s->rs, ks->peer_pub, HS_KEY_LEN) != 0) {
		memcpy(s->peer_static, s->rs, HS_KEY_LEN);
		rc = HS_ERR_PEER_KEY;
	}
	return rc;
}

/* The init's payload and header, once authentic, into s. */
static int
take_init(const struct hs_config *c, struct hs_state *s, const uint8_t *msg,
    const uint8_t payload[INIT_PAYLOAD_LEN])
{
	int rc;

	/* Reserved, must be zero: authentic but not this version's payload. */
	if (!sodium_is_zero(payload + HS_TAI64N_LEN + 1, 3))
		return HS_ERR_DECRYPT;
	if ((rc = get_view(&s->peer_view, payload + INIT_VIEW, c)) != HS_OK)
		return rc;
	s->remote_index = packet_get_le32(msg + INIT_SENDER);
	s->key_id = payload[HS_TAI64N_LEN];
	s->peer_codec = msg[1] & HS_CODEC_MASK;
	s->peer_suites = offered_suites(msg);
	s->peer_ports = (uint16_t)(msg[2] << 8 | msg[3]);
	return HS_OK;
}

/* Of two failures, the one that says more: past mac1 beats a bad mac1. */
static int
worse(int a, int b)
{
	return a == HS_ERR_MAC ? b : a;
}

int
hs_init_consume(const struct hs_config *c, struct hs_state *st,
    const uint8_t *msg, size_t len, const uint8_t *pending_e,
    uint8_t tai64n[HS_TAI64N_LEN])
{
	int pk = hs_type(msg, len) == HS_TYPE_INIT_PK;
	struct hs_state s;
	uint8_t payload[INIT_PAYLOAD_LEN], seen[HS_KEY_LEN] = { 0 };
	int rc = HS_ERR_MAC, r;

	/* The cheap checks first: a forgery costs one BLAKE2b per keyset. */
	if (!framed(msg, len, pk ? HS_TYPE_INIT_PK : HS_TYPE_INIT,
	    pk ? HS_INIT_PK_LEN : HS_INIT_LEN))
		return HS_ERR_SHORT;
	if (pending_e != NULL &&
	    sodium_memcmp(msg + INIT_NOISE, pending_e, HS_KEY_LEN) == 0)
		return HS_ERR_REFLECTED;
	for (size_t i = 0; i < c->nkeys; i++) {
		if (c->keys[i].public_keys != pk ||
		    !mac1_ok(c->keys[i].mac1_in, msg, len))
			continue;
		r = read_init(c, i, &s, msg, len, payload);
		if (r == HS_OK)
			r = take_init(c, &s, msg, payload);
		if (r == HS_OK) {
			memcpy(tai64n, payload, HS_TAI64N_LEN);
			*st = s;
			rc = HS_OK;
			break;
		}
		if (r == HS_ERR_PEER_KEY)
			memcpy(seen, s.peer_static, HS_KEY_LEN);
		rc = worse(rc, r);
	}
	if (rc == HS_ERR_PEER_KEY) {
		memset(st, 0, sizeof(*st));
		memcpy(st->peer_static, seen, HS_KEY_LEN);
	}
	sodium_memzero(&s, sizeof(s));
	sodium_memzero(payload, sizeof(payload));
	return rc;
}

static void
fill_keys(struct hs_keys *keys, const struct hs_state *st, uint32_t remote_index)
{
	uint8_t k1[HS_KEY_LEN], k2[HS_KEY_LEN];

	hs_noise_split(st, k1, k2);
	/* k1 carries initiator -> responder, k2 the reverse. */
	memcpy(keys->send, st->initiator ? k1 : k2, HS_KEY_LEN);
	memcpy(keys->recv, st->initiator ? k2 : k1, HS_KEY_LEN);
	memcpy(keys->binding, st->h, HS_KEY_LEN);
	keys->local_index = st->local_index;
	keys->remote_index = remote_index;
	keys->key_id = st->key_id;
	keys->suites = st->suites;
	keys->keyset = st->keyset;
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));
}

int
hs_resp_create(const struct hs_config *c, struct hs_state *st,
    const uint8_t e_priv[HS_KEY_LEN], uint32_t local_index,
    uint8_t out[HS_RESP_LEN], struct hs_keys *keys)
{
	uint8_t view[HS_VIEW_LEN];
	int rc;

	put_view(view, c);
	if (st->initiator) {    /* not the state hs_init_consume made */
		rc = HS_ERR_INDEX;
		goto out;
	}
	st->local_index = local_index;
	st->suites = c->suites;
	put_header(out, st->public_keys ? HS_TYPE_RESP_PK : HS_TYPE_RESP,
	    offer(c), c->ports_digest);
	packet_put_le32(out + RESP_SENDER, local_index);
	packet_put_le32(out + RESP_RECEIVER, st->remote_index);
	if (st->public_keys)
		rc = hs_noise_ik_write2(st, e_priv, st->psk, view, sizeof(view),
		    out + RESP_NOISE);
	else
		rc = hs_noise_write2(st, e_priv, view, sizeof(view),
		    out + RESP_NOISE);
	if (rc != HS_OK)
		goto out;
	mac1(out + RESP_MAC1, st->mac1, out, RESP_MAC1);
	fill_keys(keys, st, st->remote_index);
	keys->peer_codec = st->peer_codec;
	keys->peer_suites = st->peer_suites;
	keys->peer_ports = st->peer_ports;
	keys->peer_view = st->peer_view;
out:
	if (rc != HS_OK)
		sodium_memzero(out, HS_RESP_LEN);
	hs_state_wipe(st);
	return rc;
}

int
hs_resp_consume(const struct hs_config *c, struct hs_state *st,
    const uint8_t *msg, size_t len, struct hs_keys *keys)
{
	struct hs_state s;
	struct hs_view v;
	uint8_t view[HS_VIEW_LEN];
	int rc;

	if (!framed(msg, len, st->public_keys ? HS_TYPE_RESP_PK : HS_TYPE_RESP,
	    HS_RESP_LEN))
		return HS_ERR_SHORT;
	/* mac1 under the keys our init used, whatever a SIGHUP did since. */
	if (!st->initiator)
		return HS_ERR_INDEX;
	if (!mac1_ok(st->mac1, msg, len))
		return HS_ERR_MAC;
	if (packet_get_le32(msg + RESP_RECEIVER) != st->local_index)
		return HS_ERR_INDEX;

	s = *st;                /* st stays as it was unless this succeeds */
	if (s.public_keys)
		rc = hs_noise_ik_read2(&s, s.psk, msg + RESP_NOISE,
		    RESP_NOISE_LEN, view);
	else
		rc = hs_noise_read2(&s, msg + RESP_NOISE, RESP_NOISE_LEN, view);
	if (rc != HS_OK || (rc = get_view(&v, view, c)) != HS_OK)
		goto out;
	fill_keys(keys, &s, packet_get_le32(msg + RESP_SENDER));
	keys->peer_codec = msg[1] & HS_CODEC_MASK;
	keys->peer_suites = offered_suites(msg);
	keys->peer_ports = (uint16_t)(msg[2] << 8 | msg[3]);
	keys->peer_view = v;
	hs_state_wipe(st);
out:
	sodium_memzero(&s, sizeof(s));
	return rc;
}

/* ---- Echo messages ---- */

void
hs_echo_key(uint8_t out[HS_KEY_LEN], const uint8_t session_key[HS_KEY_LEN])
{
	crypto_kdf_derive_from_key(out, HS_KEY_LEN, ECHO_SUBKEY, echo_ctx, session_key);
}

void
hs_echo_create(const uint8_t key[HS_KEY_LEN], enum hs_type type,
    uint8_t flags, uint32_t receiver_index, uint64_t counter,
    uint8_t out[HS_ECHO_LEN])
{
	put_header(out, type, flags & HS_ECHO_FLAGS, 0);
	packet_put_le32(out + ECHO_RECEIVER, receiver_index);
	packet_put_le64(out + ECHO_COUNTER, counter);
	/* No plaintext: the tag authenticates the header, counter included. */
	hs_noise_encrypt(key, counter, out, ECHO_TAG, empty, 0, out + ECHO_TAG);
}

int
hs_echo_open(const uint8_t key[HS_KEY_LEN], const uint8_t *msg, size_t len,
    enum hs_type *type, uint8_t *flags, uint64_t *counter)
{
	uint8_t none[1];
	uint64_t n;

	if (!framed(msg, len, HS_TYPE_ECHO_REQUEST, HS_ECHO_LEN) &&
	    !framed(msg, len, HS_TYPE_ECHO_REPLY, HS_ECHO_LEN))
		return HS_ERR_SHORT;
	n = packet_get_le64(msg + ECHO_COUNTER);
	if (hs_noise_decrypt(key, n, msg, ECHO_TAG, msg + ECHO_TAG,
	    HS_ECHO_LEN - ECHO_TAG, none) != HS_OK)
		return HS_ERR_DECRYPT;
	*type = (enum hs_type)msg[0];
	*flags = msg[1];
	*counter = n;
	return HS_OK;
}

/* ---- Odds and ends ---- */

void
hs_tai64n(uint8_t out[HS_TAI64N_LEN], uint64_t sec, uint32_t nsec)
{
	/* TAI64: 2^62 + seconds, big-endian; then the nanoseconds. */
	uint64_t label = (UINT64_C(1) << 62) + sec;

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(label >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(nsec >> (24 - 8 * i));
}

void
hs_state_wipe(struct hs_state *st)
{
	sodium_memzero(st, sizeof(*st));
}

void
hs_keys_wipe(struct hs_keys *k)
{
	sodium_memzero(k, sizeof(*k));
}
