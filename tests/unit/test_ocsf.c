// SPDX-License-Identifier: MIT
/*
 * The OCSF formatter: one golden record per class and activity
 * (tests/unit/golden/NAME.json, byte for byte), each also read back with
 * jansson and checked field by field; escaping per RFC 8259; invalid UTF-8
 * escaped, never dropped. TS_UPDATE_GOLDEN=1 rewrites the golden files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <jansson.h>
#include "ts_ocsf.h"

#define GOLDEN_DIR "tests/unit/golden/"

static const struct ts_fmt_env env = {
	.hostname = "build-7",
	.trust_domain = "example.org",
	.version = "0.1.0",
	.boot_to_real_ns = 1795400000000000000ll,
};
static const struct ts_fmt_task task = { "coding", "coding-agent", TS_MODE_ENFORCE };

static struct ts_event base(__u8 kind, __u8 op, __u8 verdict, __u8 reason)
{
	struct ts_event e;

	memset(&e, 0, sizeof(e));
	e.time_ns = 123456789000ull;
	e.task_id = 0x1ba0b47726cdf010ull;
	e.pid = 4242;
	e.tgid = 4242;
	e.ppid = 4200;
	e.uid = 1000;
	e.kind = kind;
	e.op = op;
	e.verdict = verdict;
	e.reason = reason;
	e.ret = verdict == TS_VERDICT_DENY ? (kind == TS_KIND_FILE ? -13 : -1) : 0;
	memcpy(e.comm, "agent", 6);
	return e;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);

	if (f) {
		size_t n = fread(buf, 1, 65535, f);

		buf[n] = '\0';
		fclose(f);
	}
	return buf;
}

/* Format, compare with the golden file, and return the parsed record. */
static json_t *golden(const char *name, const char *line)
{
	char path[256];
	char *want;
	json_t *v;

	snprintf(path, sizeof(path), GOLDEN_DIR "%s.json", name);
	if (getenv("TS_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs(line, f);
		fclose(f);
	}
	want = read_file(path);
	if (strcmp(want, line))
		fail_msg("%s differs from %s:\n  got  %s  want %s", name, path, line, want);
	free(want);
	v = json_loads(line, 0, NULL);
	assert_non_null(v);
	return v;
}

static json_t *event_golden(const char *name, const struct ts_event *e,
			    const struct ts_fmt_extra *x)
{
	char line[16384];
	size_t n = ts_ocsf_event(line, sizeof(line), e, &task, &env, x);

	assert_true(n < sizeof(line));
	assert_int_equal(line[n - 1], '\n');
	assert_int_equal(strlen(line), n);
	return golden(name, line);
}

static long long num(json_t *v, const char *a, const char *b, const char *c)
{
	json_t *x = json_object_get(v, a);

	if (b)
		x = json_object_get(x, b);
	if (c)
		x = json_object_get(x, c);
	return json_integer_value(x);
}

static const char *text(json_t *v, const char *a, const char *b, const char *c)
{
	json_t *x = json_object_get(v, a);

	if (b)
		x = json_object_get(x, b);
	if (c)
		x = json_object_get(x, c);
	return json_string_value(x);
}

static void exec_allowed(void **state)
{
	struct ts_event e = base(TS_KIND_EXEC, TS_OP_EXEC, TS_VERDICT_ALLOW, TS_REASON_RULE);
	struct ts_fmt_extra x = { "/usr/bin/bash", "exec.allow[0] /usr/bin/" };
	json_t *v;

	(void)state;
	e.rule_id = 1;
	e.access = TS_ACCESS_EXEC;
	strcpy(e.path, "/usr/bin/git");
	v = event_golden("exec-allowed", &e, &x);
	assert_int_equal(num(v, "class_uid", NULL, NULL), 1007);
	assert_int_equal(num(v, "activity_id", NULL, NULL), 1);
	assert_int_equal(num(v, "type_uid", NULL, NULL), 100701);
	assert_int_equal(num(v, "time", NULL, NULL), 1795400123456ll);
	assert_string_equal(text(v, "disposition", NULL, NULL), "Allowed");
	assert_int_equal(num(v, "severity_id", NULL, NULL), 1);
	assert_string_equal(text(v, "process", "file", "path"), "/usr/bin/git");
	assert_string_equal(text(v, "actor", "process", "name"), "agent");
	assert_int_equal(num(v, "actor", "process", "pid"), 4242);
	assert_string_equal(text(v, "actor", "user", "uid"), "1000");
	assert_string_equal(text(v, "metadata", "product", "name"), "taskscope");
	assert_string_equal(text(v, "device", "hostname", NULL), "build-7");
	assert_string_equal(text(v, "unmapped", "taskscope", "spiffe_id"),
			    "spiffe://example.org/task/1ba0b47726cdf010");
	assert_string_equal(text(v, "unmapped", "taskscope", "rule"), "exec.allow[0] /usr/bin/");
	json_decref(v);
}

static void file_read_blocked(void **state)
{
	struct ts_event e = base(TS_KIND_FILE, TS_OP_OPEN, TS_VERDICT_DENY, TS_REASON_RULE);
	json_t *v;

	(void)state;
	e.rule_id = 14;
	e.access = TS_ACCESS_READ;
	strcpy(e.path, "/home/dev/.ssh/id_ed25519");
	v = event_golden("file-read-blocked", &e, NULL);
	assert_int_equal(num(v, "class_uid", NULL, NULL), 1001);
	assert_string_equal(text(v, "activity_name", NULL, NULL), "Read");
	assert_string_equal(text(v, "disposition", NULL, NULL), "Blocked");
	assert_int_equal(num(v, "action_id", NULL, NULL), 2);
	assert_int_equal(num(v, "severity_id", NULL, NULL), 3);
	assert_string_equal(text(v, "file", "name", NULL), "id_ed25519");
	assert_int_equal(num(v, "unmapped", "taskscope", "errno"), 13);
	json_decref(v);
}

static void file_write_audited(void **state)
{
	struct ts_event e = base(TS_KIND_FILE, TS_OP_OPEN, TS_VERDICT_AUDIT, TS_REASON_NO_RULE);
	json_t *v;

	(void)state;
	e.access = TS_ACCESS_READ | TS_ACCESS_WRITE;
	strcpy(e.path, "/etc/hosts");
	v = event_golden("file-write-audited", &e, NULL);
	assert_string_equal(text(v, "activity_name", NULL, NULL), "Update");
	assert_string_equal(text(v, "disposition", NULL, NULL), "Detected");
	assert_int_equal(num(v, "severity_id", NULL, NULL), 2);
	assert_string_equal(text(v, "unmapped", "taskscope", "verdict"), "audit");
	json_decref(v);
}

static void file_delete_blocked(void **state)
{
	struct ts_event e = base(TS_KIND_FILE, TS_OP_UNLINK, TS_VERDICT_DENY, TS_REASON_RULE);
	json_t *v;

	(void)state;
	e.access = TS_ACCESS_WRITE;
	strcpy(e.path, "/srv/data/db.sqlite");
	v = event_golden("file-delete-blocked", &e, NULL);
	assert_int_equal(num(v, "activity_id", NULL, NULL), 4);
	assert_string_equal(text(v, "activity_name", NULL, NULL), "Delete");
	json_decref(v);
}

static void net_connect_blocked(void **state)
{
	struct ts_event e = base(TS_KIND_NET, TS_OP_CONNECT, TS_VERDICT_DENY, TS_REASON_NO_RULE);
	json_t *v;

	(void)state;
	e.family = 10;
	e.port = 443;
	inet_pton(AF_INET6, "::ffff:10.1.2.3", e.addr);
	v = event_golden("net-connect-blocked", &e, NULL);
	assert_int_equal(num(v, "class_uid", NULL, NULL), 4001);
	assert_int_equal(num(v, "activity_id", NULL, NULL), 1);
	assert_string_equal(text(v, "dst_endpoint", "ip", NULL), "10.1.2.3");
	assert_int_equal(num(v, "dst_endpoint", "port", NULL), 443);
	assert_int_equal(num(v, "unmapped", "taskscope", "errno"), 1);
	json_decref(v);
}

static void net_connect_v6_allowed(void **state)
{
	struct ts_event e = base(TS_KIND_NET, TS_OP_CONNECT, TS_VERDICT_ALLOW, TS_REASON_RULE);
	json_t *v;

	(void)state;
	e.family = 10;
	e.port = 8443;
	e.rule_id = 20;
	inet_pton(AF_INET6, "2001:db8::7", e.addr);
	v = event_golden("net-connect-v6-allowed", &e, NULL);
	assert_string_equal(text(v, "dst_endpoint", "ip", NULL), "2001:db8::7");
	json_decref(v);
}

static void unix_connect_blocked(void **state)
{
	struct ts_event e = base(TS_KIND_NET, TS_OP_CONNECT, TS_VERDICT_DENY, TS_REASON_NO_RULE);
	json_t *v;

	(void)state;
	e.family = 1;
	e.access = TS_ACCESS_CONNECT;
	strcpy(e.path, "/run/docker.sock");
	v = event_golden("unix-connect-blocked", &e, NULL);
	assert_string_equal(text(v, "unmapped", "taskscope", "socket_path"), "/run/docker.sock");
	json_decref(v);
}

static void guard_ptrace_blocked(void **state)
{
	struct ts_event e = base(TS_KIND_GUARD, TS_OP_PTRACE, TS_VERDICT_DENY, TS_REASON_GUARD);
	json_t *v;

	(void)state;
	e.peer_pid = 1;
	v = event_golden("guard-ptrace-blocked", &e, NULL);
	assert_int_equal(num(v, "class_uid", NULL, NULL), 1007);
	assert_int_equal(num(v, "severity_id", NULL, NULL), 4);
	assert_int_equal(num(v, "process", "pid", NULL), 1);
	json_decref(v);
}

static void lifecycle_started(void **state)
{
	char line[4096];
	size_t n;
	json_t *v;

	(void)state;
	n = ts_ocsf_lifecycle(line, sizeof(line), 1795400000123ull, 0x1ba0b47726cdf010ull, &task,
			      &env, "task started", 1, "task started",
			      "\"owner_uid\":1000,\"ttl\":\"30m\"");
	assert_true(n < sizeof(line));
	v = golden("lifecycle-started", line);
	assert_int_equal(num(v, "class_uid", NULL, NULL), 3004);
	assert_string_equal(text(v, "unmapped", "taskscope", "event"), "task started");
	assert_int_equal(num(v, "unmapped", "taskscope", "owner_uid"), 1000);
	json_decref(v);
}

static void strings_escaped(void **state)
{
	struct ts_event e = base(TS_KIND_FILE, TS_OP_OPEN, TS_VERDICT_DENY, TS_REASON_NO_RULE);
	char line[16384];
	json_t *v;

	(void)state;
	/* Quote, backslash, newline, tab, a control byte, and valid UTF-8. */
	strcpy(e.path, "/tmp/a\"b\\c\nd\te\x01" "f-\xc3\xa9t\xc3\xa9");
	ts_ocsf_event(line, sizeof(line), &e, &task, &env, NULL);
	assert_non_null(strstr(line, "\"/tmp/a\\\"b\\\\c\\nd\\te\\u0001f-\xc3\xa9t\xc3\xa9\""));
	v = json_loads(line, 0, NULL);
	assert_non_null(v);
	assert_string_equal(text(v, "file", "path", NULL), e.path);
	assert_null(json_object_get(json_object_get(json_object_get(v, "unmapped"), "taskscope"),
				    "path_escaped"));
	json_decref(v);
}

static void invalid_utf8_escaped_not_dropped(void **state)
{
	struct ts_event e = base(TS_KIND_FILE, TS_OP_OPEN, TS_VERDICT_DENY, TS_REASON_NO_RULE);
	char line[16384];
	json_t *v;

	(void)state;
	/* A lone continuation byte, an overlong '/', a surrogate, a
	 * truncated sequence at the end; and a backslash, doubled so that
	 * \xNN stays unambiguous. */
	strcpy(e.path, "/tmp/\x80x\xc0\xaf\\y\xed\xa0\x80z\xe2\x82");
	ts_ocsf_event(line, sizeof(line), &e, &task, &env, NULL);
	v = json_loads(line, 0, NULL);
	assert_non_null(v);
	assert_string_equal(text(v, "file", "path", NULL),
			    "/tmp/\\x80x\\xc0\\xaf\\\\y\\xed\\xa0\\x80z\\xe2\\x82");
	assert_true(json_is_true(json_object_get(
		json_object_get(json_object_get(v, "unmapped"), "taskscope"), "path_escaped")));
	json_decref(v);
}

static void too_small_a_buffer_says_how_much(void **state)
{
	struct ts_event e = base(TS_KIND_EXEC, TS_OP_EXEC, TS_VERDICT_ALLOW, TS_REASON_RULE);
	char big[16384], small[64];
	size_t need, n;

	(void)state;
	strcpy(e.path, "/usr/bin/git");
	need = ts_ocsf_event(big, sizeof(big), &e, &task, &env, NULL);
	n = ts_ocsf_event(small, sizeof(small), &e, &task, &env, NULL);
	assert_int_equal(n, need);
	assert_true(n >= sizeof(small));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exec_allowed),
		cmocka_unit_test(file_read_blocked),
		cmocka_unit_test(file_write_audited),
		cmocka_unit_test(file_delete_blocked),
		cmocka_unit_test(net_connect_blocked),
		cmocka_unit_test(net_connect_v6_allowed),
		cmocka_unit_test(unix_connect_blocked),
		cmocka_unit_test(guard_ptrace_blocked),
		cmocka_unit_test(lifecycle_started),
		cmocka_unit_test(strings_escaped),
		cmocka_unit_test(invalid_utf8_escaped_not_dropped),
		cmocka_unit_test(too_small_a_buffer_says_how_much),
	};

	return cmocka_run_group_tests_name("ocsf", tests, NULL, NULL);
}
