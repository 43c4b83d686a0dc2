/* SPDX-License-Identifier: MIT */
/*
 * Helpers for kernel tests that drive taskscoped through the CLI: a daemon
 * with its own socket, pins and state, commands run as a user would, and
 * the file sink read back.
 */
#ifndef KDAEMON_H
#define KDAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

extern const char *kd_sock;   /* the daemon's control socket */
extern const char *kd_events; /* its file sink */
extern const char *kd_config; /* its configuration */
extern const char *kd_log;    /* where its stderr goes */
extern char kd_cli[512];      /* OUTPUT/taskscope */
extern char kd_self[512];     /* this test binary */
extern pid_t daemon_pid;

/* Fill kd_cli and kd_self. */
void kd_init(void);
/* Run argv with stdout and stderr into out; the exit status. */
int run_capture(char *out, size_t size, char *const argv[]);
/* taskscope --socket SOCK ARGS... (NULL-terminated): exit status. */
int tscli(char *out, size_t size, ...);
void write_policy(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void daemon_up_with(const char *config);
void daemon_up(void);
void daemon_down(int sig);
/* taskscoped --config CONFIG --teardown. */
void daemon_teardown(const char *config);
/* Records of `path` holding every key/value of want_json (matched against
 * unmapped.taskscope and the top level). */
unsigned int count_events(const char *path, const char *want_json);
/* The first such record, waiting up to 5 s; NULL if none. */
json_t *find_event_in(const char *path, const char *want_json);
json_t *find_event(const char *want_json);
void expect_event(const char *want_json);
/* Cut a command's output at its first newline. */
void first_line(char *s);

#endif
