// SPDX-License-Identifier: MIT
/* taskscope audit ID [--file PATH]: a task's whole timeline, from the file
 * sink, sub-tasks included. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "ts_names.h"

#define DEFAULT_FILE "/var/log/taskscope/events.jsonl"
#define LINE_MAX_BYTES (64 * 1024)

struct idset {
	__u64 *ids;
	size_t n;
};

static bool has(const struct idset *s, __u64 id)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->ids[i] == id)
			return true;
	return false;
}

static void add(struct idset *s, __u64 id)
{
	__u64 *bigger;

	if (has(s, id))
		return;
	bigger = realloc(s->ids, (s->n + 1) * sizeof(*bigger));
	if (bigger) {
		s->ids = bigger;
		s->ids[s->n++] = id;
	}
}

static __u64 id_of(json_t *ts, const char *key)
{
	const char *text = json_string_value(json_object_get(ts, key));
	__u64 id = 0;

	if (text && *text)
		ts_task_id_parse(text, &id);
	return id;
}

int cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ 0 },
	};
	const char *file = DEFAULT_FILE;
	struct idset tasks = { 0 };
	char *line;
	size_t shown = 0;
	__u64 root;
	FILE *f;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
		if (opt != 'f')
			goto usage;
		file = optarg;
	}
	if (optind != argc - 1)
		goto usage;
	if (ts_task_id_parse(argv[optind], &root)) {
		cli_error("'%s' is not a task id", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	f = fopen(file, "re");
	if (!f) {
		cli_error("cannot open event file '%s': %s", file, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	line = malloc(LINE_MAX_BYTES);
	add(&tasks, root);
	/* Records are in order: a sub-task's start names its parent before
	 * any of its own events. */
	while (line && fgets(line, LINE_MAX_BYTES, f)) {
		json_t *e = json_loads(line, 0, NULL);
		json_t *ts = json_object_get(json_object_get(e, "unmapped"), "taskscope");
		__u64 id = id_of(ts, "task_id");

		if (id && !has(&tasks, id) && has(&tasks, id_of(ts, "parent_task_id")))
			add(&tasks, id);
		if (id && has(&tasks, id)) {
			if (cli_json)
				cli_json_print(json_incref(e));
			else
				cli_render_event(stdout, e);
			shown++;
		}
		json_decref(e);
	}
	fclose(f);
	free(line);
	free(tasks.ids);
	if (!shown) {
		cli_error("no event of task %s in '%s'", argv[optind], file);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
usage:
	fprintf(stderr, "usage: taskscope audit ID [--file PATH]\n");
	return CLI_EXIT_USAGE;
}
