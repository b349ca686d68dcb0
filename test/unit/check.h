/* SPDX-License-Identifier: ISC */
/* A few checks for the unit tests: each failure prints where and why. */
#ifndef ZCC_TEST_CHECK_H
#define ZCC_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
		check_failures++; \
	} \
} while (0)

#define CHECK_EQ(a, b) do { \
	long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
	if (check_a_ != check_b_) { \
		fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", \
		    __FILE__, __LINE__, #a, check_a_, #b, check_b_); \
		check_failures++; \
	} \
} while (0)

/* Two strings equal; when not, both are printed whole. */
#define CHECK_STR(a, b) do { \
	const char *check_s_ = (a), *check_t_ = (b); \
	if (strcmp(check_s_, check_t_) != 0) { \
		fprintf(stderr, "%s:%d: %s is\n%s\nexpected\n%s\n", __FILE__, \
		    __LINE__, #a, check_s_, check_t_); \
		check_failures++; \
	} \
} while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

#define CHECK_DONE() do { \
	if (check_failures) \
		fprintf(stderr, "%d check(s) failed\n", check_failures); \
	return check_failures ? 1 : 0; \
} while (0)

#endif
