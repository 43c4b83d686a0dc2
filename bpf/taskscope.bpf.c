// SPDX-License-Identifier: GPL-2.0-only
/*
 * taskscope LSM programs: tag the processes of a task and decide each of
 * their actions at the moment of action. Semantics: include/taskscope.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "taskscope.h"
#include "maps.bpf.h"
#include "decide.bpf.h"
#include "event.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define EPERM 1
#define ENOMEM 12
#define EACCES 13

static __always_inline struct ts_scratch *ts_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ts_scratch_map, &zero);
}

/* A dentry no longer reachable by its name: memfd, O_TMPFILE, deleted. */
static __always_inline bool ts_unlinked(struct dentry *dentry)
{
	return !BPF_CORE_READ(dentry, d_hash.pprev) ||
	       !BPF_CORE_READ(dentry, d_inode, __i_nlink);
}

/* Refuse a guarded action and log it; used where no rule can allow it. */
static __always_inline int ts_refuse(struct ts_ctx *c, __u8 reason, __u8 op)
{
	struct ts_decision d = { .reason = reason };
	struct ts_outcome o = ts_conclude(c, &d, TS_KIND_GUARD, EPERM);
	struct ts_event *e;

	e = ts_event_start(c, &d, &o, TS_KIND_GUARD, op);
	if (e)
		bpf_ringbuf_submit(e, 0);
	return o.ret;
}

/* Children inherit the tag; a task that may not act may not grow. */
SEC("lsm/task_alloc")
int BPF_PROG(ts_task_alloc, struct task_struct *task, unsigned long clone_flags, int ret)
{
	struct ts_member init = {};
	struct ts_member *child;
	struct ts_ctx c;
	__u8 reason;

	if (ret)
		return ret;
	if (!ts_current_member(&c))
		return 0;
	reason = ts_task_gate(&c);
	if (reason)
		return ts_refuse(&c, reason, TS_OP_FORK);
	init.task_id = c.task_id;
	child = bpf_task_storage_get(&ts_members, task, &init,
				     BPF_LOCAL_STORAGE_GET_F_CREATE);
	/* An untagged child would escape the task: refuse the fork instead. */
	if (!child)
		return -ENOMEM;
	child->task_id = c.task_id;
	return 0;
}

SEC("lsm/bprm_check_security")
int BPF_PROG(ts_bprm_check, struct linux_binprm *bprm, int ret)
{
	struct ts_decision d = {};
	struct ts_scratch *s;
	struct ts_outcome o;
	struct ts_event *e;
	struct ts_ctx c;
	long len = 0;

	if (ret)
		return ret;
	if (!ts_current_member(&c))
		return 0;
	s = ts_scratch();
	if (!s)
		return -ENOMEM;
	d.reason = ts_task_gate(&c);
	if (!d.reason) {
		struct file *f = bprm->file;

		/* f_path is const in newer kernels; d_path only reads it. */
		len = bpf_d_path((struct path *)&f->f_path, s->key.path, TS_D_PATH_BUF);
		if (len < 0)
			d.reason = TS_REASON_NO_RULE;
		else
			ts_path_decide(ts_path_lookup(s, c.task_id, len), TS_ACCESS_EXEC,
				       ts_unlinked(f->f_path.dentry), c.now, &d);
	}
	o = ts_conclude(&c, &d, TS_KIND_EXEC, EPERM);
	if (!o.log)
		return o.ret;
	e = ts_event_start(&c, &d, &o, TS_KIND_EXEC, TS_OP_EXEC);
	if (!e)
		return o.ret;
	e->access = TS_ACCESS_EXEC;
	if (len > 0)
		ts_event_path(e, s->key.path, len);
	else
		bpf_probe_read_kernel_str(e->path, sizeof(e->path), bprm->filename);
	bpf_ringbuf_submit(e, 0);
	return o.ret;
}
