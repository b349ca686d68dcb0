/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for privsep_parse: the parent reads whatever a
 * (possibly compromised) engine sends, and the engine reads the parent's.
 * Any bytes, read in both directions; what is accepted must be within the
 * bounds the options allow.
 */
#include <stdlib.h>
#include <string.h>

#include "zcc/privsep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *msg = malloc(size ? size : 1);
	struct privsep_msg m;
	struct privsep_keys k;

	if (msg == NULL)
		return 0;
	memcpy(msg, data, size);
	if (privsep_parse(msg, size, 1, &m) == 0) {
		if (m.type < PRIV_READY || m.type > PRIV_MTU ||
		    m.type == PRIV_CONFIG || m.config.nports)
			abort();
		if (m.mtu && (m.type != PRIV_MTU ||
		    m.mtu < PRIVSEP_MTU_MIN || m.mtu > 65535))
			abort();
	}
	if (privsep_parse(msg, size, 0, &m) == 0) {
		if (m.type != PRIV_CONFIG || m.mtu ||
		    m.config.nports > ZCC_MAX_PORTS)
			abort();
		for (size_t i = 0; i < m.config.nports; i++)
			if (m.config.ports[i] == 0)
				abort();
	}
	/* The parent's keys message, as the engine checks it. */
	if (privsep_parse_keys(msg, size, &k) == 0) {
		if (k.type != PRIV_KEYS || k.nsets < 1 || k.nsets > 2 ||
		    (k.nsets == 1) != (k.prev_seconds == 0) ||
		    k.prev_seconds > 604800 || k.sets[0].flags == 0)
			abort();
	}
	free(msg);
	return 0;
}
