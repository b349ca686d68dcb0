/* SPDX-License-Identifier: ISC */
/*
 * zcctund: one daemon per link. Start-up runs in a fixed order and is torn
 * down in reverse: options -> key -> addresses -> zcc0, raw and UDP
 * sockets -> steering -> control socket, script helper -> privileges ->
 * event loop, where the link (link.c) handshakes, keys the data path and
 * says when to run ip-up and ip-down.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "zcc/control.h"
#include "zcc/datapath.h"
#include "zcc/host.h"
#include "zcc/intake.h"
#include "zcc/keys.h"
#include "zcc/link.h"
#include "zcc/log.h"
#include "zcc/nexthop.h"
#include "zcc/options.h"
#include "zcc/privs.h"
#include "zcc/scripts.h"
#include "zcc/steer.h"
#include "zcc/tun.h"

#define EXIT_USAGE 2
#define EXIT_LINK_FAILED 1
#define TICK_MS 100
#define NEXTHOP_TICKS 10        /* the next hop is read once a second */
#define PIDFILE_FMT "/run/zcc-%s.pid"
#define IPV6_MIN_MTU 1280

struct zcctund {
	struct zcc_options opt;
	int argc;               /* the words, re-read on SIGHUP */
	char **argv;
	struct zcc_addr local;          /* of the peer's family */
	char realdev[IFNAMSIZ];
	int mtu;
	int tun_fd, raw_fd, udp_fd;
	int link_fd, nl_fd;     /* sending on the link layer; -1: by IP only */
	unsigned int realdev_index;
	struct nexthop nh;      /* as last read */
	unsigned int ticks;
	struct intake *intake;  /* the peer's sealed segments */
	struct steer steer;
	int steering;
	struct datapath *dp;
	struct link *link;
	struct scripts *scripts;
	struct control *control;
	struct event_base *base;
	int ready_fd;           /* tells the waiting parent we are up */
	char pidfile[PATH_MAX];
	int exit_status;
	unsigned long activity; /* packet callbacks run, for busy-poll */
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
usage(FILE *f)
{
	fprintf(f,
	    "usage: zcctund [option ...]\n"
	    "       zcctund genkey\n"
	    "       zcctund cleanup [ifname NAME]\n"
	    "       zcctund --help | --version\n"
	    "\n"
	    "options (words, as with pppd):\n"
	    "  peer ADDR          the other end of the link, IPv4 or IPv6 (required)\n"
	    "  key-file PATH      the shared link key, mode 600 (required)\n"
	    "  encrypt-port PORT  seal TCP flows with the peer that have PORT at\n"
	    "                     either end (repeatable, at least one)\n"
	    "  local ADDR         our address (default: the kernel's choice for peer)\n"
	    "  ifname NAME        the interface (default %s)\n"
	    "  port N             zcc's UDP port (default %u; the handshake)\n"
	    "  fwmark N           mark of zcctund's own packets (default 0x%x)\n"
	    "  table N            routing table for selected flows (default %u)\n"
	    "  rule-priority N    ip rule preference (default %u)\n"
	    "  file PATH          read options from a file (see zcc.conf(5))\n"
	    "  call NAME          read options from CONFDIR/peers/NAME\n"
	    "  confdir DIR        first word only: CONFDIR (default %s)\n"
	    "  rekey-interval N   seconds between handshakes (default %u)\n"
	    "  keepalive-interval N  seconds between echo requests (default %u)\n"
	    "  keepalive-failure N   missed echoes before link down (default %u)\n"
	    "  ip-up-script PATH  run when the link comes up (CONFDIR/ip-up)\n"
	    "  ip-down-script PATH  run when it goes down (CONFDIR/ip-down)\n"
	    "  ipparam STR        sixth argument of the scripts\n"
	    "  linkname NAME      pid file /run/zcc-NAME.pid\n"
	    "  persist            after a failure, try again instead of exiting\n"
	    "  nopersist          undo a persist from an options file\n"
	    "  holdoff N          seconds before trying again (default %u)\n"
	    "  maxfail N          give up after N failed attempts (default %u)\n"
	    "  busy-poll N        after a packet, poll N us for the next (default 0)\n"
	    "  ip-output          send sealed segments by IP output, not the link layer\n"
	    "  nodetach           stay in the foreground, log to stderr\n"
	    "  debug              log every dropped segment and command run\n"
	    "\n"
	    "CONFDIR/options is read first. See zcctund(8).\n",
	    ZCC_DEFAULT_IFNAME, ZCC_DEFAULT_UDP_PORT,
	    ZCC_DEFAULT_FWMARK, ZCC_DEFAULT_TABLE, ZCC_DEFAULT_PRIORITY,
	    ZCC_SYSCONFDIR, ZCC_DEFAULT_REKEY, ZCC_DEFAULT_KEEPALIVE,
	    ZCC_DEFAULT_KEEPALIVE_FAILURE, ZCC_DEFAULT_HOLDOFF,
	    ZCC_DEFAULT_MAXFAIL);
}

static int
cmd_genkey(void)
{
	char key[ZCC_KEY_B64_LEN + 2];

	if (keys_generate(key, sizeof(key)) == -1)
		return 1;
	fputs(key, stdout);
	sodium_memzero(key, sizeof(key));
	return fflush(stdout) == EOF ? 1 : 0;
}

/*
 * Fork and let the child do the set-up while the parent waits: errors
 * still reach the terminal and the exit status tells whether zcc0 and the
 * steering are in place. The parent exits with the child's word; the link
 * comes up later (ip-up says when).
 */
static int
detach(struct zcctund *z)
{
	int fds[2];
	pid_t pid;
	char status = 1;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		log_warn("pipe");
		return -1;
	}
	pid = fork();
	if (pid == -1) {
		log_warn("fork");
		return -1;
	}
	if (pid > 0) {
		close(fds[1]);
		if (read(fds[0], &status, 1) != 1)
			status = 1;
		_exit(status);
	}
	close(fds[0]);
	z->ready_fd = fds[1];
	if (setsid() == -1)
		log_warn("setsid");
	return 0;
}

static void
write_pidfile(struct zcctund *z)
{
	FILE *f;

	if (z->opt.linkname[0] == '\0')
		return;
	snprintf(z->pidfile, sizeof(z->pidfile), PIDFILE_FMT, z->opt.linkname);
	f = fopen(z->pidfile, "we");
	if (f == NULL) {
		log_warn("%s", z->pidfile);
		z->pidfile[0] = '\0';
		return;
	}
	/* As pppd's ppp-NAME.pid: the pid, then the interface. */
	fprintf(f, "%ld\n%s\n", (long)getpid(), z->opt.ifname);
	if (fclose(f) == EOF)
		log_warn("%s", z->pidfile);
}

static void
announce_ready(struct zcctund *z)
{
	char local[ZCC_ADDRSTRLEN], peer[ZCC_ADDRSTRLEN], ports[ZCC_MAX_PORTS * 6];
	char ok = 0;
	int null;

	ports[0] = '\0';
	for (size_t i = 0; i < z->opt.nports; i++)
		snprintf(ports + strlen(ports), sizeof(ports) - strlen(ports),
		    "%s%u", i ? "," : "", z->opt.ports[i]);
	addr_format(&z->local, local, sizeof(local));
	addr_format(&z->opt.peer, peer, sizeof(peer));
	log_info("%s ready: local %s peer %s dev %s mtu %d ports %s",
	    z->opt.ifname, local, peer, z->realdev, z->mtu, ports);
	if (z->opt.busy_poll > 0)
		log_info("busy-poll: %u us after each packet", z->opt.busy_poll);
	write_pidfile(z);
	if (z->ready_fd == -1)
		return;
	log_to_syslog();
	null = open("/dev/null", O_RDWR);
	if (null != -1) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	if (write(z->ready_fd, &ok, 1) != 1)
		log_warn("cannot tell the parent we are up");
	close(z->ready_fd);
	z->ready_fd = -1;
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

/* ---- the link's hands: what link.c asks of us ---- */

static void
link_send(void *arg, const uint8_t *msg, size_t len)
{
	struct zcctund *z = arg;

	if (send(z->udp_fd, msg, len, 0) == -1)
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

static void
link_up(void *arg)
{
	struct zcctund *z = arg;

	/* The handshake just went through the kernel: the next hop is known. */
	refresh_nexthop(z);
	if (z->scripts)
		scripts_up(z->scripts);     /* a dead helper is logged there */
}

static void
link_down_cb(void *arg)
{
	struct zcctund *z = arg;

	if (z->scripts)
		scripts_down(z->scripts);
}

static void
key_seen(void *arg, uint8_t key_id)
{
	struct zcctund *z = arg;

	link_key_seen(z->link, key_id, now_ms());
}

static void
link_config_from(struct link_config *c, const struct zcctund *z,
    const struct zcc_options *o)
{
	memset(c, 0, sizeof(*c));
	c->local = z->local;
	c->peer = o->peer;
	c->rekey_interval = o->rekey_interval;
	c->keepalive_interval = o->keepalive_interval;
	c->keepalive_failure = o->keepalive_failure;
	c->holdoff = o->holdoff;
	c->maxfail = o->maxfail;
	c->persist = o->persist;
	c->codec = (uint8_t)o->compress;
}

/* ---- status for zccctl ---- */

static void
fill_status(void *arg, struct zcc_status *st)
{
	struct zcctund *z = arg;

	snprintf(st->ifname, sizeof(st->ifname), "%s", z->opt.ifname);
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
	link_status(z->link, now_ms(), st);
	st->dp = *datapath_counters(z->dp);
	st->nflows = datapath_flows(z->dp, st->flows, CONTROL_MAX_FLOWS);
}

/* ---- SIGHUP ---- */

/* What a running link cannot change: say so; the old value stays. */
static void
warn_fixed(const struct zcc_options *old, const struct zcc_options *n)
{
#define FIXED(field, name) \
	if (memcmp(&old->field, &n->field, sizeof(old->field)) != 0) \
		log_warnx("SIGHUP: %s changed; it applies at the next start", name)
	FIXED(peer, "peer");
	FIXED(local, "local");
	FIXED(key_file, "key-file");
	FIXED(ifname, "ifname");
	FIXED(udp_port, "port");
	FIXED(fwmark, "fwmark");
	FIXED(table, "table");
	FIXED(priority, "rule-priority");
	FIXED(ip_up, "ip-up-script");
	FIXED(ip_down, "ip-down-script");
	FIXED(linkname, "linkname");
	FIXED(ipparam, "ipparam");
	FIXED(nodetach, "nodetach");
	FIXED(debug, "debug");
	FIXED(ip_output, "ip-output");
#undef FIXED
}

/*
 * Re-read everything as at start; apply what can change on a live link:
 * the selected ports (steering first, so a flow that stays selected never
 * loses its path) and the link's timers and persist.
 */
static void
reload(struct zcctund *z)
{
	struct zcc_options n;
	struct link_config lc;
	char err[512];

	if (options_load(&n, z->argc, z->argv, err, sizeof(err)) == -1 ||
	    options_check(&n, err, sizeof(err)) == -1) {
		log_warnx("SIGHUP: %s; keeping the options in use", err);
		return;
	}
	warn_fixed(&z->opt, &n);
	if (steer_update(&z->steer, n.ports, n.nports) == -1) {
		log_warnx("SIGHUP: steering the new ports failed part way; "
		    "the data path keeps the old ports, so added ones travel "
		    "encapsulated, not in place, until the next SIGHUP or "
		    "restart");
		return;
	}
	/* The backstop drops, after IP, what the ring missed meanwhile. */
	if (intake_set_ports(z->intake, n.ports, n.nports) == -1)
		log_warnx("SIGHUP: the receive ring keeps the old ports");
	memcpy(z->opt.ports, n.ports, sizeof(n.ports));
	z->opt.nports = n.nports;
	z->opt.rekey_interval = n.rekey_interval;
	z->opt.keepalive_interval = n.keepalive_interval;
	z->opt.keepalive_failure = n.keepalive_failure;
	z->opt.holdoff = n.holdoff;
	z->opt.maxfail = n.maxfail;
	z->opt.busy_poll = n.busy_poll;
	z->opt.persist = n.persist;
	datapath_set_options(z->dp, &z->opt);
	link_config_from(&lc, z, &z->opt);
	link_set_config(z->link, &lc);
	log_info("SIGHUP: options re-read; %zu ports selected, busy-poll %u us",
	    z->opt.nports, z->opt.busy_poll);
}

/* ---- the event loop ---- */

static void
stop_if_given_up(struct zcctund *z)
{
	if (!link_gave_up(z->link))
		return;
	log_warnx("the link failed and persist is off (or maxfail reached): "
	    "exiting");
	z->exit_status = EXIT_LINK_FAILED;
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

static void
on_udp(evutil_socket_t fd, short what, void *arg)
{
	static uint8_t buf[ENCAP_MAX_LEN];
	struct zcctund *z = arg;

	(void)what;
	z->activity++;
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n == -1) {
			/* ICMP errors (peer not listening yet) surface here. */
			if (errno != EAGAIN && errno != EINTR)
				log_debug("udp: %s", strerror(errno));
			if (errno == EAGAIN)
				break;
			continue;
		}
		if (n > 0 && buf[0] == ENCAP_TYPE_DATA)      /* else the link's */
			datapath_on_encap(z->dp, buf, (size_t)n);
		else
			link_input(z->link, buf, (size_t)n, now_ms());
	}
	datapath_flush(z->dp);
	stop_if_given_up(z);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct zcctund *z = arg;

	(void)fd, (void)what;
	if (++z->ticks % NEXTHOP_TICKS == 0)
		refresh_nexthop(z);
	link_tick(z->link, now_ms());
	stop_if_given_up(z);
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
	if (sig == SIGHUP) {
		reload(z);
		return;
	}
	log_info("%s, shutting down", strsignal(sig));
	event_base_loopbreak(z->base);
}

#define NEVENTS 8

static int
add_events(struct zcctund *z, struct event *ev[NEVENTS])
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	struct timeval tick = { 0, TICK_MS * 1000 };

	ev[0] = event_new(z->base, z->tun_fd, EV_READ | EV_PERSIST, on_tun, z);
	ev[1] = event_new(z->base, z->udp_fd, EV_READ | EV_PERSIST, on_udp, z);
	ev[2] = event_new(z->base, -1, EV_PERSIST, on_tick, z);
	ev[3] = event_new(z->base, intake_fd(z->intake), EV_READ | EV_PERSIST,
	    on_wire, z);
	for (size_t i = 0; i < 4; i++)
		ev[i + 4] = evsignal_new(z->base, sigs[i], on_signal, z);
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
	announce_ready(z);
	link_start(z->link, now_ms());
	ret = dispatch(z);
out:
	for (size_t i = 0; i < NEVENTS; i++)
		if (ev[i])
			event_free(ev[i]);
	return ret;
}

static int
start_link(struct zcctund *z, const uint8_t link_key[ZCC_KEY_LEN])
{
	static const struct link_ops ops = {
		.send = link_send, .keys = link_keys, .tx_used = link_tx_used,
		.up = link_up, .down = link_down_cb,
	};
	struct dp_io io = { .tun_fd = z->tun_fd, .raw_fd = z->raw_fd,
	    .link_fd = z->link_fd, .udp_fd = z->udp_fd,
	    .wire_mtu = z->mtu + ZCC_OPT_LEN };
	struct link_config lc;

	z->dp = datapath_new(&z->opt, z->local, &io, key_seen, z);
	link_config_from(&lc, z, &z->opt);
	if (z->dp)
		z->link = link_new(&lc, link_key, &ops, z);
	if (z->link == NULL) {
		log_warnx("out of memory");
		return -1;
	}
	return 0;
}

static int
start_scripts(struct zcctund *z)
{
	struct scripts_args a = { .local = z->local, .peer = z->opt.peer,
	    .debug = z->opt.debug, .foreground = z->opt.nodetach };

	snprintf(a.ifname, sizeof(a.ifname), "%s", z->opt.ifname);
	snprintf(a.device, sizeof(a.device), "%s", z->realdev);
	if (z->opt.call[0])
		snprintf(a.peername, sizeof(a.peername), "%s", z->opt.call);
	else
		addr_format(&z->opt.peer, a.peername, sizeof(a.peername));
	snprintf(a.linkname, sizeof(a.linkname), "%s", z->opt.linkname);
	snprintf(a.ipparam, sizeof(a.ipparam), "%s", z->opt.ipparam);
	snprintf(a.ip_up, sizeof(a.ip_up), "%s", z->opt.ip_up);
	snprintf(a.ip_down, sizeof(a.ip_down), "%s", z->opt.ip_down);
	z->scripts = scripts_start(&a);
	return z->scripts ? 0 : -1;
}

/*
 * Sealed segments leave by the link layer where the real interface is
 * Ethernet, unless ip-output says not to (DECISIONS.md, "Sealed segments
 * leave by the link layer").
 */
static int
open_link_send(struct zcctund *z)
{
	int type;

	if (z->opt.ip_output) {
		log_info("ip-output: sealed segments leave by IP output");
		return 0;
	}
	if (host_link_type(z->realdev, &type) == -1 || type != ARPHRD_ETHER) {
		log_info("%s is not Ethernet: sealed segments leave by IP output",
		    z->realdev);
		return 0;
	}
	z->realdev_index = if_nametoindex(z->realdev);
	if (z->realdev_index == 0) {
		log_warn("%s", z->realdev);
		return -1;
	}
	z->link_fd = host_link_socket(z->opt.fwmark);
	if (z->link_fd != -1)
		z->nl_fd = nexthop_open();
	return z->nl_fd == -1 ? -1 : 0;
}

/* Everything that needs root, before privileges go. */
static int
set_up(struct zcctund *z, const uint8_t link_key[ZCC_KEY_LEN])
{
	if ((z->tun_fd = tun_open(z->opt.ifname, z->mtu,
	    z->opt.peer.af == AF_INET6)) == -1 ||
	    (z->raw_fd = host_raw_socket(z->opt.peer.af, z->opt.fwmark)) == -1 ||
	    open_link_send(z) == -1 ||
	    (z->udp_fd = host_udp_socket(&z->local, &z->opt.peer,
	    z->opt.udp_port)) == -1)
		return -1;
	steer_init(&z->steer, &z->opt, z->local, z->realdev);
	if (steer_install(&z->steer) == -1)
		return -1;
	z->steering = 1;
	/* After steering: no selected segment reaches IP from here on. */
	z->intake = intake_open(z->realdev, z->mtu + ZCC_OPT_LEN, &z->opt.peer,
	    z->opt.ports, z->opt.nports);
	if (z->intake == NULL)
		return -1;
	z->base = event_base_new();
	if (z->base == NULL) {
		log_warnx("event_base_new failed");
		return -1;
	}
	/* The helper first: it forks, and must not inherit the link's keys. */
	if (start_scripts(z) == -1 || start_link(z, link_key) == -1)
		return -1;
	z->control = control_open(z->base, z->opt.ifname, fill_status, z);
	if (z->control == NULL)
		return -1;
	return privs_drop();
}

/* ip-down runs (and finishes) while zcc0 and the steering still exist. */
static void
tear_down(struct zcctund *z)
{
	if (z->link)
		link_stop(z->link, now_ms());
	scripts_stop(z->scripts);
	control_close(z->control);
	if (z->dp)
		log_counters(z);
	if (z->steering)
		steer_remove(&z->steer);
	intake_close(z->intake);
	link_free(z->link);
	datapath_free(z->dp);
	if (z->base)
		event_base_free(z->base);
	if (z->udp_fd != -1)
		close(z->udp_fd);
	if (z->raw_fd != -1)
		close(z->raw_fd);
	if (z->link_fd != -1)
		close(z->link_fd);
	if (z->nl_fd != -1)
		close(z->nl_fd);
	if (z->tun_fd != -1)
		close(z->tun_fd);
	if (z->pidfile[0])
		unlink(z->pidfile);
}

/* What can be checked without touching the host; failures exit 2. */
static int
prepare(struct zcctund *z, uint8_t link_key[ZCC_KEY_LEN])
{
	char err[512];

	if (steer_preflight() == -1)
		return -1;
	if (keys_load_file(z->opt.key_file, link_key, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	if (z->opt.have_local)
		z->local = z->opt.local;
	else if (host_local_toward(&z->opt.peer, z->opt.udp_port,
	    &z->local) == -1)
		return -1;
	if (host_device_of(&z->local, z->realdev) == -1 ||
	    host_mtu(z->realdev, &z->mtu) == -1)
		return -1;
	/* zcc0 leaves room for the option, so TCP's MSS does too. */
	z->mtu -= ZCC_OPT_LEN;
	/* Below 1280 the kernel turns IPv6 off on zcc0 (RFC 8200 5). */
	if (z->opt.peer.af == AF_INET6 && z->mtu < IPV6_MIN_MTU) {
		log_warnx("%s: MTU %d leaves %d for %s, less than the %d that "
		    "IPv6 needs", z->realdev, z->mtu + ZCC_OPT_LEN, z->mtu,
		    z->opt.ifname, IPV6_MIN_MTU);
		return -1;
	}
	if (tun_exists(z->opt.ifname)) {
		log_warnx("%s: an interface of that name already exists "
		    "(another zcctund, or left over: 'zcctund cleanup ifname %s')",
		    z->opt.ifname, z->opt.ifname);
		return -1;
	}
	return 0;
}

/*
 * The link key lives in a page of its own that core dumps leave out and,
 * once detached, a fork gets zeroed (MADV_WIPEONFORK): the root script
 * helper never holds a copy.
 */
static uint8_t *
key_page(void)
{
	long size = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		log_warn("mmap");
		return NULL;
	}
	if (madvise(p, (size_t)size, MADV_DONTDUMP) == -1)
		log_warn("madvise (continuing)");
	return p;
}

static void
key_page_wipe_on_fork(uint8_t *key)
{
	if (madvise(key, (size_t)sysconf(_SC_PAGESIZE), MADV_WIPEONFORK) == -1)
		log_warn("madvise (continuing)");
}

static void
key_page_free(uint8_t *key)
{
	if (key == NULL)
		return;
	sodium_memzero(key, ZCC_KEY_LEN);
	munmap(key, (size_t)sysconf(_SC_PAGESIZE));
}

static int
cmd_run(struct zcctund *z)
{
	uint8_t *link_key;
	int ret = 1;

	log_init("zcctund", 1, z->opt.debug);
	if ((link_key = key_page()) == NULL)
		return 1;
	if (prepare(z, link_key) == -1) {
		key_page_free(link_key);
		return EXIT_USAGE;
	}
	if (!z->opt.nodetach && detach(z) == -1)
		goto out;
	key_page_wipe_on_fork(link_key);
	if (set_up(z, link_key) == -1)
		goto out;
	key_page_free(link_key);
	link_key = NULL;
	if (run_loop(z) == 0)
		ret = z->exit_status;
out:
	key_page_free(link_key);
	tear_down(z);
	return ret;
}

int
main(int argc, char *argv[])
{
	struct zcctund z = { .tun_fd = -1, .raw_fd = -1, .udp_fd = -1,
	    .link_fd = -1, .nl_fd = -1,
	    .ready_fd = -1, .argc = argc - 1, .argv = argv + 1 };
	char err[512];

	signal(SIGPIPE, SIG_IGN);
	if (options_load(&z.opt, argc - 1, argv + 1, err, sizeof(err)) == -1 ||
	    options_check(&z.opt, err, sizeof(err)) == -1) {
		fprintf(stderr, "zcctund: %s\n", err);
		return EXIT_USAGE;
	}
	if (sodium_init() == -1) {
		fprintf(stderr, "zcctund: libsodium failed to initialise\n");
		return 1;
	}
	switch (z.opt.command) {
	case ZCC_CMD_HELP:
		usage(stdout);
		return 0;
	case ZCC_CMD_VERSION:
		printf("zcctund %s\n", ZCC_VERSION);
		return 0;
	case ZCC_CMD_GENKEY:
		return cmd_genkey();
	case ZCC_CMD_CLEANUP:
		log_init("zcctund", 1, z.opt.debug);
		if (control_cleanup(z.opt.ifname) == -1)
			return 1;
		return steer_cleanup(z.opt.ifname) == -1 ? 1 : 0;
	case ZCC_CMD_RUN:
		break;
	}
	return cmd_run(&z);
}
