// SPDX-License-Identifier: MIT
/* file decisions: lsm/file_open and the path_* hooks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "ktest.h"
#include "ts_log.h"
#include "uring.h"

#define ROOT "/tmp/kt-file"
#define DIR_RW ROOT "/rw/"
#define SECRET ROOT "/rw/secret/"
#define MNT ROOT "/mnt"

static int open_read(void *path)
{
	return kt_open_errno(path, O_RDONLY);
}

static int open_write(void *path)
{
	return kt_open_errno(path, O_WRONLY);
}

static int create_file(void *path)
{
	return kt_open_errno(path, O_WRONLY | O_CREAT | O_EXCL);
}

static int do_unlink(void *path)
{
	return KT_ERRNO(unlink(path));
}

static int do_mkdir(void *path)
{
	return KT_ERRNO(mkdir(path, 0755));
}

static int do_rmdir(void *path)
{
	return KT_ERRNO(rmdir(path));
}

static int do_truncate(void *path)
{
	return KT_ERRNO(truncate(path, 0));
}

static int do_chmod(void *path)
{
	return KT_ERRNO(chmod(path, 0600));
}

struct two_paths {
	const char *from, *to;
};

static int do_rename(void *arg)
{
	struct two_paths *p = arg;

	return KT_ERRNO(rename(p->from, p->to));
}

static int do_link(void *arg)
{
	struct two_paths *p = arg;

	return KT_ERRNO(link(p->from, p->to));
}

static int do_symlink(void *arg)
{
	struct two_paths *p = arg;

	return KT_ERRNO(symlink(p->from, p->to));
}

/* A fresh tree: rw/{a.txt,f1,f2,d1/}, rw/secret/{x}, ro/{b.txt}. */
static void fresh_tree(void)
{
	kt_rm_rf(ROOT);
	KT_EXPECT(!kt_mkdirs(SECRET) && !kt_mkdirs(ROOT "/ro") && !kt_mkdirs(DIR_RW "d1"),
		  "mkdir");
	kt_write_file(DIR_RW "a.txt", "a");
	kt_write_file(DIR_RW "f1", "1");
	kt_write_file(DIR_RW "f2", "2");
	kt_write_file(SECRET "x", "secret");
	kt_write_file(ROOT "/ro/b.txt", "b");
}

/* The next event of task `id` for `op` says `verdict`, `reason`, `rule` on
 * `path`. */
static void expect_event(__u64 id, __u8 op, __u8 verdict, __u8 reason, __u32 rule,
			 const char *path)
{
	struct ts_event e;

	if (!kt_event_wait(id, op, 0, 2000, &e)) {
		KT_EXPECT(0, "no event for op %u on '%s'", op, path);
		return;
	}
	KT_EXPECT_EQ(e.kind, TS_KIND_FILE);
	KT_EXPECT_EQ(e.verdict, verdict);
	KT_EXPECT_EQ(e.reason, reason);
	KT_EXPECT_EQ(e.rule_id, rule);
	KT_EXPECT(!strcmp(e.path, path), "event path '%s', expected '%s'", e.path, path);
	if (verdict == TS_VERDICT_DENY)
		KT_EXPECT_EQ(e.ret, -EACCES);
}

static void read_allowed_write_denied_one_file(void)
{
	__u64 id = kt_task_id();

	fresh_tree();
	kt_task_create(id);
	kt_allow_path(id, DIR_RW "a.txt", TS_ACCESS_READ, 1);
	KT_EXPECT_EQ(kt_run(id, open_read, DIR_RW "a.txt"), 0);
	expect_event(id, TS_OP_OPEN, TS_VERDICT_ALLOW, TS_REASON_RULE, 1, DIR_RW "a.txt");
	KT_EXPECT_EQ(kt_run(id, open_write, DIR_RW "a.txt"), EACCES);
	expect_event(id, TS_OP_OPEN, TS_VERDICT_DENY, TS_REASON_RULE, 1, DIR_RW "a.txt");
	KT_EXPECT_EQ(kt_run(id, open_read, DIR_RW "f1"), EACCES);
	expect_event(id, TS_OP_OPEN, TS_VERDICT_DENY, TS_REASON_NO_RULE, 0, DIR_RW "f1");
}

static void deny_under_allow(void)
{
	__u64 id = kt_task_id();

	fresh_tree();
	kt_task_create(id);
	kt_allow_path(id, DIR_RW, TS_ACCESS_READ | TS_ACCESS_WRITE, 2);
	kt_deny_path(id, SECRET, 3);
	KT_EXPECT_EQ(kt_run(id, open_write, DIR_RW "f1"), 0);
	expect_event(id, TS_OP_OPEN, TS_VERDICT_ALLOW, TS_REASON_RULE, 2, DIR_RW "f1");
	KT_EXPECT_EQ(kt_run(id, open_read, SECRET "x"), EACCES);
	expect_event(id, TS_OP_OPEN, TS_VERDICT_DENY, TS_REASON_RULE, 3, SECRET "x");
}

static void exact_rule_does_not_match_longer_name(void)
{
	__u64 id = kt_task_id();

	kt_mkdirs("/etc");
	KT_EXPECT(!kt_write_file("/etc/hosts", "127.0.0.1 localhost\n") &&
			  !kt_write_file("/etc/hosts.bak", "old\n"),
		  "cannot write /etc/hosts");
	kt_task_create(id);
	kt_allow_path(id, "/etc/hosts", TS_ACCESS_READ, 4);
	KT_EXPECT_EQ(kt_run(id, open_read, "/etc/hosts"), 0);
	expect_event(id, TS_OP_OPEN, TS_VERDICT_ALLOW, TS_REASON_RULE, 4, "/etc/hosts");
	KT_EXPECT_EQ(kt_run(id, open_read, "/etc/hosts.bak"), EACCES);
	expect_event(id, TS_OP_OPEN, TS_VERDICT_DENY, TS_REASON_NO_RULE, 0, "/etc/hosts.bak");
}

static void symlink_to_denied_file_denied(void)
{
	__u64 id = kt_task_id();

	fresh_tree();
	KT_EXPECT(!symlink(SECRET "x", DIR_RW "link"), "symlink: %s", strerror(errno));
	kt_task_create(id);
	kt_allow_path(id, DIR_RW, TS_ACCESS_READ | TS_ACCESS_WRITE, 2);
	kt_deny_path(id, SECRET, 3);
	/* The rule sees the file opened, not the name used to reach it. */
	KT_EXPECT_EQ(kt_run(id, open_read, DIR_RW "link"), EACCES);
	expect_event(id, TS_OP_OPEN, TS_VERDICT_DENY, TS_REASON_RULE, 3, SECRET "x");
}

static void hard_link_to_denied_file_denied(void)
{
	struct two_paths p = { SECRET "x", DIR_RW "hard" };
	__u64 id = kt_task_id();
	struct stat st;

	fresh_tree();
	kt_task_create(id);
	kt_allow_path(id, DIR_RW, TS_ACCESS_READ | TS_ACCESS_WRITE, 2);
	kt_deny_path(id, SECRET, 3);
	KT_EXPECT_EQ(kt_run(id, do_link, &p), EACCES);
	expect_event(id, TS_OP_LINK, TS_VERDICT_DENY, TS_REASON_RULE, 3, SECRET "x");
	KT_EXPECT(stat(DIR_RW "hard", &st) && errno == ENOENT, "the link was made");
	/* Linking a file it may read and write, inside its tree, works. */
	p.from = DIR_RW "f1";
	KT_EXPECT_EQ(kt_run(id, do_link, &p), 0);
}

/* Every namespace operation is write access to the path it changes. */
static void path_operations_need_write(void)
{
	struct two_paths ren = { DIR_RW "f1", DIR_RW "f1.moved" };
	struct two_paths sym = { "/anywhere", DIR_RW "sym" };
	__u64 ro = kt_task_id(), rw = kt_task_id();

	fresh_tree();
	kt_task_create(ro);
	kt_allow_path(ro, DIR_RW, TS_ACCESS_READ, 5);
	KT_EXPECT_EQ(kt_run(ro, do_unlink, DIR_RW "f2"), EACCES);
	expect_event(ro, TS_OP_UNLINK, TS_VERDICT_DENY, TS_REASON_RULE, 5, DIR_RW "f2");
	KT_EXPECT_EQ(kt_run(ro, do_mkdir, DIR_RW "newdir"), EACCES);
	expect_event(ro, TS_OP_MKDIR, TS_VERDICT_DENY, TS_REASON_RULE, 5, DIR_RW "newdir/");
	KT_EXPECT_EQ(kt_run(ro, do_rmdir, DIR_RW "d1"), EACCES);
	expect_event(ro, TS_OP_RMDIR, TS_VERDICT_DENY, TS_REASON_RULE, 5, DIR_RW "d1/");
	KT_EXPECT_EQ(kt_run(ro, do_rename, &ren), EACCES);
	expect_event(ro, TS_OP_RENAME, TS_VERDICT_DENY, TS_REASON_RULE, 5, DIR_RW "f1");
	KT_EXPECT_EQ(kt_run(ro, do_truncate, DIR_RW "f1"), EACCES);
	expect_event(ro, TS_OP_TRUNCATE, TS_VERDICT_DENY, TS_REASON_RULE, 5, DIR_RW "f1");
	KT_EXPECT_EQ(kt_run(ro, create_file, DIR_RW "new"), EACCES);
	expect_event(ro, TS_OP_MKNOD, TS_VERDICT_DENY, TS_REASON_RULE, 5, DIR_RW "new");
	KT_EXPECT_EQ(kt_run(ro, do_symlink, &sym), EACCES);
	expect_event(ro, TS_OP_SYMLINK, TS_VERDICT_DENY, TS_REASON_RULE, 5, DIR_RW "sym");
	KT_EXPECT_EQ(kt_run(ro, do_chmod, DIR_RW "f1"), EACCES);
	expect_event(ro, TS_OP_CHMOD, TS_VERDICT_DENY, TS_REASON_RULE, 5, DIR_RW "f1");

	kt_task_create(rw);
	kt_allow_path(rw, DIR_RW, TS_ACCESS_READ | TS_ACCESS_WRITE, 6);
	KT_EXPECT_EQ(kt_run(rw, do_unlink, DIR_RW "f2"), 0);
	KT_EXPECT_EQ(kt_run(rw, do_mkdir, DIR_RW "newdir"), 0);
	KT_EXPECT_EQ(kt_run(rw, do_rmdir, DIR_RW "d1"), 0);
	KT_EXPECT_EQ(kt_run(rw, do_rename, &ren), 0);
	KT_EXPECT_EQ(kt_run(rw, do_truncate, DIR_RW "f1.moved"), 0);
	KT_EXPECT_EQ(kt_run(rw, create_file, DIR_RW "new"), 0);
	KT_EXPECT_EQ(kt_run(rw, do_symlink, &sym), 0);
	KT_EXPECT_EQ(kt_run(rw, do_chmod, DIR_RW "new"), 0);
	/* Moving a file out of the writable tree needs write where it goes. */
	ren.from = DIR_RW "new";
	ren.to = ROOT "/ro/new";
	kt_events_drain();
	KT_EXPECT_EQ(kt_run(rw, do_rename, &ren), EACCES);
	expect_event(rw, TS_OP_RENAME, TS_VERDICT_ALLOW, TS_REASON_RULE, 6, DIR_RW "new");
	expect_event(rw, TS_OP_RENAME, TS_VERDICT_DENY, TS_REASON_NO_RULE, 0, ROOT "/ro/new");
}

/* The path walker of the path_* hooks and bpf_d_path() of file_open name
 * the same file the same way, across a mount point. */
static void walker_agrees_with_d_path_across_mounts(void)
{
	const char *file = MNT "/sub/made";
	__u64 id = kt_task_id();
	struct ts_event e;

	fresh_tree();
	umount2(MNT, MNT_DETACH);
	kt_mkdirs(MNT);
	KT_EXPECT(!mount("tmpfs", MNT, "tmpfs", 0, NULL), "mount: %s", strerror(errno));
	kt_mkdirs(MNT "/sub");
	kt_task_create(id);
	kt_allow_path(id, MNT "/sub/", TS_ACCESS_READ | TS_ACCESS_WRITE, 7);
	KT_EXPECT_EQ(kt_run(id, create_file, (void *)file), 0);
	KT_EXPECT(kt_event_wait(id, TS_OP_MKNOD, 0, 2000, &e), "no mknod event");
	KT_EXPECT(!strcmp(e.path, file), "walker path '%s'", e.path);
	KT_EXPECT(kt_event_wait(id, TS_OP_OPEN, 0, 2000, &e), "no open event");
	KT_EXPECT(!strcmp(e.path, file), "d_path path '%s'", e.path);
	KT_EXPECT_EQ(kt_run(id, do_unlink, (void *)file), 0);
	KT_EXPECT(kt_event_wait(id, TS_OP_UNLINK, 0, 2000, &e), "no unlink event");
	KT_EXPECT(!strcmp(e.path, file), "walker path '%s'", e.path);
	umount2(MNT, MNT_DETACH);
}

static int uring_open(void *path)
{
	struct io_uring_sqe sqe = {};
	struct kt_uring r;
	int res, err = kt_uring_init(&r);

	if (err)
		return 200; /* no io_uring here */
	sqe.opcode = IORING_OP_OPENAT;
	sqe.fd = AT_FDCWD;
	sqe.addr = (unsigned long)path;
	sqe.open_flags = O_RDONLY;
	res = kt_uring_run(&r, &sqe);
	kt_uring_exit(&r);
	if (res >= 0)
		close(res);
	return res < 0 ? -res : 0;
}

static void io_uring_openat_denied(void)
{
	__u64 id = kt_task_id();
	int res;

	fresh_tree();
	kt_task_create(id);
	kt_allow_path(id, ROOT "/ro/", TS_ACCESS_READ, 8);
	res = kt_run(id, uring_open, SECRET "x");
	if (res == 200) {
		kt_skip("io_uring_setup failed: no io_uring in this kernel");
		return;
	}
	KT_EXPECT_EQ(res, EACCES);
	expect_event(id, TS_OP_OPEN, TS_VERDICT_DENY, TS_REASON_NO_RULE, 0, SECRET "x");
	KT_EXPECT_EQ(kt_run(id, uring_open, ROOT "/ro/b.txt"), 0);
}

static int list_dir(void *path)
{
	return kt_open_errno(path, O_RDONLY | O_DIRECTORY);
}

/* Directories are looked up as "dir/": a directory rule covers the
 * directory itself, a rule on a file inside it does not. */
static void directory_rule_covers_the_directory(void)
{
	__u64 id = kt_task_id();

	fresh_tree();
	kt_task_create(id);
	kt_allow_path(id, DIR_RW, TS_ACCESS_READ, 12);
	kt_allow_path(id, ROOT "/ro/b.txt", TS_ACCESS_READ, 13);
	KT_EXPECT_EQ(kt_run(id, list_dir, ROOT "/rw"), 0);
	expect_event(id, TS_OP_OPEN, TS_VERDICT_ALLOW, TS_REASON_RULE, 12, DIR_RW);
	KT_EXPECT_EQ(kt_run(id, list_dir, ROOT "/ro"), EACCES);
	expect_event(id, TS_OP_OPEN, TS_VERDICT_DENY, TS_REASON_NO_RULE, 0, ROOT "/ro/");
}

static void set_audit_quiet(struct ts_task *t, void *arg)
{
	(void)arg;
	t->mode = TS_MODE_AUDIT;
	t->log_allow = 0;
}

static void set_quiet(struct ts_task *t, void *arg)
{
	(void)arg;
	t->log_allow = 0;
}

/* Denials are always logged; allows only when the task asks. */
static void allows_logged_per_flags(void)
{
	__u64 id = kt_task_id();
	struct ts_event e;

	fresh_tree();
	kt_task_create(id);
	kt_task_update(id, set_quiet, NULL);
	kt_allow_path(id, DIR_RW, TS_ACCESS_READ, 2);
	KT_EXPECT_EQ(kt_run(id, open_read, DIR_RW "f1"), 0);
	KT_EXPECT(!kt_event_wait(id, TS_OP_OPEN, 0, 300, &e), "a quiet allow was logged");
	KT_EXPECT_EQ(kt_run(id, open_write, DIR_RW "f1"), EACCES);
	expect_event(id, TS_OP_OPEN, TS_VERDICT_DENY, TS_REASON_RULE, 2, DIR_RW "f1");
}

/* Audit mode allows what the rules deny, and says so. */
static void audit_mode_allows_and_logs(void)
{
	__u64 id = kt_task_id();
	struct ts_task t;

	fresh_tree();
	kt_task_create(id);
	kt_task_update(id, set_audit_quiet, NULL);
	KT_EXPECT_EQ(kt_run(id, open_write, SECRET "x"), 0);
	expect_event(id, TS_OP_OPEN, TS_VERDICT_AUDIT, TS_REASON_NO_RULE, 0, SECRET "x");
	KT_EXPECT(!ts_kernel_task_get(kt_kernel, id, &t), "task state");
	KT_EXPECT_EQ(t.denied[TS_KIND_FILE], 1);
}

/* The library's first error, kept instead of printed: room for a whole
 * over-long path and the words after it. */
#define SAID_MAX (TS_PATH_MAX + 256)

static void keep_message(enum ts_log_level level, const char *msg, void *ctx)
{
	char *out = ctx;

	if (level == TS_LOG_ERROR && !*out)
		snprintf(out, SAID_MAX, "%s", msg);
}

static void too_long_rule_refused(void)
{
	char path[TS_PATH_MAX + 8], said[SAID_MAX] = "";
	__u64 id = kt_task_id();
	struct ts_path_rule r = { .now = { .rule_id = 1, .action = TS_ACTION_ALLOW } };
	size_t n, m;

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	kt_task_create(id);
	ts_log_set_sink(keep_message, said);
	KT_EXPECT_EQ(ts_kernel_path_rule_set(kt_kernel, id, path, &r), -ENAMETOOLONG);
	ts_log_set_sink(NULL, NULL);
	/* Refused with a message naming the rule and the limit, never cut. */
	KT_EXPECT(strstr(said, "rule path '/aaa") && strstr(said, "is longer than the"),
		  "the refusal said: '%.80s'", said);
	KT_EXPECT(!ts_kernel_rule_count(kt_kernel, id, &n, &m), "rule count");
	KT_EXPECT_EQ(n, 0);
}

static void untagged_unaffected(void)
{
	__u64 id = kt_task_id();
	struct ts_event e;

	fresh_tree();
	kt_task_create(id);
	KT_EXPECT_EQ(kt_run(0, open_write, SECRET "x"), 0);
	KT_EXPECT_EQ(kt_run(0, do_unlink, SECRET "x"), 0);
	KT_EXPECT(!kt_event_wait(id, TS_OP_OPEN, 0, 200, &e), "an untagged open logged");
}

int main(void)
{
	static const struct kt_case cases[] = {
		{ "read allowed and write denied on one file", read_allowed_write_denied_one_file },
		{ "deny under allow", deny_under_allow },
		{ "exact rule does not match a longer name", exact_rule_does_not_match_longer_name },
		{ "symlink to a denied file is denied", symlink_to_denied_file_denied },
		{ "hard link to a denied file is denied", hard_link_to_denied_file_denied },
		{ "path operations need write", path_operations_need_write },
		{ "walker agrees with d_path across mounts",
		  walker_agrees_with_d_path_across_mounts },
		{ "io_uring openat denied", io_uring_openat_denied },
		{ "a directory rule covers the directory", directory_rule_covers_the_directory },
		{ "allows logged per the task's flags", allows_logged_per_flags },
		{ "audit mode allows and logs", audit_mode_allows_and_logs },
		{ "a rule longer than a key is refused", too_long_rule_refused },
		{ "untagged process unaffected", untagged_unaffected },
		{ 0 },
	};

	return kt_main("file", cases);
}
