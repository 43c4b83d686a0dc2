/* SPDX-License-Identifier: MIT */
/*
 * Where each value of a JSON text sits. jansson parses and validates, but
 * keeps no positions; this index maps a JSON path ("file.write[2]") to the
 * line and column of its key and of its value, so errors can point at the
 * exact place. Columns count UTF-8 characters, from 1.
 */
#ifndef TS_JSONPOS_H
#define TS_JSONPOS_H

#include <stddef.h>

struct ts_jsonpos_entry {
	char *path;
	int key_line, key_column; /* of the key; the value's for array items */
	int line, column;         /* of the value */
};

struct ts_jsonpos {
	struct ts_jsonpos_entry *entries;
	size_t count, cap;
};

/* Index `text` (`len` bytes). Tolerates invalid JSON: what was indexed
 * before the first error stays usable. Returns 0 or -ENOMEM. */
int ts_jsonpos_build(struct ts_jsonpos *idx, const char *text, size_t len);
void ts_jsonpos_free(struct ts_jsonpos *idx);
/* The entry of `path`, or NULL. */
const struct ts_jsonpos_entry *ts_jsonpos_find(const struct ts_jsonpos *idx, const char *path);

#endif /* TS_JSONPOS_H */
