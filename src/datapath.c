/*
 * The data path. zcc0 hands over two kinds of packets: our own selected
 * segments, routed in by the ip rules (sealed here and sent on the raw
 * socket), and the peer's sealed segments, redirected in by the tc ingress
 * filters (opened here and written back into zcc0, where the kernel
 * delivers them as if they had arrived on it). Nothing else belongs here.
 *
 * System calls, not crypto, bound a userspace data path (docs/DECISIONS.md,
 * "Offloads"), so everything is batched: zcc0 runs with TSO and hands over
 * super-segments, cut here into wire segments (offload.h) and sealed one
 * by one; the sealed segments of a batch leave in one sendmmsg, and the
 * opened segments of one flow go back into zcc0 as one GRO-style write.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <arpa/inet.h>

#include "zcc/datapath.h"
#include "zcc/log.h"
#include "zcc/offload.h"
#include "zcc/packet.h"

/* Reads from zcc0 per wake-up: a latency bound, not a throughput one. */
#define DP_BATCH 64
/* One read: the virtio header, a 64 KB super-segment, room for the option. */
#define DP_READ_ROOM (OFFLOAD_VNET_LEN + 65535 + ZCC_OPT_LEN)
/* Reads, segments and opened packets live here until the batch is flushed. */
#define DP_ARENA (16 * DP_READ_ROOM)
/* Sealed segments sent per sendmmsg. */
#define DP_TX_MAX 256
/* The SIV collision bound (PROTOCOL.md): a key seals at most 2^32 segments. */
#define DP_KEY_SEGMENTS_MAX (UINT64_C(1) << 32)
/* Flows are kept for "zccctl show" in a small table; the oldest make room. */
#define DP_FLOWS 64

struct flow {
	struct dp_flow f;
	int used;
	time_t last;                    /* CLOCK_MONOTONIC seconds */
};

/* What a queued sealed segment counts once it has left. */
struct tx_meta {
	size_t plain;                   /* payload bytes before sealing */
	uint16_t lport, rport;
	int trimmed;
};

struct datapath {
	struct zcc_options opt;         /* a copy: the caller's may not outlive us */
	struct in_addr local;
	struct sockaddr_in to;          /* the peer, for the raw socket */
	int tun_fd, raw_fd;
	struct seal_key tx, rx[DP_RX_KEYS];
	int have_tx;
	size_t nrx;
	uint64_t tx_used;               /* segments sealed under tx */
	int last_seen_id;               /* key id last reported to key_seen */
	dp_key_seen_fn *key_seen;
	void *arg;
	struct dp_counters c;
	struct flow flows[DP_FLOWS];
	size_t last_flow;               /* the slot hit last: segments come in runs */
	time_t now;                     /* read once per batch from zcc0 */
	int warned_no_timestamps;
	struct mmsghdr txq[DP_TX_MAX];  /* sealed, not yet sent */
	struct iovec txiov[DP_TX_MAX];
	struct tx_meta txmeta[DP_TX_MAX];
	size_t ntx;
	struct gro gro;                 /* opened, not yet written */
	size_t used;                    /* bytes of arena in use */
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
};

const char *
datapath_drop_name(enum dp_drop d)
{
	return d < DROP_MAX ? drop_names[d] : "?";
}

struct datapath *
datapath_new(const struct zcc_options *o, struct in_addr local, int tun_fd,
    int raw_fd, dp_key_seen_fn *key_seen, void *arg)
{
	struct datapath *dp = calloc(1, sizeof(*dp));

	if (dp == NULL)
		return NULL;
	dp->local = local;
	dp->opt = *o;
	dp->tun_fd = tun_fd;
	dp->raw_fd = raw_fd;
	dp->key_seen = key_seen;
	dp->arg = arg;
	dp->last_seen_id = -1;
	dp->to.sin_family = AF_INET;
	dp->to.sin_addr = o->peer;
	for (size_t i = 0; i < DP_TX_MAX; i++) {
		dp->txq[i].msg_hdr.msg_name = &dp->to;
		dp->txq[i].msg_hdr.msg_namelen = sizeof(dp->to);
		dp->txq[i].msg_hdr.msg_iov = &dp->txiov[i];
		dp->txq[i].msg_hdr.msg_iovlen = 1;
	}
	gro_init(&dp->gro);
	return dp;
}

static void
wipe_keys(struct datapath *dp)
{
	seal_key_wipe(&dp->tx);
	for (size_t i = 0; i < DP_RX_KEYS; i++)
		seal_key_wipe(&dp->rx[i]);
	dp->have_tx = 0;
	dp->nrx = 0;
}

void
datapath_set_keys(struct datapath *dp, const struct seal_key *tx,
    const struct seal_key *const rx[], size_t nrx)
{
	int same_tx = tx && dp->have_tx && tx->id == dp->tx.id &&
	    sodium_memcmp(tx->mac, dp->tx.mac, sizeof(tx->mac)) == 0;

	wipe_keys(dp);
	if (tx) {
		dp->tx = *tx;
		dp->have_tx = 1;
	}
	if (!same_tx)
		dp->tx_used = 0;
	for (size_t i = 0; i < nrx && i < DP_RX_KEYS; i++)
		dp->rx[dp->nrx++] = *rx[i];
	dp->last_seen_id = -1;
}

uint64_t
datapath_tx_used(const struct datapath *dp)
{
	return dp->tx_used;
}

void
datapath_set_options(struct datapath *dp, const struct zcc_options *o)
{
	dp->opt = *o;
}

void
datapath_free(struct datapath *dp)
{
	if (dp == NULL)
		return;
	wipe_keys(dp);
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
	return options_port_selected(&dp->opt, packet_sport(p)) ||
	    options_port_selected(&dp->opt, packet_dport(p));
}

static int
addr_is(const uint8_t *a, struct in_addr want)
{
	return memcmp(a, &want.s_addr, 4) == 0;
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
	return err == PACKET_FRAGMENT ? DROP_FRAGMENT : DROP_MALFORMED;
}

/* Send the queued sealed segments; count each by how it fared. */
static void
send_queued(struct datapath *dp)
{
	size_t done = 0;

	while (done < dp->ntx) {
		int n = sendmmsg(dp->raw_fd, dp->txq + done,
		    (unsigned int)(dp->ntx - done), 0);

		if (n == -1 && errno == EINTR)
			continue;
		for (int i = 0; i < n; i++) {
			const struct tx_meta *m = &dp->txmeta[done + i];
			struct dp_flow *f = flow_of(dp, m->lport, m->rport);

			dp->c.sealed++;
			dp->c.bytes_sealed += m->plain;
			dp->c.sack_trimmed += m->trimmed > 0;
			f->sealed++;
			f->bytes_sealed += m->plain;
		}
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		/* The segment at done was refused: count it, send the rest. */
		log_debug("raw send: %s", strerror(errno));
		dp->c.dropped[DROP_IO]++;
		done++;
	}
	dp->ntx = 0;
}

static void
queue_sealed(struct datapath *dp, const struct packet *p, size_t plain,
    int trimmed)
{
	struct tx_meta *m = &dp->txmeta[dp->ntx];

	dp->txiov[dp->ntx].iov_base = p->buf;
	dp->txiov[dp->ntx].iov_len = p->len;
	m->plain = plain;
	m->lport = packet_sport(p);
	m->rport = packet_dport(p);
	m->trimmed = trimmed;
	if (++dp->ntx == DP_TX_MAX)
		send_queued(dp);
}

static void
seal_and_queue(struct datapath *dp, struct packet *p, size_t cap)
{
	size_t plain = p->payload_len;
	int trimmed = 0;

	if (!selected(dp, p)) {
		drop(dp, DROP_NOT_SELECTED, p);
		return;
	}
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
	if (seal_segment(&dp->tx, p, cap, &trimmed) != SEAL_OK) {
		drop(dp, DROP_NO_ROOM, p);
		return;
	}
	queue_sealed(dp, p, plain, trimmed);
}

static const struct seal_key *
rx_key(const struct datapath *dp, int id)
{
	for (size_t i = 0; i < dp->nrx; i++)
		if (dp->rx[i].id == id)
			return &dp->rx[i];
	return NULL;
}

/* Write the pending run of opened segments into zcc0; count it. */
static void
write_run(struct datapath *dp)
{
	struct gro *g = &dp->gro;
	struct packet *first = &g->first;
	struct dp_flow *f;
	size_t payload;
	int iovcnt;

	if (gro_empty(g))
		return;
	payload = g->len - first->ip_hlen - first->tcp_hlen;
	iovcnt = gro_finish(g);
	if (writev(dp->tun_fd, g->iov, iovcnt) != (ssize_t)(OFFLOAD_VNET_LEN +
	    g->len)) {
		log_debug("zcc0 write: %s", strerror(errno));
		dp->c.dropped[DROP_IO] += g->nsegs;
		gro_init(g);
		return;
	}
	f = flow_of(dp, packet_dport(first), packet_sport(first));
	dp->c.opened += g->nsegs;
	dp->c.bytes_opened += payload;
	f->opened += g->nsegs;
	f->bytes_opened += payload;
	gro_init(g);
}

/*
 * Hand an opened segment to zcc0: it joins the pending run of its flow
 * when it can; otherwise the run goes out first, and the segment begins a
 * new run or, when it cannot merge at all (SYN, FIN, pure ACK), goes alone.
 */
static void
deliver(struct datapath *dp, const struct packet *p)
{
	if (gro_add(&dp->gro, p))
		return;
	write_run(dp);
	if (gro_add(&dp->gro, p))
		return;
	gro_one(&dp->gro, p);
	write_run(dp);
}

static void
open_and_deliver(struct datapath *dp, struct packet *p)
{
	const struct seal_key *k;
	int id;

	if (!selected(dp, p)) {
		drop(dp, DROP_NOT_SELECTED, p);
		return;
	}
	id = seal_key_id(p);
	if (id == -1) {
		drop(dp, DROP_NO_OPTION, p);
		return;
	}
	k = rx_key(dp, id);
	if (k == NULL) {
		drop(dp, dp->nrx ? DROP_BAD_KEY_ID : DROP_NO_KEY, p);
		return;
	}
	if (seal_open(k, p) != SEAL_OK) {
		drop(dp, DROP_BAD_TAG, p);
		return;
	}
	if (id != dp->last_seen_id) {
		/* Only authentic segments may confirm a session. */
		dp->last_seen_id = id;
		if (dp->key_seen)
			dp->key_seen(dp->arg, (uint8_t)id);
	}
	if (!timestamps_ok(p)) {
		drop(dp, DROP_NO_TIMESTAMPS, p);
		return;
	}
	deliver(dp, p);
}

/* One whole IPv4 packet in buf (n bytes, cap bytes of room). */
static void
handle_packet(struct datapath *dp, uint8_t *buf, size_t n, size_t cap)
{
	struct packet p = { 0 };
	int outgoing, incoming, err;

	err = packet_parse_ip(&p, buf, n);
	if (err != PACKET_OK) {
		/* IPv6 routed into zcc0 has no path yet: not ours to seal. */
		drop(dp, err == PACKET_NOT_IPV4 ? DROP_NOT_SELECTED : DROP_MALFORMED, &p);
		return;
	}
	outgoing = addr_is(packet_saddr(&p), dp->local) &&
	    addr_is(packet_daddr(&p), dp->opt.peer);
	incoming = addr_is(packet_saddr(&p), dp->opt.peer) &&
	    addr_is(packet_daddr(&p), dp->local);
	if (!outgoing && !incoming) {
		drop(dp, DROP_NOT_SELECTED, &p);
		return;
	}
	err = packet_parse(&p, buf, n);
	if (err == PACKET_NOT_TCP) {
		drop(dp, DROP_NOT_SELECTED, &p);
		return;
	}
	if (err != PACKET_OK) {
		drop(dp, parse_error_reason(err), &p);
		return;
	}
	if (outgoing)
		seal_and_queue(dp, &p, cap);
	else
		open_and_deliver(dp, &p);
}

/*
 * Send and write everything pending; the arena is free again above keep
 * (a super-segment still being cut lives below it).
 */
static void
flush(struct datapath *dp, size_t keep)
{
	send_queued(dp);
	write_run(dp);
	dp->used = keep;
}

/* Room for n more bytes in the arena, flushing if need be. */
static uint8_t *
reserve(struct datapath *dp, size_t n, size_t keep)
{
	uint8_t *at;

	if (DP_ARENA - dp->used < n)
		flush(dp, keep);
	at = dp->arena + dp->used;
	dp->used += n;
	return at;
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
	long len;

	if (packet_parse(&super, buf, n) != PACKET_OK || mss == 0) {
		handle_packet(dp, buf, n, n);
		return;
	}
	for (size_t i = 0;; i++) {
		size_t room = super.ip_hlen + super.tcp_hlen + mss + ZCC_OPT_LEN;
		uint8_t *seg = reserve(dp, room, keep);

		len = offload_segment(&super, mss, i, seg, room);
		if (len <= 0)
			break;
		handle_packet(dp, seg, (size_t)len, room);
	}
	if (len < 0)
		dp->c.dropped[DROP_MALFORMED]++;
}

/* One read from zcc0 at buf: the virtio header, then the packet. */
static void
handle_read(struct datapath *dp, uint8_t *buf, size_t n)
{
	struct virtio_net_hdr h;

	if (n < OFFLOAD_VNET_LEN) {
		dp->c.dropped[DROP_MALFORMED]++;
		return;
	}
	memcpy(&h, buf, sizeof(h));
	buf += OFFLOAD_VNET_LEN;
	n -= OFFLOAD_VNET_LEN;
	if (h.gso_type == VIRTIO_NET_HDR_GSO_TCPV4)
		handle_super(dp, buf, n, h.gso_size);
	else if (h.gso_type == VIRTIO_NET_HDR_GSO_NONE)
		handle_packet(dp, buf, n, n + ZCC_OPT_LEN);
	else
		dp->c.dropped[DROP_MALFORMED]++;    /* an offload we never offered */
}

void
datapath_handle(struct datapath *dp, uint8_t *buf, size_t n, size_t cap)
{
	handle_packet(dp, buf, n, cap);
	flush(dp, 0);
}

int
datapath_on_tun(struct datapath *dp)
{
	int ret = 0;

	dp->now = now_seconds();
	for (int i = 0; i < DP_BATCH; i++) {
		uint8_t *at;
		ssize_t n;

		/* Room for this read and for the segments cut from it. */
		if (DP_ARENA - dp->used < 2 * DP_READ_ROOM)
			flush(dp, 0);
		at = dp->arena + dp->used;
		n = read(dp->tun_fd, at, DP_READ_ROOM - ZCC_OPT_LEN);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR) {
				log_warn("zcc0 read");
				ret = -1;
			}
			break;
		}
		dp->used += (size_t)n + ZCC_OPT_LEN;
		handle_read(dp, at, (size_t)n);
	}
	flush(dp, 0);
	return ret;
}
