/* SPDX-License-Identifier: ISC */
/*
 * The engine (include/zcc/engine.h): one event loop over zcc0, the receive
 * ring, the UDP socket, a tick, the control socket and the parent's pair.
 * The link (link.c) handshakes, keys the data path and says when ip-up
 * and ip-down should run, which the parent does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/udp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "zcc/control.h"
#include "zcc/datapath.h"
#include "zcc/engine.h"
#include "zcc/handshake.h"
#include "zcc/intake.h"
#include "zcc/link.h"
#include "zcc/log.h"
#include "zcc/nexthop.h"
#include "zcc/pmtu.h"
#include "zcc/privsep.h"
#include "zcc/tsguard.h"

#define TICK_MS 100
#define SOURCE_MEMOS 64         /* decapsulated sources remembered */
#define SOURCE_MEMO_MS 2000     /* for this long: routes change rarely */
#define NEXTHOP_TICKS 10        /* the next hop is read once a second */

struct zcctund {
	struct zcc_options opt;
	struct zcc_addr local;          /* of the peer's family */
	char realdev[IFNAMSIZ];
	int mtu;
	int tun_fd, raw_fd, udp_fd, priv_fd;
	int link_fd, nl_fd;     /* sending on the link layer; -1: by IP only */
	int icmp_fd;            /* ICMP "too big" reports */
	unsigned int realdev_index;
	struct pmtu pmtu;       /* sealed segments' path MTU */
	uint64_t pmtu_believed, pmtu_ignored;
	int encap_selected;     /* selected flows travel encapsulated */
	unsigned trouble_told;  /* enum dp_trouble bits logged */
	unsigned long drops_told;       /* 1 << enum dp_drop: logged once */
	int ports_differ;       /* the peer selects other ports: blocked */
	int guard_crowded;      /* a renewal asked for: the replay guard */
	int route_fd;           /* rtnetlink: where a source is routed */
	unsigned int tun_index; /* zcc0's ifindex */
	struct source_memo {    /* route lookups of decapsulated sources */
		struct zcc_addr a;
		uint64_t until;
		int ok;
	} sources[SOURCE_MEMOS];
	int peer_asked;         /* the peer's HS_ECHO_ENCAP, logged */
	struct hs_view view;    /* the peer's, from the last handshake */
	int nat;                /* the view says NAT */
	int port_nat;           /* ... that rewrites the peer's UDP port */
	int moved;              /* float: the peer speaks from elsewhere */
	struct zcc_addr ep;     /* where the peer's UDP port is: */
	uint16_t ep_port;       /* the configured one, or where it last spoke */
	struct sockaddr_storage ep_sa;
	socklen_t ep_len;
	struct nexthop nh;      /* as last read */
	unsigned int ticks;
	struct intake *intake;  /* the peer's sealed segments */
	struct datapath *dp;
	struct link *link;
	struct control *control;
	struct event_base *base;
	uint8_t *parent_buf;    /* locked: the parent's messages, keys among them */
	int exit_status;
	unsigned long activity; /* packet callbacks run, for busy-poll */
	uint64_t stderr_until;  /* updetach: see engine.h */
};

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t
now_ms(void)
{
	return now_us() / 1000;
}

static void
log_counters(const struct zcctund *z)
{
	const struct dp_counters *c = datapath_counters(z->dp);
	char drops[512] = "";
	uint64_t link, ip;

	for (int d = 0; d < DROP_MAX; d++)
		snprintf(drops + strlen(drops), sizeof(drops) - strlen(drops),
		    " %s=%llu", datapath_drop_name(d),
		    (unsigned long long)c->dropped[d]);
	log_info("counters: sealed=%llu opened=%llu bytes_sealed=%llu "
	    "bytes_opened=%llu sack_trimmed=%llu encapsulated=%llu "
	    "decapsulated=%llu dropped:%s",
	    (unsigned long long)c->sealed, (unsigned long long)c->opened,
	    (unsigned long long)c->bytes_sealed,
	    (unsigned long long)c->bytes_opened,
	    (unsigned long long)c->sack_trimmed,
	    (unsigned long long)c->encapsulated,
	    (unsigned long long)c->decapsulated, drops);
	datapath_sent_by(z->dp, &link, &ip);
	log_info("sealed segments sent: %llu by the link layer, %llu by IP "
	    "output", (unsigned long long)link, (unsigned long long)ip);
}

/* ---- the next hop of sealed segments ---- */

static int
nexthop_usable(const struct nexthop *nh)
{
	return nh->state != NEXTHOP_NONE;
}

/* Whether sealed segments leave the same way after the next hop is read. */
static int
same_path(const struct nexthop *old, const struct nexthop *nh)
{
	if (nexthop_usable(old) != nexthop_usable(nh))
		return 0;
	return !nexthop_usable(nh) ||
	    memcmp(old->mac, nh->mac, sizeof(nh->mac)) == 0;
}

/* Say when sealed segments change path, or go to another address. */
static void
log_nexthop(const struct zcctund *z, const struct nexthop *old,
    const struct nexthop *nh)
{
	char a[ZCC_ADDRSTRLEN], mac[NEXTHOP_MACSTRLEN];

	if (same_path(old, nh))
		return;
	if (!nexthop_usable(nh)) {
		log_info("sealed segments leave by IP output: no resolved next "
		    "hop toward the peer on %s", z->realdev);
		return;
	}
	log_info("sealed segments leave by the link layer: next hop %s %s on %s",
	    addr_format(&nh->addr, a, sizeof(a)), nexthop_format_mac(nh, mac),
	    z->realdev);
}

/* Read the next hop again; a route leaving by another interface is none. */
static void
refresh_nexthop(struct zcctund *z)
{
	struct nexthop nh;

	if (z->nl_fd == -1)
		return;
	if (nexthop_lookup(z->nl_fd, &z->opt.peer, z->opt.fwmark, &nh) !=
	    NEXTHOP_NONE && (unsigned int)nh.ifindex != z->realdev_index)
		nh.state = NEXTHOP_NONE;
	log_nexthop(z, &z->nh, &nh);
	z->nh = nh;
	datapath_set_nexthop(z->dp, &nh);
}

/* ---- path MTU (pmtu.h) ---- */

/* RFC 5927: a report counts only when it quotes a sealed segment of ours. */
static int
quotes_ours(struct zcctund *z, const struct pmtu_report *r)
{
	return addr_equal(&r->src, &z->local) &&
	    addr_equal(&r->dst, &z->opt.peer) && r->option != -1 &&
	    datapath_sealed_flow(z->dp, r->sport, r->dport);
}

/*
 * The MTU zcc0's route needs so that selected segments, sealed in place or
 * encapsulated whole, fit the path; 0: zcc0's own will do.
 */
static uint32_t
route_mtu(struct zcctund *z)
{
	uint32_t path = z->pmtu.path_mtu, over, mtu;

	if (!z->encap_selected)
		return path < z->pmtu.link_mtu ? path - ZCC_OPT_LEN : 0;
	over = z->pmtu.link_mtu - (uint32_t)datapath_encap_mtu(z->dp);
	mtu = path - over;
	return mtu > PRIVSEP_MTU_MIN ? mtu : PRIVSEP_MTU_MIN;
}

/* Ask the parent to set zcc0's route as route_mtu says. */
static void
apply_route_mtu(struct zcctund *z)
{
	privsep_send_mtu(z->priv_fd, route_mtu(z));
}

static void
believe(struct zcctund *z, const struct pmtu_report *r,
    const struct sockaddr_storage *from)
{
	char peer[ZCC_ADDRSTRLEN], by[ZCC_ADDRSTRLEN];
	struct zcc_addr router;
	uint32_t mtu;

	z->pmtu_believed++;
	mtu = pmtu_report(&z->pmtu, r->mtu, now_ms());
	if (mtu == 0)
		return;
	if (addr_from_sockaddr(&router, (const struct sockaddr *)from) == -1)
		snprintf(by, sizeof(by), "?");
	else
		addr_format(&router, by, sizeof(by));
	log_info("path MTU to %s is %u (ICMP from %s, which reported %u): "
	    "selected flows now send segments of at most %u bytes, %u sealed",
	    addr_format(&z->opt.peer, peer, sizeof(peer)), mtu, by, r->mtu,
	    mtu - ZCC_OPT_LEN, mtu);
	apply_route_mtu(z);
}

static void
on_icmp(evutil_socket_t fd, short what, void *arg)
{
	static uint8_t buf[2048];       /* a quote is cut at 576 or 1280 */
	struct zcctund *z = arg;
	struct pmtu_report r;

	(void)what;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &fromlen);
		int rc;

		if (n == -1)
			break;
		rc = pmtu_parse(z->opt.peer.af, buf, (size_t)n, &r);
		if (rc == PMTU_NOT_TOO_BIG)
			continue;
		if (rc == 0 && quotes_ours(z, &r))
			believe(z, &r, &from);
		else
			z->pmtu_ignored++;
	}
}

/* As Linux does with its own learnt MTUs: after a while, try the link's. */
static void
expire_path_mtu(struct zcctund *z)
{
	char peer[ZCC_ADDRSTRLEN];
	uint32_t mtu = pmtu_expire(&z->pmtu, now_ms());

	if (mtu == 0)
		return;
	log_info("path MTU to %s: trying %u again (%d minutes since the last "
	    "report)", addr_format(&z->opt.peer, peer, sizeof(peer)), mtu,
	    PMTU_EXPIRE_MS / 60000);
	apply_route_mtu(z);
}

/* ---- when in place does not get through: encapsulated ---- */

/* ask: the echo flag (HS_ECHO_*) that asks the peer to do the same. */
static void
carry_encapsulated(struct zcctund *z, uint8_t ask)
{
	z->encap_selected = 1;
	datapath_encap_selected(z->dp, 1);
	/* The peer must do the same: what it seals does not get here either. */
	link_set_echo_flags(z->link, ask);
	apply_route_mtu(z);
}

/* One line: what is wrong with the path, and what selected flows do now. */
static void
path_trouble(struct zcctund *z, const char *what)
{
	char peer[ZCC_ADDRSTRLEN];

	addr_format(&z->opt.peer, peer, sizeof(peer));
	if (z->encap_selected)
		log_warnx("%s (selected flows already travel encapsulated)", what);
	else if (z->opt.fallback_encap) {
		carry_encapsulated(z, HS_ECHO_ENCAP);
		log_warnx("%s: selected flows to %s now travel encapsulated (UDP "
		    "port %u) until zcctund restarts", what, peer,
		    z->opt.udp_port);
	} else
		log_warnx("%s: selected flows to %s stay blocked (with "
		    "fallback-encap at both ends they would travel "
		    "encapsulated)", what, peer);
}

/* ---- the sources the peer may send from, encapsulated ---- */

/* Routed into zcc0 here: the administrator's word that the peer is it. */
static int
source_ok(void *arg, int af, const uint8_t *a)
{
	struct zcctund *z = arg;
	struct zcc_addr src;
	struct source_memo *m;
	uint32_t h = 2166136261u;
	uint64_t now = now_ms();

	addr_set(&src, af, a);
	for (size_t i = 0; i < addr_len(&src); i++)
		h = (h ^ src.a[i]) * 16777619u;
	m = &z->sources[h % SOURCE_MEMOS];
	if (m->until > now && addr_equal(&m->a, &src))
		return m->ok;
	m->a = src;
	m->until = now + SOURCE_MEMO_MS;
	m->ok = z->route_fd != -1 && z->tun_index != 0 &&
	    nexthop_route_oif(z->route_fd, &src) == (int)z->tun_index;
	return m->ok;
}

/* 1 the first time the data path has dropped something as d. */
static int
first_drop(struct zcctund *z, enum dp_drop d)
{
	if ((z->drops_told & 1ul << d) ||
	    datapath_counters(z->dp)->dropped[d] == 0)
		return 0;
	z->drops_told |= 1ul << d;
	return 1;
}

/* Sources a link does not cover, each said once. */
static void
check_sources(struct zcctund *z)
{
	char peer[ZCC_ADDRSTRLEN], us[ZCC_ADDRSTRLEN];

	if (first_drop(z, DROP_UNROUTED_SOURCE))
		log_warnx("the peer sent packets from addresses this host does "
		    "not route into %s: dropped (unrouted_source); route a "
		    "subnet into %s to accept it from the peer", z->opt.ifname,
		    z->opt.ifname);
	if (first_drop(z, DROP_OTHER_SOURCE))
		log_warnx("selected segments to %s from another address of "
		    "this host than the link's %s are dropped (other_source): "
		    "the peer would answer them in clear; bind such clients "
		    "to %s", addr_format(&z->opt.peer, peer, sizeof(peer)),
		    addr_format(&z->local, us, sizeof(us)), us);
}

/* What the data path has seen of the peer's in-place segments, once each. */
static void
check_path(struct zcctund *z)
{
	char what[256], peer[ZCC_ADDRSTRLEN];
	uint16_t sport, dport;
	unsigned t = datapath_trouble(z->dp, &sport, &dport) & ~z->trouble_told;

	if (t == 0)
		return;
	z->trouble_told |= t;
	addr_format(&z->opt.peer, peer, sizeof(peer));
	if (t & DP_STRIPPED)
		snprintf(what, sizeof(what), "segments from %s port %u to port "
		    "%u arrive without the zcc option (a middlebox on the path "
		    "strips TCP options, or a NAT translates TCP but not zcc's "
		    "UDP?), dropped as no_option", peer, sport,
		    dport);
	else
		snprintf(what, sizeof(what), "segments from %s port %u to port "
		    "%u fail authentication, %u in a row (changed on the path "
		    "by a middlebox, or forged), dropped as bad_tag", peer,
		    sport, dport, DP_ALTERED_RUN);
	path_trouble(z, what);
}

/*
 * An authentic echo: the peer may say that ours do not reach it intact
 * (followed with fallback-encap), or that a NAT or a move between us
 * leaves in place no way through (followed always: nothing else works).
 */
static void
peer_flags(void *arg, uint8_t flags)
{
	struct zcctund *z = arg;
	char peer[ZCC_ADDRSTRLEN];

	if (z->peer_asked || z->encap_selected)
		return;
	if (flags & HS_ECHO_NAT) {
		z->peer_asked = 1;
		carry_encapsulated(z, HS_ECHO_NAT);
		log_warnx("the peer says our ports are rewritten on the way "
		    "(a NAT), or we moved: selected flows to %s now travel "
		    "encapsulated (UDP port %u) until zcctund restarts",
		    addr_format(&z->opt.peer, peer, sizeof(peer)),
		    z->opt.udp_port);
	} else if (flags & HS_ECHO_ENCAP) {
		z->peer_asked = 1;
		path_trouble(z, "the peer says our sealed segments do not "
		    "reach it intact");
	}
}

/* ---- NAT: how the peer addresses the link ---- */

static void
log_nat(const struct zcctund *z, const struct hs_view *v)
{
	char peer[ZCC_ADDRSTRLEN], self[ZCC_ADDRSTRLEN], us[ZCC_ADDRSTRLEN],
	    to[ZCC_ADDRSTRLEN], them[160] = "", seen[160] = "";

	addr_format(&z->opt.peer, peer, sizeof(peer));
	addr_format(&v->self, self, sizeof(self));
	addr_format(&z->local, us, sizeof(us));
	addr_format(&v->peer, to, sizeof(to));
	if (!addr_equal(&v->self, &z->opt.peer))
		snprintf(them, sizeof(them), "peer %s is seen as %s", self, peer);
	if (!addr_equal(&v->peer, &z->local))
		snprintf(seen, sizeof(seen), "we (%s) are seen as %s", us, to);
	log_warnx("%s%s%s: NAT between us; %s", them,
	    them[0] && seen[0] ? ", and " : "", seen, z->port_nat ?
	    "it rewrites ports too" : "selected flows stay sealed in place, "
	    "opened over the addresses the peer sends from and to");
}

/*
 * In place needs the peer at the address selected flows go to, and TCP's
 * ports as they were sealed: a port-rewriting NAT or a peer that moved
 * leaves encapsulation (whole segments, in our UDP) as the only way, at
 * both ends.
 */
static void
check_carriage(struct zcctund *z)
{
	char peer[ZCC_ADDRSTRLEN], at[ZCC_ADDRSTRLEN];

	if (z->encap_selected || !(z->port_nat || z->moved))
		return;
	carry_encapsulated(z, HS_ECHO_NAT);
	addr_format(&z->opt.peer, peer, sizeof(peer));
	addr_format(&z->ep, at, sizeof(at));
	if (z->port_nat)
		log_warnx("peer %s sends from UDP port %u and arrives from "
		    "port %u: the NAT rewrites ports; selected flows now "
		    "travel encapsulated (UDP port %u) until zcctund restarts",
		    peer, z->view.port, z->ep_port, z->opt.udp_port);
	else
		log_warnx("peer %s speaks from %s: selected flows now travel "
		    "encapsulated to it (UDP port %u) until zcctund restarts",
		    peer, at, z->ep_port);
}

/* Each new session's view: a NAT found, gone or changed is said once. */
static void
peer_view(void *arg, const struct hs_view *v)
{
	struct zcctund *z = arg;
	int nat = !addr_equal(&v->self, &z->opt.peer) ||
	    !addr_equal(&v->peer, &z->local);
	int same = addr_equal(&v->self, &z->view.self) &&
	    addr_equal(&v->peer, &z->view.peer);

	datapath_set_peer_view(z->dp, &v->self, &v->peer);
	/* The endpoint is where this session's handshake came from. */
	if (v->port != z->ep_port)
		z->port_nat = nat = 1;
	z->view = *v;
	if (!same || nat != z->nat) {
		if (nat)
			log_nat(z, v);
		else if (z->nat)
			log_info("no NAT between us any more");
	}
	z->nat = nat;
	check_carriage(z);
}

/* ---- where the peer's UDP port is: fixed, or (float) where it speaks ---- */

static void
set_endpoint(struct zcctund *z, const struct zcc_addr *a, uint16_t port)
{
	z->ep = *a;
	z->ep_port = port;
	z->ep_len = addr_to_sockaddr(a, port, &z->ep_sa);
	if (z->opt.floating)
		datapath_set_endpoint(z->dp, &z->ep_sa, z->ep_len);
}

/* An authentic message came from elsewhere (float): follow the peer. */
static void
follow(struct zcctund *z, const struct zcc_addr *was, uint16_t was_port)
{
	char peer[ZCC_ADDRSTRLEN], at[ZCC_ADDRSTRLEN], before[ZCC_ADDRSTRLEN];

	log_info("peer %s now speaks from %s port %u (was %s port %u): "
	    "following it", z->opt.peer_name[0] ? z->opt.peer_name :
	    addr_format(&z->opt.peer, peer, sizeof(peer)),
	    addr_format(&z->ep, at, sizeof(at)), z->ep_port,
	    addr_format(was, before, sizeof(before)), was_port);
	if (!addr_equal(&z->ep, &z->opt.peer))
		z->moved = 1;
	check_carriage(z);
}

/*
 * A datagram on the UDP port from a, port. From elsewhere (only a floating
 * link's socket takes those), a handshake or echo message is answered
 * there, and the peer followed there when the message, or encapsulated
 * data, was authentic and fresh: anyone can send from anywhere, only the
 * peer can prove it (replays fail the handshake's timestamp, the echo
 * counter or the data's replay window).
 */
static void
udp_datagram(struct zcctund *z, const uint8_t *buf, size_t n,
    const struct zcc_addr *a, uint16_t port)
{
	struct zcc_addr was = z->ep;
	uint16_t was_port = z->ep_port;
	int data = n > 0 && buf[0] == ENCAP_TYPE_DATA;

	if (addr_equal(a, &z->ep) && port == z->ep_port) {
		if (data)
			datapath_on_encap(z->dp, buf, n);
		else
			link_input(z->link, buf, n, now_ms());
		return;
	}
	if (data) {
		if (datapath_on_encap(z->dp, buf, n)) {
			set_endpoint(z, a, port);
			follow(z, &was, was_port);
		}
		return;
	}
	set_endpoint(z, a, port);
	if (link_input(z->link, buf, n, now_ms()))
		follow(z, &was, was_port);
	else
		set_endpoint(z, &was, was_port);
}

/* ---- the peer's ports ---- */

/*
 * Each new session says which ports the peer selects (a digest). Other
 * ones than ours: a port sealed at one end only would reach an application
 * at the other as ciphertext, so every selected flow is blocked, at both
 * ends (each sees the difference), until both select the same again.
 */
static void
peer_ports(void *arg, uint16_t digest)
{
	struct zcctund *z = arg;
	uint16_t ours = hs_ports_digest(z->opt.ports, z->opt.nports);
	int differ = digest != ours;
	char peer[ZCC_ADDRSTRLEN];

	if (differ == z->ports_differ)
		return;
	z->ports_differ = differ;
	datapath_block_selected(z->dp, differ);
	addr_format(&z->opt.peer, peer, sizeof(peer));
	if (differ)
		log_warnx("peer %s selects other ports than we do (%zu here): "
		    "every selected flow is blocked (ports_differ) until both "
		    "ends name the same encrypt-port list (then SIGHUP)", peer,
		    z->opt.nports);
	else
		log_info("peer %s selects the same ports as we do again: "
		    "selected flows carried", peer);
}

/* ---- the link's hands: what link.c asks of us ---- */

static void
link_send(void *arg, const uint8_t *msg, size_t len)
{
	struct zcctund *z = arg;
	ssize_t n = z->opt.floating ? sendto(z->udp_fd, msg, len, 0,
	    (struct sockaddr *)&z->ep_sa, z->ep_len) :
	    send(z->udp_fd, msg, len, 0);

	if (n == -1)
		log_debug("udp send: %s", strerror(errno));
}

static void
link_keys(void *arg, const struct dp_key *tx,
    const struct dp_key *const rx[], size_t nrx)
{
	struct zcctund *z = arg;

	datapath_set_keys(z->dp, tx, rx, nrx);
}

static uint64_t
link_tx_used(void *arg)
{
	struct zcctund *z = arg;

	return datapath_tx_used(z->dp);
}

/*
 * updetach: the command that started us shows our lines until the link is
 * up or it stops waiting; then they go to syslog, and its stderr is let go
 * (stdin is /dev/null already) so that a pipe it writes to can close.
 */
static void
release_stderr(struct zcctund *z)
{
	if (z->stderr_until == 0)
		return;
	z->stderr_until = 0;
	log_to_syslog();
	dup2(STDIN_FILENO, STDERR_FILENO);
}

static void
link_up(void *arg)
{
	struct zcctund *z = arg;

	/* The handshake just went through the kernel: the next hop is known. */
	refresh_nexthop(z);
	release_stderr(z);      /* before the waiting command may return */
	privsep_send(z->priv_fd, PRIV_UP, NULL);
}

static void
link_down_cb(void *arg)
{
	struct zcctund *z = arg;

	privsep_send(z->priv_fd, PRIV_DOWN, NULL);
}

static void
key_seen(void *arg, uint32_t session)
{
	struct zcctund *z = arg;

	link_key_seen(z->link, session, now_ms());
}

static void
link_config_from(struct link_config *c, const struct zcctund *z,
    const struct zcc_options *o)
{
	memset(c, 0, sizeof(*c));
	c->local = z->local;
	c->peer = o->peer;
	c->port = o->udp_port;
	c->rekey_interval = o->rekey_interval;
	c->keepalive_interval = o->keepalive_interval;
	c->keepalive_failure = o->keepalive_failure;
	c->holdoff = o->holdoff;
	c->maxfail = o->maxfail;
	c->persist = o->persist;
	c->codec = (uint8_t)o->compress;
	c->suites = (uint8_t)(o->sealing_zccseal2 ?
	    SEAL_SUITE_BIT(SEAL_SUITE_CHACHA) : seal_suites_available());
	c->ports_digest = hs_ports_digest(o->ports, o->nports);
}

/* ---- status for zccctl ---- */

static void
fill_status(void *arg, struct zcc_status *st)
{
	struct zcctund *z = arg;
	struct link_report lr;
	uint16_t sport, dport;

	snprintf(st->ifname, sizeof(st->ifname), "%s", z->opt.ifname);
	st->pid = (long)getppid();
	st->engine_pid = (long)getpid();
	snprintf(st->linkname, sizeof(st->linkname), "%s", z->opt.linkname);
	snprintf(st->realdev, sizeof(st->realdev), "%s", z->realdev);
	st->local = z->local;
	st->peer = z->opt.peer;
	st->udp_port = z->opt.udp_port;
	memcpy(st->ports, z->opt.ports, z->opt.nports * sizeof(st->ports[0]));
	st->nports = z->opt.nports;
	st->busy_poll = z->opt.busy_poll;
	st->by_link = z->link_fd != -1;
	st->nexthop = z->nh;
	datapath_sent_by(z->dp, &st->sent_link, &st->sent_ip);
	link_status(z->link, now_ms(), &lr);
	st->state = lr.state;
	st->handshake_age = lr.handshake_age;
	st->up_seconds = lr.up_seconds;
	st->key_id = lr.key_id;
	st->codec = lr.codec;
	st->suite = lr.suite;
	memcpy(st->keys, lr.keys, sizeof(st->keys));
	st->nkeys = lr.nkeys;
	st->prev_keys_seconds = lr.prev_keys_seconds;
	st->session_keys = lr.session_keys;
	st->link = lr.counters;
	st->dp = *datapath_counters(z->dp);
	st->nflows = datapath_flows(z->dp, st->flows, CONTROL_MAX_FLOWS);
	st->link_mtu = z->pmtu.link_mtu;
	st->path_mtu = z->pmtu.path_mtu;
	st->pmtu_believed = z->pmtu_believed;
	st->pmtu_ignored = z->pmtu_ignored;
	st->encap_selected = z->encap_selected;
	st->nat = z->nat;
	st->ports_differ = z->ports_differ;
	st->port_nat = z->port_nat;
	st->floating = z->opt.floating;
	st->endpoint = z->ep;
	st->endpoint_port = z->ep_port;
	st->peer_self = z->view.self;
	st->peer_sends_to = z->view.peer;
	st->trouble = datapath_trouble(z->dp, &sport, &dport);
}

/* ---- the event loop ---- */

static void
stop_if_given_up(struct zcctund *z)
{
	if (!link_gave_up(z->link))
		return;
	log_warnx("the link failed and persist is off (or maxfail reached): "
	    "exiting");
	z->exit_status = PRIVSEP_EXIT_GAVE_UP;
	event_base_loopbreak(z->base);
}

static void
on_tun(evutil_socket_t fd, short what, void *arg)
{
	struct zcctund *z = arg;

	(void)fd, (void)what;
	z->activity++;
	if (datapath_on_tun(z->dp) == -1) {
		z->exit_status = 1;
		event_base_loopbreak(z->base);
	}
}

static void
on_wire(evutil_socket_t fd, short what, void *arg)
{
	struct zcctund *z = arg;

	(void)fd, (void)what;
	z->activity++;
	datapath_on_wire(z->dp, z->intake);
}

/*
 * The size of the datagrams UDP GRO coalesced into one read (the last may
 * be shorter), or the read's length when it holds one.
 */
static size_t
gro_size(struct msghdr *h, size_t n)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c))
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			int size;

			memcpy(&size, CMSG_DATA(c), sizeof(size));
			return size > 0 ? (size_t)size : n;
		}
	return n;
}

/*
 * Datagrams from the peer's UDP port. With UDP_GRO (host.c) one read may
 * hold a run of them, each gso_size bytes but the last: cut it back into
 * the datagrams that were sent.
 */
static void
on_udp(evutil_socket_t fd, short what, void *arg)
{
	static uint8_t buf[65536];
	struct zcctund *z = arg;

	(void)what;
	z->activity++;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		union {
			struct cmsghdr h;
			uint8_t room[CMSG_SPACE(sizeof(int))];
		} c;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr h = { .msg_name = &from, .msg_namelen = sizeof(from),
		    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &c,
		    .msg_controllen = sizeof(c) };
		struct zcc_addr a;
		ssize_t n = recvmsg(fd, &h, 0);
		size_t size;

		if (n == -1) {
			/* ICMP errors (peer not listening yet) surface here. */
			if (errno != EAGAIN && errno != EINTR)
				log_debug("udp: %s", strerror(errno));
			if (errno == EAGAIN)
				break;
			continue;
		}
		if (addr_from_sockaddr(&a, (struct sockaddr *)&from) == -1)
			continue;
		size = gro_size(&h, (size_t)n);
		for (size_t at = 0; at < (size_t)n; at += size)
			udp_datagram(z, buf + at, (size_t)n - at < size ?
			    (size_t)n - at : size, &a,
			    addr_sockaddr_port((struct sockaddr *)&from));
	}
	datapath_flush(z->dp);
	stop_if_given_up(z);
}

/*
 * The session the peer seals under remembers too many connections for its
 * replay guard: a new session starts with an empty one.
 */
static void
renew_if_crowded(struct zcctund *z)
{
	int crowded = datapath_guard_crowded(z->dp);

	if (crowded && !z->guard_crowded) {
		log_info("renewing the session: its replay guard holds %d "
		    "connections of the %d it can", TSGUARD_FLOWS / 4 * 3,
		    TSGUARD_FLOWS);
		link_renew(z->link);
	}
	z->guard_crowded = crowded;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct zcctund *z = arg;

	(void)fd, (void)what;
	if (++z->ticks % NEXTHOP_TICKS == 0) {
		refresh_nexthop(z);
		expire_path_mtu(z);
	}
	check_path(z);
	check_sources(z);
	renew_if_crowded(z);
	link_tick(z->link, now_ms());
	stop_if_given_up(z);
	if (z->stderr_until && now_ms() >= z->stderr_until)
		release_stderr(z);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct zcctund *z = arg;

	(void)what;
	if (sig == SIGUSR1) {
		log_counters(z);
		return;
	}
	log_info("%s, shutting down", strsignal(sig));
	event_base_loopbreak(z->base);
}

/* ---- the parent's messages ---- */

/* What a live link takes of re-read options (the parent steered already). */
static void
apply_config(struct zcctund *z, const struct privsep_config *c)
{
	struct link_config lc;

	/* The backstop drops, after IP, what the ring missed meanwhile. */
	if (intake_set_ports(z->intake, c->ports, c->nports) == -1)
		log_warnx("SIGHUP: the receive ring keeps the old ports");
	memcpy(z->opt.ports, c->ports, sizeof(z->opt.ports));
	z->opt.nports = c->nports;
	z->opt.rekey_interval = c->rekey_interval;
	z->opt.keepalive_interval = c->keepalive_interval;
	z->opt.keepalive_failure = c->keepalive_failure;
	z->opt.holdoff = c->holdoff;
	z->opt.maxfail = c->maxfail;
	z->opt.busy_poll = c->busy_poll;
	z->opt.persist = (int)c->persist;
	datapath_set_ports(z->dp, z->opt.ports, z->opt.nports);
	link_config_from(&lc, z, &z->opt);
	link_set_config(z->link, &lc);
	log_info("SIGHUP: options re-read; %zu ports selected, busy-poll %u us",
	    z->opt.nports, z->opt.busy_poll);
}

/* The larger of the parent's two messages, and a byte to see a longer one. */
#define PARENT_BUF_LEN (sizeof(struct privsep_keys) > sizeof(struct privsep_msg) ? \
	sizeof(struct privsep_keys) + 1 : sizeof(struct privsep_msg) + 1)

/* A SIGHUP's keys (the parent logged what they are). */
static void
apply_keys(struct zcctund *z, const void *buf, size_t len)
{
	struct privsep_keys *k = sodium_malloc(sizeof(*k));

	if (k == NULL) {
		log_warnx("SIGHUP: out of memory: keeping the keys in use");
		return;
	}
	if (privsep_parse_keys(buf, len, k) == -1)
		log_warnx("malformed keys from the parent: ignored");
	else
		link_set_keys(z->link, k->sets, k->nsets, k->prev_seconds,
		    now_ms());
	sodium_free(k);
}

/*
 * A message, or the parent gone (the engine then has no reason to live).
 * Keys arrive through a locked buffer that is wiped after each message.
 */
static void
on_parent(evutil_socket_t fd, short what, void *arg)
{
	struct zcctund *z = arg;
	struct privsep_msg m;
	uint8_t *buf = z->parent_buf;
	ssize_t n;

	(void)what;
	n = recv(fd, buf, PARENT_BUF_LEN, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		log_warnx("the parent is gone: exiting");
		z->exit_status = 1;
		event_base_loopbreak(z->base);
		return;
	}
	if ((size_t)n == sizeof(struct privsep_keys))
		apply_keys(z, buf, (size_t)n);
	else if (privsep_parse(buf, (size_t)n, 0, &m) == -1)
		log_warnx("a malformed message from the parent: ignored");
	else
		apply_config(z, &m.config);
	sodium_memzero(buf, PARENT_BUF_LEN);
}

/*
 * zccctl session-id: a connection with our peer, as the application names
 * it: by the peer's configured address, or (NAT) where it speaks from.
 */
static int
session_id(void *arg, const struct control_sid_req *q, struct sid_result *r,
    char ifname[IFNAMSIZ])
{
	struct zcctund *z = arg;

	snprintf(ifname, IFNAMSIZ, "%s", z->opt.ifname);
	if (!addr_equal(&q->peer, &z->opt.peer) && !addr_equal(&q->peer, &z->ep))
		return CONTROL_SID_OTHER_PEER;
	return datapath_session_id(z->dp, q->lport, q->rport, r);
}

/* zccctl stop and reload: the parent decides. */
static int
on_command(void *arg, enum control_command cmd)
{
	struct zcctund *z = arg;

	return privsep_send(z->priv_fd, cmd == CONTROL_STOP ? PRIV_STOP :
	    PRIV_RELOAD, NULL);
}

#define NEVENTS 9

static int
add_events(struct zcctund *z, struct event *ev[NEVENTS])
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGUSR1 };
	struct timeval tick = { 0, TICK_MS * 1000 };

	ev[0] = event_new(z->base, z->tun_fd, EV_READ | EV_PERSIST, on_tun, z);
	ev[1] = event_new(z->base, z->udp_fd, EV_READ | EV_PERSIST, on_udp, z);
	ev[2] = event_new(z->base, -1, EV_PERSIST, on_tick, z);
	ev[3] = event_new(z->base, intake_fd(z->intake), EV_READ | EV_PERSIST,
	    on_wire, z);
	ev[4] = event_new(z->base, z->priv_fd, EV_READ | EV_PERSIST, on_parent, z);
	for (size_t i = 0; i < 3; i++)
		ev[i + 5] = evsignal_new(z->base, sigs[i], on_signal, z);
	ev[8] = event_new(z->base, z->icmp_fd, EV_READ | EV_PERSIST, on_icmp, z);
	for (size_t i = 0; i < NEVENTS; i++)
		if (ev[i] == NULL ||
		    event_add(ev[i], i == 2 ? &tick : NULL) == -1) {
			log_warnx("cannot set up the event loop");
			return -1;
		}
	return 0;
}

/* True when the last pass of the loop ended it (a signal, a failure). */
static int
loop_ended(struct zcctund *z)
{
	return event_base_got_break(z->base) || event_base_got_exit(z->base);
}

/*
 * busy-poll N: after a packet, keep looking for the next one for N
 * microseconds instead of sleeping, so that it is not delayed by a wake-up
 * (about half of the latency zcc adds on this project's VMs, where a
 * halted vCPU is slow to wake: DECISIONS.md, "busy-poll is an option, off
 * by default"). Each look is one epoll_wait that does not block; between
 * looks that find nothing, sched_yield lets any runnable task (the
 * applications) go first. A quiet link sleeps as with busy-poll 0: the
 * window closes N us after the last packet.
 */
static int
dispatch(struct zcctund *z)
{
	uint64_t deadline;

	for (;;) {
		if (event_base_loop(z->base, EVLOOP_ONCE) == -1)
			return -1;
		if (loop_ended(z))
			return 0;
		deadline = now_us() + z->opt.busy_poll;
		while (z->opt.busy_poll > 0 && now_us() < deadline) {
			unsigned long before = z->activity;

			if (event_base_loop(z->base, EVLOOP_ONCE |
			    EVLOOP_NONBLOCK) == -1)
				return -1;
			if (loop_ended(z))
				return 0;
			if (z->activity != before)
				deadline = now_us() + z->opt.busy_poll;
			else
				sched_yield();
		}
	}
}

static int
run_loop(struct zcctund *z)
{
	struct event *ev[NEVENTS] = { NULL };
	int ret = -1;

	if (add_events(z, ev) == -1)
		goto out;
	if (privsep_send(z->priv_fd, PRIV_READY, NULL) == -1)
		goto out;
	link_start(z->link, now_ms());
	ret = dispatch(z);
out:
	for (size_t i = 0; i < NEVENTS; i++)
		if (ev[i])
			event_free(ev[i]);
	return ret;
}

static int
start_link(struct zcctund *z, const struct privsep_keys *keys)
{
	static const struct link_ops ops = {
		.send = link_send, .keys = link_keys, .tx_used = link_tx_used,
		.up = link_up, .down = link_down_cb, .peer_flags = peer_flags,
		.peer_view = peer_view, .peer_ports = peer_ports,
	};
	struct dp_io io = { .tun_fd = z->tun_fd, .raw_fd = z->raw_fd,
	    .link_fd = z->link_fd, .udp_fd = z->udp_fd,
	    .wire_mtu = z->mtu + ZCC_OPT_LEN };
	struct link_config lc;

	z->dp = datapath_new(&z->opt.peer, z->local, z->opt.ports,
	    z->opt.nports, &io, key_seen, z);
	link_config_from(&lc, z, &z->opt);
	if (z->dp) {
		set_endpoint(z, &z->opt.peer, z->opt.udp_port);
		datapath_set_source_check(z->dp, source_ok, z);
		z->link = link_new(&lc, NULL, &ops, z);
	}
	if (z->link == NULL) {
		log_warnx("out of memory");
		return -1;
	}
	return link_set_keys(z->link, keys->sets, keys->nsets,
	    keys->prev_seconds, now_ms());
}


static void
tear_down(struct zcctund *z)
{
	if (z->link)
		link_stop(z->link, now_ms());
	control_close(z->control);
	if (z->dp)
		log_counters(z);
	link_free(z->link);
	datapath_free(z->dp);
	if (z->base)
		event_base_free(z->base);
}

int
engine_run(const struct engine_setup *s)
{
	struct zcctund z = {
		.opt = s->opt, .local = s->local, .mtu = s->mtu,
		.tun_fd = s->tun_fd, .raw_fd = s->raw_fd, .udp_fd = s->udp_fd,
		.priv_fd = s->priv_fd, .link_fd = s->link_fd, .nl_fd = s->nl_fd,
		.icmp_fd = s->icmp_fd, .realdev_index = s->realdev_index,
		.intake = s->intake, .route_fd = s->route_fd,
		.tun_index = s->tun_index, .stderr_until = s->stderr_until,
	};
	int ret = 1;

	pmtu_init(&z.pmtu, s->opt.peer.af, (uint32_t)s->mtu + ZCC_OPT_LEN);

	snprintf(z.realdev, sizeof(z.realdev), "%s", s->realdev);
	z.base = event_base_new();
	if (z.base == NULL) {
		log_warnx("event_base_new failed");
		goto out;
	}
	z.parent_buf = sodium_malloc(PARENT_BUF_LEN);
	if (z.parent_buf == NULL || start_link(&z, s->keys) == -1)
		goto out;
	z.control = control_open(z.base, s->control_fd, fill_status,
	    on_command, &z);
	if (z.control == NULL)
		goto out;
	control_set_sid(z.control, session_id);
	if (run_loop(&z) == 0)
		ret = z.exit_status;
out:
	tear_down(&z);
	if (z.parent_buf)
		sodium_free(z.parent_buf);
	return ret;
}
