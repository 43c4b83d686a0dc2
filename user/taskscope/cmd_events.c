// SPDX-License-Identifier: MIT
/* taskscope events [--follow] [--task ID]: recent decisions, and more as
 * they happen. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include "cli.h"
#include "ts_client.h"

static void show(json_t *e)
{
	if (cli_json)
		cli_json_print(json_incref(e));
	else
		cli_render_event(stdout, e);
	fflush(stdout);
}

int cmd_events(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "task", required_argument, NULL, 't' },
		{ 0 },
	};
	json_t *params = json_object(), *result = NULL, *e;
	struct ts_client_error err;
	struct ts_client *c;
	bool follow = false;
	int opt, rc;
	size_t i;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "ft:", opts, NULL)) != -1) {
		if (opt == 'f')
			follow = true;
		else if (opt == 't')
			json_object_set_new(params, "task", json_string(optarg));
		else
			goto usage;
	}
	if (optind != argc)
		goto usage;
	json_object_set_new(params, "follow", json_boolean(follow));
	if (ts_client_connect(cli_socket, &c)) {
		json_decref(params);
		return CLI_EXIT_DAEMON;
	}
	rc = ts_client_call(c, "events", params, 30000, &result, &err);
	if (rc) {
		if (rc > 0)
			cli_error("%s", err.message);
		json_decref(err.data);
		ts_client_close(c);
		return rc > 0 ? CLI_EXIT_FAIL : CLI_EXIT_DAEMON;
	}
	json_array_foreach(json_object_get(result, "history"), i, e)
		show(e);
	json_decref(result);
	while (follow) {
		rc = ts_client_read(c, -1, &e);
		if (rc == -EINTR)
			continue;
		if (rc)
			break;
		show(e);
		json_decref(e);
	}
	ts_client_close(c);
	return CLI_EXIT_OK;
usage:
	json_decref(params);
	fprintf(stderr, "usage: taskscope events [--follow] [--task ID]\n");
	return CLI_EXIT_USAGE;
}
