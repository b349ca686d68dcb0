/* SPDX-License-Identifier: ISC */
/*
 * The link state machine: two links joined by an in-memory network that
 * can lose, hold back and replay datagrams, under a clock the test moves.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "check.h"
#include "zcc/datapath.h"
#include "zcc/handshake.h"
#include "zcc/link.h"

#define QMAX 64
#define MSGMAX HS_INIT_MAX

struct msg {
	uint8_t b[MSGMAX];
	size_t n;
};

struct end {
	struct link *l;
	struct end *other;
	struct msg q[QMAX];     /* datagrams on their way to other */
	size_t nq;
	int cut;                /* what this end sends is lost */
	struct msg last_init;   /* the last init this end sent, for replay */
	struct dp_key tx, rx[DP_RX_KEYS];
	int have_tx;
	size_t nrx;
	uint64_t tx_used;
	int ups, downs;
	uint16_t peer_ports;    /* the last digest peer_ports reported */
};

static uint64_t now = 1000;

static void
op_send(void *arg, const uint8_t *m, size_t n)
{
	struct end *e = arg;

	if (n <= MSGMAX && m[0] == HS_TYPE_INIT) {
		memcpy(e->last_init.b, m, n);
		e->last_init.n = n;
	}
	if (e->cut || e->nq == QMAX || n > MSGMAX)
		return;
	memcpy(e->q[e->nq].b, m, n);
	e->q[e->nq++].n = n;
}

static void
op_keys(void *arg, const struct dp_key *tx, const struct dp_key *const rx[],
    size_t nrx)
{
	struct end *e = arg;

	e->have_tx = tx != NULL;
	if (tx)
		e->tx = *tx;
	e->nrx = nrx;
	for (size_t i = 0; i < nrx; i++)
		e->rx[i] = *rx[i];
}

static uint64_t
op_tx_used(void *arg)
{
	return ((struct end *)arg)->tx_used;
}

static void
op_up(void *arg)
{
	((struct end *)arg)->ups++;
}

static void
op_down(void *arg)
{
	((struct end *)arg)->downs++;
}

static void
op_peer_ports(void *arg, uint16_t digest)
{
	((struct end *)arg)->peer_ports = digest;
}

static const struct link_ops ops = {
	.send = op_send, .keys = op_keys, .tx_used = op_tx_used,
	.up = op_up, .down = op_down, .peer_ports = op_peer_ports,
};

static struct link_config
config(const char *local, const char *peer)
{
	struct link_config c = {
		.rekey_interval = 120, .keepalive_interval = 10,
		.keepalive_failure = 3, .holdoff = 10, .maxfail = 10,
		.persist = 1,
	};

	addr_parse(&c.local, local);
	addr_parse(&c.peer, peer);
	return c;
}

static void
make_pair(struct end *a, struct end *b, const struct link_config *ca,
    const struct link_config *cb, const uint8_t *psk_a, const uint8_t *psk_b)
{
	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	a->other = b;
	b->other = a;
	a->l = link_new(ca, psk_a, &ops, a);
	b->l = link_new(cb, psk_b, &ops, b);
	CHECK(a->l != NULL && b->l != NULL);
}

static void
free_pair(struct end *a, struct end *b)
{
	link_free(a->l);
	link_free(b->l);
}

/* Deliver everything in flight, both ways, until nothing more is sent. */
static void
deliver(struct end *a, struct end *b)
{
	for (int round = 0; round < 20 && (a->nq || b->nq); round++) {
		struct end *ends[] = { a, b };

		for (size_t i = 0; i < 2; i++) {
			struct end *e = ends[i];
			struct msg q[QMAX];
			size_t n = e->nq;

			memcpy(q, e->q, n * sizeof(q[0]));
			e->nq = 0;
			for (size_t j = 0; j < n; j++)
				link_input(e->other->l, q[j].b, q[j].n, now);
		}
	}
}

/* Move the clock in 100 ms ticks, delivering as we go. */
static void
run_for(struct end *a, struct end *b, uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t += 100) {
		now += 100;
		link_tick(a->l, now);
		link_tick(b->l, now);
		deliver(a, b);
	}
}

/* a's tx opens at b (same key in b's rx list), and the other way. */
static int
keys_match(const struct end *a, const struct end *b)
{
	int found = 0;

	if (!a->have_tx)
		return 0;
	for (size_t i = 0; i < b->nrx; i++)
		found |= b->rx[i].seal.id == a->tx.seal.id &&
		    memcmp(b->rx[i].seal.mac, a->tx.seal.mac, 32) == 0 &&
		    memcmp(b->rx[i].seal.enc, a->tx.seal.enc, 32) == 0 &&
		    memcmp(b->rx[i].encap.k, a->tx.encap.k, 32) == 0;
	return found;
}

static void
status(const struct end *e, struct link_report *st)
{
	memset(st, 0, sizeof(*st));
	link_status(e->l, now, st);
}

static uint8_t psk[32] = { 1, 2, 3 }, other_psk[32] = { 9 };

/*
 * The codec each end offers in its handshake message: both compress with
 * it when they agree, and with nothing when they differ, either way round.
 */
static void
check_codec_agreement(void)
{
	static const uint8_t offers[][3] = {    /* a's, b's, agreed */
		{ 1, 1, 1 }, { 2, 2, 2 }, { 0, 0, 0 }, { 1, 2, 0 }, { 2, 0, 0 },
		{ 0, 1, 0 },
	};

	for (size_t i = 0; i < sizeof(offers) / sizeof(offers[0]); i++) {
		struct link_config ca = config("10.0.0.1", "10.0.0.2");
		struct link_config cb = config("10.0.0.2", "10.0.0.1");
		struct end a, b;
		struct link_report st;

		ca.codec = offers[i][0];
		cb.codec = offers[i][1];
		make_pair(&a, &b, &ca, &cb, psk, psk);
		link_start(a.l, now);
		deliver(&a, &b);
		CHECK_EQ(link_state(a.l), LINK_UP);
		CHECK_EQ(link_state(b.l), LINK_UP);
		CHECK_EQ(a.tx.codec, offers[i][2]);
		CHECK_EQ(b.tx.codec, offers[i][2]);
		status(&a, &st);
		CHECK_EQ(st.codec, offers[i][2]);
		free_pair(&a, &b);
	}
}

/*
 * The sealing suite: zccseal3 when both offer it, else zccseal2, at both
 * ends alike; and agreed on what the handshake's messages offered, not on
 * an offer changed (by SIGHUP) while the init was on its way.
 */
static void
check_suite_agreement(void)
{
	enum { C = SEAL_SUITE_BIT(SEAL_SUITE_CHACHA),
	    CA = C | SEAL_SUITE_BIT(SEAL_SUITE_AES) };
	static const uint8_t offers[][3] = {    /* a's, b's, agreed */
		{ CA, CA, SEAL_SUITE_AES }, { C, CA, SEAL_SUITE_CHACHA },
		{ CA, C, SEAL_SUITE_CHACHA }, { C, C, SEAL_SUITE_CHACHA },
	};
	struct link_config ca = config("10.0.0.1", "10.0.0.2");
	struct link_config cb = config("10.0.0.2", "10.0.0.1");
	struct link_report st;
	struct end a, b;

	for (size_t i = 0; i < sizeof(offers) / sizeof(offers[0]); i++) {
		ca.suites = offers[i][0];
		cb.suites = offers[i][1];
		make_pair(&a, &b, &ca, &cb, psk, psk);
		link_start(a.l, now);
		deliver(&a, &b);
		CHECK_EQ(link_state(a.l), LINK_UP);
		CHECK_EQ(a.tx.seal.suite, offers[i][2]);
		CHECK_EQ(b.tx.seal.suite, offers[i][2]);
		CHECK(keys_match(&a, &b) && keys_match(&b, &a));
		status(&a, &st);
		CHECK_EQ(st.suite, offers[i][2]);
		free_pair(&a, &b);
	}
	/* a's init offers zccseal3; a SIGHUP withdraws it before the resp. */
	ca.suites = cb.suites = CA;
	make_pair(&a, &b, &ca, &cb, psk, psk);
	link_start(a.l, now);
	ca.suites = C;
	link_set_config(a.l, &ca);
	deliver(&a, &b);
	CHECK_EQ(a.tx.seal.suite, SEAL_SUITE_AES);
	CHECK(keys_match(&a, &b) && keys_match(&b, &a));
	run_for(&a, &b, 10000);         /* the renewal the change asked for */
	CHECK_EQ(a.tx.seal.suite, SEAL_SUITE_CHACHA);
	CHECK_EQ(b.tx.seal.suite, SEAL_SUITE_CHACHA);
	CHECK(keys_match(&a, &b) && keys_match(&b, &a));
	free_pair(&a, &b);
}

static void
check_up_and_keys(void)
{
	struct link_config ca = config("10.0.0.1", "10.0.0.2");
	struct link_config cb = config("10.0.0.2", "10.0.0.1");
	struct end a, b;
	struct link_report st;

	make_pair(&a, &b, &ca, &cb, psk, psk);
	link_start(a.l, now);
	CHECK_EQ(link_state(a.l), LINK_HANDSHAKING);
	deliver(&a, &b);
	CHECK_EQ(link_state(a.l), LINK_UP);
	CHECK_EQ(link_state(b.l), LINK_UP);   /* confirmed by a's echo */
	CHECK_EQ(a.ups, 1);
	CHECK_EQ(b.ups, 1);
	CHECK(keys_match(&a, &b));
	CHECK(keys_match(&b, &a));
	CHECK(memcmp(a.tx.seal.mac, b.tx.seal.mac, 32) != 0);   /* directions differ */
	status(&a, &st);
	CHECK(strcmp(st.state, "up") == 0);
	CHECK_EQ(st.handshake_age, 0);
	CHECK_EQ(st.counters.handshakes, 1);
	/* Keepalives flow and nothing goes down in ten minutes. */
	run_for(&a, &b, 600000);
	CHECK_EQ(link_state(a.l), LINK_UP);
	CHECK_EQ(link_state(b.l), LINK_UP);
	status(&b, &st);
	CHECK(st.counters.echo_received > 50);
	CHECK_EQ(st.counters.keepalive_misses, 0);
	CHECK_EQ(a.ups + b.ups, 2);
	free_pair(&a, &b);
}

static void
check_rekey(void)
{
	struct link_config ca = config("10.0.0.1", "10.0.0.2");
	struct link_config cb = config("10.0.0.2", "10.0.0.1");
	struct end a, b;
	struct link_report st;
	uint8_t ids[4];

	ca.rekey_interval = cb.rekey_interval = 5;
	make_pair(&a, &b, &ca, &cb, psk, psk);
	link_start(a.l, now);
	deliver(&a, &b);
	ids[0] = a.tx.seal.id;
	for (int i = 1; i < 4; i++) {
		run_for(&a, &b, 5100);
		ids[i] = a.tx.seal.id;
		CHECK(ids[i] != ids[i - 1]);
		CHECK(keys_match(&a, &b));
		CHECK(keys_match(&b, &a));
		CHECK_EQ(a.tx.seal.id, b.tx.seal.id);
		/* The previous key still opens, for segments in flight. */
		CHECK_EQ(b.nrx, 2);
	}
	status(&a, &st);
	CHECK(st.counters.rekeys >= 3);
	CHECK_EQ(a.ups, 1);             /* a rekey is not a new ip-up */
	CHECK_EQ(a.downs + b.downs, 0);
	/* The grace period ends: only the current key opens. */
	ca.rekey_interval = cb.rekey_interval = 120;
	link_set_config(a.l, &ca);
	link_set_config(b.l, &cb);
	run_for(&a, &b, 20000);
	CHECK_EQ(b.nrx, 1);
	/* Rekey on the segment count, long before the timer. */
	status(&b, &st);
	a.tx_used = LINK_REKEY_SEGMENTS;
	ids[0] = a.tx.seal.id;
	run_for(&a, &b, 300);
	CHECK(a.tx.seal.id != ids[0]);
	CHECK(keys_match(&a, &b));
	free_pair(&a, &b);
}

/* A captured init, replayed later, changes nothing and is counted. */
static void
check_replay(void)
{
	struct link_config ca = config("10.0.0.1", "10.0.0.2");
	struct link_config cb = config("10.0.0.2", "10.0.0.1");
	struct end a, b;
	struct dp_key before;
	struct link_report st;
	struct msg init;

	make_pair(&a, &b, &ca, &cb, psk, psk);
	link_start(a.l, now);
	init = a.last_init;
	deliver(&a, &b);
	before = b.tx;
	run_for(&a, &b, 1000);
	link_input(b.l, init.b, init.n, now);
	CHECK_EQ(b.nq, 0);              /* no answer */
	status(&b, &st);
	CHECK_EQ(st.counters.hs_replayed, 1);
	CHECK(memcmp(before.seal.mac, b.tx.seal.mac, 32) == 0);
	CHECK_EQ(b.nrx, 1);             /* no new session in the wings */
	/* Forged and truncated messages: counted, nothing else. */
	init.b[20] ^= 1;
	link_input(b.l, init.b, init.n, now);
	link_input(b.l, init.b, init.n - 1, now);
	status(&b, &st);
	CHECK_EQ(st.counters.hs_bad_mac, 1);
	CHECK_EQ(st.counters.hs_bad, 1);
	CHECK_EQ(link_state(b.l), LINK_UP);
	CHECK(keys_match(&a, &b));
	free_pair(&a, &b);
}

/*
 * link_input says which messages prove the peer sent them lately (a
 * floating link follows the peer on those): fresh ones, never a replay,
 * a forgery or an answer to nothing.
 */
static void
check_authentic(void)
{
	struct link_config ca = config("10.0.0.1", "10.0.0.2");
	struct link_config cb = config("10.0.0.2", "10.0.0.1");
	struct end a, b;
	struct msg m;

	make_pair(&a, &b, &ca, &cb, psk, psk);
	link_start(a.l, now);
	CHECK_EQ(a.nq, 1);
	m = a.q[0];
	a.nq = 0;
	m.b[20] ^= 1;
	CHECK_EQ(link_input(b.l, m.b, m.n, now), 0);    /* forged */
	m.b[20] ^= 1;
	CHECK_EQ(link_input(b.l, m.b, m.n, now), 1);    /* the init */
	CHECK_EQ(link_input(b.l, m.b, m.n, now), 0);    /* replayed */
	CHECK_EQ(b.nq, 1);
	m = b.q[0];
	b.nq = 0;
	CHECK_EQ(link_input(a.l, m.b, m.n, now), 1);    /* the resp */
	CHECK_EQ(link_input(a.l, m.b, m.n, now), 0);    /* answers nothing now */
	CHECK_EQ(a.nq, 1);                              /* a's echo request */
	m = a.q[0];
	a.nq = 0;
	CHECK_EQ(link_input(b.l, m.b, m.n, now), 1);
	CHECK_EQ(link_input(b.l, m.b, m.n, now), 0);    /* counter seen */
	CHECK_EQ(link_input(b.l, m.b, 3, now), 0);      /* too short */
	CHECK(keys_match(&a, &b));
	free_pair(&a, &b);
}

/*
 * An init as from's end would send it, with ports and key_id and the
 * TAI64N label tai, handed to "to" and its answer lost on the way: a
 * replay, or a probe nobody confirms. Returns link_input's result.
 */
static int
inject_init(struct end *to, const struct link_config *from, uint16_t ports,
    uint8_t key_id, const uint8_t tai[HS_TAI64N_LEN])
{
	uint8_t e[HS_KEY_LEN], msg[HS_INIT_MAX];
	struct hs_config hc;
	struct hs_state hs;
	int ret = -1;

	hs_config_init(&hc, psk, &from->local, &from->peer);
	hc.ports_digest = ports;
	randombytes_buf(e, sizeof(e));
	if (hs_init_create(&hc, &hs, e, randombytes_random(), key_id, tai,
	    msg) == HS_OK)
		ret = link_input(to->l, msg, HS_INIT_LEN, now);
	to->nq = 0;                             /* its answer reaches no one */
	hs_config_wipe(&hc);
	hs_state_wipe(&hs);
	return ret;
}

/*
 * An init b never accepted, carrying the key id of b's current session (a
 * recorded one replayed after b restarted, before any init of the peer's
 * raised b's timestamp; the attacker reads the id off any sealed segment):
 * b answers it and holds a next session whose keys nobody else has. The
 * peer's ordinary segments, which open under b's current keys, must not
 * confirm it: by key id they did, and b then sealed with keys nobody held.
 */
static void
check_init_sharing_key_id(void)
{
	struct link_config ca = config("10.0.0.1", "10.0.0.2");
	struct link_config cb = config("10.0.0.2", "10.0.0.1");
	uint8_t tai[HS_TAI64N_LEN];
	struct link_report st;
	struct end a, b;
	uint64_t handshakes;
	size_t opened = 0;

	make_pair(&a, &b, &ca, &cb, psk, psk);
	link_start(a.l, now);
	run_for(&a, &b, 1000);
	CHECK(keys_match(&a, &b) && keys_match(&b, &a));
	status(&b, &st);
	handshakes = st.counters.handshakes;
	memset(tai, 0x50, sizeof(tai));         /* later than any b has seen */
	CHECK_EQ(inject_init(&b, &ca, ca.ports_digest, st.key_id, tai), 1);
	CHECK_EQ(b.nrx, 2);                     /* cur, and next with cur's id */
	CHECK_EQ(b.rx[0].seal.id, b.rx[1].seal.id);
	/* The data path opens a's segments under the key that opens them. */
	for (size_t i = 0; i < b.nrx; i++)
		if (memcmp(b.rx[i].seal.mac, a.tx.seal.mac, 32) == 0) {
			link_key_seen(b.l, b.rx[i].session, now);
			opened++;
		}
	CHECK_EQ(opened, 1);
	CHECK(keys_match(&b, &a));              /* b still seals with cur */
	status(&b, &st);
	CHECK_EQ(st.counters.handshakes, handshakes);
	run_for(&a, &b, 30000);                 /* echoes under cur go on */
	CHECK_EQ(link_state(b.l), LINK_UP);
	CHECK(keys_match(&a, &b) && keys_match(&b, &a));
	free_pair(&a, &b);
}

/*
 * An initiation with other ports that nobody confirms (zcctund check's
 * probe from the peer's host while its link is down) leaves the ports
 * the link reports as they were.
 */
static void
check_unconfirmed_ports(void)
{
	struct link_config ca = config("10.0.0.1", "10.0.0.2");
	struct link_config cb = config("10.0.0.2", "10.0.0.1");
	uint8_t tai[HS_TAI64N_LEN];
	struct timespec ts;
	struct end a, b;

	ca.ports_digest = cb.ports_digest = 0x1111;
	make_pair(&a, &b, &ca, &cb, psk, psk);
	b.peer_ports = 0xbeef;                  /* nothing reported yet */
	/* A second ago, as a probe before the start: a's init is newer. */
	clock_gettime(CLOCK_REALTIME, &ts);
	hs_tai64n(tai, (uint64_t)ts.tv_sec - 1, 0);
	CHECK_EQ(inject_init(&b, &ca, 0x2222, 9, tai), 1);
	CHECK_EQ(b.peer_ports, 0xbeef);
	link_start(a.l, now);                   /* the real start: reported */
	run_for(&a, &b, 1000);
	CHECK_EQ(b.peer_ports, 0x1111);
	free_pair(&a, &b);
}

/*
 * Each end learns the other's ports digest from the handshake; a SIGHUP
 * with other ports starts a handshake at once, so the peer learns them
 * then, not at the next rekey.
 */
static void
check_ports(void)
{
	struct link_config ca = config("10.0.0.1", "10.0.0.2");
	struct link_config cb = config("10.0.0.2", "10.0.0.1");
	struct link_report st;
	struct end a, b;

	ca.ports_digest = 0x1111;
	cb.ports_digest = 0x2222;
	make_pair(&a, &b, &ca, &cb, psk, psk);
	link_start(a.l, now);
	run_for(&a, &b, 1000);
	CHECK(keys_match(&a, &b));
	CHECK_EQ(a.peer_ports, 0x2222);
	CHECK_EQ(b.peer_ports, 0x1111);
	status(&a, &st);
	CHECK_EQ(st.counters.handshakes, 1);
	cb.ports_digest = 0x1111;               /* B's options re-read */
	link_set_config(b.l, &cb);
	run_for(&a, &b, 1000);
	CHECK_EQ(a.peer_ports, 0x1111);
	status(&a, &st);
	CHECK_EQ(st.counters.handshakes, 2);    /* at once, not at 120 s */
	CHECK(keys_match(&a, &b) && keys_match(&b, &a));
	link_set_config(b.l, &cb);              /* the same: no handshake */
	run_for(&a, &b, 1000);
	status(&a, &st);
	CHECK_EQ(st.counters.handshakes, 2);
	free_pair(&a, &b);
	check_unconfirmed_ports();
}

static void
check_dead_peer(int persist)
{
	struct link_config ca = config("10.0.0.1", "10.0.0.2");
	struct link_config cb = config("10.0.0.2", "10.0.0.1");
	struct end a, b;

	ca.persist = persist;
	make_pair(&a, &b, &ca, &cb, psk, psk);
	link_start(a.l, now);
	deliver(&a, &b);
	b.cut = 1;                      /* b goes silent */
	run_for(&a, &b, 10000 * 3 - 1000);
	CHECK_EQ(link_state(a.l), LINK_UP);
	run_for(&a, &b, 12000);
	CHECK_EQ(link_state(a.l), LINK_DOWN);
	CHECK_EQ(a.downs, 1);
	CHECK(!a.have_tx && a.nrx == 0);
	CHECK_EQ(link_gave_up(a.l), !persist);
	if (persist) {
		/* Holdoff, then a new attempt; b answers again: up. */
		b.cut = 0;
		run_for(&a, &b, 11000);
		CHECK_EQ(link_state(a.l), LINK_UP);
		CHECK_EQ(a.ups, 2);
		CHECK(keys_match(&a, &b));
	}
	free_pair(&a, &b);
}

/* A peer that restarts (new link, same key) brings the link up again. */
static void
check_peer_restart(void)
{
	struct link_config ca = config("10.0.0.1", "10.0.0.2");
	struct link_config cb = config("10.0.0.2", "10.0.0.1");
	struct end a, b;

	make_pair(&a, &b, &ca, &cb, psk, psk);
	link_start(a.l, now);
	deliver(&a, &b);
	link_free(b.l);
	b.l = link_new(&cb, psk, &ops, &b);
	link_start(b.l, now);
	deliver(&a, &b);
	CHECK_EQ(link_state(b.l), LINK_UP);
	CHECK_EQ(link_state(a.l), LINK_UP);
	CHECK(keys_match(&a, &b));
	CHECK(keys_match(&b, &a));
	free_pair(&a, &b);
}

static void
check_wrong_key(void)
{
	struct link_config ca = config("10.0.0.1", "10.0.0.2");
	struct link_config cb = config("10.0.0.2", "10.0.0.1");
	struct end a, b;
	struct link_report st;

	ca.maxfail = 2;
	make_pair(&a, &b, &ca, &cb, psk, other_psk);
	link_start(a.l, now);
	link_start(b.l, now);
	run_for(&a, &b, 25000);
	CHECK(link_state(a.l) != LINK_UP && link_state(b.l) != LINK_UP);
	CHECK_EQ(a.ups + b.ups, 0);
	CHECK(!a.have_tx && !b.have_tx);
	status(&b, &st);
	CHECK(st.counters.hs_bad_mac > 0);
	/* maxfail 2: two 30 s attempts with a 10 s holdoff between. */
	run_for(&a, &b, 50000);
	CHECK(link_gave_up(a.l));
	CHECK(!link_gave_up(b.l));
	free_pair(&a, &b);
}

/* Both initiate at once: exactly one session, the same at both ends. */
static void
check_simultaneous(void)
{
	struct link_config ca = config("10.0.0.1", "10.0.0.2");
	struct link_config cb = config("10.0.0.2", "10.0.0.1");
	struct end a, b;
	struct link_report sa, sb;

	make_pair(&a, &b, &ca, &cb, psk, psk);
	link_start(a.l, now);
	link_start(b.l, now);
	deliver(&a, &b);
	run_for(&a, &b, 1000);
	CHECK_EQ(link_state(a.l), LINK_UP);
	CHECK_EQ(link_state(b.l), LINK_UP);
	CHECK(keys_match(&a, &b));
	CHECK(keys_match(&b, &a));
	status(&a, &sa);
	status(&b, &sb);
	CHECK_EQ(sa.counters.handshakes, 1);
	CHECK_EQ(sb.counters.handshakes, 1);
	free_pair(&a, &b);
}

/*
 * The lower address starts first and its init is lost (the peer was not
 * running yet); the peer's init then must not wait for a retry.
 */
static void
check_late_peer(void)
{
	struct link_config ca = config("10.0.0.1", "10.0.0.2");
	struct link_config cb = config("10.0.0.2", "10.0.0.1");
	struct end a, b;

	make_pair(&a, &b, &ca, &cb, psk, psk);
	link_start(a.l, now);
	a.nq = 0;                       /* lost */
	run_for(&a, &b, 1000);
	link_start(b.l, now);
	deliver(&a, &b);
	CHECK_EQ(link_state(a.l), LINK_UP);
	CHECK_EQ(link_state(b.l), LINK_UP);
	CHECK(keys_match(&a, &b));
	free_pair(&a, &b);
}

/* creds for one end: private key seed, peer's seed (its public key). */
static struct zcc_creds
pk_creds(uint8_t own, uint8_t peer)
{
	struct zcc_creds c;
	uint8_t priv[32];

	memset(&c, 0, sizeof(c));
	c.flags = ZCC_CREDS_PUBLIC;
	memset(c.priv, own, 32);
	memset(priv, peer, 32);
	CHECK(crypto_scalarmult_base(c.peer_pub, priv) == 0);
	return c;
}

/*
 * Public-key links: up; a rotation at b (new key pair first, old one
 * second) while a knows only the old one: a's init goes to b's second
 * keyset; a flood of inits from a key b does not know, each past mac1
 * (b's public key is public), is rate-limited before any X25519, and
 * each one read is refused as from another key. The link stays up.
 */
static void
check_public_keys(void)
{
	struct link_config ca = config("10.0.0.1", "10.0.0.2");
	struct link_config cb = config("10.0.0.2", "10.0.0.1");
	struct zcc_creds sa = pk_creds(1, 2), sb[2] = { pk_creds(3, 1),
	    pk_creds(2, 1) };
	struct zcc_creds stranger = pk_creds(9, 2);
	struct hs_config hc;
	struct hs_keyset ks;
	struct hs_state st;
	struct end a, b;
	struct link_report r;
	uint8_t e[32], tai[HS_TAI64N_LEN], msg[HS_INIT_MAX];

	make_pair(&a, &b, &ca, &cb, NULL, NULL);
	CHECK_EQ(link_set_keys(a.l, &sa, 1, 0, now), 0);
	CHECK_EQ(link_set_keys(b.l, &sb[1], 1, 0, now), 0);
	link_start(a.l, now);
	deliver(&a, &b);
	CHECK_EQ(link_state(a.l), LINK_UP);
	CHECK(keys_match(&a, &b));
	status(&a, &r);
	CHECK(r.nkeys == 1 && r.keys[0].public_keys && !r.keys[0].shared);

	/* b rotates: a's renewal goes through b's previous keys. */
	CHECK_EQ(link_set_keys(b.l, sb, 2, 600, now), 0);
	now += 1000;
	link_tick(b.l, now);    /* b renews first, with its new key: refused */
	deliver(&b, &a);
	deliver(&a, &b);
	now += 6000;
	link_tick(b.l, now);    /* then with its previous one */
	deliver(&b, &a);
	deliver(&a, &b);
	status(&b, &r);
	CHECK_EQ(r.nkeys, 2);
	CHECK_EQ(r.session_keys, 1);
	CHECK(r.prev_keys_seconds > 590 && r.prev_keys_seconds <= 600);
	CHECK(keys_match(&a, &b));

	/* A stranger floods b with inits that pass mac1. */
	hs_config_init(&hc, psk, &ca.local, &ca.peer);
	CHECK_EQ(hs_keyset_init(&ks, NULL, stranger.priv, stranger.peer_pub), 0);
	hs_config_set_keys(&hc, &ks, 1);
	b.nq = 0;
	for (uint32_t i = 0; i < 200; i++) {
		randombytes_buf(e, sizeof(e));
		hs_tai64n(tai, 4000000000u, i);
		CHECK_EQ(hs_init_create(&hc, &st, e, i + 1, 7, tai, msg), HS_OK);
		CHECK_EQ(link_input(b.l, msg, HS_INIT_PK_LEN, now), 0);
	}
	status(&b, &r);
	CHECK(r.counters.hs_rate_limited >= 140);
	CHECK_EQ(b.nq, 0);              /* nothing answered */
	CHECK_EQ(link_state(b.l), LINK_UP);
	CHECK(keys_match(&a, &b));
	/* The overlap's end retires b's previous keys, and renews. */
	now += 600000;
	link_tick(b.l, now);
	status(&b, &r);
	CHECK_EQ(r.nkeys, 1);
	hs_config_wipe(&hc);
	free_pair(&a, &b);
}

/*
 * A flood of valid, fresh inits (only the key holder can make them) gets
 * at most the rate limit's worth of answers, and the link stays up.
 */
static void
check_rate_limit(void)
{
	struct link_config ca = config("10.0.0.1", "10.0.0.2");
	struct link_config cb = config("10.0.0.2", "10.0.0.1");
	struct hs_config hc;
	struct hs_state st;
	struct end a, b;
	struct link_report s;
	uint8_t e[32], tai[HS_TAI64N_LEN], msg[HS_INIT_MAX];

	make_pair(&a, &b, &ca, &cb, psk, psk);
	link_start(a.l, now);
	deliver(&a, &b);
	hs_config_init(&hc, psk, &ca.local, &ca.peer);
	for (uint32_t i = 0; i < 200; i++) {
		randombytes_buf(e, sizeof(e));
		hs_tai64n(tai, 4000000000u, i);  /* later than any real clock */
		CHECK_EQ(hs_init_create(&hc, &st, e, i + 1, 7, tai, msg), HS_OK);
		link_input(b.l, msg, HS_INIT_LEN, now);
	}
	status(&b, &s);
	CHECK(s.counters.hs_rate_limited >= 140);
	CHECK(b.nq <= 60);              /* answers sent (and queued to a) */
	CHECK_EQ(link_state(b.l), LINK_UP);
	b.nq = 0;
	CHECK(keys_match(&a, &b));
	hs_config_wipe(&hc);
	free_pair(&a, &b);
}

/* An init sent back to its sender is refused (reflection). */
static void
check_reflection(void)
{
	struct link_config ca = config("10.0.0.1", "10.0.0.2");
	struct end a, b;
	struct link_report st;

	make_pair(&a, &b, &ca, &ca, psk, psk);
	a.cut = 1;
	link_start(a.l, now);
	link_input(a.l, a.last_init.b, a.last_init.n, now);
	CHECK_EQ(link_state(a.l), LINK_HANDSHAKING);
	status(&a, &st);
	CHECK_EQ(st.counters.hs_bad, 1);
	CHECK_EQ(st.counters.hs_sent, 1);   /* nothing answered */
	free_pair(&a, &b);
}

int
main(void)
{
	CHECK(sodium_init() >= 0);
	check_up_and_keys();
	check_codec_agreement();
	check_suite_agreement();
	check_rekey();
	check_replay();
	check_authentic();
	check_init_sharing_key_id();
	check_ports();
	check_dead_peer(0);
	check_dead_peer(1);
	check_peer_restart();
	check_wrong_key();
	check_simultaneous();
	check_late_peer();
	check_rate_limit();
	check_public_keys();
	check_reflection();
	CHECK_DONE();
}
