// SPDX-License-Identifier: MIT
/*
 * The registry survives the daemon: one file per task,
 * STATE_DIR/tasks/<id>.json, written whole (temp file, rename) when
 * the task changes and removed when it ends, so a change costs one task's
 * worth of I/O however many tasks live. STATE_DIR is on a tmpfs (/run)
 * like the pinned maps on bpffs: both vanish at reboot, with the processes
 * they describe.
 *
 * On start the file and the kernel maps are reconciled: live tasks keep
 * their scope; tasks past their deadline, tasks whose members are gone,
 * and anything in the kernel the file does not explain (state, rules,
 * tagged processes) are torn down.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "daemon.h"
#include "ts_log.h"
#include "ts_names.h"
#include "ts_ruleset_json.h"

#define STATE_VERSION 1

static void task_path(struct daemon *d, __u64 id, char *buf, size_t size, const char *suffix)
{
	snprintf(buf, size, "%s/tasks/%016llx.json%s", d->cfg.state_dir, (unsigned long long)id,
		 suffix);
}

static json_t *opt_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *task_state_json(const struct task *t)
{
	json_t *rules = json_array(), *grants = json_array();
	char id[17], parent[17];
	size_t i;

	for (i = 0; i < t->nrules; i++)
		json_array_append_new(rules, json_pack("[I, s]", (json_int_t)t->rules[i].id,
						       t->rules[i].text));
	for (i = 0; i < t->ngrants; i++) {
		const struct grant *g = &t->grants[i];

		json_array_append_new(grants,
				      json_pack("{s:I, s:s, s:I, s:i, s:i}", "id", (json_int_t)g->id,
						"rule", g->text, "expires_ns",
						(json_int_t)g->expires_ns, "uid", (int)g->by_uid,
						"pid", (int)g->by_pid));
	}
	ts_task_id_text(t->id, id);
	ts_task_id_text(t->parent, parent);
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:s, s:b, s:o, s:o, s:o, s:o,"
			 " s:{s:o, s:o, s:o, s:o}, s:I, s:o}",
			 "id", id, "parent", parent, "name", t->name, "policy", t->policy, "owner",
			 (int)t->owner, "deadline_ns", (json_int_t)t->deadline_ns, "started_ms",
			 (json_int_t)t->started_ms, "workdir", t->workdir, "had_members",
			 t->had_members, "ruleset", ts_ruleset_to_json(t->rs), "policy_text",
			 opt_str(t->policy_text), "policy_file", opt_str(t->policy_file), "rules",
			 rules, "vars", "workdir", opt_str(t->vars.workdir), "home",
			 opt_str(t->vars.home), "user", opt_str(t->vars.user), "task_id",
			 opt_str(t->vars.task_id), "next_grant", (json_int_t)t->next_grant,
			 "grants", grants);
}

/* The secrets' names, delivery and revoke command, never their values. */
static json_t *task_state_json_full(const struct task *t)
{
	json_t *o = task_state_json(t);

	json_object_set_new(o, "secrets", secrets_json(t));
	json_object_set_new(o, "secrets_dir_ino", json_integer((json_int_t)t->secrets_dir_ino));
	json_object_set_new(o, "owner_gid", json_integer((json_int_t)t->owner_gid));
	return o;
}

static int secrets_from_json(json_t *v, struct task *t)
{
	json_t *item;
	size_t i;

	if (!v)
		return 0;
	if (!json_is_array(v))
		return -EINVAL;
	t->secrets = calloc(json_array_size(v) + 1, sizeof(*t->secrets));
	if (!t->secrets)
		return -ENOMEM;
	json_array_foreach(v, i, item) {
		struct secret *s = &t->secrets[t->nsecrets];
		const char *name, *revoke = NULL;
		int file, env;
		json_int_t ino;

		if (json_unpack(item, "{s:s, s:b, s:b, s?s, s:I}", "name", &name, "file", &file,
				"env", &env, "revoke", &revoke, "ino", &ino) ||
		    strlen(name) > TS_SECRET_NAME_MAX)
			return -EINVAL;
		memcpy(s->name, name, strlen(name) + 1);
		s->deliver_file = file;
		s->deliver_env = env;
		s->revoke = revoke ? strdup(revoke) : NULL;
		s->ino = (__u64)ino;
		t->nsecrets++;
	}
	return 0;
}

/*
 * Atomically replace `path` with `root`: one write() of the whole text
 * (json_dumpfd would make a syscall per token), then rename(). The rename
 * alone survives a crash of the daemon, which is what the state is for.
 * `durable` adds an fsync for what must also survive a crash of the
 * machine: a reboot ends every task and empties the BPF maps by itself,
 * but not the revocation of secrets a helper minted.
 */
static int write_json_atomic(const char *path, json_t *root, bool durable)
{
	char tmp[PATH_MAX + 80], *text = json_dumps(root, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0;
	int fd = -1, err = 0;

	if (!text)
		return -ENOMEM;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	errno = 0; /* a short write sets none */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || (durable && fsync(fd))) {
		err = errno ? -errno : -EIO;
		ts_err("cannot write state file '%s': %s", tmp, strerror(-err));
	}
	if (fd >= 0)
		close(fd);
	free(text);
	if (!err && rename(tmp, path)) {
		err = -errno;
		ts_err("cannot rename '%s' to '%s': %s", tmp, path, strerror(-err));
	}
	return err;
}

int state_save_task(struct daemon *d, const struct task *t)
{
	char path[PATH_MAX + 64];
	json_t *root = json_pack("{s:i, s:o}", "version", STATE_VERSION, "task",
				 task_state_json_full(t));
	int err;

	if (!root)
		return -ENOMEM;
	task_path(d, t->id, path, sizeof(path), "");
	err = write_json_atomic(path, root, t->nsecrets > 0);
	json_decref(root);
	return err;
}

/* Revoke helpers still to run, so that a restart finishes them. */
int state_save_revokes(struct daemon *d)
{
	char path[PATH_MAX + 32];
	json_t *arr = json_array(), *root;
	size_t i;
	int err;

	for (i = 0; i < d->nrevokes; i++)
		json_array_append_new(arr, revoke_job_json(&d->revokes[i]));
	root = json_pack("{s:i, s:o}", "version", STATE_VERSION, "revokes", arr);
	if (!root)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/revokes.json", d->cfg.state_dir);
	err = write_json_atomic(path, root, true);
	json_decref(root);
	return err;
}

static void load_revokes(struct daemon *d)
{
	char path[PATH_MAX + 32];
	json_t *root, *item;
	size_t i;

	snprintf(path, sizeof(path), "%s/revokes.json", d->cfg.state_dir);
	root = json_load_file(path, 0, NULL);
	json_array_foreach(json_object_get(root, "revokes"), i, item) {
		struct revoke_job j, *bigger;

		if (revoke_job_from_json(item, &j)) {
			ts_err("state file '%s': revoke %zu is malformed", path, i);
			continue;
		}
		bigger = realloc(d->revokes, (d->nrevokes + 1) * sizeof(*bigger));
		if (!bigger) {
			free(j.command);
			break;
		}
		d->revokes = bigger;
		d->revokes[d->nrevokes++] = j;
	}
	json_decref(root);
}

void state_forget_task(struct daemon *d, __u64 id)
{
	char path[PATH_MAX + 64];

	task_path(d, id, path, sizeof(path), "");
	if (unlink(path) && errno != ENOENT)
		ts_err("cannot remove state file '%s': %s", path, strerror(errno));
}

int state_init(struct daemon *d)
{
	char dir[PATH_MAX + 16];

	snprintf(dir, sizeof(dir), "%s/tasks", d->cfg.state_dir);
	if ((mkdir(d->cfg.state_dir, 0755) && errno != EEXIST) ||
	    (mkdir(dir, 0700) && errno != EEXIST)) {
		int err = -errno;

		ts_err("cannot create state directory '%s': %s", dir, strerror(-err));
		return err;
	}
	return 0;
}

static char *dup_opt(json_t *v)
{
	return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

static int grant_from_json(struct task *t, json_t *g, struct grant *out);

/* A task as the state file describes it; -EINVAL when it does not. */
static int task_from_json(json_t *v, struct task **out)
{
	const char *id, *parent, *name, *policy, *workdir;
	json_t *rs, *rules, *vars, *grants, *item;
	json_int_t owner, deadline, started, next_grant = 0;
	int had_members = 0, err;
	json_error_t jerr;
	struct task *t;
	size_t i;

	*out = NULL;
	if (json_unpack_ex(v, &jerr, 0, "{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:b, s:o, s:o, s:o, s?I, s:o}",
			"id", &id, "parent", &parent, "name", &name, "policy", &policy, "owner",
			&owner, "deadline_ns", &deadline, "started_ms", &started, "workdir",
			&workdir, "had_members", &had_members, "ruleset", &rs, "rules", &rules,
			"vars", &vars, "next_grant", &next_grant, "grants", &grants) ||
	    !json_is_array(rules) || !json_is_array(grants) ||
	    strlen(name) > TS_POLICY_NAME_MAX || strlen(policy) > TS_POLICY_NAME_MAX ||
	    strlen(workdir) >= PATH_MAX) {
		ts_err("state file: a task record is malformed: %s", jerr.text);
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	err = ts_task_id_parse(id, &t->id);
	if (!err && strcmp(parent, "0000000000000000"))
		err = ts_task_id_parse(parent, &t->parent);
	if (!err) {
		err = ts_ruleset_from_json(rs, &t->rs);
		if (err)
			ts_err("state file: the rules of task %s are malformed", id);
	}
	if (err)
		goto cleanup;
	memcpy(t->name, name, strlen(name) + 1);
	memcpy(t->policy, policy, strlen(policy) + 1);
	t->workdir = strdup(workdir);
	t->owner = (uid_t)owner;
	t->deadline_ns = (__u64)deadline;
	t->started_ms = (__u64)started;
	t->had_members = had_members;
	t->next_grant = (__u32)next_grant;
	t->policy_text = dup_opt(json_object_get(v, "policy_text"));
	t->policy_file = dup_opt(json_object_get(v, "policy_file"));
	t->vars.workdir = dup_opt(json_object_get(vars, "workdir"));
	t->vars.home = dup_opt(json_object_get(vars, "home"));
	t->vars.user = dup_opt(json_object_get(vars, "user"));
	t->vars.task_id = dup_opt(json_object_get(vars, "task_id"));
	t->rules = calloc(json_array_size(rules) + 1, sizeof(*t->rules));
	t->grants = calloc(json_array_size(grants) + 1, sizeof(*t->grants));
	if (!t->rules || !t->grants || !t->workdir) {
		err = -ENOMEM;
		goto cleanup;
	}
	json_array_foreach(rules, i, item) {
		json_int_t rid;
		const char *text;

		if (json_unpack(item, "[I, s]", &rid, &text)) {
			err = -EINVAL;
			goto cleanup;
		}
		t->rules[t->nrules].id = (__u32)rid;
		t->rules[t->nrules++].text = strdup(text);
	}
	json_array_foreach(grants, i, item) {
		err = grant_from_json(t, item, &t->grants[t->ngrants]);
		if (err)
			goto cleanup;
		t->ngrants++;
	}
	err = secrets_from_json(json_object_get(v, "secrets"), t);
	if (err)
		goto cleanup;
	t->secrets_dir_ino = (__u64)json_integer_value(json_object_get(v, "secrets_dir_ino"));
	t->owner_gid = (gid_t)json_integer_value(json_object_get(v, "owner_gid"));
	*out = t;
	return 0;
cleanup:
	task_free(t);
	return err;
}

/* Grants are stored as asked ("exec:/x") and parsed again. */
static int grant_from_json(struct task *t, json_t *g, struct grant *out)
{
	json_int_t id, expires, uid, pid;
	const char *rule;
	char msg[256];
	struct grant *parsed = NULL;

	(void)t;
	if (json_unpack(g, "{s:I, s:s, s:I, s:I, s:I}", "id", &id, "rule", &rule, "expires_ns",
			&expires, "uid", &uid, "pid", &pid))
		return -EINVAL;
	if (grant_parse(rule, &parsed, msg, sizeof(msg)))
		return -EINVAL;
	*out = *parsed;
	free(parsed);
	out->id = (__u32)id;
	out->expires_ns = (__u64)expires;
	out->by_uid = (uid_t)uid;
	out->by_pid = (pid_t)pid;
	return 0;
}

/* Every task file that parses; the others are reported and left to the
 * orphan sweep (their kernel state has no record, so it is torn down). */
static void load_tasks(struct daemon *d)
{
	char dir[PATH_MAX + 16], path[PATH_MAX + 300];
	struct dirent *de;
	DIR *dh;

	snprintf(dir, sizeof(dir), "%s/tasks", d->cfg.state_dir);
	dh = opendir(dir);
	while (dh && (de = readdir(dh))) {
		json_error_t jerr;
		struct task *t;
		json_t *root;
		size_t n = strlen(de->d_name);

		if (n < 6 || strcmp(de->d_name + n - 5, ".json"))
			continue; /* ".", "..", and a write cut short (.tmp) */
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		root = json_load_file(path, 0, &jerr);
		if (!root || json_integer_value(json_object_get(root, "version")) != STATE_VERSION ||
		    task_from_json(json_object_get(root, "task"), &t)) {
			ts_err("state file '%s' is unreadable or from another version: the task's "
			       "kernel state will be torn down", path);
			json_decref(root);
			unlink(path);
			continue;
		}
		json_decref(root);
		if (task_register(d, t))
			task_free(t);
	}
	if (dh)
		closedir(dh);
}

/* Tear down task `id` in the kernel that the registry does not know. */
static void tear_down_unknown(struct daemon *d, __u64 id, const char *what)
{
	int killed = ts_kernel_revoke(d->k, id);

	ts_warn("tore down %s task %016llx: %d processes killed", what, (unsigned long long)id,
		killed > 0 ? killed : 0);
	events_lifecycle(d, id, "task ended", 3, "task ended: no record of it survived",
			 "\"reason\":\"%s\",\"killed\":%d", what, killed > 0 ? killed : 0);
}

int state_recover(struct daemon *d)
{
	struct ts_member_rec *recs = NULL;
	__u64 *ids = NULL;
	size_t n, i, j;
	struct ts_task kt;
	int err;

	load_revokes(d);
	load_tasks(d);

	/* Kernel state the file does not explain. */
	err = ts_kernel_task_ids(d->k, &ids, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++)
		if (!task_find(d, ids[i]))
			tear_down_unknown(d, ids[i], "orphan");
	free(ids);
	/* Rules and tagged processes of tasks that have no state at all. */
	err = ts_kernel_rule_owners(d->k, &ids, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++)
		if (!task_find(d, ids[i]))
			tear_down_unknown(d, ids[i], "orphan");
	free(ids);
	err = ts_kernel_members(d->k, 0, &recs, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		for (j = 0; j < i && recs[j].task_id != recs[i].task_id; j++)
			;
		if (j == i && !task_find(d, recs[i].task_id))
			tear_down_unknown(d, recs[i].task_id, "orphan");
	}
	free(recs);

	/* Tasks the file knows but the kernel lost: no scope to keep. */
	for (i = 0; i < d->ntasks;) {
		struct task *t = d->tasks[i];

		if (ts_kernel_task_get(d->k, t->id, &kt) == -ENOENT) {
			task_end(d, t, "lost");
			continue; /* the array shifted */
		}
		i++;
	}
	/* The rest keeps its scope, written again in full; then the
	 * deadlines and member checks of a normal sweep. */
	for (i = 0; i < d->ntasks; i++)
		task_sync_kernel(d, d->tasks[i]);
	secrets_reconcile(d);
	tasks_sweep(d);
	return 0;
}
