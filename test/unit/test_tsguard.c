/* SPDX-License-Identifier: ISC */
/*
 * The replay guard of sealed segments: a segment is taken once, within the
 * tolerance of the newest TSval of its flow, each flow on its own clock,
 * across the wrap of the clock and across the forgetting of a generation;
 * a session full of flows refuses new ones; and a long random run against
 * a model that remembers every tag it ever took.
 */
#include <stdlib.h>

#include "check.h"
#include "zcc/tsguard.h"

static struct tsguard guard;
static uint64_t rng = 0x2545f4914f6cdd1dull;

/* xorshift64: the same run every time. */
static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int
check_flow(uint32_t ports, uint32_t tsval, uint64_t tag)
{
	uint8_t t[8];

	memcpy(t, &tag, sizeof(t));
	return tsguard_check(&guard, ports, tsval, t);
}

/* One flow: the peer's port 40000 to ours 5001. */
#define FLOW ((40000u << 16) | 5001)

static int
check(uint32_t tsval, uint64_t tag)
{
	return check_flow(FLOW, tsval, tag);
}

static void
check_once(void)
{
	tsguard_reset(&guard);
	CHECK_EQ(check(1000, 11), TSGUARD_FRESH);
	CHECK_EQ(check(1000, 11), TSGUARD_SEEN);
	CHECK_EQ(check(1000, 12), TSGUARD_FRESH);   /* same tick, other segment */
	CHECK_EQ(check(1001, 11), TSGUARD_SEEN);    /* the tag is the segment */
	/* An all-zero tag is remembered like any other. */
	CHECK_EQ(check(1000, 0), TSGUARD_FRESH);
	CHECK_EQ(check(1000, 0), TSGUARD_SEEN);
	/* On another flow too: the tag names the segment, flows aside. */
	CHECK_EQ(check_flow(FLOW + 1, 7, 11), TSGUARD_SEEN);
}

static void
check_tolerance(void)
{
	tsguard_reset(&guard);
	CHECK_EQ(check(5000, 1), TSGUARD_FRESH);
	CHECK_EQ(check(5000 - TSGUARD_TOLERANCE, 2), TSGUARD_FRESH);
	CHECK_EQ(check(5000 - TSGUARD_TOLERANCE - 1, 3), TSGUARD_STALE);
	/* A newer one moves the edge: what was in is out. */
	CHECK_EQ(check(5010, 4), TSGUARD_FRESH);
	CHECK_EQ(check(5010 - TSGUARD_TOLERANCE - 1, 5), TSGUARD_STALE);
	CHECK_EQ(check(5010 - TSGUARD_TOLERANCE, 6), TSGUARD_FRESH);
	/* Reordered inside it: taken, and the newest stays. */
	CHECK_EQ(check(5005, 7), TSGUARD_FRESH);
	CHECK_EQ(check(5010 - TSGUARD_TOLERANCE - 1, 8), TSGUARD_STALE);
	/* A stale one is not remembered: a replay of it stays stale. */
	CHECK_EQ(check(5010 - TSGUARD_TOLERANCE - 1, 8), TSGUARD_STALE);
}

/* Every flow has a clock of its own (Linux: an offset per four-tuple). */
static void
check_clocks_per_flow(void)
{
	tsguard_reset(&guard);
	CHECK_EQ(check_flow(1, 3000000000u, 1), TSGUARD_FRESH);
	CHECK_EQ(check_flow(2, 17, 2), TSGUARD_FRESH);
	CHECK_EQ(check_flow(3, 2000000000u, 3), TSGUARD_FRESH);
	CHECK_EQ(check_flow(1, 3000000000u - TSGUARD_TOLERANCE - 1, 4),
	    TSGUARD_STALE);
	CHECK_EQ(check_flow(2, 18, 5), TSGUARD_FRESH);
	CHECK_EQ(check_flow(3, 2000000001u, 6), TSGUARD_FRESH);
	CHECK_EQ(check_flow(2, 17 - TSGUARD_TOLERANCE - 1, 7), TSGUARD_STALE);
}

static void
check_wrap(void)
{
	tsguard_reset(&guard);
	CHECK_EQ(check(0xfffffff0u, 1), TSGUARD_FRESH);
	CHECK_EQ(check(0x08, 2), TSGUARD_FRESH);            /* after the wrap */
	CHECK_EQ(check(0xffffffffu, 3), TSGUARD_FRESH);      /* 9 ticks behind */
	CHECK_EQ(check(0xfffffff0u, 1), TSGUARD_SEEN);
	CHECK_EQ(check(0x08 - TSGUARD_TOLERANCE - 1, 4), TSGUARD_STALE);
	CHECK_EQ(check(0x08 - TSGUARD_TOLERANCE, 5), TSGUARD_FRESH);
}

/*
 * Two generations and a third: the first is forgotten, and the flows that
 * had tags there refuse every TSval up to the newest of them, even inside
 * the tolerance; a flow with no tags there keeps its tolerance.
 */
static void
check_forgetting(void)
{
	uint64_t t;

	tsguard_reset(&guard);
	CHECK_EQ(check_flow(9, 500, 1u << 30), TSGUARD_FRESH);  /* flow 9: 500 */
	for (t = 2; t <= 2 * TSGUARD_FILL; t++)         /* ticks 100..131 */
		CHECK_EQ(check(100 + (uint32_t)(t - 1) / 512, t), TSGUARD_FRESH);
	/* The next call forgets the first generation (ticks 100..115). */
	CHECK_EQ(check(100, 2), TSGUARD_STALE);          /* a replay of tick 100 */
	CHECK_EQ(check(115, 1u << 21), TSGUARD_STALE);   /* the forgotten tick */
	CHECK_EQ(check(116, 1u << 22), TSGUARD_FRESH);
	for (t = TSGUARD_FILL + 1; t <= 2 * TSGUARD_FILL; t += 997)
		CHECK_EQ(check(131, t), TSGUARD_SEEN);   /* still held */
	CHECK_EQ(check(131, 2 * TSGUARD_FILL), TSGUARD_SEEN);
	/* Flow 9's tag went with the first generation: its floor is 500. */
	CHECK_EQ(check_flow(9, 500, 1u << 30), TSGUARD_STALE);
	CHECK_EQ(check_flow(9, 501, 1u << 31), TSGUARD_FRESH);
	/* A flow first seen now starts with its tolerance whole. */
	CHECK_EQ(check_flow(10, 900, 1u << 23), TSGUARD_FRESH);
	CHECK_EQ(check_flow(10, 900 - TSGUARD_TOLERANCE, 1u << 24), TSGUARD_FRESH);
}

static void
check_full(void)
{
	uint32_t i;

	tsguard_reset(&guard);
	for (i = 0; i < TSGUARD_FLOWS; i++) {
		CHECK_EQ(tsguard_crowded(&guard), i >= TSGUARD_FLOWS / 4 * 3);
		CHECK_EQ(check_flow(i, 7, 100 + i), TSGUARD_FRESH);
	}
	CHECK(tsguard_crowded(&guard));
	CHECK_EQ(check_flow(TSGUARD_FLOWS, 7, 1), TSGUARD_FULL);
	CHECK_EQ(check_flow(TSGUARD_FLOWS, 7, 1), TSGUARD_FULL);
	/* The flows it has go on; a replay is still a replay. */
	CHECK_EQ(check_flow(3, 8, 2), TSGUARD_FRESH);
	CHECK_EQ(check_flow(TSGUARD_FLOWS, 7, 103), TSGUARD_SEEN);
}

/*
 * A long run against a model with a perfect memory: 64 flows, each with a
 * clock of its own that advances, segments out of order by up to twice
 * the tolerance, one in eight a replay (half of them of one of the last
 * 64 taken). Nothing is taken twice; a new segment at or above its flow's
 * newest (and above its floor) is always taken; one older than the
 * tolerance is always refused.
 */
#define RUN 300000
#define MODEL_FLOWS 64

static uint64_t taken_tags[RUN];
static uint32_t taken_ts[RUN], taken_flow[RUN];

static struct tsguard_flow *
find_flow(uint32_t ports)
{
	for (size_t i = 0; i < TSGUARD_FLOW_SLOTS; i++)
		if (guard.flow[i].used && guard.flow[i].ports == ports)
			return &guard.flow[i];
	return NULL;
}

static void
check_model(void)
{
	uint32_t clock[MODEL_FLOWS];
	size_t ntaken = 0, seen = 0, stale = 0;

	for (size_t i = 0; i < MODEL_FLOWS; i++)
		clock[i] = (uint32_t)rnd();
	tsguard_reset(&guard);
	for (size_t i = 0; i < RUN; i++) {
		struct tsguard_flow *f;
		uint64_t tag;
		uint32_t ts, fl = (uint32_t)(rnd() % MODEL_FLOWS);
		int v, must_take = 0, must_refuse = 0;

		clock[fl] += rnd() % 3 == 0;
		if (ntaken && rnd() % 8 == 0) {
			size_t back = ntaken < 64 ? ntaken : 64;
			size_t j = rnd() % 2 ? rnd() % ntaken :
			    ntaken - 1 - rnd() % back;

			v = check_flow(taken_flow[j], taken_ts[j], taken_tags[j]);
			CHECK(v != TSGUARD_FRESH);
			seen += v == TSGUARD_SEEN;
			stale += v == TSGUARD_STALE;
			continue;
		}
		tag = rnd() | 1;
		ts = clock[fl] - (uint32_t)(rnd() % (2 * TSGUARD_TOLERANCE));
		/* Not judged when the call rotates first: floors move. */
		f = guard.ntags[guard.cur] == TSGUARD_FILL ? NULL : find_flow(fl);
		if (f && (int32_t)(ts - f->newest) >= 0 &&
		    (!f->has_floor || (int32_t)(ts - f->floor) > 0))
			must_take = 1;
		if (f && (int32_t)(ts - (f->newest - TSGUARD_TOLERANCE)) < 0)
			must_refuse = 1;
		v = check_flow(fl, ts, tag);
		if (must_take)
			CHECK_EQ(v, TSGUARD_FRESH);
		if (must_refuse)
			CHECK_EQ(v, TSGUARD_STALE);
		CHECK(v != TSGUARD_SEEN && v != TSGUARD_FULL);
		if (v != TSGUARD_FRESH)
			continue;
		taken_tags[ntaken] = tag;
		taken_flow[ntaken] = fl;
		taken_ts[ntaken++] = ts;
	}
	/* The run exercised every outcome. */
	CHECK(ntaken > RUN / 3);
	CHECK(seen > 1000);
	CHECK(stale > 1000);
}

int
main(void)
{
	check_once();
	check_tolerance();
	check_clocks_per_flow();
	check_wrap();
	check_forgetting();
	check_full();
	check_model();
	CHECK_DONE();
}
