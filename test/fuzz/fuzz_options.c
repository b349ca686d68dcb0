/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the options parsers. Every input is tried twice:
 * as an options file (through a memfd, so options_parse_file reads it
 * like any file) and as command-line words split at NUL bytes. A word
 * after "file" is replaced by the memfd's path, so "file" is fuzzed too
 * without letting the fuzzer open /dev/stdin or a FIFO and hang.
 * Beyond "no crash", the result must keep the invariants callers rely on.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE      /* memfd_create */
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zcc/options.h"

#define MAX_WORDS 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/*
 * libconfig before 1.7.3 leaks a string token that a syntax error
 * discards (hyperrealm/libconfig#142, fixed upstream in f2e951c); the
 * 1.5 this project builds against has it. Only the scanner's string
 * allocations are suppressed: a config_destroy we forget still leaks the
 * settings the parser made, and fails the run.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

static int memfd = -1;
static char memfd_path[64];

static void
require(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void
write_memfd(const uint8_t *data, size_t size)
{
	if (memfd < 0) {
		memfd = memfd_create("fuzz_options", MFD_CLOEXEC);
		require(memfd >= 0);
		snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d",
		    memfd);
	}
	require(ftruncate(memfd, 0) == 0);
	require(pwrite(memfd, data, size, 0) == (ssize_t)size);
}

static int
valid_ifname_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* What a successful parse promises the rest of zcctund. */
static void
check_invariants(const struct zcc_options *o)
{
	size_t i, j, n;

	require(o->nports <= ZCC_MAX_PORTS);
	for (i = 0; i < o->nports; i++) {
		require(o->ports[i] != 0);
		require(options_port_selected(o, o->ports[i]));
		for (j = 0; j < i; j++)
			require(o->ports[i] != o->ports[j]);
	}
	require(!options_port_selected(o, 0));
	/* ifname, fwmark, table and rule-priority: given, or 0 ("allocate"). */
	n = strnlen(o->ifname, sizeof(o->ifname));
	require(n < sizeof(o->ifname));
	for (i = 0; i < n; i++)
		require(valid_ifname_char(o->ifname[i]));
	require(strcmp(o->ifname, ".") != 0 && strcmp(o->ifname, "..") != 0);
	require(strnlen(o->key_file, sizeof(o->key_file)) < sizeof(o->key_file));
	n = strnlen(o->user, sizeof(o->user));
	require(n > 0 && n < sizeof(o->user) && o->user[0] != '.');
	require(o->udp_port != 0);
	require(o->table < 0xffffffffu && (o->table < 253 || o->table > 255));
	require(o->priority == 0 || (o->priority >= 2 && o->priority <= 32765));
	require(o->command >= ZCC_CMD_RUN && o->command <= ZCC_CMD_VERSION);
}

/* An error is one non-empty printable line. */
static void
check_error(const char *err)
{
	size_t i;

	require(err[0] != '\0');
	for (i = 0; err[i] != '\0'; i++)
		require((unsigned char)err[i] >= 0x20 && err[i] != 0x7f);
}

static void
check_result(const struct zcc_options *o, int ret, const char *err)
{
	char check_err[256];

	if (ret < 0) {
		check_error(err);
		return;
	}
	require(ret == 0);
	check_invariants(o);
	if (options_check(o, check_err, sizeof(check_err)) < 0)
		check_error(check_err);
}

static void
fuzz_file(void)
{
	struct zcc_options o;
	char err[256];
	int ret;

	options_init(&o);
	err[0] = '\0';
	ret = options_parse_file(&o, memfd_path, err, sizeof(err));
	check_result(&o, ret, err);
}

static void
fuzz_argv(const uint8_t *data, size_t size)
{
	char *text, *argv[MAX_WORDS], err[256];
	struct zcc_options o;
	size_t at = 0;
	int argc = 0, ret;

	text = malloc(size + 1);
	require(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	while (at <= size && argc < MAX_WORDS) {
		argv[argc] = text + at;
		if (argc > 0 && strcmp(argv[argc - 1], "file") == 0)
			argv[argc] = memfd_path;
		argc++;
		at += strlen(text + at) + 1;
	}
	options_init(&o);
	err[0] = '\0';
	ret = options_parse_argv(&o, argc, argv, err, sizeof(err));
	check_result(&o, ret, err);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	write_memfd(data, size);
	fuzz_file();
	fuzz_argv(data, size);
	return 0;
}
