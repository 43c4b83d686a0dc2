// SPDX-License-Identifier: MIT
#include <stdio.h>
#include "cli.h"
#include "ts_host.h"

static const char *const status_names[] = {
	[TS_CHECK_OK] = "ok",
	[TS_CHECK_WARN] = "warn",
	[TS_CHECK_FAIL] = "fail",
};

static json_t *report_json(const struct ts_host_report *r)
{
	json_t *checks = json_array();
	int i;

	for (i = 0; i < TS_HOST_CHECKS; i++) {
		const struct ts_check *c = &r->checks[i];

		json_array_append_new(checks, json_pack("{s:s, s:s, s:s, s:s?}", "name", c->name,
							"status", status_names[c->status],
							"value", c->value, "fix", c->fix));
	}
	return json_pack("{s:s, s:o}", "verdict", status_names[ts_host_verdict(r)], "checks",
			 checks);
}

int cmd_doctor(int argc, char **argv)
{
	struct ts_host_report r;
	int i;

	(void)argv;
	if (argc > 1) {
		cli_error("'doctor' takes no arguments");
		return CLI_EXIT_USAGE;
	}
	ts_host_probe(&r);
	if (cli_json) {
		cli_json_print(report_json(&r));
	} else {
		printf("%-13s %-6s %s\n", "CHECK", "STATUS", "VALUE");
		for (i = 0; i < TS_HOST_CHECKS; i++) {
			const struct ts_check *c = &r.checks[i];

			printf("%-13s %-6s %s\n", c->name, status_names[c->status], c->value);
			if (c->fix)
				printf("%-13s %-6s fix: %s\n", "", "", c->fix);
		}
		printf("verdict: %s\n", status_names[ts_host_verdict(&r)]);
	}
	return ts_host_verdict(&r) == TS_CHECK_FAIL ? CLI_EXIT_HOST : CLI_EXIT_OK;
}
