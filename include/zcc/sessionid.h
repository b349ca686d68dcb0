/* SPDX-License-Identifier: ISC */
/*
 * Session IDs, tcpcrypt's idea (RFC 8548, "session ID"): for every
 * connection that zcc carries, both ends can get the same 32-byte value,
 * different for every connection and equal at the two ends only when they
 * share one zcc session, that is, when no one sits between them. An
 * application signs it, or mixes it into a password check, to bind its own
 * authentication to the encrypted connection (docs/PROTOCOL.md, "Session
 * IDs"; docs/session-id-example.py).
 *
 *   ID = HMAC-SHA256(binding, "zcc session id v1" || client port ||
 *        server port || client ISN || server ISN)     (big-endian integers)
 *
 * binding is the Noise handshake hash of the zcc session under which the
 * connection's SYN travelled: the same at both ends, unique per session,
 * and covering both ends' keys and views of the addresses. The ID of a
 * connection does not change when the link rekeys.
 */
#ifndef ZCC_SESSIONID_H
#define ZCC_SESSIONID_H

#include <stddef.h>
#include <stdint.h>

#define SID_LEN 32
#define SID_BINDING_LEN 32

/* What the ID is derived from, besides the binding. */
struct sid_conn {
	uint16_t client_port, server_port;
	uint32_t client_isn, server_isn;
};

void sid_derive(uint8_t out[SID_LEN], const uint8_t binding[SID_BINDING_LEN],
    const struct sid_conn *c);

/*
 * The connections whose opening the data path saw, by our port and the
 * peer's: the newest SID_ENTRIES, the least recently opened make room.
 */
#define SID_ENTRIES 1024
struct sid_table;

struct sid_table *sid_table_new(void);
void sid_table_free(struct sid_table *t);

/*
 * A SYN (syn_ack 0) or SYN-ACK of the connection lport-rport, sent by us
 * (outgoing) or received, with its sequence number, under the session
 * whose handshake hash is binding. A SYN starts the entry again (a new
 * connection on the same ports); a SYN-ACK completes it.
 */
void sid_note(struct sid_table *t, uint16_t lport, uint16_t rport,
    int syn_ack, int outgoing, uint32_t seq,
    const uint8_t binding[SID_BINDING_LEN], uint64_t now);

/* What sid_lookup found. */
struct sid_result {
	uint8_t id[SID_LEN];
	int we_are_client;
	struct sid_conn conn;
};

/*
 * The ID of connection lport-rport: 0 and *r; -1 when its SYN was not seen
 * (not carried by this link, or forgotten); -2 when its SYN-ACK was not.
 */
int sid_lookup(const struct sid_table *t, uint16_t lport, uint16_t rport,
    struct sid_result *r);

#endif
