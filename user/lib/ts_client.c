// SPDX-License-Identifier: MIT
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "ts_client.h"
#include "ts_log.h"
#include "ts_proto.h"

/* Responses can carry a whole task listing or an explanation. */
#define MAX_RESPONSE (16 * 1024 * 1024)

struct ts_client {
	int fd;
	char *buf;
	size_t len, cap;
	json_int_t next_id;
};

int ts_client_connect(const char *path, struct ts_client **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ts_client *c;
	int err;

	*out = NULL;
	if (!path)
		path = TS_CONTROL_SOCKET;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		ts_err("socket path '%s' is too long", path);
		return -ENAMETOOLONG;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->next_id = 1;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		err = -errno;
		free(c);
		ts_err("cannot create a socket: %s", strerror(-err));
		return err;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		ts_err("cannot connect to taskscoped at '%s': %s%s", path, strerror(-err),
		       err == -ENOENT || err == -ECONNREFUSED ? " (is taskscoped running?)" : "");
		ts_client_close(c);
		return err;
	}
	*out = c;
	return 0;
}

void ts_client_close(struct ts_client *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c->buf);
	free(c);
}

int ts_client_fd(const struct ts_client *c)
{
	return c->fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int ts_client_read(struct ts_client *c, int timeout_ms, json_t **msg)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		json_error_t jerr;
		ssize_t n;
		int r;

		if (nl) {
			size_t line = (size_t)(nl - c->buf);

			*msg = json_loadb(c->buf, line, 0, &jerr);
			memmove(c->buf, nl + 1, c->len - line - 1);
			c->len -= line + 1;
			if (!*msg) {
				ts_err("taskscoped sent invalid JSON: %s", jerr.text);
				return -EPROTO;
			}
			return 0;
		}
		if (c->len == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 65536;
			char *bigger;

			if (cap > MAX_RESPONSE) {
				ts_err("taskscoped sent a line longer than %d bytes", MAX_RESPONSE);
				return -EPROTO;
			}
			bigger = realloc(c->buf, cap);
			if (!bigger)
				return -ENOMEM;
			c->buf = bigger;
			c->cap = cap;
		}
		r = poll(&pfd, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			return -EINTR;
		if (r < 0)
			return -errno;
		if (!r)
			return -ETIMEDOUT;
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n < 0) {
			if (errno == EINTR)
				return -EINTR;
			return -errno;
		}
		if (!n)
			return -ECONNRESET;
		c->len += (size_t)n;
	}
}

int ts_client_call(struct ts_client *c, const char *method, json_t *params, int timeout_ms,
		   json_t **result, struct ts_client_error *err)
{
	json_int_t id = c->next_id++;
	json_t *req, *resp = NULL, *e;
	size_t len;
	char *line;
	int rc;

	*result = NULL;
	memset(err, 0, sizeof(*err));
	req = json_pack("{s:I, s:s, s:o}", "id", id, "method", method, "params",
			params ? params : json_object());
	line = req ? ts_proto_line(req, &len) : NULL;
	json_decref(req);
	if (!line)
		return -ENOMEM;
	rc = write_all(c->fd, line, len);
	free(line);
	if (rc) {
		ts_err("cannot send '%s' to taskscoped: %s", method, strerror(-rc));
		return rc;
	}
	for (;;) {
		rc = ts_client_read(c, timeout_ms, &resp);
		if (rc) {
			ts_err("no answer from taskscoped to '%s': %s", method,
			       rc == -ECONNRESET ? "it closed the connection" : strerror(-rc));
			return rc;
		}
		/* Ours; or an error without an id: the daemon refusing the
		 * connection itself (too many clients, an unknown caller). */
		if (json_integer_value(json_object_get(resp, "id")) == id ||
		    (json_is_null(json_object_get(resp, "id")) && json_object_get(resp, "error")))
			break;
		json_decref(resp); /* a stray event line: not ours */
	}
	e = json_object_get(resp, "error");
	if (e) {
		err->code = (int)json_integer_value(json_object_get(e, "code"));
		snprintf(err->message, sizeof(err->message), "%s",
			 json_string_value(json_object_get(e, "message")) ?: "no message");
		err->data = json_incref(json_object_get(e, "data"));
		json_decref(resp);
		return 1;
	}
	*result = json_incref(json_object_get(resp, "result"));
	json_decref(resp);
	return 0;
}
