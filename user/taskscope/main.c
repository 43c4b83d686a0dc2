// SPDX-License-Identifier: MIT
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "ts_log.h"

bool cli_json;

static const struct cli_cmd commands[] = {
	{ "doctor", cmd_doctor, "doctor [--json]", "report whether this kernel can enforce" },
	{ "policy", cmd_policy, "policy check|explain ...", "validate and explain policies" },
	{ "version", cmd_version, "version [--json]", "print the version" },
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

	fprintf(out, "usage: taskscope [--json] [--verbose] COMMAND [ARGS]\n\ncommands:\n");
	for (c = cmds; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
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
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;

	ts_log_set_prog("taskscope");
	ts_log_set_sink(log_sink, NULL);
	/* '+': stop at the command; its own options are parsed by it. */
	while ((opt = getopt_long(argc, argv, "+jvh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			cli_json = true;
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
