// SPDX-License-Identifier: MIT
/*
 * What clients may ask, and who may ask it. A caller is known by
 * SO_PEERCRED, a pidfd taken at connect, and its task tag:
 *   untagged root or taskscope group  everything
 *   a member of a task                start sub-tasks (intersected with its
 *                                     own scope), enroll its own processes
 *                                     into its subtree, end, list, show and
 *                                     watch its own subtree
 *   anyone else                       nothing
 * Every refusal is answered with TS_E_PERM and logged as an event.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "client.h"
#include "daemon.h"
#include "ts_duration.h"
#include "ts_names.h"
#include "ts_proto.h"

typedef json_t *(*method_fn)(struct daemon *d, struct client *c, json_t *id, json_t *params);

static json_t *refuse(struct daemon *d, struct client *c, json_t *id, const char *method,
		      const char *why)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "permission denied: %s", why);
	events_lifecycle(d, c->tag, "control denied", 3, msg,
			 "\"method\":\"%s\",\"caller_uid\":%u,\"caller_pid\":%d", method,
			 (unsigned int)c->cred.uid, (int)c->cred.pid);
	return ts_proto_error(id, TS_E_PERM, msg, NULL);
}

static json_t *bad_params(json_t *id, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static json_t *bad_params(json_t *id, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ts_proto_error(id, TS_E_PARAMS, msg, NULL);
}

/* The task named by params.task, or an error response in *err. */
static struct task *param_task(struct daemon *d, json_t *id, json_t *params, json_t **err)
{
	const char *text = json_string_value(json_object_get(params, "task"));
	struct task *t;
	__u64 tid;

	*err = NULL;
	if (!text || ts_task_id_parse(text, &tid)) {
		*err = bad_params(id, "\"task\" must be a task id (16 hex digits)");
		return NULL;
	}
	t = task_find(d, tid);
	if (!t) {
		char msg[64];

		snprintf(msg, sizeof(msg), "no task %016llx", (unsigned long long)tid);
		*err = ts_proto_error(id, TS_E_NOTFOUND, msg, NULL);
	}
	return t;
}

/* May the caller act on task `t`: privileged, or `t` is in its subtree. */
static bool may_touch(struct daemon *d, struct client *c, const struct task *t)
{
	return c->privileged || (c->tag && task_in_subtree(d, t->id, c->tag));
}

static json_t *m_version(struct daemon *d, struct client *c, json_t *id, json_t *params)
{
	(void)d;
	(void)c;
	(void)params;
	return ts_proto_result(id, json_pack("{s:s, s:i}", "version", TASKSCOPE_VERSION, "api", 1));
}

static json_t *m_start(struct daemon *d, struct client *c, json_t *id, json_t *params)
{
	const char *policy = json_string_value(json_object_get(params, "policy"));
	const char *file = json_string_value(json_object_get(params, "policy_file"));
	const char *name = json_string_value(json_object_get(params, "name"));
	const char *ttl = json_string_value(json_object_get(params, "ttl"));
	const char *workdir = json_string_value(json_object_get(params, "workdir"));
	bool want_env = json_is_true(json_object_get(params, "deliver_env"));
	json_t *data = NULL, *r, *env = NULL;
	struct task *t;
	__u64 ttl_ns = 0;
	char msg[512];
	int code;

	if (!c->privileged && !c->tag)
		return refuse(d, c, id, "start",
			      "only root and the taskscope group may start tasks");
	if (c->tag && !task_find(d, c->tag))
		return ts_proto_error(id, TS_E_STATE, "the caller's task is ending", NULL);
	if (!policy)
		return bad_params(id, "\"policy\" (the policy's JSON text) is required");
	if (!workdir)
		return bad_params(id, "\"workdir\" is required");
	if (name && strlen(name) > TS_POLICY_NAME_MAX)
		return bad_params(id, "\"name\" is longer than %d bytes", TS_POLICY_NAME_MAX);
	if (ttl && ts_duration_parse(ttl, &ttl_ns))
		return bad_params(id, "bad ttl '%s': write counts with units d, h, m, s", ttl);
	/* A member's task is a sub-task of its own: never a sibling. */
	if (task_start(d, policy, file, name, ttl_ns, workdir, c->cred.uid, c->tag, want_env, &env,
		       &t, &code, msg, sizeof(msg), &data))
		return ts_proto_error(id, code, msg, data);
	r = task_json(d, t, false);
	if (t->nsecrets) {
		char dir[PATH_MAX + 32];

		snprintf(dir, sizeof(dir), "%s/%016llx", d->cfg.secrets_dir,
			 (unsigned long long)t->id);
		json_object_set_new(r, "secrets_dir", json_string(dir));
	}
	/* Only to the caller that starts the task, only when asked. */
	if (env)
		json_object_set_new(r, "env", env);
	return ts_proto_result(id, r);
}

static json_t *m_enroll(struct daemon *d, struct client *c, json_t *id, json_t *params)
{
	json_int_t pid = json_integer_value(json_object_get(params, "pid"));
	json_t *err;
	struct task *t = param_task(d, id, params, &err);
	char tid[17];
	__u64 current = 0;
	int pidfd, n;

	if (!t)
		return err;
	if (pid <= 0 || pid > 0x7fffffff)
		return bad_params(id, "\"pid\" must be a process id");
	if (!may_touch(d, c, t))
		return refuse(d, c, id, "enroll", "the task is outside the caller's own");
	pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pidfd < 0)
		return ts_proto_error(id, TS_E_NOTFOUND, "no such process", NULL);
	ts_kernel_member_of(d->k, pidfd, &current);
	close(pidfd);
	/* A member may move only its own processes, and only deeper. */
	if (!c->privileged && !(current && task_in_subtree(d, current, c->tag)))
		return refuse(d, c, id, "enroll", "a member may enroll only its own processes");
	n = ts_kernel_enroll_pid(d->k, t->id, (pid_t)pid);
	if (n < 0)
		return ts_proto_error(id, TS_E_KERNEL, "the kernel refused to tag the process", NULL);
	/* The state records only that the task ever had members. */
	if (!t->had_members) {
		t->had_members = true;
		state_save_task(d, t);
	}
	events_lifecycle(d, t->id, "process enrolled", 1, "process enrolled",
			 "\"pid\":%d,\"threads\":%d,\"by_uid\":%u", (int)pid, n,
			 (unsigned int)c->cred.uid);
	ts_task_id_text(t->id, tid);
	return ts_proto_result(id, json_pack("{s:s, s:I, s:i}", "task", tid, "pid", pid,
					     "threads", n));
}

static json_t *m_end(struct daemon *d, struct client *c, json_t *id, json_t *params)
{
	json_t *err;
	struct task *t = param_task(d, id, params, &err);
	char tid[17];
	int killed;

	if (!t)
		return err;
	if (!may_touch(d, c, t))
		return refuse(d, c, id, "end", "the task is outside the caller's own");
	ts_task_id_text(t->id, tid);
	killed = task_end(d, t, "revoked");
	return ts_proto_result(id, json_pack("{s:s, s:i}", "task", tid, "killed", killed));
}

static json_t *m_list(struct daemon *d, struct client *c, json_t *id, json_t *params)
{
	json_t *arr = json_array();
	size_t i;

	(void)params;
	if (!c->privileged && !c->tag)
		return refuse(d, c, id, "list", "only root, the taskscope group and members may list");
	for (i = 0; i < d->ntasks; i++)
		if (may_touch(d, c, d->tasks[i]))
			json_array_append_new(arr, task_json(d, d->tasks[i], false));
	return ts_proto_result(id, json_pack("{s:o}", "tasks", arr));
}

static json_t *m_show(struct daemon *d, struct client *c, json_t *id, json_t *params)
{
	json_t *err;
	struct task *t = param_task(d, id, params, &err);

	if (!t)
		return err;
	if (!may_touch(d, c, t))
		return refuse(d, c, id, "show", "the task is outside the caller's own");
	return ts_proto_result(id, task_json(d, t, true));
}

static json_t *m_grant(struct daemon *d, struct client *c, json_t *id, json_t *params)
{
	const char *rule = json_string_value(json_object_get(params, "rule"));
	const char *dur = json_string_value(json_object_get(params, "for"));
	json_t *err;
	struct task *t;
	struct grant *g;
	__u64 for_ns;
	char msg[512];

	if (!c->privileged)
		return refuse(d, c, id, "grant", "only root and the taskscope group may grant");
	t = param_task(d, id, params, &err);
	if (!t)
		return err;
	if (!rule)
		return bad_params(id, "\"rule\" is required, e.g. \"exec:/usr/bin/terraform\"");
	if (!dur || ts_duration_parse(dur, &for_ns))
		return bad_params(id, "\"for\" must be a duration such as \"10m\"");
	if (for_ns > d->cfg.max_ttl_ns)
		return ts_proto_error(id, TS_E_LIMIT, "a grant may not outlast the daemon's max_ttl",
				      NULL);
	if (task_grant(d, t, rule, for_ns, c->cred.uid, c->cred.pid, &g, msg, sizeof(msg)))
		return ts_proto_error(id, TS_E_PARAMS, msg, NULL);
	return ts_proto_result(id, json_pack("{s:I, s:s, s:I}", "grant", (json_int_t)g->id, "rule",
					     g->text, "expires_in_s",
					     (json_int_t)(for_ns / TS_NSEC_PER_SEC)));
}

static json_t *m_events(struct daemon *d, struct client *c, json_t *id, json_t *params)
{
	json_int_t max = json_integer_value(json_object_get(params, "history"));
	bool follow = json_is_true(json_object_get(params, "follow"));
	struct task *t = NULL;
	json_t *err;

	if (json_object_get(params, "task")) {
		t = param_task(d, id, params, &err);
		if (!t)
			return err;
	}
	if (!c->privileged && !c->tag)
		return refuse(d, c, id, "events",
			      "only root, the taskscope group and members may watch events");
	if (t && !may_touch(d, c, t))
		return refuse(d, c, id, "events", "the task is outside the caller's own");
	if (max <= 0 || max > HISTORY)
		max = HISTORY;
	c->streaming = follow;
	c->stream_task = t ? t->id : c->privileged ? 0 : c->tag;
	return ts_proto_result(id, json_pack("{s:b, s:o}", "streaming", follow, "history",
					     events_history(d, t ? t->id : 0,
							    c->privileged ? 0 : c->tag,
							    (size_t)max)));
}

static json_t *m_stats(struct daemon *d, struct client *c, json_t *id, json_t *params)
{
	json_t *s;
	size_t i;
	__u64 dropped = 0;

	(void)params;
	if (!c->privileged)
		return refuse(d, c, id, "stats", "only root and the taskscope group may read stats");
	s = events_stats(d);
	for (i = 0; i < d->nclients; i++)
		dropped += d->clients[i]->dropped;
	json_object_set_new(s, "subscriber_dropped", json_integer((json_int_t)dropped));
	json_object_set_new(s, "tasks", json_integer((json_int_t)d->ntasks));
	return ts_proto_result(id, s);
}

static const struct {
	const char *name;
	method_fn fn;
} methods[] = {
	{ "version", m_version }, { "start", m_start }, { "enroll", m_enroll },
	{ "end", m_end },         { "list", m_list },   { "show", m_show },
	{ "grant", m_grant },     { "events", m_events }, { "stats", m_stats },
};

json_t *methods_call(struct daemon *d, struct client *c, json_t *req)
{
	json_t *id, *params;
	const char *method;
	size_t i;

	if (!json_is_object(req))
		return ts_proto_error(NULL, TS_E_REQUEST, "a request is a JSON object", NULL);
	id = json_object_get(req, "id");
	method = json_string_value(json_object_get(req, "method"));
	params = json_object_get(req, "params");
	if (!method)
		return ts_proto_error(id, TS_E_REQUEST, "\"method\" is required", NULL);
	if (params && !json_is_object(params))
		return ts_proto_error(id, TS_E_PARAMS, "\"params\" must be an object", NULL);
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!strcmp(methods[i].name, method)) {
			json_t *empty = params ? NULL : json_object();
			json_t *r = methods[i].fn(d, c, id, params ? params : empty);

			json_decref(empty);
			return r;
		}
	{
		char msg[160];

		snprintf(msg, sizeof(msg), "unknown method '%.100s'", method);
		return ts_proto_error(id, TS_E_METHOD, msg, NULL);
	}
}
