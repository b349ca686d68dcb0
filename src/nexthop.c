/* SPDX-License-Identifier: ISC */
/*
 * The next hop's hardware address, from two rtnetlink requests: RTM_GETROUTE
 * (what the raw socket's packets would be routed by, fwmark included) and
 * RTM_GETNEIGH for the gateway that route names, or the peer when it names
 * none. The kernel keeps resolving and confirming the neighbour; this only
 * reads what it has.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "zcc/log.h"
#include "zcc/nexthop.h"

#define NL_BUF 4096
/* A reply the kernel does not give in this time is not coming. */
#define NL_TIMEOUT_MS 200
#define NL_TRIES 8

struct nl_req {
	struct nlmsghdr h;
	union {
		struct rtmsg r;
		struct ndmsg n;
	} u;
	uint8_t attrs[64];
};
_Static_assert(RTA_SPACE(ZCC_ADDR_MAX) + RTA_SPACE(sizeof(uint32_t)) <= 64,
    "room for an address and a mark");

int
nexthop_open(void)
{
	struct timeval tv = { 0, NL_TIMEOUT_MS * 1000 };
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd == -1) {
		log_warn("netlink socket");
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1) {
		log_warn("netlink socket");
		close(fd);
		return -1;
	}
	return fd;
}

/* Callers add at most an address and a mark: attrs has room for them. */
static void
add_attr(struct nl_req *q, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((uint8_t *)q +
	    NLMSG_ALIGN(q->h.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	q->h.nlmsg_len = (uint32_t)(NLMSG_ALIGN(q->h.nlmsg_len) +
	    RTA_ALIGN(a->rta_len));
}

/* Whether buf (n bytes, from) is the kernel's reply to request seq. */
static int
is_reply(const uint8_t *buf, ssize_t n, const struct sockaddr_nl *from,
    uint32_t seq)
{
	struct nlmsghdr h;

	if (n < (ssize_t)sizeof(h) || from->nl_pid != 0)
		return 0;
	memcpy(&h, buf, sizeof(h));
	return h.nlmsg_seq == seq;
}

/* Send q, receive the kernel's reply into buf. Its length, or -1. */
static ssize_t
transact(int fd, struct nl_req *q, uint8_t *buf, size_t len)
{
	static uint32_t seq;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK }, from;
	socklen_t fromlen;
	ssize_t n;

	q->h.nlmsg_flags = NLM_F_REQUEST;
	q->h.nlmsg_seq = ++seq;
	if (sendto(fd, q, q->h.nlmsg_len, 0, (struct sockaddr *)&kernel,
	    sizeof(kernel)) == -1)
		return -1;
	/* Skip a few late replies to earlier requests that timed out. */
	for (int tries = 0; tries < NL_TRIES; tries++) {
		fromlen = sizeof(from);
		n = recvfrom(fd, buf, len, 0, (struct sockaddr *)&from, &fromlen);
		if (n < 0 || is_reply(buf, n, &from, q->h.nlmsg_seq))
			return n;
	}
	return -1;
}

/*
 * Where msg's attributes start, after its fixed header of hlen bytes, and
 * where they end (*end). -1 when msg is not a whole message of type.
 */
static long
attrs_of(const uint8_t *msg, size_t len, uint16_t type, size_t hlen,
    size_t *end)
{
	struct nlmsghdr h;

	if (len < sizeof(h))
		return -1;
	memcpy(&h, msg, sizeof(h));
	if (h.nlmsg_len > len || h.nlmsg_type != type ||
	    h.nlmsg_len < NLMSG_SPACE(hlen))
		return -1;
	*end = h.nlmsg_len;
	return (long)NLMSG_SPACE(hlen);
}

/* The attribute at *off, if a whole one is there; *off moves past it. */
static int
next_attr(const uint8_t *msg, size_t end, size_t *off, uint16_t *type,
    const uint8_t **data, size_t *len)
{
	struct rtattr a;

	if (*off + sizeof(a) > end)
		return 0;
	memcpy(&a, msg + *off, sizeof(a));
	if (a.rta_len < sizeof(a) || a.rta_len > end - *off)
		return 0;
	*type = a.rta_type;
	*data = msg + *off + RTA_LENGTH(0);
	*len = a.rta_len - RTA_LENGTH(0);
	*off += RTA_ALIGN(a.rta_len);
	return 1;
}

int
nexthop_parse_route(const uint8_t *msg, size_t len, int af, int *ifindex,
    struct zcc_addr *gw)
{
	size_t alen = af == AF_INET6 ? 16 : 4, end, off, n;
	long start = attrs_of(msg, len, RTM_NEWROUTE, sizeof(struct rtmsg), &end);
	const uint8_t *data;
	uint16_t type;
	uint32_t oif = 0;

	if (start < 0)
		return -1;
	gw->af = 0;
	for (off = (size_t)start; next_attr(msg, end, &off, &type, &data, &n);) {
		if (type == RTA_OIF && n == sizeof(oif))
			memcpy(&oif, data, sizeof(oif));
		else if (type == RTA_GATEWAY && n == alen)
			addr_set(gw, af, data);
	}
	if (oif == 0 || oif > INT32_MAX)
		return -1;
	*ifindex = (int)oif;
	return 0;
}

int
nexthop_parse_neigh(const uint8_t *msg, size_t len, int *nud,
    uint8_t mac[NEXTHOP_ALEN], int *have_mac)
{
	size_t end, off, n;
	long start = attrs_of(msg, len, RTM_NEWNEIGH, sizeof(struct ndmsg), &end);
	const uint8_t *data;
	struct ndmsg nd;
	uint16_t type;

	if (start < 0)
		return -1;
	memcpy(&nd, msg + NLMSG_HDRLEN, sizeof(nd));
	*nud = nd.ndm_state;
	*have_mac = 0;
	for (off = (size_t)start; next_attr(msg, end, &off, &type, &data, &n);) {
		if (type == NDA_LLADDR && n == NEXTHOP_ALEN) {
			memcpy(mac, data, NEXTHOP_ALEN);
			*have_mac = 1;
		}
	}
	return 0;
}

int
nexthop_state_of(int nud, int have_mac)
{
	if (!have_mac)
		return NEXTHOP_NONE;
	if (nud & (NUD_REACHABLE | NUD_PERMANENT | NUD_DELAY | NUD_PROBE))
		return NEXTHOP_VALID;
	if (nud & NUD_STALE)
		return NEXTHOP_STALE;
	return NEXTHOP_NONE;    /* incomplete, failed, noarp, none */
}

const char *
nexthop_format_mac(const struct nexthop *nh, char buf[NEXTHOP_MACSTRLEN])
{
	const uint8_t *m = nh->mac;

	if (nh->state == NEXTHOP_NONE)
		buf[0] = '\0';
	else
		snprintf(buf, NEXTHOP_MACSTRLEN, "%02x:%02x:%02x:%02x:%02x:%02x",
		    m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

static int
get_route(int fd, const struct zcc_addr *peer, uint32_t fwmark,
    struct nexthop *nh)
{
	struct nl_req q = { 0 };
	uint8_t buf[NL_BUF];
	ssize_t n;

	q.h.nlmsg_len = NLMSG_LENGTH(sizeof(q.u.r));
	q.h.nlmsg_type = RTM_GETROUTE;
	q.u.r.rtm_family = (unsigned char)peer->af;
	q.u.r.rtm_dst_len = (unsigned char)(8 * addr_len(peer));
	add_attr(&q, RTA_DST, peer->a, addr_len(peer));
	add_attr(&q, RTA_MARK, &fwmark, sizeof(fwmark));
	n = transact(fd, &q, buf, sizeof(buf));
	if (n < 0 || nexthop_parse_route(buf, (size_t)n, peer->af,
	    &nh->ifindex, &nh->addr) == -1)
		return -1;
	if (nh->addr.af == 0)
		nh->addr = *peer;
	return 0;
}

static int
get_neigh(int fd, struct nexthop *nh)
{
	struct nl_req q = { 0 };
	uint8_t buf[NL_BUF];
	int nud, have_mac;
	ssize_t n;

	q.h.nlmsg_len = NLMSG_LENGTH(sizeof(q.u.n));
	q.h.nlmsg_type = RTM_GETNEIGH;
	q.u.n.ndm_family = (unsigned char)nh->addr.af;
	q.u.n.ndm_ifindex = nh->ifindex;
	add_attr(&q, NDA_DST, nh->addr.a, addr_len(&nh->addr));
	n = transact(fd, &q, buf, sizeof(buf));
	if (n < 0 || nexthop_parse_neigh(buf, (size_t)n, &nud, nh->mac,
	    &have_mac) == -1)
		return NEXTHOP_NONE;
	return nexthop_state_of(nud, have_mac);
}

int
nexthop_route_oif(int fd, const struct zcc_addr *to)
{
	struct nexthop nh = { 0 };

	return get_route(fd, to, 0, &nh) == 0 ? nh.ifindex : -1;
}

int
nexthop_lookup(int fd, const struct zcc_addr *peer, uint32_t fwmark,
    struct nexthop *nh)
{
	memset(nh, 0, sizeof(*nh));
	if (get_route(fd, peer, fwmark, nh) == 0)
		nh->state = get_neigh(fd, nh);
	return nh->state;
}
