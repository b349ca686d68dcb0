/* SPDX-License-Identifier: ISC */
/*
 * Steering: the rules, routes, filters and nftables tables that make
 * selected flows pass through zcc0, installed with the tools an
 * administrator reads them with (ip, tc, nft; cmd.h) by the root parent.
 *
 * The block is installed first and removed only by "zcctund cleanup":
 * every other exit, a crash included, leaves selected flows dropped, never
 * in plaintext. A restart takes over what its predecessor left
 * make-before-break: the nftables table is replaced in one transaction,
 * routes by "replace", rules added beside the old ones, the tc filter
 * replaced in place; only then does what is no longer wanted go.
 * Removal names each thing exactly (a rule by all its selectors, a filter
 * by preference, protocol and handle), so a foreign rule at a nearby
 * preference, or another link's pieces, are never touched.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <net/if_arp.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>

#include "zcc/cmd.h"
#include "zcc/host.h"
#include "zcc/intake.h"
#include "zcc/log.h"
#include "zcc/steer.h"
#include "zcc/tun.h"

#define TC_HANDLE "1"           /* our filter's handle at its preference */

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

/* The link's family, as ip(8) takes it. */
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

static int
has_port(const uint16_t *ports, size_t n, uint16_t p)
{
	for (size_t i = 0; i < n; i++)
		if (ports[i] == p)
			return 1;
	return 0;
}

static int sysctl_read(const char *path);

int
steer_timestamps_off(void)
{
	return sysctl_read("/proc/sys/net/ipv4/tcp_timestamps") == 0;
}

int
steer_preflight(void)
{
	static const char *const tools[][2] = {
		{ "ip", "iproute2" }, { "tc", "iproute2" }, { "nft", "nftables" },
	};
	int ret = 0;

	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		char path[64];

		if (cmd_tool_path(tools[i][0], path, sizeof(path)) == 0)
			continue;
		log_warnx("'%s' not found in /usr/sbin, /usr/bin, /sbin or /bin: "
		    "install %s", tools[i][0], tools[i][1]);
		ret = -1;
	}
	if (steer_timestamps_off())
		log_warnx("net.ipv4.tcp_timestamps is 0: selected flows will be "
		    "refused, because in-place sealing requires TCP timestamps");
	return ret;
}

void
steer_init(struct steer *s, const struct zcc_options *o)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->ifname, sizeof(s->ifname), "%s", o->ifname);
	s->peer = o->peer;
	memcpy(s->ports, o->ports, o->nports * sizeof(o->ports[0]));
	s->nports = o->nports;
	s->fwmark = o->fwmark;
	s->table = o->table;
	s->priority = o->priority;
	s->link_hlen = LINK_HLEN_UNKNOWN;
}

/* ---- state files: one per link per network namespace ---- */

static int
netns_inode(unsigned long *ino)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) == -1) {
		log_warn("/proc/self/ns/net");
		return -1;
	}
	*ino = (unsigned long)st.st_ino;
	return 0;
}

/*
 * The namespace's cookie: unlike its inode, never given to another
 * namespace while the system runs, so a file named by a reused inode is
 * told apart from this namespace's own. 0 when the kernel has none (< 5.14).
 */
static uint64_t
netns_cookie(void)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) == -1)
		cookie = 0;
	close(fd);
	return cookie;
}

/* Whether a file that records cookie was written in another namespace. */
static int
from_dead_netns(uint64_t cookie)
{
	uint64_t ours = netns_cookie();

	return cookie != 0 && ours != 0 && cookie != ours;
}

static int
state_path(const char *ifname, char *path, size_t len)
{
	unsigned long ino;

	if (netns_inode(&ino) == -1)
		return -1;
	snprintf(path, len, "%s/%s.netns-%lu.state", ZCC_STATE_DIR, ifname, ino);
	return 0;
}

static int
state_dir(void)
{
	if (mkdir(ZCC_STATE_DIR, 0700) == -1 && errno != EEXIST) {
		log_warn("%s", ZCC_STATE_DIR);
		return -1;
	}
	return 0;
}

static void
format_ports(const struct steer *s, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < s->nports; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%u",
		    i ? "," : "", s->ports[i]);
}

/* Written before what it records is installed: a crash leaves it findable. */
static int
state_write(const struct steer *s)
{
	char path[256], tmp[272], local[ZCC_ADDRSTRLEN] = "",
	    peer[ZCC_ADDRSTRLEN], ports[ZCC_MAX_PORTS * 2 * 6];
	FILE *f;

	if (state_path(s->ifname, path, sizeof(path)) == -1 || state_dir() == -1)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (f == NULL) {
		log_warn("%s", tmp);
		return -1;
	}
	if (s->local.af)
		fmt_addr(local, &s->local);
	format_ports(s, ports, sizeof(ports));
	fprintf(f, "pid=%ld\nifname=%s\nrealdev=%s\nlocal=%s\npeer=%s\n"
	    "ports=%s\nfwmark=%u\ntable=%u\npriority=%u\ntc_filter=%d\n"
	    "link_hlen=%u\npeer_route=%d\nnetns_cookie=%llu\n", s->pid,
	    s->ifname, s->realdev, local, fmt_addr(peer, &s->peer), ports,
	    s->fwmark, s->table, s->priority, s->tc_filter, s->link_hlen,
	    s->peer_route, (unsigned long long)netns_cookie());
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
	/* The directory goes with the last file in it: nothing left behind. */
	if (rmdir(ZCC_STATE_DIR) == -1 && errno != ENOTEMPTY && errno != EEXIST &&
	    errno != ENOENT)
		log_warn("%s", ZCC_STATE_DIR);
}

static int
parse_ports(struct steer *s, const char *val)
{
	char *end;

	s->nports = 0;
	while (*val) {
		unsigned long p = strtoul(val, &end, 10);

		if (end == val || p == 0 || p > 65535 ||
		    s->nports == ZCC_MAX_PORTS * 2 || (*end && *end != ','))
			return -1;
		s->ports[s->nports++] = (uint16_t)p;
		val = *end ? end + 1 : end;
	}
	return 0;
}

static int
state_field(struct steer *s, const char *key, const char *val)
{
	char *end;
	unsigned long v = strtoul(val, &end, 10);
	int numeric = *val != '\0' && *end == '\0';

	if (strcmp(key, "pid") == 0 && numeric)
		s->pid = (long)v;
	else if (strcmp(key, "ifname") == 0 && options_valid_ifname(val))
		snprintf(s->ifname, sizeof(s->ifname), "%s", val);
	else if (strcmp(key, "realdev") == 0)
		snprintf(s->realdev, sizeof(s->realdev), "%s", val);
	else if (strcmp(key, "local") == 0)
		return *val ? addr_parse(&s->local, val) : 0;
	else if (strcmp(key, "peer") == 0)
		return addr_parse(&s->peer, val);
	else if (strcmp(key, "ports") == 0)
		return parse_ports(s, val);
	else if (strcmp(key, "fwmark") == 0 && numeric)
		s->fwmark = (uint32_t)v;
	else if (strcmp(key, "table") == 0 && numeric)
		s->table = (uint32_t)v;
	else if (strcmp(key, "priority") == 0 && numeric)
		s->priority = (uint32_t)v;
	else if (strcmp(key, "tc_filter") == 0 && numeric)
		s->tc_filter = (int)v;
	else if (strcmp(key, "link_hlen") == 0 && numeric)
		s->link_hlen = (uint32_t)v;
	else if (strcmp(key, "peer_route") == 0 && numeric)
		s->peer_route = (int)v;
	else if (strcmp(key, "netns_cookie") == 0 && numeric)
		s->netns_cookie = strtoull(val, NULL, 10);
	else
		return -1;
	return 0;
}

int
steer_state_parse(const char *text, size_t n, const char *path,
    struct steer *s)
{
	char line[STATE_LINE_MAX];
	int lineno = 0;

	memset(s, 0, sizeof(*s));
	s->link_hlen = LINK_HLEN_UNKNOWN;
	while (n > 0) {
		const char *nl = memchr(text, '\n', n);
		size_t len = nl ? (size_t)(nl - text) : n;
		char *eq;

		lineno++;
		if (len >= sizeof(line) || memchr(text, '\0', len)) {
			log_warnx("%s:%d: not a line of a state file", path, lineno);
			return -1;
		}
		memcpy(line, text, len);
		line[len] = '\0';
		eq = strchr(line, '=');
		if (eq == NULL || (*eq = '\0', state_field(s, line, eq + 1)) == -1) {
			log_warnx("%s:%d: cannot parse '%s'", path, lineno, line);
			return -1;
		}
		text += len + (nl != NULL);
		n -= len + (nl != NULL);
	}
	if (s->ifname[0] == '\0' || s->peer.af == 0) {
		log_warnx("%s: no ifname or peer", path);
		return -1;
	}
	return 0;
}

/* 1 when read, 0 when there is no such file, -1 on error (logged). */
static int
state_read_path(const char *path, struct steer *s)
{
	char text[STATE_FILE_MAX + 1];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("%s", path);
		return -1;
	}
	n = read(fd, text, sizeof(text));
	close(fd);
	if (n == -1 || n > STATE_FILE_MAX) {
		log_warnx("%s: %s", path, n == -1 ? strerror(errno) :
		    "too long for a state file");
		return -1;
	}
	if (steer_state_parse(text, (size_t)n, path, s) == -1)
		return -1;
	/*
	 * A namespace that was deleted took everything the file records
	 * with it; a new one got its inode, and with it the file's name.
	 */
	if (from_dead_netns(s->netns_cookie)) {
		log_info("%s: left by a network namespace that no longer "
		    "exists: removed", path);
		unlink(path);
		return 0;
	}
	return 1;
}

static int
state_read(const char *ifname, struct steer *s)
{
	char path[256];

	if (state_path(ifname, path, sizeof(path)) == -1)
		return -1;
	return state_read_path(path, s);
}

/* Every link recorded in this network namespace; their number, or -1. */
static int
state_all(struct steer *all, size_t max)
{
	char pattern[128];
	unsigned long ino;
	glob_t g;
	size_t n = 0;

	if (netns_inode(&ino) == -1)
		return -1;
	snprintf(pattern, sizeof(pattern), "%s/*.netns-%lu.state",
	    ZCC_STATE_DIR, ino);
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc && n < max; i++)
		if (state_read_path(g.gl_pathv[i], &all[n]) == 1)
			n++;
	globfree(&g);
	return (int)n;
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

/* ---- which link: a predecessor's, or a new one with free numbers ---- */

static int
table_empty(uint32_t table)
{
	char t[16];
	char *v4[] = { "ip", "-4", "route", "show", "table", fmt_u32(t, table), NULL };
	char *v6[] = { "ip", "-6", "route", "show", "table", t, NULL };
	struct cmd_result r;

	if (cmd_run(v4, NULL, &r) == -1 || (cmd_succeeded(&r) && r.out[0]))
		return 0;
	return cmd_run(v6, NULL, &r) == 0 && !(cmd_succeeded(&r) && r.out[0]);
}

static int
slot_taken(const struct steer *all, int n, uint32_t table, uint32_t pref,
    uint32_t mark)
{
	for (int i = 0; i < n; i++)
		if (all[i].table + 1 >= table && all[i].table <= table + 1)
			return 1;
		else if (all[i].priority + 1 >= pref && all[i].priority <= pref + 1)
			return 1;
		else if (all[i].fwmark == mark)
			return 1;
	return 0;
}

/*
 * Link k's defaults: tables 31331 + 2k and the next, preferences 31330 -
 * 2k and the one below, fwmark 0x7a63 + k. The first k no other link
 * records and whose tables the kernel has no route in.
 */
static int
allocate_numbers(struct zcc_options *o, const struct steer *all, int n)
{
	for (uint32_t k = 0; k < STEER_MAX_LINKS; k++) {
		uint32_t table = o->table ? o->table : ZCC_DEFAULT_TABLE + 2 * k;
		uint32_t pref = o->priority ? o->priority : ZCC_DEFAULT_PRIORITY - 2 * k;
		uint32_t mark = o->fwmark ? o->fwmark : ZCC_DEFAULT_FWMARK + k;

		if (slot_taken(all, n, table, pref, mark) ||
		    !table_empty(table) || !table_empty(table + 1))
			continue;
		o->table = table;
		o->priority = pref;
		o->fwmark = mark;
		return 0;
	}
	log_warnx("no free routing table, rule preference and fwmark for a new "
	    "link among the %d this host may have; give table, rule-priority "
	    "and fwmark", STEER_MAX_LINKS);
	return -1;
}

static int
free_ifname(char ifname[IFNAMSIZ], const struct steer *all, int n)
{
	for (int k = 0; k < STEER_MAX_LINKS; k++) {
		int used = 0;

		snprintf(ifname, IFNAMSIZ, "zcc%d", k);
		for (int i = 0; i < n; i++)
			used |= strcmp(all[i].ifname, ifname) == 0;
		if (!used && !tun_exists(ifname))
			return 0;
	}
	log_warnx("zcc0 to zcc%d are all taken: give ifname", STEER_MAX_LINKS - 1);
	return -1;
}

/* Numbers not given are the predecessor's; given ones must be its. */
static int
adopt_numbers(struct zcc_options *o, const struct steer *prev)
{
	if ((o->table && o->table != prev->table) ||
	    (o->priority && o->priority != prev->priority) ||
	    (o->fwmark && o->fwmark != prev->fwmark)) {
		log_warnx("%s: its block uses table %u, rule-priority %u, fwmark "
		    "0x%x, not the ones given; 'zcctund cleanup ifname %s' lifts "
		    "it first", prev->ifname, prev->table, prev->priority,
		    prev->fwmark, prev->ifname);
		return -1;
	}
	o->table = prev->table;
	o->priority = prev->priority;
	o->fwmark = prev->fwmark;
	return 0;
}

int
steer_claim(struct zcc_options *o, struct steer *prev, int *have_prev)
{
	struct steer all[STEER_MAX_LINKS];
	int n = state_all(all, STEER_MAX_LINKS);

	*have_prev = 0;
	if (n == -1)
		return -1;
	for (int i = 0; i < n && !*have_prev; i++) {
		if (o->ifname[0] ? strcmp(all[i].ifname, o->ifname) != 0 :
		    !addr_equal(&all[i].peer, &o->peer))
			continue;
		*prev = all[i];
		*have_prev = 1;
	}
	if (*have_prev) {
		if (daemon_alive(prev->pid)) {
			log_warnx("%s: zcctund (pid %ld) runs this link already",
			    prev->ifname, prev->pid);
			return -1;
		}
		snprintf(o->ifname, sizeof(o->ifname), "%s", prev->ifname);
		log_info("%s: taking over the block zcctund (pid %ld) left",
		    prev->ifname, prev->pid);
		return adopt_numbers(o, prev);
	}
	if (o->ifname[0] == '\0' && free_ifname(o->ifname, all, n) == -1)
		return -1;
	return allocate_numbers(o, all, n);
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

/*
 * Opened segments arrive on zcc0 from an address routed via the real
 * interface: strict reverse-path filtering would drop them. The kernel uses
 * the larger of "all" and the device's value, so loose (2) on zcc0 alone
 * is enough, whatever "all" says. IPv6 has no such sysctl.
 */
static int
install_rp_filter(const struct steer *s)
{
	char dev[128];

	if (s->peer.af == AF_INET6)
		return 0;
	snprintf(dev, sizeof(dev), "/proc/sys/net/ipv4/conf/%s/rp_filter",
	    s->ifname);
	return sysctl_write(dev, 2);
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
 * zcctund's own marked packets. Everything else is dropped and counted.
 * Written as "add, delete, define" in one transaction: a table already
 * there (a predecessor's) is replaced atomically, never absent.
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
	append(buf, len, "add table inet %s\ndelete table inet %s\n", table, table);
	append(buf, len, "table inet %s {\n", table);
	if (s->nports == 0) {        /* a VPN link: nothing selected */
		append(buf, len, "}\n");
		return;
	}
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
	return cmd_must(argv, rules);
}

static void
remove_nft(const struct steer *s)
{
	char table[IFNAMSIZ + 8];
	char *argv[] = { "nft", "delete", "table", "inet", table, NULL };

	nft_table_name(s->ifname, table, sizeof(table));
	cmd_try(argv);
}

/* ---- routes and rules ---- */

static int
unreachable_route(const struct steer *s, const char *op)
{
	char t[16];
	char *argv[] = { "ip", ip_family(s), "route", cmd_unconst(op),
	    "unreachable", "default", "metric", "4294967295", "table",
	    fmt_u32(t, s->table), NULL };

	return *op == 'r' ? cmd_must(argv, NULL) : cmd_try(argv);
}

/* Without "mtu" (route_mtu 0) the route takes zcc0's. */
static int
zcc_route(const struct steer *s, const char *op)
{
	char t[16], m[16], src[ZCC_ADDRSTRLEN];
	char *argv[] = { "ip", ip_family(s), "route", cmd_unconst(op), "default",
	    "dev", cmd_unconst(s->ifname), "src", fmt_addr(src, &s->local),
	    "table", fmt_u32(t, s->table), NULL, NULL, NULL };

	if (*op == 'r' && s->route_mtu) {
		argv[11] = "mtu";
		argv[12] = fmt_u32(m, s->route_mtu);
	}
	return *op == 'r' ? cmd_must(argv, NULL) : cmd_try(argv);
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

	if (cmd_run(argv, NULL, &r) == -1 || !cmd_succeeded(&r))
		return 0;
	snprintf(dev, sizeof(dev), " dev %s ", s->realdev);
	return strstr(r.out, " via ") == NULL && strstr(r.out, dev) != NULL;
}

static int
peer_route(const struct steer *s, const char *op)
{
	char t[16], peer[ZCC_ADDRSTRLEN];
	char *argv[] = { "ip", ip_family(s), "route", cmd_unconst(op),
	    fmt_addr(peer, &s->peer), "via", peer, "dev",
	    cmd_unconst(s->realdev), "onlink", "table",
	    fmt_u32(t, s->table + 1), NULL };

	return *op == 'r' ? cmd_must(argv, NULL) : cmd_try(argv);
}

/* zcctund's own marked packets: to main, or first to the peer's route. */
static int
mark_rule(const struct steer *s, const char *op, const char *table)
{
	char pref[16], mark[16];
	char *argv[] = { "ip", ip_family(s), "rule", cmd_unconst(op), "pref",
	    fmt_u32(pref, s->priority - 1), "fwmark", fmt_u32(mark, s->fwmark),
	    "lookup", cmd_unconst(table), NULL };

	return *op == 'a' ? cmd_ensure(argv) : cmd_try(argv);
}

static int
mark_peer_rule(const struct steer *s, const char *op)
{
	char t[16];

	return mark_rule(s, op, fmt_u32(t, s->table + 1));
}

/* The two selection rules of one port: op is "add" or "del". */
static int
port_rules(const struct steer *s, const char *op, uint16_t p)
{
	char pref[16], t[16], to[ZCC_ADDRSTRLEN + 4], port[8];
	char *sel[] = { "ip", ip_family(s), "rule", cmd_unconst(op), "pref",
	    fmt_u32(pref, s->priority), "to", fmt_host(to, &s->peer), "ipproto",
	    "tcp", "dport", port, "lookup", fmt_u32(t, s->table), NULL };
	int ret;

	snprintf(port, sizeof(port), "%u", p);
	ret = *op == 'a' ? cmd_ensure(sel) : cmd_try(sel);
	sel[10] = "sport";
	if (*op == 'a')
		return ret == -1 ? -1 : cmd_ensure(sel);
	cmd_try(sel);
	return 0;
}

/* Never one of the kernel's tables (table 252..254 would make it so). */
static int
own_peer_table(const struct steer *s)
{
	return s->table + 1 < 253 || s->table + 1 > 255;
}

/*
 * The marked packets' rule to the peer's table comes first, even while
 * that table is empty (a lookup that finds nothing goes on to the next
 * rule, main): a rule added later at the same preference goes after those
 * there, and main must come last.
 */
static int
install_rules(const struct steer *s)
{
	if ((own_peer_table(s) && mark_peer_rule(s, "add") == -1) ||
	    mark_rule(s, "add", "main") == -1)
		return -1;
	for (size_t i = 0; i < s->nports; i++)
		if (port_rules(s, "add", s->ports[i]) == -1)
			return -1;
	return 0;
}

/* ---- tc ingress: the kernel's copy of what the receive ring took ---- */

static int
clsact_mark_path(const char *dev, char *path, size_t len)
{
	unsigned long ino;

	if (netns_inode(&ino) == -1)
		return -1;
	snprintf(path, len, "%s/clsact-%s.netns-%lu.mark", ZCC_STATE_DIR, dev,
	    ino);
	return 0;
}

/*
 * Whether the mark at path is this namespace's: it holds the cookie of the
 * namespace that wrote it. One left by a namespace that no longer exists
 * (its inode reused) is removed: the clsact here is not zcc's.
 */
static int
mark_is_ours(const char *path)
{
	char text[32] = "";
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	if (from_dead_netns(strtoull(text, NULL, 10))) {
		unlink(path);
		return 0;
	}
	return 1;
}

static int
has_clsact(const char *dev)
{
	struct cmd_result r;
	char *argv[] = { "tc", "qdisc", "show", "dev", cmd_unconst(dev), NULL };

	if (cmd_run(argv, NULL, &r) == -1 || !cmd_succeeded(&r))
		return -1;
	return strstr(r.out, "qdisc clsact") != NULL;
}

/* A clsact qdisc zcc added is marked so; the last link to go removes it. */
static int
ensure_clsact(const char *dev)
{
	char *add[] = { "tc", "qdisc", "add", "dev", cmd_unconst(dev), "clsact", NULL };
	char mark[256];
	int have = has_clsact(dev), fd;

	if (have == -1) {
		log_warnx("%s: cannot read its qdiscs", dev);
		return -1;
	}
	if (clsact_mark_path(dev, mark, sizeof(mark)) == -1)
		return -1;
	if (have) {
		mark_is_ours(mark);     /* a dead namespace's mark goes */
		return 0;
	}
	if (state_dir() == -1)
		return -1;
	fd = open(mark, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		log_warn("%s", mark);
		return -1;
	}
	dprintf(fd, "%llu\n", (unsigned long long)netns_cookie());
	close(fd);
	return cmd_must(add, NULL);
}

static int
no_filters(const char *dev, const char *dir)
{
	char *argv[] = { "tc", "filter", "show", "dev", cmd_unconst(dev),
	    cmd_unconst(dir), NULL };
	struct cmd_result r;

	return cmd_run(argv, NULL, &r) == 0 && cmd_succeeded(&r) &&
	    r.out[0] == '\0';
}

static void
release_clsact(const char *dev)
{
	char *del[] = { "tc", "qdisc", "del", "dev", cmd_unconst(dev), "clsact", NULL };
	char mark[256];

	if (clsact_mark_path(dev, mark, sizeof(mark)) == -1 ||
	    !mark_is_ours(mark))
		return;
	if (!no_filters(dev, "ingress") || !no_filters(dev, "egress"))
		return;     /* another link's, or the administrator's since */
	cmd_try(del);
	unlink(mark);
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
 * drops the rest after reassembly. "replace" swaps the program in place.
 */
static int
install_port_filters(const struct steer *s)
{
	struct sock_filter f[INTAKE_FILTER_MAX];
	char code[16 + INTAKE_FILTER_MAX * 32];
	char pref[16];
	char *argv[] = { "tc", "filter", "replace", "dev", cmd_unconst(s->realdev),
	    "ingress", "pref", fmt_u32(pref, s->priority), "protocol",
	    s->peer.af == AF_INET6 ? "ipv6" : "ip", "handle", TC_HANDLE, "bpf",
	    "bytecode", code, "da", NULL };
	struct intake_prog how = { s->link_hlen, TC_ACT_SHOT,
	    (uint32_t)TC_ACT_UNSPEC };
	size_t n;

	if (!s->tc_filter)
		return 0;
	n = intake_filter(f, &how, &s->local, &s->peer, s->ports, s->nports);
	snprintf(code, sizeof(code), "%zu", n);
	for (size_t i = 0; i < n; i++)
		append(code, sizeof(code), ",%u %u %u %u", (unsigned)f[i].code,
		    (unsigned)f[i].jt, (unsigned)f[i].jf, f[i].k);
	return cmd_must(argv, NULL);
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

static void
remove_tc(const struct steer *s)
{
	char pref[16];
	char *filt[] = { "tc", "filter", "del", "dev", cmd_unconst(s->realdev),
	    "ingress", "pref", fmt_u32(pref, s->priority), "protocol",
	    s->peer.af == AF_INET6 ? "ipv6" : "ip", "handle", TC_HANDLE, "bpf",
	    NULL };

	if (!s->tc_filter || s->realdev[0] == '\0')
		return;
	cmd_try(filt);
	release_clsact(s->realdev);
}

/* ---- the block, the attachment, and what a predecessor had beyond ---- */

/* s with prev's ports too, while prev's rules may still be in place. */
static void
with_prev_ports(struct steer *both, const struct steer *s,
    const struct steer *prev)
{
	*both = *s;
	if (prev == NULL || !addr_equal(&prev->peer, &s->peer))
		return;
	for (size_t i = 0; i < prev->nports; i++)
		if (!has_port(both->ports, both->nports, prev->ports[i]) &&
		    both->nports < ZCC_MAX_PORTS * 2)
			both->ports[both->nports++] = prev->ports[i];
}

int
steer_block(struct steer *s, const struct steer *prev)
{
	struct steer both;

	s->pid = (long)getpid();
	with_prev_ports(&both, s, prev);
	if (prev && prev->realdev[0]) {
		/* Recorded so that a crash before steer_attach finds them. */
		snprintf(both.realdev, sizeof(both.realdev), "%s", prev->realdev);
		both.tc_filter = prev->tc_filter;
		both.link_hlen = prev->link_hlen;
		both.peer_route = prev->peer_route;
	}
	if (state_write(&both) == -1 || install_nft(&both) == -1 ||
	    unreachable_route(s, "replace") == -1 || install_rules(&both) == -1)
		return -1;
	return 0;
}

/* What prev installed that s does not: removed once s is in place. */
static void
remove_beyond(const struct steer *prev, const struct steer *s)
{
	int same_peer = addr_equal(&prev->peer, &s->peer);

	for (size_t i = 0; i < prev->nports; i++)
		if (!same_peer || !has_port(s->ports, s->nports, prev->ports[i]))
			port_rules(prev, "del", prev->ports[i]);
	if (prev->peer_route && (!s->peer_route || !same_peer ||
	    strcmp(prev->realdev, s->realdev) != 0))
		peer_route(prev, "del");
	if (prev->tc_filter && (!s->tc_filter ||
	    strcmp(prev->realdev, s->realdev) != 0 || prev->peer.af != s->peer.af))
		remove_tc(prev);
}

static int
attach_all(struct steer *s)
{
	if (s->peer_route && peer_route(s, "replace") == -1)
		return -1;
	if (zcc_route(s, "replace") == -1 || install_rp_filter(s) == -1)
		return -1;
	if (s->tc_filter && (ensure_clsact(s->realdev) == -1 ||
	    install_port_filters(s) == -1))
		return -1;
	return 0;
}

int
steer_attach(struct steer *s, const struct zcc_addr *local,
    const char *realdev, const struct steer *prev)
{
	struct steer both;

	s->local = *local;
	snprintf(s->realdev, sizeof(s->realdev), "%s", realdev);
	s->peer_route = own_peer_table(s) && peer_on_link(s);
	link_header_len(s);
	s->tc_filter = s->link_hlen != LINK_HLEN_UNKNOWN;
	with_prev_ports(&both, s, prev);
	if (state_write(&both) == -1 || attach_all(s) == -1)
		return -1;
	if (prev)
		remove_beyond(prev, s);
	if (install_nft(s) == -1)
		return -1;
	return state_write(s);
}

/*
 * Everything for the added ports goes in before anything of the removed
 * ones goes out, and the ports kept never lose a rule or a filter: the
 * backstop first covers both sets, the tc filter is replaced in place,
 * and the backstop shrinks last.
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
	if (state_write(&both) == -1 || install_nft(&both) == -1 ||
	    install_rules(&both) == -1 || install_port_filters(&next) == -1)
		return -1;
	for (size_t i = 0; i < s->nports; i++)
		if (!has_port(ports, n, s->ports[i])) {
			port_rules(s, "del", s->ports[i]);
			removed++;
		}
	*s = next;
	log_info("steering: %zu ports (%d removed)", n, removed);
	if (install_nft(s) == -1)
		return -1;
	return state_write(s);
}

int
steer_set_mtu(struct steer *s, uint32_t mtu)
{
	uint32_t was = s->route_mtu;

	s->route_mtu = mtu;
	if (zcc_route(s, "replace") == -1) {
		s->route_mtu = was;
		return -1;
	}
	return 0;
}

void
steer_remove(const struct steer *s)
{
	remove_tc(s);
	for (size_t i = 0; i < s->nports; i++)
		port_rules(s, "del", s->ports[i]);
	mark_rule(s, "del", "main");
	if (own_peer_table(s))
		mark_peer_rule(s, "del");
	if (s->local.af)
		zcc_route(s, "del");
	unreachable_route(s, "del");
	if (s->peer_route)
		peer_route(s, "del");
	remove_nft(s);
	state_remove(s->ifname);
}

int
steer_cleanup(const char *ifname)
{
	struct steer s;
	int found = state_read(ifname, &s);

	if (found == -1)
		return -1;
	if (found == 0) {
		log_info("%s: no link recorded in this network namespace: "
		    "nothing to clean up", ifname);
		return 0;
	}
	if (daemon_alive(s.pid)) {
		log_warnx("%s: zcctund (pid %ld) is running; stop it first "
		    "('zccctl stop %s' or SIGTERM), then clean up", ifname,
		    s.pid, ifname);
		return -1;
	}
	steer_remove(&s);
	log_info("%s: block lifted: selected flows to the peer now pass in "
	    "the clear", ifname);
	return 0;
}

int
steer_links(char names[][IFNAMSIZ], size_t max)
{
	struct steer all[STEER_MAX_LINKS];
	int n = state_all(all, STEER_MAX_LINKS);

	for (int i = 0; i < n && (size_t)i < max; i++)
		memcpy(names[i], all[i].ifname, IFNAMSIZ);
	return n < 0 ? -1 : (n > (int)max ? (int)max : n);
}
