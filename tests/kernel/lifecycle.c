// SPDX-License-Identifier: MIT
/* A task's life in the kernel: deadline, revocation, enrollment. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include "ktest.h"

#define FILE_OK "/tmp/kt-life/ok"

static __u64 boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static void setup(__u64 id)
{
	kt_mkdirs("/tmp/kt-life");
	kt_write_file(FILE_OK, "ok");
	kt_task_create(id);
	kt_allow_path(id, FILE_OK, TS_ACCESS_READ, 1);
}

static int try_fork(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return errno;
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return 0;
}

/* Open, wait for the deadline to pass, open and fork again: 0 when all
 * came out as expected, else a code naming the step that did not. */
static int act_across_deadline(void *arg)
{
	__u64 deadline = *(__u64 *)arg;

	if (kt_open_errno(FILE_OK, O_RDONLY))
		return 1;
	if (try_fork())
		return 2;
	while (boot_ns() < deadline + 50000000ull)
		usleep(10000);
	if (kt_open_errno(FILE_OK, O_RDONLY) != EACCES)
		return 3;
	if (try_fork() != EPERM)
		return 4;
	return 0;
}

static void set_deadline(struct ts_task *t, void *arg)
{
	t->deadline_ns = *(__u64 *)arg;
}

static void expired_deadline_denies_alone(void)
{
	__u64 id = kt_task_id(), deadline;
	struct ts_event e;

	setup(id);
	deadline = boot_ns() + 300000000ull;
	kt_task_update(id, set_deadline, &deadline);
	/* Nothing in user space acts at the deadline: the hooks read the boot
	 * clock themselves. */
	KT_EXPECT_EQ(kt_run(id, act_across_deadline, &deadline), 0);
	KT_EXPECT(kt_event_wait(id, TS_OP_OPEN, 0, 2000, &e), "no open event");
	KT_EXPECT_EQ(e.verdict, TS_VERDICT_ALLOW);
	KT_EXPECT(kt_event_wait(id, TS_OP_OPEN, 0, 2000, &e), "no second open event");
	KT_EXPECT_EQ(e.verdict, TS_VERDICT_DENY);
	KT_EXPECT_EQ(e.reason, TS_REASON_EXPIRED);
	KT_EXPECT(kt_event_wait(id, TS_OP_FORK, 0, 2000, &e), "no fork event");
	KT_EXPECT_EQ(e.reason, TS_REASON_EXPIRED);
	KT_EXPECT_EQ(e.ret, -EPERM);
}

static void set_revoked(struct ts_task *t, void *arg)
{
	(void)arg;
	t->state = TS_STATE_REVOKED;
}

static int open_then_fork(void *arg)
{
	(void)arg;
	if (kt_open_errno(FILE_OK, O_RDONLY) != EACCES)
		return 1;
	return try_fork() == EPERM ? 0 : 2;
}

static void revoked_task_denies_everything(void)
{
	__u64 id = kt_task_id();
	struct ts_event e;

	setup(id);
	kt_task_update(id, set_revoked, NULL);
	KT_EXPECT_EQ(kt_run(id, open_then_fork, NULL), 0);
	KT_EXPECT(kt_event_wait(id, TS_OP_OPEN, 0, 2000, &e), "no open event");
	KT_EXPECT_EQ(e.reason, TS_REASON_REVOKED);
	KT_EXPECT(kt_event_wait(id, TS_OP_FORK, 0, 2000, &e), "no fork event");
	KT_EXPECT_EQ(e.reason, TS_REASON_REVOKED);
	ts_kernel_revoke(kt_kernel, id);
}

/* Every process keeps three children alive, three levels deep, replacing
 * each one that dies: 40 processes, forking all the time. */
static int fork_loop(void *arg)
{
	int depth = 0, children = 0;

	(void)arg;
	for (;;) {
		while (depth < 3 && children < 3) {
			pid_t pid = fork();

			if (pid == 0) {
				depth++;
				children = 0;
				continue;
			}
			if (pid > 0)
				children++;
			else
				break;
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			children--;
		usleep(2000);
	}
	return 0;
}

static size_t live_processes(__u64 id)
{
	struct ts_member_rec *recs;
	size_t n, i, j, procs = 0;

	if (ts_kernel_members(kt_kernel, id, &recs, &n))
		return (size_t)-1;
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (recs[j].tgid == recs[i].tgid)
				break;
		procs += j == i;
	}
	free(recs);
	return procs;
}

/* Walk /proc: how many processes still carry tag `id`. */
static size_t tagged_in_proc(__u64 id)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir("/proc");

	while (d && (de = readdir(d))) {
		pid_t pid = atoi(de->d_name);

		if (pid > 0 && kt_tag_of(pid) == id) {
			char stat[64], buf[256] = "";
			int fd;

			/* A zombie keeps its tag until reaped; it runs nothing. */
			snprintf(stat, sizeof(stat), "/proc/%d/stat", pid);
			fd = open(stat, O_RDONLY);
			if (fd >= 0) {
				if (read(fd, buf, sizeof(buf) - 1) < 0)
					buf[0] = '\0';
				close(fd);
			}
			if (!strstr(buf, ") Z "))
				n++;
		}
	}
	if (d)
		closedir(d);
	return n;
}

static void revoke_kills_fork_loop(void)
{
	__u64 id = kt_task_id();
	size_t before = 0, path_rules, net_rules;
	struct ts_task t;
	pid_t root;
	int i, killed;
	long start;

	setup(id);
	root = kt_spawn(id, fork_loop, NULL);
	for (i = 0; i < 200 && before < 40; i++) {
		usleep(20000);
		before = live_processes(id);
	}
	KT_EXPECT_EQ(before, 40);
	start = kt_now_ms();
	killed = ts_kernel_revoke(kt_kernel, id);
	kt_info("revoke killed %d processes of a 40-process fork loop in %ld ms", killed,
		kt_now_ms() - start);
	KT_EXPECT(killed >= 40, "revoke killed %d processes, the tree had %zu", killed, before);
	KT_EXPECT_EQ(kt_wait(root), 128 + SIGKILL);
	KT_EXPECT_EQ(live_processes(id), 0);
	KT_EXPECT_EQ(tagged_in_proc(id), 0);
	KT_EXPECT_EQ(ts_kernel_task_get(kt_kernel, id, &t), -ENOENT);
	KT_EXPECT(!ts_kernel_rule_count(kt_kernel, id, &path_rules, &net_rules), "rule count");
	KT_EXPECT_EQ(path_rules, 0);
	KT_EXPECT_EQ(net_rules, 0);
}

static int go_pipe[2], report_pipe[2];

static void *thread_open(void *arg)
{
	char c;
	int err;

	(void)arg;
	if (read(go_pipe[0], &c, 1) != 1)
		return NULL;
	err = kt_open_errno("/tmp/kt-life/other", O_RDONLY);
	if (write(report_pipe[1], &err, sizeof(err)) != sizeof(err))
		return NULL;
	return NULL;
}

/* Two threads created before enrollment, blocked until told to open. */
static int threaded(void *arg)
{
	pthread_t t[2];
	int i;

	(void)arg;
	for (i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, thread_open, NULL);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	return 0;
}

static void enroll_tags_every_thread(void)
{
	__u64 id = kt_task_id();
	int i, tagged, err;
	pid_t pid;
	char go[2] = "gg";

	setup(id);
	kt_write_file("/tmp/kt-life/other", "x");
	KT_EXPECT(!pipe(go_pipe) && !pipe(report_pipe), "pipe");
	pid = kt_spawn(0, threaded, NULL);
	usleep(200000); /* let both threads start */
	tagged = ts_kernel_enroll_pid(kt_kernel, id, pid);
	KT_EXPECT_EQ(tagged, 3);
	KT_EXPECT_EQ(write(go_pipe[1], go, 2), 2);
	for (i = 0; i < 2; i++) {
		KT_EXPECT_EQ(read(report_pipe[0], &err, sizeof(err)), sizeof(err));
		KT_EXPECT_EQ(err, EACCES);
	}
	KT_EXPECT_EQ(kt_wait(pid), 0);
	for (i = 0; i < 2; i++) {
		close(go_pipe[i]);
		close(report_pipe[i]);
	}
	ts_kernel_revoke(kt_kernel, id);
}

int main(void)
{
	static const struct kt_case cases[] = {
		{ "an expired deadline denies with no user space acting",
		  expired_deadline_denies_alone },
		{ "a revoked task is denied everything, fork included",
		  revoked_task_denies_everything },
		{ "revoke kills a fork-looping tree, zero survivors", revoke_kills_fork_loop },
		{ "enrolling a process tags its existing threads", enroll_tags_every_thread },
		{ 0 },
	};

	return kt_main("lifecycle", cases);
}
