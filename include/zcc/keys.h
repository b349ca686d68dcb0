/*
 * The link key file and the key schedule. Today the traffic keys come
 * straight from the link key (a static schedule); the handshake replaces
 * keys_static_schedule() and nothing else.
 */
#ifndef ZCC_KEYS_H
#define ZCC_KEYS_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

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

/*
 * The static schedule: per-direction keys from the link key and the two
 * addresses, so each end derives the same pair with tx and rx swapped.
 */
void keys_static_schedule(const uint8_t link_key[ZCC_KEY_LEN],
    struct in_addr local, struct in_addr peer,
    struct seal_key *tx, struct seal_key *rx);

#endif
