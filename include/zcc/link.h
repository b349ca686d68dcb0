/* SPDX-License-Identifier: ISC */
/*
 * The link: states Down, Handshaking and Up, as a pppd link has. It runs the
 * handshake (handshake.h) over zcc's UDP port, hands session keys to the
 * data path, rekeys on time and on segment count, keeps the previous key
 * for a grace period, sends echo requests to find a dead peer, and says
 * when to run ip-up and ip-down and when to give up (persist, holdoff,
 * maxfail).
 *
 * No sockets and no timers of its own: the caller passes datagrams in,
 * calls link_tick() a few times a second with a monotonic clock in
 * milliseconds, and does the I/O through link_ops. Tests drive two links
 * against each other in memory.
 */
#ifndef ZCC_LINK_H
#define ZCC_LINK_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "zcc/addr.h"
#include "zcc/handshake.h"
#include "zcc/keys.h"

struct dp_key;                  /* datapath.h: what the link hands over */

enum link_state { LINK_DOWN, LINK_HANDSHAKING, LINK_UP };

/* Handshake and link counters, kept by the link module. */
struct link_counters {
	uint64_t handshakes;            /* sessions established */
	uint64_t rekeys;                /* of which replaced a live session */
	uint64_t hs_sent, hs_received;  /* init and resp messages */
	uint64_t hs_bad_mac;            /* mac1 failed: forged or other key */
	uint64_t hs_bad;                /* decrypt, index, reflection, DH */
	uint64_t hs_replayed;           /* init with an old timestamp */
	uint64_t hs_rate_limited;
	uint64_t echo_sent, echo_received, echo_bad;
	uint64_t keepalive_misses;      /* unanswered echo requests in a row */
	uint64_t link_ups, link_downs;
};

/* What the link says of itself for "zccctl show". */
/* The keys of one set, as show names them (nothing secret). */
struct link_keys_report {
	int shared, public_keys;
	char fp_shared[ZCC_FP_LEN];             /* of the shared key */
	char pub[ZCC_KEY_B64_LEN + 1], fp_pub[ZCC_FP_LEN];     /* ours */
	char peer_pub[ZCC_KEY_B64_LEN + 1], fp_peer[ZCC_FP_LEN];
};

struct link_report {
	const char *state;              /* "down", "handshaking", "up" */
	int64_t handshake_age;          /* seconds since the last one, -1: never */
	int64_t up_seconds;             /* time in state up, -1 when not up */
	uint8_t key_id;                 /* current transmit key id, 0: none */
	uint8_t codec;                  /* the session's compression */
	uint8_t suite;                  /* the session's sealing (seal.h) */
	struct link_keys_report keys[HS_KEYSETS];       /* newest first */
	size_t nkeys;
	int64_t prev_keys_seconds;      /* keys[1]'s time left, -1: none */
	int session_keys;               /* the keys the session was made
	                                   with: 0 newest, 1 previous, -1 none */
	struct link_counters counters;
};

struct link_config {
	struct zcc_addr local, peer;    /* of one family */
	uint16_t port;                  /* our UDP port (the handshake's view) */
	uint32_t rekey_interval;        /* seconds */
	uint32_t keepalive_interval;    /* seconds, 0: no echo requests */
	uint32_t keepalive_failure;     /* unanswered in a row before Down */
	uint32_t holdoff;               /* seconds in Down before trying again */
	uint32_t maxfail;               /* failed attempts in a row, 0: no limit */
	int persist;                    /* else: exit once the link fails */
	uint64_t rekey_after_segments;  /* 0: LINK_REKEY_SEGMENTS */
	uint8_t codec;                  /* compression we offer (compress.h) */
	uint8_t suites;                 /* sealing suites we offer (seal.h) */
	uint16_t ports_digest;          /* hs_ports_digest of our ports */
};

/* Well below the 2^32 a key may seal (PROTOCOL.md), so a rekey has time. */
#define LINK_REKEY_SEGMENTS (UINT64_C(1) << 31)

struct link_ops {
	/* A datagram for the peer's UDP port. */
	void (*send)(void *arg, const uint8_t *msg, size_t len);
	/* New keys for the data path (tx NULL: seal nothing). */
	void (*keys)(void *arg, const struct dp_key *tx,
	    const struct dp_key *const rx[], size_t nrx);
	/* Segments sealed under the current tx key. */
	uint64_t (*tx_used)(void *arg);
	void (*up)(void *arg);          /* run ip-up */
	void (*down)(void *arg);        /* run ip-down */
	/* An authentic echo's flags (HS_ECHO_*); NULL: not wanted. */
	void (*peer_flags)(void *arg, uint8_t flags);
	/*
	 * How the peer addresses the link, from the newest session's
	 * handshake, each time keys change; NULL: not wanted.
	 */
	void (*peer_view)(void *arg, const struct hs_view *v);
	/*
	 * The digest of the ports the peer selects (hs_ports_digest), from
	 * the newest session's handshake, each time keys change; NULL: not
	 * wanted.
	 */
	void (*peer_ports)(void *arg, uint16_t digest);
};

struct link;

/*
 * A link in Down; link_start begins. psk: a shared-key link's key, or
 * NULL when link_set_keys gives the keys before the start. NULL on
 * allocation failure.
 */
struct link *link_new(const struct link_config *cfg,
    const uint8_t psk[ZCC_KEY_LEN], const struct link_ops *ops, void *arg);

/*
 * The keys to handshake with: sets[0] the newest, tried first; sets[1]
 * (n 2) the previous ones, still valid for prev_seconds (a rotation).
 * Keys other than those in use start a handshake at the next tick. -1
 * (logged) when a set is unusable (a low-order peer key): nothing changes.
 */
int link_set_keys(struct link *l, const struct zcc_creds *sets, size_t n,
    uint32_t prev_seconds, uint64_t now);

/* Wipe every key and free. NULL is fine. */
void link_free(struct link *l);

/* Down -> Handshaking: send the first handshake message. */
void link_start(struct link *l, uint64_t now);

/*
 * A datagram from the peer's UDP port. 1 when it was authentic and fresh
 * (an init past the replay check, the answer to ours, a new echo): proof
 * that the peer sent it lately, wherever it came from; else 0.
 */
int link_input(struct link *l, const uint8_t *msg, size_t len, uint64_t now);

/* Timers: retransmit, rekey, echo, holdoff, expiry. */
void link_tick(struct link *l, uint64_t now);

/*
 * The data path opened a segment under the receive key whose dp_key.session
 * is session (the session's local index): that confirms a new session. A
 * key id would not: a replayed init can make a session with the current
 * one's id, which only the current keys then open.
 */
void link_key_seen(struct link *l, uint32_t session, uint64_t now);

/* Going away (SIGTERM): ip-down if Up, keys wiped, state Down. */
void link_stop(struct link *l, uint64_t now);

/*
 * Flags (HS_ECHO_*) for every echo from now on; when they change and the
 * link is up, an echo request goes at once.
 */
void link_set_echo_flags(struct link *l, uint8_t flags);

/*
 * A handshake at the next tick, for a new session: the one the peer seals
 * under remembers too many connections (datapath_guard_crowded).
 */
void link_renew(struct link *l);

/*
 * Timers and persist from re-read options (SIGHUP); other ports start a
 * handshake at the next tick, so the peer learns them at once.
 */
void link_set_config(struct link *l, const struct link_config *cfg);

enum link_state link_state(const struct link *l);
const char *link_state_name(enum link_state s);

/* Nonzero once the link has failed for good (no persist, or maxfail). */
int link_gave_up(const struct link *l);

/* State, handshake age, key id and counters for "zccctl show". */
void link_status(const struct link *l, uint64_t now, struct link_report *r);

#endif
