/* SPDX-License-Identifier: ISC */
/*
 * Steering: the rules, routes, filters and sysctls that make selected flows
 * pass through zcc0, installed with the tools an administrator reads them
 * with (ip, tc, nft: fixed argv, no shell, clean environment) and removed
 * again by one idempotent function that serves exit, failed start-up and
 * "zcctund cleanup" alike.
 *
 * Order matters: the nftables backstop goes first and leaves last, so at no
 * instant can a selected flow pass in plaintext while zcctund runs; the
 * unreachable route in the zcc table outlives zcc0, so a killed daemon
 * fails closed until cleanup.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <net/if_arp.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>

#include "zcc/host.h"
#include "zcc/intake.h"
#include "zcc/log.h"
#include "zcc/steer.h"
#include "zcc/tun.h"

#define CMD_OUT_MAX 4096
#define ARGV_MAX 48

static char *const clean_env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };

/* argv for exec is char *const[]; its strings are never written to. */
static char *
unconst(const char *s)
{
	union { const char *c; char *m; } u = { .c = s };

	return u.m;
}

/* A command's exit status and its stdout+stderr, for the log. */
struct cmd_result {
	int status;
	char out[CMD_OUT_MAX];
};

static void
read_all(int fd, char *out, size_t outlen)
{
	char drain[512];
	size_t used = 0;
	ssize_t n;

	while (used + 1 < outlen &&
	    (n = read(fd, out + used, outlen - 1 - used)) > 0)
		used += (size_t)n;
	/* Keep reading what does not fit, so the child never blocks on us. */
	while (read(fd, drain, sizeof(drain)) > 0)
		;
	out[used] = '\0';
	while (used > 0 && out[used - 1] == '\n')
		out[--used] = '\0';
}

/*
 * The tools are looked up in fixed system directories, not in the PATH
 * zcctund was started with (execvpe would search that one).
 */
static int
tool_path(const char *name, char *path, size_t len)
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, len, "%s/%s", dirs[i], name);
		if (access(path, X_OK) == 0)
			return 0;
	}
	return -1;
}

static void
exec_child(char *const argv[], int in_fd, int out_fd)
{
	char path[64];

	if (in_fd != -1 && dup2(in_fd, STDIN_FILENO) == -1)
		_exit(127);
	if (dup2(out_fd, STDOUT_FILENO) == -1 ||
	    dup2(out_fd, STDERR_FILENO) == -1)
		_exit(127);
	if (tool_path(argv[0], path, sizeof(path)) == 0)
		execve(path, argv, clean_env);
	dprintf(out_fd, "%s: %s", argv[0], strerror(errno));
	_exit(127);
}

static void
close_pair(int fds[2])
{
	for (int i = 0; i < 2; i++)
		if (fds[i] != -1)
			close(fds[i]);
}

/* Run argv with input on stdin (or /dev/null); -1 when it could not run. */
static int
run(char *const argv[], const char *input, struct cmd_result *r)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	pid_t pid;

	r->status = -1;
	r->out[0] = '\0';
	if (pipe2(out, O_CLOEXEC) == -1 || (input && pipe2(in, O_CLOEXEC) == -1)) {
		log_warn("pipe");
		goto fail;
	}
	pid = fork();
	if (pid == -1) {
		log_warn("fork");
		goto fail;
	}
	if (pid == 0)
		exec_child(argv, in[0], out[1]);
	close(out[1]);
	if (input) {
		close(in[0]);
		if (write(in[1], input, strlen(input)) == -1)
			log_warn("%s: write", argv[0]);
		close(in[1]);
	}
	read_all(out[0], r->out, sizeof(r->out));
	close(out[0]);
	while (waitpid(pid, &r->status, 0) == -1 && errno == EINTR)
		;
	return 0;
fail:
	close_pair(in);
	close_pair(out);
	return -1;
}

static int
succeeded(const struct cmd_result *r)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
}

static void
describe(char *const argv[], char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; argv[i] && used + 1 < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    i ? " " : "", argv[i]);
}

/* Run a step that must succeed; its failure is logged with the tool's words. */
static int
must(char *const argv[], const char *input)
{
	struct cmd_result r;
	char what[512];

	describe(argv, what, sizeof(what));
	log_debug("run: %s", what);
	if (run(argv, input, &r) == -1)
		return -1;
	if (succeeded(&r))
		return 0;
	log_warnx("'%s' failed: %s", what, r.out[0] ? r.out : "(no output)");
	return -1;
}

/* Run an undo step; it may find nothing to undo, which is fine. */
static int
try(char *const argv[])
{
	struct cmd_result r;
	char what[512];

	describe(argv, what, sizeof(what));
	if (run(argv, NULL, &r) == -1)
		return -1;
	log_debug("run: %s: %s", what, succeeded(&r) ? "done" : "nothing to do");
	return succeeded(&r) ? 0 : -1;
}

/* Formatting helpers: each returns its buffer so argv stays readable. */
static char *
fmt_u32(char buf[16], uint32_t v)
{
	snprintf(buf, 16, "%u", v);
	return buf;
}

static char *
fmt_addr(char buf[ZCC_ADDRSTRLEN], const struct zcc_addr *a)
{
	addr_format(a, buf, ZCC_ADDRSTRLEN);
	return buf;
}

/* The link's family, as ip(8) takes it, and its host prefix. */
static char *
ip_family(const struct steer *s)
{
	return s->peer.af == AF_INET6 ? "-6" : "-4";
}

static char *
fmt_host(char buf[ZCC_ADDRSTRLEN + 4], const struct zcc_addr *a)
{
	fmt_addr(buf, a);
	strcat(buf, a->af == AF_INET6 ? "/128" : "/32");
	return buf;
}

/* nft table names allow letters, digits and '_': map the rest of ifname. */
static void
nft_table_name(const char *ifname, char *out, size_t len)
{
	snprintf(out, len, "zcc_%s", ifname);
	for (char *c = out; *c; c++)
		if (!(*c == '_' || (*c >= '0' && *c <= '9') ||
		    (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
			*c = '_';
}

static int sysctl_read(const char *path);

int
steer_preflight(void)
{
	static const char *const tools[][2] = {
		{ "ip", "iproute2" }, { "tc", "iproute2" }, { "nft", "nftables" },
	};
	int ret = 0;

	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		char path[64];

		if (tool_path(tools[i][0], path, sizeof(path)) == 0)
			continue;
		log_warnx("'%s' not found in /usr/sbin, /usr/bin, /sbin or /bin: "
		    "install %s", tools[i][0], tools[i][1]);
		ret = -1;
	}
	if (sysctl_read("/proc/sys/net/ipv4/tcp_timestamps") == 0)
		log_warnx("net.ipv4.tcp_timestamps is 0: selected flows will be "
		    "refused, because in-place sealing requires TCP timestamps");
	return ret;
}

void
steer_init(struct steer *s, const struct zcc_options *o, struct zcc_addr local,
    const char *realdev)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->ifname, sizeof(s->ifname), "%s", o->ifname);
	snprintf(s->realdev, sizeof(s->realdev), "%s", realdev);
	s->local = local;
	s->peer = o->peer;
	memcpy(s->ports, o->ports, o->nports * sizeof(o->ports[0]));
	s->nports = o->nports;
	s->tc_pref = o->priority;
	s->fwmark = o->fwmark;
	s->table = o->table;
	s->priority = o->priority;
	s->saved_rp_filter = -1;
}

/* ---- state file ---- */

/* One state file per interface name per network namespace. */
static int
state_path(const char *ifname, char *path, size_t len)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) == -1) {
		log_warn("/proc/self/ns/net");
		return -1;
	}
	snprintf(path, len, "%s/%s.netns-%lu.state", ZCC_STATE_DIR, ifname,
	    (unsigned long)st.st_ino);
	return 0;
}

static int
state_write(const struct steer *s)
{
	char path[256], tmp[272], local[ZCC_ADDRSTRLEN], peer[ZCC_ADDRSTRLEN];
	FILE *f;

	if (state_path(s->ifname, path, sizeof(path)) == -1)
		return -1;
	if (mkdir(ZCC_STATE_DIR, 0700) == -1 && errno != EEXIST) {
		log_warn("%s", ZCC_STATE_DIR);
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (f == NULL) {
		log_warn("%s", tmp);
		return -1;
	}
	fprintf(f, "pid=%ld\nifname=%s\nrealdev=%s\nlocal=%s\npeer=%s\n"
	    "fwmark=%u\ntable=%u\npriority=%u\nadded_clsact=%d\n"
	    "saved_rp_filter=%d\npeer_route=%d\n", (long)getpid(), s->ifname,
	    s->realdev, fmt_addr(local, &s->local), fmt_addr(peer, &s->peer),
	    s->fwmark, s->table, s->priority, s->added_clsact,
	    s->saved_rp_filter, s->peer_route);
	if (fclose(f) == EOF || rename(tmp, path) == -1) {
		log_warn("%s", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void
state_remove(const char *ifname)
{
	char path[256];

	if (state_path(ifname, path, sizeof(path)) == 0 && unlink(path) == -1 &&
	    errno != ENOENT)
		log_warn("%s", path);
	/* The directory goes with the last state file: nothing left behind. */
	if (rmdir(ZCC_STATE_DIR) == -1 && errno != ENOTEMPTY && errno != EEXIST &&
	    errno != ENOENT)
		log_warn("%s", ZCC_STATE_DIR);
}

static int
state_field(struct steer *s, long *pid, const char *key, const char *val)
{
	char *end;
	long v = strtol(val, &end, 10);
	int numeric = *val != '\0' && *end == '\0';

	if (strcmp(key, "pid") == 0 && numeric)
		*pid = v;
	else if (strcmp(key, "ifname") == 0)
		snprintf(s->ifname, sizeof(s->ifname), "%s", val);
	else if (strcmp(key, "realdev") == 0)
		snprintf(s->realdev, sizeof(s->realdev), "%s", val);
	else if (strcmp(key, "local") == 0)
		return addr_parse(&s->local, val);
	else if (strcmp(key, "peer") == 0)
		return addr_parse(&s->peer, val);
	else if (strcmp(key, "fwmark") == 0 && numeric)
		s->fwmark = (uint32_t)strtoul(val, NULL, 10);
	else if (strcmp(key, "table") == 0 && numeric)
		s->table = (uint32_t)strtoul(val, NULL, 10);
	else if (strcmp(key, "priority") == 0 && numeric)
		s->priority = (uint32_t)v;
	else if (strcmp(key, "added_clsact") == 0 && numeric)
		s->added_clsact = (int)v;
	else if (strcmp(key, "saved_rp_filter") == 0 && numeric)
		s->saved_rp_filter = (int)v;
	else if (strcmp(key, "peer_route") == 0 && numeric)
		s->peer_route = (int)v;
	else
		return -1;
	return 0;
}

/* 1 when read, 0 when there is no state file, -1 on error. */
static int
state_read(const char *ifname, struct steer *s, long *pid)
{
	char path[256], line[256];
	int lineno = 0, ret = 1;
	FILE *f;

	if (state_path(ifname, path, sizeof(path)) == -1)
		return -1;
	f = fopen(path, "re");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		log_warn("%s", path);
		return -1;
	}
	memset(s, 0, sizeof(*s));
	s->saved_rp_filter = -1;
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (eq == NULL || (*eq = '\0', state_field(s, pid, line, eq + 1)) == -1) {
			log_warnx("%s:%d: cannot parse '%s'", path, lineno, line);
			ret = -1;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* ---- sysctl ---- */

static int
sysctl_read(const char *path)
{
	char buf[16];
	int fd, v = -1;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		v = atoi(buf);
	}
	close(fd);
	return v;
}

static int
sysctl_write(const char *path, int v)
{
	char buf[16];
	int fd, len, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd == -1) {
		log_warn("%s", path);
		return -1;
	}
	len = snprintf(buf, sizeof(buf), "%d\n", v);
	if (write(fd, buf, (size_t)len) != len) {
		log_warn("%s", path);
		ret = -1;
	}
	close(fd);
	return ret;
}

#define RP_ALL "/proc/sys/net/ipv4/conf/all/rp_filter"

/*
 * Opened segments arrive on zcc0 from an address routed via the real
 * interface: strict reverse-path filtering would drop them. The kernel uses
 * the larger of "all" and the device's value, so zcc0 gets loose (2) and a
 * strict "all" is lowered to loose, recorded, and restored at exit. IPv6
 * has no such sysctl (reverse-path checks there are firewall rules), so an
 * IPv6 link changes nothing.
 */
static int
install_rp_filter(struct steer *s)
{
	char dev[128];
	int all = sysctl_read(RP_ALL);

	if (s->peer.af == AF_INET6)
		return 0;

	snprintf(dev, sizeof(dev), "/proc/sys/net/ipv4/conf/%s/rp_filter",
	    s->ifname);
	if (sysctl_write(dev, 2) == -1)
		return -1;
	if (all != 1)
		return 0;
	s->saved_rp_filter = all;
	if (state_write(s) == -1)
		return -1;
	log_info("lowering net.ipv4.conf.all.rp_filter from 1 to 2 while %s "
	    "runs", s->ifname);
	return sysctl_write(RP_ALL, 2);
}

/* ---- nftables backstop ---- */

static void
append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/*
 * Selected flows must cross zcc0: arriving, only what zcctund opened and
 * wrote into zcc0 (after IP reassembly, so fragments and IP options that
 * slip past the tc ingress filter are caught); leaving, only zcc0 traffic and
 * zcctund's own marked raw packets. Everything else is dropped and counted.
 */
static void
nft_ruleset(const struct steer *s, char *buf, size_t len)
{
	char table[IFNAMSIZ + 8], peer[ZCC_ADDRSTRLEN], ports[ZCC_MAX_PORTS * 2 * 8];
	const char *ip = s->peer.af == AF_INET6 ? "ip6" : "ip";

	nft_table_name(s->ifname, table, sizeof(table));
	fmt_addr(peer, &s->peer);
	ports[0] = '\0';
	for (size_t i = 0; i < s->nports; i++)
		append(ports, sizeof(ports), "%s%u", i ? ", " : "", s->ports[i]);
	buf[0] = '\0';
	append(buf, len, "table inet %s {\n", table);
	append(buf, len, " chain input {\n  type filter hook input priority -150; policy accept;\n");
	append(buf, len, "  iifname != \"%s\" %s saddr %s tcp dport { %s } counter drop\n",
	    s->ifname, ip, peer, ports);
	append(buf, len, "  iifname != \"%s\" %s saddr %s tcp sport { %s } counter drop\n",
	    s->ifname, ip, peer, ports);
	append(buf, len, " }\n chain output {\n  type filter hook postrouting priority -150; policy accept;\n");
	/* The mark first: zcctund's own segments then stop at a register
	 * compare instead of copying the interface name. */
	append(buf, len, "  meta mark != 0x%x oifname != \"%s\" %s daddr %s tcp dport { %s } counter drop\n",
	    s->fwmark, s->ifname, ip, peer, ports);
	append(buf, len, "  meta mark != 0x%x oifname != \"%s\" %s daddr %s tcp sport { %s } counter drop\n",
	    s->fwmark, s->ifname, ip, peer, ports);
	append(buf, len, " }\n}\n");
}

static int
install_nft(const struct steer *s)
{
	char rules[8192];
	char *argv[] = { "nft", "-f", "-", NULL };

	nft_ruleset(s, rules, sizeof(rules));
	return must(argv, rules);
}

/* The table replaced in one nft transaction: never a moment without it. */
static int
replace_nft(const struct steer *s)
{
	char rules[8192 + 64], table[IFNAMSIZ + 8];
	char *argv[] = { "nft", "-f", "-", NULL };
	size_t n;

	nft_table_name(s->ifname, table, sizeof(table));
	n = (size_t)snprintf(rules, sizeof(rules), "delete table inet %s\n",
	    table);
	nft_ruleset(s, rules + n, sizeof(rules) - n);
	return must(argv, rules);
}

static void
remove_nft(const struct steer *s)
{
	char table[IFNAMSIZ + 8];
	char *argv[] = { "nft", "delete", "table", "inet", table, NULL };

	nft_table_name(s->ifname, table, sizeof(table));
	try(argv);
}

/* ---- routes and rules ---- */

static int
install_unreachable(const struct steer *s)
{
	char t[16];
	char *argv[] = { "ip", ip_family(s), "route", "add", "unreachable", "default",
	    "metric", "4294967295", "table", fmt_u32(t, s->table), NULL };

	return must(argv, NULL);
}

static int
install_zcc_route(const struct steer *s)
{
	char t[16], src[ZCC_ADDRSTRLEN];
	char *argv[] = { "ip", ip_family(s), "route", "add", "default", "dev",
	    unconst(s->ifname), "src", fmt_addr(src, &s->local), "table",
	    fmt_u32(t, s->table), NULL };

	return must(argv, NULL);
}

/*
 * The raw socket's table (table + 1): a route to the peer through itself.
 * With IP_HDRINCL the kernel does not cache the route of an on-link
 * destination (FLOWI_FLAG_KNOWN_NH): each sealed segment allocated and
 * freed one. A route with a gateway is cached, and "via the peer, onlink"
 * reaches the same neighbour. Only when main reaches the peer on-link over
 * the real device; any other path is cached already and left to main.
 */
static int
peer_on_link(const struct steer *s)
{
	char peer[ZCC_ADDRSTRLEN], dev[IFNAMSIZ + 8];
	char *argv[] = { "ip", ip_family(s), "route", "get",
	    fmt_addr(peer, &s->peer), NULL };
	struct cmd_result r;

	if (run(argv, NULL, &r) == -1 || !succeeded(&r))
		return 0;
	snprintf(dev, sizeof(dev), " dev %s ", s->realdev);
	return strstr(r.out, " via ") == NULL && strstr(r.out, dev) != NULL;
}

static int
install_peer_route(struct steer *s)
{
	char t[16], peer[ZCC_ADDRSTRLEN];
	char *argv[] = { "ip", ip_family(s), "route", "add",
	    fmt_addr(peer, &s->peer), "via", peer, "dev", s->realdev, "onlink",
	    "table", fmt_u32(t, s->table + 1), NULL };

	/* Never one of the kernel's tables (table 252..254 would make it so). */
	s->peer_route = (s->table + 1 < 253 || s->table + 1 > 255) &&
	    peer_on_link(s);
	if (!s->peer_route)
		return 0;
	/* Recorded first: a crash must leave nothing "cleanup" cannot find. */
	if (state_write(s) == -1)
		return -1;
	return must(argv, NULL);
}

/*
 * The flush takes the zcc0 route if zcc0 did not take it along; "ip -6
 * route flush" leaves unreachable routes (iproute2 6.1), so that one is
 * deleted by name.
 */
static void
remove_routes(const struct steer *s)
{
	char t[16], t1[16];
	char *flush[] = { "ip", ip_family(s), "route", "flush", "table",
	    fmt_u32(t, s->table), NULL };
	char *unreach[] = { "ip", ip_family(s), "route", "del", "unreachable",
	    "default", "metric", "4294967295", "table", t, NULL };
	char *peer[] = { "ip", ip_family(s), "route", "flush", "table",
	    fmt_u32(t1, s->table + 1), NULL };

	try(flush);
	try(unreach);
	if (s->peer_route)
		try(peer);
}

/* The two selection rules of one port: op is "add" or "del". */
static int
port_rules(const struct steer *s, const char *op, uint16_t p)
{
	char pref[16], t[16], to[ZCC_ADDRSTRLEN + 4], port[8];
	char *sel[] = { "ip", ip_family(s), "rule", unconst(op), "pref",
	    fmt_u32(pref, s->priority), "to", fmt_host(to, &s->peer), "ipproto",
	    "tcp", "dport", port, "lookup", fmt_u32(t, s->table), NULL };

	snprintf(port, sizeof(port), "%u", p);
	if (must(sel, NULL) == -1)
		return -1;
	sel[10] = "sport";
	return must(sel, NULL);
}

/*
 * zcctund's own marked packets: the peer's route first when there is one
 * (a rule added at a preference goes after those already there), then
 * main. Both at priority - 1, before the selection rules at priority.
 */
static int
install_rules(const struct steer *s)
{
	char exempt[16], mark[16], t[16];
	char *fw[] = { "ip", ip_family(s), "rule", "add", "pref", fmt_u32(exempt, s->priority - 1),
	    "fwmark", fmt_u32(mark, s->fwmark), "lookup", "main", NULL };
	char *fw_peer[] = { "ip", ip_family(s), "rule", "add", "pref", exempt,
	    "fwmark", mark, "lookup", fmt_u32(t, s->table + 1), NULL };

	if (s->peer_route && must(fw_peer, NULL) == -1)
		return -1;
	if (must(fw, NULL) == -1)
		return -1;
	for (size_t i = 0; i < s->nports; i++)
		if (port_rules(s, "add", s->ports[i]) == -1)
			return -1;
	return 0;
}

static void
remove_rules_at(const struct steer *s, uint32_t pref)
{
	char p[16];
	char *argv[] = { "ip", ip_family(s), "rule", "del", "pref",
	    fmt_u32(p, pref), NULL };

	/* Each del removes one rule at that preference. */
	for (int i = 0; i < 2 * ZCC_MAX_PORTS + 2; i++)
		if (try(argv) == -1)
			break;
}

static void
remove_rules(const struct steer *s)
{
	remove_rules_at(s, s->priority);
	remove_rules_at(s, s->priority - 1);
}

/* ---- tc ingress: the kernel's copy of what the receive ring took ---- */

static int
has_clsact(const char *dev)
{
	struct cmd_result r;
	char *argv[] = { "tc", "qdisc", "show", "dev", unconst(dev), NULL };

	if (run(argv, NULL, &r) == -1 || !succeeded(&r))
		return -1;
	return strstr(r.out, "qdisc clsact") != NULL;
}

/*
 * The peer's sealed segments of selected flows are zcctund's: its receive
 * ring (intake.c) took a copy before tc ingress runs, so the kernel's own
 * copy is dropped here, before IP spends anything on it. The filter is the
 * ring's own program (intake_filter), run by cls_bpf in direct-action mode
 * with the verdicts "shot" and "unspec" (not ours: on to the next filter),
 * so the two never disagree. It matches fixed offsets: only unfragmented
 * segments with TCP right behind a fixed-size header (IPv4 IHL 5, IPv6
 * next header 6) are taken and dropped here; the nftables input backstop
 * drops the rest after reassembly.
 */
static int
install_port_filters(const struct steer *s)
{
	struct sock_filter f[INTAKE_FILTER_MAX];
	char code[16 + INTAKE_FILTER_MAX * 32];
	char pref[16];
	char *argv[] = { "tc", "filter", "add", "dev", unconst(s->realdev),
	    "ingress", "pref", fmt_u32(pref, s->tc_pref), "protocol",
	    s->peer.af == AF_INET6 ? "ipv6" : "ip", "bpf", "bytecode", code,
	    "da", NULL };
	struct intake_prog how = { s->link_hlen, TC_ACT_SHOT,
	    (uint32_t)TC_ACT_UNSPEC };
	size_t n;

	if (s->link_hlen == LINK_HLEN_UNKNOWN)
		return 0;
	n = intake_filter(f, &how, &s->peer, s->ports, s->nports);
	snprintf(code, sizeof(code), "%zu", n);
	for (size_t i = 0; i < n; i++)
		append(code, sizeof(code), ",%u %u %u %u", (unsigned)f[i].code,
		    (unsigned)f[i].jt, (unsigned)f[i].jf, f[i].k);
	return must(argv, NULL);
}

/*
 * cls_bpf runs a classic program from the link header, even at ingress:
 * where IP starts depends on the device. Ethernet's header is 14 bytes;
 * layer-3 devices (tun, WireGuard, PPP, IP tunnels) hand IP over with
 * none. For another link type there is no tc filter: the kernel's copy of
 * each segment the ring took then reaches IP, where the backstop drops it.
 */
static void
link_header_len(struct steer *s)
{
	int type = -1;

	if (host_link_type(s->realdev, &type) == 0) {
		switch (type) {
		case ARPHRD_ETHER:
			s->link_hlen = ETH_HLEN;
			return;
		case ARPHRD_NONE: case ARPHRD_PPP: case ARPHRD_RAWIP:
		case ARPHRD_TUNNEL: case ARPHRD_TUNNEL6: case ARPHRD_IPGRE:
		case ARPHRD_SIT:
			s->link_hlen = 0;
			return;
		}
	}
	s->link_hlen = LINK_HLEN_UNKNOWN;
	log_warnx("%s: link type %d: no tc ingress filter; the backstop drops "
	    "the kernel's copy of the peer's segments after IP, at some cost",
	    s->realdev, type);
}

static int
install_tc(struct steer *s)
{
	char *add[] = { "tc", "qdisc", "add", "dev", s->realdev, "clsact", NULL };
	int have;

	link_header_len(s);
	if (s->link_hlen == LINK_HLEN_UNKNOWN)
		return 0;
	have = has_clsact(s->realdev);
	if (have == -1) {
		log_warnx("%s: cannot read its qdiscs", s->realdev);
		return -1;
	}
	if (!have) {
		if (must(add, NULL) == -1)
			return -1;
		s->added_clsact = 1;
		if (state_write(s) == -1)
			return -1;
	}
	return install_port_filters(s);
}

static void
remove_filters_at(const struct steer *s, uint32_t at)
{
	char pref[16];
	char *filt[] = { "tc", "filter", "del", "dev", unconst(s->realdev),
	    "ingress", "pref", fmt_u32(pref, at), NULL };

	try(filt);
}

/* Filters live at priority, or priority + 1 after a reload (steer_update). */
static void
remove_tc(const struct steer *s)
{
	char *qdisc[] = { "tc", "qdisc", "del", "dev", unconst(s->realdev),
	    "clsact", NULL };

	if (s->realdev[0] == '\0')
		return;
	remove_filters_at(s, s->priority);
	remove_filters_at(s, s->priority + 1);
	if (s->added_clsact)
		try(qdisc);
}

/* ---- install and remove ---- */

static int remove_leftovers(const char *ifname, int quiet);

int
steer_install(struct steer *s)
{
	/* A crashed predecessor's leftovers would collide with ours. */
	if (remove_leftovers(s->ifname, 1) == -1 || state_write(s) == -1)
		return -1;
	if (install_nft(s) == -1 ||
	    install_unreachable(s) == -1 ||
	    install_peer_route(s) == -1 ||
	    install_rules(s) == -1 ||
	    install_zcc_route(s) == -1 ||
	    install_rp_filter(s) == -1 ||
	    install_tc(s) == -1) {
		steer_remove(s);
		return -1;
	}
	return 0;
}

void
steer_remove(const struct steer *s)
{
	remove_tc(s);
	remove_rules(s);
	remove_routes(s);
	if (s->saved_rp_filter >= 0)
		sysctl_write(RP_ALL, s->saved_rp_filter);
	remove_nft(s);
	state_remove(s->ifname);
}

static int
daemon_alive(long pid)
{
	char path[64], exe[256];
	ssize_t n;

	if (pid <= 0 || pid == (long)getpid())
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return 0;
	exe[n] = '\0';
	return strstr(exe, "zcctund") != NULL;
}

/* Remove what a dead zcctund left for ifname; quiet when nothing is left. */
static int
remove_leftovers(const char *ifname, int quiet)
{
	struct steer s;
	long pid = 0;
	int found = state_read(ifname, &s, &pid);

	if (found == -1)
		return -1;
	if (found == 0) {
		if (!quiet)
			log_info("%s: no state file in this network namespace: "
			    "nothing to clean up", ifname);
		return 0;
	}
	if (daemon_alive(pid)) {
		log_warnx("%s: zcctund (pid %ld) is running; stop it with "
		    "SIGTERM instead", ifname, pid);
		return -1;
	}
	steer_remove(&s);
	log_info("%s: removed what zcctund (pid %ld) left behind", ifname, pid);
	return 0;
}

int
steer_cleanup(const char *ifname)
{
	return remove_leftovers(ifname, 0);
}

/* ---- a new set of ports on a live link (SIGHUP) ---- */

static int
has_port(const uint16_t *ports, size_t n, uint16_t p)
{
	for (size_t i = 0; i < n; i++)
		if (ports[i] == p)
			return 1;
	return 0;
}

/*
 * Everything for the added ports goes in before anything of the removed
 * ones goes out, and the ports kept never lose a rule or a filter: the
 * backstop first covers both sets, the tc filters for the new set are
 * built beside the old ones (at the other of two preferences) before the
 * old ones go, and the backstop shrinks last.
 */
int
steer_update(struct steer *s, const uint16_t *ports, size_t n)
{
	struct steer both = *s, next = *s;
	int removed = 0;

	for (size_t i = 0; i < n; i++)
		if (!has_port(s->ports, s->nports, ports[i]) &&
		    both.nports < ZCC_MAX_PORTS * 2)
			both.ports[both.nports++] = ports[i];
	memcpy(next.ports, ports, n * sizeof(ports[0]));
	next.nports = n;
	next.tc_pref = s->tc_pref == s->priority ? s->priority + 1 : s->priority;
	if (replace_nft(&both) == -1)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!has_port(s->ports, s->nports, ports[i]) &&
		    port_rules(s, "add", ports[i]) == -1)
			return -1;
	if (install_port_filters(&next) == -1)
		return -1;
	remove_filters_at(s, s->tc_pref);
	for (size_t i = 0; i < s->nports; i++)
		if (!has_port(ports, n, s->ports[i])) {
			port_rules(s, "del", s->ports[i]);
			removed++;
		}
	*s = next;
	log_info("steering: %zu ports (%d removed)", n, removed);
	return replace_nft(s);
}
