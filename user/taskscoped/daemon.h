/* SPDX-License-Identifier: MIT */
/* taskscoped: what its parts share. */
#ifndef TASKSCOPED_H
#define TASKSCOPED_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>
#include "taskscope.h"
#include "ts_kernel.h"
#include "ts_ocsf.h"
#include "ts_policy.h"
#include "ts_ruleset.h"

#define MAX_SINKS 8
#define HISTORY 1024

enum sink_type {
	SINK_STDOUT = 0,
	SINK_FILE,
	SINK_SYSLOG,
};

struct sink_cfg {
	enum sink_type type;
	char path[PATH_MAX];   /* file; syslog: local socket */
	__u64 max_bytes;       /* file: rotate beyond this; 0: never */
	unsigned int keep;     /* file: rotated files kept */
	int fsync_mode;        /* file: enum sink_fsync */
	char host[256];        /* syslog over the network */
	char port[8];
	int transport;         /* syslog: enum syslog_transport */
	__u32 queue_bytes;     /* bound of the sink's queue */
};

struct config {
	char file[PATH_MAX]; /* where it was read from, "" for defaults */
	char secrets_dir[PATH_MAX];
	__u64 helper_timeout_ns; /* secret mint and revoke helpers */
	__u32 secret_max_bytes;
	char socket_path[108];
	char socket_group[64];
	char state_dir[PATH_MAX];
	char pin_dir[PATH_MAX];
	char trust_domain[256];
	__u64 max_ttl_ns;
	__u64 default_ttl_ns;
	__u64 resolve_interval_ns;
	__u32 default_log_allow;
	unsigned int max_tasks;
	unsigned int max_clients;
	__u32 ring_bytes; /* kernel event ring buffer; 0: the default */
	struct sink_cfg sinks[MAX_SINKS];
	unsigned int nsinks;
};

/* Defaults, then `path` (NULL: the default path, which may be absent).
 * A bad file is reported as file:line:column errors: -EINVAL. */
int config_load(struct config *c, const char *path, bool must_exist);

/* A rule's text for events: "file.read[0] /usr/". */
struct rule_text {
	__u32 id;
	char *text;
};

/* A time-boxed addition to a live task. */
struct grant {
	__u32 id;       /* rule id events carry: TS_RULE_ID_GRANT | n */
	bool net;
	char path[TS_PATH_MAX + 1];
	__u32 access;
	__u8 addr[16];
	unsigned int bits;
	__u16 lo, hi;
	__u64 expires_ns; /* CLOCK_BOOTTIME */
	char *text;       /* as asked: "exec:/usr/bin/terraform" */
	uid_t by_uid;
	pid_t by_pid;
};

#define TS_RULE_ID_GRANT 0x40000000u

/* A secret of a live task. The value itself is never kept. */
struct secret {
	char name[TS_SECRET_NAME_MAX + 1];
	char *revoke; /* "exec:..." or NULL */
	bool deliver_file, deliver_env;
	__u64 ino;    /* its file's inode; 0 when not delivered as a file */
};

/* A revoke helper to run (again): after a task ended, until it succeeds
 * or MAX_REVOKE_ATTEMPTS failed. Persisted: a daemon restart resumes it. */
struct revoke_job {
	__u64 task_id;
	char name[TS_SECRET_NAME_MAX + 1];
	char *command;
	uid_t uid;
	gid_t gid;
	char spiffe[400];
	unsigned int attempts;
	__u64 next_ns;  /* CLOCK_BOOTTIME of the next attempt */
	pid_t pid;      /* running helper, 0: none */
	__u64 deadline_ns;
};

struct task {
	__u64 id, parent;
	char name[TS_POLICY_NAME_MAX + 1];
	char policy[TS_POLICY_NAME_MAX + 1];
	uid_t owner;
	__u64 deadline_ns; /* CLOCK_BOOTTIME */
	__u64 started_ms;  /* CLOCK_REALTIME */
	char *workdir; /* absolute, symlinks resolved */
	bool had_members;
	unsigned int members; /* live threads at the last sweep */
	struct ts_ruleset *rs;
	char *policy_text; /* to compile again when host names change */
	char *policy_file;
	struct ts_vars vars; /* owned strings */
	struct rule_text *rules;
	size_t nrules;
	struct grant *grants;
	size_t ngrants;
	__u32 next_grant;
	/* Keys written for grants and networks, to delete what is no longer
	 * wanted on the next sync. */
	char (*grant_paths)[TS_PATH_MAX + 1];
	size_t ngrant_paths;
	struct ts_rs_net *written_nets;
	size_t nwritten_nets;
	struct secret *secrets;
	size_t nsecrets;
	__u64 secrets_dir_ino;
	gid_t owner_gid;
};

struct daemon;
struct client;

/* --- tasks.c: the registry and a task's life --- */
struct task *task_find(struct daemon *d, __u64 id);
int task_register(struct daemon *d, struct task *t);
/* Parse a grant ("exec:/usr/bin/terraform", "connect:10.0.0.5:443"). */
int grant_parse(const char *rule, struct grant **out, char *msg, size_t msg_size);
/* Every task, in creation order; n in *count. */
struct task **task_all(struct daemon *d, size_t *count);
/* Is `id` `ancestor` or below it? */
bool task_in_subtree(struct daemon *d, __u64 id, __u64 ancestor);
/* Compile (or intersect with parent) and start. Errors as (code, message,
 * data) for the caller's response. */
int task_start(struct daemon *d, const char *policy_text, const char *policy_file,
	       const char *name, __u64 ttl_ns, const char *workdir, uid_t owner,
	       __u64 parent, bool want_env, json_t **env, struct task **out, int *code,
	       char *msg, size_t msg_size, json_t **data);
/* End `t` and its sub-tasks: revoke in the kernel, forget, persist.
 * Returns processes killed. */
int task_end(struct daemon *d, struct task *t, const char *reason);
int task_grant(struct daemon *d, struct task *t, const char *rule, __u64 for_ns, uid_t uid,
	       pid_t pid, struct grant **out, char *msg, size_t msg_size);
/* Write the task's rules and grants to the kernel, drop stale keys. */
int task_sync_kernel(struct daemon *d, struct task *t);
/* Once a second: deadlines, last members, expired grants. */
void tasks_sweep(struct daemon *d);
/* Host names: compile again, apply what changed. */
void tasks_resolve(struct daemon *d);
/* The text of rule `id` of `t` (parent's when flagged), or NULL. */
const char *task_rule_text(struct daemon *d, const struct task *t, __u32 id);
json_t *task_json(struct daemon *d, const struct task *t, bool details);
void task_free(struct task *t);

/* --- secrets.c: just-in-time credentials --- */
int secrets_init(struct daemon *d);
/* Mint or copy every secret of `policy` for `t` and deliver it; on any
 * failure remove (and revoke) what was made: -EINVAL with the reason in
 * msg. Values for env delivery go into *env (NULL unless asked). */
int secrets_start(struct daemon *d, struct task *t, const struct ts_policy *policy,
		  bool want_env, json_t **env, char *msg, size_t msg_size);
/* Remove the task's secret files and queue their revoke helpers. */
void secrets_end(struct daemon *d, struct task *t);
/* Run due revoke helpers, reap finished ones, retry the failed. */
void secrets_sweep(struct daemon *d);
/* Remove secret directories of tasks the daemon does not know. */
void secrets_reconcile(struct daemon *d);
json_t *secrets_json(const struct task *t);
json_t *revoke_job_json(const struct revoke_job *j);
int revoke_job_from_json(json_t *v, struct revoke_job *j);

/* --- state.c: surviving a restart --- */
int state_init(struct daemon *d);
int state_save_revokes(struct daemon *d);
int state_save_task(struct daemon *d, const struct task *t);
void state_forget_task(struct daemon *d, __u64 id);
/* Read the state file and reconcile it with the kernel maps: live tasks
 * keep their scope, the rest is torn down. */
int state_recover(struct daemon *d);

/* --- events.c: the kernel's events and the daemon's own --- */
int events_init(struct daemon *d);
/* Drain the ring buffer (called when its fd is readable). */
void events_drain(struct daemon *d);
/* A lifecycle record to every sink and subscriber. */
void events_lifecycle(struct daemon *d, __u64 task_id, const char *what, int severity,
		      const char *message, const char *fields_fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Report losses (ring buffer, sink queues) since the last call. */
void events_account(struct daemon *d);
void events_reopen(struct daemon *d);
void events_close(struct daemon *d);
json_t *events_stats(struct daemon *d);
/* Recent events visible to a filter, oldest first, as JSON objects. */
json_t *events_history(struct daemon *d, __u64 task, __u64 visible_root, size_t max);

/* --- server.c: the control socket --- */
int server_init(struct daemon *d);
void server_accept(struct daemon *d);
void server_client_io(struct daemon *d, struct client *c, unsigned int events);
void server_timeouts(struct daemon *d);
/* Send an event line to every subscriber that wants task `id`. */
void server_publish(struct daemon *d, __u64 task_id, const char *line, size_t len);
void server_close(struct daemon *d);

/* --- methods.c: what clients may ask --- */
json_t *methods_call(struct daemon *d, struct client *c, json_t *req);

struct daemon {
	struct config cfg;
	struct ts_kernel *k;
	int epfd, listen_fd, signal_fd, timer_fd;
	bool stop, teardown_on_exit;
	struct task **tasks;
	size_t ntasks, cap_tasks;
	struct client **clients;
	size_t nclients;
	struct ts_fmt_env env;
	char hostname[256];
	__u64 next_resolve_ns;
	struct sinks *sinks;
	__u64 events_total;
	__u64 ringbuf_lost_reported;
	__u64 sink_dropped_reported[MAX_SINKS];
	struct revoke_job *revokes;
	size_t nrevokes;
	/* The last HISTORY event lines, for `taskscope events` without
	 * --follow and for a follower's first screen. */
	struct history_line {
		__u64 task_id;
		char *line;
	} history[HISTORY];
	size_t history_next;
};

/* CLOCK_BOOTTIME and CLOCK_REALTIME in ns. */
__u64 now_boot_ns(void);
__u64 now_real_ms(void);

#endif /* TASKSCOPED_H */
