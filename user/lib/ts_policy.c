// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "taskscope.h"
#include "ts_duration.h"
#include "ts_jsonpos.h"
#include "ts_keys.h"
#include "ts_pathvar.h"
#include "ts_policy.h"

static const char *const list_names[TS_LIST_COUNT] = {
	[TS_LIST_EXEC_ALLOW] = "exec.allow",   [TS_LIST_FILE_READ] = "file.read",
	[TS_LIST_FILE_WRITE] = "file.write",   [TS_LIST_FILE_DENY] = "file.deny",
	[TS_LIST_NET_CONNECT] = "net.connect", [TS_LIST_NET_DENY] = "net.deny",
};

static const char *const kind_names[TS_KIND_MAX] = {
	[TS_KIND_EXEC] = "exec",
	[TS_KIND_FILE] = "file",
	[TS_KIND_NET] = "net",
	[TS_KIND_GUARD] = "guard",
};

const char *ts_list_name(enum ts_list list)
{
	return list < TS_LIST_COUNT ? list_names[list] : "?";
}

struct parse {
	struct ts_policy *p;
	struct ts_diag *diag;
	struct ts_jsonpos pos;
	int oom;
};

/* Report at the value of `path` (or its key with `at_key`), falling back
 * to the nearest enclosing value the index knows. */
static void report(struct parse *ps, const char *path, bool at_key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report(struct parse *ps, const char *path, bool at_key, const char *fmt, ...)
{
	const struct ts_jsonpos_entry *e = ts_jsonpos_find(&ps->pos, path);
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!e)
		e = ts_jsonpos_find(&ps->pos, "");
	if (ts_diag_add(ps->diag, e ? (at_key ? e->key_line : e->line) : 0,
			e ? (at_key ? e->key_column : e->column) : 0, path, "%s", msg) == -ENOMEM)
		ps->oom = 1;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

static bool expect_type(struct parse *ps, const char *path, const json_t *v, json_type want,
			const char *want_name)
{
	if (json_typeof(v) == want || (want == JSON_TRUE && json_is_boolean(v)))
		return true;
	report(ps, path, false, "expected %s, found %s", want_name, type_name(v));
	return false;
}

/* Levenshtein distance, for "did you mean". */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev[32], cur[32];

	if (la >= 31 || lb >= 31)
		return 99;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[lb];
}

/* Every key of object `obj` must be one of `known`. */
static void check_keys(struct parse *ps, const char *prefix, json_t *obj,
		       const char *const *known)
{
	const char *key, *const *k;
	char path[256];
	json_t *v;

	json_object_foreach(obj, key, v) {
		const char *best = NULL;
		size_t best_d = 3;

		for (k = known; *k; k++) {
			size_t d = distance(key, *k);

			if (!d)
				break;
			if (d < best_d) {
				best_d = d;
				best = *k;
			}
		}
		if (*k)
			continue;
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);
		if (best)
			report(ps, path, true, "unknown key '%s' (did you mean '%s'?)", key, best);
		else
			report(ps, path, true, "unknown key '%s'", key);
	}
}

static char *dup_or_oom(struct parse *ps, const char *s)
{
	char *d = strdup(s);

	if (!d)
		ps->oom = 1;
	return d;
}

static void parse_name(struct parse *ps, json_t *root)
{
	json_t *v = json_object_get(root, "name");
	const char *s, *c;

	if (!v) {
		report(ps, "", false, "missing required key 'name'");
		return;
	}
	if (!expect_type(ps, "name", v, JSON_STRING, "a string"))
		return;
	s = json_string_value(v);
	if (!*s || strlen(s) > TS_POLICY_NAME_MAX || !isalnum((unsigned char)s[0])) {
		report(ps, "name", false, "name must be 1 to %d characters and start with a letter or digit",
		       TS_POLICY_NAME_MAX);
		return;
	}
	for (c = s; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("._-", *c)) {
			report(ps, "name", false, "name may hold only letters, digits, '.', '_' and '-'");
			return;
		}
	ps->p->name = dup_or_oom(ps, s);
}

static void parse_scalars(struct parse *ps, json_t *root)
{
	json_t *v;
	int err;

	v = json_object_get(root, "description");
	if (v && expect_type(ps, "description", v, JSON_STRING, "a string"))
		ps->p->description = dup_or_oom(ps, json_string_value(v));
	v = json_object_get(root, "ttl");
	if (v && expect_type(ps, "ttl", v, JSON_STRING, "a duration string such as \"30m\"")) {
		err = ts_duration_parse(json_string_value(v), &ps->p->ttl_ns);
		if (err == -ERANGE)
			report(ps, "ttl", false, "ttl '%s' must be more than 0s and at most 365d",
			       json_string_value(v));
		else if (err)
			report(ps, "ttl", false,
			       "bad duration '%s': write counts with units d, h, m, s, as in \"1h30m\"",
			       json_string_value(v));
	}
	v = json_object_get(root, "mode");
	ps->p->mode = TS_MODE_ENFORCE;
	if (v && expect_type(ps, "mode", v, JSON_STRING, "a string")) {
		if (!strcmp(json_string_value(v), "audit"))
			ps->p->mode = TS_MODE_AUDIT;
		else if (strcmp(json_string_value(v), "enforce"))
			report(ps, "mode", false, "mode must be \"enforce\" or \"audit\", not '%s'",
			       json_string_value(v));
	}
}

static bool valid_secret_name(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n > TS_SECRET_NAME_MAX || (!isalpha((unsigned char)s[0]) && s[0] != '_'))
		return false;
	for (i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* "exec:/abs/program args...": the program must be named absolutely (it
 * runs with no search path). */
static bool valid_command(const char *s)
{
	return !strncmp(s, "exec:/", 6) && s[6] && !strchr(s, '\n');
}

static void parse_secret(struct parse *ps, json_t *item, size_t i)
{
	static const char *const keys[] = { "name", "source", "deliver", "revoke", NULL };
	struct ts_secret_spec *sp, *bigger;
	const struct ts_jsonpos_entry *pos;
	char path[64], field[96], why[256];
	json_t *v, *d;
	size_t j, k;
	const char *name, *source, *revoke = NULL;
	bool deliver_file = false, deliver_env = false, ok = true;

	snprintf(path, sizeof(path), "secrets[%zu]", i);
	if (!expect_type(ps, path, item, JSON_OBJECT, "an object"))
		return;
	check_keys(ps, path, item, keys);
	snprintf(field, sizeof(field), "%s.name", path);
	v = json_object_get(item, "name");
	name = json_string_value(v);
	if (!name || !valid_secret_name(name)) {
		report(ps, v ? field : path, false,
		       "a secret needs a \"name\" of 1 to %d letters, digits and '_' "
		       "(not starting with a digit)", TS_SECRET_NAME_MAX);
		ok = false;
	}
	for (j = 0; name && j < ps->p->nsecrets; j++)
		if (!strcmp(ps->p->secrets[j].name, name)) {
			report(ps, field, false, "secret name '%s' is used twice", name);
			ok = false;
		}
	snprintf(field, sizeof(field), "%s.source", path);
	v = json_object_get(item, "source");
	source = json_string_value(v);
	if (!source) {
		report(ps, v ? field : path, false,
		       "a secret needs a \"source\": \"file:PATH\" or \"exec:COMMAND\"");
		ok = false;
	} else if (!strncmp(source, "file:", 5)) {
		if (ts_path_template_check(source + 5, false, why, sizeof(why)) ||
		    ts_path_is_dir(source + 5)) {
			report(ps, field, false, "%s", ts_path_is_dir(source + 5)
				? "a secret file is a file, not a directory" : why);
			ok = false;
		}
	} else if (!valid_command(source)) {
		report(ps, field, false,
		       "source must be \"file:PATH\" or \"exec:/ABSOLUTE/PROGRAM [ARGS]\"");
		ok = false;
	}
	snprintf(field, sizeof(field), "%s.revoke", path);
	v = json_object_get(item, "revoke");
	if (v) {
		revoke = json_string_value(v);
		if (!revoke || !valid_command(revoke)) {
			report(ps, field, false, "revoke must be \"exec:/ABSOLUTE/PROGRAM [ARGS]\"");
			ok = false;
		}
	}
	snprintf(field, sizeof(field), "%s.deliver", path);
	d = json_object_get(item, "deliver");
	if (!d) {
		deliver_file = true;
	} else {
		json_t *one = json_is_string(d) ? d : NULL;

		for (k = 0; k < (one ? 1 : json_is_array(d) ? json_array_size(d) : 0); k++) {
			const char *how = json_string_value(one ? one : json_array_get(d, k));

			if (how && !strcmp(how, "file"))
				deliver_file = true;
			else if (how && !strcmp(how, "env"))
				deliver_env = true;
			else
				ok = false;
		}
		if (!ok || (!deliver_file && !deliver_env)) {
			report(ps, field, false, "deliver is \"file\", \"env\" or both as a list");
			ok = false;
		}
	}
	if (!ok)
		return;
	bigger = realloc(ps->p->secrets, (ps->p->nsecrets + 1) * sizeof(*bigger));
	if (!bigger) {
		ps->oom = 1;
		return;
	}
	ps->p->secrets = bigger;
	sp = &bigger[ps->p->nsecrets++];
	memset(sp, 0, sizeof(*sp));
	pos = ts_jsonpos_find(&ps->pos, path);
	sp->name = dup_or_oom(ps, name);
	sp->source = dup_or_oom(ps, source);
	sp->revoke = revoke ? dup_or_oom(ps, revoke) : NULL;
	sp->json_path = dup_or_oom(ps, path);
	sp->deliver_file = deliver_file;
	sp->deliver_env = deliver_env;
	sp->line = pos ? pos->line : 0;
	sp->column = pos ? pos->column : 0;
}

static void parse_secrets(struct parse *ps, json_t *root)
{
	json_t *arr = json_object_get(root, "secrets"), *item;
	size_t i;

	if (!arr || !expect_type(ps, "secrets", arr, JSON_ARRAY, "an array"))
		return;
	if (json_array_size(arr) > TS_SECRETS_MAX) {
		report(ps, "secrets", false, "at most %d secrets per task", TS_SECRETS_MAX);
		return;
	}
	json_array_foreach(arr, i, item)
		parse_secret(ps, item, i);
}

static int kind_of(const char *s)
{
	int k;

	for (k = 0; k < TS_KIND_MAX; k++)
		if (!strcmp(s, kind_names[k]))
			return k;
	return -1;
}

static void parse_log(struct parse *ps, json_t *root)
{
	static const char *const keys[] = { "allow", "deny", NULL };
	json_t *log = json_object_get(root, "log"), *v, *item;
	char path[64];
	size_t i;

	if (!log || !expect_type(ps, "log", log, JSON_OBJECT, "an object"))
		return;
	ps->p->log_given = true;
	check_keys(ps, "log", log, keys);
	v = json_object_get(log, "deny");
	if (v && (!json_is_string(v) || strcmp(json_string_value(v), "all")))
		report(ps, "log.deny", false, "denials are always logged: \"deny\" can only be \"all\"");
	v = json_object_get(log, "allow");
	if (!v)
		return;
	if (json_is_string(v)) {
		if (!strcmp(json_string_value(v), "all"))
			ps->p->log_allow = (1u << TS_KIND_MAX) - 1;
		else if (strcmp(json_string_value(v), "none"))
			report(ps, "log.allow", false,
			       "expected \"all\", \"none\" or a list of exec, file, net, guard");
		return;
	}
	if (!expect_type(ps, "log.allow", v, JSON_ARRAY, "\"all\", \"none\" or an array"))
		return;
	json_array_foreach(v, i, item) {
		int k = json_is_string(item) ? kind_of(json_string_value(item)) : -1;

		snprintf(path, sizeof(path), "log.allow[%zu]", i);
		if (k < 0)
			report(ps, path, false, "expected one of exec, file, net, guard");
		else
			ps->p->log_allow |= 1u << k;
	}
}

static struct ts_policy_entry *add_entry(struct parse *ps, enum ts_list list, const char *text,
					 const char *path)
{
	const struct ts_jsonpos_entry *pos = ts_jsonpos_find(&ps->pos, path);
	struct ts_policy *p = ps->p;
	struct ts_policy_entry *e, *bigger;

	bigger = realloc(p->entries, (p->count + 1) * sizeof(*bigger));
	if (!bigger) {
		ps->oom = 1;
		return NULL;
	}
	p->entries = bigger;
	e = &p->entries[p->count];
	memset(e, 0, sizeof(*e));
	e->list = list;
	e->text = strdup(text);
	e->json_path = strdup(path);
	if (!e->text || !e->json_path) {
		free(e->text);
		free(e->json_path);
		ps->oom = 1;
		return NULL;
	}
	e->line = pos ? pos->line : 0;
	e->column = pos ? pos->column : 0;
	p->count++;
	return e;
}

static void parse_entry(struct parse *ps, enum ts_list list, const char *text, const char *path)
{
	bool net = list == TS_LIST_NET_CONNECT || list == TS_LIST_NET_DENY;
	struct ts_policy_entry *e;
	char why[256];

	if (!net) {
		if (ts_path_template_check(text, false, why, sizeof(why))) {
			report(ps, path, false, "%s", why);
			return;
		}
		add_entry(ps, list, text, path);
		return;
	}
	e = add_entry(ps, list, text, path);
	if (!e)
		return;
	if (ts_target_parse(e->text, &e->net, why, sizeof(why)) ||
	    (e->net.kind == TS_TARGET_UNIX &&
	     ts_path_template_check(e->net.unix_path, true, why, sizeof(why)))) {
		report(ps, path, false, "%s", why);
		ps->p->count--;
		free(e->text);
		free(e->json_path);
		return;
	}
	if (e->net.kind == TS_TARGET_UNIX && ts_path_has_vars(e->net.unix_path) == false &&
	    e->net.unix_path[strlen(e->net.unix_path) - 1] == '/')
		report(ps, path, false, "a socket path names a file, not a directory");
}

static void parse_list(struct parse *ps, json_t *section, const char *section_name,
		       const char *key, enum ts_list list)
{
	json_t *arr = json_object_get(section, key), *item;
	char path[128];
	size_t i;

	snprintf(path, sizeof(path), "%s.%s", section_name, key);
	if (!arr || !expect_type(ps, path, arr, JSON_ARRAY, "an array of strings"))
		return;
	json_array_foreach(arr, i, item) {
		snprintf(path, sizeof(path), "%s.%s[%zu]", section_name, key, i);
		if (expect_type(ps, path, item, JSON_STRING, "a string"))
			parse_entry(ps, list, json_string_value(item), path);
	}
}

static void parse_sections(struct parse *ps, json_t *root)
{
	static const char *const exec_keys[] = { "allow", NULL };
	static const char *const file_keys[] = { "read", "write", "deny", NULL };
	static const char *const net_keys[] = { "connect", "deny", "raw", NULL };
	json_t *s, *raw;

	s = json_object_get(root, "exec");
	if (s && expect_type(ps, "exec", s, JSON_OBJECT, "an object")) {
		check_keys(ps, "exec", s, exec_keys);
		parse_list(ps, s, "exec", "allow", TS_LIST_EXEC_ALLOW);
	}
	s = json_object_get(root, "file");
	if (s && expect_type(ps, "file", s, JSON_OBJECT, "an object")) {
		check_keys(ps, "file", s, file_keys);
		parse_list(ps, s, "file", "read", TS_LIST_FILE_READ);
		parse_list(ps, s, "file", "write", TS_LIST_FILE_WRITE);
		parse_list(ps, s, "file", "deny", TS_LIST_FILE_DENY);
	}
	s = json_object_get(root, "net");
	if (s && expect_type(ps, "net", s, JSON_OBJECT, "an object")) {
		check_keys(ps, "net", s, net_keys);
		parse_list(ps, s, "net", "connect", TS_LIST_NET_CONNECT);
		parse_list(ps, s, "net", "deny", TS_LIST_NET_DENY);
		raw = json_object_get(s, "raw");
		if (raw && expect_type(ps, "net.raw", raw, JSON_TRUE, "true or false"))
			ps->p->raw_sockets = json_is_true(raw);
	}
}

/* Rule ids follow list order, then position: the same file always gets
 * the same ids, so an event's rule id maps back to one line. */
static int by_list_then_position(const void *a, const void *b)
{
	const struct ts_policy_entry *x = a, *y = b;

	if (x->list != y->list)
		return x->list < y->list ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->column < y->column ? -1 : x->column > y->column;
}

static bool allows_anything(const struct ts_policy *p)
{
	size_t i;

	for (i = 0; i < p->count; i++)
		if (p->entries[i].list != TS_LIST_FILE_DENY && p->entries[i].list != TS_LIST_NET_DENY)
			return true;
	return false;
}

int ts_policy_parse(const char *file, const char *text, size_t len, struct ts_diag *diag,
		    struct ts_policy **out)
{
	static const char *const top_keys[] = { "name", "description", "ttl",  "mode", "log",
						"exec", "file",        "net",  "secrets", NULL };
	struct parse ps = { .diag = diag };
	size_t before = diag->count, i;
	json_error_t jerr;
	json_t *root;
	int err;

	*out = NULL;
	if (len > TS_POLICY_MAX_BYTES)
		return ts_diag_add(diag, 0, 0, "", "policy is %zu bytes, more than the %d allowed",
				   len, TS_POLICY_MAX_BYTES);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return ts_diag_add(diag, jerr.line, jerr.column, "", "invalid JSON: %s", jerr.text);
	ps.p = calloc(1, sizeof(*ps.p));
	err = ps.p ? ts_jsonpos_build(&ps.pos, text, len) : -ENOMEM;
	if (err)
		goto cleanup;
	ps.p->file = strdup(file);
	if (!ps.p->file) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (!json_is_object(root)) {
		report(&ps, "", false, "a policy is a JSON object, found %s", type_name(root));
	} else {
		check_keys(&ps, "", root, top_keys);
		parse_name(&ps, root);
		parse_scalars(&ps, root);
		parse_log(&ps, root);
		parse_sections(&ps, root);
		parse_secrets(&ps, root);
		if (diag->count == before && !allows_anything(ps.p))
			report(&ps, "", false,
			       "the policy allows nothing: give it exec, file or net rules");
	}
	err = ps.oom ? -ENOMEM : diag->count > before ? -EINVAL : 0;
	ts_diag_sort(diag);
	if (!err) {
		if (ps.p->count > 1)
			qsort(ps.p->entries, ps.p->count, sizeof(*ps.p->entries),
			      by_list_then_position);
		for (i = 0; i < ps.p->count; i++)
			ps.p->entries[i].rule_id = (__u32)i + 1;
	}
cleanup:
	ts_jsonpos_free(&ps.pos);
	json_decref(root);
	if (err) {
		ts_policy_free(ps.p);
		return err;
	}
	*out = ps.p;
	return 0;
}

int ts_policy_load(const char *file, struct ts_diag *diag, struct ts_policy **out)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "re") : stdin;
	size_t len = 0, cap = 4096;
	char *buf = NULL, *bigger;
	int err;

	*out = NULL;
	if (!f)
		return ts_diag_add(diag, 0, 0, "", "cannot open: %s", strerror(errno));
	for (;;) {
		bigger = realloc(buf, cap + 1);
		if (!bigger) {
			err = -ENOMEM;
			goto cleanup;
		}
		buf = bigger;
		len += fread(buf + len, 1, cap - len, f);
		if (len < cap)
			break;
		if (cap > TS_POLICY_MAX_BYTES) {
			err = ts_diag_add(diag, 0, 0, "", "policy is larger than %d bytes",
					  TS_POLICY_MAX_BYTES);
			goto cleanup;
		}
		cap *= 2;
	}
	if (ferror(f)) {
		err = ts_diag_add(diag, 0, 0, "", "cannot read: %s", strerror(errno));
		goto cleanup;
	}
	err = ts_policy_parse(file, buf, len, diag, out);
cleanup:
	free(buf);
	if (f != stdin)
		fclose(f);
	return err;
}

void ts_policy_free(struct ts_policy *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->count; i++) {
		free(p->entries[i].text);
		free(p->entries[i].json_path);
	}
	free(p->entries);
	for (i = 0; i < p->nsecrets; i++) {
		free(p->secrets[i].name);
		free(p->secrets[i].source);
		free(p->secrets[i].revoke);
		free(p->secrets[i].json_path);
	}
	free(p->secrets);
	free(p->file);
	free(p->name);
	free(p->description);
	free(p);
}

const struct ts_policy_entry *ts_policy_rule(const struct ts_policy *p, __u32 rule_id)
{
	return rule_id >= 1 && rule_id <= p->count ? &p->entries[rule_id - 1] : NULL;
}
