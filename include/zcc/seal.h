/* SPDX-License-Identifier: ISC */
/*
 * Sealing a TCP segment in place (docs/PROTOCOL.md): a tag over the
 * addresses, the final TCP header and the payload (Poly1305 under a session
 * key, then a PRF of that hash: HChaCha20 or AES) travels in the zcc
 * option; the payload is encrypted (XChaCha20 or AES-CTR) under a nonce
 * built from that tag and the segment's seq, ack and ports (a synthetic
 * IV). Length preserving.
 */
#ifndef ZCC_SEAL_H
#define ZCC_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "zcc/packet.h"

#define ZCC_KEY_LEN 32

/*
 * The per-segment constructions (docs/PROTOCOL.md "Sealing"): zccseal2 on
 * ChaCha20 (libsodium), which every build runs, and zccseal3 on AES-256
 * (libcrypto), used when both ends offer it in the handshake.
 */
enum seal_suite {
	SEAL_SUITE_CHACHA = 0,          /* zccseal2 */
	SEAL_SUITE_AES = 1,             /* zccseal3 */
};

#define SEAL_SUITES 2
#define SEAL_SUITE_BIT(s) (1u << (s))

struct seal_aes;

/* The keys that seal one direction of the link under one key id. */
struct seal_key {
	uint8_t mac[ZCC_KEY_LEN];       /* K_uhf: the Poly1305 key r || s */
	uint8_t prf[ZCC_KEY_LEN];       /* K_prf: HChaCha20 or AES over the hash */
	uint8_t enc[ZCC_KEY_LEN];       /* K_enc: XChaCha20 or AES-CTR */
	uint8_t ivk[ZCC_KEY_LEN];       /* K_iv: zccseal3's counter block */
	uint8_t id;
	uint8_t suite;                  /* enum seal_suite */
	struct seal_aes *aes;           /* zccseal3: seal_key_prepare's contexts */
};

enum seal_error {
	SEAL_OK = 0,
	SEAL_NO_ROOM = -1,     /* the option does not fit even without SACK */
	SEAL_NO_OPTION = -2,   /* open: no zcc option at the end of the options */
	SEAL_BAD_TAG = -3,     /* open: authentication failed */
	SEAL_UNPREPARED = -4,  /* a zccseal3 key without seal_key_prepare */
};

/*
 * Seal p in place: add the option, tag, encrypt, fix checksums. buf must
 * have cap >= p->len + ZCC_OPT_LEN. Returns SEAL_OK or SEAL_NO_ROOM.
 */
int seal_segment(const struct seal_key *k, struct packet *p, size_t cap,
    int *sack_trimmed);

/* The key id in p's zcc option, or -1 when it has none. */
int seal_key_id(const struct packet *p);

/*
 * Open p in place with k: decrypt, recompute the tag and compare it in
 * constant time, then strip the option and fix the checksums. On failure
 * the payload bytes are garbage and the packet must be dropped.
 */
int seal_open(const struct seal_key *k, struct packet *p);

/*
 * seal_open with the tag over saddr and daddr (p's family's length) in
 * place of p's own addresses: a NAT changed them on the way, and the
 * sender sealed over the addresses it sent from and to (PROTOCOL.md,
 * "Views and NAT"). The packet keeps the addresses it arrived with.
 */
int seal_open_as(const struct seal_key *k, struct packet *p,
    const uint8_t *saddr, const uint8_t *daddr);

/*
 * The sealing keys of one direction from that direction's 32-byte session
 * key for suite: independent crypto_kdf subkeys (PROTOCOL.md). Plain bytes
 * that may be copied; seal_key_prepare makes what sealing needs beyond them.
 */
void seal_key_derive(struct seal_key *k, const uint8_t session_key[ZCC_KEY_LEN],
    uint8_t id, enum seal_suite suite);

/*
 * Make k ready to seal and open: zccseal3's libcrypto contexts, in locked
 * memory (secmem.h). The prepared copy owns them: do not copy it, wipe it.
 * 0, or -1 when libcrypto or the locked pool fails.
 */
int seal_key_prepare(struct seal_key *k);

/* Wipe a key and free what seal_key_prepare made. */
void seal_key_wipe(struct seal_key *k);

/* The suites this build runs on this CPU, as SEAL_SUITE_BIT()s. */
unsigned seal_suites_available(void);

/* "zccseal2 (XChaCha20)" and so on, for logs and zccctl. */
const char *seal_suite_name(enum seal_suite s);

#endif
