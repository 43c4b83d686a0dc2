/* SPDX-License-Identifier: GPL-2.0-only */
/* Concluding a decision: audit mode, counters, and the event record. */
#ifndef TS_EVENT_BPF_H
#define TS_EVENT_BPF_H

#include <bpf/bpf_core_read.h>
#include "decide.bpf.h"
#include "errno.bpf.h"

struct ts_outcome {
	__u8 verdict; /* enum ts_verdict */
	__u8 log;     /* an event is due */
	int ret;      /* what the hook returns */
};

static __always_inline void ts_count(__u32 stat)
{
	__u64 *n = bpf_map_lookup_elem(&ts_stats, &stat);

	if (n)
		*n += 1; /* per-CPU: no atomics needed */
}

/* Audit mode turns a rule denial (steps 4, not 1-3) into a logged allow. */
static __always_inline bool ts_auditable(__u8 reason)
{
	return reason == TS_REASON_RULE || reason == TS_REASON_NO_RULE ||
	       reason == TS_REASON_UNLINKED;
}

static __always_inline struct ts_outcome ts_conclude(struct ts_ctx *c,
						     const struct ts_decision *d, __u32 kind,
						     int deny_errno)
{
	struct ts_outcome o = { .verdict = TS_VERDICT_ALLOW, .log = 1, .ret = 0 };
	struct ts_task *t = c->task;

	if (kind >= TS_KIND_MAX)
		kind = TS_KIND_GUARD;
	if (!d->allow) {
		if (t && t->mode == TS_MODE_AUDIT && ts_auditable(d->reason)) {
			o.verdict = TS_VERDICT_AUDIT;
		} else {
			o.verdict = TS_VERDICT_DENY;
			o.ret = -deny_errno;
		}
	}
	if (!t)
		return o;
	if (o.verdict == TS_VERDICT_ALLOW) {
		__sync_fetch_and_add(&t->allowed[kind], 1);
		o.log = !!(t->log_allow & (1u << kind));
	} else {
		__sync_fetch_and_add(&t->denied[kind], 1);
	}
	return o;
}

/* Reserve an event with the fields every record carries; NULL (and the
 * loss counted) when the ring buffer is full. */
static __always_inline struct ts_event *ts_event_start(const struct ts_ctx *c,
						       const struct ts_decision *d,
						       const struct ts_outcome *o, __u8 kind,
						       __u8 op)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct ts_event *e;

	e = bpf_ringbuf_reserve(&ts_events, sizeof(*e), 0);
	if (!e) {
		ts_count(TS_STAT_EVENTS_LOST);
		return NULL;
	}
	e->time_ns = c->now;
	e->task_id = c->task_id;
	e->pid = (__u32)bpf_get_current_pid_tgid();
	e->tgid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = BPF_CORE_READ(cur, real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->rule_id = d->rule_id;
	e->ret = o->ret;
	e->kind = kind;
	e->op = op;
	e->verdict = o->verdict;
	e->reason = d->reason;
	e->access = 0;
	e->flags = 0;
	e->peer_pid = 0;
	e->family = 0;
	e->port = 0;
	e->sock_type = 0;
	e->pad = 0;
	__builtin_memset(e->addr, 0, sizeof(e->addr));
	e->other_task = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->path[0] = '\0';
	return e;
}

/* Copy a d_path() result (length `len`, NUL included) into the event. */
static __always_inline void ts_event_path(struct ts_event *e, const char *path, long len)
{
	if (len <= 0)
		return;
	bpf_probe_read_kernel_str(e->path, sizeof(e->path), path);
	if (len > TS_EVENT_PATH_MAX)
		e->flags |= TS_EVENT_F_TRUNCATED;
}

/*
 * Conclude a decision that has no path or address to report (tamper
 * guards, refused forks, unknown socket families) and log it when due.
 * Returns what the hook returns.
 */
static __always_inline int ts_finish(struct ts_ctx *c, const struct ts_decision *d, __u8 kind,
				     __u8 op, int deny_errno, __u32 peer_pid, __u16 family)
{
	struct ts_outcome o = ts_conclude(c, d, kind, deny_errno);
	struct ts_event *e;

	if (!o.log)
		return o.ret;
	e = ts_event_start(c, d, &o, kind, op);
	if (!e)
		return o.ret;
	e->peer_pid = peer_pid;
	e->family = family;
	bpf_ringbuf_submit(e, 0);
	return o.ret;
}

/* Refuse `op` for `reason`, whatever the rules say. */
static __always_inline int ts_refuse(struct ts_ctx *c, __u8 reason, __u8 op, __u32 peer_pid)
{
	struct ts_decision d = { .reason = reason };

	return ts_finish(c, &d, TS_KIND_GUARD, op, EPERM, peer_pid, 0);
}

#endif /* TS_EVENT_BPF_H */
