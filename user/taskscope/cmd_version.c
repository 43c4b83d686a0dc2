// SPDX-License-Identifier: MIT
#include <stdio.h>
#include "cli.h"

int cmd_version(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		cli_error("'version' takes no arguments");
		return CLI_EXIT_USAGE;
	}
	if (cli_json)
		cli_json_print(json_pack("{s:s}", "version", TASKSCOPE_VERSION));
	else
		printf("taskscope %s\n", TASKSCOPE_VERSION);
	return CLI_EXIT_OK;
}
