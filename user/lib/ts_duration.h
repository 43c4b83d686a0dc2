/* SPDX-License-Identifier: MIT */
/* Durations as people write them: "90s", "30m", "2h", "1h30m", "7d". */
#ifndef TS_DURATION_H
#define TS_DURATION_H

#include <stddef.h>
#include <linux/types.h>

#define TS_NSEC_PER_SEC 1000000000ull

/* Units d, h, m, s, each at most once and in that order, integer counts.
 * Returns 0; -EINVAL when malformed; -ERANGE when zero or beyond 365d. */
int ts_duration_parse(const char *text, __u64 *ns);
/* The shortest such text for `ns` (rounded down to seconds). */
void ts_duration_format(__u64 ns, char *buf, size_t size);

#endif /* TS_DURATION_H */
