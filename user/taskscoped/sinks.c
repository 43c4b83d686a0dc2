// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "daemon.h"
#include "sinks.h"
#include "ts_log.h"

/* A record in a queue: its length, the syslog severity, the line. */
struct rec_hdr {
	__u32 len;
	__u32 severity;
};

#define CHUNK (256 * 1024)
/* Below this much queued, the writer waits up to LINGER_NS for more: one
 * write() and one wakeup per batch instead of per event. */
#define BATCH_MIN (64 * 1024)
#define LINGER_NS 2000000
/*
 * A full queue makes the caller wait for room, up to SPACE_WAIT_NS, while
 * the writer is making progress: the daemon and the writers share the
 * CPU, and a burst should cost the daemon time rather than events. A sink
 * that lets a wait run out is stalled (a dead SIEM, a full disk): it then
 * drops at once, never slowing the daemon again, until its queue is down
 * to half (a slow peer that takes a record now and then does not count).
 */
#define SPACE_WAIT_NS 5000000
/* RFC 5424 facility 13, "log audit". */
#define SYSLOG_FACILITY 13

struct sink {
	struct sink_cfg cfg;
	char name[300];
	const char *hostname;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv, empty;
	char *ring;
	size_t cap, head, used; /* records live at [head, head + used) mod cap */
	bool stop, reopen, busy;
	bool waiting; /* the writer sleeps on cv: only then is a wakeup needed */
	pthread_cond_t space;
	bool space_wanted; /* a caller waits on `space` for room */
	bool stalled;      /* a wait for room ran out, and the queue is still over half full */
	struct sink_stats st;
	int fd;
	__u64 size; /* file: bytes in the current file */
	time_t last_fsync;
	unsigned int backoff_ms;
	char line[CHUNK];         /* the record being delivered */
	char frame[CHUNK + 1024]; /* ... framed for syslog */
};

struct sinks {
	struct sink *s;
	unsigned int n;
};

static void ring_put(struct sink *k, const void *p, size_t n)
{
	size_t tail = (k->head + k->used) % k->cap, first = k->cap - tail < n ? k->cap - tail : n;

	memcpy(k->ring + tail, p, first);
	memcpy(k->ring, (const char *)p + first, n - first);
	k->used += n;
}

static void ring_peek(const struct sink *k, void *p, size_t n)
{
	size_t first = k->cap - k->head < n ? k->cap - k->head : n;

	memcpy(p, k->ring + k->head, first);
	memcpy((char *)p + first, k->ring, n - first);
}

static void ring_get(struct sink *k, void *p, size_t n)
{
	size_t first = k->cap - k->head < n ? k->cap - k->head : n;

	memcpy(p, k->ring + k->head, first);
	memcpy((char *)p + first, k->ring, n - first);
	k->head = (k->head + n) % k->cap;
	k->used -= n;
}

static int syslog_severity(int ocsf)
{
	switch (ocsf) {
	case 1:
		return 6; /* informational */
	case 2:
		return 5; /* notice */
	case 3:
		return 4; /* warning */
	case 4:
		return 3; /* error */
	default:
		return ocsf >= 5 ? 2 : 6;
	}
}

/* --- file ------------------------------------------------------------- */

static int file_open(struct sink *k)
{
	struct stat st;

	k->fd = open(k->cfg.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (k->fd < 0) {
		int err = -errno;

		ts_err("sink '%s': cannot open: %s", k->name, strerror(-err));
		return err;
	}
	k->size = fstat(k->fd, &st) ? 0 : (__u64)st.st_size;
	return 0;
}

/* path.N-1 -> path.N ... path -> path.1, then a new path. */
static void file_rotate(struct sink *k)
{
	char from[PATH_MAX + 16], to[PATH_MAX + 16];
	unsigned int i;

	if (k->fd >= 0) {
		fsync(k->fd);
		close(k->fd);
		k->fd = -1;
	}
	for (i = k->cfg.keep; i > 1; i--) {
		snprintf(from, sizeof(from), "%s.%u", k->cfg.path, i - 1);
		snprintf(to, sizeof(to), "%s.%u", k->cfg.path, i);
		rename(from, to);
	}
	snprintf(to, sizeof(to), "%s.1", k->cfg.path);
	rename(k->cfg.path, to);
	file_open(k);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int file_write(struct sink *k, const char *p, size_t n)
{
	time_t now;
	int err;

	if (k->fd < 0 && file_open(k))
		return -EIO;
	err = write_all(k->fd, p, n);
	if (err)
		return err;
	k->size += n;
	now = time(NULL);
	if (k->cfg.fsync_mode == SINK_FSYNC_ALWAYS ||
	    (k->cfg.fsync_mode == SINK_FSYNC_INTERVAL && now != k->last_fsync)) {
		fdatasync(k->fd);
		k->last_fsync = now;
	}
	return 0;
}

/* --- syslog ----------------------------------------------------------- */

static int syslog_connect(struct sink *k)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC }, *res = NULL, *ai;
	int fd = -1, rc;

	if (k->cfg.transport == SYSLOG_UNIX) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		if (strlen(k->cfg.path) >= sizeof(sa.sun_path))
			return -ENAMETOOLONG;
		memcpy(sa.sun_path, k->cfg.path, strlen(k->cfg.path) + 1);
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			close(fd);
			fd = -1;
		}
	} else {
		hints.ai_socktype = k->cfg.transport == SYSLOG_TCP ? SOCK_STREAM : SOCK_DGRAM;
		rc = getaddrinfo(k->cfg.host, k->cfg.port, &hints, &res);
		if (rc) {
			ts_warn("sink '%s': cannot resolve: %s", k->name, gai_strerror(rc));
			return -EHOSTUNREACH;
		}
		for (ai = res; ai; ai = ai->ai_next) {
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
			if (fd < 0)
				continue;
			if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
				break;
			close(fd);
			fd = -1;
		}
		freeaddrinfo(res);
	}
	if (fd < 0)
		return -ECONNREFUSED;
	k->fd = fd;
	k->backoff_ms = 0;
	return 0;
}

/* One RFC 5424 message for `line` (without its '\n') into out. */
static size_t syslog_frame(struct sink *k, char *out, size_t size, const char *line, size_t len,
			   int severity)
{
	char ts[40], head[512];
	struct timespec now;
	struct tm tm;
	int h;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	/* <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG */
	h = snprintf(head, sizeof(head), "<%d>1 %s.%06ldZ %s taskscoped %d ocsf - ",
		     SYSLOG_FACILITY * 8 + syslog_severity(severity), ts, now.tv_nsec / 1000,
		     k->hostname && *k->hostname ? k->hostname : "-", (int)getpid());
	if (k->cfg.transport == SYSLOG_TCP) {
		/* Octet counting: "LEN SP MSG", no trailer needed. */
		int n = snprintf(out, size, "%zu %s", (size_t)h + len, head);

		if (n < 0 || (size_t)n + len > size)
			return 0;
		memcpy(out + n, line, len);
		return (size_t)n + len;
	}
	if ((size_t)h + len > size)
		return 0;
	memcpy(out, head, (size_t)h);
	memcpy(out + h, line, len);
	return (size_t)h + len;
}

static int syslog_send(struct sink *k, const char *msg, size_t n)
{
	if (k->fd < 0 && syslog_connect(k))
		return -ENOTCONN;
	if (k->cfg.transport == SYSLOG_TCP) {
		const char *p = msg;

		while (n) {
			ssize_t w = send(k->fd, p, n, MSG_NOSIGNAL);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				goto broken;
			p += w;
			n -= (size_t)w;
		}
		return 0;
	}
	if (send(k->fd, msg, n, MSG_NOSIGNAL) >= 0)
		return 0;
broken:
	close(k->fd);
	k->fd = -1;
	return -EPIPE;
}

/* --- the writer thread ------------------------------------------------ */

/* Files and stdout take lines in bulk: one write() for every record
 * that was queued, which is what lets a file sink keep up with the
 * kernel (make bench). */
static bool batches(const struct sink *k)
{
	return k->cfg.type == SINK_FILE || k->cfg.type == SINK_STDOUT;
}

/* Write whole lines of buf to the file, rotating between lines so that
 * no file grows past max_size (a single longer line still gets written). */
static int file_write_lines(struct sink *k, const char *buf, size_t len)
{
	size_t done = 0;
	int err = 0;

	while (!err && done < len) {
		size_t room = k->cfg.max_bytes && k->size < k->cfg.max_bytes
				      ? k->cfg.max_bytes - k->size : 0;
		size_t take = 0;

		if (!k->cfg.max_bytes) {
			take = len - done;
		} else {
			/* As many whole lines as fit in what is left of this file. */
			const char *p = buf + done, *end = buf + len;

			while (p < end) {
				const char *nl = memchr(p, '\n', (size_t)(end - p));
				size_t line = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

				if (take + line > room && (take || k->size))
					break;
				take += line;
				p += line;
			}
		}
		if (!take) {
			file_rotate(k);
			continue;
		}
		err = file_write(k, buf + done, take);
		done += take;
	}
	return err;
}

/* The writer's counts, under the lock that sinks_stats() reads them with. */
static void account(struct sink *k, int err, unsigned int records)
{
	pthread_mutex_lock(&k->mu);
	if (err)
		k->st.errors++;
	else
		k->st.written += records;
	pthread_mutex_unlock(&k->mu);
}

static void deliver_batch(struct sink *k, const char *buf, size_t len, unsigned int records)
{
	account(k, k->cfg.type == SINK_FILE ? file_write_lines(k, buf, len)
					    : write_all(STDOUT_FILENO, buf, len),
		records);
}

/* Write one record; on a dead destination, wait and retry (TCP) so that
 * nothing in the queue is lost while it lives; the queue bounds the rest. */
static void deliver(struct sink *k, const char *line, size_t len, int severity)
{
	size_t n;

	for (;;) {
		int err;

		if (k->cfg.type == SINK_STDOUT)
			err = write_all(STDOUT_FILENO, line, len);
		else if (k->cfg.type == SINK_FILE)
			err = file_write(k, line, len);
		else {
			n = syslog_frame(k, k->frame, sizeof(k->frame), line, len ? len - 1 : 0,
					 severity);
			err = n ? syslog_send(k, k->frame, n) : 0;
		}
		account(k, err, 1);
		if (!err)
			return;
		if (k->cfg.type != SINK_SYSLOG || k->cfg.transport != SYSLOG_TCP)
			return; /* a datagram or a file: move on */
		/* Reconnect with exponential backoff, up to 30 s; give up on
		 * this record only when asked to stop. */
		k->backoff_ms = k->backoff_ms ? k->backoff_ms * 2 : 100;
		if (k->backoff_ms > 30000)
			k->backoff_ms = 30000;
		pthread_mutex_lock(&k->mu);
		if (k->stop) {
			pthread_mutex_unlock(&k->mu);
			return;
		}
		{
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += k->backoff_ms / 1000;
			until.tv_nsec += (long)(k->backoff_ms % 1000) * 1000000;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&k->cv, &k->mu, &until);
		}
		pthread_mutex_unlock(&k->mu);
	}
}

/* Under k->mu, after taking records out of the queue. */
static void room_made(struct sink *k)
{
	if (k->stalled && k->used <= k->cap / 2)
		k->stalled = false;
	if (k->space_wanted)
		pthread_cond_signal(&k->space);
}

static void *writer(void *arg)
{
	struct sink *k = arg;
	struct rec_hdr h;

	for (;;) {
		pthread_mutex_lock(&k->mu);
		while (!k->used && !k->stop && !k->reopen) {
			k->busy = false;
			pthread_cond_broadcast(&k->empty);
			k->waiting = true;
			pthread_cond_wait(&k->cv, &k->mu);
			k->waiting = false;
		}
		if (k->reopen) {
			k->reopen = false;
			pthread_mutex_unlock(&k->mu);
			if (k->fd >= 0 && k->cfg.type != SINK_STDOUT) {
				close(k->fd);
				k->fd = -1;
			}
			continue;
		}
		if (!k->used && k->stop) {
			pthread_mutex_unlock(&k->mu);
			return NULL;
		}
		if (k->used < BATCH_MIN && !k->stop) {
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += LINGER_NS;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&k->cv, &k->mu, &until);
		}
		k->busy = true;
		if (batches(k)) {
			size_t fill = 0;
			unsigned int records = 0;

			while (k->used >= sizeof(h)) {
				ring_peek(k, &h, sizeof(h));
				if (fill + h.len > sizeof(k->line))
					break;
				ring_get(k, &h, sizeof(h));
				ring_get(k, k->line + fill, h.len);
				fill += h.len;
				records++;
			}
			room_made(k);
			pthread_mutex_unlock(&k->mu);
			deliver_batch(k, k->line, fill, records);
			continue;
		}
		ring_get(k, &h, sizeof(h));
		if (h.len > sizeof(k->line)) {
			/* Never queued (sinks_write refuses), but be safe. */
			k->head = (k->head + h.len) % k->cap;
			k->used -= h.len;
			pthread_mutex_unlock(&k->mu);
			continue;
		}
		ring_get(k, k->line, h.len);
		room_made(k);
		pthread_mutex_unlock(&k->mu);
		deliver(k, k->line, h.len, (int)h.severity);
	}
}

static const char *type_name(const struct sink_cfg *c)
{
	return c->type == SINK_STDOUT ? "stdout" : c->type == SINK_FILE ? "file" : "syslog";
}

int sinks_open(const struct sink_cfg *cfg, unsigned int n, const char *hostname,
	       struct sinks **out)
{
	struct sinks *s = calloc(1, sizeof(*s));
	unsigned int i;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->s = calloc(n ? n : 1, sizeof(*s->s));
	if (!s->s) {
		free(s);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct sink *k = &s->s[i];

		k->cfg = cfg[i];
		k->hostname = hostname;
		k->fd = -1;
		k->cap = cfg[i].queue_bytes ? cfg[i].queue_bytes : SINK_DEFAULT_QUEUE;
		/* Touched now, not page by page under the first burst. */
		k->ring = mmap(NULL, k->cap, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (k->ring == MAP_FAILED)
			k->ring = NULL;
		if (cfg[i].type == SINK_FILE)
			snprintf(k->name, sizeof(k->name), "file:%s", cfg[i].path);
		else if (cfg[i].type == SINK_SYSLOG && cfg[i].transport != SYSLOG_UNIX)
			snprintf(k->name, sizeof(k->name), "syslog:%s:%s:%s",
				 cfg[i].transport == SYSLOG_TCP ? "tcp" : "udp", cfg[i].host,
				 cfg[i].port);
		else if (cfg[i].type == SINK_SYSLOG)
			snprintf(k->name, sizeof(k->name), "syslog:%s", cfg[i].path);
		else
			snprintf(k->name, sizeof(k->name), "%s", type_name(&cfg[i]));
		pthread_mutex_init(&k->mu, NULL);
		pthread_cond_init(&k->cv, NULL);
		pthread_cond_init(&k->empty, NULL);
		pthread_cond_init(&k->space, NULL);
		if (!k->ring || pthread_create(&k->thread, NULL, writer, k)) {
			ts_err("sink '%s': cannot start its writer", k->name);
			if (k->ring)
				munmap(k->ring, k->cap);
			k->ring = NULL;
			s->n = i;
			sinks_close(s);
			return -ENOMEM;
		}
		s->n = i + 1;
	}
	*out = s;
	return 0;
}

/* Under k->mu: wait for `need` bytes of room, unless the sink is stalled. */
static void wait_room(struct sink *k, size_t need)
{
	struct timespec until;

	if (k->stalled || k->stop)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += SPACE_WAIT_NS;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	k->space_wanted = true;
	/* The writer may be asleep in its linger: wake it to make room. */
	pthread_cond_signal(&k->cv);
	while (k->used + need > k->cap)
		if (pthread_cond_timedwait(&k->space, &k->mu, &until) == ETIMEDOUT) {
			k->stalled = true;
			break;
		}
	k->space_wanted = false;
}

void sinks_write(struct sinks *s, const char *line, size_t len, int severity)
{
	struct rec_hdr h = { .len = (__u32)len, .severity = (__u32)severity };
	unsigned int i;

	for (i = 0; s && i < s->n; i++) {
		struct sink *k = &s->s[i];
		bool wake = false;

		pthread_mutex_lock(&k->mu);
		if (len <= CHUNK && k->used + sizeof(h) + len > k->cap)
			wait_room(k, sizeof(h) + len);
		if (len > CHUNK || k->used + sizeof(h) + len > k->cap) {
			k->st.dropped++;
		} else {
			ring_put(k, &h, sizeof(h));
			ring_put(k, line, len);
			/* A futex wake per event would cost more than the event. */
			wake = k->waiting;
		}
		pthread_mutex_unlock(&k->mu);
		/* After the unlock: a writer woken while the mutex is still held
		 * would only block on it again, two more switches on a shared
		 * CPU. The sink outlives every caller, so signalling late is
		 * safe; a signal that finds the writer awake is harmless. */
		if (wake)
			pthread_cond_signal(&k->cv);
	}
}

void sinks_reopen(struct sinks *s)
{
	unsigned int i;

	for (i = 0; s && i < s->n; i++) {
		pthread_mutex_lock(&s->s[i].mu);
		s->s[i].reopen = true;
		pthread_cond_signal(&s->s[i].cv);
		pthread_mutex_unlock(&s->s[i].mu);
	}
}

unsigned int sinks_count(const struct sinks *s)
{
	return s ? s->n : 0;
}

void sinks_stats(struct sinks *s, unsigned int i, struct sink_stats *st)
{
	pthread_mutex_lock(&s->s[i].mu);
	*st = s->s[i].st;
	pthread_mutex_unlock(&s->s[i].mu);
}

const char *sinks_name(const struct sinks *s, unsigned int i)
{
	return s->s[i].name;
}

void sinks_drain(struct sinks *s, int timeout_ms)
{
	struct timespec until;
	unsigned int i;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	for (i = 0; s && i < s->n; i++) {
		struct sink *k = &s->s[i];

		pthread_mutex_lock(&k->mu);
		while (k->used || k->busy)
			if (pthread_cond_timedwait(&k->empty, &k->mu, &until))
				break;
		pthread_mutex_unlock(&k->mu);
	}
}

void sinks_close(struct sinks *s)
{
	unsigned int i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		struct sink *k = &s->s[i];

		pthread_mutex_lock(&k->mu);
		k->stop = true;
		pthread_cond_signal(&k->cv);
		pthread_mutex_unlock(&k->mu);
		pthread_join(k->thread, NULL);
		if (k->fd >= 0) {
			if (k->cfg.type == SINK_FILE)
				fsync(k->fd);
			close(k->fd);
		}
		if (k->ring)
			munmap(k->ring, k->cap);
	}
	free(s->s);
	free(s);
}
