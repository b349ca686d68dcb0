/* SPDX-License-Identifier: ISC */
/*
 * The link state machine (include/zcc/link.h, docs/PROTOCOL.md "The link").
 *
 * Sessions: cur seals and opens; prev still opens for a grace period after
 * a rekey, for segments already in flight; next is a session we answered
 * as responder, which opens but does not seal until the initiator proves
 * it has the keys (an echo under it, or a segment sealed with it). Until
 * then cur stays as it was, so a stale or replayed handshake message never
 * disturbs a live session.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "zcc/compress.h"
#include "zcc/datapath.h"
#include "zcc/handshake.h"
#include "zcc/keys.h"
#include "zcc/link.h"
#include "zcc/log.h"

#define RETRY_MS 5000           /* handshake retransmission (WireGuard's REKEY_TIMEOUT) */
#define PREV_GRACE_MS 15000     /* the previous key still opens this long */
#define REJECT_MARGIN_MS 60000  /* a session unrenewed rekey + this is dead */
#define ATTEMPT_MS_NO_ECHO 30000
#define RATE_PER_S 50           /* handshake answers per second, burst as many */
#define LOG_EVERY_MS 10000      /* one warning per kind this often at most */

struct session {
	int live;
	int initiator;          /* we sent the init */
	uint8_t key_id;
	uint8_t codec;          /* agreed compression (compress.h) */
	uint8_t suite;          /* agreed sealing suite (seal.h) */
	uint32_t local_index, remote_index;
	struct dp_key tx, rx;
	uint8_t echo_tx[HS_KEY_LEN], echo_rx[HS_KEY_LEN];
	uint64_t echo_sent, echo_seen;  /* counters */
	uint64_t created, retired;      /* ms; retired: when it became prev */
	struct hs_view view;            /* the peer's, from the handshake */
	uint16_t peer_ports;            /* the digest of the peer's ports */
	size_t keyset;                  /* the keys it was made with */
};

struct link {
	struct link_config cfg;
	struct link_ops ops;
	void *arg;
	struct hs_config hs;
	enum link_state state;
	struct session cur, prev, next;
	struct hs_state pending;        /* our init awaiting its resp */
	uint8_t pending_msg[HS_INIT_MAX];
	size_t pending_len;
	int pending_live;
	uint64_t last_init;             /* ms: when we last sent an init */
	uint64_t attempt_start, holdoff_until;
	uint64_t heard_at_attempt;      /* heard() when the attempt began */
	int holding_off;                /* in Down, waiting to try again */
	uint32_t failures;              /* failed attempts in a row */
	int gave_up;
	uint64_t last_tai_sent;         /* ns, strictly increasing */
	uint8_t greatest_tai[HS_TAI64N_LEN];   /* the peer's, seen so far */
	uint64_t next_echo;
	int echo_outstanding;
	uint8_t echo_flags;             /* HS_ECHO_*, in every echo we send */
	uint64_t last_handshake, up_since;
	int handshaked;
	double tokens;
	uint64_t tokens_at;
	uint64_t last_log_mac, last_log_bad;
	struct link_counters c;
	int renew;                      /* handshake at the next tick */
	size_t key_try;                 /* inits since keys or a session came:
	                                   the keysets take turns, newest first */
	uint64_t prev_keys_until;       /* ms: keys[1]'s end */
	struct link_keys_report keyinfo[HS_KEYSETS];
};

static void
session_wipe(struct session *s)
{
	sodium_memzero(s, sizeof(*s));
}

static struct session *
find_session(struct link *l, uint32_t local_index)
{
	struct session *all[] = { &l->cur, &l->prev, &l->next };

	for (size_t i = 0; i < 3; i++)
		if (all[i]->live && all[i]->local_index == local_index)
			return all[i];
	return NULL;
}

/* Tell the data path which keys open and which one seals. */
static void
push_keys(struct link *l)
{
	const struct dp_key *rx[DP_RX_KEYS];
	size_t n = 0;

	if (l->cur.live)
		rx[n++] = &l->cur.rx;
	if (l->prev.live)
		rx[n++] = &l->prev.rx;
	if (l->next.live)
		rx[n++] = &l->next.rx;
	l->ops.keys(l->arg, l->state == LINK_UP && l->cur.live ? &l->cur.tx :
	    NULL, rx, n);
	if (l->ops.peer_view && (l->next.live || l->cur.live))
		l->ops.peer_view(l->arg, l->next.live ? &l->next.view :
		    &l->cur.view);
	/*
	 * The ports of a confirmed session only: an initiation nobody
	 * confirms (zcctund check's probe, a replay) must not make the link
	 * report, and block for, ports the peer does not select.
	 */
	if (l->ops.peer_ports && l->cur.live)
		l->ops.peer_ports(l->arg, l->cur.peer_ports);
}

/* The compression both ends offered; none when they differ. */
static uint8_t
agreed_codec(const struct link *l, const struct hs_keys *k)
{
	if (k->peer_codec == l->hs.codec)
		return l->hs.codec;
	log_warnx("compress: we offer %s, the peer offers %s; compressing "
	    "nothing (set the same compress at both ends)",
	    compress_codec_name(l->hs.codec), compress_codec_name(k->peer_codec));
	return 0;
}

/*
 * The fastest sealing suite both ends run: the highest both offered in
 * this handshake (the peer decides from the same two offers).
 */
static enum seal_suite
agreed_suite(const struct hs_keys *k)
{
	unsigned both = (unsigned)(k->suites & k->peer_suites);
	enum seal_suite s = SEAL_SUITE_CHACHA;

	for (unsigned i = 1; i < SEAL_SUITES; i++)
		if (both & SEAL_SUITE_BIT(i))
			s = (enum seal_suite)i;
	return s;
}

static void
session_from_keys(struct session *s, const struct hs_keys *k, uint8_t codec,
    enum seal_suite suite, int initiator, uint64_t now)
{
	session_wipe(s);
	s->live = 1;
	s->initiator = initiator;
	s->key_id = k->key_id;
	s->view = k->peer_view;
	s->peer_ports = k->peer_ports;
	s->local_index = k->local_index;
	s->remote_index = k->remote_index;
	s->suite = (uint8_t)suite;
	s->keyset = k->keyset;
	dp_key_derive(&s->tx, k->send, k->key_id, suite);
	dp_key_derive(&s->rx, k->recv, k->key_id, suite);
	s->tx.session = s->rx.session = k->local_index;
	memcpy(s->tx.binding, k->binding, HS_KEY_LEN);
	memcpy(s->rx.binding, k->binding, HS_KEY_LEN);
	s->codec = s->tx.codec = s->rx.codec = codec;
	hs_echo_key(s->echo_tx, k->send);
	hs_echo_key(s->echo_rx, k->recv);
	s->created = now;
}

static void
send_echo(struct link *l, struct session *s, enum hs_type type)
{
	uint8_t msg[HS_ECHO_LEN];

	hs_echo_create(s->echo_tx, type, l->echo_flags, s->remote_index,
	    ++s->echo_sent, msg);
	l->ops.send(l->arg, msg, sizeof(msg));
	l->c.echo_sent++;
}

/* ---- timers derived from the configuration ---- */

static uint64_t
attempt_ms(const struct link *l)
{
	if (l->cfg.keepalive_interval == 0)
		return ATTEMPT_MS_NO_ECHO;
	return (uint64_t)l->cfg.keepalive_interval * l->cfg.keepalive_failure * 1000;
}

/* At least three tries per attempt, at most one every RETRY_MS. */
static uint64_t
retry_ms(const struct link *l)
{
	uint64_t r = attempt_ms(l) / 3;

	return r < RETRY_MS ? (r ? r : 1) : RETRY_MS;
}

static uint64_t
rekey_ms(const struct link *l)
{
	return (uint64_t)l->cfg.rekey_interval * 1000;
}

/* ---- going up and down ---- */

static void
became_up(struct link *l, uint64_t now)
{
	l->state = LINK_UP;
	l->holding_off = 0;
	l->failures = 0;
	l->up_since = now;
	l->echo_outstanding = 0;
	l->c.keepalive_misses = 0;
	l->next_echo = now + (uint64_t)l->cfg.keepalive_interval * 1000;
	l->c.link_ups++;
	log_info("link up: key id %u, sealing %s", l->cur.key_id,
	    seal_suite_name(l->cur.suite));
	push_keys(l);
	l->ops.up(l->arg);
}

static void
forget_sessions(struct link *l)
{
	session_wipe(&l->cur);
	session_wipe(&l->prev);
	session_wipe(&l->next);
	hs_state_wipe(&l->pending);
	l->pending_live = 0;
}

/* After Down: try again after holdoff (persist), or give up. */
static void
after_down(struct link *l, uint64_t now)
{
	l->state = LINK_DOWN;
	if (l->cfg.maxfail && l->failures >= l->cfg.maxfail) {
		log_warnx("%u failed attempts in a row (maxfail): giving up",
		    l->failures);
		l->gave_up = 1;
	} else if (!l->cfg.persist) {
		l->gave_up = 1;
	} else {
		l->holding_off = 1;
		l->holdoff_until = now + (uint64_t)l->cfg.holdoff * 1000;
	}
}

static void
link_down(struct link *l, uint64_t now, const char *why)
{
	int was_up = l->state == LINK_UP;

	log_warnx("link down: %s", why);
	forget_sessions(l);
	l->state = LINK_DOWN;
	push_keys(l);
	if (was_up) {
		l->c.link_downs++;
		l->ops.down(l->arg);
	}
	after_down(l, now);
}

/* Make s the session that seals, keeping the one before for a while. */
static void
install_cur(struct link *l, struct session *s, uint64_t now)
{
	int rekey = l->cur.live;

	session_wipe(&l->prev);
	if (l->cur.live) {
		l->prev = l->cur;
		l->prev.retired = now;
	}
	l->cur = *s;
	session_wipe(s);
	l->key_try = 0;
	l->c.handshakes++;
	l->c.rekeys += rekey;
	l->last_handshake = now;
	l->handshaked = 1;
	if (l->state != LINK_UP)
		became_up(l, now);
	else
		push_keys(l);
	log_debug("session %s: key id %u", rekey ? "renewed" : "established",
	    l->cur.key_id);
}

/* ---- our initiation ---- */

static uint8_t
pick_key_id(const struct link *l)
{
	uint8_t id;

	do
		id = (uint8_t)randombytes_uniform(255) + 1;
	while ((l->cur.live && id == l->cur.key_id) ||
	    (l->prev.live && id == l->prev.key_id) ||
	    (l->next.live && id == l->next.key_id));
	return id;
}

static uint32_t
pick_index(void)
{
	uint32_t i;

	do
		i = randombytes_random();
	while (i == 0);
	return i;
}

/* TAI64N of now, strictly after the last one sent, even if the clock steps. */
static void
next_tai64n(struct link *l, uint8_t out[HS_TAI64N_LEN])
{
	struct timespec ts;
	uint64_t ns;

	clock_gettime(CLOCK_REALTIME, &ts);
	ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	if (ns <= l->last_tai_sent)
		ns = l->last_tai_sent + 1;
	l->last_tai_sent = ns;
	hs_tai64n(out, ns / 1000000000u, (uint32_t)(ns % 1000000000u));
}

static void
send_init(struct link *l, uint64_t now)
{
	uint8_t e[HS_KEY_LEN], tai[HS_TAI64N_LEN], msg[HS_INIT_MAX];
	size_t len;

	l->renew = 0;
	l->last_init = now;
	if (l->hs.nkeys == 0)   /* no keys given yet: nothing to say */
		return;
	randombytes_buf(e, sizeof(e));
	next_tai64n(l, tai);
	hs_state_wipe(&l->pending);
	/* During a rotation's overlap: the new keys, then the old, in turn. */
	l->hs.use = l->key_try++ % l->hs.nkeys;
	len = hs_init_len(&l->hs);
	if (hs_init_create(&l->hs, &l->pending, e, pick_index(), pick_key_id(l),
	    tai, msg) == HS_OK) {
		l->pending_live = 1;
		memcpy(l->pending_msg, msg, len);
		l->pending_len = len;
		l->ops.send(l->arg, msg, len);
		l->c.hs_sent++;
	}
	l->last_init = now;
	sodium_memzero(e, sizeof(e));
}

/* Datagrams that came from the peer's address and port, of any kind. */
static uint64_t
heard(const struct link *l)
{
	return l->c.hs_received + l->c.echo_received + l->c.echo_bad +
	    l->c.hs_bad;
}

static void
begin_attempt(struct link *l, uint64_t now)
{
	l->state = LINK_HANDSHAKING;
	l->attempt_start = now;
	l->heard_at_attempt = heard(l);
	l->holding_off = 0;
	send_init(l, now);
}

/* ---- what arrives ---- */

static int
rate_ok(struct link *l, uint64_t now)
{
	l->tokens += (double)(now - l->tokens_at) * RATE_PER_S / 1000.0;
	if (l->tokens > RATE_PER_S)
		l->tokens = RATE_PER_S;
	l->tokens_at = now;
	if (l->tokens < 1.0)
		return 0;
	l->tokens -= 1.0;
	return 1;
}

static void
warn_limited(uint64_t *last, uint64_t now, const char *msg)
{
	if (*last && now - *last < LOG_EVERY_MS)
		return;
	*last = now;
	log_warnx("%s", msg);
}

/* An init from a key that is not the peer's: say whose, once a while. */
static void
log_peer_key(struct link *l, const uint8_t key[HS_KEY_LEN], uint64_t now)
{
	char b64[ZCC_KEY_B64_LEN + 1], fp[ZCC_FP_LEN], msg[320];

	keys_b64(key, b64);
	keys_fingerprint(key, fp);
	snprintf(msg, sizeof(msg), "handshake refused: it comes from public key "
	    "%s (fingerprint %s), not the peer's (peer-public-key, fingerprint "
	    "%s)", b64, fp, l->keyinfo[0].fp_peer);
	warn_limited(&l->last_log_bad, now, msg);
}

static void
count_bad(struct link *l, int err, uint64_t now)
{
	if (err == HS_ERR_MAC) {
		l->c.hs_bad_mac++;
		warn_limited(&l->last_log_mac, now, "handshake message failed "
		    "authentication (mac1): a different key file at the peer?");
		return;
	}
	l->c.hs_bad++;
	warn_limited(&l->last_log_bad, now, "handshake message rejected "
	    "(tampered, stale, reflected or for another session)");
}

/*
 * Both ends initiated at once: the init of the lower own address wins
 * (compared as a big-endian number, 32 or 128 bits), so exactly one
 * handshake completes. Each end's own address, not the configured ones: a
 * NAT makes those differ between the ends, and each must reach the same
 * verdict. Two ends behind NATs with the same private address: the lower
 * ephemeral key wins.
 */
static int
we_win_tie(const struct link *l, const struct hs_state *theirs,
    const uint8_t *their_e)
{
	int c = addr_cmp(&l->cfg.local, &theirs->peer_view.self);

	if (c == 0)
		c = memcmp(l->pending.e_pub, their_e, HS_KEY_LEN);
	return c < 0;
}

/*
 * The peer picks key ids unlike the ones it holds, so a new session can
 * only share an id with a prev the peer has forgotten (it restarted).
 * (A cur sharing it is kept: it still seals until the new one is
 * confirmed, and the data path tries cur first.)
 */
static void
drop_colliding(struct link *l, uint8_t id)
{
	if (l->prev.live && l->prev.key_id == id)
		session_wipe(&l->prev);
}

static void
answer_init(struct link *l, struct hs_state *st, uint64_t now)
{
	uint8_t e[HS_KEY_LEN], msg[HS_RESP_LEN];
	struct hs_keys keys;

	randombytes_buf(e, sizeof(e));
	if (hs_resp_create(&l->hs, st, e, pick_index(), msg, &keys) != HS_OK) {
		count_bad(l, HS_ERR_DH, now);
		goto out;
	}
	l->ops.send(l->arg, msg, sizeof(msg));
	l->c.hs_sent++;
	drop_colliding(l, keys.key_id);
	session_from_keys(&l->next, &keys, agreed_codec(l, &keys),
	    agreed_suite(&keys), 0, now);
	push_keys(l);
out:
	hs_keys_wipe(&keys);
	sodium_memzero(e, sizeof(e));
}

/* 1 when msg is a fresh init of the peer's, answered or not (a tie). */
static int
on_init(struct link *l, const uint8_t *msg, size_t len, uint64_t now)
{
	struct hs_state st;
	uint8_t tai[HS_TAI64N_LEN];
	int err, pk, fresh = 0;

	/*
	 * A public-key init passes mac1 for anyone who knows our public key,
	 * and costs two X25519 to read: the rate limit comes first for it.
	 */
	pk = hs_type(msg, len) == HS_TYPE_INIT_PK;
	if (pk && !rate_ok(l, now)) {
		l->c.hs_rate_limited++;
		return 0;
	}
	err = hs_init_consume(&l->hs, &st, msg, len,
	    l->pending_live ? l->pending.e_pub : NULL, tai);
	if (err == HS_ERR_PEER_KEY) {
		l->c.hs_bad++;
		log_peer_key(l, st.peer_static, now);
		goto out;
	}
	if (err != HS_OK) {
		count_bad(l, err, now);
		goto out;
	}
	if (memcmp(tai, l->greatest_tai, sizeof(tai)) <= 0) {
		l->c.hs_replayed++;
		log_debug("handshake init replayed or stale: ignored");
		goto out;
	}
	if (!pk && !rate_ok(l, now)) {
		l->c.hs_rate_limited++;
		goto out;
	}
	fresh = 1;
	if (l->pending_live && we_win_tie(l, &st, hs_init_ephemeral(msg, len))) {
		/* Ours may have been lost (the peer was not up yet): again. */
		log_debug("both ends initiated: ours goes on");
		l->ops.send(l->arg, l->pending_msg, l->pending_len);
		l->c.hs_sent++;
		goto out;
	}
	memcpy(l->greatest_tai, tai, sizeof(tai));
	hs_state_wipe(&l->pending);
	l->pending_live = 0;
	answer_init(l, &st, now);
out:
	hs_state_wipe(&st);
	return fresh;
}

/* 1 when msg answers our pending init: a new session. */
static int
on_resp(struct link *l, const uint8_t *msg, size_t len, uint64_t now)
{
	struct hs_keys keys;
	struct session s;
	int err;

	if (!l->pending_live) {
		count_bad(l, HS_ERR_INDEX, now);
		return 0;
	}
	err = hs_resp_consume(&l->hs, &l->pending, msg, len, &keys);
	if (err != HS_OK) {
		count_bad(l, err, now);
		return 0;
	}
	l->pending_live = 0;
	session_wipe(&l->next);         /* our handshake is the newer one */
	drop_colliding(l, keys.key_id);
	session_from_keys(&s, &keys, agreed_codec(l, &keys),
	    agreed_suite(&keys), 1, now);
	hs_keys_wipe(&keys);
	install_cur(l, &s, now);
	/* Confirm at once, so the peer starts sealing with it too. */
	send_echo(l, &l->cur, HS_TYPE_ECHO_REQUEST);
	return 1;
}

/* The peer proved it holds next's keys: next becomes cur. */
static void
confirm_next(struct link *l, uint64_t now)
{
	struct session s = l->next;

	session_wipe(&l->next);
	install_cur(l, &s, now);
	session_wipe(&s);
}

/* 1 when msg is an authentic echo with a counter not seen before. */
static int
on_echo(struct link *l, const uint8_t *msg, size_t len, uint64_t now)
{
	struct session *s = find_session(l, hs_receiver_index(msg, len));
	enum hs_type type;
	uint8_t flags;
	uint64_t counter;

	if (s == NULL || hs_echo_open(s->echo_rx, msg, len, &type, &flags,
	    &counter) != HS_OK || counter <= s->echo_seen) {
		l->c.echo_bad++;
		return 0;
	}
	s->echo_seen = counter;
	l->c.echo_received++;
	l->echo_outstanding = 0;
	l->c.keepalive_misses = 0;
	if (s == &l->next) {
		confirm_next(l, now);
		s = &l->cur;
	}
	if (type == HS_TYPE_ECHO_REQUEST)
		send_echo(l, s, HS_TYPE_ECHO_REPLY);
	if (l->ops.peer_flags)
		l->ops.peer_flags(l->arg, flags);
	return 1;
}

void
link_set_echo_flags(struct link *l, uint8_t flags)
{
	if (flags == l->echo_flags)
		return;
	l->echo_flags = flags;
	if (l->state == LINK_UP && l->cur.live)
		send_echo(l, &l->cur, HS_TYPE_ECHO_REQUEST);
}

int
link_input(struct link *l, const uint8_t *msg, size_t len, uint64_t now)
{
	switch (hs_type(msg, len)) {
	case HS_TYPE_INIT:
	case HS_TYPE_INIT_PK:
		l->c.hs_received++;
		return on_init(l, msg, len, now);
	case HS_TYPE_RESP:
	case HS_TYPE_RESP_PK:
		l->c.hs_received++;
		return on_resp(l, msg, len, now);
	case HS_TYPE_ECHO_REQUEST:
	case HS_TYPE_ECHO_REPLY:
		return on_echo(l, msg, len, now);
	default:
		l->c.hs_bad++;
		return 0;
	}
}

void
link_key_seen(struct link *l, uint32_t session, uint64_t now)
{
	if (l->next.live && l->next.local_index == session)
		confirm_next(l, now);
}

/* ---- timers ---- */

static void
tick_handshaking(struct link *l, uint64_t now)
{
	char why[256];

	if (now - l->attempt_start >= attempt_ms(l)) {
		l->failures++;
		/* Silence and refusal have different causes: say which. */
		snprintf(why, sizeof(why), "no handshake with the peer in "
		    "%llu s (attempt %u): %s",
		    (unsigned long long)(attempt_ms(l) / 1000), l->failures,
		    heard(l) == l->heard_at_attempt ? "nothing came back from "
		    "the peer's UDP port (its zcctund not running, the port "
		    "filtered, or a NAT that changes ports: float at the end "
		    "with the fixed address follows them)" : "what came back "
		    "was refused (see the hs_ counters: another key, or "
		    "replayed or forged messages)");
		link_down(l, now, why);
		return;
	}
	if (now - l->last_init >= retry_ms(l))
		send_init(l, now);
}

static int
rekey_due(struct link *l, uint64_t now)
{
	uint64_t age = now - l->cur.created;
	uint64_t limit = l->cfg.rekey_after_segments ?
	    l->cfg.rekey_after_segments : LINK_REKEY_SEGMENTS;

	/* One handshake at a time: ours just sent, or the peer's unconfirmed. */
	if (l->next.live || now - l->last_init < retry_ms(l))
		return 0;
	if (l->ops.tx_used(l->arg) >= limit || l->renew)
		return 1;
	/* The initiator of the session renews it; the other end only if it does not. */
	return age >= rekey_ms(l) + (l->cur.initiator ? 0 : retry_ms(l));
}

static void
tick_keepalive(struct link *l, uint64_t now)
{
	char why[96];

	if (l->cfg.keepalive_interval == 0 || now < l->next_echo)
		return;
	if (l->echo_outstanding &&
	    ++l->c.keepalive_misses >= l->cfg.keepalive_failure) {
		snprintf(why, sizeof(why), "no answer to %llu echo requests "
		    "(keepalive-failure)",
		    (unsigned long long)l->c.keepalive_misses);
		link_down(l, now, why);
		return;
	}
	send_echo(l, &l->cur, HS_TYPE_ECHO_REQUEST);
	l->echo_outstanding = 1;
	l->next_echo = now + (uint64_t)l->cfg.keepalive_interval * 1000;
}

/* key-overlap over: the previous keys go, and a session made with them. */
static void
expire_keys(struct link *l, uint64_t now)
{
	if (l->hs.nkeys < 2 || now < l->prev_keys_until)
		return;
	sodium_memzero(&l->hs.keys[1], sizeof(l->hs.keys[1]));
	l->hs.nkeys = 1;
	l->hs.use = 0;
	log_info("key-overlap is over: the previous keys are retired");
	if (l->cur.live && l->cur.keyset != 0)
		l->renew = 1;
}

/* Sessions past their time: prev after its grace, an unconfirmed next. */
static void
expire_sessions(struct link *l, uint64_t now)
{
	int changed = 0;

	if (l->prev.live && now - l->prev.retired >= PREV_GRACE_MS) {
		session_wipe(&l->prev);
		changed = 1;
	}
	if (l->next.live && now - l->next.created >= 2 * retry_ms(l)) {
		session_wipe(&l->next);
		changed = 1;
	}
	if (changed)
		push_keys(l);
}

static void
tick_up(struct link *l, uint64_t now)
{
	if (now - l->cur.created >= rekey_ms(l) + REJECT_MARGIN_MS) {
		link_down(l, now, "the session expired: no rekey answered");
		return;
	}
	if (l->pending_live ? now - l->last_init >= retry_ms(l) :
	    rekey_due(l, now))
		send_init(l, now);
	tick_keepalive(l, now);
}

void
link_tick(struct link *l, uint64_t now)
{
	expire_sessions(l, now);
	expire_keys(l, now);
	switch (l->state) {
	case LINK_DOWN:
		if (l->holding_off && now >= l->holdoff_until)
			begin_attempt(l, now);
		break;
	case LINK_HANDSHAKING:
		tick_handshaking(l, now);
		break;
	case LINK_UP:
		tick_up(l, now);
		break;
	}
}

/* ---- the rest of the contract ---- */

struct link *
link_new(const struct link_config *cfg, const uint8_t psk[ZCC_KEY_LEN],
    const struct link_ops *ops, void *arg)
{
	/* Every key of the link's: locked, out of core dumps, wiped on free. */
	struct link *l = sodium_malloc(sizeof(*l));

	if (l == NULL)
		return NULL;
	memset(l, 0, sizeof(*l));
	l->cfg = *cfg;
	l->ops = *ops;
	l->arg = arg;
	l->state = LINK_DOWN;
	l->tokens = RATE_PER_S;
	if (psk != NULL)
		hs_config_init(&l->hs, psk, &cfg->local, &cfg->peer);
	else {
		l->hs.local = cfg->local;
		l->hs.peer = cfg->peer;
	}
	l->hs.port = cfg->port;
	l->hs.codec = cfg->codec;
	l->hs.suites = cfg->suites;
	l->hs.ports_digest = cfg->ports_digest;
	return l;
}

static void
describe_keys(struct link_keys_report *r, const struct zcc_creds *c,
    const struct hs_keyset *ks)
{
	memset(r, 0, sizeof(*r));
	r->shared = !!(c->flags & ZCC_CREDS_SHARED);
	r->public_keys = ks->public_keys;
	if (r->shared)
		keys_fingerprint(c->psk, r->fp_shared);
	if (!r->public_keys)
		return;
	keys_b64(ks->pub, r->pub);
	keys_fingerprint(ks->pub, r->fp_pub);
	keys_b64(ks->peer_pub, r->peer_pub);
	keys_fingerprint(ks->peer_pub, r->fp_peer);
}

int
link_set_keys(struct link *l, const struct zcc_creds *sets, size_t n,
    uint32_t prev_seconds, uint64_t now)
{
	struct hs_keyset ks[HS_KEYSETS];
	int ret = -1;

	if (n < 1 || n > HS_KEYSETS)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct zcc_creds *c = &sets[i];
		int pk = !!(c->flags & ZCC_CREDS_PUBLIC);

		if (hs_keyset_init(&ks[i], c->flags & ZCC_CREDS_SHARED ? c->psk :
		    NULL, pk ? c->priv : NULL, pk ? c->peer_pub : NULL) == -1) {
			log_warnx("peer-public-key: a key no X25519 exchange can "
			    "use (a low-order point): keeping the keys in use");
			goto out;
		}
	}
	/* Keys in use already: a handshake now, with the new ones first. */
	if (l->hs.nkeys > 0 && (l->hs.nkeys != n ||
	    sodium_memcmp(l->hs.keys, ks, n * sizeof(ks[0])) != 0))
		l->renew = 1;
	hs_config_set_keys(&l->hs, ks, n);
	for (size_t i = 0; i < n; i++)
		describe_keys(&l->keyinfo[i], &sets[i], &ks[i]);
	l->prev_keys_until = now + (uint64_t)prev_seconds * 1000;
	l->key_try = 0;
	ret = 0;
out:
	sodium_memzero(ks, sizeof(ks));
	return ret;
}

void
link_free(struct link *l)
{
	if (l == NULL)
		return;
	forget_sessions(l);
	hs_config_wipe(&l->hs);
	sodium_free(l);
}

void
link_start(struct link *l, uint64_t now)
{
	l->tokens_at = now;
	begin_attempt(l, now);
}

void
link_stop(struct link *l, uint64_t now)
{
	int was_up = l->state == LINK_UP;

	(void)now;
	forget_sessions(l);
	l->state = LINK_DOWN;
	l->gave_up = 1;
	push_keys(l);
	if (was_up) {
		l->c.link_downs++;
		l->ops.down(l->arg);
	}
}

void
link_renew(struct link *l)
{
	l->renew = 1;
}

void
link_set_config(struct link *l, const struct link_config *cfg)
{
	/* Other ports or suites: a handshake now, not at the next rekey. */
	if (cfg->ports_digest != l->hs.ports_digest ||
	    cfg->suites != l->hs.suites)
		l->renew = 1;
	l->cfg = *cfg;
	l->hs.codec = cfg->codec;       /* offered from the next handshake on */
	l->hs.suites = cfg->suites;
	l->hs.ports_digest = cfg->ports_digest;
}

enum link_state
link_state(const struct link *l)
{
	return l->state;
}

const char *
link_state_name(enum link_state s)
{
	switch (s) {
	case LINK_DOWN:
		return "down";
	case LINK_HANDSHAKING:
		return "handshaking";
	case LINK_UP:
		return "up";
	}
	return "?";
}

int
link_gave_up(const struct link *l)
{
	return l->gave_up;
}

void
link_status(const struct link *l, uint64_t now, struct link_report *r)
{
	r->state = link_state_name(l->state);
	r->handshake_age = l->handshaked ?
	    (int64_t)((now - l->last_handshake) / 1000) : -1;
	r->up_seconds = l->state == LINK_UP ?
	    (int64_t)((now - l->up_since) / 1000) : -1;
	r->key_id = l->cur.live ? l->cur.key_id : 0;
	r->codec = l->cur.live ? l->cur.codec : 0;
	r->suite = l->cur.live ? l->cur.suite : SEAL_SUITE_CHACHA;
	r->nkeys = l->hs.nkeys;
	memcpy(r->keys, l->keyinfo, sizeof(r->keys));
	r->prev_keys_seconds = l->hs.nkeys == 2 ?
	    (int64_t)((l->prev_keys_until - now) / 1000) : -1;
	r->session_keys = l->cur.live ? (int)l->cur.keyset : -1;
	r->counters = l->c;
}
