/* SPDX-License-Identifier: MIT */
/*
 * Kernel test helpers: run as root inside tools/vmtest, against the real
 * LSM programs. A test asserts what the syscall returned and which event
 * came out; the binary ends with "N passed, N failed".
 */
#ifndef KTEST_H
#define KTEST_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include "taskscope.h"
#include "ts_kernel.h"

struct kt_case {
	const char *name;
	void (*fn)(void);
};

/* Shared by every case of one binary: the loaded programs. */
extern struct ts_kernel *kt_kernel;

/* Record a failed expectation; the current case fails, the others run. */
void kt_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define KT_EXPECT(cond, ...)                                       \
	do {                                                       \
		if (!(cond))                                       \
			kt_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

#define KT_EXPECT_EQ(a, b)                                                            \
	do {                                                                          \
		long long _a = (long long)(a), _b = (long long)(b);                   \
		if (_a != _b)                                                         \
			kt_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, \
				_a, #b, _b);                                          \
	} while (0)

/* Open the programs, run every case, print the summary; the exit status is
 * nonzero when any case failed. */
int kt_main(const char *suite, const struct kt_case *cases);
/* The same with the programs opened with `opts`. */
int kt_main_opts(const char *suite, const struct kt_case *cases,
		 const struct ts_kernel_opts *opts);
/* A measurement worth reading in the log: "  info: <suite>: ...". */
void kt_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Milliseconds on CLOCK_MONOTONIC. */
long kt_now_ms(void);
/* Mark the current case skipped (the kernel lacks what it needs). */
void kt_skip(const char *why);

/* A new random nonzero task id. */
__u64 kt_task_id(void);
/* Create task `id`: active, enforce mode, no deadline, allows logged for
 * every kind. Returns 0 or fails the case. */
int kt_task_create(__u64 id);
/* Add an allow rule for `path` granting `access`, with rule id `rule_id`. */
int kt_allow_path(__u64 id, const char *path, __u32 access, __u32 rule_id);
/* Add a deny rule for `path` (the subtree, for a directory). */
int kt_deny_path(__u64 id, const char *path, __u32 rule_id);
/* Allow (or deny) `addr`/`bits` (IPv4 or IPv6 text) on ports lo..hi. */
int kt_net_rule(__u64 id, const char *addr, unsigned int bits, __u16 lo, __u16 hi, bool allow,
		__u32 rule_id);
/* Change a field of task `id`'s state. */
void kt_task_update(__u64 id, void (*edit)(struct ts_task *t, void *arg), void *arg);

/*
 * Child processes. kt_spawn() forks a child that waits until released,
 * then runs fn(arg) and exits with its return value. The parent may tag it
 * first: task_id 0 leaves it untagged.
 */
pid_t kt_spawn(__u64 task_id, int (*fn)(void *arg), void *arg);
/* Wait for `pid`; its exit status, or 128 + signal. */
int kt_wait(pid_t pid);
/* fn(arg) in a child tagged with task_id (0: untagged): fn's return
 * value, by convention 0 or the errno the operation failed with. */
int kt_run(__u64 task_id, int (*fn)(void *arg), void *arg);
/* fn's convention for a syscall result: 0 on success, else errno. */
#define KT_ERRNO(expr) ((expr) < 0 ? errno : 0)

/* execve(path, argv) from a child (tagged with task_id unless 0): 0 when the
 * exec succeeded and the program exited 0, the errno execve failed with, or
 * -1 when the program ran but failed. */
int kt_exec_errno(__u64 task_id, const char *path, char *const argv[]);

/* Wait up to `ms` for an event of task `id`, op `op`, from thread group
 * `tgid` (0: any). True and *out filled when one came. */
bool kt_event_wait(__u64 id, __u8 op, pid_t tgid, int ms, struct ts_event *out);
/* Wait until no event arrived for `quiet_ms`, then take out and count
 * the queued events of task `id`. */
unsigned int kt_events_collect(__u64 id, int quiet_ms);
/* Drop every event queued so far. */
void kt_events_drain(void);

/* Open `path` with `flags` (and close it): 0 or errno. For kt_run(). */
int kt_open_errno(const char *path, int flags);
/* Create `path` holding `text` (outside any task). */
int kt_write_file(const char *path, const char *text);
/* The task storage tag of process `pid`: 0 when untagged. */
__u64 kt_tag_of(pid_t pid);

/* Write `size` bytes of `src` (a file) to `dst`, mode 0755. */
int kt_copy_file(const char *src, const char *dst);
/* rm -rf */
void kt_rm_rf(const char *path);
/* mkdir -p */
int kt_mkdirs(const char *path);

#endif /* KTEST_H */
