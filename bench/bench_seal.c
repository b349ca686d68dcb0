/* SPDX-License-Identifier: ISC */
/*
 * bench_seal: nanoseconds per operation of seal_segment and seal_open on one
 * full-sized segment (IPv4, TCP with timestamps, 1448 bytes of payload),
 * next to the bare libsodium primitives they call, in the same process.
 *
 *   bench_seal [--quick] [--runs N] [--ms M]
 *
 * Every row is the median of N runs (default 5); each run repeats the
 * operation n times, n chosen so that a run lasts about M ms (default 200;
 * --quick: 3 runs of 25 ms, about 1 s in all). Nothing is pinned.
 *
 * seal_segment and seal_open work in place, so each of their iterations
 * first copies the 1500-byte template (or the 1516-byte sealed segment)
 * into the work buffer and resets the struct packet view (no parsing). The
 * "copy" row measures that copy and reset alone; it is subtracted from the
 * seal_segment and seal_open rows, which therefore are the cost of the call
 * itself. The primitives run in place on the same buffer, with no copy:
 *
 *   xchacha20_xor      crypto_stream_xchacha20_xor over the 1448-byte payload
 *   poly1305_tag_input crypto_onetimeauth_init/update/final over the bytes
 *                      seal.c hashes, in the same pieces: 21-byte prefix
 *                      (label, key id, af, addresses, proto, TCP length),
 *                      the sealed TCP header (32 + 16 bytes) in five pieces
 *                      around the zeroed checksum and tag, then the payload:
 *                      1517 bytes
 *   hchacha20          crypto_core_hchacha20 once, on the 16-byte hash
 *   primitives_sum     xchacha20_xor + poly1305_tag_input + hchacha20: what
 *                      seal_segment and seal_open each call
 *
 * and, for context, blake2b_keyed (crypto_generichash, 32-byte key, 16-byte
 * output, over the same 1517 bytes: the tag of the zccseal1 construction
 * this one replaced), crypto_aead_chacha20poly1305_ietf_encrypt,
 * crypto_aead_aes256gcm_encrypt (row left out when the CPU lacks AES-NI /
 * crypto_aead_aes256gcm_is_available() is false) and crypto_onetimeauth
 * (Poly1305, one call), each of these three over the 1448-byte payload.
 *
 * seal_segment and seal_open are zccseal2's. When this CPU runs zccseal3
 * (AES-256, libcrypto), seal_segment_zccseal3 and seal_open_zccseal3 are
 * measured the same way on the same segment.
 *
 * Output: one "name value" line per row (value in ns, median), then
 *   ratio_seal_plus_open_vs_primitives  (seal + open) / (2 * primitives_sum)
 *   seal_plus_open_zccseal2, seal_plus_open_zccseal3 (when measured)
 *   cpu MODEL                           from /proc/cpuinfo
 * First, informational lines: payload_bytes, tag_input_bytes, runs,
 * run_ms, sodium_version. A failed seal or open exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "zcc/packet.h"
#include "zcc/seal.h"
#include "zcc/secmem.h"

#define PAYLOAD_LEN 1448
#define IP_HLEN 20
#define TCP_HLEN 32
#define SEG_LEN (IP_HLEN + TCP_HLEN + PAYLOAD_LEN)
#define BUF_CAP 2048
#define SEAL_PREFIX_LEN (8 + 1 + 1 + 4 + 4 + 1 + 2)   /* as in seal.c */
#define MAX_RUNS 101

struct bench {
	struct seal_key key;            /* zccseal2's: the primitives use it */
	struct seal_key key3;           /* zccseal3's */
	const struct seal_key *use;     /* what op_seal and op_open run */
	uint8_t plain[BUF_CAP];         /* the segment as it enters zcc0 */
	uint8_t sealed[BUF_CAP];        /* the same segment sealed */
	struct packet plain_p, sealed_p;
	uint8_t buf[BUF_CAP];           /* work buffer */
	struct packet p;
	uint8_t hashin[BUF_CAP];        /* the tag's input M, as long as seal.c's */
	size_t hashin_len;
	size_t pieces[8];               /* how seal.c feeds M to Poly1305 */
	size_t npieces;
	uint8_t h[crypto_core_hchacha20_INPUTBYTES];
	uint8_t out[BUF_CAP + 64];      /* ciphertext + tag for the AEADs */
	uint8_t nonce[crypto_stream_xchacha20_NONCEBYTES];
	uint8_t k32[32];
	unsigned long failures;
};

typedef void op_fn(struct bench *b);


/* A 1500-byte IPv4/TCP segment: ACK|PSH, NOP NOP TS, random payload. */
static void
build_template(struct bench *b)
{
	uint8_t *ip = b->plain, *tcp = b->plain + IP_HLEN;

	memset(b->plain, 0, sizeof(b->plain));
	ip[0] = 0x45;
	packet_put16(ip + 2, SEG_LEN);
	packet_put16(ip + 4, 0x1234);
	packet_put16(ip + 6, 0x4000);                  /* DF */
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, (const uint8_t[]){ 10, 0, 0, 1 }, 4);
	memcpy(ip + 16, (const uint8_t[]){ 10, 0, 0, 2 }, 4);

	packet_put16(tcp, 40000);
	packet_put16(tcp + 2, 5201);
	packet_put32(tcp + 4, 0x01020304);
	packet_put32(tcp + 8, 0x0a0b0c0d);
	tcp[12] = (TCP_HLEN / 4) << 4;
	tcp[13] = ZCC_TCP_ACK | 0x08;           /* ACK, PSH */
	packet_put16(tcp + 14, 502);
	tcp[20] = 1;                            /* NOP */
	tcp[21] = 1;                            /* NOP */
	tcp[22] = 8;                            /* TS */
	tcp[23] = 10;
	packet_put32(tcp + 24, 0x11223344);
	packet_put32(tcp + 28, 0x55667788);
	randombytes_buf(tcp + TCP_HLEN, PAYLOAD_LEN);

	if (packet_parse(&b->plain_p, b->plain, SEG_LEN) != PACKET_OK ||
	    b->plain_p.payload_len != PAYLOAD_LEN ||
	    !packet_has_timestamps(&b->plain_p)) {
		fprintf(stderr, "bench_seal: template does not parse\n");
		exit(1);
	}
	packet_fix_checksums(&b->plain_p);
}

static void
reset_plain(struct bench *b)
{
	memcpy(b->buf, b->plain, b->plain_p.len);
	b->p = b->plain_p;
	b->p.buf = b->buf;
}

static void
reset_sealed(struct bench *b)
{
	memcpy(b->buf, b->sealed, b->sealed_p.len);
	b->p = b->sealed_p;
	b->p.buf = b->buf;
}

static void
op_copy(struct bench *b)
{
	reset_plain(b);
}

static void
op_seal(struct bench *b)
{
	reset_plain(b);
	if (seal_segment(b->use, &b->p, sizeof(b->buf), NULL) != SEAL_OK)
		b->failures++;
}

static void
op_open(struct bench *b)
{
	reset_sealed(b);
	if (seal_open(b->use, &b->p) != SEAL_OK)
		b->failures++;
}

static void
op_xchacha(struct bench *b)
{
	crypto_stream_xchacha20_xor(b->buf, b->buf, PAYLOAD_LEN, b->nonce,
	    b->key.enc);
}

static void
op_poly1305_m(struct bench *b)
{
	crypto_onetimeauth_state st;
	const uint8_t *q = b->hashin;

	crypto_onetimeauth_init(&st, b->key.mac);
	for (size_t i = 0; i < b->npieces; i++) {
		crypto_onetimeauth_update(&st, q, b->pieces[i]);
		q += b->pieces[i];
	}
	crypto_onetimeauth_final(&st, b->h);
}

static void
op_hchacha20(struct bench *b)
{
	crypto_core_hchacha20(b->out, b->h, b->key.prf, NULL);
}

static void
op_blake2b(struct bench *b)
{
	crypto_generichash(b->out, 16, b->hashin, b->hashin_len, b->key.mac,
	    sizeof(b->key.mac));
}

static void
op_chachapoly(struct bench *b)
{
	unsigned long long clen;

	crypto_aead_chacha20poly1305_ietf_encrypt(b->out, &clen, b->buf,
	    PAYLOAD_LEN, NULL, 0, NULL, b->nonce, b->k32);
}

static void
op_aesgcm(struct bench *b)
{
	unsigned long long clen;

	crypto_aead_aes256gcm_encrypt(b->out, &clen, b->buf, PAYLOAD_LEN,
	    NULL, 0, NULL, b->nonce, b->k32);
}

static void
op_poly1305(struct bench *b)
{
	crypto_onetimeauth(b->out, b->buf, PAYLOAD_LEN, b->k32);
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double
time_n(struct bench *b, op_fn *fn, unsigned long n)
{
	double t0 = now_ns();

	for (unsigned long i = 0; i < n; i++)
		fn(b);
	return now_ns() - t0;
}

static int
cmp_double(const void *a, const void *c)
{
	double x = *(const double *)a, y = *(const double *)c;

	return (x > y) - (x < y);
}

/* Median over runs of ns per call, each run lasting about run_ns. */
static double
measure(struct bench *b, op_fn *fn, int runs, double run_ns)
{
	double per[MAX_RUNS], t;
	unsigned long n = 1;

	/* Calibrate (this also warms caches and the CPU's clock up). */
	while ((t = time_n(b, fn, n)) < run_ns / 10 && n < (1UL << 40))
		n *= 2;
	if (t > 0)
		n = (unsigned long)((double)n * run_ns / t) + 1;
	for (int r = 0; r < runs; r++)
		per[r] = time_n(b, fn, n) / (double)n;
	qsort(per, (size_t)runs, sizeof(per[0]), cmp_double);
	if (runs % 2)
		return per[runs / 2];
	return (per[runs / 2 - 1] + per[runs / 2]) / 2;
}

static void
print_cpu(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			char *colon = strchr(line, ':');

			if (strncmp(line, "model name", 10) != 0 || colon == NULL)
				continue;
			colon++;
			colon += strspn(colon, " \t");
			colon[strcspn(colon, "\n")] = '\0';
			printf("cpu %s\n", colon);
			fclose(f);
			return;
		}
		fclose(f);
	}
	printf("cpu unknown\n");
}

/*
 * The tag's input M, byte count for byte count with compute_tag in seal.c,
 * and the pieces it feeds Poly1305 in: the prefix, the TCP header up to the
 * checksum, the zeroed checksum, up to the tag, the zeroed tag, the rest of
 * the header, the payload. Incremental Poly1305 buffers partial blocks, so
 * the pieces, not only the length, shape its cost.
 */
static void
tag_input(struct bench *b)
{
	const struct packet *p = &b->sealed_p;
	size_t tag_off = (size_t)packet_find_option(p) - p->ip_hlen +
	    ZCC_OPT_TAG_OFF;
	size_t *n = b->pieces;

	b->hashin_len = SEAL_PREFIX_LEN + p->tcp_hlen + p->payload_len;
	memset(b->hashin, 0, SEAL_PREFIX_LEN);
	memcpy(b->hashin + SEAL_PREFIX_LEN, b->sealed + IP_HLEN,
	    b->hashin_len - SEAL_PREFIX_LEN);
	*n++ = SEAL_PREFIX_LEN;
	*n++ = 16;
	*n++ = 2;
	*n++ = tag_off - 18;
	*n++ = ZCC_TAG_LEN;
	*n++ = p->tcp_hlen - tag_off - ZCC_TAG_LEN;
	*n++ = p->payload_len;
	b->npieces = (size_t)(n - b->pieces);
}

/* b->use seals the template into b->sealed, which opens back to it. */
static int
seal_template(struct bench *b)
{
	reset_plain(b);
	if (seal_segment(b->use, &b->p, sizeof(b->buf), NULL) != SEAL_OK) {
		fprintf(stderr, "bench_seal: seal_segment failed\n");
		return -1;
	}
	memcpy(b->sealed, b->buf, b->p.len);
	b->sealed_p = b->p;
	b->sealed_p.buf = b->sealed;
	reset_sealed(b);
	if (seal_open(b->use, &b->p) != SEAL_OK || b->p.len != SEG_LEN ||
	    memcmp(b->buf, b->plain, SEG_LEN) != 0) {
		fprintf(stderr, "bench_seal: seal_open does not give the "
		    "template back\n");
		return -1;
	}
	reset_plain(b);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_seal [--quick] [--runs N] [--ms M]\n"
	    "  median of N runs (default 5) of about M ms each (default 200);\n"
	    "  --quick: 3 runs of 25 ms (about 1 s in all)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static struct bench bench;
	struct bench *b = &bench;
	uint8_t session[ZCC_KEY_LEN];
	int runs = 5, ms = 200, have_aes, have_seal3;
	double copy, seal, open, xchacha, poly, hchacha, blake, sum;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			runs = 3;
			ms = 25;
		} else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			runs = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--ms") == 0 && i + 1 < argc) {
			ms = atoi(argv[++i]);
		} else {
			usage();
		}
	}
	if (runs < 1 || runs > MAX_RUNS || ms < 1 || ms > 10000)
		usage();
	if (secmem_install() == -1 || sodium_init() < 0) {
		fprintf(stderr, "bench_seal: sodium_init failed\n");
		return 1;
	}
	have_aes = crypto_aead_aes256gcm_is_available();

	randombytes_buf(session, sizeof(session));
	seal_key_derive(&b->key, session, 1, SEAL_SUITE_CHACHA);
	seal_key_derive(&b->key3, session, 1, SEAL_SUITE_AES);
	have_seal3 = (seal_suites_available() & SEAL_SUITE_BIT(SEAL_SUITE_AES)) &&
	    seal_key_prepare(&b->key3) == 0;
	randombytes_buf(b->k32, sizeof(b->k32));
	randombytes_buf(b->nonce, sizeof(b->nonce));
	build_template(b);

	b->use = &b->key;
	if (seal_template(b) == -1)
		return 1;
	tag_input(b);
	reset_plain(b);

	double run_ns = ms * 1e6;

	printf("payload_bytes %d\n", PAYLOAD_LEN);
	printf("tag_input_bytes %zu\n", b->hashin_len);
	printf("runs %d\nrun_ms %d\n", runs, ms);
	printf("sodium_version %s\n", sodium_version_string());
	fflush(stdout);

	copy = measure(b, op_copy, runs, run_ns);
	seal = measure(b, op_seal, runs, run_ns) - copy;
	open = measure(b, op_open, runs, run_ns) - copy;
	reset_plain(b);
	xchacha = measure(b, op_xchacha, runs, run_ns);
	poly = measure(b, op_poly1305_m, runs, run_ns);
	hchacha = measure(b, op_hchacha20, runs, run_ns);
	blake = measure(b, op_blake2b, runs, run_ns);
	sum = xchacha + poly + hchacha;
	if (b->failures) {
		fprintf(stderr, "bench_seal: %lu seal/open failures\n",
		    b->failures);
		return 1;
	}
	printf("copy %.1f\n", copy);
	printf("seal_segment %.1f\n", seal);
	printf("seal_open %.1f\n", open);
	printf("xchacha20_xor %.1f\n", xchacha);
	printf("poly1305_tag_input %.1f\n", poly);
	printf("hchacha20 %.1f\n", hchacha);
	printf("primitives_sum %.1f\n", sum);
	printf("blake2b_keyed %.1f\n", blake);
	fflush(stdout);
	printf("aead_chacha20poly1305_ietf_encrypt %.1f\n",
	    measure(b, op_chachapoly, runs, run_ns));
	if (have_aes)
		printf("aead_aes256gcm_encrypt %.1f\n",
		    measure(b, op_aesgcm, runs, run_ns));
	printf("poly1305_onetimeauth %.1f\n",
	    measure(b, op_poly1305, runs, run_ns));
	printf("ratio_seal_plus_open_vs_primitives %.2f\n",
	    (seal + open) / (2 * sum));
	printf("seal_plus_open_zccseal2 %.1f\n", seal + open);
	fflush(stdout);
	if (have_seal3) {
		b->use = &b->key3;
		if (seal_template(b) == -1)
			return 1;
		seal = measure(b, op_seal, runs, run_ns) - copy;
		open = measure(b, op_open, runs, run_ns) - copy;
		if (b->failures)
			return 1;
		printf("seal_segment_zccseal3 %.1f\n", seal);
		printf("seal_open_zccseal3 %.1f\n", open);
		printf("seal_plus_open_zccseal3 %.1f\n", seal + open);
	}
	print_cpu();
	seal_key_wipe(&b->key);
	seal_key_wipe(&b->key3);
	return 0;
}
