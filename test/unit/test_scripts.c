/* SPDX-License-Identifier: ISC */
/*
 * The script helper, with real scripts in a temp dir (the tests run as
 * root, as the helper does): the exact argv and environment, the order of
 * ip-up and ip-down, refusals of unsafe scripts, timeouts, failures that do
 * not stop the next request, and a helper that outlives no one.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "zcc/log.h"
#include "zcc/scripts.h"

static char dir[64];
static int leak[2];     /* an fd neither the helper nor a script may hold */

static void
path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* Write dir/name with mode (chmod: the umask must not decide). */
static void put(const char *name, mode_t mode, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
put(const char *name, mode_t mode, const char *fmt, ...)
{
	char path[256];
	va_list ap;
	FILE *f;

	path_of(path, sizeof(path), name);
	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	if (fclose(f) != 0 || chmod(path, mode) != 0) {
		perror(path);
		exit(1);
	}
}

/* dir/name's contents, "" when missing (the buffer is static). */
static const char *
get(const char *name)
{
	static char buf[8192];
	char path[256];
	size_t n = 0;
	FILE *f;

	buf[0] = '\0';
	path_of(path, sizeof(path), name);
	if ((f = fopen(path, "r")) == NULL)
		return buf;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int
exists(const char *name)
{
	char path[256];

	path_of(path, sizeof(path), name);
	return access(path, F_OK) == 0;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
base_args(struct scripts_args *a, const char *up, const char *down)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->ifname, sizeof(a->ifname), "zcc0");
	snprintf(a->device, sizeof(a->device), "eth0");
	addr_parse(&a->local, "10.0.0.1");
	addr_parse(&a->peer, "10.0.0.2");
	snprintf(a->peername, sizeof(a->peername), "office");
	snprintf(a->linkname, sizeof(a->linkname), "office-link");
	snprintf(a->ipparam, sizeof(a->ipparam), "two words");
	if (up)
		path_of(a->ip_up, sizeof(a->ip_up), up);
	if (down)
		path_of(a->ip_down, sizeof(a->ip_down), down);
	a->foreground = 1;      /* the helper's logs land in our capture */
	a->debug = 1;
}

/* The helper logs to the stderr it inherits: catch it in dir/log. */
static int saved_stderr = -1;

static void
capture_begin(void)
{
	char path[256];
	int fd;

	path_of(path, sizeof(path), "log");
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (saved_stderr == -1 || fd == -1 || dup2(fd, STDERR_FILENO) == -1) {
		perror("capture");
		exit(1);
	}
	close(fd);
}

/* Stop capturing, echo the log for whoever reads a failure; its text. */
static const char *
capture_end(void)
{
	const char *log;

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	log = get("log");
	fprintf(stderr, "%s", log);
	return log;
}

/* Start, ask up then down (if asked), stop; the seconds it all took. */
static double
run(const struct scripts_args *a, int up, int down)
{
	struct scripts *s;
	double t0 = now();

	s = scripts_start(a);
	CHECK(s != NULL);
	if (s == NULL)
		return 0;
	if (up)
		CHECK_EQ(scripts_up(s), 0);
	if (down)
		CHECK_EQ(scripts_down(s), 0);
	scripts_stop(s);
	return now() - t0;
}

/* The one child of ours named zcctund-helper, or -1. */
static pid_t
find_helper(void)
{
	char path[64], line[256], comm[32];
	struct dirent *de;
	pid_t found = -1;
	DIR *d;

	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		int pid = atoi(de->d_name), ppid = 0;
		FILE *f;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(line, sizeof(line), f) != NULL &&
		    sscanf(line, "%*d (%31[^)]) %*c %d", comm, &ppid) == 2 &&
		    ppid == getpid() && strcmp(comm, "zcctund-helper") == 0)
			found = pid;
		fclose(f);
	}
	closedir(d);
	return found;
}

/* Records its argv, environment and process state; sleeps %d s. */
#define RECORDER \
    "#!/bin/sh\n" \
    "d=%s\n" \
    "stdio=$(readlink /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2)\n" \
    "printf '%%s\\n' \"$0\" \"$@\" > \"$d/%s.args\"\n" \
    "tr '\\0' '\\n' < /proc/$$/environ | sort > \"$d/%s.env\"\n" \
    "{ while read -r k v; do case $k in Sig[BI]*) echo $k $v;; esac;\n" \
    "  done < /proc/$$/status; umask;\n" \
    "  test \"$(cut -d' ' -f6 /proc/$$/stat)\" = $$ && echo leader;\n" \
    "  echo \"$stdio\"; } > \"$d/%s.proc\"\n" \
    "ls -l /proc/$$/fd/ > \"$d/%s.fds\"\n" \
    "echo \"%s start\" >> \"$d/order\"\n" \
    "sleep %d\n" \
    "echo \"%s end\" >> \"$d/order\"\n"

static void
test_args_env_order(void)
{
	struct scripts_args a;
	char expect[2048], real_up[300];
	const char *log;

	put("up", 0755, RECORDER, dir, "up", "up", "up", "up", "up", 1, "up");
	put("down", 0755, RECORDER, dir, "down", "down", "down", "down", "down",
	    0, "down");
	base_args(&a, "up", "down");
	capture_begin();
	run(&a, 1, 1);
	log = capture_end();
	CHECK(strstr(log, "ip-up script") && strstr(log, "/up: done"));
	CHECK(strstr(log, "zcctund-helper: ") != NULL);

	/* $0 is the script, then pppd's six arguments, IPPARAM intact. */
	path_of(real_up, sizeof(real_up), "up");
	snprintf(expect, sizeof(expect),
	    "%s\nzcc0\neth0\n0\n10.0.0.1\n10.0.0.2\ntwo words\n", real_up);
	CHECK(strcmp(get("up.args"), expect) == 0);
	CHECK(strstr(get("down.args"), "\nzcc0\neth0\n0\n10.0.0.1\n10.0.0.2\n"
	    "two words\n") != NULL);

	/* Exactly these nine variables (sorted), nothing of ours leaks in. */
	snprintf(expect, sizeof(expect),
	    "DEVICE=eth0\nIFNAME=zcc0\nIPLOCAL=10.0.0.1\nIPPARAM=two words\n"
	    "IPREMOTE=10.0.0.2\nLINKNAME=office-link\n"
	    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
	    "PEERNAME=office\nSPEED=0\n");
	CHECK(strcmp(get("up.env"), expect) == 0);
	CHECK(strcmp(get("down.env"), expect) == 0);

	/*
	 * No signal ignored or blocked, umask 022, its own session, stdio on
	 * /dev/null, and neither the helper's socket nor a pipe inherited
	 * (main holds one open, as zcctund holds its ready pipe).
	 */
	CHECK_STR(get("up.proc"), "SigBlk: 0000000000000000\n"
	    "SigIgn: 0000000000000000\n0022\nleader\n"
	    "/dev/null\n/dev/null\n/dev/null\n");
	CHECK(strstr(get("up.fds"), "/dev/null") != NULL);
	CHECK(strstr(get("up.fds"), "socket:") == NULL);
	CHECK(strstr(get("up.fds"), "pipe:") == NULL);

	/* ip-down waited for ip-up, which slept a second. */
	CHECK(strcmp(get("order"), "up start\nup end\ndown start\ndown end\n") == 0);
}

/* A script that would leave "ran" behind. */
static void
put_marker(const char *name, mode_t mode, const char *marker)
{
	put(name, mode, "#!/bin/sh\necho ran > %s/%s\n", dir, marker);
}

static void
test_refused(void)
{
	struct scripts_args a;
	char sub[300];
	const char *log;

	put_marker("gw", 0775, "gw.ran");
	base_args(&a, "gw", NULL);
	capture_begin();
	run(&a, 1, 0);
	log = capture_end();
	CHECK(!exists("gw.ran"));
	CHECK(strstr(log, "/gw: refused: writable by group or others") != NULL);

	/* The same script, safe now, runs: the refusal was the mode. */
	path_of(sub, sizeof(sub), "gw");
	chmod(sub, 0755);
	run(&a, 1, 0);
	CHECK(exists("gw.ran"));

	put_marker("user", 0755, "user.ran");
	path_of(sub, sizeof(sub), "user");
	CHECK_EQ(chown(sub, 1000, 1000), 0);
	base_args(&a, "user", NULL);
	capture_begin();
	run(&a, 1, 0);
	log = capture_end();
	CHECK(!exists("user.ran"));
	CHECK(strstr(log, "/user: refused: not owned by root") != NULL);

	put_marker("noexec", 0644, "noexec.ran");
	base_args(&a, "noexec", NULL);
	capture_begin();
	run(&a, 1, 0);
	log = capture_end();
	CHECK(!exists("noexec.ran"));
	CHECK(strstr(log, "/noexec: refused: not executable") != NULL);

	/* A world-writable directory: someone could swap the script. */
	path_of(sub, sizeof(sub), "open");
	CHECK_EQ(mkdir(sub, 0777), 0);
	CHECK_EQ(chmod(sub, 0777), 0);
	put_marker("open/s", 0755, "open.ran");
	base_args(&a, "open/s", NULL);
	capture_begin();
	run(&a, 1, 0);
	log = capture_end();
	CHECK(!exists("open.ran"));
	CHECK(strstr(log, "/open/s: refused: directory ") != NULL);
	chmod(sub, 0755);
	run(&a, 1, 0);
	CHECK(exists("open.ran"));
}

/* Missing, failing or unrunnable: logged, and the next request still runs. */
static void
test_skip_and_fail(void)
{
	struct scripts_args a;
	const char *log;

	put_marker("down1", 0755, "down1.ran");
	base_args(&a, "missing", "down1");
	capture_begin();
	run(&a, 1, 1);
	log = capture_end();
	CHECK(exists("down1.ran"));
	CHECK(strstr(log, "/missing: not there, skipped") != NULL);
	CHECK(strstr(log, "refused") == NULL);

	put("fail", 0755, "#!/bin/sh\nexit 3\n");
	put_marker("down2", 0755, "down2.ran");
	base_args(&a, "fail", "down2");
	capture_begin();
	run(&a, 1, 1);
	log = capture_end();
	CHECK(exists("down2.ran"));
	CHECK(strstr(log, "/fail: exited with status 3") != NULL);

	put("badinterp", 0755, "#!/nonexistent/sh\nexit 0\n");
	put_marker("down3", 0755, "down3.ran");
	base_args(&a, "badinterp", "down3");
	capture_begin();
	run(&a, 1, 1);
	log = capture_end();
	CHECK(exists("down3.ran"));
	CHECK(strstr(log, "/badinterp: cannot run: No such file") != NULL);

	/* Empty paths disable a script: nothing checked, nothing logged. */
	base_args(&a, NULL, NULL);
	capture_begin();
	run(&a, 1, 1);
	log = capture_end();
	CHECK(strstr(log, "ip-up script") == NULL);
	CHECK(strstr(log, "ip-down script") == NULL);
	CHECK(strstr(log, "exiting") != NULL);  /* the capture works */
}

/*
 * A script that outlives its timeout is killed with what it started
 * (a background subshell that would write "late" a second after the
 * kill); one that ignores SIGTERM gets SIGKILL 2 s later.
 */
#define SLOW "#!/bin/sh\n%s\n" \
	"(sleep %d; echo late > %s/%s.late) &\n" \
	"echo start > %s/%s.start\nsleep 10\necho end > %s/%s.end\n"

static void
test_timeout(void)
{
	struct scripts_args a;
	const char *log;
	double t;

	put("slow", 0755, SLOW, "", 2, dir, "slow", dir, "slow", dir, "slow");
	put("stubborn", 0755, SLOW, "trap '' TERM", 4, dir, "stubborn", dir,
	    "stubborn", dir, "stubborn");
	base_args(&a, "slow", NULL);
	a.timeout = 1;
	capture_begin();
	t = run(&a, 1, 0);
	log = capture_end();
	CHECK(t >= 0.9 && t < 2.0);
	CHECK(strstr(log, "/slow: killed after 1 s") != NULL);

	base_args(&a, "stubborn", NULL);
	a.timeout = 1;
	capture_begin();
	t = run(&a, 1, 0);
	log = capture_end();
	CHECK(t >= 2.9 && t < 4.5);
	CHECK(strstr(log, "/stubborn: killed after 1 s") != NULL);

	/*
	 * The background subshells were due to write "late" 1 s after their
	 * run was over (2 s and 4 s after their start; the runs took 1 s and
	 * 3 s): had they survived, their files would be there now.
	 */
	usleep(1500000);
	CHECK(exists("slow.start") && exists("stubborn.start"));
	CHECK(!exists("slow.end") && !exists("stubborn.end"));
	CHECK(!exists("slow.late") && !exists("stubborn.late"));
}

/*
 * The helper: named, holding only stdio and its socket (not the pipe we
 * leave open, as zcctund's ready pipe would be), deaf to the signals a
 * Ctrl-C or "pkill zcctund" sends, and reaped when it dies early.
 */
static void
test_helper(void)
{
	struct scripts_args a;
	struct scripts *s;
	char fdpath[64], fds[64] = "";
	struct dirent *de;
	DIR *d;
	pid_t h;

	put_marker("d", 0755, "sig.ran");
	base_args(&a, NULL, "d");
	s = scripts_start(&a);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	usleep(200000);
	h = find_helper();
	CHECK(h > 0);
	snprintf(fdpath, sizeof(fdpath), "/proc/%d/fd", (int)h);
	if (h > 0 && (d = opendir(fdpath)) != NULL) {
		int n[8], k = 0;

		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.' && k < 8)
				n[k++] = atoi(de->d_name);
		closedir(d);
		/* /proc lists a process's fds in ascending order. */
		for (int i = 0; i < k; i++)
			snprintf(fds + strlen(fds), sizeof(fds) - strlen(fds),
			    "%s%d", i ? "," : "", n[i]);
	}
	CHECK(strcmp(fds, "0,1,2,3") == 0);
	if (strcmp(fds, "0,1,2,3") != 0)
		fprintf(stderr, "helper fds: %s\n", fds);
	if (h > 0) {
		kill(h, SIGTERM);
		kill(h, SIGINT);
		kill(h, SIGHUP);
		kill(h, SIGUSR1);
		usleep(100000);
	}
	CHECK_EQ(scripts_down(s), 0);
	scripts_stop(s);
	CHECK(exists("sig.ran"));

	/*
	 * Detached, the helper keeps none of the caller's stdio (ifup's
	 * terminal or pipe). Then killed early: the request fails, and no
	 * zombie is left behind.
	 */
	a.foreground = 0;
	s = scripts_start(&a);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	usleep(200000);
	h = find_helper();
	CHECK(h > 0);
	snprintf(fdpath, sizeof(fdpath), "/proc/%d/fd/2", (int)h);
	memset(fds, 0, sizeof(fds));
	CHECK(readlink(fdpath, fds, sizeof(fds) - 1) > 0);
	CHECK(strcmp(fds, "/dev/null") == 0);
	if (h > 0)
		kill(h, SIGKILL);
	usleep(200000);
	capture_begin();
	CHECK_EQ(scripts_up(s), -1);
	capture_end();
	CHECK(find_helper() == -1);
	CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
	scripts_stop(s);
	scripts_stop(NULL);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/*
 * Leave signals ignored as a parent may (dpkg-buildpackage leaves glibc's
 * own 32 and 33 so, which signal() cannot undo): the scripts must still
 * start with none ignored.
 */
static void
ignore_like_a_parent(void)
{
	unsigned long ign[8] = { (unsigned long)SIG_IGN };

	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	for (int sig = 32; sig < SIGRTMIN; sig++)
		if (syscall(SYS_rt_sigaction, sig, ign, NULL, (NSIG - 1) / 8) == -1)
			perror("rt_sigaction");
}

int
main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "test_scripts: needs root (root-owned scripts)\n");
		return 77;
	}
	log_init("test_scripts", 1, 1);
	ignore_like_a_parent();
	if (pipe(leak) == -1) {         /* not close-on-exec, like a leak */
		perror("pipe");
		return 1;
	}
	snprintf(dir, sizeof(dir), "/tmp/zcc-scripts.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_args_env_order();
	test_refused();
	test_skip_and_fail();
	test_timeout();
	test_helper();
	if (getenv("ZCC_TEST_KEEP") == NULL)         /* to look at a failure */
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	else
		fprintf(stderr, "kept %s\n", dir);
	close(leak[0]);
	close(leak[1]);
	CHECK_DONE();
}
