/* SPDX-License-Identifier: ISC */
/*
 * Steering: what the root parent installs on the host so that selected
 * flows pass through zcc0 and nothing else does.
 *
 * The block (steer_block), installed before anything that can fail and
 * left in place by every exit but an administrator's "zcctund cleanup":
 * an nftables table dropping selected flows that bypass zcc0 in either
 * direction, ip rules sending selected flows into the link's table, whose
 * default is unreachable once zcc0 is gone, and an fwmark rule that lets
 * the daemon's own sealed segments out.
 * The attachment (steer_attach), once zcc0 exists: the route into zcc0,
 * zcc0's reverse-path setting, a route for the raw socket, and a tc
 * clsact ingress filter (cls_bpf, the receive ring's own program) dropping
 * the kernel's copy of the peer's selected segments.
 *
 * Each in the peer's family: ip -4 or ip -6, "ip" or "ip6" in nftables,
 * a "protocol ip" or "protocol ipv6" tc filter.
 *
 * What a link installed is recorded in its state file, so that a restart
 * takes it over make-before-break and "zcctund cleanup" removes exactly
 * that (by exact match, never by a preference number or a table flush).
 * Several links live side by side, each with its own interface name,
 * table, rule preferences and fwmark.
 */
#ifndef ZCC_STEER_H
#define ZCC_STEER_H

#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "zcc/addr.h"
#include "zcc/options.h"

#define ZCC_STATE_DIR "/run/zcc"
#define STEER_MAX_LINKS 64      /* links per network namespace */

struct steer {
	char ifname[IFNAMSIZ];      /* zcc0 */
	char realdev[IFNAMSIZ];     /* the interface that reaches the peer */
	struct zcc_addr local, peer;    /* of one family */
	uint16_t ports[ZCC_MAX_PORTS * 2];  /* old and new during steer_update */
	size_t nports;
	uint32_t fwmark, table, priority;   /* table + 1: the raw socket's */
	uint32_t link_hlen;         /* realdev's link header, before IP */
#define LINK_HLEN_UNKNOWN UINT32_MAX    /* no tc filter: the backstop drops */
	int tc_filter;              /* our filter at priority on realdev */
	int peer_route;             /* the raw socket's route in table + 1 */
	long pid;                   /* the daemon that owns it */
	uint64_t netns_cookie;      /* SO_NETNS_COOKIE of its namespace: never
	                               reused, unlike the inode in the file's
	                               name; 0 when not recorded */
	uint32_t route_mtu;         /* on zcc0's route; 0: zcc0's own (not
	                               recorded: a restart learns it again) */
};

/*
 * Before anything is installed: the tools steering runs (ip, tc, nft) are
 * there, and TCP timestamps, which in-place sealing requires, are on.
 * Returns -1 (logged, in plain words) when zcctund cannot work here.
 */
int steer_preflight(void);

/* Whether net.ipv4.tcp_timestamps is 0 (it covers IPv6 too). */
int steer_timestamps_off(void);

/*
 * Which link this start is, as pppd's units: the one a stopped predecessor
 * left for o->ifname or, with no ifname given, for the same peer; else a
 * new one. Fills in o's ifname, table, rule-priority and fwmark where they
 * were not given: the predecessor's, or the first free ones (zcc0, zcc1,
 * ...). *have_prev says whether prev holds a predecessor's state. -1
 * (logged) when that link's zcctund is running, or when given numbers
 * differ from those the predecessor's block uses.
 */
int steer_claim(struct zcc_options *o, struct steer *prev, int *have_prev);

/* Fill s from the (claimed) options. */
void steer_init(struct steer *s, const struct zcc_options *o);

/*
 * Record the state file, then install the block; a predecessor's is
 * replaced in place (nftables in one transaction, routes by replace,
 * rules added beside), never removed first. -1 on failure (logged); what
 * was installed stays: a half-made block still blocks.
 */
int steer_block(struct steer *s, const struct steer *prev);

/*
 * Once zcc0 exists: its route, rp_filter, the raw socket's route and the
 * tc ingress filter on realdev; then what prev had that s has not (ports
 * no longer selected, a filter on another device) goes. -1 (logged).
 */
int steer_attach(struct steer *s, const struct zcc_addr *local,
    const char *realdev, const struct steer *prev);

/*
 * A new set of selected ports on a live link (SIGHUP), without a moment in
 * which a port selected before and after has no path. -1 on failure
 * (logged; what was added stays, the old ports keep working).
 */
int steer_update(struct steer *s, const uint16_t *ports, size_t n);

/*
 * The MTU of zcc0's route (pmtu.h): mtu, or zcc0's own when 0. Replacing
 * the route in place leaves no moment without it. -1 (logged).
 */
int steer_set_mtu(struct steer *s, uint32_t mtu);

/* Lift the block: remove everything s installed, in reverse. */
void steer_remove(const struct steer *s);

/*
 * "zcctund cleanup": lift the block of ifname's link when its zcctund is
 * not running.
 * 0 when done or nothing was there, -1 when a link's zcctund runs or on
 * error (logged).
 */
int steer_cleanup(const char *ifname);

/* The interface names of the links recorded here, at most max; -1 on error. */
int steer_links(char names[][IFNAMSIZ], size_t max);

/*
 * A link's state file (KEY=VALUE lines, at most STATE_FILE_MAX bytes) of n
 * bytes at text into s; path names it in the error lines. 0, or -1
 * (logged). Pure: for the reader, tests and fuzzing.
 */
#define STATE_FILE_MAX 4096
#define STATE_LINE_MAX 1024     /* ports= holds up to 128 */
int steer_state_parse(const char *text, size_t n, const char *path,
    struct steer *s);

#endif
