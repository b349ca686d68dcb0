/* SPDX-License-Identifier: ISC */
/* The key file: format, permissions, errors; genkey; the static schedule. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "zcc/keys.h"

static char dir[] = "/tmp/zcc-test-keys-XXXXXX";

/* Write contents to dir/name with mode; returns the path (static buffer). */
static const char *
write_file(const char *name, const char *contents, mode_t mode)
{
	static char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd != -1);
	CHECK(write(fd, contents, strlen(contents)) == (ssize_t)strlen(contents));
	close(fd);
	CHECK(chmod(path, mode) == 0);
	return path;
}

static int
load(const char *path, char *err, size_t errlen)
{
	uint8_t key[ZCC_KEY_LEN];
	int ret;

	err[0] = '\0';
	ret = keys_load_file(path, key, err, errlen);
	if (ret == -1) {
		static const uint8_t zero[ZCC_KEY_LEN];

		CHECK_MEM(key, zero, ZCC_KEY_LEN);   /* wiped on error */
	}
	return ret;
}

static void
check_genkey_and_load(void)
{
	char a[ZCC_KEY_B64_LEN + 2], b[ZCC_KEY_B64_LEN + 2], err[256];
	uint8_t key[ZCC_KEY_LEN], raw[ZCC_KEY_LEN];
	size_t n = 0;

	CHECK_EQ(keys_generate(a, sizeof(a)), 0);
	CHECK_EQ(keys_generate(b, sizeof(b)), 0);
	CHECK_EQ(strlen(a), ZCC_KEY_B64_LEN + 1);
	CHECK_EQ(a[ZCC_KEY_B64_LEN], '\n');
	CHECK(strcmp(a, b) != 0);
	CHECK_EQ(keys_generate(a, ZCC_KEY_B64_LEN), -1);   /* too small */
	CHECK_EQ(sodium_base642bin(raw, sizeof(raw), a, ZCC_KEY_B64_LEN, NULL,
	    &n, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	CHECK_EQ(n, ZCC_KEY_LEN);

	CHECK_EQ(keys_load_file(write_file("good.key", a, 0600), key, err,
	    sizeof(err)), 0);
	CHECK_MEM(key, raw, ZCC_KEY_LEN);
	CHECK_EQ(load(write_file("ro.key", a, 0400), err, sizeof(err)), 0);
}

static void
check_refusals(void)
{
	char err[256];

	CHECK_EQ(load(write_file("g.key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	    0640), err, sizeof(err)), -1);
	CHECK(strstr(err, "group or others") && strstr(err, "0640"));
	CHECK_EQ(load(write_file("o.key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	    0604), err, sizeof(err)), -1);
	CHECK(strstr(err, "key-file") != NULL);
	CHECK_EQ(load(write_file("short.key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n",
	    0600), err, sizeof(err)), -1);                  /* 31 bytes */
	CHECK(strstr(err, "32-byte") != NULL);
	CHECK_EQ(load(write_file("long.key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
	    0600), err, sizeof(err)), -1);                  /* 33 bytes */
	CHECK_EQ(load(write_file("junk.key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= x\n",
	    0600), err, sizeof(err)), -1);
	CHECK_EQ(load(write_file("text.key", "not a key at all\n", 0600), err,
	    sizeof(err)), -1);
	CHECK_EQ(load(write_file("empty.key", "", 0600), err, sizeof(err)), -1);
	CHECK_EQ(load("/nonexistent/zcc.key", err, sizeof(err)), -1);
	CHECK(strstr(err, "/nonexistent/zcc.key") && strstr(err, "No such file"));
	CHECK_EQ(load(dir, err, sizeof(err)), -1);            /* a directory */
	CHECK(strstr(err, "not a regular file") != NULL);
	/* Trailing whitespace and CRLF are fine. */
	CHECK_EQ(load(write_file("crlf.key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n",
	    0600), err, sizeof(err)), 0);
}

int
main(void)
{
	CHECK(sodium_init() >= 0);
	CHECK(mkdtemp(dir) != NULL);
	check_genkey_and_load();
	check_refusals();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK_EQ(system(cmd), 0);
	}
	CHECK_DONE();
}
