// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "ts_diag.h"

void ts_diag_init(struct ts_diag *d, const char *file)
{
	memset(d, 0, sizeof(*d));
	d->file = file;
}

void ts_diag_free(struct ts_diag *d)
{
	size_t i;

	for (i = 0; i < d->count; i++) {
		free(d->entries[i].path);
		free(d->entries[i].message);
	}
	free(d->entries);
	d->entries = NULL;
	d->count = d->cap = 0;
}

int ts_diag_add(struct ts_diag *d, int line, int column, const char *path, const char *fmt, ...)
{
	struct ts_diag_entry *e;
	va_list ap;
	char *msg;

	if (d->count == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 8;
		struct ts_diag_entry *bigger = realloc(d->entries, cap * sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		d->entries = bigger;
		d->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	e = &d->entries[d->count];
	e->path = strdup(path ? path : "");
	e->message = msg;
	if (!e->path || !e->message) {
		free(e->path);
		free(e->message);
		return -ENOMEM;
	}
	e->line = line;
	e->column = column;
	d->count++;
	return -EINVAL;
}

static int by_position(const void *a, const void *b)
{
	const struct ts_diag_entry *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return (x->column > y->column) - (x->column < y->column);
}

void ts_diag_sort(struct ts_diag *d)
{
	/* qsort is not stable; equal positions keep no promised order. */
	if (d->count > 1)
		qsort(d->entries, d->count, sizeof(*d->entries), by_position);
}

void ts_diag_print(const struct ts_diag *d, FILE *out)
{
	size_t i;

	for (i = 0; i < d->count; i++) {
		const struct ts_diag_entry *e = &d->entries[i];

		fprintf(out, "%s:", d->file);
		if (e->line)
			fprintf(out, "%d:%d:", e->line, e->column);
		fprintf(out, " %s%s%s\n", e->path, *e->path ? ": " : "", e->message);
	}
}

json_t *ts_diag_json(const struct ts_diag *d)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr && i < d->count; i++) {
		const struct ts_diag_entry *e = &d->entries[i];

		json_array_append_new(arr, json_pack("{s:s, s:i, s:i, s:s, s:s}", "file", d->file,
						     "line", e->line, "column", e->column, "path",
						     e->path, "message", e->message));
	}
	return arr;
}
