/* SPDX-License-Identifier: ISC */
/*
 * Sealing a TCP segment in place (docs/PROTOCOL.md): a tag over the
 * addresses, the final TCP header and the payload (Poly1305 under a session
 * key, then HChaCha20 of that hash) travels in the zcc option; the payload
 * is XChaCha20-encrypted under a nonce built from that tag and the
 * segment's seq, ack and ports (a synthetic IV). Length preserving.
 */
#ifndef ZCC_SEAL_H
#define ZCC_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "zcc/packet.h"

#define ZCC_KEY_LEN 32

/* The keys that seal one direction of the link under one key id. */
struct seal_key {
	uint8_t mac[ZCC_KEY_LEN];       /* K_uhf: the Poly1305 key r || s */
	uint8_t prf[ZCC_KEY_LEN];       /* K_prf: HChaCha20 over the hash */
	uint8_t enc[ZCC_KEY_LEN];       /* K_enc: XChaCha20 over the payload */
	uint8_t id;
};

enum seal_error {
	SEAL_OK = 0,
	SEAL_NO_ROOM = -1,     /* the option does not fit even without SACK */
	SEAL_NO_OPTION = -2,   /* open: no zcc option at the end of the options */
	SEAL_BAD_TAG = -3,     /* open: authentication failed */
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
 * key: K_uhf, K_prf and K_enc are independent crypto_kdf subkeys
 * (PROTOCOL.md).
 */
void seal_key_derive(struct seal_key *k, const uint8_t session_key[ZCC_KEY_LEN],
    uint8_t id);

/* Wipe a key. */
void seal_key_wipe(struct seal_key *k);

#endif
