// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: any bytes through the policy parser, the compiler and
 * the delegation intersection. Under ASan+UBSan a crash, a leak or
 * undefined behaviour is a finding; so is an intersection of a rule set
 * with itself that grants anything the rule set does not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "ts_keys.h"
#include "ts_ruleset.h"

static int fuzz_resolve(const char *host, __u8 (*addrs)[16], size_t max, size_t *n, char *why,
			size_t why_size, void *ctx)
{
	(void)ctx;
	(void)why;
	(void)why_size;
	*n = 0;
	if (max < 2)
		return 0;
	/* Deterministic: an address derived from the name, and loopback. */
	ts_addr_v4_mapped(addrs[0], htonl(0x0a000000u | (uint32_t)(strlen(host) & 0xffff)));
	inet_pton(AF_INET6, "::1", addrs[1]);
	*n = 2;
	return 0;
}

static void self_intersection_is_identity(const struct ts_ruleset *rs)
{
	struct ts_ruleset *x;
	size_t i;

	if (ts_ruleset_intersect(rs, rs, &x))
		return; /* -E2BIG is an answer */
	for (i = 0; i < rs->npaths; i++)
		if (ts_ruleset_path_access(x, rs->paths[i].path) !=
		    ts_ruleset_path_access(rs, rs->paths[i].path))
			abort();
	for (i = 0; i < rs->nnets; i++) {
		__u16 port;

		for (port = 0; port < 1024; port += 7)
			if (ts_ruleset_net_allows(x, rs->nets[i].addr, port) !=
			    ts_ruleset_net_allows(rs, rs->nets[i].addr, port))
				abort();
	}
	ts_ruleset_free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ts_vars vars = {
		.workdir = "/home/fuzz/work",
		.home = "/home/fuzz",
		.user = "fuzz",
		.task_id = "0123456789abcdef",
	};
	struct ts_ruleset *rs;
	struct ts_policy *p;
	struct ts_diag d;

	ts_diag_init(&d, "fuzz.json");
	if (!ts_policy_parse("fuzz.json", (const char *)data, size, &d, &p)) {
		if (!ts_policy_compile(p, &vars, fuzz_resolve, NULL, &d, &rs)) {
			self_intersection_is_identity(rs);
			ts_ruleset_free(rs);
		}
		ts_policy_free(p);
	}
	ts_diag_free(&d);
	return 0;
}
