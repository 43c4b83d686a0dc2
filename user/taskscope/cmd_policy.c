// SPDX-License-Identifier: MIT
/* taskscope policy check|explain */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "ts_duration.h"
#include "ts_names.h"
#include "ts_policy.h"
#include "ts_ruleset.h"
#include "ts_target.h"

static const struct cli_cmd policy_cmds[];

/* Variables as a task started here, by this user, would see them. */
static void vars_from_env(struct ts_vars *v, char *cwd, size_t size, const char *workdir)
{
	v->workdir = workdir ? realpath(workdir, cwd) : getcwd(cwd, size);
	v->home = getenv("HOME");
	v->user = getenv("USER");
	v->task_id = "0000000000000000";
}

/* Parse and compile one file: 0, or -EINVAL with the errors in `diag`. */
static int load(const char *file, const char *workdir, struct ts_diag *diag,
		struct ts_policy **p, struct ts_ruleset **rs)
{
	char cwd[PATH_MAX];
	struct ts_vars vars;
	int err;

	*rs = NULL;
	err = ts_policy_load(file, diag, p);
	if (err)
		return err;
	vars_from_env(&vars, cwd, sizeof(cwd), workdir);
	err = ts_policy_compile(*p, &vars, NULL, NULL, diag, rs);
	if (err) {
		ts_policy_free(*p);
		*p = NULL;
	}
	return err;
}

static int cmd_check(int argc, char **argv)
{
	json_t *out = cli_json ? json_array() : NULL;
	int i, failed = 0;

	if (argc < 2) {
		cli_error("'policy check' needs at least one FILE");
		return CLI_EXIT_USAGE;
	}
	for (i = 1; i < argc; i++) {
		struct ts_ruleset *rs;
		struct ts_policy *p;
		struct ts_diag diag;
		int err;

		ts_diag_init(&diag, argv[i]);
		err = load(argv[i], NULL, &diag, &p, &rs);
		if (err)
			failed++;
		if (out) {
			json_array_append_new(out, json_pack("{s:s, s:b, s:o}", "file", argv[i],
							     "valid", !err, "errors",
							     ts_diag_json(&diag)));
		} else if (err) {
			ts_diag_print(&diag, stderr);
			if (!diag.count)
				fprintf(stderr, "%s: cannot check: out of memory\n", argv[i]);
		} else {
			printf("%s: ok (policy '%s', %zu rules)\n", argv[i], p->name, p->count);
		}
		ts_diag_free(&diag);
		ts_ruleset_free(rs);
		ts_policy_free(p);
	}
	if (out)
		cli_json_print(out);
	return failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static json_t *source_json(const struct ts_policy *p, __u32 id)
{
	const struct ts_policy_entry *e = ts_policy_rule(p, id);

	if (!e)
		return json_null();
	return json_pack("{s:i, s:s, s:s, s:i, s:i}", "rule", id, "path", e->json_path, "text",
			 e->text, "line", e->line, "column", e->column);
}

static void print_source(const struct ts_policy *p, __u32 id)
{
	const struct ts_policy_entry *e = ts_policy_rule(p, id);

	if (e)
		printf("  #%-3u %s:%d", id, p->file, e->line);
	putchar('\n');
}

static json_t *explain_json(const struct ts_policy *p, const struct ts_ruleset *rs)
{
	json_t *paths = json_array(), *nets = json_array(), *hosts = json_array(),
	       *rules = json_array();
	char buf[64];
	size_t i;
	__u32 r;

	for (i = 0; i < rs->npaths; i++) {
		const struct ts_rs_path *k = &rs->paths[i];

		ts_access_text(k->v.access, buf, sizeof(buf));
		json_array_append_new(paths, json_pack("{s:s, s:s, s:s, s:b, s:i}", "key", k->path,
						       "action",
						       k->v.action == TS_ACTION_ALLOW ? "allow"
										      : "deny",
						       "access", buf, "exact",
						       !!(k->v.flags & TS_RULE_F_EXACT), "rule",
						       k->v.rule_id));
	}
	for (i = 0; i < rs->nnets; i++) {
		const struct ts_rs_net *n = &rs->nets[i];
		json_t *ports = json_array();

		for (r = 0; r < n->rule.count; r++)
			json_array_append_new(
				ports, json_pack("{s:i, s:i, s:s, s:i}", "lo", n->rule.ports[r].lo,
						 "hi", n->rule.ports[r].hi, "action",
						 n->rule.ports[r].action == TS_ACTION_ALLOW ? "allow"
											    : "deny",
						 "rule", n->rule.ports[r].rule_id));
		ts_target_format_net(n->addr, n->bits, buf, sizeof(buf));
		json_array_append_new(nets, json_pack("{s:s, s:o}", "network", buf, "ports", ports));
	}
	for (i = 0; i < rs->nhosts; i++)
		json_array_append_new(hosts, json_pack("{s:s, s:i, s:i, s:s, s:i}", "host",
						       rs->hosts[i].host, "lo", rs->hosts[i].lo,
						       "hi", rs->hosts[i].hi, "action",
						       rs->hosts[i].action == TS_ACTION_ALLOW
							       ? "allow"
							       : "deny",
						       "rule", rs->hosts[i].rule_id));
	for (i = 0; i < p->count; i++)
		json_array_append_new(rules, source_json(p, p->entries[i].rule_id));
	ts_duration_format(rs->ttl_ns, buf, sizeof(buf));
	return json_pack("{s:s, s:s, s:s, s:s?, s:o, s:o, s:o, s:o}", "policy", p->name, "file",
			 p->file, "mode", rs->mode == TS_MODE_AUDIT ? "audit" : "enforce", "ttl",
			 rs->ttl_ns ? buf : NULL, "paths", paths, "networks", nets, "hosts", hosts,
			 "rules", rules);
}

static void explain_text(const struct ts_policy *p, const struct ts_ruleset *rs)
{
	char buf[64];
	size_t i;
	__u32 r;

	ts_duration_format(rs->ttl_ns, buf, sizeof(buf));
	printf("policy %s (%s): mode %s, ttl %s\n", p->name, p->file,
	       rs->mode == TS_MODE_AUDIT ? "audit" : "enforce", rs->ttl_ns ? buf : "none");
	printf("\npath rules (exec, file, unix; the longest match decides alone):\n");
	for (i = 0; i < rs->npaths; i++) {
		const struct ts_rs_path *k = &rs->paths[i];

		ts_access_text(k->v.access, buf, sizeof(buf));
		printf("  %-40s %-6s %-22s", k->path,
		       k->v.action == TS_ACTION_ALLOW ? "allow" : "deny", buf);
		print_source(p, k->v.rule_id);
	}
	printf("\nnetwork rules (the longest prefix decides; its ports in order):\n");
	for (i = 0; i < rs->nnets; i++) {
		const struct ts_rs_net *n = &rs->nets[i];

		ts_target_format_net(n->addr, n->bits, buf, sizeof(buf));
		for (r = 0; r < n->rule.count; r++) {
			const struct ts_port_range *pr = &n->rule.ports[r];
			char ports[16];

			snprintf(ports, sizeof(ports), "%u-%u", pr->lo, pr->hi);
			printf("  %-40s %-6s %-22s", r ? "" : buf,
			       pr->action == TS_ACTION_ALLOW ? "allow" : "deny", ports);
			print_source(p, pr->rule_id);
		}
	}
	if (rs->nhosts)
		printf("\nhost names (resolved when a task starts, and again while it runs):\n");
	for (i = 0; i < rs->nhosts; i++) {
		snprintf(buf, sizeof(buf), "%u-%u", rs->hosts[i].lo, rs->hosts[i].hi);
		printf("  %-40s %-6s %-22s", rs->hosts[i].host,
		       rs->hosts[i].action == TS_ACTION_ALLOW ? "allow" : "deny", buf);
		print_source(p, rs->hosts[i].rule_id);
	}
	printf("\nrules, as events name them:\n");
	for (i = 0; i < p->count; i++) {
		const struct ts_policy_entry *e = &p->entries[i];

		printf("  #%-3u %s:%d:%d  %-18s %s\n", e->rule_id, p->file, e->line, e->column,
		       e->json_path, e->text);
	}
}

static int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "workdir", required_argument, NULL, 'w' },
		{ 0 },
	};
	const char *workdir = NULL;
	struct ts_ruleset *rs;
	struct ts_policy *p;
	struct ts_diag diag;
	int opt, err;

	optind = 0; /* glibc: 0 rescans from scratch */
	while ((opt = getopt_long(argc, argv, "w:", opts, NULL)) != -1) {
		if (opt != 'w')
			return cli_usage(&policy_cmds[1]);
		workdir = optarg;
	}
	if (optind != argc - 1)
		return cli_usage(&policy_cmds[1]);
	ts_diag_init(&diag, argv[optind]);
	err = load(argv[optind], workdir, &diag, &p, &rs);
	if (err) {
		if (cli_json)
			cli_json_print(json_pack("{s:o}", "errors", ts_diag_json(&diag)));
		else
			ts_diag_print(&diag, stderr);
		ts_diag_free(&diag);
		return CLI_EXIT_FAIL;
	}
	if (cli_json)
		cli_json_print(explain_json(p, rs));
	else
		explain_text(p, rs);
	ts_diag_free(&diag);
	ts_ruleset_free(rs);
	ts_policy_free(p);
	return CLI_EXIT_OK;
}

static const struct cli_cmd policy_cmds[] = {
	{ "check", cmd_check, "policy check FILE...", "validate policies" },
	{ "explain", cmd_explain, "policy explain [--workdir DIR] FILE",
	  "show the compiled rules and where each comes from" },
	{ 0 },
};

int cmd_policy(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: taskscope policy check FILE...\n"
				"       taskscope policy explain [--workdir DIR] FILE\n");
		return CLI_EXIT_USAGE;
	}
	return cli_dispatch(policy_cmds, argc - 1, argv + 1);
}
