/* SPDX-License-Identifier: ISC */
/*
 * Sealing a TCP segment in place: a synthetic-IV construction (RFC 5297's
 * idea), length preserving, no per-flow state. Two suites share its shape:
 *
 *   M = label || key id || af || src || dst || proto || TCP length ||
 *       TCP header (checksum and tag zeroed) || payload
 *       (af 4 with 4-byte addresses, or 6 with 16-byte ones)
 *   H = Poly1305(K_uhf, M)                a universal hash, never sent
 *   N = t || seq || ack || sport || dport || 0x00      (24 bytes)
 *
 *   zccseal2 (libsodium, every build):
 *   T = HChaCha20(K_prf, H), t = T[0..11)
 *   C = XChaCha20(K_enc, N) ^ P
 *
 *   zccseal3 (libcrypto, where both ends have AES instructions):
 *   T = AES-256(K_prf, H), t = T[0..11)
 *   V = AES-256(K_iv, AES-256(K_iv, N[0..16)) ^ (N[16..24) || 0^8))
 *   C = AES-256-CTR(K_enc, counter block V) ^ P
 *
 * UHF-then-PRF (the shape of AES-GCM-SIV) is a PRF on M. Poly1305 keeps
 * one key r||s for the whole session, which is safe only because H itself
 * never leaves this file: what travels is a PRF of it. V is a CBC-MAC of
 * the fixed-length N, a PRF of N, so zccseal3's counter blocks are as
 * unrelated between segments as zccseal2's nonces.
 *
 * The nonce depends on everything the tag covers, so a keystream is reused
 * only if the same seq, ack and ports meet an 88-bit tag collision:
 * retransmissions and re-segmentations with different bytes get different
 * tags and so different keystreams. docs/PROTOCOL.md has the argument and
 * the test vectors.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "zcc/secmem.h"
#include "zcc/seal.h"

#define TCP_CSUM_OFF 16
#define SEAL_AF_INET 4
#define SEAL_AF_INET6 6
#define NONCE_LEN 24
#define AES_BLOCK 16
#define HEAD_MAX (8 + 1 + 1 + 16 + 16 + 1 + 2 + 60)

/* Per suite: the label in M (its version) and the subkeys' context. */
static const struct {
	char label[8];
	char ctx[crypto_kdf_CONTEXTBYTES];
	const char *name;
} suites[SEAL_SUITES] = {
	[SEAL_SUITE_CHACHA] = { "zccseal2", "zcckeys2", "zccseal2 (XChaCha20)" },
	[SEAL_SUITE_AES] = { "zccseal3", "zcckeys3", "zccseal3 (AES-256-CTR)" },
};

enum { SUBKEY_UHF = 1, SUBKEY_PRF = 2, SUBKEY_ENC = 3, SUBKEY_IV = 4 };

/* zccseal3's libcrypto contexts, all in locked memory. */
struct seal_aes {
	EVP_MAC_CTX *uhf;       /* Poly1305, keyed per segment from k->mac */
	EVP_CIPHER_CTX *prf;    /* AES-256-ECB under K_prf */
	EVP_CIPHER_CTX *iv;     /* AES-256-ECB under K_iv */
	EVP_CIPHER_CTX *enc;    /* AES-256-CTR under K_enc */
};

/* H, the Poly1305 output, is exactly HChaCha20's input and one AES block. */
_Static_assert(crypto_onetimeauth_BYTES == crypto_core_hchacha20_INPUTBYTES &&
    crypto_onetimeauth_BYTES == AES_BLOCK, "Poly1305 output is not a PRF input");
_Static_assert(crypto_onetimeauth_KEYBYTES == ZCC_KEY_LEN &&
    crypto_core_hchacha20_KEYBYTES == ZCC_KEY_LEN, "key sizes");
_Static_assert(crypto_stream_xchacha20_NONCEBYTES == NONCE_LEN, "nonce size");

void
seal_key_derive(struct seal_key *k, const uint8_t session_key[ZCC_KEY_LEN],
    uint8_t id, enum seal_suite suite)
{
	const char *ctx = suites[suite].ctx;

	memset(k, 0, sizeof(*k));
	crypto_kdf_derive_from_key(k->mac, sizeof(k->mac), SUBKEY_UHF, ctx,
	    session_key);
	crypto_kdf_derive_from_key(k->prf, sizeof(k->prf), SUBKEY_PRF, ctx,
	    session_key);
	crypto_kdf_derive_from_key(k->enc, sizeof(k->enc), SUBKEY_ENC, ctx,
	    session_key);
	if (suite == SEAL_SUITE_AES)
		crypto_kdf_derive_from_key(k->ivk, sizeof(k->ivk), SUBKEY_IV,
		    ctx, session_key);
	k->id = id;
	k->suite = (uint8_t)suite;
}

static void
aes_free(struct seal_aes *a)
{
	if (a == NULL)
		return;
	EVP_MAC_CTX_free(a->uhf);
	EVP_CIPHER_CTX_free(a->prf);
	EVP_CIPHER_CTX_free(a->iv);
	EVP_CIPHER_CTX_free(a->enc);
	OPENSSL_clear_free(a, sizeof(*a));
}

static EVP_CIPHER_CTX *
aes_context(const EVP_CIPHER *cipher, const uint8_t key[ZCC_KEY_LEN])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	if (c == NULL || !EVP_EncryptInit_ex(c, cipher, NULL, key, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(c, 0)) {
		EVP_CIPHER_CTX_free(c);
		return NULL;
	}
	return c;
}

/* libcrypto's algorithms, fetched once outside the locked pool. */
static EVP_MAC *poly1305;
static EVP_CIPHER *aes_ecb, *aes_ctr;

static int
fetch_algorithms(void)
{
	if (poly1305 == NULL)
		poly1305 = EVP_MAC_fetch(NULL, "POLY1305", NULL);
	if (aes_ecb == NULL)
		aes_ecb = EVP_CIPHER_fetch(NULL, "AES-256-ECB", NULL);
	if (aes_ctr == NULL)
		aes_ctr = EVP_CIPHER_fetch(NULL, "AES-256-CTR", NULL);
	return poly1305 && aes_ecb && aes_ctr ? 0 : -1;
}

int
seal_key_prepare(struct seal_key *k)
{
	struct seal_aes *a = NULL;

	if (k->suite != SEAL_SUITE_AES || k->aes != NULL)
		return 0;
	if (fetch_algorithms() == -1 || secmem_begin() == -1)
		return -1;
	a = OPENSSL_zalloc(sizeof(*a));
	if (a == NULL)
		goto fail;
	a->uhf = EVP_MAC_CTX_new(poly1305);
	a->prf = aes_context(aes_ecb, k->prf);
	a->iv = aes_context(aes_ecb, k->ivk);
	a->enc = aes_context(aes_ctr, k->enc);
	if (a->uhf == NULL || a->prf == NULL || a->iv == NULL || a->enc == NULL)
		goto fail;
	secmem_end();
	k->aes = a;
	return 0;
fail:
	aes_free(a);
	secmem_end();
	return -1;
}

void
seal_key_wipe(struct seal_key *k)
{
	if (k->aes != NULL)
		aes_free(k->aes);
	sodium_memzero(k, sizeof(*k));
}

unsigned
seal_suites_available(void)
{
	unsigned s = SEAL_SUITE_BIT(SEAL_SUITE_CHACHA);

#if defined(__x86_64__) || defined(__i386__)
	/* Without AES instructions libcrypto's AES is slower than ChaCha20. */
	if (__builtin_cpu_supports("aes") && fetch_algorithms() == 0)
		s |= SEAL_SUITE_BIT(SEAL_SUITE_AES);
#endif
	return s;
}

const char *
seal_suite_name(enum seal_suite s)
{
	return (unsigned)s < SEAL_SUITES ? suites[s].name : "unknown";
}

/*
 * M's head: everything before the payload, the checksum and the tag bytes
 * as zeros (the checksum changes with the tag, and the tag cannot cover
 * itself). Returns its length.
 */
static size_t
segment_head(const struct seal_key *k, const struct packet *p, size_t opt_off,
    const uint8_t *saddr, const uint8_t *daddr, uint8_t head[HEAD_MAX])
{
	const uint8_t *tcp = packet_tcp(p);
	size_t tag_off = opt_off - p->ip_hlen + ZCC_OPT_TAG_OFF;
	size_t alen = packet_addr_len(p);
	uint8_t *q = head;

	memcpy(q, suites[k->suite].label, 8), q += 8;
	*q++ = k->id;
	*q++ = p->af == AF_INET6 ? SEAL_AF_INET6 : SEAL_AF_INET;
	memcpy(q, saddr, alen), q += alen;
	memcpy(q, daddr, alen), q += alen;
	*q++ = 6;
	packet_put16(q, (uint16_t)(p->tcp_hlen + p->payload_len));
	q += 2;
	memcpy(q, tcp, p->tcp_hlen);
	memset(q + TCP_CSUM_OFF, 0, 2);
	memset(q + tag_off, 0, ZCC_TAG_LEN);
	return (size_t)(q - head) + p->tcp_hlen;
}

/*
 * H = Poly1305(K_uhf, M) for p, whose zcc option starts at opt_off in buf:
 * the head from a copy, the payload straight from the packet.
 */
static int
hash_segment(const struct seal_key *k, const struct packet *p, size_t opt_off,
    const uint8_t *saddr, const uint8_t *daddr, uint8_t h[AES_BLOCK])
{
	uint8_t head[HEAD_MAX];
	size_t n = segment_head(k, p, opt_off, saddr, daddr, head), hlen;
	crypto_onetimeauth_state st;
	int ok = 1;

	if (k->aes != NULL) {
		EVP_MAC_CTX *m = k->aes->uhf;

		ok = EVP_MAC_init(m, k->mac, sizeof(k->mac), NULL) &&
		    EVP_MAC_update(m, head, n) &&
		    EVP_MAC_update(m, packet_payload(p), p->payload_len) &&
		    EVP_MAC_final(m, h, &hlen, AES_BLOCK) && hlen == AES_BLOCK;
	} else {
		crypto_onetimeauth_init(&st, k->mac);
		crypto_onetimeauth_update(&st, head, n);
		crypto_onetimeauth_update(&st, packet_payload(p), p->payload_len);
		crypto_onetimeauth_final(&st, h);
		/* The state holds r and s, the session's hash key: wipe it too. */
		sodium_memzero(&st, sizeof(st));
	}
	sodium_memzero(head, sizeof(head));
	return ok ? 0 : -1;
}

/* One AES-256 block through an ECB context: out = AES(K, in). */
static int
aes_block(EVP_CIPHER_CTX *c, const uint8_t in[AES_BLOCK],
    uint8_t out[AES_BLOCK])
{
	int n = 0;

	return EVP_EncryptUpdate(c, out, &n, in, AES_BLOCK) && n == AES_BLOCK ?
	    0 : -1;
}

/*
 * The tag over p: T = PRF(K_prf, H). Poly1305 alone would be a forgeable
 * MAC under a key used for many segments; behind a PRF only collisions of
 * H matter, and those are what Poly1305 bounds.
 */
static int
compute_tag(const struct seal_key *k, const struct packet *p, size_t opt_off,
    const uint8_t *saddr, const uint8_t *daddr, uint8_t tag[ZCC_TAG_LEN])
{
	uint8_t h[AES_BLOCK];
	uint8_t full[crypto_core_hchacha20_OUTPUTBYTES] = { 0 };
	int rc = hash_segment(k, p, opt_off, saddr, daddr, h);

	if (rc == 0 && k->aes != NULL)
		rc = aes_block(k->aes->prf, h, full);
	else if (rc == 0)
		crypto_core_hchacha20(full, h, k->prf, NULL);
	memcpy(tag, full, ZCC_TAG_LEN);
	sodium_memzero(h, sizeof(h));
	sodium_memzero(full, sizeof(full));
	return rc;
}

/* V = CBC-MAC(K_iv, N padded to two blocks): zccseal3's counter block. */
static int
aes_counter_block(const struct seal_aes *a, const uint8_t nonce[NONCE_LEN],
    uint8_t v[AES_BLOCK])
{
	uint8_t x[AES_BLOCK];
	int rc = aes_block(a->iv, nonce, x);

	for (size_t i = 0; i < NONCE_LEN - AES_BLOCK; i++)
		x[i] ^= nonce[AES_BLOCK + i];
	if (rc == 0)
		rc = aes_block(a->iv, x, v);
	sodium_memzero(x, sizeof(x));
	return rc;
}

/* XOR the payload with the keystream named by tag, seq, ack and ports. */
static int
crypt_payload(const struct seal_key *k, struct packet *p,
    const uint8_t tag[ZCC_TAG_LEN])
{
	uint8_t nonce[NONCE_LEN], v[AES_BLOCK];
	uint8_t *payload = packet_payload(p);
	int n = 0, rc = 0;

	memcpy(nonce, tag, ZCC_TAG_LEN);
	packet_put32(nonce + 11, packet_seq(p));
	packet_put32(nonce + 15, packet_ack(p));
	packet_put16(nonce + 19, packet_sport(p));
	packet_put16(nonce + 21, packet_dport(p));
	nonce[23] = 0;
	if (p->payload_len == 0)
		return 0;
	if (k->aes == NULL) {
		crypto_stream_xchacha20_xor(payload, payload, p->payload_len,
		    nonce, k->enc);
		return 0;
	}
	rc = aes_counter_block(k->aes, nonce, v);
	if (rc == 0 && !(EVP_EncryptInit_ex(k->aes->enc, NULL, NULL, NULL, v) &&
	    EVP_EncryptUpdate(k->aes->enc, payload, &n, payload,
	    (int)p->payload_len) && (size_t)n == p->payload_len))
		rc = -1;
	sodium_memzero(v, sizeof(v));
	return rc;
}

/* A zccseal3 key without its contexts: refused, never run unkeyed. */
static int
unprepared(const struct seal_key *k)
{
	return k->suite == SEAL_SUITE_AES && k->aes == NULL;
}

int
seal_segment(const struct seal_key *k, struct packet *p, size_t cap,
    int *sack_trimmed)
{
	uint8_t tag[ZCC_TAG_LEN];
	long opt_off;

	if (unprepared(k))
		return SEAL_UNPREPARED;
	if (packet_add_option(p, cap, sack_trimmed) == -1)
		return SEAL_NO_ROOM;
	opt_off = packet_find_option(p);
	if (opt_off < 0)
		return SEAL_NO_ROOM;    /* cannot happen after a successful add */
	p->buf[opt_off + ZCC_OPT_KEYID_OFF] = k->id;
	if (compute_tag(k, p, (size_t)opt_off, packet_saddr(p),
	    packet_daddr(p), tag) == -1)
		return SEAL_UNPREPARED;
	memcpy(p->buf + opt_off + ZCC_OPT_TAG_OFF, tag, ZCC_TAG_LEN);
	if (crypt_payload(k, p, tag) == -1)
		return SEAL_UNPREPARED;
	packet_fix_checksums(p);
	return SEAL_OK;
}

int
seal_key_id(const struct packet *p)
{
	long opt_off = packet_find_option(p);

	if (opt_off < 0)
		return -1;
	return p->buf[opt_off + ZCC_OPT_KEYID_OFF];
}

int
seal_open(const struct seal_key *k, struct packet *p)
{
	return seal_open_as(k, p, packet_saddr(p), packet_daddr(p));
}

int
seal_open_as(const struct seal_key *k, struct packet *p, const uint8_t *saddr,
    const uint8_t *daddr)
{
	uint8_t sent[ZCC_TAG_LEN], tag[ZCC_TAG_LEN];
	long opt_off = packet_find_option(p);
	int ret = SEAL_BAD_TAG;

	if (opt_off < 0)
		return SEAL_NO_OPTION;
	if (unprepared(k))
		return SEAL_UNPREPARED;
	if (p->buf[opt_off + ZCC_OPT_KEYID_OFF] != k->id)
		return SEAL_BAD_TAG;
	memcpy(sent, p->buf + opt_off + ZCC_OPT_TAG_OFF, ZCC_TAG_LEN);
	/* Decrypt in our own buffer; nothing reaches zcc0 before the check. */
	if (crypt_payload(k, p, sent) == -1 ||
	    compute_tag(k, p, (size_t)opt_off, saddr, daddr, tag) == -1) {
		ret = SEAL_UNPREPARED;
		goto out;
	}
	if (sodium_memcmp(tag, sent, ZCC_TAG_LEN) != 0)
		goto out;
	packet_strip_option(p);
	packet_fix_checksums(p);
	ret = SEAL_OK;
out:
	sodium_memzero(tag, sizeof(tag));
	return ret;
}
