// SPDX-License-Identifier: GPL-2.0-only
/*
 * make bench: the decision logic of the LSM programs (bpf/decide.bpf.h,
 * the very same code), in a raw_tp program that BPF_PROG_TEST_RUN can
 * run on a host whose kernel refuses lsm/ programs (a `syscall` program
 * would not do: it is sleepable, and sleepable programs may not use LPM
 * tries). One run loops
 * `iterations` decisions with bpf_loop() and reports the elapsed time.
 * Two references are timed the same way: the bare loop (subtracted from
 * every figure) and a single hash lookup, which is what a one-lookup
 * program such as systemd's restrict-fs costs.
 *
 * A decision here is what an LSM program does once it knows the caller
 * is a member: the task lookup and its gate (state, deadline), the rule
 * lookup and the verdict. Timed apart: the task storage lookup that
 * finds membership, all that a process in no task pays. Not included:
 * producing the path (bpf_d_path or the dentry walk), which needs a hook.
 */
#define TS_DEFINE_MAPS
#include "decide.bpf.h"
#include "bench_api.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_io);
} bench_io SEC(".maps");

struct loop_ctx {
	struct bench_io *io;
	struct ts_scratch *s;
	__u64 allowed;
};

static long step_empty(__u32 i, void *data)
{
	struct loop_ctx *l = data;
	struct ts_scratch *s = l->s;

	ts_key_set_task(&s->key.task_hi, &s->key.task_lo, l->io->task_id);
	s->key.prefixlen = TS_KEY_TASK_BITS + (__u32)i;
	l->allowed += s->key.prefixlen & 1;
	return 0;
}

static long step_one_lookup(__u32 i, void *data)
{
	struct loop_ctx *l = data;

	l->allowed += bpf_map_lookup_elem(&ts_tasks, &l->io->task_id) != NULL;
	return 0;
}

static long step_not_member(__u32 i, void *data)
{
	struct loop_ctx *l = data;
	struct ts_ctx c;

	l->allowed += ts_current_member(&c);
	return 0;
}

static long step_emit(__u32 i, void *data)
{
	struct loop_ctx *l = data;
	struct ts_event *e = bpf_ringbuf_reserve(&ts_events, sizeof(*e), 0);

	if (!e)
		return 1; /* full: the consumer's turn */
	__builtin_memcpy(e, &l->io->event, sizeof(*e));
	e->time_ns = bpf_ktime_get_boot_ns();
	bpf_ringbuf_submit(e, 0);
	l->allowed++;
	return 0;
}

/* The task lookup and steps 1-3, as the LSM programs do them. */
static __always_inline bool gate_open(struct loop_ctx *l, struct ts_ctx *c)
{
	c->task_id = l->io->task_id;
	c->task = bpf_map_lookup_elem(&ts_tasks, &c->task_id);
	c->now = bpf_ktime_get_boot_ns();
	return ts_task_gate(c) == 0;
}

static long step_path(__u32 i, void *data)
{
	struct loop_ctx *l = data;
	struct ts_decision d;
	struct ts_ctx c;

	if (!gate_open(l, &c))
		return 1;
	ts_path_decide(ts_path_lookup(l->s, c.task_id, l->io->path_len), l->io->want, false,
		       c.now, &d);
	l->allowed += d.allow;
	return 0;
}

static long step_net(__u32 i, void *data)
{
	struct loop_ctx *l = data;
	struct ts_net_key key;
	struct ts_decision d;
	struct ts_ctx c;

	if (!gate_open(l, &c))
		return 1;
	__builtin_memcpy(key.addr, l->io->addr, sizeof(key.addr));
	ts_net_decide(ts_net_lookup(&key, c.task_id), l->io->port, c.now, &d);
	l->allowed += d.allow;
	return 0;
}

SEC("raw_tp")
int bench_decide(struct bpf_raw_tracepoint_args *ctx)
{
	struct loop_ctx l = {};
	__u32 zero = 0;
	long done;
	__u64 t0;

	l.io = bpf_map_lookup_elem(&bench_io, &zero);
	l.s = ts_scratch();
	if (!l.io || !l.s)
		return 1;
	/* The path as d_path() would have left it in the scratch key. */
	__builtin_memcpy(l.s->key.path, l.io->path, sizeof(l.io->path));
	t0 = bpf_ktime_get_ns();
	if (l.io->mode == BENCH_ONE_LOOKUP)
		done = bpf_loop(l.io->iterations, step_one_lookup, &l, 0);
	else if (l.io->mode == BENCH_EMIT)
		done = bpf_loop(l.io->iterations, step_emit, &l, 0);
	else if (l.io->mode == BENCH_NOT_MEMBER)
		done = bpf_loop(l.io->iterations, step_not_member, &l, 0);
	else if (l.io->mode == BENCH_PATH)
		done = bpf_loop(l.io->iterations, step_path, &l, 0);
	else if (l.io->mode == BENCH_NET)
		done = bpf_loop(l.io->iterations, step_net, &l, 0);
	else
		done = bpf_loop(l.io->iterations, step_empty, &l, 0);
	l.io->elapsed_ns = bpf_ktime_get_ns() - t0;
	l.io->allowed = l.allowed;
	/* Fewer than asked: a closed gate ended the loop, the run is void. */
	l.io->done = done;
	return 0;
}
