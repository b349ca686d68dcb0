/* SPDX-License-Identifier: ISC */
/*
 * privsep.c: the messages between the root parent and the engine. Each side
 * accepts only the exact size and the types the other may send; the
 * parent's config is range-checked as the options are, so an engine cannot
 * be told, nor a parent be made to believe, anything out of bounds. And a
 * message sent over a real SOCK_SEQPACKET pair arrives whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "zcc/privsep.h"

static struct privsep_msg
config_msg(void)
{
	struct privsep_msg m;
	struct zcc_options o;

	options_init(&o);
	o.ports[0] = 80;
	o.ports[1] = 443;
	o.nports = 2;
	o.persist = 1;
	o.busy_poll = 50;
	memset(&m, 0, sizeof(m));
	m.type = PRIV_CONFIG;
	privsep_config_from(&m.config, &o);
	return m;
}

static int
parse(const struct privsep_msg *m, int from_engine)
{
	struct privsep_msg out;

	return privsep_parse(m, sizeof(*m), from_engine, &out);
}

static void
check_directions(void)
{
	struct privsep_msg m;

	memset(&m, 0, sizeof(m));
	for (uint32_t t = PRIV_READY; t <= PRIV_RELOAD; t++) {
		m.type = t;
		CHECK_EQ(parse(&m, 1), 0);
		CHECK_EQ(parse(&m, 0), -1);     /* the parent never hears these */
	}
	m.type = PRIV_CONFIG;
	CHECK_EQ(parse(&m, 1), -1);             /* an engine cannot configure */
	for (uint32_t t = 0; t < 3; t++) {
		m.type = t == 0 ? 0 : t == 1 ? PRIV_TYPE_MAX : 0xffffffffu;
		CHECK_EQ(parse(&m, 1), -1);
		CHECK_EQ(parse(&m, 0), -1);
	}
	/* An engine's message carries nothing but its type. */
	m.type = PRIV_UP;
	m.config.nports = 1;
	CHECK_EQ(parse(&m, 1), -1);
	m.config.nports = 0;
	m.mtu = 1264;
	CHECK_EQ(parse(&m, 1), -1);
}

/* An engine may lower zcc0's route no further than the floor allows. */
static void
check_mtu(void)
{
	struct privsep_msg m, c = config_msg();
	static const struct { uint32_t mtu; int ok; } t[] = {
		{ 0, 0 }, { 1264, 0 }, { PRIVSEP_MTU_MIN, 0 }, { 65535, 0 },
		{ PRIVSEP_MTU_MIN - 1, -1 }, { 1, -1 }, { 65536, -1 },
		{ 0xffffffffu, -1 },
	};

	memset(&m, 0, sizeof(m));
	m.type = PRIV_MTU;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		m.mtu = t[i].mtu;
		CHECK_EQ(parse(&m, 1), t[i].ok);
		CHECK_EQ(parse(&m, 0), -1);     /* never from the parent */
	}
	c.mtu = 1264;
	CHECK_EQ(parse(&c, 0), -1);
}

static void
check_sizes(void)
{
	struct privsep_msg m = config_msg(), out;
	uint8_t buf[sizeof(m) + 1];

	memcpy(buf, &m, sizeof(m));
	CHECK_EQ(privsep_parse(buf, sizeof(m), 0, &out), 0);
	CHECK_MEM(&out, &m, sizeof(m));
	CHECK_EQ(privsep_parse(buf, sizeof(m) - 1, 0, &out), -1);
	CHECK_EQ(privsep_parse(buf, sizeof(m) + 1, 0, &out), -1);
	CHECK_EQ(privsep_parse(buf, 0, 1, &out), -1);
}

static void
check_config_ranges(void)
{
	struct privsep_msg m = config_msg();

	CHECK_EQ(parse(&m, 0), 0);
	CHECK_EQ(m.config.nports, 2);
	m.config.nports = 0;                    /* a VPN link: no port */
	m.config.ports[0] = m.config.ports[1] = 0;
	CHECK_EQ(parse(&m, 0), 0);
	m = config_msg();
	CHECK_EQ(m.config.persist, 1);
#define BAD(field, value) do { \
	struct privsep_msg b = config_msg(); \
	b.config.field = value; \
	CHECK_EQ(parse(&b, 0), -1); \
} while (0)
	BAD(nports, ZCC_MAX_PORTS + 1);
	BAD(ports[1], 0);                       /* a hole among the ports */
	BAD(ports[5], 8080);                    /* a port beyond nports */
	BAD(rekey_interval, 0);
	BAD(rekey_interval, 86401);
	BAD(keepalive_interval, 3601);
	BAD(keepalive_failure, 0);
	BAD(keepalive_failure, 101);
	BAD(holdoff, 86401);
	BAD(maxfail, 1000001);
	BAD(busy_poll, ZCC_MAX_BUSY_POLL + 1);
	BAD(persist, 2);
#undef BAD
	m.config.nports = ZCC_MAX_PORTS;
	for (size_t i = 0; i < ZCC_MAX_PORTS; i++)
		m.config.ports[i] = (uint16_t)(1000 + i);
	CHECK_EQ(parse(&m, 0), 0);
}

/* What a keys message may say: one or two sets, known flags, a bound. */
static void
check_keys_parse(const struct privsep_keys *good)
{
	struct privsep_keys k, out;

	CHECK_EQ(privsep_parse_keys(good, sizeof(*good), &out), 0);
	CHECK_EQ(privsep_parse_keys(good, sizeof(*good) - 1, &out), -1);
	k = *good;
	k.type = PRIV_CONFIG;
	CHECK_EQ(privsep_parse_keys(&k, sizeof(k), &out), -1);
	k = *good;
	k.nsets = 0;
	CHECK_EQ(privsep_parse_keys(&k, sizeof(k), &out), -1);
	k.nsets = 3;
	CHECK_EQ(privsep_parse_keys(&k, sizeof(k), &out), -1);
	k = *good;
	k.sets[0].flags = 4;
	CHECK_EQ(privsep_parse_keys(&k, sizeof(k), &out), -1);
	k = *good;
	k.prev_seconds = 5;     /* one set: no overlap */
	CHECK_EQ(privsep_parse_keys(&k, sizeof(k), &out), -1);
	k = *good;
	k.nsets = 2;
	k.sets[1] = k.sets[0];
	CHECK_EQ(privsep_parse_keys(&k, sizeof(k), &out), -1);     /* no time */
	k.prev_seconds = 600;
	CHECK_EQ(privsep_parse_keys(&k, sizeof(k), &out), 0);
	k.prev_seconds = 604801;
	CHECK_EQ(privsep_parse_keys(&k, sizeof(k), &out), -1);
	k.prev_seconds = 600;
	k.sets[1].flags = 0;
	CHECK_EQ(privsep_parse_keys(&k, sizeof(k), &out), -1);
}

static void
check_pair(void)
{
	struct privsep_msg m = config_msg(), out;
	struct privsep_keys key, got;
	uint8_t buf[sizeof(m) + 1];
	int sv[2];
	ssize_t n;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	memset(&key, 0, sizeof(key));
	key.type = PRIV_KEYS;
	key.nsets = 1;
	key.sets[0].flags = ZCC_CREDS_SHARED | ZCC_CREDS_PUBLIC;
	for (size_t i = 0; i < ZCC_KEY_LEN; i++)
		key.sets[0].psk[i] = (uint8_t)(i * 7 + 1);
	CHECK_EQ(privsep_send_keys(sv[0], &key), 0);
	CHECK_EQ(privsep_recv_keys(sv[1], &got), 0);
	CHECK_MEM(&got, &key, sizeof(key));
	CHECK_EQ(privsep_send(sv[0], PRIV_CONFIG, &m.config), 0);
	n = recv(sv[1], buf, sizeof(buf), 0);
	CHECK_EQ(n, sizeof(m));
	CHECK_EQ(privsep_parse(buf, (size_t)n, 0, &out), 0);
	CHECK_MEM(&out.config, &m.config, sizeof(m.config));
	CHECK_EQ(privsep_send(sv[1], PRIV_UP, NULL), 0);
	n = recv(sv[0], buf, sizeof(buf), 0);
	CHECK_EQ(privsep_parse(buf, (size_t)n, 1, &out), 0);
	CHECK_EQ(out.type, PRIV_UP);
	CHECK_EQ(privsep_send_mtu(sv[1], 1264), 0);
	n = recv(sv[0], buf, sizeof(buf), 0);
	CHECK_EQ(privsep_parse(buf, (size_t)n, 1, &out), 0);
	CHECK_EQ(out.type, PRIV_MTU);
	CHECK_EQ(out.mtu, 1264);
	/* A short key message is refused, not taken as a key. */
	CHECK_EQ(send(sv[0], &key, 5, 0), 5);
	CHECK_EQ(privsep_recv_keys(sv[1], &got), -1);
	check_keys_parse(&key);
	close(sv[0]);
	CHECK_EQ(privsep_send(sv[1], PRIV_DOWN, NULL), -1);
	close(sv[1]);
}

/* One change reported, with its word, and what it is. */
struct seen {
	int n;
	char word[32];
	enum options_reload how;
};

static void
record(void *arg, const char *word, enum options_reload how)
{
	struct seen *s = arg;

	s->n++;
	snprintf(s->word, sizeof(s->word), "%s", word);
	s->how = how;
}

/*
 * The option table says which options a live link takes on SIGHUP; the
 * config message must carry exactly those, but for the keys' words, which
 * reach the engine as a keys message. Each option changed alone: the
 * table reports that word, and the message changes iff it is live.
 */
static void
check_reload_rules(void)
{
	static char *changes[][3] = {
		{ "encrypt-port", "443", "live" }, { "rekey-interval", "5", "live" },
		{ "keepalive-interval", "3", "live" },
		{ "keepalive-failure", "7", "live" }, { "persist", NULL, "live" },
		{ "holdoff", "3", "live" }, { "maxfail", "4", "live" },
		{ "busy-poll", "10", "live" }, { "peer", "10.0.0.9", "next" },
		{ "local", "10.0.0.8", "next" }, { "key-file", "/other", "keys" },
		{ "private-key-file", "/p", "keys" },
		{ "peer-public-key", "/pub", "keys" }, { "key-overlap", "60", "keys" },
		{ "ifname", "zz1", "next" }, { "port", "9", "next" },
		{ "fwmark", "5", "next" }, { "table", "100", "next" },
		{ "rule-priority", "200", "next" },
		{ "ip-up-script", "/x", "next" }, { "ip-down-script", "/y", "next" },
		{ "linkname", "l", "next" }, { "ipparam", "q", "next" },
		{ "compress", "lz4", "next" }, { "ip-output", NULL, "next" },
		{ "user", "nobody", "next" }, { "debug", NULL, "kept" },
		{ "nodetach", NULL, "kept" },
	};
	char *base[] = { "peer", "10.0.0.2", "key-file", "/k", "encrypt-port",
	    "80", NULL };
	struct zcc_options a, b;
	struct privsep_config ca, cb;
	char err[256];

	options_init(&a);
	CHECK_EQ(options_parse_argv(&a, 6, base, err, sizeof(err)), 0);
	privsep_config_from(&ca, &a);
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		char *w[] = { changes[i][0], changes[i][1], NULL };
		struct seen seen = { 0, "", RELOAD_NONE };
		/* keys: live, through the keys message the parent sends. */
		int by_keys = changes[i][2][1] == 'e' && changes[i][2][2] == 'y';
		enum options_reload want = changes[i][2][0] == 'l' || by_keys ?
		    RELOAD_LIVE : changes[i][2][0] == 'n' ? RELOAD_NEXT_START :
		    RELOAD_KEPT;

		b = a;
		if (options_parse_argv(&b, w[1] ? 2 : 1, w, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: %s\n", w[0], err);
			CHECK(0);
			continue;
		}
		options_reload_changes(&a, &b, record, &seen);
		privsep_config_from(&cb, &b);
		if (seen.n != 1 || strcmp(seen.word, w[0]) != 0 || seen.how != want)
			fprintf(stderr, "%s: %d changes, '%s', rule %d\n", w[0],
			    seen.n, seen.word, (int)seen.how);
		CHECK_EQ(seen.n, 1);
		CHECK(strcmp(seen.word, w[0]) == 0);
		CHECK_EQ(seen.how, want);
		CHECK_EQ(memcmp(&ca, &cb, sizeof(ca)) != 0,
		    want == RELOAD_LIVE && !by_keys);
	}
}

int
main(void)
{
	check_directions();
	check_mtu();
	check_sizes();
	check_config_ranges();
	check_pair();
	check_reload_rules();
	CHECK_DONE();
}
