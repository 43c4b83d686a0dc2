/* SPDX-License-Identifier: MIT */
/*
 * The kernel half of taskscope, as seen from user space: load and attach
 * the LSM programs, and read and write the maps of include/taskscope.h.
 * Every function returns 0 (or a count) on success and a negative errno on
 * failure, having reported the failure once through ts_log.
 */
#ifndef TS_KERNEL_H
#define TS_KERNEL_H

#include <stdbool.h>
#include <sys/types.h>
#include "taskscope.h"

struct ts_kernel;

struct ts_kernel_opts {
	__u32 events_bytes; /* ring buffer size (power of two); 0: default */
};

typedef int (*ts_event_fn)(const struct ts_event *e, void *ctx);

int ts_kernel_open(const struct ts_kernel_opts *opts, struct ts_kernel **out);
void ts_kernel_close(struct ts_kernel *k);

/* Create or replace the state of task `id`. */
int ts_kernel_task_set(struct ts_kernel *k, __u64 id, const struct ts_task *t);
int ts_kernel_task_get(struct ts_kernel *k, __u64 id, struct ts_task *t);

/* Tag the process behind `pidfd` as a member of task `id`. */
int ts_kernel_enroll_pidfd(struct ts_kernel *k, __u64 id, int pidfd);
/* The task id of the process behind `pidfd`: 0 when untagged. */
int ts_kernel_member_of(struct ts_kernel *k, int pidfd, __u64 *id);

/* Insert or replace one path rule (exec, file or unix). */
int ts_kernel_path_rule_set(struct ts_kernel *k, __u64 id, const char *path,
			    const struct ts_path_rule *rule);

/* Stream events to `fn` (called from ts_kernel_events_poll). */
int ts_kernel_events_subscribe(struct ts_kernel *k, ts_event_fn fn, void *ctx);
/* Wait up to `timeout_ms` and deliver what arrived: the count, or -errno. */
int ts_kernel_events_poll(struct ts_kernel *k, int timeout_ms);

/* Sum over CPUs of counter `stat` (enum ts_stat). */
int ts_kernel_stat(struct ts_kernel *k, enum ts_stat stat, __u64 *value);

#endif /* TS_KERNEL_H */
