/* SPDX-License-Identifier: ISC */
/*
 * Locked memory for libcrypto's key contexts (include/zcc/secmem.h).
 *
 * A first-fit allocator over one sodium_malloc'ed pool, in units of 64
 * bytes with a bitmap. It serves a few dozen contexts made when a session
 * starts, never the data path, so a linear scan is fine. One thread.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <sodium.h>

#include "zcc/secmem.h"

#define UNIT 64
#define POOL_UNITS 4096                 /* 256 KiB: about 100 AES keys */

/* Each allocation starts with its size in units, one unit in all. */
struct head {
	size_t units;
};

static uint8_t *pool;
static uint8_t used[POOL_UNITS / 8];
static size_t in_use;
static int active;

static int
unit_used(size_t u)
{
	return used[u / 8] >> (u % 8) & 1;
}

static void
mark(size_t u, size_t n, int on)
{
	for (size_t i = u; i < u + n; i++) {
		if (on)
			used[i / 8] |= (uint8_t)(1 << i % 8);
		else
			used[i / 8] &= (uint8_t)~(1 << i % 8);
	}
}

static int
in_pool(const void *p)
{
	const uint8_t *b = p;

	return pool != NULL && b >= pool && b < pool + (size_t)POOL_UNITS * UNIT;
}

static void *
pool_alloc(size_t n)
{
	size_t need = 1 + (n + UNIT - 1) / UNIT, run = 0;
	struct head *h;

	if (n > (size_t)POOL_UNITS * UNIT)
		return NULL;
	for (size_t u = 0; u < POOL_UNITS; u++) {
		run = unit_used(u) ? 0 : run + 1;
		if (run < need)
			continue;
		u -= need - 1;
		mark(u, need, 1);
		in_use += need * UNIT;
		h = (struct head *)(pool + u * UNIT);
		h->units = need;
		return pool + (u + 1) * UNIT;
	}
	return NULL;
}

static size_t
pool_size(const void *p)
{
	const struct head *h = (const void *)((const uint8_t *)p - UNIT);

	return (h->units - 1) * UNIT;
}

static void
pool_free(void *p)
{
	uint8_t *start = (uint8_t *)p - UNIT;
	size_t units = ((struct head *)start)->units;

	sodium_memzero(start, units * UNIT);
	mark((size_t)(start - pool) / UNIT, units, 0);
	in_use -= units * UNIT;
}

static void *
hook_malloc(size_t n, const char *file, int line)
{
	(void)file, (void)line;
	return active ? pool_alloc(n) : malloc(n);
}

static void
hook_free(void *p, const char *file, int line)
{
	(void)file, (void)line;
	if (in_pool(p))
		pool_free(p);
	else
		free(p);
}

static void *
hook_realloc(void *p, size_t n, const char *file, int line)
{
	void *q;

	if (!in_pool(p) && !active)
		return realloc(p, n);
	if (p == NULL)
		return hook_malloc(n, file, line);
	if (!in_pool(p))        /* made before secmem_begin: not a secret */
		return realloc(p, n);
	q = pool_alloc(n);
	if (q == NULL)
		return NULL;
	memcpy(q, p, pool_size(p) < n ? pool_size(p) : n);
	pool_free(p);
	return q;
}

int
secmem_install(void)
{
	return CRYPTO_set_mem_functions(hook_malloc, hook_realloc,
	    hook_free) ? 0 : -1;
}

int
secmem_begin(void)
{
	if (pool == NULL) {
		pool = sodium_malloc((size_t)POOL_UNITS * UNIT);
		if (pool == NULL)
			return -1;
	}
	active = 1;
	return 0;
}

void
secmem_end(void)
{
	active = 0;
}

size_t
secmem_in_use(void)
{
	return in_use;
}
