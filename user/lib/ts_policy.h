/* SPDX-License-Identifier: MIT */
/*
 * Task policies: parse and validate a JSON profile (format in
 * policy/README.md). Every error is reported with file:line:column and the
 * JSON path; a policy with any error is refused whole.
 */
#ifndef TS_POLICY_H
#define TS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "taskscope.h"
#include "ts_diag.h"
#include "ts_target.h"

/* The rule lists of a policy, in the order rule ids are given. */
enum ts_list {
	TS_LIST_EXEC_ALLOW = 0,
	TS_LIST_FILE_READ,
	TS_LIST_FILE_WRITE,
	TS_LIST_FILE_DENY,
	TS_LIST_NET_CONNECT,
	TS_LIST_NET_DENY,
	TS_LIST_COUNT,
};

/* Policies larger than this are refused before parsing. */
#define TS_POLICY_MAX_BYTES (1024 * 1024)
#define TS_POLICY_NAME_MAX 64

struct ts_policy_entry {
	enum ts_list list;
	__u32 rule_id; /* 1-based, by list order then position: deterministic */
	char *text;    /* as written, variables unexpanded */
	char *json_path;
	int line, column;
	struct ts_target net; /* net lists; unix_path points into text */
};

/* A secret the task receives at start (policy key "secrets"). */
struct ts_secret_spec {
	char *name;   /* [A-Za-z_][A-Za-z0-9_]*: file name and variable name */
	char *source; /* "file:PATH" (copied) or "exec:COMMAND" (its stdout) */
	char *revoke; /* "exec:COMMAND" run at teardown, or NULL */
	bool deliver_file, deliver_env;
	char *json_path;
	int line, column;
};

#define TS_SECRET_NAME_MAX 64
#define TS_SECRETS_MAX 16

struct ts_policy {
	char *file; /* as named by the caller */
	char *name;
	char *description;
	__u64 ttl_ns; /* 0: none given */
	__u32 mode;   /* enum ts_mode */
	__u32 log_allow;
	bool log_given; /* "log" present: else the daemon's default applies */
	bool raw_sockets;
	struct ts_policy_entry *entries;
	size_t count;
	struct ts_secret_spec *secrets;
	size_t nsecrets;
};

/* "exec.allow", "file.write", ... */
const char *ts_list_name(enum ts_list list);

/* Parse and validate `len` bytes of `text`, read from `file`. 0 and *out,
 * or -EINVAL with every error in `diag` (-ENOMEM on exhaustion). */
int ts_policy_parse(const char *file, const char *text, size_t len, struct ts_diag *diag,
		    struct ts_policy **out);
/* The same, reading `file` ("-": standard input). */
int ts_policy_load(const char *file, struct ts_diag *diag, struct ts_policy **out);
void ts_policy_free(struct ts_policy *p);

/* The entry holding `rule_id`, or NULL. */
const struct ts_policy_entry *ts_policy_rule(const struct ts_policy *p, __u32 rule_id);

#endif /* TS_POLICY_H */
