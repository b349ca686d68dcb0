/* SPDX-License-Identifier: ISC */
/*
 * The link key file and the static key schedule.
 *
 * The key file is treated like an ssh private key: a regular file owned by
 * us and not accessible by group or others, else refused before anything
 * is installed on the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "zcc/keys.h"

/* A key file is one base64 line; anything much longer is not a key file. */
#define KEYFILE_MAX 128

/* crypto_kdf contexts are exactly 8 bytes. */

static int
check_key_file_mode(int fd, const char *word, const char *path, char *err,
    size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: cannot stat '%s': %s", word, path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: '%s' is not a regular file", word, path);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen, "%s: '%s' is accessible by group or "
		    "others (mode %04o); chmod 600 it", word, path,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: '%s' is owned by uid %u, not by "
		    "uid %u", word, path, (unsigned)st.st_uid, (unsigned)geteuid());
		return -1;
	}
	return 0;
}

static size_t
trim_trailing_space(char *s, size_t n)
{
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
	    s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	s[n] = '\0';
	return n;
}

static int
decode_key(const char *b64, size_t n, uint8_t key[ZCC_KEY_LEN])
{
	size_t keylen = 0;
	const char *end = NULL;

	if (sodium_base642bin(key, ZCC_KEY_LEN, b64, n, NULL, &keylen, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	if (keylen != ZCC_KEY_LEN || end != b64 + n)
		return -1;
	return 0;
}

/*
 * A secret key file (key-file, private-key-file): mode checked first, then
 * one base64 line. genkey_word says how to make one.
 */
static int
load_secret(const char *word, const char *genkey_word, const char *path,
    uint8_t key[ZCC_KEY_LEN], char *err, size_t errlen)
{
	char buf[KEYFILE_MAX + 1];
	ssize_t n;
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		snprintf(err, errlen, "%s: cannot open '%s': %s", word, path,
		    strerror(errno));
		return -1;
	}
	if (check_key_file_mode(fd, word, path, err, errlen) == -1)
		goto out;
	n = read(fd, buf, sizeof(buf));
	if (n == -1) {
		snprintf(err, errlen, "%s: cannot read '%s': %s", word, path,
		    strerror(errno));
		goto out;
	}
	if (n > KEYFILE_MAX ||
	    decode_key(buf, trim_trailing_space(buf, (size_t)n), key) == -1) {
		snprintf(err, errlen, "%s: '%s' does not hold the base64 of "
		    "a 32-byte key (make one with '%s')", word, path, genkey_word);
		goto out;
	}
	ret = 0;
out:
	if (ret == -1)
		sodium_memzero(key, ZCC_KEY_LEN);
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return ret;
}

int
keys_load_file(const char *path, uint8_t key[ZCC_KEY_LEN], char *err,
    size_t errlen)
{
	return load_secret("key-file", "zcctund genkey", path, key, err, errlen);
}

int
keys_load_private(const char *path, uint8_t key[ZCC_KEY_LEN], char *err,
    size_t errlen)
{
	return load_secret("private-key-file", "zcctund genkey private", path,
	    key, err, errlen);
}

/* A random key, base64 and a newline; clamp: an X25519 private key. */
static int
generate(char *out, size_t outlen, int clamp)
{
	uint8_t key[ZCC_KEY_LEN];

	if (outlen < ZCC_KEY_B64_LEN + 2)
		return -1;
	randombytes_buf(key, sizeof(key));
	/* Clamped as RFC 7748 says, so that wg's tools print the same key. */
	if (clamp) {
		key[0] &= 248;
		key[31] = (uint8_t)((key[31] & 127) | 64);
	}
	sodium_bin2base64(out, outlen, key, sizeof(key),
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(key, sizeof(key));
	strcat(out, "\n");
	return 0;
}

int
keys_generate(char *out, size_t outlen)
{
	return generate(out, outlen, 0);
}

int
keys_generate_private(char *out, size_t outlen)
{
	return generate(out, outlen, 1);
}

void
keys_b64(const uint8_t key[ZCC_KEY_LEN], char out[ZCC_KEY_B64_LEN + 1])
{
	sodium_bin2base64(out, ZCC_KEY_B64_LEN + 1, key, ZCC_KEY_LEN,
	    sodium_base64_VARIANT_ORIGINAL);
}

int
keys_public_b64(const char *private_b64, size_t len, char *out, size_t outlen)
{
	char buf[KEYFILE_MAX + 1];
	uint8_t priv[ZCC_KEY_LEN], pub[ZCC_KEY_LEN];
	int ret = -1;

	if (len > KEYFILE_MAX || outlen < ZCC_KEY_B64_LEN + 2)
		return -1;
	memcpy(buf, private_b64, len);
	if (decode_key(buf, trim_trailing_space(buf, len), priv) == 0 &&
	    crypto_scalarmult_base(pub, priv) == 0) {
		keys_b64(pub, out);
		strcat(out, "\n");
		ret = 0;
	}
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(priv, sizeof(priv));
	return ret;
}

int
keys_is_key_b64(const char *s)
{
	uint8_t key[ZCC_KEY_LEN];

	return strlen(s) == ZCC_KEY_B64_LEN && decode_key(s, ZCC_KEY_B64_LEN, key) == 0;
}

/* A public key file: one base64 line; not secret, so any mode will do. */
static int
read_public_file(const char *path, uint8_t key[ZCC_KEY_LEN], char *err,
    size_t errlen)
{
	char buf[KEYFILE_MAX + 1];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		snprintf(err, errlen, "peer-public-key: '%s' is not the base64 "
		    "of a key, nor a file that can be read (%s)", path,
		    strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || n > KEYFILE_MAX ||
	    decode_key(buf, trim_trailing_space(buf, (size_t)n), key) == -1) {
		snprintf(err, errlen, "peer-public-key: '%s' does not hold the "
		    "base64 of a 32-byte key (the output of 'zcctund pubkey')",
		    path);
		return -1;
	}
	return 0;
}

int
keys_load_public(const char *value, uint8_t key[ZCC_KEY_LEN], char *err,
    size_t errlen)
{
	if (keys_is_key_b64(value))
		return decode_key(value, ZCC_KEY_B64_LEN, key);
	return read_public_file(value, key, err, errlen);
}

int
keys_load_creds(const struct zcc_options *o, struct zcc_creds *c, char *err,
    size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (o->key_file[0] != '\0') {
		if (keys_load_file(o->key_file, c->psk, err, errlen) == -1)
			goto fail;
		c->flags |= ZCC_CREDS_SHARED;
	}
	if (o->private_key_file[0] != '\0') {
		if (keys_load_private(o->private_key_file, c->priv, err,
		    errlen) == -1 ||
		    keys_load_public(o->peer_public_key, c->peer_pub, err,
		    errlen) == -1)
			goto fail;
		c->flags |= ZCC_CREDS_PUBLIC;
	}
	return 0;
fail:
	sodium_memzero(c, sizeof(*c));
	return -1;
}

void
keys_fingerprint(const uint8_t key[ZCC_KEY_LEN], char out[ZCC_FP_LEN])
{
	static const char label[] = "zcc key fingerprint v1";
	crypto_generichash_state s;
	uint8_t h[12];

	crypto_generichash_init(&s, NULL, 0, sizeof(h));
	crypto_generichash_update(&s, (const uint8_t *)label, sizeof(label) - 1);
	crypto_generichash_update(&s, key, ZCC_KEY_LEN);
	crypto_generichash_final(&s, h, sizeof(h));
	sodium_bin2base64(out, ZCC_FP_LEN, h, sizeof(h),
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	sodium_memzero(&s, sizeof(s));
}
