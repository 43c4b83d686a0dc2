// SPDX-License-Identifier: MIT
/*
 * Task lifecycle: start (state + rules) + enroll (one live process) + end
 * (revoke: the process killed, rules and state deleted), p50 and p99,
 * through the library and through taskscoped's control socket. Baselines
 * from the same run: ending the same kind of process without taskscope
 * (kill + reap) for the library, and as many round trips of the cheapest
 * method ("version") for the daemon.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "bench_vm.h"
#include "ts_apply.h"
#include "ts_diag.h"
#include "ts_pathvar.h"
#include "ts_policy.h"
#include "ts_ruleset.h"

#define LIB_RUNS 1000
#define DAEMON_RUNS 300
#define RUNS_MAX LIB_RUNS /* the larger */
#define TARGET_LIB_MS 1.0
#define TARGET_DAEMON_MS 5.0
#define POLICY_FILE "tools/demo-coding-agent.json"
#define WORKDIR BV_DIR "/work"

/* A process to enroll: it waits to be killed. */
static pid_t sleeper(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	if (pid < 0)
		fprintf(stderr, "bench_vm: error: fork: %s\n", strerror(errno));
	return pid;
}

static void print_latency(const char *what, double *ms, size_t n, const char *base_what,
			  double *base_ms, double target_ms)
{
	double p50 = bv_percentile(ms, n, 50), p99 = bv_percentile(ms, n, 99);
	double b50 = bv_percentile(base_ms, n, 50), b99 = bv_percentile(base_ms, n, 99);

	printf("  %-28s p50 %7.3f ms  p99 %7.3f ms  (target p99 <= %.0f ms: %s)\n", what, p50,
	       p99, target_ms, bv_verdict(p99 <= target_ms));
	printf("  %-28s p50 %7.3f ms  p99 %7.3f ms  (baseline) -> x%.1f at p50, x%.1f at p99\n",
	       base_what, b50, b99, p50 / b50, p99 / b99);
}

static int compile(struct ts_ruleset **rs)
{
	struct ts_vars vars = { .workdir = WORKDIR, .home = "/root", .user = "root",
				.task_id = "0000000000000000" };
	struct ts_policy *p = NULL;
	struct ts_diag diag;
	int err;

	ts_diag_init(&diag, POLICY_FILE);
	err = ts_policy_load(POLICY_FILE, &diag, &p);
	if (!err)
		err = ts_policy_compile(p, &vars, NULL, NULL, &diag, rs);
	if (err)
		ts_diag_print(&diag, stderr);
	ts_diag_free(&diag);
	ts_policy_free(p);
	return err;
}

enum phase { PH_START, PH_ENROLL, PH_END, PH_MAX };
static const char *const phase_name[PH_MAX] = { "start", "enroll", "end" };

/* One library lifecycle of a live process, ms per phase: 0 or -errno. */
static int lib_once(struct ts_kernel *k, const struct ts_ruleset *rs, pid_t pid, double ms[PH_MAX])
{
	__u64 id = bv_task_id();
	struct ts_task task;
	double t0 = bv_now_ns(), t1, t2;
	int err, killed;

	ts_ruleset_task_state(rs, 0, &task);
	err = ts_kernel_task_set(k, id, &task) ?: ts_ruleset_apply(k, id, rs);
	t1 = bv_now_ns();
	err = err ?: bv_enroll(k, id, pid);
	t2 = bv_now_ns();
	killed = ts_kernel_revoke(k, id);
	ms[PH_START] = (t1 - t0) / 1e6;
	ms[PH_ENROLL] = (t2 - t1) / 1e6;
	ms[PH_END] = (bv_now_ns() - t2) / 1e6;
	if (!err && killed != 1)
		err = killed < 0 ? killed : -ESRCH; /* the member must be the one killed */
	return err;
}

/* p50/p99 of each phase, on one line. */
static void print_phases(double phases[PH_MAX][RUNS_MAX], size_t n)
{
	int p;

	printf("  %-28s", "  of which");
	for (p = 0; p < PH_MAX; p++)
		printf(" %s p50 %.3f p99 %.3f ms%s", phase_name[p],
		       bv_percentile(phases[p], n, 50), bv_percentile(phases[p], n, 99),
		       p + 1 < PH_MAX ? ";" : "\n");
}

static int bench_library(void)
{
	static double ms[LIB_RUNS], base[LIB_RUNS], phases[PH_MAX][RUNS_MAX];
	struct ts_kernel_opts opts = { 0 };
	double ph[PH_MAX] = { 0 };
	int p;
	struct ts_ruleset *rs = NULL;
	struct ts_kernel *k = NULL;
	size_t i;
	int err;

	err = compile(&rs) ?: ts_kernel_open(&opts, &k);
	for (i = 0; !err && i < LIB_RUNS; i++) {
		pid_t pid = sleeper();
		double t0;

		if (pid < 0) {
			err = -ECHILD;
			break;
		}
		err = lib_once(k, rs, pid, ph);
		for (p = 0, ms[i] = 0; p < PH_MAX; p++)
			ms[i] += phases[p][i] = ph[p];
		bv_wait(pid);
		/* The baseline: the same process ended without taskscope. */
		pid = sleeper();
		if (pid < 0) {
			err = -ECHILD;
			break;
		}
		t0 = bv_now_ns();
		kill(pid, SIGKILL);
		bv_wait(pid);
		base[i] = (bv_now_ns() - t0) / 1e6;
	}
	if (!err) {
		printf("  library: %s, %zu path and %zu net rules, %d runs\n", POLICY_FILE,
		       rs->npaths, rs->nnets, LIB_RUNS);
		print_latency("start + enroll + end", ms, LIB_RUNS, "kill + reap, no taskscope",
			      base, TARGET_LIB_MS);
		print_phases(phases, LIB_RUNS);
	} else {
		fprintf(stderr, "bench_vm: error: library lifecycle: %s\n", strerror(-err));
	}
	ts_kernel_close(k);
	ts_ruleset_free(rs);
	return err;
}

static int daemon_once(struct bv_daemon *d, const char *policy, pid_t pid, double ms[PH_MAX])
{
	json_t *started = NULL, *ended = NULL;
	double t0 = bv_now_ns(), t1, t2;
	const char *task;
	int err;

	err = bv_call(d, "start",
		      json_pack("{s:s, s:s, s:s}", "policy", policy, "workdir", WORKDIR, "name",
				"bench"),
		      &started);
	if (err)
		return err;
	t1 = bv_now_ns();
	task = json_string_value(json_object_get(started, "id"));
	err = bv_call(d, "enroll", json_pack("{s:s, s:i}", "task", task, "pid", (int)pid), NULL);
	t2 = bv_now_ns();
	/* Ended even when enrolling failed: nothing is left behind. */
	err = bv_call(d, "end", json_pack("{s:s}", "task", task), &ended) ?: err;
	ms[PH_START] = (t1 - t0) / 1e6;
	ms[PH_ENROLL] = (t2 - t1) / 1e6;
	ms[PH_END] = (bv_now_ns() - t2) / 1e6;
	if (!err && json_integer_value(json_object_get(ended, "killed")) != 1)
		err = -ESRCH;
	json_decref(started);
	json_decref(ended);
	return err;
}

static int read_text(const char *path, char **out)
{
	FILE *f = fopen(path, "re");
	long len;

	if (!f)
		return -errno;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	*out = calloc(1, (size_t)len + 1);
	if (!*out || fread(*out, 1, (size_t)len, f) != (size_t)len) {
		fclose(f);
		free(*out);
		return -EIO;
	}
	fclose(f);
	return 0;
}

static int bench_daemon(void)
{
	static double ms[DAEMON_RUNS], base[DAEMON_RUNS], phases[PH_MAX][RUNS_MAX];
	double ph[PH_MAX] = { 0 }, cpu_task = 0, cpu_base = 0;
	struct bv_daemon d;
	int p;
	char *policy = NULL;
	size_t i;
	int j, err;

	err = read_text(POLICY_FILE, &policy);
	if (err) {
		fprintf(stderr, "bench_vm: error: cannot read '%s': %s\n", POLICY_FILE,
			strerror(-err));
		return err;
	}
	err = bv_daemon_start(&d, BV_DIR "/lifecycle", "");
	if (err) {
		free(policy);
		return err;
	}
	for (i = 0; !err && i < DAEMON_RUNS; i++) {
		pid_t pid = sleeper();
		double t0, cpu0;

		if (pid < 0) {
			err = -ECHILD;
			break;
		}
		cpu0 = bv_cpu_ns(d.pid);
		err = daemon_once(&d, policy, pid, ph);
		cpu_task += bv_cpu_ns(d.pid) - cpu0;
		for (p = 0, ms[i] = 0; p < PH_MAX; p++)
			ms[i] += phases[p][i] = ph[p];
		kill(pid, SIGKILL);
		bv_wait(pid);
		cpu0 = bv_cpu_ns(d.pid);
		t0 = bv_now_ns();
		for (j = 0; !err && j < 3; j++)
			err = bv_call(&d, "version", NULL, NULL);
		base[i] = (bv_now_ns() - t0) / 1e6;
		cpu_base += bv_cpu_ns(d.pid) - cpu0;
	}
	if (!err) {
		printf("  daemon: %d runs over the control socket (3 calls each)\n", DAEMON_RUNS);
		print_latency("start + enroll + end", ms, DAEMON_RUNS, "3 x \"version\" call", base,
			      TARGET_DAEMON_MS);
		print_phases(phases, DAEMON_RUNS);
		/* The rest of the latency is waiting: for the CPU, the peer, the
		 * kernel's process reaping. */
		printf("    taskscoped's own CPU     %.3f ms per start + enroll + end, %.3f ms per "
		       "3 x \"version\" (all threads)\n",
		       cpu_task / DAEMON_RUNS / 1e6, cpu_base / DAEMON_RUNS / 1e6);
	} else {
		fprintf(stderr, "bench_vm: error: daemon lifecycle: %s\n", strerror(-err));
	}
	err = bv_daemon_stop(&d) ?: err;
	free(policy);
	return err;
}

int bench_lifecycle(void)
{
	int err = bv_mkdirs(WORKDIR);

	printf("task lifecycle: start + enroll one live process + end (it is killed)\n");
	return err ?: bench_library() ?: bench_daemon();
}
