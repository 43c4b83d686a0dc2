// SPDX-License-Identifier: MIT
/*
 * Task secrets, end to end: minted as the task starts, readable by its
 * members only, gone and revoked when it ends (even across a daemon crash),
 * and never written anywhere but their own file.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "kdaemon.h"
#include "ktest.h"

#define DIR "/tmp/kt-s"
#define SOCK "/run/kt-s/control.sock"
#define STATE "/run/kt-s"
#define SECRETS STATE "/secrets"
#define EVENTS DIR "/events.jsonl"
#define VALUE "s3cr3t-value-7f1c"
#define REVOKED DIR "/revoked.log"
#define FILE_VALUE "c0pied-f1le-9a2e"

static int probe(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[2], "open"))
		return kt_open_errno(argv[3], O_RDONLY);
	if (argc >= 4 && !strcmp(argv[2], "env")) {
		const char *v = getenv(argv[3]);

		return v && !strcmp(v, VALUE) ? 0 : 1;
	}
	if (argc >= 5 && !strcmp(argv[2], "has")) {
		char buf[256] = "";
		int fd = open(argv[3], O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

		if (fd >= 0)
			close(fd);
		return n >= 0 && !strcmp(buf, argv[4]) ? 0 : 1;
	}
	if (argc >= 3 && !strcmp(argv[2], "sleep"))
		for (;;)
			pause();
	return 98;
}

static void setup(void)
{
	kt_rm_rf(DIR);
	kt_mkdirs(DIR);
	write_policy(DIR "/taskscoped.conf",
		     "{\"socket\": \"%s\", \"pin_dir\": \"/sys/fs/bpf/kt-s\", \"state_dir\": \"%s\",\n"
		     " \"helper_timeout\": \"3s\", \"sinks\": [{\"type\": \"file\", \"path\": \"%s\"}]}",
		     SOCK, STATE, EVENTS);
	/* A mint helper that prints the value, one that hangs, one that
	 * floods; a revoke helper that records each call. */
	write_policy(DIR "/mint", "#!/bin/sh\nprintf '%%s' '" VALUE "'\n");
	write_policy(DIR "/mint-hang", "#!/bin/sh\nsleep 1000\n");
	write_policy(DIR "/mint-flood", "#!/bin/sh\nhead -c 10485760 /dev/zero | tr '\\\\0' x\n");
	write_policy(DIR "/revoke",
		     "#!/bin/sh\necho \"$TASKSCOPE_TASK_ID $TASKSCOPE_SECRET_NAME\" >> " REVOKED "\n");
	chmod(DIR "/mint", 0755);
	chmod(DIR "/mint-hang", 0755);
	chmod(DIR "/mint-flood", 0755);
	chmod(DIR "/revoke", 0755);
	write_policy(DIR "/with-secret.json",
		     "{\"name\": \"kt-secret\", \"log\": {\"allow\": \"none\"},\n"
		     " \"exec\": {\"allow\": [\"/bin/\", \"%s\"]},\n"
		     " \"file\": {\"read\": [\"/\"], \"write\": [\"/dev/null\"]},\n"
		     " \"secrets\": [{\"name\": \"TOKEN\", \"source\": \"exec:" DIR "/mint\",\n"
		     "              \"deliver\": [\"file\", \"env\"], \"revoke\": \"exec:" DIR "/revoke\"}]}",
		     kd_self);
	write_policy(DIR "/source-token", FILE_VALUE);
	write_policy(DIR "/file-secret.json",
		     "{\"name\": \"kt-file\", \"exec\": {\"allow\": [\"/bin/\", \"%s\"]},\n"
		     " \"file\": {\"read\": [\"/\"]},\n"
		     " \"secrets\": [{\"name\": \"COPY\", \"source\": \"file:" DIR "/source-token\"}]}",
		     kd_self);
	write_policy(DIR "/file-missing.json",
		     "{\"name\": \"kt-file-missing\", \"file\": {\"read\": [\"/\"]},\n"
		     " \"secrets\": [{\"name\": \"COPY\", \"source\": \"file:" DIR "/no-such-token\"}]}");
	write_policy(DIR "/other.json",
		     "{\"name\": \"kt-other\", \"exec\": {\"allow\": [\"/bin/\", \"%s\"]},\n"
		     " \"file\": {\"read\": [\"/\"]}}",
		     kd_self);
	write_policy(DIR "/hang.json",
		     "{\"name\": \"kt-hang\", \"file\": {\"read\": [\"/\"]},\n"
		     " \"secrets\": [{\"name\": \"T\", \"source\": \"exec:" DIR "/mint-hang\"}]}");
	write_policy(DIR "/flood.json",
		     "{\"name\": \"kt-flood\", \"file\": {\"read\": [\"/\"]},\n"
		     " \"secrets\": [{\"name\": \"T\", \"source\": \"exec:" DIR "/mint-flood\"}]}");
}

static void start_daemon(void)
{
	daemon_up();
}

/* Start a task with a secret and a member that stays; its id in `id`. */
static pid_t secret_task(char *id, size_t size)
{
	pid_t member;

	KT_EXPECT_EQ(tscli(id, size, "start", "--policy", DIR "/with-secret.json", NULL), 0);
	first_line(id);
	member = fork();
	if (member == 0) {
		char *argv[] = { kd_cli, "--socket", SOCK, "enroll", id, "--", kd_self, "probe",
				 "sleep", NULL };

		execv(kd_cli, argv);
		_exit(127);
	}
	/* Enrolled before the caller goes on: an end that came first would
	 * find no member to kill. */
	{
		char want[300];
		json_t *e;

		snprintf(want, sizeof(want), "{\"task_id\": \"%.16s\", \"event\": \"process enrolled\"}",
			 id);
		e = find_event(want);
		KT_EXPECT(e, "the member of task %.16s was never enrolled", id);
		json_decref(e);
	}
	return member;
}

static void secret_path(const char *id, char *buf, size_t size)
{
	snprintf(buf, size, SECRETS "/%s/TOKEN", id);
}

static void member_reads_others_do_not(void)
{
	char id[256], other[256], out[4096], path[512];
	pid_t member;
	struct stat st;

	member = secret_task(id, sizeof(id));
	secret_path(id, path, sizeof(path));
	KT_EXPECT(!stat(path, &st), "no secret file at %s", path);
	KT_EXPECT_EQ(st.st_mode & 07777, 0400);
	/* A member of the task reads it, by file and by environment. */
	KT_EXPECT_EQ(tscli(out, sizeof(out), "enroll", id, "--", kd_self, "probe", "open", path,
			   NULL), 0);
	KT_EXPECT_EQ(tscli(out, sizeof(out), "-q", "run", "--policy", DIR "/with-secret.json",
			   "--", kd_self, "probe", "env", "TOKEN", NULL), 0);
	/* A member of another task is refused. */
	KT_EXPECT_EQ(tscli(other, sizeof(other), "start", "--policy", DIR "/other.json", NULL), 0);
	first_line(other);
	KT_EXPECT_EQ(tscli(out, sizeof(out), "enroll", other, "--", kd_self, "probe", "open", path,
			   NULL), EACCES);
	/* So is root outside any task: this test process itself. */
	KT_EXPECT_EQ(kt_open_errno(path, O_RDONLY), EACCES);
	{
		char want[600];

		snprintf(want, sizeof(want),
			 "{\"task_id\": \"%s\", \"reason\": \"secret\", \"verdict\": \"deny\"}", id);
		KT_EXPECT(count_events(EVENTS, want) >= 2 || (sleep(1), count_events(EVENTS, want) >= 2),
			  "the two refusals were not both logged");
	}
	tscli(out, sizeof(out), "end", other, NULL);
	KT_EXPECT_EQ(tscli(out, sizeof(out), "end", id, NULL), 0);
	KT_EXPECT_EQ(kt_wait(member), 128 + SIGKILL);
}

static unsigned int revoked_count(const char *id)
{
	char line[256];
	unsigned int n = 0;
	FILE *f = fopen(REVOKED, "r");

	while (f && fgets(line, sizeof(line), f))
		n += !strncmp(line, id, 16);
	if (f)
		fclose(f);
	return n;
}

static void end_removes_and_revokes_once(void)
{
	char id[256], out[4096], path[512];
	struct stat st;
	pid_t member;
	int i;

	member = secret_task(id, sizeof(id));
	secret_path(id, path, sizeof(path));
	KT_EXPECT_EQ(tscli(out, sizeof(out), "end", id, NULL), 0);
	KT_EXPECT_EQ(kt_wait(member), 128 + SIGKILL);
	KT_EXPECT(stat(path, &st) && errno == ENOENT, "the secret file survived the task");
	for (i = 0; i < 50 && !revoked_count(id); i++)
		usleep(100000);
	sleep(2); /* a second, wrong, revocation would show by now */
	KT_EXPECT_EQ(revoked_count(id), 1);
	{
		char want[600];

		snprintf(want, sizeof(want),
			 "{\"task_id\": \"%s\", \"event\": \"secret revoked\", \"secret\": \"TOKEN\"}",
			 id);
		expect_event(want);
	}
}

static void crash_ttl_restart_revokes(void)
{
	char id[256], path[512];
	struct stat st;
	pid_t member;
	int i;

	KT_EXPECT_EQ(tscli(id, sizeof(id), "start", "--policy", DIR "/with-secret.json", "--ttl",
			   "3s", NULL), 0);
	first_line(id);
	member = fork();
	if (member == 0) {
		char *argv[] = { kd_cli, "--socket", SOCK, "enroll", id, "--", kd_self, "probe",
				 "sleep", NULL };

		execv(kd_cli, argv);
		_exit(127);
	}
	sleep(1);
	secret_path(id, path, sizeof(path));
	KT_EXPECT(!stat(path, &st), "no secret file");
	daemon_down(SIGKILL);
	sleep(4); /* the ttl passes with no daemon */
	/* The kernel already refuses the expired task, secret included. */
	daemon_up();
	KT_EXPECT_EQ(kt_wait(member), 128 + SIGKILL);
	for (i = 0; i < 50 && !revoked_count(id); i++)
		usleep(100000);
	KT_EXPECT(stat(path, &st) && errno == ENOENT, "the secret file survived");
	KT_EXPECT_EQ(revoked_count(id), 1);
}

/* Nothing of a failed start: no task, no secret directory, no entries. */
static void expect_nothing_left(const char *name)
{
	char out[8192];

	KT_EXPECT_EQ(tscli(out, sizeof(out), "--json", "list", NULL), 0);
	KT_EXPECT(!strstr(out, name), "task %s is listed: %.200s", name, out);
	{
		/* The secrets directory holds no task's directory. */
		FILE *f = popen("ls " SECRETS " | wc -l", "r");
		int n = -1;

		if (f) {
			if (fscanf(f, "%d", &n) != 1)
				n = -1;
			pclose(f);
		}
		KT_EXPECT_EQ(n, 0);
	}
}

static void failing_mint_leaves_nothing(void)
{
	char out[4096];
	long start = kt_now_ms();

	KT_EXPECT_EQ(tscli(out, sizeof(out), "start", "--policy", DIR "/hang.json", NULL), 1);
	KT_EXPECT(strstr(out, "secret 'T': did not finish within 3s"), "hang said: %s", out);
	kt_info("a hanging mint helper failed the start after %ld ms", kt_now_ms() - start);
	expect_nothing_left("kt-hang");
	KT_EXPECT_EQ(tscli(out, sizeof(out), "start", "--policy", DIR "/flood.json", NULL), 1);
	KT_EXPECT(strstr(out, "secret 'T': printed more than 65536 bytes"), "flood said: %s", out);
	expect_nothing_left("kt-flood");
}

/* file: a copy made as the task starts; later changes to the source do not
 * reach it, and a source that cannot be read fails the start. */
static void file_source_is_copied(void)
{
	char id[256], out[4096], path[512];
	struct stat st;

	KT_EXPECT_EQ(tscli(id, sizeof(id), "start", "--policy", DIR "/file-secret.json", NULL), 0);
	first_line(id);
	snprintf(path, sizeof(path), SECRETS "/%s/COPY", id);
	KT_EXPECT(!stat(path, &st), "no secret file at %s", path);
	KT_EXPECT_EQ(st.st_mode & 07777, 0400);
	write_policy(DIR "/source-token", "changed after the start");
	KT_EXPECT_EQ(tscli(out, sizeof(out), "enroll", id, "--", kd_self, "probe", "has", path,
			   FILE_VALUE, NULL),
		     0);
	KT_EXPECT_EQ(kt_open_errno(path, O_RDONLY), EACCES);
	KT_EXPECT_EQ(tscli(out, sizeof(out), "end", id, NULL), 0);
	KT_EXPECT(stat(path, &st) && errno == ENOENT, "%s is still there after the end", path);
	write_policy(DIR "/source-token", FILE_VALUE);
	KT_EXPECT_EQ(tscli(out, sizeof(out), "start", "--policy", DIR "/file-missing.json", NULL), 1);
	KT_EXPECT(strstr(out, "secret 'COPY'"), "a missing source said: %s", out);
	expect_nothing_left("kt-file-missing");
}

/* The value is in its file and in a run's environment, nowhere else. */
static void value_never_leaks(void)
{
	char out[65536], id[256];
	char *argv[] = { "/bin/grep", "-r", "-l", VALUE, DIR, STATE "/tasks", NULL };
	pid_t member;

	member = secret_task(id, sizeof(id));
	KT_EXPECT_EQ(tscli(out, sizeof(out), "--json", "show", id, NULL), 0);
	KT_EXPECT(strstr(out, "\"TOKEN\""), "show does not name the secret: %.300s", out);
	KT_EXPECT(!strstr(out, VALUE), "show leaks the value");
	KT_EXPECT_EQ(tscli(out, sizeof(out), "--json", "events", NULL), 0);
	KT_EXPECT(!strstr(out, VALUE), "events leak the value");
	/* grep -l: which files (events, daemon log, state, policies' helper
	 * scripts excepted) contain it. */
	run_capture(out, sizeof(out), argv);
	KT_EXPECT(!strstr(out, "events.jsonl"), "the event file holds the value");
	KT_EXPECT(!strstr(out, "daemon.log"), "the daemon log holds the value");
	KT_EXPECT(!strstr(out, STATE "/tasks"), "the state holds the value");
	tscli(out, sizeof(out), "end", id, NULL);
	kt_wait(member);
}

static void stop_daemon(void)
{
	daemon_down(SIGTERM);
	daemon_teardown(DIR "/taskscoped.conf");
}

int main(int argc, char **argv)
{
	static const struct kt_case cases[] = {
		{ "(start taskscoped)", start_daemon },
		{ "a member reads its secret; others are refused", member_reads_others_do_not },
		{ "end removes the secret and revokes it once", end_removes_and_revokes_once },
		{ "kill -9, ttl passes, restart: removed and revoked", crash_ttl_restart_revokes },
		{ "a hanging or flooding mint leaves nothing", failing_mint_leaves_nothing },
		{ "a file: source is copied at start", file_source_is_copied },
		{ "the value never leaks", value_never_leaks },
		{ "(stop taskscoped, tear down)", stop_daemon },
		{ 0 },
	};

	if (argc > 1 && !strcmp(argv[1], "probe"))
		return probe(argc, argv);
	kd_init();
	kd_sock = SOCK;
	kd_events = EVENTS;
	kd_config = DIR "/taskscoped.conf";
	kd_log = DIR "/daemon.log";
	setup();
	return kt_main("secrets", cases);
}
