// SPDX-License-Identifier: MIT
/* From the kernel's ring buffer (and the daemon's own lifecycle records)
 * to the sinks and the subscribers of `taskscope events`. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "daemon.h"
#include "sinks.h"
#include "ts_log.h"

#define LINE_MAX_BYTES 16384

/* The executable of the last process seen: most events come in runs from
 * one process, and /proc/PID/exe is a readlink away. */
static struct {
	__u32 tgid;
	char exe[PATH_MAX];
} exe_cache;

static const char *exe_of(__u32 tgid)
{
	char link[64];
	ssize_t n;

	if (exe_cache.tgid == tgid)
		return exe_cache.exe[0] ? exe_cache.exe : NULL;
	exe_cache.tgid = tgid;
	snprintf(link, sizeof(link), "/proc/%u/exe", tgid);
	n = readlink(link, exe_cache.exe, sizeof(exe_cache.exe) - 1);
	exe_cache.exe[n > 0 ? n : 0] = '\0';
	return n > 0 ? exe_cache.exe : NULL;
}

static void remember(struct daemon *d, __u64 task_id, const char *line, size_t len)
{
	struct history_line *h = &d->history[d->history_next++ % HISTORY];
	char *copy = malloc(len + 1);

	if (!copy)
		return;
	memcpy(copy, line, len);
	copy[len] = '\0';
	free(h->line);
	h->line = copy;
	h->task_id = task_id;
}

static void emit(struct daemon *d, __u64 task_id, const char *line, size_t len, int severity)
{
	sinks_write(d->sinks, line, len, severity);
	server_publish(d, task_id, line, len);
	remember(d, task_id, line, len);
	d->events_total++;
}

json_t *events_history(struct daemon *d, __u64 task, __u64 visible_root, size_t max)
{
	size_t n = d->history_next < HISTORY ? d->history_next : HISTORY, i, skip = 0, count = 0;
	json_t *out = json_array();

	/* Count the visible ones first, to return the newest `max`. */
	for (i = 0; i < n; i++) {
		const struct history_line *h = &d->history[(d->history_next - n + i) % HISTORY];

		if ((!task || task_in_subtree(d, h->task_id, task)) &&
		    (!visible_root || task_in_subtree(d, h->task_id, visible_root)))
			count++;
	}
	if (count > max)
		skip = count - max;
	for (i = 0; out && i < n; i++) {
		const struct history_line *h = &d->history[(d->history_next - n + i) % HISTORY];

		if ((task && !task_in_subtree(d, h->task_id, task)) ||
		    (visible_root && !task_in_subtree(d, h->task_id, visible_root)))
			continue;
		if (skip) {
			skip--;
			continue;
		}
		json_array_append_new(out, json_loads(h->line, 0, NULL));
	}
	return out;
}

static int on_event(const struct ts_event *e, void *ctx)
{
	struct daemon *d = ctx;
	struct task *t = task_find(d, e->task_id);
	struct ts_fmt_task ft = { 0 };
	struct ts_fmt_extra x = { 0 };
	char line[LINE_MAX_BYTES];
	size_t n;

	if (t) {
		ft.name = t->name;
		ft.policy = t->policy;
		ft.mode = t->rs->mode;
		x.rule_text = task_rule_text(d, t, e->rule_id);
	}
	x.exe = exe_of(e->tgid);
	n = ts_ocsf_event(line, sizeof(line), e, t ? &ft : NULL, &d->env, &x);
	if (n < sizeof(line))
		emit(d, e->task_id, line, n, ts_ocsf_severity(e));
	return 0;
}

static __s64 boot_to_real(void)
{
	struct timespec r, b;

	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_BOOTTIME, &b);
	return ((__s64)r.tv_sec - b.tv_sec) * 1000000000ll + (r.tv_nsec - b.tv_nsec);
}

int events_init(struct daemon *d)
{
	int err;

	gethostname(d->hostname, sizeof(d->hostname) - 1);
	d->env.hostname = d->hostname;
	d->env.trust_domain = d->cfg.trust_domain;
	d->env.version = TASKSCOPE_VERSION;
	d->env.boot_to_real_ns = boot_to_real();
	err = sinks_open(d->cfg.sinks, d->cfg.nsinks, d->hostname, &d->sinks);
	if (err)
		return err;
	return ts_kernel_events_subscribe(d->k, on_event, d);
}

void events_drain(struct daemon *d)
{
	/* The clock may have been set: keep wall time right. */
	d->env.boot_to_real_ns = boot_to_real();
	ts_kernel_events_poll(d->k, 0);
}

void events_lifecycle(struct daemon *d, __u64 task_id, const char *what, int severity,
		      const char *message, const char *fields_fmt, ...)
{
	struct task *t = task_find(d, task_id);
	struct ts_fmt_task ft = { 0 };
	char fields[4096], line[LINE_MAX_BYTES];
	va_list ap;
	size_t n;

	va_start(ap, fields_fmt);
	vsnprintf(fields, sizeof(fields), fields_fmt, ap);
	va_end(ap);
	if (t) {
		ft.name = t->name;
		ft.policy = t->policy;
		ft.mode = t->rs->mode;
	}
	n = ts_ocsf_lifecycle(line, sizeof(line), now_real_ms(), task_id, t ? &ft : NULL, &d->env,
			      what, severity, message, fields);
	if (n < sizeof(line))
		emit(d, task_id, line, n, severity);
	else
		ts_warn("lifecycle record '%s' of task %016llx is too long to log", what,
			(unsigned long long)task_id);
}

void events_reopen(struct daemon *d)
{
	sinks_reopen(d->sinks);
}

void events_close(struct daemon *d)
{
	size_t i;

	sinks_drain(d->sinks, 2000);
	sinks_close(d->sinks);
	d->sinks = NULL;
	for (i = 0; i < HISTORY; i++)
		free(d->history[i].line);
}

json_t *events_stats(struct daemon *d)
{
	json_t *sinks = json_array();
	struct sink_stats st;
	__u64 lost = 0;
	unsigned int i;

	ts_kernel_stat(d->k, TS_STAT_EVENTS_LOST, &lost);
	for (i = 0; i < sinks_count(d->sinks); i++) {
		sinks_stats(d->sinks, i, &st);
		json_array_append_new(sinks, json_pack("{s:s, s:I, s:I, s:I}", "name",
						       sinks_name(d->sinks, i), "written",
						       (json_int_t)st.written, "dropped",
						       (json_int_t)st.dropped, "errors",
						       (json_int_t)st.errors));
	}
	return json_pack("{s:I, s:I, s:o}", "events", (json_int_t)d->events_total,
			 "ringbuf_lost", (json_int_t)lost, "sinks", sinks);
}

/* Losses become events themselves: how many, and where. */
void events_account(struct daemon *d)
{
	struct sink_stats st;
	char fields[512];
	__u64 lost = 0;
	unsigned int i;

	if (!ts_kernel_stat(d->k, TS_STAT_EVENTS_LOST, &lost) && lost > d->ringbuf_lost_reported) {
		char msg[128];

		snprintf(msg, sizeof(msg), "%llu kernel events lost: the ring buffer was full",
			 (unsigned long long)(lost - d->ringbuf_lost_reported));
		events_lifecycle(d, 0, "events lost", 3, msg, "\"lost\":%llu,\"where\":\"ringbuf\"",
				 (unsigned long long)(lost - d->ringbuf_lost_reported));
		d->ringbuf_lost_reported = lost;
	}
	for (i = 0; i < sinks_count(d->sinks) && i < MAX_SINKS; i++) {
		sinks_stats(d->sinks, i, &st);
		if (st.dropped <= d->sink_dropped_reported[i])
			continue;
		char name[600];

		snprintf(fields, sizeof(fields), "sink '%s' dropped %llu events: its queue was full",
			 sinks_name(d->sinks, i),
			 (unsigned long long)(st.dropped - d->sink_dropped_reported[i]));
		ts_json_escape(name, sizeof(name), sinks_name(d->sinks, i),
			       strlen(sinks_name(d->sinks, i)), NULL);
		events_lifecycle(d, 0, "events lost", 3, fields, "\"lost\":%llu,\"where\":\"%s\"",
				 (unsigned long long)(st.dropped - d->sink_dropped_reported[i]),
				 name);
		d->sink_dropped_reported[i] = st.dropped;
	}
}
