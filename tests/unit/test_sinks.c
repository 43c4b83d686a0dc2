// SPDX-License-Identifier: MIT
/*
 * Event sinks against real peers: a real rsyslogd (started here, on
 * loopback TCP and UDP ports) receives RFC 5424 frames and this test
 * parses what it wrote to disk; a file sink rotates without losing or
 * reordering a line; a TCP peer that never reads does not stop the file
 * sink, and its drops are counted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <jansson.h>
#include "daemon.h"
#include "sinks.h"

static char dir[64];

static void on_alarm(int sig)
{
	(void)sig;
	/* A sink blocked the caller: the one thing that must never happen. */
	static const char msg[] = "test_sinks: a sink blocked its caller\n";

	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(2);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-sinks-XXXXXX");
	assert_non_null(mkdtemp(dir));
	signal(SIGALRM, on_alarm);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int free_port(int type)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, type, 0), port;

	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(fd, (struct sockaddr *)&sa, &len);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static size_t count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	int c;

	while (f && (c = fgetc(f)) != EOF)
		n += c == '\n';
	if (f)
		fclose(f);
	return n;
}

/* An event-like JSON line carrying sequence number `i`. */
static size_t event_line(char *buf, size_t size, unsigned int i)
{
	return (size_t)snprintf(buf, size,
				"{\"class_uid\":1001,\"severity_id\":3,\"unmapped\":{\"taskscope\":"
				"{\"seq\":%u,\"path\":\"/tmp/f\\\"q\"}}}\n",
				i);
}

static pid_t start_rsyslogd(int tcp, int udp, const char *out)
{
	char conf[128], pidfile[128], text[2048];
	pid_t pid;
	FILE *f;
	int i;

	snprintf(conf, sizeof(conf), "%s/rsyslog.conf", dir);
	snprintf(pidfile, sizeof(pidfile), "%s/rsyslog.pid", dir);
	snprintf(text, sizeof(text),
		 "global(workDirectory=\"%s\")\n"
		 "module(load=\"imtcp\")\n"
		 "module(load=\"imudp\")\n"
		 "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"%d\")\n"
		 "input(type=\"imudp\" address=\"127.0.0.1\" port=\"%d\")\n"
		 "template(name=\"fields\" type=\"string\" string=\"%%pri%%|%%protocol-version%%|"
		 "%%hostname%%|%%app-name%%|%%procid%%|%%msgid%%|%%msg%%\\n\")\n"
		 "*.* action(type=\"omfile\" file=\"%s\" template=\"fields\")\n",
		 dir, tcp, udp, out);
	f = fopen(conf, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	pid = fork();
	if (pid == 0) {
		execl("/usr/sbin/rsyslogd", "rsyslogd", "-n", "-f", conf, "-i", pidfile, NULL);
		_exit(127);
	}
	/* Up when its TCP port accepts. */
	for (i = 0; i < 100; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)tcp),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int ok = !connect(fd, (struct sockaddr *)&sa, sizeof(sa));

		close(fd);
		if (ok)
			return pid;
		usleep(50000);
	}
	fail_msg("rsyslogd did not start (is the rsyslog package installed?)");
	return -1;
}

static void check_rsyslog_line(const char *line, unsigned int *seq)
{
	char copy[2048], *f[7], *p = copy;
	json_t *msg;
	int i;

	snprintf(copy, sizeof(copy), "%s", line);
	copy[strcspn(copy, "\n")] = '\0';
	for (i = 0; i < 7; i++) {
		f[i] = p;
		p = i < 6 ? strchr(p, '|') : NULL;
		if (i < 6) {
			assert_non_null(p);
			*p++ = '\0';
		}
	}
	/* log audit (13) * 8 + warning (4): OCSF severity 3 (Medium). */
	assert_string_equal(f[0], "108");
	assert_string_equal(f[1], "1"); /* RFC 5424, not 3164 */
	assert_string_equal(f[2], "sinkhost");
	assert_string_equal(f[3], "taskscoped");
	assert_int_equal(atoi(f[4]), getpid());
	assert_string_equal(f[5], "ocsf");
	msg = json_loads(f[6], 0, NULL);
	if (!msg)
		fail_msg("rsyslog's message is not the JSON sent: '%s'", f[6]);
	*seq = (unsigned int)json_integer_value(
		json_object_get(json_object_get(json_object_get(msg, "unmapped"), "taskscope"), "seq"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(msg,
								"unmapped"), "taskscope"), "path")),
			    "/tmp/f\"q");
	json_decref(msg);
}

static void rsyslog_receives_rfc5424(void **state)
{
	int tcp = free_port(SOCK_STREAM), udp = free_port(SOCK_DGRAM), i;
	struct sink_cfg cfg[2] = { 0 };
	char out[128], line[512];
	struct sinks *s;
	unsigned int seen_tcp = 0, seen_udp = 0, seq;
	struct sink_stats st;
	pid_t rs;
	FILE *f;

	(void)state;
	snprintf(out, sizeof(out), "%s/rsyslog.out", dir);
	rs = start_rsyslogd(tcp, udp, out);
	cfg[0].type = SINK_SYSLOG;
	cfg[0].transport = SYSLOG_TCP;
	snprintf(cfg[0].host, sizeof(cfg[0].host), "127.0.0.1");
	snprintf(cfg[0].port, sizeof(cfg[0].port), "%d", tcp);
	cfg[0].queue_bytes = 1 << 20;
	cfg[1] = cfg[0];
	cfg[1].transport = SYSLOG_UDP;
	snprintf(cfg[1].port, sizeof(cfg[1].port), "%d", udp);
	assert_int_equal(sinks_open(cfg, 2, "sinkhost", &s), 0);
	alarm(30);
	for (i = 0; i < 100; i++) {
		size_t n = event_line(line, sizeof(line), (unsigned int)i);

		sinks_write(s, line, n, 3);
	}
	sinks_drain(s, 10000);
	for (i = 0; i < 100 && count_lines(out) < 200; i++)
		usleep(50000);
	alarm(0);
	sinks_stats(s, 0, &st);
	assert_int_equal(st.written, 100);
	assert_int_equal(st.dropped, 0);
	sinks_close(s);
	kill(rs, SIGTERM);
	waitpid(rs, NULL, 0);
	/* Every frame arrived and parsed; over TCP in order (octet counting
	 * keeps message boundaries); over UDP each datagram whole. */
	f = fopen(out, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		check_rsyslog_line(line, &seq);
		if (seq == seen_tcp)
			seen_tcp++;
		else
			seen_udp++;
	}
	fclose(f);
	assert_int_equal(seen_tcp + seen_udp, 200);
	assert_true(seen_tcp >= 100);
}

static void local_syslog_socket(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sink_cfg cfg = { 0 };
	char buf[2048], line[512];
	struct sinks *s;
	ssize_t n;
	int fd;

	(void)state;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/log.sock", dir);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cfg.type = SINK_SYSLOG;
	cfg.transport = SYSLOG_UNIX;
	snprintf(cfg.path, sizeof(cfg.path), "%s", sa.sun_path);
	cfg.queue_bytes = 1 << 16;
	assert_int_equal(sinks_open(&cfg, 1, "sinkhost", &s), 0);
	sinks_write(s, line, event_line(line, sizeof(line), 7), 1);
	sinks_drain(s, 5000);
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	/* <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG: informational = 6. */
	assert_int_equal(strncmp(buf, "<110>1 ", 7), 0);
	assert_non_null(strstr(buf, " sinkhost taskscoped "));
	assert_non_null(strstr(buf, " ocsf - {\"class_uid\":1001"));
	sinks_close(s);
	close(fd);
}

/* Rotated files, oldest (path.N) first, hold every line once, in order. */
static void rotation_keeps_order(void **state)
{
	struct sink_cfg cfg = { 0 };
	char path[PATH_MAX + 32], line[512];
	unsigned int next = 0, i, rotated = 0;
	struct sinks *s;
	int k;

	(void)state;
	cfg.type = SINK_FILE;
	snprintf(cfg.path, sizeof(cfg.path), "%s/events.jsonl", dir);
	cfg.max_bytes = 8192;
	cfg.keep = 100;
	cfg.queue_bytes = 4 << 20;
	assert_int_equal(sinks_open(&cfg, 1, "h", &s), 0);
	for (i = 0; i < 2000; i++)
		sinks_write(s, line, event_line(line, sizeof(line), i), 1);
	sinks_drain(s, 10000);
	sinks_close(s);
	for (k = 100; k >= 0; k--) {
		FILE *f;

		if (k)
			snprintf(path, sizeof(path), "%s.%d", cfg.path, k);
		else
			snprintf(path, sizeof(path), "%s", cfg.path);
		f = fopen(path, "r");
		if (!f)
			continue;
		rotated += k > 0;
		while (fgets(line, sizeof(line), f)) {
			json_t *v = json_loads(line, 0, NULL);
			unsigned int seq = (unsigned int)json_integer_value(json_object_get(
				json_object_get(json_object_get(v, "unmapped"), "taskscope"), "seq"));

			assert_non_null(v);
			if (seq != next)
				fail_msg("%s: line %u, expected %u", path, seq, next);
			next++;
			json_decref(v);
		}
		fclose(f);
	}
	assert_int_equal(next, 2000);
	assert_true(rotated > 10);
}

/* A burst many times the queue, into a sink that keeps up on average:
 * the writer waits for room instead of dropping. */
static void burst_waits_for_room(void **state)
{
	struct sink_cfg cfg = { 0 };
	struct sink_stats st;
	char line[512];
	struct sinks *s;
	unsigned int i;

	(void)state;
	cfg.type = SINK_FILE;
	snprintf(cfg.path, sizeof(cfg.path), "%s/burst.jsonl", dir);
	cfg.queue_bytes = 16384;
	assert_int_equal(sinks_open(&cfg, 1, "h", &s), 0);
	for (i = 0; i < 5000; i++)
		sinks_write(s, line, event_line(line, sizeof(line), i), 1);
	sinks_drain(s, 10000);
	sinks_stats(s, 0, &st);
	sinks_close(s);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.written, 5000);
	assert_int_equal(count_lines(cfg.path), 5000);
}

/* A peer that accepts and never reads. */
static int stuck_listener(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), small = 4096;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void stuck_tcp_does_not_stop_the_file(void **state)
{
	struct sink_cfg cfg[2] = { 0 };
	struct sink_stats file_st, tcp_st;
	char line[512];
	struct sinks *s;
	int port, lfd, i;

	(void)state;
	lfd = stuck_listener(&port);
	cfg[0].type = SINK_SYSLOG;
	cfg[0].transport = SYSLOG_TCP;
	snprintf(cfg[0].host, sizeof(cfg[0].host), "127.0.0.1");
	snprintf(cfg[0].port, sizeof(cfg[0].port), "%d", port);
	cfg[0].queue_bytes = 65536;
	cfg[1].type = SINK_FILE;
	snprintf(cfg[1].path, sizeof(cfg[1].path), "%s/besides-stuck.jsonl", dir);
	cfg[1].queue_bytes = 16 << 20;
	assert_int_equal(sinks_open(cfg, 2, "h", &s), 0);
	alarm(30); /* writing must never wait for the stuck peer */
	for (i = 0; i < 20000; i++)
		sinks_write(s, line, event_line(line, sizeof(line), (unsigned int)i), 3);
	alarm(0);
	sinks_drain(s, 10000);
	for (i = 0; i < 100 && count_lines(cfg[1].path) < 20000; i++)
		usleep(50000);
	sinks_stats(s, 0, &tcp_st);
	sinks_stats(s, 1, &file_st);
	assert_int_equal(count_lines(cfg[1].path), 20000);
	assert_int_equal(file_st.dropped, 0);
	assert_true(tcp_st.dropped > 0);
	/* Nothing is silent: what the stuck sink took or dropped adds up. */
	assert_true(tcp_st.dropped + tcp_st.written <= 20000);
	/* Let the writer go: close the peer, then close the sinks. */
	close(lfd);
	sinks_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rsyslog_receives_rfc5424),
		cmocka_unit_test(local_syslog_socket),
		cmocka_unit_test(rotation_keeps_order),
		cmocka_unit_test(burst_waits_for_room),
		cmocka_unit_test(stuck_tcp_does_not_stop_the_file),
	};

	return cmocka_run_group_tests_name("sinks", tests, setup, NULL);
}
