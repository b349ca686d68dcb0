/* SPDX-License-Identifier: ISC */
/*
 * compress.c and lzs.c: the hand-assembled LZS streams of
 * data/lzs_vectors.txt (checked independently by lzs_ref.py), the streams
 * that must be refused, and round trips of both codecs over random,
 * compressible and adversarial data against the documented bounds.
 *
 * Every buffer handed to the codecs is a heap block of exactly the size
 * the call is allowed to use, so that under ASan a read or write one byte
 * out of bounds is a crash, not a silent pass.
 */
#include <lz4.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "zcc/compress.h"
#include "../../src/lzs.h"

#define VECTORS ZCC_TEST_DATA "/lzs_vectors.txt"
#define PYTHON "/usr/bin/python3"
#define LZS_REF ZCC_SOURCE_DIR "/test/unit/lzs_ref.py"
#define MAX_N COMPRESS_MAX_LEN

struct vec {
	int line;
	char name[160];
	uint8_t *stream;
	size_t slen;
	uint8_t *output;
	size_t olen;
	int have_output;
	long reject;           /* out_cap to refuse under; -1 for none */
};

/* xorshift32 with a fixed seed: the same data on every run. */
static uint32_t rng_state = 0x2545f491u;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static uint8_t *
xmalloc(size_t n)
{
	/* malloc(0) may return NULL; a 0-byte buffer must still be real. */
	uint8_t *p = malloc(n ? n : 1);

	if (p == NULL)
		abort();
	return p;
}

static uint8_t *
dup_exact(const uint8_t *b, size_t n)
{
	uint8_t *p = xmalloc(n);

	if (n)
		memcpy(p, b, n);
	return p;
}

/* Decompress through an input and an output block of exact sizes. */
static long
decomp(enum compress_codec c, const uint8_t *in, size_t n, uint8_t *want,
    size_t cap)
{
	uint8_t *i = dup_exact(in, n), *o = xmalloc(cap);
	long r = decompress_packet(c, i, n, o, cap);

	if (r >= 0 && want != NULL)
		memcpy(want, o, (size_t)r);
	free(i);
	free(o);
	return r;
}

/* "HEX" or "HEX*N" groups separated by spaces into *out; -1 if bad. */
static int
parse_hex(const char *s, uint8_t **out, size_t *len)
{
	size_t cap = 16, n = 0, i, k, glen;
	uint8_t *b = xmalloc(cap);
	unsigned long rep;
	unsigned v;
	char *e;

	for (;;) {
		while (*s == ' ')
			s++;
		if (*s == '\0')
			break;
		for (glen = 0; s[glen] && s[glen] != ' ' && s[glen] != '*'; glen++)
			;
		rep = 1;
		if (s[glen] == '*') {
			rep = strtoul(s + glen + 1, &e, 10);
			if (e == s + glen + 1)
				goto bad;
		}
		if (glen % 2)
			goto bad;
		for (k = 0; k < rep; k++)
			for (i = 0; i < glen; i += 2) {
				if (sscanf(s + i, "%2x", &v) != 1)
					goto bad;
				if (n == cap && (b = realloc(b, cap *= 2)) == NULL)
					abort();
				b[n++] = (uint8_t)v;
			}
		s += glen;
		if (*s == '*')
			for (s++; *s >= '0' && *s <= '9'; s++)
				;
	}
	*out = b;
	*len = n;
	return 0;
bad:
	free(b);
	return -1;
}

static void
vec_free(struct vec *v)
{
	free(v->stream);
	free(v->output);
	memset(v, 0, sizeof(*v));
	v->reject = -1;
}

/* One "key: value" line into v; -1 for a line the format does not have. */
static int
vec_line(struct vec *v, char *line)
{
	char *val = strchr(line, ':');

	if (val == NULL)
		return -1;
	*val++ = '\0';
	while (*val == ' ')
		val++;
	if (strcmp(line, "name") == 0)
		snprintf(v->name, sizeof(v->name), "%s", val);
	else if (strcmp(line, "bits") == 0)
		;                       /* lzs_ref.py checks them */
	else if (strcmp(line, "stream") == 0) {
		if (strcmp(val, "-") == 0)
			val = "";
		return parse_hex(val, &v->stream, &v->slen);
	} else if (strcmp(line, "output") == 0) {
		v->have_output = 1;
		return parse_hex(val, &v->output, &v->olen);
	} else if (strcmp(line, "reject") == 0)
		v->reject = strtol(val, NULL, 10);
	else
		return -1;
	return 0;
}

/* An accepted stream: its output, under a tight limit, and no variant. */
static void
check_accepted(const struct vec *v)
{
	uint8_t *got = xmalloc(MAX_N), *longer;
	size_t cut;

	CHECK_EQ(decomp(COMPRESS_LZS, v->stream, v->slen, got, MAX_N), v->olen);
	CHECK_MEM(got, v->output, v->olen);
	CHECK_EQ(decomp(COMPRESS_LZS, v->stream, v->slen, NULL, v->olen), v->olen);
	if (v->olen > 0)
		CHECK_EQ(decomp(COMPRESS_LZS, v->stream, v->slen, NULL,
		    v->olen - 1), -1);
	/* Strict: a proper prefix lacks the end marker. */
	for (cut = 0; cut < v->slen; cut++)
		if (decomp(COMPRESS_LZS, v->stream, cut, NULL, MAX_N) != -1) {
			fprintf(stderr, "line %d: prefix %zu accepted\n", v->line, cut);
			check_failures++;
		}
	/* ... and nothing may follow the end marker's byte. */
	longer = xmalloc(v->slen + 1);
	memcpy(longer, v->stream, v->slen);
	longer[v->slen] = 0;
	CHECK_EQ(decomp(COMPRESS_LZS, longer, v->slen + 1, NULL, MAX_N), -1);
	free(longer);
	free(got);
}

/* Our compressor on the vector's output: within the bound, and back. */
static void
check_recompress(const struct vec *v)
{
	size_t bound = LZS_BOUND(v->olen), m;
	uint8_t *c = xmalloc(bound), *back = xmalloc(MAX_N);

	m = lzs_compress(v->output, v->olen, c, bound);
	CHECK(m >= 2 && m <= bound);
	CHECK_EQ(decomp(COMPRESS_LZS, c, m, back, v->olen), v->olen);
	CHECK_MEM(back, v->output, v->olen);
	free(c);
	free(back);
}

static void
check_vec(const struct vec *v)
{
	int before = check_failures;

	if (v->stream == NULL || (!v->have_output && v->reject < 0))
		check_failures++;       /* the block is incomplete */
	else if (v->have_output) {
		check_accepted(v);
		check_recompress(v);
	} else
		CHECK_EQ(decomp(COMPRESS_LZS, v->stream, v->slen, NULL,
		    (size_t)v->reject), -1);
	if (check_failures != before)
		fprintf(stderr, "%s:%d: vector failed: %s\n", VECTORS,
		    v->line, v->name);
}

static void
test_vectors(void)
{
	FILE *f = fopen(VECTORS, "r");
	struct vec v = { .reject = -1 };
	char *line = NULL;
	size_t sz = 0;
	ssize_t len;
	int lineno = 0, blocks = 0, in_block = 0;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	while ((len = getline(&line, &sz, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (line[0] == '#')
			continue;
		if (len == 0) {
			if (in_block)
				check_vec(&v), blocks++;
			vec_free(&v);
			in_block = 0;
			continue;
		}
		if (!in_block)
			v.line = lineno, in_block = 1;
		if (vec_line(&v, line) < 0) {
			fprintf(stderr, "%s:%d: bad line\n", VECTORS, lineno);
			check_failures++;
		}
	}
	if (in_block)
		check_vec(&v), blocks++;
	vec_free(&v);
	free(line);
	fclose(f);
	CHECK(blocks >= 30);
	printf("lzs vectors: %d blocks\n", blocks);
}

static void
test_names(void)
{
	CHECK_EQ(compress_codec_parse("none"), COMPRESS_NONE);
	CHECK_EQ(compress_codec_parse("lz4"), COMPRESS_LZ4);
	CHECK_EQ(compress_codec_parse("lzs"), COMPRESS_LZS);
	CHECK_EQ(compress_codec_parse("LZ4"), -1);
	CHECK_EQ(compress_codec_parse(""), -1);
	CHECK_EQ(compress_codec_parse("lz"), -1);
	CHECK_EQ(compress_codec_parse("lzs "), -1);
	CHECK_EQ(compress_codec_parse("deflate"), -1);
	CHECK(strcmp(compress_codec_name(COMPRESS_NONE), "none") == 0);
	CHECK(strcmp(compress_codec_name(COMPRESS_LZ4), "lz4") == 0);
	CHECK(strcmp(compress_codec_name(COMPRESS_LZS), "lzs") == 0);
	CHECK(strcmp(compress_codec_name((enum compress_codec)7), "?") == 0);
}

/* The documented bound covers both codecs' own worst cases. */
static void
test_bound(void)
{
	size_t n;
	int bad = 0;

	for (n = 0; n <= MAX_N; n++)
		if (COMPRESS_BOUND(n) < LZS_BOUND(n) ||
		    COMPRESS_BOUND(n) < (size_t)LZ4_compressBound((int)n))
			bad++;
	CHECK_EQ(bad, 0);
	/* LZS_BOUND is exact: n literals, the end marker, the padding. */
	for (n = 0; n <= 64; n++)
		CHECK_EQ(LZS_BOUND(n), (9 * n + 9 + 7) / 8);
}

enum kind {
	K_RANDOM, K_TEXT, K_SAME, K_PERIOD2, K_PERIOD2047, K_PERIOD2048,
	K_ALTERNATING, K_NKINDS
};

static const char *const kind_names[] = {
	"random", "text", "same byte", "period 2", "period 2047",
	"period 2048", "alternating",
};

static void
fill_random(uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(rng() >> 24);
}

/* Header-like lines with numbers: what a text protocol's packets hold. */
static void
fill_text(uint8_t *b, size_t n)
{
	static const char *const words[] = {
		"HTTP/1.1 200 OK\r\n", "Content-Type: text/html\r\n",
		"Content-Length: ", "Cache-Control: max-age=", "<div class=\"",
		"item\">", "</div>\n", "Set-Cookie: id=", "; Path=/\r\n",
	};
	size_t i = 0, k;
	char num[16];
	const char *w;

	while (i < n) {
		w = words[rng() % (sizeof(words) / sizeof(words[0]))];
		snprintf(num, sizeof(num), "%u", rng() % 100000);
		for (k = 0; w[k] && i < n; k++)
			b[i++] = (uint8_t)w[k];
		for (k = 0; num[k] && i < n; k++)
			b[i++] = (uint8_t)num[k];
	}
}

static void
fill_period(uint8_t *b, size_t n, size_t period)
{
	size_t i;

	fill_random(b, n < period ? n : period);
	for (i = period; i < n; i++)
		b[i] = b[i - period];
}

/* 256 random bytes, 256 zero bytes, and again. */
static void
fill_alternating(uint8_t *b, size_t n)
{
	size_t i;

	fill_random(b, n);
	for (i = 0; i < n; i++)
		if (i / 256 % 2)
			b[i] = 0;
}

static void
fill_kind(enum kind k, uint8_t *b, size_t n)
{
	switch (k) {
	case K_RANDOM:
		fill_random(b, n);
		break;
	case K_TEXT:
		fill_text(b, n);
		break;
	case K_SAME:
		memset(b, 0x5a, n);
		break;
	case K_PERIOD2:
		fill_period(b, n, 2);
		break;
	case K_PERIOD2047:
		fill_period(b, n, 2047);
		break;
	case K_PERIOD2048:
		fill_period(b, n, 2048);
		break;
	default:
		fill_alternating(b, n);
		break;
	}
}

/* 1: must compress, 0: must go stored, -1: either is fine. */
static int
expect_compressed(enum kind k, enum compress_codec c, size_t n)
{
	switch (k) {
	case K_RANDOM:
		return 0;
	case K_PERIOD2047:
		return n >= 2 * 2047 ? 1 : -1;
	case K_PERIOD2048:
		/* Offset 2048 is past LZS's window: nothing to use. */
		if (c == COMPRESS_LZS)
			return 0;
		return n >= 2 * 2048 ? 1 : -1;
	case K_ALTERNATING:
		return n >= 512 ? 1 : -1;
	default:
		return n >= 64 ? 1 : -1;
	}
}

static void
report(const char *what, enum kind k, enum compress_codec c, size_t n,
    long got)
{
	fprintf(stderr, "%s: %s %s n=%zu: %ld\n", what, compress_codec_name(c),
	    kind_names[k], n, got);
	check_failures++;
}

/* compress_packet's contract on one input, and back. */
static void
round_trip(enum kind k, enum compress_codec c, const uint8_t *in, size_t n)
{
	size_t cap = COMPRESS_BOUND(n), m;
	uint8_t *i = dup_exact(in, n), *out = xmalloc(cap), *back = xmalloc(n);
	int want = expect_compressed(k, c, n);
	long d;

	m = compress_packet(c, i, n, out, cap);
	if (m >= n && m != 0)
		report("not smaller", k, c, n, (long)m);
	if (want >= 0 && (m > 0) != want)
		report(want ? "stored" : "compressed", k, c, n, (long)m);
	if (m > 0) {
		d = decomp(c, out, m, back, n);
		if (d != (long)n || memcmp(back, in, n) != 0)
			report("round trip", k, c, n, d);
		if (decomp(c, out, m, NULL, n - 1) != -1)
			report("out_cap n - 1 accepted", k, c, n, d);
		/* A cap one short of what it needs: stored, never cut. */
		if (compress_packet(c, i, n, out, m - 1) != 0)
			report("short cap", k, c, n, 0);
	}
	free(i);
	free(out);
	free(back);
}

/* The raw LZS stream, even where compress_packet would store: bound. */
static void
lzs_raw(enum kind k, const uint8_t *in, size_t n)
{
	size_t bound = LZS_BOUND(n), m;
	uint8_t *out = xmalloc(bound), *back = xmalloc(n);
	long d;

	m = lzs_compress(in, n, out, bound);
	if (m < 2 || m > bound)
		report("raw lzs bound", k, COMPRESS_LZS, n, (long)m);
	d = decomp(COMPRESS_LZS, out, m, back, n);
	if (d != (long)n || memcmp(back, in, n) != 0)
		report("raw lzs round trip", k, COMPRESS_LZS, n, d);
	free(out);
	free(back);
}

static void
test_round_trips(void)
{
	static const size_t fixed[] = {
		0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 15, 16, 17, 31, 64, 100, 127,
		128, 129, 255, 256, 511, 576, 1280, 1400, 1500, 2046, 2047, 2048,
		2049, 4094, 4095, 4096, 4097, 9000, 16384, 32768, 65534, 65535,
	};
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]), t, n;
	uint8_t *in = xmalloc(MAX_N);
	int k;

	for (k = 0; k < K_NKINDS; k++)
		for (t = 0; t < nfixed + 24; t++) {
			n = t < nfixed ? fixed[t] : rng() % (MAX_N + 1);
			fill_kind((enum kind)k, in, n);
			round_trip((enum kind)k, COMPRESS_LZS, in, n);
			round_trip((enum kind)k, COMPRESS_LZ4, in, n);
			lzs_raw((enum kind)k, in, n);
		}
	free(in);
}

static void
test_none_and_unknown(void)
{
	uint8_t in[64] = { 0 }, out[128];

	CHECK_EQ(compress_packet(COMPRESS_NONE, in, sizeof(in), out,
	    sizeof(out)), 0);
	CHECK_EQ(compress_packet((enum compress_codec)9, in, sizeof(in), out,
	    sizeof(out)), 0);
	CHECK_EQ(decompress_packet(COMPRESS_NONE, in, sizeof(in), out,
	    sizeof(out)), -1);
	CHECK_EQ(decompress_packet((enum compress_codec)9, in, sizeof(in),
	    out, sizeof(out)), -1);
	/* Beyond an IP packet: stored, whatever the data. */
	{
		uint8_t *big = xmalloc(MAX_N + 1), *o = xmalloc(MAX_N + 1);

		memset(big, 0, MAX_N + 1);
		CHECK_EQ(compress_packet(COMPRESS_LZS, big, MAX_N + 1, o,
		    MAX_N + 1), 0);
		CHECK_EQ(compress_packet(COMPRESS_LZ4, big, MAX_N + 1, o,
		    MAX_N + 1), 0);
		free(big);
		free(o);
	}
}

/* What the decompressors refuse beyond the LZS vectors: lz4 damage. */
static void
test_lz4_rejects(void)
{
	uint8_t in[1400], c[1400], junk[64];
	size_t m, cut;
	int accepted = 0;

	fill_text(in, sizeof(in));
	m = compress_packet(COMPRESS_LZ4, in, sizeof(in), c, sizeof(c));
	CHECK(m > 0);
	CHECK_EQ(decomp(COMPRESS_LZ4, c, m, NULL, sizeof(in)), sizeof(in));
	CHECK_EQ(decomp(COMPRESS_LZ4, c, m, NULL, sizeof(in) - 1), -1);
	CHECK_EQ(decomp(COMPRESS_LZ4, c, 0, NULL, sizeof(in)), -1);
	for (cut = 1; cut < m; cut++)
		if (decomp(COMPRESS_LZ4, c, cut, NULL, sizeof(in)) ==
		    (long)sizeof(in))
			accepted++;
	CHECK_EQ(accepted, 0);
	/* A match reaching before the output: token 0x0f0 offset 0xffff. */
	memset(junk, 0, sizeof(junk));
	junk[0] = 0x10, junk[1] = 'x', junk[2] = 0xff, junk[3] = 0xff;
	CHECK_EQ(decomp(COMPRESS_LZ4, junk, sizeof(junk), NULL, 4096), -1);
}

static void
put_hex(FILE *f, const uint8_t *b, size_t n)
{
	size_t i;

	if (n == 0)
		fputc('-', f);          /* as in the vectors: no bytes */
	for (i = 0; i < n; i++)
		fprintf(f, "%02x", b[i]);
}

/*
 * The other direction of the cross-check: lzs_ref.py, the independent
 * decoder, must read what src/lzs.c writes, for every kind of data.
 */
static void
test_ref_reads_ours(void)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 100, 1400, 2049, 4500, MAX_N };
	char path[] = "/tmp/zcc-lzs-pairs.XXXXXX", cmd[512];
	size_t t, m, bound = LZS_BOUND(MAX_N);
	uint8_t *in = xmalloc(MAX_N), *c = xmalloc(bound);
	int fd = mkstemp(path), k;
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");

	CHECK(f != NULL);
	CHECK(access(PYTHON, X_OK) == 0);
	if (f == NULL)
		goto out;
	for (k = 0; k < K_NKINDS; k++)
		for (t = 0; t < sizeof(sizes) / sizeof(sizes[0]); t++) {
			fill_kind((enum kind)k, in, sizes[t]);
			m = lzs_compress(in, sizes[t], c, bound);
			put_hex(f, in, sizes[t]);
			fputc(' ', f);
			put_hex(f, c, m);
			fputc('\n', f);
		}
	CHECK(fclose(f) == 0);
	snprintf(cmd, sizeof(cmd), "%s %s --pairs %s", PYTHON, LZS_REF, path);
	fflush(stdout);
	CHECK_EQ(system(cmd), 0);
out:
	if (fd >= 0)
		unlink(path);
	free(in);
	free(c);
}

/* A compressible packet's ratio and the cost per packet: printed only. */
static void
test_report(void)
{
	uint8_t in[1400], out[COMPRESS_BOUND(1400)], back[1400];
	enum compress_codec codecs[] = { COMPRESS_LZS, COMPRESS_LZ4 };
	struct timespec t0, t1;
	size_t m = 0, i, c;
	double us;

	fill_text(in, sizeof(in));
	for (c = 0; c < 2; c++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (i = 0; i < 2000; i++)
			m = compress_packet(codecs[c], in, sizeof(in), out,
			    sizeof(out));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
		    (double)(t1.tv_nsec - t0.tv_nsec)) / 2000 / 1e3;
		CHECK(m > 0);
		CHECK_EQ(decompress_packet(codecs[c], out, m, back,
		    sizeof(back)), sizeof(in));
		printf("%s: text packet %zu -> %zu bytes (%.1f%%), %.2f us to "
		    "compress\n", compress_codec_name(codecs[c]), sizeof(in), m,
		    100.0 * (double)m / sizeof(in), us);
	}
}

int
main(void)
{
	test_names();
	test_bound();
	test_vectors();
	test_none_and_unknown();
	test_lz4_rejects();
	test_round_trips();
	test_ref_reads_ours();
	test_report();
	CHECK_DONE();
}
