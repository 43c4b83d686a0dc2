/* SPDX-License-Identifier: MIT */
/* One connection to the control socket, as server.c and methods.c see it. */
#ifndef TASKSCOPED_CLIENT_H
#define TASKSCOPED_CLIENT_H

#include <stdbool.h>
#include <sys/socket.h>
#include <jansson.h>
#include <linux/types.h>

struct client {
	int fd;
	int pidfd;        /* pins the peer process for the life of the connection */
	struct ucred cred;
	__u64 tag;        /* the peer's task at connect time; 0: untagged */
	bool privileged;  /* untagged, and root or in the taskscope group */
	char *rbuf, *wbuf;
	size_t rlen, rcap, wlen, wcap;
	__u64 last_ms;
	unsigned long requests;
	bool streaming;   /* an "events" subscriber */
	__u64 stream_task; /* its filter; 0: every task it may see */
	bool closing;     /* close once the output is flushed */
	bool gone;
	__u64 dropped;    /* events a slow subscriber missed */
};

/* Queue one message (stolen) for the client. */
void client_send(struct client *c, json_t *msg);

#endif /* TASKSCOPED_CLIENT_H */
