// SPDX-License-Identifier: MIT
/* The event ring buffer. */
#include <errno.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "ts_kernel_priv.h"
#include "ts_log.h"

static int on_ringbuf_record(void *ctx, void *data, size_t size)
{
	struct ts_kernel *k = ctx;

	if (size < sizeof(struct ts_event))
		return 0; /* a record from another ABI: not ours to read */
	return k->on_event(data, k->on_event_ctx);
}

int ts_kernel_events_subscribe(struct ts_kernel *k, ts_event_fn fn, void *ctx)
{
	int err;

	k->on_event = fn;
	k->on_event_ctx = ctx;
	k->events = ring_buffer__new(k->map_fd[TS_MAP_EVENTS], on_ringbuf_record, k, NULL);
	if (!k->events) {
		err = -errno;
		ts_err("cannot open the event ring buffer: %s", strerror(-err));
		return err;
	}
	return 0;
}

int ts_kernel_events_poll(struct ts_kernel *k, int timeout_ms)
{
	int n = ring_buffer__poll(k->events, timeout_ms);

	if (n < 0 && n != -EINTR)
		ts_err("cannot read the event ring buffer: %s", strerror(-n));
	return n;
}

int ts_kernel_events_fd(struct ts_kernel *k)
{
	return ring_buffer__epoll_fd(k->events);
}
