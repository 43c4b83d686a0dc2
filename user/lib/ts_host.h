/* SPDX-License-Identifier: MIT */
/*
 * What the host kernel offers taskscope, probed once, and how to fix it when
 * something is missing. `taskscope doctor` prints the whole report; the
 * loader calls ts_host_explain_failure() when the kernel refuses a program.
 */
#ifndef TS_HOST_H
#define TS_HOST_H

#include <stdbool.h>

enum ts_check_status {
	TS_CHECK_OK = 0,
	TS_CHECK_WARN,
	TS_CHECK_FAIL,
};

struct ts_check {
	const char *name;
	enum ts_check_status status;
	char value[256];
	const char *fix; /* NULL when status is TS_CHECK_OK */
};

enum ts_host_check {
	TS_HOST_KERNEL = 0,
	TS_HOST_BTF,
	TS_HOST_LSM,
	TS_HOST_LOCKDOWN,
	TS_HOST_BPFFS,
	TS_HOST_PIDFD,
	TS_HOST_RINGBUF,
	TS_HOST_TASK_STORAGE,
	TS_HOST_CHECKS,
};

struct ts_host_report {
	struct ts_check checks[TS_HOST_CHECKS];
};

/* Fill every check. Never fails: an unreadable fact is itself a finding. */
void ts_host_probe(struct ts_host_report *r);
/* The worst status of the report. */
enum ts_check_status ts_host_verdict(const struct ts_host_report *r);
/* True when "bpf" is in the active LSM list (false when unknown). */
bool ts_host_bpf_lsm_active(void);
/* After the kernel refused to load or attach: say why and how to fix it. */
void ts_host_explain_failure(int err);

#endif /* TS_HOST_H */
