/* SPDX-License-Identifier: ISC */
/*
 * Per-packet compression: the codec words, and "compressed or stored" in
 * one place, so that no caller can send a packet grown by compression.
 */
#include <limits.h>
#include <string.h>

#include <lz4.h>

#include "zcc/compress.h"
#include "lzs.h"

static const char *const names[] = {
	[COMPRESS_NONE] = "none",
	[COMPRESS_LZ4] = "lz4",
	[COMPRESS_LZS] = "lzs",
};

int
compress_codec_parse(const char *word)
{
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(word, names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
compress_codec_name(enum compress_codec c)
{
	if ((unsigned)c >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[c];
}

size_t
compress_packet(enum compress_codec c, const uint8_t *in, size_t n,
    uint8_t *out, size_t cap)
{
	int r;

	if (n == 0 || n > COMPRESS_MAX_LEN)
		return 0;
	/*
	 * Room for n - 1 bytes at most: a codec that cannot do better runs
	 * out of room and gives up early, and the caller sends it stored.
	 */
	if (cap > n - 1)
		cap = n - 1;
	switch (c) {
	case COMPRESS_LZ4:
		/* 0 when it does not fit: lz4 checks the room as it writes. */
		r = LZ4_compress_default((const char *)in, (char *)out, (int)n,
		    (int)cap);
		return r > 0 ? (size_t)r : 0;
	case COMPRESS_LZS:
		return lzs_compress(in, n, out, cap);
	case COMPRESS_NONE:
	default:
		return 0;
	}
}

static long
lz4_decompress(const uint8_t *in, size_t n, uint8_t *out, size_t out_cap)
{
	int r;

	/* lz4's sizes are ints; an empty input is never a block. */
	if (n == 0 || n > INT_MAX)
		return -1;
	if (out_cap > INT_MAX)
		out_cap = INT_MAX;
	r = LZ4_decompress_safe((const char *)in, (char *)out, (int)n,
	    (int)out_cap);
	return r < 0 ? -1 : r;
}

long
decompress_packet(enum compress_codec c, const uint8_t *in, size_t n,
    uint8_t *out, size_t out_cap)
{
	switch (c) {
	case COMPRESS_LZ4:
		return lz4_decompress(in, n, out, out_cap);
	case COMPRESS_LZS:
		return lzs_decompress(in, n, out, out_cap);
	case COMPRESS_NONE:
	default:
		return -1;
	}
}
