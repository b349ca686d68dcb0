/* SPDX-License-Identifier: ISC */
/*
 * Steering: what zcctund installs on the host so that selected flows pass
 * through zcc0 and nothing else does, and removes again. Outgoing: ip rules
 * into a table routing to zcc0 (with an unreachable fallback so a dead
 * daemon fails closed) and an fwmark rule that exempts zcctund's raw socket.
 * Incoming: a tc clsact ingress filter (cls_bpf, the receive ring's own
 * program) dropping the kernel's copy of the peer's selected segments,
 * which zcctund's receive ring (intake.h) took.
 * Backstop: an nftables table dropping selected flows that bypass zcc0 in
 * either direction.
 *
 * Each in the peer's family: ip -4 or ip -6, "ip" or "ip6" in nftables,
 * a "protocol ip" or "protocol ipv6" tc filter.
 *
 * What was installed is recorded in a state file, so that
 * "zcctund cleanup" can remove it after a crash.
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

struct steer {
	char ifname[IFNAMSIZ];      /* zcc0 */
	char realdev[IFNAMSIZ];     /* the interface that reaches the peer */
	struct zcc_addr local, peer;    /* of one family */
	uint16_t ports[ZCC_MAX_PORTS * 2];  /* twice: old and new during steer_update */
	size_t nports;
	uint32_t fwmark, table, priority;
	uint32_t tc_pref;           /* the tc filter's: priority or priority + 1 */
	uint32_t link_hlen;         /* realdev's link header, before IP */
#define LINK_HLEN_UNKNOWN UINT32_MAX    /* no tc filter: the backstop drops */
	/* filled by steer_install, for removal */
	int added_clsact;           /* we created the clsact qdisc on realdev */
	int peer_route;             /* the raw socket's route in table + 1 */
	int saved_rp_filter;        /* net.ipv4.conf.all.rp_filter before, or -1
	                               (never changed for an IPv6 link) */
};

/*
 * Before anything is installed: the tools steering runs (ip, tc, nft) are
 * there, and TCP timestamps, which in-place sealing requires, are on.
 * Returns -1 (logged, in plain words) when zcctund cannot work here.
 */
int steer_preflight(void);

/* Fill s from the options, the chosen local address and real device. */
void steer_init(struct steer *s, const struct zcc_options *o,
    struct zcc_addr local, const char *realdev);

/*
 * Install everything, in an order that never lets a selected flow out in
 * plaintext: backstop first, the ingress filter last. On failure removes
 * what it installed and returns -1 (logged).
 */
int steer_install(struct steer *s);

/*
 * A new set of selected ports on a live link (SIGHUP), without a moment in
 * which a port selected before and after has no path. -1 on failure
 * (logged; what was added stays, the old ports keep working).
 */
int steer_update(struct steer *s, const uint16_t *ports, size_t n);

/* Remove everything steer_install put in place, in reverse. */
void steer_remove(const struct steer *s);

/*
 * After a crash: remove what the state file for ifname (in this network
 * namespace) records. Returns 0 when something was cleaned or nothing was
 * there, -1 on error (logged).
 */
int steer_cleanup(const char *ifname);

#endif
