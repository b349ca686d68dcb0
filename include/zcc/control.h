/* SPDX-License-Identifier: ISC */
/*
 * The control socket: zcctund answers "show" requests from zccctl on a unix
 * socket only root can reach (/run/zcc/IFNAME.netns-INODE.sock, mode 0600,
 * named per network namespace like the steering state file). One request
 * line, one reply, then the server closes the connection.
 *
 * Requests: "show short\n" (the few lines zccctl shows by default),
 * "show\n" (every field and counter, zccctl show -v) or "show json\n" (one
 * JSON object); "stop\n" and "reload\n", which the engine hands to the
 * root parent.
 */
#ifndef ZCC_CONTROL_H
#define ZCC_CONTROL_H

#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "zcc/addr.h"
#include "zcc/datapath.h"
#include "zcc/link.h"
#include "zcc/nexthop.h"
#include "zcc/options.h"
#include "zcc/sessionid.h"

struct event_base;

#define CONTROL_MAX_FLOWS 64

/* Everything "zccctl show" reports, filled by zcctund when asked. */
struct zcc_status {
	char ifname[IFNAMSIZ];
	long pid, engine_pid;           /* the root parent's (the daemon's), the engine's */
	char linkname[64];              /* "" when none */
	const char *state;              /* "down", "handshaking", "up" */
	struct zcc_addr local, peer;
	char realdev[IFNAMSIZ];
	uint16_t udp_port;
	uint16_t ports[ZCC_MAX_PORTS];
	size_t nports;
	int64_t handshake_age;          /* seconds since the last one, -1: never */
	int64_t up_seconds;             /* time in state up, -1 when not up */
	uint8_t key_id;                 /* current transmit key id */
	uint8_t codec;                  /* the session's compression (compress.h) */
	uint8_t suite;                  /* the session's sealing suite (seal.h) */
	struct link_keys_report keys[HS_KEYSETS];       /* newest first */
	size_t nkeys;
	int64_t prev_keys_seconds;      /* keys[1]'s time left, -1: none */
	int session_keys;               /* 0 newest, 1 previous, -1 no session */
	uint32_t busy_poll;             /* busy-poll, microseconds; 0: off */
	int by_link;                    /* sealed segments may use the link layer */
	struct nexthop nexthop;         /* where they go on it (nexthop.h) */
	uint64_t sent_link, sent_ip;    /* sealed segments sent each way */
	uint32_t link_mtu, path_mtu;    /* sealed segments' largest, and the
	                                   path's as learnt (pmtu.h) */
	uint64_t pmtu_believed, pmtu_ignored;   /* ICMP "too big" reports */
	int encap_selected;             /* selected flows go encapsulated */
	int nat;                        /* the peer's view differs from ours: */
	struct zcc_addr peer_self;      /* the peer's own address */
	struct zcc_addr peer_sends_to;  /* where it sends to reach us */
	int port_nat;                   /* ... and rewrites its UDP port */
	int ports_differ;               /* the peer selects other ports */
	int floating;                   /* float: endpoint follows the peer */
	struct zcc_addr endpoint;       /* where the peer's UDP port is */
	uint16_t endpoint_port;
	unsigned trouble;               /* enum dp_trouble bits seen */
	struct link_counters link;
	struct dp_counters dp;
	struct dp_flow flows[CONTROL_MAX_FLOWS];
	size_t nflows;
};

struct control;

/*
 * Fills *st on request; st arrives zeroed. Called from the event loop, once
 * per "show" request.
 */
typedef void control_status_fn(void *arg, struct zcc_status *st);

/* Requests only root may make, handed to the supervisor. */
enum control_command { CONTROL_STOP, CONTROL_RELOAD };

/* 0 when the request was passed on, -1 when it could not be. */
typedef int control_command_fn(void *arg, enum control_command cmd);

/*
 * The parent: bind and listen on the socket for ifname in this network
 * namespace. A stale socket file (no one listening) is replaced; a live
 * one is an error. The listening fd, or -1 (logged).
 */
int control_bind(const char *ifname);

/* The parent, at exit: remove ifname's socket file. */
void control_unbind(const char *ifname);

/*
 * The engine: serve "show", "show json", "stop" and "reload" on listen_fd
 * (control_bind's, inherited) from base. NULL on error (logged).
 */
struct control *control_open(struct event_base *base, int listen_fd,
    control_status_fn *fn, control_command_fn *cmd, void *arg);

/* Stop serving (the listening fd stays open). NULL is fine. */
void control_close(struct control *c);

/* zcctund cleanup: remove a dead daemon's socket for ifname. -1 if live. */
int control_cleanup(const char *ifname);

/* The socket path for ifname in the caller's network namespace. -1 on error. */
int control_socket_path(const char *ifname, char *path, size_t len);

/* What a client asked: one line of at most CONTROL_REQ_MAX bytes. */
#define CONTROL_REQ_MAX 96      /* one request line, newline included */
enum control_request {
	CONTROL_REQ_PARTIAL,    /* no newline yet: wait for more */
	CONTROL_REQ_UNKNOWN,    /* not a request (or too long, or cut short) */
	CONTROL_REQ_SHOW, CONTROL_REQ_SHOW_JSON,
	CONTROL_REQ_STOP, CONTROL_REQ_RELOAD,
	CONTROL_REQ_SHOW_SHORT,
	CONTROL_REQ_SESSION_ID,         /* the last: fuzz_local checks below it */
};

/*
 * "session-id [json] LPORT PEERADDR RPORT": the session ID of a connection
 * (sessionid.h) between our port LPORT and the peer's RPORT.
 */
struct control_sid_req {
	int json;
	uint16_t lport, rport;
	struct zcc_addr peer;
};

/* The line of a session-id request (no newline): 0 and *q, or -1. Pure. */
int control_parse_sid(const char *line, size_t len, struct control_sid_req *q);

/*
 * The engine's answer: 0 and *r; sid_lookup's -1 (no such opening seen)
 * or -2 (not answered yet); CONTROL_SID_OTHER_PEER when the peer is not
 * this link's. ifname: the link's interface, for the JSON.
 */
#define CONTROL_SID_OTHER_PEER (-3)
#define CONTROL_SID_OTHER_PEER_REPLY "error: not this link's peer\n"  /* its reply */
typedef int control_sid_fn(void *arg, const struct control_sid_req *q,
    struct sid_result *r, char ifname[IFNAMSIZ]);
void control_set_sid(struct control *c, control_sid_fn *fn);

/* The reply to a session-id request, into buf: its length, or -1. Pure. */
int control_render_sid(const struct control_sid_req *q, int found,
    const struct sid_result *r, const char *ifname, char *buf, size_t len);

/*
 * The request in the n bytes a client sent so far (buf need not hold a
 * NUL); ended: the client sent nothing more (EOF), so a line without its
 * newline is a whole request gone wrong. Pure: for the server, tests and
 * fuzzing.
 */
enum control_request control_parse_request(const char *buf, size_t n,
    int ended);

/* How a status is rendered. */
enum control_view {
	CONTROL_VIEW_FULL = 0,  /* text: every field and counter */
	CONTROL_VIEW_JSON = 1,  /* one JSON object */
	CONTROL_VIEW_SHORT = 2, /* text: state, peer, traffic, drops seen, alerts */
};

/*
 * Render st as view into out (NUL-terminated), ending in a newline.
 * Returns the length without the NUL, or -1 when len is too small (out is
 * then ""): a reply is never silently cut short.
 */
int control_render(const struct zcc_status *st, enum control_view view,
    char *out, size_t len);

#endif
