/* SPDX-License-Identifier: ISC */
/*
 * The parsers of the kernel's route and neighbour replies, on messages
 * built here as the kernel lays them out; then one live lookup on the
 * loopback, whose next hop has no hardware address.
 */
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "zcc/nexthop.h"

struct msg {
	uint8_t b[256];
	size_t n;
};

static void
start(struct msg *m, uint16_t type, size_t hlen)
{
	struct nlmsghdr h = { .nlmsg_type = type };

	memset(m, 0, sizeof(*m));
	m->n = NLMSG_SPACE(hlen);
	h.nlmsg_len = (uint32_t)m->n;
	memcpy(m->b, &h, sizeof(h));
}

static void
attr(struct msg *m, uint16_t type, const void *data, size_t len)
{
	struct rtattr a = { .rta_len = (unsigned short)RTA_LENGTH(len),
	    .rta_type = type };
	uint32_t total;

	memcpy(m->b + m->n, &a, sizeof(a));
	memcpy(m->b + m->n + RTA_LENGTH(0), data, len);
	m->n += RTA_ALIGN(a.rta_len);
	total = (uint32_t)m->n;
	memcpy(m->b, &total, sizeof(total));
}

static void
test_route(void)
{
	uint32_t oif = 7, gw4 = htonl(0x0a0000fe);
	uint8_t gw6[16] = { 0xfe, 0x80, [15] = 1 };
	struct zcc_addr gw;
	struct msg m;
	int ifindex = -1;

	/* On-link: an interface, no gateway. */
	start(&m, RTM_NEWROUTE, sizeof(struct rtmsg));
	attr(&m, RTA_TABLE, &oif, sizeof(oif));
	attr(&m, RTA_OIF, &oif, sizeof(oif));
	CHECK_EQ(nexthop_parse_route(m.b, m.n, AF_INET, &ifindex, &gw), 0);
	CHECK_EQ(ifindex, 7);
	CHECK_EQ(gw.af, 0);

	/* Through a gateway, of the family asked for only. */
	attr(&m, RTA_GATEWAY, &gw4, sizeof(gw4));
	CHECK_EQ(nexthop_parse_route(m.b, m.n, AF_INET, &ifindex, &gw), 0);
	CHECK_EQ(gw.af, AF_INET);
	CHECK_MEM(gw.a, &gw4, 4);
	CHECK_EQ(nexthop_parse_route(m.b, m.n, AF_INET6, &ifindex, &gw), 0);
	CHECK_EQ(gw.af, 0);
	start(&m, RTM_NEWROUTE, sizeof(struct rtmsg));
	attr(&m, RTA_GATEWAY, gw6, sizeof(gw6));
	attr(&m, RTA_OIF, &oif, sizeof(oif));
	CHECK_EQ(nexthop_parse_route(m.b, m.n, AF_INET6, &ifindex, &gw), 0);
	CHECK_EQ(gw.af, AF_INET6);
	CHECK_MEM(gw.a, gw6, 16);

	/* Cut short, of another type, without an interface: refused. */
	CHECK_EQ(nexthop_parse_route(m.b, m.n - 1, AF_INET6, &ifindex, &gw), -1);
	CHECK_EQ(nexthop_parse_route(m.b, 8, AF_INET6, &ifindex, &gw), -1);
	m.b[4] = NLMSG_ERROR;
	m.b[5] = 0;
	CHECK_EQ(nexthop_parse_route(m.b, m.n, AF_INET6, &ifindex, &gw), -1);
	start(&m, RTM_NEWROUTE, sizeof(struct rtmsg));
	CHECK_EQ(nexthop_parse_route(m.b, m.n, AF_INET, &ifindex, &gw), -1);

	/* An attribute claiming more than the message holds ends the walk. */
	attr(&m, RTA_OIF, &oif, sizeof(oif));
	m.b[NLMSG_SPACE(sizeof(struct rtmsg))] = 200;
	CHECK_EQ(nexthop_parse_route(m.b, m.n, AF_INET, &ifindex, &gw), -1);
}

static void
test_neigh(void)
{
	static const uint8_t mac[NEXTHOP_ALEN] = { 2, 0, 0x5e, 1, 2, 3 };
	uint32_t dst = htonl(0x0a000002);
	struct ndmsg nd = { .ndm_state = NUD_REACHABLE };
	uint8_t got[NEXTHOP_ALEN];
	int nud, have;
	struct msg m;

	start(&m, RTM_NEWNEIGH, sizeof(nd));
	memcpy(m.b + NLMSG_HDRLEN, &nd, sizeof(nd));
	attr(&m, NDA_DST, &dst, sizeof(dst));
	CHECK_EQ(nexthop_parse_neigh(m.b, m.n, &nud, got, &have), 0);
	CHECK_EQ(nud, NUD_REACHABLE);
	CHECK_EQ(have, 0);
	attr(&m, NDA_LLADDR, mac, sizeof(mac));
	CHECK_EQ(nexthop_parse_neigh(m.b, m.n, &nud, got, &have), 0);
	CHECK_EQ(have, 1);
	CHECK_MEM(got, mac, sizeof(mac));
	CHECK_EQ(nexthop_parse_neigh(m.b, m.n - 1, &nud, got, &have), -1);

	/* A hardware address of another length is not Ethernet's. */
	start(&m, RTM_NEWNEIGH, sizeof(nd));
	attr(&m, NDA_LLADDR, mac, 4);
	CHECK_EQ(nexthop_parse_neigh(m.b, m.n, &nud, got, &have), 0);
	CHECK_EQ(have, 0);
	start(&m, RTM_NEWROUTE, sizeof(nd));
	CHECK_EQ(nexthop_parse_neigh(m.b, m.n, &nud, got, &have), -1);
}

static void
test_states(void)
{
	CHECK_EQ(nexthop_state_of(NUD_REACHABLE, 1), NEXTHOP_VALID);
	CHECK_EQ(nexthop_state_of(NUD_PERMANENT, 1), NEXTHOP_VALID);
	CHECK_EQ(nexthop_state_of(NUD_DELAY, 1), NEXTHOP_VALID);
	CHECK_EQ(nexthop_state_of(NUD_PROBE, 1), NEXTHOP_VALID);
	CHECK_EQ(nexthop_state_of(NUD_STALE, 1), NEXTHOP_STALE);
	CHECK_EQ(nexthop_state_of(NUD_INCOMPLETE, 1), NEXTHOP_NONE);
	CHECK_EQ(nexthop_state_of(NUD_FAILED, 1), NEXTHOP_NONE);
	CHECK_EQ(nexthop_state_of(NUD_NOARP, 1), NEXTHOP_NONE);
	CHECK_EQ(nexthop_state_of(NUD_REACHABLE, 0), NEXTHOP_NONE);
}

/* The kernel's own answer for 127.0.0.1: lo, on-link, no neighbour. */
static void
test_live_loopback(void)
{
	struct zcc_addr lo;
	struct nexthop nh;
	int fd = nexthop_open();

	CHECK(fd != -1);
	if (fd == -1)
		return;
	addr_parse(&lo, "127.0.0.1");
	CHECK_EQ(nexthop_lookup(fd, &lo, 0, &nh), NEXTHOP_NONE);
	CHECK_EQ(nh.ifindex, 1);
	CHECK(addr_equal(&nh.addr, &lo));
	close(fd);
}

int
main(void)
{
	test_route();
	test_neigh();
	test_states();
	test_live_loopback();
	CHECK_DONE();
}
