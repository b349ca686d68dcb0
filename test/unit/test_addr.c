/* SPDX-License-Identifier: ISC */
/*
 * addr.c: parsing and formatting both families, comparisons as the link's
 * tie-break and the data path use them, and the sockaddr forms.
 */
#include <arpa/inet.h>
#include <string.h>

#include "check.h"
#include "zcc/addr.h"

static void
check_parse_format(const char *in, int af, const char *out)
{
	struct zcc_addr a;
	char buf[ZCC_ADDRSTRLEN];

	CHECK_EQ(addr_parse(&a, in), 0);
	CHECK_EQ(a.af, af);
	CHECK_EQ(addr_len(&a), af == AF_INET ? 4 : 16);
	addr_format(&a, buf, sizeof(buf));
	if (strcmp(buf, out) != 0)
		fprintf(stderr, "format(%s) = %s, expected %s\n", in, buf, out),
		    check_failures++;
}

static void
test_parse(void)
{
	static const char *const bad[] = {
		"", "10.0.0", "10.0.0.256", "10.0.0.1 ", " 10.0.0.1", "010.0.0.1x",
		"::1::", "2001:db8::g", "2001:db8:::1", "fe80::1%eth0", "host",
		"1:2:3:4:5:6:7:8:9",
	};
	struct zcc_addr a, keep;
	char buf[ZCC_ADDRSTRLEN];

	check_parse_format("10.0.0.1", AF_INET, "10.0.0.1");
	check_parse_format("255.255.255.255", AF_INET, "255.255.255.255");
	check_parse_format("2001:DB8:0:0::1", AF_INET6, "2001:db8::1");
	check_parse_format("::", AF_INET6, "::");
	check_parse_format("::ffff:10.0.0.2", AF_INET6, "::ffff:10.0.0.2");
	check_parse_format("1:2:3:4:5:6:7:8", AF_INET6, "1:2:3:4:5:6:7:8");

	/* A failed parse leaves the address as it was. */
	CHECK_EQ(addr_parse(&keep, "10.9.8.7"), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = keep;
		if (addr_parse(&a, bad[i]) != -1)
			fprintf(stderr, "'%s' parsed\n", bad[i]), check_failures++;
		CHECK(addr_equal(&a, &keep));
	}
	/* The bytes are in network order, the rest zero. */
	CHECK_EQ(addr_parse(&a, "10.1.2.3"), 0);
	CHECK_MEM(a.a, "\x0a\x01\x02\x03\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	CHECK_EQ(addr_parse(&a, "2001:db8::102"), 0);
	CHECK_MEM(a.a, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\x01\x02", 16);

	memset(&a, 0, sizeof(a));
	CHECK_EQ(addr_len(&a), 0);
	CHECK(strcmp(addr_format(&a, buf, sizeof(buf)), "none") == 0);
	CHECK(strcmp(addr_family_name(&a), "none") == 0);
	CHECK(strcmp(addr_family_name(&keep), "IPv4") == 0);
	CHECK_EQ(addr_parse(&a, "::1"), 0);
	CHECK(strcmp(addr_family_name(&a), "IPv6") == 0);
}

static struct zcc_addr
A(const char *s)
{
	struct zcc_addr a;

	CHECK_EQ(addr_parse(&a, s), 0);
	return a;
}

static void
test_compare(void)
{
	struct zcc_addr a = A("10.0.0.1"), b = A("10.0.0.2");
	struct zcc_addr c = A("9.255.255.255"), d = A("::a00:1");
	struct zcc_addr e = A("2001:db8::1"), f = A("2001:db8::1:0");

	CHECK(addr_equal(&a, &a));
	CHECK(!addr_equal(&a, &b));
	/* Same bytes, other family: ::a00:1 ends in 10.0.0.1's bytes. */
	CHECK(!addr_equal(&a, &d));
	CHECK(addr_cmp(&a, &b) < 0);
	CHECK(addr_cmp(&b, &a) > 0);
	CHECK_EQ(addr_cmp(&a, &a), 0);
	CHECK(addr_cmp(&c, &a) < 0);          /* as 32-bit numbers */
	CHECK(addr_cmp(&e, &f) < 0);          /* as 128-bit numbers */
	CHECK(addr_cmp(&f, &e) > 0);

	CHECK(addr_is(&a, AF_INET, (const uint8_t *)"\x0a\0\0\x01"));
	CHECK(!addr_is(&a, AF_INET6, a.a));
	CHECK(addr_is(&e, AF_INET6, e.a));
	CHECK(!addr_is(&e, AF_INET6, f.a));
	{
		struct zcc_addr g;

		memset(&g, 0xa5, sizeof(g));
		addr_set(&g, AF_INET, a.a);
		CHECK(addr_equal(&g, &a));
		CHECK_EQ(memcmp(&g, &a, sizeof(g)), 0);   /* memcmp-able */
		addr_set(&g, AF_INET6, e.a);
		CHECK(addr_equal(&g, &e));
	}
}

static void
test_kinds(void)
{
	struct zcc_addr x;

	x = A("10.0.0.1");
	CHECK(addr_is_unicast(&x));
	x = A("0.0.0.0");
	CHECK(!addr_is_unicast(&x));
	x = A("224.0.0.1");
	CHECK(!addr_is_unicast(&x));
	x = A("239.255.255.255");
	CHECK(!addr_is_unicast(&x));
	x = A("240.0.0.1");                   /* reserved, not a group */
	CHECK(addr_is_unicast(&x));
	x = A("255.255.255.255");
	CHECK(!addr_is_unicast(&x));
	x = A("2001:db8::1");
	CHECK(addr_is_unicast(&x));
	CHECK(!addr_is_v4mapped(&x));
	CHECK(!addr_is_linklocal(&x));
	x = A("::");
	CHECK(!addr_is_unicast(&x));
	x = A("ff02::1");
	CHECK(!addr_is_unicast(&x));
	x = A("::ffff:10.0.0.1");
	CHECK(addr_is_v4mapped(&x));
	x = A("fe80::1");
	CHECK(addr_is_linklocal(&x));
	CHECK(addr_is_unicast(&x));
	x = A("febf::1");
	CHECK(addr_is_linklocal(&x));
	x = A("fec0::1");
	CHECK(!addr_is_linklocal(&x));
	x = A("10.0.0.1");
	CHECK(!addr_is_v4mapped(&x));
	CHECK(!addr_is_linklocal(&x));
}

static void
test_sockaddr(void)
{
	struct sockaddr_storage ss;
	struct zcc_addr a = A("10.0.0.2"), e = A("2001:db8::2"), back, none;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;

	CHECK_EQ(addr_to_sockaddr(&a, 7437, &ss), sizeof(struct sockaddr_in));
	CHECK_EQ(sin->sin_family, AF_INET);
	CHECK_EQ(ntohs(sin->sin_port), 7437);
	CHECK_MEM(&sin->sin_addr, a.a, 4);
	CHECK_EQ(addr_from_sockaddr(&back, (struct sockaddr *)&ss), 0);
	CHECK(addr_equal(&back, &a));

	CHECK_EQ(addr_to_sockaddr(&e, 1, &ss), sizeof(struct sockaddr_in6));
	CHECK_EQ(sin6->sin6_family, AF_INET6);
	CHECK_EQ(ntohs(sin6->sin6_port), 1);
	CHECK_MEM(&sin6->sin6_addr, e.a, 16);
	CHECK_EQ(sin6->sin6_scope_id, 0);
	CHECK_EQ(addr_from_sockaddr(&back, (struct sockaddr *)&ss), 0);
	CHECK(addr_equal(&back, &e));

	memset(&none, 0, sizeof(none));
	CHECK_EQ(addr_to_sockaddr(&none, 1, &ss), 0);
	ss.ss_family = AF_UNIX;
	CHECK_EQ(addr_from_sockaddr(&back, (struct sockaddr *)&ss), -1);
}

int
main(void)
{
	test_parse();
	test_compare();
	test_kinds();
	test_sockaddr();
	CHECK_DONE();
}
