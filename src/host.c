/* SPDX-License-Identifier: ISC */
/*
 * Host probes and sockets (include/zcc/host.h). Every failure is logged
 * here, once, in words that name what was asked of the host.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/icmp6.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zcc/host.h"
#include "zcc/log.h"

int
host_local_toward(const struct zcc_addr *peer, uint16_t port,
    struct zcc_addr *local)
{
	/* connect() on UDP sends nothing: it only picks the route and source. */
	struct sockaddr_storage ss;
	socklen_t len = addr_to_sockaddr(peer, port, &ss);
	char buf[ZCC_ADDRSTRLEN];
	int s, ret = -1;

	s = socket(peer->af, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s == -1) {
		log_warn("socket (%s)", addr_family_name(peer));
		return -1;
	}
	if (connect(s, (struct sockaddr *)&ss, len) == -1) {
		log_warn("peer %s: no route", addr_format(peer, buf, sizeof(buf)));
		goto out;
	}
	len = sizeof(ss);
	if (getsockname(s, (struct sockaddr *)&ss, &len) == -1) {
		log_warn("getsockname");
		goto out;
	}
	if (addr_from_sockaddr(local, (struct sockaddr *)&ss) == -1) {
		log_warnx("getsockname: not an address of the peer's family");
		goto out;
	}
	ret = 0;
out:
	close(s);
	return ret;
}

int
host_device_of(const struct zcc_addr *local, char dev[IFNAMSIZ])
{
	struct ifaddrs *ifa, *i;
	struct zcc_addr a;
	char buf[ZCC_ADDRSTRLEN];
	int ret = -1;

	if (getifaddrs(&ifa) == -1) {
		log_warn("getifaddrs");
		return -1;
	}
	for (i = ifa; i; i = i->ifa_next) {
		if (i->ifa_addr == NULL ||
		    addr_from_sockaddr(&a, i->ifa_addr) == -1 ||
		    !addr_equal(&a, local))
			continue;
		snprintf(dev, IFNAMSIZ, "%s", i->ifa_name);
		ret = 0;
		break;
	}
	freeifaddrs(ifa);
	if (ret == -1)
		log_warnx("local: %s is not an address of this host",
		    addr_format(local, buf, sizeof(buf)));
	return ret;
}

/* One interface ioctl on dev; what names the request in a failure. */
static int
host_ifreq(const char *dev, unsigned long req, struct ifreq *ifr,
    const char *what)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = -1;

	if (s == -1) {
		log_warn("socket");
		return -1;
	}
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", dev);
	if (ioctl(s, req, ifr) == -1)
		log_warn("%s: %s", dev, what);
	else
		ret = 0;
	close(s);
	return ret;
}

int
host_mtu(const char *dev, int *mtu)
{
	struct ifreq ifr = { 0 };
	int ret = host_ifreq(dev, SIOCGIFMTU, &ifr, "mtu");

	if (ret == 0)
		*mtu = ifr.ifr_mtu;
	return ret;
}

int
host_link_type(const char *dev, int *type)
{
	struct ifreq ifr = { 0 };
	int ret = host_ifreq(dev, SIOCGIFHWADDR, &ifr, "link type");

	if (ret == 0)
		*type = ifr.ifr_hwaddr.sa_family;
	return ret;
}

/*
 * IPv6 raw sockets of protocol IPPROTO_RAW include the header on Linux
 * (inet6_create sets hdrincl for them); IPV6_HDRINCL (Linux 4.5) says so
 * explicitly where it exists.
 */
static int
raw_hdrincl(int fd, int af)
{
#ifdef IPV6_HDRINCL
	int on = 1;

	if (af == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_HDRINCL, &on, sizeof(on)) == -1) {
		log_warn("IPV6_HDRINCL");
		return -1;
	}
#else
	(void)fd, (void)af;
#endif
	return 0;
}

/*
 * What both sockets of sealed segments get: zcctund's mark (so that its
 * own packets bypass the zcc table and the backstop) and a send buffer
 * that holds a few batches.
 */
static int
mark_for_sending(int fd, uint32_t fwmark)
{
	int sndbuf = 4 << 20;

	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) == -1) {
		log_warn("SO_MARK");
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
	    sizeof(sndbuf)) == -1)
		log_warn("SO_SNDBUFFORCE (continuing with the default)");
	return 0;
}

int
host_raw_socket(int af, uint32_t fwmark)
{
	int fd = socket(af, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);

	if (fd == -1) {
		log_warn("raw socket");
		return -1;
	}
	if (raw_hdrincl(fd, af) == -1 || mark_for_sending(fd, fwmark) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * linux/icmp.h's raw-socket filter; that header cannot be included beside
 * net/if.h (it pulls in linux/if.h).
 */
#ifndef ICMP_FILTER
#define ICMP_FILTER 1
struct icmp_filter {
	uint32_t data;          /* a set bit drops that ICMP type */
};
#endif
#define ICMP4_DEST_UNREACH 3

/* Only "too big" reports: everything else stays in the kernel. */
static int
icmp_only_too_big(int fd, int af)
{
	if (af == AF_INET) {
		struct icmp_filter f = { .data = ~(1U << ICMP4_DEST_UNREACH) };

		return setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f));
	} else {
		struct icmp6_filter f;

		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_PACKET_TOO_BIG, &f);
		return setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f,
		    sizeof(f));
	}
}

int
host_icmp_socket(int af)
{
	int fd = socket(af, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    af == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);

	if (fd == -1) {
		log_warn("raw ICMP socket");
		return -1;
	}
	if (icmp_only_too_big(fd, af) == -1) {
		log_warn("ICMP filter");
		close(fd);
		return -1;
	}
	return fd;
}

int
host_link_socket(uint32_t fwmark)
{
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd == -1) {
		log_warn("packet socket");
		return -1;
	}
	if (mark_for_sending(fd, fwmark) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Room for bursts and runs of coalesced datagrams (the default 208 KB
 * overflows, counted as RcvbufErrors, while the engine seals a batch), and
 * UDP GRO: a run of the peer's datagrams comes up as one read, which the
 * engine cuts (engine.c). Both are best effort: without them it still
 * works, more slowly.
 */
static void
udp_offloads(int fd)
{
	int buf = 8 << 20, one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) == -1)
		log_warn("udp SO_RCVBUFFORCE (continuing with the default)");
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) == -1)
		log_warn("udp SO_SNDBUFFORCE (continuing with the default)");
	if (setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) == -1)
		log_debug("udp UDP_GRO: %s", strerror(errno));
}

int
host_udp_socket(const struct zcc_addr *local, const struct zcc_addr *peer,
    uint16_t port, int floating)
{
	struct sockaddr_storage me, them;
	socklen_t melen = addr_to_sockaddr(local, port, &me);
	socklen_t themlen = addr_to_sockaddr(peer, port, &them);
	int fd, one = 1;

	fd = socket(peer->af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("udp socket");
		return -1;
	}
	/*
	 * Links to different peers share the port: each socket is connected
	 * to its own peer, and the kernel hands a datagram to the socket
	 * whose connected address matches it before any other. A floating
	 * link takes what matches no connected socket, so it cannot share:
	 * which of two such sockets gets a datagram is the kernel's whim.
	 */
	if (!floating &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1) {
		log_warn("udp SO_REUSEADDR");
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&me, melen) == -1) {
		if (floating && errno == EADDRINUSE)
			log_warnx("udp port %u is in use (another link?): a link "
			    "with float needs a port of its own (port N at "
			    "both ends)", port);
		else
			log_warn("udp port %u", port);
		goto fail;
	}
	if (!floating &&
	    connect(fd, (struct sockaddr *)&them, themlen) == -1) {
		log_warn("udp connect to the peer");
		goto fail;
	}
	udp_offloads(fd);
	return fd;
fail:
	close(fd);
	return -1;
}

int
host_other_family(const char *name, int af)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res, *r;
	struct zcc_addr a;
	int other = 0;

	hints.ai_family = af == AF_INET6 ? AF_INET : AF_INET6;
	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return 0;
	for (r = res; r != NULL && !other; r = r->ai_next)
		other = addr_from_sockaddr(&a, r->ai_addr) == 0 &&
		    a.af == hints.ai_family && addr_is_unicast(&a) &&
		    !addr_is_v4mapped(&a) && !addr_is_linklocal(&a);
	freeaddrinfo(res);
	return other;
}

int
host_resolve(const char *name, int af, struct zcc_addr *out)
{
	struct addrinfo hints = { .ai_family = af, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res, *r;
	int rc = getaddrinfo(name, NULL, &hints, &res);

	if (rc != 0) {
		log_warnx("peer %s: cannot resolve it: %s", name,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	rc = -1;
	for (r = res; r != NULL && rc == -1; r = r->ai_next)
		if (addr_from_sockaddr(out, r->ai_addr) == 0 &&
		    addr_is_unicast(out) && !addr_is_v4mapped(out) &&
		    !addr_is_linklocal(out))
			rc = 0;
	freeaddrinfo(res);
	if (rc == -1)
		log_warnx("peer %s: no global unicast address of the link's "
		    "family", name);
	return rc;
}
