/* SPDX-License-Identifier: ISC */
/*
 * Sealing a TCP segment in place: a synthetic-IV construction (RFC 5297's
 * idea with Poly1305, HChaCha20 and XChaCha20), length preserving, no
 * per-flow state.
 *
 *   M = label || key id || af || src || dst || proto || TCP length ||
 *       TCP header (checksum and tag zeroed) || payload
 *       (af 4 with 4-byte addresses, or 6 with 16-byte ones)
 *   H = Poly1305(K_uhf, M)                a universal hash, never sent
 *   T = HChaCha20(K_prf, H)               a PRF of H, hence of M
 *   t = T[0..11)                          travels in the zcc option
 *   C = XChaCha20(K_enc, t || seq || ack || sport || dport || 0x00) ^ P
 *
 * UHF-then-PRF (the shape of AES-GCM-SIV) is a PRF on M at a third of
 * BLAKE2b's cost. Poly1305 keeps one key r||s for the whole session, which
 * is safe only because H itself never leaves this file: what travels is a
 * PRF of it.
 *
 * The nonce depends on everything the tag covers, so a keystream is reused
 * only if the same seq, ack and ports meet an 88-bit tag collision:
 * retransmissions and re-segmentations with different bytes get different
 * tags and so different keystreams. docs/PROTOCOL.md has the argument and
 * the test vectors.
 */
#include <string.h>

#include <sodium.h>

#include "zcc/seal.h"

#define SEAL_LABEL "zccseal2"          /* 8 bytes: version of the construction */
#define SEAL_AF_INET 4
#define SEAL_AF_INET6 6
#define TCP_CSUM_OFF 16

/* A new context for a new construction: no subkey of zccseal1 is reused. */
static const char derive_ctx[crypto_kdf_CONTEXTBYTES] = "zcckeys2";

enum { SUBKEY_UHF = 1, SUBKEY_PRF = 2, SUBKEY_ENC = 3 };

/* H, the Poly1305 output, is exactly HChaCha20's input. */
_Static_assert(crypto_onetimeauth_BYTES == crypto_core_hchacha20_INPUTBYTES,
    "Poly1305 output is not an HChaCha20 input");
_Static_assert(crypto_onetimeauth_KEYBYTES == ZCC_KEY_LEN &&
    crypto_core_hchacha20_KEYBYTES == ZCC_KEY_LEN, "key sizes");

void
seal_key_derive(struct seal_key *k, const uint8_t session_key[ZCC_KEY_LEN],
    uint8_t id)
{
	crypto_kdf_derive_from_key(k->mac, sizeof(k->mac), SUBKEY_UHF,
	    derive_ctx, session_key);
	crypto_kdf_derive_from_key(k->prf, sizeof(k->prf), SUBKEY_PRF,
	    derive_ctx, session_key);
	crypto_kdf_derive_from_key(k->enc, sizeof(k->enc), SUBKEY_ENC,
	    derive_ctx, session_key);
	k->id = id;
}

void
seal_key_wipe(struct seal_key *k)
{
	sodium_memzero(k, sizeof(*k));
}


/*
 * H = Poly1305(K_uhf, M) for p, whose zcc option starts at opt_off in buf.
 * M is fed in pieces straight from the packet, the payload never copied.
 * The checksum and the tag bytes are hashed as zeros: the checksum changes
 * with the tag, and the tag cannot cover itself.
 */
static void
hash_segment(const struct seal_key *k, const struct packet *p, size_t opt_off,
    const uint8_t *saddr, const uint8_t *daddr,
    uint8_t h[crypto_onetimeauth_BYTES])
{
	static const uint8_t zeros[ZCC_TAG_LEN];
	crypto_onetimeauth_state st;
	const uint8_t *tcp = packet_tcp(p);
	size_t tag_off = opt_off - p->ip_hlen + ZCC_OPT_TAG_OFF;
	size_t alen = packet_addr_len(p);
	uint8_t prefix[8 + 1 + 1 + 16 + 16 + 1 + 2];
	uint8_t *q = prefix;

	memcpy(q, SEAL_LABEL, 8), q += 8;
	*q++ = k->id;
	*q++ = p->af == AF_INET6 ? SEAL_AF_INET6 : SEAL_AF_INET;
	memcpy(q, saddr, alen), q += alen;
	memcpy(q, daddr, alen), q += alen;
	*q++ = 6;
	packet_put16(q, (uint16_t)(p->tcp_hlen + p->payload_len));
	q += 2;

	crypto_onetimeauth_init(&st, k->mac);
	crypto_onetimeauth_update(&st, prefix, (size_t)(q - prefix));
	crypto_onetimeauth_update(&st, tcp, TCP_CSUM_OFF);
	crypto_onetimeauth_update(&st, zeros, 2);
	crypto_onetimeauth_update(&st, tcp + TCP_CSUM_OFF + 2,
	    tag_off - (TCP_CSUM_OFF + 2));
	crypto_onetimeauth_update(&st, zeros, ZCC_TAG_LEN);
	crypto_onetimeauth_update(&st, tcp + tag_off + ZCC_TAG_LEN,
	    p->tcp_hlen - tag_off - ZCC_TAG_LEN);
	crypto_onetimeauth_update(&st, packet_payload(p), p->payload_len);
	crypto_onetimeauth_final(&st, h);
	/* The state holds r and s, the session's hash key: wipe it too. */
	sodium_memzero(&st, sizeof(st));
}

/*
 * The tag over p: T = HChaCha20(K_prf, H). Poly1305 alone would be a
 * forgeable MAC under a key used for many segments; behind a PRF only
 * collisions of H matter, and those are what Poly1305 bounds.
 */
static void
compute_tag(const struct seal_key *k, const struct packet *p, size_t opt_off,
    const uint8_t *saddr, const uint8_t *daddr, uint8_t tag[ZCC_TAG_LEN])
{
	uint8_t h[crypto_onetimeauth_BYTES];
	uint8_t full[crypto_core_hchacha20_OUTPUTBYTES];

	hash_segment(k, p, opt_off, saddr, daddr, h);
	crypto_core_hchacha20(full, h, k->prf, NULL);
	memcpy(tag, full, ZCC_TAG_LEN);
	sodium_memzero(h, sizeof(h));
	sodium_memzero(full, sizeof(full));
}

/* XOR the payload with the keystream named by tag, seq, ack and ports. */
static void
crypt_payload(const struct seal_key *k, struct packet *p,
    const uint8_t tag[ZCC_TAG_LEN])
{
	uint8_t nonce[crypto_stream_xchacha20_NONCEBYTES];
	uint8_t *payload = packet_payload(p);

	memcpy(nonce, tag, ZCC_TAG_LEN);
	packet_put32(nonce + 11, packet_seq(p));
	packet_put32(nonce + 15, packet_ack(p));
	packet_put16(nonce + 19, packet_sport(p));
	packet_put16(nonce + 21, packet_dport(p));
	nonce[23] = 0;
	if (p->payload_len > 0)
		crypto_stream_xchacha20_xor(payload, payload, p->payload_len,
		    nonce, k->enc);
}

int
seal_segment(const struct seal_key *k, struct packet *p, size_t cap,
    int *sack_trimmed)
{
	uint8_t tag[ZCC_TAG_LEN];
	long opt_off;

	if (packet_add_option(p, cap, sack_trimmed) == -1)
		return SEAL_NO_ROOM;
	opt_off = packet_find_option(p);
	if (opt_off < 0)
		return SEAL_NO_ROOM;    /* cannot happen after a successful add */
	p->buf[opt_off + ZCC_OPT_KEYID_OFF] = k->id;
	compute_tag(k, p, (size_t)opt_off, packet_saddr(p), packet_daddr(p), tag);
	memcpy(p->buf + opt_off + ZCC_OPT_TAG_OFF, tag, ZCC_TAG_LEN);
	crypt_payload(k, p, tag);
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
	if (p->buf[opt_off + ZCC_OPT_KEYID_OFF] != k->id)
		return SEAL_BAD_TAG;
	memcpy(sent, p->buf + opt_off + ZCC_OPT_TAG_OFF, ZCC_TAG_LEN);
	/* Decrypt in our own buffer; nothing reaches zcc0 before the check. */
	crypt_payload(k, p, sent);
	compute_tag(k, p, (size_t)opt_off, saddr, daddr, tag);
	if (sodium_memcmp(tag, sent, ZCC_TAG_LEN) != 0)
		goto out;
	packet_strip_option(p);
	packet_fix_checksums(p);
	ret = SEAL_OK;
out:
	sodium_memzero(tag, sizeof(tag));
	return ret;
}
