/*
 * The data path. zcc0 hands over two kinds of packets: our own selected
 * segments, routed in by the ip rules (sealed here and sent on the raw
 * socket), and the peer's sealed segments, redirected in by the tc ingress
 * filters (opened here and written back into zcc0, where the kernel
 * delivers them as if they had arrived on it). Nothing else belongs here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <arpa/inet.h>

#include "zcc/datapath.h"
#include "zcc/log.h"
#include "zcc/packet.h"

/* A TUN read returns at most one MTU-sized packet; leave room for the option. */
#define DP_BUF_SIZE (65535 + ZCC_OPT_LEN)
#define DP_BATCH 64
/* The SIV collision bound (PROTOCOL.md): a key seals at most 2^32 segments. */
#define DP_KEY_SEGMENTS_MAX (UINT64_C(1) << 32)
/* Flows are kept for "zccctl show" in a small table; the oldest make room. */
#define DP_FLOWS 64

struct flow {
	struct dp_flow f;
	int used;
	time_t last;                    /* CLOCK_MONOTONIC seconds */
};

struct datapath {
	struct zcc_options opt;         /* a copy: the caller's may not outlive us */
	struct in_addr local;
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
	uint8_t buf[DP_BUF_SIZE];
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

static void
seal_and_send(struct datapath *dp, struct packet *p, size_t cap)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = dp->opt.peer };
	size_t plain = p->payload_len;
	struct dp_flow *f;
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
	if (sendto(dp->raw_fd, p->buf, p->len, 0, (struct sockaddr *)&to,
	    sizeof(to)) == -1) {
		log_debug("raw send: %s", strerror(errno));
		drop(dp, DROP_IO, p);
		return;
	}
	dp->c.sealed++;
	dp->c.bytes_sealed += plain;
	dp->c.sack_trimmed += trimmed > 0;
	f = flow_of(dp, packet_sport(p), packet_dport(p));
	f->sealed++;
	f->bytes_sealed += plain;
}

static const struct seal_key *
rx_key(const struct datapath *dp, int id)
{
	for (size_t i = 0; i < dp->nrx; i++)
		if (dp->rx[i].id == id)
			return &dp->rx[i];
	return NULL;
}

static void
count_opened(struct datapath *dp, const struct packet *p)
{
	struct dp_flow *f = flow_of(dp, packet_dport(p), packet_sport(p));

	dp->c.opened++;
	dp->c.bytes_opened += p->payload_len;
	f->opened++;
	f->bytes_opened += p->payload_len;
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
	if (write(dp->tun_fd, p->buf, p->len) != (ssize_t)p->len) {
		log_debug("zcc0 write: %s", strerror(errno));
		drop(dp, DROP_IO, p);
		return;
	}
	count_opened(dp, p);
}

void
datapath_handle(struct datapath *dp, uint8_t *buf, size_t n, size_t cap)
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
		seal_and_send(dp, &p, cap);
	else
		open_and_deliver(dp, &p);
}

int
datapath_on_tun(struct datapath *dp)
{
	dp->now = now_seconds();
	for (int i = 0; i < DP_BATCH; i++) {
		ssize_t n = read(dp->tun_fd, dp->buf, DP_BUF_SIZE - ZCC_OPT_LEN);

		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			log_warn("zcc0 read");
			return -1;
		}
		datapath_handle(dp, dp->buf, (size_t)n, DP_BUF_SIZE);
	}
	return 0;
}
