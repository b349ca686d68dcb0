/*
 * zcctund: one daemon per link. Start-up runs in a fixed order and is torn
 * down in reverse: options -> key -> addresses -> zcc0 and raw socket ->
 * steering -> privileges -> event loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "zcc/datapath.h"
#include "zcc/keys.h"
#include "zcc/log.h"
#include "zcc/options.h"
#include "zcc/privs.h"
#include "zcc/steer.h"
#include "zcc/tun.h"

#define EXIT_USAGE 2

struct zcctund {
	struct zcc_options opt;
	struct in_addr local;
	char realdev[IFNAMSIZ];
	int mtu;
	int tun_fd, raw_fd;
	struct steer steer;
	int steering;
	struct datapath *dp;
	struct event_base *base;
	int ready_fd;           /* tells the waiting parent we are up */
};

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
	    "  peer ADDR          the other end of the link (required)\n"
	    "  key-file PATH      the shared link key, mode 600 (required)\n"
	    "  encrypt-port PORT  seal TCP flows with the peer that have PORT at\n"
	    "                     either end (repeatable, at least one)\n"
	    "  local ADDR         our address (default: the kernel's choice for peer)\n"
	    "  ifname NAME        the interface (default %s)\n"
	    "  port N             zcc's UDP port (default %u; used by the handshake)\n"
	    "  fwmark N           mark of zcctund's own packets (default 0x%x)\n"
	    "  table N            routing table for selected flows (default %u)\n"
	    "  rule-priority N    ip rule preference (default %u)\n"
	    "  file PATH          read options from a file (see zcc.conf(5))\n"
	    "  nodetach           stay in the foreground, log to stderr\n"
	    "  debug              log every dropped segment and command run\n"
	    "\n"
	    "See zcctund(8).\n", ZCC_DEFAULT_IFNAME, ZCC_DEFAULT_UDP_PORT,
	    ZCC_DEFAULT_FWMARK, ZCC_DEFAULT_TABLE, ZCC_DEFAULT_PRIORITY);
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

/* The source address the kernel would use towards the peer. */
static int
pick_local(struct zcctund *z)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(z->opt.udp_port), .sin_addr = z->opt.peer };
	socklen_t len = sizeof(sin);
	int s, ret = -1;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s == -1) {
		log_warn("socket");
		return -1;
	}
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		log_warn("peer %s: no route", inet_ntoa(z->opt.peer));
		goto out;
	}
	if (getsockname(s, (struct sockaddr *)&sin, &len) == -1) {
		log_warn("getsockname");
		goto out;
	}
	z->local = sin.sin_addr;
	ret = 0;
out:
	close(s);
	return ret;
}

/* The interface holding our address: where the peer's segments arrive. */
static int
find_realdev(struct zcctund *z)
{
	struct ifaddrs *ifa, *i;
	int ret = -1;

	if (getifaddrs(&ifa) == -1) {
		log_warn("getifaddrs");
		return -1;
	}
	for (i = ifa; i; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		if (((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr !=
		    z->local.s_addr)
			continue;
		snprintf(z->realdev, sizeof(z->realdev), "%s", i->ifa_name);
		ret = 0;
		break;
	}
	freeifaddrs(ifa);
	if (ret == -1)
		log_warnx("local: %s is not an address of this host",
		    inet_ntoa(z->local));
	return ret;
}

static int
read_mtu(struct zcctund *z)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s == -1) {
		log_warn("socket");
		return -1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", z->realdev);
	if (ioctl(s, SIOCGIFMTU, &ifr) == -1) {
		log_warn("%s: mtu", z->realdev);
		close(s);
		return -1;
	}
	close(s);
	/* zcc0 leaves room for the option, so TCP's MSS does too. */
	z->mtu = ifr.ifr_mtu - ZCC_OPT_LEN;
	return 0;
}

/* The raw socket that sends sealed segments, marked to bypass the zcc table. */
static int
open_raw(struct zcctund *z)
{
	uint32_t mark = z->opt.fwmark;
	int sndbuf = 4 << 20;

	z->raw_fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (z->raw_fd == -1) {
		log_warn("raw socket");
		return -1;
	}
	if (setsockopt(z->raw_fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) == -1) {
		log_warn("SO_MARK");
		return -1;
	}
	if (setsockopt(z->raw_fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
	    sizeof(sndbuf)) == -1)
		log_warn("SO_SNDBUFFORCE (continuing with the default)");
	return 0;
}

/*
 * Fork and let the child do the set-up while the parent waits: errors
 * still reach the terminal and the exit status tells whether the link came
 * up, as with pppd. The parent exits with the child's word.
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
announce_ready(struct zcctund *z)
{
	char local[INET_ADDRSTRLEN], peer[INET_ADDRSTRLEN], ports[ZCC_MAX_PORTS * 6];
	char ok = 0;
	int null;

	ports[0] = '\0';
	for (size_t i = 0; i < z->opt.nports; i++)
		snprintf(ports + strlen(ports), sizeof(ports) - strlen(ports),
		    "%s%u", i ? "," : "", z->opt.ports[i]);
	inet_ntop(AF_INET, &z->local, local, sizeof(local));
	inet_ntop(AF_INET, &z->opt.peer, peer, sizeof(peer));
	log_info("%s ready: local %s peer %s dev %s mtu %d ports %s",
	    z->opt.ifname, local, peer, z->realdev, z->mtu, ports);
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

	for (int d = 0; d < DROP_MAX; d++)
		snprintf(drops + strlen(drops), sizeof(drops) - strlen(drops),
		    " %s=%llu", datapath_drop_name(d),
		    (unsigned long long)c->dropped[d]);
	log_info("counters: sealed=%llu opened=%llu bytes_sealed=%llu "
	    "bytes_opened=%llu sack_trimmed=%llu dropped:%s",
	    (unsigned long long)c->sealed, (unsigned long long)c->opened,
	    (unsigned long long)c->bytes_sealed,
	    (unsigned long long)c->bytes_opened,
	    (unsigned long long)c->sack_trimmed, drops);
}

static void
on_tun(evutil_socket_t fd, short what, void *arg)
{
	struct zcctund *z = arg;

	(void)fd, (void)what;
	if (datapath_on_tun(z->dp) == -1)
		event_base_loopbreak(z->base);
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
		log_warnx("SIGHUP: re-reading options is not supported yet; ignored");
		return;
	}
	log_info("%s, shutting down", strsignal(sig));
	event_base_loopbreak(z->base);
}

static int
run_loop(struct zcctund *z)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	struct event *ev[5] = { NULL };
	int ret = -1;

	z->base = event_base_new();
	if (z->base == NULL) {
		log_warnx("event_base_new failed");
		return -1;
	}
	ev[0] = event_new(z->base, z->tun_fd, EV_READ | EV_PERSIST, on_tun, z);
	for (size_t i = 0; i < 4; i++)
		ev[i + 1] = evsignal_new(z->base, sigs[i], on_signal, z);
	for (size_t i = 0; i < 5; i++)
		if (ev[i] == NULL || event_add(ev[i], NULL) == -1) {
			log_warnx("cannot set up the event loop");
			goto out;
		}
	announce_ready(z);
	ret = event_base_dispatch(z->base) == -1 ? -1 : 0;
out:
	for (size_t i = 0; i < 5; i++)
		if (ev[i])
			event_free(ev[i]);
	event_base_free(z->base);
	return ret;
}

/* Everything that needs root, before privileges go. */
static int
set_up(struct zcctund *z, const uint8_t link_key[ZCC_KEY_LEN])
{
	struct seal_key tx, rx;

	if ((z->tun_fd = tun_open(z->opt.ifname, z->mtu)) == -1 ||
	    open_raw(z) == -1)
		return -1;
	steer_init(&z->steer, &z->opt, z->local, z->realdev);
	if (steer_install(&z->steer) == -1)
		return -1;
	z->steering = 1;
	keys_static_schedule(link_key, z->local, z->opt.peer, &tx, &rx);
	z->dp = datapath_new(&z->opt, z->local, z->tun_fd, z->raw_fd, &tx, &rx);
	seal_key_wipe(&tx);
	seal_key_wipe(&rx);
	if (z->dp == NULL) {
		log_warnx("out of memory");
		return -1;
	}
	return privs_drop();
}

static void
tear_down(struct zcctund *z)
{
	if (z->dp)
		log_counters(z);
	if (z->steering)
		steer_remove(&z->steer);
	datapath_free(z->dp);
	if (z->raw_fd != -1)
		close(z->raw_fd);
	if (z->tun_fd != -1)
		close(z->tun_fd);
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
	else if (pick_local(z) == -1)
		return -1;
	if (find_realdev(z) == -1 || read_mtu(z) == -1)
		return -1;
	if (tun_exists(z->opt.ifname)) {
		log_warnx("%s: an interface of that name already exists "
		    "(another zcctund, or left over: 'zcctund cleanup ifname %s')",
		    z->opt.ifname, z->opt.ifname);
		return -1;
	}
	return 0;
}

static int
cmd_run(struct zcctund *z)
{
	uint8_t link_key[ZCC_KEY_LEN];
	int ret = 1;

	log_init("zcctund", 1, z->opt.debug);
	if (prepare(z, link_key) == -1) {
		sodium_memzero(link_key, sizeof(link_key));
		return EXIT_USAGE;
	}
	if (!z->opt.nodetach && detach(z) == -1)
		goto out;
	if (set_up(z, link_key) == -1)
		goto out;
	sodium_memzero(link_key, sizeof(link_key));
	ret = run_loop(z) == -1 ? 1 : 0;
out:
	sodium_memzero(link_key, sizeof(link_key));
	tear_down(z);
	return ret;
}

int
main(int argc, char *argv[])
{
	struct zcctund z = { .tun_fd = -1, .raw_fd = -1, .ready_fd = -1 };
	char err[512];

	signal(SIGPIPE, SIG_IGN);
	options_init(&z.opt);
	if (options_parse_argv(&z.opt, argc - 1, argv + 1, err, sizeof(err)) == -1 ||
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
		return steer_cleanup(z.opt.ifname) == -1 ? 1 : 0;
	case ZCC_CMD_RUN:
		break;
	}
	return cmd_run(&z);
}
