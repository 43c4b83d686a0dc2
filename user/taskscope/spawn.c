// SPDX-License-Identifier: MIT
/*
 * Running a command inside a task: the child is tagged before it execs,
 * so the command's first instruction already runs under the task's scope.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "cli.h"

static volatile pid_t child;

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

/* Signals sent to taskscope itself go to the command; those the terminal
 * sends to the whole process group already reach it. */
static void handle_signals(bool waiting)
{
	static const int forwarded[] = { SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM };
	struct sigaction sa = { .sa_handler = waiting ? forward : SIG_DFL };
	size_t i;

	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);
	signal(SIGINT, waiting ? SIG_IGN : SIG_DFL);
	signal(SIGQUIT, waiting ? SIG_IGN : SIG_DFL);
	/* The task may end, killing the child, before the child is let go:
	 * that is EPIPE on the go pipe, and the child's status says the rest. */
	signal(SIGPIPE, waiting ? SIG_IGN : SIG_DFL);
}

static void exec_child(int go, int report, char **cmd, const char *workdir, json_t *env)
{
	const char *key;
	json_t *v;
	char c;
	int err;

	if (read(go, &c, 1) != 1)
		_exit(CLI_EXIT_RUN_FAIL); /* taskscope could not tag us: never run */
	json_object_foreach(env, key, v)
		if (json_is_string(v))
			setenv(key, json_string_value(v), 1);
	if (workdir && chdir(workdir)) {
		err = errno;
		if (write(report, &err, sizeof(err)) < 0)
			_exit(CLI_EXIT_RUN_FAIL);
		_exit(CLI_EXIT_RUN_FAIL);
	}
	execvp(cmd[0], cmd);
	err = errno;
	if (write(report, &err, sizeof(err)) < 0)
		_exit(CLI_EXIT_RUN_FAIL);
	_exit(err == ENOENT ? CLI_EXIT_NOTFOUND : CLI_EXIT_NOEXEC);
}

int cli_run_enrolled(const char *task, char **cmd, const char *workdir, json_t *env)
{
	int go[2], report[2], status, err = 0;
	json_t *result;
	ssize_t n;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) || pipe2(report, O_CLOEXEC)) {
		cli_error("cannot create pipes: %s", strerror(errno));
		return CLI_EXIT_RUN_FAIL;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		cli_error("cannot fork: %s", strerror(errno));
		return CLI_EXIT_RUN_FAIL;
	}
	if (pid == 0) {
		close(go[1]);
		close(report[0]);
		exec_child(go[0], report[1], cmd, workdir, env);
	}
	close(go[0]);
	close(report[1]);
	child = pid;
	status = cli_call("enroll", json_pack("{s:s, s:i}", "task", task, "pid", (int)pid),
			  &result);
	json_decref(result);
	if (status) {
		/* Closing the pipe unreleased makes the child exit unrun. */
		close(go[1]);
		close(report[0]);
		waitpid(pid, NULL, 0);
		return CLI_EXIT_RUN_FAIL;
	}
	handle_signals(true);
	if (write(go[1], "g", 1) != 1 && errno != EPIPE)
		kill(pid, SIGKILL);
	close(go[1]);
	n = read(report[0], &err, sizeof(err));
	close(report[0]);
	if (n == sizeof(err))
		cli_error("cannot run '%s': %s%s", cmd[0], strerror(err),
			  err == EPERM || err == EACCES ? " (denied by the task's policy?)" : "");
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = CLI_EXIT_RUN_FAIL << 8;
			break;
		}
	child = 0;
	handle_signals(false);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
