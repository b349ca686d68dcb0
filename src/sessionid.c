/* SPDX-License-Identifier: ISC */
/* Session IDs (include/zcc/sessionid.h, docs/PROTOCOL.md "Session IDs"). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "zcc/sessionid.h"

static const char label[] = "zcc session id v1";

struct sid_entry {
	int used, have_syn_ack, we_are_client;
	uint16_t lport, rport;
	uint32_t client_isn, server_isn;
	uint8_t binding[SID_BINDING_LEN];
	uint64_t opened;                /* when its SYN was noted */
};

struct sid_table {
	struct sid_entry e[SID_ENTRIES];
};

static void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

void
sid_derive(uint8_t out[SID_LEN], const uint8_t binding[SID_BINDING_LEN],
    const struct sid_conn *c)
{
	crypto_auth_hmacsha256_state s;
	uint8_t conn[12];

	put_be16(conn, c->client_port);
	put_be16(conn + 2, c->server_port);
	put_be32(conn + 4, c->client_isn);
	put_be32(conn + 8, c->server_isn);
	crypto_auth_hmacsha256_init(&s, binding, SID_BINDING_LEN);
	crypto_auth_hmacsha256_update(&s, (const uint8_t *)label,
	    sizeof(label) - 1);
	crypto_auth_hmacsha256_update(&s, conn, sizeof(conn));
	crypto_auth_hmacsha256_final(&s, out);
	sodium_memzero(&s, sizeof(s));
}

struct sid_table *
sid_table_new(void)
{
	return calloc(1, sizeof(struct sid_table));
}

void
sid_table_free(struct sid_table *t)
{
	free(t);
}

/* The entry of lport-rport, or SID_ENTRIES when there is none. */
static size_t
find(const struct sid_table *t, uint16_t lport, uint16_t rport)
{
	size_t i;

	for (i = 0; i < SID_ENTRIES; i++) {
		const struct sid_entry *e = &t->e[i];

		if (e->used && e->lport == lport && e->rport == rport)
			break;
	}
	return i;
}

/* A free entry, else the one opened longest ago. */
static struct sid_entry *
make_room(struct sid_table *t)
{
	struct sid_entry *oldest = &t->e[0];

	for (size_t i = 0; i < SID_ENTRIES; i++) {
		if (!t->e[i].used)
			return &t->e[i];
		if (t->e[i].opened < oldest->opened)
			oldest = &t->e[i];
	}
	return oldest;
}

void
sid_note(struct sid_table *t, uint16_t lport, uint16_t rport, int syn_ack,
    int outgoing, uint32_t seq, const uint8_t binding[SID_BINDING_LEN],
    uint64_t now)
{
	size_t i = find(t, lport, rport);
	struct sid_entry *e = i < SID_ENTRIES ? &t->e[i] : NULL;

	if (!syn_ack) {
		/* The client's SYN: its session binds the connection. */
		if (e == NULL)
			e = make_room(t);
		memset(e, 0, sizeof(*e));
		e->used = 1;
		e->lport = lport;
		e->rport = rport;
		e->we_are_client = outgoing;
		e->client_isn = seq;
		memcpy(e->binding, binding, SID_BINDING_LEN);
		e->opened = now;
		return;
	}
	/* The server's SYN-ACK answers it: from the other end than the SYN. */
	if (e == NULL || e->we_are_client == outgoing)
		return;
	e->server_isn = seq;
	e->have_syn_ack = 1;
}

int
sid_lookup(const struct sid_table *t, uint16_t lport, uint16_t rport,
    struct sid_result *r)
{
	size_t i = find(t, lport, rport);
	const struct sid_entry *e = &t->e[i];

	if (i == SID_ENTRIES)
		return -1;
	if (!e->have_syn_ack)
		return -2;
	memset(r, 0, sizeof(*r));
	r->we_are_client = e->we_are_client;
	r->conn.client_port = e->we_are_client ? lport : rport;
	r->conn.server_port = e->we_are_client ? rport : lport;
	r->conn.client_isn = e->client_isn;
	r->conn.server_isn = e->server_isn;
	sid_derive(r->id, e->binding, &r->conn);
	return 0;
}
