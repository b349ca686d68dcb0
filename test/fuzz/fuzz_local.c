/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the two parsers of local input: a link's state
 * file (steer_state_parse; /run/zcc is root's, but a damaged file must be
 * refused, never half-read) and a control client's request bytes
 * (control_parse_request; only root may connect, the parser is bounded
 * all the same). The first byte chooses: bit 0 clear, the rest is a state
 * file; set, a request, with bit 1 saying the client closed after it.
 */
#include <stdlib.h>
#include <string.h>

#include "zcc/control.h"
#include "zcc/options.h"
#include "zcc/steer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
state_file(const char *text, size_t n)
{
	struct steer s;

	if (steer_state_parse(text, n, "fuzz", &s) == -1)
		return;
	/* What was accepted is a link a takeover can use. */
	if (memchr(s.ifname, '\0', sizeof(s.ifname)) == NULL ||
	    !options_valid_ifname(s.ifname) || s.peer.af == 0 ||
	    s.nports > ZCC_MAX_PORTS * 2 ||
	    memchr(s.realdev, '\0', sizeof(s.realdev)) == NULL)
		abort();
}

static void
request(const char *buf, size_t n, int ended)
{
	enum control_request r = control_parse_request(buf, n, ended);

	if (r == CONTROL_REQ_PARTIAL && (ended || n >= CONTROL_REQ_MAX ||
	    memchr(buf, '\n', n) != NULL))
		abort();
	if (r > CONTROL_REQ_SESSION_ID)         /* the last request there is */
		abort();
	if (r == CONTROL_REQ_SESSION_ID) {
		struct control_sid_req q;
		const char *nl = memchr(buf, '\n', n);

		if (nl == NULL || control_parse_sid(buf, (size_t)(nl - buf), &q) != 0 ||
		    q.lport == 0 || q.rport == 0 || q.peer.af == 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		request((const char *)data + 1, size - 1, data[0] & 2);
	else
		state_file((const char *)data + 1, size - 1);
	return 0;
}
