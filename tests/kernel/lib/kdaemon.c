// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "kdaemon.h"
#include "ktest.h"

const char *kd_sock, *kd_events, *kd_config, *kd_log;
char kd_cli[512], kd_self[512];
pid_t daemon_pid;

void kd_init(void)
{
	const char *out = getenv("OUTPUT") ? getenv("OUTPUT") : ".output";

	if (!realpath("/proc/self/exe", kd_self))
		kd_self[0] = '\0';
	snprintf(kd_cli, sizeof(kd_cli), "%s/taskscope", out);
}

/* Run argv (NULL-terminated) with stdout and stderr into `out`; exit status. */
int run_capture(char *out, size_t size, char *const argv[])
{
	int pipefd[2], status;
	size_t used = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		char sink[4096];

		/* Keep reading past a full buffer: a writer must never see EPIPE. */
		n = read(pipefd[0], used < size - 1 ? out + used : sink,
			 used < size - 1 ? size - used - 1 : sizeof(sink));
		if (n <= 0)
			break;
		if (used < size - 1)
			used += (size_t)n;
	}
	out[used] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* taskscope --socket kd_sock ARGS...: exit status, output in `out`. */
int tscli(char *out, size_t size, ...)
{
	char *argv[32] = { kd_cli, "--socket", (char *)kd_sock };
	int argc = 3;
	va_list ap;

	va_start(ap, size);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	return run_capture(out, size, argv);
}

void write_policy(const char *path, const char *fmt, ...)
{
	char text[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	KT_EXPECT(!kt_write_file(path, text), "cannot write policy %s", path);
}

static bool socket_up(void)
{
	struct stat st;

	return !stat(kd_sock, &st) && S_ISSOCK(st.st_mode);
}

static void daemon_exec_path(char *buf, size_t size)
{
	snprintf(buf, size, "%s/taskscoped", getenv("OUTPUT") ? getenv("OUTPUT") : ".output");
}

void daemon_up_with(const char *config)
{
	char bin[512];
	int i;

	daemon_exec_path(bin, sizeof(bin));
	unlink(kd_sock);
	daemon_pid = fork();
	if (daemon_pid == 0) {
		int fd = open(kd_log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(bin, "taskscoped", "--config", config, NULL);
		_exit(127);
	}
	for (i = 0; i < 300 && !socket_up(); i++)
		usleep(100000);
	KT_EXPECT(socket_up(), "taskscoped did not come up (see %s)", kd_log);
}

void daemon_up(void)
{
	daemon_up_with(kd_config);
}

/* taskscoped --teardown with `config`: nothing of it left behind. */
void daemon_teardown(const char *config)
{
	char bin[512];
	pid_t pid;

	daemon_exec_path(bin, sizeof(bin));
	pid = fork();
	if (pid == 0) {
		execl(bin, "taskscoped", "--config", config, "--teardown", NULL);
		_exit(127);
	}
	KT_EXPECT_EQ(kt_wait(pid), 0);
}

void daemon_down(int sig)
{
	if (daemon_pid <= 0)
		return;
	kill(daemon_pid, sig);
	kt_wait(daemon_pid);
	daemon_pid = 0;
}

/* The first line of the file sink for which every key=value of `want`
 * (a JSON object matched against unmapped.taskscope and the top level)
 * holds, waiting up to 5 s. */
/* Does record `e` hold every key=value of `want`? */
static bool event_matches(json_t *e, json_t *want)
{
	json_t *ts = json_object_get(json_object_get(e, "unmapped"), "taskscope"), *v;
	const char *key;

	json_object_foreach(want, key, v) {
		json_t *have = json_object_get(ts, key) ?: json_object_get(e, key);

		if (!have || !json_equal(have, v))
			return false;
	}
	return true;
}

/* How many records of file `path` match `want_json`. */
unsigned int count_events(const char *path, const char *want_json)
{
	json_t *want = json_loads(want_json, 0, NULL);
	FILE *f = fopen(path, "r");
	unsigned int n = 0;
	char line[16384];

	while (want && f && fgets(line, sizeof(line), f)) {
		json_t *e = json_loads(line, 0, NULL);

		n += e && event_matches(e, want);
		json_decref(e);
	}
	if (f)
		fclose(f);
	json_decref(want);
	return n;
}

json_t *find_event_in(const char *path, const char *want_json)
{
	json_t *want = json_loads(want_json, 0, NULL);
	long deadline = kt_now_ms() + 5000;

	while (want) {
		FILE *f = fopen(path, "r");
		char line[16384];

		while (f && fgets(line, sizeof(line), f)) {
			json_t *e = json_loads(line, 0, NULL);

			if (e && event_matches(e, want)) {
				fclose(f);
				json_decref(want);
				return e;
			}
			json_decref(e);
		}
		if (f)
			fclose(f);
		if (kt_now_ms() > deadline)
			break;
		usleep(100000);
	}
	json_decref(want);
	return NULL;
}

json_t *find_event(const char *want_json)
{
	return find_event_in(kd_events, want_json);
}

void expect_event(const char *want_json)
{
	json_t *e = find_event(want_json);

	KT_EXPECT(e, "no event matching %s", want_json);
	json_decref(e);
}

/* "ID\n" from `start` */
void first_line(char *s)
{
	s[strcspn(s, "\n")] = '\0';
}

