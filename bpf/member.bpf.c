// SPDX-License-Identifier: GPL-2.0-only
/*
 * Membership: the tag follows every new task (thread or process), and two
 * iterators let user space see and extend it: one lists every live member
 * (revocation kills them from that list), one tags every thread of a
 * process being enrolled.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "event.bpf.h"

#define PF_EXITING 0x00000004

/* Children inherit the tag; a task that may not act may not grow. */
SEC("lsm/task_alloc")
int BPF_PROG(ts_task_alloc, struct task_struct *task, unsigned long clone_flags)
{
	struct ts_member init = {};
	struct ts_member *child;
	struct ts_ctx c;
	__u8 reason;

	if (!ts_current_member(&c))
		return 0;
	reason = ts_task_gate(&c);
	if (reason)
		return ts_refuse(&c, reason, TS_OP_FORK, 0);
	init.task_id = c.task_id;
	child = bpf_task_storage_get(&ts_members, task, &init, BPF_LOCAL_STORAGE_GET_F_CREATE);
	/* An untagged child would escape the task: refuse the fork instead. */
	if (!child)
		return -ENOMEM;
	child->task_id = c.task_id;
	return 0;
}

static __always_inline bool ts_exiting(struct task_struct *t)
{
	return BPF_CORE_READ(t, flags) & PF_EXITING;
}

/* One struct ts_member_rec per live tagged thread. */
SEC("iter/task")
int ts_iter_members(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct ts_member_rec rec;
	struct ts_member *m;

	if (!t || ts_exiting(t))
		return 0;
	m = bpf_task_storage_get(&ts_members, t, 0, 0);
	if (!m)
		return 0;
	rec.task_id = m->task_id;
	rec.pid = BPF_CORE_READ(t, pid);
	rec.tgid = BPF_CORE_READ(t, tgid);
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}

/* Tag every live thread of the thread group named in ts_enroll. */
SEC("iter/task")
int ts_iter_enroll(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct ts_enroll_req *req;
	struct ts_member *m;
	__u32 zero = 0;

	if (!t || ts_exiting(t))
		return 0;
	req = bpf_map_lookup_elem(&ts_enroll, &zero);
	if (!req || !req->task_id || (__u32)BPF_CORE_READ(t, tgid) != req->tgid)
		return 0;
	m = bpf_task_storage_get(&ts_members, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!m)
		return 0;
	m->task_id = req->task_id;
	__sync_fetch_and_add(&req->tagged, 1);
	return 0;
}
