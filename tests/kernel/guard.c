// SPDX-License-Identifier: MIT
/* Tamper guards: what no rule can allow a member. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "ktest.h"

static void expect_guard_event(__u64 id, __u8 op, __u32 peer)
{
	struct ts_event e;

	if (!kt_event_wait(id, op, 0, 2000, &e)) {
		KT_EXPECT(0, "no event for guarded op %u", op);
		return;
	}
	KT_EXPECT_EQ(e.kind, TS_KIND_GUARD);
	KT_EXPECT_EQ(e.verdict, TS_VERDICT_DENY);
	KT_EXPECT_EQ(e.reason, TS_REASON_GUARD);
	KT_EXPECT_EQ(e.ret, -EPERM);
	KT_EXPECT_EQ(e.peer_pid, peer);
}

/* An outside process that lives until killed. */
static int sleep_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

static int do_ptrace_attach(void *arg)
{
	pid_t pid = *(pid_t *)arg;
	int err = KT_ERRNO(ptrace(PTRACE_ATTACH, pid, NULL, NULL));

	if (!err) {
		waitpid(pid, NULL, __WALL);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
	}
	return err;
}

/* Trace a child of its own: a member of the same task. */
static int ptrace_own_child(void *arg)
{
	pid_t pid;
	int err;

	(void)arg;
	pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	err = do_ptrace_attach(&pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return err;
}

static void ptrace_outside_denied(void)
{
	__u64 id = kt_task_id();
	pid_t outside;

	/* Yama would refuse a non-descendant first, and our hook would not
	 * even be asked: let every ptrace reach it. */
	kt_write_file("/proc/sys/kernel/yama/ptrace_scope", "0");
	kt_task_create(id);
	outside = kt_spawn(0, sleep_forever, NULL);
	KT_EXPECT_EQ(kt_run(id, do_ptrace_attach, &outside), EPERM);
	expect_guard_event(id, TS_OP_PTRACE, (__u32)outside);
	KT_EXPECT_EQ(kt_run(id, ptrace_own_child, NULL), 0);
	/* The same outside process is fair game for an untagged tracer. */
	KT_EXPECT_EQ(kt_run(0, do_ptrace_attach, &outside), 0);
	kill(outside, SIGKILL);
	kt_wait(outside);
}

static int do_unshare_user(void *arg)
{
	(void)arg;
	return KT_ERRNO(unshare(CLONE_NEWUSER));
}

static void userns_denied(void)
{
	__u64 id = kt_task_id();

	kt_task_create(id);
	KT_EXPECT_EQ(kt_run(id, do_unshare_user, NULL), EPERM);
	expect_guard_event(id, TS_OP_USERNS, 0);
	KT_EXPECT_EQ(kt_run(0, do_unshare_user, NULL), 0);
}

static int do_mount(void *arg)
{
	return KT_ERRNO(mount("tmpfs", arg, "tmpfs", 0, NULL));
}

static int do_umount(void *arg)
{
	return KT_ERRNO(umount2(arg, 0));
}

static int do_chroot(void *arg)
{
	return KT_ERRNO(chroot(arg));
}

static void mount_and_chroot_denied(void)
{
	__u64 id = kt_task_id();

	kt_mkdirs("/tmp/kt-guard/mnt");
	kt_task_create(id);
	KT_EXPECT_EQ(kt_run(id, do_mount, "/tmp/kt-guard/mnt"), EPERM);
	expect_guard_event(id, TS_OP_MOUNT, 0);
	KT_EXPECT_EQ(kt_run(0, do_mount, "/tmp/kt-guard/mnt"), 0);
	KT_EXPECT_EQ(kt_run(id, do_umount, "/tmp/kt-guard/mnt"), EPERM);
	expect_guard_event(id, TS_OP_MOUNT, 0);
	KT_EXPECT_EQ(kt_run(0, do_umount, "/tmp/kt-guard/mnt"), 0);
	KT_EXPECT_EQ(kt_run(id, do_chroot, "/tmp/kt-guard"), EPERM);
	expect_guard_event(id, TS_OP_CHROOT, 0);
}

static int do_bpf(void *arg)
{
	union bpf_attr attr = {
		.map_type = BPF_MAP_TYPE_ARRAY,
		.key_size = 4,
		.value_size = 4,
		.max_entries = 1,
	};
	long fd;

	(void)arg;
	fd = syscall(__NR_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
	if (fd < 0)
		return errno;
	close((int)fd);
	return 0;
}

static void bpf_denied(void)
{
	__u64 id = kt_task_id();

	kt_task_create(id);
	KT_EXPECT_EQ(kt_run(id, do_bpf, NULL), EPERM);
	expect_guard_event(id, TS_OP_BPF, 0);
	KT_EXPECT_EQ(kt_run(0, do_bpf, NULL), 0);
}

static int do_kill(void *arg)
{
	return KT_ERRNO(kill(*(pid_t *)arg, SIGTERM));
}

static void signals_to_daemon_denied(void)
{
	__u64 id = kt_task_id();
	pid_t daemon, other;

	kt_task_create(id);
	daemon = kt_spawn(0, sleep_forever, NULL);
	other = kt_spawn(0, sleep_forever, NULL);
	KT_EXPECT(!ts_kernel_set_daemon(kt_kernel, daemon), "cannot set the daemon pid");
	KT_EXPECT_EQ(kt_run(id, do_kill, &daemon), EPERM);
	expect_guard_event(id, TS_OP_KILL, (__u32)daemon);
	KT_EXPECT_EQ(kt_run(id, do_kill, &other), 0);
	KT_EXPECT_EQ(kt_wait(other), 128 + SIGTERM);
	ts_kernel_set_daemon(kt_kernel, 0);
	kill(daemon, SIGKILL);
	kt_wait(daemon);
}

int main(void)
{
	static const struct kt_case cases[] = {
		{ "ptrace of an outside process denied", ptrace_outside_denied },
		{ "unshare(CLONE_NEWUSER) denied", userns_denied },
		{ "mount, umount and chroot denied", mount_and_chroot_denied },
		{ "bpf() denied", bpf_denied },
		{ "signals to the daemon denied", signals_to_daemon_denied },
		{ 0 },
	};

	return kt_main("guard", cases);
}
