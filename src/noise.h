/* SPDX-License-Identifier: ISC */
/*
 * Internal to src/handshake.c: the bare Noise layer, Noise_NNpsk0_25519_
 * ChaChaPoly_SHA256 and Noise_IKpsk2_25519_ChaChaPoly_SHA256 (Noise spec
 * rev 34), with the prologue, keys and payloads as parameters. The zcc framing (indices, mac1, the init payload) lives in
 * handshake.c on top of it. Exposed only so that test/unit/test_handshake.c
 * can check this layer alone against the published Noise test vectors;
 * nothing else should include it (include/zcc/handshake.h is the interface).
 *
 *   NNpsk0:                 IKpsk2:
 *     -> psk, e               <- s
 *     <- e, ee                ...
 *                             -> e, es, s, ss
 *                             <- e, ee, se, psk
 *
 * Every key of these patterns encrypts exactly one message (each token
 * that mixes a key re-keys first), so the handshake messages all use
 * nonce 0.
 */
#ifndef ZCC_NOISE_H
#define ZCC_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include "zcc/handshake.h"

#define HS_NOISE_DH_LEN 32
#define HS_NOISE_TAG_LEN 16
/* Message 1 and 2 carry the sender's ephemeral and the encrypted payload. */
#define HS_NOISE_MSG_LEN(payload_len) (HS_NOISE_DH_LEN + (payload_len) + HS_NOISE_TAG_LEN)

/* InitializeSymmetric(protocol name), then MixHash(prologue). */
void hs_noise_start(struct hs_state *st, const uint8_t *prologue, size_t prologue_len);

/*
 * Initiator, "-> psk, e": out gets HS_NOISE_MSG_LEN(len) bytes. st keeps
 * e_priv and e_pub. HS_OK or HS_ERR_DH.
 */
int hs_noise_write1(struct hs_state *st, const uint8_t psk[HS_KEY_LEN],
    const uint8_t e_priv[HS_KEY_LEN], const uint8_t *payload, size_t len,
    uint8_t *out);

/*
 * Responder, "-> psk, e" read: no DH. payload gets len - 48 bytes.
 * HS_OK, HS_ERR_SHORT or HS_ERR_DECRYPT; st is garbage on error.
 */
int hs_noise_read1(struct hs_state *st, const uint8_t psk[HS_KEY_LEN],
    const uint8_t *msg, size_t len, uint8_t *payload);

/* Responder, "<- e, ee": out gets HS_NOISE_MSG_LEN(len). HS_OK or HS_ERR_DH. */
int hs_noise_write2(struct hs_state *st, const uint8_t e_priv[HS_KEY_LEN],
    const uint8_t *payload, size_t len, uint8_t *out);

/*
 * Initiator, "<- e, ee" read. HS_OK, HS_ERR_SHORT, HS_ERR_DH or
 * HS_ERR_DECRYPT; st is garbage on error.
 */
int hs_noise_read2(struct hs_state *st, const uint8_t *msg, size_t len,
    uint8_t *payload);

/* IKpsk2's message 1: e, enc(s), enc(payload). */
#define HS_NOISE_IK1_LEN(payload_len) \
	(HS_NOISE_DH_LEN + HS_NOISE_DH_LEN + HS_NOISE_TAG_LEN + \
	 (payload_len) + HS_NOISE_TAG_LEN)

/*
 * IKpsk2: InitializeSymmetric, MixHash(prologue), then the pre-message:
 * MixHash(rs_pub), the responder's static public key (at the initiator the
 * peer's, at the responder its own).
 */
void hs_noise_ik_start(struct hs_state *st, const uint8_t *prologue,
    size_t prologue_len, const uint8_t rs_pub[HS_KEY_LEN]);

/*
 * Initiator, "-> e, es, s, ss" with our static s_priv to the responder's
 * rs: out gets HS_NOISE_IK1_LEN(len) bytes. HS_OK or HS_ERR_DH.
 */
int hs_noise_ik_write1(struct hs_state *st, const uint8_t s_priv[HS_KEY_LEN],
    const uint8_t rs[HS_KEY_LEN], const uint8_t e_priv[HS_KEY_LEN],
    const uint8_t *payload, size_t len, uint8_t *out);

/*
 * Responder, "-> e, es, s, ss" read with our static s_priv: st->rs gets
 * the initiator's static public key; payload len - 96 bytes. HS_OK,
 * HS_ERR_SHORT, HS_ERR_DH or HS_ERR_DECRYPT; st is garbage on error.
 */
int hs_noise_ik_read1(struct hs_state *st, const uint8_t s_priv[HS_KEY_LEN],
    const uint8_t *msg, size_t len, uint8_t *payload);

/* Responder, "<- e, ee, se, psk" (se with st->rs). HS_OK or HS_ERR_DH. */
int hs_noise_ik_write2(struct hs_state *st, const uint8_t e_priv[HS_KEY_LEN],
    const uint8_t psk[HS_KEY_LEN], const uint8_t *payload, size_t len,
    uint8_t *out);

/*
 * Initiator, "<- e, ee, se, psk" read (se with st->s_priv). HS_OK,
 * HS_ERR_SHORT, HS_ERR_DH or HS_ERR_DECRYPT; st is garbage on error.
 */
int hs_noise_ik_read2(struct hs_state *st, const uint8_t psk[HS_KEY_LEN],
    const uint8_t *msg, size_t len, uint8_t *payload);

/* Split(): k1 encrypts initiator -> responder, k2 the other way. */
void hs_noise_split(const struct hs_state *st, uint8_t k1[HS_KEY_LEN],
    uint8_t k2[HS_KEY_LEN]);

/*
 * ChaChaPoly ENCRYPT/DECRYPT with the Noise nonce (4 zero bytes, then n
 * little-endian), for transport messages in the tests. out gets len + 16
 * bytes (encrypt) or len - 16 (decrypt); decrypt returns HS_OK or
 * HS_ERR_DECRYPT.
 */
void hs_noise_encrypt(const uint8_t k[HS_KEY_LEN], uint64_t n,
    const uint8_t *ad, size_t ad_len, const uint8_t *pt, size_t len, uint8_t *out);
int hs_noise_decrypt(const uint8_t k[HS_KEY_LEN], uint64_t n,
    const uint8_t *ad, size_t ad_len, const uint8_t *ct, size_t len, uint8_t *out);

#endif
