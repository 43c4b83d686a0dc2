// SPDX-License-Identifier: MIT
/* Reading a rule set the way the kernel does. */
#include <stdlib.h>
#include <string.h>
#include "ts_keys.h"
#include "ts_ruleset.h"

static int by_key_path(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ts_rs_path *)elem)->path);
}

const struct ts_rs_path *ts_ruleset_path_match(const struct ts_ruleset *rs, const char *path)
{
	char prefix[TS_PATH_MAX + 1];
	const struct ts_rs_path *m;
	size_t len = strlen(path), j;

	if (!rs->npaths)
		return NULL;
	if (len > TS_PATH_MAX)
		len = TS_PATH_MAX; /* the kernel looks up the first TS_PATH_MAX bytes */
	else if ((m = bsearch(path, rs->paths, rs->npaths, sizeof(*m), by_key_path)))
		return m;
	for (j = len; j-- > 0;) {
		if (path[j] != '/')
			continue;
		memcpy(prefix, path, j + 1);
		prefix[j + 1] = '\0';
		m = bsearch(prefix, rs->paths, rs->npaths, sizeof(*m), by_key_path);
		if (m)
			return m;
	}
	return NULL;
}

__u32 ts_ruleset_path_access(const struct ts_ruleset *rs, const char *path)
{
	const struct ts_rs_path *m = ts_ruleset_path_match(rs, path);

	if (!m || !m->v.rule_id || m->v.action != TS_ACTION_ALLOW)
		return 0;
	return m->v.access;
}

static bool net_contains(const __u8 net[16], unsigned int bits, const __u8 addr[16])
{
	unsigned int i;

	for (i = 0; i < bits; i++)
		if ((net[i / 8] ^ addr[i / 8]) & (0x80 >> (i % 8)))
			return false;
	return true;
}

const struct ts_rs_net *ts_ruleset_net_match(const struct ts_ruleset *rs, const __u8 addr[16])
{
	const struct ts_rs_net *best = NULL;
	size_t i;

	for (i = 0; i < rs->nnets; i++) {
		const struct ts_rs_net *n = &rs->nets[i];

		if (net_contains(n->addr, n->bits, addr) && (!best || n->bits > best->bits))
			best = n;
	}
	return best;
}

const struct ts_rs_net *ts_ruleset_net_within(const struct ts_ruleset *rs, const __u8 addr[16],
					      unsigned int bits)
{
	const struct ts_rs_net *best = NULL;
	size_t i;

	for (i = 0; i < rs->nnets; i++) {
		const struct ts_rs_net *n = &rs->nets[i];

		if (n->bits <= bits && net_contains(n->addr, n->bits, addr) &&
		    (!best || n->bits > best->bits))
			best = n;
	}
	return best;
}

bool ts_ruleset_net_allows(const struct ts_ruleset *rs, const __u8 addr[16], __u16 port)
{
	const struct ts_rs_net *n = ts_ruleset_net_match(rs, addr);
	__u32 i;

	for (i = 0; n && i < n->rule.count; i++) {
		const struct ts_port_range *r = &n->rule.ports[i];

		if (r->expires_ns)
			continue; /* a grant: not part of what was compiled */
		if (port >= r->lo && port <= r->hi)
			return r->action == TS_ACTION_ALLOW;
	}
	return false;
}
