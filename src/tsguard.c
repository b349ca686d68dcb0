/* SPDX-License-Identifier: ISC */
/*
 * The replay guard of sealed segments: each flow's TCP timestamp clock and
 * the exact tags inside its tolerance (tsguard.h, PROTOCOL.md "Replay").
 *
 * The tags are outputs of a PRF under the session key and only authentic
 * ones are stored, so their own bits index the table: nobody who lacks the
 * key can aim at a slot. Ports are chosen by the peer's TCP, which only the
 * peer's own segments (authentic too) can name.
 */
#include <string.h>

#include "zcc/tsguard.h"

_Static_assert((TSGUARD_SLOTS & (TSGUARD_SLOTS - 1)) == 0,
    "the tag table's index wraps with a mask");
_Static_assert((TSGUARD_FLOW_SLOTS & (TSGUARD_FLOW_SLOTS - 1)) == 0,
    "the flow table's index wraps with a mask");
_Static_assert(TSGUARD_FILL < TSGUARD_SLOTS && TSGUARD_FLOWS < TSGUARD_FLOW_SLOTS,
    "a table never fills");

/* RFC 1982 serial arithmetic: TCP timestamps wrap. */
static int
ts_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static uint32_t
ts_max(uint32_t a, uint32_t b)
{
	return ts_before(a, b) ? b : a;
}

static uint64_t
tag_key(const uint8_t tag[8])
{
	uint64_t k;

	memcpy(&k, tag, sizeof(k));
	return k ? k : 1;               /* 0 marks an empty slot */
}

static int
tags_have(const uint64_t *t, uint64_t k)
{
	for (size_t i = k & (TSGUARD_SLOTS - 1); t[i];
	    i = (i + 1) & (TSGUARD_SLOTS - 1))
		if (t[i] == k)
			return 1;
	return 0;
}

static void
tags_add(uint64_t *t, uint64_t k)
{
	size_t i = k & (TSGUARD_SLOTS - 1);

	while (t[i])
		i = (i + 1) & (TSGUARD_SLOTS - 1);
	t[i] = k;
}

/* Fibonacci hashing: the peer picks its ports, but only the peer. */
static size_t
flow_home(uint32_t ports)
{
	return (size_t)((ports * UINT64_C(0x9e3779b97f4a7c15)) >> 32) &
	    (TSGUARD_FLOW_SLOTS - 1);
}

/* The flow's slot, or the empty slot where it would go. */
static struct tsguard_flow *
flow_slot(struct tsguard *g, uint32_t ports)
{
	size_t i = flow_home(ports);

	while (g->flow[i].used && g->flow[i].ports != ports)
		i = (i + 1) & (TSGUARD_FLOW_SLOTS - 1);
	return &g->flow[i];
}

/*
 * The newer generation is full: forget the older one. Each flow with tags
 * there refuses from now on every TSval up to the newest of them.
 */
static void
rotate(struct tsguard *g)
{
	unsigned old = g->cur ^ 1;

	for (size_t i = 0; i < TSGUARD_FLOW_SLOTS; i++) {
		struct tsguard_flow *f = &g->flow[i];

		if (!f->used || !f->in_gen[old])
			continue;
		f->floor = f->has_floor ? ts_max(f->floor, f->gen_newest[old]) :
		    f->gen_newest[old];
		f->has_floor = 1;
		f->in_gen[old] = 0;
	}
	memset(g->tag[old], 0, sizeof(g->tag[old]));
	g->ntags[old] = 0;
	g->cur = old;
}

void
tsguard_reset(struct tsguard *g)
{
	memset(g, 0, sizeof(*g));
}

int
tsguard_crowded(const struct tsguard *g)
{
	return g->nflows >= TSGUARD_FLOWS / 4 * 3;
}

static int
too_old(const struct tsguard_flow *f, uint32_t tsval)
{
	if (!f->used)
		return 0;
	if (ts_before(tsval, f->newest - TSGUARD_TOLERANCE))
		return 1;
	return f->has_floor && !ts_before(f->floor, tsval);
}

static void
remember(struct tsguard *g, struct tsguard_flow *f, uint32_t tsval,
    uint64_t k)
{
	unsigned c = g->cur;

	tags_add(g->tag[c], k);
	g->ntags[c]++;
	f->gen_newest[c] = f->in_gen[c] ? ts_max(f->gen_newest[c], tsval) : tsval;
	f->in_gen[c] = 1;
	f->newest = ts_max(f->newest, tsval);
}

enum tsguard_verdict
tsguard_check(struct tsguard *g, uint32_t ports, uint32_t tsval,
    const uint8_t tag[8])
{
	uint64_t k = tag_key(tag);
	struct tsguard_flow *f;

	/* First, so that the floors it raises judge this segment too. */
	if (g->ntags[g->cur] == TSGUARD_FILL)
		rotate(g);
	f = flow_slot(g, ports);
	if (too_old(f, tsval))
		return TSGUARD_STALE;
	if (tags_have(g->tag[0], k) || tags_have(g->tag[1], k))
		return TSGUARD_SEEN;
	if (!f->used) {
		if (g->nflows == TSGUARD_FLOWS)
			return TSGUARD_FULL;
		memset(f, 0, sizeof(*f));
		f->used = 1;
		f->ports = ports;
		f->newest = tsval;
		g->nflows++;
	}
	remember(g, f, tsval, k);
	return TSGUARD_FRESH;
}
