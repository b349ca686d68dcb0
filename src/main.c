/* SPDX-License-Identifier: ISC */
/*
 * zcctund: one daemon per link, in two processes (privsep.h). This file is
 * the root parent. Start-up runs in a fixed order: options -> key ->
 * which link (a stopped predecessor's or a new one) -> the block -> zcc0
 * and the rest of the steering -> control socket, script helper -> the
 * engine, forked with the sockets it needs and run as its own user. Then
 * the parent supervises: it restarts a dead engine, re-steers on SIGHUP,
 * runs ip-up and ip-down when the engine says, and on the way out leaves
 * the block for "zcctund cleanup" to lift.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <systemd/sd-daemon.h>

#include "zcc/check.h"
#include "zcc/control.h"
#include "zcc/engine.h"
#include "zcc/host.h"
#include "zcc/intake.h"
#include "zcc/keys.h"
#include "zcc/log.h"
#include "zcc/nexthop.h"
#include "zcc/options.h"
#include "zcc/privsep.h"
#include "zcc/scripts.h"
#include "zcc/secmem.h"
#include "zcc/steer.h"
#include "zcc/tun.h"

#define EXIT_USAGE 2
#define EXIT_FAILED 1
#define PIDFILE_FMT "/run/zcc-%s.pid"
#define RESTART_MIN_MS 1000     /* a dead engine is restarted after this, */
#define RESTART_MAX_MS 30000    /* doubling while it keeps dying young, */
#define ENGINE_YOUNG_MS 10000   /* that is within this of its start */
#define STOP_GRACE_MS 10000     /* then SIGKILL */

/* What the locked key page holds: the keys in use and a SIGHUP's. */
struct key_page {
	struct privsep_keys msg;
	struct zcc_creds fresh;
};

struct parent {
	struct zcc_options opt;         /* claimed: ifname and numbers set */
	int argc;                       /* the words, re-read on SIGHUP */
	char **argv;
	struct steer steer, prev;
	int have_prev;
	struct zcc_addr local;          /* of the peer's family */
	char realdev[IFNAMSIZ];
	int mtu;                        /* zcc0's */
	int tun_fd, control_fd, sig_fd;
	struct key_page *keys;          /* the link's keys, in a page of their own */
	uint64_t prev_keys_until;       /* ms: the previous keys' end (overlap) */
	uid_t uid;                      /* the engine's */
	gid_t gid;
	pid_t engine;                   /* 0: none running */
	int priv_fd;                    /* to the engine, -1: none */
	uint64_t engine_started, restart_at, restart_delay, kill_at;
	uint64_t resolve_at;            /* peer NAME: when to look it up again */
	int moving;                     /* the engine stops for a new peer address */
	int link_up;                    /* ip-up ran, ip-down owed */
	int announced;                  /* the first engine said ready */
	int stopping;
	struct scripts *scripts;
	int ready_fd;                   /* tells the waiting parent we are up */
	uint64_t wait_until;            /* updetach: then tell it we are not */
	char pidfile[PATH_MAX];
	int exit_status;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: zcctund [option ...]\n"
	    "       zcctund genkey [shared|private]   a new key, to standard output\n"
	    "       zcctund pubkey < PRIVATE   the public key of a private key\n"
	    "       zcctund cleanup [ifname NAME]   lift a stopped link's block\n"
	    "       zcctund check [option ...]      what a start would need, "
	    "checked\n"
	    "       zcctund --help | --version\n"
	    "\n"
	    "options (words, as with pppd):\n"
	    "  peer ADDR|NAME     the other end of the link, IPv4 or IPv6, or a host\n"
	    "                     name looked up again while running (required)\n"
	    "  resolve-interval N seconds between lookups of a peer NAME (60)\n"
	    "  key-file PATH      the shared link key, mode 600 (this, or the\n"
	    "                     two below, or all three)\n"
	    "  private-key-file PATH  our private key, mode 600 (genkey private)\n"
	    "  peer-public-key KEY|PATH  the peer's public key, or a file of it\n"
	    "  key-overlap N      seconds the old keys stay valid after a SIGHUP\n"
	    "                     brings new ones (default %u)\n"
	    "  encrypt-port PORT  seal TCP flows with the peer that have PORT at\n"
	    "                     either end (repeatable; none: a VPN link that\n"
	    "                     carries only what is routed into zcc0)\n"
	    "  local ADDR         our address (default: the kernel's choice for peer)\n"
	    "  ifname NAME        the interface (default: the first free zccN)\n"
	    "  port N             zcc's UDP port (default %u; the handshake)\n"
	    "  fwmark N           mark of zcctund's own packets (default 0x%x + N)\n"
	    "  table N            routing table for selected flows (default %u + 2N)\n"
	    "  rule-priority N    ip rule preference (default %u - 2N)\n"
	    "  user NAME          the unprivileged engine's user (default %s)\n"
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
	    "  compress none|lz4|lzs  compress encapsulated packets (both ends;\n"
	    "                     default none)\n"
	    "  sealing auto|zccseal2  auto: AES-256 (zccseal3) when both ends have\n"
	    "                     AES instructions; zccseal2: XChaCha20 always\n"
	    "  fallback-encap     carry selected flows encapsulated when the path\n"
	    "                     strips or alters the zcc option (both ends)\n"
	    "  float              follow the peer to the address and UDP port it\n"
	    "                     speaks from (behind a NAT that changes ports);\n"
	    "                     the link's UDP port must be its own here\n"
	    "  nodetach           stay in the foreground, log to stderr\n"
	    "  updetach           detach once the link is up (not just set up)\n"
	    "  ready-at up|setup  when systemd hears READY=1 (default up)\n"
	    "  debug              log every dropped segment and command run\n"
	    "\n"
	    "CONFDIR/options is read first. Stopping leaves the selected flows\n"
	    "blocked; 'zcctund cleanup' lifts the block. See zcctund(8).\n",
	    ZCC_DEFAULT_KEY_OVERLAP, ZCC_DEFAULT_UDP_PORT,
	    ZCC_DEFAULT_FWMARK, ZCC_DEFAULT_TABLE, ZCC_DEFAULT_PRIORITY,
	    ZCC_DEFAULT_USER,
	    ZCC_SYSCONFDIR, ZCC_DEFAULT_REKEY, ZCC_DEFAULT_KEEPALIVE,
	    ZCC_DEFAULT_KEEPALIVE_FAILURE, ZCC_DEFAULT_HOLDOFF,
	    ZCC_DEFAULT_MAXFAIL);
}

static int
cmd_genkey(int private)
{
	char key[ZCC_KEY_B64_LEN + 2];

	if ((private ? keys_generate_private(key, sizeof(key)) :
	    keys_generate(key, sizeof(key))) == -1)
		return 1;
	fputs(key, stdout);
	sodium_memzero(key, sizeof(key));
	return fflush(stdout) == EOF ? 1 : 0;
}

/* zcctund pubkey < private: the public key, as wg pubkey does. */
static int
cmd_pubkey(void)
{
	char in[128], out[ZCC_KEY_B64_LEN + 2];
	size_t n = fread(in, 1, sizeof(in), stdin);
	int ret = 0;

	if (n == sizeof(in) || keys_public_b64(in, n, out, sizeof(out)) == -1) {
		fprintf(stderr, "zcctund: pubkey: standard input does not hold "
		    "the base64 of a 32-byte private key (make one with "
		    "'zcctund genkey private')\n");
		ret = EXIT_USAGE;
	} else {
		fputs(out, stdout);
		ret = fflush(stdout) == EOF ? 1 : 0;
	}
	sodium_memzero(in, sizeof(in));
	return ret;
}

/*
 * updetach waits one attempt's time and a margin for the set-up: a
 * persisting daemon goes on trying alone after that.
 */
static unsigned
updetach_wait_s(const struct zcc_options *o)
{
	return (o->keepalive_interval ?
	    o->keepalive_interval * o->keepalive_failure : 30) + 10;
}

/*
 * The waiting parent: the daemon writes its status byte once set up
 * (updetach: once the link is up, or 1 when it stops waiting) and closes
 * the pipe, or exits with the reason on our shared stderr.
 */
static int
wait_for_daemon(int fd)
{
	char status = 1;
	ssize_t n;

	do
		n = read(fd, &status, 1);
	while (n == -1 && errno == EINTR);
	return n == 1 ? status : 1;
}

/*
 * Fork and let the child do the set-up while the parent waits: errors
 * still reach the terminal and the exit status tells whether zcc0 and the
 * steering are in place (with updetach: whether the link came up). The
 * parent exits with the child's word.
 */
static int
detach(struct parent *p)
{
	int fds[2];
	pid_t pid;

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
		_exit(wait_for_daemon(fds[0]));
	}
	close(fds[0]);
	p->ready_fd = fds[1];
	if (p->opt.updetach)
		p->wait_until = now_ms() + updetach_wait_s(&p->opt) * 1000ULL;
	if (setsid() == -1)
		log_warn("setsid");
	return 0;
}

static void
write_pidfile(struct parent *p)
{
	FILE *f;

	if (p->opt.linkname[0] == '\0')
		return;
	snprintf(p->pidfile, sizeof(p->pidfile), PIDFILE_FMT, p->opt.linkname);
	f = fopen(p->pidfile, "we");
	if (f == NULL) {
		log_warn("%s", p->pidfile);
		p->pidfile[0] = '\0';
		return;
	}
	/* As pppd's ppp-NAME.pid: the pid, then the interface. */
	fprintf(f, "%ld\n%s\n", (long)getpid(), p->opt.ifname);
	if (fclose(f) == EOF)
		log_warn("%s", p->pidfile);
}

/* Detached: stdio is /dev/null (updetach: stderr stays while it waits). */
static void
stdio_to_null(int keep_stderr)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null == -1)
		return;
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	if (!keep_stderr)
		dup2(null, STDERR_FILENO);
	if (null > STDERR_FILENO)
		close(null);
}

static void release_parent(struct parent *p, char status);

/*
 * systemd (Type=notify): what the link is doing, in STATUS=, and READY=1
 * once it is up, or once set up with "ready-at setup". Nothing happens
 * without NOTIFY_SOCKET; only this process speaks (NotifyAccess=main).
 */
static void
notify_state(const struct parent *p, const char *state)
{
	char peer[ZCC_ADDRSTRLEN];
	int ready = strcmp(state, "up") == 0 ||
	    (p->opt.ready_at_setup && p->announced);

	addr_format(&p->opt.peer, peer, sizeof(peer));
	sd_notifyf(0, "%sSTATUS=%s %s, peer %s", ready ? "READY=1\n" : "",
	    p->opt.ifname, state, p->opt.peer_name[0] ? p->opt.peer_name : peer);
}

/* The first engine is serving: the link exists, the caller may go on. */
static void
announce_ready(struct parent *p)
{
	char local[ZCC_ADDRSTRLEN], peer[ZCC_ADDRSTRLEN], ports[ZCC_MAX_PORTS * 6];

	p->announced = 1;
	ports[0] = '\0';
	for (size_t i = 0; i < p->opt.nports; i++)
		snprintf(ports + strlen(ports), sizeof(ports) - strlen(ports),
		    "%s%u", i ? "," : "", p->opt.ports[i]);
	if (p->opt.nports == 0)
		snprintf(ports, sizeof(ports), "none (a VPN link)");
	addr_format(&p->local, local, sizeof(local));
	addr_format(&p->opt.peer, peer, sizeof(peer));
	log_info("%s ready: local %s peer %s dev %s mtu %d ports %s (engine "
	    "pid %ld, user %s)", p->opt.ifname, local, peer, p->realdev, p->mtu,
	    ports, (long)p->engine, p->opt.user);
	if (p->opt.busy_poll > 0)
		log_info("busy-poll: %u us after each packet", p->opt.busy_poll);
	write_pidfile(p);
	notify_state(p, "handshaking");
	if (!p->opt.updetach)
		release_parent(p, 0);
}

/*
 * Set up (or, with updetach, the link is up or we stop waiting): the
 * waiting parent exits with status.
 */
static void
release_parent(struct parent *p, char status)
{
	if (p->ready_fd == -1)
		return;
	log_to_syslog();
	stdio_to_null(0);
	if (write(p->ready_fd, &status, 1) != 1)
		log_warn("cannot tell the parent we are up");
	close(p->ready_fd);
	p->ready_fd = -1;
}

/* ---- the engine ---- */

/*
 * Sealed segments leave by the link layer where the real interface is
 * Ethernet, unless ip-output says not to (DECISIONS.md, "Sealed segments
 * leave by the link layer").
 */
static int
open_link_send(const struct parent *p, struct engine_setup *e)
{
	int type;

	if (p->opt.ip_output) {
		log_info("ip-output: sealed segments leave by IP output");
		return 0;
	}
	if (host_link_type(p->realdev, &type) == -1 || type != ARPHRD_ETHER) {
		log_info("%s is not Ethernet: sealed segments leave by IP output",
		    p->realdev);
		return 0;
	}
	e->realdev_index = if_nametoindex(p->realdev);
	if (e->realdev_index == 0) {
		log_warn("%s", p->realdev);
		return -1;
	}
	e->link_fd = host_link_socket(p->opt.fwmark);
	if (e->link_fd != -1)
		e->nl_fd = nexthop_open();
	return e->nl_fd == -1 ? -1 : 0;
}

/* The sockets an engine needs, new for each: a dead engine's die with it. */
static int
open_engine_fds(struct parent *p, struct engine_setup *e)
{
	memset(e, 0, sizeof(*e));
	e->opt = p->opt;
	e->local = p->local;
	snprintf(e->realdev, sizeof(e->realdev), "%s", p->realdev);
	e->mtu = p->mtu;
	e->tun_fd = p->tun_fd;
	e->control_fd = p->control_fd;
	e->raw_fd = e->udp_fd = e->link_fd = e->nl_fd = e->priv_fd =
	    e->icmp_fd = e->route_fd = -1;
	e->tun_index = if_nametoindex(p->opt.ifname);
	e->stderr_until = p->ready_fd != -1 ? p->wait_until : 0;
	if ((e->raw_fd = host_raw_socket(p->opt.peer.af, p->opt.fwmark)) == -1 ||
	    (e->icmp_fd = host_icmp_socket(p->opt.peer.af)) == -1 ||
	    open_link_send(p, e) == -1 ||
	    (e->route_fd = nexthop_open()) == -1 ||
	    (e->udp_fd = host_udp_socket(&p->local, &p->opt.peer,
	    p->opt.udp_port, p->opt.floating)) == -1)
		return -1;
	/* After steering: no selected segment reaches IP from here on. */
	e->intake = intake_open(p->realdev, p->mtu + ZCC_OPT_LEN, &p->local,
	    &p->opt.peer, p->opt.ports, p->opt.nports);
	return e->intake ? 0 : -1;
}

static void
close_engine_fds(struct engine_setup *e)
{
	int *fds[] = { &e->raw_fd, &e->udp_fd, &e->link_fd, &e->nl_fd,
	    &e->icmp_fd, &e->route_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] != -1) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	intake_close(e->intake);
	e->intake = NULL;
}

/* The engine keeps stdio and what it was handed; nothing else of ours. */
static void
keep_only(const struct engine_setup *e)
{
	int keep[] = { e->tun_fd, e->raw_fd, e->udp_fd, e->link_fd, e->nl_fd,
	    e->icmp_fd, e->route_fd, e->control_fd, e->priv_fd,
	    intake_fd(e->intake) };
	int max = (int)sysconf(_SC_OPEN_MAX);

	for (int fd = STDERR_FILENO + 1; fd < (max > 0 ? max : 1024); fd++) {
		int kept = 0;

		for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
			kept |= keep[i] == fd;
		if (!kept)
			close(fd);
	}
}

/* In the child: become the engine, or die trying. Never returns. */
static void
engine_child(struct parent *p, struct engine_setup *e, pid_t parent)
{
	struct privsep_keys *keys = NULL;
	sigset_t none;
	int ret = 1;

	prctl(PR_SET_NAME, "zcctund-engine", 0, 0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Syslog's socket goes too: the engine opens its own, as itself. */
	keep_only(e);
	closelog();
	log_init("zcctund-engine", p->opt.nodetach || e->stderr_until,
	    p->opt.debug);
	if (!p->opt.nodetach)
		stdio_to_null(e->stderr_until != 0);
	keys = sodium_malloc(sizeof(*keys));
	if (keys == NULL || privsep_recv_keys(e->priv_fd, keys) == -1 ||
	    privsep_drop(p->uid, p->gid, parent) == -1)
		goto out;
	e->keys = keys;
	ret = engine_run(e);
out:
	if (keys)
		sodium_free(keys);
	_exit(ret);
}

/* The keys to the engine; the previous ones only while their overlap lasts. */
static int
send_keys(struct parent *p)
{
	struct privsep_keys *k = &p->keys->msg;
	uint64_t now = now_ms();

	if (k->nsets == 2 && now >= p->prev_keys_until) {
		sodium_memzero(&k->sets[1], sizeof(k->sets[1]));
		k->nsets = 1;
	}
	k->prev_seconds = k->nsets == 2 ?
	    (uint32_t)((p->prev_keys_until - now + 999) / 1000) : 0;
	return privsep_send_keys(p->priv_fd, k);
}

static int
spawn_engine(struct parent *p)
{
	struct engine_setup e;
	int sv[2] = { -1, -1 };
	pid_t pid, self = getpid();

	/*
	 * A new engine starts in place, from zcc0's MTU: what an earlier one
	 * set on the route (a learnt path MTU, or room for encapsulation) is
	 * its to set again, from the next report.
	 */
	if (p->steer.route_mtu && steer_set_mtu(&p->steer, 0) == -1)
		log_warnx("zcc0's route keeps MTU %u", p->steer.route_mtu);
	if (open_engine_fds(p, &e) == -1 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("cannot open what the engine needs");
		goto fail;
	}
	pid = fork();
	if (pid == -1) {
		log_warn("fork");
		goto fail;
	}
	if (pid == 0) {
		close(sv[0]);
		e.priv_fd = sv[1];
		engine_child(p, &e, self);
	}
	close(sv[1]);
	close_engine_fds(&e);
	p->engine = pid;
	p->priv_fd = sv[0];
	p->engine_started = now_ms();
	/* The key page is wiped in every fork: the engine gets it this way. */
	if (send_keys(p) == -1)
		kill(pid, SIGKILL);
	log_debug("engine started: pid %ld", (long)pid);
	return 0;
fail:
	for (int i = 0; i < 2; i++)
		if (sv[i] != -1)
			close(sv[i]);
	close_engine_fds(&e);
	return -1;
}

static void
link_went_down(struct parent *p)
{
	if (!p->link_up)
		return;
	p->link_up = 0;
	scripts_down(p->scripts);
}

/* The engine exited: the reason decides what the parent does. */
static void
engine_exited(struct parent *p, int status)
{
	uint64_t now = now_ms();
	int young = now - p->engine_started < ENGINE_YOUNG_MS;

	p->engine = 0;
	close(p->priv_fd);
	p->priv_fd = -1;
	link_went_down(p);
	if (p->stopping)
		return;
	if (p->moving) {        /* stopped by move_peer: at once, no backoff */
		p->moving = 0;
		p->restart_at = now;
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == PRIVSEP_EXIT_GAVE_UP) {
		p->stopping = 1;
		p->exit_status = EXIT_FAILED;
		return;
	}
	if (!p->announced) {
		log_warnx("the engine failed to start (%s %d)", WIFEXITED(status) ?
		    "status" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) :
		    WTERMSIG(status));
		p->stopping = 1;
		p->exit_status = EXIT_FAILED;
		return;
	}
	p->restart_delay = young && p->restart_delay ?
	    (p->restart_delay * 2 > RESTART_MAX_MS ? RESTART_MAX_MS :
	    p->restart_delay * 2) : RESTART_MIN_MS;
	p->restart_at = now + p->restart_delay;
	notify_state(p, "engine restarting, selected flows blocked");
	log_warnx("the engine died (%s %d): restarting it in %llu ms; selected "
	    "flows stay blocked meanwhile", WIFEXITED(status) ? "status" :
	    "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
	    (unsigned long long)p->restart_delay);
}

/* ---- a peer by name ---- */

/*
 * The name resolves to another address: steer the link to it (the new
 * address's block in place before the old one's rules go), then a new
 * engine with sockets for it. Flows to the old address are no longer
 * selected; OPERATIONS.md says what that means.
 */
static void
move_peer(struct parent *p, const struct zcc_addr *to)
{
	char was[ZCC_ADDRSTRLEN], now[ZCC_ADDRSTRLEN], realdev[IFNAMSIZ];
	struct zcc_options o = p->opt;
	struct zcc_addr local = p->opt.local;
	struct steer next;

	o.peer = *to;
	if ((!o.have_local && host_local_toward(to, o.udp_port, &local) == -1) ||
	    host_device_of(&local, realdev) == -1) {
		log_warnx("peer %s: %s is not reachable from here: the link "
		    "stays with %s", o.peer_name, addr_format(to, now,
		    sizeof(now)), addr_format(&p->opt.peer, was, sizeof(was)));
		return;
	}
	log_info("peer %s now resolves to %s (was %s): moving the link",
	    o.peer_name, addr_format(to, now, sizeof(now)),
	    addr_format(&p->opt.peer, was, sizeof(was)));
	steer_init(&next, &o);
	if (steer_block(&next, &p->steer) == -1 ||
	    steer_attach(&next, &local, realdev, &p->steer) == -1)
		log_warnx("steering to %s failed part way; what was installed "
		    "stays (zcctund cleanup lifts it once stopped)", now);
	p->steer = next;
	p->opt.peer = *to;
	p->local = local;
	snprintf(p->realdev, sizeof(p->realdev), "%s", realdev);
	if (p->engine) {
		p->moving = 1;
		kill(p->engine, SIGTERM);
	}
}

/* Look the peer's name up again (every resolve-interval, and after a loss). */
static void
resolve_again(struct parent *p, uint64_t now)
{
	struct zcc_addr to;

	p->resolve_at = now + (uint64_t)p->opt.resolve_interval * 1000;
	if (host_resolve(p->opt.peer_name, p->opt.peer.af, &to) == -1)
		return;         /* logged; the link keeps its address */
	if (!addr_equal(&to, &p->opt.peer))
		move_peer(p, &to);
}

/* Only the engine: the helper and the tools are reaped by their owners. */
static void
reap(struct parent *p)
{
	int status;

	if (p->engine && waitpid(p->engine, &status, WNOHANG) == p->engine)
		engine_exited(p, status);
}

/* ---- SIGHUP ---- */

/* What a running link cannot change: say so; the old value stays. */
static void
warn_fixed(void *arg, const char *word, enum options_reload how)
{
	(void)arg;
	if (how == RELOAD_NEXT_START)
		log_warnx("SIGHUP: %s changed; it applies at the next start", word);
}

/* "public key ABC.. (fingerprint X)" and the like, for the log. */
static void
describe_creds(const struct zcc_creds *c, char *out, size_t outlen)
{
	char fp[ZCC_FP_LEN], fp_peer[ZCC_FP_LEN], fp_psk[ZCC_FP_LEN];
	uint8_t pub[ZCC_KEY_LEN];

	keys_fingerprint(c->psk, fp_psk);
	if (!(c->flags & ZCC_CREDS_PUBLIC)) {
		snprintf(out, outlen, "shared key %s", fp_psk);
		return;
	}
	crypto_scalarmult_base(pub, c->priv);
	keys_fingerprint(pub, fp);
	keys_fingerprint(c->peer_pub, fp_peer);
	snprintf(out, outlen, "own public key %s, peer's %s%s%s", fp, fp_peer,
	    c->flags & ZCC_CREDS_SHARED ? ", shared key " : "",
	    c->flags & ZCC_CREDS_SHARED ? fp_psk : "");
}

/*
 * SIGHUP's keys: new ones go first and the ones in use stay valid for
 * key-overlap seconds (a rotation); the same ones again retire the
 * previous ones. A key file that cannot be read keeps the keys in use.
 */
static void
reload_keys(struct parent *p, const struct zcc_options *n)
{
	struct privsep_keys *k = &p->keys->msg;
	char err[512], what[256];

	if (keys_load_creds(n, &p->keys->fresh, err, sizeof(err)) == -1) {
		log_warnx("SIGHUP: %s; keeping the keys in use", err);
		return;
	}
	if (sodium_memcmp(&p->keys->fresh, &k->sets[0], sizeof(k->sets[0])) == 0) {
		if (k->nsets == 2)
			log_info("SIGHUP: the same keys: the previous ones are "
			    "retired");
		sodium_memzero(&k->sets[1], sizeof(k->sets[1]));
		k->nsets = 1;
	} else {
		describe_creds(&p->keys->fresh, what, sizeof(what));
		k->sets[1] = k->sets[0];
		k->sets[0] = p->keys->fresh;
		k->nsets = n->key_overlap ? 2 : 1;
		if (k->nsets == 1)
			sodium_memzero(&k->sets[1], sizeof(k->sets[1]));
		p->prev_keys_until = now_ms() + (uint64_t)n->key_overlap * 1000;
		if (n->key_overlap)
			log_info("SIGHUP: new keys (%s), tried first; the "
			    "previous ones stay valid %u s (key-overlap)", what,
			    n->key_overlap);
		else
			log_info("SIGHUP: new keys (%s); the previous ones are "
			    "retired (key-overlap 0)", what);
	}
	sodium_memzero(&p->keys->fresh, sizeof(p->keys->fresh));
	/* The words in use now, so that the next SIGHUP compares with them. */
	memcpy(p->opt.key_file, n->key_file, sizeof(p->opt.key_file));
	memcpy(p->opt.private_key_file, n->private_key_file,
	    sizeof(p->opt.private_key_file));
	memcpy(p->opt.peer_public_key, n->peer_public_key,
	    sizeof(p->opt.peer_public_key));
	p->opt.key_overlap = n->key_overlap;
	if (p->priv_fd != -1)
		send_keys(p);
}

/*
 * Re-read everything as at start; steer the new ports here (the engine
 * forwards meanwhile), then hand the engine what a live link takes.
 */
static void
reload_options(struct parent *p)
{
	struct zcc_options n;
	struct privsep_config c;
	char err[512];

	if (options_load(&n, p->argc, p->argv, err, sizeof(err)) == -1 ||
	    options_check(&n, err, sizeof(err)) == -1) {
		log_warnx("SIGHUP: %s; keeping the options in use", err);
		return;
	}
	/* What was allocated or resolved at start counts as given. */
	if (n.peer_name[0] && strcmp(n.peer_name, p->opt.peer_name) == 0)
		n.peer = p->opt.peer;
	if (n.ifname[0] == '\0')
		memcpy(n.ifname, p->opt.ifname, sizeof(n.ifname));
	n.table = n.table ? n.table : p->opt.table;
	n.priority = n.priority ? n.priority : p->opt.priority;
	n.fwmark = n.fwmark ? n.fwmark : p->opt.fwmark;
	options_reload_changes(&p->opt, &n, warn_fixed, NULL);
	reload_keys(p, &n);
	if (steer_update(&p->steer, n.ports, n.nports) == -1) {
		log_warnx("SIGHUP: steering the new ports failed part way; "
		    "the data path keeps the old ports, so added ones travel "
		    "encapsulated, not in place, until the next SIGHUP or "
		    "restart");
		return;
	}
	memcpy(p->opt.ports, n.ports, sizeof(n.ports));
	p->opt.nports = n.nports;
	p->opt.rekey_interval = n.rekey_interval;
	p->opt.keepalive_interval = n.keepalive_interval;
	p->opt.keepalive_failure = n.keepalive_failure;
	p->opt.holdoff = n.holdoff;
	p->opt.maxfail = n.maxfail;
	p->opt.busy_poll = n.busy_poll;
	p->opt.persist = n.persist;
	privsep_config_from(&c, &p->opt);
	if (p->priv_fd != -1)
		privsep_send(p->priv_fd, PRIV_CONFIG, &c);
}

/* SIGHUP or zccctl reload; systemd hears of it as a reload. */
static void
reload(struct parent *p)
{
	sd_notify(0, "RELOADING=1");
	reload_options(p);
	notify_state(p, p->link_up ? "up" : "handshaking");
}

/* ---- supervision ---- */

static void
begin_stop(struct parent *p, const char *why)
{
	if (p->stopping)
		return;
	log_info("%s, shutting down", why);
	sd_notifyf(0, "STOPPING=1\nSTATUS=%s stopping: %s", p->opt.ifname, why);
	p->stopping = 1;
	if (p->engine) {
		kill(p->engine, SIGTERM);
		p->kill_at = now_ms() + STOP_GRACE_MS;
	}
}

static void
on_engine_message(struct parent *p)
{
	struct privsep_msg m;
	uint8_t buf[sizeof(m) + 1];
	ssize_t n = recv(p->priv_fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n <= 0)
		return;     /* gone: SIGCHLD says how */
	if (privsep_parse(buf, (size_t)n, 1, &m) == -1) {
		log_warnx("a malformed message from the engine: ignored");
		return;
	}
	switch (m.type) {
	case PRIV_READY:
		p->restart_delay = 0;
		if (!p->announced)
			announce_ready(p);
		else
			log_info("the engine is back (pid %ld)", (long)p->engine);
		break;
	case PRIV_UP:
		p->link_up = 1;
		scripts_up(p->scripts);     /* a dead helper is logged there */
		release_parent(p, 0);       /* updetach: it waited for this */
		notify_state(p, "up");
		break;
	case PRIV_DOWN:
		link_went_down(p);
		notify_state(p, "down, handshaking again");
		if (p->opt.peer_name[0])
			p->resolve_at = now_ms();       /* moved, maybe */
		break;
	case PRIV_STOP:
		begin_stop(p, "zccctl stop");
		break;
	case PRIV_RELOAD:
		log_info("zccctl reload");
		reload(p);
		break;
	case PRIV_MTU:
		if (steer_set_mtu(&p->steer, m.mtu) == -1)
			log_warnx("path MTU: zcc0's route keeps MTU %u",
			    p->steer.route_mtu);
		break;
	}
}

static void
on_signal(struct parent *p)
{
	struct signalfd_siginfo si;

	while (read(p->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap(p);
			break;
		case SIGHUP:
			reload(p);
			break;
		case SIGUSR1:
			if (p->engine)
				kill(p->engine, SIGUSR1);
			break;
		default:
			begin_stop(p, strsignal((int)si.ssi_signo));
			break;
		}
	}
}

/* updetach: the link is not up in time; the waiting parent returns 1. */
static void
stop_waiting(struct parent *p)
{
	log_warnx("the link is not up after %u s; zcctund (pid %ld) goes on "
	    "trying%s: see the system log", updetach_wait_s(&p->opt),
	    (long)getpid(), p->opt.persist ? " (persist)" : " until it gives up");
	release_parent(p, 1);
}

static int
poll_timeout(const struct parent *p, uint64_t now)
{
	uint64_t at = p->engine ? (p->stopping ? p->kill_at : 0) : p->restart_at;

	if (p->opt.peer_name[0] && !p->stopping && (at == 0 || p->resolve_at < at))
		at = p->resolve_at;
	if (p->ready_fd != -1 && p->wait_until && (at == 0 || p->wait_until < at))
		at = p->wait_until;
	if (at == 0)
		return -1;
	return at > now ? (int)(at - now) : 0;
}

static int
supervise(struct parent *p)
{
	for (;;) {
		uint64_t now = now_ms();
		struct pollfd pfd[2];

		if (p->stopping && p->engine == 0)
			return 0;
		if (!p->stopping && p->engine == 0 && now >= p->restart_at &&
		    spawn_engine(p) == -1) {
			if (!p->announced) {
				p->exit_status = EXIT_FAILED;
				return 0;   /* a failed start */
			}
			p->restart_at = now + RESTART_MAX_MS;
		}
		if (p->opt.peer_name[0] && !p->stopping && now >= p->resolve_at)
			resolve_again(p, now);
		if (p->ready_fd != -1 && p->wait_until && now >= p->wait_until)
			stop_waiting(p);
		if (p->stopping && p->engine && now >= p->kill_at) {
			log_warnx("the engine did not stop: killed");
			kill(p->engine, SIGKILL);
			p->kill_at = now + STOP_GRACE_MS;
		}
		pfd[0] = (struct pollfd){ p->sig_fd, POLLIN, 0 };
		pfd[1] = (struct pollfd){ p->priv_fd, POLLIN, 0 };
		if (poll(pfd, p->priv_fd == -1 ? 1 : 2, poll_timeout(p, now)) == -1 &&
		    errno != EINTR) {
			log_warn("poll");
			return -1;
		}
		if (pfd[0].revents)
			on_signal(p);
		if (p->priv_fd != -1 && (pfd[1].revents & POLLIN))
			on_engine_message(p);
		else if (p->priv_fd != -1 && (pfd[1].revents & (POLLHUP | POLLERR)))
			reap(p);    /* its SIGCHLD may not be there yet */
	}
}

/* ---- start-up ---- */

static int
start_scripts(struct parent *p)
{
	struct scripts_args a = { .local = p->local, .peer = p->opt.peer,
	    .debug = p->opt.debug, .foreground = p->opt.nodetach };

	snprintf(a.ifname, sizeof(a.ifname), "%s", p->opt.ifname);
	snprintf(a.device, sizeof(a.device), "%s", p->realdev);
	if (p->opt.call[0])
		snprintf(a.peername, sizeof(a.peername), "%s", p->opt.call);
	else
		addr_format(&p->opt.peer, a.peername, sizeof(a.peername));
	snprintf(a.linkname, sizeof(a.linkname), "%s", p->opt.linkname);
	snprintf(a.ipparam, sizeof(a.ipparam), "%s", p->opt.ipparam);
	snprintf(a.ip_up, sizeof(a.ip_up), "%s", p->opt.ip_up);
	snprintf(a.ip_down, sizeof(a.ip_down), "%s", p->opt.ip_down);
	p->scripts = scripts_start(&a);
	return p->scripts ? 0 : -1;
}

/* The local address, the real device and zcc0's MTU. */
static int
find_path(struct parent *p)
{
	if (p->opt.have_local)
		p->local = p->opt.local;
	else if (host_local_toward(&p->opt.peer, p->opt.udp_port,
	    &p->local) == -1)
		return -1;
	if (host_device_of(&p->local, p->realdev) == -1 ||
	    host_mtu(p->realdev, &p->mtu) == -1)
		return -1;
	/* zcc0 leaves room for the option, so TCP's MSS does too. */
	p->mtu -= ZCC_OPT_LEN;
	/* Below 1280 the kernel turns IPv6 off on zcc0 (RFC 8200 5). */
	if (p->opt.peer.af == AF_INET6 && p->mtu < IPV6_MIN_MTU) {
		log_warnx("%s: MTU %d leaves %d for %s, less than the %d that "
		    "IPv6 needs", p->realdev, p->mtu + ZCC_OPT_LEN, p->mtu,
		    p->opt.ifname, IPV6_MIN_MTU);
		return -1;
	}
	if (tun_exists(p->opt.ifname)) {
		log_warnx("%s: an interface of that name already exists and is "
		    "not zcc's", p->opt.ifname);
		return -1;
	}
	return 0;
}

/*
 * The block first, before anything that can fail; then zcc0, the rest of
 * the steering, the control socket and the script helper.
 */
static int
set_up(struct parent *p)
{
	sigset_t sigs;

	steer_init(&p->steer, &p->opt);
	if (steer_block(&p->steer, p->have_prev ? &p->prev : NULL) == -1 ||
	    find_path(p) == -1 ||
	    (p->tun_fd = tun_open(p->opt.ifname, p->mtu,
	    p->opt.peer.af == AF_INET6)) == -1 ||
	    steer_attach(&p->steer, &p->local, p->realdev,
	    p->have_prev ? &p->prev : NULL) == -1 ||
	    (p->control_fd = control_bind(p->opt.ifname)) == -1 ||
	    start_scripts(p) == -1)
		return -1;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGCHLD);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) == -1 ||
	    (p->sig_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		log_warn("signalfd");
		return -1;
	}
	return 0;
}

/* zcc0 goes; the block stays, and the last word says how to lift it. */
static void
tear_down(struct parent *p)
{
	char peer[ZCC_ADDRSTRLEN];

	scripts_stop(p->scripts);       /* lets ip-down finish */
	if (p->tun_fd != -1)
		close(p->tun_fd);
	if (p->control_fd != -1) {
		close(p->control_fd);
		control_unbind(p->opt.ifname);
	}
	if (p->sig_fd != -1)
		close(p->sig_fd);
	if (p->pidfile[0])
		unlink(p->pidfile);
	if (p->opt.ifname[0] == '\0')
		return;     /* nothing was installed */
	log_warnx("%s: selected flows to %s stay blocked until "
	    "'zcctund cleanup ifname %s' lifts the block", p->opt.ifname,
	    addr_format(&p->opt.peer, peer, sizeof(peer)), p->opt.ifname);
}

/* What can be checked without touching the host; failures exit 2. */
static int
prepare(struct parent *p)
{
	char err[512];

	if (steer_preflight() == -1)
		return -1;
	if (keys_load_creds(&p->opt, &p->keys->msg.sets[0], err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	p->keys->msg.type = PRIV_KEYS;
	p->keys->msg.nsets = 1;
	if (privsep_user(p->opt.user, &p->uid, &p->gid, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	return 0;
}

/*
 * The link's keys live in a page of their own that is locked (never
 * swapped), that core dumps leave out and, once detached, that a fork gets
 * zeroed (MADV_WIPEONFORK): the root script helper never holds a copy.
 */
_Static_assert(sizeof(struct key_page) <= 4096, "the key page");

static struct key_page *
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
	if (mlock(p, (size_t)size) == -1)
		log_warn("mlock (continuing)");
	return p;
}

static void
key_page_wipe_on_fork(struct key_page *k)
{
	if (madvise(k, (size_t)sysconf(_SC_PAGESIZE), MADV_WIPEONFORK) == -1)
		log_warn("madvise (continuing)");
}

static void
key_page_free(struct key_page *k)
{
	if (k == NULL)
		return;
	sodium_memzero(k, sizeof(*k));
	munmap(k, (size_t)sysconf(_SC_PAGESIZE));
}

/* peer NAME at start: an address the options' checks then see. */
static int
resolve_peer(struct parent *p)
{
	char err[512];

	if (host_resolve(p->opt.peer_name, p->opt.have_local ?
	    p->opt.local.af : AF_UNSPEC, &p->opt.peer) == -1)
		return -1;
	if (options_check(&p->opt, err, sizeof(err)) == -1) {
		log_warnx("peer %s: %s", p->opt.peer_name, err);
		return -1;
	}
	if (host_other_family(p->opt.peer_name, p->opt.peer.af))
		log_warnx("peer %s also has %s addresses: this link selects no "
		    "flow to them (a second link with peer set to one covers "
		    "them)", p->opt.peer_name,
		    p->opt.peer.af == AF_INET6 ? "IPv4" : "IPv6");
	p->resolve_at = now_ms() + (uint64_t)p->opt.resolve_interval * 1000;
	return 0;
}

/*
 * From here on every line names the link, and the first says what runs
 * with which words (the command line's, after CONFDIR/options).
 */
static void
name_link(struct parent *p)
{
	char addr[ZCC_ADDRSTRLEN], words[1024] = "";
	size_t n = 0;

	addr_format(&p->opt.peer, addr, sizeof(addr));
	log_set_link(p->opt.ifname, p->opt.peer_name[0] ? p->opt.peer_name : addr);
	for (int i = 0; i < p->argc && n < sizeof(words); i++)
		n += (size_t)snprintf(words + n, sizeof(words) - n, "%s%s",
		    i ? " " : "", p->argv[i]);
	log_start(!p->opt.nodetach, "zcctund %s starting: %s (after %s/options "
	    "if present)", ZCC_VERSION, words, p->opt.confdir);
}

static int
cmd_run(struct parent *p)
{
	int ret = EXIT_FAILED;

	log_init("zcctund", 1, p->opt.debug);
	/* No core dump, no ptrace by others, for a process holding the key. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warn("prctl (continuing)");
	if ((p->keys = key_page()) == NULL)
		return EXIT_FAILED;
	if (prepare(p) == -1) {
		key_page_free(p->keys);
		return EXIT_USAGE;
	}
	if (p->opt.peer_name[0] && resolve_peer(p) == -1) {
		key_page_free(p->keys);
		return EXIT_FAILED;
	}
	if (steer_claim(&p->opt, &p->prev, &p->have_prev) == -1) {
		p->opt.ifname[0] = '\0';
		goto out;
	}
	name_link(p);
	{
		char what[256];

		describe_creds(&p->keys->msg.sets[0], what, sizeof(what));
		log_info("keys: %s", what);
	}
	if (!p->opt.nodetach && detach(p) == -1)
		goto out;
	key_page_wipe_on_fork(p->keys);
	if (set_up(p) == -1)
		goto out;
	if (supervise(p) == 0)
		ret = p->exit_status;
out:
	if (p->engine) {
		kill(p->engine, SIGKILL);
		waitpid(p->engine, NULL, 0);
	}
	key_page_free(p->keys);
	tear_down(p);
	return ret;
}

/* Lift the block of one link, or of every stopped link here. */
static int
cmd_cleanup(const char *ifname)
{
	char names[STEER_MAX_LINKS][IFNAMSIZ];
	int n, ret = 0;

	/* The block first: it says so plainly when the daemon still runs. */
	if (ifname[0])
		return steer_cleanup(ifname) == -1 ||
		    control_cleanup(ifname) == -1 ? 1 : 0;
	n = steer_links(names, STEER_MAX_LINKS);
	if (n == -1)
		return 1;
	if (n == 0)
		log_info("no link recorded in this network namespace: nothing "
		    "to clean up");
	for (int i = 0; i < n; i++)
		if (steer_cleanup(names[i]) == -1 ||
		    control_cleanup(names[i]) == -1)
			ret = 1;
	return ret;
}

/*
 * A link makes zcc0, routes, rules and a firewall table, as pppd does: say
 * so plainly rather than fail later on /dev/net/tun.
 */
static int
run_as_root(void)
{
	if (geteuid() == 0)
		return 1;
	fprintf(stderr, "zcctund: must be run as root (it creates the "
	    "interface, routes and firewall rules of the link)\n");
	return 0;
}

int
main(int argc, char *argv[])
{
	struct parent p = { .tun_fd = -1, .control_fd = -1, .sig_fd = -1,
	    .priv_fd = -1, .ready_fd = -1, .argc = argc - 1, .argv = argv + 1 };
	char err[512];

	signal(SIGPIPE, SIG_IGN);
	/* Before anything can make libcrypto allocate: its key contexts
	 * must come from locked memory (secmem.h). */
	if (secmem_install() == -1) {
		fprintf(stderr, "zcctund: cannot route libcrypto's memory\n");
		return EXIT_FAILED;
	}
	if (options_load(&p.opt, argc - 1, argv + 1, err, sizeof(err)) == -1)
		goto usage;
	if ((p.opt.command == ZCC_CMD_RUN || p.opt.command == ZCC_CMD_CLEANUP) &&
	    !run_as_root())
		return EXIT_USAGE;
	if (options_check(&p.opt, err, sizeof(err)) == -1)
		goto usage;
	if (sodium_init() == -1) {
		fprintf(stderr, "zcctund: libsodium failed to initialise\n");
		return EXIT_FAILED;
	}
	switch (p.opt.command) {
	case ZCC_CMD_HELP:
		usage(stdout);
		return 0;
	case ZCC_CMD_VERSION:
		printf("zcctund %s\n", ZCC_VERSION);
		return 0;
	case ZCC_CMD_GENKEY:
		return cmd_genkey(p.opt.genkey_private);
	case ZCC_CMD_PUBKEY:
		return cmd_pubkey();
	case ZCC_CMD_CLEANUP:
		log_init("zcctund", 1, p.opt.debug);
		return cmd_cleanup(p.opt.ifname);
	case ZCC_CMD_CHECK:
		log_init("zcctund", 1, p.opt.debug);
		return check_run(&p.opt);
	case ZCC_CMD_RUN:
		break;
	}
	return cmd_run(&p);
usage:
	fprintf(stderr, "zcctund: %s\n", err);
	return EXIT_USAGE;
}
