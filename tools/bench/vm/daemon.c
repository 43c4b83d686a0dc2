// SPDX-License-Identifier: MIT
/* taskscoped under test: started, called and torn down by the benchmarks. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/stat.h>
#include "bench_vm.h"
#include "ts_client.h"

#define PIN_DIR "/sys/fs/bpf/tsbench"

static const char *output_dir(void)
{
	return getenv("OUTPUT") ? getenv("OUTPUT") : ".output";
}

static pid_t run_daemon(const char *config, const char *log, bool teardown)
{
	char bin[512];
	pid_t pid;
	int fd;

	snprintf(bin, sizeof(bin), "%s/taskscoped", output_dir());
	pid = fork();
	if (pid == 0) {
		/* Before exec: every thread it starts inherits the CPU. */
		bv_pin(BV_CPU_DAEMON);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (teardown)
			execl(bin, "taskscoped", "--config", config, "--teardown", (char *)NULL);
		else
			execl(bin, "taskscoped", "--config", config, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		fprintf(stderr, "bench_vm: error: fork: %s\n", strerror(errno));
	return pid;
}

static int config_path(const struct bv_daemon *d, char *buf, size_t size)
{
	return snprintf(buf, size, "%s/taskscoped.conf", d->dir) >= (int)size ? -ENAMETOOLONG : 0;
}

int bv_daemon_start(struct bv_daemon *d, const char *dir, const char *extra)
{
	char config[512], log[512], text[2048], state[512];
	struct stat st;
	int i, err;

	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "%s", dir);
	snprintf(d->sock, sizeof(d->sock), "%s/control.sock", dir);
	snprintf(d->events, sizeof(d->events), "%s/events.jsonl", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(log, sizeof(log), "%s/taskscoped.log", dir);
	err = bv_mkdirs(dir) ?: config_path(d, config, sizeof(config));
	if (err)
		return err;
	snprintf(text, sizeof(text),
		 "{\"socket\": \"%s\", \"pin_dir\": \"%s\", \"state_dir\": \"%s\",\n"
		 " \"max_ttl\": \"1h\", \"max_tasks\": 2048,\n"
		 " \"sinks\": [{\"type\": \"file\", \"path\": \"%s\"}]%s%s}\n",
		 d->sock, PIN_DIR, state, d->events, *extra ? ",\n " : "", extra);
	err = bv_write_file(config, text);
	if (err)
		return err;
	unlink(d->sock);
	d->pid = run_daemon(config, log, false);
	if (d->pid < 0)
		return -ECHILD;
	for (i = 0; i < 300 && (stat(d->sock, &st) || !S_ISSOCK(st.st_mode)); i++)
		usleep(50000);
	err = ts_client_connect(d->sock, &d->client);
	if (err) {
		fprintf(stderr, "bench_vm: error: taskscoped did not come up (see '%s')\n", log);
		bv_daemon_stop(d);
	}
	return err;
}

int bv_daemon_stop(struct bv_daemon *d)
{
	char config[512], log[512];
	pid_t pid;
	int rc = 0;

	if (d->client)
		ts_client_close(d->client);
	d->client = NULL;
	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		rc = bv_wait(d->pid);
		d->pid = 0;
	}
	snprintf(log, sizeof(log), "%s/taskscoped.log", d->dir);
	if (config_path(d, config, sizeof(config)))
		return -ENAMETOOLONG;
	pid = run_daemon(config, log, true);
	if (pid < 0 || bv_wait(pid) != 0 || rc != 0) {
		fprintf(stderr, "bench_vm: error: taskscoped did not stop cleanly (see '%s')\n",
			log);
		return -EIO;
	}
	return 0;
}

int bv_call(struct bv_daemon *d, const char *method, json_t *params, json_t **result)
{
	struct ts_client_error e = { 0 };
	json_t *r = NULL;
	int rc = ts_client_call(d->client, method, params, 60000, &r, &e);

	if (rc == 1) {
		fprintf(stderr, "bench_vm: error: taskscoped refused '%s': %s\n", method,
			e.message);
		json_decref(e.data);
		return -EPROTO;
	}
	if (rc < 0)
		return rc;
	if (result)
		*result = r;
	else
		json_decref(r);
	return 0;
}

long bv_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* CPU time of every thread of `pid` (its first schedstat field, ns):
 * what the daemon itself spent, apart from waiting for a CPU or a peer. */
double bv_cpu_ns(pid_t pid)
{
	char path[300];
	unsigned long long ns, sum = 0;
	struct dirent *e;
	DIR *dir;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue; /* a thread that just exited */
		if (fscanf(f, "%llu", &ns) == 1)
			sum += ns;
		fclose(f);
	}
	closedir(dir);
	return (double)sum;
}
