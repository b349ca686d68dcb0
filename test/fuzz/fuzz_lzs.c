/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the LZS codec (src/lzs.c through compress.h);
 * the checks are fuzz_codec.h's. lzs_compress with LZS_BOUND's room is
 * the raw compressor: its bound is the one compress.h documents.
 */
#include "zcc/compress.h"
#include "../../src/lzs.h"

#define FUZZ_CODEC COMPRESS_LZS
#define FUZZ_BOUND(n) LZS_BOUND(n)
#include "fuzz_codec.h"

/* A stream holds at least the end marker: 2 bytes. */
static size_t
raw_compress(const uint8_t *in, size_t n, uint8_t *c, size_t cap)
{
	size_t m = lzs_compress(in, n, c, cap);

	return m < 2 ? 0 : m;
}
