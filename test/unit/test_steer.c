/* SPDX-License-Identifier: ISC */
/*
 * The state file steering writes for each link and reads back at takeover
 * and cleanup: what it writes parses to the same link, and a damaged file
 * is refused with a line, never half-read.
 */
#include <string.h>

#include "check.h"
#include "zcc/steer.h"

#define PARSE(text, s) steer_state_parse(text, sizeof(text) - 1, "t", s)

static void
check_whole(void)
{
	static const char ok[] = "pid=4242\nifname=zcc1\nrealdev=eth0\n"
	    "local=10.0.0.1\npeer=10.0.0.2\nports=80,443\nfwmark=31332\n"
	    "table=31333\npriority=31328\ntc_filter=1\nlink_hlen=14\n"
	    "peer_route=1\nnetns_cookie=18446744073709551615\n";
	struct steer s;

	CHECK_EQ(PARSE(ok, &s), 0);
	CHECK_EQ(s.pid, 4242);
	CHECK(strcmp(s.ifname, "zcc1") == 0);
	CHECK(strcmp(s.realdev, "eth0") == 0);
	CHECK_EQ(s.nports, 2);
	CHECK_EQ(s.ports[1], 443);
	CHECK_EQ(s.fwmark, 31332);
	CHECK_EQ(s.table, 31333);
	CHECK_EQ(s.link_hlen, 14);
	CHECK_EQ(s.peer_route, 1);
	CHECK(s.netns_cookie == UINT64_MAX);
	CHECK_EQ(s.peer.af, AF_INET);
	/* No trailing newline, no local (the kernel chose it): still whole. */
	CHECK_EQ(PARSE("ifname=zcc0\npeer=2001:db8::2\nlocal=", &s), 0);
	CHECK_EQ(s.peer.af, AF_INET6);
	CHECK_EQ(s.local.af, 0);
	CHECK_EQ(s.link_hlen, LINK_HLEN_UNKNOWN);
	CHECK(s.netns_cookie == 0);     /* written before cookies: unknown */
}

static void
check_refused(void)
{
	char big[STATE_LINE_MAX + 32];
	struct steer s;

	CHECK_EQ(PARSE("", &s), -1);                    /* no ifname, no peer */
	CHECK_EQ(PARSE("ifname=zcc0\n", &s), -1);
	CHECK_EQ(PARSE("ifname=zcc0\npeer=10.0.0.300\n", &s), -1);
	CHECK_EQ(PARSE("ifname=zcc0\npeer=10.0.0.2\nfwmark=x\n", &s), -1);
	CHECK_EQ(PARSE("ifname=zcc0\npeer=10.0.0.2\nports=80,,81\n", &s), -1);
	CHECK_EQ(PARSE("ifname=zcc0\npeer=10.0.0.2\nports=0\n", &s), -1);
	CHECK_EQ(PARSE("ifname=zcc0\npeer=10.0.0.2\nports=65536\n", &s), -1);
	CHECK_EQ(PARSE("ifname=zcc0\npeer=10.0.0.2\nnoequals\n", &s), -1);
	CHECK_EQ(PARSE("ifname=zcc0\npeer=10.0.0.2\nmystery=1\n", &s), -1);
	CHECK_EQ(PARSE("ifname=zcc0\npeer=10.0.0.2\nnetns_cookie=x\n", &s), -1);
	CHECK_EQ(PARSE("ifname=../x\npeer=10.0.0.2\n", &s), -1);
	CHECK_EQ(PARSE("ifname=zcc0\npeer=10.0.0.2\0\n", &s), -1);
	/* A line longer than a state file's: refused, not cut in two. */
	memset(big, '1', sizeof(big));
	memcpy(big, "pid=", 4);
	CHECK_EQ(steer_state_parse(big, sizeof(big), "t", &s), -1);
}

int
main(void)
{
	check_whole();
	check_refused();
	CHECK_DONE();
}
