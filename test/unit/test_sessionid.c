/* SPDX-License-Identifier: ISC */
/*
 * Session IDs: the derivation against vectors computed with Python's hmac
 * (docs/PROTOCOL.md, "Session IDs", lists the same), and the table: what
 * a SYN and a SYN-ACK make of a connection, from either end.
 */
#include <sodium.h>

#include "check.h"
#include "zcc/sessionid.h"

static void
unhex(const char *hex, uint8_t *out, size_t len)
{
	CHECK(sodium_hex2bin(out, len, hex, strlen(hex), NULL, NULL, NULL) == 0);
}

static void
check_vectors(void)
{
	static const struct {
		uint8_t fill;           /* 0: binding 00 01 .. 1f, else fill */
		struct sid_conn c;
		const char *hex;
	} v[] = {
		{ 0, { 40000, 5001, 0x01020304, 0xa0b0c0d0 },
		  "57e25427eb19f68a3a3545c9240a7fdf0df9e305d619b63350e3b735bb7545cf" },
		{ 0, { 5001, 40000, 0x01020304, 0xa0b0c0d0 },
		  "1064a34a6dcfbf8237254c806b1455f5f8dfbc8ee9f26311ac1cb604be8ab53a" },
		{ 0xff, { 40000, 5001, 0x01020304, 0xa0b0c0d0 },
		  "8375cee2df11140a4bf808f046c5b4e72a27a0eba0d141b7f21100bb81885df3" },
		{ 0, { 40000, 5001, 0x01020305, 0xa0b0c0d0 },
		  "eaf8591c74706de07004e54774517e04a77c1738faaab894d485ca22f1203944" },
	};
	uint8_t binding[SID_BINDING_LEN], want[SID_LEN], got[SID_LEN];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		for (size_t j = 0; j < sizeof(binding); j++)
			binding[j] = v[i].fill ? v[i].fill : (uint8_t)j;
		unhex(v[i].hex, want, sizeof(want));
		sid_derive(got, binding, &v[i].c);
		CHECK_MEM(got, want, SID_LEN);
	}
}

/* One connection seen from both ends: the same ID, opposite roles. */
static void
check_both_ends(void)
{
	struct sid_table *a = sid_table_new(), *b = sid_table_new();
	struct sid_result ra, rb;
	struct sid_conn c = { 40000, 5001, 111, 222 };
	uint8_t binding[SID_BINDING_LEN], other[SID_BINDING_LEN], want[SID_LEN];

	CHECK(a != NULL && b != NULL);
	memset(binding, 7, sizeof(binding));
	memset(other, 8, sizeof(other));
	CHECK_EQ(sid_lookup(a, 40000, 5001, &ra), -1);
	/* A's SYN, out at A and in at B; B's SYN-ACK under a newer session. */
	sid_note(a, 40000, 5001, 0, 1, 111, binding, 1);
	sid_note(b, 5001, 40000, 0, 0, 111, binding, 1);
	CHECK_EQ(sid_lookup(a, 40000, 5001, &ra), -2);
	sid_note(b, 5001, 40000, 1, 1, 222, other, 1);
	sid_note(a, 40000, 5001, 1, 0, 222, other, 1);
	CHECK_EQ(sid_lookup(a, 40000, 5001, &ra), 0);
	CHECK_EQ(sid_lookup(b, 5001, 40000, &rb), 0);
	sid_derive(want, binding, &c);  /* the SYN's session binds it */
	CHECK_MEM(ra.id, want, SID_LEN);
	CHECK_MEM(rb.id, want, SID_LEN);
	CHECK_EQ(ra.we_are_client, 1);
	CHECK_EQ(rb.we_are_client, 0);
	CHECK_EQ(rb.conn.client_port, 40000);
	CHECK_EQ(rb.conn.server_isn, 222);

	/* A SYN-ACK from the SYN's own side is not the answer. */
	sid_note(a, 40000, 5001, 1, 1, 999, binding, 2);
	CHECK_EQ(sid_lookup(a, 40000, 5001, &ra), 0);
	CHECK_EQ(ra.conn.server_isn, 222);
	/* A new SYN on the same ports: a new connection, unanswered yet. */
	sid_note(a, 40000, 5001, 0, 1, 333, binding, 3);
	CHECK_EQ(sid_lookup(a, 40000, 5001, &ra), -2);
	/* A SYN-ACK with no SYN seen makes nothing. */
	sid_note(a, 40001, 5001, 1, 0, 5, binding, 3);
	CHECK_EQ(sid_lookup(a, 40001, 5001, &ra), -1);
	sid_table_free(a);
	sid_table_free(b);
}

/* Full: the connection opened longest ago makes room. */
static void
check_eviction(void)
{
	struct sid_table *t = sid_table_new();
	struct sid_result r;
	uint8_t binding[SID_BINDING_LEN] = { 0 };

	for (uint32_t i = 0; i < SID_ENTRIES; i++) {
		sid_note(t, (uint16_t)(1000 + i), 80, 0, 1, i, binding, 10 + i);
		sid_note(t, (uint16_t)(1000 + i), 80, 1, 0, i, binding, 10 + i);
	}
	CHECK_EQ(sid_lookup(t, 1000, 80, &r), 0);
	sid_note(t, 9, 80, 0, 1, 1, binding, 5000);
	CHECK_EQ(sid_lookup(t, 1000, 80, &r), -1);      /* the oldest went */
	CHECK_EQ(sid_lookup(t, 1001, 80, &r), 0);
	CHECK_EQ(sid_lookup(t, 9, 80, &r), -2);
	sid_table_free(t);
}

int
main(void)
{
	CHECK(sodium_init() >= 0);
	check_vectors();
	check_both_ends();
	check_eviction();
	CHECK_DONE();
}
