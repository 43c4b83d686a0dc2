/* SPDX-License-Identifier: MIT */
/*
 * make bench, the part that needs the BPF LSM: run as root inside
 * tools/vmtest, one boot. Every figure is printed with the baseline
 * measured in the same run and the ratio between them.
 */
#ifndef BENCH_VM_H
#define BENCH_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>
#include "taskscope.h"
#include "ts_kernel.h"

#define BV_DIR "/tmp/tsbench"
/* The benchmarks run on CPU 0; the daemon, when there is one, on CPU 1. */
#define BV_CPU_BENCH 0
#define BV_CPU_DAEMON 1

double bv_now_ns(void);
/* Sort `v` and return its p-th percentile (0..100), nearest rank. */
double bv_percentile(double *v, size_t n, double p);
int bv_pin(int cpu);
/* "target <text>: met" or "... MISSED" */
const char *bv_verdict(bool met);

/*
 * A child process held until released, then running fn(arg) and exiting
 * with its result; the caller may enroll it meanwhile. `out` (may be
 * NULL) receives a pipe from the child: fn's `fd`. *go_fd releases it.
 */
pid_t bv_spawn(int (*fn)(int fd, void *arg), void *arg, int *out, int *go_fd);
/* Let the child run (`run`), or let it exit without running fn. */
int bv_release(int go_fd, bool run);
/* Tag process `pid` with task `task_id` through the library. */
int bv_enroll(struct ts_kernel *k, __u64 task_id, pid_t pid);
/* Its exit status, or 128 + signal. */
int bv_wait(pid_t pid);
/* Read exactly `size` bytes from `fd`: 0 or -EIO. */
int bv_read_full(int fd, void *buf, size_t size);
int bv_write_file(const char *path, const char *text);
int bv_mkdirs(const char *path);
/* A random nonzero task id. */
__u64 bv_task_id(void);

/* taskscoped under test: own socket, pins, state and file sink in `dir`,
 * pinned to BV_CPU_DAEMON. */
struct bv_daemon {
	pid_t pid;
	char dir[256];
	char sock[300];
	char events[300];
	struct ts_client *client;
};

/* Start it with `extra` (JSON members, may be "") added to its config. */
int bv_daemon_start(struct bv_daemon *d, const char *dir, const char *extra);
/* SIGTERM, wait, then --teardown: nothing of it is left. */
int bv_daemon_stop(struct bv_daemon *d);
/* Call `method`: 0 and *result (caller's, may be NULL to discard), or a
 * negative errno having printed the daemon's error. */
int bv_call(struct bv_daemon *d, const char *method, json_t *params, json_t **result);
/* Resident set of `pid` in KiB, or a negative errno. */
long bv_rss_kib(pid_t pid);
/* On-CPU time of all of its threads, ns; negative when it is gone. */
double bv_cpu_ns(pid_t pid);

int bench_syscalls(bool baseline_only);
int bench_lifecycle(void);
int bench_pipeline(void);
int bench_rss(void);

#endif /* BENCH_VM_H */
