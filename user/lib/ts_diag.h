/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics about an input file (a policy, the daemon's config): every
 * error is collected, with file:line:column and the JSON path of what it is
 * about, so a person sees all of them at once and can act on each.
 */
#ifndef TS_DIAG_H
#define TS_DIAG_H

#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

struct ts_diag_entry {
	int line, column; /* 1-based; 0 when unknown */
	char *path;       /* JSON path ("file.write[2]"), "" for the document */
	char *message;
};

struct ts_diag {
	const char *file; /* as the user named it */
	struct ts_diag_entry *entries;
	size_t count, cap;
};

void ts_diag_init(struct ts_diag *d, const char *file);
void ts_diag_free(struct ts_diag *d);
/* Record an error. Returns -EINVAL, what a caller returns for bad input. */
int ts_diag_add(struct ts_diag *d, int line, int column, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Order the errors as they appear in the file. */
void ts_diag_sort(struct ts_diag *d);
/* "file:line:column: path: message", one per line. */
void ts_diag_print(const struct ts_diag *d, FILE *out);
/* [{file, line, column, path, message}, ...] */
json_t *ts_diag_json(const struct ts_diag *d);

#endif /* TS_DIAG_H */
