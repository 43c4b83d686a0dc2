/* SPDX-License-Identifier: MIT */
/* A rule set as JSON, for the daemon's state file. */
#ifndef TS_RULESET_JSON_H
#define TS_RULESET_JSON_H

#include <jansson.h>
#include "ts_ruleset.h"

json_t *ts_ruleset_to_json(const struct ts_ruleset *rs);
/* 0 and *out, -EINVAL when `v` is not a rule set as written above. */
int ts_ruleset_from_json(json_t *v, struct ts_ruleset **out);

#endif /* TS_RULESET_JSON_H */
