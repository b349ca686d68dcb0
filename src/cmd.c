/* SPDX-License-Identifier: ISC */
/* The tool runner (include/zcc/cmd.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zcc/cmd.h"
#include "zcc/log.h"

static char *const clean_env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };

char *
cmd_unconst(const char *s)
{
	union { const char *c; char *m; } u = { .c = s };

	return u.m;
}

static void
read_all(int fd, char *out, size_t outlen)
{
	char drain[512];
	size_t used = 0;
	ssize_t n;

	while (used + 1 < outlen &&
	    (n = read(fd, out + used, outlen - 1 - used)) > 0)
		used += (size_t)n;
	/* Keep reading what does not fit, so the child never blocks on us. */
	while (read(fd, drain, sizeof(drain)) > 0)
		;
	out[used] = '\0';
	while (used > 0 && out[used - 1] == '\n')
		out[--used] = '\0';
}

/*
 * The tools are looked up in fixed system directories, not in the PATH
 * zcctund was started with (execvpe would search that one).
 */
int
cmd_tool_path(const char *name, char *path, size_t len)
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, len, "%s/%s", dirs[i], name);
		if (access(path, X_OK) == 0)
			return 0;
	}
	return -1;
}

static void
exec_child(char *const argv[], int in_fd, int out_fd)
{
	char path[64];

	if (in_fd != -1 && dup2(in_fd, STDIN_FILENO) == -1)
		_exit(127);
	if (dup2(out_fd, STDOUT_FILENO) == -1 ||
	    dup2(out_fd, STDERR_FILENO) == -1)
		_exit(127);
	if (cmd_tool_path(argv[0], path, sizeof(path)) == 0)
		execve(path, argv, clean_env);
	dprintf(out_fd, "%s: %s", argv[0], strerror(errno));
	_exit(127);
}

static void
close_pair(int fds[2])
{
	for (int i = 0; i < 2; i++)
		if (fds[i] != -1)
			close(fds[i]);
}

int
cmd_run(char *const argv[], const char *input, struct cmd_result *r)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	pid_t pid;

	r->status = -1;
	r->out[0] = '\0';
	if (pipe2(out, O_CLOEXEC) == -1 || (input && pipe2(in, O_CLOEXEC) == -1)) {
		log_warn("pipe");
		goto fail;
	}
	pid = fork();
	if (pid == -1) {
		log_warn("fork");
		goto fail;
	}
	if (pid == 0)
		exec_child(argv, in[0], out[1]);
	close(out[1]);
	if (input) {
		close(in[0]);
		if (write(in[1], input, strlen(input)) == -1)
			log_warn("%s: write", argv[0]);
		close(in[1]);
	}
	read_all(out[0], r->out, sizeof(r->out));
	close(out[0]);
	while (waitpid(pid, &r->status, 0) == -1 && errno == EINTR)
		;
	return 0;
fail:
	close_pair(in);
	close_pair(out);
	return -1;
}

int
cmd_succeeded(const struct cmd_result *r)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
}

static void
describe(char *const argv[], char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; argv[i] && used + 1 < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    i ? " " : "", argv[i]);
}

static int
must_or(char *const argv[], const char *input, const char *fine)
{
	struct cmd_result r;
	char what[512];

	describe(argv, what, sizeof(what));
	log_debug("run: %s", what);
	if (cmd_run(argv, input, &r) == -1)
		return -1;
	if (cmd_succeeded(&r) || (fine && strstr(r.out, fine)))
		return 0;
	log_warnx("'%s' failed: %s", what, r.out[0] ? r.out : "(no output)");
	return -1;
}

int
cmd_must(char *const argv[], const char *input)
{
	return must_or(argv, input, NULL);
}

int
cmd_ensure(char *const argv[])
{
	return must_or(argv, NULL, "File exists");
}

int
cmd_try(char *const argv[])
{
	struct cmd_result r;
	char what[512];

	describe(argv, what, sizeof(what));
	if (cmd_run(argv, NULL, &r) == -1)
		return -1;
	log_debug("run: %s: %s", what, cmd_succeeded(&r) ? "done" : "nothing to do");
	return cmd_succeeded(&r) ? 0 : -1;
}
