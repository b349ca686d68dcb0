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
check_key_file_mode(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "key-file: cannot stat '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "key-file: '%s' is not a regular file", path);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen, "key-file: '%s' is accessible by group or "
		    "others (mode %04o); chmod 600 it", path,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "key-file: '%s' is owned by uid %u, not by "
		    "uid %u", path, (unsigned)st.st_uid, (unsigned)geteuid());
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

int
keys_load_file(const char *path, uint8_t key[ZCC_KEY_LEN], char *err,
    size_t errlen)
{
	char buf[KEYFILE_MAX + 1];
	ssize_t n;
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		snprintf(err, errlen, "key-file: cannot open '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	if (check_key_file_mode(fd, path, err, errlen) == -1)
		goto out;
	n = read(fd, buf, sizeof(buf));
	if (n == -1) {
		snprintf(err, errlen, "key-file: cannot read '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if (n > KEYFILE_MAX ||
	    decode_key(buf, trim_trailing_space(buf, (size_t)n), key) == -1) {
		snprintf(err, errlen, "key-file: '%s' does not hold the base64 of "
		    "a 32-byte key (make one with 'zcctund genkey')", path);
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
keys_generate(char *out, size_t outlen)
{
	uint8_t key[ZCC_KEY_LEN];

	if (outlen < ZCC_KEY_B64_LEN + 2)
		return -1;
	randombytes_buf(key, sizeof(key));
	sodium_bin2base64(out, outlen, key, sizeof(key),
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(key, sizeof(key));
	strcat(out, "\n");
	return 0;
}
