/* SPDX-License-Identifier: MIT */
/* Putting a rule set into the kernel for one task, all or nothing. */
#ifndef TS_APPLY_H
#define TS_APPLY_H

#include "ts_kernel.h"
#include "ts_ruleset.h"

/* Insert every rule of `rs` for task `id`. On failure, every rule of `id`
 * is removed again: a task never runs on half its rules. */
int ts_ruleset_apply(struct ts_kernel *k, __u64 id, const struct ts_ruleset *rs);
/* The task state `rs` asks for, with the given deadline. */
void ts_ruleset_task_state(const struct ts_ruleset *rs, __u64 deadline_ns, struct ts_task *t);

#endif /* TS_APPLY_H */
