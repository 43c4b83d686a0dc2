/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Paths for rule lookups, and the decision on one path.
 *
 * Two sources, one result: bpf_d_path() where the kernel allows it (file_open,
 * bprm_check_security, mmap_file), and ts_walk_path() for the path_* hooks,
 * where 6.1 refuses bpf_d_path(). Both give the absolute path as d_path()
 * does, relative to the process root; tests/kernel/file.c checks that they
 * agree across a mount point.
 */
#ifndef TS_PATH_BPF_H
#define TS_PATH_BPF_H

#include <bpf/bpf_core_read.h>
#include "errno.bpf.h"
#include "event.bpf.h"

#define TS_PATH_DEPTH 64 /* components; deeper paths fail closed */
#define TS_NAME_MAX 255
#define TS_WALK_END (TS_D_PATH_BUF - 1)
#define TS_WALK_MASK (TS_D_PATH_BUF - 1)

/* A dentry no longer reachable by its name: memfd, O_TMPFILE, deleted. */
static __always_inline bool ts_unlinked(struct dentry *dentry)
{
	return !BPF_CORE_READ(dentry, d_hash.pprev) || !BPF_CORE_READ(dentry, d_inode, __i_nlink);
}

#define S_IFMT 00170000
#define S_IFDIR 0040000

static __always_inline bool ts_is_dir(struct dentry *dentry)
{
	return (BPF_CORE_READ(dentry, d_inode, i_mode) & S_IFMT) == S_IFDIR;
}

/* A directory is looked up as "path/", so that a directory rule covers the
 * directory itself (listing it, removing it), not only what is below it.
 * Returns the new length. */
static __always_inline long ts_path_dirify(struct ts_scratch *s, long len)
{
	char *buf = s->key.path;

	if (len <= 2 || len >= TS_D_PATH_BUF)
		return len; /* "/" already ends in '/'; errors stay errors */
	buf[(len - 1) & TS_WALK_MASK] = '/';
	buf[len & TS_WALK_MASK] = '\0';
	return len + 1;
}

/* d_path() of a file into s->key.path: bytes with the NUL, or -errno. */
static __always_inline long ts_file_path(struct ts_scratch *s, struct file *f)
{
	/* f_path is const in newer kernels; d_path only reads it. */
	return bpf_d_path((struct path *)&f->f_path, s->key.path, TS_D_PATH_BUF);
}

/* Prepend "/name" of `d` at *pos in s->walk. */
static __always_inline int ts_prepend(struct ts_scratch *s, __u32 *pos, struct dentry *d)
{
	__u32 len = BPF_CORE_READ(d, d_name.len);
	const unsigned char *name = BPF_CORE_READ(d, d_name.name);

	if (len > TS_NAME_MAX || len + 1 > *pos)
		return -ENAMETOOLONG;
	*pos -= len;
	bpf_probe_read_kernel(&s->walk[*pos & TS_WALK_MASK], len & TS_NAME_MAX, name);
	*pos -= 1;
	s->walk[*pos & TS_WALK_MASK] = '/';
	return 0;
}

/* State of one path walk, stepped by bpf_loop(): a loop over the path's
 * components in one program would have the verifier explore every
 * combination of mount crossings, more than its instruction budget. */
struct ts_walk {
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	struct dentry *root_dentry;
	struct vfsmount *root_mnt;
	__u64 mnt_off;
	__u32 pos;
	int err;
	int done;
};

static long ts_walk_step(__u32 i, void *data)
{
	struct ts_walk *w = data;
	/* Locals, not w->...: a CO-RE read must start from a kernel type. */
	struct dentry *dentry = w->dentry, *up;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt;
	struct ts_scratch *s;

	if (dentry == w->root_dentry && vfsmnt == w->root_mnt)
		goto done;
	if (dentry == BPF_CORE_READ(vfsmnt, mnt_root)) {
		struct mount *parent = BPF_CORE_READ(mnt, mnt_parent);

		if (parent == mnt)
			goto done; /* the root of the mount namespace */
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = parent;
		w->vfsmnt = (void *)parent + w->mnt_off;
		return 0;
	}
	up = BPF_CORE_READ(dentry, d_parent);
	if (up == dentry)
		goto done; /* a detached tree: what is left of it */
	s = ts_scratch();
	if (!s || ts_prepend(s, &w->pos, dentry)) {
		w->err = -ENAMETOOLONG;
		return 1;
	}
	w->dentry = up;
	return 0;
done:
	w->done = 1;
	return 1;
}

/*
 * The path of `dentry` on mount `vfsmnt`, followed by "/<leaf>" when leaf is
 * given (the entry a path_* hook is about to create or remove), written to
 * s->key.path. Walks d_parent up to the mount root, crosses to the parent
 * mount at each mount point, and stops at the process root as d_path() does.
 * Returns bytes with the NUL, or -ENAMETOOLONG (too long or too deep).
 */
static __always_inline long ts_walk_path(struct ts_scratch *s, struct vfsmount *vfsmnt,
					 struct dentry *dentry, struct dentry *leaf)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct ts_walk w = {
		.dentry = dentry,
		.vfsmnt = vfsmnt,
		.root_dentry = BPF_CORE_READ(cur, fs, root.dentry),
		.root_mnt = BPF_CORE_READ(cur, fs, root.mnt),
		.mnt_off = bpf_core_field_offset(struct mount, mnt),
		.pos = TS_WALK_END,
	};
	long len;

	w.mnt = (void *)vfsmnt - w.mnt_off;
	s->walk[TS_WALK_END] = '\0';
	if (leaf && ts_prepend(s, &w.pos, leaf))
		return -ENAMETOOLONG;
	bpf_loop(TS_PATH_DEPTH, ts_walk_step, &w, 0);
	if (w.err || !w.done)
		return -ENAMETOOLONG;
	if (w.pos == TS_WALK_END) {
		w.pos--;
		s->walk[w.pos & TS_WALK_MASK] = '/';
	}
	len = TS_D_PATH_BUF - w.pos;
	if (len <= 0 || len > TS_D_PATH_BUF)
		return -ENAMETOOLONG;
	bpf_probe_read_kernel(s->key.path, len, &s->walk[w.pos & TS_WALK_MASK]);
	return len;
}

/*
 * Decide `want` access to the path in s->key.path (`len` from d_path or the
 * walker; < 0 when no path could be had, which fails closed), count it and
 * log it. Returns what the hook returns.
 */
static __always_inline int ts_path_check(struct ts_ctx *c, struct ts_scratch *s, long len,
					 __u32 want, bool unlinked, __u8 kind, __u8 op,
					 int deny_errno)
{
	struct ts_decision d = {};
	struct ts_outcome o;
	struct ts_event *e;

	d.reason = ts_task_gate(c);
	if (!d.reason) {
		if (len > 0)
			ts_path_decide(ts_path_lookup(s, c->task_id, len), want, unlinked, c->now,
				       &d);
		else
			d.reason = TS_REASON_NO_RULE;
	}
	o = ts_conclude(c, &d, kind, deny_errno);
	if (!o.log)
		return o.ret;
	e = ts_event_start(c, &d, &o, kind, op);
	if (!e)
		return o.ret;
	e->access = want;
	ts_event_path(e, s->key.path, len);
	bpf_ringbuf_submit(e, 0);
	return o.ret;
}

#endif /* TS_PATH_BPF_H */
