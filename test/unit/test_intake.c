/* SPDX-License-Identifier: ISC */
/*
 * The receive ring's filter (intake_filter), which steering's tc ingress
 * filter also runs: executed here by a small classic BPF interpreter that
 * follows the kernel's rules (loads past the end end the program with 0),
 * on packets that must be taken and packets that must be left alone.
 */
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "zcc/intake.h"

#define TAKE 0x40000u
#define LEAVE 7u

/* What the kernel tells the filter besides the bytes. */
struct meta {
	uint32_t pkttype, protocol;
};

static int
load(const uint8_t *pkt, size_t n, const struct meta *m, uint16_t size,
    uint32_t k, uint32_t *a)
{
	if (k >= (uint32_t)SKF_AD_OFF) {
		if (k == (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE))
			*a = m->pkttype;
		else if (k == (uint32_t)(SKF_AD_OFF + SKF_AD_PROTOCOL))
			*a = m->protocol;
		else
			return -1;
		return 0;
	}
	size_t len = size == BPF_W ? 4 : size == BPF_H ? 2 : 1;
	if (k + len > n)
		return -1;
	*a = 0;
	for (size_t i = 0; i < len; i++)
		*a = *a << 8 | pkt[k + i];
	return 0;
}

static uint32_t
run(const struct sock_filter *f, size_t nf, const uint8_t *pkt, size_t n,
    const struct meta *m)
{
	uint32_t a = 0;

	for (size_t pc = 0; pc < nf; pc++) {
		const struct sock_filter *i = &f[pc];

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
		case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_B | BPF_ABS:
			if (load(pkt, n, m, BPF_SIZE(i->code), i->k, &a) == -1)
				return 0;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= i->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & i->k) ? i->jt : i->jf;
			break;
		case BPF_RET | BPF_K:
			return i->k;
		default:
			fprintf(stderr, "unexpected instruction %#x\n", i->code);
			return 0xdead;
		}
	}
	fprintf(stderr, "ran off the end\n");
	return 0xdead;
}

static struct sock_filter prog[INTAKE_FILTER_MAX];
static size_t nprog;

/* The filter for peer's segments to local ("" for not known). */
static void
compile_to(const char *local, const char *peer, const uint16_t *ports,
    size_t n, uint32_t ip_off)
{
	struct intake_prog how = { ip_off, TAKE, LEAVE };
	struct zcc_addr a, l = { 0 };

	CHECK_EQ(addr_parse(&a, peer), 0);
	if (*local)
		CHECK_EQ(addr_parse(&l, local), 0);
	nprog = intake_filter(prog, &how, &l, &a, ports, n);
	CHECK(nprog > 0 && nprog <= INTAKE_FILTER_MAX);
	/* Every jump lands inside the program. */
	for (size_t i = 0; i < nprog; i++)
		if (BPF_CLASS(prog[i].code) == BPF_JMP)
			CHECK(i + 1 + prog[i].jt < nprog && i + 1 + prog[i].jf < nprog);
}

/* The tests' own address: 10.0.0.1 or 2001:db8::1. */
static void
compile(const char *peer, const uint16_t *ports, size_t n, uint32_t ip_off)
{
	compile_to(strchr(peer, ':') ? "2001:db8::1" : "10.0.0.1", peer, ports,
	    n, ip_off);
}

/* A TCP segment from src, IPv4 with IHL 5, 20 bytes of TCP, no payload. */
static size_t
ipv4(uint8_t *b, const uint8_t src[4], uint16_t sport, uint16_t dport)
{
	memset(b, 0, 40);
	b[0] = 0x45;
	b[3] = 40;
	b[6] = 0x40;            /* DF: not a fragment */
	b[9] = 6;
	memcpy(b + 12, src, 4);
	b[16] = 10, b[19] = 1;
	b[20] = (uint8_t)(sport >> 8), b[21] = (uint8_t)sport;
	b[22] = (uint8_t)(dport >> 8), b[23] = (uint8_t)dport;
	b[32] = 0x50;
	return 40;
}

static uint32_t
verdict(const uint8_t *b, size_t n, uint32_t pkttype, uint32_t protocol)
{
	struct meta m = { pkttype, protocol };

	return run(prog, nprog, b, n, &m);
}

static uint32_t
v4(const uint8_t *b, size_t n)
{
	return verdict(b, n, PACKET_HOST, ETH_P_IP);
}

static void
test_ipv4(void)
{
	static const uint16_t ports[] = { 80, 443 };
	static const uint8_t peer[4] = { 10, 0, 0, 2 }, other[4] = { 10, 0, 0, 3 };
	uint8_t b[80];
	size_t n;

	compile("10.0.0.2", ports, 2, 0);
	n = ipv4(b, peer, 80, 40000);
	CHECK_EQ(v4(b, n), TAKE);                   /* the peer serves 80 */
	n = ipv4(b, peer, 40000, 443);
	CHECK_EQ(v4(b, n), TAKE);                   /* we serve 443 */
	n = ipv4(b, peer, 22, 40000);
	CHECK_EQ(v4(b, n), LEAVE);                  /* not selected */
	n = ipv4(b, peer, 40000, 81);
	CHECK_EQ(v4(b, n), LEAVE);
	n = ipv4(b, other, 80, 40000);
	CHECK_EQ(v4(b, n), LEAVE);                  /* not the peer */

	n = ipv4(b, peer, 80, 40000);
	CHECK_EQ(verdict(b, n, PACKET_OUTGOING, ETH_P_IP), LEAVE);
	CHECK_EQ(verdict(b, n, PACKET_OTHERHOST, ETH_P_IP), LEAVE);
	CHECK_EQ(verdict(b, n, PACKET_HOST, ETH_P_IPV6), LEAVE);
	b[9] = 17;
	CHECK_EQ(v4(b, n), LEAVE);                  /* UDP */
	b[9] = 6;
	b[0] = 0x46;
	CHECK_EQ(v4(b, n), LEAVE);                  /* IP options: TCP elsewhere */
	b[0] = 0x45;
	b[6] = 0x20;
	CHECK_EQ(v4(b, n), LEAVE);                  /* more fragments */
	b[6] = 0x00, b[7] = 0x01;
	CHECK_EQ(v4(b, n), LEAVE);                  /* a later fragment */
	b[6] = 0x40, b[7] = 0;
	CHECK_EQ(v4(b, n), TAKE);
	CHECK_EQ(v4(b, 21), 0);                     /* cut inside the ports */
	b[19] = 9;
	CHECK_EQ(v4(b, n), LEAVE);      /* for another address: forwarded, or
	                                   a secondary one of ours */
	compile_to("", "10.0.0.2", ports, 2, 0);
	CHECK_EQ(v4(b, n), TAKE);       /* our address not known: any */
	compile("10.0.0.2", ports, 2, 0);
	b[19] = 1;

	/* tc runs it from the Ethernet header. */
	compile("10.0.0.2", ports, 2, ETH_HLEN);
	memset(b, 0xee, ETH_HLEN);
	n = ipv4(b + ETH_HLEN, peer, 443, 40000) + ETH_HLEN;
	CHECK_EQ(v4(b, n), TAKE);
	n = ipv4(b + ETH_HLEN, peer, 444, 40000) + ETH_HLEN;
	CHECK_EQ(v4(b, n), LEAVE);
}

static void
test_many_ports(void)
{
	static const uint8_t peer[4] = { 192, 0, 2, 7 };
	uint16_t ports[ZCC_MAX_PORTS + 1];
	uint8_t b[40];

	for (size_t i = 0; i < ZCC_MAX_PORTS + 1; i++)
		ports[i] = (uint16_t)(1000 + i);
	compile("2001:db8::7", ports, ZCC_MAX_PORTS + 1, 0);  /* the longest */
	compile("192.0.2.7", ports, ZCC_MAX_PORTS + 1, 0);
	for (size_t i = 0; i < ZCC_MAX_PORTS; i++) {
		CHECK_EQ(v4(b, ipv4(b, peer, ports[i], 50000)), TAKE);
		CHECK_EQ(v4(b, ipv4(b, peer, 50000, ports[i])), TAKE);
	}
	/* Only ZCC_MAX_PORTS are taken; none is left out silently. */
	CHECK_EQ(v4(b, ipv4(b, peer, 1000 + ZCC_MAX_PORTS, 50000)), LEAVE);
}

static void
test_ipv6(void)
{
	static const uint16_t ports[] = { 5001 };
	struct zcc_addr peer;
	uint8_t b[60] = { 0 };

	compile("2001:db8::2", ports, 1, 0);
	addr_parse(&peer, "2001:db8::2");
	b[0] = 0x60;
	b[5] = 20;
	b[6] = 6;
	b[7] = 64;
	memcpy(b + 8, peer.a, 16);
	b[24] = 0x20, b[25] = 0x01, b[26] = 0x0d, b[27] = 0xb8, b[39] = 1;
	b[40] = 5001 >> 8, b[41] = 5001 & 0xff;
	b[43] = 80;
	CHECK_EQ(verdict(b, 60, PACKET_HOST, ETH_P_IPV6), TAKE);
	CHECK_EQ(verdict(b, 60, PACKET_HOST, ETH_P_IP), LEAVE);
	b[6] = 0;
	CHECK_EQ(verdict(b, 60, PACKET_HOST, ETH_P_IPV6), LEAVE);  /* hop-by-hop */
	b[6] = 6;
	b[23] = 3;
	CHECK_EQ(verdict(b, 60, PACKET_HOST, ETH_P_IPV6), LEAVE);  /* ::3 */
	b[23] = 2;
	b[0] = 0x40;
	CHECK_EQ(verdict(b, 60, PACKET_HOST, ETH_P_IPV6), LEAVE);  /* version 4 */
	b[0] = 0x60;
	b[41] ^= 1;
	CHECK_EQ(verdict(b, 60, PACKET_HOST, ETH_P_IPV6), LEAVE);
	b[41] ^= 1;
	b[40] = 0, b[41] = 80, b[42] = 5001 >> 8, b[43] = 5001 & 0xff;
	CHECK_EQ(verdict(b, 60, PACKET_HOST, ETH_P_IPV6), TAKE);
	b[39] = 9;
	CHECK_EQ(verdict(b, 60, PACKET_HOST, ETH_P_IPV6), LEAVE);  /* to ::9 */
}

int
main(void)
{
	test_ipv4();
	test_many_ports();
	test_ipv6();
	CHECK_DONE();
}
