// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "ts_names.h"

#define NAME(table, i) ((i) < sizeof(table) / sizeof(table[0]) && table[i] ? table[i] : "unknown")

const char *ts_kind_name(unsigned int kind)
{
	static const char *const names[] = {
		[TS_KIND_EXEC] = "exec",
		[TS_KIND_FILE] = "file",
		[TS_KIND_NET] = "net",
		[TS_KIND_GUARD] = "guard",
	};

	return NAME(names, kind);
}

const char *ts_op_name(unsigned int op)
{
	static const char *const names[] = {
		[TS_OP_EXEC] = "exec",       [TS_OP_OPEN] = "open",       [TS_OP_TRUNCATE] = "truncate",
		[TS_OP_UNLINK] = "unlink",   [TS_OP_MKDIR] = "mkdir",     [TS_OP_RMDIR] = "rmdir",
		[TS_OP_RENAME] = "rename",   [TS_OP_LINK] = "link",       [TS_OP_SYMLINK] = "symlink",
		[TS_OP_MKNOD] = "create",    [TS_OP_CHMOD] = "chmod",     [TS_OP_CHOWN] = "chown",
		[TS_OP_CONNECT] = "connect", [TS_OP_SENDMSG] = "sendmsg", [TS_OP_SOCKET] = "socket",
		[TS_OP_BPF] = "bpf",         [TS_OP_PTRACE] = "ptrace",   [TS_OP_KILL] = "kill",
		[TS_OP_USERNS] = "userns",   [TS_OP_MOUNT] = "mount",     [TS_OP_CHROOT] = "chroot",
		[TS_OP_FORK] = "fork",
	};

	return NAME(names, op);
}

const char *ts_verdict_name(unsigned int verdict)
{
	static const char *const names[] = {
		[TS_VERDICT_ALLOW] = "allow",
		[TS_VERDICT_DENY] = "deny",
		[TS_VERDICT_AUDIT] = "audit",
	};

	return NAME(names, verdict);
}

const char *ts_reason_name(unsigned int reason)
{
	static const char *const names[] = {
		[TS_REASON_RULE] = "rule",         [TS_REASON_NO_RULE] = "no-rule",
		[TS_REASON_NO_TASK] = "no-task",   [TS_REASON_REVOKED] = "revoked",
		[TS_REASON_EXPIRED] = "expired",   [TS_REASON_UNLINKED] = "unlinked",
		[TS_REASON_GUARD] = "guard",       [TS_REASON_SECRET] = "secret",
	};

	return NAME(names, reason);
}

const char *ts_mode_name(unsigned int mode)
{
	return mode == TS_MODE_AUDIT ? "audit" : "enforce";
}

void ts_access_text(__u32 access, char *buf, size_t size)
{
	static const char *const names[] = { "read", "write", "exec", "connect" };
	size_t used = 0, i;

	if (size)
		buf[0] = '\0';
	for (i = 0; i < 4; i++)
		if (access & (1u << i))
			used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "%s%s",
						 used ? "," : "", names[i]);
}

void ts_task_id_text(__u64 id, char buf[17])
{
	snprintf(buf, 17, "%016llx", (unsigned long long)id);
}

int ts_task_id_parse(const char *text, __u64 *id)
{
	__u64 v = 0;
	size_t n = strlen(text), i;

	if (!n || n > 16)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		char c = text[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned int)(c - 'A' + 10);
		else
			return -EINVAL;
		v = v << 4 | d;
	}
	if (!v)
		return -EINVAL;
	*id = v;
	return 0;
}
