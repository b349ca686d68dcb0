/* SPDX-License-Identifier: ISC */
/*
 * IP addresses of either family (include/zcc/addr.h). Plain data: the
 * family decides how many of the bytes count.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "zcc/addr.h"

int
addr_parse(struct zcc_addr *a, const char *s)
{
	struct zcc_addr n = { 0 };

	if (inet_pton(AF_INET, s, n.a) == 1)
		n.af = AF_INET;
	else if (inet_pton(AF_INET6, s, n.a) == 1)
		n.af = AF_INET6;
	else
		return -1;
	*a = n;
	return 0;
}

const char *
addr_format(const struct zcc_addr *a, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	if ((a->af != AF_INET && a->af != AF_INET6) ||
	    inet_ntop(a->af, a->a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "%s", "none");
	return buf;
}

size_t
addr_len(const struct zcc_addr *a)
{
	return a->af == AF_INET ? 4 : a->af == AF_INET6 ? 16 : 0;
}

const char *
addr_family_name(const struct zcc_addr *a)
{
	return a->af == AF_INET ? "IPv4" : a->af == AF_INET6 ? "IPv6" : "none";
}

int
addr_equal(const struct zcc_addr *a, const struct zcc_addr *b)
{
	return a->af == b->af && memcmp(a->a, b->a, addr_len(a)) == 0;
}

int
addr_cmp(const struct zcc_addr *a, const struct zcc_addr *b)
{
	if (a->af != b->af)
		return a->af < b->af ? -1 : 1;
	/* Network order is big-endian: bytes compare as the number does. */
	return memcmp(a->a, b->a, addr_len(a));
}

int
addr_is(const struct zcc_addr *a, int af, const uint8_t *b)
{
	return a->af == af && memcmp(a->a, b, addr_len(a)) == 0;
}

void
addr_set(struct zcc_addr *a, int af, const uint8_t *b)
{
	memset(a, 0, sizeof(*a));
	a->af = af;
	memcpy(a->a, b, addr_len(a));
}

int
addr_is_unicast(const struct zcc_addr *a)
{
	static const uint8_t zero[ZCC_ADDR_MAX];

	if (addr_len(a) == 0 || memcmp(a->a, zero, addr_len(a)) == 0)
		return 0;
	if (a->af == AF_INET)
		return (a->a[0] & 0xf0) != 0xe0 &&    /* 224.0.0.0/4 */
		    memcmp(a->a, "\xff\xff\xff\xff", 4) != 0;
	return a->a[0] != 0xff;
}

int
addr_is_v4mapped(const struct zcc_addr *a)
{
	return a->af == AF_INET6 &&
	    memcmp(a->a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;
}

int
addr_is_linklocal(const struct zcc_addr *a)
{
	return a->af == AF_INET6 && a->a[0] == 0xfe && (a->a[1] & 0xc0) == 0x80;
}

socklen_t
addr_to_sockaddr(const struct zcc_addr *a, uint16_t port,
    struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->af == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->a, 4);
		return sizeof(*sin);
	}
	if (a->af == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a->a, 16);
		return sizeof(*sin6);
	}
	return 0;
}

int
addr_from_sockaddr(struct zcc_addr *a, const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		addr_set(a, AF_INET, (const uint8_t *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr);
	else if (sa->sa_family == AF_INET6)
		addr_set(a, AF_INET6, (const uint8_t *)
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
	else
		return -1;
	return 0;
}

uint16_t
addr_sockaddr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)sa)->
		    sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_port);
	return 0;
}
