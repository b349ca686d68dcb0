/* SPDX-License-Identifier: ISC */
/* Options: every word, every setting, every refusal, with file:line. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zcc/options.h"
#include "check.h"

/* CTest passes the data directory; by hand, run from the source root. */
#ifndef ZCC_TEST_DATA
#define ZCC_TEST_DATA "test/unit/data"
#endif

#define MAXWORDS 160

static char err[512];

/* Split a line of words at spaces (tests never need a space in a word). */
static int
split(char *line, char *argv[], int max)
{
	int argc = 0;
	char *w;

	for (w = strtok(line, " "); w != NULL && argc < max; w = strtok(NULL, " "))
		argv[argc++] = w;
	return argc;
}

static int
parse_words(struct zcc_options *o, const char *line)
{
	char buf[4096], *argv[MAXWORDS];
	int argc;

	snprintf(buf, sizeof(buf), "%s", line);
	argc = split(buf, argv, MAXWORDS);
	err[0] = '\0';
	return options_parse_argv(o, argc, argv, err, sizeof(err));
}

static int
parse_fresh(struct zcc_options *o, const char *line)
{
	options_init(o);
	return parse_words(o, line);
}

/* A temporary options file; the caller removes it. */
static void
write_temp(char path[64], const char *text, size_t len)
{
	int fd;

	snprintf(path, 64, "/tmp/zcc-test-options.XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_EQ(write(fd, text, len), (long long)len);
	close(fd);
}

static void
write_text(char path[64], const char *text)
{
	write_temp(path, text, strlen(text));
}

static int
parse_text(struct zcc_options *o, const char *text, char path[64])
{
	int ret;

	write_text(path, text);
	err[0] = '\0';
	ret = options_parse_file(o, path, err, sizeof(err));
	unlink(path);
	return ret;
}

static int
has(const char *needle)
{
	return strstr(err, needle) != NULL && strchr(err, '\n') == NULL;
}

/* A host name is kept for zcctund to resolve; an address replaces it. */
static void
check_peer_name(void)
{
	struct zcc_options o;

	options_init(&o);
	CHECK_EQ(parse_words(&o, "peer peer-b.example key-file /k "
	    "resolve-interval 5"), 0);
	CHECK(strcmp(o.peer_name, "peer-b.example") == 0);
	CHECK_EQ(o.have_peer, 1);
	CHECK_EQ(o.peer.af, 0);
	CHECK_EQ(o.resolve_interval, 5);
	CHECK_EQ(options_check(&o, err, sizeof(err)), 0);
	CHECK_EQ(parse_words(&o, "peer 10.0.0.2"), 0);
	CHECK_EQ(o.peer_name[0], '\0');
	CHECK_EQ(o.peer.af, AF_INET);
	options_init(&o);
	CHECK_EQ(o.resolve_interval, ZCC_DEFAULT_RESOLVE);
	CHECK_EQ(parse_words(&o, "resolve-interval 0"), -1);
	CHECK(has("resolve-interval"));
}

/* An error naming "word", one line; o is left exactly as it was. */
static void
expect_word_error(const char *line, const char *word)
{
	struct zcc_options o, before;

	options_init(&o);
	parse_words(&o, "peer 10.9.9.9 encrypt-port 22");
	before = o;
	CHECK_EQ(parse_words(&o, line), -1);
	if (!has(word))
		fprintf(stderr, "  '%s' gave '%s', want '%s'\n", line, err, word);
	CHECK(has(word));
	CHECK(memcmp(&o, &before, sizeof(o)) == 0);
}

/* A file error: "path:line: ... needle". */
static void
expect_file_error(const char *text, int line, const char *needle)
{
	struct zcc_options o;
	char path[64], where[96];

	options_init(&o);
	CHECK_EQ(parse_text(&o, text, path), -1);
	snprintf(where, sizeof(where), "%s:%d: ", path, line);
	if (strncmp(err, where, strlen(where)) != 0 || !has(needle))
		fprintf(stderr, "  file gave '%s', want '%s%s'\n", err, where,
		    needle);
	CHECK(strncmp(err, where, strlen(where)) == 0);
	CHECK(has(needle));
}

/* True when a holds the address s spells. */
static int
is_addr(const struct zcc_addr *a, const char *s)
{
	struct zcc_addr b;

	return addr_parse(&b, s) == 0 && addr_equal(a, &b);
}

static void
test_defaults(void)
{
	struct zcc_options o;

	memset(&o, 0xa5, sizeof(o));
	options_init(&o);
	CHECK_EQ(o.command, ZCC_CMD_RUN);
	/* Not given: allocated per link when it starts (steer_claim). */
	CHECK_EQ(o.ifname[0], '\0');
	CHECK_EQ(o.udp_port, 7437);
	CHECK_EQ(o.fwmark, 0);
	CHECK_EQ(o.table, 0);
	CHECK_EQ(o.priority, 0);
	CHECK(strcmp(o.user, "zcc") == 0);
	CHECK_EQ(o.have_peer, 0);
	CHECK_EQ(o.have_local, 0);
	CHECK_EQ(o.key_file[0], '\0');
	CHECK_EQ(o.nports, 0);
	CHECK_EQ(o.nodetach, 0);
	CHECK_EQ(o.debug, 0);
	CHECK_EQ(parse_fresh(&o, ""), 0);
	CHECK_EQ(o.command, ZCC_CMD_RUN);
}

static void
test_every_word(void)
{
	struct zcc_options o;

	CHECK_EQ(parse_fresh(&o, "peer 10.0.0.2 local 10.0.0.1 "
	    "key-file /etc/zcc/peer.key ifname zcc_1.a-b encrypt-port 80 "
	    "port 9000 fwmark 0x1F table 100 rule-priority 2 nodetach debug"),
	    0);
	CHECK_EQ(err[0], '\0');
	CHECK_EQ(o.have_peer, 1);
	CHECK(is_addr(&o.peer, "10.0.0.2"));
	CHECK_EQ(o.have_local, 1);
	CHECK(is_addr(&o.local, "10.0.0.1"));
	CHECK(strcmp(o.key_file, "/etc/zcc/peer.key") == 0);
	CHECK(strcmp(o.ifname, "zcc_1.a-b") == 0);
	CHECK_EQ(o.nports, 1);
	CHECK_EQ(o.ports[0], 80);
	CHECK_EQ(o.udp_port, 9000);
	CHECK_EQ(o.fwmark, 0x1f);
	CHECK_EQ(o.table, 100);
	CHECK_EQ(o.priority, 2);
	CHECK_EQ(o.nodetach, 1);
	CHECK_EQ(o.debug, 1);
	CHECK_EQ(o.command, ZCC_CMD_RUN);
}

static void
test_number_bounds(void)
{
	struct zcc_options o;

	CHECK_EQ(parse_fresh(&o, "fwmark 4294967295 table 4294967294 "
	    "rule-priority 32765 port 65535 encrypt-port 65535 encrypt-port 1"),
	    0);
	CHECK_EQ(o.fwmark, 0xffffffffu);
	CHECK_EQ(o.table, 0xfffffffeu);
	CHECK_EQ(o.priority, 32765);
	CHECK_EQ(o.udp_port, 65535);
	CHECK_EQ(o.ports[0], 65535);
	CHECK_EQ(o.ports[1], 1);
	CHECK_EQ(parse_fresh(&o, "fwmark 0xffffffff table 0XfffffffE port 1"), 0);
	CHECK_EQ(o.fwmark, 0xffffffffu);
	CHECK_EQ(o.table, 0xfffffffeu);
	CHECK_EQ(o.udp_port, 1);
	CHECK_EQ(parse_fresh(&o, "table 252 table 256"), 0);
	CHECK_EQ(o.table, 256);
	CHECK_EQ(parse_fresh(&o, "ifname abcdefghijklmno"), 0);   /* 15 */
	CHECK(strcmp(o.ifname, "abcdefghijklmno") == 0);
}

static void
test_ports_accumulate(void)
{
	struct zcc_options o;
	char line[2048];
	size_t n = 0;
	int i;

	CHECK_EQ(parse_fresh(&o, "encrypt-port 443 encrypt-port 80 "
	    "encrypt-port 443 encrypt-port 22 encrypt-port 80"), 0);
	CHECK_EQ(o.nports, 3);
	CHECK_EQ(o.ports[0], 443);
	CHECK_EQ(o.ports[1], 80);
	CHECK_EQ(o.ports[2], 22);
	CHECK(options_port_selected(&o, 443));
	CHECK(options_port_selected(&o, 80));
	CHECK(options_port_selected(&o, 22));
	CHECK(!options_port_selected(&o, 23));
	CHECK(!options_port_selected(&o, 0));
	CHECK(!options_port_selected(&o, 8080));

	/* Exactly ZCC_MAX_PORTS fit; a repeat when full is still fine. */
	for (i = 1; i <= ZCC_MAX_PORTS; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n,
		    "encrypt-port %d ", 1000 + i);
	CHECK_EQ(parse_fresh(&o, line), 0);
	CHECK_EQ(o.nports, ZCC_MAX_PORTS);
	CHECK_EQ(o.ports[ZCC_MAX_PORTS - 1], 1000 + ZCC_MAX_PORTS);
	CHECK_EQ(parse_words(&o, "encrypt-port 1001"), 0);
	CHECK_EQ(o.nports, ZCC_MAX_PORTS);
	CHECK_EQ(parse_words(&o, "encrypt-port 1"), -1);
	CHECK(has("encrypt-port"));
	CHECK(has("more than 64"));
	CHECK_EQ(o.nports, ZCC_MAX_PORTS);
}

static void
test_later_wins(void)
{
	struct zcc_options o;

	CHECK_EQ(parse_fresh(&o, "peer 10.0.0.2 peer 10.0.0.3 port 1 port 2 "
	    "key-file /a key-file /b ifname x0 ifname y0 fwmark 5 fwmark 6"),
	    0);
	CHECK(is_addr(&o.peer, "10.0.0.3"));
	CHECK_EQ(o.udp_port, 2);
	CHECK(strcmp(o.key_file, "/b") == 0);
	CHECK(strcmp(o.ifname, "y0") == 0);
	CHECK_EQ(o.fwmark, 6);
	/* A second call continues from the first. */
	CHECK_EQ(parse_words(&o, "encrypt-port 7 port 3"), 0);
	CHECK(is_addr(&o.peer, "10.0.0.3"));
	CHECK_EQ(o.udp_port, 3);
	CHECK_EQ(o.nports, 1);
}

static void
test_argv_errors(void)
{
	static const char *missing[] = { "peer", "local", "key-file", "ifname",
	    "encrypt-port", "port", "fwmark", "table", "rule-priority", "file" };
	char line[64], want[64];
	size_t i;

	expect_word_error("foo", "unknown option 'foo'");
	expect_word_error("peer 10.0.0.2 -peer 10.0.0.3", "unknown option '-peer'");
	expect_word_error("Peer 10.0.0.2", "unknown option 'Peer'");
	for (i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		snprintf(line, sizeof(line), "debug %s", missing[i]);
		snprintf(want, sizeof(want), "%s: missing value", missing[i]);
		expect_word_error(line, want);
	}
	expect_word_error("encrypt-port 99999",
	    "encrypt-port: '99999' is not a port number (1-65535)");
	expect_word_error("encrypt-port 0", "encrypt-port: '0' is not a port");
	expect_word_error("encrypt-port 65536", "encrypt-port: '65536'");
	expect_word_error("encrypt-port -1", "encrypt-port: '-1'");
	expect_word_error("encrypt-port +80", "encrypt-port: '+80'");
	expect_word_error("encrypt-port 80x", "encrypt-port: '80x'");
	expect_word_error("encrypt-port 080", "encrypt-port: '080'");
	expect_word_error("encrypt-port 0x50", "encrypt-port: '0x50'");
	expect_word_error("encrypt-port 18446744073709551696",
	    "encrypt-port: '18446744073709551696'");
	expect_word_error("port 0", "port: '0' is not a port number");
	expect_word_error("port 70000", "port: '70000'");
	expect_word_error("peer 10.0.0.300",
	    "peer: '10.0.0.300' is not an IPv4 address");
	expect_word_error("peer 10.0.0", "peer: '10.0.0'");
	expect_word_error("peer ::1::", "peer: '::1::' is not an IPv6 address");
	expect_word_error("peer 2001:db8::g", "peer: '2001:db8::g'");
	expect_word_error("peer host_example",
	    "peer: 'host_example' is neither an address nor a host name");
	expect_word_error("peer .example", "peer: '.example'");
	check_peer_name();
	expect_word_error("local 1.2.3.4.5", "local: '1.2.3.4.5'");
	expect_word_error("ifname abcdefghijklmnop", "ifname: 'abcdefghijklmnop'");
	expect_word_error("ifname a/b", "ifname: 'a/b'");
	expect_word_error("ifname .", "ifname: '.'");
	expect_word_error("ifname ..", "ifname: '..'");
	expect_word_error("ifname zcc:0", "ifname: 'zcc:0'");
	expect_word_error("fwmark 0", "fwmark: '0' is not a firewall mark");
	expect_word_error("fwmark 0x100000000", "fwmark: '0x100000000'");
	expect_word_error("fwmark 4294967296", "fwmark: '4294967296'");
	expect_word_error("fwmark 0x", "fwmark: '0x'");
	expect_word_error("fwmark 0x-1", "fwmark: '0x-1'");
	expect_word_error("table 0", "table: '0'");
	expect_word_error("table 253", "table: '253' is reserved");
	expect_word_error("table 254", "table: '254' is reserved");
	expect_word_error("table 255", "table: '255' is reserved");
	expect_word_error("table 0xfe", "table: '0xfe' is reserved");
	expect_word_error("table 4294967295", "table: '4294967295'");
	expect_word_error("table main", "table: 'main'");
	expect_word_error("rule-priority 1", "rule-priority: '1'");
	expect_word_error("rule-priority 32766", "rule-priority: '32766'");
	expect_word_error("rule-priority 0x10", "rule-priority: '0x10'");
}

/* Words with spaces or empty values cannot come from split(). */
static void
test_argv_odd_values(void)
{
	char *empty_key[] = { "key-file", "" };
	char *empty_peer[] = { "peer", "" };
	char *space_port[] = { "encrypt-port", " 80" };
	char *ctl[] = { "foo\nbar" };
	char longpath[PATH_MAX + 8];
	char *long_key[] = { "key-file", longpath };
	struct zcc_options o;

	options_init(&o);
	CHECK_EQ(options_parse_argv(&o, 2, empty_key, err, sizeof(err)), -1);
	CHECK(has("key-file: empty path"));
	CHECK_EQ(options_parse_argv(&o, 2, empty_peer, err, sizeof(err)), -1);
	CHECK(has("peer: ''"));
	CHECK_EQ(options_parse_argv(&o, 2, space_port, err, sizeof(err)), -1);
	CHECK(has("encrypt-port: ' 80'"));
	/* A control byte in the message would break the one-line contract. */
	CHECK_EQ(options_parse_argv(&o, 1, ctl, err, sizeof(err)), -1);
	CHECK(has("unknown option 'foo?bar'"));
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	CHECK_EQ(options_parse_argv(&o, 2, long_key, err, sizeof(err)), -1);
	CHECK(has("key-file: path longer than"));
	longpath[PATH_MAX - 1] = '\0';
	CHECK_EQ(options_parse_argv(&o, 2, long_key, err, sizeof(err)), 0);
	CHECK_EQ(strlen(o.key_file), PATH_MAX - 1);
	/* A short buffer still gets a terminated, truncated message. */
	CHECK_EQ(options_parse_argv(&o, 1, ctl, err, 8), -1);
	CHECK_EQ(strlen(err), 7);
	CHECK_EQ(options_parse_argv(&o, 1, ctl, NULL, 0), -1);
}

static void
test_commands(void)
{
	struct zcc_options o;

	CHECK_EQ(parse_fresh(&o, "genkey"), 0);
	CHECK_EQ(o.command, ZCC_CMD_GENKEY);
	CHECK_EQ(parse_fresh(&o, "genkey peer 10.0.0.2"), -1);
	CHECK(has("genkey: unexpected 'peer'"));
	CHECK_EQ(parse_fresh(&o, "genkey genkey"), -1);
	CHECK(has("genkey"));
	CHECK_EQ(o.command, ZCC_CMD_RUN);

	CHECK_EQ(parse_fresh(&o, "cleanup"), 0);
	CHECK_EQ(o.command, ZCC_CMD_CLEANUP);
	CHECK_EQ(o.ifname[0], '\0');     /* every stopped link */
	CHECK_EQ(parse_fresh(&o, "cleanup ifname zcc7 debug"), 0);
	CHECK_EQ(o.command, ZCC_CMD_CLEANUP);
	CHECK(strcmp(o.ifname, "zcc7") == 0);
	CHECK_EQ(o.debug, 1);
	CHECK_EQ(parse_fresh(&o, "cleanup peer 10.0.0.2"), -1);
	CHECK(has("cleanup: 'peer' is not allowed"));
	CHECK_EQ(parse_fresh(&o, "cleanup file /etc/zcc/zcc.conf"), -1);
	CHECK(has("cleanup: 'file'"));
	CHECK_EQ(parse_fresh(&o, "cleanup ifname"), -1);
	CHECK(has("ifname: missing value"));

	CHECK_EQ(parse_fresh(&o, "peer 10.0.0.2 genkey"), -1);
	CHECK(has("'genkey' must be the first word"));
	CHECK_EQ(parse_fresh(&o, "debug cleanup"), -1);
	CHECK(has("'cleanup' must be the first word"));

	CHECK_EQ(parse_fresh(&o, "--help"), 0);
	CHECK_EQ(o.command, ZCC_CMD_HELP);
	CHECK_EQ(parse_fresh(&o, "-h"), 0);
	CHECK_EQ(o.command, ZCC_CMD_HELP);
	CHECK_EQ(parse_fresh(&o, "help"), 0);
	CHECK_EQ(o.command, ZCC_CMD_HELP);
	CHECK_EQ(parse_fresh(&o, "--version"), 0);
	CHECK_EQ(o.command, ZCC_CMD_VERSION);
	CHECK_EQ(parse_fresh(&o, "-V"), 0);
	CHECK_EQ(o.command, ZCC_CMD_VERSION);
	CHECK_EQ(parse_fresh(&o, "version"), 0);
	CHECK_EQ(o.command, ZCC_CMD_VERSION);
	/* --help anywhere a word goes wins over what follows. */
	CHECK_EQ(parse_fresh(&o, "peer 10.0.0.2 --help bogus words"), 0);
	CHECK_EQ(o.command, ZCC_CMD_HELP);
	CHECK_EQ(parse_fresh(&o, "cleanup --version"), 0);
	CHECK_EQ(o.command, ZCC_CMD_VERSION);
	/* ...but not where a value goes. */
	CHECK_EQ(parse_fresh(&o, "key-file help"), 0);
	CHECK_EQ(o.command, ZCC_CMD_RUN);
	CHECK(strcmp(o.key_file, "help") == 0);
	/* An error before it still counts. */
	CHECK_EQ(parse_fresh(&o, "bogus --help"), -1);
	CHECK(has("unknown option 'bogus'"));
}

/* Public-key words: what each needs, genkey's word, a mistyped key. */
static void
test_public_keys(void)
{
	struct zcc_options o;

	CHECK_EQ(parse_fresh(&o, "peer 10.0.0.2 private-key-file /p"), 0);
	CHECK_EQ(options_check(&o, err, sizeof(err)), -1);
	CHECK(has("private-key-file needs 'peer-public-key KEY'"));
	CHECK_EQ(parse_fresh(&o, "peer 10.0.0.2 peer-public-key /k.pub"), 0);
	CHECK_EQ(options_check(&o, err, sizeof(err)), -1);
	CHECK(has("peer-public-key needs 'private-key-file PATH'"));
	CHECK_EQ(parse_fresh(&o, "peer 10.0.0.2 private-key-file /p "
	    "peer-public-key q2o71o2plYpcKLsHcrCELey8SU5G9ZwkxW4lBKUiGRk="), 0);
	CHECK_EQ(options_check(&o, err, sizeof(err)), 0);
	CHECK_EQ(o.key_overlap, ZCC_DEFAULT_KEY_OVERLAP);
	/* 44 characters, no '/', not base64 of 32 bytes: a mistyped key. */
	CHECK_EQ(parse_fresh(&o, "peer-public-key "
	    "q2o71o2plYpcKLsHcrCELey8SU5G9ZwkxW4lBKUiGR!="), -1);
	CHECK(has("peer-public-key: 'q2o71o2plYpcKLsHcrCELey8SU5G9ZwkxW4lBKUiGR!=' "
	    "is not the base64 of a 32-byte key"));
	CHECK_EQ(parse_fresh(&o, "key-overlap 604801"), -1);
	CHECK(has("key-overlap: '604801' is not"));
	CHECK_EQ(parse_fresh(&o, "key-overlap 0"), 0);
	CHECK_EQ(o.key_overlap, 0);
	CHECK_EQ(parse_fresh(&o, "genkey private"), 0);
	CHECK(o.command == ZCC_CMD_GENKEY && o.genkey_private == 1);
	CHECK_EQ(parse_fresh(&o, "genkey shared"), 0);
	CHECK(o.command == ZCC_CMD_GENKEY && o.genkey_private == 0);
	CHECK_EQ(parse_fresh(&o, "genkey private private"), -1);
	CHECK(has("genkey: unexpected 'private'"));
	CHECK_EQ(parse_fresh(&o, "pubkey"), 0);
	CHECK_EQ(o.command, ZCC_CMD_PUBKEY);
	CHECK_EQ(parse_fresh(&o, "pubkey peer 10.0.0.2"), -1);
	CHECK(has("pubkey: unexpected 'peer'"));
}

static void
test_check(void)
{
	struct zcc_options o;

	options_init(&o);
	CHECK_EQ(options_check(&o, err, sizeof(err)), -1);
	CHECK(has("missing 'peer ADDR'"));
	parse_words(&o, "peer 10.0.0.2");
	CHECK_EQ(options_check(&o, err, sizeof(err)), -1);
	CHECK(has("missing 'key-file PATH' (or 'private-key-file PATH' and "
	    "'peer-public-key KEY')"));
	parse_words(&o, "key-file /k");
	err[0] = '\0';
	CHECK_EQ(options_check(&o, err, sizeof(err)), 0);     /* a VPN link */
	CHECK_EQ(err[0], '\0');
	parse_words(&o, "encrypt-port 80");
	err[0] = '\0';
	CHECK_EQ(options_check(&o, err, sizeof(err)), 0);
	CHECK_EQ(err[0], '\0');
	parse_words(&o, "local 10.0.0.1");
	CHECK_EQ(options_check(&o, err, sizeof(err)), 0);

	parse_words(&o, "local 10.0.0.2");
	CHECK_EQ(options_check(&o, err, sizeof(err)), -1);
	CHECK(has("local"));
	CHECK(has("same address as peer"));
	parse_words(&o, "local 0.0.0.0");
	CHECK_EQ(options_check(&o, err, sizeof(err)), -1);
	CHECK(has("local: '0.0.0.0' is not a unicast address"));
	parse_words(&o, "local 10.0.0.1 peer 0.0.0.0");
	CHECK_EQ(options_check(&o, err, sizeof(err)), -1);
	CHECK(has("peer: '0.0.0.0' is not a unicast address"));
	parse_words(&o, "peer 224.0.0.1");
	CHECK_EQ(options_check(&o, err, sizeof(err)), -1);
	CHECK(has("peer: '224.0.0.1'"));
	parse_words(&o, "peer 239.255.255.255");
	CHECK_EQ(options_check(&o, err, sizeof(err)), -1);
	CHECK(has("peer: '239.255.255.255'"));
	parse_words(&o, "peer 255.255.255.255");
	CHECK_EQ(options_check(&o, err, sizeof(err)), -1);
	CHECK(has("peer: '255.255.255.255'"));
	parse_words(&o, "peer 223.255.255.254");
	CHECK_EQ(options_check(&o, err, sizeof(err)), 0);

	/* IPv6: either word, both of one family. */
	parse_words(&o, "peer 2001:db8::2");
	CHECK_EQ(options_check(&o, err, sizeof(err)), -1);
	CHECK(has("local: '10.0.0.1' is IPv4 but peer '2001:db8::2' is IPv6"));
	parse_words(&o, "local 2001:db8::1");
	err[0] = '\0';
	CHECK_EQ(options_check(&o, err, sizeof(err)), 0);
	CHECK_EQ(err[0], '\0');
	CHECK(is_addr(&o.peer, "2001:db8::2"));
	CHECK(is_addr(&o.local, "2001:db8:0::1"));
	CHECK_EQ(o.peer.af, AF_INET6);
	parse_words(&o, "peer 10.0.0.2");
	CHECK_EQ(options_check(&o, err, sizeof(err)), -1);
	CHECK(has("local: '2001:db8::1' is IPv6 but peer '10.0.0.2' is IPv4"));
	parse_words(&o, "peer 2001:DB8::1");
	CHECK_EQ(options_check(&o, err, sizeof(err)), -1);
	CHECK(has("same address as peer"));
	parse_words(&o, "peer ::");
	CHECK_EQ(options_check(&o, err, sizeof(err)), -1);
	CHECK(has("peer: '::' is not a unicast address"));
	parse_words(&o, "peer ff02::1");
	CHECK_EQ(options_check(&o, err, sizeof(err)), -1);
	CHECK(has("peer: 'ff02::1' is not a unicast address"));
	parse_words(&o, "peer ::ffff:10.0.0.2");
	CHECK_EQ(options_check(&o, err, sizeof(err)), -1);
	CHECK(has("IPv4-mapped"));
	parse_words(&o, "peer fe80::2");
	CHECK_EQ(options_check(&o, err, sizeof(err)), -1);
	CHECK(has("peer: 'fe80::2' is link-local"));
	parse_words(&o, "peer fd00::2");
	CHECK_EQ(options_check(&o, err, sizeof(err)), 0);
	parse_words(&o, "local 10.0.0.1 peer 10.0.0.2");
	CHECK_EQ(options_check(&o, err, sizeof(err)), 0);

	/* Other commands need nothing. */
	CHECK_EQ(parse_fresh(&o, "genkey"), 0);
	CHECK_EQ(options_check(&o, err, sizeof(err)), 0);
	CHECK_EQ(parse_fresh(&o, "cleanup"), 0);
	CHECK_EQ(options_check(&o, err, sizeof(err)), 0);
	CHECK_EQ(parse_fresh(&o, "--help"), 0);
	CHECK_EQ(options_check(&o, err, sizeof(err)), 0);
	CHECK_EQ(parse_fresh(&o, "--version"), 0);
	CHECK_EQ(options_check(&o, err, sizeof(err)), 0);
}

static void
test_file_every_setting(void)
{
	struct zcc_options o;
	char path[64];

	options_init(&o);
	CHECK_EQ(parse_text(&o,
	    "# a comment\n"
	    "peer = \"10.0.0.2\";\n"
	    "local = \"10.0.0.1\";   // another\n"
	    "key-file = \"/etc/zcc/peer.key\";\n"
	    "ifname = \"zcc9\";\n"
	    "encrypt-port = [ 80, 443, 80 ];\n"
	    "port = 7000;\n"
	    "fwmark = 0xffffffff;\n"
	    "table = 31332;\n"
	    "rule-priority = 100;\n"
	    "nodetach = true;\n"
	    "debug = TRUE;\n", path), 0);
	CHECK(is_addr(&o.peer, "10.0.0.2"));
	CHECK(is_addr(&o.local, "10.0.0.1"));
	CHECK_EQ(o.have_local, 1);
	CHECK(strcmp(o.key_file, "/etc/zcc/peer.key") == 0);
	CHECK(strcmp(o.ifname, "zcc9") == 0);
	CHECK_EQ(o.nports, 2);
	CHECK_EQ(o.ports[0], 80);
	CHECK_EQ(o.ports[1], 443);
	CHECK_EQ(o.udp_port, 7000);
	CHECK_EQ(o.fwmark, 0xffffffffu);
	CHECK_EQ(o.table, 31332);
	CHECK_EQ(o.priority, 100);
	CHECK_EQ(o.nodetach, 1);
	CHECK_EQ(o.debug, 1);
	CHECK_EQ(options_check(&o, err, sizeof(err)), 0);

	/* false turns a flag off again; a list and a single port work. */
	CHECK_EQ(parse_text(&o, "nodetach = false; debug = false;\n"
	    "encrypt-port = ( 22, 0x50 );\n", path), 0);
	CHECK_EQ(o.nodetach, 0);
	CHECK_EQ(o.debug, 0);
	CHECK_EQ(o.nports, 3);
	CHECK_EQ(o.ports[2], 22);
	CHECK_EQ(parse_text(&o, "encrypt-port = 8443", path), 0);
	CHECK_EQ(o.nports, 4);
	CHECK_EQ(o.ports[3], 8443);
	/* 64-bit literals and hex are read exactly. */
	CHECK_EQ(parse_text(&o, "fwmark = 4294967295L; table = 0xfffffffeL;\n"
	    "port = 0x1bb;", path), 0);
	CHECK_EQ(o.fwmark, 0xffffffffu);
	CHECK_EQ(o.table, 0xfffffffeu);
	CHECK_EQ(o.udp_port, 443);
	CHECK_EQ(parse_text(&o, "fwmark = 0x80000000;", path), 0);
	CHECK_EQ(o.fwmark, 0x80000000u);
	CHECK_EQ(parse_text(&o, "fwmark = 2147483647;", path), 0);
	CHECK_EQ(o.fwmark, 2147483647u);
	CHECK_EQ(parse_text(&o, "", path), 0);
	/* Refused: cruder than libconfig's scanner, but never too lax. */
	CHECK_EQ(parse_text(&o, "# only a comment\n/* and\n@another */\n", path),
	    -1);
	CHECK(has(":3: @include is not allowed"));
	CHECK_EQ(parse_text(&o, "key-file = \"/k/@include\"; ifname = \"a\" \"b\";",
	    path), 0);
	CHECK(strcmp(o.key_file, "/k/@include") == 0);
	CHECK(strcmp(o.ifname, "ab") == 0);
}

/* What libconfig 1.5 would silently wrap must be refused, not wrapped. */
static void
test_file_numbers(void)
{
	expect_file_error("\nencrypt-port = 4294967376;\n", 2,
	    "'4294967376' is out of range");
	expect_file_error("port = 0x100000050;", 1, "'0x100000050' is out of range");
	expect_file_error("port = 99999999999999999999999L;", 1, "out of range");
	expect_file_error("fwmark = 3000000000;", 1, "L suffix");
	expect_file_error("fwmark = -1;", 1, "fwmark: '-1' is not a firewall mark");
	expect_file_error("port = 080;", 1, "'080': leading zeros");
	expect_file_error("encrypt-port = [ 1,\n 2,\n 0 ];\n", 3,
	    "encrypt-port: '0' is not a port number (1-65535)");
	expect_file_error("a = 1;\nencrypt-port = 99999;", 1, "unknown option 'a'");
	expect_file_error("\n\nencrypt-port = 99999;", 3,
	    "encrypt-port: '99999' is not a port number (1-65535)");
	expect_file_error("table = 254;", 1, "table: '254' is reserved");
	expect_file_error("table = 0xff;", 1, "table: '0xff' is reserved");
	expect_file_error("rule-priority = 32766;", 1, "rule-priority: '32766'");
	expect_file_error("port = 1.5;", 1, "port: expected a port number");
	expect_file_error("port = 1e3;", 1, "port: expected a port number");
	/* Numbers inside strings and comments are not literals. */
	{
		struct zcc_options o;
		char path[64];

		options_init(&o);
		CHECK_EQ(parse_text(&o, "# 99999999999 080\n"
		    "key-file = \"/k/99999999999/080\"; /* 0x1000000000\n"
		    " 080 */ ifname = \"z9\"; // 0999999999999\n", path), 0);
		CHECK(strcmp(o.key_file, "/k/99999999999/080") == 0);
		CHECK(strcmp(o.ifname, "z9") == 0);
		/* An escaped quote does not end the string. */
		CHECK_EQ(parse_text(&o, "key-file = \"/k/\\\"9999999999\\\\\";"
		    "port = 9;", path), 0);
		CHECK(strcmp(o.key_file, "/k/\"9999999999\\") == 0);
		CHECK_EQ(o.udp_port, 9);
	}
}

/* Habits from pppd, INI files and wg-quick get the libconfig form. */
static void
test_file_hints(void)
{
	expect_file_error("# pppd\npeer 10.0.0.2\n", 2, "syntax error: 'peer "
	    "10.0.0.2' is the command line's (and pppd's) form; in an options "
	    "file: peer = \"10.0.0.2\";");
	expect_file_error("peer = \"10.0.0.2\";\npersist\n\n", 2,
	    "in an options file: persist = true;");
	expect_file_error("encrypt-port 80 443\n", 1,
	    "in an options file: encrypt-port = [80, 443];");
	expect_file_error("fwmark 0x10 # mark\n", 1, "fwmark = 0x10;");
	expect_file_error("[zcc0]\npeer = \"10.0.0.2\";\n", 1,
	    "'[zcc0]' is an INI section");
	expect_file_error("key-file = /etc/zcc/k\n", 1,
	    "a string needs quotes; write: key-file = \"/etc/zcc/k\";");
	expect_file_error("peer: 10.0.0.2;\n", 1, "write: peer = \"10.0.0.2\";");
	expect_file_error("nodetach = yes\n", 1,
	    "a flag is true or false; write: nodetach = true;");
	expect_file_error("debug = off;\n", 1, "write: debug = false;");
	expect_file_error("Endpoint = 10.0.0.2:51820\n", 1,
	    "'Endpoint' is not a zcc option (zcc.conf(5) lists them)");
	/* No guess where the line fits no habit: libconfig's words alone. */
	expect_file_error("keepalive-interval = ten;\n", 1, "syntax error");
	CHECK(strstr(err, "write") == NULL);
	expect_file_error("peer = \"10.0.0.2\" x\n\n", 1, "syntax error");
	CHECK(strstr(err, "write") == NULL);
	expect_file_error("keepalive-interval 5 6\n", 1, "syntax error");
	CHECK(strstr(err, "write") == NULL);
}

static void
test_file_errors(void)
{
	struct zcc_options o;
	char path[64], longtext[70000];

	expect_file_error("peer = \"10.0.0.2\";\nfo = 1;\n", 2,
	    "unknown option 'fo'");
	expect_file_error("peer = 5;", 1, "peer: expected a string");
	expect_file_error("\nlocal = [ \"10.0.0.1\" ];", 2,
	    "local: expected a string");
	expect_file_error("key-file = true;", 1, "key-file: expected a string");
	expect_file_error("ifname = 0;", 1, "ifname: expected a string");
	expect_file_error("port = \"80\";", 1, "port: expected a port number");
	expect_file_error("fwmark = [ 1 ];", 1, "fwmark: expected a firewall mark");
	expect_file_error("encrypt-port = \"80\";", 1,
	    "encrypt-port: expected a port number (1-65535) or a list");
	expect_file_error("encrypt-port = [ \"80\" ];", 1, "encrypt-port: expected");
	expect_file_error("encrypt-port = ( 80,\n \"x\" );", 2,
	    "encrypt-port: expected");
	expect_file_error("encrypt-port = ( 80, ( 443 ) );", 1,
	    "encrypt-port: expected");
	expect_file_error("nodetach = 1;", 1, "nodetach: expected true or false");
	expect_file_error("debug = \"yes\";", 1, "debug: expected true or false");
	expect_file_error("zcc = { peer = \"10.0.0.2\"; };", 1,
	    "unknown option 'zcc'");
	expect_file_error("\npeer = { a = 1; };", 2, "peer: expected a string");
	expect_file_error("\n\nfile = \"/etc/zcc/zcc.conf\";", 3,
	    "file: not allowed in an options file");
	expect_file_error("peer = \"10.0.0.300\";", 1,
	    "peer: '10.0.0.300' is not an IPv4 address");
	expect_file_error("ifname = \"a b\";", 1, "ifname: 'a b'");
	expect_file_error("key-file = \"\";", 1, "key-file: empty path");
	expect_file_error("peer = \"10.0.0.2\";\nport = 1;\n\nport = 2;\n", 4,
	    "duplicate setting");
	expect_file_error("peer = \"10.0.0.2\";\n\n\nport = ;\n", 4, "syntax error");
	expect_file_error("peer = \"10.0.0.2\"\nport 7;\n", 2, "syntax error");
	expect_file_error("peer = \"10.0.0.2\nport = 7;\n", 1,
	    "unterminated string");
	expect_file_error("port = 7;\n# \"\nkey-file = \"/k\\\"\n", 3,
	    "unterminated string");
	expect_file_error("peer = \"not a host\";\n", 1,
	    "peer: 'not a host' is neither an address nor a host name");

	/* The included file would be read by libconfig; it must not be. */
	expect_file_error("peer = \"10.0.0.2\";\n@include \"/etc/passwd\"\n", 2,
	    "@include is not allowed");
	expect_file_error("\n\n \t@include \"/etc/passwd\"\n", 3,
	    "@include is not allowed");
	expect_file_error("port = 1;\r\n@include \"/nonexistent\"\n", 2,
	    "@include is not allowed");

	/* NUL would end libconfig's view of the text early. */
	options_init(&o);
	write_temp(path, "port = 1;\n\0@include \"/etc/passwd\"\n", 34);
	CHECK_EQ(options_parse_file(&o, path, err, sizeof(err)), -1);
	CHECK(has(":2: NUL byte"));
	CHECK(has(path));
	unlink(path);

	memset(longtext, ' ', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	CHECK_EQ(parse_text(&o, longtext, path), -1);
	CHECK(has("file: '"));
	CHECK(has("is larger than"));

	CHECK_EQ(options_parse_file(&o, "/nonexistent/zcc.conf", err,
	    sizeof(err)), -1);
	CHECK(strcmp(err, "file: cannot read '/nonexistent/zcc.conf': "
	    "No such file or directory") == 0);
	CHECK_EQ(options_parse_file(&o, "/", err, sizeof(err)), -1);
	CHECK(has("file: cannot read '/'"));
}

/* An error leaves the options as they were, even half-way through a file. */
static void
test_file_atomic(void)
{
	struct zcc_options o, before;
	char path[64];

	options_init(&o);
	before = o;
	CHECK_EQ(parse_text(&o, "peer = \"10.0.0.2\";\nencrypt-port = [ 80 ];\n"
	    "port = 0;\n", path), -1);
	CHECK(memcmp(&o, &before, sizeof(o)) == 0);
}

/* Command line words and files apply in order; encrypt-port adds up. */
static void
test_precedence(void)
{
	struct zcc_options o;
	char path[64], line[256];

	write_text(path, "peer = \"10.0.0.5\";\nport = 5000;\n"
	    "encrypt-port = [ 443, 22 ];\n");
	snprintf(line, sizeof(line), "peer 10.0.0.2 port 1 encrypt-port 80 "
	    "file %s port 2 encrypt-port 8080", path);
	CHECK_EQ(parse_fresh(&o, line), 0);
	unlink(path);
	CHECK(is_addr(&o.peer, "10.0.0.5"));     /* file after the word */
	CHECK_EQ(o.udp_port, 2);                     /* word after the file */
	CHECK_EQ(o.nports, 4);
	CHECK_EQ(o.ports[0], 80);
	CHECK_EQ(o.ports[1], 443);
	CHECK_EQ(o.ports[2], 22);
	CHECK_EQ(o.ports[3], 8080);

	/* An error inside the file is reported with path:line. */
	write_text(path, "\nbogus = 1;\n");
	snprintf(line, sizeof(line), "peer 10.0.0.2 file %s", path);
	CHECK_EQ(parse_fresh(&o, line), -1);
	unlink(path);
	CHECK(strncmp(err, path, strlen(path)) == 0);
	CHECK(has(":2: unknown option 'bogus'"));
	CHECK_EQ(o.have_peer, 0);

	CHECK_EQ(parse_fresh(&o, "file /nope.conf"), -1);
	CHECK(strcmp(err, "file: cannot read '/nope.conf': "
	    "No such file or directory") == 0);
}

static void
test_fixed_files(void)
{
	struct zcc_options o;

	/* The shipped example must parse and be complete. */
	options_init(&o);
	CHECK_EQ(options_parse_file(&o, ZCC_TEST_DATA "/../../../etc/zcc/zcc.conf",
	    err, sizeof(err)), 0);
	CHECK_EQ(options_check(&o, err, sizeof(err)), 0);
	CHECK(is_addr(&o.peer, "10.0.0.2"));
	CHECK_EQ(o.nports, 2);
	CHECK_EQ(o.ifname[0], '\0');

	options_init(&o);
	CHECK_EQ(options_parse_file(&o, ZCC_TEST_DATA "/options-defaults.conf",
	    err, sizeof(err)), 0);
	CHECK_EQ(o.udp_port, ZCC_DEFAULT_UDP_PORT);
	CHECK_EQ(o.fwmark, ZCC_DEFAULT_FWMARK);
	CHECK_EQ(o.table, ZCC_DEFAULT_TABLE);
	CHECK_EQ(o.priority, ZCC_DEFAULT_PRIORITY);
	CHECK_EQ(o.nports, 1);
	CHECK_EQ(o.nodetach, 1);
	CHECK_EQ(options_check(&o, err, sizeof(err)), 0);
}

/* ---- the link's words and options_load (confdir, options, call) ---- */

static void
test_link_words(void)
{
	struct zcc_options o;
	char path[64];

	CHECK_EQ(parse_fresh(&o, "rekey-interval 2 keepalive-interval 0 "
	    "keepalive-failure 7 persist holdoff 0 maxfail 0 linkname home-1 "
	    "ipparam x ip-up-script /s/up ip-down-script /s/down"), 0);
	CHECK_EQ(o.rekey_interval, 2);
	CHECK_EQ(o.keepalive_interval, 0);
	CHECK_EQ(o.keepalive_failure, 7);
	CHECK_EQ(o.persist, 1);
	CHECK_EQ(o.holdoff, 0);
	CHECK_EQ(o.maxfail, 0);
	CHECK(strcmp(o.linkname, "home-1") == 0);
	CHECK(strcmp(o.ipparam, "x") == 0);
	CHECK(strcmp(o.ip_up, "/s/up") == 0 && strcmp(o.ip_down, "/s/down") == 0);
	CHECK_EQ(parse_words(&o, "nopersist"), 0);
	CHECK_EQ(o.persist, 0);
	CHECK_EQ(o.busy_poll, 0);               /* off unless asked for */
	CHECK_EQ(parse_words(&o, "busy-poll 1000"), 0);
	CHECK_EQ(o.busy_poll, 1000);
	CHECK_EQ(parse_words(&o, "busy-poll 0"), 0);
	CHECK_EQ(o.busy_poll, 0);
	expect_word_error("busy-poll 1001", "busy-poll: '1001'");
	expect_word_error("busy-poll -1", "busy-poll");
	expect_word_error("busy-poll", "busy-poll");
	expect_file_error("\n\nbusy-poll = 5000;\n", 3, "busy-poll");
	CHECK_EQ(parse_text(&o, "busy-poll = 50;\n", path), 0);
	CHECK_EQ(o.busy_poll, 50);
	CHECK_EQ(o.ip_output, 0);               /* the link layer by default */
	CHECK_EQ(parse_words(&o, "ip-output"), 0);
	CHECK_EQ(o.ip_output, 1);
	CHECK_EQ(parse_text(&o, "ip-output = false;\n", path), 0);
	CHECK_EQ(o.ip_output, 0);
	expect_file_error("\nip-output = \"yes\";\n", 2, "ip-output");
	CHECK_EQ(o.floating, 0);                /* a fixed endpoint by default */
	CHECK_EQ(parse_words(&o, "float"), 0);
	CHECK_EQ(o.floating, 1);
	CHECK_EQ(parse_text(&o, "float = false;\n", path), 0);
	CHECK_EQ(o.floating, 0);
	expect_file_error("\n\nfloat = 1;\n", 3, "float");
	expect_word_error("rekey-interval 0", "rekey-interval");
	expect_word_error("rekey-interval 86401", "rekey-interval");
	expect_word_error("keepalive-failure 0", "keepalive-failure");
	expect_word_error("keepalive-interval 3601", "keepalive-interval");
	expect_word_error("linkname ../x", "linkname");
	expect_word_error("linkname .hidden", "linkname");
	expect_word_error("ip-up-script relative/up", "ip-up-script");
	expect_word_error("peer 10.0.0.2 confdir /etc", "confdir: must be the first");
	expect_word_error("call ../etc/passwd", "call");
}

static void
test_compress(void)
{
	struct zcc_options o;

	options_init(&o);
	CHECK_EQ(o.compress, 0);                        /* none by default */
	CHECK_EQ(parse_fresh(&o, "compress lz4"), 0);
	CHECK_EQ(o.compress, 1);
	CHECK_EQ(parse_fresh(&o, "compress lzs"), 0);
	CHECK_EQ(o.compress, 2);
	CHECK_EQ(parse_words(&o, "compress none"), 0);
	CHECK_EQ(o.compress, 0);
	expect_word_error("compress gzip", "compress: 'gzip' is not a codec");
	CHECK_EQ(o.sealing_zccseal2, 0);                /* auto by default */
	CHECK_EQ(parse_fresh(&o, "sealing zccseal2"), 0);
	CHECK_EQ(o.sealing_zccseal2, 1);
	CHECK_EQ(parse_words(&o, "sealing auto"), 0);
	CHECK_EQ(o.sealing_zccseal2, 0);
	expect_word_error("sealing aes", "sealing: 'aes' is not auto or zccseal2");
	expect_word_error("compress", "compress");
	expect_file_error("peer = \"10.0.0.2\";\ncompress = \"LZ4\";\n", 2,
	    "compress: 'LZ4' is not a codec");
}

/* A private CONFDIR holding options and peers/NAME. */
static char confdir[64];

static void
conf_write(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", confdir, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

static int
load_words(struct zcc_options *o, const char *line)
{
	char buf[1024], *argv[MAXWORDS];
	int argc;

	snprintf(buf, sizeof(buf), "confdir %s %s", confdir, line);
	argc = split(buf, argv, MAXWORDS);
	err[0] = '\0';
	return options_load(o, argc, argv, err, sizeof(err));
}

static void
test_load(void)
{
	struct zcc_options o;
	char path[128], want[160];

	snprintf(confdir, sizeof(confdir), "/tmp/zcc-test-confdir.XXXXXX");
	CHECK(mkdtemp(confdir) != NULL);
	snprintf(path, sizeof(path), "%s/peers", confdir);
	CHECK_EQ(mkdir(path, 0700), 0);

	/* No options file: defaults, and the scripts in CONFDIR. */
	CHECK_EQ(load_words(&o, "peer 10.0.0.2"), 0);
	snprintf(want, sizeof(want), "%s/ip-up", confdir);
	CHECK(strcmp(o.ip_up, want) == 0);
	snprintf(want, sizeof(want), "%s/ip-down", confdir);
	CHECK(strcmp(o.ip_down, want) == 0);
	CHECK_EQ(o.rekey_interval, ZCC_DEFAULT_REKEY);

	/* CONFDIR/options first, then the command line, call NAME in place. */
	conf_write("options", "persist = true;\nholdoff = 3;\nencrypt-port = 80;\n");
	conf_write("peers/home", "peer = \"10.0.0.9\";\nholdoff = 4;\n"
	    "encrypt-port = [ 443 ];\n");
	CHECK_EQ(load_words(&o, "holdoff 1 call home"), 0);
	CHECK_EQ(o.persist, 1);
	CHECK_EQ(o.holdoff, 4);                 /* call came after holdoff 1 */
	CHECK_EQ(o.nports, 2);
	CHECK_EQ(o.ports[0], 80);
	CHECK_EQ(o.ports[1], 443);
	CHECK(strcmp(o.call, "home") == 0);
	CHECK_EQ(load_words(&o, "call home holdoff 1 nopersist"), 0);
	CHECK_EQ(o.holdoff, 1);
	CHECK_EQ(o.persist, 0);

	/* Errors name the file and line; o is untouched. */
	conf_write("peers/bad", "peer = \"10.0.0.9\";\nholdoff = -1;\n");
	o.holdoff = 77;
	CHECK_EQ(load_words(&o, "call bad"), -1);
	CHECK(has("peers/bad:2: holdoff"));
	CHECK_EQ(o.holdoff, 77);
	CHECK_EQ(load_words(&o, "call missing"), -1);
	CHECK(has("peers/missing"));
	conf_write("options", "nosuchword = 1;\n");
	CHECK_EQ(load_words(&o, "peer 10.0.0.2"), -1);
	CHECK(has("/options:1: unknown option 'nosuchword'"));
	/* --help and the commands do not read CONFDIR/options. */
	CHECK_EQ(load_words(&o, "--help"), 0);
	CHECK_EQ(o.command, ZCC_CMD_HELP);

	snprintf(path, sizeof(path), "rm -rf %s", confdir);
	CHECK_EQ(system(path), 0);
}

int
main(void)
{
	test_defaults();
	test_link_words();
	test_compress();
	test_load();
	test_every_word();
	test_number_bounds();
	test_ports_accumulate();
	test_later_wins();
	test_argv_errors();
	test_argv_odd_values();
	test_commands();
	test_check();
	test_public_keys();
	test_file_every_setting();
	test_file_numbers();
	test_file_errors();
	test_file_hints();
	test_file_atomic();
	test_precedence();
	test_fixed_files();
	CHECK_DONE();
}
