// SPDX-License-Identifier: MIT
/*
 * Event pipeline throughput on one core: OCSF formatting into the file
 * sink (queue + writer thread), against raw write() baselines measured in
 * the same run on the same file system. Checks that every event is either
 * written or counted as dropped: zero unaccounted loss.
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
	cfg.queue_bytes = 64u << 20;
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
	return err;
}
