/* SPDX-License-Identifier: MIT */
/* Internals shared by the ts_kernel_*.c files; not part of the API. */
#ifndef TS_KERNEL_PRIV_H
#define TS_KERNEL_PRIV_H

#include "ts_kernel.h"

enum ts_map_id {
	TS_MAP_MEMBERS = 0,
	TS_MAP_TASKS,
	TS_MAP_PATH_RULES,
	TS_MAP_NET_RULES,
	TS_MAP_DAEMON,
	TS_MAP_ENROLL,
	TS_MAP_EVENTS,
	TS_MAP_STATS,
	TS_MAP_SECRETS,
	TS_MAP_COUNT,
};

enum ts_iter_id {
	TS_ITER_MEMBERS = 0,
	TS_ITER_ENROLL,
	TS_ITER_COUNT,
};

struct taskscope_bpf;
struct ring_buffer;

struct ts_kernel {
	struct taskscope_bpf *skel; /* NULL when reopened from pins */
	char *pin_dir;              /* NULL: private instance */
	bool reopened;
	int map_fd[TS_MAP_COUNT];
	int iter_prog_fd[TS_ITER_COUNT];
	int owned_fds; /* map_fd/iter_prog_fd are ours to close (reopened) */
	struct ring_buffer *events;
	ts_event_fn on_event;
	void *on_event_ctx;
	struct ts_prog_stat *stats;
	size_t nstats;
};

struct ts_prog_stat {
	char name[64];
	unsigned int insns;
};

extern const char *const ts_map_names[TS_MAP_COUNT];
extern const char *const ts_iter_names[TS_ITER_COUNT];

/* Create an iterator of program `which` (optionally limited to the process
 * behind pidfd, -1: every task) and read all it writes into *buf. */
int ts_iter_read(struct ts_kernel *k, enum ts_iter_id which, int pidfd, void **buf, size_t *len);

/* Delete every path and network rule of task `id`. */
int ts_kernel_rules_delete(struct ts_kernel *k, __u64 id);

#endif /* TS_KERNEL_PRIV_H */
