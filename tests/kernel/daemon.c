// SPDX-License-Identifier: MIT
/*
 * taskscoped and the taskscope CLI, end to end, against the real kernel.
 * The daemon runs with its own socket, pins and state; commands run as
 * they would for a user. `daemon probe ...` is this binary acting as the
 * scoped command: it performs one action and exits with its errno.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <jansson.h>
#include "kdaemon.h"
#include "ktest.h"
#include "ts_names.h"

#define DIR "/tmp/kt-d"
#define SOCK "/run/kt-d/control.sock"
#define PIN "/sys/fs/bpf/kt-d"
#define STATE "/run/kt-d"
#define EVENTS DIR "/events.jsonl"

/* The names the cases use. */
#define self kd_self
#define cli kd_cli

/* --- probes: this binary as a scoped command ---------------------------- */

static int probe(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[2], "open")) {
		/* r: read, w: write, c: create */
		const char *mode = argc > 4 ? argv[4] : "r";

		return kt_open_errno(argv[3], !strcmp(mode, "c")   ? O_WRONLY | O_CREAT
					      : !strcmp(mode, "w") ? O_WRONLY
								   : O_RDONLY);
	}
	if (argc >= 4 && !strcmp(argv[2], "exec")) {
		char *args[] = { "true", NULL };

		execv(argv[3], args);
		return errno;
	}
	if (argc >= 6 && !strncmp(argv[2], "wait-open", 9)) {
		char result[16];
		int err;

		while (access(argv[3], F_OK))
			usleep(50000);
		err = kt_open_errno(argv[4], O_RDONLY);
		snprintf(result, sizeof(result), "%d\n", err);
		if (kt_write_file(argv[5], result))
			return 99;
		/* "wait-open-stay": remain a member until killed. */
		while (!strcmp(argv[2] + 9, "-stay"))
			pause();
		return 0;
	}
	if (argc >= 7 && !strcmp(argv[2], "deny-many")) {
		int i, n = atoi(argv[5]);

		while (access(argv[3], F_OK))
			usleep(20000);
		for (i = 0; i < n; i++)
			if (kt_open_errno(argv[4], O_RDONLY) != EACCES)
				return 97;
		return kt_write_file(argv[6], "done") ? 99 : 0;
	}
	if (argc >= 3 && !strcmp(argv[2], "sleep")) {
		for (;;)
			pause();
	}
	fprintf(stderr, "unknown probe\n");
	return 98;
}

static void setup_dirs(void)
{
	kt_rm_rf(DIR);
	kt_mkdirs(DIR "/a");
	kt_mkdirs(DIR "/b");
	kt_mkdirs("/tmp/kt-other");
	kt_write_file(DIR "/a/f", "a");
	kt_write_file(DIR "/b/f", "b");
	kt_write_file(DIR "/secret", "s");
	kt_copy_file("/bin/busybox", DIR "/tool");
	write_policy(DIR "/taskscoped.conf",
		     "{\"socket\": \"%s\", \"pin_dir\": \"%s\", \"state_dir\": \"%s\",\n"
		     " \"max_ttl\": \"1h\", \"sinks\": [{\"type\": \"file\", \"path\": \"%s\"}]}",
		     SOCK, PIN, STATE, EVENTS);
	/* What a member needs to run this test binary and the CLI. */
	write_policy(DIR "/parent.json",
		     "{\"name\": \"kt-parent\", \"log\": {\"allow\": \"all\"},\n"
		     " \"exec\": {\"allow\": [\"/bin/\", \"%s\", \"%s\"]},\n"
		     " \"file\": {\"read\": [\"/\"], \"write\": [\"%s/\", \"/dev/null\"],\n"
		     "          \"deny\": [\"%s/b/\", \"%s/secret\"]},\n"
		     " \"net\": {\"connect\": [\"unix:%s\"]}}",
		     self, cli, DIR, DIR, DIR, SOCK);
	/* The same scope, logging denials only. */
	write_policy(DIR "/quiet.json",
		     "{\"name\": \"kt-quiet\", \"log\": {\"allow\": \"none\"},\n"
		     " \"exec\": {\"allow\": [\"/bin/\", \"%s\", \"%s\"]},\n"
		     " \"file\": {\"read\": [\"/\"], \"write\": [\"%s/\", \"/dev/null\"],\n"
		     "          \"deny\": [\"%s/b/\", \"%s/secret\"]},\n"
		     " \"net\": {\"connect\": [\"unix:%s\"]}}",
		     self, cli, DIR, DIR, DIR, SOCK);
	/* Asks for far more than the parent has. */
	write_policy(DIR "/child.json",
		     "{\"name\": \"kt-child\", \"exec\": {\"allow\": [\"/\"]},\n"
		     " \"file\": {\"read\": [\"/\"], \"write\": [\"/\"]},\n"
		     " \"net\": {\"connect\": [\"unix:%s\"]}}",
		     SOCK);
}

/* --- the cases --------------------------------------------------------- */

static void run_denied_action(void)
{
	char out[4096];
	int rc;

	rc = tscli(out, sizeof(out), "run", "--policy", DIR "/parent.json", "--name", "kt-run",
		   "--", self, "probe", "open", DIR "/secret", NULL);
	KT_EXPECT_EQ(rc, EACCES);
	KT_EXPECT(strstr(out, "started"), "run said: %s", out);
	expect_event("{\"task_name\": \"kt-run\", \"op\": \"open\", \"verdict\": \"deny\","
		     " \"errno\": 13, \"class_uid\": 1001, \"disposition\": \"Blocked\"}");
	expect_event("{\"task_name\": \"kt-run\", \"event\": \"task ended\","
		     " \"reason\": \"revoked\"}");
	/* The allowed read of the same run's tree works. */
	rc = tscli(out, sizeof(out), "-q", "run", "--policy", DIR "/parent.json", "--", self,
		   "probe", "open", DIR "/a/f", NULL);
	KT_EXPECT_EQ(rc, 0);
}

static void delegation_cannot_widen(void)
{
	char out[8192];
	int rc;

	/* A member asks for a sub-task with write on "/", and tries to write
	 * outside what its parent may. */
	rc = tscli(out, sizeof(out), "-q", "run", "--policy", DIR "/parent.json", "--name",
		   "kt-deleg", "--", cli, "--socket", SOCK, "-q", "run", "--policy",
		   DIR "/child.json", "--name", "kt-sub", "--", self, "probe", "open",
		   "/tmp/kt-other/f", "c", NULL);
	KT_EXPECT_EQ(rc, EACCES);
	expect_event("{\"task_name\": \"kt-sub\", \"op\": \"create\", \"verdict\": \"deny\"}");
	/* The parent's deny stays in the sub-task. */
	rc = tscli(out, sizeof(out), "-q", "run", "--policy", DIR "/parent.json", "--", cli,
		   "--socket", SOCK, "-q", "run", "--policy", DIR "/child.json", "--", self,
		   "probe", "open", DIR "/b/f", NULL);
	KT_EXPECT_EQ(rc, EACCES);
	/* What both allow still works. */
	rc = tscli(out, sizeof(out), "-q", "run", "--policy", DIR "/parent.json", "--", cli,
		   "--socket", SOCK, "-q", "run", "--policy", DIR "/child.json", "--", self,
		   "probe", "open", DIR "/a/f", "w", NULL);
	KT_EXPECT_EQ(rc, 0);
	/* The sub-task was a child of the member's task, never a sibling. */
	expect_event("{\"task_name\": \"kt-sub\", \"event\": \"task started\"}");
	{
		json_t *parent = find_event("{\"task_name\": \"kt-deleg\", \"event\": \"task started\"}");
		json_t *sub = find_event("{\"task_name\": \"kt-sub\", \"event\": \"task started\"}");
		json_t *pt = json_object_get(json_object_get(parent, "unmapped"), "taskscope");
		json_t *st = json_object_get(json_object_get(sub, "unmapped"), "taskscope");

		KT_EXPECT(parent && sub, "start events missing");
		if (parent && sub)
			KT_EXPECT(json_equal(json_object_get(pt, "task_id"),
					     json_object_get(st, "parent_task_id")),
				  "the sub-task's parent is not the member's task");
		json_decref(parent);
		json_decref(sub);
	}
}

static void member_cannot_end_another_task(void)
{
	char other[256], out[4096];
	int rc;

	rc = tscli(other, sizeof(other), "start", "--policy", DIR "/parent.json", "--name",
		   "kt-victim", NULL);
	KT_EXPECT_EQ(rc, 0);
	first_line(other);
	rc = tscli(out, sizeof(out), "-q", "run", "--policy", DIR "/parent.json", "--", cli,
		   "--socket", SOCK, "end", other, NULL);
	KT_EXPECT_EQ(rc, 4); /* CLI_EXIT_DENIED */
	KT_EXPECT(strstr(out, "permission denied"), "end said: %s", out);
	expect_event("{\"event\": \"control denied\", \"method\": \"end\"}");
	rc = tscli(out, sizeof(out), "end", other, NULL);
	KT_EXPECT_EQ(rc, 0);
}

static void untagged_user_refused(void)
{
	pid_t pid;
	int status;

	/* Open the socket to everyone, and the CLI: the daemon itself must
	 * refuse. */
	chmod(SOCK, 0666);
	kt_copy_file(cli, DIR "/taskscope-user");
	pid = fork();
	if (pid == 0) {
		char *argv[] = { DIR "/taskscope-user", "--socket", SOCK, "start",
				 "--policy", DIR "/parent.json", "--workdir", "/tmp", NULL };
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(fd, 2);
		if (setgid(1000) || setuid(1000))
			_exit(90);
		execv(argv[0], argv);
		_exit(91);
	}
	waitpid(pid, &status, 0);
	KT_EXPECT_EQ(WEXITSTATUS(status), 4);
	expect_event("{\"event\": \"control denied\", \"method\": \"start\"}");
}

static void grant_expires_in_the_kernel(void)
{
	char id[256], out[4096];
	pid_t keeper;
	int rc;

	rc = tscli(id, sizeof(id), "start", "--policy", DIR "/parent.json", "--name", "kt-grant",
		   NULL);
	KT_EXPECT_EQ(rc, 0);
	first_line(id);
	/* A member that stays, so the task outlives each probe. */
	keeper = fork();
	if (keeper == 0) {
		char *argv[] = { cli, "--socket", SOCK, "enroll", id, "--", self, "probe", "sleep", NULL };

		execv(cli, argv);
		_exit(127);
	}
	KT_EXPECT_EQ(tscli(out, sizeof(out), "enroll", id, "--", self, "probe", "exec",
			   DIR "/tool", NULL),
		     EPERM);
	rc = tscli(out, sizeof(out), "grant", id, "exec:" DIR "/tool", "--for", "3s", NULL);
	KT_EXPECT_EQ(rc, 0);
	expect_event("{\"task_name\": \"kt-grant\", \"event\": \"grant\","
		     " \"rule\": \"exec:" DIR "/tool\"}");
	KT_EXPECT_EQ(tscli(out, sizeof(out), "enroll", id, "--", self, "probe", "exec",
			   DIR "/tool", NULL),
		     0);
	/* With no daemon to take it back, the kernel ends it: kill the
	 * daemon, let the grant lapse, and only then bring one back. */
	daemon_down(SIGKILL);
	sleep(4);
	daemon_up();
	KT_EXPECT_EQ(tscli(out, sizeof(out), "enroll", id, "--", self, "probe", "exec",
			   DIR "/tool", NULL),
		     EPERM);
	expect_event("{\"task_name\": \"kt-grant\", \"event\": \"grant expired\"}");
	KT_EXPECT_EQ(tscli(out, sizeof(out), "end", id, NULL), 0);
	KT_EXPECT_EQ(kt_wait(keeper), 128 + SIGKILL);
}

/* Entries of the daemon's pinned maps, through a second handle. */
static void count_entries(size_t *tasks, size_t *rules, size_t *nets)
{
	struct ts_kernel_opts opts = { .pin_dir = PIN };
	struct ts_kernel *k;
	__u64 *ids;

	*tasks = *rules = *nets = (size_t)-1;
	if (ts_kernel_open(&opts, &k))
		return;
	if (!ts_kernel_task_ids(k, &ids, tasks))
		free(ids);
	ts_kernel_rule_count(k, 0, rules, nets);
	ts_kernel_close(k);
}

static void crash_and_reconcile(void)
{
	char live[256], gone[256], expiring[256], out[4096], result[32] = "";
	size_t tasks, rules, nets, t2, r2, n2;
	pid_t waiter, quitter, sleeper;
	int fd;

	/* live: a member that acts later; gone: its member exits while the
	 * daemon is down; expiring: its ttl passes while it is down. */
	KT_EXPECT_EQ(tscli(live, sizeof(live), "start", "--policy", DIR "/parent.json", "--name",
			   "kt-live", NULL), 0);
	KT_EXPECT_EQ(tscli(gone, sizeof(gone), "start", "--policy", DIR "/parent.json", "--name",
			   "kt-gone", NULL), 0);
	KT_EXPECT_EQ(tscli(expiring, sizeof(expiring), "start", "--policy", DIR "/parent.json",
			   "--name", "kt-expiring", "--ttl", "3s", NULL), 0);
	first_line(live);
	first_line(gone);
	first_line(expiring);
	unlink(DIR "/go");
	waiter = fork();
	if (waiter == 0) {
		char *argv[] = { cli, "--socket", SOCK, "enroll", live, "--", self, "probe",
				 "wait-open-stay", DIR "/go", DIR "/secret", DIR "/result", NULL };

		execv(cli, argv);
		_exit(127);
	}
	quitter = fork();
	if (quitter == 0) {
		char *argv[] = { cli, "--socket", SOCK, "enroll", gone, "--", self, "probe",
				 "wait-open", DIR "/quit", DIR "/a/f", DIR "/quit-result", NULL };

		execv(cli, argv);
		_exit(127);
	}
	sleeper = fork();
	if (sleeper == 0) {
		char *argv[] = { cli, "--socket", SOCK, "enroll", expiring, "--", self, "probe",
				 "sleep", NULL };

		execv(cli, argv);
		_exit(127);
	}
	sleep(2); /* all enrolled, and seen by a sweep */
	count_entries(&tasks, &rules, &nets);
	kt_info("before kill -9: %zu tasks, %zu path rules, %zu net rules", tasks, rules, nets);

	daemon_down(SIGKILL);
	/* Members stay enforced with no daemon at all. */
	kt_write_file(DIR "/go", "go");
	for (fd = 0; fd < 50 && access(DIR "/result", F_OK); fd++)
		usleep(100000);
	fd = open(DIR "/result", O_RDONLY);
	if (fd >= 0) {
		if (read(fd, result, sizeof(result) - 1) < 0)
			result[0] = '\0';
		close(fd);
	}
	KT_EXPECT_EQ(atoi(result), EACCES);
	kt_write_file(DIR "/quit", "quit");
	kt_wait(quitter);
	sleep(3); /* expiring's ttl passes */

	daemon_up();
	sleep(2);
	KT_EXPECT_EQ(tscli(out, sizeof(out), "show", live, NULL), 0);
	KT_EXPECT(tscli(out, sizeof(out), "show", gone, NULL) != 0, "kt-gone survived");
	KT_EXPECT(tscli(out, sizeof(out), "show", expiring, NULL) != 0, "kt-expiring survived");
	KT_EXPECT_EQ(kt_wait(sleeper), 128 + SIGKILL);
	expect_event("{\"task_name\": \"kt-gone\", \"event\": \"task ended\", \"reason\": \"exit\"}");
	expect_event("{\"task_name\": \"kt-expiring\", \"event\": \"task ended\", \"reason\": \"ttl\"}");
	KT_EXPECT_EQ(tscli(out, sizeof(out), "end", live, NULL), 0);
	KT_EXPECT_EQ(kt_wait(waiter), 128 + SIGKILL);
	count_entries(&t2, &r2, &n2);
	kt_info("after restart and end: %zu tasks, %zu path rules, %zu net rules", t2, r2, n2);
	KT_EXPECT_EQ(t2, 0);
	KT_EXPECT_EQ(r2, 0);
	KT_EXPECT_EQ(n2, 0);
}

static void teardown_on_exit_and_ttl(void)
{
	char id[256], out[4096];
	pid_t member;
	int i;

	/* Last member exits: the task ends within a sweep or two. */
	KT_EXPECT_EQ(tscli(id, sizeof(id), "start", "--policy", DIR "/parent.json", "--name",
			   "kt-exit", NULL), 0);
	first_line(id);
	KT_EXPECT_EQ(tscli(out, sizeof(out), "enroll", id, "--", "/bin/sleep", "1", NULL), 0);
	for (i = 0; i < 30 && !tscli(out, sizeof(out), "show", id, NULL); i++)
		usleep(100000);
	KT_EXPECT(i < 30, "task %s still there 3 s after its last member exited", id);
	expect_event("{\"task_name\": \"kt-exit\", \"event\": \"task ended\", \"reason\": \"exit\"}");

	/* TTL: a member that never exits is killed. */
	KT_EXPECT_EQ(tscli(id, sizeof(id), "start", "--policy", DIR "/parent.json", "--name",
			   "kt-ttl", "--ttl", "2s", NULL), 0);
	first_line(id);
	member = fork();
	if (member == 0) {
		char *argv[] = { cli, "--socket", SOCK, "enroll", id, "--", self, "probe", "sleep", NULL };

		execv(cli, argv);
		_exit(127);
	}
	KT_EXPECT_EQ(kt_wait(member), 128 + SIGKILL);
	expect_event("{\"task_name\": \"kt-ttl\", \"event\": \"task ended\", \"reason\": \"ttl\"}");
}

/* A raw connection to the control socket. */
static int raw_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = SOCK };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read one line (up to `timeout_ms`); its error code, 0 for a result. */
static int read_reply(int fd, int timeout_ms, char *buf, size_t size)
{
	size_t used = 0;
	long deadline = kt_now_ms() + timeout_ms;
	json_t *msg;
	int code;

	buf[0] = '\0';
	while (used < size - 1 && kt_now_ms() < deadline) {
		struct timeval tv = { 0, 100000 };
		fd_set rd;
		ssize_t n;

		FD_ZERO(&rd);
		FD_SET(fd, &rd);
		if (select(fd + 1, &rd, NULL, NULL, &tv) <= 0)
			continue;
		n = read(fd, buf + used, 1);
		if (n <= 0)
			return -ECONNRESET;
		if (buf[used] == '\n')
			break;
		used++;
	}
	buf[used] = '\0';
	msg = json_loads(buf, 0, NULL);
	if (!msg)
		return -ETIMEDOUT;
	code = (int)json_integer_value(json_object_get(json_object_get(msg, "error"), "code"));
	json_decref(msg);
	return code;
}

static int send_all(int fd, const char *p, size_t n);

static int send_str(int fd, const char *s)
{
	return send_all(fd, s, strlen(s));
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void malformed_requests(void)
{
	char reply[4096], *big;
	size_t n = 1 << 20;
	int idle, fd;
	long start;

	idle = raw_connect(); /* connects and never writes */
	KT_EXPECT(idle >= 0, "connect");
	fd = raw_connect();
	KT_EXPECT(!send_str(fd, "{not json\n"), "send");
	KT_EXPECT_EQ(read_reply(fd, 3000, reply, sizeof(reply)), -32700);
	KT_EXPECT(!send_str(fd, "{\"id\": 1, \"method\": \"format-disk\"}\n"), "send");
	KT_EXPECT_EQ(read_reply(fd, 3000, reply, sizeof(reply)), -32601);
	KT_EXPECT(!send_str(fd, "[1, 2]\n"), "send");
	KT_EXPECT_EQ(read_reply(fd, 3000, reply, sizeof(reply)), -32600);
	KT_EXPECT(!send_str(fd, "{\"id\": 2, \"method\": \"start\", \"params\": 5}\n"), "send");
	KT_EXPECT_EQ(read_reply(fd, 3000, reply, sizeof(reply)), -32602);
	/* Still serving this connection after all that. */
	KT_EXPECT(!send_str(fd, "{\"id\": 3, \"method\": \"version\"}\n"), "send");
	KT_EXPECT_EQ(read_reply(fd, 3000, reply, sizeof(reply)), 0);
	close(fd);

	/* A 1 MiB line: refused, connection closed. */
	big = malloc(n);
	memset(big, 'x', n);
	big[n - 1] = '\n';
	fd = raw_connect();
	send_all(fd, big, n); /* the daemon may close before taking it all */
	KT_EXPECT_EQ(read_reply(fd, 5000, reply, sizeof(reply)), 6);
	KT_EXPECT_EQ(read_reply(fd, 2000, reply, sizeof(reply)), -ECONNRESET);
	close(fd);
	free(big);

	/* Others are served while the idle client waits for its timeout. */
	start = kt_now_ms();
	KT_EXPECT_EQ(tscli(reply, sizeof(reply), "version", NULL), 0);
	KT_EXPECT(kt_now_ms() - start < 3000, "version took %ld ms", kt_now_ms() - start);
	KT_EXPECT_EQ(read_reply(idle, 15000, reply, sizeof(reply)), -32600);
	KT_EXPECT(strstr(reply, "no request within"), "idle reply: %s", reply);
	close(idle);
}

#define CONCURRENT 200

static void concurrent_runs_leak_nothing(void)
{
	size_t tasks, rules, nets;
	pid_t pids[CONCURRENT];
	int i, failed = 0;
	long start = kt_now_ms();
	char out[4096];

	for (i = 0; i < CONCURRENT; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			char *argv[] = { cli, "--socket", SOCK, "-q", "run", "--policy",
					 DIR "/parent.json", "--", self, "probe", "open",
					 DIR "/a/f", NULL };
			int fd = open(DIR "/concurrent.log", O_WRONLY | O_CREAT | O_APPEND, 0644);

			dup2(fd, 1);
			dup2(fd, 2);
			execv(cli, argv);
			_exit(127);
		}
	}
	for (i = 0; i < CONCURRENT; i++)
		if (kt_wait(pids[i]) != 0)
			failed++;
	kt_info("%d concurrent runs in %ld ms, %d failed", CONCURRENT, kt_now_ms() - start,
		failed);
	KT_EXPECT_EQ(failed, 0);
	sleep(2);
	KT_EXPECT_EQ(tscli(out, sizeof(out), "--json", "list", NULL), 0);
	KT_EXPECT(strstr(out, "\"tasks\":[]"), "tasks left: %.300s", out);
	count_entries(&tasks, &rules, &nets);
	KT_EXPECT_EQ(tasks, 0);
	KT_EXPECT_EQ(rules, 0);
	KT_EXPECT_EQ(nets, 0);
}

static void start_daemon(void)
{
	daemon_up();
}

static void stop_daemon(void)
{
	daemon_down(SIGTERM);
	daemon_teardown(DIR "/taskscoped.conf"); /* leave nothing for the next suite */
}

#define RING_EVENTS DIR "/ring-events.jsonl"
#define DENIALS 300

/* A 4 KiB ring buffer and a stopped daemon: the kernel loses events, and
 * the daemon, once it runs again, says how many. */
static void ring_overflow_loss_event(void)
{
	char id[256], out[4096], want[256];
	unsigned int delivered = 0;
	long long lost;
	json_t *e;
	pid_t member;
	int i;

	write_policy(DIR "/ring.conf",
		     "{\"socket\": \"%s\", \"pin_dir\": \"%s-ring\", \"state_dir\": \"%s-ring\",\n"
		     " \"ring_buffer\": \"4K\", \"sinks\": [{\"type\": \"file\", \"path\": \"%s\"}]}",
		     SOCK, PIN, STATE, RING_EVENTS);
	daemon_down(SIGTERM);
	daemon_up_with(DIR "/ring.conf");
	/* Denials only: every record of the window is one of the DENIALS. */
	KT_EXPECT_EQ(tscli(id, sizeof(id), "start", "--policy", DIR "/quiet.json", "--name",
			   "kt-ring", NULL), 0);
	first_line(id);
	unlink(DIR "/ring-go");
	unlink(DIR "/ring-done");
	member = fork();
	if (member == 0) {
		char *argv[] = { cli, "--socket", SOCK, "enroll", id, "--", self, "probe",
				 "deny-many", DIR "/ring-go", DIR "/secret", "300", DIR "/ring-done",
				 NULL };

		execv(cli, argv);
		_exit(127);
	}
	sleep(1);
	kill(daemon_pid, SIGSTOP);
	kt_write_file(DIR "/ring-go", "go");
	for (i = 0; i < 300 && access(DIR "/ring-done", F_OK); i++)
		usleep(100000);
	KT_EXPECT_EQ(kt_wait(member), 0);
	kill(daemon_pid, SIGCONT);
	e = find_event_in(RING_EVENTS, "{\"event\": \"events lost\", \"where\": \"ringbuf\"}");
	KT_EXPECT(e, "no loss event");
	lost = json_integer_value(json_object_get(
		json_object_get(json_object_get(e, "unmapped"), "taskscope"), "lost"));
	json_decref(e);
	snprintf(want, sizeof(want), "{\"op\": \"open\", \"verdict\": \"deny\", \"task_name\": \"kt-ring\"}");
	for (i = 0; i < 20; i++) {
		delivered = count_events(RING_EVENTS, want);
		usleep(100000);
	}
	kt_info("%d denials with the daemon stopped: %u delivered, %lld reported lost", DENIALS,
		delivered, lost);
	KT_EXPECT(lost > 0, "nothing lost: the ring did not overflow");
	KT_EXPECT_EQ(delivered + lost, DENIALS);
	KT_EXPECT_EQ(tscli(out, sizeof(out), "--json", "stats", NULL), 0);
	KT_EXPECT(strstr(out, "\"ringbuf_lost\":"), "stats: %s", out);
	daemon_down(SIGTERM);
	daemon_teardown(DIR "/ring.conf");
	daemon_up();
}

int main(int argc, char **argv)
{
	static const struct kt_case cases[] = {
		{ "(start taskscoped)", start_daemon },
		{ "run: a denied action's errno and event", run_denied_action },
		{ "delegation cannot widen", delegation_cannot_widen },
		{ "a member cannot end another task", member_cannot_end_another_task },
		{ "an unprivileged untagged user is refused", untagged_user_refused },
		{ "a grant expires in the kernel", grant_expires_in_the_kernel },
		{ "kill -9, members stay enforced, restart reconciles", crash_and_reconcile },
		{ "teardown on last-member exit and on ttl", teardown_on_exit_and_ttl },
		{ "malformed, oversized and idle clients", malformed_requests },
		{ "200 concurrent runs leak nothing", concurrent_runs_leak_nothing },
		{ "a full ring buffer yields a loss event", ring_overflow_loss_event },
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
	setup_dirs();
	return kt_main("daemon", cases);
}
