/*
 * What zcctund learns from and opens on the host before anything is
 * installed: the local address and interface toward the peer, its MTU,
 * and the two sockets of the data path and the link.
 */
#ifndef ZCC_HOST_H
#define ZCC_HOST_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>

/*
 * The source address the kernel would use toward peer's UDP port. -1 when
 * there is no route.
 */
int host_local_toward(struct in_addr peer, uint16_t port, struct in_addr *local);

/* The interface holding local: where the peer's segments arrive. */
int host_device_of(struct in_addr local, char dev[IFNAMSIZ]);

/* dev's MTU. */
int host_mtu(const char *dev, int *mtu);

/*
 * The raw socket (IPPROTO_RAW) that sends sealed segments, marked with
 * fwmark so they bypass the zcc table. The fd, or -1 (logged).
 */
int host_raw_socket(uint32_t fwmark);

/*
 * zcc's UDP port, bound to local and connected to the peer's same port:
 * only the peer's datagrams arrive. Non-blocking. The fd, or -1 (logged).
 */
int host_udp_socket(struct in_addr local, struct in_addr peer, uint16_t port);

#endif
