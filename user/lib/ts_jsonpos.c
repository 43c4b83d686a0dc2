// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ts_jsonpos.h"

/* Deeper than any schema of ours: beyond it, positions are not recorded
 * (and the recursion stays bounded on hostile input). */
#define MAX_DEPTH 32
#define MAX_PATH 512

struct scan {
	const char *p, *end;
	int line, column;
	struct ts_jsonpos *idx;
	int err;
};

static void advance(struct scan *s)
{
	unsigned char c = (unsigned char)*s->p++;

	if (c == '\n') {
		s->line++;
		s->column = 1;
	} else if ((c & 0xc0) != 0x80) {
		s->column++; /* continuation bytes belong to the same character */
	}
}

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		advance(s);
}

static int record(struct scan *s, const char *path, int kl, int kc, int vl, int vc)
{
	struct ts_jsonpos *idx = s->idx;
	struct ts_jsonpos_entry *e;

	if (idx->count == idx->cap) {
		size_t cap = idx->cap ? 2 * idx->cap : 32;
		struct ts_jsonpos_entry *bigger = realloc(idx->entries, cap * sizeof(*bigger));

		if (!bigger)
			return s->err = -ENOMEM;
		idx->entries = bigger;
		idx->cap = cap;
	}
	e = &idx->entries[idx->count];
	e->path = strdup(path);
	if (!e->path)
		return s->err = -ENOMEM;
	e->key_line = kl;
	e->key_column = kc;
	e->line = vl;
	e->column = vc;
	idx->count++;
	return 0;
}

/* A string at s->p ('"'): copied (escapes kept as written) into buf. */
static int scan_string(struct scan *s, char *buf, size_t size)
{
	size_t n = 0;

	if (s->p >= s->end || *s->p != '"')
		return -1;
	advance(s);
	while (s->p < s->end && *s->p != '"') {
		if (*s->p == '\\' && s->p + 1 < s->end) {
			if (buf && n + 1 < size)
				buf[n++] = *s->p;
			advance(s);
		}
		if (buf && n + 1 < size)
			buf[n++] = *s->p;
		advance(s);
	}
	if (s->p >= s->end)
		return -1;
	advance(s);
	if (buf)
		buf[n] = '\0';
	return 0;
}

static int scan_value(struct scan *s, const char *path, int kl, int kc, int depth);

static int scan_object(struct scan *s, const char *path, int depth)
{
	char key[256], child[MAX_PATH];

	advance(s); /* { */
	for (;;) {
		int kl, kc;

		skip_ws(s);
		if (s->p < s->end && *s->p == '}') {
			advance(s);
			return 0;
		}
		kl = s->line;
		kc = s->column;
		if (scan_string(s, key, sizeof(key)))
			return -1;
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return -1;
		advance(s);
		snprintf(child, sizeof(child), "%s%s%s", path, *path ? "." : "", key);
		if (scan_value(s, child, kl, kc, depth + 1))
			return -1;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			advance(s);
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			advance(s);
			return 0;
		}
		return -1;
	}
}

static int scan_array(struct scan *s, const char *path, int depth)
{
	char child[MAX_PATH];
	int i = 0;

	advance(s); /* [ */
	for (;; i++) {
		skip_ws(s);
		if (s->p < s->end && *s->p == ']') {
			advance(s);
			return 0;
		}
		snprintf(child, sizeof(child), "%s[%d]", path, i);
		if (scan_value(s, child, 0, 0, depth + 1))
			return -1;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			advance(s);
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			advance(s);
			return 0;
		}
		return -1;
	}
}

static int scan_value(struct scan *s, const char *path, int kl, int kc, int depth)
{
	int vl, vc;

	skip_ws(s);
	if (s->p >= s->end || depth > MAX_DEPTH)
		return -1;
	vl = s->line;
	vc = s->column;
	if (record(s, path, kl ? kl : vl, kl ? kc : vc, vl, vc))
		return -1;
	switch (*s->p) {
	case '{':
		return scan_object(s, path, depth);
	case '[':
		return scan_array(s, path, depth);
	case '"':
		return scan_string(s, NULL, 0);
	default:
		while (s->p < s->end && !strchr(",]} \t\r\n", *s->p))
			advance(s);
		return 0;
	}
}

int ts_jsonpos_build(struct ts_jsonpos *idx, const char *text, size_t len)
{
	struct scan s = { .p = text, .end = text + len, .line = 1, .column = 1, .idx = idx };

	memset(idx, 0, sizeof(*idx));
	scan_value(&s, "", 0, 0, 0);
	return s.err;
}

void ts_jsonpos_free(struct ts_jsonpos *idx)
{
	size_t i;

	for (i = 0; i < idx->count; i++)
		free(idx->entries[i].path);
	free(idx->entries);
	memset(idx, 0, sizeof(*idx));
}

const struct ts_jsonpos_entry *ts_jsonpos_find(const struct ts_jsonpos *idx, const char *path)
{
	size_t i;

	for (i = 0; i < idx->count; i++)
		if (!strcmp(idx->entries[i].path, path))
			return &idx->entries[i];
	return NULL;
}
