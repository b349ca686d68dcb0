/* SPDX-License-Identifier: ISC */
/*
 * The link key file: 32 bytes shared by the two ends, which authenticate
 * the handshake (handshake.h) and never seal traffic themselves.
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

#endif
