/* SPDX-License-Identifier: MIT */
/*
 * Library diagnostics. The library never exits and never prints on its own
 * initiative twice: a failure is reported once, where its subject is known,
 * through this sink; callers only propagate the negative errno.
 */
#ifndef TS_LOG_H
#define TS_LOG_H

#include <stdarg.h>

enum ts_log_level {
	TS_LOG_ERROR = 0,
	TS_LOG_WARN,
	TS_LOG_INFO,
	TS_LOG_DEBUG,
};

typedef void (*ts_log_fn)(enum ts_log_level level, const char *msg, void *ctx);

/* Program name used as the prefix of the default sink ("taskscope: error: ..."). */
void ts_log_set_prog(const char *prog);
/* Messages above `max` are dropped. Default: TS_LOG_INFO. */
void ts_log_set_level(enum ts_log_level max);
enum ts_log_level ts_log_get_level(void);
/* Replace the sink (NULL restores the default stderr sink). */
void ts_log_set_sink(ts_log_fn fn, void *ctx);
/* Route libbpf's own messages through the sink (warnings as TS_LOG_WARN). */
void ts_log_libbpf(void);

void ts_log(enum ts_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ts_vlog(enum ts_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define ts_err(...) ts_log(TS_LOG_ERROR, __VA_ARGS__)
#define ts_warn(...) ts_log(TS_LOG_WARN, __VA_ARGS__)
#define ts_info(...) ts_log(TS_LOG_INFO, __VA_ARGS__)
#define ts_dbg(...) ts_log(TS_LOG_DEBUG, __VA_ARGS__)

#endif /* TS_LOG_H */
