/* SPDX-License-Identifier: GPL-2.0-only */
/* The errno values the hooks return (vmlinux.h carries no macros). */
#ifndef TS_ERRNO_BPF_H
#define TS_ERRNO_BPF_H

#define EPERM 1
#define ENOMEM 12
#define EACCES 13
#define ENAMETOOLONG 36

#endif
