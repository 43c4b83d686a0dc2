/* SPDX-License-Identifier: MIT */
/*
 * The control protocol between taskscope and taskscoped: one JSON object
 * per line over a Unix stream socket.
 *   request   {"id": N, "method": "start", "params": {...}}
 *   response  {"id": N, "result": {...}}
 *          or {"id": N, "error": {"code": C, "message": "...", "data": ...}}
 * A stream (method "events") answers with a result, then one
 * {"event": {...}} line per event until either side closes.
 * Methods and parameters are documented in README.md.
 */
#ifndef TS_PROTO_H
#define TS_PROTO_H

#include <jansson.h>

#define TS_CONTROL_SOCKET "/run/taskscope/control.sock"
/* A request line longer than this is refused and the connection closed. */
#define TS_PROTO_MAX_LINE (256 * 1024)

enum ts_proto_code {
	TS_E_PARSE = -32700,   /* not JSON */
	TS_E_REQUEST = -32600, /* JSON, but not a request */
	TS_E_METHOD = -32601,  /* unknown method */
	TS_E_PARAMS = -32602,  /* bad or missing parameters */
	TS_E_INTERNAL = -32603,
	TS_E_PERM = 1,     /* the caller may not do this */
	TS_E_NOTFOUND = 2, /* no such task */
	TS_E_POLICY = 3,   /* the policy is invalid: data lists the errors */
	TS_E_LIMIT = 4,    /* a limit was reached (tasks, ttl, clients) */
	TS_E_STATE = 5,    /* the task cannot do this now */
	TS_E_TOOLONG = 6,  /* the request line is too long */
	TS_E_KERNEL = 7,   /* the kernel refused */
};

json_t *ts_proto_result(json_t *id, json_t *result);
json_t *ts_proto_error(json_t *id, int code, const char *message, json_t *data);
/* One line: compact JSON and '\n' (malloc'd), or NULL. */
char *ts_proto_line(json_t *msg, size_t *len);

#endif /* TS_PROTO_H */
