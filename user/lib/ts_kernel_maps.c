// SPDX-License-Identifier: MIT
/* Reading and writing the maps: task state, rules, tags, counters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ts_kernel_priv.h"
#include "ts_keys.h"
#include "ts_log.h"

#define ID(id) ((unsigned long long)(id))

int ts_kernel_task_set(struct ts_kernel *k, __u64 id, const struct ts_task *t)
{
	if (bpf_map_update_elem(k->map_fd[TS_MAP_TASKS], &id, t, BPF_ANY)) {
		int err = -errno;

		ts_err("cannot write state of task %016llx: %s", ID(id), strerror(-err));
		return err;
	}
	return 0;
}

int ts_kernel_task_get(struct ts_kernel *k, __u64 id, struct ts_task *t)
{
	if (bpf_map_lookup_elem(k->map_fd[TS_MAP_TASKS], &id, t)) {
		int err = -errno;

		if (err != -ENOENT)
			ts_err("cannot read state of task %016llx: %s", ID(id), strerror(-err));
		return err;
	}
	return 0;
}

/* Every key of map `fd` (key_size bytes each) in *keys. */
static int map_keys(int fd, size_t key_size, const char *what, void **keys, size_t *n)
{
	size_t cap = 64, count = 0;
	char *buf = malloc(cap * key_size), *prev = NULL;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (count == cap) {
			char *bigger = realloc(buf, 2 * cap * key_size);

			if (!bigger) {
				err = -ENOMEM;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
		prev = count ? buf + (count - 1) * key_size : NULL;
		if (bpf_map_get_next_key(fd, prev, buf + count * key_size)) {
			if (errno != ENOENT) {
				err = -errno;
				ts_err("cannot list %s: %s", what, strerror(-err));
			}
			break;
		}
		count++;
	}
	if (err) {
		free(buf);
		return err;
	}
	*keys = buf;
	*n = count;
	return 0;
}

int ts_kernel_task_ids(struct ts_kernel *k, __u64 **ids, size_t *n)
{
	return map_keys(k->map_fd[TS_MAP_TASKS], sizeof(__u64), "tasks", (void **)ids, n);
}

int ts_kernel_enroll_pidfd(struct ts_kernel *k, __u64 id, int pidfd)
{
	struct ts_member m = { .task_id = id };

	if (bpf_map_update_elem(k->map_fd[TS_MAP_MEMBERS], &pidfd, &m, BPF_ANY)) {
		int err = -errno;

		ts_err("cannot tag pidfd %d as a member of task %016llx: %s", pidfd, ID(id),
		       strerror(-err));
		return err;
	}
	return 0;
}

int ts_kernel_member_of(struct ts_kernel *k, int pidfd, __u64 *id)
{
	struct ts_member m;

	*id = 0;
	if (bpf_map_lookup_elem(k->map_fd[TS_MAP_MEMBERS], &pidfd, &m)) {
		int err = -errno;

		if (err == -ENOENT)
			return 0;
		ts_err("cannot read the tag of pidfd %d: %s", pidfd, strerror(-err));
		return err;
	}
	*id = m.task_id;
	return 0;
}

static int path_key(__u64 id, const char *path, struct ts_path_key *key)
{
	int err = ts_path_key_init(key, id, path);

	if (err == -ENAMETOOLONG)
		ts_err("rule path '%s' is longer than the %d bytes a kernel rule holds", path,
		       TS_PATH_MAX - 1);
	else if (err)
		ts_err("rule path '%s' is empty", path);
	return err;
}

int ts_kernel_path_rule_set(struct ts_kernel *k, __u64 id, const char *path,
			    const struct ts_path_rule *rule)
{
	struct ts_path_key key;
	int err = path_key(id, path, &key);

	if (err)
		return err;
	if (bpf_map_update_elem(k->map_fd[TS_MAP_PATH_RULES], &key, rule, BPF_ANY)) {
		err = -errno;
		ts_err("cannot insert rule for '%s': %s", path, strerror(-err));
	}
	return err;
}

int ts_kernel_path_rule_delete(struct ts_kernel *k, __u64 id, const char *path)
{
	struct ts_path_key key;
	int err = path_key(id, path, &key);

	if (err)
		return err;
	if (bpf_map_delete_elem(k->map_fd[TS_MAP_PATH_RULES], &key) && errno != ENOENT) {
		err = -errno;
		ts_err("cannot delete rule for '%s': %s", path, strerror(-err));
	}
	return err;
}

static int net_key(__u64 id, const __u8 addr[16], unsigned int bits, struct ts_net_key *key)
{
	int err = ts_net_key_init(key, id, addr, bits);

	if (err)
		ts_err("network prefix length %u is longer than 128 bits", bits);
	return err;
}

int ts_kernel_net_rule_set(struct ts_kernel *k, __u64 id, const __u8 addr[16],
			   unsigned int prefix_bits, const struct ts_net_rule *rule)
{
	struct ts_net_key key;
	int err = net_key(id, addr, prefix_bits, &key);

	if (err)
		return err;
	if (rule->count > TS_NET_PORTS) {
		ts_err("network rule holds %u port ranges, at most %d fit", rule->count,
		       TS_NET_PORTS);
		return -E2BIG;
	}
	if (bpf_map_update_elem(k->map_fd[TS_MAP_NET_RULES], &key, rule, BPF_ANY)) {
		err = -errno;
		ts_err("cannot insert network rule: %s", strerror(-err));
	}
	return err;
}

int ts_kernel_net_rule_delete(struct ts_kernel *k, __u64 id, const __u8 addr[16],
			      unsigned int prefix_bits)
{
	struct ts_net_key key;
	int err = net_key(id, addr, prefix_bits, &key);

	if (err)
		return err;
	if (bpf_map_delete_elem(k->map_fd[TS_MAP_NET_RULES], &key) && errno != ENOENT) {
		err = -errno;
		ts_err("cannot delete a network rule: %s", strerror(-err));
	}
	return err;
}

/*
 * Delete every rule of task `id` (0: count only) from the trie `map`, or
 * just count them. Keys are listed first: deleting while walking
 * get_next_key would skip entries.
 */
static int rules_of(struct ts_kernel *k, enum ts_map_id map, __u64 id, bool delete,
		    size_t *count)
{
	size_t key_size = map == TS_MAP_PATH_RULES ? sizeof(struct ts_path_key)
						   : sizeof(struct ts_net_key);
	size_t n, i;
	char *keys;
	int err;

	*count = 0;
	err = map_keys(k->map_fd[map], key_size, "rules", (void **)&keys, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		/* Both key types begin with prefixlen, task_hi, task_lo. */
		const __u32 *w = (const __u32 *)(keys + i * key_size);

		if (id && ts_key_task(w[1], w[2]) != id)
			continue;
		(*count)++;
		if (delete && bpf_map_delete_elem(k->map_fd[map], keys + i * key_size) &&
		    errno != ENOENT) {
			err = -errno;
			ts_err("cannot delete a rule of task %016llx: %s", ID(id), strerror(-err));
			break;
		}
	}
	free(keys);
	return err;
}

static int add_owner(__u64 **ids, size_t *n, size_t *cap, __u64 id)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if ((*ids)[i] == id)
			return 0;
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 16;
		__u64 *bigger = realloc(*ids, c * sizeof(**ids));

		if (!bigger)
			return -ENOMEM;
		*ids = bigger;
		*cap = c;
	}
	(*ids)[(*n)++] = id;
	return 0;
}

int ts_kernel_rule_owners(struct ts_kernel *k, __u64 **ids, size_t *n)
{
	static const enum ts_map_id maps[] = { TS_MAP_PATH_RULES, TS_MAP_NET_RULES };
	size_t cap = 0, m, i, nkeys;
	__u64 *out = NULL;
	char *keys;
	int err = 0;

	*n = 0;
	for (m = 0; m < 2 && !err; m++) {
		size_t key_size = maps[m] == TS_MAP_PATH_RULES ? sizeof(struct ts_path_key)
							       : sizeof(struct ts_net_key);

		err = map_keys(k->map_fd[maps[m]], key_size, "rules", (void **)&keys, &nkeys);
		if (err)
			break;
		for (i = 0; !err && i < nkeys; i++) {
			const __u32 *w = (const __u32 *)(keys + i * key_size);

			err = add_owner(&out, n, &cap, ts_key_task(w[1], w[2]));
		}
		free(keys);
	}
	if (err) {
		free(out);
		*n = 0;
		return err;
	}
	*ids = out;
	return 0;
}

int ts_kernel_rule_count(struct ts_kernel *k, __u64 id, size_t *path_rules, size_t *net_rules)
{
	return rules_of(k, TS_MAP_PATH_RULES, id, false, path_rules) ?:
		       rules_of(k, TS_MAP_NET_RULES, id, false, net_rules);
}

int ts_kernel_rules_delete(struct ts_kernel *k, __u64 id)
{
	size_t n;

	return rules_of(k, TS_MAP_PATH_RULES, id, true, &n) ?:
		       rules_of(k, TS_MAP_NET_RULES, id, true, &n);
}

/* Read-modify-write of the ts_daemon singleton. */
static int daemon_cfg_update(struct ts_kernel *k, const __u32 *tgid, const __u32 *dev)
{
	struct ts_daemon_cfg cfg = { 0 };
	__u32 zero = 0;

	bpf_map_lookup_elem(k->map_fd[TS_MAP_DAEMON], &zero, &cfg);
	if (tgid)
		cfg.daemon_tgid = *tgid;
	if (dev)
		cfg.secrets_dev = *dev;
	if (bpf_map_update_elem(k->map_fd[TS_MAP_DAEMON], &zero, &cfg, BPF_ANY)) {
		int err = -errno;

		ts_err("cannot write the daemon's settings to the kernel: %s", strerror(-err));
		return err;
	}
	return 0;
}

int ts_kernel_set_daemon(struct ts_kernel *k, pid_t tgid)
{
	__u32 v = (__u32)tgid;

	return daemon_cfg_update(k, &v, NULL);
}

/* The kernel's s_dev encoding (major << 20 | minor), not glibc's dev_t. */
int ts_kernel_set_secrets_dev(struct ts_kernel *k, dev_t dev)
{
	__u32 v = dev ? (major(dev) << 20 | minor(dev)) : 0;

	return daemon_cfg_update(k, NULL, &v);
}

int ts_kernel_secret_add(struct ts_kernel *k, __u64 ino, __u64 id)
{
	struct ts_secret_key key = { .ino = ino };
	struct ts_secret_owner owner = { .task_id = id };

	if (bpf_map_update_elem(k->map_fd[TS_MAP_SECRETS], &key, &owner, BPF_ANY)) {
		int err = -errno;

		ts_err("cannot guard secret inode %llu of task %016llx: %s",
		       (unsigned long long)ino, ID(id), strerror(-err));
		return err;
	}
	return 0;
}

int ts_kernel_secret_remove(struct ts_kernel *k, __u64 ino)
{
	struct ts_secret_key key = { .ino = ino };

	if (bpf_map_delete_elem(k->map_fd[TS_MAP_SECRETS], &key) && errno != ENOENT) {
		int err = -errno;

		ts_err("cannot drop secret inode %llu: %s", (unsigned long long)ino, strerror(-err));
		return err;
	}
	return 0;
}

int ts_kernel_secrets_clear(struct ts_kernel *k, __u64 id)
{
	struct ts_secret_key *keys;
	struct ts_secret_owner owner;
	size_t n, i;
	int err, removed = 0;

	err = map_keys(k->map_fd[TS_MAP_SECRETS], sizeof(*keys), "secrets", (void **)&keys, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(k->map_fd[TS_MAP_SECRETS], &keys[i], &owner))
			continue;
		if (id && owner.task_id != id)
			continue;
		if (!bpf_map_delete_elem(k->map_fd[TS_MAP_SECRETS], &keys[i]))
			removed++;
	}
	free(keys);
	return removed;
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
	if (bpf_map_lookup_elem(k->map_fd[TS_MAP_STATS], &key, per_cpu)) {
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
