// SPDX-License-Identifier: MIT
/* Policy parsing and validation: every error class, where it points, and
 * that nothing comes out of an invalid policy. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>
#include "ts_policy.h"

struct result {
	struct ts_diag diag;
	struct ts_policy *p;
	int err;
};

static void parse(struct result *r, const char *text)
{
	ts_diag_init(&r->diag, "t.json");
	r->err = ts_policy_parse("t.json", text, strlen(text), &r->diag, &r->p);
}

static void done(struct result *r)
{
	ts_diag_free(&r->diag);
	ts_policy_free(r->p);
}

/* The diagnostics hold one at line:col for `path` whose message contains
 * `needle`. */
static void expect_error(const struct result *r, int line, int col, const char *path,
			 const char *needle)
{
	size_t i;

	for (i = 0; i < r->diag.count; i++) {
		const struct ts_diag_entry *e = &r->diag.entries[i];

		if (e->line == line && e->column == col && !strcmp(e->path, path) &&
		    strstr(e->message, needle))
			return;
	}
	for (i = 0; i < r->diag.count; i++)
		fprintf(stderr, "  have %d:%d %s: %s\n", r->diag.entries[i].line,
			r->diag.entries[i].column, r->diag.entries[i].path,
			r->diag.entries[i].message);
	fail_msg("no error %d:%d %s '%s'", line, col, path, needle);
}

static void expect_invalid(struct result *r, size_t errors)
{
	assert_int_equal(r->err, -EINVAL);
	assert_null(r->p);
	assert_int_equal(r->diag.count, errors);
}

static void valid_policy_parses(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "{\"name\": \"ok\", \"ttl\": \"1h30m\", \"mode\": \"audit\",\n"
		  " \"log\": {\"allow\": [\"exec\", \"net\"], \"deny\": \"all\"},\n"
		  " \"exec\": {\"allow\": [\"/usr/bin/git\"]},\n"
		  " \"file\": {\"read\": [\"/usr/\"], \"write\": [\"${WORKDIR}/\"], \"deny\": [\"${HOME}/.ssh/\"]},\n"
		  " \"net\": {\"connect\": [\"api.github.com:443\", \"unix:@agent\"], \"deny\": [\"169.254.169.254\"], \"raw\": false}}");
	assert_int_equal(r.err, 0);
	assert_int_equal(r.diag.count, 0);
	assert_string_equal(r.p->name, "ok");
	assert_int_equal(r.p->ttl_ns, 5400ull * 1000000000ull);
	assert_int_equal(r.p->mode, TS_MODE_AUDIT);
	assert_int_equal(r.p->log_allow, (1u << TS_KIND_EXEC) | (1u << TS_KIND_NET));
	assert_int_equal(r.p->count, 7);
	/* Ids follow list order: exec, file.read, file.write, file.deny, net. */
	assert_int_equal(r.p->entries[0].list, TS_LIST_EXEC_ALLOW);
	assert_int_equal(r.p->entries[0].rule_id, 1);
	assert_int_equal(r.p->entries[0].line, 3);
	assert_int_equal(r.p->entries[0].column, 21);
	assert_string_equal(ts_policy_rule(r.p, 4)->text, "${HOME}/.ssh/");
	assert_string_equal(ts_policy_rule(r.p, 4)->json_path, "file.deny[0]");
	assert_int_equal(ts_policy_rule(r.p, 5)->net.kind, TS_TARGET_HOST);
	assert_int_equal(ts_policy_rule(r.p, 6)->net.kind, TS_TARGET_UNIX);
	assert_string_equal(ts_policy_rule(r.p, 6)->net.unix_path, "@agent");
	done(&r);
}

static void syntax_error_points_at_it(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "{\"name\": \"x\",\n \"exec\": {\"allow\": [\"/bin/sh\",]}}");
	expect_invalid(&r, 1);
	assert_int_equal(r.diag.entries[0].line, 2);
	assert_non_null(strstr(r.diag.entries[0].message, "invalid JSON"));
	done(&r);
	parse(&r, "{\"name\": \"x\", \"name\": \"y\"}");
	expect_invalid(&r, 1);
	assert_non_null(strstr(r.diag.entries[0].message, "duplicate"));
	done(&r);
	parse(&r, "[1, 2]");
	expect_invalid(&r, 1);
	expect_error(&r, 1, 1, "", "a policy is a JSON object");
	done(&r);
}

static void unknown_keys_everywhere(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "{\"name\": \"x\", \"exec\": {\"allow\": [\"/bin/sh\"], \"alow\": []},\n"
		  " \"fiel\": {}, \"net\": {\"conect\": []}, \"log\": {\"denied\": \"all\"}}");
	expect_invalid(&r, 4);
	expect_error(&r, 1, 46, "exec.alow", "unknown key 'alow' (did you mean 'allow'?)");
	expect_error(&r, 2, 2, "fiel", "did you mean 'file'?");
	expect_error(&r, 2, 22, "net.conect", "did you mean 'connect'?");
	expect_error(&r, 2, 45, "log.denied", "unknown key 'denied'");
	done(&r);
	parse(&r, "{\"name\": \"x\", \"exec\": {\"allow\": [\"/bin/sh\"]}, \"secret\": []}");
	expect_invalid(&r, 1);
	expect_error(&r, 1, 47, "secret", "did you mean 'secrets'?");
	done(&r);
}

static void wrong_types(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "{\"name\": 7, \"ttl\": 30, \"mode\": [], \"exec\": {\"allow\": \"/bin/sh\"},\n"
		  " \"file\": [], \"net\": {\"connect\": [true], \"raw\": \"yes\"}, \"description\": {}}");
	expect_invalid(&r, 8);
	expect_error(&r, 1, 10, "name", "expected a string, found a number");
	expect_error(&r, 1, 20, "ttl", "found a number");
	expect_error(&r, 1, 32, "mode", "found an array");
	expect_error(&r, 1, 54, "exec.allow", "expected an array of strings, found a string");
	expect_error(&r, 2, 10, "file", "expected an object, found an array");
	expect_error(&r, 2, 34, "net.connect[0]", "found a boolean");
	expect_error(&r, 2, 48, "net.raw", "expected true or false");
	expect_error(&r, 2, 71, "description", "found an object");
	done(&r);
}

static void bad_scalars(void **state)
{
	static const char *const bad_ttls[] = { "30x", "m30", "1m1h", "1h1h", "", "0s" };
	char text[256], quoted[16];
	struct result r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_ttls) / sizeof(bad_ttls[0]); i++) {
		snprintf(text, sizeof(text),
			 "{\"name\": \"x\", \"ttl\": \"%s\", \"exec\": {\"allow\": [\"/bin/sh\"]}}",
			 bad_ttls[i]);
		snprintf(quoted, sizeof(quoted), "'%s'", bad_ttls[i]);
		parse(&r, text);
		expect_invalid(&r, 1);
		expect_error(&r, 1, 22, "ttl", quoted);
		done(&r);
	}
	parse(&r, "{\"name\": \"-x\", \"mode\": \"permissive\", \"log\": {\"deny\": \"none\", "
		  "\"allow\": [\"disk\"]}, \"exec\": {\"allow\": [\"/bin/sh\"]}}");
	expect_invalid(&r, 4);
	expect_error(&r, 1, 10, "name", "start with a letter or digit");
	expect_error(&r, 1, 24, "mode", "\"enforce\" or \"audit\"");
	expect_error(&r, 1, 54, "log.deny", "denials are always logged");
	expect_error(&r, 1, 72, "log.allow[0]", "exec, file, net, guard");
	done(&r);
	parse(&r, "{\"ttl\": \"1h\", \"exec\": {\"allow\": [\"/bin/sh\"]}}");
	expect_invalid(&r, 1);
	expect_error(&r, 1, 1, "", "missing required key 'name'");
	done(&r);
}

static void bad_paths(void **state)
{
	char text[1024], longpath[TS_PATH_MAX + 2];
	struct result r;

	(void)state;
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	snprintf(text, sizeof(text),
		 "{\"name\": \"x\", \"file\": {\"read\": [\"etc/\", \"/a//b\", \"/a/./b\", \"/a/../b\",\n"
		 " \"${FOO}/x\", \"${USER}/x\", \"${HOME\", \"\", \"%s\"]}}",
		 longpath);
	parse(&r, text);
	expect_invalid(&r, 9);
	expect_error(&r, 1, 33, "file.read[0]", "path must be absolute");
	expect_error(&r, 1, 41, "file.read[1]", "'//'");
	expect_error(&r, 1, 50, "file.read[2]", "'.' components");
	expect_error(&r, 1, 60, "file.read[3]", "'..' components");
	expect_error(&r, 2, 2, "file.read[4]", "unknown variable '${FOO}'");
	expect_error(&r, 2, 14, "file.read[5]", "path must be absolute");
	expect_error(&r, 2, 27, "file.read[6]", "unterminated variable");
	expect_error(&r, 2, 37, "file.read[7]", "path is empty");
	expect_error(&r, 2, 41, "file.read[8]", "longer than the 247 bytes");
	done(&r);
}

static void bad_net_targets(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "{\"name\": \"x\", \"net\": {\"connect\": [\n"
		  "\"10.0.0.1/8:5432\", \"10.0.0.0/33\", \"10.0.0.0/8:0\", \"10.0.0.0/8:70000\",\n"
		  "\"1.2.3.4:9-1\", \"[::1\", \"[::1]x\", \"::1:80:\", \"300.1.1.1\", \"bad_host:80\",\n"
		  "\"unix:\", \"unix:run/x.sock\", \"[2001:db8::1]/32\"]}}");
	expect_invalid(&r, 13);
	expect_error(&r, 2, 1, "net.connect[0]", "has host bits set: write the network, 10.0.0.0/8");
	expect_error(&r, 2, 20, "net.connect[1]", "bad prefix length '/33'");
	expect_error(&r, 2, 35, "net.connect[2]", "bad port '0'");
	expect_error(&r, 2, 51, "net.connect[3]", "bad port '70000'");
	expect_error(&r, 3, 1, "net.connect[4]", "bad port range '9-1'");
	expect_error(&r, 3, 16, "net.connect[5]", "missing ']'");
	expect_error(&r, 3, 24, "net.connect[6]", "expected ':PORT' or '/BITS'");
	expect_error(&r, 3, 34, "net.connect[7]", "bad IPv6 address");
	expect_error(&r, 3, 45, "net.connect[8]", "bad IPv4 address '300.1.1.1'");
	expect_error(&r, 3, 58, "net.connect[9]", "neither an address nor a valid host name");
	expect_error(&r, 4, 1, "net.connect[10]", "needs a socket path");
	expect_error(&r, 4, 10, "net.connect[11]", "path must be absolute");
	expect_error(&r, 4, 29, "net.connect[12]", "host bits set");
	done(&r);
}

static void empty_policy_refused(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "{\"name\": \"x\"}");
	expect_invalid(&r, 1);
	expect_error(&r, 1, 1, "", "the policy allows nothing");
	done(&r);
	/* Denials alone allow nothing either. */
	parse(&r, "{\"name\": \"x\", \"file\": {\"deny\": [\"/etc/\"]}}");
	expect_invalid(&r, 1);
	done(&r);
}

static void secrets(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "{\"name\": \"x\", \"exec\": {\"allow\": [\"/bin/sh\"]}, \"secrets\": [\n"
		  "{\"name\": \"GH_TOKEN\", \"source\": \"exec:/usr/local/bin/mint --repo x\",\n"
		  " \"deliver\": [\"file\", \"env\"], \"revoke\": \"exec:/usr/local/bin/revoke\"},\n"
		  "{\"name\": \"db_password\", \"source\": \"file:${HOME}/.config/db\"}]}");
	assert_int_equal(r.err, 0);
	assert_int_equal(r.p->nsecrets, 2);
	assert_string_equal(r.p->secrets[0].name, "GH_TOKEN");
	assert_true(r.p->secrets[0].deliver_env && r.p->secrets[0].deliver_file);
	assert_string_equal(r.p->secrets[0].revoke, "exec:/usr/local/bin/revoke");
	assert_true(r.p->secrets[1].deliver_file && !r.p->secrets[1].deliver_env);
	assert_null(r.p->secrets[1].revoke);
	done(&r);
	parse(&r, "{\"name\": \"x\", \"exec\": {\"allow\": [\"/bin/sh\"]}, \"secrets\": [\n"
		  "{\"name\": \"9x\", \"source\": \"exec:mint\"},\n"
		  "{\"name\": \"a\", \"source\": \"file:rel\", \"deliver\": \"mail\"},\n"
		  "{\"name\": \"b\", \"source\": \"file:/etc/\", \"revoke\": \"rm -rf /\"},\n"
		  "{\"name\": \"b\", \"source\": \"http://vault\"}, {\"source\": \"file:/x\"}]}");
	expect_invalid(&r, 8);
	expect_error(&r, 2, 10, "secrets[0].name", "a secret needs a \"name\"");
	expect_error(&r, 2, 26, "secrets[0].source", "exec:/ABSOLUTE/PROGRAM");
	expect_error(&r, 3, 25, "secrets[1].source", "path must be absolute");
	expect_error(&r, 3, 48, "secrets[1].deliver", "deliver is");
	expect_error(&r, 4, 25, "secrets[2].source", "not a directory");
	expect_error(&r, 4, 49, "secrets[2].revoke", "revoke must be");
	expect_error(&r, 5, 25, "secrets[3].source", "source must be");
	expect_error(&r, 5, 42, "secrets[4]", "needs a \"name\"");
	done(&r);
	parse(&r, "{\"name\": \"x\", \"exec\": {\"allow\": [\"/bin/sh\"]}, \"secrets\": [\n"
		  "{\"name\": \"t\", \"source\": \"file:/a\"}, {\"name\": \"t\", \"source\": \"file:/b\"}]}");
	expect_invalid(&r, 1);
	expect_error(&r, 2, 46, "secrets[1].name", "secret name 't' is used twice");
	done(&r);
}

static void every_error_reported_in_order(void **state)
{
	struct result r;
	size_t i;

	(void)state;
	parse(&r, "{\"name\": \"x\",\n \"ttl\": \"1y\",\n \"exec\": {\"allow\": [\"rel\"]},\n"
		  " \"net\": {\"deny\": [\"1.2.3.4:0\"]}}");
	expect_invalid(&r, 3);
	for (i = 1; i < r.diag.count; i++)
		assert_true(r.diag.entries[i - 1].line <= r.diag.entries[i].line);
	expect_error(&r, 2, 9, "ttl", "bad duration");
	expect_error(&r, 3, 21, "exec.allow[0]", "absolute");
	expect_error(&r, 4, 19, "net.deny[0]", "bad port");
	done(&r);
}

static void rule_ids_are_deterministic(void **state)
{
	const char *text = "{\"name\": \"x\", \"net\": {\"connect\": [\"1.2.3.4:80\"]},\n"
			   " \"file\": {\"write\": [\"/w/\"], \"read\": [\"/r/\", \"/r2/\"]},\n"
			   " \"exec\": {\"allow\": [\"/bin/sh\"]}}";
	struct result a, b;
	size_t i;

	(void)state;
	parse(&a, text);
	parse(&b, text);
	assert_int_equal(a.err, 0);
	assert_int_equal(a.p->count, 5);
	for (i = 0; i < a.p->count; i++) {
		assert_int_equal(a.p->entries[i].rule_id, b.p->entries[i].rule_id);
		assert_string_equal(a.p->entries[i].text, b.p->entries[i].text);
	}
	/* Lists in a fixed order, whatever their order in the file. */
	assert_string_equal(ts_policy_rule(a.p, 1)->text, "/bin/sh");
	assert_string_equal(ts_policy_rule(a.p, 2)->text, "/r/");
	assert_string_equal(ts_policy_rule(a.p, 3)->text, "/r2/");
	assert_string_equal(ts_policy_rule(a.p, 4)->text, "/w/");
	assert_string_equal(ts_policy_rule(a.p, 5)->text, "1.2.3.4:80");
	assert_null(ts_policy_rule(a.p, 6));
	done(&a);
	done(&b);
}

static void oversized_input_refused(void **state)
{
	size_t n = TS_POLICY_MAX_BYTES + 2;
	char *big = malloc(n);
	struct ts_policy *p = NULL;
	struct ts_diag d;

	(void)state;
	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	ts_diag_init(&d, "big.json");
	assert_int_equal(ts_policy_parse("big.json", big, n, &d, &p), -EINVAL);
	assert_null(p);
	assert_non_null(strstr(d.entries[0].message, "more than"));
	ts_diag_free(&d);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_policy_parses),
		cmocka_unit_test(syntax_error_points_at_it),
		cmocka_unit_test(unknown_keys_everywhere),
		cmocka_unit_test(wrong_types),
		cmocka_unit_test(bad_scalars),
		cmocka_unit_test(bad_paths),
		cmocka_unit_test(bad_net_targets),
		cmocka_unit_test(empty_policy_refused),
		cmocka_unit_test(secrets),
		cmocka_unit_test(every_error_reported_in_order),
		cmocka_unit_test(rule_ids_are_deterministic),
		cmocka_unit_test(oversized_input_refused),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
