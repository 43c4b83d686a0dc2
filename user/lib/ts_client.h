/* SPDX-License-Identifier: MIT */
/* A client of the control socket (protocol: ts_proto.h). */
#ifndef TS_CLIENT_H
#define TS_CLIENT_H

#include <jansson.h>

struct ts_client;

struct ts_client_error {
	int code; /* enum ts_proto_code */
	char message[512];
	json_t *data; /* owned by the caller when set */
};

/* Connect to `path` (NULL: the default socket). */
int ts_client_connect(const char *path, struct ts_client **out);
void ts_client_close(struct ts_client *c);
/* Call `method` with `params` (stolen; NULL: none). 0 with *result (the
 * caller's), 1 when the daemon answered an error (in *err), or -errno when
 * the call itself failed (reported). Waits at most timeout_ms (-1: ever). */
int ts_client_call(struct ts_client *c, const char *method, json_t *params, int timeout_ms,
		   json_t **result, struct ts_client_error *err);
/* The next message of a stream: 0 with *msg, -ETIMEDOUT, or -errno
 * (-ECONNRESET when the daemon closed). */
int ts_client_read(struct ts_client *c, int timeout_ms, json_t **msg);
/* The socket, for poll(). */
int ts_client_fd(const struct ts_client *c);

#endif /* TS_CLIENT_H */
