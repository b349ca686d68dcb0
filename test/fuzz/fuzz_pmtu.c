/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for pmtu_parse: ICMP "too big" messages come from any
 * host on the path. The first byte picks the family; what parses must
 * report a non-zero MTU and an option state of -1, 0 or 1.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "zcc/pmtu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pmtu_report r;
	uint8_t *msg;
	int af, rc;

	if (size < 1)
		return 0;
	af = data[0] & 1 ? AF_INET6 : AF_INET;
	/* An exact-size copy: ASan sees any read past the message. */
	msg = malloc(size - 1 ? size - 1 : 1);
	if (msg == NULL)
		return 0;
	memcpy(msg, data + 1, size - 1);
	rc = pmtu_parse(af, msg, size - 1, &r);
	if (rc == 0 && (r.mtu == 0 || r.option < -1 || r.option > 1))
		abort();
	if (rc != 0 && rc != PMTU_NOT_TOO_BIG && rc != PMTU_MALFORMED)
		abort();
	free(msg);
	return 0;
}
