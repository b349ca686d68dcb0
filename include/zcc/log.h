/* SPDX-License-Identifier: ISC */
/* Logging: stderr in the foreground, syslog once detached. Keys are never logged. */
#ifndef ZCC_LOG_H
#define ZCC_LOG_H

#define ZCC_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Start logging as ident; to stderr when foreground, else to syslog(daemon). */
void log_init(const char *ident, int foreground, int debug);
/* Switch to syslog, after daemonising. */
void log_to_syslog(void);

void log_warn(const char *fmt, ...) ZCC_PRINTF(1, 2);   /* appends strerror(errno) */
void log_warnx(const char *fmt, ...) ZCC_PRINTF(1, 2);
void log_info(const char *fmt, ...) ZCC_PRINTF(1, 2);
void log_debug(const char *fmt, ...) ZCC_PRINTF(1, 2);  /* only with debug */

#endif
