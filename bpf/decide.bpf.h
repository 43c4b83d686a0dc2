/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The decision logic, free of any hook: who is a member, whether its task
 * may act at all, and what a rule says. Kept apart from the LSM programs so
 * that a test-run program (make bench) can exercise exactly this code.
 */
#ifndef TS_DECIDE_BPF_H
#define TS_DECIDE_BPF_H

#include "maps.bpf.h"

struct ts_ctx {
	__u64 task_id;
	struct ts_task *task; /* NULL: tagged but no state (fail closed) */
	__u64 now;            /* CLOCK_BOOTTIME */
};

struct ts_decision {
	__u32 rule_id;
	__u8 allow;  /* the rules allow it (before audit mode) */
	__u8 reason; /* enum ts_reason */
};

static __always_inline struct ts_scratch *ts_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ts_scratch_map, &zero);
}

static __always_inline void ts_key_set_task(__u32 *hi, __u32 *lo, __u64 id)
{
	*hi = id >> 32;
	*lo = (__u32)id;
}

/* The only cost an untagged task pays: one task storage lookup. */
static __always_inline bool ts_member_of(struct task_struct *p, struct ts_ctx *c)
{
	struct ts_member *m = bpf_task_storage_get(&ts_members, p, 0, 0);

	if (!m)
		return false;
	c->task_id = m->task_id;
	c->task = bpf_map_lookup_elem(&ts_tasks, &c->task_id);
	c->now = bpf_ktime_get_boot_ns();
	return true;
}

static __always_inline bool ts_current_member(struct ts_ctx *c)
{
	return ts_member_of(bpf_get_current_task_btf(), c);
}

/* Steps 1-3 of the decision (see include/taskscope.h): 0 when the task may
 * act, else the reason it may not, whatever the rules say. */
static __always_inline __u8 ts_task_gate(const struct ts_ctx *c)
{
	if (!c->task)
		return TS_REASON_NO_TASK;
	if (c->task->state != TS_STATE_ACTIVE)
		return TS_REASON_REVOKED;
	if (c->task->deadline_ns && c->now >= c->task->deadline_ns)
		return TS_REASON_EXPIRED;
	return 0;
}

/* Step 4 for a path: the longest-match rule (or none) against the access
 * wanted. `unlinked`: memfd or deleted file, which only an exact rule may
 * name. */
static __always_inline void ts_path_decide(const struct ts_path_rule *r, __u32 want,
					   bool unlinked, __u64 now, struct ts_decision *d)
{
	const struct ts_path_verdict *v;

	d->allow = 0;
	d->rule_id = 0;
	d->reason = TS_REASON_NO_RULE;
	if (!r)
		return;
	v = (r->expires_ns && now >= r->expires_ns) ? &r->after : &r->now;
	if (!v->rule_id)
		return;
	d->rule_id = v->rule_id;
	if (unlinked && !(v->flags & TS_RULE_F_EXACT)) {
		d->reason = TS_REASON_UNLINKED;
		return;
	}
	d->reason = TS_REASON_RULE;
	d->allow = v->action == TS_ACTION_ALLOW && (v->access & want) == want;
}

/* Fill the scratch key for task `id` from a path already written to
 * s->key.path by bpf_d_path(); `len` is d_path's result (NUL included). */
static __always_inline struct ts_path_rule *ts_path_lookup(struct ts_scratch *s, __u64 id,
							   long len)
{
	__u32 bytes = len > TS_PATH_MAX ? TS_PATH_MAX : (__u32)len;

	ts_key_set_task(&s->key.task_hi, &s->key.task_lo, id);
	s->key.prefixlen = TS_KEY_TASK_BITS + bytes * 8;
	return bpf_map_lookup_elem(&ts_path_rules, &s->key);
}

/* Step 4 for an address: the longest-prefix network rule (or none); its
 * port ranges are tried in order, expired ones skipped. */
static __always_inline void ts_net_decide(const struct ts_net_rule *r, __u16 port, __u64 now,
					  struct ts_decision *d)
{
	int i;

	d->allow = 0;
	d->rule_id = 0;
	d->reason = TS_REASON_NO_RULE;
	if (!r)
		return;
	for (i = 0; i < TS_NET_PORTS; i++) {
		const struct ts_port_range *p = &r->ports[i];

		if ((__u32)i >= r->count)
			break;
		if (p->expires_ns && now >= p->expires_ns)
			continue;
		if (port < p->lo || port > p->hi)
			continue;
		d->rule_id = p->rule_id;
		d->reason = TS_REASON_RULE;
		d->allow = p->action == TS_ACTION_ALLOW;
		return;
	}
}

static __always_inline struct ts_net_rule *ts_net_lookup(struct ts_net_key *key, __u64 id)
{
	ts_key_set_task(&key->task_hi, &key->task_lo, id);
	key->prefixlen = TS_KEY_TASK_BITS + 128;
	return bpf_map_lookup_elem(&ts_net_rules, key);
}

#endif /* TS_DECIDE_BPF_H */
