/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the parsers of the kernel's rtnetlink replies
 * (nexthop.h). The kernel is trusted, but a parser that reads past a
 * message it was handed would be a bug all the same: any bytes, read as a
 * route and as a neighbour reply of either family. What a parser accepts
 * must be self-consistent: an interface index > 0, a gateway of the family
 * asked for or none, and a hardware address only when it says it has one.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "zcc/nexthop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes: ASan sees any read past the end. */
	uint8_t *msg = malloc(size ? size : 1);
	uint8_t mac[NEXTHOP_ALEN];
	struct zcc_addr gw;
	int ifindex, nud, have_mac;
	static const int afs[] = { AF_INET, AF_INET6 };

	if (msg == NULL)
		return 0;
	memcpy(msg, data, size);
	for (size_t i = 0; i < 2; i++) {
		if (nexthop_parse_route(msg, size, afs[i], &ifindex, &gw) == 0 &&
		    (ifindex <= 0 || (gw.af != 0 && gw.af != afs[i])))
			abort();
	}
	if (nexthop_parse_neigh(msg, size, &nud, mac, &have_mac) == 0 &&
	    nexthop_state_of(nud, have_mac) != NEXTHOP_NONE && !have_mac)
		abort();
	free(msg);
	return 0;
}
