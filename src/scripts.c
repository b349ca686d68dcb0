/* SPDX-License-Identifier: ISC */
/*
 * ip-up and ip-down through a small root helper (see zcc/scripts.h).
 *
 * zcctund forks the helper while still root; afterwards zcctund keeps only
 * CAP_NET_ADMIN, but the helper keeps root, because the scripts an
 * administrator writes (routes, firewall, resolv.conf, mail) expect it.
 * What the helper runs is fixed when it is forked: the unprivileged side
 * can only send one byte, 'U' (ip-up), 'D' (ip-down) or 'Q' (quit), over a
 * SOCK_SEQPACKET pair. The helper handles one request at a time, so ip-down
 * never starts before ip-up has finished, and uses no event library: a
 * blocking read, a fork, a bounded wait.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zcc/log.h"
#include "zcc/scripts.h"

#define HELPER_NAME "zcctund-helper"  /* log ident and comm (<= 15 chars) */
#define HELPER_FD 3
#define SCRIPT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define KILL_GRACE_MS 2000            /* SIGTERM, then SIGKILL this much later */
#define POLL_MS 10

struct scripts {
	int fd;                 /* our end of the pair */
	pid_t pid;              /* the helper; -1 once reaped */
};

/* The helper: everything up to scripts_start runs in its own process. */

/*
 * Keep only the socket (moved to fd 3) and, in the foreground, stderr for
 * the logs. The daemon's TUN device, raw socket and the pipe its waiting
 * parent reads must not live on here: an inherited ready pipe would keep
 * the parent (and so ifup) waiting after the daemon had died. Detached,
 * stderr is the caller's terminal or pipe and goes to /dev/null too.
 */
static int
helper_fds(int sock, int foreground)
{
	int null;

	if (sock != HELPER_FD) {
		if (dup3(sock, HELPER_FD, O_CLOEXEC) == -1) {
			log_warn("dup3");
			return -1;
		}
		close(sock);
	}
	if (close_range(HELPER_FD + 1, ~0U, 0) == -1)
		for (int fd = HELPER_FD + 1; fd < 4096; fd++)
			close(fd);      /* kernel before 5.9 */
	if ((null = open("/dev/null", O_RDWR)) == -1) {
		log_warn("/dev/null");
		return -1;
	}
	if (dup2(null, STDIN_FILENO) == -1 || dup2(null, STDOUT_FILENO) == -1 ||
	    (!foreground && dup2(null, STDERR_FILENO) == -1)) {
		log_warn("dup2");
		return -1;
	}
	if (null > STDERR_FILENO)
		close(null);
	return HELPER_FD;
}

/*
 * Ctrl-C on a foreground zcctund reaches the whole process group, and
 * "pkill -USR1 zcctund" matches our name too: neither may kill the helper
 * before it has run ip-down. SIGCHLD must be SIG_DFL (not SIG_IGN), or the
 * kernel would reap the scripts before waitpid could see their status.
 */
static int
helper_signals(void)
{
	static const int ignored[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE,
	    SIGUSR1, SIGUSR2 };
	sigset_t none;

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		if (signal(ignored[i], SIG_IGN) == SIG_ERR)
			return -1;
	if (signal(SIGCHLD, SIG_DFL) == SIG_ERR)
		return -1;
	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, &none, NULL);
}

static const char *
file_refusal(const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		return "not a regular file";
	if (st->st_uid != 0)
		return "not owned by root";
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return "writable by group or others";
	if (!(st->st_mode & S_IXUSR))
		return "not executable";
	return NULL;
}

/*
 * Every directory from / down to the script belongs to root and is not
 * writable by group or others, unless sticky (/tmp): in a sticky directory
 * only root may rename or remove root's entries. Then nobody but root can
 * change which file the path names after we have checked it.
 */
static int
safe_dirs(const char *what, const char *path, const char *real)
{
	char dir[PATH_MAX];
	struct stat st;
	size_t len;

	for (const char *slash = real; (slash = strchr(slash, '/')) != NULL;
	    slash++) {
		len = slash == real ? 1 : (size_t)(slash - real);
		memcpy(dir, real, len);
		dir[len] = '\0';
		if (lstat(dir, &st) == -1) {
			log_warn("%s script %s: %s", what, path, dir);
			return -1;
		}
		if (!S_ISDIR(st.st_mode) || st.st_uid != 0 ||
		    ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
		    !(st.st_mode & S_ISVTX))) {
			log_warnx("%s script %s: refused: directory %s is not "
			    "root's alone", what, path, dir);
			return -1;
		}
	}
	return 0;
}

/*
 * 0 when the script may run, as real (its path without symlinks); -1 when
 * it is skipped (logged). A missing script is normal: debug only.
 *
 * Why the path is checked and then execve'd, rather than fexecve on the
 * checked fd as the style guide suggests: for a "#!" script the kernel
 * hands the interpreter "/dev/fd/N" as the script's name, so $0 would no
 * longer say where the script is (ip-up finds ip-up.d next to "$0") and
 * the fd would have to stay open in the script. Instead safe_dirs makes
 * the check and the exec name the same file: only root could swap it.
 */
static int
check_script(const char *what, const char *path, char real[PATH_MAX])
{
	const char *why = NULL;
	struct stat st;
	int fd, ret = -1;

	if (realpath(path, real) == NULL) {
		if (errno == ENOENT)
			log_debug("%s script %s: not there, skipped", what, path);
		else
			log_warn("%s script %s", what, path);
		return -1;
	}
	if (safe_dirs(what, path, real) == -1)
		return -1;
	/* O_NONBLOCK: opening a FIFO put there must not hang the helper. */
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1) {
		log_warn("%s script %s", what, path);
		return -1;
	}
	if (fstat(fd, &st) == -1)
		log_warn("%s script %s: fstat", what, path);
	else if ((why = file_refusal(&st)) != NULL)
		log_warnx("%s script %s: refused: %s", what, path, why);
	else
		ret = 0;
	close(fd);
	return ret;
}

/*
 * glibc keeps the two real-time signals below SIGRTMIN for itself and its
 * signal() refuses them, but a parent may have left them ignored (seen
 * under dpkg-buildpackage): reset them with the system call itself. This
 * process is single-threaded and about to exec, so nothing of glibc's uses
 * them here.
 */
static void
reset_libc_signals(void)
{
	/* All zero is SIG_DFL, no flags, no mask, in every arch's layout. */
	unsigned long dfl[8] = { 0 };

	for (int sig = 32; sig < SIGRTMIN; sig++)
		syscall(SYS_rt_sigaction, sig, dfl, NULL, (NSIG - 1) / 8);
}

/* The script's own process: session, umask, stdio, signals as new. */
static int
child_setup(void)
{
	sigset_t none;
	int null;

	if (setsid() == -1)
		return -1;
	umask(022);
	/* Handlers reset on exec, but ignored signals would stay ignored. */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	reset_libc_signals();
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		return -1;
	if ((null = open("/dev/null", O_RDWR)) == -1)
		return -1;
	if (dup2(null, STDIN_FILENO) == -1 || dup2(null, STDOUT_FILENO) == -1 ||
	    dup2(null, STDERR_FILENO) == -1)
		return -1;
	if (null > STDERR_FILENO)
		close(null);
	/* Every other fd of the helper (socket, syslog) is close-on-exec. */
	return 0;
}

/* In the child: exec the script; on failure send errno up errfd. */
static void __attribute__((noreturn))
exec_script(struct scripts_args *a, char *real, int errfd)
{
	char local[ZCC_ADDRSTRLEN], peer[ZCC_ADDRSTRLEN], speed[] = "0";
	char e_path[] = "PATH=" SCRIPT_PATH, e_speed[] = "SPEED=0";
	char e_ifname[IFNAMSIZ + 16], e_device[IFNAMSIZ + 16];
	char e_local[ZCC_ADDRSTRLEN + 16], e_peer[ZCC_ADDRSTRLEN + 16];
	char e_peername[sizeof(a->peername) + 16];
	char e_linkname[sizeof(a->linkname) + 16];
	char e_ipparam[sizeof(a->ipparam) + 16];
	char *argv[] = { real, a->ifname, a->device, speed, local, peer,
	    a->ipparam, NULL };
	char *envp[] = { e_path, e_ifname, e_device, e_speed, e_local, e_peer,
	    e_peername, e_linkname, e_ipparam, NULL };
	int err;

	addr_format(&a->local, local, sizeof(local));
	addr_format(&a->peer, peer, sizeof(peer));
	snprintf(e_ifname, sizeof(e_ifname), "IFNAME=%s", a->ifname);
	snprintf(e_device, sizeof(e_device), "DEVICE=%s", a->device);
	snprintf(e_local, sizeof(e_local), "IPLOCAL=%s", local);
	snprintf(e_peer, sizeof(e_peer), "IPREMOTE=%s", peer);
	snprintf(e_peername, sizeof(e_peername), "PEERNAME=%s", a->peername);
	snprintf(e_linkname, sizeof(e_linkname), "LINKNAME=%s", a->linkname);
	snprintf(e_ipparam, sizeof(e_ipparam), "IPPARAM=%s", a->ipparam);
	if (child_setup() == 0)
		execve(real, argv, envp);
	err = errno;
	if (write(errfd, &err, sizeof(err)) != (ssize_t)sizeof(err))
		_exit(126);     /* nobody left to tell */
	_exit(127);
}

/*
 * Fork and exec; the pid, or -1 (logged). A close-on-exec pipe tells
 * whether the exec worked, so "bad interpreter" is reported as such.
 */
static pid_t
spawn(struct scripts_args *a, const char *what, const char *path, char *real)
{
	int errpipe[2], err = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(errpipe, O_CLOEXEC) == -1) {
		log_warn("%s script %s: pipe", what, path);
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_warn("%s script %s: fork", what, path);
		close(errpipe[0]);
		close(errpipe[1]);
		return -1;
	}
	if (pid == 0) {
		close(errpipe[0]);
		exec_script(a, real, errpipe[1]);
	}
	close(errpipe[1]);
	while ((n = read(errpipe[0], &err, sizeof(err))) == -1 && errno == EINTR)
		;
	close(errpipe[0]);
	if (n == (ssize_t)sizeof(err)) {
		errno = err;
		log_warn("%s script %s: cannot run", what, path);
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		return -1;
	}
	log_debug("%s script %s: started, pid %d", what, path, (int)pid);
	return pid;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait up to ms for pid to exit: 0 with its status (-1: unknown, logged),
 * -1 when it still runs.
 * A 10 ms poll keeps this obvious and needs nothing of the kernel (a pidfd
 * would need 5.3 and may be filtered); it only runs while a script does.
 */
static int
wait_for(pid_t pid, int *status, long long ms)
{
	const struct timespec step = { 0, POLL_MS * 1000000L };
	long long deadline = now_ms() + ms;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r == -1 && errno != EINTR) {
			log_warn("waitpid %d", (int)pid);
			*status = -1;
			return 0;
		}
		if (now_ms() >= deadline)
			return -1;
		nanosleep(&step, NULL);
	}
}

static void
report(const char *what, const char *path, int status)
{
	if (status == -1)
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		log_info("%s script %s: done", what, path);
	else if (WIFEXITED(status))
		log_warnx("%s script %s: exited with status %d", what, path,
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warnx("%s script %s: killed by signal %d (%s)", what, path,
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
}

static void
run_script(struct scripts_args *a, char cmd)
{
	const char *what = cmd == 'U' ? "ip-up" : "ip-down";
	const char *path = cmd == 'U' ? a->ip_up : a->ip_down;
	unsigned int timeout = a->timeout ? a->timeout : SCRIPTS_TIMEOUT;
	char real[PATH_MAX];
	int status;
	pid_t pid;

	if (path[0] == '\0' || check_script(what, path, real) == -1)
		return;
	if ((pid = spawn(a, what, path, real)) == -1)
		return;
	if (wait_for(pid, &status, timeout * 1000LL) == 0) {
		report(what, path, status);
		return;
	}
	/*
	 * The script is its group's leader (setsid): the whole group goes,
	 * including what it started. The group's id cannot be reused while
	 * any member lives, so the SIGKILL after reaping the leader is safe.
	 */
	kill(-pid, SIGTERM);
	if (wait_for(pid, &status, KILL_GRACE_MS) == -1) {
		kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
	} else {
		kill(-pid, SIGKILL);
	}
	log_warnx("%s script %s: killed after %u s", what, path, timeout);
}

static void __attribute__((noreturn))
helper_main(int sock, const struct scripts_args *in)
{
	struct scripts_args a = *in;
	ssize_t n;
	char cmd;

	if ((sock = helper_fds(sock, a.foreground)) == -1 ||
	    helper_signals() == -1)
		_exit(1);
	prctl(PR_SET_NAME, HELPER_NAME, 0, 0, 0);
	log_init(HELPER_NAME, a.foreground, a.debug);
	if (chdir("/") == -1)       /* pin no mount point */
		log_warn("chdir /");
	for (;;) {
		n = recv(sock, &cmd, 1, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("recv");
			break;
		}
		if (n == 0 || cmd == 'Q')
			break;
		if (cmd == 'U' || cmd == 'D')
			run_script(&a, cmd);
		else
			log_warnx("unknown request 0x%02x ignored",
			    (unsigned char)cmd);
	}
	log_debug("exiting");
	_exit(0);
}

/* The daemon's side. */

struct scripts *
scripts_start(const struct scripts_args *a)
{
	struct scripts *s;
	int sv[2];

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("scripts");
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("scripts: socketpair");
		goto err;
	}
	if ((s->pid = fork()) == -1) {
		log_warn("scripts: fork");
		close(sv[0]);
		close(sv[1]);
		goto err;
	}
	if (s->pid == 0) {
		close(sv[0]);
		helper_main(sv[1], a);
	}
	close(sv[1]);
	s->fd = sv[0];
	log_debug("script helper started, pid %d", (int)s->pid);
	return s;
err:
	free(s);
	return NULL;
}

/* Reap the helper (flags: 0 or WNOHANG), saying how it ended if oddly. */
static void
reap(struct scripts *s, int flags)
{
	int status;
	pid_t r;

	if (s->pid <= 0)
		return;
	while ((r = waitpid(s->pid, &status, flags)) == -1 && errno == EINTR)
		;
	if (r == 0)
		return;         /* WNOHANG: still exiting */
	if (r == -1)
		log_warn("script helper: waitpid");
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		log_warnx("script helper ended abnormally (status 0x%x)", status);
	s->pid = -1;
}

static int
request(struct scripts *s, char cmd, const char *what)
{
	if (s == NULL)
		return -1;
	if (send(s->fd, &cmd, 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		log_warnx("script helper busy: %s not asked", what);
	} else {
		log_warn("script helper gone: %s not run", what);
		reap(s, WNOHANG);       /* no zombie for the daemon's lifetime */
	}
	return -1;
}

int
scripts_up(struct scripts *s)
{
	return request(s, 'U', "ip-up");
}

int
scripts_down(struct scripts *s)
{
	return request(s, 'D', "ip-down");
}

void
scripts_stop(struct scripts *s)
{
	char quit = 'Q';

	if (s == NULL)
		return;
	/* Queued requests are still read before 'Q' (or the EOF). */
	if (send(s->fd, &quit, 1, MSG_DONTWAIT | MSG_NOSIGNAL) == -1 &&
	    errno != EPIPE)
		log_warn("script helper: quit");
	close(s->fd);
	reap(s, 0);
	free(s);
}
