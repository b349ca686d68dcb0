/* SPDX-License-Identifier: ISC */
/*
 * The body of the two decompressor harnesses (fuzz_lzs.c, fuzz_lz4.c).
 * Before including it, a harness defines FUZZ_CODEC (its compress.h
 * codec), FUZZ_BOUND(n) (the room its own compressor may need for n
 * bytes) and raw_compress(), the codec's own compressor with that room
 * (0 when it fails). Each input is used twice:
 *   as a stream from the network: decompress it under the largest limit
 *   and, when accepted, again under a limit one byte short, which must be
 *   refused; what was accepted must compress and decompress to itself;
 *   as data to compress: compress_packet must return 0 or fewer than n
 *   bytes that decompress to the input, and raw_compress must stay within
 *   FUZZ_BOUND and decompress to the input too.
 * Buffers are heap blocks of exactly the size each call may use, so ASan
 * sees a single byte read or written out of bounds.
 */
#ifndef ZCC_FUZZ_CODEC_H
#define ZCC_FUZZ_CODEC_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zcc/compress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t raw_compress(const uint8_t *in, size_t n, uint8_t *c,
    size_t cap);

static uint8_t *
xmalloc(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	if (p == NULL)
		abort();
	return p;
}

/* c must decompress, under a limit of n, to exactly the n bytes of in. */
static void
must_decompress_to(const uint8_t *c, size_t m, const uint8_t *in, size_t n)
{
	uint8_t *back = xmalloc(n);

	if (decompress_packet(FUZZ_CODEC, c, m, back, n) != (long)n ||
	    memcmp(back, in, n) != 0)
		abort();
	free(back);
}

static void
fuzz_compress(const uint8_t *in, size_t n)
{
	size_t bound = FUZZ_BOUND(n), m;
	uint8_t *c = xmalloc(bound);

	m = compress_packet(FUZZ_CODEC, in, n, c, bound);
	if (m >= n && m != 0)
		abort();            /* grew: must have been stored */
	if (m > 0)
		must_decompress_to(c, m, in, n);
	m = raw_compress(in, n, c, bound);
	if (m == 0 || m > bound)
		abort();            /* the documented bound is wrong */
	must_decompress_to(c, m, in, n);
	free(c);
}

static void
fuzz_decompress(const uint8_t *in, size_t n)
{
	/* A global of exactly the limit: ASan puts a redzone after it too. */
	static uint8_t out[COMPRESS_MAX_LEN];
	uint8_t *tight;
	long r = decompress_packet(FUZZ_CODEC, in, n, out, sizeof(out));

	if (r > 0) {
		tight = xmalloc((size_t)r - 1);
		if (decompress_packet(FUZZ_CODEC, in, n, tight,
		    (size_t)r - 1) != -1)
			abort();    /* out_cap is a hard limit */
		free(tight);
		fuzz_compress(out, (size_t)r);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *in;

	if (size > COMPRESS_MAX_LEN)
		return 0;
	in = xmalloc(size);
	if (size)
		memcpy(in, data, size);
	fuzz_decompress(in, size);
	fuzz_compress(in, size);
	free(in);
	return 0;
}

#endif
