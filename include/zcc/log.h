/* SPDX-License-Identifier: ISC */
/* Logging: stderr in the foreground, syslog once detached. Keys are never logged. */
#ifndef ZCC_LOG_H
#define ZCC_LOG_H

#define ZCC_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Start logging as ident; to stderr when foreground, else to syslog(daemon). */
void log_init(const char *ident, int foreground, int debug);
/* Switch to syslog, after daemonising. */
void log_to_syslog(void);
/* Name the link in every line from now on: "zcc0 peer 10.0.0.2: ". */
void log_set_link(const char *ifname, const char *peer);
/*
 * The start line: logged as info, and when the daemon is about to detach
 * also sent to syslog at once, so that a detached daemon's start is there
 * with its version even if it fails before it is ready.
 */
void log_start(int detaching, const char *fmt, ...) ZCC_PRINTF(2, 3);

void log_warn(const char *fmt, ...) ZCC_PRINTF(1, 2);   /* appends strerror(errno) */
void log_warnx(const char *fmt, ...) ZCC_PRINTF(1, 2);
void log_info(const char *fmt, ...) ZCC_PRINTF(1, 2);
void log_debug(const char *fmt, ...) ZCC_PRINTF(1, 2);  /* only with debug */

#endif
