/* SPDX-License-Identifier: ISC */
/*
 * A link's keys: the shared key file (32 bytes both ends hold), or a
 * private key file and the peer's public key (X25519, as WireGuard's), or
 * both. They authenticate the handshake (handshake.h) and never seal
 * traffic themselves.
 */
#ifndef ZCC_KEYS_H
#define ZCC_KEYS_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "zcc/options.h"
#include "zcc/seal.h"

/* Base64 of 32 bytes is 44 characters; a line of the key file. */
#define ZCC_KEY_B64_LEN 44

/*
 * Read a link key from path: a regular file, not accessible by group or
 * others, holding the base64 of exactly 32 bytes (one line). On error
 * returns -1 with a one-line message in err; key is wiped.
 */
int keys_load_file(const char *path, uint8_t key[ZCC_KEY_LEN],
    char *err, size_t errlen);

/* Write a new random link key, base64 and a newline, to out (>= 46 bytes). */
int keys_generate(char *out, size_t outlen);

/* The same for a private key: random, clamped as X25519 (and wg) do. */
int keys_generate_private(char *out, size_t outlen);

/* private-key-file: as keys_load_file, its errors naming that word. */
int keys_load_private(const char *path, uint8_t key[ZCC_KEY_LEN],
    char *err, size_t errlen);

/* The public key of a private one, as base64 and a newline (>= 46 bytes). */
int keys_public_b64(const char *private_b64, size_t len, char *out,
    size_t outlen);

/*
 * peer-public-key's value: the base64 of a key, or a file holding one
 * line of it. 0, or -1 with a one-line message in err.
 */
int keys_load_public(const char *value, uint8_t key[ZCC_KEY_LEN],
    char *err, size_t errlen);
/* True when s is the base64 of a 32-byte key. */
int keys_is_key_b64(const char *s);

/* What a link authenticates with (privsep hands it to the engine). */
#define ZCC_CREDS_SHARED 0x1    /* psk, from key-file */
#define ZCC_CREDS_PUBLIC 0x2    /* priv and peer_pub */
struct zcc_creds {
	uint32_t flags;
	uint8_t psk[ZCC_KEY_LEN];
	uint8_t priv[ZCC_KEY_LEN];
	uint8_t peer_pub[ZCC_KEY_LEN];
};

/* The keys options o name, read from their files. Same error contract. */
int keys_load_creds(const struct zcc_options *o, struct zcc_creds *c,
    char *err, size_t errlen);

/*
 * A short fingerprint of a key, for two administrators to compare on the
 * phone: 16 base64 characters of a labelled BLAKE2b hash (96 bits), which
 * reveals nothing of a shared key.
 */
#define ZCC_FP_LEN 17
void keys_fingerprint(const uint8_t key[ZCC_KEY_LEN], char out[ZCC_FP_LEN]);

/* The base64 of a key (44 characters and a NUL). */
void keys_b64(const uint8_t key[ZCC_KEY_LEN], char out[ZCC_KEY_B64_LEN + 1]);

#endif
