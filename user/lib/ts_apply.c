// SPDX-License-Identifier: MIT
#include <string.h>
#include "ts_apply.h"
#include "ts_kernel_priv.h"

int ts_ruleset_apply(struct ts_kernel *k, __u64 id, const struct ts_ruleset *rs)
{
	struct ts_path_rule rule;
	size_t i;
	int err = 0;

	for (i = 0; !err && i < rs->npaths; i++) {
		memset(&rule, 0, sizeof(rule));
		rule.now = rs->paths[i].v;
		err = ts_kernel_path_rule_set(k, id, rs->paths[i].path, &rule);
	}
	for (i = 0; !err && i < rs->nnets; i++)
		err = ts_kernel_net_rule_set(k, id, rs->nets[i].addr, rs->nets[i].bits,
					     &rs->nets[i].rule);
	if (err)
		ts_kernel_rules_delete(k, id);
	return err;
}

void ts_ruleset_task_state(const struct ts_ruleset *rs, __u64 deadline_ns, struct ts_task *t)
{
	memset(t, 0, sizeof(*t));
	t->state = TS_STATE_ACTIVE;
	t->mode = rs->mode;
	t->log_allow = rs->log_allow;
	t->flags = rs->flags;
	t->deadline_ns = deadline_ns;
}
