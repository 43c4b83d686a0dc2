// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "ktest.h"
#include "ts_keys.h"
#include "ts_log.h"

#define EVENT_QUEUE 4096

struct ts_kernel *kt_kernel;
static bool case_failed;
static const char *case_skipped;
static const char *case_name;

/* Events read from the ring buffer and not yet claimed by a test. */
static struct ts_event queue[EVENT_QUEUE];
static unsigned int queued;

void kt_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	case_failed = true;
	fprintf(stderr, "  %s:%d: %s: ", file, line, case_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int on_event(const struct ts_event *e, void *ctx)
{
	(void)ctx;
	if (queued < EVENT_QUEUE)
		queue[queued++] = *e;
	return 0;
}

void kt_events_drain(void)
{
	while (ts_kernel_events_poll(kt_kernel, 0) > 0)
		;
	queued = 0;
}

void kt_info(const char *fmt, ...)
{
	va_list ap;

	printf("  info: %s: ", case_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

long kt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool kt_event_wait(__u64 id, __u8 op, pid_t tgid, int ms, struct ts_event *out)
{
	long deadline = kt_now_ms() + ms;
	unsigned int i;

	for (;;) {
		for (i = 0; i < queued; i++) {
			const struct ts_event *e = &queue[i];

			if (e->task_id != id || e->op != op || (tgid && e->tgid != (__u32)tgid))
				continue;
			*out = *e;
			memmove(&queue[i], &queue[i + 1], (queued - i - 1) * sizeof(queue[0]));
			queued--;
			return true;
		}
		if (kt_now_ms() >= deadline)
			return false;
		ts_kernel_events_poll(kt_kernel, 50);
	}
}

unsigned int kt_events_collect(__u64 id, int quiet_ms)
{
	unsigned int i, kept = 0, n = 0;

	while (ts_kernel_events_poll(kt_kernel, quiet_ms) > 0)
		;
	for (i = 0; i < queued; i++) {
		if (queue[i].task_id == id)
			n++;
		else
			queue[kept++] = queue[i];
	}
	queued = kept;
	return n;
}

__u64 kt_task_id(void)
{
	__u64 id = 0;

	while (!id)
		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			abort();
	return id;
}

int kt_task_create(__u64 id)
{
	struct ts_task t = {
		.state = TS_STATE_ACTIVE,
		.mode = TS_MODE_ENFORCE,
		.log_allow = (1u << TS_KIND_MAX) - 1,
	};
	int err = ts_kernel_task_set(kt_kernel, id, &t);

	KT_EXPECT(!err, "cannot create task: %s", strerror(-err));
	return err;
}

void kt_skip(const char *why)
{
	case_skipped = why;
}

void kt_task_update(__u64 id, void (*edit)(struct ts_task *t, void *arg), void *arg)
{
	struct ts_task t;
	int err = ts_kernel_task_get(kt_kernel, id, &t);

	KT_EXPECT(!err, "cannot read task state: %s", strerror(-err));
	if (err)
		return;
	edit(&t, arg);
	err = ts_kernel_task_set(kt_kernel, id, &t);
	KT_EXPECT(!err, "cannot write task state: %s", strerror(-err));
}

int kt_deny_path(__u64 id, const char *path, __u32 rule_id)
{
	struct ts_path_rule r = {
		.now = { .rule_id = rule_id, .action = TS_ACTION_DENY },
	};
	int err;

	if (path[0] && path[strlen(path) - 1] != '/')
		r.now.flags = TS_RULE_F_EXACT;
	err = ts_kernel_path_rule_set(kt_kernel, id, path, &r);
	KT_EXPECT(!err, "cannot add rule '%s': %s", path, strerror(-err));
	return err;
}

int kt_net_rule(__u64 id, const char *addr, unsigned int bits, __u16 lo, __u16 hi, bool allow,
		__u32 rule_id)
{
	static struct {
		__u64 id;
		unsigned int bits;
		__u8 addr[16];
		struct ts_net_rule rule;
	} nets[64];
	static size_t nnets;
	struct ts_net_rule r = {};
	struct in_addr v4;
	__u8 a[16] = {};
	size_t i;
	int err;

	if (inet_pton(AF_INET, addr, &v4) == 1) {
		ts_addr_v4_mapped(a, v4.s_addr);
		bits += 96;
	} else if (inet_pton(AF_INET6, addr, a) != 1) {
		KT_EXPECT(0, "bad address '%s'", addr);
		return -EINVAL;
	}
	/* Add to what this network already has (an LPM lookup cannot read a
	 * key back: the test keeps its own copy). Ranges apply in order. */
	for (i = 0; i < nnets; i++)
		if (nets[i].id == id && nets[i].bits == bits && !memcmp(nets[i].addr, a, 16))
			break;
	if (i == nnets) {
		if (nnets == sizeof(nets) / sizeof(nets[0]))
			return -E2BIG;
		nets[nnets].id = id;
		nets[nnets].bits = bits;
		memcpy(nets[nnets].addr, a, 16);
		memset(&nets[nnets].rule, 0, sizeof(r));
		nnets++;
	}
	r = nets[i].rule;
	if (r.count >= TS_NET_PORTS)
		return -E2BIG;
	r.ports[r.count].lo = lo;
	r.ports[r.count].hi = hi;
	r.ports[r.count].rule_id = rule_id;
	r.ports[r.count].action = allow ? TS_ACTION_ALLOW : TS_ACTION_DENY;
	r.count++;
	err = ts_kernel_net_rule_set(kt_kernel, id, a, bits, &r);
	KT_EXPECT(!err, "cannot add network rule '%s': %s", addr, strerror(-err));
	if (!err)
		nets[i].rule = r;
	return err;
}

int kt_allow_path(__u64 id, const char *path, __u32 access, __u32 rule_id)
{
	struct ts_path_rule r = {
		.now = { .rule_id = rule_id, .action = TS_ACTION_ALLOW, .access = (__u8)access },
	};
	int err;

	if (path[0] && path[strlen(path) - 1] != '/')
		r.now.flags = TS_RULE_F_EXACT;
	err = ts_kernel_path_rule_set(kt_kernel, id, path, &r);
	KT_EXPECT(!err, "cannot add rule '%s': %s", path, strerror(-err));
	return err;
}

pid_t kt_spawn(__u64 task_id, int (*fn)(void *arg), void *arg)
{
	int go[2], pidfd, err;
	pid_t pid;
	char c = 0;

	if (pipe2(go, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(250); /* released without the go byte: tagging failed */
		close(go[0]);
		_exit(fn(arg));
	}
	close(go[0]);
	if (task_id) {
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		err = pidfd < 0 ? -errno : ts_kernel_enroll_pidfd(kt_kernel, task_id, pidfd);
		if (pidfd >= 0)
			close(pidfd);
		if (err) {
			KT_EXPECT(!err, "cannot enroll pid %d: %s", pid, strerror(-err));
			close(go[1]);
			kt_wait(pid);
			return -1;
		}
	}
	if (write(go[1], &c, 1) != 1)
		KT_EXPECT(0, "cannot release child %d: %s", pid, strerror(errno));
	close(go[1]);
	return pid;
}

int kt_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int kt_run(__u64 task_id, int (*fn)(void *arg), void *arg)
{
	pid_t pid = kt_spawn(task_id, fn, arg);

	return pid < 0 ? -1 : kt_wait(pid);
}

int kt_open_errno(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

int kt_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

__u64 kt_tag_of(pid_t pid)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	__u64 id = 0;

	if (pidfd < 0)
		return 0;
	ts_kernel_member_of(kt_kernel, pidfd, &id);
	close(pidfd);
	return id;
}

struct exec_args {
	const char *path;
	char *const *argv;
	int report; /* write end: the errno of a failed execve */
};

static int do_exec(void *arg)
{
	struct exec_args *a = arg;
	int err;

	execv(a->path, a->argv);
	err = errno;
	if (write(a->report, &err, sizeof(err)) != sizeof(err))
		return 251;
	return 252;
}

int kt_exec_errno(__u64 task_id, const char *path, char *const argv[])
{
	struct exec_args a = { .path = path, .argv = argv };
	int report[2], err = 0, status;
	ssize_t n;
	pid_t pid;

	/* CLOEXEC: a successful execve closes the write end with nothing sent. */
	if (pipe2(report, O_CLOEXEC))
		return -1;
	a.report = report[1];
	pid = kt_spawn(task_id, do_exec, &a);
	close(report[1]);
	if (pid < 0) {
		close(report[0]);
		return -1;
	}
	n = read(report[0], &err, sizeof(err));
	close(report[0]);
	status = kt_wait(pid);
	if (n == sizeof(err))
		return err;
	return status == 0 ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void kt_rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

int kt_mkdirs(const char *path)
{
	char buf[4096];
	char *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int kt_copy_file(const char *src, const char *dst)
{
	char buf[65536];
	int in, out, err = 0;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0) {
		err = -errno;
		goto cleanup;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			err = -EIO;
			break;
		}
	if (n < 0)
		err = -errno;
	close(out);
cleanup:
	close(in);
	return err;
}

int kt_main(const char *suite, const struct kt_case *cases)
{
	return kt_main_opts(suite, cases, NULL);
}

int kt_main_opts(const char *suite, const struct kt_case *cases,
		 const struct ts_kernel_opts *opts)
{
	int passed = 0, failed = 0, skipped = 0, err;
	const struct kt_case *c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ts_log_set_prog(suite);
	err = ts_kernel_open(opts, &kt_kernel);
	if (!err)
		err = ts_kernel_events_subscribe(kt_kernel, on_event, NULL);
	if (err) {
		printf("%s: cannot load the programs: %s\n", suite, strerror(-err));
		printf("0 passed, 1 failed\n");
		return 1;
	}
	for (c = cases; c->name; c++) {
		case_name = c->name;
		case_failed = false;
		case_skipped = NULL;
		kt_events_drain();
		c->fn();
		if (case_skipped && !case_failed) {
			skipped++;
			printf("skip %s: %s (%s)\n", suite, c->name, case_skipped);
		} else if (case_failed) {
			failed++;
			printf("FAIL %s: %s\n", suite, c->name);
		} else {
			passed++;
			printf("ok   %s: %s\n", suite, c->name);
		}
	}
	ts_kernel_close(kt_kernel);
	if (skipped)
		printf("%d skipped\n", skipped);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
