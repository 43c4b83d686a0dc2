/* SPDX-License-Identifier: MIT */
/*
 * A compiled policy: the kernel's rule set for one task, as longest-match
 * tables (include/taskscope.h gives their semantics).
 *
 * Path rules carry the access they inherit from shorter allow rules above
 * them (up to the nearest deny), because the kernel reads only the longest
 * match. Network rules list their own port ranges (denies first) followed
 * by those of every broader network named, nearest first.
 */
#ifndef TS_RULESET_H
#define TS_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include "taskscope.h"
#include "ts_diag.h"
#include "ts_pathvar.h"
#include "ts_policy.h"

/* Rule ids that name the parent task's rule in a delegated rule set. */
#define TS_RULE_ID_PARENT 0x80000000u

struct ts_rs_path {
	char path[TS_PATH_MAX + 1];
	struct ts_path_verdict v; /* what the kernel gets */
	__u8 own_access;          /* what the entry itself grants */
};

struct ts_rs_net {
	__u8 addr[16];
	unsigned int bits;
	struct ts_net_rule rule;
	unsigned int own; /* leading ranges that belong to this network */
};

/* A network rule written as a host name: resolved at compile time, and
 * again by the daemon while the task lives. */
struct ts_rs_host {
	char host[TS_HOST_MAX + 1];
	__u16 lo, hi;
	__u8 action;
	__u32 rule_id;
};

struct ts_ruleset {
	struct ts_rs_path *paths; /* sorted by path */
	size_t npaths;
	struct ts_rs_net *nets;
	size_t nnets;
	struct ts_rs_host *hosts;
	size_t nhosts;
	__u32 mode, log_allow, flags; /* as in struct ts_task */
	__u64 ttl_ns;                 /* 0: none */
};

/* Resolve `host` to at most `max` addresses (IPv6 or v4-mapped). 0 and *n,
 * or a negative errno with a message in `why`. */
typedef int (*ts_resolve_fn)(const char *host, __u8 (*addrs)[16], size_t max, size_t *n,
			     char *why, size_t why_size, void *ctx);
/* getaddrinfo(3). */
int ts_resolve_system(const char *host, __u8 (*addrs)[16], size_t max, size_t *n, char *why,
		      size_t why_size, void *ctx);

/* Compile `p` for a task with `vars`. Host names go through `resolve`;
 * with NULL they are only listed in `hosts` (`policy check`, `explain`).
 * 0 and *out, or -EINVAL with every error in `diag`. */
int ts_policy_compile(const struct ts_policy *p, const struct ts_vars *vars,
		      ts_resolve_fn resolve, void *resolve_ctx, struct ts_diag *diag,
		      struct ts_ruleset **out);
void ts_ruleset_free(struct ts_ruleset *rs);

/*
 * Delegation: what both allow. Every path and network named by either
 * becomes a key holding the access both grant there (the narrower prefix,
 * the common access bits, the common ports); the parent's denies stay;
 * time-boxed grants of the parent are not passed on; the shorter ttl, the
 * stricter mode (enforce), the union of log flags, raw sockets only if both.
 * -E2BIG when a network would need more port ranges than a rule holds.
 */
int ts_ruleset_intersect(const struct ts_ruleset *parent, const struct ts_ruleset *child,
			 struct ts_ruleset **out);

/* The longest-match rule for `path` as the kernel would pick it (NULL:
 * none), and the access it grants there. */
const struct ts_rs_path *ts_ruleset_path_match(const struct ts_ruleset *rs, const char *path);
__u32 ts_ruleset_path_access(const struct ts_ruleset *rs, const char *path);
/* The longest-prefix network rule containing `addr` (NULL: none). */
const struct ts_rs_net *ts_ruleset_net_match(const struct ts_ruleset *rs, const __u8 addr[16]);
/* The longest network of `rs` that contains all of addr/bits (NULL: none). */
const struct ts_rs_net *ts_ruleset_net_within(const struct ts_ruleset *rs, const __u8 addr[16],
					      unsigned int bits);
/* Whether a connect to addr:port is allowed (first matching range). */
bool ts_ruleset_net_allows(const struct ts_ruleset *rs, const __u8 addr[16], __u16 port);

#endif /* TS_RULESET_H */
