/* SPDX-License-Identifier: ISC */
/* The zcc0 TUN device: created here, gone when the fd closes. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zcc/log.h"
#include "zcc/tun.h"

int
tun_exists(const char *ifname)
{
	return if_nametoindex(ifname) != 0;
}

static int
tun_set_mtu_up(const char *ifname, int mtu)
{
	struct ifreq ifr;
	int s, ret = -1;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s == -1) {
		log_warn("socket");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	ifr.ifr_mtu = mtu;
	if (ioctl(s, SIOCSIFMTU, &ifr) == -1) {
		log_warn("%s: cannot set mtu %d", ifname, mtu);
		goto out;
	}
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1) {
		log_warn("%s: cannot read flags", ifname);
		goto out;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) == -1) {
		log_warn("%s: cannot bring up", ifname);
		goto out;
	}
	ret = 0;
out:
	close(s);
	return ret;
}

static int
write_conf6(const char *ifname, const char *name, const char *value)
{
	char path[128];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", ifname,
	    name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		return 1;
	if (fd == -1) {
		log_warn("%s", path);
		return -1;
	}
	if (write(fd, value, strlen(value)) != (ssize_t)strlen(value)) {
		log_warn("%s", path);
		ret = -1;
	}
	close(fd);
	return ret;
}

/*
 * IPv6 on zcc0, for in-place IPv6 and IPv6 routed into zcc0, but no
 * address of its own: addr_gen_mode 1 (none) before the device goes up,
 * so it gets no link-local address and, without one, sends no router
 * solicitations into the tunnel; accept_ra 0 ignores router
 * advertisements. (With IPv6 forwarding on, the kernel still sends MLD
 * reports from :: into zcc0; the data path does not carry them.)
 * disable_ipv6 0 last, since a namespace's defaults may disable IPv6 on
 * new devices. Settings of the device's own, gone with it. A host without
 * IPv6 (no /proc/sys/net/ipv6) is fine for an IPv4 link.
 */
static int
tun_enable_ipv6(const char *ifname)
{
	static const char *const conf[][2] = {
		{ "addr_gen_mode", "1\n" },
		{ "accept_ra", "0\n" },
		{ "disable_ipv6", "0\n" },
	};
	int r;

	for (size_t i = 0; i < sizeof(conf) / sizeof(conf[0]); i++) {
		r = write_conf6(ifname, conf[i][0], conf[i][1]);
		if (r == 1 && i == 0)
			return 1;       /* no IPv6 here */
		if (r == 1)
			log_warnx("%s: no net.ipv6.conf.%s.%s", ifname, ifname,
			    conf[i][0]);
		if (r != 0)
			return -1;
	}
	return 0;
}

/*
 * Checksum and TCP segmentation offload: our stack hands zcc0 super-
 * segments with partial checksums, which the data path cuts and seals
 * (offload.h). Without them zcc0 still works, one segment per read.
 */
static void
tun_set_offloads(int fd, const char *ifname)
{
	int hdrsz = sizeof(struct virtio_net_hdr);

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdrsz) == -1 ||
	    ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) == -1)
		log_warn("%s: no segmentation offload (continuing, slower)",
		    ifname);
}

int
tun_open(const char *ifname, int mtu, int need_ipv6)
{
	struct ifreq ifr;
	int fd;

	/* TUNSETIFF would attach to an existing persistent device: refuse. */
	if (tun_exists(ifname)) {
		log_warnx("%s: an interface of that name already exists", ifname);
		return -1;
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1) {
		log_warn("/dev/net/tun");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) == -1) {
		log_warn("%s: cannot create TUN device", ifname);
		goto fail;
	}
	tun_set_offloads(fd, ifname);
	switch (tun_enable_ipv6(ifname)) {
	case 1:
		if (!need_ipv6)
			break;
		log_warnx("%s: this host has no IPv6", ifname);
		goto fail;
	case -1:
		goto fail;
	}
	if (tun_set_mtu_up(ifname, mtu) == -1)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}
