// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "taskscope.skel.h"
#include "ts_host.h"
#include "ts_kernel.h"
#include "ts_keys.h"
#include "ts_log.h"

struct ts_kernel {
	struct taskscope_bpf *skel;
	struct ring_buffer *events;
	ts_event_fn on_event;
	void *on_event_ctx;
};

static int map_fd(const struct bpf_map *map)
{
	return bpf_map__fd(map);
}

int ts_kernel_open(const struct ts_kernel_opts *opts, struct ts_kernel **out)
{
	struct ts_kernel *k;
	int err;

	*out = NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	ts_log_libbpf();
	k->skel = taskscope_bpf__open();
	if (!k->skel) {
		err = -errno;
		ts_err("cannot open BPF object 'taskscope': %s", strerror(-err));
		goto cleanup;
	}
	if (opts && opts->events_bytes) {
		err = bpf_map__set_max_entries(k->skel->maps.ts_events, opts->events_bytes);
		if (err) {
			ts_err("cannot size ring buffer to %u bytes: %s", opts->events_bytes,
			       strerror(-err));
			goto cleanup;
		}
	}
	err = taskscope_bpf__load(k->skel);
	if (err) {
		ts_err("cannot load BPF programs: %s", strerror(-err));
		ts_host_explain_failure(err);
		goto cleanup;
	}
	err = taskscope_bpf__attach(k->skel);
	if (err) {
		ts_err("cannot attach BPF LSM programs: %s", strerror(-err));
		ts_host_explain_failure(err);
		goto cleanup;
	}
	*out = k;
	return 0;
cleanup:
	ts_kernel_close(k);
	return err;
}

void ts_kernel_close(struct ts_kernel *k)
{
	if (!k)
		return;
	ring_buffer__free(k->events);
	taskscope_bpf__destroy(k->skel);
	free(k);
}

int ts_kernel_task_set(struct ts_kernel *k, __u64 id, const struct ts_task *t)
{
	if (bpf_map_update_elem(map_fd(k->skel->maps.ts_tasks), &id, t, BPF_ANY)) {
		int err = -errno;

		ts_err("cannot write state of task %016llx: %s", (unsigned long long)id,
		       strerror(-err));
		return err;
	}
	return 0;
}

int ts_kernel_task_get(struct ts_kernel *k, __u64 id, struct ts_task *t)
{
	if (bpf_map_lookup_elem(map_fd(k->skel->maps.ts_tasks), &id, t))
		return -errno; /* ENOENT is an answer, not a failure: no message */
	return 0;
}

int ts_kernel_enroll_pidfd(struct ts_kernel *k, __u64 id, int pidfd)
{
	struct ts_member m = { .task_id = id };

	if (bpf_map_update_elem(map_fd(k->skel->maps.ts_members), &pidfd, &m, BPF_ANY)) {
		int err = -errno;

		ts_err("cannot tag pidfd %d as a member of task %016llx: %s", pidfd,
		       (unsigned long long)id, strerror(-err));
		return err;
	}
	return 0;
}

int ts_kernel_member_of(struct ts_kernel *k, int pidfd, __u64 *id)
{
	struct ts_member m;

	*id = 0;
	if (bpf_map_lookup_elem(map_fd(k->skel->maps.ts_members), &pidfd, &m)) {
		int err = -errno;

		if (err == -ENOENT)
			return 0;
		ts_err("cannot read the tag of pidfd %d: %s", pidfd, strerror(-err));
		return err;
	}
	*id = m.task_id;
	return 0;
}

int ts_kernel_path_rule_set(struct ts_kernel *k, __u64 id, const char *path,
			    const struct ts_path_rule *rule)
{
	struct ts_path_key key;
	int err;

	err = ts_path_key_init(&key, id, path);
	if (err == -ENAMETOOLONG) {
		ts_err("rule path '%s' is longer than the %d bytes a kernel rule holds", path,
		       TS_PATH_MAX - 1);
		return err;
	}
	if (err) {
		ts_err("rule path '%s' is empty", path);
		return err;
	}
	if (bpf_map_update_elem(map_fd(k->skel->maps.ts_path_rules), &key, rule, BPF_ANY)) {
		err = -errno;
		ts_err("cannot insert rule for '%s': %s", path, strerror(-err));
		return err;
	}
	return 0;
}

static int on_ringbuf_record(void *ctx, void *data, size_t size)
{
	struct ts_kernel *k = ctx;

	if (size < sizeof(struct ts_event))
		return 0; /* not ours: a newer kernel side would bump the ABI */
	return k->on_event(data, k->on_event_ctx);
}

int ts_kernel_events_subscribe(struct ts_kernel *k, ts_event_fn fn, void *ctx)
{
	int err;

	k->on_event = fn;
	k->on_event_ctx = ctx;
	k->events = ring_buffer__new(map_fd(k->skel->maps.ts_events), on_ringbuf_record, k,
				     NULL);
	if (!k->events) {
		err = -errno;
		ts_err("cannot open event ring buffer: %s", strerror(-err));
		return err;
	}
	return 0;
}

int ts_kernel_events_poll(struct ts_kernel *k, int timeout_ms)
{
	int n = ring_buffer__poll(k->events, timeout_ms);

	if (n < 0 && n != -EINTR)
		ts_err("cannot read event ring buffer: %s", strerror(-n));
	return n;
}

int ts_kernel_stat(struct ts_kernel *k, enum ts_stat stat, __u64 *value)
{
	int ncpu = libbpf_num_possible_cpus();
	__u32 key = stat;
	__u64 *per_cpu;
	int err = 0, i;

	if (ncpu < 0)
		return ncpu;
	per_cpu = calloc((size_t)ncpu, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map_fd(k->skel->maps.ts_stats), &key, per_cpu)) {
		err = -errno;
		ts_err("cannot read counter %u: %s", stat, strerror(-err));
		goto cleanup;
	}
	*value = 0;
	for (i = 0; i < ncpu; i++)
		*value += per_cpu[i];
cleanup:
	free(per_cpu);
	return err;
}
