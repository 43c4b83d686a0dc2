// SPDX-License-Identifier: MIT
/* The task registry and a task's life: start, grants, sync, end. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include "daemon.h"
#include "ts_apply.h"
#include "ts_duration.h"
#include "ts_keys.h"
#include "ts_log.h"
#include "ts_names.h"
#include "ts_proto.h"
#include "ts_target.h"

__u64 now_boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (__u64)ts.tv_sec * TS_NSEC_PER_SEC + (__u64)ts.tv_nsec;
}

__u64 now_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

/* --- the registry ------------------------------------------------------ */

struct task *task_find(struct daemon *d, __u64 id)
{
	static struct task *last;
	size_t i;

	/* Events come in runs from one task. */
	for (i = 0; last && i < d->ntasks; i++)
		if (d->tasks[i] == last)
			break;
	if (last && i < d->ntasks && last->id == id)
		return last;
	for (i = 0; i < d->ntasks; i++)
		if (d->tasks[i]->id == id)
			return last = d->tasks[i];
	return NULL;
}

struct task **task_all(struct daemon *d, size_t *count)
{
	*count = d->ntasks;
	return d->tasks;
}

bool task_in_subtree(struct daemon *d, __u64 id, __u64 ancestor)
{
	unsigned int depth;

	for (depth = 0; id && depth < 64; depth++) {
		struct task *t = task_find(d, id);

		if (id == ancestor)
			return true;
		if (!t)
			return false;
		id = t->parent;
	}
	return false;
}

int task_register(struct daemon *d, struct task *t)
{
	if (d->ntasks == d->cap_tasks) {
		size_t cap = d->cap_tasks ? 2 * d->cap_tasks : 64;
		struct task **bigger = realloc(d->tasks, cap * sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		d->tasks = bigger;
		d->cap_tasks = cap;
	}
	d->tasks[d->ntasks++] = t;
	return 0;
}

static void task_unregister(struct daemon *d, struct task *t)
{
	size_t i;

	for (i = 0; i < d->ntasks; i++)
		if (d->tasks[i] == t) {
			memmove(&d->tasks[i], &d->tasks[i + 1], (d->ntasks - i - 1) * sizeof(t));
			d->ntasks--;
			return;
		}
}

void task_free(struct task *t)
{
	size_t i;

	if (!t)
		return;
	ts_ruleset_free(t->rs);
	free(t->policy_text);
	free(t->policy_file);
	free(t->workdir);
	free((char *)t->vars.workdir);
	free((char *)t->vars.home);
	free((char *)t->vars.user);
	free((char *)t->vars.task_id);
	for (i = 0; i < t->nrules; i++)
		free(t->rules[i].text);
	free(t->rules);
	for (i = 0; i < t->ngrants; i++)
		free(t->grants[i].text);
	free(t->grants);
	free(t->grant_paths);
	free(t->written_nets);
	for (i = 0; i < t->nsecrets; i++)
		free(t->secrets[i].revoke);
	free(t->secrets);
	free(t);
}

static __u64 new_task_id(struct daemon *d)
{
	struct ts_task kt;
	__u64 id;

	do {
		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			id = (__u64)now_boot_ns() * 0x9e3779b97f4a7c15ull;
	} while (!id || task_find(d, id) || !ts_kernel_task_get(d->k, id, &kt));
	return id;
}

const char *task_rule_text(struct daemon *d, const struct task *t, __u32 id)
{
	size_t i;

	if (!id)
		return NULL;
	if (id & TS_RULE_ID_GRANT) {
		for (i = 0; i < t->ngrants; i++)
			if (t->grants[i].id == id)
				return t->grants[i].text;
		return NULL;
	}
	if (id & TS_RULE_ID_PARENT) {
		struct task *p = task_find(d, t->parent);

		return p ? task_rule_text(d, p, id & ~TS_RULE_ID_PARENT) : NULL;
	}
	/* Ids are 1..n in order. */
	return id <= t->nrules && t->rules[id - 1].id == id ? t->rules[id - 1].text : NULL;
}

/* --- starting ---------------------------------------------------------- */

static int fail(int *code, int c, char *msg, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int fail(int *code, int c, char *msg, size_t size, const char *fmt, ...)
{
	va_list ap;

	*code = c;
	va_start(ap, fmt);
	vsnprintf(msg, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int set_vars(struct task *t, const char *workdir, uid_t owner, char *msg, size_t size,
		    int *code)
{
	char real[PATH_MAX], id[17], buf[4096];
	struct passwd pw, *res = NULL;
	struct stat st;

	if (!workdir || workdir[0] != '/')
		return fail(code, TS_E_PARAMS, msg, size, "workdir must be an absolute path");
	if (!realpath(workdir, real) || stat(real, &st) || !S_ISDIR(st.st_mode))
		return fail(code, TS_E_PARAMS, msg, size, "workdir '%s' is not a directory: %s",
			    workdir, strerror(errno ? errno : ENOTDIR));
	t->workdir = strdup(real);
	ts_task_id_text(t->id, id);
	t->vars.workdir = strdup(real);
	t->vars.task_id = strdup(id);
	if (!getpwuid_r(owner, &pw, buf, sizeof(buf), &res) && res) {
		t->vars.home = strdup(pw.pw_dir);
		t->vars.user = strdup(pw.pw_name);
	}
	if (!t->workdir || !t->vars.workdir || !t->vars.task_id)
		return fail(code, TS_E_INTERNAL, msg, size, "out of memory");
	return 0;
}

static int rule_table(struct task *t, const struct ts_policy *p)
{
	size_t i;

	t->rules = calloc(p->count + 1, sizeof(*t->rules));
	if (!t->rules)
		return -ENOMEM;
	for (i = 0; i < p->count; i++) {
		const struct ts_policy_entry *e = &p->entries[i];

		t->rules[i].id = e->rule_id;
		if (asprintf(&t->rules[i].text, "%s %s", e->json_path, e->text) < 0)
			return -ENOMEM;
		t->nrules++;
	}
	return 0;
}

/* Parse and compile `t`'s policy as it stands; for a sub-task, intersect
 * with the parent's current rules. */
static int compile_task(struct daemon *d, struct task *t, struct ts_policy **policy,
			struct ts_ruleset **out, struct ts_diag *diag, char *msg, size_t size,
			int *code)
{
	struct ts_ruleset *rs = NULL, *both;
	struct task *parent;
	int err;

	*out = NULL;
	err = ts_policy_parse(diag->file, t->policy_text, strlen(t->policy_text), diag, policy);
	if (!err)
		err = ts_policy_compile(*policy, &t->vars, ts_resolve_system, NULL, diag, &rs);
	if (err)
		return fail(code, err == -ENOMEM ? TS_E_INTERNAL : TS_E_POLICY, msg, size,
			    "policy '%s' is invalid: %zu errors", diag->file, diag->count);
	if (!(*policy)->log_given)
		rs->log_allow = d->cfg.default_log_allow;
	if (!t->parent) {
		*out = rs;
		return 0;
	}
	parent = task_find(d, t->parent);
	err = parent ? ts_ruleset_intersect(parent->rs, rs, &both) : -ESRCH;
	ts_ruleset_free(rs);
	if (err)
		return fail(code, err == -E2BIG ? TS_E_POLICY : TS_E_STATE, msg, size,
			    err == -E2BIG ? "the sub-task's networks need more than %d port ranges"
					  : "the parent task is gone (%d)",
			    err == -E2BIG ? TS_NET_PORTS : err);
	*out = both;
	return 0;
}

static int choose_deadline(struct daemon *d, struct task *t, __u64 ttl_ns, const char *name,
			   char *msg, size_t size, int *code)
{
	char a[32], b[32];
	__u64 ttl = ttl_ns ? ttl_ns : t->rs->ttl_ns ? t->rs->ttl_ns : d->cfg.default_ttl_ns;
	struct task *parent = t->parent ? task_find(d, t->parent) : NULL;

	if (ttl > d->cfg.max_ttl_ns) {
		ts_duration_format(ttl, a, sizeof(a));
		ts_duration_format(d->cfg.max_ttl_ns, b, sizeof(b));
		return fail(code, TS_E_LIMIT, msg, size,
			    "ttl %s of task '%s' is longer than the daemon's max_ttl %s", a, name,
			    b);
	}
	t->deadline_ns = now_boot_ns() + ttl;
	/* A sub-task never outlives its parent. */
	if (parent && parent->deadline_ns && parent->deadline_ns < t->deadline_ns)
		t->deadline_ns = parent->deadline_ns;
	return 0;
}

int task_start(struct daemon *d, const char *policy_text, const char *policy_file,
	       const char *name, __u64 ttl_ns, const char *workdir, uid_t owner, __u64 parent,
	       bool want_env, json_t **env, struct task **out, int *code, char *msg,
	       size_t msg_size, json_t **data)
{
	struct ts_policy *policy = NULL;
	struct ts_diag diag;
	struct ts_task kt;
	struct task *t;
	char ttl_text[32];
	int err;

	*out = NULL;
	*data = NULL;
	*env = NULL;
	if (d->ntasks >= d->cfg.max_tasks)
		return fail(code, TS_E_LIMIT, msg, msg_size, "%u tasks already: the daemon's limit",
			    d->cfg.max_tasks);
	t = calloc(1, sizeof(*t));
	if (!t)
		return fail(code, TS_E_INTERNAL, msg, msg_size, "out of memory");
	t->id = new_task_id(d);
	t->parent = parent;
	t->owner = owner;
	t->started_ms = now_real_ms();
	t->policy_text = strdup(policy_text);
	t->policy_file = strdup(policy_file ? policy_file : "policy");
	if (!t->policy_text || !t->policy_file) {
		err = fail(code, TS_E_INTERNAL, msg, msg_size, "out of memory");
		goto cleanup;
	}
	err = set_vars(t, workdir, owner, msg, msg_size, code);
	if (err)
		goto cleanup;
	ts_diag_init(&diag, t->policy_file);
	err = compile_task(d, t, &policy, &t->rs, &diag, msg, msg_size, code);
	if (err) {
		*data = ts_diag_json(&diag);
		ts_diag_free(&diag);
		goto cleanup;
	}
	ts_diag_free(&diag);
	snprintf(t->name, sizeof(t->name), "%s", name && *name ? name : policy->name);
	snprintf(t->policy, sizeof(t->policy), "%s", policy->name);
	if (rule_table(t, policy)) {
		err = fail(code, TS_E_INTERNAL, msg, msg_size, "out of memory");
		goto cleanup;
	}
	err = choose_deadline(d, t, ttl_ns, t->name, msg, msg_size, code);
	if (err)
		goto cleanup;
	/* Rules first, state last: a member can act only once both exist.
	 * task_sync_kernel writes each rule once and records the keys that
	 * the end deletes. */
	ts_ruleset_task_state(t->rs, t->deadline_ns, &kt);
	err = task_sync_kernel(d, t);
	if (!err)
		err = ts_kernel_task_set(d->k, t->id, &kt);
	if (err) {
		ts_kernel_revoke(d->k, t->id);
		err = fail(code, TS_E_KERNEL, msg, msg_size, "the kernel refused the task's rules: %s",
			   strerror(-err));
		goto cleanup;
	}
	err = secrets_start(d, t, policy, want_env, env, msg, msg_size);
	if (err) {
		ts_kernel_revoke(d->k, t->id);
		*code = err == -ENOMEM ? TS_E_INTERNAL : TS_E_POLICY;
		goto cleanup;
	}
	err = task_register(d, t);
	if (err) {
		secrets_end(d, t);
		ts_kernel_revoke(d->k, t->id);
		json_decref(*env);
		*env = NULL;
		err = fail(code, TS_E_INTERNAL, msg, msg_size, "out of memory");
		goto cleanup;
	}
	ts_policy_free(policy);
	state_save_task(d, t);
	ts_duration_format(t->deadline_ns - now_boot_ns() + TS_NSEC_PER_SEC / 2, ttl_text,
			   sizeof(ttl_text));
	{
		char pid[17];

		ts_task_id_text(t->parent, pid);
		events_lifecycle(d, t->id, "task started", 1, "task started",
				 "\"owner_uid\":%u,\"ttl\":\"%s\",\"parent_task_id\":\"%s\","
				 "\"path_rules\":%zu,\"net_rules\":%zu",
				 (unsigned int)owner, ttl_text, t->parent ? pid : "", t->rs->npaths,
				 t->rs->nnets);
	}
	*out = t;
	return 0;
cleanup:
	ts_policy_free(policy);
	task_free(t);
	return err;
}

/* --- ending ------------------------------------------------------------ */

/* Every key the daemon wrote for `t`: no walk over other tasks' rules. */
static void delete_rules(struct daemon *d, const struct task *t)
{
	size_t i;

	for (i = 0; i < t->rs->npaths; i++)
		ts_kernel_path_rule_delete(d->k, t->id, t->rs->paths[i].path);
	for (i = 0; i < t->ngrant_paths; i++)
		ts_kernel_path_rule_delete(d->k, t->id, t->grant_paths[i]);
	for (i = 0; i < t->nwritten_nets; i++)
		ts_kernel_net_rule_delete(d->k, t->id, t->written_nets[i].addr,
					  t->written_nets[i].bits);
}

int task_end(struct daemon *d, struct task *t, const char *reason)
{
	__u64 id = t->id, *children = NULL;
	size_t nchildren = 0, i;
	int killed = 0, r;

	/* Sub-tasks first: they live inside this one. */
	for (i = 0; i < d->ntasks; i++)
		if (d->tasks[i]->parent == id) {
			__u64 *bigger = realloc(children, (nchildren + 1) * sizeof(*children));

			if (!bigger)
				break;
			children = bigger;
			children[nchildren++] = d->tasks[i]->id;
		}
	for (i = 0; i < nchildren; i++) {
		struct task *c = task_find(d, children[i]);

		if (c) {
			r = task_end(d, c, "parent ended");
			killed += r > 0 ? r : 0;
		}
	}
	free(children);
	t = task_find(d, id);
	if (!t)
		return killed;
	r = ts_kernel_revoke_flags(d->k, id, TS_REVOKE_KEEP_RULES);
	delete_rules(d, t);
	secrets_end(d, t); /* its processes are gone: now its secrets */
	if (r == -EBUSY)
		ts_err("task %016llx: members survived revocation; it stays revoked",
		       (unsigned long long)id);
	killed += r > 0 ? r : 0;
	events_lifecycle(d, id, "task ended", r < 0 ? 4 : 1, "task ended",
			 "\"reason\":\"%s\",\"killed\":%d%s", reason, r > 0 ? r : 0,
			 r == -EBUSY ? ",\"survivors\":true" : "");
	task_unregister(d, t);
	task_free(t);
	state_forget_task(d, id);
	return killed;
}

/* --- grants ------------------------------------------------------------ */

/* "exec:/usr/bin/terraform", "read:/etc/x", "write:/srv/out/",
 * "connect:10.0.0.5:443", "connect:unix:/run/x.sock". */
int grant_parse(const char *rule, struct grant **out, char *msg, size_t size)
{
	static const struct {
		const char *prefix;
		__u32 access;
	} kinds[] = {
		{ "exec:", TS_ACCESS_EXEC },
		{ "read:", TS_ACCESS_READ },
		{ "write:", TS_ACCESS_READ | TS_ACCESS_WRITE },
		{ "connect:", TS_ACCESS_CONNECT },
	};
	struct grant *g = calloc(1, sizeof(*g));
	struct ts_target target;
	const char *rest = NULL;
	char why[256];
	size_t i;

	*out = NULL;
	if (!g)
		return -ENOMEM;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strncmp(rule, kinds[i].prefix, strlen(kinds[i].prefix))) {
			rest = rule + strlen(kinds[i].prefix);
			g->access = kinds[i].access;
			break;
		}
	if (!rest) {
		snprintf(msg, size, "grant '%s': write exec:PATH, read:PATH, write:PATH or "
				    "connect:TARGET", rule);
		goto invalid;
	}
	if (g->access == TS_ACCESS_CONNECT) {
		if (ts_target_parse(rest, &target, why, sizeof(why))) {
			snprintf(msg, size, "grant '%s': %s", rule, why);
			goto invalid;
		}
		if (target.kind == TS_TARGET_HOST) {
			snprintf(msg, size, "grant '%s': grant an address, not a host name", rule);
			goto invalid;
		}
		if (target.kind == TS_TARGET_CIDR) {
			g->net = true;
			memcpy(g->addr, target.addr, 16);
			g->bits = target.bits;
			g->lo = target.port_lo;
			g->hi = target.port_hi;
		} else {
			rest = target.unix_path;
		}
	}
	if (!g->net) {
		if (ts_path_template_check(rest, g->access == TS_ACCESS_CONNECT, why, sizeof(why)) ||
		    ts_path_has_vars(rest)) {
			snprintf(msg, size, "grant '%s': %s", rule,
				 ts_path_has_vars(rest) ? "variables are for policies" : why);
			goto invalid;
		}
		memcpy(g->path, rest, strlen(rest) + 1);
	}
	g->text = strdup(rule);
	if (!g->text) {
		free(g);
		return -ENOMEM;
	}
	*out = g;
	return 0;
invalid:
	free(g);
	return -EINVAL;
}

int task_grant(struct daemon *d, struct task *t, const char *rule, __u64 for_ns, uid_t uid,
	       pid_t pid, struct grant **out, char *msg, size_t msg_size)
{
	struct grant *g, *bigger;
	char dur[32], text[600];
	int err;

	*out = NULL;
	err = grant_parse(rule, &g, msg, msg_size);
	if (err)
		return err;
	bigger = realloc(t->grants, (t->ngrants + 1) * sizeof(*bigger));
	if (!bigger) {
		free(g->text);
		free(g);
		return -ENOMEM;
	}
	t->grants = bigger;
	g->id = TS_RULE_ID_GRANT | ++t->next_grant;
	g->expires_ns = now_boot_ns() + for_ns;
	g->by_uid = uid;
	g->by_pid = pid;
	t->grants[t->ngrants++] = *g;
	free(g);
	err = task_sync_kernel(d, t);
	if (err) {
		t->ngrants--;
		free(t->grants[t->ngrants].text);
		task_sync_kernel(d, t);
		snprintf(msg, msg_size, "the kernel refused the grant: %s", strerror(-err));
		return err;
	}
	*out = &t->grants[t->ngrants - 1];
	ts_duration_format(for_ns, dur, sizeof(dur));
	ts_json_escape(text, sizeof(text), rule, strlen(rule), NULL);
	events_lifecycle(d, t->id, "grant", 2, "time-boxed grant added",
			 "\"rule\":\"%s\",\"grant_id\":%u,\"for\":\"%s\",\"granted_by_uid\":%u,"
			 "\"granted_by_pid\":%d",
			 text, (*out)->id, dur, (unsigned int)uid, (int)pid);
	state_save_task(d, t);
	return 0;
}

/* --- the kernel's copy ------------------------------------------------- */

static bool is_rule_path(const struct ts_ruleset *rs, const char *path)
{
	const struct ts_rs_path *m = ts_ruleset_path_match(rs, path);

	return m && !strcmp(m->path, path);
}

/* A path grant: the grant's access on top of what applies there, and
 * what applies there once it expires. */
static void grant_path_rule(const struct task *t, const char *path, struct ts_path_rule *r)
{
	const struct ts_rs_path *base = ts_ruleset_path_match(t->rs, path);
	__u64 expires = 0;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (base)
		r->after = base->v;
	r->after.flags = ts_path_is_dir(path) ? 0 : TS_RULE_F_EXACT;
	r->now = r->after;
	r->now.action = TS_ACTION_ALLOW;
	if (!base || base->v.action != TS_ACTION_ALLOW)
		r->now.access = 0;
	for (i = 0; i < t->ngrants; i++) {
		const struct grant *g = &t->grants[i];

		if (g->net || strcmp(g->path, path))
			continue;
		r->now.access |= (__u8)g->access;
		r->now.rule_id = g->id;
		/* Several grants on one key share the earliest expiry. */
		if (!expires || g->expires_ns < expires)
			expires = g->expires_ns;
	}
	r->expires_ns = expires;
}

static bool same_net(const __u8 a[16], unsigned int abits, const __u8 b[16], unsigned int bbits)
{
	return abits == bbits && !memcmp(a, b, 16);
}

/* The network rule wanted at addr/bits: the grant ranges first, then what
 * the rule set has there (or inherits there). */
static int grant_net_rule(const struct task *t, const __u8 addr[16], unsigned int bits,
			  struct ts_net_rule *r)
{
	const struct ts_rs_net *base = ts_ruleset_net_within(t->rs, addr, bits);
	__u32 i;
	size_t g;

	memset(r, 0, sizeof(*r));
	for (g = 0; g < t->ngrants; g++) {
		const struct grant *gr = &t->grants[g];

		if (!gr->net || !same_net(gr->addr, gr->bits, addr, bits))
			continue;
		if (r->count == TS_NET_PORTS)
			return -E2BIG;
		r->ports[r->count++] = (struct ts_port_range){ .lo = gr->lo,
							       .hi = gr->hi,
							       .rule_id = gr->id,
							       .action = TS_ACTION_ALLOW,
							       .expires_ns = gr->expires_ns };
	}
	for (i = 0; base && i < base->rule.count; i++) {
		if (r->count == TS_NET_PORTS)
			return -E2BIG;
		r->ports[r->count++] = base->rule.ports[i];
	}
	return 0;
}

int task_sync_kernel(struct daemon *d, struct task *t)
{
	char (*paths)[TS_PATH_MAX + 1] = calloc(t->ngrants + 1, sizeof(*paths));
	struct ts_rs_net *nets = calloc(t->rs->nnets + t->ngrants + 1, sizeof(*nets));
	size_t npaths = 0, nnets = 0, i, j;
	struct ts_path_rule pr;
	int err = 0;

	if (!paths || !nets) {
		free(paths);
		free(nets);
		return -ENOMEM;
	}
	/* Paths: the rule set's keys, then each key a grant touches. */
	for (i = 0; !err && i < t->rs->npaths; i++) {
		memset(&pr, 0, sizeof(pr));
		pr.now = t->rs->paths[i].v;
		err = ts_kernel_path_rule_set(d->k, t->id, t->rs->paths[i].path, &pr);
	}
	for (i = 0; !err && i < t->ngrants; i++) {
		const struct grant *g = &t->grants[i];

		if (g->net)
			continue;
		for (j = 0; j < npaths && strcmp(paths[j], g->path); j++)
			;
		if (j < npaths)
			continue;
		memcpy(paths[npaths++], g->path, sizeof(paths[0]));
		grant_path_rule(t, g->path, &pr);
		err = ts_kernel_path_rule_set(d->k, t->id, g->path, &pr);
	}
	/* Grant-only keys no grant wants any more. */
	for (i = 0; !err && i < t->ngrant_paths; i++) {
		for (j = 0; j < npaths && strcmp(paths[j], t->grant_paths[i]); j++)
			;
		if (j == npaths && !is_rule_path(t->rs, t->grant_paths[i]))
			ts_kernel_path_rule_delete(d->k, t->id, t->grant_paths[i]);
	}
	/* Networks: the rule set's, with grant ranges in front where they apply. */
	for (i = 0; !err && i < t->rs->nnets; i++) {
		nets[nnets] = t->rs->nets[i];
		err = grant_net_rule(t, nets[nnets].addr, nets[nnets].bits, &nets[nnets].rule);
		nnets++;
	}
	for (i = 0; !err && i < t->ngrants; i++) {
		const struct grant *g = &t->grants[i];

		if (!g->net)
			continue;
		for (j = 0; j < nnets && !same_net(nets[j].addr, nets[j].bits, g->addr, g->bits);
		     j++)
			;
		if (j < nnets)
			continue;
		memcpy(nets[nnets].addr, g->addr, 16);
		nets[nnets].bits = g->bits;
		err = grant_net_rule(t, g->addr, g->bits, &nets[nnets].rule);
		nnets++;
	}
	for (i = 0; !err && i < nnets; i++)
		err = ts_kernel_net_rule_set(d->k, t->id, nets[i].addr, nets[i].bits, &nets[i].rule);
	for (i = 0; !err && i < t->nwritten_nets; i++) {
		for (j = 0; j < nnets && !same_net(nets[j].addr, nets[j].bits,
						   t->written_nets[i].addr, t->written_nets[i].bits);
		     j++)
			;
		if (j == nnets)
			ts_kernel_net_rule_delete(d->k, t->id, t->written_nets[i].addr,
						  t->written_nets[i].bits);
	}
	if (err) {
		free(paths);
		free(nets);
		return err;
	}
	free(t->grant_paths);
	t->grant_paths = paths;
	t->ngrant_paths = npaths;
	free(t->written_nets);
	t->written_nets = nets;
	t->nwritten_nets = nnets;
	return 0;
}

/* --- once a second ----------------------------------------------------- */

static int by_task(const void *a, const void *b)
{
	const struct ts_member_rec *x = a, *y = b;

	return (x->task_id > y->task_id) - (x->task_id < y->task_id);
}

static unsigned int count_members(const struct ts_member_rec *recs, size_t n, __u64 id)
{
	size_t lo = 0, hi = n;
	unsigned int count = 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (recs[mid].task_id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo < n && recs[lo].task_id == id) {
		count++;
		lo++;
	}
	return count;
}

static void expire_grants(struct daemon *d, struct task *t, __u64 now)
{
	size_t i, kept = 0;
	bool changed = false;

	for (i = 0; i < t->ngrants; i++) {
		struct grant *g = &t->grants[i];

		if (g->expires_ns > now) {
			t->grants[kept++] = *g;
			continue;
		}
		{
			char text[600];

			ts_json_escape(text, sizeof(text), g->text, strlen(g->text), NULL);
			events_lifecycle(d, t->id, "grant expired", 1, "time-boxed grant expired",
					 "\"rule\":\"%s\",\"grant_id\":%u", text, g->id);
		}
		free(g->text);
		changed = true;
	}
	t->ngrants = kept;
	if (changed) {
		task_sync_kernel(d, t);
		state_save_task(d, t);
	}
}

void tasks_sweep(struct daemon *d)
{
	struct ts_member_rec *recs = NULL;
	__u64 now = now_boot_ns(), *ids;
	size_t n = 0, i, count;

	if (ts_kernel_members(d->k, 0, &recs, &n))
		n = 0;
	else if (n > 1)
		qsort(recs, n, sizeof(*recs), by_task);
	/* Ending tasks changes the registry: decide on a copy of the ids. */
	count = d->ntasks;
	ids = calloc(count + 1, sizeof(*ids));
	for (i = 0; ids && i < count; i++)
		ids[i] = d->tasks[i]->id;
	for (i = 0; ids && i < count; i++) {
		struct task *t = task_find(d, ids[i]);

		if (!t)
			continue;
		t->members = count_members(recs, n, t->id);
		if (t->deadline_ns && now >= t->deadline_ns) {
			task_end(d, t, "ttl");
			continue;
		}
		if (t->members && !t->had_members) {
			t->had_members = true;
			state_save_task(d, t);
		} else if (!t->members && t->had_members) {
			task_end(d, t, "exit");
			continue;
		}
		expire_grants(d, t, now);
	}
	free(ids);
	free(recs);
	secrets_sweep(d);
	events_account(d);
	if (d->cfg.resolve_interval_ns && now >= d->next_resolve_ns) {
		if (d->next_resolve_ns)
			tasks_resolve(d);
		d->next_resolve_ns = now + d->cfg.resolve_interval_ns;
	}
}

static bool same_nets(const struct ts_ruleset *a, const struct ts_ruleset *b)
{
	size_t i;

	if (a->nnets != b->nnets)
		return false;
	for (i = 0; i < a->nnets; i++)
		if (!same_net(a->nets[i].addr, a->nets[i].bits, b->nets[i].addr, b->nets[i].bits) ||
		    memcmp(&a->nets[i].rule, &b->nets[i].rule, sizeof(a->nets[i].rule)))
			return false;
	return true;
}

void tasks_resolve(struct daemon *d)
{
	size_t i;

	/* Creation order: a parent is refreshed before its sub-tasks. */
	for (i = 0; i < d->ntasks; i++) {
		struct task *t = d->tasks[i], *p = t->parent ? task_find(d, t->parent) : NULL;
		struct ts_policy *policy = NULL;
		struct ts_ruleset *rs = NULL;
		struct ts_diag diag;
		char msg[256];
		int code;

		if (!t->rs->nhosts && !(p && p->rs->nhosts))
			continue;
		ts_diag_init(&diag, t->policy_file);
		if (compile_task(d, t, &policy, &rs, &diag, msg, sizeof(msg), &code)) {
			/* Keep the addresses it has: never widen on a failure. */
			ts_warn("task %016llx: host names not refreshed: %s",
				(unsigned long long)t->id, msg);
		} else if (!same_nets(t->rs, rs)) {
			struct ts_ruleset *old = t->rs;

			t->rs = rs;
			rs = NULL;
			if (task_sync_kernel(d, t)) {
				ts_ruleset_free(t->rs);
				t->rs = old;
			} else {
				ts_ruleset_free(old);
				events_lifecycle(d, t->id, "rules refreshed", 1,
						 "host names resolved again",
						 "\"net_rules\":%zu", t->rs->nnets);
				state_save_task(d, t);
			}
		}
		ts_ruleset_free(rs);
		ts_policy_free(policy);
		ts_diag_free(&diag);
	}
}

/* --- as clients see it ------------------------------------------------- */

json_t *task_json(struct daemon *d, const struct task *t, bool details)
{
	__u64 now = now_boot_ns();
	char id[17], parent[17], spiffe[400];
	json_t *o;
	size_t i;

	ts_task_id_text(t->id, id);
	ts_task_id_text(t->parent, parent);
	snprintf(spiffe, sizeof(spiffe), "spiffe://%s/task/%s", d->cfg.trust_domain, id);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:i, s:s, s:I, s:I, s:s, s:i}", "id", id,
		      "name", t->name, "policy", t->policy, "spiffe_id", spiffe, "parent",
		      t->parent ? parent : NULL, "owner_uid", (int)t->owner, "mode",
		      ts_mode_name(t->rs->mode), "started_ms", (json_int_t)t->started_ms,
		      "expires_in_s",
		      (json_int_t)(t->deadline_ns > now ? (t->deadline_ns - now) / TS_NSEC_PER_SEC
							  : 0),
		      "workdir", t->workdir, "members", t->members);
	if (!o || !details)
		return o;
	{
		struct ts_task kt;
		json_t *grants = json_array(), *counters = json_object();
		struct ts_member_rec *recs;
		json_t *pids = json_array();
		size_t n = 0;
		unsigned int k;

		if (!ts_kernel_task_get(d->k, t->id, &kt))
			for (k = 0; k < TS_KIND_MAX; k++)
				json_object_set_new(counters, ts_kind_name(k),
						    json_pack("{s:I, s:I}", "allowed",
							      (json_int_t)kt.allowed[k], "denied",
							      (json_int_t)kt.denied[k]));
		for (i = 0; i < t->ngrants; i++)
			json_array_append_new(
				grants,
				json_pack("{s:I, s:s, s:I, s:i}", "id",
					  (json_int_t)t->grants[i].id, "rule", t->grants[i].text,
					  "expires_in_s",
					  (json_int_t)(t->grants[i].expires_ns > now
							       ? (t->grants[i].expires_ns - now) /
									 TS_NSEC_PER_SEC
							       : 0),
					  "granted_by_uid", (int)t->grants[i].by_uid));
		if (!ts_kernel_members(d->k, t->id, &recs, &n)) {
			for (i = 0; i < n; i++)
				if (recs[i].pid == recs[i].tgid)
					json_array_append_new(pids, json_integer(recs[i].tgid));
			free(recs);
		}
		json_object_set_new(o, "counters", counters);
		json_object_set_new(o, "grants", grants);
		json_object_set_new(o, "processes", pids);
		json_object_set_new(o, "path_rules", json_integer((json_int_t)t->rs->npaths));
		json_object_set_new(o, "net_rules", json_integer((json_int_t)t->rs->nnets));
		json_object_set_new(o, "policy_file", json_string(t->policy_file));
		{
			/* Names and delivery: never a value. */
			json_t *secrets = secrets_json(t), *sec;
			size_t k2;

			json_array_foreach(secrets, k2, sec)
				json_object_del(sec, "ino");
			json_object_set_new(o, "secrets", secrets);
		}
	}
	return o;
}
