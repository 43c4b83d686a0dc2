// SPDX-License-Identifier: MIT
/* /etc/taskscope/taskscoped.conf: JSON, every error with file:line:column. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "daemon.h"
#include "sinks.h"
#include "ts_diag.h"
#include "ts_duration.h"
#include "ts_jsonpos.h"
#include "ts_log.h"
#include "ts_proto.h"

#define DEFAULT_CONFIG "/etc/taskscope/taskscoped.conf"
#define CONFIG_MAX_BYTES (256 * 1024)

struct cfg_parse {
	struct ts_diag diag;
	struct ts_jsonpos pos;
};

static void report(struct cfg_parse *p, const char *path, bool at_key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report(struct cfg_parse *p, const char *path, bool at_key, const char *fmt, ...)
{
	const struct ts_jsonpos_entry *e = ts_jsonpos_find(&p->pos, path);
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ts_diag_add(&p->diag, e ? (at_key ? e->key_line : e->line) : 0,
		    e ? (at_key ? e->key_column : e->column) : 0, path, "%s", msg);
}

static void defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->socket_path, sizeof(c->socket_path), "%s", TS_CONTROL_SOCKET);
	snprintf(c->socket_group, sizeof(c->socket_group), "taskscope");
	snprintf(c->state_dir, sizeof(c->state_dir), "/run/taskscope");
	/* secrets_dir: STATE_DIR/secrets unless set (secrets_init) */
	c->helper_timeout_ns = 10ull * TS_NSEC_PER_SEC;
	c->secret_max_bytes = 64 * 1024;
	snprintf(c->pin_dir, sizeof(c->pin_dir), "%s", TS_PIN_DIR);
	snprintf(c->trust_domain, sizeof(c->trust_domain), "taskscope.local");
	c->max_ttl_ns = 24ull * 3600 * TS_NSEC_PER_SEC;
	c->default_ttl_ns = 3600ull * TS_NSEC_PER_SEC;
	c->resolve_interval_ns = 300ull * TS_NSEC_PER_SEC;
	c->max_tasks = 1024;
	c->max_clients = 1024;
	c->sinks[0].type = SINK_STDOUT;
	c->sinks[0].queue_bytes = SINK_DEFAULT_QUEUE;
	c->nsinks = 1;
}

static const char *str(struct cfg_parse *p, json_t *obj, const char *key, const char *path)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return NULL;
	if (!json_is_string(v)) {
		report(p, path, false, "expected a string");
		return NULL;
	}
	return json_string_value(v);
}

static void copy_str(struct cfg_parse *p, json_t *obj, const char *key, const char *path,
		     char *dst, size_t size, bool absolute)
{
	const char *s = str(p, obj, key, path);

	if (!s)
		return;
	if (strlen(s) >= size)
		report(p, path, false, "longer than %zu bytes", size - 1);
	else if (absolute && s[0] != '/')
		report(p, path, false, "path must be absolute");
	else
		memcpy(dst, s, strlen(s) + 1);
}

static void duration(struct cfg_parse *p, json_t *obj, const char *key, __u64 *ns)
{
	const char *s = str(p, obj, key, key);

	if (s && ts_duration_parse(s, ns))
		report(p, key, false, "bad duration '%s': write counts with units d, h, m, s", s);
}

static void count(struct cfg_parse *p, json_t *obj, const char *key, const char *path,
		  unsigned int *out, unsigned int lo, unsigned int hi)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		report(p, path, false, "expected an integer from %u to %u", lo, hi);
		return;
	}
	*out = (unsigned int)json_integer_value(v);
}

/* "64M", "1G", "4096". */
static int parse_size(const char *s, __u64 *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (end == s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	switch (*end) {
	case '\0':
		break;
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'G':
		v <<= 30;
		end++;
		break;
	default:
		return -EINVAL;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static void size_field(struct cfg_parse *p, json_t *obj, const char *key, const char *path,
		       __u64 *out)
{
	const char *s = str(p, obj, key, path);

	if (s && parse_size(s, out))
		report(p, path, false, "bad size '%s': a number with K, M or G", s);
}

static void check_keys(struct cfg_parse *p, const char *prefix, json_t *obj,
		       const char *const *known)
{
	const char *key, *const *k;
	char path[128];
	json_t *v;

	json_object_foreach(obj, key, v) {
		for (k = known; *k && strcmp(*k, key); k++)
			;
		if (*k)
			continue;
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);
		report(p, path, true, "unknown key '%s'", key);
	}
}

static void parse_sink(struct cfg_parse *p, json_t *s, size_t i, struct sink_cfg *out)
{
	static const char *const keys[] = { "type", "path",      "max_size", "keep",
					    "fsync", "transport", "host",     "port",
					    "queue", NULL };
	char path[64], field[96];
	__u64 queue = SINK_DEFAULT_QUEUE;
	const char *type, *v;

	snprintf(path, sizeof(path), "sinks[%zu]", i);
	if (!json_is_object(s)) {
		report(p, path, false, "expected an object");
		return;
	}
	check_keys(p, path, s, keys);
	memset(out, 0, sizeof(*out));
	snprintf(field, sizeof(field), "%s.type", path);
	type = str(p, s, "type", field);
	if (!type) {
		report(p, path, false, "a sink needs a \"type\": stdout, file or syslog");
		return;
	}
	if (!strcmp(type, "stdout")) {
		out->type = SINK_STDOUT;
	} else if (!strcmp(type, "file")) {
		out->type = SINK_FILE;
		out->keep = 5;
		out->fsync_mode = SINK_FSYNC_INTERVAL;
		snprintf(field, sizeof(field), "%s.path", path);
		copy_str(p, s, "path", field, out->path, sizeof(out->path), true);
		if (!out->path[0])
			report(p, path, false, "a file sink needs an absolute \"path\"");
		snprintf(field, sizeof(field), "%s.max_size", path);
		size_field(p, s, "max_size", field, &out->max_bytes);
		snprintf(field, sizeof(field), "%s.keep", path);
		count(p, s, "keep", field, &out->keep, 1, 100);
		snprintf(field, sizeof(field), "%s.fsync", path);
		v = str(p, s, "fsync", field);
		if (v && !strcmp(v, "never"))
			out->fsync_mode = SINK_FSYNC_NEVER;
		else if (v && !strcmp(v, "always"))
			out->fsync_mode = SINK_FSYNC_ALWAYS;
		else if (v && strcmp(v, "interval"))
			report(p, field, false, "fsync must be \"never\", \"interval\" or \"always\"");
	} else if (!strcmp(type, "syslog")) {
		out->type = SINK_SYSLOG;
		out->transport = SYSLOG_UNIX;
		snprintf(out->path, sizeof(out->path), "/dev/log");
		snprintf(field, sizeof(field), "%s.transport", path);
		v = str(p, s, "transport", field);
		if (v && !strcmp(v, "udp"))
			out->transport = SYSLOG_UDP;
		else if (v && !strcmp(v, "tcp"))
			out->transport = SYSLOG_TCP;
		else if (v && strcmp(v, "unix"))
			report(p, field, false, "transport must be \"unix\", \"udp\" or \"tcp\"");
		snprintf(field, sizeof(field), "%s.path", path);
		copy_str(p, s, "path", field, out->path, sizeof(out->path), true);
		snprintf(field, sizeof(field), "%s.host", path);
		copy_str(p, s, "host", field, out->host, sizeof(out->host), false);
		snprintf(field, sizeof(field), "%s.port", path);
		copy_str(p, s, "port", field, out->port, sizeof(out->port), false);
		if (out->transport != SYSLOG_UNIX && (!out->host[0] || !out->port[0]))
			report(p, path, false, "a network syslog sink needs \"host\" and \"port\"");
	} else {
		report(p, field, false, "unknown sink type '%s' (stdout, file or syslog)", type);
	}
	snprintf(field, sizeof(field), "%s.queue", path);
	size_field(p, s, "queue", field, &queue);
	if (queue < 4096 || queue > (1u << 30))
		report(p, field, false, "queue must be 4K to 1G");
	out->queue_bytes = (__u32)queue;
}

static void parse(struct cfg_parse *p, json_t *root, struct config *c)
{
	static const char *const keys[] = { "socket",      "group",       "state_dir",
					    "pin_dir",     "trust_domain", "max_ttl",
					    "default_ttl", "resolve_interval", "log",
					    "max_tasks",   "max_clients", "sinks",
					    "ring_buffer", "secrets_dir", "helper_timeout",
					    "secret_max_size", NULL };
	static const char *const kinds[] = { "exec", "file", "net", "guard" };
	json_t *v, *item;
	size_t i, k;

	check_keys(p, "", root, keys);
	copy_str(p, root, "socket", "socket", c->socket_path, sizeof(c->socket_path), true);
	copy_str(p, root, "group", "group", c->socket_group, sizeof(c->socket_group), false);
	copy_str(p, root, "state_dir", "state_dir", c->state_dir, sizeof(c->state_dir), true);
	copy_str(p, root, "pin_dir", "pin_dir", c->pin_dir, sizeof(c->pin_dir), true);
	copy_str(p, root, "trust_domain", "trust_domain", c->trust_domain,
		 sizeof(c->trust_domain), false);
	duration(p, root, "max_ttl", &c->max_ttl_ns);
	duration(p, root, "default_ttl", &c->default_ttl_ns);
	duration(p, root, "resolve_interval", &c->resolve_interval_ns);
	duration(p, root, "helper_timeout", &c->helper_timeout_ns);
	copy_str(p, root, "secrets_dir", "secrets_dir", c->secrets_dir, sizeof(c->secrets_dir),
		 true);
	{
		__u64 max = c->secret_max_bytes;

		size_field(p, root, "secret_max_size", "secret_max_size", &max);
		if (max < 1 || max > (16u << 20))
			report(p, "secret_max_size", false, "secret_max_size must be 1 to 16M");
		else
			c->secret_max_bytes = (__u32)max;
	}
	if (c->default_ttl_ns > c->max_ttl_ns)
		report(p, "default_ttl", false, "default_ttl is longer than max_ttl");
	count(p, root, "max_tasks", "max_tasks", &c->max_tasks, 1, 65536);
	count(p, root, "max_clients", "max_clients", &c->max_clients, 1, 4096);
	{
		__u64 ring = 0;

		size_field(p, root, "ring_buffer", "ring_buffer", &ring);
		/* The kernel wants a power of two, a whole number of pages. */
		if (ring && (ring < 4096 || ring > (1u << 30) || (ring & (ring - 1))))
			report(p, "ring_buffer", false,
			       "ring_buffer must be a power of two from 4K to 1G");
		else
			c->ring_bytes = (__u32)ring;
	}
	v = json_object_get(root, "log");
	if (v) {
		static const char *const log_keys[] = { "allow", NULL };

		if (!json_is_object(v)) {
			report(p, "log", false, "expected an object");
		} else {
			check_keys(p, "log", v, log_keys);
			v = json_object_get(v, "allow");
			if (v && !json_is_array(v))
				report(p, "log.allow", false, "expected an array of kinds");
			json_array_foreach(v, i, item) {
				char path[32];

				snprintf(path, sizeof(path), "log.allow[%zu]", i);
				for (k = 0; k < 4; k++)
					if (json_is_string(item) &&
					    !strcmp(json_string_value(item), kinds[k]))
						break;
				if (k == 4)
					report(p, path, false, "expected exec, file, net or guard");
				else
					c->default_log_allow |= 1u << k;
			}
		}
	}
	v = json_object_get(root, "sinks");
	if (v) {
		if (!json_is_array(v) || json_array_size(v) > MAX_SINKS) {
			report(p, "sinks", false, "expected an array of at most %d sinks", MAX_SINKS);
			return;
		}
		c->nsinks = 0;
		json_array_foreach(v, i, item)
			parse_sink(p, item, i, &c->sinks[c->nsinks++]);
	}
}

int config_load(struct config *c, const char *path, bool must_exist)
{
	struct cfg_parse p;
	json_error_t jerr;
	json_t *root = NULL;
	char *text = NULL;
	size_t len = 0;
	int err = 0;
	FILE *f;

	defaults(c);
	if (!path)
		path = DEFAULT_CONFIG;
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		err = -errno;
		ts_err("cannot open config '%s': %s", path, strerror(-err));
		return err;
	}
	text = malloc(CONFIG_MAX_BYTES + 1);
	if (text)
		len = fread(text, 1, CONFIG_MAX_BYTES + 1, f);
	fclose(f);
	if (!text)
		return -ENOMEM;
	if (len > CONFIG_MAX_BYTES) {
		ts_err("config '%s' is larger than %d bytes", path, CONFIG_MAX_BYTES);
		free(text);
		return -EFBIG;
	}
	snprintf(c->file, sizeof(c->file), "%s", path);
	ts_diag_init(&p.diag, path);
	memset(&p.pos, 0, sizeof(p.pos));
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		ts_diag_add(&p.diag, jerr.line, jerr.column, "", "invalid JSON: %s", jerr.text);
	} else if (!json_is_object(root)) {
		ts_diag_add(&p.diag, 1, 1, "", "the config is a JSON object");
	} else {
		ts_jsonpos_build(&p.pos, text, len);
		parse(&p, root, c);
	}
	if (p.diag.count) {
		size_t i;

		ts_diag_sort(&p.diag);
		for (i = 0; i < p.diag.count; i++) {
			const struct ts_diag_entry *e = &p.diag.entries[i];

			ts_err("%s:%d:%d: %s%s%s", path, e->line, e->column, e->path,
			       *e->path ? ": " : "", e->message);
		}
		err = -EINVAL;
	}
	ts_diag_free(&p.diag);
	ts_jsonpos_free(&p.pos);
	json_decref(root);
	free(text);
	return err;
}
