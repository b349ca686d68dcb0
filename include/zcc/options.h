/* SPDX-License-Identifier: ISC */
/*
 * Options in pppd style: words on the command line ("peer 10.0.0.2
 * encrypt-port 80") or the same settings in a libconfig file ("file PATH").
 * Later settings override earlier ones; encrypt-port accumulates.
 */
#ifndef ZCC_OPTIONS_H
#define ZCC_OPTIONS_H

#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "zcc/addr.h"

#define ZCC_MAX_PORTS 64
#define ZCC_DEFAULT_USER "zcc"       /* the engine runs as this user */
#define ZCC_DEFAULT_UDP_PORT 7437     /* zcc's own UDP port (handshake, encapsulation) */
/* The first link's numbers; link k adds k to the mark and 2k to the table and
 * takes 2k off the preference (steer.h). */
#define ZCC_DEFAULT_FWMARK 0x7a63     /* marks zcctund's own raw socket */
#define ZCC_DEFAULT_TABLE 31331       /* policy routing table for selected flows */
#define ZCC_DEFAULT_PRIORITY 31330    /* ip rule preference; the fwmark rule is one lower */
#define ZCC_DEFAULT_REKEY 120         /* seconds between handshakes on a live link */
#define ZCC_DEFAULT_KEEPALIVE 10      /* seconds between echo requests */
#define ZCC_DEFAULT_KEEPALIVE_FAILURE 3
#define ZCC_MAX_BUSY_POLL 1000        /* microseconds */
#define ZCC_DEFAULT_HOLDOFF 10        /* seconds before trying again (persist) */
#define ZCC_DEFAULT_RESOLVE 60       /* seconds between lookups of a peer name */
#define ZCC_DEFAULT_MAXFAIL 10        /* failed attempts in a row before exit */
#define ZCC_DEFAULT_KEY_OVERLAP 600   /* seconds the old keys stay valid */
#ifndef ZCC_SYSCONFDIR
#define ZCC_SYSCONFDIR "/etc/zcc"
#endif

enum zcc_command {
	ZCC_CMD_RUN,        /* run the link (the default) */
	ZCC_CMD_GENKEY,     /* zcctund genkey [shared|private] */
	ZCC_CMD_PUBKEY,     /* zcctund pubkey < private */
	ZCC_CMD_CLEANUP,    /* zcctund cleanup [ifname NAME]: lift the block */
	ZCC_CMD_CHECK,      /* zcctund check [words]: what a start would need */
	ZCC_CMD_HELP,       /* --help */
	ZCC_CMD_VERSION,    /* --version */
};

struct zcc_options {
	enum zcc_command command;
	int genkey_private;             /* genkey private */
	struct zcc_addr peer;           /* IPv4 or IPv6; by name: once resolved */
	int have_peer;
	char peer_name[256];            /* peer NAME: resolved at start and
	                                   again (""  when an address) */
	uint32_t resolve_interval;      /* resolve-interval N (seconds) */
	struct zcc_addr local;          /* of the peer's family */
	int have_local;                 /* else: the source the kernel picks for peer */
	char key_file[PATH_MAX];        /* "" when not given */
	char private_key_file[PATH_MAX];        /* "" when not given */
	char peer_public_key[PATH_MAX];         /* a key's base64, or a path */
	uint32_t key_overlap;           /* key-overlap N (seconds): the old
	                                   keys stay valid this long after a
	                                   SIGHUP brings new ones */
	char ifname[IFNAMSIZ];          /* "": the first free zccN */
	uint16_t ports[ZCC_MAX_PORTS];  /* encrypt-port, each once, in order given */
	size_t nports;
	uint16_t udp_port;              /* port */
	/* 0: allocated per link (steer_claim) */
	uint32_t fwmark;                /* fwmark N (nonzero) */
	uint32_t table;                 /* table N (1..2^32-1, not 253-255) */
	uint32_t priority;              /* rule-priority N (2..32765) */
	char user[64];                  /* user NAME: the engine's */
	int nodetach;
	int updetach;                   /* the parent waits for link up */
	int ready_at_setup;             /* ready-at setup: READY=1 when set up */
	int debug;
	/* the link (pppd's lifecycle words) */
	uint32_t rekey_interval;        /* rekey-interval N (seconds) */
	uint32_t keepalive_interval;    /* keepalive-interval N, 0: off */
	uint32_t keepalive_failure;     /* keepalive-failure N */
	char ip_up[PATH_MAX];           /* ip-up-script PATH */
	char ip_down[PATH_MAX];         /* ip-down-script PATH */
	int persist;
	uint32_t holdoff;               /* holdoff N (seconds) */
	uint32_t maxfail;               /* maxfail N, 0: no limit */
	char linkname[64];              /* linkname NAME: /run/zcc-NAME.pid */
	char ipparam[256];              /* ipparam STR: the scripts' 6th argument */
	int compress;                   /* compress lz4|lzs|none (compress.h) */
	int sealing_zccseal2;           /* sealing zccseal2: offer only it;
	                                   0: auto, the fastest both ends run */
	uint32_t busy_poll;             /* busy-poll N (microseconds), 0: off */
	int ip_output;                  /* ip-output: sealed by IP output only */
	int fallback_encap;             /* fallback-encap: selected flows go
	                                   encapsulated when in place fails */
	int floating;                   /* float: follow the peer to the
	                                   address and UDP port it speaks from */
	char call[64];                  /* the last call NAME ("" when none) */
	char confdir[PATH_MAX];         /* confdir DIR: options, peers/, ip-up */
};

/* Fill in the defaults above. */
void options_init(struct zcc_options *o);

/*
 * What zcctund does at start and on SIGHUP: defaults, then CONFDIR/options
 * if it exists (CONFDIR is ZCC_SYSCONFDIR unless the command line begins
 * with "confdir DIR"), then the command line, where "call NAME" reads
 * CONFDIR/peers/NAME in place. Then defaults that depend on the others
 * (the scripts' paths). Same error contract as below.
 */
int options_load(struct zcc_options *o, int argc, char *const argv[],
    char *err, size_t errlen);

/*
 * Parse the words after the program name (argv[0] is the first word).
 * Handles "file PATH" in place. On error returns -1, leaves o unchanged,
 * and writes one line (no trailing newline) naming the word, and
 * file:line for option files, to err.
 */
int options_parse_argv(struct zcc_options *o, int argc, char *const argv[],
    char *err, size_t errlen);

/* Parse a libconfig options file; same contract as above (o unchanged on error). */
int options_parse_file(struct zcc_options *o, const char *path,
    char *err, size_t errlen);

/* Check that a run has what it needs (peer, key-file); same error contract. */
int options_check(const struct zcc_options *o, char *err, size_t errlen);

/* What SIGHUP does with a changed option: the option table says. */
enum options_reload {
	RELOAD_NONE,            /* not a setting (file, call, confdir) */
	RELOAD_LIVE,            /* applied to the running link */
	RELOAD_NEXT_START,      /* logged; the old value stays until a restart */
	RELOAD_KEPT,            /* the start's value stays, quietly (debug, nodetach) */
};

typedef void options_change_fn(void *arg, const char *word,
    enum options_reload how);

/* For each option whose value differs between old and n: fn(its word, rule). */
void options_reload_changes(const struct zcc_options *old,
    const struct zcc_options *n, options_change_fn *fn, void *arg);

/* True when s is an interface name zcctund accepts (ifname). */
int options_valid_ifname(const char *s);

/* True when port is one of the encrypt-port values. */
int options_port_selected(const struct zcc_options *o, uint16_t port);

#endif
