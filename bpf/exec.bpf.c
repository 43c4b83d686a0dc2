// SPDX-License-Identifier: GPL-2.0-only
/* exec: every binary a member runs, scripts' interpreters included (the
 * hook runs once per binfmt round). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "path.bpf.h"

SEC("lsm/bprm_check_security")
int BPF_PROG(ts_bprm_check, struct linux_binprm *bprm)
{
	struct ts_scratch *s;
	struct ts_ctx c;
	struct file *f;

	if (!ts_current_member(&c))
		return 0;
	s = ts_scratch();
	if (!s)
		return -EPERM;
	f = bprm->file;
	return ts_path_check(&c, s, ts_file_path(s, f), TS_ACCESS_EXEC,
			     ts_unlinked(f->f_path.dentry), TS_KIND_EXEC, TS_OP_EXEC, EPERM);
}
