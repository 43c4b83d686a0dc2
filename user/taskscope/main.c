// SPDX-License-Identifier: MIT
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "ts_log.h"

bool cli_json;
bool cli_quiet;
const char *cli_socket;

static const struct cli_cmd commands[] = {
	{ "run", cmd_run, "run --policy FILE [--ttl T] [--name N] [--workdir D] -- CMD...",
	  "run a command inside a new task, end the task when it exits" },
	{ "start", cmd_start, "start --policy FILE [--ttl T] [--name N] [--workdir D]",
	  "start a task and print its id" },
	{ "enroll", cmd_enroll, "enroll ID (--pid PID | -- CMD...)",
	  "make a process (or a new command) a member of a task" },
	{ "end", cmd_end, "end ID", "end a task and its sub-tasks; kill their processes" },
	{ "list", cmd_list, "list", "list tasks" },
	{ "show", cmd_show, "show ID", "show a task: scope, counters, grants, processes" },
	{ "grant", cmd_grant, "grant ID RULE --for DURATION", "add a time-boxed rule to a task" },
	{ "events", cmd_events, "events [--follow] [--task ID]",
	  "recent decisions, and new ones as they happen" },
	{ "audit", cmd_audit, "audit ID [--file PATH]", "a task's whole timeline from the event file" },
	{ "stats", cmd_stats, "stats", "events streamed, and every loss: kernel, sinks, subscribers" },
	{ "policy", cmd_policy, "policy check|explain ...", "validate and explain policies" },
	{ "doctor", cmd_doctor, "doctor", "report whether this kernel can enforce" },
	{ "version", cmd_version, "version", "print the version" },
	{ 0 },
};

void cli_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cli_json) {
		cli_json_print(json_pack("{s:s}", "error", msg));
		return;
	}
	fprintf(stderr, "taskscope: error: %s\n", msg);
}

/* Library diagnostics follow --json too, so a JSON reader sees every error. */
static void log_sink(enum ts_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == TS_LOG_ERROR) {
		cli_error("%s", msg);
		return;
	}
	fprintf(stderr, "taskscope: %s: %s\n",
		level == TS_LOG_WARN ? "warning" : level == TS_LOG_INFO ? "info" : "debug", msg);
}

void cli_json_print(json_t *v)
{
	if (!v) {
		fprintf(stderr, "taskscope: error: cannot build JSON output: out of memory\n");
		return;
	}
	json_dumpf(v, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
	fputc('\n', stdout);
	json_decref(v);
}

int cli_usage(const struct cli_cmd *cmd)
{
	fprintf(stderr, "usage: taskscope %s\n", cmd->usage);
	return CLI_EXIT_USAGE;
}

static void help(FILE *out, const struct cli_cmd *cmds)
{
	const struct cli_cmd *c;

	fprintf(out, "usage: taskscope [--json] [--quiet] [--verbose] [--socket PATH] COMMAND [ARGS]\n"
		     "\ncommands:\n");
	for (c = cmds; c->name; c++)
		fprintf(out, "  %-8s %s\n", c->name, c->summary);
	fprintf(out, "\nsee taskscope(1) for each command's options and the exit codes\n");
}

int cli_dispatch(const struct cli_cmd *cmds, int argc, char **argv)
{
	const struct cli_cmd *c;

	if (argc < 1) {
		help(stderr, cmds);
		return CLI_EXIT_USAGE;
	}
	for (c = cmds; c->name; c++)
		if (!strcmp(c->name, argv[0]))
			return c->run(argc, argv);
	cli_error("unknown command '%s' (see 'taskscope help')", argv[0]);
	return CLI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "socket", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;

	ts_log_set_prog("taskscope");
	ts_log_set_sink(log_sink, NULL);
	/* '+': stop at the command; its own options are parsed by it. */
	cli_socket = getenv("TASKSCOPE_SOCKET");
	while ((opt = getopt_long(argc, argv, "+jqvhs:", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			cli_json = true;
			break;
		case 'q':
			cli_quiet = true;
			break;
		case 's':
			cli_socket = optarg;
			break;
		case 'v':
			ts_log_set_level(TS_LOG_DEBUG);
			break;
		case 'h':
			help(stdout, commands);
			return CLI_EXIT_OK;
		default:
			help(stderr, commands);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc && !strcmp(argv[optind], "help")) {
		help(stdout, commands);
		return CLI_EXIT_OK;
	}
	return cli_dispatch(commands, argc - optind, argv + optind);
}
