// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>
#include "ts_proto.h"

json_t *ts_proto_result(json_t *id, json_t *result)
{
	return json_pack("{s:O?, s:o}", "id", id, "result", result ? result : json_object());
}

json_t *ts_proto_error(json_t *id, int code, const char *message, json_t *data)
{
	json_t *err = json_pack("{s:i, s:s}", "code", code, "message", message);

	if (err && data)
		json_object_set_new(err, "data", data);
	else
		json_decref(data);
	return json_pack("{s:O?, s:o}", "id", id, "error", err);
}

char *ts_proto_line(json_t *msg, size_t *len)
{
	char *s = json_dumps(msg, JSON_COMPACT | JSON_ENSURE_ASCII);
	size_t n;
	char *line;

	if (!s)
		return NULL;
	n = strlen(s);
	line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	*len = n + 1;
	return line;
}
