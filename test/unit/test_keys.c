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

/* Private and public keys, the creds the options name, fingerprints. */
static void
check_key_pairs(void)
{
	/* RFC 7748 6.1: Alice's private key and public key. */
	static const char alice_priv[] =
	    "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n";
	static const char alice_pub[] =
	    "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\n";
	char a[ZCC_KEY_B64_LEN + 2], pub[ZCC_KEY_B64_LEN + 2], err[256];
	char fp[ZCC_FP_LEN];
	uint8_t key[ZCC_KEY_LEN], raw[ZCC_KEY_LEN];
	struct zcc_options o;
	struct zcc_creds c;

	CHECK_EQ(keys_generate_private(a, sizeof(a)), 0);
	CHECK_EQ(sodium_base642bin(raw, sizeof(raw), a, ZCC_KEY_B64_LEN, NULL,
	    NULL, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	CHECK_EQ(raw[0] & 7, 0);                /* clamped */
	CHECK_EQ(raw[31] & 0xc0, 0x40);
	CHECK_EQ(keys_public_b64(alice_priv, strlen(alice_priv), pub,
	    sizeof(pub)), 0);
	CHECK_STR(pub, alice_pub);
	CHECK_EQ(keys_public_b64("nope\n", 5, pub, sizeof(pub)), -1);

	/* The fingerprint: Python's hashlib.blake2b(digest_size=12) agrees. */
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)i;
	keys_fingerprint(raw, fp);
	CHECK_STR(fp, "xNhqfUNOvDSANVKU");

	/* peer-public-key: the key itself, or a file of any mode. */
	CHECK_EQ(keys_load_public("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",
	    key, err, sizeof(err)), 0);
	CHECK_EQ(keys_load_public(write_file("peer.pub", alice_pub, 0644), key,
	    err, sizeof(err)), 0);
	CHECK_EQ(keys_load_public(write_file("bad.pub", "x\n", 0644), key, err,
	    sizeof(err)), -1);
	CHECK(strstr(err, "peer-public-key") && strstr(err, "zcctund pubkey"));
	CHECK_EQ(keys_load_private(write_file("p.key", alice_priv, 0644), key,
	    err, sizeof(err)), -1);
	CHECK(strstr(err, "private-key-file") && strstr(err, "chmod 600"));

	/* The creds of a public-key link with a shared key on top. */
	options_init(&o);
	snprintf(o.private_key_file, sizeof(o.private_key_file), "%s",
	    write_file("p.key", alice_priv, 0600));
	snprintf(o.peer_public_key, sizeof(o.peer_public_key), "%s",
	    "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=");
	snprintf(o.key_file, sizeof(o.key_file), "%s", write_file("s.key", a, 0600));
	CHECK_EQ(keys_load_creds(&o, &c, err, sizeof(err)), 0);
	CHECK_EQ(c.flags, ZCC_CREDS_SHARED | ZCC_CREDS_PUBLIC);
	o.key_file[0] = '\0';
	CHECK_EQ(keys_load_creds(&o, &c, err, sizeof(err)), 0);
	CHECK_EQ(c.flags, ZCC_CREDS_PUBLIC);
	snprintf(o.peer_public_key, sizeof(o.peer_public_key), "/nonexistent");
	CHECK_EQ(keys_load_creds(&o, &c, err, sizeof(err)), -1);
	CHECK_EQ(c.flags, 0);                   /* wiped on error */
}

int
main(void)
{
	CHECK(sodium_init() >= 0);
	CHECK(mkdtemp(dir) != NULL);
	check_genkey_and_load();
	check_refusals();
	check_key_pairs();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK_EQ(system(cmd), 0);
	}
	CHECK_DONE();
}
