/* SPDX-License-Identifier: ISC */
/* The zcc0 TUN device. */
#ifndef ZCC_TUN_H
#define ZCC_TUN_H

/*
 * Create TUN device ifname (IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, with
 * checksum, TSO4 and TSO6 offload when the kernel has them), with IPv6
 * enabled but no address of its own (no link-local address, router
 * advertisements ignored), set its MTU, bring it up. Every read and write
 * on the fd starts with a struct virtio_net_hdr (offload.h). Refuses a
 * name that already exists, and a host without IPv6 when need_ipv6.
 * Returns the fd or -1 (logged).
 */
int tun_open(const char *ifname, int mtu, int need_ipv6);

/* True when a network interface called ifname exists. */
int tun_exists(const char *ifname);

#endif
