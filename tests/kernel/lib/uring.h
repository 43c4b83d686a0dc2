/* SPDX-License-Identifier: MIT */
/* Just enough io_uring, without liburing, to submit one operation and read
 * its result: io_uring reaches the same LSM hooks by another road. */
#ifndef KT_URING_H
#define KT_URING_H

#include <linux/io_uring.h>

struct kt_uring {
	int fd;
	void *sq_ring, *cq_ring;
	size_t sq_ring_size, cq_ring_size, sqes_size;
	struct io_uring_sqe *sqes;
	unsigned int *sq_tail, *sq_mask, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
};

/* 0, or the errno io_uring_setup failed with (ENOSYS: no io_uring). */
int kt_uring_init(struct kt_uring *r);
/* Submit `sqe`, wait for its completion: the CQE's res (-errno on failure). */
int kt_uring_run(struct kt_uring *r, const struct io_uring_sqe *sqe);
void kt_uring_exit(struct kt_uring *r);

#endif
