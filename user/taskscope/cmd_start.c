// SPDX-License-Identifier: MIT
/* taskscope start: scope a task; processes join it with `enroll`. */
#include <stdio.h>
#include "cli.h"

int cmd_start(int argc, char **argv)
{
	json_t *params = json_object(), *task;
	int rc;

	if (cli_task_options(argc, argv, params, false) < 0) {
		json_decref(params);
		return CLI_EXIT_USAGE;
	}
	rc = cli_call("start", params, &task);
	if (rc)
		return rc;
	if (cli_json)
		cli_json_print(task);
	else {
		printf("%s\n", json_string_value(json_object_get(task, "id")));
		json_decref(task);
	}
	return CLI_EXIT_OK;
}
