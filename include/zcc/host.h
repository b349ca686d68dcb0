/* SPDX-License-Identifier: ISC */
/*
 * What zcctund learns from and opens on the host before anything is
 * installed: the local address and interface toward the peer, its MTU,
 * and the two sockets of the data path and the link. Addresses are of the
 * peer's family, IPv4 or IPv6.
 */
#ifndef ZCC_HOST_H
#define ZCC_HOST_H

#include <net/if.h>
#include <stdint.h>

#include "zcc/addr.h"

/*
 * The source address the kernel would use toward peer's UDP port. -1 when
 * there is no route.
 */
int host_local_toward(const struct zcc_addr *peer, uint16_t port,
    struct zcc_addr *local);

/*
 * The first unicast address of family af (AF_UNSPEC: any) that the
 * system's resolver (getaddrinfo: /etc/hosts, DNS) gives for name. -1
 * (logged) when there is none.
 */
int host_resolve(const char *name, int af, struct zcc_addr *out);

/*
 * Whether name also has a global unicast address of the other family than
 * af: flows to it are not the link's (a dual-stack peer needs two links).
 */
int host_other_family(const char *name, int af);

/* The interface holding local: where the peer's segments arrive. */
int host_device_of(const struct zcc_addr *local, char dev[IFNAMSIZ]);

/* dev's MTU. */
int host_mtu(const char *dev, int *mtu);

/* dev's link type (ARPHRD_*): Ethernet, none (a layer-3 device), ... */
int host_link_type(const char *dev, int *type);

/*
 * The raw socket that sends sealed segments of family af with their IP
 * header included (IPv4: IPPROTO_RAW, which implies IP_HDRINCL; IPv6:
 * IPPROTO_RAW, which on Linux implies IPV6_HDRINCL, also set explicitly),
 * marked with fwmark so they bypass the zcc table. The fd, or -1 (logged).
 */
int host_raw_socket(int af, uint32_t fwmark);

/*
 * An AF_PACKET socket (SOCK_DGRAM: the kernel adds the link header) that
 * sends sealed segments straight to the real interface, past IP output but
 * through its qdisc; protocol 0, so it receives nothing. Marked like the
 * raw socket. The fd, or -1 (logged).
 */
int host_link_socket(uint32_t fwmark);

/*
 * A raw ICMP (IPv6: ICMPv6) socket of family af that receives a copy of
 * every "fragmentation needed" ("packet too big") message sent to this
 * host; the kernel filters out other types. Non-blocking. The fd, or -1
 * (logged).
 */
int host_icmp_socket(int af);

/*
 * zcc's UDP port, bound to local and connected to the peer's same port:
 * only the peer's datagrams arrive; links to other peers share the port
 * (SO_REUSEADDR). floating: not connected, so datagrams from anywhere
 * arrive, and not shared: the port is this link's alone. Non-blocking.
 * The fd, or -1 (logged).
 */
int host_udp_socket(const struct zcc_addr *local, const struct zcc_addr *peer,
    uint16_t port, int floating);

#endif
