// SPDX-License-Identifier: MIT
/*
 * Daemon memory: resident set of taskscoped with 1, 100 and 1,000 live
 * tasks (tools/demo-coding-agent.json each, no process enrolled), against
 * the same daemon with none, measured in the same run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench_vm.h"

#define DIR BV_DIR "/rss"
#define TASKS 1000
#define TARGET_MIB 20.0

static const int marks[] = { 1, 100, 1000 };

static int start_task(struct bv_daemon *d, const char *policy, char ids[][17], int i)
{
	json_t *r = NULL;
	int err = bv_call(d, "start",
			  json_pack("{s:s, s:s, s:s}", "policy", policy, "workdir", DIR, "name",
				    "bench-rss"),
			  &r);

	if (!err)
		snprintf(ids[i], 17, "%s", json_string_value(json_object_get(r, "id")));
	json_decref(r);
	return err;
}

int bench_rss(void)
{
	static char ids[TASKS][17];
	const char *policy = "{\"name\": \"bench-rss\", \"ttl\": \"30m\",\n"
			     " \"exec\": {\"allow\": [\"/bin/\", \"/usr/bin/\", \"/usr/lib/\", "
			     "\"${WORKDIR}/\"]},\n"
			     " \"file\": {\"read\": [\"/usr/\", \"/bin/\", \"/lib/\", \"/etc/\", "
			     "\"${WORKDIR}/\"],\n"
			     "          \"write\": [\"${WORKDIR}/\", \"/dev/null\"],\n"
			     "          \"deny\": [\"${HOME}/.ssh/\", \"/etc/shadow\"]},\n"
			     " \"net\": {\"connect\": [\"127.0.0.1:8080\", \"10.0.0.0/8:443\"],\n"
			     "         \"deny\": [\"169.254.169.254\"]}}";
	struct bv_daemon d;
	long base, kib;
	int i, m = 0, started = 0, err;

	printf("daemon memory: VmRSS of taskscoped with live tasks\n");
	err = bv_mkdirs(DIR) ?: bv_daemon_start(&d, DIR, "");
	if (err)
		return err;
	/* One call first, so the baseline has served a client too. */
	err = bv_call(&d, "version", NULL, NULL);
	base = bv_rss_kib(d.pid);
	printf("  %5d tasks  %7.2f MiB  (baseline)\n", 0, base / 1024.0);
	for (i = 0; !err && i < TASKS; i++) {
		err = start_task(&d, policy, ids, i);
		started += !err;
		if (err || i + 1 != marks[m])
			continue;
		kib = bv_rss_kib(d.pid);
		printf("  %5d tasks  %7.2f MiB  = baseline + %.2f MiB (%.1f KiB per task)%s%s\n",
		       i + 1, kib / 1024.0, (kib - base) / 1024.0, (double)(kib - base) / (i + 1),
		       marks[m] == TASKS ? "; target <= 20 MiB: " : "",
		       marks[m] == TASKS ? bv_verdict(kib / 1024.0 <= TARGET_MIB) : "");
		m++;
	}
	for (i = 0; i < started; i++)
		err = bv_call(&d, "end", json_pack("{s:s}", "task", ids[i]), NULL) ?: err;
	if (err)
		fprintf(stderr, "bench_vm: error: rss benchmark: %s\n", strerror(-err));
	return bv_daemon_stop(&d) ?: err;
}
