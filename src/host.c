/*
 * Host probes and sockets (include/zcc/host.h). Every failure is logged
 * here, once, in words that name what was asked of the host.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zcc/host.h"
#include "zcc/log.h"

int
host_local_toward(struct in_addr peer, uint16_t port, struct in_addr *local)
{
	/* connect() on UDP sends nothing: it only picks the route and source. */
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(port), .sin_addr = peer };
	socklen_t len = sizeof(sin);
	int s, ret = -1;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s == -1) {
		log_warn("socket");
		return -1;
	}
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		log_warn("peer %s: no route", inet_ntoa(peer));
		goto out;
	}
	if (getsockname(s, (struct sockaddr *)&sin, &len) == -1) {
		log_warn("getsockname");
		goto out;
	}
	*local = sin.sin_addr;
	ret = 0;
out:
	close(s);
	return ret;
}

int
host_device_of(struct in_addr local, char dev[IFNAMSIZ])
{
	struct ifaddrs *ifa, *i;
	int ret = -1;

	if (getifaddrs(&ifa) == -1) {
		log_warn("getifaddrs");
		return -1;
	}
	for (i = ifa; i; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		if (((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr !=
		    local.s_addr)
			continue;
		snprintf(dev, IFNAMSIZ, "%s", i->ifa_name);
		ret = 0;
		break;
	}
	freeifaddrs(ifa);
	if (ret == -1)
		log_warnx("local: %s is not an address of this host",
		    inet_ntoa(local));
	return ret;
}

int
host_mtu(const char *dev, int *mtu)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = -1;

	if (s == -1) {
		log_warn("socket");
		return -1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(s, SIOCGIFMTU, &ifr) == -1) {
		log_warn("%s: mtu", dev);
		goto out;
	}
	*mtu = ifr.ifr_mtu;
	ret = 0;
out:
	close(s);
	return ret;
}

int
host_raw_socket(uint32_t fwmark)
{
	int sndbuf = 4 << 20;
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);

	if (fd == -1) {
		log_warn("raw socket");
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) == -1) {
		log_warn("SO_MARK");
		close(fd);
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
	    sizeof(sndbuf)) == -1)
		log_warn("SO_SNDBUFFORCE (continuing with the default)");
	return fd;
}

int
host_udp_socket(struct in_addr local, struct in_addr peer, uint16_t port)
{
	struct sockaddr_in me = { .sin_family = AF_INET,
	    .sin_port = htons(port), .sin_addr = local };
	struct sockaddr_in them = me;
	int fd;

	them.sin_addr = peer;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("udp socket");
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) == -1) {
		log_warn("udp port %u", port);
		goto fail;
	}
	if (connect(fd, (struct sockaddr *)&them, sizeof(them)) == -1) {
		log_warn("udp connect to the peer");
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}
