// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "ts_log.h"

static const char *log_prog = "taskscope";
static enum ts_log_level log_max = TS_LOG_INFO;
static ts_log_fn log_sink;
static void *log_ctx;

static const char *const level_names[] = {
	[TS_LOG_ERROR] = "error",
	[TS_LOG_WARN] = "warning",
	[TS_LOG_INFO] = "info",
	[TS_LOG_DEBUG] = "debug",
};

void ts_log_set_prog(const char *prog)
{
	log_prog = prog;
}

void ts_log_set_level(enum ts_log_level max)
{
	log_max = max;
}

enum ts_log_level ts_log_get_level(void)
{
	return log_max;
}

void ts_log_set_sink(ts_log_fn fn, void *ctx)
{
	log_sink = fn;
	log_ctx = ctx;
}

void ts_vlog(enum ts_log_level level, const char *fmt, va_list ap)
{
	char small[512], *msg = small;
	va_list copy;
	size_t n;
	int len;

	if (level > log_max)
		return;
	va_copy(copy, ap);
	len = vsnprintf(small, sizeof(small), fmt, ap);
	/* Verifier logs arrive as one long message: keep them whole. */
	if (len >= (int)sizeof(small)) {
		msg = malloc((size_t)len + 1);
		if (msg)
			vsnprintf(msg, (size_t)len + 1, fmt, copy);
		else
			msg = small;
	}
	va_end(copy);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (log_sink)
		log_sink(level, msg, log_ctx);
	else
		fprintf(stderr, "%s: %s: %s\n", log_prog, level_names[level], msg);
	if (msg != small)
		free(msg);
}

void ts_log(enum ts_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ts_vlog(level, fmt, ap);
	va_end(ap);
}

static int libbpf_sink(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum ts_log_level l = level == LIBBPF_WARN ? TS_LOG_WARN : TS_LOG_DEBUG;

	if (l > log_max)
		return 0;
	ts_vlog(l, fmt, ap);
	return 0;
}

void ts_log_libbpf(void)
{
	libbpf_set_print(libbpf_sink);
}
