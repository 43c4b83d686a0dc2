// SPDX-License-Identifier: MIT
/* A full ring buffer loses events, and every loss is counted. */
#include <errno.h>
#include <fcntl.h>
#include "ktest.h"

#define ATTEMPTS 300

static int deny_many(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < ATTEMPTS; i++)
		if (kt_open_errno("/tmp/kt-ring-none", O_RDONLY) != EACCES)
			return 1;
	return 0;
}

static void overflow_is_counted(void)
{
	__u64 id = kt_task_id(), lost_before, lost_after;
	unsigned int received;

	/* It must exist: a failed lookup never reaches file_open. */
	kt_write_file("/tmp/kt-ring-none", "x");
	kt_task_create(id);
	KT_EXPECT(!ts_kernel_stat(kt_kernel, TS_STAT_EVENTS_LOST, &lost_before), "stat");
	/* Nobody reads while the child runs: a 4 KiB buffer holds ~10. */
	KT_EXPECT_EQ(kt_run(id, deny_many, NULL), 0);
	received = kt_events_collect(id, 200);
	KT_EXPECT(!ts_kernel_stat(kt_kernel, TS_STAT_EVENTS_LOST, &lost_after), "stat");
	kt_info("%d denials: %u events delivered, %llu counted lost", ATTEMPTS, received,
		(unsigned long long)(lost_after - lost_before));
	KT_EXPECT(lost_after > lost_before, "nothing was lost: the test did not overflow");
	KT_EXPECT_EQ(received + (lost_after - lost_before), ATTEMPTS);
}

int main(void)
{
	static const struct kt_case cases[] = {
		{ "an overflowing ring buffer is counted", overflow_is_counted },
		{ 0 },
	};
	static const struct ts_kernel_opts opts = { .events_bytes = 4096 };

	return kt_main_opts("ringbuf", cases, &opts);
}
