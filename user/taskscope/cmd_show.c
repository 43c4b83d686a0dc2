// SPDX-License-Identifier: MIT
/* taskscope show ID */
#include <stdio.h>
#include <stdlib.h>
#include "cli.h"

void cli_print_task(json_t *t)
{
	const char *key;
	json_t *v;

	json_object_foreach(t, key, v) {
		char *text;

		if (json_is_string(v)) {
			printf("%-14s %s\n", key, json_string_value(v));
			continue;
		}
		text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("%-14s %s\n", key, text ? text : "?");
		free(text);
	}
}

int cmd_show(int argc, char **argv)
{
	json_t *result;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: taskscope show ID\n");
		return CLI_EXIT_USAGE;
	}
	rc = cli_call("show", json_pack("{s:s}", "task", argv[1]), &result);
	if (rc)
		return rc;
	if (cli_json)
		cli_json_print(result);
	else {
		cli_print_task(result);
		json_decref(result);
	}
	return CLI_EXIT_OK;
}
