// SPDX-License-Identifier: MIT
/* taskscope list */
#include <stdio.h>
#include "cli.h"

int cmd_list(int argc, char **argv)
{
	json_t *result, *t;
	size_t i;
	int rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: taskscope list\n");
		return CLI_EXIT_USAGE;
	}
	rc = cli_call("list", NULL, &result);
	if (rc)
		return rc;
	if (cli_json) {
		cli_json_print(result);
		return CLI_EXIT_OK;
	}
	printf("%-16s  %-20s  %-20s  %7s  %9s  %s\n", "ID", "NAME", "POLICY", "THREADS",
	       "EXPIRES", "PARENT");
	json_array_foreach(json_object_get(result, "tasks"), i, t)
		printf("%-16s  %-20s  %-20s  %7lld  %8llds  %s\n",
		       json_string_value(json_object_get(t, "id")),
		       json_string_value(json_object_get(t, "name")),
		       json_string_value(json_object_get(t, "policy")),
		       json_integer_value(json_object_get(t, "members")),
		       json_integer_value(json_object_get(t, "expires_in_s")),
		       json_string_value(json_object_get(t, "parent")) ?: "-");
	json_decref(result);
	return CLI_EXIT_OK;
}
