// SPDX-License-Identifier: MIT
/*
 * Event pipeline, kernel -> taskscoped -> file sink, on one core. A member
 * makes EVENTS denials while the daemon is stopped (SIGSTOP), so the ring
 * buffer holds them all; the daemon is then let go and timed until its
 * file sink has written every one. That measures how fast the daemon
 * drains, whatever the speed of the process making the denials. Baseline
 * from the same run: write() of as many lines of the same size to the
 * same file system, one call per line.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "bench_vm.h"

#define EVENTS 100000
#define DIR BV_DIR "/pipeline"
#define DENIED DIR "/denied"
#define TARGET_PER_S 1e6

struct sink_counts {
	long long written, dropped, events, lost;
};

static int counts(struct bv_daemon *d, struct sink_counts *c)
{
	json_t *r = NULL, *sink;
	int err = bv_call(d, "stats", NULL, &r);

	if (err)
		return err;
	sink = json_array_get(json_object_get(r, "sinks"), 0);
	c->written = json_integer_value(json_object_get(sink, "written"));
	c->dropped = json_integer_value(json_object_get(sink, "dropped"));
	c->events = json_integer_value(json_object_get(r, "events"));
	c->lost = json_integer_value(json_object_get(r, "ringbuf_lost"));
	json_decref(r);
	return 0;
}

/* The lifecycle records of starting and enrolling are written: quiet. */
static int settle(struct bv_daemon *d, struct sink_counts *c)
{
	struct sink_counts prev = { -1, 0, 0, 0 };
	int i, err = 0;

	for (i = 0; i < 100 && !err; i++) {
		err = counts(d, c);
		if (!err && c->written == prev.written && c->events == c->written)
			return 0;
		prev = *c;
		usleep(20000);
	}
	return err ?: -ETIMEDOUT;
}

static int deny_many(int fd, void *arg)
{
	double t0 = bv_now_ns(), ns;
	int i, n = *(int *)arg;

	for (i = 0; i < n; i++)
		if (open(DENIED, O_RDONLY | O_CLOEXEC) >= 0 || errno != EACCES)
			return 1;
	ns = bv_now_ns() - t0;
	return write(fd, &ns, sizeof(ns)) == sizeof(ns) ? 0 : 1;
}

/* Raw write() of `n` lines of `len` bytes: seconds. */
static double raw_write_s(const char *path, size_t len, int n)
{
	char *line = malloc(len);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), i;
	double t0 = bv_now_ns(), s = -1;

	if (line && fd >= 0) {
		memset(line, 'x', len);
		line[len - 1] = '\n';
		for (i = 0; i < n; i++)
			if (write(fd, line, len) != (ssize_t)len)
				break;
		if (i == n)
			s = (bv_now_ns() - t0) / 1e9;
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	free(line);
	return s;
}

static int enroll(struct bv_daemon *d, const char *task, pid_t pid)
{
	return bv_call(d, "enroll", json_pack("{s:s, s:i}", "task", task, "pid", (int)pid), NULL);
}

static int keep(int fd, void *arg)
{
	(void)fd;
	(void)arg;
	pause(); /* until killed */
	return 0;
}

/* The task, a member to make the denials, and one that only waits: the
 * task must outlive the first, or its end would be logged in the window. */
static int start_member(struct bv_daemon *d, char task[17], pid_t *pid, int *out, int *go,
			pid_t *keeper)
{
	int keeper_go;

	static int n = EVENTS;
	char policy[1024];
	json_t *r = NULL;
	int err;

	snprintf(policy, sizeof(policy),
		 "{\"name\": \"bench-pipeline\", \"log\": {\"allow\": \"none\"},\n"
		 " \"file\": {\"read\": [\"/\"], \"deny\": [\"%s\"]}}",
		 DENIED);
	err = bv_call(d, "start", json_pack("{s:s, s:s}", "policy", policy, "workdir", DIR), &r);
	if (err)
		return err;
	snprintf(task, 17, "%s", json_string_value(json_object_get(r, "id")));
	json_decref(r);
	*keeper = bv_spawn(keep, NULL, NULL, &keeper_go);
	if (*keeper < 0)
		return -ECHILD;
	err = enroll(d, task, *keeper);
	bv_release(keeper_go, !err);
	if (err)
		return err;
	*pid = bv_spawn(deny_many, &n, out, go);
	if (*pid < 0)
		return -ECHILD;
	err = enroll(d, task, *pid);
	if (err) {
		bv_release(*go, false);
		close(*out);
		bv_wait(*pid);
	}
	return err;
}

static int drain(struct bv_daemon *d, const struct sink_counts *before, struct sink_counts *c,
		 double *s)
{
	double t0 = bv_now_ns();
	int err = 0;

	kill(d->pid, SIGCONT);
	do {
		usleep(2000);
		err = counts(d, c);
	} while (!err && c->written + c->dropped < before->written + EVENTS &&
		 bv_now_ns() - t0 < 120e9);
	*s = (bv_now_ns() - t0) / 1e9;
	return err;
}

static int run(struct bv_daemon *d)
{
	struct sink_counts before, after;
	struct stat st0, st1;
	double gen_ns = 0, drain_s = 0, raw_s;
	char task[17];
	int out, go, rc, err;
	pid_t pid, keeper = -1;
	size_t len;

	err = bv_write_file(DENIED, "no\n") ?: start_member(d, task, &pid, &out, &go, &keeper);
	if (err) {
		if (keeper > 0) {
			kill(keeper, SIGKILL);
			bv_wait(keeper);
		}
		return err;
	}
	err = settle(d, &before);
	if (!err && stat(d->events, &st0))
		err = -errno;
	if (!err && kill(d->pid, SIGSTOP))
		err = -errno;
	err = bv_release(go, !err) ?: err;
	err = err ?: bv_read_full(out, &gen_ns, sizeof(gen_ns));
	close(out);
	rc = bv_wait(pid);
	err = err ?: (rc ? -EIO : 0);
	err = err ?: drain(d, &before, &after, &drain_s);
	kill(d->pid, SIGCONT); /* on every path */
	if (!err && stat(d->events, &st1))
		err = -errno;
	bv_call(d, "end", json_pack("{s:s}", "task", task), NULL); /* kills the keeper */
	bv_wait(keeper);
	if (err)
		return err;

	len = (size_t)(st1.st_size - st0.st_size) / EVENTS;
	raw_s = raw_write_s(DIR "/raw.jsonl", len, EVENTS);
	printf("  %d denials made by the member at %.0f/s while the daemon was stopped\n", EVENTS,
	       EVENTS / (gen_ns / 1e9));
	printf("  %-34s %9.0f events/s  (%zu bytes each; target >= 1,000,000/s on one core: %s)\n",
	       "taskscoped: ring -> OCSF -> file", EVENTS / drain_s, len,
	       bv_verdict(EVENTS / drain_s >= TARGET_PER_S));
	printf("  %-34s %9.0f lines/s   (baseline) -> taskscoped at %.2fx of it\n",
	       "write(), one call per line", raw_s > 0 ? EVENTS / raw_s : 0,
	       raw_s > 0 ? raw_s / drain_s : 0);
	printf("  accounting: %lld written + %lld dropped of %d, ring buffer lost %lld, "
	       "unaccounted %lld\n",
	       after.written - before.written, after.dropped - before.dropped, EVENTS,
	       after.lost - before.lost,
	       EVENTS - (after.written - before.written) - (after.dropped - before.dropped) -
		       (after.lost - before.lost));
	if (after.written + after.dropped + after.lost - before.written - before.dropped -
		    before.lost !=
	    EVENTS) {
		fprintf(stderr, "bench_vm: error: events unaccounted for\n");
		return -EIO;
	}
	return 0;
}

int bench_pipeline(void)
{
	struct bv_daemon d;
	int err;

	printf("event pipeline: kernel -> taskscoped -> file sink (tmpfs), daemon on one core\n");
	err = bv_mkdirs(DIR) ?: bv_daemon_start(&d, DIR, "\"ring_buffer\": \"64M\"");
	if (err)
		return err;
	err = run(&d);
	if (err)
		fprintf(stderr, "bench_vm: error: pipeline benchmark: %s\n", strerror(-err));
	return bv_daemon_stop(&d) ?: err;
}
