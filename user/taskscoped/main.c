// SPDX-License-Identifier: MIT
/*
 * taskscoped: loads the taskscope LSM programs and keeps them attached.
 * The control socket, task registry and event sinks arrive with the daemon
 * issue; this is the foundation that proves the load path.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "ts_kernel.h"
#include "ts_log.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: taskscoped [--check] [--verbose] [--version]\n"
		     "  --check    load and attach the programs, then exit\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "check", no_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ts_kernel *k = NULL;
	bool check = false;
	int opt, err;

	ts_log_set_prog("taskscoped");
	while ((opt = getopt_long(argc, argv, "cvVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
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
	err = ts_kernel_open(NULL, &k);
	if (err)
		return 1;
	ts_info("programs loaded and attached");
	if (!check) {
		signal(SIGTERM, on_signal);
		signal(SIGINT, on_signal);
		while (!stop)
			pause();
	}
	ts_kernel_close(k);
	return 0;
}
