// SPDX-License-Identifier: MIT
/* taskscope run: scope a command for its lifetime. */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "ts_proto.h"

int cmd_run(int argc, char **argv)
{
	json_t *params = json_object(), *task = NULL, *ended = NULL;
	const char *id, *workdir;
	int first, status, rc;

	first = cli_task_options(argc, argv, params, true);
	if (first < 0) {
		json_decref(params);
		return CLI_EXIT_USAGE;
	}
	if (first >= argc) {
		cli_error("'run' needs a command after '--'");
		json_decref(params);
		return CLI_EXIT_USAGE;
	}
	workdir = json_string_value(json_object_get(params, "workdir"));
	/* Secrets the policy delivers by environment come back with the task,
	 * to this caller only, for the command's environment. */
	json_object_set_new(params, "deliver_env", json_true());
	{
		char wd[4096];
		json_t *env;

		snprintf(wd, sizeof(wd), "%s", workdir);
		rc = cli_call("start", params, &task);
		if (rc)
			return rc == CLI_EXIT_DENIED ? rc : CLI_EXIT_RUN_FAIL;
		id = json_string_value(json_object_get(task, "id"));
		if (!cli_quiet)
			fprintf(stderr, "taskscope: task %s (%s) started, expires in %llds\n", id,
				json_string_value(json_object_get(task, "name")),
				json_integer_value(json_object_get(task, "expires_in_s")));
		env = json_object_get(task, "env");
		if (!env)
			env = json_object();
		else
			json_incref(env);
		json_object_set_new(env, "TASKSCOPE_TASK_ID", json_string(id));
		if (json_object_get(task, "secrets_dir"))
			json_object_set(env, "TASKSCOPE_SECRETS_DIR",
					json_object_get(task, "secrets_dir"));
		status = cli_run_enrolled(id, argv + first, wd, env);
		json_decref(env);
	}
	rc = cli_call_quiet("end", json_pack("{s:s}", "task", id), &ended, TS_E_NOTFOUND);
	if (rc == CLI_EXIT_QUIET_ERROR) {
		/* Its last process exited and the daemon ended it first. */
		if (!cli_quiet)
			fprintf(stderr, "taskscope: task %s ended\n", id);
	} else if (!rc && !cli_quiet) {
		long long killed = json_integer_value(json_object_get(ended, "killed"));

		if (killed)
			fprintf(stderr, "taskscope: task %s ended, %lld leftover processes killed\n",
				id, killed);
		else
			fprintf(stderr, "taskscope: task %s ended\n", id);
	}
	json_decref(ended);
	json_decref(task);
	return status;
}
