/* SPDX-License-Identifier: MIT */
/*
 * Events as OCSF 1.1 JSON lines, for a SIEM: Process Activity (1007) for
 * exec and process guards, File System Activity (1001) for file, Network
 * Activity (4001) for net. taskscope's own fields go under
 * "unmapped.taskscope". The mapping table is in README.md.
 *
 * A hand-written writer, not jansson: it runs for every kernel decision
 * worth logging (see `make bench`). Strings are escaped per RFC 8259;
 * invalid UTF-8 in a path is written as \xNN (backslashes then doubled)
 * and flagged "path_escaped": true, never dropped.
 */
#ifndef TS_OCSF_H
#define TS_OCSF_H

#include <stddef.h>
#include "taskscope.h"

#define TS_OCSF_VERSION "1.1.0"

/* What the daemon knows of the event's task (fields may be NULL). */
struct ts_fmt_task {
	const char *name;
	const char *policy;
	__u32 mode;
};

/* The same for every event of one daemon. */
struct ts_fmt_env {
	const char *hostname;
	const char *trust_domain; /* SPIFFE */
	const char *version;      /* taskscope's */
	__s64 boot_to_real_ns;    /* CLOCK_REALTIME - CLOCK_BOOTTIME */
};

/* Per event, optional: the actor's executable and the deciding rule. */
struct ts_fmt_extra {
	const char *exe;
	const char *rule_text;
};

/* The OCSF severity_id of an event: 1 allowed, 2 audit (would have been
 * blocked), 3 blocked, 4 a blocked tamper attempt. */
int ts_ocsf_severity(const struct ts_event *e);

/* Write one event as a JSON object and '\n' into buf. Returns its length,
 * or the length it needs (>= size: nothing usable was written). */
size_t ts_ocsf_event(char *buf, size_t size, const struct ts_event *e,
		     const struct ts_fmt_task *task, const struct ts_fmt_env *env,
		     const struct ts_fmt_extra *extra);

/* A lifecycle record (task started, grant, task ended, loss) in the same
 * form: `what` is the activity, `fields` a JSON object's members without
 * braces (already escaped), appended under unmapped.taskscope. */
size_t ts_ocsf_lifecycle(char *buf, size_t size, __u64 time_ms, __u64 task_id,
			 const struct ts_fmt_task *task, const struct ts_fmt_env *env,
			 const char *what, int severity_id, const char *message,
			 const char *fields);

/* One readable line for a terminal (`taskscope events`). */
size_t ts_event_text(char *buf, size_t size, const struct ts_event *e,
		     const struct ts_fmt_task *task, const struct ts_fmt_env *env);

/* Escape `s` as the body of a JSON string into buf (no quotes); returns
 * the length needed. *escaped is set when invalid UTF-8 was rewritten. */
size_t ts_json_escape(char *buf, size_t size, const char *s, size_t len, int *escaped);

#endif /* TS_OCSF_H */
