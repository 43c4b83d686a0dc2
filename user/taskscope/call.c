// SPDX-License-Identifier: MIT
/* Calling taskscoped and reporting what it says. */
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "ts_client.h"
#include "ts_proto.h"

#define CALL_TIMEOUT_MS 30000
#define RETRY_MS 10000

static void print_diagnostics(json_t *data)
{
	json_t *e;
	size_t i;

	json_array_foreach(data, i, e) {
		const char *path = json_string_value(json_object_get(e, "path"));

		fprintf(stderr, "%s:%lld:%lld: %s%s%s\n",
			json_string_value(json_object_get(e, "file")) ?: "policy",
			json_integer_value(json_object_get(e, "line")),
			json_integer_value(json_object_get(e, "column")), path ? path : "",
			path && *path ? ": " : "",
			json_string_value(json_object_get(e, "message")) ?: "");
	}
}

int cli_call(const char *method, json_t *params, json_t **result)
{
	return cli_call_quiet(method, params, result, 0);
}

/* One attempt: the ts_client_call result, the connection closed. */
static int call_once(const char *method, json_t *params, json_t **result,
		     struct ts_client_error *err)
{
	struct ts_client *c;
	int rc;

	if (ts_client_connect(cli_socket, &c)) {
		json_decref(params);
		return -ECONNREFUSED;
	}
	rc = ts_client_call(c, method, params, CALL_TIMEOUT_MS, result, err);
	ts_client_close(c);
	return rc;
}

int cli_call_quiet(const char *method, json_t *params, json_t **result, int quiet_code)
{
	struct ts_client_error err;
	unsigned int delay_ms = 20, waited = 0;
	int rc;

	*result = NULL;
	for (;;) {
		rc = call_once(method, json_incref(params), result, &err);
		/* A daemon at its client limit says so before any work is done:
		 * come back a little later. */
		if (rc != 1 || err.code != TS_E_LIMIT || strcmp(err.message, "too many clients") ||
		    waited >= RETRY_MS)
			break;
		json_decref(err.data);
		usleep(delay_ms * 1000);
		waited += delay_ms;
		delay_ms = delay_ms < 500 ? delay_ms * 2 : 500;
	}
	json_decref(params);
	if (rc < 0)
		return CLI_EXIT_DAEMON;
	if (rc == 0)
		return CLI_EXIT_OK;
	if (quiet_code && err.code == quiet_code) {
		json_decref(err.data);
		return CLI_EXIT_QUIET_ERROR;
	}
	if (cli_json) {
		cli_json_print(json_pack("{s:{s:i, s:s, s:O?}}", "error", "code", err.code,
					 "message", err.message, "data", err.data));
	} else {
		fprintf(stderr, "taskscope: error: %s\n", err.message);
		if (err.code == TS_E_POLICY)
			print_diagnostics(err.data);
	}
	json_decref(err.data);
	return err.code == TS_E_PERM ? CLI_EXIT_DENIED : CLI_EXIT_FAIL;
}
