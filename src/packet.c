/* SPDX-License-Identifier: ISC */
/*
 * IPv4 and IPv6 TCP segments as they cross zcc0. Every byte here comes
 * from the network or from a local process we do not trust to be well
 * formed: all reads are bounded by the lengths checked in packet_parse,
 * multi-byte fields are loaded byte by byte (no unaligned casts), nothing
 * allocates.
 */
#include <string.h>

#include <arpa/inet.h>

#include "zcc/packet.h"

#define IP_MIN_HLEN 20
#define IP_PROTO_TCP 6
#define IP_FRAG_MASK 0x3fff      /* MF flag and fragment offset */
#define IP6_HLEN 40
#define IP6_PLEN_MAX 0xffff      /* no jumbograms (RFC 2675) cross zcc0 */
#define IP6_FRAGMENT 44
#define TCP_MIN_HLEN 20
#define TCP_MAX_OPTLEN (ZCC_TCP_MAX_HLEN - TCP_MIN_HLEN)

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WS 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_SACK 5
#define TCPOPT_TS 8
#define SACK_BLOCK 8
#define SACK_MIN_LEN (2 + SACK_BLOCK)
#define SACK_MAX_LEN (2 + 4 * SACK_BLOCK)

static uint16_t
get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t
get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

void
packet_put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

void
packet_put32(uint8_t *b, uint32_t v)
{
	packet_put16(b, (uint16_t)(v >> 16));
	packet_put16(b + 2, (uint16_t)v);
}

void
packet_put_le32(uint8_t *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

void
packet_put_le64(uint8_t *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

uint32_t
packet_get_le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;
}

uint64_t
packet_get_le64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static size_t
round4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Kinds with a fixed size must have it: a lying length desynchronises
 * every reader that trusts the kind, so we refuse rather than guess. */
static int
opt_size_ok(uint8_t kind, uint8_t len)
{
	switch (kind) {
	case TCPOPT_MSS:
		return len == 4;
	case TCPOPT_WS:
		return len == 3;
	case TCPOPT_SACK_PERM:
		return len == 2;
	case TCPOPT_TS:
		return len == 10;
	case TCPOPT_SACK:
		return len >= SACK_MIN_LEN && len <= SACK_MAX_LEN &&
		    (len - 2) % SACK_BLOCK == 0;
	default:
		return 1;
	}
}

/*
 * Size of the option starting at o[i] (i < olen) in an options area of
 * olen bytes: 0 for EOL, 1 for NOP, else its length byte when that byte is
 * inside the area, >= 2, does not run past the area and suits the kind.
 * -1 when malformed.
 */
static int
opt_len(const uint8_t *o, size_t olen, size_t i)
{
	uint8_t len;

	if (o[i] == TCPOPT_EOL)
		return 0;
	if (o[i] == TCPOPT_NOP)
		return 1;
	if (olen - i < 2)
		return -1;
	len = o[i + 1];
	if (len < 2 || len > olen - i || !opt_size_ok(o[i], len))
		return -1;
	return len;
}

/* Walk the options: 0 with *used = bytes before EOL (or olen), or -1. */
static int
opts_scan(const uint8_t *o, size_t olen, size_t *used)
{
	size_t i = 0;
	int l;

	while (i < olen) {
		if ((l = opt_len(o, olen, i)) == -1)
			return -1;
		if (l == 0)
			break;
		i += (size_t)l;
	}
	*used = i;
	return 0;
}

static int
parse_ip4(struct packet *p, uint8_t *buf, size_t n)
{
	size_t ihl, tot;

	if (n < IP_MIN_HLEN)
		return PACKET_SHORT;
	if ((buf[0] & 0x0f) < 5)
		return PACKET_NOT_IP;
	ihl = (size_t)(buf[0] & 0x0f) * 4;
	if (ihl > n)
		return PACKET_SHORT;
	tot = get16(buf + 2);
	if (tot > n || tot < ihl)
		return PACKET_BAD_LENGTH;
	p->af = AF_INET;
	p->buf = buf;
	p->len = tot;
	p->ip_hlen = ihl;
	return PACKET_OK;
}

/*
 * The fixed 40-byte header only: extension headers, if any, count as
 * payload here and packet_parse refuses them. A payload length of 0 is a
 * packet of the header alone (a jumbogram would say 0 too, but needs a
 * hop-by-hop header, which makes it no TCP segment of ours either).
 */
static int
parse_ip6(struct packet *p, uint8_t *buf, size_t n)
{
	size_t plen;

	if (n < IP6_HLEN)
		return PACKET_SHORT;
	plen = get16(buf + 4);
	if (plen > n - IP6_HLEN)
		return PACKET_BAD_LENGTH;
	p->af = AF_INET6;
	p->buf = buf;
	p->len = IP6_HLEN + plen;
	p->ip_hlen = IP6_HLEN;
	return PACKET_OK;
}

int
packet_parse_ip(struct packet *p, uint8_t *buf, size_t n)
{
	memset(p, 0, sizeof(*p));
	if (n < 1)
		return PACKET_SHORT;
	switch (buf[0] >> 4) {
	case 4:
		return parse_ip4(p, buf, n);
	case 6:
		return parse_ip6(p, buf, n);
	default:
		return n < IP_MIN_HLEN ? PACKET_SHORT : PACKET_NOT_IP;
	}
}

/*
 * IPv6 extension headers (the IANA registry: hop-by-hop, routing,
 * fragment, ESP, AH, destination options, mobility, HIP, shim6 and the
 * two experimental numbers). A selected segment must have TCP straight
 * after the fixed header: the receive ring's filter (which steering's tc
 * filter also runs) matches fixed offsets, and a chain of headers is more
 * to parse for nothing our own TCP ever sends.
 */
static int
ip6_ext_header(uint8_t nh)
{
	switch (nh) {
	case 0: case 43: case 44: case 50: case 51: case 60:
	case 135: case 139: case 140: case 253: case 254:
		return 1;
	default:
		return 0;
	}
}

/* The upper layer is TCP, in one whole IPv4 packet or straight after IPv6's header. */
static int
check_proto(const struct packet *p)
{
	uint8_t proto = packet_proto(p);

	/* A fragment's TCP header and options may be elsewhere (or
	 * overlapping): never seal or open one. */
	if (p->af != AF_INET6 && (get16(p->buf + 6) & IP_FRAG_MASK))
		return PACKET_FRAGMENT;
	if (p->af == AF_INET6 && ip6_ext_header(proto))
		return proto == IP6_FRAGMENT ? PACKET_FRAGMENT : PACKET_EXT_HEADER;
	return proto == IP_PROTO_TCP ? PACKET_OK : PACKET_NOT_TCP;
}

int
packet_parse(struct packet *p, uint8_t *buf, size_t n)
{
	const uint8_t *tcp;
	size_t thl, used;
	int r;

	if ((r = packet_parse_ip(p, buf, n)) != PACKET_OK)
		return r;
	if ((r = check_proto(p)) != PACKET_OK)
		goto bad;
	if (p->len - p->ip_hlen < TCP_MIN_HLEN) {
		r = PACKET_SHORT;
		goto bad;
	}
	tcp = buf + p->ip_hlen;
	thl = (size_t)(tcp[12] >> 4) * 4;
	if (thl < TCP_MIN_HLEN || thl > p->len - p->ip_hlen) {
		r = PACKET_BAD_TCP;
		goto bad;
	}
	if (opts_scan(tcp + TCP_MIN_HLEN, thl - TCP_MIN_HLEN, &used) == -1) {
		r = PACKET_BAD_OPTIONS;
		goto bad;
	}
	p->tcp_hlen = thl;
	p->payload_len = p->len - p->ip_hlen - thl;
	return PACKET_OK;
bad:
	memset(p, 0, sizeof(*p));
	return r;
}

uint8_t
packet_proto(const struct packet *p)
{
	return p->af == AF_INET6 ? p->buf[6] : p->buf[9];
}

size_t
packet_addr_len(const struct packet *p)
{
	return p->af == AF_INET6 ? 16 : 4;
}

const uint8_t *
packet_saddr(const struct packet *p)
{
	return p->buf + (p->af == AF_INET6 ? 8 : 12);
}

const uint8_t *
packet_daddr(const struct packet *p)
{
	return p->buf + (p->af == AF_INET6 ? 24 : 16);
}

uint8_t *
packet_tcp(const struct packet *p)
{
	return p->buf + p->ip_hlen;
}

uint8_t *
packet_payload(const struct packet *p)
{
	return p->buf + p->ip_hlen + p->tcp_hlen;
}

uint16_t
packet_sport(const struct packet *p)
{
	return get16(packet_tcp(p));
}

uint16_t
packet_dport(const struct packet *p)
{
	return get16(packet_tcp(p) + 2);
}

uint32_t
packet_seq(const struct packet *p)
{
	return get32(packet_tcp(p) + 4);
}

uint32_t
packet_ack(const struct packet *p)
{
	return get32(packet_tcp(p) + 8);
}

uint8_t
packet_tcp_flags(const struct packet *p)
{
	return packet_tcp(p)[13];
}

/* The timestamp option (kind 8, 10 bytes: parsing checked its size), or NULL. */
static const uint8_t *
find_timestamps(const struct packet *p)
{
	const uint8_t *o;
	size_t olen, i = 0;
	int l;

	if (p->tcp_hlen < TCP_MIN_HLEN)         /* from packet_parse_ip */
		return NULL;
	o = packet_tcp(p) + TCP_MIN_HLEN;
	olen = p->tcp_hlen - TCP_MIN_HLEN;
	while (i < olen) {
		if ((l = opt_len(o, olen, i)) <= 0)
			break;
		if (o[i] == TCPOPT_TS)
			return o + i;
		i += (size_t)l;
	}
	return NULL;
}

int
packet_has_timestamps(const struct packet *p)
{
	return find_timestamps(p) != NULL;
}

int
packet_tsval(const struct packet *p, uint32_t *tsval)
{
	const uint8_t *ts = find_timestamps(p);

	if (ts == NULL)
		return 0;
	*tsval = get32(ts + 2);
	return 1;
}

/*
 * RFC 1071: 16-bit big-endian words, an odd last byte padded with zero.
 * Callers pass odd n only for the last piece of a sum. The words are
 * summed eight bytes at a time in host order into four accumulators that
 * keep their carries, and the folded result turned big-endian once (the
 * one's complement sum does not care about order or grouping, RFC 1071
 * section 2(B)): this runs over every byte we seal and open.
 */
static uint64_t
csum_add(uint64_t sum, const uint8_t *b, size_t n)
{
	uint64_t a[4] = { 0 }, acc = 0, w;
	uint32_t w32;
	uint16_t w16;
	size_t i = 0;

	for (; i + 32 <= n; i += 32)
		for (int j = 0; j < 4; j++) {
			memcpy(&w, b + i + 8 * j, 8);
			a[j] += w;
			a[j] += a[j] < w;       /* end-around carry */
		}
	for (int j = 0; j < 4; j++)
		acc += (a[j] >> 32) + (a[j] & 0xffffffff);
	for (; i + 4 <= n; i += 4) {
		memcpy(&w32, b + i, 4);
		acc += w32;
	}
	if (i + 2 <= n) {
		memcpy(&w16, b + i, 2);
		acc += w16;
		i += 2;
	}
	if (i < n) {
		w16 = (uint16_t)(b[i] << 8);
		acc += ntohs(w16);      /* the byte first in memory, its pair zero */
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return sum + ntohs((uint16_t)acc);
}

static uint16_t
csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * The pseudo-header: both addresses, the protocol and the TCP length
 * (RFC 793; RFC 8200 8.1 for IPv6, whose 32-bit length and next-header
 * fields sum to the same 16-bit words for any length we carry).
 */
static uint64_t
pseudo_add(const struct packet *p, uint8_t proto, size_t len)
{
	uint64_t sum = csum_add(0, packet_saddr(p), 2 * packet_addr_len(p));

	return sum + proto + len;
}

uint16_t
packet_pseudo_sum(const struct packet *p, size_t tcp_len)
{
	return (uint16_t)~csum_fold(pseudo_add(p, IP_PROTO_TCP, tcp_len));
}

uint16_t
packet_pseudo_sum_proto(const struct packet *p, uint8_t proto, size_t len)
{
	return (uint16_t)~csum_fold(pseudo_add(p, proto, len));
}

int
packet_finish_checksum(uint8_t *buf, size_t n, size_t start, size_t off)
{
	uint16_t sum;

	if (start > n || off > n - start || n - start - off < 2)
		return -1;
	sum = csum_fold(csum_add(0, buf + start, n - start));
	packet_put16(buf + start + off, sum ? sum : 0xffff);
	return 0;
}

/* Over the pseudo-header and the segment as stored (checksum included). */
static uint16_t
tcp_csum(const struct packet *p)
{
	size_t tlen = p->len - p->ip_hlen;

	return csum_fold(csum_add(pseudo_add(p, IP_PROTO_TCP, tlen),
	    packet_tcp(p), tlen));
}

uint16_t
packet_ip_checksum(const struct packet *p)
{
	if (p->af == AF_INET6)
		return 0;               /* IPv6 has no header checksum */
	return csum_fold(csum_add(0, p->buf, p->ip_hlen));
}

void
packet_fix_checksums(struct packet *p)
{
	uint8_t *tcp = packet_tcp(p);

	if (p->af != AF_INET6) {
		packet_put16(p->buf + 10, 0);
		packet_put16(p->buf + 10, packet_ip_checksum(p));
	}
	packet_put16(tcp + 16, 0);
	packet_put16(tcp + 16, tcp_csum(p));
}

int
packet_tcp_checksum_ok(const struct packet *p)
{
	return tcp_csum(p) == 0;
}

/*
 * Remove one SACK block from o (used bytes, well formed, no EOL): the last
 * block of the last SACK option, or that whole option when it has one
 * block left. -1 when there is no SACK option.
 */
static int
sack_trim(uint8_t *o, size_t *used)
{
	size_t i = 0, sack = 0, cut, k;
	int l, found = 0;

	while (i < *used) {
		if ((l = opt_len(o, *used, i)) <= 0)
			return -1;
		if (o[i] == TCPOPT_SACK) {
			sack = i;
			found = 1;
		}
		i += (size_t)l;
	}
	if (!found)
		return -1;
	if (o[sack + 1] > SACK_MIN_LEN) {
		o[sack + 1] -= SACK_BLOCK;
		cut = sack + o[sack + 1];
		k = SACK_BLOCK;
	} else {
		cut = sack;
		k = SACK_MIN_LEN;
	}
	memmove(o + cut, o + cut + k, *used - cut - k);
	*used -= k;
	return 0;
}

/* The largest packet the length field can state: total or payload length. */
static size_t
ip_len_max(const struct packet *p)
{
	return p->af == AF_INET6 ? IP6_HLEN + IP6_PLEN_MAX : 0xffff;
}

static void
set_lengths(struct packet *p, size_t len, size_t tcp_hlen)
{
	uint8_t *tcp = packet_tcp(p);

	/* Keep the low nibble: reserved bits and the (historic) NS flag. */
	tcp[12] = (uint8_t)((tcp_hlen / 4) << 4 | (tcp[12] & 0x0f));
	if (p->af == AF_INET6)
		packet_put16(p->buf + 4, (uint16_t)(len - IP6_HLEN));
	else
		packet_put16(p->buf + 2, (uint16_t)len);
	p->len = len;
	p->tcp_hlen = tcp_hlen;
}

int
packet_add_option(struct packet *p, size_t cap, int *sack_trimmed)
{
	uint8_t opts[TCP_MAX_OPTLEN], *tcp, *z;
	size_t used, hlen, len;
	int trimmed = 0;

	if (sack_trimmed != NULL)
		*sack_trimmed = 0;
	if (p->len > cap || cap - p->len < ZCC_OPT_LEN)
		return -1;
	/* Only for a p from packet_parse (packet_parse_ip leaves 0). */
	if (p->tcp_hlen < TCP_MIN_HLEN || p->tcp_hlen > ZCC_TCP_MAX_HLEN)
		return -1;
	tcp = packet_tcp(p);
	/* Work on a copy so that a failure leaves the packet untouched. */
	if (opts_scan(tcp + TCP_MIN_HLEN, p->tcp_hlen - TCP_MIN_HLEN,
	    &used) == -1)
		return -1;
	memcpy(opts, tcp + TCP_MIN_HLEN, used);
	while (round4(used) + ZCC_OPT_LEN > TCP_MAX_OPTLEN) {
		if (sack_trim(opts, &used) == -1)
			return -1;
		trimmed++;
	}
	hlen = TCP_MIN_HLEN + round4(used) + ZCC_OPT_LEN;
	len = p->len - p->tcp_hlen + hlen;
	if (len > ip_len_max(p))
		return -1;

	memmove(tcp + hlen, tcp + p->tcp_hlen, p->payload_len);
	memcpy(tcp + TCP_MIN_HLEN, opts, used);
	memset(tcp + TCP_MIN_HLEN + used, TCPOPT_NOP, round4(used) - used);
	z = tcp + hlen - ZCC_OPT_LEN;
	memset(z, 0, ZCC_OPT_LEN);
	z[0] = ZCC_OPT_KIND;
	z[1] = ZCC_OPT_LEN;
	packet_put16(z + 2, ZCC_OPT_EXID);
	set_lengths(p, len, hlen);
	if (sack_trimmed != NULL)
		*sack_trimmed = trimmed;
	return 0;
}

long
packet_find_option(const struct packet *p)
{
	const uint8_t *o;
	size_t olen, at, i;
	int l;

	if (p->tcp_hlen < TCP_MIN_HLEN + ZCC_OPT_LEN ||
	    p->tcp_hlen > ZCC_TCP_MAX_HLEN ||
	    p->ip_hlen + p->tcp_hlen > p->len)
		return -1;
	o = packet_tcp(p) + TCP_MIN_HLEN;
	olen = p->tcp_hlen - TCP_MIN_HLEN;
	at = olen - ZCC_OPT_LEN;
	if (o[at] != ZCC_OPT_KIND || o[at + 1] != ZCC_OPT_LEN ||
	    get16(o + at + 2) != ZCC_OPT_EXID)
		return -1;
	/* The bytes must be a real option, not data inside an earlier one
	 * (an attacker-chosen SACK block or unknown option could hold a
	 * look-alike) and not after an EOL. */
	for (i = 0; i < at; i += (size_t)l)
		if ((l = opt_len(o, olen, i)) <= 0)
			return -1;
	if (i != at)
		return -1;
	return (long)(p->ip_hlen + p->tcp_hlen - ZCC_OPT_LEN);
}

void
packet_strip_option(struct packet *p)
{
	uint8_t *tcp;
	size_t hlen;

	if (packet_find_option(p) == -1)
		return;
	tcp = packet_tcp(p);
	hlen = p->tcp_hlen - ZCC_OPT_LEN;
	memmove(tcp + hlen, tcp + p->tcp_hlen, p->payload_len);
	set_lengths(p, p->len - ZCC_OPT_LEN, hlen);
}
