// SPDX-License-Identifier: MIT
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include "ts_names.h"
#include "ts_ocsf.h"

/* Appends past the end are counted, not written: the caller learns the
 * size it needs. */
struct sb {
	char *buf;
	size_t size, len;
};

static inline void put(struct sb *b, const char *s, size_t n)
{
	if (b->len + n < b->size)
		memcpy(b->buf + b->len, s, n);
	b->len += n;
}

#define PUTS(b, lit) put(b, lit, sizeof(lit) - 1)

static void put_u64(struct sb *b, unsigned long long v)
{
	char tmp[24];
	int i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(b, tmp + i, sizeof(tmp) - (size_t)i);
}

static void put_i64(struct sb *b, long long v)
{
	if (v < 0) {
		PUTS(b, "-");
		put_u64(b, (unsigned long long)(-(v + 1)) + 1);
	} else {
		put_u64(b, (unsigned long long)v);
	}
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned int cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0; /* overlong, surrogate or beyond Unicode */
	return len;
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0, l;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		l = utf8_seq(s + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

/* Bytes that a JSON string cannot hold as they are: controls, '"', '\\',
 * and (for the UTF-8 check) anything beyond ASCII. */
static const unsigned char special[256] = {
	[0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1,
};

static void put_escaped(struct sb *b, const char *str, size_t n, int *escaped)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;
	bool raw;

	/* Most strings (paths, names) need nothing: copy them whole. */
	while (i < n && !special[s[i]])
		i++;
	if (i == n) {
		if (escaped)
			*escaped = 0;
		put(b, str, n);
		return;
	}
	raw = !valid_utf8(s + i, n - i);
	i = 0;
	if (escaped)
		*escaped = raw;
	while (i < n) {
		unsigned char c = s[i];
		size_t l;

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			run++;
			continue;
		}
		put(b, str + i - run, run);
		run = 0;
		if (c >= 0x80) {
			l = raw ? utf8_seq(s + i, n - i) : 1;
			if (!raw || l) {
				/* Valid multi-byte: copy as is. */
				l = raw ? l : utf8_seq(s + i, n - i);
				put(b, str + i, l);
				i += l;
				continue;
			}
			char x[6] = { '\\', '\\', 'x', hex[c >> 4], hex[c & 15] };

			put(b, x, 5);
			i++;
			continue;
		}
		switch (c) {
		case '"':
			PUTS(b, "\\\"");
			break;
		case '\\':
			if (raw)
				PUTS(b, "\\\\\\\\"); /* doubled, so \xNN stays unambiguous */
			else
				PUTS(b, "\\\\");
			break;
		case '\n':
			PUTS(b, "\\n");
			break;
		case '\t':
			PUTS(b, "\\t");
			break;
		case '\r':
			PUTS(b, "\\r");
			break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			put(b, u, 6);
		}
		}
		i++;
	}
	put(b, str + i - run, run);
}

size_t ts_json_escape(char *buf, size_t size, const char *s, size_t len, int *escaped)
{
	struct sb b = { buf, size, 0 };

	put_escaped(&b, s, len, escaped);
	if (b.len < size)
		buf[b.len] = '\0';
	return b.len;
}

static void put_str(struct sb *b, const char *s)
{
	PUTS(b, "\"");
	put_escaped(b, s, strlen(s), NULL);
	PUTS(b, "\"");
}

/* "key":"value" with the comma before it, the value escaped. */
static void kv_str_n(struct sb *b, const char *key_part, size_t n, const char *value)
{
	put(b, key_part, n);
	put_str(b, value);
}

#define kv_str(b, key, value) kv_str_n(b, ",\"" key "\":", sizeof(",\"" key "\":") - 1, value)

/* A value known to need no escaping (our own constants). Keys are
 * literals: their length is known at compile time. */
static void kv_lit_n(struct sb *b, const char *key_part, size_t n, const char *value)
{
	put(b, key_part, n);
	put(b, value, strlen(value));
	PUTS(b, "\"");
}

static void kv_int_n(struct sb *b, const char *key_part, size_t n, long long value)
{
	put(b, key_part, n);
	put_i64(b, value);
}

#define kv_lit(b, key, value) kv_lit_n(b, ",\"" key "\":\"", sizeof(",\"" key "\":\"") - 1, value)
#define kv_int(b, key, value) kv_int_n(b, ",\"" key "\":", sizeof(",\"" key "\":") - 1, value)

struct ocsf_class {
	int class_uid, category_uid, activity_id;
	const char *class_name, *category_name, *activity_name;
};

static struct ocsf_class classify(const struct ts_event *e)
{
	struct ocsf_class c = { 1007, 1, 99, "Process Activity", "System Activity", "Other" };

	switch (e->op) {
	case TS_OP_EXEC:
		c.activity_id = 1, c.activity_name = "Launch";
		return c;
	case TS_OP_PTRACE:
		c.activity_id = 3, c.activity_name = "Open";
		return c;
	case TS_OP_KILL:
		c.activity_id = 2, c.activity_name = "Terminate";
		return c;
	case TS_OP_CONNECT:
	case TS_OP_SENDMSG:
	case TS_OP_SOCKET:
		c = (struct ocsf_class){ 4001, 4, 1, "Network Activity", "Network Activity", "Open" };
		if (e->op == TS_OP_SOCKET)
			c.activity_id = 99, c.activity_name = "Other";
		return c;
	default:
		break;
	}
	if (e->kind != TS_KIND_FILE)
		return c;
	c = (struct ocsf_class){ 1001, 1, 99, "File System Activity", "System Activity", "Other" };
	switch (e->op) {
	case TS_OP_OPEN:
		if (e->access & TS_ACCESS_WRITE)
			c.activity_id = 3, c.activity_name = "Update";
		else
			c.activity_id = 2, c.activity_name = "Read";
		break;
	case TS_OP_MKNOD:
	case TS_OP_MKDIR:
	case TS_OP_LINK:
	case TS_OP_SYMLINK:
		c.activity_id = 1, c.activity_name = "Create";
		break;
	case TS_OP_UNLINK:
	case TS_OP_RMDIR:
		c.activity_id = 4, c.activity_name = "Delete";
		break;
	case TS_OP_RENAME:
		c.activity_id = 5, c.activity_name = "Rename";
		break;
	case TS_OP_TRUNCATE:
		c.activity_id = 3, c.activity_name = "Update";
		break;
	case TS_OP_CHMOD:
	case TS_OP_CHOWN:
		c.activity_id = 6, c.activity_name = "Set Attributes";
		break;
	}
	return c;
}

static const char *severity_name(int id)
{
	static const char *const names[] = { "Unknown", "Informational", "Low", "Medium",
					     "High",    "Critical",      "Fatal" };

	return id >= 0 && id <= 6 ? names[id] : "Other";
}

static void put_common(struct sb *b, const struct ocsf_class *c, unsigned long long time_ms,
		       int severity_id, const struct ts_fmt_env *env)
{
	PUTS(b, "{\"class_uid\":");
	put_u64(b, (unsigned long long)c->class_uid);
	kv_lit(b, "class_name", c->class_name);
	kv_int(b, "category_uid", c->category_uid);
	kv_lit(b, "category_name", c->category_name);
	kv_int(b, "activity_id", c->activity_id);
	kv_lit(b, "activity_name", c->activity_name);
	kv_int(b, "type_uid", (long long)c->class_uid * 100 + c->activity_id);
	kv_int(b, "time", (long long)time_ms);
	kv_int(b, "severity_id", severity_id);
	kv_lit(b, "severity", severity_name(severity_id));
	PUTS(b, ",\"metadata\":{\"version\":\"" TS_OCSF_VERSION "\",\"product\":{\"name\":"
		"\"taskscope\",\"vendor_name\":\"taskscope\"");
	kv_str(b, "version", env->version ? env->version : "unknown");
	PUTS(b, "}},\"device\":{\"hostname\":");
	put_str(b, env->hostname ? env->hostname : "");
	PUTS(b, "}");
}

static void hex16(__u64 v, char out[16])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 15; i >= 0; i--, v >>= 4)
		out[i] = hex[v & 15];
}

/* "unmapped":{"taskscope":{ ...task fields... */
static void open_unmapped(struct sb *b, __u64 task_id, const struct ts_fmt_task *t,
			  const struct ts_fmt_env *env)
{
	char id[16];

	hex16(task_id, id);
	PUTS(b, ",\"unmapped\":{\"taskscope\":{\"task_id\":\"");
	put(b, id, 16);
	PUTS(b, "\"");
	if (t && t->name)
		kv_str(b, "task_name", t->name);
	PUTS(b, ",\"spiffe_id\":\"spiffe://");
	put_escaped(b, env->trust_domain ? env->trust_domain : "taskscope.local",
		    strlen(env->trust_domain ? env->trust_domain : "taskscope.local"), NULL);
	PUTS(b, "/task/");
	put(b, id, 16);
	PUTS(b, "\"");
	if (t && t->policy)
		kv_str(b, "policy", t->policy);
	if (t)
		kv_lit(b, "mode", ts_mode_name(t->mode));
}

/* The destination as people write it: IPv4 unmapped. */
static void addr_text(const struct ts_event *e, char *a, size_t size)
{
	static const __u8 v4[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (!memcmp(e->addr, v4, 12))
		inet_ntop(AF_INET, e->addr + 12, a, (socklen_t)size);
	else
		inet_ntop(AF_INET6, e->addr, a, (socklen_t)size);
}

static void put_addr(struct sb *b, const struct ts_event *e)
{
	char a[INET6_ADDRSTRLEN];

	addr_text(e, a, sizeof(a));
	put_str(b, a);
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

int ts_ocsf_severity(const struct ts_event *e)
{
	if (e->verdict == TS_VERDICT_DENY)
		return e->kind == TS_KIND_GUARD ? 4 : 3;
	return e->verdict == TS_VERDICT_AUDIT ? 2 : 1;
}

size_t ts_ocsf_event(char *buf, size_t size, const struct ts_event *e,
		     const struct ts_fmt_task *task, const struct ts_fmt_env *env,
		     const struct ts_fmt_extra *extra)
{
	struct ocsf_class c = classify(e);
	bool blocked = e->verdict == TS_VERDICT_DENY;
	int severity = ts_ocsf_severity(e);
	struct sb b = { buf, size, 0 };
	size_t plen = strnlen(e->path, sizeof(e->path));
	char comm[TS_COMM_LEN + 1], access[40];
	int escaped = 0;

	memcpy(comm, e->comm, TS_COMM_LEN);
	comm[TS_COMM_LEN] = '\0';
	put_common(&b, &c,
		   (unsigned long long)(((__s64)e->time_ns + env->boot_to_real_ns) / 1000000),
		   severity, env);
	kv_int(&b, "action_id", blocked ? 2 : 1);
	kv_lit(&b, "action", blocked ? "Denied" : "Allowed");
	kv_int(&b, "disposition_id", blocked ? 2 : e->verdict == TS_VERDICT_AUDIT ? 15 : 1);
	kv_lit(&b, "disposition",
	       blocked ? "Blocked" : e->verdict == TS_VERDICT_AUDIT ? "Detected" : "Allowed");
	kv_int(&b, "status_id", blocked ? 2 : 1);
	kv_lit(&b, "status", blocked ? "Failure" : "Success");

	PUTS(&b, ",\"actor\":{\"process\":{\"pid\":");
	put_u64(&b, e->tgid);
	kv_int(&b, "tid", e->pid);
	kv_str(&b, "name", comm);
	if (extra && extra->exe) {
		PUTS(&b, ",\"file\":{\"path\":");
		put_str(&b, extra->exe);
		kv_str(&b, "name", basename_of(extra->exe));
		PUTS(&b, "}");
	}
	PUTS(&b, ",\"user\":{\"uid\":\"");
	put_u64(&b, e->uid);
	PUTS(&b, "\"},\"parent_process\":{\"pid\":");
	put_u64(&b, e->ppid);
	PUTS(&b, "}},\"user\":{\"uid\":\"");
	put_u64(&b, e->uid);
	PUTS(&b, "\"}}");

	if (c.class_uid == 1001 && plen) {
		PUTS(&b, ",\"file\":{\"path\":\"");
		put_escaped(&b, e->path, plen, &escaped);
		PUTS(&b, "\"");
		kv_str(&b, "name", basename_of(e->path));
		PUTS(&b, "}");
	} else if (e->op == TS_OP_EXEC && plen) {
		PUTS(&b, ",\"process\":{\"file\":{\"path\":\"");
		put_escaped(&b, e->path, plen, &escaped);
		PUTS(&b, "\"");
		kv_str(&b, "name", basename_of(e->path));
		PUTS(&b, "}}");
	} else if (c.class_uid == 4001 && e->family == 10 /* AF_INET6 */) {
		PUTS(&b, ",\"dst_endpoint\":{\"ip\":");
		put_addr(&b, e);
		kv_int(&b, "port", e->port);
		PUTS(&b, "}");
	} else if (e->peer_pid) {
		PUTS(&b, ",\"process\":{\"pid\":");
		put_u64(&b, e->peer_pid);
		PUTS(&b, "}");
	}

	open_unmapped(&b, e->task_id, task, env);
	kv_lit(&b, "kind", ts_kind_name(e->kind));
	kv_lit(&b, "op", ts_op_name(e->op));
	kv_lit(&b, "verdict", ts_verdict_name(e->verdict));
	kv_lit(&b, "reason", ts_reason_name(e->reason));
	kv_int(&b, "rule_id", e->rule_id);
	if (extra && extra->rule_text)
		kv_str(&b, "rule", extra->rule_text);
	if (e->access) {
		ts_access_text(e->access, access, sizeof(access));
		kv_lit(&b, "access", access);
	}
	kv_int(&b, "errno", -e->ret);
	if (c.class_uid == 4001 && e->family == 1 /* AF_UNIX */ && plen) {
		PUTS(&b, ",\"socket_path\":\"");
		put_escaped(&b, e->path, plen, &escaped);
		PUTS(&b, "\"");
	}
	if (e->reason == TS_REASON_SECRET) {
		char other[16];

		/* task_id is the secret's owner; the opener's task, if any: */
		hex16(e->other_task, other);
		PUTS(&b, ",\"opener_task_id\":\"");
		if (e->other_task)
			put(&b, other, 16);
		PUTS(&b, "\"");
	}
	if (escaped)
		PUTS(&b, ",\"path_escaped\":true");
	if (e->flags & TS_EVENT_F_TRUNCATED)
		PUTS(&b, ",\"path_truncated\":true");
	PUTS(&b, "}}}\n");
	if (b.len < size)
		buf[b.len] = '\0';
	return b.len;
}

size_t ts_ocsf_lifecycle(char *buf, size_t size, __u64 time_ms, __u64 task_id,
			 const struct ts_fmt_task *task, const struct ts_fmt_env *env,
			 const char *what, int severity_id, const char *message,
			 const char *fields)
{
	/* Application Lifecycle would describe taskscope itself; a task is an
	 * entity that taskscope manages on behalf of its owner. */
	struct ocsf_class c = { 3004, 3, 99, "Entity Management", "Identity & Access Management",
				what };
	struct sb b = { buf, size, 0 };

	put_common(&b, &c, time_ms, severity_id, env);
	kv_str(&b, "message", message);
	open_unmapped(&b, task_id, task, env);
	kv_str(&b, "event", what);
	if (fields && *fields) {
		PUTS(&b, ",");
		put(&b, fields, strlen(fields));
	}
	PUTS(&b, "}}}\n");
	if (b.len < size)
		buf[b.len] = '\0';
	return b.len;
}

size_t ts_event_text(char *buf, size_t size, const struct ts_event *e,
		     const struct ts_fmt_task *task, const struct ts_fmt_env *env)
{
	__s64 real = (__s64)e->time_ns + env->boot_to_real_ns;
	time_t secs = (time_t)(real / 1000000000);
	char when[32], id[17], target[300], comm[TS_COMM_LEN + 1];
	struct tm tm;
	int n;

	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	ts_task_id_text(e->task_id, id);
	memcpy(comm, e->comm, TS_COMM_LEN);
	comm[TS_COMM_LEN] = '\0';
	if (e->kind == TS_KIND_NET && e->family == 10) {
		char a[INET6_ADDRSTRLEN];

		addr_text(e, a, sizeof(a));
		snprintf(target, sizeof(target), "%s port %u", a, e->port);
	} else if (e->peer_pid) {
		snprintf(target, sizeof(target), "pid %u", e->peer_pid);
	} else {
		ts_json_escape(target, sizeof(target), e->path, strnlen(e->path, sizeof(e->path)),
			       NULL);
	}
	n = snprintf(buf, size, "%s.%03dZ %-5s %-7s %s  task=%s%s%s%s pid=%u comm=%s rule=%u (%s)\n",
		     when, (int)((real / 1000000) % 1000), ts_verdict_name(e->verdict),
		     ts_op_name(e->op), target, id, task && task->name ? " (" : "",
		     task && task->name ? task->name : "", task && task->name ? ")" : "", e->tgid,
		     comm, e->rule_id, ts_reason_name(e->reason));
	return n < 0 ? 0 : (size_t)n;
}
