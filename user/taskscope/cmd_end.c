// SPDX-License-Identifier: MIT
/* taskscope end ID: revoke the task, kill what is left of it. */
#include <stdio.h>
#include "cli.h"

int cmd_end(int argc, char **argv)
{
	json_t *result;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: taskscope end ID\n");
		return CLI_EXIT_USAGE;
	}
	rc = cli_call("end", json_pack("{s:s}", "task", argv[1]), &result);
	if (rc)
		return rc;
	if (cli_json)
		cli_json_print(result);
	else {
		printf("task %s ended: %lld processes killed\n", argv[1],
		       json_integer_value(json_object_get(result, "killed")));
		json_decref(result);
	}
	return CLI_EXIT_OK;
}
