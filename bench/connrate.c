/* SPDX-License-Identifier: ISC */
/*
 * connrate: new TCP connections per second, each one a full exchange:
 * connect, send a 64-byte request, read a 64-byte reply, close.
 *
 *   connrate server PORT
 *   connrate client HOST PORT SECONDS [CONCURRENCY]
 *
 * The server (one epoll loop, non-blocking accept4, SO_REUSEADDR, backlog
 * 65535 capped by net.core.somaxconn) reads 64 bytes from each connection,
 * writes 64 bytes back and closes. It runs until SIGINT or SIGTERM, then
 * prints "served N" and "errors N" on stderr (its errors include the
 * connections a client abandons in flight when its time is up: about
 * CONCURRENCY per client run).
 *
 * The client keeps CONCURRENCY (default 1) connections in flight, all
 * non-blocking in one epoll loop; as soon as one completes or fails, a new
 * one starts. After SECONDS it prints on stdout
 *   connections N               completed exchanges (64 bytes back)
 *   connections_per_second N    N / elapsed seconds
 *   errors N                    failed connects, resets, short replies
 * and exits 0 (1 when nothing completed). Exchanges still in flight at the
 * end are not counted.
 *
 * At tens of thousands of connections per second, TIME_WAIT sockets pile
 * up (on the server side, which closes first, and on the client side when
 * its close wins the race) and the client's ephemeral ports run out: set,
 * in the namespaces of both ends,
 *   sysctl -w net.ipv4.tcp_tw_reuse=1
 *   sysctl -w net.ipv4.ip_local_port_range="1024 65535"
 *   sysctl -w net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535
 * Errors such as EADDRNOTAVAIL are counted, and show when this is missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG_LEN 64
#define MAX_EVENTS 256
#define MAX_CONCURRENCY 60000

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: connrate server PORT\n"
	    "       connrate client HOST PORT SECONDS [CONCURRENCY]\n"
	    "Each exchange: connect, send 64 bytes, read 64 bytes, close.\n"
	    "The client prints connections, connections_per_second, errors.\n"
	    "At high rates set in both namespaces: net.ipv4.tcp_tw_reuse=1,\n"
	    "net.ipv4.ip_local_port_range=\"1024 65535\",\n"
	    "net.core.somaxconn=65535, net.ipv4.tcp_max_syn_backlog=65535.\n");
	exit(2);
}

static void
die(const char *what)
{
	fprintf(stderr, "connrate: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* As many descriptors as we may: one per connection in flight. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static long
parse_num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		usage();
	return v;
}

/* ---- server ---- */

static int
run_server(const char *port_s)
{
	int port = (int)parse_num(port_s, 1, 65535);
	struct sockaddr_in6 sa;
	struct epoll_event ev, evs[MAX_EVENTS];
	unsigned char *got;             /* request bytes read, per fd */
	size_t nfd;
	struct rlimit rl;
	unsigned long served = 0, errors = 0;
	uint8_t reply[MSG_LEN], req[MSG_LEN];
	int one = 1, lfd, ep;
	struct sigaction sact;

	memset(&sact, 0, sizeof(sact));
	sact.sa_handler = on_signal;
	sigaction(SIGINT, &sact, NULL);
	sigaction(SIGTERM, &sact, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	nfd = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (1u << 22) ? (size_t)rl.rlim_cur : (1u << 22);
	if ((got = calloc(nfd, 1)) == NULL)
		die("calloc");
	memset(reply, 'r', sizeof(reply));

	/* One IPv6 socket that takes IPv4 too (v4-mapped). */
	if ((lfd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	one = 0;
	setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = in6addr_any;
	sa.sin6_port = htons((uint16_t)port);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		die("bind");
	if (listen(lfd, 65535) == -1)
		die("listen");
	if ((ep = epoll_create1(0)) == -1)
		die("epoll_create1");
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) == -1)
		die("epoll_ctl");

	while (!stop) {
		int n = epoll_wait(ep, evs, MAX_EVENTS, 1000);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == lfd) {
				int c;

				while ((c = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
					if ((size_t)c >= nfd) {
						close(c);
						errors++;
						continue;
					}
					got[c] = 0;
					ev.events = EPOLLIN;
					ev.data.fd = c;
					if (epoll_ctl(ep, EPOLL_CTL_ADD, c,
					    &ev) == -1) {
						close(c);
						errors++;
					}
				}
				if (errno != EAGAIN && errno != EWOULDBLOCK &&
				    errno != EINTR && errno != ECONNABORTED)
					errors++;       /* EMFILE and the like */
				continue;
			}
			/* Level-triggered: read what is there, once. */
			ssize_t r = read(fd, req, MSG_LEN - got[fd]);

			if (r > 0) {
				got[fd] = (unsigned char)(got[fd] + r);
				if (got[fd] < MSG_LEN)
					continue;
				if (write(fd, reply, MSG_LEN) == MSG_LEN)
					served++;
				else
					errors++;
			} else if (r == -1 && (errno == EAGAIN ||
			    errno == EINTR)) {
				continue;
			} else {
				errors++;       /* EOF or reset before the request */
			}
			close(fd);              /* also leaves the epoll set */
		}
	}
	fprintf(stderr, "served %lu\nerrors %lu\n", served, errors);
	return 0;
}

/* ---- client ---- */

struct conn {
	int fd;
	int sent;               /* request written */
	int got;                /* reply bytes read */
};

static struct addrinfo *target;
static int client_ep;
static unsigned long completed, client_errors;
static long idle;                       /* connections with fd -1 */

/*
 * Open c's next connection. An immediate failure (EADDRNOTAVAIL when the
 * ephemeral ports are used up) is counted and leaves c idle (fd -1): the
 * main loop retries it.
 */
static void
conn_start(struct conn *c)
{
	struct epoll_event ev;

	c->sent = c->got = 0;
	c->fd = socket(target->ai_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		client_errors++;
		idle++;
		return;
	}
	if (connect(c->fd, target->ai_addr, target->ai_addrlen) == -1 &&
	    errno != EINPROGRESS) {
		client_errors++;
		close(c->fd);
		c->fd = -1;
		idle++;
		return;
	}
	/* Edge-triggered: writable once connected, readable once the reply
	 * arrives (which cannot happen before our request). */
	ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
	ev.data.ptr = c;
	if (epoll_ctl(client_ep, EPOLL_CTL_ADD, c->fd, &ev) == -1)
		die("epoll_ctl");
}

static void
conn_restart(struct conn *c, int ok)
{
	if (ok)
		completed++;
	else
		client_errors++;
	close(c->fd);
	c->fd = -1;
	conn_start(c);
}

static void
conn_event(struct conn *c, uint32_t events)
{
	static const uint8_t request[MSG_LEN] = { 'q' };
	uint8_t buf[MSG_LEN];

	if (!c->sent) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		/* A failed connect makes this write fail. */
		if (send(c->fd, request, MSG_LEN, MSG_NOSIGNAL) != MSG_LEN) {
			conn_restart(c, 0);
			return;
		}
		c->sent = 1;
		if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
			return;
	}
	for (;;) {
		ssize_t r = read(c->fd, buf, MSG_LEN - (size_t)c->got);

		if (r > 0) {
			c->got += (int)r;
			if (c->got == MSG_LEN) {
				conn_restart(c, 1);
				return;
			}
		} else if (r == -1 && errno == EINTR) {
			continue;
		} else if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		} else {
			conn_restart(c, 0);     /* EOF or reset: short reply */
			return;
		}
	}
}

static int
run_client(const char *host, const char *port_s, const char *secs_s,
    const char *conc_s)
{
	long secs = parse_num(secs_s, 1, 86400);
	long conc = conc_s ? parse_num(conc_s, 1, MAX_CONCURRENCY) : 1;
	struct addrinfo hints;
	struct epoll_event evs[MAX_EVENTS];
	struct conn *conns;
	double t0, deadline, now;
	int rc;

	(void)parse_num(port_s, 1, 65535);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port_s, &hints, &target)) != 0) {
		fprintf(stderr, "connrate: %s: %s\n", host, gai_strerror(rc));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if ((client_ep = epoll_create1(0)) == -1)
		die("epoll_create1");
	if ((conns = calloc((size_t)conc, sizeof(*conns))) == NULL)
		die("calloc");

	t0 = now_s();
	deadline = t0 + (double)secs;
	for (long i = 0; i < conc; i++)
		conn_start(&conns[i]);
	while ((now = now_s()) < deadline) {
		int ms = (int)((deadline - now) * 1000) + 1, n;

		if (idle > 0) {
			idle = 0;
			for (long i = 0; i < conc; i++)
				if (conns[i].fd == -1)
					conn_start(&conns[i]);
		}
		n = epoll_wait(client_ep, evs, MAX_EVENTS, idle ? 1 : ms);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++)
			conn_event(evs[i].data.ptr, evs[i].events);
	}
	now = now_s();
	printf("connections %lu\n", completed);
	printf("connections_per_second %.0f\n", (double)completed / (now - t0));
	printf("errors %lu\n", client_errors);
	return completed > 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "server") == 0)
		return run_server(argv[2]);
	if ((argc == 5 || argc == 6) && strcmp(argv[1], "client") == 0)
		return run_client(argv[2], argv[3], argv[4],
		    argc == 6 ? argv[5] : NULL);
	usage();
	return 2;
}
