// SPDX-License-Identifier: MIT
/*
 * The control socket: JSON lines (ts_proto.h) over a Unix stream socket.
 * Every client is non-blocking, bounded and timed: a line longer than
 * TS_PROTO_MAX_LINE is refused and the connection closed; a client that
 * sends nothing within IDLE_FIRST_MS is closed; a subscriber that does not
 * read loses events (counted) instead of growing the daemon.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include "client.h"
#include "daemon.h"
#include "ts_log.h"
#include "ts_proto.h"

#define IDLE_FIRST_MS 10000      /* connected, nothing asked yet */
#define IDLE_MS (600 * 1000)     /* between requests */
#define MAX_PENDING (4u << 20)   /* output queued for one client */

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

static int mkdir_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int server_init(struct daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = d->cfg.socket_path;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &d->listen_fd };
	struct group *gr;
	struct stat st;
	int err;

	err = mkdir_parent(path);
	if (err) {
		ts_err("cannot create the directory of '%s': %s", path, strerror(-err));
		return err;
	}
	/* A stale socket of a previous run; anything else is not ours. */
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			ts_err("'%s' exists and is not a socket: refusing to replace it", path);
			return -EEXIST;
		}
		unlink(path);
	}
	d->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->listen_fd < 0)
		return -errno;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (bind(d->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(d->listen_fd, 128)) {
		err = -errno;
		ts_err("cannot listen on '%s': %s", path, strerror(-err));
		return err;
	}
	gr = getgrnam(d->cfg.socket_group);
	if (chown(path, 0, gr ? gr->gr_gid : 0) || chmod(path, gr ? 0660 : 0600))
		ts_warn("cannot set the owner and mode of '%s': %s", path, strerror(errno));
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->listen_fd, &ev))
		return -errno;
	ts_info("listening on %s (%s)", path, gr ? "group taskscope may connect" : "root only");
	return 0;
}

static void client_free(struct daemon *d, struct client *c)
{
	size_t i;

	for (i = 0; i < d->nclients; i++)
		if (d->clients[i] == c) {
			d->clients[i] = d->clients[--d->nclients];
			break;
		}
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->pidfd >= 0)
		close(c->pidfd);
	free(c->rbuf);
	free(c->wbuf);
	free(c);
}

static void update_interest(struct daemon *d, struct client *c)
{
	struct epoll_event ev = { .data.ptr = c };

	ev.events = (c->closing ? 0 : EPOLLIN) | (c->wlen ? EPOLLOUT : 0);
	epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Send what is queued; false when the client is gone. */
static bool flush(struct daemon *d, struct client *c)
{
	while (c->wlen) {
		ssize_t n = send(c->fd, c->wbuf, c->wlen, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return false;
		}
		memmove(c->wbuf, c->wbuf + n, c->wlen - (size_t)n);
		c->wlen -= (size_t)n;
	}
	if (!c->wlen && c->closing)
		return false;
	update_interest(d, c);
	return true;
}

/* Queue `len` bytes; false when over the bound (the caller decides). */
static bool queue(struct client *c, const char *p, size_t len)
{
	if (c->wlen + len > MAX_PENDING)
		return false;
	if (c->wlen + len > c->wcap) {
		size_t cap = c->wcap ? c->wcap : 4096;
		char *bigger;

		while (cap < c->wlen + len)
			cap *= 2;
		bigger = realloc(c->wbuf, cap);
		if (!bigger)
			return false;
		c->wbuf = bigger;
		c->wcap = cap;
	}
	memcpy(c->wbuf + c->wlen, p, len);
	c->wlen += len;
	return true;
}

void client_send(struct client *c, json_t *msg)
{
	size_t len;
	char *line = ts_proto_line(msg, &len);

	json_decref(msg);
	if (!line || !queue(c, line, len))
		c->closing = true; /* cannot answer: hang up rather than lie */
	free(line);
}

static bool in_group(const gid_t *groups, int n, gid_t gid)
{
	int i;

	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* Who is calling: credentials, a pidfd pinning the process, its tag. */
static int identify(struct daemon *d, struct client *c)
{
	socklen_t len = sizeof(c->cred);
	gid_t groups[256];
	socklen_t glen = sizeof(groups);
	struct group *gr;
	int n = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len))
		return -errno;
	if (!getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen))
		n = (int)(glen / sizeof(gid_t));
	c->pidfd = (int)syscall(SYS_pidfd_open, c->cred.pid, 0);
	if (c->pidfd < 0)
		return -errno; /* gone already: nothing to serve */
	if (ts_kernel_member_of(d->k, c->pidfd, &c->tag))
		return -EIO;
	gr = getgrnam(d->cfg.socket_group);
	c->privileged = !c->tag && (c->cred.uid == 0 ||
				    (gr && (c->cred.gid == gr->gr_gid || in_group(groups, n, gr->gr_gid))));
	return 0;
}

void server_accept(struct daemon *d)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct client *c, **bigger;
		int err;
		int fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				ts_warn("cannot accept a client: %s", strerror(errno));
			return;
		}
		c = calloc(1, sizeof(*c));
		bigger = c ? realloc(d->clients, (d->nclients + 1) * sizeof(*bigger)) : NULL;
		if (!bigger) {
			free(c);
			close(fd);
			continue;
		}
		d->clients = bigger;
		c->fd = fd;
		c->pidfd = -1;
		c->last_ms = now_ms();
		ev.data.ptr = c;
		d->clients[d->nclients++] = c;
		epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
		if (d->nclients > d->cfg.max_clients) {
			client_send(c, ts_proto_error(NULL, TS_E_LIMIT, "too many clients", NULL));
			c->closing = true;
		} else if ((err = identify(d, c))) {
			char msg[128];

			snprintf(msg, sizeof(msg), "cannot identify the calling process: %s",
				 strerror(-err));
			client_send(c, ts_proto_error(NULL, err == -EMFILE ? TS_E_LIMIT : TS_E_PERM,
						      msg, NULL));
			c->closing = true;
		}
		if (!flush(d, c))
			client_free(d, c);
	}
}

static void handle_line(struct daemon *d, struct client *c, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *req, *resp;

	c->requests++;
	req = json_loadb(line, len, 0, &jerr);
	if (!req) {
		char msg[256];

		snprintf(msg, sizeof(msg), "invalid JSON at column %d: %s", jerr.column, jerr.text);
		client_send(c, ts_proto_error(NULL, TS_E_PARSE, msg, NULL));
		return;
	}
	resp = methods_call(d, c, req);
	json_decref(req);
	if (resp)
		client_send(c, resp);
}

static void client_read(struct daemon *d, struct client *c)
{
	for (;;) {
		char *nl;
		ssize_t n;

		if (c->rlen == c->rcap) {
			size_t cap = c->rcap ? 2 * c->rcap : 4096;
			char *bigger;

			if (c->rcap > TS_PROTO_MAX_LINE) {
				client_send(c, ts_proto_error(NULL, TS_E_TOOLONG,
							      "request line longer than 256 KiB",
							      NULL));
				c->closing = true;
				return;
			}
			bigger = realloc(c->rbuf, cap);
			if (!bigger) {
				c->closing = true;
				return;
			}
			c->rbuf = bigger;
			c->rcap = cap;
		}
		n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			c->gone = true;
			return;
		}
		c->rlen += (size_t)n;
		c->last_ms = now_ms();
		while (!c->closing && (nl = memchr(c->rbuf, '\n', c->rlen))) {
			size_t line = (size_t)(nl - c->rbuf);

			handle_line(d, c, c->rbuf, line);
			memmove(c->rbuf, nl + 1, c->rlen - line - 1);
			c->rlen -= line + 1;
		}
		if (c->closing)
			return;
	}
}

void server_client_io(struct daemon *d, struct client *c, unsigned int events)
{
	if (events & EPOLLIN)
		client_read(d, c);
	if (c->gone || (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) || !flush(d, c))
		client_free(d, c);
}

void server_timeouts(struct daemon *d)
{
	__u64 now = now_ms();
	size_t i = 0;

	while (i < d->nclients) {
		struct client *c = d->clients[i];
		__u64 limit = c->requests ? IDLE_MS : IDLE_FIRST_MS;

		int pending = 0;

		/* A request waiting in the socket is not idleness: the daemon
		 * was busy. */
		if (!c->streaming && !c->closing && now - c->last_ms > limit &&
		    (ioctl(c->fd, FIONREAD, &pending) || !pending)) {
			client_send(c, ts_proto_error(NULL, TS_E_REQUEST,
						      c->requests ? "idle too long: closing"
								  : "no request within 10 s: closing",
						      NULL));
			c->closing = true;
			if (!flush(d, c)) {
				client_free(d, c);
				continue;
			}
		}
		i++;
	}
}

void server_publish(struct daemon *d, __u64 task_id, const char *line, size_t len)
{
	size_t i = 0;

	while (i < d->nclients) {
		struct client *c = d->clients[i];

		if (c->streaming && (!c->stream_task || c->stream_task == task_id ||
				     task_in_subtree(d, task_id, c->stream_task)) &&
		    (c->privileged || task_in_subtree(d, task_id, c->tag))) {
			if (!queue(c, line, len))
				c->dropped++; /* a reader this slow misses events, counted */
			else if (!flush(d, c)) {
				client_free(d, c);
				continue;
			}
		}
		i++;
	}
}

void server_close(struct daemon *d)
{
	while (d->nclients)
		client_free(d, d->clients[0]);
	free(d->clients);
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->cfg.socket_path);
	}
}
