/* SPDX-License-Identifier: ISC */
/*
 * The replay guard of sealed segments: the peer's TCP timestamp clock and
 * the exact tags inside its tolerance (tsguard.h, PROTOCOL.md "Replay").
 *
 * The tags are outputs of a PRF under the session key and only authentic
 * ones are stored, so their own bits index the table: nobody who lacks the
 * key can aim at a slot.
 */
#include <string.h>

#include "zcc/tsguard.h"

_Static_assert((TSGUARD_SLOTS & (TSGUARD_SLOTS - 1)) == 0,
    "the table's index wraps with a mask");
_Static_assert(TSGUARD_FILL < TSGUARD_SLOTS, "a table never fills");

/* RFC 1982 serial arithmetic: TCP timestamps wrap. */
static int
ts_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static uint64_t
tag_key(const uint8_t tag[8])
{
	uint64_t k;

	memcpy(&k, tag, sizeof(k));
	return k ? k : 1;               /* 0 marks an empty slot */
}

static int
gen_has(const struct tsguard_gen *t, uint64_t k)
{
	for (size_t i = k & (TSGUARD_SLOTS - 1); t->tag[i];
	    i = (i + 1) & (TSGUARD_SLOTS - 1))
		if (t->tag[i] == k)
			return 1;
	return 0;
}

static void
gen_add(struct tsguard_gen *t, uint64_t k, uint32_t tsval)
{
	size_t i = k & (TSGUARD_SLOTS - 1);

	while (t->tag[i])
		i = (i + 1) & (TSGUARD_SLOTS - 1);
	t->tag[i] = k;
	if (t->n++ == 0 || ts_before(t->newest, tsval))
		t->newest = tsval;
}

/*
 * The newer generation is full: forget the older one, and with it every
 * TSval up to the newest it held.
 */
static void
rotate(struct tsguard *g)
{
	struct tsguard_gen *old = &g->gen[g->cur ^ 1];

	if (old->n) {
		if (!g->forgot || ts_before(g->forgotten, old->newest))
			g->forgotten = old->newest;
		g->forgot = 1;
		memset(old, 0, sizeof(*old));
	}
	g->cur ^= 1;
}

void
tsguard_reset(struct tsguard *g)
{
	memset(g, 0, sizeof(*g));
}

static int
too_old(const struct tsguard *g, uint32_t tsval)
{
	if (!g->started)
		return 0;
	if (ts_before(tsval, g->newest - TSGUARD_TOLERANCE))
		return 1;
	return g->forgot && !ts_before(g->forgotten, tsval);
}

enum tsguard_verdict
tsguard_check(struct tsguard *g, uint32_t tsval, const uint8_t tag[8])
{
	uint64_t k = tag_key(tag);

	if (too_old(g, tsval))
		return TSGUARD_STALE;
	if (gen_has(&g->gen[0], k) || gen_has(&g->gen[1], k))
		return TSGUARD_SEEN;
	if (g->gen[g->cur].n == TSGUARD_FILL)
		rotate(g);
	gen_add(&g->gen[g->cur], k, tsval);
	if (!g->started || ts_before(g->newest, tsval))
		g->newest = tsval;
	g->started = 1;
	return TSGUARD_FRESH;
}
