/* SPDX-License-Identifier: ISC */
/*
 * zcctund check: each check prints one line, "ok:", "FAIL:" or "warn:",
 * in plain words, and the last line counts them. Nothing on the host
 * changes: the kernel's features are tried in a scratch network
 * namespace, which goes when its process exits, and the handshake probe
 * is one initiation the peer answers like any other (its link does not
 * take it up: nothing confirms the session).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "zcc/check.h"
#include "zcc/cmd.h"
#include "zcc/compress.h"
#include "zcc/handshake.h"
#include "zcc/host.h"
#include "zcc/intake.h"
#include "zcc/keys.h"
#include "zcc/log.h"
#include "zcc/packet.h"
#include "zcc/privsep.h"
#include "zcc/steer.h"
#include "zcc/tun.h"

#define PROBE_TRIES 3
#define PROBE_WAIT_MS 1000
#define SCRATCH_IF "zcccheck0"

enum verdict { OK, FAIL, WARN };

struct tally {
	unsigned ok, failed, warned;
};

/* The link as a start would see it. */
struct target {
	const struct zcc_options *o;
	struct zcc_addr peer, local;
	char dev[IFNAMSIZ];
	int mtu;
	int have_path;
	struct zcc_creds *key;  /* NULL when a key file failed */
	uid_t uid;              /* the engine's user, 0: none */
	gid_t gid;
};

static void say(struct tally *t, enum verdict v, const char *fmt, ...)
    ZCC_PRINTF(3, 4);

static void
say(struct tally *t, enum verdict v, const char *fmt, ...)
{
	static const char *const word[] = { "ok", "FAIL", "warn" };
	va_list ap;

	t->ok += v == OK;
	t->failed += v == FAIL;
	t->warned += v == WARN;
	printf("%s: ", word[v]);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* ---- this host ---- */

static void
check_privileges(struct tally *t, struct target *g)
{
	char err[512];

	if (geteuid() == 0)
		say(t, OK, "running as root");
	else
		say(t, FAIL, "not root: zcctund must be run as root (it creates "
		    "the interface, routes and firewall rules of the link)");
	if (privsep_user(g->o->user, &g->uid, &g->gid, err, sizeof(err)) == 0)
		say(t, OK, "the engine's user %s (uid %u)", g->o->user,
		    (unsigned)g->uid);
	else
		say(t, FAIL, "%s", err);
}

/* -1 with err set when the keys do not make a usable handshake. */
static int
load_keys(struct target *g, char *err, size_t errlen)
{
	struct hs_keyset ks;
	struct zcc_creds *c = g->key;
	int pk, ret = 0;

	if (keys_load_creds(g->o, c, err, errlen) == -1)
		return -1;
	pk = (c->flags & ZCC_CREDS_PUBLIC) != 0;
	if (hs_keyset_init(&ks, NULL, pk ? c->priv : NULL,
	    pk ? c->peer_pub : NULL) == -1) {
		snprintf(err, errlen, "peer-public-key: a key no X25519 "
		    "exchange can use (a low-order point)");
		ret = -1;
	}
	sodium_memzero(&ks, sizeof(ks));
	return ret;
}

static void
check_key(struct tally *t, struct target *g)
{
	char err[512], fp[ZCC_FP_LEN];
	uint8_t pub[ZCC_KEY_LEN];

	g->key = sodium_malloc(sizeof(*g->key));
	if (g->key == NULL) {
		say(t, FAIL, "no locked memory for the key");
		return;
	}
	if (load_keys(g, err, sizeof(err)) == -1) {
		say(t, FAIL, "%s", err);
		sodium_free(g->key);
		g->key = NULL;
		return;
	}
	if (g->key->flags & ZCC_CREDS_SHARED)
		say(t, OK, "key file %s: 32 bytes, readable by its owner alone",
		    g->o->key_file);
	if (g->key->flags & ZCC_CREDS_PUBLIC) {
		crypto_scalarmult_base(pub, g->key->priv);
		keys_fingerprint(pub, fp);
		say(t, OK, "private key %s: readable by its owner alone; its "
		    "public key's fingerprint %s", g->o->private_key_file, fp);
	}
}

static void
check_tools(struct tally *t, const struct zcc_options *o)
{
	static const char *const tools[][2] = {
		{ "ip", "iproute2" }, { "tc", "iproute2" }, { "nft", "nftables" },
	};
	char path[64];
	int missing = 0;

	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		if (cmd_tool_path(tools[i][0], path, sizeof(path)) == 0)
			continue;
		say(t, FAIL, "'%s' is not in /usr/sbin, /usr/bin, /sbin or /bin: "
		    "install %s", tools[i][0], tools[i][1]);
		missing = 1;
	}
	if (!missing)
		say(t, OK, "ip, tc and nft are installed");
	if (o->nports == 0)
		return;
	if (steer_timestamps_off())
		say(t, FAIL, "net.ipv4.tcp_timestamps is 0: in-place sealing "
		    "needs TCP timestamps, so selected flows would be refused");
	else
		say(t, OK, "TCP timestamps are on (in-place sealing needs them)");
}

/* The address a start would use, the device and its MTU. */
static void
check_path(struct tally *t, struct target *g)
{
	const struct zcc_options *o = g->o;
	char peer[ZCC_ADDRSTRLEN], local[ZCC_ADDRSTRLEN];

	g->peer = o->peer;
	if (o->peer_name[0]) {
		if (host_resolve(o->peer_name, o->have_local ? o->local.af :
		    AF_UNSPEC, &g->peer) == -1) {
			say(t, FAIL, "peer %s: the name does not resolve",
			    o->peer_name);
			return;
		}
		say(t, OK, "peer %s is %s", o->peer_name,
		    addr_format(&g->peer, peer, sizeof(peer)));
	}
	addr_format(&g->peer, peer, sizeof(peer));
	if (o->have_local)
		g->local = o->local;
	else if (host_local_toward(&g->peer, o->udp_port, &g->local) == -1) {
		say(t, FAIL, "no route to the peer %s", peer);
		return;
	}
	if (host_device_of(&g->local, g->dev) == -1 ||
	    host_mtu(g->dev, &g->mtu) == -1) {
		say(t, FAIL, "%s is on no interface of this host",
		    addr_format(&g->local, local, sizeof(local)));
		return;
	}
	g->have_path = 1;
	say(t, OK, "route to the peer %s: from %s on %s, MTU %d (the link's "
	    "interface gets %d)", peer, addr_format(&g->local, local,
	    sizeof(local)), g->dev, g->mtu, g->mtu - ZCC_OPT_LEN);
	/* Below 1280 the kernel turns IPv6 off on the interface. */
	if (g->peer.af == AF_INET6 && g->mtu - ZCC_OPT_LEN < IPV6_MIN_MTU)
		say(t, FAIL, "%s: MTU %d leaves %d for the link, less than the "
		    "%d that IPv6 needs", g->dev, g->mtu, g->mtu - ZCC_OPT_LEN,
		    IPV6_MIN_MTU);
	if (o->ifname[0] && tun_exists(o->ifname))
		say(t, FAIL, "%s: an interface of that name exists (a link "
		    "running, or another device)", o->ifname);
}

/* ---- the kernel, in a scratch network namespace ---- */

typedef int feature_fn(const struct target *g);

/*
 * A command line of words separated by blanks; a failure is logged in the
 * tool's words on stderr, which is the check's pipe.
 */
static int
run(const char *line, const char *input)
{
	char copy[256], *argv[32], *save = NULL;
	int n = 0;

	snprintf(copy, sizeof(copy), "%s", line);
	for (char *w = strtok_r(copy, " ", &save); w && n < 31;
	    w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	argv[n] = NULL;
	return cmd_must(argv, input);
}

static int
feature_tun(const struct target *g)
{
	int fd = tun_open(SCRATCH_IF, 1280, g->peer.af == AF_INET6);

	if (fd == -1)
		return -1;
	close(fd);
	return 0;
}

static int
feature_tc(const struct target *g)
{
	/* One instruction, "return 0": TC_ACT_OK with direct-action. */
	char *const filter[] = { cmd_unconst("tc"), cmd_unconst("filter"),
	    cmd_unconst("add"), cmd_unconst("dev"), cmd_unconst("lo"),
	    cmd_unconst("ingress"), cmd_unconst("pref"), cmd_unconst("1"),
	    cmd_unconst("protocol"), cmd_unconst("all"), cmd_unconst("handle"),
	    cmd_unconst("1"), cmd_unconst("bpf"), cmd_unconst("bytecode"),
	    cmd_unconst("1,6 0 0 0"), cmd_unconst("direct-action"), NULL };

	(void)g;
	return run("ip link set lo up", NULL) == 0 &&
	    run("tc qdisc add dev lo clsact", NULL) == 0 &&
	    cmd_must(filter, NULL) == 0 ? 0 : -1;
}

static int
feature_nft(const struct target *g)
{
	(void)g;
	return run("nft -f -", "table inet zcc_check {\n"
	    " chain input { type filter hook input priority 0;\n"
	    "  meta l4proto tcp tcp dport 1 counter drop\n }\n}\n");
}

static int
feature_rules(const struct target *g)
{
	static const char *const v4[] = {
		"ip -4 rule add pref 100 to 192.0.2.2/32 ipproto tcp dport 80 lookup 100",
		"ip -4 rule add pref 100 to 192.0.2.2/32 ipproto tcp sport 80 lookup 100",
		"ip -4 rule add pref 99 fwmark 0x7a63 lookup 101",
	};
	static const char *const v6[] = {
		"ip -6 rule add pref 100 to 2001:db8::2/128 ipproto tcp dport 80 lookup 100",
		"ip -6 rule add pref 100 to 2001:db8::2/128 ipproto tcp sport 80 lookup 100",
		"ip -6 rule add pref 99 fwmark 0x7a63 lookup 101",
	};
	const char *const *rules = g->peer.af == AF_INET6 ? v6 : v4;

	for (size_t i = 0; i < 3; i++)
		if (run(rules[i], NULL) == -1)
			return -1;
	return 0;
}

static int
feature_ring(const struct target *g)
{
	static const uint16_t port = 80;
	struct intake *in;

	if (run("ip link set lo up", NULL) == -1)
		return -1;
	in = intake_open("lo", 1500, &g->local, &g->peer, &port, 1);
	if (in == NULL)
		return -1;
	intake_close(in);
	return 0;
}

/* The last line the child wrote: why it failed. */
static void
last_line(const char *out, char *line, size_t len)
{
	const char *end = out + strlen(out), *start;

	while (end > out && end[-1] == '\n')
		end--;
	for (start = end; start > out && start[-1] != '\n'; start--)
		;
	snprintf(line, len, "%.*s", (int)(end - start), start);
}

/* fn in a child of its own network namespace; 0 when it succeeded. */
static int
in_scratch(feature_fn *fn, const struct target *g, char *why, size_t len)
{
	char out[2048];
	size_t n = 0;
	ssize_t r;
	int fds[2], status;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(why, len, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(why, len, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		if (unshare(CLONE_NEWNET) == -1) {
			fprintf(stderr, "cannot make a scratch network namespace: "
			    "%s\n", strerror(errno));
			_exit(1);
		}
		_exit(fn(g) == 0 ? 0 : 1);
	}
	close(fds[1]);
	while (n + 1 < sizeof(out) &&
	    (r = read(fds[0], out + n, sizeof(out) - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	last_line(out, why, len);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void
check_kernel(struct tally *t, const struct target *g)
{
	static const struct {
		feature_fn *fn;
		const char *what;
	} features[] = {
		{ feature_tun, "TUN devices (/dev/net/tun)" },
		{ feature_tc, "tc clsact with a cls_bpf filter" },
		{ feature_nft, "nftables" },
		{ feature_rules, "fib rules with ipproto, ports and fwmark" },
		{ feature_ring, "AF_PACKET receive rings with a filter" },
	};
	char why[512];

	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		if (in_scratch(features[i].fn, g, why, sizeof(why)) == 0)
			say(t, OK, "kernel: %s", features[i].what);
		else
			say(t, FAIL, "kernel: %s: %s", features[i].what,
			    why[0] ? why : "failed");
	}
}

/* ---- the peer ---- */

/* Our UDP port, bound alone: a running link holds it, so say so. */
static int
probe_socket(struct tally *t, const struct target *g)
{
	struct sockaddr_storage me, them;
	socklen_t melen = addr_to_sockaddr(&g->local, g->o->udp_port, &me);
	socklen_t themlen = addr_to_sockaddr(&g->peer, g->o->udp_port, &them);
	int fd = socket(g->peer.af, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd == -1 || bind(fd, (struct sockaddr *)&me, melen) == -1 ||
	    connect(fd, (struct sockaddr *)&them, themlen) == -1) {
		if (errno == EADDRINUSE)
			say(t, WARN, "peer not probed: UDP port %u is in use "
			    "here (a zcctund running this link?)",
			    g->o->udp_port);
		else
			say(t, WARN, "peer not probed: UDP port %u: %s",
			    g->o->udp_port, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

static void
tai64n_now(uint8_t out[HS_TAI64N_LEN])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	hs_tai64n(out, (uint64_t)ts.tv_sec, (uint32_t)ts.tv_nsec);
}

/* What the answer says: the same key, the same ports, the compression. */
static void
judge_answer(struct tally *t, const struct target *g, const char *peer,
    const struct hs_config *c, const struct hs_keys *k)
{
	if (k->peer_ports != c->ports_digest) {
		say(t, FAIL, "peer %s answers with this key, but selects other "
		    "ports than this end: every selected flow would be blocked "
		    "(both ends need the same encrypt-port list)", peer);
		return;
	}
	say(t, OK, "peer %s answers a handshake on UDP port %u: the same key, "
	    "the same ports", peer, g->o->udp_port);
	if (k->peer_codec != c->codec)
		say(t, WARN, "peer %s compresses with %s, this end with %s: "
		    "neither will (both need the same compress)", peer,
		    compress_codec_name(k->peer_codec),
		    compress_codec_name(c->codec));
}

/* 1 when an answer came (judged), 0 when none, -1 when the port is closed. */
static int
await_answer(struct tally *t, const struct target *g, int fd,
    const struct hs_config *c, struct hs_state *st, const char *peer)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	struct timespec start, now;
	uint8_t msg[256];
	struct hs_keys k;
	long left;
	ssize_t n;
	int rc;

	/* The peer's own initiations may arrive too: they do not extend it. */
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = PROBE_WAIT_MS - ((now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0 || poll(&pfd, 1, (int)left) != 1)
			break;
		n = recv(fd, msg, sizeof(msg), 0);
		if (n == -1)
			return errno == ECONNREFUSED ? -1 : 0;
		rc = hs_resp_consume(c, st, msg, (size_t)n, &k);
		if (rc == HS_ERR_MAC) {
			say(t, FAIL, "peer %s answers, but not with this key "
			    "(another key file at the peer?)", peer);
			return 1;
		}
		if (rc == HS_OK) {
			judge_answer(t, g, peer, c, &k);
			hs_keys_wipe(&k);
			return 1;
		}
	}
	return 0;
}

/* The handshake config a start would use: its newest keys. */
static int
probe_config(struct hs_config *c, const struct target *g)
{
	const struct zcc_creds *k = g->key;
	struct hs_keyset ks;
	int pk = (k->flags & ZCC_CREDS_PUBLIC) != 0;
	uint8_t zero[ZCC_KEY_LEN] = { 0 };

	hs_config_init(c, zero, &g->local, &g->peer);
	if (hs_keyset_init(&ks, k->flags & ZCC_CREDS_SHARED ? k->psk : NULL,
	    pk ? k->priv : NULL, pk ? k->peer_pub : NULL) == -1)
		return -1;
	hs_config_set_keys(c, &ks, 1);
	sodium_memzero(&ks, sizeof(ks));
	return 0;
}

static void
probe(struct tally *t, const struct target *g, int fd)
{
	uint8_t e[HS_KEY_LEN], tai[HS_TAI64N_LEN], msg[HS_INIT_MAX];
	char peer[ZCC_ADDRSTRLEN];
	struct hs_config c;
	struct hs_state st;
	int got = 0;

	addr_format(&g->peer, peer, sizeof(peer));
	if (probe_config(&c, g) == -1)
		return;
	c.port = g->o->udp_port;
	c.codec = (uint8_t)g->o->compress;
	c.ports_digest = hs_ports_digest(g->o->ports, g->o->nports);
	for (int i = 0; i < PROBE_TRIES && got == 0; i++) {
		randombytes_buf(e, sizeof(e));
		tai64n_now(tai);
		if (hs_init_create(&c, &st, e, randombytes_random(),
		    (uint8_t)(randombytes_uniform(255) + 1), tai, msg) != HS_OK)
			break;
		if (send(fd, msg, hs_init_len(&c), 0) == -1)
			got = errno == ECONNREFUSED ? -1 : 0;
		else
			got = await_answer(t, g, fd, &c, &st, peer);
		hs_state_wipe(&st);
	}
	if (got == -1)
		say(t, WARN, "peer %s: its UDP port %u is closed (ICMP port "
		    "unreachable): its zcctund is not running", peer,
		    g->o->udp_port);
	else if (got == 0)
		say(t, WARN, "peer %s: no answer on UDP port %u in %d s: its "
		    "zcctund not running, the port filtered on the way, or "
		    "another key there (it does not answer what it cannot "
		    "authenticate)", peer, g->o->udp_port,
		    PROBE_TRIES * PROBE_WAIT_MS / 1000);
	sodium_memzero(e, sizeof(e));
	hs_config_wipe(&c);
}

/*
 * The answer is the peer's bytes: they are parsed in a child that runs as
 * the engine's user with no capability, as the engine would parse them.
 * Its verdicts come back in its exit status, two bits each.
 */
static void
check_peer(struct tally *t, const struct target *g)
{
	struct tally mine = { 0 };
	int fd, status;
	pid_t pid;

	if (g->key == NULL || !g->have_path)
		return;
	if (geteuid() == 0 && g->uid == 0) {
		say(t, WARN, "peer not probed: no unprivileged user to read its "
		    "answer as");
		return;
	}
	if ((fd = probe_socket(t, g)) == -1)
		return;
	pid = fork();
	if (pid == 0) {
		if (geteuid() == 0 && privsep_drop(g->uid, g->gid, getppid()) == -1)
			_exit(1 << 2);
		probe(&mine, g, fd);
		_exit((int)((mine.ok & 3) | (mine.failed & 3) << 2 |
		    (mine.warned & 3) << 4));
	}
	close(fd);
	if (pid == -1) {
		say(t, WARN, "peer not probed: fork: %s", strerror(errno));
		return;
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(status)) {
		say(t, FAIL, "the probe's process died (signal %d)",
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		return;
	}
	t->ok += WEXITSTATUS(status) & 3;
	t->failed += WEXITSTATUS(status) >> 2 & 3;
	t->warned += WEXITSTATUS(status) >> 4 & 3;
}

int
check_run(const struct zcc_options *o)
{
	struct target g = { .o = o };
	struct tally t = { 0 };

	check_privileges(&t, &g);
	check_key(&t, &g);
	check_tools(&t, o);
	check_path(&t, &g);
	if (g.have_path && geteuid() != 0)
		say(&t, WARN, "kernel: not checked without root (the checks "
		    "need a scratch network namespace)");
	else if (g.have_path)
		check_kernel(&t, &g);
	check_peer(&t, &g);
	if (g.key)
		sodium_free(g.key);
	printf("zcctund check: %u ok, %u failed, %u warning%s: %s\n", t.ok,
	    t.failed, t.warned, t.warned == 1 ? "" : "s", t.failed ?
	    "a start would fail" : "a start would find what it needs");
	return t.failed ? 2 : 0;
}
