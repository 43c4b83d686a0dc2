// SPDX-License-Identifier: GPL-2.0-only
/*
 * net: connect(2) and sendmsg(2) with a destination (unconnected UDP,
 * TCP fast open), io_uring's included, for IPv4 (as v4-mapped IPv6), IPv6
 * and AF_UNIX; and the creation of raw and packet sockets.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "path.bpf.h"

#define AF_UNSPEC 0
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define AF_NETLINK 16
#define AF_PACKET 17
#define SOCK_RAW 3
#define SOCK_TYPE_MASK 0xf
#define UNIX_PATH_MAX 108

/* Decide an AF_INET/AF_INET6 destination. */
static __always_inline int ts_inet_check(struct ts_ctx *c, struct sockaddr *sa, __u16 family,
					 __u16 sock_type, __u8 op)
{
	struct ts_net_key key = {};
	struct ts_decision d = {};
	struct ts_outcome o;
	struct ts_event *e;
	__u16 port;

	if (family == AF_INET) {
		struct sockaddr_in *in = (void *)sa;

		key.addr[10] = 0xff;
		key.addr[11] = 0xff;
		bpf_probe_read_kernel(&key.addr[12], 4, &in->sin_addr.s_addr);
		port = bpf_ntohs(BPF_CORE_READ(in, sin_port));
	} else {
		struct sockaddr_in6 *in6 = (void *)sa;

		bpf_probe_read_kernel(key.addr, 16, &in6->sin6_addr);
		port = bpf_ntohs(BPF_CORE_READ(in6, sin6_port));
	}
	d.reason = ts_task_gate(c);
	if (!d.reason)
		ts_net_decide(ts_net_lookup(&key, c->task_id), port, c->now, &d);
	o = ts_conclude(c, &d, TS_KIND_NET, EPERM);
	if (!o.log)
		return o.ret;
	e = ts_event_start(c, &d, &o, TS_KIND_NET, op);
	if (!e)
		return o.ret;
	e->family = AF_INET6;
	e->port = port;
	e->sock_type = sock_type;
	__builtin_memcpy(e->addr, key.addr, sizeof(e->addr));
	bpf_ringbuf_submit(e, 0);
	return o.ret;
}

/* Decide an AF_UNIX destination by its path, "@name" when abstract. A
 * relative path cannot be resolved here and matches no rule. */
static __always_inline int ts_unix_check(struct ts_ctx *c, struct sockaddr *sa, int addrlen,
					 __u8 op)
{
	struct sockaddr_un *un = (void *)sa;
	struct ts_scratch *s = ts_scratch();
	long len;

	if (!s)
		return -EPERM;
	if (addrlen <= (int)bpf_core_field_offset(struct sockaddr_un, sun_path))
		len = -1;
	else if (!BPF_CORE_READ(un, sun_path[0])) {
		s->key.path[0] = '@';
		len = bpf_probe_read_kernel_str(&s->key.path[1], UNIX_PATH_MAX - 1,
						&un->sun_path[1]);
		if (len > 0)
			len += 1;
	} else {
		len = bpf_probe_read_kernel_str(s->key.path, UNIX_PATH_MAX, un->sun_path);
	}
	return ts_path_check(c, s, len, TS_ACCESS_CONNECT, false, TS_KIND_NET, op, EPERM);
}

static __always_inline int ts_sockaddr_check(struct ts_ctx *c, struct socket *sock,
					     struct sockaddr *sa, int addrlen, __u8 op)
{
	__u16 family = BPF_CORE_READ(sa, sa_family);

	switch (family) {
	case AF_INET:
	case AF_INET6:
		return ts_inet_check(c, sa, family, BPF_CORE_READ(sock, type), op);
	case AF_UNIX:
		return ts_unix_check(c, sa, addrlen, op);
	case AF_UNSPEC:  /* dissolves a UDP association */
	case AF_NETLINK: /* the local kernel, not a network */
		return 0;
	default: {
		/* vsock, bluetooth, ...: no rule can name them. */
		struct ts_decision d = { .reason = ts_task_gate(c) ?: TS_REASON_NO_RULE };

		return ts_finish(c, &d, TS_KIND_NET, op, EPERM, 0, family);
	}
	}
}

SEC("lsm/socket_connect")
int BPF_PROG(ts_socket_connect, struct socket *sock, struct sockaddr *address, int addrlen)
{
	struct ts_ctx c;

	if (!ts_current_member(&c))
		return 0;
	return ts_sockaddr_check(&c, sock, address, addrlen, TS_OP_CONNECT);
}

SEC("lsm/socket_sendmsg")
int BPF_PROG(ts_socket_sendmsg, struct socket *sock, struct msghdr *msg, int size)
{
	struct sockaddr *name;
	struct ts_ctx c;

	if (!ts_current_member(&c))
		return 0;
	name = BPF_CORE_READ(msg, msg_name);
	if (!name) {
		/* A connected socket: its connect() was decided. Still, an
		 * expired or revoked task sends nothing. */
		struct ts_decision d = { .reason = ts_task_gate(&c) };

		if (!d.reason)
			return 0;
		return ts_finish(&c, &d, TS_KIND_NET, TS_OP_SENDMSG, EPERM, 0, 0);
	}
	return ts_sockaddr_check(&c, sock, name, BPF_CORE_READ(msg, msg_namelen), TS_OP_SENDMSG);
}

SEC("lsm/socket_create")
int BPF_PROG(ts_socket_create, int family, int type, int protocol, int kern)
{
	struct ts_decision d = {};
	struct ts_ctx c;
	bool raw;

	if (kern || !ts_current_member(&c))
		return 0;
	raw = family == AF_PACKET ||
	      ((family == AF_INET || family == AF_INET6) && (type & SOCK_TYPE_MASK) == SOCK_RAW);
	d.reason = ts_task_gate(&c);
	if (!d.reason) {
		if (!raw)
			return 0; /* ordinary sockets are decided where they connect */
		d.reason = TS_REASON_RULE;
		d.allow = !!(c.task->flags & TS_TASK_F_RAW_SOCKETS);
	}
	return ts_finish(&c, &d, TS_KIND_NET, TS_OP_SOCKET, EPERM, 0, family);
}
