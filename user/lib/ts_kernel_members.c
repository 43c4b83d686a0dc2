// SPDX-License-Identifier: MIT
/* Membership through the iterators: listing, enrolling, revoking. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include "ts_kernel_priv.h"
#include "ts_log.h"

#define ID(id) ((unsigned long long)(id))
/* Revocation keeps killing until no member is left, for at most this long:
 * forks are refused once the task is revoked, so it converges unless a
 * member cannot die (uninterruptible sleep). */
#define REVOKE_TIMEOUT_MS 5000

static int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int ts_iter_read(struct ts_kernel *k, enum ts_iter_id which, int pidfd, void **buf, size_t *len)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	union bpf_iter_link_info info = {};
	size_t cap = 4096, used = 0;
	int link_fd, iter_fd, err = 0;
	char *out;
	ssize_t n;

	if (pidfd >= 0) {
		info.task.pid_fd = (__u32)pidfd;
		opts.iter_info = &info;
		opts.iter_info_len = sizeof(info);
	}
	link_fd = bpf_link_create(k->iter_prog_fd[which], 0, BPF_TRACE_ITER, &opts);
	if (link_fd < 0) {
		err = -errno;
		ts_err("cannot attach iterator '%s': %s", ts_iter_names[which], strerror(-err));
		return err;
	}
	iter_fd = bpf_iter_create(link_fd);
	if (iter_fd < 0) {
		err = -errno;
		ts_err("cannot create iterator '%s': %s", ts_iter_names[which], strerror(-err));
		close(link_fd);
		return err;
	}
	out = malloc(cap);
	while (out) {
		if (used == cap) {
			char *bigger = realloc(out, cap * 2);

			if (!bigger) {
				free(out);
				out = NULL;
				break;
			}
			out = bigger;
			cap *= 2;
		}
		n = read(iter_fd, out + used, cap - used);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue; /* the kernel restarts a busy iteration */
			err = -errno;
			ts_err("cannot read iterator '%s': %s", ts_iter_names[which],
			       strerror(-err));
			break;
		}
		used += (size_t)n;
	}
	close(iter_fd);
	close(link_fd);
	if (!out)
		err = -ENOMEM;
	if (err) {
		free(out);
		return err;
	}
	*buf = out;
	*len = used;
	return 0;
}

int ts_kernel_members(struct ts_kernel *k, __u64 id, struct ts_member_rec **recs, size_t *n)
{
	struct ts_member_rec *all;
	size_t len, count, i, kept = 0;
	int err;

	err = ts_iter_read(k, TS_ITER_MEMBERS, -1, (void **)&all, &len);
	if (err)
		return err;
	count = len / sizeof(*all);
	for (i = 0; i < count; i++)
		if (!id || all[i].task_id == id)
			all[kept++] = all[i];
	*recs = all;
	*n = kept;
	return 0;
}

int ts_kernel_enroll_pid(struct ts_kernel *k, __u64 id, pid_t pid)
{
	struct ts_enroll_req req = { .task_id = id, .tgid = (__u32)pid };
	int pidfd, err, fd = k->map_fd[TS_MAP_ENROLL];
	__u32 zero = 0;
	size_t len;
	void *buf;

	pidfd = pidfd_open(pid);
	if (pidfd < 0) {
		err = -errno;
		ts_err("cannot open a pidfd for process %d: %s", (int)pid, strerror(-err));
		return err;
	}
	/* The leader first: whatever it clones from now on is tagged. */
	err = ts_kernel_enroll_pidfd(k, id, pidfd);
	if (err)
		goto cleanup;
	if (bpf_map_update_elem(fd, &zero, &req, BPF_ANY)) {
		err = -errno;
		ts_err("cannot request enrollment of process %d: %s", (int)pid, strerror(-err));
		goto cleanup;
	}
	err = ts_iter_read(k, TS_ITER_ENROLL, pidfd, &buf, &len);
	if (!err) {
		free(buf);
		if (bpf_map_lookup_elem(fd, &zero, &req))
			err = -errno;
		else
			err = (int)req.tagged;
	}
	memset(&req, 0, sizeof(req));
	bpf_map_update_elem(fd, &zero, &req, BPF_ANY);
cleanup:
	close(pidfd);
	return err;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool seen_before(pid_t *seen, size_t *nseen, size_t cap, pid_t tgid)
{
	size_t i;

	for (i = 0; i < *nseen; i++)
		if (seen[i] == tgid)
			return true;
	if (*nseen < cap)
		seen[(*nseen)++] = tgid;
	return false;
}

/* SIGKILL the process `tgid` if it is still a member of `id`: the pidfd
 * pins its identity, so a recycled pid is never hit. Returns the pidfd of
 * a process signalled (the caller waits on it and closes it), else -1. */
static int kill_member(struct ts_kernel *k, __u64 id, pid_t tgid)
{
	__u64 tag = 0;
	int pidfd = pidfd_open(tgid);

	if (pidfd < 0)
		return -1; /* gone already */
	if (!ts_kernel_member_of(k, pidfd, &tag) && tag == id &&
	    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) == 0)
		return pidfd;
	close(pidfd);
	return -1;
}

/* Until every process signalled has exited (its pidfd turns readable) or
 * the deadline: an exit takes what it takes, a fixed sleep would either
 * spin or add latency to every revocation. */
static void wait_exits(struct pollfd *pfds, size_t n, long deadline)
{
	size_t i, live = n;
	long left;

	if (!n) {
		usleep(1000); /* members seen, none signalled: in flight */
		return;
	}
	while (live && (left = deadline - now_ms()) > 0) {
		if (poll(pfds, n, (int)left) < 0 && errno != EINTR)
			break;
		for (i = 0, live = 0; i < n; i++) {
			if (pfds[i].fd >= 0 && pfds[i].revents) {
				close(pfds[i].fd);
				pfds[i].fd = -1; /* poll() skips negative fds */
			}
			live += pfds[i].fd >= 0;
		}
	}
	for (i = 0; i < n; i++)
		if (pfds[i].fd >= 0)
			close(pfds[i].fd);
}

#define KILL_BATCH 1024

/* Kill members of `id` until none is left; the number of processes. A
 * revoked task cannot fork, so each pass leaves at most what was in
 * flight for the next one. */
static int kill_members(struct ts_kernel *k, __u64 id, size_t *left)
{
	long deadline = now_ms() + REVOKE_TIMEOUT_MS;
	size_t cap = 1024, nseen = 0, n, i, nfds;
	struct pollfd *pfds = calloc(KILL_BATCH, sizeof(*pfds));
	struct ts_member_rec *recs;
	pid_t *seen = calloc(cap, sizeof(*seen));
	int killed = 0, err, fd;

	if (!seen || !pfds) {
		free(seen);
		free(pfds);
		return -ENOMEM;
	}
	for (;;) {
		err = ts_kernel_members(k, id, &recs, &n);
		if (err)
			break;
		*left = n;
		for (i = 0, nfds = 0; i < n; i++) {
			pid_t tgid = (pid_t)recs[i].tgid;
			bool first = !seen_before(seen, &nseen, cap, tgid);

			/* Threads of one process share its fate: one kill. */
			if (i && recs[i - 1].tgid == recs[i].tgid)
				continue;
			fd = kill_member(k, id, tgid);
			if (fd < 0)
				continue;
			killed += first;
			if (nfds < KILL_BATCH)
				pfds[nfds++] = (struct pollfd){ .fd = fd, .events = POLLIN };
			else
				close(fd); /* the next pass finds it if it lingers */
		}
		free(recs);
		if (!n || now_ms() >= deadline) {
			for (i = 0; i < nfds; i++)
				close(pfds[i].fd);
			break;
		}
		wait_exits(pfds, nfds, deadline);
	}
	free(seen);
	free(pfds);
	return err ?: killed;
}

int ts_kernel_revoke(struct ts_kernel *k, __u64 id)
{
	return ts_kernel_revoke_flags(k, id, 0);
}

int ts_kernel_revoke_flags(struct ts_kernel *k, __u64 id, unsigned int flags)
{
	size_t left = 0;
	struct ts_task t;
	int err, killed;

	err = ts_kernel_task_get(k, id, &t);
	if (err && err != -ENOENT)
		return err;
	if (!err) {
		t.state = TS_STATE_REVOKED;
		err = ts_kernel_task_set(k, id, &t);
		if (err)
			return err;
	}
	killed = kill_members(k, id, &left);
	if (killed < 0)
		return killed;
	if (!(flags & TS_REVOKE_KEEP_RULES)) {
		err = ts_kernel_rules_delete(k, id);
		if (err)
			return err;
	}
	err = ts_kernel_secrets_clear(k, id);
	if (err < 0)
		return err;
	if (left) {
		/* Left revoked: every hook keeps denying them. */
		ts_err("%zu threads of task %016llx survived revocation", left, ID(id));
		return -EBUSY;
	}
	if (bpf_map_delete_elem(k->map_fd[TS_MAP_TASKS], &id) && errno != ENOENT) {
		err = -errno;
		ts_err("cannot delete state of task %016llx: %s", ID(id), strerror(-err));
		return err;
	}
	return killed;
}
