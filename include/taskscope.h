/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * taskscope kernel/user ABI, shared by bpf/ and user/.
 *
 * Only fixed-size __u8..__u64 fields, fixed arrays and explicit padding:
 * the same bytes are written by C on one side and read by BPF on the other.
 *
 * Semantics
 * ---------
 * A *task* is identified by a nonzero random __u64 id. A process (every
 * thread) is a *member* of a task when the BPF task storage map
 * "ts_members" holds a struct ts_member for it. The tag is written by the
 * daemon (through a pidfd, or by the enroll iterator for every thread of a
 * process), copied to every new task at lsm/task_alloc, and never cleared
 * by anything a member can do: members may not call bpf(2).
 *
 * The hooks decide only for members; an untagged task costs one storage
 * lookup and is allowed. For a member, in order:
 *   1. no struct ts_task for its id    -> deny (TS_REASON_NO_TASK, fail closed)
 *   2. state == TS_STATE_REVOKED       -> deny, fork refused (TS_REASON_REVOKED)
 *   3. deadline_ns != 0 and the boot clock passed it
 *                                      -> deny (TS_REASON_EXPIRED)
 *   4. the rule lookup below; no rule  -> deny (TS_REASON_NO_RULE)
 * A deny returns -EACCES for file hooks and -EPERM for every other hook.
 * In TS_MODE_AUDIT a deny of step 4 is logged with TS_VERDICT_AUDIT and
 * allowed; steps 1-3 deny in every mode.
 *
 * Path rules (map "ts_path_rules", LPM trie, key struct ts_path_key) serve
 * exec, file and AF_UNIX connect. The key data is the task id followed by
 * the path bytes; prefixlen counts bits of both. A rule on an exact file
 * includes the terminating NUL in its prefix (so "/etc/hosts" never
 * matches "/etc/hosts.bak"); a directory rule ends in '/' without the NUL.
 * The longest match decides alone, so the compiler folds into every rule
 * the access it inherits from shorter allow rules above it, and a deny
 * under an allowed directory simply wins for its subtree.
 * A directory is looked up as "dir/" (trailing '/', no NUL), so a
 * directory rule covers the directory itself as well as what is below it.
 * A file with no link left (memfd, deleted) matches only an exact rule.
 * Abstract AF_UNIX names are written "@name"; they never begin with '/'.
 *
 * Network rules (map "ts_net_rules", LPM trie, key struct ts_net_key) hold
 * IPv6 addresses; IPv4 is stored and looked up v4-mapped (::ffff:a.b.c.d).
 * The matched value is a list of port ranges, tried in order; the first
 * unexpired range containing the port decides; none -> deny.
 *
 * Every decision worth logging (all denials; allows per ts_task.log_allow)
 * is one struct ts_event in ring buffer "ts_events". A failed reserve is
 * counted in per-CPU array "ts_stats" at TS_STAT_EVENTS_LOST.
 */
#ifndef TASKSCOPE_H
#define TASKSCOPE_H

#ifdef __bpf__
/* vmlinux.h provides __u8..__u64. */
#else
#include <linux/types.h>
#endif

/* Path bytes in a rule key, NUL included: the LPM trie holds at most 256
 * bytes of key data and the task id takes 8 of them. Longer rules are
 * rejected by the library, never truncated. */
#define TS_PATH_MAX 248
/* Path bytes carried in an event, NUL included; longer paths are cut and
 * flagged TS_EVENT_F_TRUNCATED. */
#define TS_EVENT_PATH_MAX 256
#define TS_COMM_LEN 16
#define TS_NET_PORTS 16
/* Bits of key data before the path or address: the task id. */
#define TS_KEY_TASK_BITS 64

#define TS_PIN_DIR "/sys/fs/bpf/taskscope"

enum ts_kind {
	TS_KIND_EXEC = 0,
	TS_KIND_FILE = 1,
	TS_KIND_NET = 2,
	TS_KIND_GUARD = 3, /* tamper guards and fork refusals */
	TS_KIND_MAX,
};

enum ts_op {
	TS_OP_NONE = 0,
	TS_OP_EXEC,
	TS_OP_OPEN,
	TS_OP_TRUNCATE,
	TS_OP_UNLINK,
	TS_OP_MKDIR,
	TS_OP_RMDIR,
	TS_OP_RENAME,
	TS_OP_LINK,
	TS_OP_SYMLINK,
	TS_OP_MKNOD,
	TS_OP_CHMOD,
	TS_OP_CHOWN,
	TS_OP_CONNECT,
	TS_OP_SENDMSG,
	TS_OP_SOCKET,
	TS_OP_BPF,
	TS_OP_PTRACE,
	TS_OP_KILL,
	TS_OP_USERNS,
	TS_OP_MOUNT,
	TS_OP_CHROOT,
	TS_OP_FORK,
	TS_OP_MAX,
};

enum ts_verdict {
	TS_VERDICT_ALLOW = 1,
	TS_VERDICT_DENY = 2,
	TS_VERDICT_AUDIT = 3, /* would deny; allowed because mode is audit */
};

enum ts_reason {
	TS_REASON_RULE = 1,   /* a rule decided; see rule_id */
	TS_REASON_NO_RULE,    /* nothing matched: default deny */
	TS_REASON_NO_TASK,    /* tagged, but the task has no state */
	TS_REASON_REVOKED,
	TS_REASON_EXPIRED,
	TS_REASON_UNLINKED,   /* memfd or deleted file without an exact rule */
	TS_REASON_GUARD,      /* a tamper guard */
	TS_REASON_SECRET,     /* another task's secret (see ts_secrets) */
};

enum ts_task_state {
	TS_STATE_ACTIVE = 1,
	TS_STATE_REVOKED = 2,
};

enum ts_mode {
	TS_MODE_ENFORCE = 0,
	TS_MODE_AUDIT = 1,
};

/* Access bits of a path rule and of a requested path access. */
#define TS_ACCESS_READ (1u << 0)
#define TS_ACCESS_WRITE (1u << 1)
#define TS_ACCESS_EXEC (1u << 2)
#define TS_ACCESS_CONNECT (1u << 3) /* AF_UNIX connect/sendmsg */
#define TS_ACCESS_ALL 0xfu

enum ts_action {
	TS_ACTION_DENY = 0,
	TS_ACTION_ALLOW = 1,
};

/* struct ts_task.flags */
#define TS_TASK_F_RAW_SOCKETS (1u << 0) /* members may open raw/packet sockets */

/* struct ts_path_verdict.flags */
#define TS_RULE_F_EXACT (1u << 0) /* key is a whole file name, NUL included */

/* struct ts_event.flags */
#define TS_EVENT_F_TRUNCATED (1u << 0) /* path longer than TS_EVENT_PATH_MAX */

enum ts_stat {
	TS_STAT_EVENTS_LOST = 0, /* ring buffer reserve failures */
	TS_STAT_MAX,
};

/* Value of task storage map "ts_members". */
struct ts_member {
	__u64 task_id;
};

/* Value of hash map "ts_tasks", keyed by the __u64 task id. Counters are
 * updated atomically by the hooks. */
struct ts_task {
	__u64 deadline_ns; /* CLOCK_BOOTTIME; 0 = none */
	__u32 state;       /* enum ts_task_state */
	__u32 mode;        /* enum ts_mode */
	__u32 log_allow;   /* bit (1 << enum ts_kind): log allowed decisions */
	__u32 flags;       /* TS_TASK_F_* */
	__u64 allowed[TS_KIND_MAX];
	__u64 denied[TS_KIND_MAX];
};

struct ts_path_key {
	__u32 prefixlen; /* TS_KEY_TASK_BITS + 8 * matched path bytes */
	__u32 task_hi;   /* task id, high 32 bits */
	__u32 task_lo;
	char path[TS_PATH_MAX];
};

struct ts_path_verdict {
	__u32 rule_id; /* 0: no rule */
	__u8 action;   /* enum ts_action */
	__u8 access;   /* TS_ACCESS_* granted (allow) or refused (deny) */
	__u16 flags;   /* TS_RULE_F_* */
};

/* A time-boxed rule (a grant) carries what applied before it: once the
 * boot clock passes expires_ns the kernel uses `after` by itself. */
struct ts_path_rule {
	struct ts_path_verdict now;
	struct ts_path_verdict after;
	__u64 expires_ns; /* CLOCK_BOOTTIME; 0 = never */
};

struct ts_net_key {
	__u32 prefixlen; /* TS_KEY_TASK_BITS + address bits */
	__u32 task_hi;
	__u32 task_lo;
	__u8 addr[16];   /* IPv6, or IPv4 v4-mapped */
};

struct ts_port_range {
	__u16 lo;
	__u16 hi;
	__u32 rule_id;
	__u8 action; /* enum ts_action */
	__u8 pad[7];
	__u64 expires_ns; /* 0 = never; an expired range is skipped */
};

struct ts_net_rule {
	__u32 count; /* used entries of ports[] */
	__u32 pad;
	struct ts_port_range ports[TS_NET_PORTS];
};

/* Singleton (index 0) of array map "ts_daemon". */
struct ts_daemon_cfg {
	__u32 daemon_tgid; /* members may not signal it; 0 = none */
	__u32 secrets_dev; /* super_block.s_dev of the secrets directory; 0 = none */
};

/*
 * Task secrets. Map "ts_secrets" (hash) names, by inode number on the
 * file system `secrets_dev`, every secret file and per-task secrets
 * directory with its owning task. file_open decides it for every process,
 * tagged or not, before anything else: a member of the owning task and
 * the daemon may open it; anyone else gets -EACCES, logged with
 * TS_REASON_SECRET, task_id the owner and other_task the opener's task.
 */
struct ts_secret_key {
	__u64 ino;
};

struct ts_secret_owner {
	__u64 task_id;
};

/* Record of ring buffer "ts_events". */
struct ts_event {
	__u64 time_ns; /* CLOCK_BOOTTIME */
	__u64 task_id;
	__u32 pid;     /* thread id */
	__u32 tgid;
	__u32 ppid;    /* tgid of the real parent */
	__u32 uid;
	__u32 rule_id; /* 0: no rule matched */
	__s32 ret;     /* what the hook returned: 0 or -errno */
	__u8 kind;     /* enum ts_kind */
	__u8 op;       /* enum ts_op */
	__u8 verdict;  /* enum ts_verdict */
	__u8 reason;   /* enum ts_reason */
	__u32 access;  /* TS_ACCESS_* requested (path ops) */
	__u32 flags;   /* TS_EVENT_F_* */
	__u32 peer_pid; /* ptrace or kill target */
	__u16 family;   /* AF_INET6 (v4-mapped for IPv4) or AF_UNIX */
	__u16 port;     /* host byte order */
	__u16 sock_type;
	__u16 pad;
	__u8 addr[16];
	__u64 other_task; /* TS_REASON_SECRET: the opener's task (0: untagged) */
	char comm[TS_COMM_LEN];
	char path[TS_EVENT_PATH_MAX]; /* file, exec or unix socket path */
};

/* Singleton (index 0) of array map "ts_enroll": the request the enroll
 * iterator serves (tag every live thread of `tgid` with `task_id`). */
struct ts_enroll_req {
	__u64 task_id;
	__u32 tgid;
	__u32 tagged; /* out: threads tagged by the last pass */
};

/* Record written by iter/task program "ts_iter_members": one per tagged
 * thread that is not exiting. */
struct ts_member_rec {
	__u64 task_id;
	__u32 pid;
	__u32 tgid;
};

#endif /* TASKSCOPE_H */
