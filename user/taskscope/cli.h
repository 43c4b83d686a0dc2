/* SPDX-License-Identifier: MIT */
/* taskscope CLI: one file per subcommand, dispatched from a command table. */
#ifndef TS_CLI_H
#define TS_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

/* Exit codes (documented in taskscope(1)). */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAIL = 1,    /* the operation failed or a check did not pass */
	CLI_EXIT_USAGE = 2,   /* bad command line */
	CLI_EXIT_HOST = 3,    /* the host cannot enforce (doctor) */
	CLI_EXIT_DENIED = 4,  /* taskscoped refused: permission */
	CLI_EXIT_DAEMON = 5,  /* taskscoped is unreachable */
	CLI_EXIT_RUN_FAIL = 125, /* run/enroll: failed before the command ran */
	CLI_EXIT_NOEXEC = 126,   /* run/enroll: the command could not be executed */
	CLI_EXIT_NOTFOUND = 127, /* run/enroll: the command was not found */
};

struct cli_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
	const char *summary;
};

extern bool cli_json;
extern bool cli_quiet;
extern const char *cli_socket; /* --socket, or $TASKSCOPE_SOCKET, or the default */

/* Report a failure once: "taskscope: error: ..." on stderr, or
 * {"error": "..."} on stdout with --json (as bpftool does). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print usage of `cmd` on stderr and return CLI_EXIT_USAGE. */
int cli_usage(const struct cli_cmd *cmd);
/* Print a JSON value on stdout (one line) and release it. */
void cli_json_print(json_t *v);
/* Dispatch argv[0] among `cmds` (NULL-terminated by name). */
int cli_dispatch(const struct cli_cmd *cmds, int argc, char **argv);

/* Call `method` on taskscoped with `params` (stolen). 0 and *result; else
 * the error is printed once and the exit code returned. */
int cli_call(const char *method, json_t *params, json_t **result);
/* The same, but an error answer with code `quiet_code` is not printed and
 * returns CLI_EXIT_QUIET_ERROR. */
#define CLI_EXIT_QUIET_ERROR (-1)
int cli_call_quiet(const char *method, json_t *params, json_t **result, int quiet_code);
/* Parse the options shared by run and start into params. Returns the
 * index of the first operand, or -1 (usage printed). */
int cli_task_options(int argc, char **argv, json_t *params, bool allow_cmd);
/* Run argv in a child tagged into `task`, wait, return its exit status
 * (or CLI_EXIT_* when it could not run). `env`: variables for the child
 * only (secrets delivered by environment), or NULL. */
int cli_run_enrolled(const char *task, char **cmd, const char *workdir, json_t *env);
/* Print a task object as "key: value" lines. */
void cli_print_task(json_t *t);

int cmd_version(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_enroll(int argc, char **argv);
int cmd_end(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_grant(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_stats(int argc, char **argv);
/* One readable line for an event record (OCSF JSON). */
void cli_render_event(FILE *out, json_t *e);
int cmd_doctor(int argc, char **argv);
int cmd_policy(int argc, char **argv);

#endif /* TS_CLI_H */
