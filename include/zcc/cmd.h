/* SPDX-License-Identifier: ISC */
/*
 * Running the host's own tools (ip, tc, nft) for the root parent: a fixed
 * argv, no shell, a clean environment, the tool looked up in the system
 * directories only, its output kept for the log.
 */
#ifndef ZCC_CMD_H
#define ZCC_CMD_H

#include <stddef.h>

#define CMD_OUT_MAX 4096

struct cmd_result {
	int status;                     /* as waitpid's, -1 when not run */
	char out[CMD_OUT_MAX];          /* stdout and stderr, trailing newlines cut */
};

/* The tool's path in /usr/sbin, /usr/bin, /sbin or /bin; -1 when absent. */
int cmd_tool_path(const char *name, char *path, size_t len);

/* Run argv with input on stdin (NULL: /dev/null); -1 when it could not run. */
int cmd_run(char *const argv[], const char *input, struct cmd_result *r);

/* Whether the tool ran and exited 0. */
int cmd_succeeded(const struct cmd_result *r);

/* A step that must succeed: its failure is logged in the tool's words. */
int cmd_must(char *const argv[], const char *input);

/* The same, where finding the thing in place already ("File exists") is success. */
int cmd_ensure(char *const argv[]);

/* An undo step: finding nothing to undo is fine (debug log only). */
int cmd_try(char *const argv[]);

/* argv for exec is char *const[]; its strings are never written to. */
char *cmd_unconst(const char *s);

#endif
