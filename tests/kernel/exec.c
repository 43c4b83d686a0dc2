// SPDX-License-Identifier: MIT
/* exec decisions: lsm/bprm_check_security and the task_alloc tag copy. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include "ktest.h"

#define DIR_OK "/tmp/kt-exec/allowed"
#define DIR_NO "/tmp/kt-exec/denied"
#define TOOL_OK DIR_OK "/tool"
#define TOOL_NO DIR_NO "/tool"

/* busybox picks its applet from argv[0]: "true" exits 0. */
static char *const true_argv[] = { "true", NULL };

static void setup(void)
{
	KT_EXPECT(!kt_mkdirs(DIR_OK) && !kt_mkdirs(DIR_NO), "mkdir: %s", strerror(errno));
	KT_EXPECT(!kt_copy_file("/bin/busybox", TOOL_OK), "copy busybox");
	KT_EXPECT(!kt_copy_file("/bin/busybox", TOOL_NO), "copy busybox");
}

static void member_exec_denied(void)
{
	__u64 id = kt_task_id();
	struct ts_event e;

	setup();
	kt_task_create(id);
	KT_EXPECT_EQ(kt_exec_errno(id, TOOL_NO, true_argv), EPERM);
	KT_EXPECT(kt_event_wait(id, TS_OP_EXEC, 0, 2000, &e), "no exec event");
	KT_EXPECT_EQ(e.verdict, TS_VERDICT_DENY);
	KT_EXPECT_EQ(e.reason, TS_REASON_NO_RULE);
	KT_EXPECT_EQ(e.ret, -EPERM);
	KT_EXPECT_EQ(e.kind, TS_KIND_EXEC);
	KT_EXPECT(!strcmp(e.path, TOOL_NO), "event path '%s'", e.path);
}

static void member_exec_allowed_by_rule(void)
{
	__u64 id = kt_task_id();
	struct ts_event e;

	setup();
	kt_task_create(id);
	kt_allow_path(id, TOOL_OK, TS_ACCESS_EXEC, 7);
	KT_EXPECT_EQ(kt_exec_errno(id, TOOL_OK, true_argv), 0);
	KT_EXPECT(kt_event_wait(id, TS_OP_EXEC, 0, 2000, &e), "no exec event");
	KT_EXPECT_EQ(e.verdict, TS_VERDICT_ALLOW);
	KT_EXPECT_EQ(e.reason, TS_REASON_RULE);
	KT_EXPECT_EQ(e.rule_id, 7);
	KT_EXPECT(!strcmp(e.path, TOOL_OK), "event path '%s'", e.path);
	/* The rule names one file: its sibling directory stays closed. */
	KT_EXPECT_EQ(kt_exec_errno(id, TOOL_NO, true_argv), EPERM);
}

static void untagged_exec_unaffected(void)
{
	__u64 id = kt_task_id();
	struct ts_event e;

	setup();
	kt_task_create(id);
	KT_EXPECT_EQ(kt_exec_errno(0, TOOL_NO, true_argv), 0);
	KT_EXPECT(!kt_event_wait(id, TS_OP_EXEC, 0, 200, &e), "an untagged exec logged an event");
}

struct grandchild_args {
	int result;
};

static int exec_from_grandchild(void *arg)
{
	(void)arg;
	/* Untagged here: the tag arrives only through task_alloc. */
	return kt_exec_errno(0, TOOL_NO, true_argv);
}

static void grandchild_inherits_tag(void)
{
	__u64 id = kt_task_id();
	struct ts_event e;
	pid_t pid;

	setup();
	kt_task_create(id);
	pid = kt_spawn(id, exec_from_grandchild, NULL);
	KT_EXPECT(pid > 0, "spawn failed");
	KT_EXPECT_EQ(kt_wait(pid), EPERM);
	KT_EXPECT(kt_event_wait(id, TS_OP_EXEC, 0, 2000, &e), "no exec event");
	KT_EXPECT_EQ(e.verdict, TS_VERDICT_DENY);
	KT_EXPECT(e.ppid == (__u32)pid, "event ppid %u, expected the child %d", e.ppid, pid);
}

/* Exec a copy of busybox that no path names any more: from a memfd, or
 * from a file deleted after it was opened. */
static int exec_unlinked(void *arg)
{
	const char *how = arg;
	int fd, src;
	char buf[65536];
	ssize_t n;

	if (!strcmp(how, "memfd")) {
		fd = memfd_create("payload", 0);
		src = open("/bin/busybox", O_RDONLY);
		if (fd < 0 || src < 0)
			return 100;
		while ((n = read(src, buf, sizeof(buf))) > 0)
			if (write(fd, buf, (size_t)n) != n)
				return 101;
		close(src);
	} else {
		fd = open(DIR_OK "/deleted", O_RDONLY);
		if (fd < 0 || unlink(DIR_OK "/deleted"))
			return 102;
	}
	syscall(SYS_execveat, fd, "", true_argv, NULL, AT_EMPTY_PATH);
	return errno;
}

static void memfd_and_deleted_exec_denied(void)
{
	__u64 id = kt_task_id();
	struct ts_event e;

	setup();
	KT_EXPECT(!kt_copy_file("/bin/busybox", DIR_OK "/deleted"), "copy busybox");
	kt_task_create(id);
	/* Everything under / may run, except what no name reaches. */
	kt_allow_path(id, "/", TS_ACCESS_EXEC | TS_ACCESS_READ | TS_ACCESS_WRITE, 9);
	KT_EXPECT_EQ(kt_run(id, exec_unlinked, "memfd"), EPERM);
	KT_EXPECT(kt_event_wait(id, TS_OP_EXEC, 0, 2000, &e), "no exec event");
	KT_EXPECT_EQ(e.reason, TS_REASON_UNLINKED);
	KT_EXPECT(!strncmp(e.path, "/memfd:payload", 14), "event path '%s'", e.path);
	KT_EXPECT_EQ(kt_run(id, exec_unlinked, "deleted"), EPERM);
	KT_EXPECT(kt_event_wait(id, TS_OP_EXEC, 0, 2000, &e), "no exec event");
	KT_EXPECT_EQ(e.reason, TS_REASON_UNLINKED);
	KT_EXPECT(strstr(e.path, "(deleted)"), "event path '%s'", e.path);
	/* The same binary, still linked, runs. */
	KT_EXPECT_EQ(kt_exec_errno(id, TOOL_OK, true_argv), 0);
}

int main(void)
{
	static const struct kt_case cases[] = {
		{ "member exec denied without a rule", member_exec_denied },
		{ "member exec allowed by an exact rule", member_exec_allowed_by_rule },
		{ "untagged exec unaffected", untagged_exec_unaffected },
		{ "grandchild inherits the tag", grandchild_inherits_tag },
		{ "memfd and deleted-file exec denied", memfd_and_deleted_exec_denied },
		{ 0 },
	};

	return kt_main("exec", cases);
}
