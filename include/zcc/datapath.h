/*
 * The data path: each packet zcc0 hands over is either a selected segment
 * of ours (sealed, sent on the raw socket) or a sealed segment from the peer
 * redirected by steering (opened, verified, written back into zcc0).
 * Anything that fails is dropped and counted by reason, never delivered.
 */
#ifndef ZCC_DATAPATH_H
#define ZCC_DATAPATH_H

#include <netinet/in.h>
#include <stdint.h>

#include "zcc/options.h"
#include "zcc/seal.h"

enum dp_drop {
	DROP_MALFORMED,      /* not a parseable IPv4/TCP segment */
	DROP_FRAGMENT,       /* an IP fragment of a selected flow */
	DROP_NO_OPTION,      /* from the peer without a zcc option (stripped, forged) */
	DROP_BAD_KEY_ID,     /* an option naming a key we do not hold */
	DROP_BAD_TAG,        /* authentication failed: tampered, forged, wrong key */
	DROP_NO_TIMESTAMPS,  /* SYN or data without TCP timestamps (see PROTOCOL.md) */
	DROP_NO_ROOM,        /* no room for the option even without SACK blocks */
	DROP_NOT_SELECTED,   /* routed into zcc0 but not a selected flow */
	DROP_IO,             /* the raw socket or zcc0 refused the packet */
	DROP_KEY_EXHAUSTED,  /* the transmit key sealed its 2^32 segments */
	DROP_MAX
};

struct dp_counters {
	uint64_t sealed, opened;
	uint64_t bytes_sealed, bytes_opened;    /* TCP payload bytes */
	uint64_t sack_trimmed;                  /* segments that lost SACK blocks */
	uint64_t dropped[DROP_MAX];
};

struct datapath;

/*
 * A data path between local and peer for the selected ports of o, reading
 * and writing tun_fd and sending sealed segments on raw_fd (IPPROTO_RAW).
 * tx seals what we send; rx opens what the peer sends. Returns NULL on
 * allocation failure.
 */
struct datapath *datapath_new(const struct zcc_options *o, struct in_addr local,
    int tun_fd, int raw_fd, const struct seal_key *tx, const struct seal_key *rx);

/* Read and handle what zcc0 has ready (up to a batch). -1 on fatal error. */
int datapath_on_tun(struct datapath *dp);

/* Handle one packet of n bytes in buf (cap bytes of room); for tests and fuzzing. */
void datapath_handle(struct datapath *dp, uint8_t *buf, size_t n, size_t cap);

const struct dp_counters *datapath_counters(const struct datapath *dp);
const char *datapath_drop_name(enum dp_drop d);

/* Free and wipe the keys. NULL is fine. */
void datapath_free(struct datapath *dp);

#endif
