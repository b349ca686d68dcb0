/* SPDX-License-Identifier: ISC */
/*
 * Per-packet compression for the encapsulated path (docs/PROTOCOL.md,
 * "Compression"): each IP packet is compressed alone, with no history kept
 * between packets, so a lost or reordered datagram never breaks the next.
 *
 *   none  nothing is compressed (the default: see PROTOCOL.md for why)
 *   lz4   liblz4's block format (LZ4_compress_default, LZ4_decompress_safe)
 *   lzs   Stac LZS, ANSI X3.241 as in RFC 1974, RFC 2395 and RFC 3943,
 *         written in src/lzs.c; one stream per packet, ending with the end
 *         marker and zero bits to the byte boundary, nothing after it
 *
 * The wire marks a packet compressed or stored; this module only turns
 * bytes into bytes.
 */
#ifndef ZCC_COMPRESS_H
#define ZCC_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

enum compress_codec {
	COMPRESS_NONE = 0,
	COMPRESS_LZ4 = 1,
	COMPRESS_LZS = 2,
};

/* The largest packet compress_packet compresses (an IP packet's limit). */
#define COMPRESS_MAX_LEN 65535

/*
 * The worst case a codec can produce from n input bytes, for any codec:
 * LZS is at most n + n/8 + 2 (9 bits per literal, the 9-bit end marker,
 * padding to a byte), lz4 at most n + n/255 + 16 (LZ4_COMPRESSBOUND).
 * compress_packet itself never returns more than n - 1 (it says "stored"
 * instead), so this is only for sizing buffers generously.
 */
#define COMPRESS_BOUND(n) ((size_t)(n) + (size_t)(n) / 8 + 16)

/* "none", "lz4" or "lzs" to its codec; -1 for any other word. */
int compress_codec_parse(const char *word);

/* The word compress_codec_parse takes for c; "?" for no codec. */
const char *compress_codec_name(enum compress_codec c);

/*
 * Compress the n bytes at in into out, writing at most cap bytes. Returns
 * the compressed length, which is always < n, or 0 when the packet should
 * go stored: the result would not be smaller than n, does not fit in cap,
 * the codec is none or unknown, or n > COMPRESS_MAX_LEN.
 */
size_t compress_packet(enum compress_codec c, const uint8_t *in, size_t n,
    uint8_t *out, size_t cap);

/*
 * Decompress n untrusted bytes into out. out_cap is a hard limit: a stream
 * that would produce more is refused, not cut. Returns the output length,
 * or -1 for a malformed, truncated or oversized stream, for codec none
 * (nothing is ever compressed with it) and for an unknown codec. Never
 * reads in[n] or beyond, never writes out[out_cap] or beyond; on -1 the
 * contents of out are unspecified.
 */
long decompress_packet(enum compress_codec c, const uint8_t *in, size_t n,
    uint8_t *out, size_t out_cap);

#endif
