/* SPDX-License-Identifier: ISC */
/*
 * Logging: stderr in the foreground (with priorities when that is the
 * journal), syslog once detached. Every line of a link names it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <sys/stat.h>

#include "zcc/log.h"

static const char *log_ident = "zcctund";
static int log_foreground = 1;
static int log_debug_on;
static char log_link[300];              /* "zcc0 peer 10.0.0.2: " or "" */
/*
 * stderr is the journal (systemd sets JOURNAL_STREAM to its device and
 * inode): each line starts with its priority, as sd-daemon(3) reads it.
 */
static int log_journal;

static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *ident, int foreground, int debug)
{
	log_ident = ident;
	log_foreground = foreground;
	log_debug_on = debug;
	log_journal = foreground && stderr_is_journal();
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_link(const char *ifname, const char *peer)
{
	snprintf(log_link, sizeof(log_link), "%s peer %s: ", ifname, peer);
}

void
log_to_syslog(void)
{
	if (log_foreground)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_foreground = 0;
}

static void
log_vwrite(int prio, const char *fmt, va_list ap, const char *suffix)
    __attribute__((format(printf, 2, 0)));

static void
log_vwrite(int prio, const char *fmt, va_list ap, const char *suffix)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_foreground) {
		if (log_journal)
			fprintf(stderr, "<%d>", prio);
		fprintf(stderr, "%s: %s%s%s%s\n", log_ident, log_link, msg,
		    suffix ? ": " : "", suffix ? suffix : "");
		fflush(stderr);
	} else {
		syslog(prio, "%s%s%s%s", log_link, msg, suffix ? ": " : "",
		    suffix ? suffix : "");
	}
}

void
log_start(int detaching, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_info("%s", msg);
	if (detaching && log_foreground) {
		openlog(log_ident, LOG_PID, LOG_DAEMON);
		syslog(LOG_NOTICE, "%s%s", log_link, msg);
		closelog();
	}
}

void
log_warn(const char *fmt, ...)
{
	const char *why = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, why);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_debug_on)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}
