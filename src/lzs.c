/* SPDX-License-Identifier: ISC */
/*
 * Stac LZS (ANSI X3.241), written from the format as RFC 1974, RFC 2395
 * and RFC 3943 describe it; src/lzs.h has the bit layout.
 *
 * Compressor: greedy LZ77 over the 2047-byte window. A hash of the next
 * three bytes leads to earlier positions with the same hash through a
 * chain; at most CHAIN_MAX of them are compared, so no input can make a
 * packet cost more than a fixed amount of work per byte. Greedy is safe
 * for the bound: every match costs fewer bits than the literals it covers.
 *
 * Decompressor: the input comes from the network before anything else
 * looked at it. Every read is checked against the end of the input and
 * every write against cap before it happens; a match must point into the
 * output already written (offset 1..written), which is also what keeps
 * an 11-bit offset of 0, never produced by a compressor, from reading the
 * byte about to be written (or stale memory before the buffer).
 */
#include <limits.h>
#include <string.h>

#include "lzs.h"

#define HASH_MIN_BITS 8
#define HASH_MAX_BITS 13
#define CHAIN_MAX 32           /* candidates compared per position */
#define NICE_LEN 258           /* long enough: stop looking for longer */
#define NO_POS 0xffff          /* positions are < LZS_MAX_IN */
#define RING 2048              /* power of two above LZS_WINDOW */

#define END_MARKER 0x180       /* 1 1 0000000 */
#define SHORT_TAG 0x180        /* 1 1 + 7-bit offset, 9 bits */
#define LONG_TAG 0x1000        /* 1 0 + 11-bit offset, 13 bits */

struct bitwriter {
	uint8_t *p;
	uint8_t *end;
	uint64_t acc;
	unsigned cnt;          /* bits of acc not yet written */
	int full;              /* out of room: the result is useless */
};

struct matcher {
	uint16_t head[1 << HASH_MAX_BITS];  /* last position per hash */
	uint16_t prev[RING];   /* position -> previous one with its hash */
	unsigned shift;        /* 32 - hash bits */
};

struct bitreader {
	const uint8_t *p;
	const uint8_t *end;
	uint64_t acc;
	unsigned cnt;          /* bits of acc not yet read, < 8 between tokens */
};

/* Append the low nbits (<= 24) of v, most significant first. */
static void
bw_put(struct bitwriter *bw, uint32_t v, unsigned nbits)
{
	if (bw->full)
		return;
	bw->acc = bw->acc << nbits | v;
	bw->cnt += nbits;
	while (bw->cnt >= 8) {
		if (bw->p == bw->end) {
			bw->full = 1;
			return;
		}
		bw->cnt -= 8;
		*bw->p++ = (uint8_t)(bw->acc >> bw->cnt);
	}
}

static void
put_match(struct bitwriter *bw, size_t off, size_t len)
{
	if (off < 128)
		bw_put(bw, SHORT_TAG | (uint32_t)off, 9);
	else
		bw_put(bw, LONG_TAG | (uint32_t)off, 13);
	if (len < 5) {
		bw_put(bw, (uint32_t)(len - 2), 2);
		return;
	}
	if (len < 8) {
		bw_put(bw, 0xc | (uint32_t)(len - 5), 4);
		return;
	}
	bw_put(bw, 0xf, 4);
	for (len -= 8; len >= 15; len -= 15)
		bw_put(bw, 0xf, 4);
	bw_put(bw, (uint32_t)len, 4);
}

static unsigned
hash3(const uint8_t *p, unsigned shift)
{
	uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];

	return (unsigned)((v * 2654435761u) >> shift);
}

/* A table about as large as the input: a 1500-byte packet clears 4 KB. */
static void
matcher_init(struct matcher *m, size_t n)
{
	unsigned bits = HASH_MIN_BITS;

	while (bits < HASH_MAX_BITS && ((size_t)1 << bits) < n)
		bits++;
	memset(m->head, 0xff, sizeof(m->head[0]) << bits);
	m->shift = 32 - bits;
}

/* Record position i, whose next 3 bytes hash to h, as its hash's newest. */
static void
matcher_insert(struct matcher *m, size_t i, unsigned h)
{
	m->prev[i & (RING - 1)] = m->head[h];
	m->head[h] = (uint16_t)i;
}

static size_t
common_len(const uint8_t *a, const uint8_t *b, size_t max)
{
	size_t k = 0;

	while (k < max && a[k] == b[k])
		k++;
	return k;
}

/*
 * The longest match for position i among the chain's candidates in the
 * window; 0 for none. A slot of prev is only overwritten RING positions
 * later, beyond the window, so the chain read here is never stale. A match
 * may run past i (overlap): the decompressor copies byte by byte.
 */
static size_t
matcher_find(const struct matcher *m, const uint8_t *in, size_t i, size_t n,
    unsigned h, size_t *off)
{
	size_t best = 0, max = n - i, len, p = m->head[h];
	unsigned tries = CHAIN_MAX;

	while (p != NO_POS && i - p <= LZS_WINDOW && tries-- > 0) {
		/* The byte that would make it longer decides most candidates. */
		if (in[p + best] == in[i + best]) {
			len = common_len(in + p, in + i, max);
			if (len > best) {
				best = len;
				*off = i - p;
				if (best >= NICE_LEN || best == max)
					break;
			}
		}
		p = m->prev[p & (RING - 1)];
	}
	return best;
}

size_t
lzs_compress(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	struct matcher m;
	struct bitwriter bw = { out, out + cap, 0, 0, 0 };
	size_t i = 0, len, off = 0, end;
	unsigned h;

	if (n > LZS_MAX_IN)
		return 0;
	matcher_init(&m, n);
	/* The last two bytes have no 3-byte hash: they go as literals. */
	while (i + 2 < n && !bw.full) {
		h = hash3(in + i, m.shift);
		len = matcher_find(&m, in, i, n, h, &off);
		matcher_insert(&m, i, h);
		if (len < 2) {
			bw_put(&bw, in[i++], 9);    /* 0 + the byte */
			continue;
		}
		put_match(&bw, off, len);
		/* Every covered position becomes a candidate for later ones. */
		for (end = i + len, i++; i < end; i++)
			if (i + 2 < n)
				matcher_insert(&m, i, hash3(in + i, m.shift));
	}
	for (; i < n; i++)
		bw_put(&bw, in[i], 9);
	bw_put(&bw, END_MARKER, 9);
	if (bw.cnt > 0)
		bw_put(&bw, 0, 8 - bw.cnt);
	if (bw.full)
		return 0;
	return (size_t)(bw.p - out);
}

/* The next nbits (<= 24) of the input; -1 when it has fewer left. */
static int
br_get(struct bitreader *br, unsigned nbits, unsigned *v)
{
	while (br->cnt < nbits) {
		if (br->p == br->end)
			return -1;
		br->acc = br->acc << 8 | *br->p++;
		br->cnt += 8;
	}
	br->cnt -= nbits;
	*v = (unsigned)(br->acc >> br->cnt) & ((1u << nbits) - 1);
	return 0;
}

/*
 * The length field of a match, refused (-1) when truncated or longer than
 * room. Checked inside the nibble loop too: a run of 1111 nibbles is
 * refused as soon as it passes room, and the length never overflows.
 */
static int
get_length(struct bitreader *br, size_t room, size_t *len)
{
	unsigned v;
	size_t l;

	if (br_get(br, 2, &v) < 0)
		return -1;
	if (v != 3) {
		l = 2 + v;
		goto done;
	}
	if (br_get(br, 2, &v) < 0)
		return -1;
	if (v != 3) {
		l = 5 + v;
		goto done;
	}
	for (l = 8;; l += 15) {
		if (l > room || br_get(br, 4, &v) < 0)
			return -1;
		if (v != 15) {
			l += v;
			break;
		}
	}
done:
	if (l > room)
		return -1;
	*len = l;
	return 0;
}

/* Overlapping copies (off < len) repeat the bytes this match just wrote. */
static void
copy_match(uint8_t *out, size_t o, size_t off, size_t len)
{
	const uint8_t *src = out + o - off;
	uint8_t *dst = out + o;

	if (off >= len) {
		memcpy(dst, src, len);
		return;
	}
	while (len-- > 0)
		*dst++ = *src++;
}

/*
 * After the end marker: only the rest of its byte, all zero. Strict, so
 * that a stream has one reading and garbage after it is not ignored.
 */
static int
check_end(const struct bitreader *br)
{
	if (br->p != br->end)
		return -1;
	if ((br->acc & ((1u << br->cnt) - 1)) != 0)
		return -1;
	return 0;
}

long
lzs_decompress(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	struct bitreader br = { in, in + n, 0, 0 };
	size_t o = 0, off, len;
	unsigned v, lo;

	if (cap > LONG_MAX)
		cap = LONG_MAX;
	/* Every token is at least 9 bits: a literal, the end marker or the
	 * start of a match. */
	while (br_get(&br, 9, &v) == 0) {
		if (v < 0x100) {
			if (o == cap)
				return -1;
			out[o++] = (uint8_t)v;
			continue;
		}
		if (v >= 0x180) {
			off = v & 0x7f;
			if (off == 0)
				return check_end(&br) < 0 ? -1 : (long)o;
		} else {
			/* 1 0 and the first 7 of 11 offset bits: 4 more. */
			if (br_get(&br, 4, &lo) < 0)
				return -1;
			off = (v & 0x7f) << 4 | lo;
		}
		if (off == 0 || off > o)
			return -1;
		if (get_length(&br, cap - o, &len) < 0)
			return -1;
		copy_match(out, o, off, len);
		o += len;
	}
	return -1;   /* the input ended before the end marker */
}
