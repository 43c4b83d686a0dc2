/* SPDX-License-Identifier: MIT */
/* taskscope CLI: one file per subcommand, dispatched from a command table. */
#ifndef TS_CLI_H
#define TS_CLI_H

#include <stdbool.h>
#include <jansson.h>

/* Exit codes (documented in taskscope(1)). */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAIL = 1,  /* the operation failed or a check did not pass */
	CLI_EXIT_USAGE = 2, /* bad command line */
	CLI_EXIT_HOST = 3,  /* the host cannot enforce (doctor) */
};

struct cli_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
	const char *summary;
};

extern bool cli_json;

/* Report a failure once: "taskscope: error: ..." on stderr, or
 * {"error": "..."} on stdout with --json (as bpftool does). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print usage of `cmd` on stderr and return CLI_EXIT_USAGE. */
int cli_usage(const struct cli_cmd *cmd);
/* Print a JSON value on stdout (one line) and release it. */
void cli_json_print(json_t *v);
/* Dispatch argv[0] among `cmds` (NULL-terminated by name). */
int cli_dispatch(const struct cli_cmd *cmds, int argc, char **argv);

int cmd_version(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_policy(int argc, char **argv);

#endif /* TS_CLI_H */
