/* SPDX-License-Identifier: ISC */
/*
 * The data path: each packet zcc0 hands over is a selected segment of ours
 * (sealed in place, sent on the link layer or the raw socket) or anything
 * else routed into zcc0 (encapsulated whole in a UDP datagram to the
 * peer's port, CIPE-style). The peer's sealed segments come from the
 * receive ring (intake.h) and its datagrams from the UDP socket; both are
 * opened, verified and written into zcc0. Anything that fails is dropped
 * and counted by reason, never delivered. In place, the family is the
 * link's (IPv4 or IPv6); encapsulated, either family travels.
 */
#ifndef ZCC_DATAPATH_H
#define ZCC_DATAPATH_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "zcc/addr.h"
#include "zcc/encap.h"
#include "zcc/intake.h"
#include "zcc/nexthop.h"
#include "zcc/options.h"
#include "zcc/seal.h"
#include "zcc/sessionid.h"

/* The keys of one direction of one session: in place and encapsulated. */
struct dp_key {
	struct seal_key seal;
	struct encap_key encap;
	uint8_t codec;          /* compress.h: what the sender compresses with */
	uint32_t session;       /* the link's name for the session, which
	                           key_seen reports (not the key id: two
	                           sessions may share one for a while) */
	uint8_t binding[SID_BINDING_LEN];       /* its handshake hash, which
	                           binds the connections it opens (sessionid.h) */
};

/* Both from the direction's 32-byte session key; independent subkeys. */
void dp_key_derive(struct dp_key *k, const uint8_t session_key[ZCC_KEY_LEN],
    uint8_t id, enum seal_suite suite);
void dp_key_wipe(struct dp_key *k);

enum dp_drop {
	DROP_MALFORMED,      /* not a parseable segment, packet or datagram */
	DROP_FRAGMENT,       /* an IP fragment of a selected flow */
	DROP_NO_OPTION,      /* from the peer without a zcc option (stripped, forged) */
	DROP_BAD_KEY_ID,     /* an option naming a key we do not hold */
	DROP_BAD_TAG,        /* authentication failed: tampered, forged, wrong key */
	DROP_NO_TIMESTAMPS,  /* SYN or data without TCP timestamps (see PROTOCOL.md) */
	DROP_NO_ROOM,        /* no room for the option even without SACK blocks */
	DROP_NOT_SELECTED,   /* taken from the peer, not a selected flow */
	DROP_IO,             /* a socket or zcc0 refused the packet */
	DROP_KEY_EXHAUSTED,  /* the transmit key sealed its 2^32 segments */
	DROP_NO_KEY,         /* the link is not up: no session key to seal with */
	DROP_REPLAYED,       /* a sealed segment or an encapsulated datagram
	                        seen before, or a datagram too old */
	DROP_BAD_COMPRESSION,/* authentic, but it does not decompress */
	DROP_TOO_BIG,        /* too big to encapsulate: ICMP "too big" returned */
	DROP_EXT_HEADER,     /* IPv6 between the two ends with an extension header
	                        before TCP (see PROTOCOL.md) */
	DROP_RING_FULL,      /* the receive ring was full: the kernel dropped it */
	DROP_OTHER_SOURCE,   /* a selected segment to the peer from another
	                        address of ours: only the link's carries them */
	DROP_UNROUTED_SOURCE,/* decapsulated from an address this host does not
	                        route into zcc0: the peer may not speak for it */
	DROP_PORTS_DIFFER,   /* a selected segment while the peer selects other
	                        ports: it could deliver ciphertext as data */
	DROP_STALE,          /* a sealed segment whose TCP timestamp trails the
	                        newest opened by more than the replay guard
	                        allows (PROTOCOL.md, "Replay") */
	DROP_GUARD_FULL,     /* a sealed segment of a new connection when the
	                        session's replay guard holds all it can: the
	                        link renews the session before that */
	DROP_MAX
};

struct dp_counters {
	uint64_t sealed, opened;
	uint64_t bytes_sealed, bytes_opened;    /* TCP payload bytes */
	uint64_t sack_trimmed;                  /* segments that lost SACK blocks */
	uint64_t encapsulated, decapsulated;    /* packets */
	uint64_t bytes_encapsulated;            /* IP packet bytes, before */
	uint64_t bytes_encap_wire;              /* UDP payload bytes, after */
	uint64_t bytes_decapsulated;            /* IP packet bytes */
	uint64_t dropped[DROP_MAX];
};

/* One TCP flow with the peer, as seen by the data path. */
struct dp_flow {
	uint16_t lport, rport;                  /* our port, the peer's */
	uint64_t sealed, opened;                /* segments */
	uint64_t bytes_sealed, bytes_opened;    /* payload bytes */
	int64_t idle;                           /* seconds since the last segment */
};

struct datapath;

/*
 * Called when a segment opens under another receive key than the last one
 * that opened one: session is that key's dp_key.session.
 */
typedef void dp_key_seen_fn(void *arg, uint32_t session);

/* Where the data path reads and writes. */
struct dp_io {
	int tun_fd;             /* zcc0, with virtio headers (tun.h) */
	int raw_fd;             /* IPPROTO_RAW: sealed segments */
	int link_fd;            /* AF_PACKET on the real interface; -1: none */
	int udp_fd;             /* the peer's UDP port: encapsulated; sent
	                           where datapath_set_endpoint says, else
	                           connected */
	int wire_mtu;           /* the real interface's MTU */
};

/*
 * A data path between local and peer for the selected ports of o. It
 * starts with no keys: everything is dropped (no_key) until the link gives
 * it some. Returns NULL on allocation failure.
 */
struct datapath *datapath_new(const struct zcc_addr *peer,
    struct zcc_addr local, const uint16_t *ports, size_t nports,
    const struct dp_io *io, dp_key_seen_fn *key_seen, void *arg);

/* The largest packet encapsulated whole; bigger ones get ICMP "too big". */
size_t datapath_encap_mtu(const struct datapath *dp);

#define DP_RX_KEYS 3    /* current, previous and next session */

/*
 * Install the keys: tx seals (NULL: seal nothing), rx[0..nrx) open by key
 * id. Copies them; the caller wipes its own. A new tx restarts the count
 * of segments sealed under it and the encapsulation counter; a receive
 * key installed again keeps its replay window.
 */
void datapath_set_keys(struct datapath *dp, const struct dp_key *tx,
    const struct dp_key *const rx[], size_t nrx);

/* Segments sealed under the current tx key (the link rekeys on a count). */
uint64_t datapath_tx_used(const struct datapath *dp);

/*
 * The replay guard of the session the peer seals under is three quarters
 * full of connections: the link should renew the session, whose new guard
 * starts empty (PROTOCOL.md, "Replay").
 */
int datapath_guard_crowded(const struct datapath *dp);

/* The selected ports (at start, and re-read on SIGHUP); up to ZCC_MAX_PORTS. */
void datapath_set_ports(struct datapath *dp, const uint16_t *ports, size_t n);

/*
 * Where sealed segments go: with a next hop in state NEXTHOP_VALID or
 * NEXTHOP_STALE (and a link_fd), to its hardware address on link_fd;
 * otherwise through the raw socket and the kernel's IP
 * output, which resolves the neighbour. After a NEXTHOP_STALE one, the
 * next batch goes by IP output so that the kernel rechecks the entry, as
 * its own traffic would make it do.
 */
void datapath_set_nexthop(struct datapath *dp, const struct nexthop *nh);

/* Sealed segments sent on the link layer, and by IP output. */
void datapath_sent_by(const struct datapath *dp, uint64_t *link, uint64_t *ip);

/* Copy up to max flows, most recently active first; returns how many. */
size_t datapath_flows(const struct datapath *dp, struct dp_flow *out, size_t max);

/* The session ID of connection lport-rport (sid_lookup's contract). */
int datapath_session_id(const struct datapath *dp, uint16_t lport,
    uint16_t rport, struct sid_result *r);

/*
 * Whether lport and rport are a flow that sealed segments in the last
 * DP_FLOW_LIVE seconds: the check that an ICMP report quotes one of ours.
 */
#define DP_FLOW_LIVE 120
int datapath_sealed_flow(const struct datapath *dp, uint16_t lport,
    uint16_t rport);

/*
 * What the peer's in-place segments say of the path, once the link has
 * keys: DP_STRIPPED after DP_STRIPPED_RUN segments in a row arrived without
 * the option, DP_ALTERED after DP_ALTERED_RUN in a row failed their tag
 * (nothing opened between); *sport and *dport: the ports of the segment
 * that showed it last.
 */
enum dp_trouble { DP_STRIPPED = 1, DP_ALTERED = 2 };
#define DP_STRIPPED_RUN 2
#define DP_ALTERED_RUN 32
unsigned datapath_trouble(const struct datapath *dp, uint16_t *sport,
    uint16_t *dport);

/*
 * Whether this host routes its traffic to the address (af's length at a)
 * into zcc0: only then may the peer send packets from it (WireGuard's
 * cryptokey routing, from the administrator's routes). 1 yes, 0 no.
 */
typedef int dp_source_ok_fn(void *arg, int af, const uint8_t *a);

/*
 * Block every selected segment, both ways (on), or carry them again: while
 * the two ends select different ports, a port sealed here could reach an
 * application there as ciphertext.
 */
void datapath_block_selected(struct datapath *dp, int on);

/*
 * Check every decapsulated packet's source with ok (NULL: accept all,
 * for tests); the peer's own address always passes (selected flows).
 */
void datapath_set_source_check(struct datapath *dp, dp_source_ok_fn *ok,
    void *arg);

/*
 * Where encapsulated datagrams go when the UDP socket is not connected
 * (float): the address and port the peer last spoke from.
 */
void datapath_set_endpoint(struct datapath *dp,
    const struct sockaddr_storage *to, socklen_t tolen);

/*
 * How the peer addresses the link (the handshake's view): its own address
 * and the one it sends to. When they are not the peer's and ours as we see
 * them, a NAT is between us, and the peer's segments are opened over these
 * (the addresses it sealed them with).
 */
void datapath_set_peer_view(struct datapath *dp, const struct zcc_addr *self,
    const struct zcc_addr *to);

/* Carry our selected segments encapsulated (on) instead of sealed in place. */
void datapath_encap_selected(struct datapath *dp, int on);

/* Read and handle what zcc0 has ready (up to a batch). -1 on fatal error. */
int datapath_on_tun(struct datapath *dp);

/* Open and deliver the peer's segments waiting in the ring (up to a batch). */
void datapath_on_wire(struct datapath *dp, struct intake *in);

/*
 * An encapsulated datagram (type 5) from the peer's port. What it brings
 * may wait in a batch: call datapath_flush after the last of a batch.
 * 1 when it opened (authentic, not seen before), else 0 (counted).
 */
int datapath_on_encap(struct datapath *dp, const uint8_t *msg, size_t len);

/* Send and write everything pending. */
void datapath_flush(struct datapath *dp);

/*
 * Handle one packet of n bytes from zcc0 (a copy of buf, no virtio header)
 * and flush; for tests and fuzzing.
 */
void datapath_handle(struct datapath *dp, const uint8_t *buf, size_t n);

/* The same for a packet as the receive ring would have taken it. */
void datapath_handle_wire(struct datapath *dp, const uint8_t *buf, size_t n);

const struct dp_counters *datapath_counters(const struct datapath *dp);
const char *datapath_drop_name(enum dp_drop d);

/* Free and wipe the keys. NULL is fine. */
void datapath_free(struct datapath *dp);

#endif
