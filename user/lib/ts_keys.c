// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include "ts_keys.h"

bool ts_path_is_dir(const char *path)
{
	size_t n = strlen(path);

	return n && path[n - 1] == '/';
}

int ts_path_key_init(struct ts_path_key *key, __u64 task_id, const char *path)
{
	size_t n = strlen(path);
	size_t bytes = ts_path_is_dir(path) ? n : n + 1;

	if (!n)
		return -EINVAL;
	if (bytes > TS_PATH_MAX)
		return -ENAMETOOLONG;
	memset(key, 0, sizeof(*key));
	key->task_hi = task_id >> 32;
	key->task_lo = (__u32)task_id;
	memcpy(key->path, path, n);
	key->prefixlen = TS_KEY_TASK_BITS + 8 * (__u32)bytes;
	return 0;
}

int ts_net_key_init(struct ts_net_key *key, __u64 task_id, const __u8 addr[16],
		    unsigned int prefix_bits)
{
	unsigned int i;

	if (prefix_bits > 128)
		return -EINVAL;
	memset(key, 0, sizeof(*key));
	key->task_hi = task_id >> 32;
	key->task_lo = (__u32)task_id;
	/* Zero the host bits so equal networks make equal keys. */
	for (i = 0; i < 16; i++) {
		unsigned int keep = prefix_bits > 8 * i ? prefix_bits - 8 * i : 0;

		if (keep >= 8)
			key->addr[i] = addr[i];
		else if (keep)
			key->addr[i] = addr[i] & (__u8)(0xff << (8 - keep));
	}
	key->prefixlen = TS_KEY_TASK_BITS + prefix_bits;
	return 0;
}

void ts_addr_v4_mapped(__u8 out[16], __u32 v4_be)
{
	memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	memcpy(out + 12, &v4_be, 4);
}
