/* SPDX-License-Identifier: ISC */
/*
 * IP addresses of either family, as the options, the handshake's prologue,
 * steering and the data path hold them: the family and the bytes in
 * network order, so that packets are compared and prologues built without
 * conversions. The two ends of a link are always of one family.
 */
#ifndef ZCC_ADDR_H
#define ZCC_ADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Room for the text form of either family and its NUL. */
#define ZCC_ADDRSTRLEN INET6_ADDRSTRLEN
#define ZCC_ADDR_MAX 16

struct zcc_addr {
	int af;                         /* AF_INET, AF_INET6; 0: none */
	uint8_t a[ZCC_ADDR_MAX];        /* network order; IPv4 in a[0..4) */
};

/* Parse dotted-quad IPv4 or RFC 4291 text IPv6 (inet_pton). 0 or -1. */
int addr_parse(struct zcc_addr *a, const char *s);

/* The text form into buf (ZCC_ADDRSTRLEN bytes suffice); returns buf. */
const char *addr_format(const struct zcc_addr *a, char *buf, size_t len);

/* 4 for IPv4, 16 for IPv6, 0 for none. */
size_t addr_len(const struct zcc_addr *a);

/* "IPv4", "IPv6" or "none": for messages. */
const char *addr_family_name(const struct zcc_addr *a);

/* Same family and same bytes. */
int addr_equal(const struct zcc_addr *a, const struct zcc_addr *b);

/*
 * Order of two addresses of one family as unsigned big-endian numbers
 * (for IPv4 the 32-bit number): <0, 0 or >0.
 */
int addr_cmp(const struct zcc_addr *a, const struct zcc_addr *b);

/* True when a is of family af and its bytes are those at b (a packet's). */
int addr_is(const struct zcc_addr *a, int af, const uint8_t *b);

/* a from af and addr_len(af) bytes in network order. */
void addr_set(struct zcc_addr *a, int af, const uint8_t *b);

/* True unless a is unspecified, multicast or the IPv4 broadcast. */
int addr_is_unicast(const struct zcc_addr *a);

/* True for an IPv4-mapped IPv6 address (::ffff:0:0/96). */
int addr_is_v4mapped(const struct zcc_addr *a);

/* True for IPv6 link-local (fe80::/10): it needs a zone to mean anything. */
int addr_is_linklocal(const struct zcc_addr *a);

/* a and port as a sockaddr_in or sockaddr_in6 in ss; its length (0: none). */
socklen_t addr_to_sockaddr(const struct zcc_addr *a, uint16_t port,
    struct sockaddr_storage *ss);

/* The address of a sockaddr_in or sockaddr_in6. -1 for another family. */
int addr_from_sockaddr(struct zcc_addr *a, const struct sockaddr *sa);

/* The port of a sockaddr_in or sockaddr_in6 (host order); 0 for others. */
uint16_t addr_sockaddr_port(const struct sockaddr *sa);

#endif
