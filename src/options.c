/* SPDX-License-Identifier: ISC */
/*
 * Options: pppd-style words on the command line and the same settings in
 * libconfig files. One table of words drives both, so a setting means the
 * same thing wherever it is written. Nothing here logs: every error is one
 * line in the caller's buffer, naming the word (and file:line in files).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "zcc/compress.h"
#include "zcc/keys.h"
#include "zcc/log.h"
#include "zcc/options.h"

/*
 * An options file is a few hundred bytes; the bound keeps a mistaken
 * "file /dev/zero" (or a fuzzer) from eating memory.
 */
#define OPTIONS_FILE_MAX 65536

/* Where a setting came from, for the error message. */
struct where {
	const char *path;       /* the options file, or NULL: the command line */
	unsigned int line;
	char *err;
	size_t errlen;
};

struct parse {
	struct zcc_options *o;
	struct where at;
};

enum arg_type { ARG_FLAG, ARG_STRING, ARG_NUMBER };

/* A value already checked against its word's type and bounds. */
struct value {
	const char *text;       /* as written, for messages */
	const char *str;        /* ARG_STRING */
	uint32_t num;           /* ARG_NUMBER */
	int flag;               /* ARG_FLAG */
};

struct word {
	const char *name;
	enum arg_type type;
	uint32_t min, max;      /* ARG_NUMBER bounds */
	int hex;                /* ARG_NUMBER: 0x... accepted (marks, tables) */
	int list;               /* repeatable: a file may give a list */
	int cleanup;            /* allowed after "cleanup" */
	int argv_only;          /* not in an options file */
	const char *what;       /* ARG_NUMBER: "a port number (1-65535)" */
	int (*set)(struct parse *p, const struct word *w, const struct value *v);
	/* What SIGHUP does with it (options.h), and the field it sets. */
	enum options_reload reload;
	size_t off, size;
};

#define FIELD(f) .off = offsetof(struct zcc_options, f), \
	.size = sizeof(((struct zcc_options *)NULL)->f)

static int parse_file(struct zcc_options *o, const char *path,
    const struct where *from);

/*
 * Write "path:line: message" (or just the message) to the caller's buffer.
 * Quoted user input may hold control bytes; they become '?' so the
 * message stays one printable line. Always returns -1.
 */
static int ZCC_PRINTF(2, 3)
fail(const struct where *at, const char *fmt, ...)
{
	va_list ap;
	size_t n = 0, i;

	if (at->err == NULL || at->errlen == 0)
		return -1;
	if (at->path != NULL)
		snprintf(at->err, at->errlen, "%s:%u: ", at->path, at->line);
	else
		at->err[0] = '\0';
	n = strlen(at->err);
	va_start(ap, fmt);
	vsnprintf(at->err + n, at->errlen - n, fmt, ap);
	va_end(ap);
	for (i = 0; at->err[i] != '\0'; i++)
		if ((unsigned char)at->err[i] < 0x20 || at->err[i] == 0x7f)
			at->err[i] = '?';
	return -1;
}

/*
 * Strict unsigned numbers: decimal without sign, spaces or leading zeros
 * (ip(8) would read "010" as octal 8; we refuse to guess), or 0x hex where
 * hex is allowed. strtoul accepts all of those, so it is not used.
 */
static int
parse_u32(const char *s, int hex, uint32_t *out)
{
	uint64_t v = 0;
	int base = 10, digits = 0, d;

	if (hex && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && s[1] != '\0') {
		return -1;
	}
	for (; *s != '\0'; s++, digits++) {
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -1;
		v = v * (uint64_t)base + (uint64_t)d;
		if (v > UINT32_MAX)
			return -1;
	}
	if (digits == 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
set_address(struct parse *p, const struct word *w, const char *s,
    struct zcc_addr *addr, int *have)
{
	/* A colon says the user meant IPv6: name the family meant. */
	if (addr_parse(addr, s) == -1)
		return fail(&p->at, "%s: '%s' is not an %s address", w->name, s,
		    strchr(s, ':') ? "IPv6" : "IPv4");
	*have = 1;
	return 0;
}

/* A DNS name as RFC 1123 allows one: letters, digits, '-', '.'. */
static int
host_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= 254 || s[0] == '-' || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

/* An address, or a host name resolved at start (and again, while up). */
static int
set_peer(struct parse *p, const struct word *w, const struct value *v)
{
	struct zcc_addr a;

	if (addr_parse(&a, v->str) == 0) {
		p->o->peer = a;
		p->o->peer_name[0] = '\0';
		p->o->have_peer = 1;
		return 0;
	}
	if (strchr(v->str, ':') || strspn(v->str, "0123456789.") ==
	    strlen(v->str))     /* meant as an address */
		return set_address(p, w, v->str, &a, &p->o->have_peer);
	if (!host_name_ok(v->str))
		return fail(&p->at, "%s: '%s' is neither an address nor a host "
		    "name", w->name, v->str);
	memset(&p->o->peer, 0, sizeof(p->o->peer));
	snprintf(p->o->peer_name, sizeof(p->o->peer_name), "%s", v->str);
	p->o->have_peer = 1;
	return 0;
}

static int
set_resolve_interval(struct parse *p, const struct word *w,
    const struct value *v)
{
	(void)w;
	p->o->resolve_interval = (uint32_t)v->num;
	return 0;
}

static int
set_local(struct parse *p, const struct word *w, const struct value *v)
{
	return set_address(p, w, v->str, &p->o->local, &p->o->have_local);
}

static int
set_key_path(struct parse *p, const struct word *w, const char *s, char *out,
    size_t outlen)
{
	size_t n = strlen(s);

	if (n == 0)
		return fail(&p->at, "%s: empty path", w->name);
	if (n >= outlen)
		return fail(&p->at, "%s: path longer than %zu bytes", w->name,
		    outlen - 1);
	memcpy(out, s, n + 1);
	return 0;
}

static int
set_key_file(struct parse *p, const struct word *w, const struct value *v)
{
	return set_key_path(p, w, v->str, p->o->key_file, sizeof(p->o->key_file));
}

static int
set_private_key_file(struct parse *p, const struct word *w,
    const struct value *v)
{
	return set_key_path(p, w, v->str, p->o->private_key_file,
	    sizeof(p->o->private_key_file));
}

/*
 * A key (44 base64 characters) or a file's path. A value of a key's
 * length with no '/' that is not one is a mistyped key, said here with
 * the file and line, not later as a file that cannot be opened.
 */
static int
set_peer_public_key(struct parse *p, const struct word *w,
    const struct value *v)
{
	if (strlen(v->str) == ZCC_KEY_B64_LEN && strchr(v->str, '/') == NULL &&
	    !keys_is_key_b64(v->str))
		return fail(&p->at, "%s: '%s' is not the base64 of a 32-byte "
		    "key", w->name, v->str);
	return set_key_path(p, w, v->str, p->o->peer_public_key,
	    sizeof(p->o->peer_public_key));
}

static int
set_key_overlap(struct parse *p, const struct word *w, const struct value *v)
{
	(void)w;
	p->o->key_overlap = v->num;
	return 0;
}

/*
 * The kernel accepts more in interface names, but the name also ends up
 * in a state file name under /run/zcc and in scripts' arguments: letters,
 * digits and _ . - keep it a harmless path component and shell word.
 */
int
options_valid_ifname(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n >= IFNAMSIZ || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

static int
set_ifname(struct parse *p, const struct word *w, const struct value *v)
{
	if (!options_valid_ifname(v->str))
		return fail(&p->at, "%s: '%s' is not an interface name "
		    "(1-%d characters of A-Z a-z 0-9 _ . -)", w->name, v->str,
		    IFNAMSIZ - 1);
	memcpy(p->o->ifname, v->str, strlen(v->str) + 1);
	return 0;
}

static int
set_encrypt_port(struct parse *p, const struct word *w, const struct value *v)
{
	struct zcc_options *o = p->o;

	if (options_port_selected(o, (uint16_t)v->num))
		return 0;
	if (o->nports == ZCC_MAX_PORTS)
		return fail(&p->at, "%s: more than %d ports", w->name,
		    ZCC_MAX_PORTS);
	o->ports[o->nports++] = (uint16_t)v->num;
	return 0;
}

static int
set_udp_port(struct parse *p, const struct word *w, const struct value *v)
{
	(void)w;
	p->o->udp_port = (uint16_t)v->num;
	return 0;
}

static int
set_fwmark(struct parse *p, const struct word *w, const struct value *v)
{
	(void)w;
	p->o->fwmark = v->num;
	return 0;
}

/* 253-255 are the kernel's default, main and local tables: never ours. */
static int
set_table(struct parse *p, const struct word *w, const struct value *v)
{
	if (v->num >= 253 && v->num <= 255)
		return fail(&p->at, "%s: '%s' is reserved "
		    "(253 default, 254 main, 255 local)", w->name, v->text);
	p->o->table = v->num;
	return 0;
}

static int
set_priority(struct parse *p, const struct word *w, const struct value *v)
{
	(void)w;
	p->o->priority = v->num;
	return 0;
}

static int
set_nodetach(struct parse *p, const struct word *w, const struct value *v)
{
	(void)w;
	p->o->nodetach = v->flag;
	if (v->flag)
		p->o->updetach = 0;
	return 0;
}

/* systemd's READY=1: once the link is up (default), or once set up. */
static int
set_ready_at(struct parse *p, const struct word *w, const struct value *v)
{
	if (strcmp(v->str, "up") == 0)
		p->o->ready_at_setup = 0;
	else if (strcmp(v->str, "setup") == 0)
		p->o->ready_at_setup = 1;
	else
		return fail(&p->at, "%s: '%s' is neither up nor setup", w->name,
		    v->str);
	return 0;
}

/* pppd's updetach: detach once the link is up; the last of the two wins. */
static int
set_updetach(struct parse *p, const struct word *w, const struct value *v)
{
	(void)w;
	p->o->updetach = v->flag;
	if (v->flag)
		p->o->nodetach = 0;
	return 0;
}

static int
set_debug(struct parse *p, const struct word *w, const struct value *v)
{
	(void)w;
	p->o->debug = v->flag;
	return 0;
}

static int
set_u32(struct parse *p, const struct word *w, const struct value *v,
    uint32_t *dst)
{
	(void)p, (void)w;
	*dst = v->num;
	return 0;
}

static int
set_rekey(struct parse *p, const struct word *w, const struct value *v)
{
	return set_u32(p, w, v, &p->o->rekey_interval);
}

static int
set_keepalive(struct parse *p, const struct word *w, const struct value *v)
{
	return set_u32(p, w, v, &p->o->keepalive_interval);
}

static int
set_keepalive_failure(struct parse *p, const struct word *w,
    const struct value *v)
{
	return set_u32(p, w, v, &p->o->keepalive_failure);
}

static int
set_holdoff(struct parse *p, const struct word *w, const struct value *v)
{
	return set_u32(p, w, v, &p->o->holdoff);
}

static int
set_busy_poll(struct parse *p, const struct word *w, const struct value *v)
{
	return set_u32(p, w, v, &p->o->busy_poll);
}

static int
set_ip_output(struct parse *p, const struct word *w, const struct value *v)
{
	(void)w;
	p->o->ip_output = v->flag;
	return 0;
}

static int
set_fallback_encap(struct parse *p, const struct word *w, const struct value *v)
{
	(void)w;
	p->o->fallback_encap = v->flag;
	return 0;
}

static int
set_float(struct parse *p, const struct word *w, const struct value *v)
{
	(void)w;
	p->o->floating = v->flag;
	return 0;
}

static int
set_maxfail(struct parse *p, const struct word *w, const struct value *v)
{
	return set_u32(p, w, v, &p->o->maxfail);
}

static int
set_persist(struct parse *p, const struct word *w, const struct value *v)
{
	(void)w;
	p->o->persist = v->flag;
	return 0;
}

/* pppd's word to undo a persist from an options file. */
static int
set_nopersist(struct parse *p, const struct word *w, const struct value *v)
{
	(void)w, (void)v;
	p->o->persist = 0;
	return 0;
}

/* Text that reaches scripts' argv and environment: one printable line. */
static int
set_text(struct parse *p, const struct word *w, const char *s, char *dst,
    size_t len)
{
	size_t n = strlen(s), i;

	if (n >= len)
		return fail(&p->at, "%s: longer than %zu bytes", w->name, len - 1);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return fail(&p->at, "%s: control characters are not "
			    "allowed", w->name);
	memcpy(dst, s, n + 1);
	return 0;
}

static int
set_path(struct parse *p, const struct word *w, const char *s, char *dst,
    size_t len)
{
	if (s[0] != '/')
		return fail(&p->at, "%s: '%s' is not an absolute path",
		    w->name, s);
	return set_text(p, w, s, dst, len);
}

static int
set_ip_up(struct parse *p, const struct word *w, const struct value *v)
{
	return set_path(p, w, v->str, p->o->ip_up, sizeof(p->o->ip_up));
}

static int
set_ip_down(struct parse *p, const struct word *w, const struct value *v)
{
	return set_path(p, w, v->str, p->o->ip_down, sizeof(p->o->ip_down));
}

static int
set_confdir(struct parse *p, const struct word *w, const struct value *v)
{
	return set_path(p, w, v->str, p->o->confdir, sizeof(p->o->confdir));
}

static int
set_ipparam(struct parse *p, const struct word *w, const struct value *v)
{
	return set_text(p, w, v->str, p->o->ipparam, sizeof(p->o->ipparam));
}

/* Names that become file names (/run/zcc-NAME.pid, peers/NAME). */
static int
set_name(struct parse *p, const struct word *w, const char *s, char *dst,
    size_t len)
{
	size_t n = strlen(s), i;

	if (n == 0 || n >= len || s[0] == '.')
		goto bad;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			goto bad;
	}
	memcpy(dst, s, n + 1);
	return 0;
bad:
	return fail(&p->at, "%s: '%s' is not a name (1-%zu characters of "
	    "A-Z a-z 0-9 _ . -, not starting with '.')", w->name, s, len - 1);
}

static int
set_user(struct parse *p, const struct word *w, const struct value *v)
{
	return set_name(p, w, v->str, p->o->user, sizeof(p->o->user));
}

static int
set_linkname(struct parse *p, const struct word *w, const struct value *v)
{
	return set_name(p, w, v->str, p->o->linkname, sizeof(p->o->linkname));
}

/* sealing auto|zccseal2: the suites the handshake offers (seal.h). */
static int
set_sealing(struct parse *p, const struct word *w, const struct value *v)
{
	if (strcmp(v->str, "auto") != 0 && strcmp(v->str, "zccseal2") != 0)
		return fail(&p->at, "%s: '%s' is not auto or zccseal2",
		    w->name, v->str);
	p->o->sealing_zccseal2 = strcmp(v->str, "zccseal2") == 0;
	return 0;
}

/* call NAME: the options in CONFDIR/peers/NAME, read here and now. */
static int
set_compress(struct parse *p, const struct word *w, const struct value *v)
{
	int c = compress_codec_parse(v->str);

	if (c == -1)
		return fail(&p->at, "%s: '%s' is not a codec (lz4, lzs or none)",
		    w->name, v->str);
	p->o->compress = c;
	return 0;
}

static int
set_call(struct parse *p, const struct word *w, const struct value *v)
{
	char path[PATH_MAX + 80];

	if (set_name(p, w, v->str, p->o->call, sizeof(p->o->call)) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/peers/%s", p->o->confdir, v->str);
	return parse_file(p->o, path, &p->at);
}

static int
set_file(struct parse *p, const struct word *w, const struct value *v)
{
	(void)w;
	return parse_file(p->o, v->str, &p->at);
}

/*
 * reload: RELOAD_LIVE takes effect on SIGHUP, RELOAD_NEXT_START is logged
 * and waits for the next start, RELOAD_KEPT keeps the start's value
 * quietly; file, call and confdir are where options come from, not
 * settings. Bounds: rule-priority leaves room for the fwmark rule one below it
 * (0 is the kernel's local rule) and stays under main's 32766.
 */
static const struct word words[] = {
	{ .name = "peer", .type = ARG_STRING, .set = set_peer,
	  .reload = RELOAD_NEXT_START, FIELD(peer) },
	{ .name = "resolve-interval", .type = ARG_NUMBER, .min = 1, .max = 86400,
	  .what = "seconds (1-86400)", .set = set_resolve_interval,
	  .reload = RELOAD_NEXT_START, FIELD(resolve_interval) },
	{ .name = "local", .type = ARG_STRING, .set = set_local,
	  .reload = RELOAD_NEXT_START, FIELD(local) },
	{ .name = "key-file", .type = ARG_STRING, .set = set_key_file,
	  .reload = RELOAD_LIVE, FIELD(key_file) },
	{ .name = "private-key-file", .type = ARG_STRING,
	  .set = set_private_key_file,
	  .reload = RELOAD_LIVE, FIELD(private_key_file) },
	{ .name = "peer-public-key", .type = ARG_STRING,
	  .set = set_peer_public_key,
	  .reload = RELOAD_LIVE, FIELD(peer_public_key) },
	{ .name = "key-overlap", .type = ARG_NUMBER, .min = 0, .max = 604800,
	  .what = "a number of seconds (0-604800)", .set = set_key_overlap,
	  .reload = RELOAD_LIVE, FIELD(key_overlap) },
	{ .name = "ifname", .type = ARG_STRING, .cleanup = 1,
	  .set = set_ifname,
	  .reload = RELOAD_NEXT_START, FIELD(ifname) },
	{ .name = "encrypt-port", .type = ARG_NUMBER, .min = 1, .max = 65535,
	  .list = 1, .what = "a port number (1-65535)",
	  .set = set_encrypt_port,
	  .reload = RELOAD_LIVE, FIELD(ports) },
	{ .name = "port", .type = ARG_NUMBER, .min = 1, .max = 65535,
	  .what = "a port number (1-65535)", .set = set_udp_port,
	  .reload = RELOAD_NEXT_START, FIELD(udp_port) },
	{ .name = "fwmark", .type = ARG_NUMBER, .min = 1, .max = 0xffffffff,
	  .hex = 1, .what = "a firewall mark (1-0xffffffff)",
	  .set = set_fwmark,
	  .reload = RELOAD_NEXT_START, FIELD(fwmark) },
	{ .name = "table", .type = ARG_NUMBER, .min = 1, .max = 0xfffffffe,
	  .hex = 1, .what = "a routing table number (1-4294967294)",
	  .set = set_table,
	  .reload = RELOAD_NEXT_START, FIELD(table) },
	{ .name = "rule-priority", .type = ARG_NUMBER, .min = 2, .max = 32765,
	  .what = "a rule priority (2-32765)", .set = set_priority,
	  .reload = RELOAD_NEXT_START, FIELD(priority) },
	{ .name = "nodetach", .type = ARG_FLAG, .set = set_nodetach,
	  .reload = RELOAD_KEPT, FIELD(nodetach) },
	{ .name = "updetach", .type = ARG_FLAG, .set = set_updetach,
	  .reload = RELOAD_KEPT, FIELD(updetach) },
	{ .name = "ready-at", .type = ARG_STRING, .set = set_ready_at,
	  .reload = RELOAD_KEPT, FIELD(ready_at_setup) },
	{ .name = "debug", .type = ARG_FLAG, .cleanup = 1, .set = set_debug,
	  .reload = RELOAD_KEPT, FIELD(debug) },
	{ .name = "file", .type = ARG_STRING, .argv_only = 1, .set = set_file },
	{ .name = "call", .type = ARG_STRING, .argv_only = 1, .set = set_call },
	{ .name = "confdir", .type = ARG_STRING, .argv_only = 1,
	  .set = set_confdir },
	{ .name = "rekey-interval", .type = ARG_NUMBER, .min = 1, .max = 86400,
	  .what = "a number of seconds (1-86400)", .set = set_rekey,
	  .reload = RELOAD_LIVE, FIELD(rekey_interval) },
	{ .name = "keepalive-interval", .type = ARG_NUMBER, .min = 0,
	  .max = 3600, .what = "a number of seconds (0-3600, 0: off)",
	  .set = set_keepalive,
	  .reload = RELOAD_LIVE, FIELD(keepalive_interval) },
	{ .name = "keepalive-failure", .type = ARG_NUMBER, .min = 1, .max = 100,
	  .what = "a count (1-100)", .set = set_keepalive_failure,
	  .reload = RELOAD_LIVE, FIELD(keepalive_failure) },
	{ .name = "ip-up-script", .type = ARG_STRING, .set = set_ip_up,
	  .reload = RELOAD_NEXT_START, FIELD(ip_up) },
	{ .name = "ip-down-script", .type = ARG_STRING, .set = set_ip_down,
	  .reload = RELOAD_NEXT_START, FIELD(ip_down) },
	{ .name = "persist", .type = ARG_FLAG, .set = set_persist,
	  .reload = RELOAD_LIVE, FIELD(persist) },
	{ .name = "nopersist", .type = ARG_FLAG, .argv_only = 1,
	  .set = set_nopersist,
	  .reload = RELOAD_LIVE, FIELD(persist) },
	{ .name = "holdoff", .type = ARG_NUMBER, .min = 0, .max = 86400,
	  .what = "a number of seconds (0-86400)", .set = set_holdoff,
	  .reload = RELOAD_LIVE, FIELD(holdoff) },
	{ .name = "maxfail", .type = ARG_NUMBER, .min = 0, .max = 1000000,
	  .what = "a count (0-1000000, 0: no limit)", .set = set_maxfail,
	  .reload = RELOAD_LIVE, FIELD(maxfail) },
	{ .name = "linkname", .type = ARG_STRING, .set = set_linkname,
	  .reload = RELOAD_NEXT_START, FIELD(linkname) },
	{ .name = "ipparam", .type = ARG_STRING, .set = set_ipparam,
	  .reload = RELOAD_NEXT_START, FIELD(ipparam) },
	{ .name = "compress", .type = ARG_STRING, .set = set_compress,
	  .reload = RELOAD_NEXT_START, FIELD(compress) },
	{ .name = "sealing", .type = ARG_STRING, .set = set_sealing,
	  .reload = RELOAD_LIVE, FIELD(sealing_zccseal2) },
	{ .name = "busy-poll", .type = ARG_NUMBER, .min = 0,
	  .max = ZCC_MAX_BUSY_POLL,
	  .what = "a number of microseconds (0-1000, 0: off)",
	  .set = set_busy_poll,
	  .reload = RELOAD_LIVE, FIELD(busy_poll) },
	{ .name = "ip-output", .type = ARG_FLAG, .set = set_ip_output,
	  .reload = RELOAD_NEXT_START, FIELD(ip_output) },
	{ .name = "fallback-encap", .type = ARG_FLAG, .set = set_fallback_encap,
	  .reload = RELOAD_NEXT_START, FIELD(fallback_encap) },
	{ .name = "float", .type = ARG_FLAG, .set = set_float,
	  .reload = RELOAD_NEXT_START, FIELD(floating) },
	{ .name = "user", .type = ARG_STRING, .set = set_user,
	  .reload = RELOAD_NEXT_START, FIELD(user) },
};

static const struct word *
find_word(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(words[i].name, name) == 0)
			return &words[i];
	return NULL;
}

static int
bad_number(struct parse *p, const struct word *w, const char *text)
{
	return fail(&p->at, "%s: '%s' is not %s", w->name, text, w->what);
}

static int
set_number(struct parse *p, const struct word *w, long long n,
    const char *text)
{
	struct value v = { .text = text };

	if (n < (long long)w->min || n > (long long)w->max)
		return bad_number(p, w, text);
	v.num = (uint32_t)n;
	return w->set(p, w, &v);
}

/* One word and its value (NULL for a flag) from the command line. */
static int
apply_word(struct parse *p, const struct word *w, const char *text)
{
	struct value v = { .text = text, .str = text, .flag = 1 };
	uint32_t n;

	if (w->type != ARG_NUMBER)
		return w->set(p, w, &v);
	if (parse_u32(text, w->hex, &n) < 0)
		return bad_number(p, w, text);
	return set_number(p, w, n, text);
}

/* --help and --version end parsing wherever they appear as a word. */
static int
info_command(const char *s, enum zcc_command *cmd)
{
	if (!strcmp(s, "--help") || !strcmp(s, "-h") || !strcmp(s, "help"))
		*cmd = ZCC_CMD_HELP;
	else if (!strcmp(s, "--version") || !strcmp(s, "-V") ||
	    !strcmp(s, "version"))
		*cmd = ZCC_CMD_VERSION;
	else
		return 0;
	return 1;
}

static int
first_word_command(const char *s, enum zcc_command *cmd)
{
	if (strcmp(s, "genkey") == 0)
		*cmd = ZCC_CMD_GENKEY;
	else if (strcmp(s, "pubkey") == 0)
		*cmd = ZCC_CMD_PUBKEY;
	else if (strcmp(s, "cleanup") == 0)
		*cmd = ZCC_CMD_CLEANUP;
	else if (strcmp(s, "check") == 0)
		*cmd = ZCC_CMD_CHECK;
	else
		return 0;
	return 1;
}

/* A link's words follow: run, or check ("zcctund check WORDS"). */
static int
takes_link_words(enum zcc_command cmd)
{
	return cmd == ZCC_CMD_RUN || cmd == ZCC_CMD_CHECK;
}

/* What the command allows in word position; the word itself is known. */
static int
allowed_here(struct parse *p, const char *name)
{
	enum zcc_command cmd;
	const struct word *w;

	if (p->o->command == ZCC_CMD_PUBKEY)
		return fail(&p->at, "pubkey: unexpected '%s' (it reads the "
		    "private key from standard input)", name);
	if (p->o->command == ZCC_CMD_GENKEY)
		return fail(&p->at, "genkey: unexpected '%s' (genkey takes "
		    "'shared', the default, or 'private')", name);
	if (first_word_command(name, &cmd))
		return fail(&p->at, "'%s' must be the first word", name);
	w = find_word(name);
	if (w == NULL)
		return fail(&p->at, "unknown option '%s'", name);
	if (p->o->command == ZCC_CMD_CLEANUP && !w->cleanup)
		return fail(&p->at, "cleanup: '%s' is not allowed "
		    "(only ifname and debug)", name);
	return 0;
}

/*
 * Parse into a copy and copy back only on success, so a caller that
 * re-reads options (SIGHUP) keeps its old set intact after an error.
 */
int
options_parse_argv(struct zcc_options *o, int argc, char *const argv[],
    char *err, size_t errlen)
{
	struct zcc_options n = *o;
	struct parse p = { .o = &n, .at = { .err = err, .errlen = errlen } };
	const struct word *w;
	const char *value;
	int i = 0;

	int first = 0;          /* where confdir may be: after check */

	if (argc > 0 && first_word_command(argv[0], &n.command))
		i = first = 1;
	/* genkey's one word: which kind of key. */
	if (n.command == ZCC_CMD_GENKEY && i < argc &&
	    (!strcmp(argv[i], "private") || !strcmp(argv[i], "shared"))) {
		n.genkey_private = !strcmp(argv[i], "private");
		i++;
	}
	for (; i < argc; i++) {
		if (info_command(argv[i], &n.command))
			break;
		if (allowed_here(&p, argv[i]) < 0)
			return -1;
		if (strcmp(argv[i], "confdir") == 0 && i != first)
			return fail(&p.at, "confdir: must be the first word "
			    "(it says where the options file is)");
		w = find_word(argv[i]);
		value = NULL;
		if (w->type != ARG_FLAG) {
			if (i + 1 >= argc)
				return fail(&p.at, "%s: missing value", w->name);
			value = argv[++i];
		}
		if (apply_word(&p, w, value) < 0)
			return -1;
	}
	*o = n;
	return 0;
}

/* ---- options files ---- */

static int
read_text(const char *path, char **textp, size_t *lenp,
    const struct where *from)
{
	char *buf;
	size_t len = 0;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fail(from, "file: cannot read '%s': %s", path,
		    strerror(errno));
	buf = malloc(OPTIONS_FILE_MAX + 2);
	if (buf == NULL) {
		close(fd);
		return fail(from, "file: cannot read '%s': %s", path,
		    strerror(ENOMEM));
	}
	do {
		r = read(fd, buf + len, OPTIONS_FILE_MAX + 1 - len);
		if (r > 0)
			len += (size_t)r;
	} while ((r > 0 && len <= OPTIONS_FILE_MAX) || (r < 0 && errno == EINTR));
	if (r < 0)
		fail(from, "file: cannot read '%s': %s", path, strerror(errno));
	else if (len > OPTIONS_FILE_MAX)
		fail(from, "file: '%s' is larger than %d bytes", path,
		    OPTIONS_FILE_MAX);
	close(fd);
	if (r < 0 || len > OPTIONS_FILE_MAX) {
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	*textp = buf;
	*lenp = len;
	return 0;
}

static unsigned int
line_of(const char *text, const char *at)
{
	unsigned int line = 1;

	for (; text < at; text++)
		line += *text == '\n';
	return line;
}

/* A line that, after blanks, starts with '@': libconfig's @include. */
static int
is_directive_line(const char *s, const char *eol)
{
	while (s < eol && (*s == ' ' || *s == '\t' || *s == '\r' ||
	    *s == '\f' || *s == '\v'))
		s++;
	return s < eol && *s == '@';
}

/*
 * libconfig 1.5 has no hook to stop "@include" from opening any file
 * named in the text, and include_dir only prefixes relative names. So
 * the bytes are checked before libconfig sees them; it parses these very
 * bytes (no second read, no race). The check is cruder than libconfig's
 * scanner (it also refuses '@' lines inside strings and comments): it
 * may refuse a harmless file, never pass an include. NUL bytes would end
 * config_read_string early and hide what follows, so they are refused.
 */
static int
check_raw_text(const char *text, size_t len, struct where *at)
{
	const char *s = text, *end = text + len, *eol, *nul;

	nul = memchr(text, '\0', len);
	if (nul != NULL) {
		at->line = line_of(text, nul);
		return fail(at, "NUL byte in an options file");
	}
	for (at->line = 1; s < end; s = eol + 1, at->line++) {
		eol = memchr(s, '\n', (size_t)(end - s));
		if (eol == NULL)
			eol = end;
		if (is_directive_line(s, eol))
			return fail(at, "@include is not allowed in an options file");
	}
	return 0;
}

static int
is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '*';
}

static int
is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' ||
	    c == '_';
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_xdigit(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Skip "L" or "LL", libconfig's 64-bit suffix. */
static const char *
skip_l_suffix(const char *s, int *has_l)
{
	*has_l = *s == 'L';
	if (*s == 'L')
		s++;
	if (*s == 'L' && *has_l)
		s++;
	return s;
}

/* A float's fraction and exponent, as libconfig's scanner reads them. */
static const char *
skip_float_tail(const char *s)
{
	if (*s == '.')
		for (s++; is_digit(*s); s++)
			;
	if ((*s == 'e' || *s == 'E') && (is_digit(s[1]) ||
	    ((s[1] == '+' || s[1] == '-') && is_digit(s[2])))) {
		for (s += 2; is_digit(*s); s++)
			;
	}
	return s;
}

/*
 * libconfig 1.5 (Debian's) stores an integer literal in an int without
 * checking: 4294967376 becomes 80, 0x100000000 becomes 0. Such a value
 * would pass our bounds as something the user never wrote, so literals
 * that cannot be represented exactly are refused here. Decimal above
 * 2^31-1 needs an L suffix or hex; nothing we take exceeds 2^32-1.
 */
static int
check_integer(const char *tok, const char *digits, const char *end, int hex,
    int has_l, struct where *at)
{
	int len = (int)(end - tok);
	uint64_t v = 0;
	const char *s;

	while (digits < end - 1 && *digits == '0')
		digits++;
	for (s = digits; s < end && v <= UINT32_MAX; s++)
		v = v * (hex ? 16 : 10) + (uint64_t)(is_digit(*s) ? *s - '0' :
		    (*s | 0x20) - 'a' + 10);
	if (v > UINT32_MAX)
		return fail(at, "'%.*s' is out of range", len, tok);
	if (!hex && tok[0] == '0' && tok + 1 < end && is_digit(tok[1]))
		return fail(at, "'%.*s': leading zeros are not allowed", len,
		    tok);
	if (!hex && !has_l && v > INT32_MAX)
		return fail(at, "'%.*s': write numbers above 2147483647 in hex "
		    "or with an L suffix", len, tok);
	return 0;
}

/* A number token at s (a digit or '.'); returns where it ends. */
static const char *
scan_number(const char *s, struct where *at, int *bad)
{
	const char *digits, *end, *after;
	int hex, has_l;

	hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && is_xdigit(s[2]);
	digits = hex ? s + 2 : s;
	for (end = digits; hex ? is_xdigit(*end) : is_digit(*end); end++)
		;
	if (!hex && (*end == '.' || *end == 'e' || *end == 'E') &&
	    skip_float_tail(end) != end)
		return skip_float_tail(end);    /* a float: a type error later */
	if (end == digits)
		return s + 1;                   /* not a number: move on */
	after = skip_l_suffix(end, &has_l);
	*bad = check_integer(s, digits, end, hex, has_l, at) < 0;
	return after;
}

/* Past a comment starting at s, counting lines; NULL if none starts. */
static const char *
skip_comment(const char *s, unsigned int *line)
{
	if (*s == '#' || (s[0] == '/' && s[1] == '/'))
		return s + strcspn(s, "\n");
	if (s[0] != '/' || s[1] != '*')
		return NULL;
	for (s += 2; *s != '\0' && !(s[0] == '*' && s[1] == '/'); s++)
		*line += *s == '\n';
	return *s == '\0' ? s : s + 2;
}

/* Past the string whose opening quote is at s; NULL if it never ends. */
static const char *
skip_string(const char *s, unsigned int *line)
{
	for (s++; *s != '\0' && *s != '"'; s++) {
		if (s[0] == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		*line += *s == '\n';
	}
	return *s == '\0' ? NULL : s + 1;
}

/*
 * Walk the text the way libconfig's scanner does (comments, strings,
 * names, numbers) and check what it would get wrong: integer literals it
 * cannot store, and strings left open at the end (libconfig 1.5 leaks
 * its string buffer on that error, which a fuzzer rightly reports).
 * text is NUL-terminated and holds no other NUL, so looking one or two
 * bytes ahead stops at the terminator.
 */
static int
check_tokens(const char *text, struct where *at)
{
	const char *s = text, *next;
	unsigned int start;
	int bad = 0;

	at->line = 1;
	while (*s != '\0' && !bad) {
		start = at->line;
		if ((next = skip_comment(s, &at->line)) != NULL) {
			s = next;
		} else if (*s == '"') {
			s = skip_string(s, &at->line);
			if (s == NULL) {
				at->line = start;
				return fail(at, "unterminated string");
			}
		} else if (is_name_start(*s)) {
			while (is_name_char(*++s))
				;
		} else if (is_digit(*s) || *s == '.') {
			s = scan_number(s, at, &bad);
		} else {
			at->line += *s++ == '\n';
		}
	}
	return bad ? -1 : 0;
}

/*
 * An integer setting's value. Hex literals up to 0xffffffff arrive as a
 * negative int; the hex format flag says to read them back as unsigned.
 */
static int
setting_integer(const config_setting_t *s, long long *n, char *text,
    size_t textlen)
{
	int hex = config_setting_get_format(s) == CONFIG_FORMAT_HEX;

	if (config_setting_type(s) == CONFIG_TYPE_INT && hex)
		*n = (uint32_t)config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT)
		*n = config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT64)
		*n = config_setting_get_int64(s);
	else
		return -1;
	snprintf(text, textlen, hex ? "0x%llx" : "%lld", *n);
	return 0;
}

static unsigned int
line_or(const config_setting_t *s, unsigned int fallback)
{
	unsigned int line = config_setting_source_line(s);

	return line != 0 ? line : fallback;
}

static int
apply_file_integer(struct parse *p, const struct word *w,
    const config_setting_t *s)
{
	char text[32];
	long long n;

	p->at.line = line_or(s, p->at.line);
	if (setting_integer(s, &n, text, sizeof(text)) < 0)
		return fail(&p->at, "%s: expected %s%s", w->name, w->what,
		    w->list ? " or a list of them" : "");
	return set_number(p, w, n, text);
}

static int
apply_file_number(struct parse *p, const struct word *w,
    const config_setting_t *s)
{
	int i, n;

	if (!w->list || (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST))
		return apply_file_integer(p, w, s);
	n = config_setting_length(s);
	for (i = 0; i < n; i++)
		if (apply_file_integer(p, w, config_setting_get_elem(s,
		    (unsigned int)i)) < 0)
			return -1;
	return 0;
}

static int
apply_file_setting(struct parse *p, const config_setting_t *s)
{
	const char *name = config_setting_name(s);
	const struct word *w = find_word(name);
	struct value v = { .text = name };

	p->at.line = config_setting_source_line(s);
	if (w == NULL)
		return fail(&p->at, "unknown option '%s'", name);
	if (w->argv_only)
		return fail(&p->at, "%s: not allowed in an options file", name);
	switch (w->type) {
	case ARG_NUMBER:
		return apply_file_number(p, w, s);
	case ARG_STRING:
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			return fail(&p->at, "%s: expected a string", name);
		v.str = v.text = config_setting_get_string(s);
		return w->set(p, w, &v);
	case ARG_FLAG:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			return fail(&p->at, "%s: expected true or false", name);
		v.flag = config_setting_get_bool(s);
		return w->set(p, w, &v);
	}
	return fail(&p->at, "%s: internal error", name);
}

static int
apply_file_settings(struct parse *p, const config_setting_t *root)
{
	int i, n = config_setting_length(root);

	for (i = 0; i < n; i++)
		if (apply_file_setting(p, config_setting_get_elem(root,
		    (unsigned int)i)) < 0)
			return -1;
	return 0;
}

/* ---- what a line libconfig refused probably meant ---- */

/*
 * Line n of text, without blanks at either end, a '#' comment (outside
 * quotes) or a trailing ';'. "" when there is no such line.
 */
static void
line_text(const char *text, unsigned int n, char *out, size_t len)
{
	const char *s = text, *eol;
	size_t k = 0;
	int quoted = 0;

	for (unsigned int i = 1; i < n && s; i++)
		s = (s = strchr(s, '\n')) ? s + 1 : NULL;
	out[0] = '\0';
	if (s == NULL)
		return;
	eol = s + strcspn(s, "\n");
	s += strspn(s, " \t\r");
	for (; s < eol && k + 1 < len; s++) {
		quoted ^= *s == '"';
		if (*s == '#' && !quoted)
			break;
		out[k++] = *s;
	}
	while (k > 0 && strchr(" \t\r;", out[k - 1]))
		k--;
	out[k] = '\0';
}

/* A flag's value in libconfig's words, or NULL. */
static const char *
flag_value(const char *v)
{
	static const char *const yes[] = { "", "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcasecmp(v, yes[i]) == 0)
			return "true";
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(v, no[i]) == 0)
			return "false";
	return NULL;
}

/* v as w's value in libconfig's form: "x" for strings, [a, b] for lists. */
static int
libconfig_value(const struct word *w, const char *v, char *out, size_t len)
{
	char copy[256], *tok, *save = NULL;
	size_t k;

	if (w->type == ARG_FLAG) {
		const char *f = flag_value(v);

		return f ? snprintf(out, len, "%s", f) : -1;
	}
	if (*v == '\0')
		return -1;
	if (w->type == ARG_STRING) {
		k = strlen(v);
		if (k >= 2 && v[0] == '"' && strchr(v + 1, '"') == v + k - 1)
			return snprintf(out, len, "%s", v);
		return strchr(v, '"') ? -1 : snprintf(out, len, "\"%s\"", v);
	}
	/* Numbers: digits, or 0x and hex digits; several only for a list. */
	if (v[strspn(v, "0123456789abcdefABCDEFx ,\t")] != '\0' ||
	    !isdigit((unsigned char)v[0]) ||
	    (!w->list && strpbrk(v, " \t,") != NULL))
		return -1;
	snprintf(copy, sizeof(copy), "%s", v);
	if (strpbrk(copy, " \t,") == NULL)
		return snprintf(out, len, "%s", copy);
	snprintf(out, len, "[");
	for (tok = strtok_r(copy, " \t,", &save); tok;
	    tok = strtok_r(NULL, " \t,", &save)) {
		k = strlen(out);
		snprintf(out + k, len - k, "%s%s", k > 1 ? ", " : "", tok);
	}
	k = strlen(out);
	return snprintf(out + k, len - k, "]");
}

/*
 * A pppd habit ("peer 10.0.0.2"), an INI one ("[zcc0]", "peer = 10.0.0.2")
 * or a wg-quick one ("Endpoint = ...") in line: what to write instead, in
 * hint. 0 when the line looks like none of them.
 */
static int
meant(const char *line, char *hint, size_t len)
{
	char name[64], value[300];
	const struct word *w;
	const char *rest;
	size_t n = strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_-");
	int sep;

	if (line[0] == '[')
		return snprintf(hint, len, "'%s' is an INI section: an options "
		    "file holds one link and has none (a link per file, as "
		    "%s/peers/NAME, started with 'call NAME')", line,
		    ZCC_SYSCONFDIR) > 0;
	if (n == 0 || n >= sizeof(name) || !isalpha((unsigned char)line[0]))
		return 0;
	snprintf(name, sizeof(name), "%.*s", (int)n, line);
	rest = line + n + strspn(line + n, " \t");
	sep = *rest == '=' || *rest == ':';
	rest += sep;
	rest += strspn(rest, " \t");
	if ((w = find_word(name)) == NULL)
		return snprintf(hint, len, "'%s' is not a zcc option "
		    "(zcc.conf(5) lists them)", name) > 0;
	if (w->argv_only || libconfig_value(w, rest, value, sizeof(value)) < 0)
		return 0;
	if (!sep)
		return snprintf(hint, len, "'%s' is the command line's (and "
		    "pppd's) form; in an options file: %s = %s;", line, name,
		    value) > 0;
	return snprintf(hint, len, "%s; write: %s = %s;", w->type == ARG_STRING ?
	    "a string needs quotes" : w->type == ARG_FLAG ?
	    "a flag is true or false" : "not a number", name, value) > 0;
}

/* libconfig's message for a syntax error, and what was probably meant. */
static int
fail_syntax(struct where *at, const config_t *cfg, const char *text)
{
	const char *why = config_error_text(cfg) ? config_error_text(cfg) :
	    "syntax error";
	char line[256], hint[512];

	/* At the end of the file, libconfig names the line after. */
	for (at->line = (unsigned int)config_error_line(cfg); at->line > 1;
	    at->line--) {
		line_text(text, at->line, line, sizeof(line));
		if (line[0] != '\0' && line[0] != '/')
			break;
	}
	line_text(text, at->line, line, sizeof(line));
	if (meant(line, hint, sizeof(hint)))
		return fail(at, "%s: %s", why, hint);
	return fail(at, "%s", why);
}

/*
 * Read the file once; refuse @include, unrepresentable numbers and open
 * strings; let libconfig parse the same bytes; then apply its top-level
 * settings in file order. Errors carry path:line; from says where the
 * "file" word came from.
 */
static int
parse_file(struct zcc_options *o, const char *path, const struct where *from)
{
	struct zcc_options n = *o;
	struct parse p = { .o = &n, .at = *from };
	config_t cfg;
	char *text = NULL;
	size_t len = 0;
	int ret = -1;

	if (read_text(path, &text, &len, from) < 0)
		return -1;
	p.at.path = path;
	if (check_raw_text(text, len, &p.at) < 0 ||
	    check_tokens(text, &p.at) < 0)
		goto out;
	config_init(&cfg);
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		fail_syntax(&p.at, &cfg, text);
	} else if (apply_file_settings(&p, config_root_setting(&cfg)) == 0) {
		*o = n;
		ret = 0;
	}
	config_destroy(&cfg);
out:
	free(text);
	return ret;
}

int
options_parse_file(struct zcc_options *o, const char *path,
    char *err, size_t errlen)
{
	struct where from = { .err = err, .errlen = errlen };

	return parse_file(o, path, &from);
}

/* ---- SIGHUP ---- */

void
options_reload_changes(const struct zcc_options *old,
    const struct zcc_options *n, options_change_fn *fn, void *arg)
{
	const uint8_t *a = (const uint8_t *)old, *b = (const uint8_t *)n;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		const struct word *w = &words[i];

		if (w->size == 0 || memcmp(a + w->off, b + w->off, w->size) == 0)
			continue;
		/* nopersist shares persist's field: one report for both. */
		if (i > 0 && w->off == words[i - 1].off)
			continue;
		fn(arg, w->name, w->reload);
	}
}

/* ---- the rest of the contract ---- */

void
options_init(struct zcc_options *o)
{
	memset(o, 0, sizeof(*o));
	o->command = ZCC_CMD_RUN;
	o->udp_port = ZCC_DEFAULT_UDP_PORT;
	memcpy(o->user, ZCC_DEFAULT_USER, sizeof(ZCC_DEFAULT_USER));
	o->rekey_interval = ZCC_DEFAULT_REKEY;
	o->keepalive_interval = ZCC_DEFAULT_KEEPALIVE;
	o->keepalive_failure = ZCC_DEFAULT_KEEPALIVE_FAILURE;
	o->holdoff = ZCC_DEFAULT_HOLDOFF;
	o->resolve_interval = ZCC_DEFAULT_RESOLVE;
	o->maxfail = ZCC_DEFAULT_MAXFAIL;
	o->key_overlap = ZCC_DEFAULT_KEY_OVERLAP;
	memcpy(o->confdir, ZCC_SYSCONFDIR, sizeof(ZCC_SYSCONFDIR));
}

/* CONFDIR/options may be absent; any other failure to read it is an error. */
static int
load_global(struct zcc_options *o, char *err, size_t errlen)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/options", o->confdir);
	if (access(path, F_OK) == -1 && errno == ENOENT)
		return 0;
	return options_parse_file(o, path, err, errlen);
}

/* Empty means CONFDIR/name; a confdir too long for that was refused. */
static int
default_script(char *dst, size_t len, const char *confdir, const char *name,
    char *err, size_t errlen)
{
	struct where at = { .err = err, .errlen = errlen };
	size_t n = strlen(confdir), m = strlen(name);

	if (dst[0] != '\0')
		return 0;
	if (n + 1 + m >= len)
		return fail(&at, "confdir: '%s' is too long", confdir);
	memcpy(dst, confdir, n);
	dst[n] = '/';
	memcpy(dst + n + 1, name, m + 1);
	return 0;
}

/* --help and --version work whatever CONFDIR/options says. */
static int
asks_info(int argc, char *const argv[])
{
	enum zcc_command cmd;

	for (int i = 0; i < argc; i++)
		if (info_command(argv[i], &cmd))
			return 1;
	return 0;
}

int
options_load(struct zcc_options *o, int argc, char *const argv[],
    char *err, size_t errlen)
{
	struct zcc_options n;

	enum zcc_command cmd = ZCC_CMD_RUN;
	int skip;

	options_init(&n);
	if (argc > 0)
		first_word_command(argv[0], &cmd);
	skip = cmd == ZCC_CMD_CHECK;
	if (argc >= skip + 2 && strcmp(argv[skip], "confdir") == 0 &&
	    options_parse_argv(&n, 2, argv + skip, err, errlen) < 0)
		return -1;
	if (!asks_info(argc, argv) && takes_link_words(cmd)) {
		if (load_global(&n, err, errlen) < 0)
			return -1;
		n.command = cmd;
	}
	if (options_parse_argv(&n, argc, argv, err, errlen) < 0)
		return -1;
	if (default_script(n.ip_up, sizeof(n.ip_up), n.confdir, "ip-up",
	    err, errlen) < 0 ||
	    default_script(n.ip_down, sizeof(n.ip_down), n.confdir, "ip-down",
	    err, errlen) < 0)
		return -1;
	*o = n;
	return 0;
}

/*
 * Sealing toward 0.0.0.0, ::, a group or broadcast has no single peer. An
 * IPv4-mapped IPv6 address is an IPv4 host in disguise, and a link-local
 * one means nothing without the zone a bare address cannot carry.
 */
static int
check_unicast(const struct where *at, const char *name,
    const struct zcc_addr *a)
{
	char buf[ZCC_ADDRSTRLEN];

	addr_format(a, buf, sizeof(buf));
	if (!addr_is_unicast(a))
		return fail(at, "%s: '%s' is not a unicast address", name, buf);
	if (addr_is_v4mapped(a))
		return fail(at, "%s: '%s' is an IPv4-mapped address: give the "
		    "IPv4 address", name, buf);
	if (addr_is_linklocal(a))
		return fail(at, "%s: '%s' is link-local: give a global or "
		    "unique local address", name, buf);
	return 0;
}

int
options_check(const struct zcc_options *o, char *err, size_t errlen)
{
	struct where at = { .err = err, .errlen = errlen };
	char l[ZCC_ADDRSTRLEN], p[ZCC_ADDRSTRLEN];

	if (!takes_link_words(o->command))
		return 0;
	if (!o->have_peer)
		return fail(&at, "missing 'peer ADDR'");
	if (o->private_key_file[0] != '\0' && o->peer_public_key[0] == '\0')
		return fail(&at, "private-key-file needs 'peer-public-key KEY'");
	if (o->peer_public_key[0] != '\0' && o->private_key_file[0] == '\0')
		return fail(&at, "peer-public-key needs 'private-key-file PATH'");
	if (o->key_file[0] == '\0' && o->private_key_file[0] == '\0')
		return fail(&at, "missing 'key-file PATH' (or "
		    "'private-key-file PATH' and 'peer-public-key KEY')");
	if (o->peer_name[0] && o->peer.af == 0)     /* checked once resolved */
		return o->have_local ? check_unicast(&at, "local", &o->local) : 0;
	if (check_unicast(&at, "peer", &o->peer) < 0)
		return -1;
	if (!o->have_local)
		return 0;
	if (check_unicast(&at, "local", &o->local) < 0)
		return -1;
	/* One link, one family: the prologue, steering and sockets agree. */
	if (o->local.af != o->peer.af)
		return fail(&at, "local: '%s' is %s but peer '%s' is %s: "
		    "give both of one family", addr_format(&o->local, l,
		    sizeof(l)), addr_family_name(&o->local),
		    addr_format(&o->peer, p, sizeof(p)),
		    addr_family_name(&o->peer));
	if (addr_equal(&o->local, &o->peer))
		return fail(&at, "local: same address as peer");
	return 0;
}

int
options_port_selected(const struct zcc_options *o, uint16_t port)
{
	size_t i;

	for (i = 0; i < o->nports; i++)
		if (o->ports[i] == port)
			return 1;
	return 0;
}
