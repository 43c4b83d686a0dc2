// SPDX-License-Identifier: MIT
/* taskscope enroll ID (--pid PID | -- CMD...) */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

int cmd_enroll(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ 0 },
	};
	const char *task;
	json_t *result;
	long pid = 0;
	char *end;
	int opt, rc;

	optind = 0; /* glibc: 0 rescans from scratch */
	while ((opt = getopt_long(argc, argv, "+p:", opts, NULL)) != -1) {
		if (opt != 'p')
			goto usage;
		pid = strtol(optarg, &end, 10);
		if (*end || pid <= 0) {
			cli_error("--pid '%s' is not a process id", optarg);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		goto usage;
	task = argv[optind++];
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	if (pid && optind == argc) {
		rc = cli_call("enroll", json_pack("{s:s, s:I}", "task", task, "pid",
						  (json_int_t)pid), &result);
		if (!rc && cli_json)
			cli_json_print(result);
		else
			json_decref(result);
		return rc;
	}
	if (!pid && optind < argc)
		return cli_run_enrolled(task, argv + optind, NULL, NULL);
usage:
	fprintf(stderr, "usage: taskscope enroll ID (--pid PID | -- CMD [ARGS...])\n");
	return CLI_EXIT_USAGE;
}
