/* SPDX-License-Identifier: MIT */
/*
 * Network targets of a policy, as written:
 *   10.0.0.0/8:5432   192.0.2.7:443-444   203.0.113.9        (IPv4)
 *   [2001:db8::]/32:443   [::1]:8080   2001:db8::1           (IPv6; a port needs [])
 *   api.github.com:443                                       (host, resolved at start)
 *   unix:/run/app.sock   unix:@abstract                      (AF_UNIX)
 * No port, or "*", means every port.
 */
#ifndef TS_TARGET_H
#define TS_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define TS_HOST_MAX 253

enum ts_target_kind {
	TS_TARGET_CIDR = 0,
	TS_TARGET_HOST,
	TS_TARGET_UNIX,
};

struct ts_target {
	enum ts_target_kind kind;
	__u8 addr[16];     /* CIDR: IPv6, or IPv4 v4-mapped */
	unsigned int bits; /* CIDR: prefix length over the 128 bits */
	bool v4;           /* CIDR: written as IPv4 */
	char host[TS_HOST_MAX + 1];
	const char *unix_path; /* UNIX: points into the text, after "unix:" */
	__u16 port_lo, port_hi;
};

/* Parse `text`. Returns 0, or -EINVAL with a reason in `why`. */
int ts_target_parse(const char *text, struct ts_target *t, char *why, size_t why_size);
/* "10.0.0.0/8" or "2001:db8::/32" for a CIDR target's network. */
void ts_target_format_net(const __u8 addr[16], unsigned int bits, char *buf, size_t size);
/* Addresses a host name must never admit: loopback, link-local, cloud
 * metadata, unspecified, multicast (IPv6 or v4-mapped). */
bool ts_addr_forbidden_for_hosts(const __u8 addr[16]);

#endif /* TS_TARGET_H */
