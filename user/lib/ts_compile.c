// SPDX-License-Identifier: MIT
/* Compiling a policy into a rule set (ts_ruleset.h). */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include "ts_keys.h"
#include "ts_ruleset.h"
#include "ts_target.h"

#define MAX_HOST_ADDRS 32

/* One entry of the policy, on its way to a key. */
struct raw_path {
	char path[TS_PATH_MAX + 1];
	__u8 access;
	bool deny;
	__u32 id;
};

struct raw_net {
	__u8 addr[16];
	unsigned int bits;
	struct ts_port_range range;
	const struct ts_policy_entry *src;
};

struct compile {
	const struct ts_policy *p;
	struct ts_diag *diag;
	struct raw_path *paths;
	size_t npaths, cap_paths;
	struct raw_net *nets;
	size_t nnets, cap_nets;
	struct ts_ruleset *rs;
	int err; /* -ENOMEM */
};

static void *grow(void *arr, size_t *cap, size_t n, size_t size)
{
	size_t c;

	if (n < *cap)
		return arr;
	c = *cap ? 2 * *cap : 16;
	arr = realloc(arr, c * size);
	if (arr)
		*cap = c;
	return arr;
}

static int entry_error(struct compile *c, const struct ts_policy_entry *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int entry_error(struct compile *c, const struct ts_policy_entry *e, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ts_diag_add(c->diag, e->line, e->column, e->json_path, "%s", msg) == -ENOMEM)
		c->err = -ENOMEM;
	return -EINVAL;
}

static void add_path(struct compile *c, const struct ts_policy_entry *e, const char *tmpl,
		     const struct ts_vars *vars, __u8 access, bool deny)
{
	struct raw_path *r, *arr;
	char why[512];

	arr = grow(c->paths, &c->cap_paths, c->npaths, sizeof(*arr));
	if (!arr) {
		c->err = -ENOMEM;
		return;
	}
	c->paths = arr;
	r = &arr[c->npaths];
	if (ts_path_expand(tmpl, vars, r->path, sizeof(r->path), why, sizeof(why))) {
		entry_error(c, e, "%s", why);
		return;
	}
	r->access = access;
	r->deny = deny;
	r->id = e->rule_id;
	c->npaths++;
}

static void add_net(struct compile *c, const struct ts_policy_entry *e, const __u8 addr[16],
		    unsigned int bits, bool deny)
{
	struct raw_net *r, *arr;

	arr = grow(c->nets, &c->cap_nets, c->nnets, sizeof(*arr));
	if (!arr) {
		c->err = -ENOMEM;
		return;
	}
	c->nets = arr;
	r = &arr[c->nnets++];
	memset(r, 0, sizeof(*r));
	memcpy(r->addr, addr, 16);
	r->bits = bits;
	r->range.lo = e->net.port_lo;
	r->range.hi = e->net.port_hi;
	r->range.rule_id = e->rule_id;
	r->range.action = deny ? TS_ACTION_DENY : TS_ACTION_ALLOW;
	r->src = e;
}

static void add_host(struct compile *c, const struct ts_policy_entry *e, ts_resolve_fn resolve,
		     void *rctx, bool deny)
{
	__u8 addrs[MAX_HOST_ADDRS][16];
	size_t n = 0, i, kept = 0;
	struct ts_rs_host *h, *arr;
	size_t cap = c->rs->nhosts;
	char why[256] = "";

	if (resolve && resolve(e->net.host, addrs, MAX_HOST_ADDRS, &n, why, sizeof(why), rctx)) {
		entry_error(c, e, "cannot resolve '%s': %s", e->net.host, why);
		return;
	}
	for (i = 0; i < n; i++) {
		if (!deny && ts_addr_forbidden_for_hosts(addrs[i]))
			continue; /* only an explicit CIDR may admit these */
		add_net(c, e, addrs[i], 128, deny);
		kept++;
	}
	if (resolve && !kept) {
		entry_error(c, e,
			    "'%s' resolves only to loopback, link-local or metadata addresses, "
			    "which a host name never admits: write the address itself to allow it",
			    e->net.host);
		return;
	}
	arr = realloc(c->rs->hosts, (cap + 1) * sizeof(*arr));
	if (!arr) {
		c->err = -ENOMEM;
		return;
	}
	c->rs->hosts = arr;
	h = &arr[c->rs->nhosts++];
	memset(h, 0, sizeof(*h));
	memcpy(h->host, e->net.host, sizeof(h->host));
	h->lo = e->net.port_lo;
	h->hi = e->net.port_hi;
	h->action = deny ? TS_ACTION_DENY : TS_ACTION_ALLOW;
	h->rule_id = e->rule_id;
}

static void collect(struct compile *c, const struct ts_vars *vars, ts_resolve_fn resolve,
		    void *rctx)
{
	size_t i;

	for (i = 0; i < c->p->count && !c->err; i++) {
		const struct ts_policy_entry *e = &c->p->entries[i];
		bool deny = e->list == TS_LIST_FILE_DENY || e->list == TS_LIST_NET_DENY;

		switch (e->list) {
		case TS_LIST_EXEC_ALLOW:
			add_path(c, e, e->text, vars, TS_ACCESS_EXEC, false);
			break;
		case TS_LIST_FILE_READ:
			add_path(c, e, e->text, vars, TS_ACCESS_READ, false);
			break;
		case TS_LIST_FILE_WRITE: /* write implies read */
			add_path(c, e, e->text, vars, TS_ACCESS_READ | TS_ACCESS_WRITE, false);
			break;
		case TS_LIST_FILE_DENY:
			add_path(c, e, e->text, vars, 0, true);
			break;
		case TS_LIST_NET_CONNECT:
		case TS_LIST_NET_DENY:
			if (e->net.kind == TS_TARGET_UNIX)
				add_path(c, e, e->net.unix_path, vars, deny ? 0 : TS_ACCESS_CONNECT,
					 deny);
			else if (e->net.kind == TS_TARGET_HOST)
				add_host(c, e, resolve, rctx, deny);
			else
				add_net(c, e, e->net.addr, e->net.bits, deny);
			break;
		default:
			break;
		}
	}
}

static int by_path(const void *a, const void *b)
{
	const struct raw_path *x = a, *y = b;
	int d = strcmp(x->path, y->path);

	return d ? d : (x->id > y->id) - (x->id < y->id);
}

static int by_key_path(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ts_rs_path *)elem)->path);
}

/* One key per path: allows merge their access, a deny wins; the lowest
 * rule id names the key. Then every allow inherits from the allow rules
 * above it, up to the nearest deny. */
static void build_paths(struct compile *c)
{
	struct ts_rs_path *out;
	size_t i, j, n = 0;
	char prefix[TS_PATH_MAX + 1];

	if (c->npaths > 1)
		qsort(c->paths, c->npaths, sizeof(*c->paths), by_path);
	out = calloc(c->npaths ? c->npaths : 1, sizeof(*out));
	if (!out) {
		c->err = -ENOMEM;
		return;
	}
	for (i = 0; i < c->npaths; i = j) {
		struct ts_rs_path *k = &out[n++];
		__u32 allow_id = 0, deny_id = 0;
		__u8 access = 0;

		for (j = i; j < c->npaths && !strcmp(c->paths[j].path, c->paths[i].path); j++) {
			const struct raw_path *r = &c->paths[j];

			if (r->deny) {
				if (!deny_id)
					deny_id = r->id;
			} else {
				access |= r->access;
				if (!allow_id)
					allow_id = r->id;
			}
		}
		memcpy(k->path, c->paths[i].path, sizeof(k->path));
		k->v.flags = ts_path_is_dir(k->path) ? 0 : TS_RULE_F_EXACT;
		if (deny_id) {
			k->v.rule_id = deny_id;
			k->v.action = TS_ACTION_DENY;
		} else {
			k->v.rule_id = allow_id;
			k->v.action = TS_ACTION_ALLOW;
			k->own_access = access;
			k->v.access = access;
		}
	}
	for (i = 0; i < n; i++) {
		struct ts_rs_path *k = &out[i];
		size_t len = strlen(k->path);

		if (k->v.action != TS_ACTION_ALLOW)
			continue;
		/* Ancestors: every prefix ending in '/', nearest first. */
		for (j = len - 1 - (ts_path_is_dir(k->path) ? 1 : 0); j < len; j--) {
			const struct ts_rs_path *a;

			if (k->path[j] != '/')
				continue;
			memcpy(prefix, k->path, j + 1);
			prefix[j + 1] = '\0';
			a = bsearch(prefix, out, n, sizeof(*out), by_key_path);
			if (!a)
				continue;
			if (a->v.action == TS_ACTION_DENY)
				break;
			k->v.access |= a->own_access;
		}
	}
	c->rs->paths = out;
	c->rs->npaths = n;
}

static int by_net(const void *a, const void *b)
{
	const struct raw_net *x = a, *y = b;
	int d = memcmp(x->addr, y->addr, 16);

	if (x->bits != y->bits)
		return x->bits < y->bits ? -1 : 1;
	if (d)
		return d;
	/* Within a network: denies first, then by rule id. */
	if (x->range.action != y->range.action)
		return x->range.action == TS_ACTION_DENY ? -1 : 1;
	return (x->range.rule_id > y->range.rule_id) - (x->range.rule_id < y->range.rule_id);
}

static bool net_contains(const __u8 net[16], unsigned int bits, const __u8 addr[16])
{
	unsigned int i;

	for (i = 0; i < bits; i++)
		if ((net[i / 8] ^ addr[i / 8]) & (0x80 >> (i % 8)))
			return false;
	return true;
}

/* Whether every port of lo..hi is already taken by an earlier range of
 * `r`: a range first-match can never reach is left out. */
static bool shadowed(const struct ts_net_rule *r, __u16 lo, __u16 hi)
{
	__u32 next = lo, i;
	bool moved = true;

	while (moved && next <= hi) {
		moved = false;
		for (i = 0; i < r->count; i++)
			if (r->ports[i].lo <= next && r->ports[i].hi >= next) {
				next = (__u32)r->ports[i].hi + 1;
				moved = true;
			}
	}
	return next > hi;
}

static void build_nets(struct compile *c)
{
	struct ts_rs_net *out;
	size_t i, j, n = 0;

	if (c->nnets > 1)
		qsort(c->nets, c->nnets, sizeof(*c->nets), by_net);
	out = calloc(c->nnets ? c->nnets : 1, sizeof(*out));
	if (!out) {
		c->err = -ENOMEM;
		return;
	}
	/* Own ranges, one key per network (sorted by prefix length). */
	for (i = 0; i < c->nnets; i = j) {
		struct ts_rs_net *k = &out[n++];
		bool reported = false;

		memcpy(k->addr, c->nets[i].addr, 16);
		k->bits = c->nets[i].bits;
		for (j = i; j < c->nnets && c->nets[j].bits == k->bits &&
			    !memcmp(c->nets[j].addr, k->addr, 16);
		     j++) {
			if (shadowed(&k->rule, c->nets[j].range.lo, c->nets[j].range.hi))
				continue;
			if (k->rule.count == TS_NET_PORTS) {
				if (!reported)
					entry_error(c, c->nets[j].src,
						    "more than %d port ranges for one network",
						    TS_NET_PORTS);
				reported = true;
				continue;
			}
			k->rule.ports[k->rule.count++] = c->nets[j].range;
		}
		k->own = k->rule.count;
	}
	/* Then every broader network's own ranges, nearest first: keys are
	 * sorted by prefix length, so walk back from the longest. */
	for (i = 0; i < n; i++) {
		struct ts_rs_net *k = &out[i];

		for (j = i; j-- > 0;) {
			const struct ts_rs_net *a = &out[j];
			unsigned int r;

			if (a->bits >= k->bits || !net_contains(a->addr, a->bits, k->addr))
				continue;
			for (r = 0; r < a->own; r++) {
				char net[64];

				if (shadowed(&k->rule, a->rule.ports[r].lo, a->rule.ports[r].hi))
					continue;
				if (k->rule.count < TS_NET_PORTS) {
					k->rule.ports[k->rule.count++] = a->rule.ports[r];
					continue;
				}
				ts_target_format_net(k->addr, k->bits, net, sizeof(net));
				entry_error(c, ts_policy_rule(c->p, k->rule.ports[0].rule_id),
					    "network %s needs more than %d port ranges with those it "
					    "inherits from broader networks",
					    net, TS_NET_PORTS);
				j = 0;
				break;
			}
		}
	}
	c->rs->nets = out;
	c->rs->nnets = n;
}

int ts_policy_compile(const struct ts_policy *p, const struct ts_vars *vars,
		      ts_resolve_fn resolve, void *resolve_ctx, struct ts_diag *diag,
		      struct ts_ruleset **out)
{
	struct compile c = { .p = p, .diag = diag };
	size_t before = diag->count;
	int err;

	*out = NULL;
	c.rs = calloc(1, sizeof(*c.rs));
	if (!c.rs)
		return -ENOMEM;
	c.rs->mode = p->mode;
	c.rs->log_allow = p->log_allow;
	c.rs->flags = p->raw_sockets ? TS_TASK_F_RAW_SOCKETS : 0;
	c.rs->ttl_ns = p->ttl_ns;
	collect(&c, vars, resolve, resolve_ctx);
	if (!c.err && diag->count == before)
		build_paths(&c);
	if (!c.err && diag->count == before)
		build_nets(&c);
	free(c.paths);
	free(c.nets);
	err = c.err ? c.err : diag->count > before ? -EINVAL : 0;
	if (err) {
		ts_ruleset_free(c.rs);
		return err;
	}
	*out = c.rs;
	return 0;
}

void ts_ruleset_free(struct ts_ruleset *rs)
{
	if (!rs)
		return;
	free(rs->paths);
	free(rs->nets);
	free(rs->hosts);
	free(rs);
}

int ts_resolve_system(const char *host, __u8 (*addrs)[16], size_t max, size_t *n, char *why,
		      size_t why_size, void *ctx)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	size_t i;
	int rc;

	(void)ctx;
	*n = 0;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc) {
		snprintf(why, why_size, "%s", gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai && *n < max; ai = ai->ai_next) {
		__u8 a[16];

		if (ai->ai_family == AF_INET)
			ts_addr_v4_mapped(a, ((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr);
		else if (ai->ai_family == AF_INET6)
			memcpy(a, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
		else
			continue;
		for (i = 0; i < *n && memcmp(addrs[i], a, 16); i++)
			;
		if (i == *n)
			memcpy(addrs[(*n)++], a, 16);
	}
	freeaddrinfo(res);
	return 0;
}
