/* SPDX-License-Identifier: ISC */
/*
 * Privilege separation, as OpenBSD's iked and ntpd do it: a small root
 * parent owns everything that changes the host (steering, the block,
 * scripts, run files) and supervises; the engine, which reads zcc0, the
 * receive ring and the UDP socket, runs as its own unprivileged user with
 * no capabilities and only the descriptors the parent handed it.
 *
 * They talk over a SOCK_SEQPACKET pair in fixed-size messages. The parent
 * trusts nothing the engine says: privsep_parse checks every message, and
 * the worst an engine can ask for is ip-up, ip-down, a reload of the
 * options from disk, a stop that leaves the block in place, or a smaller
 * MTU (no lower than PRIVSEP_MTU_MIN) on zcc0's route.
 */
#ifndef ZCC_PRIVSEP_H
#define ZCC_PRIVSEP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "zcc/keys.h"
#include "zcc/options.h"

enum privsep_type {
	/* engine -> parent */
	PRIV_READY = 1,         /* set up, privileges dropped, serving */
	PRIV_UP,                /* the link came up: run ip-up */
	PRIV_DOWN,              /* the link went down: run ip-down */
	PRIV_STOP,              /* zccctl stop */
	PRIV_RELOAD,            /* zccctl reload */
	PRIV_MTU,               /* set the MTU of zcc0's route (pmtu.h) */
	/* parent -> engine */
	PRIV_CONFIG,            /* options re-read (SIGHUP) */
	PRIV_KEYS,              /* the link's keys: a struct privsep_keys */
	PRIV_TYPE_MAX
};

/* What of the options a live link takes on SIGHUP. */
struct privsep_config {
	uint16_t ports[ZCC_MAX_PORTS];
	uint32_t nports;
	uint32_t rekey_interval, keepalive_interval, keepalive_failure;
	uint32_t holdoff, maxfail, busy_poll;
	uint32_t persist;
};

struct privsep_msg {
	uint32_t type;          /* enum privsep_type */
	struct privsep_config config;   /* PRIV_CONFIG only, else zero */
	uint32_t mtu;           /* PRIV_MTU only: PRIVSEP_MTU_MIN to 65535,
	                           or 0 for zcc0's own; else zero */
};

/*
 * The least an engine may ask for: IPv4's floor (576) less the most a
 * sealed or encapsulated segment adds (57 bytes), rounded down.
 */
#define PRIVSEP_MTU_MIN 512

/* The engine's exit status when the link failed for good (no persist). */
#define PRIVSEP_EXIT_GAVE_UP 3

/*
 * Check len bytes received from the other side: the exact size, a type
 * that side may send (from_engine), for PRIV_CONFIG the ranges the
 * options allow and for PRIV_MTU the MTU's. 0 and *m filled, or -1.
 */
int privsep_parse(const void *buf, size_t len, int from_engine,
    struct privsep_msg *m);

/* Send one message; -1 (logged) when the other side is gone. */
int privsep_send(int fd, enum privsep_type type,
    const struct privsep_config *config);

/* PRIV_MTU: mtu for zcc0's route, 0 for zcc0's own. */
int privsep_send_mtu(int fd, uint32_t mtu);

/*
 * The link's keys: sets[0] the newest; sets[1], when nsets is 2, the
 * previous ones, valid prev_seconds more (key-overlap). Sent right after
 * the fork (the parent's key page is wiped in every child, MADV_WIPEONFORK,
 * so that the tools and scripts it forks never hold them) and after a
 * SIGHUP that changed them. A message of its own size, so that the engine
 * tells it from a privsep_msg by its length.
 */
struct privsep_keys {
	uint32_t type;          /* PRIV_KEYS */
	uint32_t nsets;         /* 1 or 2 */
	uint32_t prev_seconds;  /* 1 to 604800 with two sets, else 0 */
	uint32_t zero;
	struct zcc_creds sets[2];
};

/* -1 (logged) on failure. */
int privsep_send_keys(int fd, const struct privsep_keys *k);
/* The first message after the fork, waited for; -1 (logged) on failure. */
int privsep_recv_keys(int fd, struct privsep_keys *k);
/* len bytes received: a well-formed keys message? 0 and *k, or -1. */
int privsep_parse_keys(const void *buf, size_t len, struct privsep_keys *k);

/* The config message for options o. */
void privsep_config_from(struct privsep_config *c, const struct zcc_options *o);

/*
 * In the engine, after everything is open: become user (its uid, gid and
 * groups), keep no capability, set no_new_privs and not dumpable, and die
 * with the parent (whose pid is parent). -1 (logged) when any step fails: the engine must not
 * run with more than it should.
 */
int privsep_drop(uid_t uid, gid_t gid, pid_t parent);

/*
 * The engine's user name: its uid and gid, or -1 with a one-line message
 * in err that says how to create it (no such user, or root).
 */
int privsep_user(const char *name, uid_t *uid, gid_t *gid, char *err,
    size_t errlen);

#endif
