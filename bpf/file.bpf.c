// SPDX-License-Identifier: GPL-2.0-only
/*
 * file: opens by f_mode, and the namespace operations that change what a
 * path names (create, truncate, unlink, mkdir, rmdir, rename, link, symlink,
 * mknod, chmod, chown), each as write access to the path it changes.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "path.bpf.h"

#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define FMODE_EXEC 0x20
#define __FMODE_EXEC 0x20 /* in f_flags: opened by execve() or uselib() */

/*
 * Task secrets: for every process, before any rule. Returns 1 when the
 * opener owns the secret (allow, skip the rules), 0 when the file is no
 * secret, or -EACCES.
 */
static __always_inline int ts_secret_check(struct file *file, struct ts_ctx *c, bool member)
{
	struct ts_secret_key key;
	struct ts_secret_owner *owner;
	struct ts_daemon_cfg *cfg;
	struct ts_scratch *s;
	struct ts_event *e;
	__u32 zero = 0;
	long len;

	cfg = bpf_map_lookup_elem(&ts_daemon, &zero);
	if (!cfg || !cfg->secrets_dev || BPF_CORE_READ(file, f_inode, i_sb, s_dev) != cfg->secrets_dev)
		return 0;
	key.ino = BPF_CORE_READ(file, f_inode, i_ino);
	owner = bpf_map_lookup_elem(&ts_secrets, &key);
	if (!owner)
		return 0;
	if (member && c->task_id == owner->task_id)
		return 1;
	if ((bpf_get_current_pid_tgid() >> 32) == cfg->daemon_tgid)
		return 1;
	/* Someone else's secret: refused, and said so. */
	{
		struct ts_ctx owner_ctx = { .task_id = owner->task_id, .now = bpf_ktime_get_boot_ns() };
		struct ts_decision d = { .reason = TS_REASON_SECRET };
		struct ts_outcome o = { .verdict = TS_VERDICT_DENY, .ret = -EACCES };

		s = ts_scratch();
		e = ts_event_start(&owner_ctx, &d, &o, TS_KIND_FILE, TS_OP_OPEN);
		if (e) {
			e->other_task = member ? c->task_id : 0;
			e->access = TS_ACCESS_READ;
			len = s ? ts_file_path(s, file) : -1;
			if (s)
				ts_event_path(e, s->key.path, len);
			bpf_ringbuf_submit(e, 0);
		}
	}
	return -EACCES;
}

SEC("lsm/file_open")
int BPF_PROG(ts_file_open, struct file *file)
{
	struct ts_scratch *s;
	unsigned int fmode;
	struct ts_ctx c;
	__u32 want = 0;
	bool member;
	long len;
	int secret;

	member = ts_current_member(&c);
	secret = ts_secret_check(file, &c, member);
	if (secret)
		return secret > 0 ? 0 : secret;
	if (!member)
		return 0;
	s = ts_scratch();
	if (!s)
		return -EACCES;
	fmode = BPF_CORE_READ(file, f_mode);
	/* The binary and its ELF interpreter open for exec during execve:
	 * bprm_check_security decides the binary, and the interpreter comes
	 * with it. */
	if ((fmode & FMODE_EXEC) || (BPF_CORE_READ(file, f_flags) & __FMODE_EXEC))
		return 0;
	if (fmode & FMODE_READ)
		want |= TS_ACCESS_READ;
	if (fmode & FMODE_WRITE)
		want |= TS_ACCESS_WRITE;
	if (!want)
		return 0; /* O_PATH: names a file, reads nothing */
	len = ts_file_path(s, file);
	if (ts_is_dir(file->f_path.dentry))
		len = ts_path_dirify(s, len);
	return ts_path_check(&c, s, len, want, ts_unlinked(file->f_path.dentry), TS_KIND_FILE,
			     TS_OP_OPEN, EACCES);
}

/* `want` access to `dentry` on `mnt` (+ "/leaf"), for a path_* hook;
 * `dir`: the path names a directory. */
static __always_inline int ts_path_write(struct vfsmount *mnt, struct dentry *dentry,
					 struct dentry *leaf, bool dir, __u32 want, __u8 op)
{
	struct ts_scratch *s;
	struct ts_ctx c;
	long len;

	if (!ts_current_member(&c))
		return 0;
	s = ts_scratch();
	if (!s)
		return -EACCES;
	len = ts_walk_path(s, mnt, dentry, leaf);
	if (dir)
		len = ts_path_dirify(s, len);
	return ts_path_check(&c, s, len, want, false, TS_KIND_FILE, op, EACCES);
}

/* Write access to the entry `dentry` of directory `dir`. */
static __always_inline int ts_dir_entry(const struct path *dir, struct dentry *dentry, bool is_dir,
					__u8 op)
{
	return ts_path_write(BPF_CORE_READ(dir, mnt), BPF_CORE_READ(dir, dentry), dentry, is_dir,
			     TS_ACCESS_WRITE, op);
}

/* Write access to the file or directory at `path`. */
static __always_inline int ts_path_itself(const struct path *path, __u8 op)
{
	struct dentry *dentry = BPF_CORE_READ(path, dentry);

	return ts_path_write(BPF_CORE_READ(path, mnt), dentry, NULL, ts_is_dir(dentry),
			     TS_ACCESS_WRITE, op);
}

SEC("lsm/path_mknod")
int BPF_PROG(ts_path_mknod, const struct path *dir, struct dentry *dentry, umode_t mode,
	     unsigned int dev)
{
	/* Also every open(O_CREAT) that creates a file. */
	return ts_dir_entry(dir, dentry, false, TS_OP_MKNOD);
}

SEC("lsm/path_mkdir")
int BPF_PROG(ts_path_mkdir, const struct path *dir, struct dentry *dentry, umode_t mode)
{
	return ts_dir_entry(dir, dentry, true, TS_OP_MKDIR);
}

SEC("lsm/path_rmdir")
int BPF_PROG(ts_path_rmdir, const struct path *dir, struct dentry *dentry)
{
	return ts_dir_entry(dir, dentry, true, TS_OP_RMDIR);
}

SEC("lsm/path_unlink")
int BPF_PROG(ts_path_unlink, const struct path *dir, struct dentry *dentry)
{
	return ts_dir_entry(dir, dentry, false, TS_OP_UNLINK);
}

SEC("lsm/path_symlink")
int BPF_PROG(ts_path_symlink, const struct path *dir, struct dentry *dentry,
	     const char *old_name)
{
	return ts_dir_entry(dir, dentry, false, TS_OP_SYMLINK);
}

SEC("lsm/path_truncate")
int BPF_PROG(ts_path_truncate, const struct path *path)
{
	return ts_path_itself(path, TS_OP_TRUNCATE);
}

SEC("lsm/path_chmod")
int BPF_PROG(ts_path_chmod, const struct path *path, umode_t mode)
{
	return ts_path_itself(path, TS_OP_CHMOD);
}

SEC("lsm/path_chown")
int BPF_PROG(ts_path_chown, const struct path *path)
{
	return ts_path_itself(path, TS_OP_CHOWN);
}

/* A new name for an existing file must not widen access to it: the member
 * needs read and write on the file itself, and write where the name goes.
 * So a file the task may not touch cannot be linked into an allowed place. */
SEC("lsm/path_link")
int BPF_PROG(ts_path_link, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry)
{
	struct vfsmount *mnt = BPF_CORE_READ(new_dir, mnt);
	int ret;

	ret = ts_path_write(mnt, old_dentry, NULL, false, TS_ACCESS_READ | TS_ACCESS_WRITE,
			    TS_OP_LINK);
	return ret ?: ts_dir_entry(new_dir, new_dentry, false, TS_OP_LINK);
}

/* Moving a file changes both names: write access to both. */
SEC("lsm/path_rename")
int BPF_PROG(ts_path_rename, const struct path *old_dir, struct dentry *old_dentry,
	     const struct path *new_dir, struct dentry *new_dentry)
{
	bool is_dir = ts_is_dir(old_dentry);
	int ret;

	ret = ts_dir_entry(old_dir, old_dentry, is_dir, TS_OP_RENAME);
	return ret ?: ts_dir_entry(new_dir, new_dentry, is_dir, TS_OP_RENAME);
}
