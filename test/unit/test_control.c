/* SPDX-License-Identifier: ISC */
/*
 * The control module: rendering (every field in text and JSON, escaping,
 * no silent truncation) and a live socket served from an event loop to
 * forked clients (requests, garbage, silent and departing clients, a
 * non-root peer, stale and live sockets, removal on close).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "check.h"
#include "zcc/control.h"
#include "zcc/seal.h"

#define BIG 65536       /* the daemon's reply buffer */

static char tmpdir[] = "/tmp/zcc-test-control-XXXXXX";

/* The link counters in header order, as both outputs name them. */
static const char *const link_names[] = {
	"handshakes", "rekeys", "hs_sent", "hs_received", "hs_bad_mac", "hs_bad",
	"hs_replayed", "hs_rate_limited", "echo_sent", "echo_received",
	"echo_bad", "keepalive_misses", "link_ups", "link_downs",
};
#define NLINK (sizeof(link_names) / sizeof(link_names[0]))

/* Distinct values everywhere, so a field shown in another's place shows. */
static void
fill_status(struct zcc_status *st)
{
	uint64_t link[NLINK];

	memset(st, 0, sizeof(*st));
	snprintf(st->ifname, sizeof(st->ifname), "zcc0");
	snprintf(st->linkname, sizeof(st->linkname), "office");
	st->state = "up";
	addr_parse(&st->local, "10.0.0.1");
	addr_parse(&st->peer, "10.0.0.2");
	snprintf(st->realdev, sizeof(st->realdev), "eth0");
	st->udp_port = 7437;
	st->ports[0] = 80;
	st->ports[1] = 443;
	st->nports = 2;
	st->handshake_age = 12;
	st->up_seconds = 3600;
	st->key_id = 3;
	st->codec = 2;
	st->suite = SEAL_SUITE_AES;
	/* A rotation from a shared key to public keys, mid-overlap. */
	st->nkeys = 2;
	st->keys[0].public_keys = 1;
	strcpy(st->keys[0].pub, "PUB0");
	strcpy(st->keys[0].fp_pub, "FP0");
	strcpy(st->keys[0].peer_pub, "PEER0");
	strcpy(st->keys[0].fp_peer, "FPP0");
	st->keys[1].shared = 1;
	strcpy(st->keys[1].fp_shared, "FPS1");
	st->prev_keys_seconds = 540;
	st->session_keys = 1;
	st->busy_poll = 50;
	st->by_link = 1;
	st->nexthop.state = NEXTHOP_STALE;
	addr_parse(&st->nexthop.addr, "10.0.0.254");
	memcpy(st->nexthop.mac, "\x02\x00\x5e\x10\xab\xcd", 6);
	st->sent_link = 41;
	st->sent_ip = 42;
	st->link_mtu = 1500;
	st->path_mtu = 1280;
	st->pmtu_believed = 43;
	st->pmtu_ignored = 44;
	st->encap_selected = 1;
	st->nat = 1;
	addr_parse(&st->peer_self, "192.168.1.2");
	addr_parse(&st->peer_sends_to, "203.0.113.1");
	st->port_nat = 1;
	st->ports_differ = 1;
	st->floating = 1;
	addr_parse(&st->endpoint, "203.0.113.9");
	st->endpoint_port = 20001;
	st->trouble = DP_STRIPPED | DP_ALTERED;
	for (size_t i = 0; i < NLINK; i++)
		link[i] = 200 + i;
	memcpy(&st->link, link, sizeof(st->link));
	st->dp.sealed = 1001;
	st->dp.opened = 1002;
	st->dp.bytes_sealed = UINT64_C(5000000000123);
	st->dp.bytes_opened = UINT64_C(5000000000456);
	st->dp.sack_trimmed = 7;
	st->dp.encapsulated = 31;
	st->dp.bytes_encapsulated = 32000;
	st->dp.bytes_encap_wire = 33000;
	st->dp.decapsulated = 34;
	st->dp.bytes_decapsulated = 35000;
	for (int d = 0; d < DROP_MAX; d++)
		st->dp.dropped[d] = 100 + (uint64_t)d;
	st->flows[0] = (struct dp_flow){ 80, 40000, 10, 12, 1000, 2000, 3 };
	st->flows[1] = (struct dp_flow){ 443, 40001, 20, 22, 3000, 4000, 0 };
	st->nflows = 2;
}

/* A drop reason's name, never NULL (a missing one fails here, not in strcat). */
static const char *
drop(int d)
{
	const char *name = datapath_drop_name((enum dp_drop)d);

	CHECK(name != NULL);
	return name ? name : "(null)";
}

/* The number after "name" on an indented "name value" line, -1 if none. */
static long long
text_value(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : l) {
		const char *p = l + strspn(l, " ");

		if (p != l && strncmp(p, name, n) == 0 && p[n] == ' ')
			return strtoll(p + n, NULL, 10);
	}
	return -1;
}

static void
check_text(void)
{
	struct zcc_status st;
	char out[BIG];
	const char *row;
	unsigned lp = 0, rp = 0;
	unsigned long long s = 0, o = 0, bs = 0, bo = 0;
	long long idle = -1;
	uint64_t total = 0;

	fill_status(&st);
	CHECK(control_render(&st, 0, out, sizeof(out)) > 0);
	CHECK_EQ(strlen(out), control_render(&st, 0, out, sizeof(out)));
	CHECK(strncmp(out, "interface: zcc0\n", 16) == 0);
	CHECK(strstr(out, "\n  linkname: office\n") != NULL);
	CHECK(strstr(out, "\n  state: up\n") != NULL);
	CHECK(strstr(out, "\n  local: 10.0.0.1\n") != NULL);
	CHECK(strstr(out, "\n  peer: 10.0.0.2\n") != NULL);
	CHECK(strstr(out, "\n  device: eth0\n") != NULL);
	CHECK(strstr(out, "\n  udp port: 7437\n") != NULL);
	CHECK(strstr(out, "\n  ports: 80, 443\n") != NULL);
	CHECK(strstr(out, "\n  latest handshake: 12 seconds ago\n") != NULL);
	CHECK(strstr(out, "\n  up time: 3600 seconds\n") != NULL);
	CHECK(strstr(out, "\n  key id: 3\n") != NULL);
	CHECK(strstr(out, "\n  busy-poll: 50 us\n") != NULL);
	CHECK(strstr(out, "\n  send: link layer, next hop 10.0.0.254 "
	    "02:00:5e:10:ab:cd\n  sent: 41 by link layer, 42 by IP output\n"));
	CHECK(strstr(out, "\n  path mtu: 1280 (learnt from ICMP; the link's is "
	    "1500), ICMP too big: 43 believed, 44 ignored\n"
	    "  selected flows: encapsulated\n"
	    "  ports: the peer selects others: every selected flow blocked\n"
	    "  endpoint: 203.0.113.9 port 20001 (float)\n"
	    "  nat: the peer is 192.168.1.2 and sends to 203.0.113.1; ports "
	    "rewritten\n"
	    "  path trouble: option stripped option altered\n"));
	CHECK(strstr(out, "\n  sealed: 1001 segments, 5000000000123 bytes\n") != NULL);
	CHECK(strstr(out, "\n  opened: 1002 segments, 5000000000456 bytes\n") != NULL);
	CHECK(strstr(out, "\n  sack_trimmed: 7 segments\n") != NULL);
	for (int d = 0; d < DROP_MAX; d++) {
		CHECK_EQ(text_value(out, drop(d)), 100 + d);
		total += st.dp.dropped[d];
	}
	CHECK_EQ(text_value(out, "dropped:"), total);
	for (size_t i = 0; i < NLINK; i++)
		CHECK_EQ(text_value(out, link_names[i]), 200 + (long long)i);

	row = strstr(out, "bytes_opened");
	CHECK(row != NULL);
	row = row ? strchr(row, '\n') : NULL;
	CHECK(row && sscanf(row, "%u %u %llu %llu %llu %llu %llds", &lp, &rp, &s,
	    &o, &bs, &bo, &idle) == 7);
	CHECK(lp == 80 && rp == 40000 && s == 10 && o == 12 && bs == 1000 &&
	    bo == 2000 && idle == 3);
	row = row ? strchr(row + 1, '\n') : NULL;
	CHECK(row && sscanf(row, "%u %u %llu %llu %llu %llu %llds", &lp, &rp, &s,
	    &o, &bs, &bo, &idle) == 7);
	CHECK(lp == 443 && rp == 40001 && s == 20 && o == 22 && bs == 3000 &&
	    bo == 4000 && idle == 0);

	/* The other forms: never, not up, singular, no linkname, no flows. */
	st.handshake_age = -1;
	st.up_seconds = -1;
	st.linkname[0] = '\0';
	st.nflows = 0;
	CHECK(control_render(&st, 0, out, sizeof(out)) > 0);
	CHECK(strstr(out, "\n  latest handshake: never\n") != NULL);
	CHECK(strstr(out, "\n  up time: not up\n") != NULL);
	CHECK(strstr(out, "linkname") == NULL);
	CHECK(strstr(out, "\n  flows: none\n") != NULL);
	/* No next hop: IP output, and why; ip-output: just IP output. */
	st.nexthop.state = NEXTHOP_NONE;
	CHECK(control_render(&st, 0, out, sizeof(out)) > 0);
	CHECK(strstr(out, "\n  send: IP output, next hop not resolved\n"));
	st.by_link = 0;
	CHECK(control_render(&st, 0, out, sizeof(out)) > 0);
	CHECK(strstr(out, "\n  send: IP output\n"));
	st.handshake_age = 1;
	st.up_seconds = 1;
	CHECK(control_render(&st, 0, out, sizeof(out)) > 0);
	CHECK(strstr(out, "\n  latest handshake: 1 second ago\n") != NULL);
	CHECK(strstr(out, "\n  up time: 1 second\n") != NULL);
}

/* The short view: a healthy link in seven lines, exactly. */
static void
check_short(void)
{
	struct zcc_status st;
	char out[BIG];

	fill_status(&st);
	st.encap_selected = st.nat = st.ports_differ = 0;
	st.trouble = 0;
	memset(st.dp.dropped, 0, sizeof(st.dp.dropped));
	st.dp.dropped[DROP_REPLAYED] = 4;
	st.dp.dropped[DROP_STALE] = 8;
	st.up_seconds = 3725;
	st.handshake_age = 65;
	st.dp.bytes_opened = 1536;
	st.dp.bytes_decapsulated = 0;
	st.dp.bytes_sealed = UINT64_C(3) << 30;
	st.dp.bytes_encapsulated = 0;
	CHECK(control_render(&st, CONTROL_VIEW_SHORT, out, sizeof(out)) > 0);
	CHECK_STR(out, "interface: zcc0 (office)\n"
	    "  state: up for 1 hour, 2 minutes, 5 seconds\n"
	    "  peer: 10.0.0.2, local 10.0.0.1 on eth0\n"
	    "  ports: 80, 443\n"
	    "  latest handshake: 1 minute, 5 seconds ago\n"
	    "  transfer: 1.50 KiB received, 3.00 GiB sent\n"
	    "  dropped: replayed 4, stale 8\n");

	/* Not up, never, nothing moved, nothing dropped, a VPN link. */
	st.state = "handshaking";
	st.up_seconds = st.handshake_age = -1;
	st.dp.bytes_opened = st.dp.bytes_sealed = 0;
	memset(st.dp.dropped, 0, sizeof(st.dp.dropped));
	st.linkname[0] = '\0';
	st.nports = 0;
	CHECK(control_render(&st, CONTROL_VIEW_SHORT, out, sizeof(out)) > 0);
	CHECK_STR(out, "interface: zcc0\n"
	    "  state: handshaking\n"
	    "  peer: 10.0.0.2, local 10.0.0.1 on eth0\n"
	    "  ports: none (a VPN link)\n"
	    "  latest handshake: never\n"
	    "  transfer: 0 B received, 0 B sent\n");

	/* Units: all that are not zero; encapsulated bytes count too. */
	st.state = "up";
	st.up_seconds = 90061;
	st.handshake_age = 0;
	st.dp.bytes_decapsulated = 1023;
	st.dp.bytes_encapsulated = UINT64_C(5) << 40;
	CHECK(control_render(&st, CONTROL_VIEW_SHORT, out, sizeof(out)) > 0);
	CHECK(strstr(out, "\n  state: up for 1 day, 1 hour, 1 minute, 1 second\n"));
	CHECK(strstr(out, "\n  latest handshake: 0 seconds ago\n"));
	CHECK(strstr(out, "\n  transfer: 1023 B received, 5.00 TiB sent\n"));
	st.up_seconds = 86400;
	CHECK(control_render(&st, CONTROL_VIEW_SHORT, out, sizeof(out)) > 0);
	CHECK(strstr(out, "\n  state: up for 1 day\n"));

	/* What needs the administrator is shown; every drop reason by name. */
	fill_status(&st);
	CHECK(control_render(&st, CONTROL_VIEW_SHORT, out, sizeof(out)) > 0);
	CHECK(strstr(out, "\n  ports: the peer selects others: every selected "
	    "flow blocked\n  selected flows: encapsulated\n"
	    "  nat: the peer is 192.168.1.2 and sends to 203.0.113.1; ports "
	    "rewritten\n  path trouble: option stripped option altered\n"));
	for (int d = 0; d < DROP_MAX; d++) {
		char want[64];

		snprintf(want, sizeof(want), "%s%s %d", d ? ", " : "dropped: ",
		    drop(d), 100 + d);
		CHECK(strstr(out, want) != NULL);
	}
}

/*
 * Parses the JSON with Python's strict parser and checks values. mode
 * "parse": nothing more; "doc=MANPAGE": every key, at any depth, is a word
 * MANPAGE sets in bold; "full": the status of fill_status; "escape": the
 * linkname of check_escaping; "none": never, not up, no linkname, no
 * next hop.
 */
static const char json_checker[] =
    "import json, sys\n"
    "d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
    "mode, nlink, drops = sys.argv[2], int(sys.argv[3]), sys.argv[4:]\n"
    "def eq(a, b, what):\n"
    "    if a != b:\n"
    "        print('json: %s: %r, expected %r' % (what, a, b))\n"
    "        sys.exit(1)\n"
    "if mode == 'parse':\n"
    "    sys.exit(0)\n"
    "if mode.startswith('doc='):\n"
    "    import re\n"
    "    bold = set()\n"
    "    for line in open(mode[4:], encoding='utf-8'):\n"
    "        if re.match(r'\\.(B|BR|RB)\\s', line):\n"
    "            bold.update(re.split(r'[\\s\"(),]+', line[3:].replace('\\\\-', '-')))\n"
    "    keys = set()\n"
    "    def walk(v):\n"
    "        if isinstance(v, dict):\n"
    "            keys.update(v)\n"
    "            for x in v.values(): walk(x)\n"
    "        elif isinstance(v, list):\n"
    "            for x in v: walk(x)\n"
    "    walk(d)\n"
    "    eq(sorted(keys - bold), [], 'keys the man page does not name')\n"
    "    sys.exit(0)\n"
    "if mode == 'escape':\n"
    "    eq(d['linkname'], 'a\"b\\\\c\\n\\x01\\x7f\\u00e9\\ufffd\\t z', 'linkname')\n"
    "    sys.exit(0)\n"
    "if mode == 'none':\n"
    "    eq([d['handshake_age'], d['up_seconds'], d['linkname'], d['next_hop']],\n"
    "        [None] * 4, 'nulls')\n"
    "    eq(d['send'], 'ip', 'send')\n"
    "    sys.exit(0)\n"
    "eq(list(d), ['ifname', 'pid', 'engine_pid', 'version', 'linkname',\n"
    "    'state', 'local', 'peer', 'device',\n"
    "    'udp_port', 'ports', 'handshake_age', 'up_seconds', 'sealing', 'compress',\n"
    "    'busy_poll_us', 'keys', 'previous_keys_seconds', 'session_keys',\n"
    "    'send', 'next_hop', 'sent_link', 'sent_ip',\n"
    "    'link_mtu', 'path_mtu', 'pmtu_believed', 'pmtu_ignored',\n"
    "    'endpoint', 'float', 'ports_differ', 'nat', 'carried', 'path_trouble', 'key_id', 'handshakes', 'rekeys', 'keepalive_misses', 'link', 'sealed',\n"
    "    'opened', 'bytes_sealed', 'bytes_opened', 'sack_trimmed',\n"
    "    'encapsulated', 'bytes_encapsulated', 'bytes_encap_wire',\n"
    "    'decapsulated', 'bytes_decapsulated', 'dropped', 'flows'], 'keys')\n"
    "eq(d['sealing'], 'zccseal3 (AES-256-CTR)', 'sealing')\n"
    "eq(d['compress'], 'lzs', 'compress')\n"
    "eq(d['busy_poll_us'], 50, 'busy_poll_us')\n"
    "eq(d['keys'], [{'public_key': 'PUB0', 'fingerprint': 'FP0',\n"
    "    'peer_public_key': 'PEER0', 'peer_fingerprint': 'FPP0',\n"
    "    'shared_fingerprint': None}, {'public_key': None, 'fingerprint': None,\n"
    "    'peer_public_key': None, 'peer_fingerprint': None,\n"
    "    'shared_fingerprint': 'FPS1'}], 'keys')\n"
    "eq([d['previous_keys_seconds'], d['session_keys']], [540, 1], 'overlap')\n"
    "eq([d['send'], d['next_hop'], d['sent_link'], d['sent_ip']],\n"
    "    ['link', {'addr': '10.0.0.254', 'mac': '02:00:5e:10:ab:cd'}, 41, 42], 'send')\n"
    "eq([d['link_mtu'], d['path_mtu'], d['pmtu_believed'], d['pmtu_ignored']],\n"
    "    [1500, 1280, 43, 44], 'path mtu')\n"
    "eq(d['nat'], {'peer_address': '192.168.1.2', 'peer_sends_to': '203.0.113.1',\n"
    "    'ports_rewritten': True}, 'nat')\n"
    "eq([d['endpoint'], d['float']], [{'addr': '203.0.113.9', 'port': 20001}, True], 'endpoint')\n"
    "eq(d['ports_differ'], True, 'ports_differ')\n"
    "eq([d['carried'], d['path_trouble']],\n"
    "    ['encapsulated', ['option stripped', 'option altered']], 'carried')\n"
    "eq([d['encapsulated'], d['bytes_encapsulated'], d['bytes_encap_wire'],\n"
    "    d['decapsulated'], d['bytes_decapsulated']],\n"
    "    [31, 32000, 33000, 34, 35000], 'encapsulation')\n"
    "eq([d['ifname'], d['linkname'], d['state'], d['local'], d['peer'], d['device']],\n"
    "    ['zcc0', 'office', 'up', '10.0.0.1', '10.0.0.2', 'eth0'], 'strings')\n"
    "eq([d['udp_port'], d['ports'], d['handshake_age'], d['up_seconds'], d['key_id']],\n"
    "    [7437, [80, 443], 12, 3600, 3], 'numbers')\n"
    "eq([d['handshakes'], d['rekeys'], d['keepalive_misses']], [200, 201, 211], 'link summary')\n"
    "eq(list(d['link'].values()), list(range(200, 200 + nlink)), 'link values')\n"
    "eq(len(d['link']), nlink, 'link fields')\n"
    "eq([d['sealed'], d['opened'], d['bytes_sealed'], d['bytes_opened'], d['sack_trimmed']],\n"
    "    [1001, 1002, 5000000000123, 5000000000456, 7], 'data path')\n"
    "eq(d['dropped'], {n: 100 + i for i, n in enumerate(drops)}, 'dropped')\n"
    "eq(d['flows'], [\n"
    "    {'lport': 80, 'rport': 40000, 'sealed': 10, 'opened': 12,\n"
    "     'bytes_sealed': 1000, 'bytes_opened': 2000, 'idle': 3},\n"
    "    {'lport': 443, 'rport': 40001, 'sealed': 20, 'opened': 22,\n"
    "     'bytes_sealed': 3000, 'bytes_opened': 4000, 'idle': 0}], 'flows')\n";

/*
 * 1 when Python parses json (n bytes) and finds what mode expects; quiet
 * for the checks that expect a no.
 */
static int
json_check(const char *json, size_t n, const char *mode, int quiet)
{
	char script[300], data[300], cmd[2048];
	FILE *f;
	int status;

	snprintf(script, sizeof(script), "%s/check.py", tmpdir);
	snprintf(data, sizeof(data), "%s/reply.json", tmpdir);
	f = fopen(script, "w");
	CHECK(f && fputs(json_checker, f) >= 0 && fclose(f) == 0);
	f = fopen(data, "w");
	CHECK(f && fwrite(json, 1, n, f) == n && fclose(f) == 0);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s %s %zu", script, data,
	    mode, NLINK);
	for (int d = 0; d < DROP_MAX; d++) {
		strcat(cmd, " ");
		strcat(cmd, drop(d));
	}
	if (quiet)
		strcat(cmd, " >/dev/null 2>&1");
	status = system(cmd);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int
json_ok(const char *json, size_t n, const char *mode)
{
	return json_check(json, n, mode, 0);
}

static void
check_json(void)
{
	struct zcc_status st;
	char out[BIG];
	int n;

	fill_status(&st);
	n = control_render(&st, 1, out, sizeof(out));
	CHECK(n > 0);
	CHECK_EQ(strlen(out), n);
	CHECK(n > 0 && out[n - 1] == '\n' && strchr(out, '\n') == out + n - 1);
	CHECK(json_ok(out, (size_t)n, "full"));
	CHECK(json_ok(out, (size_t)n, "doc=" ZCC_SOURCE_DIR "/docs/zccctl.8"));
	CHECK(strstr(out, "\"bytes_sealed\":5000000000123,") != NULL);
	CHECK(strstr(out, "\"dropped\":{\"malformed\":100,") != NULL);

	st.handshake_age = -1;
	st.up_seconds = -1;
	st.linkname[0] = '\0';
	st.nexthop.state = NEXTHOP_NONE;
	n = control_render(&st, 1, out, sizeof(out));
	CHECK(n > 0 && json_ok(out, (size_t)n, "none"));
	CHECK(strstr(out, "\"handshake_age\":null,\"up_seconds\":null,") != NULL);

	/* The oracle can say no: to a broken object, to other values. */
	CHECK(!json_check("{\"ifname\":\"zcc0\",}", 18, "parse", 1));
	CHECK(!json_check(out, (size_t)n, "full", 1));
}

static void
check_escaping(void)
{
	struct zcc_status st;
	char out[BIG];
	int n;

	fill_status(&st);
	/* quote, backslash, newline, ^A, DEL, é, a stray byte, tab */
	snprintf(st.linkname, sizeof(st.linkname), "a\"b\\c\n\x01\x7f\xc3\xa9\xff\t z");
	n = control_render(&st, 1, out, sizeof(out));
	CHECK(n > 0 && json_ok(out, (size_t)n, "escape"));
	CHECK(strstr(out, "\"linkname\":\"a\\\"b\\\\c\\n\\u0001\\u007f\xc3\xa9"
	    "\\ufffd\\t z\",") != NULL);

	/*
	 * Not UTF-8: overlong '/' in 2 and 3 bytes, a surrogate, above
	 * U+10FFFF, a cut sequence; valid 3 and 4 byte ones kept.
	 */
	snprintf(st.linkname, sizeof(st.linkname), "\xc0\xaf|\xe0\x80\xaf|"
	    "\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x82\xac\xf0\x9f\x98\x80|\xe2\x82");
	n = control_render(&st, 1, out, sizeof(out));
	CHECK(n > 0 && json_ok(out, (size_t)n, "parse"));
	CHECK(strstr(out, "\"linkname\":\"" "\\ufffd\\ufffd|" "\\ufffd\\ufffd\\ufffd|"
	    "\\ufffd\\ufffd\\ufffd|" "\\ufffd\\ufffd\\ufffd\\ufffd|"
	    "\xe2\x82\xac\xf0\x9f\x98\x80|" "\\ufffd\\ufffd\",") != NULL);

	/* Text: nothing a terminal would act on. */
	snprintf(st.linkname, sizeof(st.linkname), "a\"b\\c\n\x01\x1b[2J\xff");
	snprintf(st.realdev, sizeof(st.realdev), "e\th");
	n = control_render(&st, 0, out, sizeof(out));
	CHECK(n > 0);
	CHECK(strstr(out, "\n  linkname: a\"b\\\\c\\x0a\\x01\\x1b[2J\\xff\n") != NULL);
	CHECK(strstr(out, "\n  device: e\\x09h\n") != NULL);
	for (int i = 0; i < n; i++)
		CHECK(out[i] == '\n' || (out[i] >= 0x20 && out[i] < 0x7f));
}

/* Every buffer one byte short fails whole; the exact size succeeds. */
static void
check_sizes(void)
{
	struct zcc_status *st = calloc(1, sizeof(*st));
	char full[BIG], *buf;
	int n, bad = 0;

	CHECK(st != NULL);
	if (st == NULL)
		return;
	for (int view = 0; view <= CONTROL_VIEW_SHORT; view++) {
		fill_status(st);
		n = control_render(st, view, full, sizeof(full));
		CHECK(n > 0);
		for (int len = 0; len <= n; len++) {
			/* Exactly len bytes, so ASan sees any write past them. */
			buf = malloc(len ? (size_t)len : 1);
			buf[0] = 'x';
			if (control_render(st, view, buf, (size_t)len) != -1 ||
			    buf[0] != (len ? '\0' : 'x'))
				bad++;
			free(buf);
		}
		CHECK_EQ(bad, 0);
		buf = malloc((size_t)n + 1);
		CHECK_EQ(control_render(st, view, buf, (size_t)n + 1), n);
		CHECK(memcmp(buf, full, (size_t)n + 1) == 0);
		free(buf);
	}

	/* The largest status fits the daemon's buffer; counts are clamped. */
	memset(st, 0xff, sizeof(*st));
	st->state = "handshaking";
	memset(st->linkname, 0x01, sizeof(st->linkname) - 1);
	st->linkname[sizeof(st->linkname) - 1] = '\0';
	memset(st->ifname, 0x01, sizeof(st->ifname) - 1);
	st->ifname[sizeof(st->ifname) - 1] = '\0';
	memset(st->realdev, 0x01, sizeof(st->realdev) - 1);
	st->realdev[sizeof(st->realdev) - 1] = '\0';
	st->nflows = 1000;
	st->nports = 1000;
	for (int json = 0; json <= 1; json++) {
		n = control_render(st, json, full, sizeof(full));
		CHECK(n > 0);
		if (json)
			CHECK(n > 0 && json_ok(full, (size_t)n, "parse"));
	}
	n = 0;
	for (const char *p = full; (p = strstr(p, "\"lport\"")) != NULL; p++)
		n++;
	CHECK_EQ(n, CONTROL_MAX_FLOWS);
	free(st);
}

static void
check_path(void)
{
	char path[256], want[256];
	struct stat sb;

	CHECK(stat("/proc/self/ns/net", &sb) == 0);
	snprintf(want, sizeof(want), "/run/zcc/zcc0.netns-%lu.sock",
	    (unsigned long)sb.st_ino);
	CHECK_EQ(control_socket_path("zcc0", path, sizeof(path)), 0);
	CHECK(strcmp(path, want) == 0);
	CHECK_EQ(control_socket_path("a/b", path, sizeof(path)), -1);
	CHECK_EQ(control_socket_path("", path, sizeof(path)), -1);
	CHECK_EQ(control_socket_path("zcc0", path, strlen(want)), -1);
	memset(want, 'a', 120);
	want[120] = '\0';   /* longer than sun_path can hold */
	CHECK_EQ(control_socket_path(want, path, sizeof(path)), -1);
}

/* ---- the live socket ---- */

static char ifname[IFNAMSIZ];
static char sockpath[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
static struct event_base *base;

struct served {
	int calls;
	int not_zeroed;
	int stops, reloads;
};

static int
command_fn(void *arg, enum control_command cmd)
{
	struct served *s = arg;

	if (cmd == CONTROL_STOP)
		s->stops++;
	else
		s->reloads++;
	return 0;
}

static void
status_fn(void *arg, struct zcc_status *st)
{
	static const struct zcc_status zero;
	struct served *s = arg;

	s->calls++;
	if (memcmp(st, &zero, sizeof(zero)) != 0)
		s->not_zeroed++;
	fill_status(st);
}

enum client_mode {
	C_ASK,          /* send, read the reply */
	C_ASK_SHUT,     /* send, shut the write side (no newline), read */
	C_SILENT,       /* send nothing, read */
	C_LEAVE,        /* send and close at once */
	C_NOBODY,       /* as uid 65534 (with CAP_DAC_OVERRIDE to reach the socket) */
};

/* uid 65534 that can still open the root-only socket, to meet SO_PEERCRED. */
static int
become_nobody(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { { 0 } };

	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1 ||
	    setresgid(65534, 65534, 65534) == -1 ||
	    setresuid(65534, 65534, 65534) == -1)
		return -1;
	data[0].effective = data[0].permitted = 1u << CAP_DAC_OVERRIDE;
	return (int)syscall(SYS_capset, &hdr, data);
}

/* In the child: talk to the server, report "R" (connected) and the reply on out. */
static void
client_main(enum client_mode mode, const char *req, int out)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct pollfd pfd;
	char buf[4096];
	ssize_t n;
	int fd;

	if (mode == C_NOBODY && become_nobody() == -1) {
		dprintf(out, "become_nobody: %s", strerror(errno));
		_exit(1);
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sockpath);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		dprintf(out, "connect: %s", strerror(errno));
		_exit(1);
	}
	if (write(out, "R", 1) != 1)
		_exit(1);
	if (mode != C_SILENT)
		send(fd, req, strlen(req), MSG_NOSIGNAL);
	if (mode == C_LEAVE)
		_exit(0);
	if (mode == C_ASK_SHUT)
		shutdown(fd, SHUT_WR);
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (poll(&pfd, 1, 10000) == 1 && (n = read(fd, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			_exit(1);
	_exit(0);
}

/* One client as the parent sees it: its report, and when it ended. */
struct waiter {
	pid_t pid;
	int fd;
	struct event *ev;
	char buf[BIG];
	size_t len;
	int done;
	double secs;    /* from start to the end of the report */
};

static struct timespec t0;
static int pending;

static double
since_t0(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9;
}

static void
on_report(evutil_socket_t fd, short what, void *arg)
{
	struct waiter *w = arg;
	ssize_t n;

	(void)what;
	n = read(fd, w->buf + w->len, sizeof(w->buf) - 1 - w->len);
	if (n > 0) {
		w->len += (size_t)n;
		return;
	}
	w->buf[w->len] = '\0';
	w->done = 1;
	w->secs = since_t0();
	event_del(w->ev);
	if (--pending == 0)
		event_base_loopbreak(base);
}

static void
on_too_long(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopbreak(base);
}

static void
client_start(struct waiter *w, enum client_mode mode, const char *req)
{
	int p[2];

	memset(w, 0, sizeof(*w));
	CHECK(pipe(p) == 0);
	w->pid = fork();
	CHECK(w->pid != -1);
	if (w->pid == 0) {
		close(p[0]);
		client_main(mode, req, p[1]);
	}
	close(p[1]);
	w->fd = p[0];
	w->ev = event_new(base, w->fd, EV_READ | EV_PERSIST, on_report, w);
	CHECK(w->ev != NULL && event_add(w->ev, NULL) == 0);
	pending++;
}

/* Run the daemon's loop until every client has ended (at most 8 s). */
static void
serve(struct waiter *w, size_t n)
{
	struct timeval limit = { 8, 0 };
	struct event *timer = evtimer_new(base, on_too_long, NULL);
	int status;

	CHECK(timer != NULL && evtimer_add(timer, &limit) == 0);
	event_base_dispatch(base);
	event_free(timer);
	for (size_t i = 0; i < n; i++) {
		CHECK(w[i].done);
		CHECK(waitpid(w[i].pid, &status, 0) == w[i].pid);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		event_free(w[i].ev);
		close(w[i].fd);
	}
	pending = 0;
}

/* The reply after the "R" that says the client connected. */
static const char *
reply_of(const struct waiter *w)
{
	if (w->len == 0 || w->buf[0] != 'R') {
		fprintf(stderr, "client: %s\n", w->buf);
		return "(client failed)";
	}
	return w->buf + 1;
}

/* One client alone; returns its reply (in w). */
static const char *
ask(struct waiter *w, enum client_mode mode, const char *req)
{
	clock_gettime(CLOCK_MONOTONIC, &t0);
	client_start(w, mode, req);
	serve(w, 1);
	return reply_of(w);
}

static struct waiter w[3];

static void
check_requests(struct served *s)
{
	const char *r;

	r = ask(&w[0], C_ASK, "show json\n");
	CHECK(json_ok(r, strlen(r), "full"));
	CHECK_EQ(s->calls, 1);
	r = ask(&w[0], C_ASK, "show\n");
	CHECK(strncmp(r, "interface: zcc0\n", 16) == 0);
	CHECK(strstr(r, "\n  key id: 3\n") != NULL);
	CHECK_EQ(s->calls, 2);
	CHECK_EQ(s->not_zeroed, 0);

	r = ask(&w[0], C_ASK, "hello\n");
	CHECK(strcmp(r, "error: unknown request\n") == 0);
	r = ask(&w[0], C_ASK, "show  json\n");
	CHECK(strcmp(r, "error: unknown request\n") == 0);
	r = ask(&w[0], C_ASK, "show\r\n");
	CHECK(strcmp(r, "error: unknown request\n") == 0);
	/* 100 bytes, no newline: answered at 64, not waited on. */
	r = ask(&w[0], C_ASK, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	CHECK(strcmp(r, "error: unknown request\n") == 0);
	CHECK(w[0].secs < 1.0);
	/* A line must end: "show" then end of input is not a request. */
	r = ask(&w[0], C_ASK_SHUT, "show");
	CHECK(strcmp(r, "error: unknown request\n") == 0);
	CHECK(w[0].secs < 1.0);
	CHECK_EQ(s->calls, 2);

	/* stop and reload are passed on, once each, and answered. */
	r = ask(&w[0], C_ASK, "stop\n");
	CHECK(strcmp(r, "ok: stopping\n") == 0);
	r = ask(&w[0], C_ASK, "reload\n");
	CHECK(strcmp(r, "ok: reloading\n") == 0);
	r = ask(&w[0], C_ASK, "stop now\n");
	CHECK(strcmp(r, "error: unknown request\n") == 0);
	CHECK_EQ(s->stops, 1);
	CHECK_EQ(s->reloads, 1);
}

static void
check_clients(struct served *s)
{
	const char *r;

	/*
	 * A silent client is first in the queue; the one after it is answered
	 * at once, and the silent one is dropped at its deadline.
	 */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	client_start(&w[0], C_SILENT, "");
	CHECK(read(w[0].fd, w[0].buf, 1) == 1 && w[0].buf[0] == 'R');
	w[0].len = 1;
	client_start(&w[1], C_ASK, "show json\n");
	serve(w, 2);
	r = reply_of(&w[1]);
	CHECK(json_ok(r, strlen(r), "full"));
	CHECK(w[1].secs < 1.0);
	CHECK(strcmp(reply_of(&w[0]), "") == 0);
	CHECK(w[0].secs > 1.5 && w[0].secs < 5.0);

	/* A client that leaves before its reply must not SIGPIPE us. */
	r = ask(&w[0], C_LEAVE, "show\n");
	r = ask(&w[0], C_ASK, "show\n");
	CHECK(strncmp(r, "interface: zcc0\n", 16) == 0);

	/* Not root: closed without a word, even for a valid request. */
	s->calls = 0;
	r = ask(&w[0], C_NOBODY, "show\n");
	CHECK(strcmp(r, "") == 0);
	CHECK(w[0].secs < 1.0);
	CHECK_EQ(s->calls, 0);
}

/* A socket file with nobody behind it, as a killed daemon leaves. */
static void
make_stale(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	CHECK(fd != -1 && bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	close(fd);
}

/* True when dir holds nothing but . and .. */
static int
dir_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int empty = 1;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

static void
check_live(void)
{
	struct served s = { 0, 0, 0, 0 };
	struct control *c;
	struct stat sb;
	int had_dir = stat("/run/zcc", &sb) == 0;
	int fd;

	snprintf(ifname, sizeof(ifname), "zcct%ld", (long)getpid() % 10000000);
	CHECK_EQ(control_socket_path(ifname, sockpath, sizeof(sockpath)), 0);
	base = event_base_new();
	CHECK(base != NULL);

	/* Something that is not a socket is left alone. */
	CHECK(mkdir("/run/zcc", 0700) == 0 || errno == EEXIST);
	fd = open(sockpath, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd != -1);
	close(fd);
	CHECK(control_bind(ifname) == -1);
	CHECK(lstat(sockpath, &sb) == 0 && S_ISREG(sb.st_mode));
	unlink(sockpath);

	/* A stale socket is replaced; a live one refuses a second daemon. */
	make_stale(sockpath);
	fd = control_bind(ifname);
	CHECK(fd != -1);
	c = control_open(base, fd, status_fn, command_fn, &s);
	CHECK(c != NULL);
	CHECK(control_bind(ifname) == -1);
	CHECK(lstat(sockpath, &sb) == 0 && S_ISSOCK(sb.st_mode));
	CHECK_EQ(sb.st_mode & 07777, 0600);
	CHECK_EQ(sb.st_uid, 0);
	if (c != NULL) {
		check_requests(&s);
		check_clients(&s);
	}
	control_close(c);
	close(fd);
	control_unbind(ifname);
	CHECK(lstat(sockpath, &sb) == -1 && errno == ENOENT);
	/*
	 * The directory we made goes with our socket, unless another daemon
	 * (a test running beside this one) has put its own there since.
	 */
	if (!had_dir && stat("/run/zcc", &sb) == 0)
		CHECK(!dir_empty("/run/zcc"));
	control_close(NULL);
	event_base_free(base);
}

/* session-id: exact words, ports 1-65535, an address of either family. */
static void
check_sid_requests(void)
{
	static const char *const bad[] = {
		"session-id 0 10.0.0.2 80", "session-id 65536 10.0.0.2 80",
		"session-id 05001 10.0.0.2 80", "session-id 80 10.0.0.2",
		"session-id  80 10.0.0.2 80", "session-id 80 10.0.0.2 80 ",
		"session-id 80 10.0.0.2 80 81", "session-id json 80 10.0.0.2",
		"session-id xml 80 10.0.0.2 80", "session-id 80 10.0.0.256 80",
		"session-id 80 host 80", "session-id 8a 10.0.0.2 80",
		"session-ids 80 10.0.0.2 80", "session-id -1 10.0.0.2 80",
	};
	struct control_sid_req q;
	struct sid_result r;
	char buf[512];
	int n;

	CHECK_EQ(control_parse_request("session-id 5001 10.0.0.2 40000\n", 31,
	    0), CONTROL_REQ_SESSION_ID);
	CHECK_EQ(control_parse_request("session-id json 1 fd00::2 65535\n", 32,
	    0), CONTROL_REQ_SESSION_ID);
	CHECK_EQ(control_parse_request("session-id 0 10.0.0.2 40000\n", 28, 0),
	    CONTROL_REQ_UNKNOWN);
	CHECK_EQ(control_parse_sid("session-id json 1 fd00::2 65535", 31, &q), 0);
	CHECK(q.json == 1 && q.lport == 1 && q.rport == 65535 &&
	    q.peer.af == AF_INET6);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (control_parse_sid(bad[i], strlen(bad[i]), &q) != -1)
			fprintf(stderr, "taken: '%s'\n", bad[i]);
		CHECK_EQ(control_parse_sid(bad[i], strlen(bad[i]), &q), -1);
	}
	/* Replies: the hex alone, or one JSON object; errors say what. */
	CHECK_EQ(control_parse_sid("session-id 5001 10.0.0.2 40000", 30, &q), 0);
	memset(&r, 0xab, sizeof(r));
	r.we_are_client = 0;
	r.conn.client_isn = 7;
	r.conn.server_isn = 4000000000u;
	n = control_render_sid(&q, 0, &r, "zcc0", buf, sizeof(buf));
	CHECK_EQ(n, 65);
	CHECK(n == 65 && strspn(buf, "ab") == 64 && buf[64] == '\n');
	q.json = 1;
	n = control_render_sid(&q, 0, &r, "zcc0", buf, sizeof(buf));
	CHECK(n > 0 && strstr(buf, "\"role\":\"server\",\"client_isn\":7,"
	    "\"server_isn\":4000000000}") != NULL);
	CHECK(n > 0 && strstr(buf, "\"peer\":\"10.0.0.2\",\"peer_port\":40000")
	    != NULL);
	CHECK(control_render_sid(&q, 0, &r, "zcc0", buf, 40) == -1);
	CHECK(control_render_sid(&q, -1, &r, "zcc0", buf, sizeof(buf)) > 0 &&
	    strncmp(buf, "error: no opening of 5001-40000 seen", 36) == 0);
	CHECK(control_render_sid(&q, -2, &r, "zcc0", buf, sizeof(buf)) > 0 &&
	    strstr(buf, "not answered yet") != NULL);
	CHECK(control_render_sid(&q, CONTROL_SID_OTHER_PEER, &r, "zcc0", buf,
	    sizeof(buf)) > 0 && strcmp(buf, "error: not this link's peer\n") == 0);
}

/* The request parser: whole lines only, exact words, bounded. */
static void
check_request_parse(void)
{
	char big[CONTROL_REQ_MAX];

#define REQ(s, ended) control_parse_request(s, sizeof(s) - 1, ended)
	CHECK_EQ(REQ("show\n", 0), CONTROL_REQ_SHOW);
	CHECK_EQ(REQ("show json\n", 0), CONTROL_REQ_SHOW_JSON);
	CHECK_EQ(REQ("show short\n", 0), CONTROL_REQ_SHOW_SHORT);
	check_sid_requests();
	CHECK_EQ(REQ("show shorter\n", 0), CONTROL_REQ_UNKNOWN);
	CHECK_EQ(REQ("stop\n", 0), CONTROL_REQ_STOP);
	CHECK_EQ(REQ("reload\nshow\n", 0), CONTROL_REQ_RELOAD);
	CHECK_EQ(REQ("show", 0), CONTROL_REQ_PARTIAL);
	CHECK_EQ(REQ("show", 1), CONTROL_REQ_UNKNOWN);    /* EOF, no newline */
	CHECK_EQ(REQ("", 1), CONTROL_REQ_UNKNOWN);
	CHECK_EQ(REQ("show \n", 0), CONTROL_REQ_UNKNOWN);
	CHECK_EQ(REQ("SHOW\n", 0), CONTROL_REQ_UNKNOWN);
	CHECK_EQ(REQ("sho\n", 0), CONTROL_REQ_UNKNOWN);
	CHECK_EQ(REQ("show\0json\n", 0), CONTROL_REQ_UNKNOWN);
	CHECK_EQ(REQ("stopp\n", 0), CONTROL_REQ_UNKNOWN);
#undef REQ
	memset(big, 'x', sizeof(big));
	CHECK_EQ(control_parse_request(big, sizeof(big) - 1, 0), CONTROL_REQ_PARTIAL);
	CHECK_EQ(control_parse_request(big, sizeof(big), 0), CONTROL_REQ_UNKNOWN);
}

int
main(void)
{
	CHECK(mkdtemp(tmpdir) != NULL);
	check_text();
	check_short();
	check_json();
	check_escaping();
	check_sizes();
	check_path();
	check_request_parse();
	if (geteuid() == 0)
		check_live();
	else
		fprintf(stderr, "test_control: not root: live socket tests skipped\n");
	{
		char cmd[320];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		CHECK(system(cmd) == 0);
	}
	CHECK_DONE();
}
