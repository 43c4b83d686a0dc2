// SPDX-License-Identifier: MIT
/* One readable line for an OCSF event record, for `events` and `audit`. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cli.h"

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static json_t *at(json_t *o, const char *a, const char *b)
{
	return json_object_get(json_object_get(o, a), b);
}

void cli_render_event(FILE *out, json_t *e)
{
	json_t *ts = at(e, "unmapped", "taskscope");
	long long ms = json_integer_value(json_object_get(e, "time"));
	time_t secs = (time_t)(ms / 1000);
	const char *event = str(ts, "event"), *verdict = str(ts, "verdict");
	char when[32], target[512] = "";
	json_t *proc = at(e, "actor", "process");
	struct tm tm;

	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (event) {
		/* A lifecycle record: what happened to the task. */
		const char *key;
		json_t *v;
		size_t used = 0;

		json_object_foreach(ts, key, v) {
			if (!strcmp(key, "task_id") || !strcmp(key, "task_name") ||
			    !strcmp(key, "spiffe_id") || !strcmp(key, "policy") ||
			    !strcmp(key, "mode") || !strcmp(key, "event"))
				continue;
			if (json_is_string(v))
				used += (size_t)snprintf(target + used,
							 used < sizeof(target) ? sizeof(target) - used : 0,
							 "%s=%s ", key, json_string_value(v));
			else if (json_is_integer(v) || json_is_boolean(v))
				used += (size_t)snprintf(target + used,
							 used < sizeof(target) ? sizeof(target) - used : 0,
							 "%s=%lld ", key,
							 json_is_integer(v) ? json_integer_value(v)
									    : (long long)json_is_true(v));
		}
		fprintf(out, "%s.%03lld  %-16s %s  %-12s %s\n", when, ms % 1000,
			str(ts, "task_id") ?: "-", str(ts, "task_name") ?: "", event, target);
		return;
	}
	if (at(e, "file", "path"))
		snprintf(target, sizeof(target), "%s", json_string_value(at(e, "file", "path")));
	else if (json_object_get(json_object_get(e, "process"), "file"))
		snprintf(target, sizeof(target), "%s",
			 json_string_value(at(json_object_get(e, "process"), "file", "path")));
	else if (at(e, "dst_endpoint", "ip"))
		snprintf(target, sizeof(target), "%s port %lld",
			 json_string_value(at(e, "dst_endpoint", "ip")),
			 json_integer_value(at(e, "dst_endpoint", "port")));
	else if (str(ts, "socket_path"))
		snprintf(target, sizeof(target), "unix %s", str(ts, "socket_path"));
	else if (at(e, "process", "pid"))
		snprintf(target, sizeof(target), "pid %lld",
			 json_integer_value(at(e, "process", "pid")));
	fprintf(out, "%s.%03lld  %-16s %-5s %-8s %-40s pid %lld %s  %s%s\n", when, ms % 1000,
		str(ts, "task_id") ?: "-", verdict ?: "?", str(ts, "op") ?: "?", target,
		json_integer_value(json_object_get(proc, "pid")), str(proc, "name") ?: "",
		str(ts, "rule") ? "rule " : "", str(ts, "rule") ?: str(ts, "reason") ?: "");
}
