// SPDX-License-Identifier: MIT
/*
 * Syscall overhead, one boot, as ratios against (a) no taskscope:
 * (b) the programs loaded and the process in no task, (c) the process a
 * member of a task with a 1,000-rule policy. Each configuration runs in a
 * fresh child process. A round measures (a), loads the programs, measures
 * (b) and (c), unloads them and measures (a) again: the round's ratios
 * are against the mean of its two (a), which cancels drift of the
 * machine, and the two (a) against each other are the noise floor, the
 * smallest difference the run can resolve. Figures are medians over
 * ROUNDS rounds.
 */
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "bench_vm.h"
#include <bpf/bpf.h>
#include "ts_keys.h"

#define ROUNDS 7
#define RULES 1000
#define NET_FILLER 200
#define OPEN_TARGET BV_DIR "/data/project/src/main.c"
#define CLOSED_PORT 9 /* discard: nothing listens in the VM */

enum op { OP_OPEN, OP_CONNECT, OP_EXEC, OP_MAX };
/* A1, B, C, A2: whole calls; PB, PC: time inside the programs per call. */
enum cfg { CFG_A1, CFG_B, CFG_C, CFG_A2, CFG_PB, CFG_PC, CFG_MAX };

static const struct {
	const char *name;
	unsigned int n;
	double target_c; /* % over (a); (b) is 1 % for all */
	enum ts_kind kind;
} ops[OP_MAX] = {
	[OP_OPEN] = { "openat+close", 10000, 10, TS_KIND_FILE },
	[OP_CONNECT] = { "connect, closed loopback port", 5000, 5, TS_KIND_NET },
	[OP_EXEC] = { "fork+exec /bin/true", 150, 5, TS_KIND_EXEC },
};

#define TARGET_B 1.0

struct figures {
	double ns[OP_MAX];
};

/* Each op returns 0 or the errno that broke it. */
static int op_open(unsigned int n)
{
	unsigned int i;
	int fd;

	for (i = 0; i < n; i++) {
		fd = open(OPEN_TARGET, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return errno;
		close(fd);
	}
	return 0;
}

static int op_connect(unsigned int n)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(CLOSED_PORT) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), err = 0;
	unsigned int i;

	if (s < 0)
		return errno;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* A refused connect leaves the socket closed and reusable. */
	for (i = 0; i < n && !err; i++)
		if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			err = EISCONN; /* something listens: not the case measured */
		else if (errno != ECONNREFUSED)
			err = errno;
	close(s);
	return err;
}

static int op_exec(unsigned int n)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };
	unsigned int i;
	pid_t pid;
	int status;

	for (i = 0; i < n; i++) {
		pid = fork();
		if (pid < 0)
			return errno;
		if (pid == 0) {
			execve("/bin/true", argv, envp);
			_exit(126);
		}
		if (waitpid(pid, &status, 0) < 0)
			return errno;
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			return WIFEXITED(status) && WEXITSTATUS(status) == 126 ? EACCES : ECHILD;
	}
	return 0;
}

static int (*const op_fn[OP_MAX])(unsigned int) = { op_open, op_connect, op_exec };

static unsigned int warmup(int op)
{
	return ops[op].n / 10 + 1;
}

/* In the child: warm up, time one op, send ns per call. */
static int measure_child(int fd, void *arg)
{
	int op = *(int *)arg, err = op_fn[op](warmup(op));
	double t0 = bv_now_ns(), ns;

	if (!err)
		err = op_fn[op](ops[op].n);
	ns = (bv_now_ns() - t0) / ops[op].n;
	if (err) {
		fprintf(stderr, "bench_vm: error: %s: %s\n", ops[op].name, strerror(err));
		return 1;
	}
	return write(fd, &ns, sizeof(ns)) == sizeof(ns) ? 0 : 1;
}

/* One op in a fresh child, a member of `task_id` when `k` is given. */
static int measure_op(struct ts_kernel *k, __u64 task_id, int op, double *ns)
{
	int fd, go, rc, err = 0;
	pid_t pid = bv_spawn(measure_child, &op, &fd, &go);

	if (pid < 0)
		return -ECHILD;
	if (k)
		err = bv_enroll(k, task_id, pid);
	err = bv_release(go, !err) ?: err;
	err = err ?: bv_read_full(fd, ns, sizeof(*ns));
	close(fd);
	rc = bv_wait(pid);
	return err ?: (rc ? -EIO : 0);
}

static int measure(struct ts_kernel *k, __u64 task_id, struct figures *f)
{
	int op, err = 0;

	for (op = 0; op < OP_MAX && !err; op++)
		err = measure_op(k, task_id, op, &f->ns[op]);
	return err;
}

/* Run time of every taskscope program (BPF_STATS_RUN_TIME), summed. */
static int programs_run_ns(__u64 *ns)
{
	struct bpf_prog_info info;
	__u32 id = 0, len;
	int fd;

	*ns = 0;
	while (!bpf_prog_get_next_id(id, &id)) {
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue; /* unloaded meanwhile */
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && !strncmp(info.name, "ts_", 3))
			*ns += info.run_time_ns;
		close(fd);
	}
	return 0;
}

/* Time spent inside the programs per call of each op, warm-up included in
 * the count: an A/B difference of whole syscalls drowns in the noise of an
 * emulated machine, this does not. Timed apart from the A/B runs, which
 * the statistics themselves would slow down. */
static int measure_programs(struct ts_kernel *k, __u64 task_id, struct figures *f)
{
	int stats = bpf_enable_stats(BPF_STATS_RUN_TIME), op, err = 0;
	__u64 before, after;
	double ns;

	if (stats < 0) {
		err = -errno;
		fprintf(stderr, "bench_vm: error: cannot enable BPF run time statistics: %s\n",
			strerror(-err));
		return err;
	}
	for (op = 0; op < OP_MAX && !err; op++) {
		programs_run_ns(&before);
		err = measure_op(k, task_id, op, &ns);
		programs_run_ns(&after);
		f->ns[op] = (double)(after - before) / (ops[op].n + warmup(op));
	}
	close(stats);
	return err;
}

static int path_rule(struct ts_kernel *k, __u64 id, const char *path, __u8 access, __u32 rule_id)
{
	struct ts_path_rule r = { .now = { rule_id, TS_ACTION_ALLOW, access, 0 } };

	return ts_kernel_path_rule_set(k, id, path, &r);
}

static int net_rule(struct ts_kernel *k, __u64 id, __u32 v4, __u16 lo, __u16 hi, __u32 rule_id)
{
	struct ts_net_rule r = { .count = 1 };
	__u8 addr[16];

	r.ports[0].lo = lo;
	r.ports[0].hi = hi;
	r.ports[0].rule_id = rule_id;
	r.ports[0].action = TS_ACTION_ALLOW;
	ts_addr_v4_mapped(addr, htonl(v4));
	return ts_kernel_net_rule_set(k, id, addr, 128, &r);
}

/* RULES rules: what the benchmark needs, then fillers, half of them next
 * to the opened file so that its lookup walks a crowded part of the trie. */
static int policy_1000(struct ts_kernel *k, __u64 id)
{
	const __u8 rw = TS_ACCESS_READ | TS_ACCESS_WRITE;
	unsigned int i, rule = 1, paths;
	char path[128];
	int err;

	err = path_rule(k, id, "/", TS_ACCESS_READ, rule++);
	err = err ?: path_rule(k, id, "/bin/", TS_ACCESS_READ | TS_ACCESS_EXEC, rule++);
	err = err ?: path_rule(k, id, BV_DIR "/data/project/", rw, rule++);
	err = err ?: path_rule(k, id, "/dev/null", rw, rule++);
	err = err ?: net_rule(k, id, INADDR_LOOPBACK, 1, 65535, rule++);
	paths = RULES - NET_FILLER - (rule - 1);
	for (i = 0; !err && i < paths; i++) {
		if (i % 2)
			snprintf(path, sizeof(path), "/home/agent/work/repo%03u/", i);
		else
			snprintf(path, sizeof(path), BV_DIR "/data/p%03u/", i);
		err = path_rule(k, id, path, rw, rule++);
	}
	for (i = 0; !err && i < NET_FILLER; i++)
		err = net_rule(k, id, 0x0a000000u + i, 443, 443, rule++); /* 10.0.0.i */
	if (!err && rule - 1 != RULES)
		err = -EINVAL;
	return err;
}

/* (c) must really have decided every call: the task's allow counters. */
static int check_decided(struct ts_kernel *k, __u64 id, const struct ts_task *before)
{
	struct ts_task after;
	int op, err = ts_kernel_task_get(k, id, &after);

	for (op = 0; !err && op < OP_MAX; op++) {
		__u64 got = after.allowed[ops[op].kind] - before->allowed[ops[op].kind];
		__u64 denied = after.denied[ops[op].kind] - before->denied[ops[op].kind];

		if (got < ops[op].n || denied) {
			fprintf(stderr,
				"bench_vm: error: %s: %llu allowed and %llu denied decisions, "
				"expected at least %u allowed\n",
				ops[op].name, (unsigned long long)got,
				(unsigned long long)denied, ops[op].n);
			err = -EIO;
		}
	}
	return err;
}

static int round_loaded(struct figures *b, struct figures *c, struct figures *pb,
			struct figures *pc)
{
	struct ts_kernel_opts opts = { 0 };
	struct ts_task task = { .state = TS_STATE_ACTIVE, .mode = TS_MODE_ENFORCE }, before;
	struct ts_kernel *k = NULL;
	__u64 id = bv_task_id();
	int err;

	err = ts_kernel_open(&opts, &k);
	if (err)
		return err;
	err = measure(NULL, 0, b) ?: measure_programs(NULL, 0, pb);
	if (!err)
		err = ts_kernel_task_set(k, id, &task);
	if (!err)
		err = policy_1000(k, id);
	if (!err)
		err = ts_kernel_task_get(k, id, &before);
	if (!err)
		err = measure(k, id, c);
	if (!err)
		err = check_decided(k, id, &before);
	if (!err)
		err = measure_programs(k, id, pc);
	if (ts_kernel_revoke(k, id) < 0 && !err)
		err = -EIO;
	ts_kernel_close(k);
	return err;
}

static double median(double *v, size_t n)
{
	return bv_percentile(v, n, 50);
}

/* Met: the programs' own time is within the target, and the whole call
 * is too, give or take what the run can resolve. */
static bool met(double in_programs, double whole, double noise_floor, double target)
{
	return in_programs <= target && whole <= target + noise_floor;
}

static void report(double ns[CFG_MAX][OP_MAX][ROUNDS], bool baseline_only)
{
	double a[ROUNDS], noise[ROUNDS], b[ROUNDS], c[ROUNDS], pb[ROUNDS], pc[ROUNDS];
	double mb, mc, mpb, mpc, floor;
	int op, r;

	for (op = 0; op < OP_MAX; op++) {
		for (r = 0; r < ROUNDS; r++) {
			a[r] = (ns[CFG_A1][op][r] + ns[CFG_A2][op][r]) / 2;
			noise[r] = 100 * fabs(ns[CFG_A2][op][r] / ns[CFG_A1][op][r] - 1);
			b[r] = 100 * (ns[CFG_B][op][r] / a[r] - 1);
			c[r] = 100 * (ns[CFG_C][op][r] / a[r] - 1);
			pb[r] = 100 * ns[CFG_PB][op][r] / a[r];
			pc[r] = 100 * ns[CFG_PC][op][r] / a[r];
		}
		floor = median(noise, ROUNDS);
		printf("  %-30s (a) %8.2f us per call; noise floor, (a) against (a): %.1f %%\n",
		       ops[op].name, median(a, ROUNDS) / 1e3, floor);
		if (baseline_only)
			continue;
		mb = median(b, ROUNDS);
		mc = median(c, ROUNDS);
		mpb = median(pb, ROUNDS);
		mpc = median(pc, ROUNDS);
		printf("  %30s (b) %+6.1f %% whole call, %5.2f %% inside the programs "
		       "(target <= +%.0f %%: %s)\n",
		       "", mb, mpb, TARGET_B, bv_verdict(met(mpb, mb, floor, TARGET_B)));
		printf("  %30s (c) %+6.1f %% whole call, %5.2f %% inside the programs "
		       "(target <= +%.0f %%: %s)\n",
		       "", mc, mpc, ops[op].target_c,
		       bv_verdict(met(mpc, mc, floor, ops[op].target_c)));
	}
}

int bench_syscalls(bool baseline_only)
{
	static double ns[CFG_MAX][OP_MAX][ROUNDS];
	struct figures f[CFG_MAX];
	int r, cfg, op, err = 0;

	err = bv_mkdirs(BV_DIR "/data/project/src");
	if (!err)
		err = bv_write_file(OPEN_TARGET, "int main(void) { return 0; }\n");
	if (err)
		return err;
	printf("syscall overhead, median of %d rounds: (a) no taskscope, (b) loaded, process in "
	       "no task, (c) member of a task with %d rules; %% over (a)\n",
	       ROUNDS, RULES);
	/* A round unmeasured: the first run of anything pays for cold caches. */
	err = measure(NULL, 0, &f[CFG_A1]);
	for (r = 0; r < ROUNDS && !err; r++) {
		err = measure(NULL, 0, &f[CFG_A1]);
		if (!err && !baseline_only)
			err = round_loaded(&f[CFG_B], &f[CFG_C], &f[CFG_PB], &f[CFG_PC]);
		if (!err)
			err = measure(NULL, 0, &f[CFG_A2]);
		for (cfg = 0; !err && cfg < CFG_MAX; cfg++)
			for (op = 0; op < OP_MAX; op++)
				ns[cfg][op][r] = f[cfg].ns[op];
	}
	if (err) {
		fprintf(stderr, "bench_vm: error: syscall benchmark failed: %s\n", strerror(-err));
		return err;
	}
	report(ns, baseline_only);
	return 0;
}
