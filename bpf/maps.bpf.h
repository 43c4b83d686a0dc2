/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Maps shared by every taskscope program. bpf/maps.bpf.c defines them
 * (TS_DEFINE_MAPS); every other file sees extern declarations, resolved
 * when `bpftool gen object` links the files into one object.
 * Semantics: include/taskscope.h.
 */
#ifndef TS_MAPS_BPF_H
#define TS_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "taskscope.h"

#ifdef TS_DEFINE_MAPS
#define TS_MAP
#else
#define TS_MAP extern
#endif

/* Sizes user space may change before load (bpf_map__set_max_entries). */
#define TS_MAX_TASKS 4096
#define TS_MAX_PATH_RULES 65536
#define TS_MAX_NET_RULES 16384
#define TS_EVENTS_BYTES (1u << 20)
#define TS_MAX_SECRETS 16384

TS_MAP struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ts_member);
} ts_members SEC(".maps");

TS_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TS_MAX_TASKS);
	__type(key, __u64);
	__type(value, struct ts_task);
} ts_tasks SEC(".maps");

TS_MAP struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, TS_MAX_PATH_RULES);
	__type(key, struct ts_path_key);
	__type(value, struct ts_path_rule);
} ts_path_rules SEC(".maps");

TS_MAP struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, TS_MAX_NET_RULES);
	__type(key, struct ts_net_key);
	__type(value, struct ts_net_rule);
} ts_net_rules SEC(".maps");

TS_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ts_daemon_cfg);
} ts_daemon SEC(".maps");

TS_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TS_MAX_SECRETS);
	__type(key, struct ts_secret_key);
	__type(value, struct ts_secret_owner);
} ts_secrets SEC(".maps");

/* The enroll iterator tags every thread of this thread group. */
TS_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ts_enroll_req);
} ts_enroll SEC(".maps");

TS_MAP struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, TS_EVENTS_BYTES);
} ts_events SEC(".maps");

TS_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TS_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} ts_stats SEC(".maps");

/* A path is built in `walk` (right to left, by the path walker) or written
 * by bpf_d_path() straight into key.path, running on into path_tail: a
 * path longer than a rule key still looks up its directory rules by its
 * first TS_PATH_MAX bytes. */
#define TS_D_PATH_BUF 4096
#define TS_WALK_BUF 8192
struct ts_scratch {
	struct ts_path_key key;
	char path_tail[TS_D_PATH_BUF - TS_PATH_MAX];
	char walk[TS_WALK_BUF];
};

TS_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ts_scratch);
} ts_scratch_map SEC(".maps");

#endif /* TS_MAPS_BPF_H */
