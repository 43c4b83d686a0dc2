// SPDX-License-Identifier: MIT
/* Compiling policies: keys, inheritance, networks, variables, hosts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "ts_keys.h"
#include "ts_duration.h"
#include "ts_ruleset.h"

static const struct ts_vars vars = {
	.workdir = "/home/dev/proj",
	.home = "/home/dev",
	.user = "dev",
	.task_id = "00000000000000ab",
};

struct out {
	struct ts_diag diag;
	struct ts_policy *p;
	struct ts_ruleset *rs;
	int err;
};

/* A fake resolver: "two.example" has a public and a loopback address,
 * "meta.example" only the metadata address, others fail. */
static int fake_resolve(const char *host, __u8 (*addrs)[16], size_t max, size_t *n, char *why,
			size_t why_size, void *ctx)
{
	(void)max;
	(void)ctx;
	*n = 0;
	if (!strcmp(host, "two.example")) {
		inet_pton(AF_INET6, "::ffff:203.0.113.7", addrs[0]);
		inet_pton(AF_INET6, "::1", addrs[1]);
		inet_pton(AF_INET6, "2001:db8::7", addrs[2]);
		*n = 3;
		return 0;
	}
	if (!strcmp(host, "meta.example")) {
		inet_pton(AF_INET6, "::ffff:169.254.169.254", addrs[0]);
		*n = 1;
		return 0;
	}
	snprintf(why, why_size, "Name or service not known");
	return -EHOSTUNREACH;
}

static void compile(struct out *o, const char *text)
{
	memset(o, 0, sizeof(*o));
	ts_diag_init(&o->diag, "t.json");
	o->err = ts_policy_parse("t.json", text, strlen(text), &o->diag, &o->p);
	assert_int_equal(o->err, 0);
	o->err = ts_policy_compile(o->p, &vars, fake_resolve, NULL, &o->diag, &o->rs);
}

static void done(struct out *o)
{
	ts_diag_free(&o->diag);
	ts_ruleset_free(o->rs);
	ts_policy_free(o->p);
}

static const struct ts_rs_path *key(const struct out *o, const char *path)
{
	size_t i;

	for (i = 0; i < o->rs->npaths; i++)
		if (!strcmp(o->rs->paths[i].path, path))
			return &o->rs->paths[i];
	fail_msg("no key '%s'", path);
	return NULL;
}

static void v6(const char *text, __u8 out[16])
{
	assert_int_equal(inet_pton(AF_INET6, text, out), 1);
}

static void keys_merge_and_inherit(void **state)
{
	struct out o;

	(void)state;
	compile(&o, "{\"name\": \"x\",\n"
		    " \"exec\": {\"allow\": [\"/usr/bin/git\", \"/usr/lib/git-core/\"]},\n"
		    " \"file\": {\"read\": [\"/usr/\", \"${WORKDIR}/\"], \"write\": [\"${WORKDIR}/\", \"/tmp/\"],\n"
		    "          \"deny\": [\"${HOME}/.ssh/\", \"${WORKDIR}/secrets/\"]},\n"
		    " \"net\": {\"connect\": [\"unix:/run/app.sock\", \"unix:@agent\"]}}");
	assert_int_equal(o.err, 0);
	/* Exact files carry the NUL; directories do not. */
	assert_int_equal(key(&o, "/usr/bin/git")->v.flags, TS_RULE_F_EXACT);
	assert_int_equal(key(&o, "/usr/")->v.flags, 0);
	/* exec on git, plus the read it inherits from /usr/. */
	assert_int_equal(key(&o, "/usr/bin/git")->v.access, TS_ACCESS_EXEC | TS_ACCESS_READ);
	assert_int_equal(key(&o, "/usr/bin/git")->v.rule_id, 1);
	/* read and write on the same key merge; the lower id names it. */
	assert_int_equal(key(&o, "/home/dev/proj/")->v.access, TS_ACCESS_READ | TS_ACCESS_WRITE);
	assert_int_equal(key(&o, "/home/dev/proj/")->v.rule_id, 4);
	/* write implies read. */
	assert_int_equal(key(&o, "/tmp/")->v.access, TS_ACCESS_READ | TS_ACCESS_WRITE);
	/* A deny under an allow is a deny key. */
	assert_int_equal(key(&o, "/home/dev/proj/secrets/")->v.action, TS_ACTION_DENY);
	assert_int_equal(key(&o, "/home/dev/.ssh/")->v.rule_id, 7);
	assert_int_equal(key(&o, "/run/app.sock")->v.access, TS_ACCESS_CONNECT);
	assert_int_equal(key(&o, "@agent")->v.flags, TS_RULE_F_EXACT);
	/* Longest match, as the kernel reads it. */
	assert_int_equal(ts_ruleset_path_access(o.rs, "/usr/share/doc/x"), TS_ACCESS_READ);
	assert_int_equal(ts_ruleset_path_access(o.rs, "/home/dev/proj/src/a.c"),
			 TS_ACCESS_READ | TS_ACCESS_WRITE);
	assert_int_equal(ts_ruleset_path_access(o.rs, "/home/dev/proj/secrets/key"), 0);
	assert_int_equal(ts_ruleset_path_access(o.rs, "/home/dev/proj/secrets.txt"),
			 TS_ACCESS_READ | TS_ACCESS_WRITE);
	assert_int_equal(ts_ruleset_path_access(o.rs, "/usr/bin/gitk"), TS_ACCESS_READ);
	assert_int_equal(ts_ruleset_path_access(o.rs, "/etc/passwd"), 0);
	done(&o);
}

static void inheritance_stops_at_a_deny(void **state)
{
	struct out o;

	(void)state;
	compile(&o, "{\"name\": \"x\", \"file\": {\"write\": [\"/\"], \"deny\": [\"/etc/\"],\n"
		    " \"read\": [\"/etc/app/\"]}}");
	assert_int_equal(o.err, 0);
	/* /etc/app/ is below a deny: it keeps only its own read. */
	assert_int_equal(key(&o, "/etc/app/")->v.access, TS_ACCESS_READ);
	assert_int_equal(ts_ruleset_path_access(o.rs, "/etc/app/conf"), TS_ACCESS_READ);
	assert_int_equal(ts_ruleset_path_access(o.rs, "/etc/passwd"), 0);
	assert_int_equal(ts_ruleset_path_access(o.rs, "/var/x"), TS_ACCESS_READ | TS_ACCESS_WRITE);
	done(&o);
}

static void variables_expand(void **state)
{
	struct ts_vars no_home = vars;
	struct out o;

	(void)state;
	compile(&o, "{\"name\": \"x\", \"file\": {\"write\": [\"/tmp/${USER}-${TASK_ID}/\"]}}");
	assert_int_equal(o.err, 0);
	assert_non_null(key(&o, "/tmp/dev-00000000000000ab/"));
	done(&o);

	/* An undefined variable fails the compile, pointing at the entry. */
	memset(&o, 0, sizeof(o));
	ts_diag_init(&o.diag, "t.json");
	const char *text = "{\"name\": \"x\", \"file\": {\"read\": [\"${HOME}/x\"]}}";
	assert_int_equal(ts_policy_parse("t.json", text, strlen(text), &o.diag, &o.p), 0);
	no_home.home = NULL;
	assert_int_equal(ts_policy_compile(o.p, &no_home, NULL, NULL, &o.diag, &o.rs), -EINVAL);
	assert_null(o.rs);
	assert_int_equal(o.diag.count, 1);
	assert_string_equal(o.diag.entries[0].path, "file.read[0]");
	assert_non_null(strstr(o.diag.entries[0].message, "${HOME} is not defined"));
	done(&o);
}

static void too_long_after_expansion(void **state)
{
	char workdir[300];
	struct ts_vars deep = vars;
	struct out o;
	const char *text = "{\"name\": \"x\", \"file\": {\"read\": [\"${WORKDIR}/a\"]}}";

	(void)state;
	memset(workdir, 'w', sizeof(workdir) - 1);
	workdir[0] = '/';
	workdir[sizeof(workdir) - 1] = '\0';
	deep.workdir = workdir;
	memset(&o, 0, sizeof(o));
	ts_diag_init(&o.diag, "t.json");
	assert_int_equal(ts_policy_parse("t.json", text, strlen(text), &o.diag, &o.p), 0);
	assert_int_equal(ts_policy_compile(o.p, &deep, NULL, NULL, &o.diag, &o.rs), -EINVAL);
	assert_int_equal(o.diag.count, 1);
	assert_non_null(strstr(o.diag.entries[0].message, "beyond"));
	done(&o);
}

static void networks_own_then_inherited(void **state)
{
	const struct ts_rs_net *n;
	__u8 a[16];
	struct out o;

	(void)state;
	compile(&o, "{\"name\": \"x\", \"net\": {\"connect\": [\"10.0.0.0/8:443\", \"10.0.0.0/8:5432\",\n"
		    " \"10.1.0.0/16:80\"], \"deny\": [\"10.1.0.0/16:443\", \"10.1.2.3\"]}}");
	assert_int_equal(o.err, 0);
	assert_int_equal(o.rs->nnets, 3);
	v6("::ffff:10.1.9.9", a);
	n = ts_ruleset_net_match(o.rs, a);
	assert_int_equal(n->bits, 96 + 16);
	/* Own deny, own allow, then the /8's ranges, less the /8's 443 that the
	 * own deny shadows. */
	assert_int_equal(n->rule.count, 3);
	assert_int_equal(n->rule.ports[0].action, TS_ACTION_DENY);
	assert_int_equal(n->rule.ports[0].lo, 443);
	assert_int_equal(n->rule.ports[1].lo, 80);
	assert_int_equal(n->rule.ports[2].lo, 5432);
	assert_int_equal(n->rule.ports[2].action, TS_ACTION_ALLOW);
	assert_false(ts_ruleset_net_allows(o.rs, a, 443));
	assert_true(ts_ruleset_net_allows(o.rs, a, 80));
	assert_true(ts_ruleset_net_allows(o.rs, a, 5432));
	v6("::ffff:10.1.2.3", a);
	assert_false(ts_ruleset_net_allows(o.rs, a, 80));
	v6("::ffff:10.200.0.1", a);
	assert_true(ts_ruleset_net_allows(o.rs, a, 443));
	assert_false(ts_ruleset_net_allows(o.rs, a, 80));
	done(&o);
}

static void too_many_port_ranges(void **state)
{
	char text[2048];
	size_t used;
	struct out o;
	int i;

	(void)state;
	used = (size_t)snprintf(text, sizeof(text), "{\"name\": \"x\", \"net\": {\"connect\": [");
	for (i = 0; i < TS_NET_PORTS + 1; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used, "%s\"10.0.0.0/8:%d\"",
					 i ? ", " : "", 1000 + i);
	snprintf(text + used, sizeof(text) - used, "]}}");
	compile(&o, text);
	assert_int_equal(o.err, -EINVAL);
	assert_null(o.rs);
	assert_non_null(strstr(o.diag.entries[0].message, "more than 16 port ranges"));
	done(&o);
}

static void host_names(void **state)
{
	__u8 a[16];
	struct out o;

	(void)state;
	compile(&o, "{\"name\": \"x\", \"net\": {\"connect\": [\"two.example:443\"]}}");
	assert_int_equal(o.err, 0);
	/* Every address, except loopback: a name never admits it. */
	assert_int_equal(o.rs->nnets, 2);
	v6("::ffff:203.0.113.7", a);
	assert_true(ts_ruleset_net_allows(o.rs, a, 443));
	v6("2001:db8::7", a);
	assert_true(ts_ruleset_net_allows(o.rs, a, 443));
	v6("::1", a);
	assert_false(ts_ruleset_net_allows(o.rs, a, 443));
	assert_int_equal(o.rs->nhosts, 1);
	assert_string_equal(o.rs->hosts[0].host, "two.example");
	done(&o);

	compile(&o, "{\"name\": \"x\", \"net\": {\"connect\": [\"meta.example:80\"]}}");
	assert_int_equal(o.err, -EINVAL);
	assert_non_null(strstr(o.diag.entries[0].message, "never admits"));
	done(&o);

	compile(&o, "{\"name\": \"x\", \"net\": {\"connect\": [\"nowhere.example:80\"]}}");
	assert_int_equal(o.err, -EINVAL);
	assert_non_null(strstr(o.diag.entries[0].message, "cannot resolve 'nowhere.example'"));
	done(&o);

	/* An explicit CIDR may name the metadata address. */
	compile(&o, "{\"name\": \"x\", \"net\": {\"connect\": [\"169.254.169.254:80\"]}}");
	assert_int_equal(o.err, 0);
	done(&o);
}

static void forbidden_addresses(void **state)
{
	static const char *const bad[] = { "::ffff:127.0.0.1", "::1", "::ffff:169.254.169.254",
					   "fe80::1", "fd00:ec2::254", "::", "ff02::1",
					   "::ffff:100.100.100.200", "::ffff:224.0.0.1" };
	static const char *const good[] = { "::ffff:8.8.8.8", "2001:db8::1", "::ffff:10.0.0.1" };
	__u8 a[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v6(bad[i], a);
		assert_true(ts_addr_forbidden_for_hosts(a));
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v6(good[i], a);
		assert_false(ts_addr_forbidden_for_hosts(a));
	}
}

static void durations(void **state)
{
	char buf[32];
	__u64 ns;

	(void)state;
	assert_int_equal(ts_duration_parse("1d2h3m4s", &ns), 0);
	assert_int_equal(ns, (86400ull + 7200 + 180 + 4) * TS_NSEC_PER_SEC);
	ts_duration_format(ns, buf, sizeof(buf));
	assert_string_equal(buf, "1d2h3m4s");
	assert_int_equal(ts_duration_parse("90s", &ns), 0);
	ts_duration_format(ns, buf, sizeof(buf));
	assert_string_equal(buf, "1m30s");
	assert_int_equal(ts_duration_parse("366d", &ns), -ERANGE);
	assert_int_equal(ts_duration_parse("0m", &ns), -ERANGE);
	assert_int_equal(ts_duration_parse("5", &ns), -EINVAL);
	assert_int_equal(ts_duration_parse("5ms", &ns), -EINVAL);
	assert_int_equal(ts_duration_parse("-5s", &ns), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys_merge_and_inherit),
		cmocka_unit_test(inheritance_stops_at_a_deny),
		cmocka_unit_test(variables_expand),
		cmocka_unit_test(too_long_after_expansion),
		cmocka_unit_test(networks_own_then_inherited),
		cmocka_unit_test(too_many_port_ranges),
		cmocka_unit_test(host_names),
		cmocka_unit_test(forbidden_addresses),
		cmocka_unit_test(durations),
	};

	return cmocka_run_group_tests_name("compile", tests, NULL, NULL);
}
