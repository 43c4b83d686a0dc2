// SPDX-License-Identifier: MIT
/*
 * Event pipeline throughput on one core: OCSF formatting into the file
 * sink (queue + writer thread), against raw write() baselines measured in
 * the same run on the same file system; then the same from a kernel ring
 * buffer, filled by bpf/bench/bench.bpf.c with the records the hooks
 * emit. Checks that every event is either written or counted as dropped:
 * zero unaccounted loss.
 *   bench_events DIR [EVENTS]
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench.skel.h"
#include "bench_api.h"
#include "daemon.h"
#include "sinks.h"
#include "ts_ocsf.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sample(struct ts_event *e, unsigned long i)
{
	memset(e, 0, sizeof(*e));
	e->time_ns = 1000000000ull + i * 1000;
	e->task_id = 0x1ba0b47726cdf010ull;
	e->pid = e->tgid = 4000 + (__u32)(i % 64);
	e->ppid = 3999;
	e->uid = 1000;
	e->kind = TS_KIND_FILE;
	e->op = TS_OP_OPEN;
	e->verdict = TS_VERDICT_DENY;
	e->reason = TS_REASON_RULE;
	e->rule_id = 14;
	e->ret = -13;
	e->access = TS_ACCESS_READ;
	memcpy(e->comm, "python3", 8);
	snprintf(e->path, sizeof(e->path), "/home/dev/project/src/module_%lu/data.json", i % 997);
}

static size_t count_lines(const char *path)
{
	static char buf[1 << 20];
	size_t n = 0;
	ssize_t r, i;
	int fd = open(path, O_RDONLY);

	while (fd >= 0 && (r = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < r; i++)
			n += buf[i] == '\n';
	if (fd >= 0)
		close(fd);
	return n;
}

/* Events as the daemon gets them from the ring buffer: made beforehand,
 * so that making them is not measured. */
#define POOL 4096
static struct ts_event pool[POOL];

static const struct ts_fmt_env env = { "bench-host", "example.org", "bench", 0 };
static const struct ts_fmt_task task = { "bench", "coding-agent", TS_MODE_ENFORCE };
static const struct ts_fmt_extra extra = { "/usr/bin/python3", "file.deny[0] ${HOME}/.ssh/" };

/* Baselines and the sink on one directory; files are removed after each
 * phase so that no phase pays for another's dirty pages. */
/* ns per event of the sink fed from memory, the last run_on(): the
 * baseline of the ring buffer run, on the same file system. */
static double sink_from_memory_ns;

static int run_on(const char *dir, const char *what, unsigned long n)
{
	char line[8192], path[4096];
	struct sink_cfg cfg = { 0 };
	struct sink_stats st;
	struct ts_event e;
	struct sinks *s;
	double t0, raw_s, batch_s, ours_s;
	size_t len, lines, fill = 0;
	unsigned long i;
	char *batch;
	int fd;

	sample(&e, 1);
	len = ts_ocsf_event(line, sizeof(line), &e, &task, &env, &extra);
	snprintf(path, sizeof(path), "%s/raw.jsonl", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	t0 = now_s();
	for (i = 0; i < n; i++)
		if (write(fd, line, len) != (ssize_t)len)
			return 1;
	raw_s = now_s() - t0;
	close(fd);
	unlink(path);

	batch = malloc(256 * 1024);
	snprintf(path, sizeof(path), "%s/batched.jsonl", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		if (fill + len > 256 * 1024) {
			if (write(fd, batch, fill) != (ssize_t)fill)
				return 1;
			fill = 0;
		}
		memcpy(batch + fill, line, len);
		fill += len;
	}
	if (fill && write(fd, batch, fill) != (ssize_t)fill)
		return 1;
	batch_s = now_s() - t0;
	close(fd);
	unlink(path);
	free(batch);

	cfg.type = SINK_FILE;
	snprintf(cfg.path, sizeof(cfg.path), "%s/ours.jsonl", dir);
	unlink(cfg.path);
	cfg.fsync_mode = SINK_FSYNC_NEVER;
	cfg.queue_bytes = SINK_DEFAULT_QUEUE; /* as taskscoped runs it */
	if (sinks_open(&cfg, 1, "bench-host", &s))
		return 1;
	t0 = now_s();
	for (i = 0; i < n; i++) {
		const struct ts_event *pe = &pool[i % POOL];
		size_t m = ts_ocsf_event(line, sizeof(line), pe, &task, &env, &extra);

		sinks_write(s, line, m, ts_ocsf_severity(pe));
	}
	sinks_drain(s, 60000);
	ours_s = now_s() - t0;
	sinks_stats(s, 0, &st);
	sinks_close(s);
	sink_from_memory_ns = ours_s / n * 1e9;
	lines = count_lines(cfg.path);
	unlink(cfg.path);

	printf("  %s (%s)\n", what, dir);
	printf("    %-34s %6.0f ns/event  %5.2f M/s  (baseline)\n", "raw write(), one line per call",
	       raw_s / n * 1e9, n / raw_s / 1e6);
	printf("    %-34s %6.0f ns/event  %5.2f M/s  (baseline: the I/O floor)\n",
	       "raw write(), 256 KiB batches", batch_s / n * 1e9, n / batch_s / 1e6);
	printf("    %-34s %6.0f ns/event  %5.2f M/s  = %.2fx per-line write, %.2fx the I/O floor\n",
	       "taskscope: format + file sink", ours_s / n * 1e9, n / ours_s / 1e6,
	       raw_s / ours_s, batch_s / ours_s);
	printf("    accounting: %llu written + %llu dropped = %llu of %lu, %zu lines in the file, "
	       "unaccounted %ld; >= 1 M/s: %s\n",
	       (unsigned long long)st.written, (unsigned long long)st.dropped,
	       (unsigned long long)(st.written + st.dropped), n, lines,
	       (long)n - (long)(st.written + st.dropped), n / ours_s >= 1e6 ? "met" : "missed");
	return st.written + st.dropped == n && lines == st.written ? 0 : 1;
}

#define RING_BYTES (64u << 20)
#define RING_BATCH 10000u /* records per fill: fits RING_BYTES */

struct ring_ctx {
	struct sinks *sinks;
	unsigned long got;
	char line[8192];
};

/* What taskscoped does with each record (user/taskscoped/events.c). */
static int on_ring_event(void *ctx, void *data, size_t size)
{
	struct ring_ctx *c = ctx;
	const struct ts_event *e = data;
	size_t m;

	if (size < sizeof(*e))
		return 0;
	m = ts_ocsf_event(c->line, sizeof(c->line), e, &task, &env, &extra);
	sinks_write(c->sinks, c->line, m, ts_ocsf_severity(e));
	c->got++;
	return 0;
}

/* Fill the ring with one test run, empty it into the sink; repeat. */
static int ring_fill(struct bench_bpf *skel, struct bench_io *io, __u32 count, __u64 *taken)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	int fd = bpf_map__fd(skel->maps.bench_io);
	__u32 zero = 0;

	io->mode = BENCH_EMIT;
	io->iterations = count;
	if (bpf_map_update_elem(fd, &zero, io, BPF_ANY) ||
	    bpf_prog_test_run_opts(bpf_program__fd(skel->progs.bench_decide), &opts) ||
	    bpf_map_lookup_elem(fd, &zero, io)) {
		int err = -errno;

		fprintf(stderr, "bench_events: error: test run of 'bench_decide': %s\n",
			strerror(-err));
		return err;
	}
	*taken = io->allowed;
	return 0;
}

static int run_ring(const char *dir, unsigned long n)
{
	static struct ring_ctx rc;
	static struct bench_io io;
	struct sink_cfg cfg = { 0 };
	struct ring_buffer *rb = NULL;
	struct bench_bpf *skel;
	struct sink_stats st;
	unsigned long produced = 0;
	double t0, kernel_s = 0, user_s = 0;
	size_t lines;
	__u64 taken = 0;
	int err;

	skel = bench_bpf__open();
	if (!skel || bpf_map__set_max_entries(skel->maps.ts_events, RING_BYTES) ||
	    bench_bpf__load(skel)) {
		fprintf(stderr, "bench_events: error: loading 'bench_decide': %s\n",
			strerror(errno));
		bench_bpf__destroy(skel);
		return 1;
	}
	cfg.type = SINK_FILE;
	snprintf(cfg.path, sizeof(cfg.path), "%s/ring.jsonl", dir);
	unlink(cfg.path);
	cfg.fsync_mode = SINK_FSYNC_NEVER;
	cfg.queue_bytes = SINK_DEFAULT_QUEUE; /* as taskscoped runs it */
	err = sinks_open(&cfg, 1, "bench-host", &rc.sinks);
	if (!err) {
		rb = ring_buffer__new(bpf_map__fd(skel->maps.ts_events), on_ring_event, &rc, NULL);
		err = rb ? 0 : -errno;
	}
	io.event = pool[1];
	while (!err && produced < n) {
		__u32 count = n - produced < RING_BATCH ? (__u32)(n - produced) : RING_BATCH;

		t0 = now_s();
		err = ring_fill(skel, &io, count, &taken);
		kernel_s += now_s() - t0;
		produced += taken;
		if (!err && taken != count) {
			fprintf(stderr, "bench_events: error: the ring took %llu of %u records\n",
				(unsigned long long)taken, count);
			err = -ENOSPC;
		}
		t0 = now_s();
		if (!err && ring_buffer__consume(rb) < 0)
			err = -EIO;
		user_s += now_s() - t0;
	}
	t0 = now_s();
	if (rc.sinks)
		sinks_drain(rc.sinks, 60000);
	user_s += now_s() - t0;
	if (!err) {
		sinks_stats(rc.sinks, 0, &st);
		lines = count_lines(cfg.path);
		printf("  from a kernel ring buffer (%s)\n", dir);
		printf("    %-34s %6.0f ns/event  %5.2f M/s  (the kernel side: reserve, copy, "
		       "submit)\n",
		       "bpf_ringbuf_reserve + submit", kernel_s / n * 1e9, n / kernel_s / 1e6);
		/* Dropped records are accounted for, but not throughput. */
		printf("    %-34s %6.0f ns/event  %5.2f M/s written on one core; >= 1 M/s: %s\n",
		       "taskscope: ring -> OCSF -> file", user_s / st.written * 1e9,
		       st.written / user_s / 1e6, st.written / user_s >= 1e6 ? "met" : "missed");
		printf("    %-34s %6.0f ns/event  (baseline) -> the ring costs x%.2f\n",
		       "the same sink fed from memory", sink_from_memory_ns,
		       user_s / st.written * 1e9 / sink_from_memory_ns);
		printf("    accounting: %lu consumed, %llu written + %llu dropped, %zu lines, "
		       "unaccounted %ld\n",
		       rc.got, (unsigned long long)st.written, (unsigned long long)st.dropped, lines,
		       (long)n - (long)(st.written + st.dropped));
		if (rc.got != n || st.written + st.dropped != n || lines != st.written)
			err = -EIO;
	}
	ring_buffer__free(rb);
	if (rc.sinks)
		sinks_close(rc.sinks);
	unlink(cfg.path);
	bench_bpf__destroy(skel);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000, i;
	char line[8192];
	cpu_set_t one;
	size_t len = 0;
	double t0, fmt_s;
	int err = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_events DIR [EVENTS]\n");
		return 2;
	}
	/* Producer and sink writer share one core. */
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	sched_setaffinity(0, sizeof(one), &one);

	for (i = 0; i < POOL; i++)
		sample(&pool[i], i);
	t0 = now_s();
	for (i = 0; i < n; i++)
		len += ts_ocsf_event(line, sizeof(line), &pool[i % POOL], &task, &env, &extra);
	fmt_s = now_s() - t0;
	printf("event pipeline: %lu file-deny events, %zu bytes each as OCSF JSON, one core\n", n,
	       len / n);
	printf("    %-34s %6.0f ns/event  %5.2f M/s\n", "format only", fmt_s / n * 1e9,
	       n / fmt_s / 1e6);
	err |= run_on(argv[1], "the build directory's disk", n);
	err |= run_on("/dev/shm", "tmpfs: the pipeline without the disk", n);
	err |= run_ring("/dev/shm", n);
	return err;
}
