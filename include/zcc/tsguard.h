/* SPDX-License-Identifier: ISC */
/*
 * The replay guard of sealed segments (docs/PROTOCOL.md, "Replay"). A
 * sealed segment verifies again when it is replayed, and a listener that
 * answers with SYN cookies takes a replayed opening as a new connection, so
 * each receive session follows the peer's TCP timestamp clock of every
 * flow: Linux runs one per four-tuple (its offset a keyed hash of the
 * addresses and ports), monotonic, in milliseconds. A segment is opened
 * only if its TSval trails the newest opened on its flow by at most
 * TSGUARD_TOLERANCE ticks, and only once: the tags of recent segments are
 * remembered exactly.
 *
 * Memory is bounded. Tags live in two generations of up to TSGUARD_FILL
 * each; when the newer fills, the older is forgotten, and each flow that
 * had tags there refuses from then on every TSval up to the newest of
 * them, so a tag is forgotten only once nothing of its age on its flow can
 * be opened again. Flows are never forgotten while the session lives: a
 * session holds up to TSGUARD_FLOWS of them, and the link renews the
 * session before that (tsguard_crowded).
 *
 * Pure: no clocks, no allocation, no keys.
 */
#ifndef ZCC_TSGUARD_H
#define ZCC_TSGUARD_H

#include <stdint.h>

/* TSval ticks (ms on Linux) a segment may trail the newest of its flow. */
#define TSGUARD_TOLERANCE 32
/* Tags remembered per generation; a table of twice as many slots. */
#define TSGUARD_FILL 8192
#define TSGUARD_SLOTS (2 * TSGUARD_FILL)
/* Flows per session; a table of twice as many slots. */
#define TSGUARD_FLOWS 8192
#define TSGUARD_FLOW_SLOTS (2 * TSGUARD_FLOWS)

enum tsguard_verdict {
	TSGUARD_FRESH = 0,      /* first seen, and new enough: now remembered */
	TSGUARD_STALE = -1,     /* older than its flow's tolerance or floor */
	TSGUARD_SEEN = -2,      /* this very segment was opened before */
	TSGUARD_FULL = -3,      /* a new flow, and no room for it */
};

struct tsguard_flow {
	uint32_t ports;                 /* the peer's port << 16 | ours */
	uint32_t newest;                /* the greatest TSval opened */
	uint32_t floor;                 /* with has_floor: refused up to it */
	uint32_t gen_newest[2];         /* the greatest TSval of its tags there */
	uint8_t used, has_floor, in_gen[2];
};

struct tsguard {
	unsigned cur;                   /* tag[cur] takes new tags */
	uint32_t ntags[2];
	uint32_t nflows;
	uint64_t tag[2][TSGUARD_SLOTS];         /* 0: an empty slot */
	struct tsguard_flow flow[TSGUARD_FLOW_SLOTS];
};

/* Start empty: for a new session. */
void tsguard_reset(struct tsguard *g);

/*
 * The verdict on an authentic segment of the flow ports (the peer's port
 * << 16 | ours) with this TSval and tag (the first 8 bytes of its zcc tag);
 * a fresh one is remembered. Call only after the tag has verified, so that
 * forgeries cannot fill the memory.
 */
enum tsguard_verdict tsguard_check(struct tsguard *g, uint32_t ports,
    uint32_t tsval, const uint8_t tag[8]);

/* Three quarters of the flows are taken: time to renew the session. */
int tsguard_crowded(const struct tsguard *g);

#endif
