// SPDX-License-Identifier: MIT
/* Pinned programs keep enforcing after their loader is gone, and a new
 * process picks them up where it left them. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "ktest.h"
#include "ts_log.h"

#define PIN "/sys/fs/bpf/kt-pin"
#define FILE_OK "/tmp/kt-pin/ok"
#define FILE_NO "/tmp/kt-pin/no"

static int go[2];

/* Blocked until released, then one allowed and one denied open. */
static int member_after_release(void *arg)
{
	char c;

	(void)arg;
	if (read(go[0], &c, 1) != 1)
		return 10;
	if (kt_open_errno(FILE_OK, O_RDONLY))
		return 11;
	return kt_open_errno(FILE_NO, O_RDONLY) == EACCES ? 0 : 12;
}

/* A separate process loads and pins, scopes `member`, and exits. */
static int load_pin_and_leave(__u64 id, pid_t member)
{
	struct ts_kernel_opts opts = { .pin_dir = PIN };
	struct ts_task t = { .state = TS_STATE_ACTIVE, .log_allow = 1u << TS_KIND_FILE };
	struct ts_path_rule r = { .now = { .rule_id = 1, .action = TS_ACTION_ALLOW,
					   .access = TS_ACCESS_READ,
					   .flags = TS_RULE_F_EXACT } };
	struct ts_kernel *k;
	pid_t pid = fork();

	if (pid)
		return kt_wait(pid);
	if (ts_kernel_open(&opts, &k) || ts_kernel_reopened(k) ||
	    ts_kernel_task_set(k, id, &t) || ts_kernel_path_rule_set(k, id, FILE_OK, &r) ||
	    ts_kernel_enroll_pid(k, id, member) < 1)
		_exit(1);
	_exit(0); /* no close, no cleanup: the process just dies */
}

struct seen {
	__u64 id;
	int allowed, denied;
	char denied_path[TS_EVENT_PATH_MAX];
};

static int on_event(const struct ts_event *e, void *ctx)
{
	struct seen *s = ctx;

	if (e->task_id != s->id || e->op != TS_OP_OPEN)
		return 0;
	if (e->verdict == TS_VERDICT_ALLOW) {
		s->allowed++;
	} else {
		s->denied++;
		memcpy(s->denied_path, e->path, sizeof(s->denied_path));
	}
	return 0;
}

static void enforcement_outlives_its_loader(void)
{
	struct ts_kernel_opts opts = { .pin_dir = PIN };
	__u64 id = kt_task_id();
	struct seen found = {};
	struct ts_kernel *k;
	struct ts_task t;
	struct stat st;
	pid_t member;

	kt_mkdirs("/tmp/kt-pin");
	kt_write_file(FILE_OK, "ok");
	kt_write_file(FILE_NO, "no");
	KT_EXPECT(!pipe(go), "pipe");
	member = kt_spawn(0, member_after_release, NULL);
	KT_EXPECT_EQ(load_pin_and_leave(id, member), 0);
	KT_EXPECT(!stat(PIN "/links", &st), "no pinned links");

	/* The loader is gone; the member acts now. */
	KT_EXPECT_EQ(write(go[1], "g", 1), 1);
	KT_EXPECT_EQ(kt_wait(member), 0);

	KT_EXPECT(!ts_kernel_open(&opts, &k), "cannot reopen the pins");
	if (!k)
		return;
	KT_EXPECT(ts_kernel_reopened(k), "the pins were loaded again, not reopened");
	KT_EXPECT(!ts_kernel_task_get(k, id, &t), "the task state is gone");
	KT_EXPECT_EQ(t.allowed[TS_KIND_FILE], 1);
	KT_EXPECT_EQ(t.denied[TS_KIND_FILE], 1);
	/* Its events waited in the pinned ring buffer. */
	found.id = id;
	KT_EXPECT(!ts_kernel_events_subscribe(k, on_event, &found), "subscribe");
	ts_kernel_events_poll(k, 500);
	KT_EXPECT_EQ(found.allowed, 1);
	KT_EXPECT_EQ(found.denied, 1);
	KT_EXPECT(!strcmp(found.denied_path, FILE_NO), "denied path '%s'", found.denied_path);
	KT_EXPECT_EQ(ts_kernel_revoke(k, id), 0);
	KT_EXPECT(!ts_kernel_unpin(k), "unpin");
	KT_EXPECT(stat(PIN, &st) && errno == ENOENT, "pins left behind");
	ts_kernel_close(k);
}

int main(void)
{
	static const struct kt_case cases[] = {
		{ "enforcement outlives its loader; reopen", enforcement_outlives_its_loader },
		{ 0 },
	};

	return kt_main("pin", cases);
}
