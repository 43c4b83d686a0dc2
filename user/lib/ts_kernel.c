// SPDX-License-Identifier: MIT
/* Loading, attaching and pinning the programs, or reopening the pins. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "taskscope.skel.h"
#include "ts_host.h"
#include "ts_kernel_priv.h"
#include "ts_log.h"

const char *const ts_map_names[TS_MAP_COUNT] = {
	[TS_MAP_MEMBERS] = "ts_members",   [TS_MAP_TASKS] = "ts_tasks",
	[TS_MAP_PATH_RULES] = "ts_path_rules", [TS_MAP_NET_RULES] = "ts_net_rules",
	[TS_MAP_DAEMON] = "ts_daemon",     [TS_MAP_ENROLL] = "ts_enroll",
	[TS_MAP_EVENTS] = "ts_events",     [TS_MAP_STATS] = "ts_stats",
	[TS_MAP_SECRETS] = "ts_secrets",
};

const char *const ts_iter_names[TS_ITER_COUNT] = {
	[TS_ITER_MEMBERS] = "ts_iter_members",
	[TS_ITER_ENROLL] = "ts_iter_enroll",
};

/* Key and value sizes the pinned maps must have to be ours. */
static const struct {
	__u32 key, value;
} map_sizes[TS_MAP_COUNT] = {
	[TS_MAP_MEMBERS] = { sizeof(int), sizeof(struct ts_member) },
	[TS_MAP_TASKS] = { sizeof(__u64), sizeof(struct ts_task) },
	[TS_MAP_PATH_RULES] = { sizeof(struct ts_path_key), sizeof(struct ts_path_rule) },
	[TS_MAP_NET_RULES] = { sizeof(struct ts_net_key), sizeof(struct ts_net_rule) },
	[TS_MAP_DAEMON] = { sizeof(__u32), sizeof(struct ts_daemon_cfg) },
	[TS_MAP_ENROLL] = { sizeof(__u32), sizeof(struct ts_enroll_req) },
	[TS_MAP_EVENTS] = { 0, 0 },
	[TS_MAP_STATS] = { sizeof(__u32), sizeof(__u64) },
	[TS_MAP_SECRETS] = { sizeof(struct ts_secret_key), sizeof(struct ts_secret_owner) },
};

#define VERIFIER_LOG_SIZE (64 * 1024)

/* Pin directories are checked against PIN_DIR_MAX at open, so every path
 * fits; an impossible overflow yields "" and fails where it is used. */
#define PIN_DIR_MAX 256

static void pin_path(char *buf, size_t size, const char *dir, const char *sub, const char *name)
{
	int n = sub ? snprintf(buf, size, "%s/%s/%s", dir, sub, name)
		    : snprintf(buf, size, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= size)
		buf[0] = '\0';
}

static int mkdir_p(const char *dir)
{
	if (mkdir(dir, 0700) && errno != EEXIST) {
		int err = -errno;

		ts_err("cannot create '%s': %s", dir, strerror(-err));
		return err;
	}
	return 0;
}

/* The links pinned last: their directory marks a complete pin set. */
static bool pinned(const char *dir)
{
	char path[512];
	struct stat st;

	pin_path(path, sizeof(path), dir, NULL, "links");
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int check_map_abi(int fd, enum ts_map_id id, const char *path)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		int err = -errno;

		ts_err("cannot inspect pinned map '%s': %s", path, strerror(-err));
		return err;
	}
	if (map_sizes[id].key &&
	    (info.key_size != map_sizes[id].key || info.value_size != map_sizes[id].value)) {
		ts_err("pinned map '%s' has key/value sizes %u/%u, this taskscope expects %u/%u: "
		       "it comes from another version; end every task, then remove the pins "
		       "with 'taskscoped --teardown'",
		       path, info.key_size, info.value_size, map_sizes[id].key,
		       map_sizes[id].value);
		return -EPROTO;
	}
	return 0;
}

static int reopen_pins(struct ts_kernel *k)
{
	char path[512];
	int i, fd, err;

	k->owned_fds = 1;
	for (i = 0; i < TS_MAP_COUNT; i++) {
		pin_path(path, sizeof(path), k->pin_dir, NULL, ts_map_names[i]);
		fd = bpf_obj_get(path);
		if (fd < 0) {
			err = -errno;
			ts_err("cannot reopen pinned map '%s': %s", path, strerror(-err));
			return err;
		}
		k->map_fd[i] = fd;
		err = check_map_abi(fd, i, path);
		if (err)
			return err;
	}
	for (i = 0; i < TS_ITER_COUNT; i++) {
		pin_path(path, sizeof(path), k->pin_dir, "progs", ts_iter_names[i]);
		fd = bpf_obj_get(path);
		if (fd < 0) {
			err = -errno;
			ts_err("cannot reopen pinned program '%s': %s", path, strerror(-err));
			return err;
		}
		k->iter_prog_fd[i] = fd;
	}
	k->reopened = true;
	return 0;
}

static int pin_links(struct ts_kernel *k, const char *dir)
{
	const struct bpf_object_skeleton *sk = k->skel->skeleton;
	char path[512];
	int i, err;

	for (i = 0; i < sk->prog_cnt; i++) {
		struct bpf_link *link = *sk->progs[i].link;

		if (!link)
			continue; /* iterators: pinned as programs */
		pin_path(path, sizeof(path), dir, NULL, sk->progs[i].name);
		err = bpf_link__pin(link, path);
		if (err) {
			ts_err("cannot pin link at '%s': %s", path, strerror(-err));
			return err;
		}
	}
	return 0;
}

static int pin_all(struct ts_kernel *k)
{
	struct bpf_object *obj = k->skel->obj;
	char path[512], tmp[512];
	int i, err;

	err = mkdir_p(k->pin_dir);
	for (i = 0; !err && i < TS_MAP_COUNT; i++) {
		pin_path(path, sizeof(path), k->pin_dir, NULL, ts_map_names[i]);
		err = bpf_map__pin(bpf_object__find_map_by_name(obj, ts_map_names[i]), path);
		if (err)
			ts_err("cannot pin map at '%s': %s", path, strerror(-err));
	}
	pin_path(path, sizeof(path), k->pin_dir, NULL, "progs");
	if (!err)
		err = mkdir_p(path);
	for (i = 0; !err && i < TS_ITER_COUNT; i++) {
		pin_path(path, sizeof(path), k->pin_dir, "progs", ts_iter_names[i]);
		err = bpf_program__pin(bpf_object__find_program_by_name(obj, ts_iter_names[i]), path);
		if (err)
			ts_err("cannot pin program at '%s': %s", path, strerror(-err));
	}
	/* Links last, then renamed into place: "links/" marks a complete set.
	 * (bpffs refuses names with a dot.) */
	pin_path(tmp, sizeof(tmp), k->pin_dir, NULL, "links_staging");
	if (!err)
		err = mkdir_p(tmp);
	if (!err)
		err = pin_links(k, tmp);
	pin_path(path, sizeof(path), k->pin_dir, NULL, "links");
	if (!err && rename(tmp, path)) {
		err = -errno;
		ts_err("cannot rename '%s' to '%s': %s", tmp, path, strerror(-err));
	}
	return err;
}

/* rm -r of a pin directory: bpffs holds only files and directories. */
static int remove_tree(const char *dir)
{
	char path[512];
	struct dirent *de;
	int err = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode))
			err = remove_tree(path) ?: err;
		else if (unlink(path))
			err = -errno;
	}
	closedir(d);
	if (rmdir(dir) && errno != ENOENT)
		err = -errno;
	return err;
}

int ts_kernel_unpin(struct ts_kernel *k)
{
	int err;

	if (!k->pin_dir)
		return 0;
	err = remove_tree(k->pin_dir);
	if (err)
		ts_err("cannot remove pins under '%s': %s", k->pin_dir, strerror(-err));
	return err;
}

static void take_skeleton_fds(struct ts_kernel *k)
{
	struct bpf_object *obj = k->skel->obj;
	int i;

	for (i = 0; i < TS_MAP_COUNT; i++)
		k->map_fd[i] = bpf_map__fd(bpf_object__find_map_by_name(obj, ts_map_names[i]));
	for (i = 0; i < TS_ITER_COUNT; i++)
		k->iter_prog_fd[i] =
			bpf_program__fd(bpf_object__find_program_by_name(obj, ts_iter_names[i]));
}

/* log_level 4 (BPF_LOG_STATS) makes the verifier end its log with
 * "processed N insns". */
static int request_verifier_stats(struct ts_kernel *k)
{
	struct bpf_program *prog;
	size_t n = 0;

	bpf_object__for_each_program(prog, k->skel->obj)
		n++;
	k->stats = calloc(n, sizeof(*k->stats));
	if (!k->stats)
		return -ENOMEM;
	bpf_object__for_each_program(prog, k->skel->obj) {
		char *buf = calloc(1, VERIFIER_LOG_SIZE);

		if (!buf)
			return -ENOMEM;
		bpf_program__set_log_buf(prog, buf, VERIFIER_LOG_SIZE);
		bpf_program__set_log_level(prog, 4);
	}
	return 0;
}

static void collect_verifier_stats(struct ts_kernel *k)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, k->skel->obj) {
		size_t size;
		char *buf = (char *)bpf_program__log_buf(prog, &size);
		const char *p = buf ? strstr(buf, "processed ") : NULL;
		struct ts_prog_stat *st = &k->stats[k->nstats++];

		snprintf(st->name, sizeof(st->name), "%s", bpf_program__name(prog));
		if (p)
			sscanf(p, "processed %u insns", &st->insns);
		free(buf);
		bpf_program__set_log_buf(prog, NULL, 0);
	}
}

int ts_kernel_verifier_stats(struct ts_kernel *k,
			     void (*fn)(const char *prog, unsigned int insns, void *ctx), void *ctx)
{
	size_t i;

	if (!k->stats) {
		ts_err("verifier statistics were not requested when the programs were loaded");
		return -ENODATA;
	}
	for (i = 0; i < k->nstats; i++)
		fn(k->stats[i].name, k->stats[i].insns, ctx);
	return 0;
}

static int load_and_attach(struct ts_kernel *k, const struct ts_kernel_opts *opts)
{
	int err;

	k->skel = taskscope_bpf__open();
	if (!k->skel) {
		err = -errno;
		ts_err("cannot open BPF object 'taskscope': %s", strerror(-err));
		return err;
	}
	if (opts->events_bytes) {
		err = bpf_map__set_max_entries(k->skel->maps.ts_events, opts->events_bytes);
		if (err) {
			ts_err("cannot size the event ring buffer to %u bytes: %s",
			       opts->events_bytes, strerror(-err));
			return err;
		}
	}
	/* Iterators run on demand, never attached for good. */
	bpf_program__set_autoattach(k->skel->progs.ts_iter_members, false);
	bpf_program__set_autoattach(k->skel->progs.ts_iter_enroll, false);
	if (opts->verifier_stats) {
		err = request_verifier_stats(k);
		if (err)
			return err;
	}
	err = taskscope_bpf__load(k->skel);
	if (opts->verifier_stats)
		collect_verifier_stats(k);
	if (err) {
		ts_err("cannot load BPF programs: %s", strerror(-err));
		ts_host_explain_failure(err);
		return err;
	}
	err = taskscope_bpf__attach(k->skel);
	if (err) {
		ts_err("cannot attach BPF LSM programs: %s", strerror(-err));
		ts_host_explain_failure(err);
		return err;
	}
	take_skeleton_fds(k);
	return 0;
}

int ts_kernel_open(const struct ts_kernel_opts *opts, struct ts_kernel **out)
{
	static const struct ts_kernel_opts defaults;
	struct ts_kernel *k;
	int i, err;

	if (!opts)
		opts = &defaults;
	*out = NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (i = 0; i < TS_MAP_COUNT; i++)
		k->map_fd[i] = -1;
	for (i = 0; i < TS_ITER_COUNT; i++)
		k->iter_prog_fd[i] = -1;
	ts_log_libbpf();
	if (opts->pin_dir) {
		if (strlen(opts->pin_dir) > PIN_DIR_MAX) {
			ts_err("pin directory '%s' is longer than %d bytes", opts->pin_dir,
			       PIN_DIR_MAX);
			err = -ENAMETOOLONG;
			goto cleanup;
		}
		k->pin_dir = strdup(opts->pin_dir);
		if (!k->pin_dir) {
			err = -ENOMEM;
			goto cleanup;
		}
	}
	if (k->pin_dir && pinned(k->pin_dir)) {
		err = reopen_pins(k);
		if (err)
			goto cleanup;
		*out = k;
		return 0;
	}
	err = load_and_attach(k, opts);
	if (err)
		goto cleanup;
	if (k->pin_dir) {
		err = pin_all(k);
		if (err) {
			ts_kernel_unpin(k);
			goto cleanup;
		}
	}
	*out = k;
	return 0;
cleanup:
	ts_kernel_close(k);
	return err;
}

bool ts_kernel_reopened(const struct ts_kernel *k)
{
	return k->reopened;
}

void ts_kernel_close(struct ts_kernel *k)
{
	int i;

	if (!k)
		return;
	ring_buffer__free(k->events);
	if (k->owned_fds) {
		for (i = 0; i < TS_MAP_COUNT; i++)
			if (k->map_fd[i] >= 0)
				close(k->map_fd[i]);
		for (i = 0; i < TS_ITER_COUNT; i++)
			if (k->iter_prog_fd[i] >= 0)
				close(k->iter_prog_fd[i]);
	}
	taskscope_bpf__destroy(k->skel);
	free(k->stats);
	free(k->pin_dir);
	free(k);
}
