// SPDX-License-Identifier: MIT
/*
 * taskscoped: keeps the LSM programs pinned and attached, serves the
 * control socket, streams the kernel's decisions to the sinks, and ends
 * tasks when they are ended, expire, or lose their last process.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include "client.h"
#include "daemon.h"
#include "ts_host.h"
#include "ts_log.h"

static int events_marker;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: taskscoped [OPTIONS]\n"
		"  --config PATH        configuration (default /etc/taskscope/taskscoped.conf)\n"
		"  --socket PATH        control socket (overrides the config)\n"
		"  --pin-dir DIR        where maps and links are pinned (default %s)\n"
		"  --state-dir DIR      where the registry is kept (default /run/taskscope)\n"
		"  --teardown-on-exit   end every task on SIGTERM instead of leaving them enforced\n"
		"  --teardown           end every task, remove the pins, and exit\n"
		"  --check              check the host and load the programs, then exit\n"
		"  --verbose            debug messages\n"
		"  --version\n",
		TS_PIN_DIR);
}

/* systemd's readiness protocol, without libsystemd. */
static void notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (!path || strlen(path) >= sizeof(sa.sun_path) || (path[0] != '/' && path[0] != '@'))
		return;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&sa,
	       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path)));
	close(fd);
}

/* Refuse to start on a host that cannot enforce, saying how to fix it. */
static int check_host(void)
{
	struct ts_host_report r;
	int i;

	ts_host_probe(&r);
	if (ts_host_verdict(&r) != TS_CHECK_FAIL)
		return 0;
	for (i = 0; i < TS_HOST_CHECKS; i++)
		if (r.checks[i].status == TS_CHECK_FAIL)
			ts_err("host check '%s' failed (%s): %s", r.checks[i].name,
			       r.checks[i].value, r.checks[i].fix);
	return -ENOTSUP;
}

/* Two descriptors per client (the socket and the caller's pidfd), plus
 * the maps: the default soft limit of 1024 is too few. */
static void raise_fd_limit(unsigned int clients)
{
	struct rlimit r;
	rlim_t want = 256 + 2 * (rlim_t)clients;

	if (getrlimit(RLIMIT_NOFILE, &r))
		return;
	if (r.rlim_cur >= want)
		return;
	r.rlim_cur = want < r.rlim_max ? want : r.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &r))
		ts_warn("cannot raise the open file limit to %llu: %s", (unsigned long long)want,
			strerror(errno));
}

static int watch(struct daemon *d, int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ptr };

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int setup_loop(struct daemon *d)
{
	struct itimerspec every_second = { { 1, 0 }, { 1, 0 } };
	sigset_t mask;

	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->epfd < 0 || d->signal_fd < 0 || d->timer_fd < 0 ||
	    timerfd_settime(d->timer_fd, 0, &every_second, NULL))
		return -errno;
	return watch(d, d->signal_fd, &d->signal_fd) ?: watch(d, d->timer_fd, &d->timer_fd);
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			ts_info("SIGHUP: reopening sinks");
			events_reopen(d);
		} else {
			d->stop = true;
		}
	}
}

static void run(struct daemon *d)
{
	struct epoll_event evs[64];
	__u64 ticks;
	int n, i;

	while (!d->stop) {
		n = epoll_wait(d->epfd, evs, 64, 1000);
		for (i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &d->listen_fd)
				server_accept(d);
			else if (p == &d->signal_fd)
				on_signal(d);
			else if (p == &events_marker)
				events_drain(d);
			else if (p == &d->timer_fd) {
				if (read(d->timer_fd, &ticks, sizeof(ticks)) > 0) {
					tasks_sweep(d);
					server_timeouts(d);
				}
			} else {
				server_client_io(d, p, evs[i].events);
			}
		}
	}
}

/* End every task the kernel knows, remove the pins and the state. */
static int teardown_all(struct daemon *d)
{
	__u64 *ids;
	size_t n, i;
	int err;

	while (d->ntasks)
		task_end(d, d->tasks[0], "daemon");
	err = ts_kernel_task_ids(d->k, &ids, &n);
	for (i = 0; !err && i < n; i++)
		ts_kernel_revoke(d->k, ids[i]);
	if (!err)
		free(ids);
	return ts_kernel_unpin(d->k) ?: err;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "teardown-on-exit", no_argument, NULL, 'T' },
		{ "teardown", no_argument, NULL, 'X' },
		{ "check", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *config = NULL, *sock = NULL, *pin = NULL, *state = NULL;
	bool check = false, teardown = false;
	struct ts_kernel_opts kopts = { 0 };
	static struct daemon d;
	int opt, err;

	ts_log_set_prog("taskscoped");
	setvbuf(stderr, NULL, _IOLBF, 0);
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'p':
			pin = optarg;
			break;
		case 'd':
			state = optarg;
			break;
		case 'T':
			d.teardown_on_exit = true;
			break;
		case 'X':
			teardown = true;
			break;
		case 'k':
			check = true;
			break;
		case 'v':
			ts_log_set_level(TS_LOG_DEBUG);
			break;
		case 'V':
			printf("taskscoped %s\n", TASKSCOPE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (config_load(&d.cfg, config, config != NULL))
		return 1;
	if ((sock && snprintf(d.cfg.socket_path, sizeof(d.cfg.socket_path), "%s", sock) >=
			     (int)sizeof(d.cfg.socket_path)) ||
	    (pin && snprintf(d.cfg.pin_dir, sizeof(d.cfg.pin_dir), "%s", pin) >=
			    (int)sizeof(d.cfg.pin_dir)) ||
	    (state && snprintf(d.cfg.state_dir, sizeof(d.cfg.state_dir), "%s", state) >=
			      (int)sizeof(d.cfg.state_dir))) {
		ts_err("a path given on the command line is too long");
		return 2;
	}
	if (check_host())
		return 1;
	kopts.pin_dir = check ? NULL : d.cfg.pin_dir;
	kopts.events_bytes = d.cfg.ring_bytes;
	if (ts_kernel_open(&kopts, &d.k))
		return 1;
	if (check) {
		printf("taskscoped: the host can enforce: programs load and attach\n");
		ts_kernel_close(d.k);
		return 0;
	}
	/* No core dump, no ptrace by the same uid: secrets pass through here. */
	prctl(PR_SET_DUMPABLE, 0);
	if (state_init(&d) || secrets_init(&d))
		goto fail;
	raise_fd_limit(d.cfg.max_clients);
	d.listen_fd = -1;
	err = ts_kernel_set_daemon(d.k, getpid());
	if (!err)
		err = setup_loop(&d);
	if (!err)
		err = events_init(&d);
	if (!err)
		err = watch(&d, ts_kernel_events_fd(d.k), &events_marker);
	if (!err)
		err = state_recover(&d);
	if (err)
		goto fail;
	if (teardown) {
		err = teardown_all(&d);
		events_close(&d);
		ts_kernel_close(d.k);
		return err ? 1 : 0;
	}
	if (server_init(&d))
		goto fail;
	ts_info("ready: %zu tasks recovered, programs %s", d.ntasks,
		ts_kernel_reopened(d.k) ? "reopened from their pins" : "loaded and pinned");
	notify_ready();
	run(&d);
	if (d.teardown_on_exit) {
		ts_info("ending every task (--teardown-on-exit)");
		teardown_all(&d);
	} else {
		ts_info("exiting; %zu tasks stay enforced", d.ntasks);
	}
	ts_kernel_set_daemon(d.k, 0);
	server_close(&d);
	events_close(&d);
	while (d.ntasks)
		task_free(d.tasks[--d.ntasks]);
	free(d.tasks);
	ts_kernel_close(d.k);
	return 0;
fail:
	ts_kernel_close(d.k);
	return 1;
}
