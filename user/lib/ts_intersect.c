// SPDX-License-Identifier: MIT
/*
 * Delegation: the rule set that allows only what two rule sets both allow.
 *
 * Both are longest-match tables. Take as keys every path (and network) that
 * either names, and give each key what both grant there. For any query, the
 * longest key of the union that matches it has, below it, no longer key of
 * either table that matches the query; so each table's answer at that key
 * is its answer for the query, and the result answers with their
 * intersection. Nothing either set refuses can be allowed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ts_keys.h"
#include "ts_ruleset.h"

/* What `rs` grants at key `path` (0 when nothing or a deny). */
static __u32 grant_at(const struct ts_ruleset *rs, const char *path,
		      const struct ts_rs_path **match)
{
	*match = ts_ruleset_path_match(rs, path);
	return ts_ruleset_path_access(rs, path);
}

static void intersect_key(const struct ts_ruleset *p, const struct ts_ruleset *c,
			  const char *path, struct ts_rs_path *out)
{
	const struct ts_rs_path *mp, *mc;
	__u32 ap = grant_at(p, path, &mp), ac = grant_at(c, path, &mc);
	__u32 access = ap & ac;

	memset(out, 0, sizeof(*out));
	memcpy(out->path, path, strlen(path) + 1);
	out->v.flags = ts_path_is_dir(path) ? 0 : TS_RULE_F_EXACT;
	out->v.access = (__u8)access;
	out->own_access = (__u8)access;
	out->v.action = access ? TS_ACTION_ALLOW : TS_ACTION_DENY;
	/* Name one rule: the child's request where something is granted; where
	 * nothing is, the parent's rule if the parent refused. */
	if (!access && !ap && mp && mp->v.rule_id)
		out->v.rule_id = mp->v.rule_id | TS_RULE_ID_PARENT;
	else if (mc && mc->v.rule_id)
		out->v.rule_id = mc->v.rule_id;
	else if (mp && mp->v.rule_id)
		out->v.rule_id = mp->v.rule_id | TS_RULE_ID_PARENT;
}

static int intersect_paths(const struct ts_ruleset *p, const struct ts_ruleset *c,
			   struct ts_ruleset *out)
{
	size_t i = 0, j = 0, n = 0;

	out->paths = calloc(p->npaths + c->npaths + 1, sizeof(*out->paths));
	if (!out->paths)
		return -ENOMEM;
	/* Both are sorted: walk them as one sorted union of keys. */
	while (i < p->npaths || j < c->npaths) {
		const char *key;
		int d;

		if (i == p->npaths)
			d = 1;
		else if (j == c->npaths)
			d = -1;
		else
			d = strcmp(p->paths[i].path, c->paths[j].path);
		key = d <= 0 ? p->paths[i].path : c->paths[j].path;
		intersect_key(p, c, key, &out->paths[n++]);
		if (d <= 0)
			i++;
		if (d >= 0)
			j++;
	}
	out->npaths = n;
	return 0;
}

/* A port interval allowed by one rule. */
struct iv {
	__u32 lo, hi;
	__u32 rule_id;
};

#define MAX_IVS 512 /* 16 ranges can split 17 open intervals each */

/* The ports a first-match list allows, as sorted disjoint intervals. */
static size_t allowed_ports(const struct ts_rs_net *n, struct iv *out)
{
	struct iv open[MAX_IVS] = { { 0, 65535, 0 } }, next[MAX_IVS];
	size_t nopen = 1, nout = 0, i, k, m;
	__u32 r;

	for (r = 0; n && r < n->rule.count; r++) {
		const struct ts_port_range *pr = &n->rule.ports[r];

		if (pr->expires_ns)
			continue; /* time-boxed grants are not delegated */
		for (i = 0, m = 0; i < nopen; i++) {
			struct iv o = open[i];
			__u32 lo = o.lo > pr->lo ? o.lo : pr->lo;
			__u32 hi = o.hi < pr->hi ? o.hi : pr->hi;

			if (lo > hi) {
				next[m++] = o;
				continue;
			}
			if (pr->action == TS_ACTION_ALLOW && nout < MAX_IVS)
				out[nout++] = (struct iv){ lo, hi, pr->rule_id };
			if (o.lo < lo && m < MAX_IVS)
				next[m++] = (struct iv){ o.lo, lo - 1, 0 };
			if (hi < o.hi && m < MAX_IVS)
				next[m++] = (struct iv){ hi + 1, o.hi, 0 };
		}
		memcpy(open, next, m * sizeof(*open));
		nopen = m;
	}
	/* Sort by lo (few entries: insertion sort). */
	for (i = 1; i < nout; i++)
		for (k = i; k > 0 && out[k - 1].lo > out[k].lo; k--) {
			struct iv t = out[k];

			out[k] = out[k - 1];
			out[k - 1] = t;
		}
	return nout;
}

static int intersect_net_key(const struct ts_ruleset *p, const struct ts_ruleset *c,
			     const __u8 addr[16], unsigned int bits, struct ts_rs_net *out)
{
	struct iv ap[MAX_IVS], ac[MAX_IVS];
	size_t np = allowed_ports(ts_ruleset_net_within(p, addr, bits), ap);
	size_t nc = allowed_ports(ts_ruleset_net_within(c, addr, bits), ac);
	size_t i = 0, j = 0;

	memset(out, 0, sizeof(*out));
	memcpy(out->addr, addr, 16);
	out->bits = bits;
	while (i < np && j < nc) {
		__u32 lo = ap[i].lo > ac[j].lo ? ap[i].lo : ac[j].lo;
		__u32 hi = ap[i].hi < ac[j].hi ? ap[i].hi : ac[j].hi;

		if (lo <= hi) {
			struct ts_port_range *last =
				out->rule.count ? &out->rule.ports[out->rule.count - 1] : NULL;

			if (last && last->rule_id == ac[j].rule_id && last->hi + 1u == lo) {
				last->hi = (__u16)hi;
			} else {
				if (out->rule.count == TS_NET_PORTS)
					return -E2BIG;
				last = &out->rule.ports[out->rule.count++];
				last->lo = (__u16)lo;
				last->hi = (__u16)hi;
				last->rule_id = ac[j].rule_id;
				last->action = TS_ACTION_ALLOW;
			}
		}
		if (ap[i].hi < ac[j].hi)
			i++;
		else
			j++;
	}
	out->own = out->rule.count;
	return 0;
}

static bool same_net(const struct ts_rs_net *a, const struct ts_rs_net *b)
{
	return a->bits == b->bits && !memcmp(a->addr, b->addr, 16);
}

static int intersect_nets(const struct ts_ruleset *p, const struct ts_ruleset *c,
			  struct ts_ruleset *out)
{
	size_t i, k, n = 0;
	int err;

	out->nets = calloc(p->nnets + c->nnets + 1, sizeof(*out->nets));
	if (!out->nets)
		return -ENOMEM;
	for (i = 0; i < p->nnets + c->nnets; i++) {
		const struct ts_rs_net *key = i < p->nnets ? &p->nets[i] : &c->nets[i - p->nnets];

		for (k = 0; k < n && !same_net(&out->nets[k], key); k++)
			;
		if (k < n)
			continue;
		err = intersect_net_key(p, c, key->addr, key->bits, &out->nets[n]);
		if (err)
			return err;
		n++;
	}
	out->nnets = n;
	return 0;
}

int ts_ruleset_intersect(const struct ts_ruleset *parent, const struct ts_ruleset *child,
			 struct ts_ruleset **out)
{
	struct ts_ruleset *rs = calloc(1, sizeof(*rs));
	int err;

	*out = NULL;
	if (!rs)
		return -ENOMEM;
	err = intersect_paths(parent, child, rs);
	if (!err)
		err = intersect_nets(parent, child, rs);
	if (err) {
		ts_ruleset_free(rs);
		return err;
	}
	rs->mode = parent->mode == TS_MODE_ENFORCE || child->mode == TS_MODE_ENFORCE
			   ? TS_MODE_ENFORCE
			   : TS_MODE_AUDIT;
	rs->log_allow = parent->log_allow | child->log_allow;
	rs->flags = parent->flags & child->flags;
	if (!parent->ttl_ns || (child->ttl_ns && child->ttl_ns < parent->ttl_ns))
		rs->ttl_ns = child->ttl_ns;
	else
		rs->ttl_ns = parent->ttl_ns;
	/* Host names are the child's; re-resolving them must stay inside the
	 * parent: the daemon intersects again after each resolution. */
	*out = rs;
	return 0;
}
