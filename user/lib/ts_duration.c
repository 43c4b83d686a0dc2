// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "ts_duration.h"

#define MAX_SECONDS (365ull * 24 * 3600)

static const struct {
	char unit;
	__u64 seconds;
} units[] = { { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };

int ts_duration_parse(const char *text, __u64 *ns)
{
	const char *p = text;
	__u64 total = 0;
	size_t next = 0;

	if (!*p)
		return -EINVAL;
	while (*p) {
		__u64 n = 0;
		size_t u;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		while (*p >= '0' && *p <= '9') {
			n = n * 10 + (__u64)(*p++ - '0');
			if (n > MAX_SECONDS)
				return -ERANGE;
		}
		for (u = next; u < sizeof(units) / sizeof(units[0]); u++)
			if (units[u].unit == *p)
				break;
		if (u == sizeof(units) / sizeof(units[0]))
			return -EINVAL; /* no unit, an unknown one, or out of order */
		total += n * units[u].seconds;
		if (total > MAX_SECONDS)
			return -ERANGE;
		next = u + 1;
		p++;
	}
	if (!total)
		return -ERANGE;
	*ns = total * TS_NSEC_PER_SEC;
	return 0;
}

void ts_duration_format(__u64 ns, char *buf, size_t size)
{
	__u64 s = ns / TS_NSEC_PER_SEC;
	size_t u, used = 0;

	buf[0] = '\0';
	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		__u64 n = s / units[u].seconds;

		if (!n)
			continue;
		s -= n * units[u].seconds;
		used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "%llu%c",
					 (unsigned long long)n, units[u].unit);
	}
	if (!buf[0])
		snprintf(buf, size, "0s");
}
