// SPDX-License-Identifier: MIT
/*
 * bench_vm [all|syscalls|lifecycle|pipeline|rss|calibrate]
 * The benchmarks of issue 8 that need the BPF LSM (tools/vmtest runs them);
 * `calibrate` is the no-taskscope baseline of `syscalls` alone, which runs
 * anywhere: on the host it tells how much slower the emulated VM is.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "bench_vm.h"
#include "ts_log.h"

double bv_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bv_percentile(double *v, size_t n, double p)
{
	size_t rank;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	return v[rank ? (rank > n ? n : rank) - 1 : 0];
}

int bv_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		int err = -errno;

		fprintf(stderr, "bench_vm: warning: cannot pin to cpu %d: %s\n", cpu,
			strerror(-err));
		return err;
	}
	return 0;
}

const char *bv_verdict(bool met)
{
	return met ? "met" : "MISSED";
}

pid_t bv_spawn(int (*fn)(int fd, void *arg), void *arg, int *out, int *go_fd)
{
	int go[2], res[2] = { -1, -1 };
	pid_t pid;
	char c = 0;

	if (pipe2(go, O_CLOEXEC) || (out && pipe2(res, O_CLOEXEC))) {
		fprintf(stderr, "bench_vm: error: pipe: %s\n", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "bench_vm: error: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(go[1]);
		if (out)
			close(res[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(250); /* never released: enrolling it failed */
		close(go[0]);
		_exit(fn(res[1], arg));
	}
	close(go[0]);
	if (out) {
		close(res[1]);
		*out = res[0];
	}
	*go_fd = go[1];
	return pid;
}

int bv_release(int go_fd, bool run)
{
	char c = 0;
	int err = 0;

	if (run && write(go_fd, &c, 1) != 1)
		err = -errno;
	close(go_fd);
	return err;
}

int bv_enroll(struct ts_kernel *k, __u64 task_id, pid_t pid)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), err;

	if (pidfd < 0) {
		err = -errno;
		fprintf(stderr, "bench_vm: error: pidfd_open %d: %s\n", (int)pid, strerror(-err));
		return err;
	}
	err = ts_kernel_enroll_pidfd(k, task_id, pidfd);
	close(pidfd);
	return err;
}

int bv_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

int bv_read_full(int fd, void *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;

	while (got < size) {
		n = read(fd, (char *)buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		got += (size_t)n;
	}
	return 0;
}

int bv_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t len = strlen(text);
	int err = 0;

	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (err)
		fprintf(stderr, "bench_vm: error: cannot write '%s': %s\n", path, strerror(-err));
	return err;
}

int bv_mkdirs(const char *path)
{
	char buf[512];
	char *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST) {
		fprintf(stderr, "bench_vm: error: cannot create '%s': %s\n", path,
			strerror(errno));
		return -errno;
	}
	return 0;
}

__u64 bv_task_id(void)
{
	__u64 id = 0;

	while (!id)
		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			id = (__u64)bv_now_ns();
	return id;
}

static int syscalls(void)
{
	return bench_syscalls(false);
}

static int calibrate(void)
{
	return bench_syscalls(true);
}

/* In the order `all` runs them; calibrate is for the host only. */
static const struct {
	const char *name;
	int (*fn)(void);
	bool in_all;
} benches[] = {
	{ "syscalls", syscalls, true },	  { "lifecycle", bench_lifecycle, true },
	{ "pipeline", bench_pipeline, true }, { "rss", bench_rss, true },
	{ "calibrate", calibrate, false },
};

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "all";
	bool all = !strcmp(what, "all"), found = all;
	int err = 0;
	size_t i;

	if (argc > 2) {
		fprintf(stderr,
			"usage: bench_vm [all|syscalls|lifecycle|pipeline|rss|calibrate]\n");
		return 2;
	}
	ts_log_set_prog("bench_vm");
	setvbuf(stdout, NULL, _IOLBF, 0);
	bv_pin(BV_CPU_BENCH);
	for (i = 0; i < sizeof(benches) / sizeof(benches[0]); i++) {
		if (all ? !benches[i].in_all : strcmp(what, benches[i].name))
			continue;
		found = true;
		err |= benches[i].fn() ? 1 : 0;
	}
	if (!found) {
		fprintf(stderr, "bench_vm: error: unknown benchmark '%s'\n", what);
		return 2;
	}
	return err;
}
