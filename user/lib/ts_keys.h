/* SPDX-License-Identifier: MIT */
/* Building BPF map keys from rule targets. Pure functions, no I/O. */
#ifndef TS_KEYS_H
#define TS_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include "taskscope.h"

/* A path ending in '/' names a directory (prefix rule); anything else names
 * one file, whose key includes the terminating NUL. */
bool ts_path_is_dir(const char *path);

/* Fill `key` with task `task_id` and `path`. Returns 0; -EINVAL for an
 * empty path; -ENAMETOOLONG when it does not fit TS_PATH_MAX (the rule
 * must then be refused: a truncated rule would match other files). */
int ts_path_key_init(struct ts_path_key *key, __u64 task_id, const char *path);

/* Fill `key` with task `task_id` and the first `prefix_bits` of a 16-byte
 * IPv6 (or v4-mapped) address. -EINVAL when prefix_bits > 128. */
int ts_net_key_init(struct ts_net_key *key, __u64 task_id, const __u8 addr[16],
		    unsigned int prefix_bits);

/* ::ffff:a.b.c.d from an IPv4 address in network byte order. */
void ts_addr_v4_mapped(__u8 out[16], __u32 v4_be);

/* The task id back from a key's split halves. */
static inline __u64 ts_key_task(__u32 hi, __u32 lo)
{
	return (__u64)hi << 32 | lo;
}

#endif /* TS_KEYS_H */
