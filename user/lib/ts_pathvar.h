/* SPDX-License-Identifier: MIT */
/*
 * Path templates of a policy: absolute, normalized paths that may use
 * ${WORKDIR}, ${HOME}, ${USER} and ${TASK_ID}, expanded at task start.
 * Paths must be written as the kernel names files (no "//", "." or ".."):
 * a rule on any other spelling would never match.
 */
#ifndef TS_PATHVAR_H
#define TS_PATHVAR_H

#include <stdbool.h>
#include <stddef.h>

struct ts_vars {
	const char *workdir; /* absolute, symlinks resolved */
	const char *home;
	const char *user;
	const char *task_id;
};

/* 0, or -EINVAL and the reason in `why`. `unix_socket`: also "@abstract" names. */
int ts_path_template_check(const char *text, bool unix_socket, char *why, size_t why_size);
bool ts_path_has_vars(const char *text);
/* Expand into `out`. -EINVAL (undefined variable, or a value that makes the
 * path invalid) or -ENAMETOOLONG, with the reason in `why`. */
int ts_path_expand(const char *text, const struct ts_vars *vars, char *out, size_t size,
		   char *why, size_t why_size);

#endif /* TS_PATHVAR_H */
