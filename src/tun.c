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

/*
 * No IPv6 on zcc0 until in-place IPv6 exists: the kernel would otherwise
 * give it a link-local address and send router solicitations into it.
 * The setting is the device's own and goes with it.
 */
static void
tun_disable_ipv6(const char *ifname)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
	    ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd == -1)
		return;         /* no IPv6 on this host: nothing to disable */
	if (write(fd, "1\n", 2) != 2)
		log_warn("%s", path);
	close(fd);
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
	    ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) == -1)
		log_warn("%s: no segmentation offload (continuing, slower)",
		    ifname);
}

int
tun_open(const char *ifname, int mtu)
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
	tun_disable_ipv6(ifname);
	if (tun_set_mtu_up(ifname, mtu) == -1)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}
