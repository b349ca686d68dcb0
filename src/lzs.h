/* SPDX-License-Identifier: ISC */
/*
 * Internal to src/compress.c: the Stac LZS codec (ANSI X3.241; RFC 1974,
 * RFC 2395, RFC 3943). Exposed only so that test/unit/test_compress.c can
 * check the raw codec against its worst-case bound; nothing else should
 * include it (include/zcc/compress.h is the interface).
 *
 * The bit stream, most significant bit of each byte first:
 *
 *   literal      0 bbbbbbbb
 *   match        1 offset length
 *     offset     1 ooooooo          7 bits, 1..127
 *                0 ooooooooooo      11 bits, 1..2047 (0 is invalid)
 *     length     00 01 10           2 3 4
 *                1100 1101 1110     5 6 7
 *                1111 nnnn...       8 and up: each 1111 nibble adds 15,
 *                                   the first other nibble adds itself
 *                                   and ends the length
 *   end marker   1 1 0000000        (a 7-bit offset of 0)
 *   padding      0 to 7 zero bits, to the byte boundary
 */
#ifndef ZCC_LZS_H
#define ZCC_LZS_H

#include <stddef.h>
#include <stdint.h>

/* The largest offset an 11-bit field holds: the sliding window. */
#define LZS_WINDOW 2047

/* The largest input lzs_compress takes (positions are 16-bit). */
#define LZS_MAX_IN 65535

/*
 * Worst case for n bytes: all literals, ceil((9n + 9) / 8) bytes, which
 * equals n + n/8 + 2 exactly. Every match costs fewer bits than the
 * literals it replaces (a 13-bit offset at most, then 2 or 4 length bits
 * for 2..7 bytes, 8 + 4k length bits for 8 + 15k bytes and up), so no
 * stream is longer.
 */
#define LZS_BOUND(n) ((size_t)(n) + (size_t)(n) / 8 + 2)

/*
 * Compress n <= LZS_MAX_IN bytes into out (at most cap bytes). Returns
 * the stream's length (at least 2: the end marker), or 0 when it does not
 * fit in cap or n is too large. cap >= LZS_BOUND(n) always suffices.
 */
size_t lzs_compress(const uint8_t *in, size_t n, uint8_t *out, size_t cap);

/*
 * Decompress one stream of n untrusted bytes into out (at most cap bytes).
 * Returns the output length, or -1 when the stream is truncated, has no
 * end marker, has nonzero padding or bytes after the end marker's byte,
 * uses an 11-bit offset of 0 or an offset reaching before the start of
 * the output, or would produce more than cap bytes.
 */
long lzs_decompress(const uint8_t *in, size_t n, uint8_t *out, size_t cap);

#endif
