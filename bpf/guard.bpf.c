// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tamper guards: what a member may never do, whatever its rules say,
 * because it would let it escape or blind the enforcement. Each refusal is
 * a TS_KIND_GUARD event.
 *   bpf(2)                        could rewrite its tag, rules or programs
 *   ptrace outside its task       could act through an unscoped process
 *   signals to the daemon         could stop the enforcer
 *   user namespaces, mounts, chroot, pivot_root
 *                                 could remap the path strings rules match
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "event.bpf.h"

/* Refuse `op` to any member. */
static __always_inline int ts_guard(__u8 op)
{
	struct ts_ctx c;

	if (!ts_current_member(&c))
		return 0;
	return ts_refuse(&c, TS_REASON_GUARD, op, 0);
}

SEC("lsm/bpf")
int BPF_PROG(ts_bpf, int cmd)
{
	return ts_guard(TS_OP_BPF);
}

SEC("lsm/userns_create")
int BPF_PROG(ts_userns_create, const struct cred *cred)
{
	return ts_guard(TS_OP_USERNS);
}

SEC("lsm/sb_mount")
int BPF_PROG(ts_sb_mount, const char *dev_name, const struct path *path)
{
	return ts_guard(TS_OP_MOUNT);
}

SEC("lsm/sb_umount")
int BPF_PROG(ts_sb_umount, struct vfsmount *mnt, int flags)
{
	return ts_guard(TS_OP_MOUNT);
}

SEC("lsm/move_mount")
int BPF_PROG(ts_move_mount, const struct path *from_path, const struct path *to_path)
{
	return ts_guard(TS_OP_MOUNT);
}

SEC("lsm/sb_pivotroot")
int BPF_PROG(ts_sb_pivotroot, const struct path *old_path, const struct path *new_path)
{
	return ts_guard(TS_OP_MOUNT);
}

SEC("lsm/path_chroot")
int BPF_PROG(ts_path_chroot, const struct path *path)
{
	return ts_guard(TS_OP_CHROOT);
}

/* Members may trace (and read /proc/PID/mem, environ, ...) only processes
 * of their own task. */
SEC("lsm/ptrace_access_check")
int BPF_PROG(ts_ptrace_access_check, struct task_struct *child, unsigned int mode)
{
	struct ts_member *target;
	struct ts_ctx c;
	__u8 reason;

	if (!ts_current_member(&c))
		return 0;
	reason = ts_task_gate(&c);
	if (!reason) {
		target = bpf_task_storage_get(&ts_members, child, 0, 0);
		if (target && target->task_id == c.task_id)
			return 0;
		reason = TS_REASON_GUARD;
	}
	return ts_refuse(&c, reason, TS_OP_PTRACE, BPF_CORE_READ(child, tgid));
}

SEC("lsm/task_kill")
int BPF_PROG(ts_task_kill, struct task_struct *p, struct kernel_siginfo *info, int sig)
{
	struct ts_daemon_cfg *cfg;
	__u32 zero = 0;
	struct ts_ctx c;
	__u32 tgid;

	if (!ts_current_member(&c))
		return 0;
	cfg = bpf_map_lookup_elem(&ts_daemon, &zero);
	tgid = BPF_CORE_READ(p, tgid);
	if (!cfg || !cfg->daemon_tgid || cfg->daemon_tgid != tgid)
		return 0;
	return ts_refuse(&c, TS_REASON_GUARD, TS_OP_KILL, tgid);
}
