/* SPDX-License-Identifier: MIT */
/*
 * The kernel half of taskscope, as seen from user space: load, attach and
 * pin the LSM programs (or reopen what an earlier process pinned), and read
 * and write the maps of include/taskscope.h.
 *
 * Every function returns 0 (or a count) on success and a negative errno on
 * failure, having reported the failure once through ts_log. A lookup that
 * finds nothing (-ENOENT) is an answer and is not reported.
 */
#ifndef TS_KERNEL_H
#define TS_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "taskscope.h"

struct ts_kernel;

struct ts_kernel_opts {
	/* Pin maps, links and iterator programs here, or reopen what is
	 * pinned here already (enforcement then never stopped). NULL: a
	 * private instance, detached when closed (tests). */
	const char *pin_dir;
	__u32 events_bytes;  /* ring buffer size (power of two); 0: default */
	bool verifier_stats; /* record each program's verified instruction count */
};

typedef int (*ts_event_fn)(const struct ts_event *e, void *ctx);

int ts_kernel_open(const struct ts_kernel_opts *opts, struct ts_kernel **out);
/* Close this process's handles. Pinned programs stay attached. */
void ts_kernel_close(struct ts_kernel *k);
/* True when ts_kernel_open() found the programs already pinned. */
bool ts_kernel_reopened(const struct ts_kernel *k);
/* Remove the pins: enforcement ends when the last handle closes. */
int ts_kernel_unpin(struct ts_kernel *k);

/* Create or replace the state of task `id`. */
int ts_kernel_task_set(struct ts_kernel *k, __u64 id, const struct ts_task *t);
int ts_kernel_task_get(struct ts_kernel *k, __u64 id, struct ts_task *t);
/* Every task id with state, in *ids (malloc'd, caller frees). */
int ts_kernel_task_ids(struct ts_kernel *k, __u64 **ids, size_t *n);

/* Tag the process behind `pidfd` (its leader thread) as a member of `id`. */
int ts_kernel_enroll_pidfd(struct ts_kernel *k, __u64 id, int pidfd);
/* Tag every live thread of process `pid`: through its pidfd, then the
 * enroll iterator for the threads that already exist. Returns how many
 * threads the iterator tagged. */
int ts_kernel_enroll_pid(struct ts_kernel *k, __u64 id, pid_t pid);
/* The task id of the process behind `pidfd`: 0 when untagged. */
int ts_kernel_member_of(struct ts_kernel *k, int pidfd, __u64 *id);
/* Live member threads of task `id` (0: of every task), from the members
 * iterator, in *recs (malloc'd, caller frees). */
int ts_kernel_members(struct ts_kernel *k, __u64 id, struct ts_member_rec **recs, size_t *n);

/* Insert or replace one path rule (exec, file or unix); -ENAMETOOLONG
 * when the path does not fit a key, never truncated. There is no "get":
 * an LPM trie lookup answers with the longest match, not the key asked
 * for, so the rules' owner keeps its own copy. */
int ts_kernel_path_rule_set(struct ts_kernel *k, __u64 id, const char *path,
			    const struct ts_path_rule *rule);
int ts_kernel_path_rule_delete(struct ts_kernel *k, __u64 id, const char *path);
/* Insert or replace the rule of network `addr`/`prefix_bits` (IPv6 or
 * v4-mapped). */
int ts_kernel_net_rule_set(struct ts_kernel *k, __u64 id, const __u8 addr[16],
			   unsigned int prefix_bits, const struct ts_net_rule *rule);
int ts_kernel_net_rule_delete(struct ts_kernel *k, __u64 id, const __u8 addr[16],
			      unsigned int prefix_bits);
/* Every task id that owns a rule, in *ids (malloc'd, caller frees). */
int ts_kernel_rule_owners(struct ts_kernel *k, __u64 **ids, size_t *n);
/* Rules of task `id` in each map (0: of every task), for leak checks. */
int ts_kernel_rule_count(struct ts_kernel *k, __u64 id, size_t *path_rules, size_t *net_rules);

/*
 * End task `id`: state -> revoked (every hook denies, fork is refused),
 * SIGKILL every member process until none is left, delete its rules and
 * its state. Returns the number of processes killed; -EBUSY when members
 * survived (the task then stays revoked, with no rules: fail closed).
 */
int ts_kernel_revoke(struct ts_kernel *k, __u64 id);
/* The same; with TS_REVOKE_KEEP_RULES the caller deletes the task's rules
 * itself (it knows their keys; finding them costs a walk of every rule). */
#define TS_REVOKE_KEEP_RULES (1u << 0)
int ts_kernel_revoke_flags(struct ts_kernel *k, __u64 id, unsigned int flags);

/* Members may not signal thread group `tgid` (the daemon); 0: none. */
int ts_kernel_set_daemon(struct ts_kernel *k, pid_t tgid);
/* Secrets live on the file system with this st_dev (0: none). */
int ts_kernel_set_secrets_dev(struct ts_kernel *k, dev_t dev);
/* Inode `ino` on that file system is a secret (or secrets directory) of
 * task `id`: only its members and the daemon may open it. */
int ts_kernel_secret_add(struct ts_kernel *k, __u64 ino, __u64 id);
int ts_kernel_secret_remove(struct ts_kernel *k, __u64 ino);
/* Every secret entry of task `id` (0: every entry) removed; the count. */
int ts_kernel_secrets_clear(struct ts_kernel *k, __u64 id);

/* Stream events to `fn` (called from ts_kernel_events_poll). */
int ts_kernel_events_subscribe(struct ts_kernel *k, ts_event_fn fn, void *ctx);
/* Wait up to `timeout_ms` and deliver what arrived: the count, or -errno. */
int ts_kernel_events_poll(struct ts_kernel *k, int timeout_ms);
/* The ring buffer's epoll fd, for callers with their own event loop. */
int ts_kernel_events_fd(struct ts_kernel *k);

/* Sum over CPUs of counter `stat` (enum ts_stat). */
int ts_kernel_stat(struct ts_kernel *k, enum ts_stat stat, __u64 *value);

/* With opts.verifier_stats: call fn for each program loaded by this
 * process with the instructions the verifier processed. */
int ts_kernel_verifier_stats(struct ts_kernel *k,
			     void (*fn)(const char *prog, unsigned int insns, void *ctx),
			     void *ctx);

#endif /* TS_KERNEL_H */
