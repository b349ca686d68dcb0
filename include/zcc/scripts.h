/* SPDX-License-Identifier: ISC */
/*
 * ip-up and ip-down, as pppd runs them. zcctund drops to CAP_NET_ADMIN once
 * set up, but the scripts an administrator writes expect root; so before
 * privileges go, zcctund forks a small helper that stays root and does one
 * thing: on request, run the configured ip-up or ip-down script with the
 * arguments and environment fixed at start-up. The unprivileged side can
 * only say "up", "down" or "quit"; it cannot choose what runs.
 *
 * Each script: a root-owned regular file not writable by group or others,
 * in directories only root can change (else refused and logged), run with setsid, umask 022, stdin/stdout/stderr on
 * /dev/null, a clean environment and a timeout; a failure is logged, never
 * fatal. A missing script is skipped quietly, as pppd does. ip-down never
 * runs before ip-up has finished: the helper runs requests in order.
 *
 * argv: script IFNAME DEVICE SPEED IPLOCAL IPREMOTE IPPARAM (pppd's order;
 * DEVICE is the real interface, SPEED is 0; the script's path has its
 * symbolic links resolved).
 * env:  IFNAME DEVICE SPEED IPLOCAL IPREMOTE PEERNAME LINKNAME IPPARAM PATH
 */
#ifndef ZCC_SCRIPTS_H
#define ZCC_SCRIPTS_H

#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>

#include "zcc/addr.h"

#define SCRIPTS_TIMEOUT 30      /* seconds before a script is killed */

struct scripts_args {
	char ifname[IFNAMSIZ];
	char device[IFNAMSIZ];
	struct zcc_addr local, peer;    /* IPLOCAL, IPREMOTE: either family */
	char peername[256];         /* the "call" name, else the peer address */
	char linkname[64];
	char ipparam[256];
	char ip_up[PATH_MAX];       /* "" disables */
	char ip_down[PATH_MAX];
	unsigned int timeout;       /* seconds; 0 means SCRIPTS_TIMEOUT */
	int debug;                  /* the helper logs debug messages too */
	int foreground;             /* nodetach: the helper logs to stderr; else
	                               to syslog, with its stdio on /dev/null so
	                               it holds no terminal or pipe of the caller */
};

struct scripts;

/*
 * Fork the helper (call while still root, before privileges drop, and
 * after detaching: the helper must be zcctund's own child). NULL on error
 * (logged). The helper ignores SIGINT, SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2
 * (so Ctrl-C on a foreground zcctund still gets ip-down run) and exits when
 * zcctund closes its end. Its logs say "zcctund-helper".
 */
struct scripts *scripts_start(const struct scripts_args *a);

/* Ask for ip-up or ip-down; returns at once. -1 if the helper is gone. */
int scripts_up(struct scripts *s);
int scripts_down(struct scripts *s);

/*
 * Let the helper finish what was asked (bounded by the timeouts), then reap
 * it. NULL is fine.
 */
void scripts_stop(struct scripts *s);

#endif
