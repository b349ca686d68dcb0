/* SPDX-License-Identifier: ISC */
/*
 * The replay guard of sealed segments: a segment is taken once, within the
 * tolerance of the newest TSval, across the wrap of the clock and across
 * the forgetting of a generation; and a long random run against a model
 * that remembers every tag it ever took.
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
check(uint32_t tsval, uint64_t tag)
{
	uint8_t t[8];

	memcpy(t, &tag, sizeof(t));
	return tsguard_check(&guard, tsval, t);
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
}

static void
check_tolerance(void)
{
	tsguard_reset(&guard);
	CHECK_EQ(check(5000, 1), TSGUARD_FRESH);
	CHECK_EQ(check(5000 - TSGUARD_TOLERANCE, 2), TSGUARD_FRESH);
	CHECK_EQ(check(5000 - TSGUARD_TOLERANCE - 1, 3), TSGUARD_STALE);
	/* A newer one moves the edge: what was in is out. */
	CHECK_EQ(check(5100, 4), TSGUARD_FRESH);
	CHECK_EQ(check(5100 - TSGUARD_TOLERANCE - 1, 5), TSGUARD_STALE);
	CHECK_EQ(check(5100 - TSGUARD_TOLERANCE, 6), TSGUARD_FRESH);
	/* Reordered inside it: taken, and the newest stays. */
	CHECK_EQ(check(5090, 7), TSGUARD_FRESH);
	CHECK_EQ(check(5100 - TSGUARD_TOLERANCE - 1, 8), TSGUARD_STALE);
	/* A stale one is not remembered: a replay of it stays stale. */
	CHECK_EQ(check(5100 - TSGUARD_TOLERANCE - 1, 8), TSGUARD_STALE);
}

static void
check_wrap(void)
{
	tsguard_reset(&guard);
	CHECK_EQ(check(0xffffffa0u, 1), TSGUARD_FRESH);
	CHECK_EQ(check(0x10, 2), TSGUARD_FRESH);            /* after the wrap */
	CHECK_EQ(check(0xffffffffu, 3), TSGUARD_FRESH);      /* 17 ticks behind */
	CHECK_EQ(check(0xffffffa0u, 1), TSGUARD_SEEN);
	CHECK_EQ(check(0x10 - TSGUARD_TOLERANCE - 1, 4), TSGUARD_STALE);
	CHECK_EQ(check(0x10 - TSGUARD_TOLERANCE, 5), TSGUARD_FRESH);
}

/*
 * Two generations and a third: the first is forgotten, and with it every
 * TSval up to its newest, even inside the tolerance.
 */
static void
check_forgetting(void)
{
	uint64_t t;

	tsguard_reset(&guard);
	for (t = 1; t <= 2 * TSGUARD_FILL; t++)         /* ticks 100..131 */
		CHECK_EQ(check(100 + (uint32_t)(t - 1) / 1024, t), TSGUARD_FRESH);
	for (t = 1; t <= 2 * TSGUARD_FILL; t += 997)
		CHECK_EQ(check(200, t), TSGUARD_SEEN);
	/* The third generation's first tag forgets the first (ticks 100..115). */
	CHECK_EQ(check(131, 1u << 20), TSGUARD_FRESH);
	CHECK_EQ(check(100, 1), TSGUARD_STALE);          /* a replay of tick 100 */
	CHECK_EQ(check(115, 1u << 21), TSGUARD_STALE);   /* the forgotten tick */
	CHECK_EQ(check(116, 1u << 22), TSGUARD_FRESH);
	CHECK_EQ(check(131, TSGUARD_FILL + 1), TSGUARD_SEEN);  /* still held */
	CHECK_EQ(check(131, 2 * TSGUARD_FILL), TSGUARD_SEEN);
}

/*
 * A long run against a model with a perfect memory: nothing taken twice;
 * a new segment at or above the newest (and above what was forgotten)
 * always taken; one older than the tolerance always refused. Segments arrive from a clock that
 * advances, out of order by up to twice the tolerance, with one in eight
 * a replay of an earlier one (half of them of one of the last 64 taken).
 */
#define RUN 300000

static uint64_t taken_tags[RUN];
static uint32_t taken_ts[RUN];

static void
check_model(void)
{
	uint32_t clock = 0xfff00000u, newest = 0;
	size_t ntaken = 0, seen = 0, stale = 0;
	int started = 0;

	tsguard_reset(&guard);
	for (size_t i = 0; i < RUN; i++) {
		uint64_t tag;
		uint32_t ts;
		int v, above_forgotten, replay = ntaken && rnd() % 8 == 0;

		clock += rnd() % 3 == 0;
		if (replay) {
			/* Half of them recent: those the tags must catch. */
			size_t back = ntaken < 64 ? ntaken : 64;
			size_t j = rnd() % 2 ? rnd() % ntaken :
			    ntaken - 1 - rnd() % back;

			v = check(taken_ts[j], taken_tags[j]);
			CHECK(v != TSGUARD_FRESH);
			seen += v == TSGUARD_SEEN;
			stale += v == TSGUARD_STALE;
			continue;
		}
		tag = rnd() | 1;
		ts = clock - (uint32_t)(rnd() % (2 * TSGUARD_TOLERANCE));
		above_forgotten = !guard.forgot ||
		    (int32_t)(ts - guard.forgotten) > 0;
		v = check(ts, tag);
		if (started && (int32_t)(ts - newest) >= 0 && above_forgotten)
			CHECK_EQ(v, TSGUARD_FRESH);
		if (started && (int32_t)(ts - (newest - TSGUARD_TOLERANCE)) < 0)
			CHECK_EQ(v, TSGUARD_STALE);
		CHECK(v != TSGUARD_SEEN);
		if (v != TSGUARD_FRESH)
			continue;
		if (!started || (int32_t)(ts - newest) > 0)
			newest = ts;
		started = 1;
		taken_tags[ntaken] = tag;
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
	check_wrap();
	check_forgetting();
	check_model();
	CHECK_DONE();
}
