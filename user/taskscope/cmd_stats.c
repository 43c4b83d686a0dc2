// SPDX-License-Identifier: MIT
/* taskscope stats: events streamed, and every loss with where it happened. */
#include <stdio.h>
#include "cli.h"

int cmd_stats(int argc, char **argv)
{
	json_t *result, *sink;
	size_t i;
	int rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: taskscope stats\n");
		return CLI_EXIT_USAGE;
	}
	rc = cli_call("stats", NULL, &result);
	if (rc)
		return rc;
	if (cli_json) {
		cli_json_print(result);
		return CLI_EXIT_OK;
	}
	printf("tasks                 %lld\n", json_integer_value(json_object_get(result, "tasks")));
	printf("events                %lld\n", json_integer_value(json_object_get(result, "events")));
	printf("lost in the kernel    %lld (ring buffer full)\n",
	       json_integer_value(json_object_get(result, "ringbuf_lost")));
	printf("lost by subscribers   %lld (too slow to read)\n",
	       json_integer_value(json_object_get(result, "subscriber_dropped")));
	printf("\n%-40s %12s %12s %8s\n", "SINK", "WRITTEN", "DROPPED", "ERRORS");
	json_array_foreach(json_object_get(result, "sinks"), i, sink)
		printf("%-40s %12lld %12lld %8lld\n", json_string_value(json_object_get(sink, "name")),
		       json_integer_value(json_object_get(sink, "written")),
		       json_integer_value(json_object_get(sink, "dropped")),
		       json_integer_value(json_object_get(sink, "errors")));
	json_decref(result);
	return CLI_EXIT_OK;
}
