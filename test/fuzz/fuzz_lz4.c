/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the lz4 path of compress.h (liblz4's block
 * format); the checks are fuzz_codec.h's. A block made with the full
 * LZ4_compressBound room must stay within COMPRESS_BOUND.
 */
#include <lz4.h>

#include "zcc/compress.h"

#define FUZZ_CODEC COMPRESS_LZ4
#define FUZZ_BOUND(n) COMPRESS_BOUND(n)
#include "fuzz_codec.h"

static size_t
raw_compress(const uint8_t *in, size_t n, uint8_t *c, size_t cap)
{
	int r = LZ4_compress_default((const char *)in, (char *)c, (int)n,
	    LZ4_compressBound((int)n));

	(void)cap;              /* COMPRESS_BOUND covers LZ4_compressBound */
	return r <= 0 ? 0 : (size_t)r;
}
