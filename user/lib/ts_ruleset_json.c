// SPDX-License-Identifier: MIT
/* A rule set to and from JSON, for the daemon's state file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ts_ruleset_json.h"

static void hex16(const __u8 a[16], char out[33])
{
	int i;

	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", a[i]);
}

static int unhex16(const char *s, __u8 a[16])
{
	int i;

	if (!s || strlen(s) != 32)
		return -EINVAL;
	for (i = 0; i < 16; i++) {
		unsigned int v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		a[i] = (__u8)v;
	}
	return 0;
}

json_t *ts_ruleset_to_json(const struct ts_ruleset *rs)
{
	json_t *paths = json_array(), *nets = json_array(), *hosts = json_array();
	char addr[33];
	size_t i;
	__u32 r;

	for (i = 0; i < rs->npaths; i++) {
		const struct ts_rs_path *p = &rs->paths[i];

		json_array_append_new(paths, json_pack("[s, I, i, i, i, i]", p->path,
						       (json_int_t)p->v.rule_id, p->v.action,
						       p->v.access, p->v.flags, p->own_access));
	}
	for (i = 0; i < rs->nnets; i++) {
		const struct ts_rs_net *n = &rs->nets[i];
		json_t *ports = json_array();

		for (r = 0; r < n->rule.count; r++) {
			const struct ts_port_range *pr = &n->rule.ports[r];

			json_array_append_new(ports, json_pack("[i, i, I, i]", pr->lo, pr->hi,
							       (json_int_t)pr->rule_id,
							       pr->action));
		}
		hex16(n->addr, addr);
		json_array_append_new(nets, json_pack("[s, i, i, o]", addr, n->bits, n->own, ports));
	}
	for (i = 0; i < rs->nhosts; i++) {
		const struct ts_rs_host *h = &rs->hosts[i];

		json_array_append_new(hosts, json_pack("[s, i, i, i, I]", h->host, h->lo, h->hi,
						       h->action, (json_int_t)h->rule_id));
	}
	return json_pack("{s:i, s:i, s:i, s:I, s:o, s:o, s:o}", "mode", rs->mode, "log_allow",
			 rs->log_allow, "flags", rs->flags, "ttl_ns", (json_int_t)rs->ttl_ns,
			 "paths", paths, "nets", nets, "hosts", hosts);
}

static int path_from_json(json_t *v, struct ts_rs_path *p)
{
	json_int_t id, action, access, flags, own;
	const char *path;

	if (json_unpack(v, "[s, I, I, I, I, I]", &path, &id, &action, &access, &flags, &own) ||
	    strlen(path) > TS_PATH_MAX)
		return -EINVAL;
	memcpy(p->path, path, strlen(path) + 1);
	p->v.rule_id = (__u32)id;
	p->v.action = (__u8)action;
	p->v.access = (__u8)access;
	p->v.flags = (__u16)flags;
	p->own_access = (__u8)own;
	return 0;
}

static int net_from_json(json_t *v, struct ts_rs_net *n)
{
	json_int_t bits, own, lo, hi, id, action;
	const char *addr;
	json_t *ports, *pr;
	size_t i;

	if (json_unpack(v, "[s, I, I, o]", &addr, &bits, &own, &ports) || unhex16(addr, n->addr) ||
	    bits < 0 || bits > 128 || !json_is_array(ports) ||
	    json_array_size(ports) > TS_NET_PORTS)
		return -EINVAL;
	n->bits = (unsigned int)bits;
	n->own = (unsigned int)own;
	json_array_foreach(ports, i, pr) {
		struct ts_port_range *r = &n->rule.ports[i];

		if (json_unpack(pr, "[I, I, I, I]", &lo, &hi, &id, &action))
			return -EINVAL;
		r->lo = (__u16)lo;
		r->hi = (__u16)hi;
		r->rule_id = (__u32)id;
		r->action = (__u8)action;
	}
	n->rule.count = (__u32)json_array_size(ports);
	return 0;
}

static int host_from_json(json_t *v, struct ts_rs_host *h)
{
	json_int_t lo, hi, action, id;
	const char *host;

	if (json_unpack(v, "[s, I, I, I, I]", &host, &lo, &hi, &action, &id) ||
	    strlen(host) > TS_HOST_MAX)
		return -EINVAL;
	memcpy(h->host, host, strlen(host) + 1);
	h->lo = (__u16)lo;
	h->hi = (__u16)hi;
	h->action = (__u8)action;
	h->rule_id = (__u32)id;
	return 0;
}

int ts_ruleset_from_json(json_t *v, struct ts_ruleset **out)
{
	json_int_t mode, log_allow, flags, ttl;
	json_t *paths, *nets, *hosts, *item;
	struct ts_ruleset *rs;
	int err = 0;
	size_t i;

	*out = NULL;
	if (json_unpack(v, "{s:I, s:I, s:I, s:I, s:o, s:o, s:o}", "mode", &mode, "log_allow",
			&log_allow, "flags", &flags, "ttl_ns", &ttl, "paths", &paths, "nets", &nets,
			"hosts", &hosts) ||
	    !json_is_array(paths) || !json_is_array(nets) || !json_is_array(hosts))
		return -EINVAL;
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	rs->mode = (__u32)mode;
	rs->log_allow = (__u32)log_allow;
	rs->flags = (__u32)flags;
	rs->ttl_ns = (__u64)ttl;
	rs->paths = calloc(json_array_size(paths) + 1, sizeof(*rs->paths));
	rs->nets = calloc(json_array_size(nets) + 1, sizeof(*rs->nets));
	rs->hosts = calloc(json_array_size(hosts) + 1, sizeof(*rs->hosts));
	if (!rs->paths || !rs->nets || !rs->hosts) {
		err = -ENOMEM;
		goto cleanup;
	}
	json_array_foreach(paths, i, item)
		if (!err)
			err = path_from_json(item, &rs->paths[rs->npaths++]);
	json_array_foreach(nets, i, item)
		if (!err)
			err = net_from_json(item, &rs->nets[rs->nnets++]);
	json_array_foreach(hosts, i, item)
		if (!err)
			err = host_from_json(item, &rs->hosts[rs->nhosts++]);
	/* Lookups rely on the order the compiler leaves. */
	for (i = 1; !err && i < rs->npaths; i++)
		if (strcmp(rs->paths[i - 1].path, rs->paths[i].path) >= 0)
			err = -EINVAL;
cleanup:
	if (err) {
		ts_ruleset_free(rs);
		return err;
	}
	*out = rs;
	return 0;
}
