/* SPDX-License-Identifier: ISC */
/*
 * The data path. zcc0 hands over our own selected segments, routed in by
 * the ip rules (sealed here and sent on the link layer to the next hop, or
 * on the raw socket), and everything else routed into it (encapsulated).
 * The peer's sealed segments come from the receive ring on the real
 * interface (intake.h), its datagrams from the UDP socket; both are opened
 * here and written into zcc0, where the kernel delivers them as if they
 * had arrived on it.
 *
 * System calls, not crypto, bound a userspace data path (docs/DECISIONS.md,
 * "Offloads"), so everything is batched: zcc0 runs with TSO and hands over
 * super-segments, cut here into wire segments (offload.h) and sealed one
 * by one; the sealed segments of a batch leave in one sendmmsg; the ring
 * hands over every segment that has arrived at one wake-up; and the opened
 * segments of one flow go back into zcc0 as one GRO-style write.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include <sodium.h>

#include <arpa/inet.h>
#include <netinet/udp.h>

#include "zcc/compress.h"
#include "zcc/datapath.h"
#include "zcc/log.h"
#include "zcc/offload.h"
#include "zcc/packet.h"
#include "zcc/tsguard.h"

/* Reads from zcc0 per wake-up: a latency bound, not a throughput one. */
#define DP_BATCH 64
/*
 * Room around every packet in the arena: before it, an encapsulation header
 * (the virtio header is read into its last bytes); after it, the zcc option
 * or the encapsulation tag. Either path then works in place.
 */
#define DP_HEADROOM ENCAP_PACKET_OFF
#define DP_TAILROOM (ZCC_OPT_LEN > ENCAP_TAG_LEN ? ZCC_OPT_LEN : ENCAP_TAG_LEN)
/* One read: a 64 KB super-segment with its room. */
#define DP_READ_ROOM (DP_HEADROOM + 65535 + DP_TAILROOM)
/* Reads, segments and opened packets live here until the batch is flushed. */
#define DP_ARENA (16 * DP_READ_ROOM)
/* Sealed segments sent per sendmmsg. */
#define DP_TX_MAX 256
/*
 * UDP GSO: datagrams per UDP_SEGMENT send (the kernel's UDP_MAX_SEGMENTS
 * is 64 or more) and their bytes (one IPv4 datagram's limit, 65535 less
 * the IP and UDP headers).
 */
#define DP_GSO_SEGS 64
#define DP_GSO_BYTES (65535 - 20 - 8)
/* The SIV collision bound (PROTOCOL.md): a key seals at most 2^32 segments. */
#define DP_KEY_SEGMENTS_MAX (UINT64_C(1) << 32)
/* Flows are kept for "zccctl show" in a small table; the oldest make room. */
#define DP_FLOWS 64

struct flow {
	struct dp_flow f;
	int used;
	time_t last;                    /* CLOCK_MONOTONIC seconds */
};

/* What a queued datagram counts once it has left. */
struct tx_meta {
	size_t plain;                   /* payload (in place) or packet bytes */
	size_t wire;                    /* encapsulated: the datagram's bytes */
	uint16_t lport, rport;          /* in place: the flow */
	int trimmed;
};

/* Datagrams waiting for one sendmmsg: sealed segments or encapsulated. */
struct txq {
	int fd;
	int encap;                      /* which counters a sent one adds to */
	struct mmsghdr m[DP_TX_MAX];
	struct iovec iov[DP_TX_MAX];
	struct tx_meta meta[DP_TX_MAX];
	size_t n;
};

/* What a pending run of segments into zcc0 counts once written. */
enum run_kind { RUN_OPENED, RUN_DECAPSULATED };

/* The keys: in memory that is locked, left out of core dumps, wiped. */
struct dp_secrets {
	struct seal_key tx, rx[DP_RX_KEYS];
	struct encap_tx etx;
	struct encap_rx erx[DP_RX_KEYS];        /* erx[i] goes with rx[i] */
};

struct datapath {
	struct zcc_addr peer, local;
	uint8_t port_selected[65536 / 8];   /* a bit per port: one look per segment */
	struct sockaddr_storage to;     /* the peer, for the raw socket */
	struct sockaddr_storage endpoint;       /* float: the peer's UDP port */
	socklen_t tolen;
	int tun_fd, raw_fd, udp_fd, link_fd;
	struct sockaddr_ll nexthop;     /* ifindex 0: none, send by IP */
	int recheck;                    /* send the next batch by IP once */
	uint64_t sent_link, sent_ip;
	size_t wire_mtu;
	struct dp_secrets *k;           /* sodium_malloc: locked, not dumped */
	int have_tx;
	uint8_t codec;                  /* the session's agreed compression */
	size_t nrx;
	uint64_t tx_used;               /* segments sealed under tx */
	uint32_t rx_session[DP_RX_KEYS];        /* dp_key.session of rx[i] */
	struct tsguard *guard[DP_RX_KEYS];      /* rx[i]'s replay guard */
	struct tsguard *guards;                 /* DP_RX_KEYS of them */
	int last_seen;                  /* rx slot last reported, -1: none */
	dp_key_seen_fn *key_seen;
	void *arg;
	dp_source_ok_fn *source_ok;     /* NULL: every source */
	void *source_arg;
	struct dp_counters c;
	struct flow flows[DP_FLOWS];
	size_t last_flow;               /* the slot hit last: segments come in runs */
	struct sid_table *sids;         /* connections' openings (session IDs) */
	uint8_t tx_binding[SID_BINDING_LEN];            /* of tx's session */
	uint8_t rx_binding[DP_RX_KEYS][SID_BINDING_LEN];        /* of rx[i]'s */
	time_t now;                     /* read once per batch */
	time_t ring_checked;            /* when the ring's overruns were read */
	int warned_no_timestamps;
	int warned_stale;
	int encap_selected;             /* selected segments leave encapsulated */
	int no_gso;                     /* the UDP socket refused UDP_SEGMENT */
	int block_selected;             /* the peer selects other ports */
	unsigned trouble;               /* enum dp_trouble bits seen */
	uint32_t no_option_run, bad_tag_run;    /* since the last one opened */
	uint16_t trouble_sport, trouble_dport;  /* the segment that showed it */
	int nat;                        /* open over the peer's view: */
	uint8_t view_src[16], view_dst[16];     /* its address, where it sends */
	struct txq sealed_q;            /* to the link layer or the raw socket */
	struct txq encap_q;             /* to the UDP socket */
	struct gro gro;                 /* opened, not yet written */
	enum run_kind run_kind;
	size_t used;                    /* bytes of arena in use */
	uint8_t zbuf[COMPRESS_BOUND(ENCAP_MAX_PACKET)];   /* compressed */
	/* Last: an overrun would leave the allocation, where ASan sees it. */
	uint8_t arena[DP_ARENA];
};

static const char *const drop_names[DROP_MAX] = {
	[DROP_MALFORMED] = "malformed",
	[DROP_FRAGMENT] = "fragment",
	[DROP_NO_OPTION] = "no_option",
	[DROP_BAD_KEY_ID] = "bad_key_id",
	[DROP_BAD_TAG] = "bad_tag",
	[DROP_NO_TIMESTAMPS] = "no_timestamps",
	[DROP_NO_ROOM] = "no_room",
	[DROP_NOT_SELECTED] = "not_selected",
	[DROP_IO] = "io",
	[DROP_KEY_EXHAUSTED] = "key_exhausted",
	[DROP_NO_KEY] = "no_key",
	[DROP_REPLAYED] = "replayed",
	[DROP_BAD_COMPRESSION] = "bad_compression",
	[DROP_TOO_BIG] = "too_big",
	[DROP_EXT_HEADER] = "ext_header",
	[DROP_RING_FULL] = "ring_full",
	[DROP_OTHER_SOURCE] = "other_source",
	[DROP_UNROUTED_SOURCE] = "unrouted_source",
	[DROP_PORTS_DIFFER] = "ports_differ",
	[DROP_STALE] = "stale",
	[DROP_GUARD_FULL] = "guard_full",
};

const char *
datapath_drop_name(enum dp_drop d)
{
	return d < DROP_MAX ? drop_names[d] : "?";
}

/* to: the address for every datagram; NULL on a connected socket. */
static void
txq_init(struct txq *q, int fd, int encap, struct sockaddr_storage *to,
    socklen_t tolen)
{
	q->fd = fd;
	q->encap = encap;
	for (size_t i = 0; i < DP_TX_MAX; i++) {
		q->m[i].msg_hdr.msg_name = to;
		q->m[i].msg_hdr.msg_namelen = to ? tolen : 0;
		q->m[i].msg_hdr.msg_iov = &q->iov[i];
		q->m[i].msg_hdr.msg_iovlen = 1;
	}
}

struct datapath *
datapath_new(const struct zcc_addr *peer, struct zcc_addr local,
    const uint16_t *ports, size_t nports, const struct dp_io *io,
    dp_key_seen_fn *key_seen, void *arg)
{
	struct datapath *dp = calloc(1, sizeof(*dp));

	if (dp == NULL)
		return NULL;
	dp->k = sodium_malloc(sizeof(*dp->k));
	if (dp->k == NULL) {
		free(dp);
		return NULL;
	}
	memset(dp->k, 0, sizeof(*dp->k));
	dp->guards = calloc(DP_RX_KEYS, sizeof(*dp->guards));
	dp->sids = sid_table_new();
	if (dp->guards == NULL || dp->sids == NULL) {
		sid_table_free(dp->sids);
		free(dp->guards);
		sodium_free(dp->k);
		free(dp);
		return NULL;
	}
	for (size_t i = 0; i < DP_RX_KEYS; i++)
		dp->guard[i] = &dp->guards[i];
	dp->peer = *peer;
	dp->local = local;
	datapath_set_ports(dp, ports, nports);
	dp->tun_fd = io->tun_fd;
	dp->raw_fd = io->raw_fd;
	dp->udp_fd = io->udp_fd;
	dp->link_fd = io->link_fd;
	dp->wire_mtu = (size_t)io->wire_mtu;
	dp->key_seen = key_seen;
	dp->arg = arg;
	dp->last_seen = -1;
	dp->tolen = addr_to_sockaddr(peer, 0, &dp->to);
	txq_init(&dp->sealed_q, io->raw_fd, 0, &dp->to, dp->tolen);
	txq_init(&dp->encap_q, io->udp_fd, 1, NULL, 0);
	gro_init(&dp->gro);
	return dp;
}

void
dp_key_derive(struct dp_key *k, const uint8_t session_key[ZCC_KEY_LEN],
    uint8_t id, enum seal_suite suite)
{
	seal_key_derive(&k->seal, session_key, id, suite);
	encap_key_derive(&k->encap, session_key, id);
}

void
dp_key_wipe(struct dp_key *k)
{
	seal_key_wipe(&k->seal);
	encap_key_wipe(&k->encap);
}

static void
wipe_keys(struct datapath *dp)
{
	seal_key_wipe(&dp->k->tx);
	encap_tx_wipe(&dp->k->etx);
	for (size_t i = 0; i < DP_RX_KEYS; i++) {
		seal_key_wipe(&dp->k->rx[i]);
		encap_rx_wipe(&dp->k->erx[i]);
	}
	dp->have_tx = 0;
	dp->nrx = 0;
}

static int
same_encap_key(const struct encap_key *a, const struct encap_key *b)
{
	return a->id == b->id && sodium_memcmp(a->k, b->k, sizeof(a->k)) == 0;
}

/*
 * The replay window of a receive key lives as long as the key: the link
 * installs its keys again at every change of session, and a fresh window
 * would take a replayed message.
 */
static void
carry_windows(struct datapath *dp, struct encap_rx *next, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < dp->nrx; j++)
			if (same_encap_key(&next[i].key, &dp->k->erx[j].key))
				next[i].replay = dp->k->erx[j].replay;
}

static int
same_seal_key(const struct seal_key *a, const struct seal_key *b)
{
	return a->id == b->id && a->suite == b->suite &&
	    sodium_memcmp(a->mac, b->mac, sizeof(a->mac)) == 0;
}

/*
 * Our copy of a key owns its libcrypto contexts (seal_key_prepare). One
 * that cannot be made leaves the key unprepared: what it would seal or
 * open is dropped as no_key, never sent or delivered without it.
 */
static void
prepare_key(struct seal_key *k)
{
	k->aes = NULL;          /* the link's copy never has contexts */
	if (seal_key_prepare(k) == -1)
		log_warnx("cannot set up %s for key id %u (libcrypto or locked "
		    "memory): its segments are dropped (no_key)",
		    seal_suite_name(k->suite), k->id);
}

/* A guard no slot of next holds: there are as many guards as slots. */
static struct tsguard *
unused_guard(struct datapath *dp, struct tsguard *const next[DP_RX_KEYS])
{
	for (size_t j = 0; j < DP_RX_KEYS; j++) {
		int used = 0;

		for (size_t i = 0; i < DP_RX_KEYS; i++)
			used |= next[i] == &dp->guards[j];
		if (!used)
			return &dp->guards[j];
	}
	abort();
}

/*
 * Each receive key keeps its replay guard for as long as it is installed,
 * as it keeps its window; a new one starts from an empty guard.
 */
static void
carry_guards(struct datapath *dp, const struct dp_key *const rx[], size_t n)
{
	struct tsguard *next[DP_RX_KEYS] = { 0 };
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < dp->nrx && next[i] == NULL; j++)
			if (same_seal_key(&rx[i]->seal, &dp->k->rx[j]))
				next[i] = dp->guard[j];
	for (i = 0; i < n; i++)
		if (next[i] == NULL) {
			next[i] = unused_guard(dp, next);
			tsguard_reset(next[i]);
		}
	memcpy(dp->guard, next, sizeof(next));
}

void
datapath_set_keys(struct datapath *dp, const struct dp_key *tx,
    const struct dp_key *const rx[], size_t nrx)
{
	struct encap_rx next[DP_RX_KEYS];
	int same_tx = tx && dp->have_tx && same_seal_key(&tx->seal, &dp->k->tx);
	uint64_t counter = dp->k->etx.counter;

	nrx = nrx < DP_RX_KEYS ? nrx : DP_RX_KEYS;
	memset(next, 0, sizeof(next));
	for (size_t i = 0; i < nrx; i++)
		next[i].key = rx[i]->encap;
	carry_windows(dp, next, nrx);
	carry_guards(dp, rx, nrx);
	wipe_keys(dp);
	if (tx) {
		dp->k->tx = tx->seal;
		prepare_key(&dp->k->tx);
		dp->k->etx.key = tx->encap;
		dp->codec = tx->codec;
		dp->have_tx = 1;
		memcpy(dp->tx_binding, tx->binding, SID_BINDING_LEN);
	}
	if (!same_tx)
		dp->tx_used = 0;
	dp->k->etx.counter = same_tx ? counter : 0;
	for (size_t i = 0; i < nrx; i++) {
		dp->k->rx[i] = rx[i]->seal;
		prepare_key(&dp->k->rx[i]);
		dp->k->erx[i] = next[i];
		dp->rx_session[i] = rx[i]->session;
		memcpy(dp->rx_binding[i], rx[i]->binding, SID_BINDING_LEN);
	}
	dp->nrx = nrx;
	sodium_memzero(next, sizeof(next));
	dp->last_seen = -1;
}

uint64_t
datapath_tx_used(const struct datapath *dp)
{
	return dp->tx_used;
}

void
datapath_set_ports(struct datapath *dp, const uint16_t *ports, size_t n)
{
	memset(dp->port_selected, 0, sizeof(dp->port_selected));
	for (size_t i = 0; i < n; i++)
		dp->port_selected[ports[i] / 8] |= (uint8_t)(1u << (ports[i] % 8));
}

static int
port_selected(const struct datapath *dp, uint16_t port)
{
	return dp->port_selected[port / 8] >> (port % 8) & 1;
}

void
datapath_free(struct datapath *dp)
{
	if (dp == NULL)
		return;
	if (dp->k) {
		wipe_keys(dp);
		sodium_free(dp->k);
	}
	free(dp->guards);
	sid_table_free(dp->sids);
	free(dp);
}

static time_t
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static int
flow_is(const struct flow *f, uint16_t lport, uint16_t rport)
{
	return f->used && f->f.lport == lport && f->f.rport == rport;
}

/*
 * The flow's slot: the one hit last, else its own, else a free one, else
 * the least recently used. The clock is the batch's (dp->now), not a
 * system call per segment.
 */
static struct dp_flow *
flow_of(struct datapath *dp, uint16_t lport, uint16_t rport)
{
	struct flow *f = &dp->flows[dp->last_flow], *victim = f;
	size_t i;

	if (!flow_is(f, lport, rport)) {
		for (i = 0; i < DP_FLOWS; i++) {
			f = &dp->flows[i];
			if (flow_is(f, lport, rport))
				break;
			if (!f->used || (victim->used && f->last < victim->last))
				victim = f;
		}
		if (i == DP_FLOWS) {
			f = victim;
			memset(f, 0, sizeof(*f));
			f->used = 1;
			f->f.lport = lport;
			f->f.rport = rport;
		}
		dp->last_flow = (size_t)(f - dp->flows);
	}
	f->last = dp->now;
	return &f->f;
}

static int
by_recent(const void *a, const void *b)
{
	const struct dp_flow *x = a, *y = b;

	return (x->idle > y->idle) - (x->idle < y->idle);
}

size_t
datapath_flows(const struct datapath *dp, struct dp_flow *out, size_t max)
{
	struct dp_flow all[DP_FLOWS];
	time_t now = now_seconds();
	size_t n = 0;

	for (size_t i = 0; i < DP_FLOWS; i++) {
		const struct flow *f = &dp->flows[i];

		if (!f->used)
			continue;
		all[n] = f->f;
		all[n].idle = (int64_t)(now - f->last);
		n++;
	}
	qsort(all, n, sizeof(all[0]), by_recent);
	n = n < max ? n : max;
	memcpy(out, all, n * sizeof(all[0]));
	return n;
}

int
datapath_sealed_flow(const struct datapath *dp, uint16_t lport,
    uint16_t rport)
{
	time_t now = now_seconds();

	for (size_t i = 0; i < DP_FLOWS; i++) {
		const struct flow *f = &dp->flows[i];

		if (flow_is(f, lport, rport))
			return f->f.sealed > 0 && now - f->last <= DP_FLOW_LIVE;
	}
	return 0;
}

const struct dp_counters *
datapath_counters(const struct datapath *dp)
{
	return &dp->c;
}

static void
drop(struct datapath *dp, enum dp_drop why, const struct packet *p)
{
	dp->c.dropped[why]++;
	if (p->tcp_hlen)
		log_debug("dropped (%s): %u -> %u seq %u len %zu",
		    drop_names[why], packet_sport(p), packet_dport(p),
		    packet_seq(p), p->payload_len);
	else
		log_debug("dropped (%s): %zu bytes", drop_names[why], p->len);
}

static int
selected(const struct datapath *dp, const struct packet *p)
{
	return port_selected(dp, packet_sport(p)) ||
	    port_selected(dp, packet_dport(p));
}

/*
 * In-place sealing relies on TCP's sequence checks and PAWS against
 * replay (PROTOCOL.md, "Replay"): a SYN or a data segment must carry
 * timestamps. Pure ACKs and resets may go without.
 */
static int
timestamps_ok(const struct packet *p)
{
	if (!(packet_tcp_flags(p) & ZCC_TCP_SYN) && p->payload_len == 0)
		return 1;
	return packet_has_timestamps(p);
}

static enum dp_drop
parse_error_reason(int err)
{
	return err == PACKET_FRAGMENT ? DROP_FRAGMENT :
	    err == PACKET_EXT_HEADER ? DROP_EXT_HEADER : DROP_MALFORMED;
}

/*
 * A SYN or SYN-ACK that zcc carries, sealed or encapsulated (outgoing) or
 * opened: remembered under the session's binding, for its session ID.
 */
static void
note_opening(struct datapath *dp, const struct packet *p, int outgoing,
    const uint8_t binding[SID_BINDING_LEN])
{
	uint8_t flags = packet_tcp_flags(p);

	if (!(flags & ZCC_TCP_SYN))
		return;
	if (outgoing)
		sid_note(dp->sids, packet_sport(p), packet_dport(p),
		    (flags & ZCC_TCP_ACK) != 0, 1, packet_seq(p), binding,
		    (uint64_t)dp->now);
	else
		sid_note(dp->sids, packet_dport(p), packet_sport(p),
		    (flags & ZCC_TCP_ACK) != 0, 0, packet_seq(p), binding,
		    (uint64_t)dp->now);
}

int
datapath_session_id(const struct datapath *dp, uint16_t lport, uint16_t rport,
    struct sid_result *r)
{
	return sid_lookup(dp->sids, lport, rport, r);
}

static void
count_sent(struct datapath *dp, const struct txq *q, const struct tx_meta *m)
{
	struct dp_flow *f;

	if (q->encap) {
		dp->c.encapsulated++;
		dp->c.bytes_encapsulated += m->plain;
		dp->c.bytes_encap_wire += m->wire;
		return;
	}
	f = flow_of(dp, m->lport, m->rport);
	dp->c.sealed++;
	dp->c.bytes_sealed += m->plain;
	dp->c.sack_trimmed += m->trimmed > 0;
	if (q->fd == dp->link_fd)
		dp->sent_link++;
	else
		dp->sent_ip++;
	f->sealed++;
	f->bytes_sealed += m->plain;
}

void
datapath_set_nexthop(struct datapath *dp, const struct nexthop *nh)
{
	struct sockaddr_ll *ll = &dp->nexthop;

	memset(ll, 0, sizeof(*ll));
	if (nh->state == NEXTHOP_NONE || dp->link_fd == -1)
		return;
	ll->sll_family = AF_PACKET;
	ll->sll_protocol = htons(dp->local.af == AF_INET6 ? ETH_P_IPV6 :
	    ETH_P_IP);
	ll->sll_ifindex = nh->ifindex;
	ll->sll_halen = NEXTHOP_ALEN;
	memcpy(ll->sll_addr, nh->mac, NEXTHOP_ALEN);
	dp->recheck = nh->state == NEXTHOP_STALE;
}

void
datapath_sent_by(const struct datapath *dp, uint64_t *link, uint64_t *ip)
{
	*link = dp->sent_link;
	*ip = dp->sent_ip;
}

/* Point the sealed queue at the next hop's link layer, or at IP output. */
static void
aim_sealed(struct datapath *dp, struct txq *q)
{
	int by_link = dp->nexthop.sll_ifindex != 0 && !dp->recheck;
	void *name = by_link ? (void *)&dp->nexthop : (void *)&dp->to;
	socklen_t len = by_link ? sizeof(dp->nexthop) : dp->tolen;

	dp->recheck = 0;
	q->fd = by_link ? dp->link_fd : dp->raw_fd;
	if (q->m[0].msg_hdr.msg_name == name)
		return;
	for (size_t i = 0; i < DP_TX_MAX; i++) {
		q->m[i].msg_hdr.msg_name = name;
		q->m[i].msg_hdr.msg_namelen = len;
	}
}

/*
 * The run of datagrams from q's first-th that one UDP_SEGMENT send can
 * carry: all of the first one's size but the last, which may be shorter.
 */
static size_t
gso_run(const struct txq *q, size_t first)
{
	size_t size = q->iov[first].iov_len, bytes = size, i = first + 1;

	while (i < q->n && i - first < DP_GSO_SEGS &&
	    q->iov[i].iov_len <= size && bytes + q->iov[i].iov_len <= DP_GSO_BYTES) {
		bytes += q->iov[i].iov_len;
		if (q->iov[i++].iov_len < size)
			break;
	}
	return i - first;
}

/* Control room for one UDP_SEGMENT (a 16-bit segment size). */
union gso_cmsg {
	struct cmsghdr h;
	uint8_t room[CMSG_SPACE(sizeof(uint16_t))];
};

/*
 * Send the encapsulated datagrams as runs of equal size, each run one
 * UDP_SEGMENT message (UDP GSO): the stack takes each run once, and across
 * a veth or to a NIC with USO it stays one packet until the receiver's GRO.
 * Returns how many datagrams left; a refusal of UDP_SEGMENT turns it off
 * for good and leaves the rest to the plain path.
 */
static size_t
send_gso(struct datapath *dp, struct txq *q)
{
	struct mmsghdr g[DP_TX_MAX];
	union gso_cmsg c[DP_TX_MAX];
	size_t first[DP_TX_MAX + 1], ng = 0, done = 0, at = 0;

	memset(g, 0, sizeof(g));
	while (at < q->n) {
		size_t run = gso_run(q, at);
		struct msghdr *h = &g[ng].msg_hdr;

		first[ng] = at;
		h->msg_name = q->m[at].msg_hdr.msg_name;
		h->msg_namelen = q->m[at].msg_hdr.msg_namelen;
		h->msg_iov = &q->iov[at];
		h->msg_iovlen = run;
		if (run > 1) {
			memset(&c[ng], 0, sizeof(c[ng]));
			h->msg_control = &c[ng];
			h->msg_controllen = sizeof(c[ng]);
			c[ng].h.cmsg_level = SOL_UDP;
			c[ng].h.cmsg_type = UDP_SEGMENT;
			c[ng].h.cmsg_len = CMSG_LEN(sizeof(uint16_t));
			*(uint16_t *)CMSG_DATA(&c[ng].h) =
			    (uint16_t)q->iov[at].iov_len;
		}
		at += run;
		ng++;
	}
	first[ng] = q->n;
	for (size_t i = 0; i < ng;) {
		int n = sendmmsg(q->fd, g + i, (unsigned int)(ng - i), 0);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EIO || errno == EINVAL ||
		    errno == ENOPROTOOPT) && g[i].msg_hdr.msg_iovlen > 1) {
			log_info("udp: no UDP segmentation offload here (%s): "
			    "one datagram per send", strerror(errno));
			dp->no_gso = 1;
			return done;
		}
		if (n == -1) {          /* this run was refused: count, go on */
			log_debug("udp send: %s", strerror(errno));
			dp->c.dropped[DROP_IO] += first[i + 1] - first[i];
			done = first[++i];
			continue;
		}
		for (size_t j = first[i]; j < first[i + n]; j++)
			count_sent(dp, q, &q->meta[j]);
		i += (size_t)n;
		done = first[i];
	}
	return done;
}

/* Send what q holds; count each datagram by how it fared. */
static void
send_queued(struct datapath *dp, struct txq *q)
{
	size_t done = 0;

	if (!q->encap && q->n > 0)
		aim_sealed(dp, q);
	if (q->encap && !dp->no_gso && q->n > 1)
		done = send_gso(dp, q);
	while (done < q->n) {
		int n = sendmmsg(q->fd, q->m + done, (unsigned int)(q->n - done), 0);

		if (n == -1 && errno == EINTR)
			continue;
		if (n > 0) {
			for (int i = 0; i < n; i++)
				count_sent(dp, q, &q->meta[done + i]);
			done += (size_t)n;
			continue;
		}
		/* The datagram at done was refused: count it, send the rest. */
		log_debug("%s send: %s", q->encap ? "udp" :
		    q->fd == dp->link_fd ? "link" : "raw", strerror(errno));
		dp->c.dropped[DROP_IO]++;
		done++;
	}
	q->n = 0;
}

/* Queue len bytes at buf; m says what they count once sent. */
static void
queue(struct datapath *dp, struct txq *q, uint8_t *buf, size_t len,
    const struct tx_meta *m)
{
	q->iov[q->n].iov_base = buf;
	q->iov[q->n].iov_len = len;
	q->meta[q->n] = *m;
	if (++q->n == DP_TX_MAX)
		send_queued(dp, q);
}

static void
seal_and_queue(struct datapath *dp, struct packet *p, size_t cap)
{
	struct tx_meta m = { 0 };
	size_t plain = p->payload_len;
	int trimmed = 0, rc;

	if (!timestamps_ok(p)) {
		if (!dp->warned_no_timestamps++)
			log_warnx("refusing to seal a segment without TCP "
			    "timestamps (is net.ipv4.tcp_timestamps 0?)");
		drop(dp, DROP_NO_TIMESTAMPS, p);
		return;
	}
	if (!dp->have_tx) {
		drop(dp, DROP_NO_KEY, p);
		return;
	}
	if (dp->tx_used >= DP_KEY_SEGMENTS_MAX) {
		if (dp->tx_used++ == DP_KEY_SEGMENTS_MAX)
			log_warnx("the transmit key has sealed 2^32 segments; "
			    "refusing to seal more until the link rekeys");
		drop(dp, DROP_KEY_EXHAUSTED, p);
		return;
	}
	dp->tx_used++;
	note_opening(dp, p, 1, dp->tx_binding);
	rc = seal_segment(&dp->k->tx, p, cap, &trimmed);
	if (rc != SEAL_OK) {
		drop(dp, rc == SEAL_UNPREPARED ? DROP_NO_KEY : DROP_NO_ROOM, p);
		return;
	}
	m.plain = plain;
	m.lport = packet_sport(p);
	m.rport = packet_dport(p);
	m.trimmed = trimmed;
	queue(dp, &dp->sealed_q, p->buf, p->len, &m);
}

/*
 * rx slot opened an authentic segment or datagram: its session is proven
 * to be the peer's. Only such a one may confirm a session, by its own
 * keys: a key id alone could be a replayed init's (PROTOCOL.md).
 */
static void
seen_key(struct datapath *dp, int slot)
{
	if (slot == dp->last_seen)
		return;
	dp->last_seen = slot;
	if (dp->key_seen)
		dp->key_seen(dp->arg, dp->rx_session[slot]);
}

/* The slot of the first receive key with the id, or -1. */
static int
rx_slot(const struct datapath *dp, int id)
{
	for (size_t i = 0; i < dp->nrx; i++)
		if (dp->k->rx[i].id == id)
			return (int)i;
	return -1;
}

static void
count_run(struct datapath *dp, const struct gro *g)
{
	const struct packet *first = &g->first;
	size_t hlen = first->ip_hlen + first->tcp_hlen;
	struct dp_flow *f;

	if (dp->run_kind == RUN_DECAPSULATED) {
		/* The packets as they arrived, each with its headers. */
		dp->c.decapsulated += g->nsegs;
		dp->c.bytes_decapsulated += g->len + (g->nsegs - 1) * hlen;
		return;
	}
	f = flow_of(dp, packet_dport(first), packet_sport(first));
	dp->c.opened += g->nsegs;
	dp->c.bytes_opened += g->len - hlen;
	f->opened += g->nsegs;
	f->bytes_opened += g->len - hlen;
}

/* Write the pending run of segments into zcc0; count it. */
static void
write_run(struct datapath *dp)
{
	struct gro *g = &dp->gro;
	int iovcnt;

	if (gro_empty(g))
		return;
	iovcnt = gro_finish(g);
	if (writev(dp->tun_fd, g->iov, iovcnt) != (ssize_t)(OFFLOAD_VNET_LEN +
	    g->len)) {
		log_debug("zcc0 write: %s", strerror(errno));
		dp->c.dropped[DROP_IO] += g->nsegs;
	} else {
		count_run(dp, g);
	}
	gro_init(g);
}

/*
 * Hand a TCP segment (opened, or decapsulated) to zcc0: it joins the
 * pending run of its flow when it can; otherwise the run goes out first,
 * and the segment begins a new run or, when it cannot merge at all (SYN,
 * FIN, pure ACK), goes alone.
 */
static void
deliver(struct datapath *dp, const struct packet *p, enum run_kind kind)
{
	if (dp->run_kind != kind)
		write_run(dp);
	dp->run_kind = kind;
	if (gro_add(&dp->gro, p))
		return;
	write_run(dp);
	if (gro_add(&dp->gro, p))
		return;
	gro_one(&dp->gro, p);
	write_run(dp);
}

/* A run of segments that should have opened and did not. */
static void
note_trouble(struct datapath *dp, unsigned what, const struct packet *p)
{
	uint32_t *run = what == DP_STRIPPED ? &dp->no_option_run :
	    &dp->bad_tag_run;
	uint32_t at = what == DP_STRIPPED ? DP_STRIPPED_RUN : DP_ALTERED_RUN;

	if (dp->nrx == 0 || (dp->trouble & what))
		return;
	if (++*run < at)
		return;
	dp->trouble |= what;
	dp->trouble_sport = packet_sport(p);
	dp->trouble_dport = packet_dport(p);
}

unsigned
datapath_trouble(const struct datapath *dp, uint16_t *sport, uint16_t *dport)
{
	*sport = dp->trouble_sport;
	*dport = dp->trouble_dport;
	return dp->trouble;
}

void
datapath_block_selected(struct datapath *dp, int on)
{
	dp->block_selected = on;
}

void
datapath_set_source_check(struct datapath *dp, dp_source_ok_fn *ok,
    void *arg)
{
	dp->source_ok = ok;
	dp->source_arg = arg;
}

void
datapath_set_endpoint(struct datapath *dp,
    const struct sockaddr_storage *to, socklen_t tolen)
{
	/* Queued datagrams, if any, go to the new endpoint too. */
	dp->endpoint = *to;
	txq_init(&dp->encap_q, dp->udp_fd, 1, &dp->endpoint, tolen);
}

void
datapath_set_peer_view(struct datapath *dp, const struct zcc_addr *self,
    const struct zcc_addr *to)
{
	dp->nat = self->af == dp->peer.af && to->af == dp->peer.af &&
	    (!addr_equal(self, &dp->peer) || !addr_equal(to, &dp->local));
	memcpy(dp->view_src, self->a, addr_len(self));
	memcpy(dp->view_dst, to->a, addr_len(to));
}

void
datapath_encap_selected(struct datapath *dp, int on)
{
	dp->encap_selected = on;
}

/*
 * The replay guard of rx slot's session, for an authentic segment: a
 * segment with a TCP timestamp is opened once, and only while its TSval is
 * near the newest of its flow (tsguard.h). One without (a pure ACK or a
 * reset) carries no data and cannot open a connection that carries any.
 * DROP_MAX: fresh.
 */
static enum dp_drop
replay_check(struct datapath *dp, int slot, const struct packet *p,
    const uint8_t tag[8])
{
	uint32_t tsval, ports = (uint32_t)packet_sport(p) << 16 | packet_dport(p);

	if (!packet_tsval(p, &tsval))
		return DROP_MAX;
	switch (tsguard_check(dp->guard[slot], ports, tsval, tag)) {
	case TSGUARD_FRESH:
		return DROP_MAX;
	case TSGUARD_SEEN:
		return DROP_REPLAYED;
	case TSGUARD_FULL:
		return DROP_GUARD_FULL;
	case TSGUARD_STALE:
		break;
	}
	if (!dp->warned_stale++)
		log_warnx("dropping the peer's segments whose TCP timestamp "
		    "trails the newest of their connection by over %d ms "
		    "(counted as stale): a replay, or segments reordered that "
		    "much on the path", TSGUARD_TOLERANCE);
	return DROP_STALE;
}

int
datapath_guard_crowded(const struct datapath *dp)
{
	return dp->last_seen >= 0 && (size_t)dp->last_seen < dp->nrx &&
	    tsguard_crowded(dp->guard[dp->last_seen]);
}

static void
open_and_deliver(struct datapath *dp, struct packet *p)
{
	const struct seal_key *k;
	uint8_t tag[8];
	enum dp_drop why;
	int id, slot, rc;

	if (!selected(dp, p)) {
		drop(dp, DROP_NOT_SELECTED, p);
		return;
	}
	if (dp->block_selected) {
		drop(dp, DROP_PORTS_DIFFER, p);
		return;
	}
	id = seal_key_id(p);
	if (id == -1) {
		drop(dp, DROP_NO_OPTION, p);
		note_trouble(dp, DP_STRIPPED, p);
		return;
	}
	slot = rx_slot(dp, id);
	if (slot == -1) {
		drop(dp, dp->nrx ? DROP_BAD_KEY_ID : DROP_NO_KEY, p);
		return;
	}
	k = &dp->k->rx[slot];
	memcpy(tag, p->buf + packet_find_option(p) + ZCC_OPT_TAG_OFF, sizeof(tag));
	rc = dp->nat ? seal_open_as(k, p, dp->view_src, dp->view_dst) :
	    seal_open(k, p);
	if (rc == SEAL_UNPREPARED) {
		drop(dp, DROP_NO_KEY, p);
		return;
	}
	if (rc != SEAL_OK) {
		drop(dp, DROP_BAD_TAG, p);
		note_trouble(dp, DP_ALTERED, p);
		return;
	}
	dp->no_option_run = dp->bad_tag_run = 0;
	if (!timestamps_ok(p)) {
		drop(dp, DROP_NO_TIMESTAMPS, p);
		return;
	}
	if ((why = replay_check(dp, slot, p, tag)) != DROP_MAX) {
		drop(dp, why, p);
		return;
	}
	seen_key(dp, slot);
	note_opening(dp, p, 0, dp->rx_binding[slot]);
	deliver(dp, p, RUN_OPENED);
}

/*
 * Send and write everything pending; the arena is free again above keep
 * (a super-segment still being cut lives below it).
 */
static void
flush(struct datapath *dp, size_t keep)
{
	send_queued(dp, &dp->sealed_q);
	send_queued(dp, &dp->encap_q);
	write_run(dp);
	dp->used = keep;
}

void
datapath_flush(struct datapath *dp)
{
	flush(dp, 0);
}

/*
 * Room for n more bytes in the arena, flushing (all above keep) if need
 * be; NULL when even that leaves too little, which the callers' bounds
 * rule out: a check, not a path.
 */
static uint8_t *
reserve(struct datapath *dp, size_t n, size_t keep)
{
	uint8_t *at;

	if (DP_ARENA - dp->used < n)
		flush(dp, keep);
	if (DP_ARENA - dp->used < n)
		return NULL;
	at = dp->arena + dp->used;
	dp->used += n;
	return at;
}

/* A copy of n bytes in the arena, with room around it. */
static uint8_t *
take(struct datapath *dp, const uint8_t *buf, size_t n)
{
	uint8_t *at = reserve(dp, DP_HEADROOM + n + DP_TAILROOM, 0);

	if (at == NULL)
		return NULL;
	memcpy(at + DP_HEADROOM, buf, n);
	return at + DP_HEADROOM;
}

/* ---- encapsulation: everything else routed into zcc0 ---- */

#define IPV4_HLEN 20
#define IPV6_HLEN 40
#define UDP_HLEN 8
#define ICMP_HLEN 8
#define IP_DF 0x40              /* in the high byte of the fragment field */
#define ICMP6_TOO_BIG 2

/* The datagrams go to the peer over its family: 20 or 40 bytes of IP. */
size_t
datapath_encap_mtu(const struct datapath *dp)
{
	size_t over = (dp->peer.af == AF_INET6 ? IPV6_HLEN : IPV4_HLEN) +
	    UDP_HLEN + ENCAP_OVERHEAD;

	return dp->wire_mtu > over ? dp->wire_mtu - over : 0;
}

/* Write one whole packet into zcc0, no offload. */
static int
write_one(struct datapath *dp, const uint8_t *pkt, size_t n)
{
	struct virtio_net_hdr h = { 0 };
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)(uintptr_t)pkt, .iov_len = n },
	};

	if (writev(dp->tun_fd, iov, 2) != (ssize_t)(sizeof(h) + n)) {
		log_debug("zcc0 write: %s", strerror(errno));
		dp->c.dropped[DROP_IO]++;
		return -1;
	}
	return 0;
}

/*
 * ICMP "fragmentation needed" (RFC 1191) for an IPv4 packet with DF too big
 * to encapsulate, back into zcc0 as if from its destination: our own
 * address as the source would be a martian on zcc0.
 */
static void
icmp_too_big(struct datapath *dp, const uint8_t *pkt, size_t n, size_t mtu)
{
	uint8_t m[IPV4_HLEN + ICMP_HLEN + 60 + 8] = { 0 };
	size_t quote = (size_t)(pkt[0] & 0x0f) * 4 + 8, len;
	struct packet ip = { .buf = m, .af = AF_INET, .ip_hlen = IPV4_HLEN };

	quote = quote < n ? quote : n;
	len = IPV4_HLEN + ICMP_HLEN + quote;
	m[0] = 0x45;
	packet_put16(m + 2, (uint16_t)len);
	m[8] = 64;
	m[9] = 1;                               /* ICMP */
	memcpy(m + 12, pkt + 16, 4);
	memcpy(m + 16, pkt + 12, 4);
	packet_put16(m + 10, packet_ip_checksum(&ip));
	m[20] = 3;                              /* destination unreachable */
	m[21] = 4;                              /* fragmentation needed */
	packet_put16(m + 26, (uint16_t)mtu);
	memcpy(m + 28, pkt, quote);
	packet_finish_checksum(m, len, IPV4_HLEN, 2);
	write_one(dp, m, len);
}

/* RFC 1122 3.2.2: no ICMP error about an ICMP error (only echoes get one). */
static int
is_icmp_error(const uint8_t *pkt, size_t n)
{
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;

	return pkt[9] == 1 && (ihl >= n || (pkt[ihl] != 0 && pkt[ihl] != 8));
}

/*
 * ICMPv6 "packet too big" (RFC 4443 3.2, RFC 8201) for an IPv6 packet too
 * big to encapsulate, into zcc0 from the packet's destination as above,
 * quoting as much of the packet as keeps the message within 1280 bytes.
 */
static void
icmp6_too_big(struct datapath *dp, const uint8_t *pkt, size_t n, size_t mtu)
{
	uint8_t m[IPV6_MIN_MTU] = { 0 };
	size_t quote = sizeof(m) - IPV6_HLEN - ICMP_HLEN, len;
	struct packet ip = { .buf = m, .af = AF_INET6, .ip_hlen = IPV6_HLEN };

	quote = quote < n ? quote : n;
	len = IPV6_HLEN + ICMP_HLEN + quote;
	m[0] = 0x60;
	packet_put16(m + 4, (uint16_t)(len - IPV6_HLEN));
	m[6] = IPPROTO_ICMPV6;
	m[7] = 64;
	memcpy(m + 8, pkt + 24, 16);
	memcpy(m + 24, pkt + 8, 16);
	m[40] = ICMP6_TOO_BIG;
	packet_put32(m + 44, (uint32_t)mtu);
	memcpy(m + 48, pkt, quote);
	packet_put16(m + 42, packet_pseudo_sum_proto(&ip, IPPROTO_ICMPV6,
	    len - IPV6_HLEN));
	packet_finish_checksum(m, len, IPV6_HLEN, 2);
	write_one(dp, m, len);
}

/*
 * RFC 4443 2.4 (e): no ICMPv6 error about an ICMPv6 error (types below
 * 128; informational messages, echoes among them, may get one).
 */
static int
is_icmp6_error(const uint8_t *pkt, size_t n)
{
	return pkt[6] == IPPROTO_ICMPV6 && (n <= IPV6_HLEN || pkt[IPV6_HLEN] < 128);
}

/*
 * A packet too big for one datagram: IPv4 with DF and IPv6 above 1280 are
 * refused with ICMP so their sender learns the path MTU (no ICMPv6 error
 * answers an ICMPv6 error, though it is dropped all the same); IPv4 without DF
 * goes, the datagram fragmented by our stack, and so does IPv6 up to 1280
 * bytes (RFC 2473 7.1: a tunnel must carry what every IPv6 link carries,
 * and a "too big" below 1280 would not be heeded).
 */
static int
too_big(struct datapath *dp, const uint8_t *pkt, size_t n)
{
	size_t mtu = datapath_encap_mtu(dp);

	if (n <= mtu)
		return 0;
	if ((pkt[0] >> 4) == 4 && !(pkt[6] & IP_DF))
		return 0;
	if ((pkt[0] >> 4) == 6 && n <= IPV6_MIN_MTU)
		return 0;
	if ((pkt[0] >> 4) == 4) {
		if (!is_icmp_error(pkt, n))
			icmp_too_big(dp, pkt, n, mtu);
	} else if (!is_icmp6_error(pkt, n))
		icmp6_too_big(dp, pkt, n, mtu > IPV6_MIN_MTU ? mtu : IPV6_MIN_MTU);
	dp->c.dropped[DROP_TOO_BIG]++;
	return 1;
}

static uint8_t
codec_byte(int compress)
{
	return compress == COMPRESS_LZ4 ? ENCAP_CODEC_LZ4 :
	    compress == COMPRESS_LZS ? ENCAP_CODEC_LZS : ENCAP_CODEC_STORED;
}

/*
 * Seal the whole packet into a datagram to the peer's port, in place: the
 * packet lies in the arena with DP_HEADROOM before it and DP_TAILROOM
 * after, so the datagram is built around it without a copy.
 */
static void
encap_and_queue(struct datapath *dp, uint8_t *pkt, size_t n)
{
	struct tx_meta m = { .plain = n };
	uint8_t *msg = pkt - ENCAP_PACKET_OFF;
	const uint8_t *body = pkt;
	uint8_t codec = ENCAP_CODEC_STORED;
	size_t blen = n, z;
	int len;

	if (!dp->have_tx) {
		dp->c.dropped[DROP_NO_KEY]++;
		return;
	}
	if (too_big(dp, pkt, n))
		return;
	if (dp->codec != COMPRESS_NONE &&
	    (z = compress_packet(dp->codec, pkt, n, dp->zbuf,
	    sizeof(dp->zbuf))) > 0) {
		body = dp->zbuf;
		blen = z;
		codec = codec_byte(dp->codec);
	}
	len = encap_seal(&dp->k->etx, codec, body, blen, msg,
	    ENCAP_OVERHEAD + n);
	if (len < 0) {
		dp->c.dropped[len == ENCAP_ERR_EXHAUSTED ? DROP_KEY_EXHAUSTED :
		    DROP_MALFORMED]++;
		return;
	}
	m.wire = (size_t)len;
	queue(dp, &dp->encap_q, msg, (size_t)len, &m);
}

/*
 * A packet our stack left a checksum to finish (TUN_F_CSUM): finish it
 * before it leaves whole, as the device it thought it had would.
 */
static int
finish_checksum(uint8_t *buf, size_t n, const struct virtio_net_hdr *h)
{
	if (h == NULL || !(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return 0;
	return packet_finish_checksum(buf, n, h->csum_start, h->csum_offset);
}

/* A whole IPv4 or IPv6 packet, its length field agreeing with n. */
static int
ip_packet_ok(const uint8_t *b, size_t n)
{
	if (n >= IPV4_HLEN && b[0] >> 4 == 4)
		return (b[0] & 0x0f) >= 5 && (size_t)(b[0] & 0x0f) * 4 <= n &&
		    (size_t)(b[2] << 8 | b[3]) == n;
	if (n >= IPV6_HLEN && b[0] >> 4 == 6)
		return (size_t)(b[4] << 8 | b[5]) + IPV6_HLEN == n;
	return 0;
}

/*
 * zcc0 has no IPv6 address, so what our stack sends into it from the
 * unspecified address :: is zcc0's own link-local housekeeping: the MLD
 * reports the kernel sends for the all-routers groups when IPv6
 * forwarding is on. No router may forward a packet from :: (RFC 4291
 * 2.5.2) and the peer has no use for it: it is not carried, nor counted.
 */
static int
from_unspecified(const uint8_t *b, size_t n)
{
	static const uint8_t any[16];

	return n >= IPV6_HLEN && b[0] >> 4 == 6 && memcmp(b + 8, any, 16) == 0;
}

/* A TCP SYN, by a look at the bytes (no IPv6 extension headers). */
static int
looks_like_syn(const uint8_t *b, size_t n)
{
	size_t at;

	if (b[0] >> 4 == 4) {
		at = (size_t)(b[0] & 15) * 4 + 13;
		return b[9] == IPPROTO_TCP && n > at && (b[at] & ZCC_TCP_SYN);
	}
	at = IPV6_HLEN + 13;
	return b[6] == IPPROTO_TCP && n > at && (b[at] & ZCC_TCP_SYN);
}

static void
encapsulate(struct datapath *dp, uint8_t *buf, size_t n,
    const struct virtio_net_hdr *h)
{
	struct packet p;

	if (!ip_packet_ok(buf, n) || finish_checksum(buf, n, h) == -1) {
		dp->c.dropped[DROP_MALFORMED]++;
		return;
	}
	if (from_unspecified(buf, n)) {
		log_debug("not carried: IPv6 from :: (zcc0's own MLD)");
		return;
	}
	if (dp->have_tx && looks_like_syn(buf, n) &&
	    packet_parse(&p, buf, n) == PACKET_OK)
		note_opening(dp, &p, 1, dp->tx_binding);
	encap_and_queue(dp, buf, n);
}

static void
count_encap_error(struct datapath *dp, int err)
{
	switch (err) {
	case ENCAP_ERR_KEY_ID:
		dp->c.dropped[dp->nrx ? DROP_BAD_KEY_ID : DROP_NO_KEY]++;
		break;
	case ENCAP_ERR_REPLAY:
		dp->c.dropped[DROP_REPLAYED]++;
		break;
	case ENCAP_ERR_TAG:
		dp->c.dropped[DROP_BAD_TAG]++;
		break;
	default:
		dp->c.dropped[DROP_MALFORMED]++;
		break;
	}
}

/*
 * Across a NAT, the peer's selected segments carried whole (fallback-encap)
 * have the addresses of its view; our TCP knows the connection by ours.
 */
static void
unview(struct datapath *dp, struct packet *p)
{
	size_t alen = packet_addr_len(p);

	if (!dp->nat || p->af != dp->peer.af || !selected(dp, p) ||
	    memcmp(packet_saddr(p), dp->view_src, alen) != 0 ||
	    memcmp(packet_daddr(p), dp->view_dst, alen) != 0)
		return;
	memcpy(p->buf + (p->af == AF_INET6 ? 8 : 12), dp->peer.a, alen);
	memcpy(p->buf + (p->af == AF_INET6 ? 24 : 16), dp->local.a, alen);
	packet_fix_checksums(p);
}

/*
 * The peer may send from its own address (selected flows) and from the
 * addresses this host routes into zcc0; anything else it is not to speak
 * for, however authentic the datagram (PROTOCOL.md, "Encapsulation").
 */
static int
source_allowed(const struct datapath *dp, const uint8_t *pkt)
{
	int af = pkt[0] >> 4 == 6 ? AF_INET6 : AF_INET;
	const uint8_t *src = pkt + (af == AF_INET6 ? 8 : 12);

	return dp->source_ok == NULL || addr_is(&dp->peer, af, src) ||
	    dp->source_ok(dp->source_arg, af, src);
}

/* A decapsulated packet into zcc0: TCP joins a run, the rest goes alone. */
static void
deliver_decapsulated(struct datapath *dp, uint8_t *pkt, size_t n, size_t slot)
{
	struct packet p;

	if (packet_parse(&p, pkt, n) == PACKET_OK) {
		unview(dp, &p);
		if (!source_allowed(dp, pkt))
			drop(dp, DROP_UNROUTED_SOURCE, &p);
		else {
			note_opening(dp, &p, 0, dp->rx_binding[slot]);
			deliver(dp, &p, RUN_DECAPSULATED);
		}
		return;
	}
	if (!source_allowed(dp, pkt)) {
		dp->c.dropped[DROP_UNROUTED_SOURCE]++;
		return;
	}
	write_run(dp);          /* keep the order of what came */
	if (write_one(dp, pkt, n) == 0) {
		dp->c.decapsulated++;
		dp->c.bytes_decapsulated += n;
	}
}

int
datapath_on_encap(struct datapath *dp, const uint8_t *msg, size_t len)
{
	struct encap_rx *rx[DP_RX_KEYS];
	uint8_t codec, *at, *pkt;
	size_t slot;
	long n;
	int opened = 0;

	if (len > ENCAP_MAX_LEN) {
		dp->c.dropped[DROP_MALFORMED]++;
		return 0;
	}
	for (size_t i = 0; i < dp->nrx; i++)
		rx[i] = &dp->k->erx[i];
	/* The packet, and room to decompress it, until datapath_flush. */
	at = reserve(dp, len + ENCAP_MAX_PACKET, 0);
	if (at == NULL) {
		dp->c.dropped[DROP_MALFORMED]++;
		return 0;
	}
	pkt = at;
	n = encap_open(rx, dp->nrx, msg, len, at, len, &codec, &slot);
	if (n < 0) {
		count_encap_error(dp, (int)n);
		goto give_back;
	}
	opened = 1;     /* authentic, whatever it holds */
	seen_key(dp, (int)slot);
	if (codec != ENCAP_CODEC_STORED) {
		pkt = at + len;
		n = decompress_packet(codec == ENCAP_CODEC_LZ4 ? COMPRESS_LZ4 :
		    COMPRESS_LZS, at, (size_t)n, pkt, ENCAP_MAX_PACKET);
		if (n < 0) {
			dp->c.dropped[DROP_BAD_COMPRESSION]++;
			goto give_back;
		}
	}
	if (!ip_packet_ok(pkt, (size_t)n)) {
		dp->c.dropped[DROP_MALFORMED]++;
		goto give_back;
	}
	dp->used = (size_t)(pkt - dp->arena) + (size_t)n;
	deliver_decapsulated(dp, pkt, (size_t)n, slot);
	return 1;
give_back:
	dp->used = (size_t)(at - dp->arena);
	return opened;
}

/* ---- dispatch ---- */

/*
 * One whole packet in buf (n bytes, cap bytes of room); h, when not NULL,
 * says how zcc0 handed it over (a checksum left to finish). In place: our
 * selected TCP segments to the peer.
 * Everything else our stack routed into zcc0 travels encapsulated.
 */
static void
handle_packet(struct datapath *dp, uint8_t *buf, size_t n, size_t cap,
    const struct virtio_net_hdr *h)
{
	struct packet p = { 0 };
	int toward, outgoing, err;

	err = packet_parse_ip(&p, buf, n);
	if (err == PACKET_NOT_IP) {
		encapsulate(dp, buf, n, h);
		return;
	}
	if (err != PACKET_OK) {
		drop(dp, DROP_MALFORMED, &p);
		return;
	}
	toward = addr_is(&dp->peer, p.af, packet_daddr(&p));
	outgoing = toward && addr_is(&dp->local, p.af, packet_saddr(&p));
	err = packet_parse(&p, buf, n);
	/*
	 * The peer seals and selects only flows with our link address, so a
	 * selected flow from another address of ours would get its answers
	 * in clear: it never leaves.
	 */
	if (toward && !outgoing && err == PACKET_OK && selected(dp, &p)) {
		drop(dp, DROP_OTHER_SOURCE, &p);
		return;
	}
	if (outgoing && err == PACKET_OK && selected(dp, &p)) {
		if (dp->block_selected)
			drop(dp, DROP_PORTS_DIFFER, &p);
		else if (dp->encap_selected)
			encapsulate(dp, buf, n, h);
		else
			seal_and_queue(dp, &p, cap);
		return;
	}
	if (outgoing && (err == PACKET_FRAGMENT || err == PACKET_EXT_HEADER)) {
		/* Maybe a selected flow's: never let it leave another way. */
		drop(dp, parse_error_reason(err), &p);
		return;
	}
	encapsulate(dp, buf, n, h);
}

/*
 * A TSO super-segment from our own stack: cut it as GSO would and seal
 * each segment. Only our selected flows may arrive this way; anything
 * else is handled (and dropped) as one packet.
 */
static void
handle_super(struct datapath *dp, uint8_t *buf, size_t n, size_t mss)
{
	struct packet super;
	size_t keep = dp->used;         /* buf lies below: keep it while cutting */
	struct virtio_net_hdr seg_csum = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
	    .csum_offset = 16 };
	long len;

	/*
	 * The kernel never sends a segment size whose segment would not be an
	 * IP packet; a header that did would take more than a read's room.
	 */
	if (packet_parse(&super, buf, n) != PACKET_OK || mss == 0 ||
	    super.ip_hlen + super.tcp_hlen + mss > 65535) {
		dp->c.dropped[DROP_MALFORMED]++;
		return;
	}
	seg_csum.csum_start = (uint16_t)super.ip_hlen;
	for (size_t i = 0;; i++) {
		size_t room = super.ip_hlen + super.tcp_hlen + mss + DP_TAILROOM;
		uint8_t *seg = reserve(dp, DP_HEADROOM + room, keep);

		if (seg == NULL) {
			len = -1;
			break;
		}
		seg += DP_HEADROOM;
		len = offload_segment(&super, mss, i, seg, room);
		if (len <= 0)
			break;
		handle_packet(dp, seg, (size_t)len, room, &seg_csum);
	}
	if (len < 0)
		dp->c.dropped[DROP_MALFORMED]++;
}

/* One read from zcc0: its virtio header h, then the packet at buf. */
static void
handle_read(struct datapath *dp, const struct virtio_net_hdr *h, uint8_t *buf,
    size_t n)
{
	if (h->gso_type == VIRTIO_NET_HDR_GSO_TCPV4 ||
	    h->gso_type == VIRTIO_NET_HDR_GSO_TCPV6)
		handle_super(dp, buf, n, h->gso_size);
	else if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		handle_packet(dp, buf, n, n + DP_TAILROOM, h);
	else
		dp->c.dropped[DROP_MALFORMED]++;    /* an offload we never offered */
}

void
datapath_handle(struct datapath *dp, const uint8_t *buf, size_t n)
{
	uint8_t *at;

	if (n > ENCAP_MAX_PACKET || (at = take(dp, buf, n)) == NULL) {
		dp->c.dropped[DROP_MALFORMED]++;
		return;
	}
	handle_packet(dp, at, n, n + DP_TAILROOM, NULL);
	flush(dp, 0);
}

int
datapath_on_tun(struct datapath *dp)
{
	int ret = 0;

	dp->now = now_seconds();
	for (int i = 0; i < DP_BATCH; i++) {
		struct virtio_net_hdr h;
		uint8_t *pkt;
		ssize_t n;

		/* Room for this read and for the segments cut from it. */
		if (DP_ARENA - dp->used < 2 * DP_READ_ROOM)
			flush(dp, 0);
		/* The virtio header lands in the packet's headroom. */
		pkt = dp->arena + dp->used + DP_HEADROOM;
		n = read(dp->tun_fd, pkt - OFFLOAD_VNET_LEN,
		    OFFLOAD_VNET_LEN + ENCAP_MAX_PACKET);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR) {
				log_warn("zcc0 read");
				ret = -1;
			}
			break;
		}
		if ((size_t)n < OFFLOAD_VNET_LEN) {
			dp->c.dropped[DROP_MALFORMED]++;
			continue;
		}
		memcpy(&h, pkt - OFFLOAD_VNET_LEN, sizeof(h));
		n -= (ssize_t)OFFLOAD_VNET_LEN;
		dp->used += DP_HEADROOM + (size_t)n + DP_TAILROOM;
		handle_read(dp, &h, pkt, (size_t)n);
	}
	flush(dp, 0);
	return ret;
}

/*
 * A packet the ring took: steering's filter matched it, so it claims to
 * be the peer's sealed segment of a selected flow. Anything else it brings
 * is dropped, never encapsulated back.
 */
static void
handle_wire(struct datapath *dp, uint8_t *buf, size_t n)
{
	struct packet p = { 0 };
	int err;

	err = packet_parse(&p, buf, n);
	if (err != PACKET_OK) {
		drop(dp, err == PACKET_NOT_TCP || err == PACKET_NOT_IP ?
		    DROP_NOT_SELECTED : parse_error_reason(err), &p);
		return;
	}
	if (!addr_is(&dp->peer, p.af, packet_saddr(&p)) ||
	    !addr_is(&dp->local, p.af, packet_daddr(&p))) {
		drop(dp, DROP_NOT_SELECTED, &p);
		return;
	}
	open_and_deliver(dp, &p);
}

/* Overruns are read once a second: a system call per wake-up would cost. */
static void
count_ring_overruns(struct datapath *dp, struct intake *in)
{
	if (dp->ring_checked == dp->now)
		return;
	dp->ring_checked = dp->now;
	dp->c.dropped[DROP_RING_FULL] += intake_overruns(in);
}

/* A copy of the n bytes the ring took, handled; wire_n were on the wire. */
static void
take_wire(struct datapath *dp, const uint8_t *pkt, size_t n, size_t wire_n)
{
	if (n != wire_n || n > ENCAP_MAX_PACKET) {
		/* Cut by the frame (over the MTU), or over any packet. */
		dp->c.dropped[DROP_MALFORMED]++;
		return;
	}
	handle_wire(dp, take(dp, pkt, n), n);
}

void
datapath_on_wire(struct datapath *dp, struct intake *in)
{
	dp->now = now_seconds();
	count_ring_overruns(dp, in);
	for (int i = 0; i < DP_BATCH; i++) {
		const uint8_t *pkt;
		size_t n, wire_n;

		pkt = intake_next(in, &n, &wire_n);
		if (pkt == NULL)
			break;
		take_wire(dp, pkt, n, wire_n);
		intake_release(in);
	}
	flush(dp, 0);
}

void
datapath_handle_wire(struct datapath *dp, const uint8_t *buf, size_t n)
{
	take_wire(dp, buf, n, n);
	flush(dp, 0);
}
