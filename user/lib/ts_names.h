/* SPDX-License-Identifier: MIT */
/* Names of the ABI's enums, as logs, events and the CLI spell them. */
#ifndef TS_NAMES_H
#define TS_NAMES_H

#include "taskscope.h"

const char *ts_kind_name(unsigned int kind);       /* "exec" */
const char *ts_op_name(unsigned int op);           /* "open" */
const char *ts_verdict_name(unsigned int verdict); /* "deny" */
const char *ts_reason_name(unsigned int reason);   /* "no-rule" */
const char *ts_mode_name(unsigned int mode);       /* "enforce" */
/* "read,write" into buf. */
void ts_access_text(__u32 access, char *buf, size_t size);
/* 16 lowercase hex digits. */
void ts_task_id_text(__u64 id, char buf[17]);
/* Parse 1 to 16 hex digits; 0 and *id, or -EINVAL. */
int ts_task_id_parse(const char *text, __u64 *id);

#endif /* TS_NAMES_H */
