/* SPDX-License-Identifier: MIT */
/*
 * The one-element array "bench_io" shared by bpf/bench/bench.bpf.c and
 * tools/bench/bench_decision.c. User space fills the query and the mode,
 * runs "bench_decide" with BPF_PROG_TEST_RUN, and reads back elapsed_ns
 * (bpf_ktime_get_ns around the whole loop), the decisions that allowed
 * and how many iterations ran (fewer than asked: the task gate was
 * closed and the run is void). BENCH_EMIT counts in `allowed` the records
 * the ring buffer took.
 */
#ifndef TS_BENCH_API_H
#define TS_BENCH_API_H

#include "taskscope.h"

enum bench_mode {
	BENCH_EMPTY = 0,  /* the loop and the key setup, no lookup */
	BENCH_ONE_LOOKUP, /* one hash lookup (ts_tasks): the reference */
	BENCH_PATH,       /* task gate + path rule lookup + verdict */
	BENCH_NET,        /* task gate + net rule lookup + port verdict */
	BENCH_NOT_MEMBER, /* the membership test an untagged process pays */
	BENCH_EMIT,       /* `event` into ring buffer ts_events, as the hooks do */
};

struct bench_io {
	__u64 task_id;
	__u32 mode; /* enum bench_mode */
	__u32 iterations;
	__s64 path_len; /* bytes of the query path, NUL included */
	__u32 want;     /* TS_ACCESS_* */
	__u16 port;
	__u16 pad;
	__u8 addr[16]; /* IPv6 or v4-mapped */
	char path[TS_PATH_MAX];
	__u64 elapsed_ns; /* out */
	__u64 allowed;    /* out: also keeps the decisions from being optimized away */
	__s64 done;       /* out: iterations completed (bpf_loop's result) */
	struct ts_event event; /* BENCH_EMIT: the record, time_ns set per copy */
};

#endif /* TS_BENCH_API_H */
