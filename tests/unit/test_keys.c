// SPDX-License-Identifier: MIT
/* Rule keys: what the kernel's LPM lookup will compare. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "ts_keys.h"

#define TASK 0x0123456789abcdefULL

static void exact_file_includes_nul(void **state)
{
	struct ts_path_key k;

	(void)state;
	assert_int_equal(ts_path_key_init(&k, TASK, "/etc/hosts"), 0);
	/* 10 characters and the NUL: "/etc/hosts.bak" differs at byte 10. */
	assert_int_equal(k.prefixlen, TS_KEY_TASK_BITS + 8 * 11);
	assert_int_equal(k.task_hi, 0x01234567);
	assert_int_equal(k.task_lo, 0x89abcdef);
	assert_string_equal(k.path, "/etc/hosts");
	assert_int_equal(k.path[10], '\0');
}

static void directory_is_prefix_without_nul(void **state)
{
	struct ts_path_key k;

	(void)state;
	assert_true(ts_path_is_dir("/usr/"));
	assert_false(ts_path_is_dir("/usr"));
	assert_int_equal(ts_path_key_init(&k, TASK, "/usr/"), 0);
	assert_int_equal(k.prefixlen, TS_KEY_TASK_BITS + 8 * 5);
}

static void longest_path_that_fits(void **state)
{
	char dir[TS_PATH_MAX + 1], file[TS_PATH_MAX + 1];
	struct ts_path_key k;

	(void)state;
	/* A directory may use every byte; a file needs one for its NUL. */
	memset(dir, 'd', TS_PATH_MAX);
	dir[0] = '/';
	dir[TS_PATH_MAX - 1] = '/';
	dir[TS_PATH_MAX] = '\0';
	assert_int_equal(ts_path_key_init(&k, TASK, dir), 0);
	assert_int_equal(k.prefixlen, TS_KEY_TASK_BITS + 8 * TS_PATH_MAX);

	memset(file, 'f', TS_PATH_MAX - 1);
	file[0] = '/';
	file[TS_PATH_MAX - 1] = '\0';
	assert_int_equal(ts_path_key_init(&k, TASK, file), 0);
	assert_int_equal(k.prefixlen, TS_KEY_TASK_BITS + 8 * TS_PATH_MAX);
}

static void too_long_is_refused_not_truncated(void **state)
{
	char file[TS_PATH_MAX + 1], dir[TS_PATH_MAX + 2];
	struct ts_path_key k;

	(void)state;
	memset(file, 'f', TS_PATH_MAX);
	file[0] = '/';
	file[TS_PATH_MAX] = '\0'; /* TS_PATH_MAX characters + NUL: one too many */
	assert_int_equal(ts_path_key_init(&k, TASK, file), -ENAMETOOLONG);

	memset(dir, 'd', TS_PATH_MAX + 1);
	dir[0] = '/';
	dir[TS_PATH_MAX] = '/';
	dir[TS_PATH_MAX + 1] = '\0';
	assert_int_equal(ts_path_key_init(&k, TASK, dir), -ENAMETOOLONG);
	assert_int_equal(ts_path_key_init(&k, TASK, ""), -EINVAL);
}

static void net_key_masks_host_bits(void **state)
{
	struct ts_net_key a, b;
	__u8 addr[16];

	(void)state;
	ts_addr_v4_mapped(addr, inet_addr("10.1.2.3"));
	assert_int_equal(addr[10], 0xff);
	assert_int_equal(addr[11], 0xff);
	assert_int_equal(addr[12], 10);
	/* 10.1.2.3/8 and 10.200.0.0/8 are the same network: the same key. */
	assert_int_equal(ts_net_key_init(&a, TASK, addr, 96 + 8), 0);
	ts_addr_v4_mapped(addr, inet_addr("10.200.0.0"));
	assert_int_equal(ts_net_key_init(&b, TASK, addr, 96 + 8), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(a.prefixlen, TS_KEY_TASK_BITS + 104);
	assert_int_equal(a.addr[13], 0);

	/* /12 keeps the top four bits of the second byte. */
	ts_addr_v4_mapped(addr, inet_addr("172.31.255.255"));
	assert_int_equal(ts_net_key_init(&a, TASK, addr, 96 + 12), 0);
	assert_int_equal(a.addr[12], 172);
	assert_int_equal(a.addr[13], 16);
	assert_int_equal(a.addr[14], 0);
	assert_int_equal(ts_net_key_init(&a, TASK, addr, 129), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_file_includes_nul),
		cmocka_unit_test(directory_is_prefix_without_nul),
		cmocka_unit_test(longest_path_that_fits),
		cmocka_unit_test(too_long_is_refused_not_truncated),
		cmocka_unit_test(net_key_masks_host_bits),
	};

	return cmocka_run_group_tests_name("keys", tests, NULL, NULL);
}
