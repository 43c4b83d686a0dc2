// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "taskscope.h"
#include "ts_keys.h"
#include "ts_pathvar.h"

static const char *const var_names[] = { "WORKDIR", "HOME", "USER", "TASK_ID" };

static int fail(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Index of the variable named at p (after "${"), its length in *len. */
static int var_at(const char *p, size_t *len)
{
	const char *end = strchr(p, '}');
	size_t i;

	if (!end)
		return -2;
	for (i = 0; i < sizeof(var_names) / sizeof(var_names[0]); i++)
		if ((size_t)(end - p) == strlen(var_names[i]) &&
		    !strncmp(p, var_names[i], (size_t)(end - p))) {
			*len = (size_t)(end - p);
			return (int)i;
		}
	*len = (size_t)(end - p);
	return -1;
}

bool ts_path_has_vars(const char *text)
{
	return strstr(text, "${") != NULL;
}

static int check_normalized(const char *t, char *why, size_t size)
{
	size_t n = strlen(t);

	if (strstr(t, "//"))
		return fail(why, size, "path must not contain '//'");
	if (strstr(t, "/./") || (n >= 2 && !strcmp(t + n - 2, "/.")))
		return fail(why, size, "path must not contain '.' components");
	if (strstr(t, "/../") || (n >= 3 && !strcmp(t + n - 3, "/..")))
		return fail(why, size, "path must not contain '..' components");
	return 0;
}

int ts_path_template_check(const char *text, bool unix_socket, char *why, size_t size)
{
	const char *p;
	size_t len;
	int v;

	if (!*text)
		return fail(why, size, "path is empty");
	if (unix_socket && text[0] == '@')
		return strlen(text) + 1 > TS_PATH_MAX
			       ? fail(why, size, "abstract socket name is longer than %d bytes",
				      TS_PATH_MAX - 1)
			       : 0;
	for (p = strstr(text, "${"); p; p = strstr(p + 2, "${")) {
		v = var_at(p + 2, &len);
		if (v == -2)
			return fail(why, size, "unterminated variable: '${' without '}'");
		if (v < 0)
			return fail(why, size,
				    "unknown variable '${%.*s}' (known: ${WORKDIR}, ${HOME}, ${USER}, ${TASK_ID})",
				    (int)len, p + 2);
	}
	if (text[0] != '/' && strncmp(text, "${WORKDIR}", 10) && strncmp(text, "${HOME}", 7))
		return fail(why, size, "path must be absolute");
	if (check_normalized(text, why, size))
		return -EINVAL;
	if (!ts_path_has_vars(text) &&
	    strlen(text) + (ts_path_is_dir(text) ? 0 : 1) > TS_PATH_MAX)
		return fail(why, size, "path is longer than the %d bytes a kernel rule holds",
			    TS_PATH_MAX - 1);
	return 0;
}

int ts_path_expand(const char *text, const struct ts_vars *vars, char *out, size_t size,
		   char *why, size_t why_size)
{
	const char *values[] = { vars->workdir, vars->home, vars->user, vars->task_id };
	size_t used = 0, len;
	const char *p = text;

	while (*p) {
		const char *chunk = p;
		size_t n = 1;

		if (p[0] == '$' && p[1] == '{') {
			int v = var_at(p + 2, &len);

			if (v < 0)
				return fail(why, why_size, "bad variable in '%s'", text);
			chunk = values[v];
			if (!chunk)
				return fail(why, why_size, "variable ${%s} is not defined for this task",
					    var_names[v]);
			n = strlen(chunk);
			/* "${WORKDIR}/x" with WORKDIR "/" is "/x", not "//x". */
			if (n && chunk[n - 1] == '/' && p[len + 3] == '/')
				n--;
			p += len + 3;
		} else {
			p++;
		}
		if (used + n >= size) {
			fail(why, why_size, "'%s' expands beyond %zu bytes", text, size - 1);
			return -ENAMETOOLONG;
		}
		memcpy(out + used, chunk, n);
		used += n;
	}
	out[used] = '\0';
	if (out[0] != '/' && out[0] != '@')
		return fail(why, why_size, "'%s' expands to '%s', which is not absolute", text, out);
	if (check_normalized(out, why, why_size))
		return -EINVAL;
	if (used + (ts_path_is_dir(out) ? 0 : 1) > TS_PATH_MAX) {
		fail(why, why_size, "'%s' expands to %zu bytes, more than the %d a kernel rule holds",
		     text, used, TS_PATH_MAX - 1);
		return -ENAMETOOLONG;
	}
	return 0;
}
