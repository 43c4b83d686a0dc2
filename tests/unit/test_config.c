// SPDX-License-Identifier: MIT
/* The daemon's configuration: defaults, every key, and errors that point
 * at file:line:column. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "daemon.h"
#include "sinks.h"
#include "ts_duration.h"
#include "ts_log.h"

static char errors[8192];

static void capture(enum ts_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == TS_LOG_ERROR) {
		strncat(errors, msg, sizeof(errors) - strlen(errors) - 2);
		strcat(errors, "\n");
	}
}

static const char *write_tmp(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/test-config-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static int load(struct config *c, const char *text)
{
	const char *path = write_tmp(text);
	int err;

	errors[0] = '\0';
	ts_log_set_sink(capture, NULL);
	err = config_load(c, path, true);
	ts_log_set_sink(NULL, NULL);
	unlink(path);
	return err;
}

static void defaults_without_a_file(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(config_load(&c, "/nonexistent/taskscoped.conf", false), 0);
	assert_string_equal(c.socket_path, "/run/taskscope/control.sock");
	assert_string_equal(c.pin_dir, "/sys/fs/bpf/taskscope");
	assert_int_equal(c.max_ttl_ns, 24ull * 3600 * TS_NSEC_PER_SEC);
	assert_int_equal(c.nsinks, 1);
	assert_int_equal(c.sinks[0].type, SINK_STDOUT);
	/* Named explicitly, a missing file is an error, and says so. */
	errors[0] = '\0';
	ts_log_set_sink(capture, NULL);
	assert_int_equal(config_load(&c, "/nonexistent/taskscoped.conf", true), -ENOENT);
	ts_log_set_sink(NULL, NULL);
	assert_non_null(strstr(errors, "cannot open config '/nonexistent/taskscoped.conf'"));
}

static void every_key(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load(&c, "{\"socket\": \"/run/x.sock\", \"group\": \"agents\",\n"
				  " \"state_dir\": \"/run/x\", \"pin_dir\": \"/sys/fs/bpf/x\",\n"
				  " \"trust_domain\": \"example.org\", \"max_ttl\": \"2h\",\n"
				  " \"default_ttl\": \"30m\", \"resolve_interval\": \"1m\",\n"
				  " \"log\": {\"allow\": [\"exec\", \"net\"]}, \"max_tasks\": 10,\n"
				  " \"max_clients\": 20, \"sinks\": [\n"
				  "  {\"type\": \"file\", \"path\": \"/var/log/t.jsonl\", \"max_size\": \"64M\",\n"
				  "   \"keep\": 3, \"fsync\": \"always\", \"queue\": \"1M\"},\n"
				  "  {\"type\": \"syslog\", \"transport\": \"tcp\", \"host\": \"siem\", \"port\": \"6514\"}]}"),
			 0);
	assert_string_equal(c.socket_path, "/run/x.sock");
	assert_string_equal(c.socket_group, "agents");
	assert_string_equal(c.trust_domain, "example.org");
	assert_int_equal(c.max_ttl_ns, 7200ull * TS_NSEC_PER_SEC);
	assert_int_equal(c.default_ttl_ns, 1800ull * TS_NSEC_PER_SEC);
	assert_int_equal(c.default_log_allow, (1u << TS_KIND_EXEC) | (1u << TS_KIND_NET));
	assert_int_equal(c.max_tasks, 10);
	assert_int_equal(c.nsinks, 2);
	assert_int_equal(c.sinks[0].type, SINK_FILE);
	assert_int_equal(c.sinks[0].max_bytes, 64ull << 20);
	assert_int_equal(c.sinks[0].keep, 3);
	assert_int_equal(c.sinks[0].fsync_mode, SINK_FSYNC_ALWAYS);
	assert_int_equal(c.sinks[0].queue_bytes, 1u << 20);
	assert_int_equal(c.sinks[1].type, SINK_SYSLOG);
	assert_int_equal(c.sinks[1].transport, SYSLOG_TCP);
	assert_string_equal(c.sinks[1].host, "siem");
}

static void errors_point_at_the_place(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load(&c, "{\"socket\": \"relative.sock\",\n"
				  " \"max_ttl\": \"forever\",\n"
				  " \"sockte\": 1,\n"
				  " \"sinks\": [{\"type\": \"kafka\"}, {\"type\": \"file\"}]}"),
			 -EINVAL);
	assert_non_null(strstr(errors, ":1:12: socket: path must be absolute"));
	assert_non_null(strstr(errors, ":2:13: max_ttl: bad duration 'forever'"));
	assert_non_null(strstr(errors, ":3:2: sockte: unknown key 'sockte'"));
	assert_non_null(strstr(errors, ":4:21: sinks[0].type: unknown sink type 'kafka'"));
	assert_non_null(strstr(errors, ":4:31: sinks[1]: a file sink needs an absolute \"path\""));
	assert_int_equal(load(&c, "{\"max_ttl\": \"1h\",\n \"default_ttl\": \"2h\"}"), -EINVAL);
	assert_non_null(strstr(errors, ":2:17: default_ttl: default_ttl is longer than max_ttl"));
	assert_int_equal(load(&c, "{\"socket\": }"), -EINVAL);
	assert_non_null(strstr(errors, ":1:12: invalid JSON"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_without_a_file),
		cmocka_unit_test(every_key),
		cmocka_unit_test(errors_point_at_the_place),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
