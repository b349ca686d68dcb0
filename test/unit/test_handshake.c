/* SPDX-License-Identifier: ISC */
/*
 * The handshake: the Noise layer against the published Noise vectors
 * (test/unit/data/noise_nnpsk0.txt, noise_ikpsk2.txt), the zcc messages
 * against the PROTOCOL.md vectors of both patterns (read from the document
 * itself, so the two cannot drift apart), then the behaviour: round
 * trips, every tampered byte refused with the right error, wrong link key,
 * wrong addresses, reflection, stray responses, lengths, echo messages,
 * public keys and keysets, TAI64N.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include <sodium.h>

#include "check.h"
#include "zcc/handshake.h"
#include "../../src/noise.h"

#define MAXLEN 256
#define MAXFIELDS 64

/* "name: hex or text" lines of a vector, in file order. */
struct fields {
	int n;
	char name[MAXFIELDS][32];
	char value[MAXFIELDS][512];
};

static size_t
unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t len = 0;

	if (sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &len, NULL) != 0)
		return 0;
	return len;
}

/*
 * Read the "name: value" lines of path: all of them (start NULL), or those
 * of the first ``` block after the line equal to start.
 */
static int
read_fields(const char *path, const char *start, struct fields *f)
{
	char line[1024];
	FILE *fp = fopen(path, "r");
	enum { BEFORE, HEADING, BLOCK } where = start == NULL ? BLOCK : BEFORE;

	memset(f, 0, sizeof(*f));
	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp)) {
		char *colon;

		line[strcspn(line, "\n")] = '\0';
		if (where == BEFORE) {
			if (strcmp(line, start) == 0)
				where = HEADING;
			continue;
		}
		if (strcmp(line, "```") == 0) {
			if (where == BLOCK)
				break;
			where = BLOCK;
			continue;
		}
		if (where != BLOCK || line[0] == '#' ||
		    (colon = strstr(line, ": ")) == NULL || f->n == MAXFIELDS)
			continue;
		*colon = '\0';
		/* Longer names and values are none of ours: skip them. */
		if (strlen(line) >= sizeof(f->name[0]) ||
		    strlen(colon + 2) >= sizeof(f->value[0]))
			continue;
		memcpy(f->name[f->n], line, strlen(line) + 1);
		memcpy(f->value[f->n], colon + 2, strlen(colon + 2) + 1);
		f->n++;
	}
	fclose(fp);
	return f->n > 0 ? 0 : -1;
}

/* The i-th field called name (i from 0), or NULL. */
static const char *
field(const struct fields *f, const char *name, int i)
{
	for (int j = 0; j < f->n; j++)
		if (strcmp(f->name[j], name) == 0 && i-- == 0)
			return f->value[j];
	return NULL;
}

/* A hex field of exactly len bytes (0 length: any), its length or 0. */
static size_t
hex_field(const struct fields *f, const char *name, int i, uint8_t *out,
    size_t len)
{
	const char *v = field(f, name, i);
	size_t got;

	if (v == NULL) {
		fprintf(stderr, "missing field %s[%d]\n", name, i);
		check_failures++;
		return 0;
	}
	got = unhex(v, out, len ? len : MAXLEN);
	if (len != 0)
		CHECK_EQ(got, len);
	return got;
}

static void
mac1_fix(const struct hs_config *c, uint8_t *msg, size_t len)
{
	crypto_generichash(msg + len - 16, 16, msg, len - 16, c->keys[0].mac1_in,
	    sizeof(c->keys[0].mac1_in));
}

/*
 * The end of a published vector, either pattern: both ends' handshake
 * hash, Split's keys, then the transport messages (initiator k1, responder
 * k2, alternating, nonces from 0; the next nonce must fail). The number
 * of messages.
 */
static int
check_noise_end(const struct fields *f, const struct hs_state *i,
    const struct hs_state *r, const uint8_t hh[32])
{
	uint8_t k1[32], k2[32], rk1[32], rk2[32];
	uint8_t pt[MAXLEN], ct[MAXLEN], out[MAXLEN];
	size_t pt_len, ct_len;
	uint64_t n[2] = { 0, 0 };
	int msgs;

	CHECK_MEM(i->h, hh, 32);
	CHECK_MEM(r->h, hh, 32);
	hs_noise_split(i, k1, k2);
	hs_noise_split(r, rk1, rk2);
	CHECK_MEM(k1, rk1, 32);
	CHECK_MEM(k2, rk2, 32);
	for (msgs = 2; field(f, "payload", msgs) != NULL; msgs++) {
		int side = msgs % 2;
		const uint8_t *k = side ? k2 : k1;

		pt_len = hex_field(f, "payload", msgs, pt, 0);
		ct_len = hex_field(f, "ciphertext", msgs, ct, 0);
		CHECK_EQ(ct_len, pt_len + HS_NOISE_TAG_LEN);
		hs_noise_encrypt(k, n[side], NULL, 0, pt, pt_len, out);
		CHECK_MEM(out, ct, ct_len);
		CHECK_EQ(hs_noise_decrypt(k, n[side], NULL, 0, ct, ct_len, out), HS_OK);
		CHECK_MEM(out, pt, pt_len);
		CHECK_EQ(hs_noise_decrypt(k, n[side] + 1, NULL, 0, ct, ct_len, out),
		    HS_ERR_DECRYPT);
		n[side]++;
	}
	return msgs;
}

/* ---- The published Noise vector ---- */

static void
check_noise_vector(void)
{
	struct fields f;
	struct hs_state i, r;
	uint8_t prologue_i[MAXLEN], prologue_r[MAXLEN], psk_i[32], psk_r[32];
	uint8_t e_i[32], e_r[32], hh[32], pt[MAXLEN], ct[MAXLEN], out[MAXLEN];
	size_t pi_len, pr_len, pt_len, ct_len;
	int msgs;

	CHECK(read_fields(ZCC_TEST_DATA "/noise_nnpsk0.txt", NULL, &f) == 0);
	CHECK(field(&f, "protocol_name", 0) != NULL &&
	    strcmp(field(&f, "protocol_name", 0),
	    "Noise_NNpsk0_25519_ChaChaPoly_SHA256") == 0);
	pi_len = hex_field(&f, "init_prologue", 0, prologue_i, 0);
	pr_len = hex_field(&f, "resp_prologue", 0, prologue_r, 0);
	hex_field(&f, "init_psk", 0, psk_i, 32);
	hex_field(&f, "resp_psk", 0, psk_r, 32);
	hex_field(&f, "init_ephemeral", 0, e_i, 32);
	hex_field(&f, "resp_ephemeral", 0, e_r, 32);
	hex_field(&f, "handshake_hash", 0, hh, 32);

	memset(&i, 0, sizeof(i));
	memset(&r, 0, sizeof(r));
	hs_noise_start(&i, prologue_i, pi_len);
	hs_noise_start(&r, prologue_r, pr_len);

	/* Message 1, initiator to responder. */
	pt_len = hex_field(&f, "payload", 0, pt, 0);
	ct_len = hex_field(&f, "ciphertext", 0, ct, 0);
	CHECK_EQ(ct_len, HS_NOISE_MSG_LEN(pt_len));
	CHECK_EQ(hs_noise_write1(&i, psk_i, e_i, pt, pt_len, out), HS_OK);
	CHECK_MEM(out, ct, ct_len);
	memset(out, 0, sizeof(out));
	CHECK_EQ(hs_noise_read1(&r, psk_r, ct, ct_len, out), HS_OK);
	CHECK_MEM(out, pt, pt_len);

	/* Message 2, responder to initiator. */
	pt_len = hex_field(&f, "payload", 1, pt, 0);
	ct_len = hex_field(&f, "ciphertext", 1, ct, 0);
	CHECK_EQ(ct_len, HS_NOISE_MSG_LEN(pt_len));
	CHECK_EQ(hs_noise_write2(&r, e_r, pt, pt_len, out), HS_OK);
	CHECK_MEM(out, ct, ct_len);
	memset(out, 0, sizeof(out));
	CHECK_EQ(hs_noise_read2(&i, ct, ct_len, out), HS_OK);
	CHECK_MEM(out, pt, pt_len);

	msgs = check_noise_end(&f, &i, &r, hh);
	CHECK_EQ(msgs, 6);
	fprintf(stderr, "noise vector: %d messages\n", msgs);
}

/* The same for Noise_IKpsk2_25519_ChaChaPoly_SHA256 (public-key links). */
static void
check_noise_ik_vector(void)
{
	struct fields f;
	struct hs_state i, r;
	uint8_t prologue[MAXLEN], psk[32], s_i[32], s_r[32], rs[32], pub_r[32];
	uint8_t pub_i[32], e_i[32], e_r[32], hh[32], pt[MAXLEN], ct[MAXLEN];
	uint8_t out[MAXLEN];
	size_t p_len, pt_len, ct_len;

	CHECK(read_fields(ZCC_TEST_DATA "/noise_ikpsk2.txt", NULL, &f) == 0);
	CHECK(field(&f, "protocol_name", 0) != NULL &&
	    strcmp(field(&f, "protocol_name", 0),
	    "Noise_IKpsk2_25519_ChaChaPoly_SHA256") == 0);
	p_len = hex_field(&f, "init_prologue", 0, prologue, 0);
	hex_field(&f, "init_psk", 0, psk, 32);
	hex_field(&f, "init_static", 0, s_i, 32);
	hex_field(&f, "init_ephemeral", 0, e_i, 32);
	hex_field(&f, "init_remote_static", 0, rs, 32);
	hex_field(&f, "resp_static", 0, s_r, 32);
	hex_field(&f, "resp_ephemeral", 0, e_r, 32);
	hex_field(&f, "handshake_hash", 0, hh, 32);
	CHECK(crypto_scalarmult_base(pub_r, s_r) == 0);
	CHECK_MEM(pub_r, rs, 32);
	CHECK(crypto_scalarmult_base(pub_i, s_i) == 0);

	memset(&i, 0, sizeof(i));
	memset(&r, 0, sizeof(r));
	hs_noise_ik_start(&i, prologue, p_len, rs);
	hs_noise_ik_start(&r, prologue, p_len, pub_r);

	pt_len = hex_field(&f, "payload", 0, pt, 0);
	ct_len = hex_field(&f, "ciphertext", 0, ct, 0);
	CHECK_EQ(ct_len, HS_NOISE_IK1_LEN(pt_len));
	CHECK_EQ(hs_noise_ik_write1(&i, s_i, rs, e_i, pt, pt_len, out), HS_OK);
	CHECK_MEM(out, ct, ct_len);
	memset(out, 0, sizeof(out));
	CHECK_EQ(hs_noise_ik_read1(&r, s_r, ct, ct_len, out), HS_OK);
	CHECK_MEM(out, pt, pt_len);
	CHECK_MEM(r.rs, pub_i, 32);     /* the responder learned who */

	pt_len = hex_field(&f, "payload", 1, pt, 0);
	ct_len = hex_field(&f, "ciphertext", 1, ct, 0);
	CHECK_EQ(ct_len, HS_NOISE_MSG_LEN(pt_len));
	CHECK_EQ(hs_noise_ik_write2(&r, e_r, psk, pt, pt_len, out), HS_OK);
	CHECK_MEM(out, ct, ct_len);
	memset(out, 0, sizeof(out));
	CHECK_EQ(hs_noise_ik_read2(&i, psk, ct, ct_len, out), HS_OK);
	CHECK_MEM(out, pt, pt_len);

	CHECK_EQ(check_noise_end(&f, &i, &r, hh), 6);
	fprintf(stderr, "noise IKpsk2 vector: checked\n");
}

/* ---- The PROTOCOL.md vectors ---- */

struct zvec {
	uint8_t psk[32], mac1_key[32], e_i[32], e_r[32], tai64n[12];
	struct zcc_addr a_i, a_r;
	struct zcc_addr a_i6, a_r6;             /* the IPv6 vector's */
	uint32_t idx_i, idx_r;
	uint8_t key_id;
	uint64_t sec;
	uint32_t nsec;
	uint8_t init[HS_INIT_LEN], resp[HS_RESP_LEN];
	uint8_t k1[32], k2[32], ek1[32], ek2[32];
	uint8_t echo_req[HS_ECHO_LEN], echo_rep[HS_ECHO_LEN];
	uint8_t init6[HS_INIT_LEN], resp6[HS_RESP_LEN], k1_6[32], k2_6[32];
	uint16_t port;
	struct zcc_addr nat_to_r, nat_to_i;     /* the NAT vector's views */
	uint8_t nat_init[HS_INIT_LEN], nat_resp[HS_RESP_LEN];
};

static struct zvec zv;

static int
read_zvec(void)
{
	struct fields f;
	const char *s;
	unsigned long long sec = 0;
	unsigned long nsec = 0;

	if (read_fields(ZCC_SOURCE_DIR "/docs/PROTOCOL.md",
	    "## Handshake test vectors", &f) != 0)
		return -1;
	hex_field(&f, "psk", 0, zv.psk, 32);
	hex_field(&f, "mac1-key", 0, zv.mac1_key, 32);
	hex_field(&f, "initiator-ephemeral", 0, zv.e_i, 32);
	hex_field(&f, "responder-ephemeral", 0, zv.e_r, 32);
	hex_field(&f, "tai64n", 0, zv.tai64n, 12);
	hex_field(&f, "init", 0, zv.init, HS_INIT_LEN);
	hex_field(&f, "resp", 0, zv.resp, HS_RESP_LEN);
	hex_field(&f, "key-i2r", 0, zv.k1, 32);
	hex_field(&f, "key-r2i", 0, zv.k2, 32);
	hex_field(&f, "echo-key-i2r", 0, zv.ek1, 32);
	hex_field(&f, "echo-key-r2i", 0, zv.ek2, 32);
	hex_field(&f, "echo-request", 0, zv.echo_req, HS_ECHO_LEN);
	hex_field(&f, "echo-reply", 0, zv.echo_rep, HS_ECHO_LEN);
	hex_field(&f, "ipv6-init", 0, zv.init6, HS_INIT_LEN);
	hex_field(&f, "ipv6-resp", 0, zv.resp6, HS_RESP_LEN);
	hex_field(&f, "ipv6-key-i2r", 0, zv.k1_6, 32);
	hex_field(&f, "ipv6-key-r2i", 0, zv.k2_6, 32);
	hex_field(&f, "nat-init", 0, zv.nat_init, HS_INIT_LEN);
	hex_field(&f, "nat-resp", 0, zv.nat_resp, HS_RESP_LEN);
	if ((s = field(&f, "port", 0)) == NULL)
		return -1;
	zv.port = (uint16_t)atoi(s);
	if ((s = field(&f, "nat-initiator-sends-to", 0)) == NULL ||
	    addr_parse(&zv.nat_to_r, s) != 0)
		return -1;
	if ((s = field(&f, "nat-responder-sends-to", 0)) == NULL ||
	    addr_parse(&zv.nat_to_i, s) != 0)
		return -1;
	if ((s = field(&f, "initiator-address", 0)) == NULL ||
	    addr_parse(&zv.a_i, s) != 0 || zv.a_i.af != AF_INET)
		return -1;
	if ((s = field(&f, "responder-address", 0)) == NULL ||
	    addr_parse(&zv.a_r, s) != 0 || zv.a_r.af != AF_INET)
		return -1;
	if ((s = field(&f, "ipv6-initiator-address", 0)) == NULL ||
	    addr_parse(&zv.a_i6, s) != 0 || zv.a_i6.af != AF_INET6)
		return -1;
	if ((s = field(&f, "ipv6-responder-address", 0)) == NULL ||
	    addr_parse(&zv.a_r6, s) != 0 || zv.a_r6.af != AF_INET6)
		return -1;
	if ((s = field(&f, "initiator-index", 0)) == NULL)
		return -1;
	zv.idx_i = (uint32_t)strtoul(s, NULL, 16);
	if ((s = field(&f, "responder-index", 0)) == NULL)
		return -1;
	zv.idx_r = (uint32_t)strtoul(s, NULL, 16);
	if ((s = field(&f, "key-id", 0)) == NULL)
		return -1;
	zv.key_id = (uint8_t)atoi(s);
	if ((s = field(&f, "time", 0)) == NULL ||
	    sscanf(s, "%llu.%lu", &sec, &nsec) != 2)
		return -1;
	zv.sec = sec;
	zv.nsec = (uint32_t)nsec;
	return 0;
}

/* The configurations of the vector: ci at the initiator, cr at the responder. */
static void
vector_configs(struct hs_config *ci, struct hs_config *cr)
{
	hs_config_init(ci, zv.psk, &zv.a_i, &zv.a_r);
	hs_config_init(cr, zv.psk, &zv.a_r, &zv.a_i);
	ci->port = cr->port = zv.port;
}

/* The vector's pending initiation (sti) and the responder's half (str). */
static void
vector_states(const struct hs_config *ci, const struct hs_config *cr,
    struct hs_state *sti, struct hs_state *str)
{
	uint8_t msg[HS_INIT_MAX], ts[12];

	CHECK_EQ(hs_init_create(ci, sti, zv.e_i, zv.idx_i, zv.key_id, zv.tai64n,
	    msg), HS_OK);
	if (str != NULL)
		CHECK_EQ(hs_init_consume(cr, str, msg, HS_INIT_LEN, NULL, ts), HS_OK);
}

static void
check_zcc_vectors(void)
{
	struct hs_config ci, cr;
	struct hs_state sti, str;
	struct hs_keys ki, kr;
	uint8_t msg[HS_INIT_MAX], ts[12], ek[32];
	enum hs_type type;
	uint8_t flags;
	uint64_t counter;

	vector_configs(&ci, &cr);
	CHECK_MEM(ci.keys[0].mac1_in, zv.mac1_key, 32);
	CHECK_MEM(cr.keys[0].mac1_in, zv.mac1_key, 32);
	hs_tai64n(ts, zv.sec, zv.nsec);
	CHECK_MEM(ts, zv.tai64n, 12);

	CHECK_EQ(hs_init_create(&ci, &sti, zv.e_i, zv.idx_i, zv.key_id, zv.tai64n,
	    msg), HS_OK);
	CHECK_MEM(msg, zv.init, HS_INIT_LEN);
	CHECK_EQ(hs_type(msg, HS_INIT_LEN), HS_TYPE_INIT);
	CHECK_EQ(hs_receiver_index(msg, HS_INIT_LEN), 0);

	memset(ts, 0, sizeof(ts));
	CHECK_EQ(hs_init_consume(&cr, &str, zv.init, HS_INIT_LEN, NULL, ts), HS_OK);
	CHECK_MEM(ts, zv.tai64n, 12);
	CHECK_EQ(str.key_id, zv.key_id);
	CHECK_EQ(str.remote_index, zv.idx_i);

	CHECK_EQ(hs_resp_create(&cr, &str, zv.e_r, zv.idx_r, msg, &kr), HS_OK);
	CHECK_MEM(msg, zv.resp, HS_RESP_LEN);
	CHECK(sodium_is_zero((const uint8_t *)&str, sizeof(str)));
	CHECK_EQ(hs_type(msg, HS_RESP_LEN), HS_TYPE_RESP);
	CHECK_EQ(hs_receiver_index(msg, HS_RESP_LEN), zv.idx_i);

	CHECK_EQ(hs_resp_consume(&ci, &sti, zv.resp, HS_RESP_LEN, &ki), HS_OK);
	CHECK(sodium_is_zero((const uint8_t *)&sti, sizeof(sti)));
	CHECK_MEM(ki.send, zv.k1, 32);
	CHECK_MEM(ki.recv, zv.k2, 32);
	CHECK_MEM(kr.send, zv.k2, 32);
	CHECK_MEM(kr.recv, zv.k1, 32);
	CHECK_EQ(ki.local_index, zv.idx_i);
	CHECK_EQ(ki.remote_index, zv.idx_r);
	CHECK_EQ(kr.local_index, zv.idx_r);
	CHECK_EQ(kr.remote_index, zv.idx_i);
	CHECK_EQ(ki.key_id, zv.key_id);
	CHECK_EQ(kr.key_id, zv.key_id);

	/* The initiator's echo request, the responder's reply. */
	hs_echo_key(ek, ki.send);
	CHECK_MEM(ek, zv.ek1, 32);
	hs_echo_create(ek, HS_TYPE_ECHO_REQUEST, 0, ki.remote_index, 1, msg);
	CHECK_MEM(msg, zv.echo_req, HS_ECHO_LEN);
	CHECK_EQ(hs_receiver_index(msg, HS_ECHO_LEN), zv.idx_r);
	hs_echo_key(ek, kr.recv);
	CHECK_EQ(hs_echo_open(ek, zv.echo_req, HS_ECHO_LEN, &type, &flags, &counter), HS_OK);
	CHECK_EQ(type, HS_TYPE_ECHO_REQUEST);
	CHECK_EQ(counter, 1);

	hs_echo_key(ek, kr.send);
	CHECK_MEM(ek, zv.ek2, 32);
	hs_echo_create(ek, HS_TYPE_ECHO_REPLY, 0, kr.remote_index, 1, msg);
	CHECK_MEM(msg, zv.echo_rep, HS_ECHO_LEN);
	hs_echo_key(ek, ki.recv);
	CHECK_EQ(hs_echo_open(ek, zv.echo_rep, HS_ECHO_LEN, &type, &flags, &counter), HS_OK);
	CHECK_EQ(type, HS_TYPE_ECHO_REPLY);
	CHECK_EQ(counter, 1);
}

/*
 * The IPv6 vector: the same keys, ephemerals, indices and time as the
 * IPv4 one, addresses of 16 bytes in the prologue. An end configured with
 * the IPv4 addresses, or their IPv4-mapped IPv6 forms, refuses it.
 */
static void
check_ipv6_vector(void)
{
	struct hs_config ci, cr, bad;
	struct hs_state sti, str;
	struct hs_keys ki, kr;
	struct zcc_addr mi, mr;
	uint8_t msg[HS_INIT_MAX], ts[12];

	hs_config_init(&ci, zv.psk, &zv.a_i6, &zv.a_r6);
	hs_config_init(&cr, zv.psk, &zv.a_r6, &zv.a_i6);
	ci.port = cr.port = zv.port;
	CHECK_EQ(hs_init_create(&ci, &sti, zv.e_i, zv.idx_i, zv.key_id,
	    zv.tai64n, msg), HS_OK);
	CHECK_MEM(msg, zv.init6, HS_INIT_LEN);
	CHECK(memcmp(msg, zv.init, HS_INIT_LEN) != 0);
	CHECK_EQ(hs_init_consume(&cr, &str, zv.init6, HS_INIT_LEN, NULL, ts),
	    HS_OK);
	CHECK_MEM(ts, zv.tai64n, 12);
	CHECK_EQ(hs_resp_create(&cr, &str, zv.e_r, zv.idx_r, msg, &kr), HS_OK);
	CHECK_MEM(msg, zv.resp6, HS_RESP_LEN);
	CHECK_EQ(hs_resp_consume(&ci, &sti, zv.resp6, HS_RESP_LEN, &ki), HS_OK);
	CHECK_MEM(ki.send, zv.k1_6, 32);
	CHECK_MEM(kr.send, zv.k2_6, 32);

	hs_config_init(&bad, zv.psk, &zv.a_r, &zv.a_i);
	CHECK_EQ(hs_init_consume(&bad, &str, zv.init6, HS_INIT_LEN, NULL, ts),
	    HS_ERR_DECRYPT);
	CHECK_EQ(addr_parse(&mi, "::ffff:10.0.0.1"), 0);
	CHECK_EQ(addr_parse(&mr, "::ffff:10.0.0.2"), 0);
	hs_config_init(&bad, zv.psk, &mr, &mi);
	CHECK_EQ(hs_init_consume(&bad, &str, zv.init, HS_INIT_LEN, NULL, ts),
	    HS_ERR_DECRYPT);
}

/*
 * The NAT vector: each end sends to the other's public address. Both
 * complete, and each learns the other's view: its own address and the one
 * it sends to, which differ from what this end has configured.
 */
static void
check_nat_vector(void)
{
	struct hs_config ci, cr;
	struct hs_state sti, str;
	struct hs_keys ki, kr;
	uint8_t msg[HS_INIT_MAX], ts[12];

	hs_config_init(&ci, zv.psk, &zv.a_i, &zv.nat_to_r);
	hs_config_init(&cr, zv.psk, &zv.a_r, &zv.nat_to_i);
	ci.port = cr.port = zv.port;
	CHECK_EQ(hs_init_create(&ci, &sti, zv.e_i, zv.idx_i, zv.key_id,
	    zv.tai64n, msg), HS_OK);
	CHECK_MEM(msg, zv.nat_init, HS_INIT_LEN);
	CHECK_EQ(hs_init_consume(&cr, &str, zv.nat_init, HS_INIT_LEN, NULL, ts),
	    HS_OK);
	CHECK(addr_equal(&str.peer_view.self, &zv.a_i));
	CHECK(addr_equal(&str.peer_view.peer, &zv.nat_to_r));
	CHECK_EQ(str.peer_view.port, zv.port);
	CHECK_EQ(hs_resp_create(&cr, &str, zv.e_r, zv.idx_r, msg, &kr), HS_OK);
	CHECK_MEM(msg, zv.nat_resp, HS_RESP_LEN);
	CHECK(addr_equal(&kr.peer_view.self, &zv.a_i));
	CHECK_EQ(hs_resp_consume(&ci, &sti, zv.nat_resp, HS_RESP_LEN, &ki), HS_OK);
	CHECK(addr_equal(&ki.peer_view.self, &zv.a_r));
	CHECK(addr_equal(&ki.peer_view.peer, &zv.nat_to_i));
	CHECK_MEM(ki.send, zv.k1, 32);
	CHECK_MEM(kr.send, zv.k2, 32);
}

/*
 * The framing as PROTOCOL.md states it, rebuilt here on the Noise layer:
 * header, prologue, payload, mac1. Also the one way to make an authentic
 * init whose payload is not this version's (reserved bytes set).
 */
static void
frame_init(const struct hs_config *ci, const uint8_t payload[52], uint8_t out[HS_INIT_LEN])
{
	struct hs_state s;

	memset(&s, 0, sizeof(s));
	hs_noise_start(&s, (const uint8_t *)"zcc handshake v2", 16);
	out[0] = HS_TYPE_INIT, out[1] = out[2] = out[3] = 0;
	out[4] = (uint8_t)zv.idx_i, out[5] = (uint8_t)(zv.idx_i >> 8);
	out[6] = (uint8_t)(zv.idx_i >> 16), out[7] = (uint8_t)(zv.idx_i >> 24);
	CHECK_EQ(hs_noise_write1(&s, ci->keys[0].psk, zv.e_i, payload, 52, out + 8), HS_OK);
	mac1_fix(ci, out, HS_INIT_LEN);
}

/*
 * payload1 = tai64n, key id, 3 zero, then the view: family 4, 0, the port
 * big-endian, our address and the peer's, each padded to 16 bytes.
 */
static void
check_framing(void)
{
	struct hs_config ci, cr;
	struct hs_state st;
	uint8_t payload[52], msg[HS_INIT_MAX], ts[12];
	static const int bad[] = { 13, 14, 15, 16, 17, 24, 35, 40, 51 };

	vector_configs(&ci, &cr);
	memset(payload, 0, sizeof(payload));
	memcpy(payload, zv.tai64n, 12);
	payload[12] = zv.key_id;
	payload[16] = 4;
	payload[18] = (uint8_t)(zv.port >> 8), payload[19] = (uint8_t)zv.port;
	memcpy(payload + 20, zv.a_i.a, 4);
	memcpy(payload + 36, zv.a_r.a, 4);
	frame_init(&ci, payload, msg);
	CHECK_MEM(msg, zv.init, HS_INIT_LEN);

	/* Reserved bytes, another family, the byte after it, padding. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t was = payload[bad[i]];

		payload[bad[i]] = bad[i] == 16 ? 6 : 0x80;
		frame_init(&ci, payload, msg);
		CHECK_EQ(hs_init_consume(&cr, &st, msg, HS_INIT_LEN, NULL, ts),
		    HS_ERR_DECRYPT);
		payload[bad[i]] = was;
	}
}

/* ---- Behaviour ---- */

/*
 * Datagrams shorter than a header, each in a buffer of exactly its size so
 * that AddressSanitizer sees any read past it (fuzz_handshake found one).
 */
static void
check_short_datagrams(void)
{
	struct hs_config c;
	struct hs_state st;
	struct hs_keys k;
	uint8_t psk[32] = { 1 }, ts[12];
	struct zcc_addr a, b;

	addr_parse(&a, "10.0.0.1");
	addr_parse(&b, "10.0.0.2");
	hs_config_init(&c, psk, &a, &b);
	for (size_t n = 0; n < 4; n++) {
		uint8_t *m = malloc(n ? n : 1);

		CHECK(m != NULL);
		if (m == NULL)
			return;
		memset(m, HS_TYPE_INIT, n ? n : 1);
		CHECK_EQ(hs_init_consume(&c, &st, m, n, NULL, ts), HS_ERR_SHORT);
		memset(m, HS_TYPE_RESP, n ? n : 1);
		CHECK_EQ(hs_resp_consume(&c, &st, m, n, &k), HS_ERR_SHORT);
		free(m);
	}
	hs_config_wipe(&c);
}

static void
check_round_trips(void)
{
	for (int n = 0; n < 50; n++) {
		struct hs_config ci, cr;
		struct hs_state sti, str;
		struct hs_keys ki, kr;
		uint8_t psk[32], e_i[32], e_r[32], tai[12], ts[12];
		uint8_t m1[HS_INIT_MAX], m2[HS_RESP_LEN];
		struct zcc_addr a, b;
		uint8_t ab[32];
		uint32_t ii = randombytes_random(), ir = randombytes_random();
		uint8_t id = (uint8_t)n;

		randombytes_buf(psk, sizeof(psk));
		randombytes_buf(e_i, sizeof(e_i));
		randombytes_buf(e_r, sizeof(e_r));
		/* Half the pairs IPv4, half IPv6. */
		randombytes_buf(ab, sizeof(ab));
		addr_set(&a, n % 2 ? AF_INET6 : AF_INET, ab);
		addr_set(&b, n % 2 ? AF_INET6 : AF_INET, ab + 16);
		hs_tai64n(tai, (uint64_t)randombytes_random(), randombytes_uniform(1000000000));
		hs_config_init(&ci, psk, &a, &b);
		hs_config_init(&cr, psk, &b, &a);
		ci.codec = (uint8_t)(n % HS_CODECS);            /* each offers its own */
		cr.codec = (uint8_t)((n / HS_CODECS) % HS_CODECS);

		CHECK_EQ(hs_init_create(&ci, &sti, e_i, ii, id, tai, m1), HS_OK);
		CHECK_EQ(hs_init_consume(&cr, &str, m1, HS_INIT_LEN, NULL, ts), HS_OK);
		CHECK_MEM(ts, tai, 12);
		CHECK_EQ(hs_resp_create(&cr, &str, e_r, ir, m2, &kr), HS_OK);
		CHECK_EQ(hs_receiver_index(m2, sizeof(m2)), ii);
		CHECK_EQ(hs_resp_consume(&ci, &sti, m2, sizeof(m2), &ki), HS_OK);
		CHECK_MEM(ki.send, kr.recv, 32);
		CHECK_MEM(ki.recv, kr.send, 32);
		CHECK(memcmp(ki.send, ki.recv, 32) != 0);
		CHECK_EQ(ki.local_index, ii);
		CHECK_EQ(ki.remote_index, ir);
		CHECK_EQ(kr.local_index, ir);
		CHECK_EQ(kr.remote_index, ii);
		CHECK_EQ(ki.key_id, id);
		CHECK_EQ(m1[1], ci.codec);
		CHECK_EQ(m2[1], cr.codec);
		CHECK_EQ(kr.peer_codec, ci.codec);
		CHECK_EQ(ki.peer_codec, cr.codec);
		CHECK_EQ(kr.key_id, id);
		hs_keys_wipe(&ki);
		CHECK(sodium_is_zero((const uint8_t *)&ki, sizeof(ki)));
		hs_config_wipe(&ci);
		CHECK(sodium_is_zero((const uint8_t *)&ci, sizeof(ci)));
	}
}

/*
 * The ports digest: a set's (order and repeats do not count), never 0
 * but for none, carried by init and resp to the other end's keys.
 */
static void
check_ports_digest(void)
{
	static const uint16_t a[] = { 80, 443 }, b[] = { 443, 80, 80 },
	    c[] = { 80, 444 };
	struct hs_config ci, cr;
	struct hs_state si, sr;
	struct hs_keys ki, kr;
	uint8_t init[HS_INIT_MAX], resp[HS_RESP_LEN], ts[12], e[32] = { 7 };

	CHECK_EQ(hs_ports_digest(a, 0), 0);
	CHECK(hs_ports_digest(a, 2) != 0);
	CHECK_EQ(hs_ports_digest(a, 2), hs_ports_digest(b, 3));
	CHECK(hs_ports_digest(a, 2) != hs_ports_digest(c, 2));
	CHECK(hs_ports_digest(a, 1) != hs_ports_digest(a, 2));
	vector_configs(&ci, &cr);
	ci.ports_digest = hs_ports_digest(a, 2);
	cr.ports_digest = hs_ports_digest(c, 2);
	CHECK_EQ(hs_init_create(&ci, &si, e, 1, 9, zv.tai64n, init), HS_OK);
	CHECK_EQ(hs_init_consume(&cr, &sr, init, HS_INIT_LEN, NULL, ts), HS_OK);
	CHECK_EQ(sr.peer_ports, ci.ports_digest);
	e[0] = 8;
	CHECK_EQ(hs_resp_create(&cr, &sr, e, 2, resp, &kr), HS_OK);
	CHECK_EQ(kr.peer_ports, ci.ports_digest);
	CHECK_EQ(hs_resp_consume(&ci, &si, resp, sizeof(resp), &ki), HS_OK);
	CHECK_EQ(ki.peer_ports, cr.ports_digest);
}

/* Every bit of every byte of the init, flipped. */
static void
check_init_tampering(void)
{
	struct hs_config ci, cr;
	struct hs_state st;
	uint8_t msg[HS_INIT_LEN], ts[12];

	vector_configs(&ci, &cr);
	for (size_t at = 0; at < HS_INIT_LEN; at++) {
		for (int bit = 0; bit < 8; bit++) {
			/*
			 * Byte 1 is the offered codec, bytes 2-3 the ports
			 * digest: mac1 alone covers them.
			 */
			int codec = (at == 1 && ((1 << bit) < HS_CODECS ||
			    bit >= HS_SUITES_SHIFT)) ||
			    at == 2 || at == 3;
			int framing = at < 4 && !codec;
			int want = framing ? HS_ERR_SHORT : HS_ERR_MAC;

			memcpy(msg, zv.init, sizeof(msg));
			msg[at] ^= (uint8_t)(1 << bit);
			CHECK_EQ(hs_init_consume(&cr, &st, msg, sizeof(msg), NULL, ts), want);
			/*
			 * Past mac1 (a peer that has the link key): the sender
			 * index is not part of the Noise transcript, everything
			 * from e on is.
			 */
			if (at >= 72)
				continue;
			mac1_fix(&cr, msg, sizeof(msg));
			want = framing ? HS_ERR_SHORT : at < 8 ? HS_OK : HS_ERR_DECRYPT;
			CHECK_EQ(hs_init_consume(&cr, &st, msg, sizeof(msg), NULL, ts), want);
		}
	}
}

static void
check_resp_tampering(void)
{
	struct hs_config ci, cr;
	struct hs_state sti, pristine, str;
	struct hs_keys k;
	uint8_t msg[HS_RESP_LEN];

	vector_configs(&ci, &cr);
	vector_states(&ci, &cr, &pristine, &str);
	for (size_t at = 0; at < HS_RESP_LEN; at++) {
		for (int bit = 0; bit < 8; bit++) {
			/* Codec, suites and ports digest: mac1 alone covers them. */
			int codec = (at == 1 && ((1 << bit) < HS_CODECS ||
			    bit >= HS_SUITES_SHIFT)) ||
			    at == 2 || at == 3;
			int framing = at < 4 && !codec;
			int want = framing ? HS_ERR_SHORT : HS_ERR_MAC;

			sti = pristine;
			memcpy(msg, zv.resp, sizeof(msg));
			msg[at] ^= (uint8_t)(1 << bit);
			CHECK_EQ(hs_resp_consume(&ci, &sti, msg, sizeof(msg), &k), want);
			CHECK_MEM(&sti, &pristine, sizeof(sti));
			if (at >= 60)
				continue;
			mac1_fix(&ci, msg, sizeof(msg));
			want = framing ? HS_ERR_SHORT : at < 8 ? HS_OK :
			    at < 12 ? HS_ERR_INDEX : HS_ERR_DECRYPT;
			CHECK_EQ(hs_resp_consume(&ci, &sti, msg, sizeof(msg), &k), want);
			if (want != HS_OK)
				CHECK_MEM(&sti, &pristine, sizeof(sti));
		}
	}
	/* And the untouched one still completes the pending handshake. */
	sti = pristine;
	CHECK_EQ(hs_resp_consume(&ci, &sti, zv.resp, sizeof(zv.resp), &k), HS_OK);
	CHECK_MEM(k.send, zv.k1, 32);
}

static void
check_echo_tampering(void)
{
	uint8_t msg[HS_ECHO_LEN];
	enum hs_type type = 0;
	uint8_t flags = 0;
	uint64_t counter = 0;

	for (size_t at = 0; at < HS_ECHO_LEN; at++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(msg, zv.echo_req, sizeof(msg));
			msg[at] ^= (uint8_t)(1 << bit);
			/* Byte 1's bits 0 and 1 are defined flags: the tag fails. */
			int flag = at == 1 && ((1 << bit) & HS_ECHO_FLAGS);

			CHECK_EQ(hs_echo_open(zv.ek1, msg, sizeof(msg), &type, &flags, &counter),
			    at < 4 && !flag ? HS_ERR_SHORT : HS_ERR_DECRYPT);
		}
	}
	/* A request relabelled as a reply: same length, other type. */
	memcpy(msg, zv.echo_req, sizeof(msg));
	msg[0] = HS_TYPE_ECHO_REPLY;
	CHECK_EQ(hs_echo_open(zv.ek1, msg, sizeof(msg), &type, &flags, &counter), HS_ERR_DECRYPT);
	/* Wrong keys: the other direction's, the session key itself. */
	CHECK_EQ(hs_echo_open(zv.ek2, zv.echo_req, HS_ECHO_LEN, &type, &flags, &counter),
	    HS_ERR_DECRYPT);
	CHECK_EQ(hs_echo_open(zv.k1, zv.echo_req, HS_ECHO_LEN, &type, &flags, &counter),
	    HS_ERR_DECRYPT);
	/* Other types are not echoes. */
	for (int t = 0; t < 256; t++) {
		if (t == HS_TYPE_ECHO_REQUEST || t == HS_TYPE_ECHO_REPLY)
			continue;
		hs_echo_create(zv.ek1, (enum hs_type)t, 0, zv.idx_r, 1, msg);
		CHECK_EQ(hs_echo_open(zv.ek1, msg, sizeof(msg), &type, &flags, &counter),
		    HS_ERR_SHORT);
	}
	/* A large counter round trips (the nonce is the counter). */
	hs_echo_create(zv.ek1, HS_TYPE_ECHO_REPLY, 0, 7, UINT64_C(0x0102030405060708), msg);
	CHECK_EQ(hs_echo_open(zv.ek1, msg, sizeof(msg), &type, &flags, &counter), HS_OK);
	CHECK_EQ(type, HS_TYPE_ECHO_REPLY);
	CHECK_EQ(flags, 0);
	CHECK(counter == UINT64_C(0x0102030405060708));
	CHECK_EQ(hs_receiver_index(msg, sizeof(msg)), 7);
	/* The flag round trips, authenticated; undefined ones are not sent. */
	hs_echo_create(zv.ek1, HS_TYPE_ECHO_REQUEST, 0xff, 7, 9, msg);
	CHECK_EQ(msg[1], HS_ECHO_ENCAP | HS_ECHO_NAT);
	CHECK_EQ(hs_echo_open(zv.ek1, msg, sizeof(msg), &type, &flags, &counter), HS_OK);
	CHECK_EQ(flags, HS_ECHO_ENCAP | HS_ECHO_NAT);
	msg[1] = 0;
	CHECK_EQ(hs_echo_open(zv.ek1, msg, sizeof(msg), &type, &flags, &counter),
	    HS_ERR_DECRYPT);
}

static void
check_wrong_psk_and_addresses(void)
{
	struct hs_config ci, cr, bad;
	struct hs_state sti, str;
	struct hs_keys k;
	uint8_t psk[32], ts[12];
	struct zcc_addr other;

	vector_configs(&ci, &cr);
	vector_states(&ci, &cr, &sti, &str);
	memcpy(psk, zv.psk, 32);
	psk[31] ^= 1;

	/* Another link key: mac1 already fails, at both ends. */
	hs_config_init(&bad, psk, &zv.a_r, &zv.a_i);
	CHECK_EQ(hs_init_consume(&bad, &str, zv.init, HS_INIT_LEN, NULL, ts), HS_ERR_MAC);
	hs_config_init(&bad, psk, &zv.a_i, &zv.a_r);
	{
		struct hs_state stbad;
		uint8_t m1[HS_INIT_MAX];

		CHECK_EQ(hs_init_create(&bad, &stbad, zv.e_i, zv.idx_i, 1, zv.tai64n,
		    m1), HS_OK);
		CHECK_EQ(hs_resp_consume(&bad, &stbad, zv.resp, HS_RESP_LEN, &k),
		    HS_ERR_MAC);
		/* The init's keys, not the config's now, check the resp. */
		CHECK_EQ(hs_resp_consume(&bad, &sti, zv.resp, HS_RESP_LEN, &k), HS_OK);
		vector_states(&ci, &cr, &sti, &str);
	}

	/*
	 * The right key but other addresses (a NAT between the ends): the
	 * handshake goes through, and the responder learns the initiator's
	 * view, which is what it must open the initiator's segments over.
	 */
	addr_parse(&other, "10.0.0.3");
	hs_config_init(&bad, zv.psk, &other, &zv.a_i);
	CHECK_EQ(hs_init_consume(&bad, &str, zv.init, HS_INIT_LEN, NULL, ts), HS_OK);
	CHECK(addr_equal(&str.peer_view.self, &zv.a_i));
	CHECK(addr_equal(&str.peer_view.peer, &zv.a_r));
	hs_config_init(&bad, zv.psk, &zv.a_i, &other);
	{
		struct hs_state s;
		uint8_t m1[HS_INIT_MAX];

		CHECK_EQ(hs_init_create(&bad, &s, zv.e_i, zv.idx_i, zv.key_id,
		    zv.tai64n, m1), HS_OK);
		CHECK_EQ(hs_init_consume(&cr, &str, m1, HS_INIT_LEN, NULL, ts),
		    HS_OK);
		CHECK(addr_equal(&str.peer_view.peer, &other));
	}
	/* Another family in the view than ours: not for this link. */
	addr_parse(&other, "2001:db8::9");
	{
		struct zcc_addr other2;

		addr_parse(&other2, "2001:db8::8");
		hs_config_init(&bad, zv.psk, &other, &other2);
		CHECK_EQ(hs_init_consume(&bad, &str, zv.init, HS_INIT_LEN, NULL,
		    ts), HS_ERR_DECRYPT);
	}
	vector_states(&ci, &cr, &sti, &str);
	/* The pending state is still good. */
	CHECK_EQ(hs_resp_consume(&ci, &sti, zv.resp, HS_RESP_LEN, &k), HS_OK);
}

/* Our own init sent back to us. */
static void
check_reflection(void)
{
	struct hs_config ci, cr;
	struct hs_state sti, st;
	uint8_t msg[HS_INIT_MAX], ts[12];

	vector_configs(&ci, &cr);
	CHECK_EQ(hs_init_create(&ci, &sti, zv.e_i, zv.idx_i, zv.key_id, zv.tai64n,
	    msg), HS_OK);
	CHECK_EQ(hs_init_consume(&ci, &st, msg, HS_INIT_LEN, sti.e_pub, ts),
	    HS_ERR_REFLECTED);
	/* Even without the ephemeral check, our own view gives it away. */
	CHECK_EQ(hs_init_consume(&ci, &st, msg, HS_INIT_LEN, NULL, ts),
	    HS_ERR_REFLECTED);
	/* A different pending ephemeral does not get in the way. */
	CHECK_EQ(hs_init_consume(&cr, &st, msg, HS_INIT_LEN, zv.e_r, ts), HS_OK);
	/* And the responder's resp sent back to the responder. */
	CHECK_EQ(hs_type(zv.resp, HS_RESP_LEN), HS_TYPE_RESP);
	CHECK_EQ(hs_init_consume(&cr, &st, zv.resp, HS_RESP_LEN, NULL, ts), HS_ERR_SHORT);
}

/* A resp for another initiation, or forged past mac1, leaves st alone. */
static void
check_stray_resp(void)
{
	struct hs_config ci, cr;
	struct hs_state a, b, before, str;
	struct hs_keys k;
	uint8_t m1[HS_INIT_MAX], m2[HS_RESP_LEN], e[32], ts[12];

	vector_configs(&ci, &cr);
	vector_states(&ci, &cr, &a, NULL);
	randombytes_buf(e, sizeof(e));
	CHECK_EQ(hs_init_create(&ci, &b, e, zv.idx_i + 1, 2, zv.tai64n, m1), HS_OK);
	CHECK_EQ(hs_init_consume(&cr, &str, m1, HS_INIT_LEN, NULL, ts), HS_OK);
	CHECK_EQ(hs_resp_create(&cr, &str, zv.e_r, 99, m2, &k), HS_OK);

	before = a;
	CHECK_EQ(hs_resp_consume(&ci, &a, m2, sizeof(m2), &k), HS_ERR_INDEX);
	CHECK_MEM(&a, &before, sizeof(a));
	/* The answer for b with a's index: the index passes, the DH does not. */
	m2[8] = (uint8_t)zv.idx_i, m2[9] = (uint8_t)(zv.idx_i >> 8);
	m2[10] = (uint8_t)(zv.idx_i >> 16), m2[11] = (uint8_t)(zv.idx_i >> 24);
	mac1_fix(&ci, m2, sizeof(m2));
	CHECK_EQ(hs_resp_consume(&ci, &a, m2, sizeof(m2), &k), HS_ERR_DECRYPT);
	CHECK_MEM(&a, &before, sizeof(a));
	/* A low-order ephemeral: X25519 gives zero, refused as such. */
	memcpy(m2, zv.resp, sizeof(m2));
	memset(m2 + 12, 0, 32);
	mac1_fix(&ci, m2, sizeof(m2));
	CHECK_EQ(hs_resp_consume(&ci, &a, m2, sizeof(m2), &k), HS_ERR_DH);
	CHECK_MEM(&a, &before, sizeof(a));

	/* The right one still completes a, and b separately. */
	CHECK_EQ(hs_resp_consume(&ci, &a, zv.resp, sizeof(zv.resp), &k), HS_OK);
	CHECK_MEM(k.send, zv.k1, 32);
	/* Consumed: the same resp again matches no pending initiation. */
	CHECK_EQ(hs_resp_consume(&ci, &a, zv.resp, sizeof(zv.resp), &k), HS_ERR_INDEX);
	/* A responder's state is no pending initiation. */
	CHECK_EQ(hs_init_consume(&cr, &str, zv.init, HS_INIT_LEN, NULL, ts), HS_OK);
	str.local_index = zv.idx_i;
	CHECK_EQ(hs_resp_consume(&ci, &str, zv.resp, sizeof(zv.resp), &k), HS_ERR_INDEX);
}

/* An init whose e is a low-order point: the responder refuses at the DH. */
static void
check_low_order_init(void)
{
	struct hs_config ci, cr;
	struct hs_state sti, str;
	struct hs_keys k;
	uint8_t out[HS_RESP_LEN];

	vector_configs(&ci, &cr);
	vector_states(&ci, &cr, &sti, &str);
	memset(str.re, 0, sizeof(str.re));     /* as if the init carried it */
	memset(&k, 0x55, sizeof(k));
	CHECK_EQ(hs_resp_create(&cr, &str, zv.e_r, zv.idx_r, out, &k), HS_ERR_DH);
	CHECK(sodium_is_zero((const uint8_t *)&str, sizeof(str)));
	CHECK(sodium_is_zero(out, sizeof(out)));
	/* An initiator's state is not the responder's. */
	CHECK_EQ(hs_resp_create(&cr, &sti, zv.e_r, zv.idx_r, out, &k), HS_ERR_INDEX);
}

static void
check_lengths(void)
{
	struct hs_config ci, cr;
	struct hs_state sti, pristine, str;
	struct hs_keys k;
	uint8_t buf[MAXLEN], ts[12];
	enum hs_type type;
	uint8_t flags;
	uint64_t counter;

	vector_configs(&ci, &cr);
	vector_states(&ci, &cr, &pristine, NULL);
	for (size_t n = 0; n < 2 * HS_INIT_LEN; n++) {
		memset(buf, 0, sizeof(buf));
		memcpy(buf, zv.init, HS_INIT_LEN);
		if (n != HS_INIT_LEN)
			CHECK_EQ(hs_init_consume(&cr, &str, buf, n, NULL, ts), HS_ERR_SHORT);
		memset(buf, 0, sizeof(buf));
		memcpy(buf, zv.resp, HS_RESP_LEN);
		sti = pristine;
		if (n != HS_RESP_LEN) {
			CHECK_EQ(hs_resp_consume(&ci, &sti, buf, n, &k), HS_ERR_SHORT);
			CHECK_EQ(hs_receiver_index(buf, n), 0);
		}
		memset(buf, 0, sizeof(buf));
		memcpy(buf, zv.echo_req, HS_ECHO_LEN);
		if (n != HS_ECHO_LEN) {
			CHECK_EQ(hs_echo_open(zv.ek1, buf, n, &type, &flags, &counter), HS_ERR_SHORT);
			CHECK_EQ(hs_receiver_index(buf, n), 0);
		}
		CHECK_EQ(hs_type(buf, n), n < 4 ? -1 : HS_TYPE_ECHO_REQUEST);
	}
	CHECK_EQ(hs_type(NULL, 0), -1);
	CHECK_EQ(hs_init_consume(&cr, &str, NULL, 0, NULL, ts), HS_ERR_SHORT);
}

/* ---- Public-key links ---- */

struct pk_end {
	uint8_t priv[32], pub[32];
};

static void
pk_end(struct pk_end *e, uint8_t seed)
{
	memset(e->priv, seed, 32);
	CHECK(crypto_scalarmult_base(e->pub, e->priv) == 0);
}

/*
 * One handshake from ci to cr: HS_OK and matching keys, or the first
 * error (st: the responder's state, for HS_ERR_PEER_KEY's key).
 */
static int
pk_handshake(const struct hs_config *ci, const struct hs_config *cr,
    struct hs_keys *ki, struct hs_keys *kr, struct hs_state *str)
{
	struct hs_state sti;
	uint8_t m1[HS_INIT_MAX], m2[HS_RESP_LEN], ts[12], e_i[32], e_r[32];
	int rc;

	memset(e_i, 0x21, 32);
	memset(e_r, 0x42, 32);
	CHECK_EQ(hs_init_create(ci, &sti, e_i, 11, 3, zv.tai64n, m1), HS_OK);
	CHECK_EQ(hs_type(m1, hs_init_len(ci)),
	    ci->keys[ci->use].public_keys ? HS_TYPE_INIT_PK : HS_TYPE_INIT);
	rc = hs_init_consume(cr, str, m1, hs_init_len(ci), NULL, ts);
	if (rc != HS_OK)
		return rc;
	CHECK_EQ(hs_resp_create(cr, str, e_r, 22, m2, kr), HS_OK);
	rc = hs_resp_consume(ci, &sti, m2, sizeof(m2), ki);
	if (rc != HS_OK)
		return rc;
	CHECK_MEM(ki->send, kr->recv, 32);
	CHECK_MEM(ki->recv, kr->send, 32);
	CHECK_MEM(ki->binding, kr->binding, 32);
	return HS_OK;
}

static void
check_public_keys(void)
{
	struct pk_end a, b, b2, x;
	struct hs_keyset ks[2];
	struct hs_config ci, cr;
	struct hs_state st;
	struct hs_keys ki, kr, first;
	uint8_t psk[32];

	pk_end(&a, 1);
	pk_end(&b, 2);
	pk_end(&b2, 3);
	pk_end(&x, 4);
	memset(psk, 0x77, 32);
	hs_config_init(&ci, zv.psk, &zv.a_i, &zv.a_r);
	hs_config_init(&cr, zv.psk, &zv.a_r, &zv.a_i);

	/* Public keys alone: up, and each end used keyset 0. */
	CHECK_EQ(hs_keyset_init(&ks[0], NULL, a.priv, b.pub), 0);
	CHECK_MEM(ks[0].pub, a.pub, 32);
	hs_config_set_keys(&ci, ks, 1);
	CHECK_EQ(hs_keyset_init(&ks[0], NULL, b.priv, a.pub), 0);
	hs_config_set_keys(&cr, ks, 1);
	CHECK_EQ(hs_init_len(&ci), HS_INIT_PK_LEN);
	CHECK_EQ(pk_handshake(&ci, &cr, &ki, &kr, &st), HS_OK);
	first = ki;
	/* Another handshake: new keys, a new binding. */
	CHECK_EQ(pk_handshake(&ci, &cr, &ki, &kr, &st), HS_OK);
	CHECK(memcmp(first.binding, ki.binding, 32) == 0);      /* same inputs */

	/* With a shared key on top at both ends: other keys than without. */
	CHECK_EQ(hs_keyset_init(&ks[0], psk, a.priv, b.pub), 0);
	hs_config_set_keys(&ci, ks, 1);
	CHECK_EQ(hs_keyset_init(&ks[0], psk, b.priv, a.pub), 0);
	hs_config_set_keys(&cr, ks, 1);
	CHECK_EQ(pk_handshake(&ci, &cr, &ki, &kr, &st), HS_OK);
	CHECK(memcmp(first.send, ki.send, 32) != 0);
	CHECK(memcmp(first.binding, ki.binding, 32) != 0);
	/* The shared key at one end only: mac1 already fails. */
	CHECK_EQ(hs_keyset_init(&ks[0], NULL, b.priv, a.pub), 0);
	hs_config_set_keys(&cr, ks, 1);
	CHECK_EQ(pk_handshake(&ci, &cr, &ki, &kr, &st), HS_ERR_MAC);

	/* The responder expects another initiator key: refused, and named. */
	CHECK_EQ(hs_keyset_init(&ks[0], psk, b.priv, x.pub), 0);
	hs_config_set_keys(&cr, ks, 1);
	CHECK_EQ(pk_handshake(&ci, &cr, &ki, &kr, &st), HS_ERR_PEER_KEY);
	CHECK_MEM(st.peer_static, a.pub, 32);
	/* The initiator has the responder's key wrong: mac1 fails there. */
	CHECK_EQ(hs_keyset_init(&ks[0], psk, a.priv, x.pub), 0);
	hs_config_set_keys(&ci, ks, 1);
	CHECK_EQ(hs_keyset_init(&ks[0], psk, b.priv, a.pub), 0);
	hs_config_set_keys(&cr, ks, 1);
	CHECK_EQ(pk_handshake(&ci, &cr, &ki, &kr, &st), HS_ERR_MAC);
	/* A shared-key init to a public-key responder: no keyset takes it. */
	hs_config_init(&ci, psk, &zv.a_i, &zv.a_r);
	CHECK_EQ(pk_handshake(&ci, &cr, &ki, &kr, &st), HS_ERR_MAC);

	/*
	 * A rotation: b has a new key pair b2 and keeps b for the overlap.
	 * a still knows only b: its init goes to keyset 1. a with b2 first
	 * and b second: keyset 0; with b's key only in keyset 1, its second
	 * try (use = 1) gets through.
	 */
	CHECK_EQ(hs_keyset_init(&ks[0], psk, b2.priv, a.pub), 0);
	CHECK_EQ(hs_keyset_init(&ks[1], psk, b.priv, a.pub), 0);
	hs_config_set_keys(&cr, ks, 2);
	CHECK_EQ(hs_keyset_init(&ks[0], psk, a.priv, b.pub), 0);
	hs_config_set_keys(&ci, ks, 1);
	CHECK_EQ(pk_handshake(&ci, &cr, &ki, &kr, &st), HS_OK);
	CHECK_EQ(kr.keyset, 1);
	CHECK_EQ(hs_keyset_init(&ks[0], psk, a.priv, b2.pub), 0);
	CHECK_EQ(hs_keyset_init(&ks[1], psk, a.priv, b.pub), 0);
	hs_config_set_keys(&ci, ks, 2);
	CHECK_EQ(pk_handshake(&ci, &cr, &ki, &kr, &st), HS_OK);
	CHECK_EQ(kr.keyset, 0);
	CHECK_EQ(ki.keyset, 0);
	CHECK_EQ(hs_keyset_init(&ks[0], psk, b.priv, a.pub), 0);
	hs_config_set_keys(&cr, ks, 1);                 /* b only */
	CHECK_EQ(pk_handshake(&ci, &cr, &ki, &kr, &st), HS_ERR_MAC);
	ci.use = 1;
	CHECK_EQ(pk_handshake(&ci, &cr, &ki, &kr, &st), HS_OK);
	CHECK_EQ(ki.keyset, 1);

	/* A low-order peer key is refused when the keyset is made. */
	memset(x.pub, 0, 32);
	CHECK_EQ(hs_keyset_init(&ks[0], psk, a.priv, x.pub), -1);
	hs_config_wipe(&ci);
	hs_config_wipe(&cr);
}

/*
 * PROTOCOL.md's public-key vectors (test/unit/handshake_ref.py --pk): the
 * mac1 keys at both ends, both messages byte for byte, the session keys
 * and the binding, without and with a shared key (the "shared-" lines).
 * Every input comes from that block itself, so an edit to it is caught
 * even where it repeats the "Handshake test vectors" block.
 */
static void
check_pk_vector(const struct fields *f, const char *prefix)
{
	struct hs_config ci, cr;
	struct hs_keyset ks;
	struct hs_state sti, str;
	struct hs_keys ki, kr;
	struct zcc_addr a_i, a_r;
	uint8_t s_i[32], s_r[32], pub_i[32], pub_r[32], psk[32], want[32];
	uint8_t e_i[32], e_r[32], tai[12], ts[12];
	uint8_t init[HS_INIT_PK_LEN], resp[HS_RESP_LEN], m1[HS_INIT_MAX];
	uint8_t m2[HS_RESP_LEN];
	uint32_t idx_i = 0, idx_r = 0;
	uint16_t port = 0;
	uint8_t key_id = 0;
	unsigned long long sec = 0;
	unsigned long nsec = 0;
	char name[64];
	const char *s;
	const uint8_t *use_psk;
	int rc, failures;

#define PK_FIELD(n, out, len) do { \
	snprintf(name, sizeof(name), "%s%s", prefix, n); \
	hex_field(f, name, 0, out, len); \
} while (0)
	/* The inputs both cases share. */
	failures = check_failures;
	hex_field(f, "initiator-static", 0, s_i, 32);
	hex_field(f, "responder-static", 0, s_r, 32);
	hex_field(f, "initiator-static-public", 0, pub_i, 32);
	hex_field(f, "responder-static-public", 0, pub_r, 32);
	hex_field(f, "initiator-ephemeral", 0, e_i, 32);
	hex_field(f, "responder-ephemeral", 0, e_r, 32);
	hex_field(f, "tai64n", 0, tai, 12);
	CHECK((s = field(f, "initiator-address", 0)) != NULL &&
	    addr_parse(&a_i, s) == 0);
	CHECK((s = field(f, "responder-address", 0)) != NULL &&
	    addr_parse(&a_r, s) == 0);
	CHECK((s = field(f, "port", 0)) != NULL && (port = (uint16_t)atoi(s)));
	CHECK((s = field(f, "initiator-index", 0)) != NULL &&
	    (idx_i = (uint32_t)strtoul(s, NULL, 16)) != 0);
	CHECK((s = field(f, "responder-index", 0)) != NULL &&
	    (idx_r = (uint32_t)strtoul(s, NULL, 16)) != 0);
	CHECK((s = field(f, "key-id", 0)) != NULL &&
	    (key_id = (uint8_t)atoi(s)) != 0);
	CHECK((s = field(f, "time", 0)) != NULL &&
	    sscanf(s, "%llu.%lu", &sec, &nsec) == 2);
	if (check_failures != failures)         /* the block is not whole */
		return;
	memset(&ki, 0, sizeof(ki));
	memset(&kr, 0, sizeof(kr));
	memset(&sti, 0, sizeof(sti));
	memset(&str, 0, sizeof(str));
	hs_tai64n(ts, sec, (uint32_t)nsec);
	CHECK_MEM(ts, tai, 12);
	PK_FIELD("psk", psk, 32);
	use_psk = sodium_is_zero(psk, 32) ? NULL : psk;

	/*
	 * Each end's config as the block says: its addresses, the port, byte 1
	 * zero (no codec, no suite beyond zccseal2), no ports selected; then
	 * one keyset of its private key, the other's public key and the psk.
	 */
	hs_config_init(&ci, psk, &a_i, &a_r);
	hs_config_init(&cr, psk, &a_r, &a_i);
	ci.port = cr.port = port;
	ci.codec = cr.codec = 0;
	ci.suites = cr.suites = 0;
	ci.ports_digest = cr.ports_digest = 0;

	/* mac1 keys: to the responder from its key, to the initiator from its. */
	CHECK_EQ(hs_keyset_init(&ks, use_psk, s_i, pub_r), 0);
	CHECK_EQ(ks.public_keys, 1);
	CHECK_MEM(ks.pub, pub_i, 32);
	PK_FIELD("mac1-key-to-responder", want, 32);
	CHECK_MEM(ks.mac1_out, want, 32);
	PK_FIELD("mac1-key-to-initiator", want, 32);
	CHECK_MEM(ks.mac1_in, want, 32);
	hs_config_set_keys(&ci, &ks, 1);
	CHECK_EQ(hs_keyset_init(&ks, use_psk, s_r, pub_i), 0);
	CHECK_MEM(ks.pub, pub_r, 32);
	PK_FIELD("mac1-key-to-responder", want, 32);
	CHECK_MEM(ks.mac1_in, want, 32);
	PK_FIELD("mac1-key-to-initiator", want, 32);
	CHECK_MEM(ks.mac1_out, want, 32);
	hs_config_set_keys(&cr, &ks, 1);
	sodium_memzero(&ks, sizeof(ks));

	/* The init (type 6), made and read. */
	PK_FIELD("init", init, HS_INIT_PK_LEN);
	PK_FIELD("resp", resp, HS_RESP_LEN);
	CHECK_EQ(hs_init_len(&ci), HS_INIT_PK_LEN);
	CHECK_EQ(hs_init_create(&ci, &sti, e_i, idx_i, key_id, tai, m1), HS_OK);
	CHECK_MEM(m1, init, HS_INIT_PK_LEN);
	CHECK_EQ(hs_type(init, HS_INIT_PK_LEN), HS_TYPE_INIT_PK);
	memset(ts, 0, sizeof(ts));
	rc = hs_init_consume(&cr, &str, init, HS_INIT_PK_LEN, NULL, ts);
	CHECK_EQ(rc, HS_OK);
	if (rc != HS_OK)        /* nothing further to compare */
		goto out;
	CHECK_MEM(ts, tai, 12);
	CHECK_EQ(str.keyset, 0);
	CHECK_EQ(str.key_id, key_id);
	CHECK_EQ(str.remote_index, idx_i);

	/* The resp (type 7), made and read; then the keys at both ends. */
	rc = hs_resp_create(&cr, &str, e_r, idx_r, m2, &kr);
	CHECK_EQ(rc, HS_OK);
	CHECK_MEM(m2, resp, HS_RESP_LEN);
	CHECK_EQ(hs_type(resp, HS_RESP_LEN), HS_TYPE_RESP_PK);
	CHECK(sodium_is_zero((const uint8_t *)&str, sizeof(str)));
	if (rc != HS_OK)
		goto out;
	rc = hs_resp_consume(&ci, &sti, resp, HS_RESP_LEN, &ki);
	CHECK_EQ(rc, HS_OK);
	if (rc != HS_OK)
		goto out;
	CHECK(sodium_is_zero((const uint8_t *)&sti, sizeof(sti)));
	PK_FIELD("key-i2r", want, 32);
	CHECK_MEM(ki.send, want, 32);
	CHECK_MEM(kr.recv, want, 32);
	PK_FIELD("key-r2i", want, 32);
	CHECK_MEM(ki.recv, want, 32);
	CHECK_MEM(kr.send, want, 32);
	PK_FIELD("handshake-hash", want, 32);
	CHECK_MEM(ki.binding, want, 32);
	CHECK_MEM(kr.binding, want, 32);
	CHECK_EQ(ki.local_index, idx_i);
	CHECK_EQ(ki.remote_index, idx_r);
	CHECK_EQ(kr.local_index, idx_r);
	CHECK_EQ(kr.remote_index, idx_i);
	CHECK_EQ(ki.key_id, key_id);
	CHECK_EQ(kr.key_id, key_id);
	CHECK_EQ(ki.keyset, 0);
	CHECK_EQ(kr.keyset, 0);
#undef PK_FIELD
out:
	hs_state_wipe(&sti);
	hs_state_wipe(&str);
	hs_keys_wipe(&ki);
	hs_keys_wipe(&kr);
	hs_config_wipe(&ci);
	hs_config_wipe(&cr);
}

static void
check_pk_vectors(void)
{
	struct fields f;
	uint8_t a[HS_INIT_PK_LEN], b[HS_INIT_PK_LEN];

	if (read_fields(ZCC_SOURCE_DIR "/docs/PROTOCOL.md",
	    "## Public-key handshake test vectors", &f) != 0) {
		fprintf(stderr, "PROTOCOL.md: no \"## Public-key handshake test "
		    "vectors\" block\n");
		check_failures++;
		return;
	}
	check_pk_vector(&f, "");
	check_pk_vector(&f, "shared-");
	/* As the text says: the psk enters an init's mac1 only (psk2). */
	hex_field(&f, "init", 0, a, sizeof(a));
	hex_field(&f, "shared-init", 0, b, sizeof(b));
	CHECK_MEM(a, b, HS_INIT_PK_LEN - 16);
	CHECK(memcmp(a + HS_INIT_PK_LEN - 16, b + HS_INIT_PK_LEN - 16, 16) != 0);
	fprintf(stderr, "public-key vectors: checked\n");
}

static void
check_tai64n(void)
{
	static const struct {
		uint64_t sec;
		uint32_t nsec;
		const char *hex;
	} known[] = {
		{ 0, 0, "400000000000000000000000" },
		{ 1, 1, "400000000000000100000001" },
		{ 1700000000, 123456789, "400000006553f100075bcd15" },
		{ UINT64_C(0xffffffff), 999999999, "40000000ffffffff3b9ac9ff" },
		{ UINT64_C(0x123456789a), 0x10203, "400000123456789a00010203" },
	};
	uint8_t out[12], want[12], prev[12] = { 0 };

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		hs_tai64n(out, known[i].sec, known[i].nsec);
		CHECK_EQ(unhex(known[i].hex, want, sizeof(want)), 12);
		CHECK_MEM(out, want, 12);
		/* Later times compare greater, as the replay check needs. */
		CHECK(memcmp(out, prev, 12) > 0);
		memcpy(prev, out, 12);
	}
}

int
main(void)
{
	CHECK(sodium_init() >= 0);
	check_noise_vector();
	check_noise_ik_vector();
	CHECK(read_zvec() == 0);
	if (check_failures)
		CHECK_DONE();
	check_zcc_vectors();
	check_ipv6_vector();
	check_nat_vector();
	check_framing();
	check_short_datagrams();
	check_round_trips();
	check_public_keys();
	check_pk_vectors();
	check_ports_digest();
	check_init_tampering();
	check_resp_tampering();
	check_echo_tampering();
	check_wrong_psk_and_addresses();
	check_reflection();
	check_stray_resp();
	check_low_order_init();
	check_lengths();
	check_tai64n();
	CHECK_DONE();
}
