/* SPDX-License-Identifier: ISC */
/*
 * The replay guard of sealed segments (docs/PROTOCOL.md, "Replay"). A
 * sealed segment verifies again when it is replayed, and a listener that
 * answers with SYN cookies takes a replayed opening as a new connection, so
 * each receive session keeps the peer's TCP timestamp clock: Linux keeps
 * one clock per pair of hosts, monotonic, in milliseconds. A segment is
 * opened only if its TSval is at most TSGUARD_TOLERANCE ticks older than
 * the newest opened under the session, and only once: the tags of the
 * segments inside that tolerance are remembered exactly.
 *
 * Memory is bounded: two generations of tags, each up to TSGUARD_FILL. When
 * the newer one fills, the older one is forgotten and every segment no
 * newer than the newest it held is refused from then on, so a tag is
 * forgotten only once nothing of its age can be opened again.
 *
 * Pure: no clocks, no allocation, no keys.
 */
#ifndef ZCC_TSGUARD_H
#define ZCC_TSGUARD_H

#include <stdint.h>

/* TSval ticks (ms on Linux) a segment may trail the newest one opened. */
#define TSGUARD_TOLERANCE 250
/* Tags remembered per generation; a table of twice as many slots. */
#define TSGUARD_FILL 16384
#define TSGUARD_SLOTS (2 * TSGUARD_FILL)

enum tsguard_verdict {
	TSGUARD_FRESH = 0,      /* first seen, and new enough: now remembered */
	TSGUARD_STALE = -1,     /* older than the tolerance or the forgotten */
	TSGUARD_SEEN = -2,      /* this very segment was opened before */
};

struct tsguard_gen {
	uint64_t tag[TSGUARD_SLOTS];    /* 0: empty slot */
	uint32_t n;
	uint32_t newest;                /* the greatest TSval among the tags */
};

struct tsguard {
	int started;                    /* a segment has been opened */
	int forgot;                     /* a generation has been dropped */
	uint32_t newest;                /* the greatest TSval opened */
	uint32_t forgotten;             /* the greatest TSval of a dropped tag */
	unsigned cur;                   /* gen[cur] takes new tags */
	struct tsguard_gen gen[2];
};

/* Start empty: for a new session. */
void tsguard_reset(struct tsguard *g);

/*
 * The verdict on an authentic segment with this TSval and tag (the first
 * 8 bytes of its zcc tag); a fresh one is remembered. Call only after the
 * tag has verified, so that forgeries cannot fill the memory.
 */
enum tsguard_verdict tsguard_check(struct tsguard *g, uint32_t tsval,
    const uint8_t tag[8]);

#endif
