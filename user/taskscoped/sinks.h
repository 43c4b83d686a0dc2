/* SPDX-License-Identifier: MIT */
/*
 * Event sinks: stdout, a file (JSON lines, rotated by size), syslog
 * (RFC 5424) over the local socket, UDP, or TCP with octet counting
 * (RFC 6587). Each sink has its own bounded queue and writer thread: a slow
 * or dead sink drops (and counts) its own events and never blocks the
 * kernel drain or the other sinks.
 */
#ifndef TASKSCOPED_SINKS_H
#define TASKSCOPED_SINKS_H

#include <stddef.h>
#include <jansson.h>
#include <linux/types.h>

struct sink_cfg;

enum sink_fsync {
	SINK_FSYNC_NEVER = 0,
	SINK_FSYNC_INTERVAL, /* at most once a second */
	SINK_FSYNC_ALWAYS,   /* after every write */
};

enum syslog_transport {
	SYSLOG_UNIX = 0,
	SYSLOG_UDP,
	SYSLOG_TCP,
};

#define SINK_DEFAULT_QUEUE (4u << 20)

struct sinks;

struct sink_stats {
	__u64 written; /* events handed to the destination */
	__u64 dropped; /* events refused by a full queue */
	__u64 errors;  /* failed writes, connects */
};

int sinks_open(const struct sink_cfg *cfg, unsigned int n, const char *hostname,
	       struct sinks **out);
/* Queue one line (with its '\n') for every sink; `severity` is the OCSF
 * severity_id, mapped to a syslog severity. A full queue waits a bounded
 * time for its writer (see SPACE_WAIT_NS), then counts a drop. */
void sinks_write(struct sinks *s, const char *line, size_t len, int severity);
/* Reopen files and reconnect sockets (SIGHUP). */
void sinks_reopen(struct sinks *s);
unsigned int sinks_count(const struct sinks *s);
void sinks_stats(struct sinks *s, unsigned int i, struct sink_stats *st);
const char *sinks_name(const struct sinks *s, unsigned int i);
/* Wait until every queue is empty or `timeout_ms` passed (tests, exit). */
void sinks_drain(struct sinks *s, int timeout_ms);
void sinks_close(struct sinks *s);

#endif /* TASKSCOPED_SINKS_H */
