// SPDX-License-Identifier: MIT
/* taskscope grant ID RULE --for DURATION: a time-boxed step-up. */
#include <getopt.h>
#include <stdio.h>
#include "cli.h"

int cmd_grant(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "for", required_argument, NULL, 'f' },
		{ 0 },
	};
	const char *dur = NULL;
	json_t *result;
	int opt, rc;

	optind = 0; /* glibc: 0 rescans from scratch */
	while ((opt = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
		if (opt != 'f')
			goto usage;
		dur = optarg;
	}
	if (!dur || optind != argc - 2)
		goto usage;
	rc = cli_call("grant",
		      json_pack("{s:s, s:s, s:s}", "task", argv[optind], "rule", argv[optind + 1],
				"for", dur),
		      &result);
	if (rc)
		return rc;
	if (cli_json)
		cli_json_print(result);
	else {
		printf("granted %s to task %s for %s (grant %#llx)\n", argv[optind + 1],
		       argv[optind], dur, json_integer_value(json_object_get(result, "grant")));
		json_decref(result);
	}
	return CLI_EXIT_OK;
usage:
	fprintf(stderr, "usage: taskscope grant ID RULE --for DURATION\n"
			"  RULE: exec:PATH, read:PATH, write:PATH, connect:ADDR[:PORTS] or "
			"connect:unix:PATH\n");
	return CLI_EXIT_USAGE;
}
