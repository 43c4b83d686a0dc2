// SPDX-License-Identifier: MIT
/*
 * Delegation never widens. Random parent and child rule sets, every query
 * in a universe of paths, addresses and ports: the intersection allows
 * exactly what both allow, judged by a brute-force oracle independent of
 * the library's own lookups.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "ts_keys.h"
#include "ts_ruleset.h"

#define ROUNDS 3000

static const char *const path_keys[] = { "/",      "/a/",     "/a/b/",   "/a/b/c/", "/b/",
					 "/a/c/",  "/a/f",    "/a/b/f",  "/b/f",    "/a/b/c/f",
					 "/x",     "/a/bb/" };
static const char *const path_queries[] = { "/",      "/a/",       "/a/b/",     "/a/b/c/",
					    "/b/",    "/a/c/",     "/a/f",      "/a/b/f",
					    "/b/f",   "/a/b/c/f",  "/x",        "/a/bb/",
					    "/a/b/c/d/e", "/a/bf", "/a/b",      "/zz",
					    "/a/bb/q", "/a/b/cc", "/b/g/h",    "/a/c/d/" };

static unsigned int rnd(unsigned int n)
{
	return (unsigned int)rand() % n;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct ts_rs_path *)a)->path, ((const struct ts_rs_path *)b)->path);
}

static struct ts_ruleset *random_paths(void)
{
	struct ts_ruleset *rs = calloc(1, sizeof(*rs));
	size_t i, n = sizeof(path_keys) / sizeof(path_keys[0]);

	rs->paths = calloc(n, sizeof(*rs->paths));
	for (i = 0; i < n; i++) {
		struct ts_rs_path *k;

		if (rnd(2))
			continue;
		k = &rs->paths[rs->npaths++];
		strcpy(k->path, path_keys[i]);
		k->v.rule_id = (__u32)i + 1;
		k->v.flags = ts_path_is_dir(k->path) ? 0 : TS_RULE_F_EXACT;
		if (rnd(5) == 0) {
			k->v.action = TS_ACTION_DENY;
		} else {
			k->v.action = TS_ACTION_ALLOW;
			k->v.access = (__u8)(1 + rnd(TS_ACCESS_ALL));
		}
	}
	qsort(rs->paths, rs->npaths, sizeof(*rs->paths), by_path);
	return rs;
}

/* The oracle: scan every key, keep the longest that matches. */
static __u32 oracle_access(const struct ts_ruleset *rs, const char *q)
{
	const struct ts_rs_path *best = NULL;
	size_t i;

	for (i = 0; i < rs->npaths; i++) {
		const struct ts_rs_path *k = &rs->paths[i];
		bool match = ts_path_is_dir(k->path) ? !strncmp(q, k->path, strlen(k->path))
						     : !strcmp(q, k->path);

		if (match && (!best || strlen(k->path) > strlen(best->path)))
			best = k;
	}
	return best && best->v.action == TS_ACTION_ALLOW && best->v.rule_id ? best->v.access : 0;
}

static void paths_never_widen(void **state)
{
	size_t nq = sizeof(path_queries) / sizeof(path_queries[0]), q;
	int round;

	(void)state;
	srand(1);
	for (round = 0; round < ROUNDS; round++) {
		struct ts_ruleset *p = random_paths(), *c = random_paths(), *r;

		assert_int_equal(ts_ruleset_intersect(p, c, &r), 0);
		for (q = 0; q < nq; q++) {
			__u32 want = oracle_access(p, path_queries[q]) &
				     oracle_access(c, path_queries[q]);
			__u32 got = oracle_access(r, path_queries[q]);

			if (got != want)
				fail_msg("round %d, '%s': intersection grants %#x, both grant %#x",
					 round, path_queries[q], got, want);
			/* The library's own lookup agrees with the oracle. */
			assert_int_equal(ts_ruleset_path_access(r, path_queries[q]), got);
		}
		ts_ruleset_free(p);
		ts_ruleset_free(c);
		ts_ruleset_free(r);
	}
}

static const struct {
	const char *addr;
	unsigned int bits;
} net_keys[] = {
	{ "::ffff:0.0.0.0", 96 },       { "::ffff:10.0.0.0", 104 }, { "::ffff:10.1.0.0", 112 },
	{ "::ffff:10.1.2.0", 120 },     { "::ffff:10.1.2.3", 128 }, { "::ffff:10.2.0.0", 112 },
	{ "2001:db8::", 32 },           { "::", 0 },
};

static const char *const addr_queries[] = { "::ffff:10.1.2.3", "::ffff:10.1.2.4", "::ffff:10.1.3.1",
					    "::ffff:10.2.0.1", "::ffff:10.3.0.1", "::ffff:11.0.0.1",
					    "2001:db8::1",     "2001:db9::1" };

#define PORTS 24

static struct ts_ruleset *random_nets(void)
{
	struct ts_ruleset *rs = calloc(1, sizeof(*rs));
	size_t i, n = sizeof(net_keys) / sizeof(net_keys[0]);

	rs->nets = calloc(n, sizeof(*rs->nets));
	for (i = 0; i < n; i++) {
		struct ts_rs_net *k;
		unsigned int r, count;

		if (rnd(2))
			continue;
		k = &rs->nets[rs->nnets++];
		inet_pton(AF_INET6, net_keys[i].addr, k->addr);
		k->bits = net_keys[i].bits;
		count = 1 + rnd(5);
		for (r = 0; r < count; r++) {
			struct ts_port_range *pr = &k->rule.ports[r];
			unsigned int a = 1 + rnd(PORTS - 2), b = 1 + rnd(PORTS - 2);

			pr->lo = (__u16)(a < b ? a : b);
			pr->hi = (__u16)(a < b ? b : a);
			pr->action = rnd(3) ? TS_ACTION_ALLOW : TS_ACTION_DENY;
			pr->rule_id = (__u32)(i * 10 + r + 1);
		}
		k->rule.count = count;
		k->own = count;
	}
	return rs;
}

static bool contains(const __u8 net[16], unsigned int bits, const __u8 a[16])
{
	unsigned int i;

	for (i = 0; i < bits; i++)
		if ((net[i / 8] ^ a[i / 8]) & (0x80 >> (i % 8)))
			return false;
	return true;
}

static bool oracle_net(const struct ts_ruleset *rs, const __u8 a[16], __u16 port)
{
	const struct ts_rs_net *best = NULL;
	size_t i;
	__u32 r;

	for (i = 0; i < rs->nnets; i++)
		if (contains(rs->nets[i].addr, rs->nets[i].bits, a) &&
		    (!best || rs->nets[i].bits > best->bits))
			best = &rs->nets[i];
	for (r = 0; best && r < best->rule.count; r++)
		if (port >= best->rule.ports[r].lo && port <= best->rule.ports[r].hi)
			return best->rule.ports[r].action == TS_ACTION_ALLOW;
	return false;
}

static void networks_never_widen(void **state)
{
	size_t nq = sizeof(addr_queries) / sizeof(addr_queries[0]), q;
	__u8 a[16];
	int round;
	__u16 port;

	(void)state;
	srand(2);
	for (round = 0; round < ROUNDS; round++) {
		struct ts_ruleset *p = random_nets(), *c = random_nets(), *r;

		assert_int_equal(ts_ruleset_intersect(p, c, &r), 0);
		for (q = 0; q < nq; q++) {
			inet_pton(AF_INET6, addr_queries[q], a);
			for (port = 0; port < PORTS; port++) {
				bool want = oracle_net(p, a, port) && oracle_net(c, a, port);
				bool got = oracle_net(r, a, port);

				if (got != want)
					fail_msg("round %d, %s port %u: intersection %s, both %s",
						 round, addr_queries[q], port,
						 got ? "allows" : "denies", want ? "allow" : "deny");
				assert_int_equal(ts_ruleset_net_allows(r, a, port), got);
			}
		}
		ts_ruleset_free(p);
		ts_ruleset_free(c);
		ts_ruleset_free(r);
	}
}

/* The examples the policy issue names, spelled out. */
static void narrower_prefix_common_access(void **state)
{
	struct ts_ruleset p = { 0 }, c = { 0 }, *r;
	struct ts_rs_path pp[2] = { 0 }, cp[1] = { 0 };

	(void)state;
	strcpy(pp[0].path, "/home/u/");
	pp[0].v = (struct ts_path_verdict){ 1, TS_ACTION_ALLOW, TS_ACCESS_READ | TS_ACCESS_WRITE, 0 };
	strcpy(pp[1].path, "/home/u/.ssh/");
	pp[1].v = (struct ts_path_verdict){ 2, TS_ACTION_DENY, 0, 0 };
	p.paths = pp;
	p.npaths = 2;
	p.ttl_ns = 600;
	p.mode = TS_MODE_AUDIT;
	p.flags = TS_TASK_F_RAW_SOCKETS;
	p.log_allow = 1;
	/* The child asks for read and exec on all of /home/. */
	strcpy(cp[0].path, "/home/");
	cp[0].v = (struct ts_path_verdict){ 7, TS_ACTION_ALLOW, TS_ACCESS_READ | TS_ACCESS_EXEC, 0 };
	c.paths = cp;
	c.npaths = 1;
	c.ttl_ns = 3600;
	c.mode = TS_MODE_ENFORCE;
	c.log_allow = 2;
	assert_int_equal(ts_ruleset_intersect(&p, &c, &r), 0);
	assert_int_equal(ts_ruleset_path_access(r, "/home/u/notes"), TS_ACCESS_READ);
	assert_int_equal(ts_ruleset_path_access(r, "/home/v/notes"), 0);
	assert_int_equal(ts_ruleset_path_access(r, "/home/u/.ssh/id_ed25519"), 0);
	/* The parent's deny is named as the parent's rule. */
	assert_int_equal(ts_ruleset_path_match(r, "/home/u/.ssh/x")->v.rule_id,
			 2 | TS_RULE_ID_PARENT);
	assert_int_equal(ts_ruleset_path_match(r, "/home/u/x")->v.rule_id, 7);
	assert_int_equal(r->ttl_ns, 600);
	assert_int_equal(r->mode, TS_MODE_ENFORCE);
	assert_int_equal(r->flags, 0);
	assert_int_equal(r->log_allow, 3);
	ts_ruleset_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(paths_never_widen),
		cmocka_unit_test(networks_never_widen),
		cmocka_unit_test(narrower_prefix_common_access),
	};

	return cmocka_run_group_tests_name("intersect", tests, NULL, NULL);
}
