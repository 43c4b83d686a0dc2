// SPDX-License-Identifier: MIT
/* Options shared by `run` and `start`: what a new task is asked to be. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "ts_policy.h"

static int read_policy(const char *file, json_t *params)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "re") : stdin;
	char *buf;
	size_t n;

	if (!f) {
		cli_error("cannot open policy '%s': %s", file, strerror(errno));
		return -1;
	}
	buf = malloc(TS_POLICY_MAX_BYTES + 1);
	n = buf ? fread(buf, 1, TS_POLICY_MAX_BYTES + 1, f) : 0;
	if (f != stdin)
		fclose(f);
	if (!buf || n > TS_POLICY_MAX_BYTES || memchr(buf, '\0', n)) {
		cli_error("policy '%s' is not a JSON text of at most %d bytes", file,
			  TS_POLICY_MAX_BYTES);
		free(buf);
		return -1;
	}
	json_object_set_new(params, "policy", json_stringn(buf, n));
	json_object_set_new(params, "policy_file", json_string(file));
	free(buf);
	if (!json_object_get(params, "policy")) {
		cli_error("policy '%s' is not valid UTF-8", file);
		return -1;
	}
	return 0;
}

int cli_task_options(int argc, char **argv, json_t *params, bool allow_cmd)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "ttl", required_argument, NULL, 't' },
		{ "name", required_argument, NULL, 'n' },
		{ "workdir", required_argument, NULL, 'w' },
		{ 0 },
	};
	char cwd[PATH_MAX];
	bool have_policy = false;
	int opt;

	optind = 0; /* glibc: 0 rescans from scratch */
	while ((opt = getopt_long(argc, argv, "+p:t:n:w:", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (read_policy(optarg, params))
				return -1;
			have_policy = true;
			break;
		case 't':
			json_object_set_new(params, "ttl", json_string(optarg));
			break;
		case 'n':
			json_object_set_new(params, "name", json_string(optarg));
			break;
		case 'w':
			if (!realpath(optarg, cwd)) {
				cli_error("workdir '%s': %s", optarg, strerror(errno));
				return -1;
			}
			json_object_set_new(params, "workdir", json_string(cwd));
			break;
		default:
			return -1;
		}
	}
	if (!have_policy) {
		cli_error("'%s' needs --policy FILE", argv[0]);
		return -1;
	}
	if (!json_object_get(params, "workdir")) {
		if (!getcwd(cwd, sizeof(cwd))) {
			cli_error("cannot read the current directory: %s", strerror(errno));
			return -1;
		}
		json_object_set_new(params, "workdir", json_string(cwd));
	}
	if (!allow_cmd && optind != argc) {
		cli_error("'%s' takes no operands", argv[0]);
		return -1;
	}
	return optind;
}
