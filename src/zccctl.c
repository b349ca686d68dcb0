/* SPDX-License-Identifier: ISC */
/*
 * zccctl: ask the zcctund daemons of this network namespace for their state
 * over their control sockets and print the replies; ask one to stop (its
 * block stays) or to re-read its options.
 *
 * Each reply is read whole before anything is printed, so a daemon that
 * fails half-way never leaves half an object in a JSON stream, and with a
 * deadline, so a hung daemon cannot hang zccctl.
 */
#include <errno.h>
#include <glob.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "zcc/control.h"
#include "zcc/options.h"
#include "zcc/log.h"
#include "zcc/steer.h"

#define REPLY_MAX (1024 * 1024)
#define TIMEOUT_MS 5000
#define STOP_WAIT_MS 45000      /* ip-down may take 30 s, as the unit allows */

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_CONTINUE = -1 };

struct args {
	const char *cmd;        /* "show", "stop", "reload" or "session-id" */
	char sid_req[CONTROL_REQ_MAX];  /* session-id: the request line */
	const char *ifname;     /* NULL: every zcctund in this namespace */
	int json;
	int verbose;            /* show: every field and counter */
};

struct reply {
	char *buf;
	size_t len;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: zccctl show [IFNAME] [-v | --json]\n"
	    "       zccctl stop IFNAME      stop the link; its block stays\n"
	    "       zccctl reload IFNAME    re-read its options, as SIGHUP\n"
	    "       zccctl session-id LOCALPORT PEERADDR PEERPORT [--json]\n"
	    "                               the connection's session ID\n"
	    "       zccctl --help | --version\n");
}

static int
is_word(const char *s, const char *a, const char *b)
{
	return strcmp(s, a) == 0 || strcmp(s, b) == 0;
}

static int
parse_show(int argc, char *argv[], struct args *a)
{
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 && strcmp(a->cmd, "show") == 0) {
			a->json = 1;
		} else if (is_word(argv[i], "--verbose", "-v") &&
		    strcmp(a->cmd, "show") == 0) {
			a->verbose = 1;
		} else if (is_word(argv[i], "--help", "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "zccctl: %s: unknown option '%s'\n", a->cmd,
			    argv[i]);
			return EXIT_USAGE;
		} else if (a->ifname != NULL) {
			fprintf(stderr, "zccctl: %s: one interface at most: "
			    "'%s' is one too many\n", a->cmd, argv[i]);
			return EXIT_USAGE;
		} else if (!options_valid_ifname(argv[i])) {
			fprintf(stderr, "zccctl: %s: '%s' is not an interface "
			    "name (1-%d characters of A-Z a-z 0-9 _ . -)\n",
			    a->cmd, argv[i], IFNAMSIZ - 1);
			return EXIT_USAGE;
		} else {
			a->ifname = argv[i];
		}
	}
	if (strcmp(a->cmd, "show") != 0 && a->ifname == NULL) {
		fprintf(stderr, "zccctl: %s: which interface? (zccctl %s "
		    "IFNAME)\n", a->cmd, a->cmd);
		return EXIT_USAGE;
	}
	return EXIT_CONTINUE;
}

/* zccctl session-id LOCALPORT PEERADDR PEERPORT [--json] */
static int
parse_session_id(int argc, char *argv[], struct args *a)
{
	const char *w[3];
	struct control_sid_req q;
	int n = 0;

	a->cmd = argv[1];
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			a->json = 1;
		else if (is_word(argv[i], "--help", "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else if (n < 3)
			w[n++] = argv[i];
		else
			n = 4;
	}
	if (n != 3) {
		fprintf(stderr, "zccctl: session-id: give LOCALPORT PEERADDR "
		    "PEERPORT\n");
		return EXIT_USAGE;
	}
	snprintf(a->sid_req, sizeof(a->sid_req), "session-id%s %s %s %s\n",
	    a->json ? " json" : "", w[0], w[1], w[2]);
	if (control_parse_sid(a->sid_req, strlen(a->sid_req) - 1, &q) == -1) {
		fprintf(stderr, "zccctl: session-id: '%s %s %s' is not a port "
		    "(1-65535), an IPv4 or IPv6 address and a port\n", w[0], w[1],
		    w[2]);
		return EXIT_USAGE;
	}
	return EXIT_CONTINUE;
}

/* EXIT_CONTINUE to go on and show, else the exit status. */
static int
parse_args(int argc, char *argv[], struct args *a)
{
	memset(a, 0, sizeof(*a));
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (is_word(argv[1], "--help", "-h") || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (is_word(argv[1], "--version", "-V") ||
	    strcmp(argv[1], "version") == 0) {
		printf("zccctl %s\n", ZCC_VERSION);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "session-id") == 0)
		return parse_session_id(argc, argv, a);
	if (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "stop") != 0 &&
	    strcmp(argv[1], "reload") != 0) {
		fprintf(stderr, "zccctl: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	a->cmd = argv[1];
	return parse_show(argc, argv, a);
}

static void
connect_error(const char *ifname, const char *path, int err)
{
	if (err == ENOENT)
		fprintf(stderr, "zccctl: no zcctund is running for %s (no %s)\n",
		    ifname, path);
	else if (err == ECONNREFUSED)
		fprintf(stderr, "zccctl: no zcctund is running for %s (%s is "
		    "left from one that died)\n", ifname, path);
	else if (err == EACCES || err == EPERM)
		fprintf(stderr, "zccctl: %s: %s (zccctl needs root)\n", path,
		    strerror(err));
	else if (err == EAGAIN || err == EWOULDBLOCK || err == ETIMEDOUT)
		fprintf(stderr, "zccctl: %s: zcctund does not answer\n", path);
	else
		fprintf(stderr, "zccctl: %s: %s\n", path, strerror(err));
}

static int
connect_daemon(const char *ifname, const char *path)
{
	struct timeval tv = { TIMEOUT_MS / 1000, 0 };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, err;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		fprintf(stderr, "zccctl: socket: %s\n", strerror(errno));
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	/* A unix connect waits while the backlog is full: bound that too. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		err = errno;
		close(fd);
		connect_error(ifname, path, err);
		return -1;
	}
	return fd;
}

static long
ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Read until the daemon closes, within the deadline. */
static int
read_reply(int fd, const char *path, struct reply *r)
{
	struct timespec deadline;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t cap = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += TIMEOUT_MS / 1000;
	for (;;) {
		long left = ms_left(&deadline);
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			fprintf(stderr, "zccctl: %s: no reply within %d seconds\n",
			    path, TIMEOUT_MS / 1000);
			return -1;
		}
		if (r->len == cap) {
			char *p = cap < REPLY_MAX ? realloc(r->buf, cap + 16384) : NULL;

			if (p == NULL) {
				fprintf(stderr, "zccctl: %s: reply too large\n", path);
				return -1;
			}
			r->buf = p;
			cap += 16384;
		}
		n = read(fd, r->buf + r->len, cap - r->len);
		if (n == 0)
			return 0;
		if (n == -1 && errno != EINTR) {
			fprintf(stderr, "zccctl: %s: %s\n", path, strerror(errno));
			return -1;
		}
		if (n > 0)
			r->len += (size_t)n;
	}
}

/* Ask the daemon behind path; r holds its whole reply on success. */
static int
ask_raw(const char *ifname, const char *path, const char *req, struct reply *r)
{
	int fd, ret = -1;

	r->buf = NULL;
	r->len = 0;
	fd = connect_daemon(ifname, path);
	if (fd == -1)
		return -1;
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
		fprintf(stderr, "zccctl: %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (read_reply(fd, path, r) == -1)
		goto out;
	if (r->len == 0) {
		fprintf(stderr, "zccctl: %s: zcctund closed the connection "
		    "without a reply\n", path);
		goto out;
	}
	ret = 0;
out:
	close(fd);
	if (ret == -1) {
		free(r->buf);
		r->buf = NULL;
	}
	return ret;
}

/* The same, and a reply that says "error: " is printed and -1. */
static int
ask(const char *ifname, const char *path, const char *req, struct reply *r)
{
	if (ask_raw(ifname, path, req, r) == -1)
		return -1;
	if (r->len >= 7 && memcmp(r->buf, "error: ", 7) == 0) {
		fprintf(stderr, "zccctl: %s: %.*s", ifname, (int)r->len, r->buf);
		free(r->buf);
		r->buf = NULL;
		return -1;
	}
	return 0;
}

/* The request for what show prints: short, -v (every field) or --json. */
static const char *
show_request(const struct args *a)
{
	if (a->json)
		return "show json\n";
	return a->verbose ? "show\n" : "show short\n";
}

static int
show_one(const struct args *a)
{
	char path[128];
	struct reply r;

	if (control_socket_path(a->ifname, path, sizeof(path)) == -1 ||
	    ask(a->ifname, path, show_request(a), &r) == -1)
		return EXIT_FAIL;
	fwrite(r.buf, 1, r.len, stdout);
	free(r.buf);
	return EXIT_OK;
}

/* Whether a daemon still listens on path. */
static int
listening(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	if (fd == -1)
		return 1;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%.*s",
	    (int)sizeof(sun.sun_path) - 1, path);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	return rc == 0;
}

/* stop waits until the daemon is gone, so that "cleanup" can follow. */
static int
command_one(const char *ifname, const char *cmd)
{
	char path[128], req[16];
	struct timespec deadline, pause = { 0, 100 * 1000000 };
	struct reply r;

	snprintf(req, sizeof(req), "%s\n", cmd);
	if (control_socket_path(ifname, path, sizeof(path)) == -1 ||
	    ask(ifname, path, req, &r) == -1)
		return EXIT_FAIL;
	fwrite(r.buf, 1, r.len, stdout);
	free(r.buf);
	if (strcmp(cmd, "stop") != 0)
		return EXIT_OK;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += STOP_WAIT_MS / 1000;
	while (listening(path)) {
		if (ms_left(&deadline) <= 0) {
			fprintf(stderr, "zccctl: %s: still running after %d "
			    "seconds\n", ifname, STOP_WAIT_MS / 1000);
			return EXIT_FAIL;
		}
		nanosleep(&pause, NULL);
	}
	return EXIT_OK;
}

static int glob_errno;

static int
glob_error(const char *epath, int eerrno)
{
	(void)epath;
	glob_errno = eerrno;
	return 1;
}

/* The interface name in a socket path: between the directory and the suffix. */
static void
path_ifname(const char *path, const char *suffix, char *ifname, size_t len)
{
	const char *name = path + strlen(ZCC_STATE_DIR "/");
	size_t n = strlen(name) - strlen(suffix);

	snprintf(ifname, len, "%.*s", (int)n, name);
}

/* Print one reply of several: separated by a blank line, or as array items. */
static void
print_item(const struct reply *r, int json, int first)
{
	size_t len = r->len;

	if (!json) {
		printf("%s%.*s", first ? "" : "\n", (int)len, r->buf);
		return;
	}
	while (len > 0 && r->buf[len - 1] == '\n')
		len--;
	printf("%s%.*s", first ? "[\n" : ",\n", (int)len, r->buf);
}

/*
 * The control sockets of this network namespace, in g, and where their
 * names end (*suffix); EXIT_OK, or EXIT_FAIL said on stderr.
 */
static int
list_sockets(glob_t *g, char pattern[128], const char **suffix)
{
	int rc;

	/* "*" for the name gives the pattern of this namespace's sockets. */
	if (control_socket_path("*", pattern, 128) == -1)
		return EXIT_FAIL;
	*suffix = strchr(pattern, '*') + 1;
	rc = glob(pattern, 0, glob_error, g);
	if (rc == GLOB_NOMATCH || (rc == GLOB_ABORTED && glob_errno == ENOENT)) {
		fprintf(stderr, "zccctl: no zcctund is running in this network "
		    "namespace\n");
		return EXIT_FAIL;
	}
	if (rc == GLOB_ABORTED) {
		fprintf(stderr, "zccctl: %s: %s%s\n", ZCC_STATE_DIR,
		    strerror(glob_errno), glob_errno == EACCES ?
		    " (zccctl needs root)" : "");
		return EXIT_FAIL;
	}
	if (rc != 0) {
		fprintf(stderr, "zccctl: %s: cannot list\n", pattern);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static int
show_all(const struct args *a)
{
	char pattern[128], ifname[IFNAMSIZ];
	const char *suffix;
	int ret = EXIT_OK, shown = 0;
	glob_t g;

	if (list_sockets(&g, pattern, &suffix) != EXIT_OK)
		return EXIT_FAIL;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct reply r;

		path_ifname(g.gl_pathv[i], suffix, ifname, sizeof(ifname));
		if (ask(ifname, g.gl_pathv[i], show_request(a), &r) == -1) {
			ret = EXIT_FAIL;
			continue;
		}
		print_item(&r, a->json, shown++ == 0);
		free(r.buf);
	}
	if (a->json)
		printf("%s]\n", shown ? "\n" : "[");
	globfree(&g);
	return ret;
}

/*
 * Ask every link here; the one whose peer it is answers. Its error (the
 * connection not seen) goes to stderr.
 */
static int
session_id(const struct args *a)
{
	char pattern[128], ifname[IFNAMSIZ];
	const char *suffix;
	int ret = -1;
	glob_t g;

	if (list_sockets(&g, pattern, &suffix) != EXIT_OK)
		return EXIT_FAIL;
	for (size_t i = 0; i < g.gl_pathc && ret == -1; i++) {
		struct reply r;

		path_ifname(g.gl_pathv[i], suffix, ifname, sizeof(ifname));
		if (ask_raw(ifname, g.gl_pathv[i], a->sid_req, &r) == -1)
			continue;
		/* Another link's peer: the next link may have it. */
		if (r.len == strlen(CONTROL_SID_OTHER_PEER_REPLY) && memcmp(r.buf,
		    CONTROL_SID_OTHER_PEER_REPLY, r.len) == 0) {
			free(r.buf);
			continue;
		}
		if (r.len >= 7 && memcmp(r.buf, "error: ", 7) == 0) {
			fprintf(stderr, "zccctl: session-id: %s: %.*s", ifname,
			    (int)r.len - 7, r.buf + 7);
			ret = EXIT_FAIL;
		} else {
			fwrite(r.buf, 1, r.len, stdout);
			ret = EXIT_OK;
		}
		free(r.buf);
	}
	globfree(&g);
	if (ret == -1) {
		fprintf(stderr, "zccctl: session-id: no link here has that peer\n");
		ret = EXIT_FAIL;
	}
	return ret;
}

int
main(int argc, char *argv[])
{
	struct args a;
	int ret;

	log_init("zccctl", 1, 0);
	ret = parse_args(argc, argv, &a);
	if (ret != EXIT_CONTINUE)
		return ret;
	if (strcmp(a.cmd, "session-id") == 0)
		ret = session_id(&a);
	else if (strcmp(a.cmd, "show") != 0)
		ret = command_one(a.ifname, a.cmd);
	else
		ret = a.ifname ? show_one(&a) : show_all(&a);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "zccctl: standard output: %s\n", strerror(errno));
		ret = EXIT_FAIL;
	}
	return ret;
}
