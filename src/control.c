/* SPDX-License-Identifier: ISC */
/*
 * The control socket: zcctund answers "show" requests from zccctl.
 *
 * It is served from the daemon's own event loop, so no client may be able
 * to stall it: every client socket is non-blocking, a request is one line
 * of at most CONTROL_REQ_MAX bytes, and each client has a fixed deadline
 * from the moment it is accepted (not an idle timeout, which a client
 * trickling one byte at a time could stretch). A client that is silent,
 * slow or never reads its reply costs a few kilobytes and two seconds.
 *
 * Only root may ask: the socket is mode 0600 in a 0700 directory, and the
 * peer's credentials are checked as well, so a mistaken chmod does not
 * open it to everyone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "zcc/compress.h"
#include "zcc/control.h"
#include "zcc/log.h"
#include "zcc/seal.h"
#include "zcc/steer.h"

#define CONTROL_REPLY_MAX (64 * 1024)   /* 64 flows take about 10 KB */
#define CONTROL_DEADLINE_SEC 2          /* from accept to the last byte sent */
#define CONTROL_MAX_CLIENTS 8
#define CONTROL_BACKLOG 8

struct control;

struct client {
	struct control *ctl;
	struct client *next;
	int fd;
	struct event *rd, *wr, *deadline;
	char req[CONTROL_REQ_MAX];
	size_t reqlen;
	char *reply;
	size_t replylen, sent;
};

struct control {
	struct event_base *base;
	control_status_fn *fn;
	control_sid_fn *sid;            /* NULL: no session IDs here */
	control_command_fn *cmd;
	void *arg;
	int fd;                         /* listening; the parent's, not closed here */
	struct event *listen_ev, *pause_ev;
	struct client *clients;
	size_t nclients;
	struct zcc_status st;           /* too big for the stack of a callback */
	char render[CONTROL_REPLY_MAX];
};

/* ---- rendering ---- */

/* An output buffer that remembers overflow instead of truncating silently. */
struct out {
	char *buf;
	size_t len, used;
	int full;
};

static void out_add(struct out *o, const char *fmt, ...) ZCC_PRINTF(2, 3);

static void
out_add(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->used)
		o->full = 1;
	else
		o->used += (size_t)n;
}

/*
 * Text goes to an operator's terminal: no byte of a name may act as a
 * control sequence there, so everything outside printable ASCII is shown
 * as \xNN (and the backslash doubled, to keep that unambiguous).
 */
static void
text_str(struct out *o, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strnlen(s, max);

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\')
			out_add(o, "\\\\");
		else if (p[i] >= 0x20 && p[i] < 0x7f)
			out_add(o, "%c", p[i]);
		else
			out_add(o, "\\x%02x", p[i]);
	}
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629), 0 if none. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4;
	else
		return 0;
	/* No overlong forms, no surrogates, nothing above U+10FFFF. */
	if (*p == 0xe0)
		lo = 0xa0;
	else if (*p == 0xed)
		hi = 0x9f;
	else if (*p == 0xf0)
		lo = 0x90;
	else if (*p == 0xf4)
		hi = 0x8f;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (p[i] < lo || p[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

/*
 * A JSON string (RFC 8259) that any parser accepts whatever the bytes:
 * quotes, backslashes and control characters escaped, valid UTF-8 kept,
 * and each byte that is not valid UTF-8 replaced by U+FFFD.
 */
static void
json_str(struct out *o, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + strnlen(s, max);
	size_t n;

	out_add(o, "\"");
	while (p < end) {
		if (*p == '"' || *p == '\\')
			out_add(o, "\\%c", *p);
		else if (*p == '\n')
			out_add(o, "\\n");
		else if (*p == '\t')
			out_add(o, "\\t");
		else if (*p == '\r')
			out_add(o, "\\r");
		else if (*p < 0x20 || *p == 0x7f)
			out_add(o, "\\u%04x", *p);
		else if (*p < 0x80)
			out_add(o, "%c", *p);
		else if ((n = utf8_len(p, end)) == 0)
			out_add(o, "\\ufffd");
		else {
			out_add(o, "%.*s", (int)n, (const char *)p);
			p += n;
			continue;
		}
		p++;
	}
	out_add(o, "\"");
}

/* Every link counter, by the name both outputs use. */
#define LINK_FIELD(f) { #f, offsetof(struct link_counters, f) }
static const struct {
	const char *name;
	size_t off;
} link_fields[] = {
	LINK_FIELD(handshakes), LINK_FIELD(rekeys), LINK_FIELD(hs_sent),
	LINK_FIELD(hs_received), LINK_FIELD(hs_bad_mac), LINK_FIELD(hs_bad),
	LINK_FIELD(hs_replayed), LINK_FIELD(hs_rate_limited),
	LINK_FIELD(echo_sent), LINK_FIELD(echo_received), LINK_FIELD(echo_bad),
	LINK_FIELD(keepalive_misses), LINK_FIELD(link_ups), LINK_FIELD(link_downs),
};
#define NLINK_FIELDS (sizeof(link_fields) / sizeof(link_fields[0]))
_Static_assert(NLINK_FIELDS * sizeof(uint64_t) == sizeof(struct link_counters),
    "a link counter is missing from link_fields");

static uint64_t
link_field(const struct link_counters *l, size_t i)
{
	uint64_t v;

	memcpy(&v, (const char *)l + link_fields[i].off, sizeof(v));
	return v;
}

static const char *
drop_name(int d)
{
	const char *name = datapath_drop_name((enum dp_drop)d);

	return name ? name : "unnamed";
}

static const char *
state_name(const struct zcc_status *st)
{
	return st->state ? st->state : "unknown";
}

/* The arrays are filled by the daemon; never trust a count beyond them. */
static size_t
nports(const struct zcc_status *st)
{
	return st->nports < ZCC_MAX_PORTS ? st->nports : ZCC_MAX_PORTS;
}

static size_t
nflows(const struct zcc_status *st)
{
	return st->nflows < CONTROL_MAX_FLOWS ? st->nflows : CONTROL_MAX_FLOWS;
}

static void
text_seconds(struct out *o, int64_t s)
{
	out_add(o, "%" PRId64 " second%s", s, s == 1 ? "" : "s");
}

/* How selected flows travel now. */
static const char *
carried(const struct zcc_status *st)
{
	return st->encap_selected ? "encapsulated" : "in place";
}

/* Whether the next sealed segment leaves on the link layer. */
static int
sends_by_link(const struct zcc_status *st)
{
	return st->by_link && st->nexthop.state != NEXTHOP_NONE;
}

/* What the handshake and the peer's segments showed of the path. */
static void
text_nat_and_trouble(struct out *o, const struct zcc_status *st)
{
	char a[ZCC_ADDRSTRLEN], b[ZCC_ADDRSTRLEN];

	if (st->nat)
		out_add(o, "  nat: the peer is %s and sends to %s%s\n",
		    addr_format(&st->peer_self, a, sizeof(a)),
		    addr_format(&st->peer_sends_to, b, sizeof(b)),
		    st->port_nat ? "; ports rewritten" : "");
	if (st->trouble)
		out_add(o, "  path trouble:%s%s\n", st->trouble & DP_STRIPPED ?
		    " option stripped" : "", st->trouble & DP_ALTERED ?
		    " option altered" : "");
}

static void
text_send(struct out *o, const struct zcc_status *st)
{
	char a[ZCC_ADDRSTRLEN], mac[NEXTHOP_MACSTRLEN];

	nexthop_format_mac(&st->nexthop, mac);
	out_add(o, "  send: %s", sends_by_link(st) ? "link layer" : "IP output");
	if (mac[0])
		out_add(o, ", next hop %s %s",
		    addr_format(&st->nexthop.addr, a, sizeof(a)), mac);
	else if (st->by_link)
		out_add(o, ", next hop not resolved");
	out_add(o, "\n  sent: %" PRIu64 " by link layer, %" PRIu64
	    " by IP output\n", st->sent_link, st->sent_ip);
	out_add(o, "  path mtu: %u", st->path_mtu);
	if (st->path_mtu < st->link_mtu)
		out_add(o, " (learnt from ICMP; the link's is %u)",
		    st->link_mtu);
	if (st->pmtu_believed || st->pmtu_ignored)
		out_add(o, ", ICMP too big: %" PRIu64 " believed, %" PRIu64
		    " ignored", st->pmtu_believed, st->pmtu_ignored);
	out_add(o, "\n  selected flows: %s\n", carried(st));
	if (st->ports_differ)
		out_add(o, "  ports: the peer selects others: every selected "
		    "flow blocked\n");
	out_add(o, "  endpoint: %s port %u%s\n",
	    addr_format(&st->endpoint, a, sizeof(a)), st->endpoint_port,
	    st->floating ? " (float)" : "");
	text_nat_and_trouble(o, st);
}

/* One key set: what an administrator reads out on the phone. */
static void
text_keyset(struct out *o, const struct link_keys_report *k, const char *pfx)
{
	if (k->public_keys) {
		out_add(o, "  %spublic key: ", pfx);
		text_str(o, k->pub, sizeof(k->pub));
		out_add(o, " (fingerprint ");
		text_str(o, k->fp_pub, sizeof(k->fp_pub));
		out_add(o, ")\n  %speer public key: ", pfx);
		text_str(o, k->peer_pub, sizeof(k->peer_pub));
		out_add(o, " (fingerprint ");
		text_str(o, k->fp_peer, sizeof(k->fp_peer));
		out_add(o, ")\n");
	}
	if (k->shared) {
		out_add(o, "  %sshared key: fingerprint ", pfx);
		text_str(o, k->fp_shared, sizeof(k->fp_shared));
		out_add(o, "\n");
	}
}

static void
text_keys(struct out *o, const struct zcc_status *st)
{
	if (st->nkeys == 0)
		return;
	text_keyset(o, &st->keys[0], "");
	if (st->nkeys < 2)
		return;
	out_add(o, "  previous keys: valid %" PRId64 " s more%s\n",
	    st->prev_keys_seconds, st->session_keys == 1 ?
	    " (the session in use)" : "");
	text_keyset(o, &st->keys[1], "previous ");
}

static void
text_head(struct out *o, const struct zcc_status *st)
{
	char local[ZCC_ADDRSTRLEN], peer[ZCC_ADDRSTRLEN];

	addr_format(&st->local, local, sizeof(local));
	addr_format(&st->peer, peer, sizeof(peer));
	out_add(o, "interface: ");
	text_str(o, st->ifname, sizeof(st->ifname));
	out_add(o, "\n  zcctund: pid %ld (engine %ld), version %s", st->pid,
	    st->engine_pid, ZCC_VERSION);
	if (st->linkname[0]) {
		out_add(o, "\n  linkname: ");
		text_str(o, st->linkname, sizeof(st->linkname));
	}
	out_add(o, "\n  state: ");
	text_str(o, state_name(st), 32);
	out_add(o, "\n  local: %s\n  peer: %s\n  device: ", local, peer);
	text_str(o, st->realdev, sizeof(st->realdev));
	out_add(o, "\n  udp port: %u\n  ports:", st->udp_port);
	for (size_t i = 0; i < nports(st); i++)
		out_add(o, "%s %u", i ? "," : "", st->ports[i]);
	out_add(o, "\n  latest handshake: ");
	if (st->handshake_age < 0)
		out_add(o, "never");
	else {
		text_seconds(o, st->handshake_age);
		out_add(o, " ago");
	}
	out_add(o, "\n  up time: ");
	if (st->up_seconds < 0)
		out_add(o, "not up");
	else
		text_seconds(o, st->up_seconds);
	out_add(o, "\n  key id: %u\n  sealing: %s\n  compress: %s\n",
	    st->key_id, seal_suite_name(st->suite),
	    compress_codec_name(st->codec));
	if (st->busy_poll > 0)
		out_add(o, "  busy-poll: %u us\n", st->busy_poll);
	else
		out_add(o, "  busy-poll: off\n");
	text_keys(o, st);
	text_send(o, st);
}

static void
text_counters(struct out *o, const struct zcc_status *st)
{
	const struct dp_counters *dp = &st->dp;
	uint64_t dropped = 0;

	for (int d = 0; d < DROP_MAX; d++)
		dropped += dp->dropped[d];
	out_add(o, "\n  sealed: %" PRIu64 " segments, %" PRIu64 " bytes\n"
	    "  opened: %" PRIu64 " segments, %" PRIu64 " bytes\n"
	    "  sack_trimmed: %" PRIu64 " segments\n", dp->sealed,
	    dp->bytes_sealed, dp->opened, dp->bytes_opened, dp->sack_trimmed);
	out_add(o, "  encapsulated: %" PRIu64 " packets, %" PRIu64 " bytes "
	    "(%" PRIu64 " on the wire)\n"
	    "  decapsulated: %" PRIu64 " packets, %" PRIu64 " bytes\n"
	    "  dropped: %" PRIu64 " packets\n", dp->encapsulated,
	    dp->bytes_encapsulated, dp->bytes_encap_wire, dp->decapsulated,
	    dp->bytes_decapsulated, dropped);
	for (int d = 0; d < DROP_MAX; d++)
		out_add(o, "    %-18s %" PRIu64 "\n", drop_name(d), dp->dropped[d]);
	out_add(o, "  link:\n");
	for (size_t i = 0; i < NLINK_FIELDS; i++)
		out_add(o, "    %-18s %" PRIu64 "\n", link_fields[i].name,
		    link_field(&st->link, i));
}

static void
text_flows(struct out *o, const struct zcc_status *st)
{
	if (nflows(st) == 0) {
		out_add(o, "  flows: none\n");
		return;
	}
	out_add(o, "  flows:\n    %5s %5s %12s %12s %14s %14s %8s\n", "lport",
	    "rport", "sealed", "opened", "bytes_sealed", "bytes_opened", "idle");
	for (size_t i = 0; i < nflows(st); i++) {
		const struct dp_flow *f = &st->flows[i];

		out_add(o, "    %5u %5u %12" PRIu64 " %12" PRIu64 " %14" PRIu64
		    " %14" PRIu64 " %7" PRId64 "s\n", f->lport, f->rport, f->sealed,
		    f->opened, f->bytes_sealed, f->bytes_opened, f->idle);
	}
}

/* ---- the short view: what a person reads at a glance, as wg show ---- */

/* "1 day, 2 hours, 5 seconds": the units that are not zero. */
static void
text_duration(struct out *o, int64_t s)
{
	static const struct { const char *unit; int64_t secs; } units[] = {
		{ "day", 86400 }, { "hour", 3600 }, { "minute", 60 },
		{ "second", 1 },
	};
	int said = 0;

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		int64_t n = s / units[i].secs;

		s %= units[i].secs;
		if (n == 0 && (said || i + 1 < sizeof(units) / sizeof(units[0])))
			continue;
		out_add(o, "%s%" PRId64 " %s%s", said++ ? ", " : "", n,
		    units[i].unit, n == 1 ? "" : "s");
	}
}

/* Bytes in binary units with two decimals, as wg show: "1.50 MiB". */
static void
text_bytes(struct out *o, uint64_t b)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)b;
	size_t i = 0;

	if (b < 1024) {
		out_add(o, "%" PRIu64 " B", b);
		return;
	}
	v /= 1024;
	while (v >= 1024 && i + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		i++;
	}
	out_add(o, "%.2f %s", v, units[i]);
}

/* The drop reasons that are not zero, by name; nothing when none is. */
static void
text_drops_seen(struct out *o, const struct zcc_status *st)
{
	int said = 0;

	for (int d = 0; d < DROP_MAX; d++) {
		if (st->dp.dropped[d] == 0)
			continue;
		out_add(o, "%s%s %" PRIu64, said++ ? ", " : "  dropped: ",
		    drop_name(d), st->dp.dropped[d]);
	}
	if (said)
		out_add(o, "\n");
}

/* What needs the administrator: only shown when it is so. */
static void
text_alerts(struct out *o, const struct zcc_status *st)
{
	if (st->ports_differ)
		out_add(o, "  ports: the peer selects others: every selected "
		    "flow blocked\n");
	if (st->encap_selected)
		out_add(o, "  selected flows: encapsulated\n");
	text_nat_and_trouble(o, st);
}

static void
text_short(struct out *o, const struct zcc_status *st)
{
	char local[ZCC_ADDRSTRLEN], peer[ZCC_ADDRSTRLEN];

	addr_format(&st->local, local, sizeof(local));
	addr_format(&st->peer, peer, sizeof(peer));
	out_add(o, "interface: ");
	text_str(o, st->ifname, sizeof(st->ifname));
	if (st->linkname[0]) {
		out_add(o, " (");
		text_str(o, st->linkname, sizeof(st->linkname));
		out_add(o, ")");
	}
	out_add(o, "\n  state: ");
	text_str(o, state_name(st), 32);
	if (st->up_seconds >= 0) {
		out_add(o, " for ");
		text_duration(o, st->up_seconds);
	}
	out_add(o, "\n  peer: %s, local %s on ", peer, local);
	text_str(o, st->realdev, sizeof(st->realdev));
	out_add(o, "\n  ports:");
	for (size_t i = 0; i < nports(st); i++)
		out_add(o, "%s %u", i ? "," : "", st->ports[i]);
	if (nports(st) == 0)
		out_add(o, " none (a VPN link)");
	out_add(o, "\n  latest handshake: ");
	if (st->handshake_age < 0) {
		out_add(o, "never");
	} else {
		text_duration(o, st->handshake_age);
		out_add(o, " ago");
	}
	out_add(o, "\n  transfer: ");
	text_bytes(o, st->dp.bytes_opened + st->dp.bytes_decapsulated);
	out_add(o, " received, ");
	text_bytes(o, st->dp.bytes_sealed + st->dp.bytes_encapsulated);
	out_add(o, " sent\n");
	text_drops_seen(o, st);
	text_alerts(o, st);
}

/* A count that may be -1 ("none") becomes null. */
static void
json_opt(struct out *o, const char *key, int64_t v)
{
	if (v < 0)
		out_add(o, ",\"%s\":null", key);
	else
		out_add(o, ",\"%s\":%" PRId64, key, v);
}

static void
json_send(struct out *o, const struct zcc_status *st)
{
	char a[ZCC_ADDRSTRLEN], b[ZCC_ADDRSTRLEN], mac[NEXTHOP_MACSTRLEN];

	nexthop_format_mac(&st->nexthop, mac);
	out_add(o, ",\"send\":\"%s\",\"next_hop\":",
	    sends_by_link(st) ? "link" : "ip");
	if (mac[0])
		out_add(o, "{\"addr\":\"%s\",\"mac\":\"%s\"}",
		    addr_format(&st->nexthop.addr, a, sizeof(a)), mac);
	else
		out_add(o, "null");
	out_add(o, ",\"sent_link\":%" PRIu64 ",\"sent_ip\":%" PRIu64,
	    st->sent_link, st->sent_ip);
	out_add(o, ",\"link_mtu\":%u,\"path_mtu\":%u,\"pmtu_believed\":%"
	    PRIu64 ",\"pmtu_ignored\":%" PRIu64, st->link_mtu, st->path_mtu,
	    st->pmtu_believed, st->pmtu_ignored);
	out_add(o, ",\"endpoint\":{\"addr\":\"%s\",\"port\":%u},"
	    "\"float\":%s,\"ports_differ\":%s",
	    addr_format(&st->endpoint, a, sizeof(a)), st->endpoint_port,
	    st->floating ? "true" : "false",
	    st->ports_differ ? "true" : "false");
	if (st->nat)
		out_add(o, ",\"nat\":{\"peer_address\":\"%s\",\"peer_sends_to\":"
		    "\"%s\",\"ports_rewritten\":%s}",
		    addr_format(&st->peer_self, a, sizeof(a)),
		    addr_format(&st->peer_sends_to, b, sizeof(b)),
		    st->port_nat ? "true" : "false");
	else
		out_add(o, ",\"nat\":null");
	out_add(o, ",\"carried\":\"%s\",\"path_trouble\":[%s%s%s]",
	    carried(st), st->trouble & DP_STRIPPED ? "\"option stripped\"" : "",
	    (st->trouble & DP_STRIPPED) && (st->trouble & DP_ALTERED) ? "," : "",
	    st->trouble & DP_ALTERED ? "\"option altered\"" : "");
}

static void
json_keyset(struct out *o, const struct link_keys_report *k)
{
	if (k->public_keys) {
		out_add(o, "{\"public_key\":");
		json_str(o, k->pub, sizeof(k->pub));
		out_add(o, ",\"fingerprint\":");
		json_str(o, k->fp_pub, sizeof(k->fp_pub));
		out_add(o, ",\"peer_public_key\":");
		json_str(o, k->peer_pub, sizeof(k->peer_pub));
		out_add(o, ",\"peer_fingerprint\":");
		json_str(o, k->fp_peer, sizeof(k->fp_peer));
	} else
		out_add(o, "{\"public_key\":null,\"fingerprint\":null,"
		    "\"peer_public_key\":null,\"peer_fingerprint\":null");
	out_add(o, ",\"shared_fingerprint\":");
	if (k->shared)
		json_str(o, k->fp_shared, sizeof(k->fp_shared));
	else
		out_add(o, "null");
	out_add(o, "}");
}

/* "keys": the sets in use, newest first, and the previous ones' time left. */
static void
json_keys(struct out *o, const struct zcc_status *st)
{
	out_add(o, ",\"keys\":[");
	for (size_t i = 0; i < st->nkeys && i < HS_KEYSETS; i++) {
		out_add(o, "%s", i ? "," : "");
		json_keyset(o, &st->keys[i]);
	}
	out_add(o, "]");
	json_opt(o, "previous_keys_seconds", st->prev_keys_seconds);
	json_opt(o, "session_keys", st->session_keys);
}

static void
json_head(struct out *o, const struct zcc_status *st)
{
	char local[ZCC_ADDRSTRLEN], peer[ZCC_ADDRSTRLEN];

	addr_format(&st->local, local, sizeof(local));
	addr_format(&st->peer, peer, sizeof(peer));
	out_add(o, "{\"ifname\":");
	json_str(o, st->ifname, sizeof(st->ifname));
	out_add(o, ",\"pid\":%ld,\"engine_pid\":%ld,\"version\":\"%s\"",
	    st->pid, st->engine_pid, ZCC_VERSION);
	out_add(o, ",\"linkname\":");
	if (st->linkname[0])
		json_str(o, st->linkname, sizeof(st->linkname));
	else
		out_add(o, "null");
	out_add(o, ",\"state\":");
	json_str(o, state_name(st), 32);
	out_add(o, ",\"local\":\"%s\",\"peer\":\"%s\",\"device\":", local, peer);
	json_str(o, st->realdev, sizeof(st->realdev));
	out_add(o, ",\"udp_port\":%u,\"ports\":[", st->udp_port);
	for (size_t i = 0; i < nports(st); i++)
		out_add(o, "%s%u", i ? "," : "", st->ports[i]);
	out_add(o, "]");
	json_opt(o, "handshake_age", st->handshake_age);
	json_opt(o, "up_seconds", st->up_seconds);
	out_add(o, ",\"sealing\":\"%s\",\"compress\":\"%s\",\"busy_poll_us\":%u",
	    seal_suite_name(st->suite), compress_codec_name(st->codec),
	    st->busy_poll);
	json_keys(o, st);
	json_send(o, st);
	out_add(o, ",\"key_id\":%u,\"handshakes\":%" PRIu64 ",\"rekeys\":%" PRIu64
	    ",\"keepalive_misses\":%" PRIu64, st->key_id, st->link.handshakes,
	    st->link.rekeys, st->link.keepalive_misses);
}

static void
json_counters(struct out *o, const struct zcc_status *st)
{
	const struct dp_counters *dp = &st->dp;

	out_add(o, ",\"link\":{");
	for (size_t i = 0; i < NLINK_FIELDS; i++)
		out_add(o, "%s\"%s\":%" PRIu64, i ? "," : "", link_fields[i].name,
		    link_field(&st->link, i));
	out_add(o, "},\"sealed\":%" PRIu64 ",\"opened\":%" PRIu64
	    ",\"bytes_sealed\":%" PRIu64 ",\"bytes_opened\":%" PRIu64
	    ",\"sack_trimmed\":%" PRIu64, dp->sealed, dp->opened,
	    dp->bytes_sealed, dp->bytes_opened, dp->sack_trimmed);
	out_add(o, ",\"encapsulated\":%" PRIu64 ",\"bytes_encapsulated\":%" PRIu64
	    ",\"bytes_encap_wire\":%" PRIu64 ",\"decapsulated\":%" PRIu64
	    ",\"bytes_decapsulated\":%" PRIu64 ",\"dropped\":{",
	    dp->encapsulated, dp->bytes_encapsulated, dp->bytes_encap_wire,
	    dp->decapsulated, dp->bytes_decapsulated);
	for (int d = 0; d < DROP_MAX; d++)
		out_add(o, "%s\"%s\":%" PRIu64, d ? "," : "", drop_name(d),
		    dp->dropped[d]);
	out_add(o, "}");
}

static void
json_flows(struct out *o, const struct zcc_status *st)
{
	out_add(o, ",\"flows\":[");
	for (size_t i = 0; i < nflows(st); i++) {
		const struct dp_flow *f = &st->flows[i];

		out_add(o, "%s{\"lport\":%u,\"rport\":%u,\"sealed\":%" PRIu64
		    ",\"opened\":%" PRIu64 ",\"bytes_sealed\":%" PRIu64
		    ",\"bytes_opened\":%" PRIu64 ",\"idle\":%" PRId64 "}",
		    i ? "," : "", f->lport, f->rport, f->sealed, f->opened,
		    f->bytes_sealed, f->bytes_opened, f->idle);
	}
	out_add(o, "]}\n");
}

int
control_render(const struct zcc_status *st, enum control_view view, char *out,
    size_t len)
{
	struct out o = { .buf = out, .len = len < INT_MAX ? len : INT_MAX };

	if (len == 0)
		return -1;
	out[0] = '\0';
	switch (view) {
	case CONTROL_VIEW_JSON:
		json_head(&o, st);
		json_counters(&o, st);
		json_flows(&o, st);
		break;
	case CONTROL_VIEW_SHORT:
		text_short(&o, st);
		break;
	default:
		text_head(&o, st);
		text_counters(&o, st);
		text_flows(&o, st);
		break;
	}
	if (o.full) {
		out[0] = '\0';  /* half a reply must not pass for a whole one */
		return -1;
	}
	return (int)o.used;
}

/* ---- the socket path ---- */

int
control_socket_path(const char *ifname, char *path, size_t len)
{
	struct stat sb;
	int n;

	if (ifname[0] == '\0' || strchr(ifname, '/') != NULL) {
		log_warnx("'%s' is not an interface name", ifname);
		return -1;
	}
	/* Named per network namespace, like the steering state file. */
	if (stat("/proc/self/ns/net", &sb) == -1) {
		log_warn("/proc/self/ns/net");
		return -1;
	}
	n = snprintf(path, len, "%s/%s.netns-%lu.sock", ZCC_STATE_DIR, ifname,
	    (unsigned long)sb.st_ino);
	if (n < 0 || (size_t)n >= len ||
	    (size_t)n >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		log_warnx("%s: the control socket path is too long", ifname);
		return -1;
	}
	return 0;
}

static void
sun_fill(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", path);
}

/* ---- clients ---- */

static void
client_free(struct client *cl)
{
	struct control *c = cl->ctl;
	struct client **pp;

	for (pp = &c->clients; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == cl) {
			*pp = cl->next;
			c->nclients--;
			break;
		}
	}
	if (cl->rd)
		event_free(cl->rd);
	if (cl->wr)
		event_free(cl->wr);
	if (cl->deadline)
		event_free(cl->deadline);
	close(cl->fd);
	free(cl->reply);
	free(cl);
}

static void
client_write(struct client *cl)
{
	while (cl->sent < cl->replylen) {
		/* MSG_NOSIGNAL: a client that left must not SIGPIPE the daemon. */
		ssize_t n = send(cl->fd, cl->reply + cl->sent,
		    cl->replylen - cl->sent, MSG_NOSIGNAL);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (event_add(cl->wr, NULL) == 0)
				return;
			log_warnx("control: cannot wait to write a reply");
			break;
		}
		if (n == -1) {
			/* A client gone before its reply is its own business. */
			if (errno != EPIPE && errno != ECONNRESET)
				log_warn("control: send");
			break;
		}
		cl->sent += (size_t)n;
	}
	client_free(cl);
}

static void
client_on_write(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	client_write(arg);
}

static int
is_word(const char *line, size_t n, const char *word)
{
	return n == strlen(word) && memcmp(line, word, n) == 0;
}

enum control_request
control_parse_request(const char *buf, size_t n, int ended)
{
	const char *nl = memchr(buf, '\n', n);
	size_t len;

	if (nl == NULL)
		return ended || n >= CONTROL_REQ_MAX ? CONTROL_REQ_UNKNOWN :
		    CONTROL_REQ_PARTIAL;
	len = (size_t)(nl - buf);
	if (is_word(buf, len, "show"))
		return CONTROL_REQ_SHOW;
	if (is_word(buf, len, "show json"))
		return CONTROL_REQ_SHOW_JSON;
	if (is_word(buf, len, "show short"))
		return CONTROL_REQ_SHOW_SHORT;
	if (is_word(buf, len, "stop"))
		return CONTROL_REQ_STOP;
	if (is_word(buf, len, "reload"))
		return CONTROL_REQ_RELOAD;
	{
		struct control_sid_req q;

		if (control_parse_sid(buf, len, &q) == 0)
			return CONTROL_REQ_SESSION_ID;
	}
	return CONTROL_REQ_UNKNOWN;
}

/* A port number, 1-65535, as exactly the digits of one word. */
static int
parse_port(const char *s, size_t n, uint16_t *port)
{
	unsigned long v = 0;

	if (n == 0 || n > 5 || s[0] == '0')
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int
control_parse_sid(const char *line, size_t len, struct control_sid_req *q)
{
	char buf[CONTROL_REQ_MAX], *w[5], *p;
	size_t nw = 0;

	memset(q, 0, sizeof(*q));
	if (len >= sizeof(buf) || memchr(line, '\0', len) != NULL)
		return -1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	/* Words separated by one space each, as zccctl writes them. */
	for (p = buf; nw < 5; p++) {
		w[nw++] = p;
		if ((p = strchr(p, ' ')) == NULL)
			break;
		*p = '\0';
	}
	if (p != NULL || (nw != 4 && nw != 5) || strcmp(w[0], "session-id") != 0)
		return -1;
	if (nw == 5 && strcmp(w[1], "json") != 0)
		return -1;
	q->json = nw == 5;
	if (parse_port(w[nw - 3], strlen(w[nw - 3]), &q->lport) == -1 ||
	    addr_parse(&q->peer, w[nw - 2]) != 0 ||
	    parse_port(w[nw - 1], strlen(w[nw - 1]), &q->rport) == -1)
		return -1;
	return 0;
}

int
control_render_sid(const struct control_sid_req *q, int found,
    const struct sid_result *r, const char *ifname, char *buf, size_t len)
{
	char hex[2 * SID_LEN + 1], peer[ZCC_ADDRSTRLEN];
	int n;

	if (found == -1)
		n = snprintf(buf, len, "error: no opening of %u-%u seen on "
		    "this link (not carried by it, or forgotten)\n", q->lport,
		    q->rport);
	else if (found == -2)
		n = snprintf(buf, len, "error: %u-%u is not answered yet "
		    "(no SYN-ACK seen)\n", q->lport, q->rport);
	else if (found != 0)
		n = snprintf(buf, len, "%s", CONTROL_SID_OTHER_PEER_REPLY);
	else if (!q->json)
		n = snprintf(buf, len, "%s\n", sodium_bin2hex(hex, sizeof(hex),
		    r->id, SID_LEN));
	else
		n = snprintf(buf, len, "{\"session_id\":\"%s\",\"ifname\":\"%s\","
		    "\"local_port\":%u,\"peer\":\"%s\",\"peer_port\":%u,"
		    "\"role\":\"%s\",\"client_isn\":%" PRIu32 ",\"server_isn\":"
		    "%" PRIu32 "}\n", sodium_bin2hex(hex, sizeof(hex), r->id, SID_LEN),
		    options_valid_ifname(ifname) ? ifname : "?", q->lport,
		    addr_format(&q->peer, peer, sizeof(peer)), q->rport,
		    r->we_are_client ? "client" : "server", r->conn.client_isn,
		    r->conn.server_isn);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

/* session-id: the engine looks the connection up. */
static const char *
sid_reply(struct client *cl, int *len)
{
	struct control *c = cl->ctl;
	struct control_sid_req q;
	struct sid_result r;
	const char *nl = memchr(cl->req, '\n', cl->reqlen);
	char ifname[IFNAMSIZ] = "";
	int found;

	if (nl == NULL || control_parse_sid(cl->req, (size_t)(nl - cl->req),
	    &q) == -1)
		return "error: unknown request\n";
	if (c->sid == NULL)
		return "error: no session IDs here\n";
	found = c->sid(c->arg, &q, &r, ifname);
	*len = control_render_sid(&q, found, &r, ifname, c->render,
	    sizeof(c->render));
	sodium_memzero(&r, sizeof(r));
	return *len == -1 ? "error: reply too large\n" : c->render;
}

void
control_set_sid(struct control *c, control_sid_fn *fn)
{
	c->sid = fn;
}

/* The reply to a request. */
static const char *
client_reply(struct client *cl, enum control_request req, int *len)
{
	struct control *c = cl->ctl;

	if (req == CONTROL_REQ_STOP || req == CONTROL_REQ_RELOAD) {
		/* Handed to the root parent, which decides; never the block. */
		if (c->cmd == NULL || c->cmd(c->arg, req == CONTROL_REQ_STOP ?
		    CONTROL_STOP : CONTROL_RELOAD) == -1)
			return "error: the supervisor did not take the request\n";
		return req == CONTROL_REQ_STOP ? "ok: stopping\n" :
		    "ok: reloading\n";
	}
	if (req == CONTROL_REQ_SESSION_ID)
		return sid_reply(cl, len);
	if (req != CONTROL_REQ_SHOW && req != CONTROL_REQ_SHOW_JSON &&
	    req != CONTROL_REQ_SHOW_SHORT)
		return "error: unknown request\n";
	memset(&c->st, 0, sizeof(c->st));
	c->fn(c->arg, &c->st);
	*len = control_render(&c->st, req == CONTROL_REQ_SHOW_JSON ?
	    CONTROL_VIEW_JSON : req == CONTROL_REQ_SHOW_SHORT ?
	    CONTROL_VIEW_SHORT : CONTROL_VIEW_FULL, c->render, sizeof(c->render));
	if (*len == -1) {
		log_warnx("control: the reply does not fit in %zu bytes",
		    sizeof(c->render));
		return "error: reply too large\n";
	}
	return c->render;
}

static void
client_answer(struct client *cl, enum control_request req)
{
	int len = -1;
	const char *reply = client_reply(cl, req, &len);

	cl->replylen = len >= 0 ? (size_t)len : strlen(reply);
	cl->reply = malloc(cl->replylen);
	if (cl->reply == NULL) {
		log_warn("control: malloc");
		client_free(cl);
		return;
	}
	memcpy(cl->reply, reply, cl->replylen);
	client_write(cl);
}

static void
client_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct client *cl = arg;
	enum control_request req;
	ssize_t n;

	(void)what;
	n = recv(fd, cl->req + cl->reqlen, sizeof(cl->req) - cl->reqlen, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		if (errno != ECONNRESET)
			log_warn("control: recv");
		client_free(cl);
		return;
	}
	cl->reqlen += (size_t)n;
	req = control_parse_request(cl->req, cl->reqlen, n == 0);
	if (req == CONTROL_REQ_PARTIAL)
		return;
	event_del(cl->rd);
	client_answer(cl, req);
}

static void
client_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	log_debug("control: a client took longer than %d seconds: closed",
	    CONTROL_DEADLINE_SEC);
	client_free(arg);
}

/* Serve fd; it is closed on failure. */
static void
client_new(struct control *c, int fd)
{
	struct timeval deadline = { CONTROL_DEADLINE_SEC, 0 };
	struct client *cl = calloc(1, sizeof(*cl));

	if (cl == NULL) {
		log_warn("control: calloc");
		close(fd);
		return;
	}
	cl->ctl = c;
	cl->fd = fd;
	cl->next = c->clients;
	c->clients = cl;
	c->nclients++;
	cl->rd = event_new(c->base, fd, EV_READ | EV_PERSIST, client_on_read, cl);
	cl->wr = event_new(c->base, fd, EV_WRITE | EV_PERSIST, client_on_write, cl);
	cl->deadline = evtimer_new(c->base, client_on_deadline, cl);
	if (cl->rd == NULL || cl->wr == NULL || cl->deadline == NULL ||
	    event_add(cl->rd, NULL) == -1 ||
	    event_add(cl->deadline, &deadline) == -1) {
		log_warnx("control: cannot watch a client");
		client_free(cl);
	}
}

/*
 * The socket's mode already keeps others out; this holds even if an
 * administrator loosens it.
 */
static int
peer_is_root(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		return 0;
	}
	if (cred.uid != 0) {
		log_warnx("control: refused pid %ld (uid %u): only root may ask",
		    (long)cred.pid, (unsigned)cred.uid);
		return 0;
	}
	return 1;
}

static void
control_on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct timeval pause = { 1, 0 };
	struct control *c = arg;
	int cfd, err;

	(void)what;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd == -1) {
		err = errno;
		if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR ||
		    err == ECONNABORTED)
			return;
		log_warn("control: accept");
		/*
		 * Out of descriptors or memory: the listening socket stays
		 * readable, so pause rather than spin on it.
		 */
		event_del(c->listen_ev);
		evtimer_add(c->pause_ev, &pause);
		return;
	}
	if (!peer_is_root(cfd)) {
		close(cfd);
		return;
	}
	if (c->nclients >= CONTROL_MAX_CLIENTS) {
		log_debug("control: %d clients already: one refused",
		    CONTROL_MAX_CLIENTS);
		close(cfd);
		return;
	}
	client_new(c, cfd);
}

static void
control_on_pause(evutil_socket_t fd, short what, void *arg)
{
	struct control *c = arg;

	(void)fd;
	(void)what;
	if (event_add(c->listen_ev, NULL) == -1)
		log_warnx("control: cannot listen again");
}

/* ---- open and close ---- */

/*
 * A socket file nobody answers on is a dead daemon's and goes; a live one
 * means ifname is served already; anything that is not a socket is not
 * ours to remove.
 */
static int
clear_stale(const char *path, const char *ifname)
{
	struct sockaddr_un sun;
	struct stat sb;
	int fd, rc, err;

	if (lstat(path, &sb) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("%s", path);
		return -1;
	}
	if (!S_ISSOCK(sb.st_mode)) {
		log_warnx("%s: exists and is not a socket", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("control: socket");
		return -1;
	}
	sun_fill(&sun, path);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	err = errno;
	close(fd);
	/* EAGAIN: a full backlog, which only a live listener has. */
	if (rc == 0 || err == EAGAIN) {
		log_warnx("another zcctund is serving %s (%s)", ifname, path);
		return -1;
	}
	if (err != ECONNREFUSED) {
		errno = err;
		log_warn("%s", path);
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("%s", path);
		return -1;
	}
	log_debug("%s: removed a stale control socket", path);
	return 0;
}

int
control_cleanup(const char *ifname)
{
	char path[PATH_MAX];

	if (control_socket_path(ifname, path, sizeof(path)) == -1 ||
	    clear_stale(path, ifname) == -1)
		return -1;
	rmdir(ZCC_STATE_DIR);       /* only when empty; steering may still be there */
	return 0;
}

/*
 * The parent binds and listens; the engine, which has no right to create
 * files under /run/zcc, serves the inherited socket.
 */
int
control_bind(const char *ifname)
{
	struct sockaddr_un sun;
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	mode_t old;
	int fd, rc;

	if (control_socket_path(ifname, path, sizeof(path)) == -1 ||
	    clear_stale(path, ifname) == -1)
		return -1;
	if (mkdir(ZCC_STATE_DIR, 0700) == -1 && errno != EEXIST) {
		log_warn("%s", ZCC_STATE_DIR);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("control: socket");
		return -1;
	}
	sun_fill(&sun, path);
	/*
	 * The umask makes the socket 0600 from its first instant: no window in
	 * which anyone else could connect. (umask is per process; the parent
	 * has a single thread.)
	 */
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc == -1) {
		log_warn("%s: bind", path);
		close(fd);
		return -1;
	}
	if (chmod(path, 0600) == -1 || listen(fd, CONTROL_BACKLOG) == -1) {
		log_warn("%s", path);
		close(fd);
		control_unbind(ifname);
		return -1;
	}
	log_debug("control: listening on %s", path);
	return fd;
}

void
control_unbind(const char *ifname)
{
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];

	if (control_socket_path(ifname, path, sizeof(path)) == -1)
		return;
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("%s", path);
	/* Like the state file: the directory goes with the last file in it. */
	if (rmdir(ZCC_STATE_DIR) == -1 && errno != ENOTEMPTY &&
	    errno != EEXIST && errno != ENOENT && errno != EBUSY)
		log_warn("%s", ZCC_STATE_DIR);
}

static int
control_watch(struct control *c)
{
	c->listen_ev = event_new(c->base, c->fd, EV_READ | EV_PERSIST,
	    control_on_accept, c);
	c->pause_ev = evtimer_new(c->base, control_on_pause, c);
	if (c->listen_ev == NULL || c->pause_ev == NULL ||
	    event_add(c->listen_ev, NULL) == -1) {
		log_warnx("control: cannot watch the socket");
		return -1;
	}
	return 0;
}

struct control *
control_open(struct event_base *base, int listen_fd, control_status_fn *fn,
    control_command_fn *cmd, void *arg)
{
	struct control *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		log_warn("control: calloc");
		return NULL;
	}
	c->base = base;
	c->fn = fn;
	c->cmd = cmd;
	c->arg = arg;
	c->fd = listen_fd;
	if (control_watch(c) == -1) {
		control_close(c);
		return NULL;
	}
	return c;
}

void
control_close(struct control *c)
{
	if (c == NULL)
		return;
	while (c->clients != NULL)
		client_free(c->clients);
	if (c->listen_ev)
		event_free(c->listen_ev);
	if (c->pause_ev)
		event_free(c->pause_ev);
	free(c);
}
