// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/magic.h>
#include <bpf/libbpf.h>
#include "ts_host.h"
#include "ts_log.h"

#define LSM_LIST "/sys/kernel/security/lsm"
#define LOCKDOWN "/sys/kernel/security/lockdown"
#define BTF_PATH "/sys/kernel/btf/vmlinux"
#define BPFFS "/sys/fs/bpf"

static int read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	int err = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)size, f))
		err = ferror(f) ? -EIO : -ENODATA;
	else
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	return err;
}

static bool list_has(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		bool start = p == list || p[-1] == ',';
		bool end = p[n] == ',' || p[n] == '\0';

		if (start && end)
			return true;
		p += n;
	}
	return false;
}

static void set(struct ts_check *c, const char *name, enum ts_check_status st,
		const char *fix)
{
	c->name = name;
	c->status = st;
	c->fix = st == TS_CHECK_OK ? NULL : fix;
}

static void probe_kernel(struct ts_check *c)
{
	struct utsname u;
	unsigned int major = 0, minor = 0;

	uname(&u);
	snprintf(c->value, sizeof(c->value), "%s", u.release);
	sscanf(u.release, "%u.%u", &major, &minor);
	set(c, "kernel", major > 6 || (major == 6 && minor >= 1) ? TS_CHECK_OK : TS_CHECK_FAIL,
	    "taskscope needs Linux 6.1 or newer");
}

static void probe_btf(struct ts_check *c)
{
	bool ok = access(BTF_PATH, R_OK) == 0;

	snprintf(c->value, sizeof(c->value), "%s", ok ? BTF_PATH : "missing");
	set(c, "btf", ok ? TS_CHECK_OK : TS_CHECK_FAIL,
	    "use a kernel built with CONFIG_DEBUG_INFO_BTF=y");
}

static void probe_lsm(struct ts_check *c)
{
	char list[200];
	int err = read_line(LSM_LIST, list, sizeof(list));

	if (err) {
		snprintf(c->value, sizeof(c->value), "unknown (%s: %s)", LSM_LIST, strerror(-err));
		set(c, "lsm", TS_CHECK_FAIL,
		    "mount securityfs: mount -t securityfs none /sys/kernel/security");
		return;
	}
	snprintf(c->value, sizeof(c->value), "%s", list);
	set(c, "lsm", list_has(list, "bpf") ? TS_CHECK_OK : TS_CHECK_FAIL,
	    "add bpf to the active LSMs: boot with lsm=<the list shown>,bpf "
	    "(GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub and reboot)");
}

static void probe_lockdown(struct ts_check *c)
{
	char mode[200];

	if (read_line(LOCKDOWN, mode, sizeof(mode))) {
		snprintf(c->value, sizeof(c->value), "not available");
		set(c, "lockdown", TS_CHECK_OK, NULL);
		return;
	}
	snprintf(c->value, sizeof(c->value), "%s", mode);
	/* confidentiality lockdown forbids bpf_probe_read_kernel, which the
	 * event path uses. */
	set(c, "lockdown", strstr(mode, "[confidentiality]") ? TS_CHECK_FAIL : TS_CHECK_OK,
	    "kernel lockdown=confidentiality forbids BPF kernel reads: boot with lockdown=integrity or none");
}

static void probe_bpffs(struct ts_check *c)
{
	struct statfs st;
	bool ok = statfs(BPFFS, &st) == 0 && st.f_type == BPF_FS_MAGIC;

	snprintf(c->value, sizeof(c->value), "%s", ok ? BPFFS : "not mounted");
	set(c, "bpffs", ok ? TS_CHECK_OK : TS_CHECK_FAIL,
	    "mount the BPF filesystem: mount -t bpf bpf /sys/fs/bpf");
}

static void probe_pidfd(struct ts_check *c)
{
	long fd = syscall(SYS_pidfd_open, getpid(), 0);

	snprintf(c->value, sizeof(c->value), "%s", fd >= 0 ? "pidfd_open works" : strerror(errno));
	if (fd >= 0)
		close((int)fd);
	set(c, "pidfd", fd >= 0 ? TS_CHECK_OK : TS_CHECK_FAIL,
	    "taskscope needs pidfd_open(2) (Linux 5.3 or newer)");
}

static void probe_map(struct ts_check *c, const char *name, enum bpf_map_type type)
{
	int ret = libbpf_probe_bpf_map_type(type, NULL);

	snprintf(c->value, sizeof(c->value), "%s",
		 ret == 1 ? "supported" : ret == 0 ? "unsupported" : strerror(-ret));
	set(c, name, ret == 1 ? TS_CHECK_OK : TS_CHECK_FAIL,
	    ret < 0 ? "run as root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)"
		    : "use a kernel built with CONFIG_BPF_SYSCALL=y, 6.1 or newer");
}

void ts_host_probe(struct ts_host_report *r)
{
	memset(r, 0, sizeof(*r));
	probe_kernel(&r->checks[TS_HOST_KERNEL]);
	probe_btf(&r->checks[TS_HOST_BTF]);
	probe_lsm(&r->checks[TS_HOST_LSM]);
	probe_lockdown(&r->checks[TS_HOST_LOCKDOWN]);
	probe_bpffs(&r->checks[TS_HOST_BPFFS]);
	probe_pidfd(&r->checks[TS_HOST_PIDFD]);
	probe_map(&r->checks[TS_HOST_RINGBUF], "ringbuf", BPF_MAP_TYPE_RINGBUF);
	probe_map(&r->checks[TS_HOST_TASK_STORAGE], "task_storage", BPF_MAP_TYPE_TASK_STORAGE);
}

enum ts_check_status ts_host_verdict(const struct ts_host_report *r)
{
	enum ts_check_status worst = TS_CHECK_OK;
	int i;

	for (i = 0; i < TS_HOST_CHECKS; i++)
		if (r->checks[i].status > worst)
			worst = r->checks[i].status;
	return worst;
}

bool ts_host_bpf_lsm_active(void)
{
	char list[256];

	return !read_line(LSM_LIST, list, sizeof(list)) && list_has(list, "bpf");
}

void ts_host_explain_failure(int err)
{
	struct ts_host_report r;
	int i;

	ts_host_probe(&r);
	for (i = 0; i < TS_HOST_CHECKS; i++) {
		const struct ts_check *c = &r.checks[i];

		if (c->status == TS_CHECK_FAIL)
			ts_err("host check '%s' failed (%s): %s", c->name, c->value, c->fix);
	}
	if (ts_host_verdict(&r) != TS_CHECK_FAIL && (err == -EPERM || err == -EACCES))
		ts_err("the kernel refused a BPF LSM program although every host check passed: "
		       "run as root, and check that no security policy (a container, "
		       "seccomp, or a hypervisor restriction) blocks trampoline programs; "
		       "tools/vmtest runs taskscope in a VM with a suitable kernel");
}
