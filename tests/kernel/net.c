// SPDX-License-Identifier: MIT
/*
 * net decisions: lsm/socket_connect, lsm/socket_sendmsg, lsm/socket_create.
 * Nothing listens: an allowed TCP connect fails with ECONNREFUSED, a denied
 * one with EPERM, so the errno alone says who decided.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "ktest.h"
#include "uring.h"

struct dest {
	int family;  /* of the socket */
	const char *addr;
	int port;
	int type;    /* SOCK_STREAM: connect; SOCK_DGRAM: sendto */
	bool uring;  /* connect through io_uring */
};

static socklen_t fill_addr(const struct dest *d, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (d->family == AF_INET) {
		struct sockaddr_in *in = (void *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)d->port);
		inet_pton(AF_INET, d->addr, &in->sin_addr);
		return sizeof(*in);
	}
	if (d->family == AF_INET6) {
		struct sockaddr_in6 *in6 = (void *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)d->port);
		inet_pton(AF_INET6, d->addr, &in6->sin6_addr);
		return sizeof(*in6);
	}
	struct sockaddr_un *un = (void *)ss;
	size_t n = strlen(d->addr);

	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, d->addr, n);
	if (d->addr[0] == '@') /* abstract: a leading NUL, no terminator */
		un->sun_path[0] = '\0';
	else
		n++;
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
}

static int uring_connect(int fd, struct sockaddr_storage *ss, socklen_t len)
{
	struct io_uring_sqe sqe = {};
	struct kt_uring r;
	int res;

	if (kt_uring_init(&r))
		return 200;
	sqe.opcode = IORING_OP_CONNECT;
	sqe.fd = fd;
	sqe.addr = (unsigned long)ss;
	sqe.off = len;
	res = kt_uring_run(&r, &sqe);
	kt_uring_exit(&r);
	return res < 0 ? -res : 0;
}

static int reach(void *arg)
{
	const struct dest *d = arg;
	struct sockaddr_storage ss;
	socklen_t len = fill_addr(d, &ss);
	int fd, err = 0;

	fd = socket(d->family, d->type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 100 + errno;
	if (d->uring)
		err = uring_connect(fd, &ss, len);
	else if (d->type == SOCK_STREAM)
		err = KT_ERRNO(connect(fd, (struct sockaddr *)&ss, len));
	else
		err = KT_ERRNO(sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len));
	close(fd);
	return err;
}

static void expect_net_event(__u64 id, __u8 op, __u8 verdict, __u8 reason, __u32 rule,
			     const char *v6addr, __u16 port)
{
	struct ts_event e;
	__u8 want[16];

	if (!kt_event_wait(id, op, 0, 2000, &e)) {
		KT_EXPECT(0, "no event for op %u to %s port %u", op, v6addr, port);
		return;
	}
	KT_EXPECT_EQ(e.kind, TS_KIND_NET);
	KT_EXPECT_EQ(e.verdict, verdict);
	KT_EXPECT_EQ(e.reason, reason);
	KT_EXPECT_EQ(e.rule_id, rule);
	KT_EXPECT_EQ(e.port, port);
	KT_EXPECT_EQ(e.family, AF_INET6);
	inet_pton(AF_INET6, v6addr, want);
	KT_EXPECT(!memcmp(e.addr, want, 16), "event address is not %s", v6addr);
	if (verdict == TS_VERDICT_DENY)
		KT_EXPECT_EQ(e.ret, -EPERM);
}

static void connect_by_cidr_and_port(void)
{
	struct dest in_range = { AF_INET, "127.0.0.1", 8001, SOCK_STREAM, false };
	struct dest out_of_range = { AF_INET, "127.0.0.1", 8020, SOCK_STREAM, false };
	struct dest other_host = { AF_INET, "127.0.0.2", 8001, SOCK_STREAM, false };
	struct dest other_net = { AF_INET, "10.9.9.9", 8001, SOCK_STREAM, false };
	__u64 id = kt_task_id();

	kt_task_create(id);
	kt_net_rule(id, "127.0.0.0", 8, 8000, 8010, true, 10);
	/* A narrower network denies one port, as the compiler emits it: its
	 * own ranges first, then those inherited from the /8. */
	kt_net_rule(id, "127.0.0.1", 32, 8001, 8001, false, 11);
	kt_net_rule(id, "127.0.0.1", 32, 8000, 8010, true, 10);

	KT_EXPECT_EQ(kt_run(id, reach, &other_host), ECONNREFUSED);
	expect_net_event(id, TS_OP_CONNECT, TS_VERDICT_ALLOW, TS_REASON_RULE, 10,
			 "::ffff:127.0.0.2", 8001);
	KT_EXPECT_EQ(kt_run(id, reach, &in_range), EPERM);
	expect_net_event(id, TS_OP_CONNECT, TS_VERDICT_DENY, TS_REASON_RULE, 11,
			 "::ffff:127.0.0.1", 8001);
	in_range.port = 8002;
	KT_EXPECT_EQ(kt_run(id, reach, &in_range), ECONNREFUSED);
	KT_EXPECT_EQ(kt_run(id, reach, &out_of_range), EPERM);
	kt_events_drain();
	KT_EXPECT_EQ(kt_run(id, reach, &other_net), EPERM);
	expect_net_event(id, TS_OP_CONNECT, TS_VERDICT_DENY, TS_REASON_NO_RULE, 0,
			 "::ffff:10.9.9.9", 8001);
}

static void ipv6_and_v4_mapped(void)
{
	struct dest v6 = { AF_INET6, "::1", 8001, SOCK_STREAM, false };
	struct dest v6_other_port = { AF_INET6, "::1", 8002, SOCK_STREAM, false };
	struct dest mapped = { AF_INET6, "::ffff:127.0.0.1", 8001, SOCK_STREAM, false };
	struct dest mapped_denied = { AF_INET6, "::ffff:127.0.0.1", 9001, SOCK_STREAM, false };
	__u64 id = kt_task_id();

	kt_task_create(id);
	kt_net_rule(id, "::1", 128, 8001, 8001, true, 20);
	kt_net_rule(id, "127.0.0.1", 32, 8001, 8001, true, 21);
	KT_EXPECT_EQ(kt_run(id, reach, &v6), ECONNREFUSED);
	expect_net_event(id, TS_OP_CONNECT, TS_VERDICT_ALLOW, TS_REASON_RULE, 20, "::1", 8001);
	KT_EXPECT_EQ(kt_run(id, reach, &v6_other_port), EPERM);
	expect_net_event(id, TS_OP_CONNECT, TS_VERDICT_DENY, TS_REASON_NO_RULE, 0, "::1", 8002);
	/* An IPv6 socket reaching IPv4 meets the IPv4 rule. */
	KT_EXPECT_EQ(kt_run(id, reach, &mapped), ECONNREFUSED);
	expect_net_event(id, TS_OP_CONNECT, TS_VERDICT_ALLOW, TS_REASON_RULE, 21,
			 "::ffff:127.0.0.1", 8001);
	KT_EXPECT_EQ(kt_run(id, reach, &mapped_denied), EPERM);
}

static void unconnected_udp_sendto(void)
{
	struct dest denied = { AF_INET, "127.0.0.1", 9000, SOCK_DGRAM, false };
	struct dest allowed = { AF_INET, "127.0.0.1", 5353, SOCK_DGRAM, false };
	__u64 id = kt_task_id();

	kt_task_create(id);
	kt_net_rule(id, "127.0.0.1", 32, 5353, 5353, true, 30);
	KT_EXPECT_EQ(kt_run(id, reach, &denied), EPERM);
	expect_net_event(id, TS_OP_SENDMSG, TS_VERDICT_DENY, TS_REASON_NO_RULE, 0,
			 "::ffff:127.0.0.1", 9000);
	KT_EXPECT_EQ(kt_run(id, reach, &allowed), 0);
	expect_net_event(id, TS_OP_SENDMSG, TS_VERDICT_ALLOW, TS_REASON_RULE, 30,
			 "::ffff:127.0.0.1", 5353);
}

static void expect_unix_event(__u64 id, __u8 verdict, __u32 rule, const char *path)
{
	struct ts_event e;

	if (!kt_event_wait(id, TS_OP_CONNECT, 0, 2000, &e)) {
		KT_EXPECT(0, "no connect event for '%s'", path);
		return;
	}
	KT_EXPECT_EQ(e.kind, TS_KIND_NET);
	KT_EXPECT_EQ(e.verdict, verdict);
	KT_EXPECT_EQ(e.rule_id, rule);
	KT_EXPECT_EQ(e.access, TS_ACCESS_CONNECT);
	KT_EXPECT(!strcmp(e.path, path), "event path '%s', expected '%s'", e.path, path);
}

static void unix_connect(void)
{
	struct dest path_denied = { AF_UNIX, "/tmp/kt-net/other.sock", 0, SOCK_STREAM, false };
	struct dest path_allowed = { AF_UNIX, "/tmp/kt-net/app.sock", 0, SOCK_STREAM, false };
	struct dest abstract_denied = { AF_UNIX, "@kt-other", 0, SOCK_STREAM, false };
	struct dest abstract_allowed = { AF_UNIX, "@kt-app", 0, SOCK_STREAM, false };
	struct dest relative = { AF_UNIX, "app.sock", 0, SOCK_STREAM, false };
	__u64 id = kt_task_id();

	kt_task_create(id);
	kt_allow_path(id, "/tmp/kt-net/app.sock", TS_ACCESS_CONNECT, 40);
	kt_allow_path(id, "@kt-app", TS_ACCESS_CONNECT, 41);
	KT_EXPECT_EQ(kt_run(id, reach, &path_denied), EPERM);
	expect_unix_event(id, TS_VERDICT_DENY, 0, "/tmp/kt-net/other.sock");
	KT_EXPECT_EQ(kt_run(id, reach, &path_allowed), ENOENT);
	expect_unix_event(id, TS_VERDICT_ALLOW, 40, "/tmp/kt-net/app.sock");
	KT_EXPECT_EQ(kt_run(id, reach, &abstract_denied), EPERM);
	expect_unix_event(id, TS_VERDICT_DENY, 0, "@kt-other");
	KT_EXPECT_EQ(kt_run(id, reach, &abstract_allowed), ECONNREFUSED);
	expect_unix_event(id, TS_VERDICT_ALLOW, 41, "@kt-app");
	/* A relative name cannot be resolved in the hook: no rule names it. */
	KT_EXPECT_EQ(kt_run(id, reach, &relative), EPERM);
}

struct sock_req {
	int family, type, protocol;
};

static int make_socket(void *arg)
{
	const struct sock_req *r = arg;
	int fd = socket(r->family, r->type | SOCK_CLOEXEC, r->protocol);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static void set_raw_allowed(struct ts_task *t, void *arg)
{
	(void)arg;
	t->flags |= TS_TASK_F_RAW_SOCKETS;
}

static void raw_and_packet_sockets(void)
{
	struct sock_req raw = { AF_INET, SOCK_RAW, IPPROTO_ICMP };
	struct sock_req packet = { AF_PACKET, SOCK_RAW, 0 };
	struct sock_req tcp = { AF_INET, SOCK_STREAM, 0 };
	__u64 id = kt_task_id();
	struct ts_event e;

	kt_task_create(id);
	KT_EXPECT_EQ(kt_run(id, make_socket, &raw), EPERM);
	KT_EXPECT(kt_event_wait(id, TS_OP_SOCKET, 0, 2000, &e), "no socket event");
	KT_EXPECT_EQ(e.verdict, TS_VERDICT_DENY);
	KT_EXPECT_EQ(e.family, AF_INET);
	KT_EXPECT_EQ(kt_run(id, make_socket, &packet), EPERM);
	KT_EXPECT(kt_event_wait(id, TS_OP_SOCKET, 0, 2000, &e), "no socket event");
	KT_EXPECT_EQ(e.family, AF_PACKET);
	KT_EXPECT_EQ(kt_run(id, make_socket, &tcp), 0);
	kt_task_update(id, set_raw_allowed, NULL);
	KT_EXPECT_EQ(kt_run(id, make_socket, &raw), 0);
	KT_EXPECT_EQ(kt_run(id, make_socket, &packet), 0);
}

static void io_uring_connect_denied(void)
{
	struct dest d = { AF_INET, "127.0.0.1", 8443, SOCK_STREAM, true };
	__u64 id = kt_task_id();
	int res;

	kt_task_create(id);
	kt_net_rule(id, "127.0.0.1", 32, 8001, 8001, true, 50);
	res = kt_run(id, reach, &d);
	if (res == 200) {
		kt_skip("io_uring_setup failed: no io_uring in this kernel");
		return;
	}
	KT_EXPECT_EQ(res, EPERM);
	expect_net_event(id, TS_OP_CONNECT, TS_VERDICT_DENY, TS_REASON_NO_RULE, 0,
			 "::ffff:127.0.0.1", 8443);
	d.port = 8001;
	KT_EXPECT_EQ(kt_run(id, reach, &d), ECONNREFUSED);
}

static void untagged_unaffected(void)
{
	struct dest d = { AF_INET, "127.0.0.1", 8443, SOCK_STREAM, false };
	struct sock_req raw = { AF_INET, SOCK_RAW, IPPROTO_ICMP };
	__u64 id = kt_task_id();

	kt_task_create(id);
	KT_EXPECT_EQ(kt_run(0, reach, &d), ECONNREFUSED);
	KT_EXPECT_EQ(kt_run(0, make_socket, &raw), 0);
}

int main(void)
{
	static const struct kt_case cases[] = {
		{ "connect allowed and denied by CIDR and port", connect_by_cidr_and_port },
		{ "IPv6 and v4-mapped", ipv6_and_v4_mapped },
		{ "unconnected UDP sendto", unconnected_udp_sendto },
		{ "unix socket connect, path and abstract", unix_connect },
		{ "raw and packet sockets", raw_and_packet_sockets },
		{ "io_uring connect denied", io_uring_connect_denied },
		{ "untagged process unaffected", untagged_unaffected },
		{ 0 },
	};

	return kt_main("net", cases);
}
