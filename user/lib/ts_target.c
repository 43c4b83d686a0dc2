// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "ts_keys.h"
#include "ts_target.h"

static int fail(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_port(const char *s, size_t n, __u16 *out)
{
	unsigned long v = 0;
	size_t i;

	if (!n || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*out = (__u16)v;
	return 0;
}

/* "443", "443-444" or "*". */
static int parse_ports(const char *s, struct ts_target *t, char *why, size_t size)
{
	const char *dash = strchr(s, '-');

	if (!strcmp(s, "*")) {
		t->port_lo = 1;
		t->port_hi = 65535;
		return 0;
	}
	if (dash) {
		if (parse_port(s, (size_t)(dash - s), &t->port_lo) ||
		    parse_port(dash + 1, strlen(dash + 1), &t->port_hi))
			return fail(why, size, "bad port range '%s': ports are 1 to 65535", s);
		if (t->port_lo > t->port_hi)
			return fail(why, size, "bad port range '%s': %u is above %u", s, t->port_lo,
				    t->port_hi);
		return 0;
	}
	if (parse_port(s, strlen(s), &t->port_lo))
		return fail(why, size, "bad port '%s': ports are 1 to 65535", s);
	t->port_hi = t->port_lo;
	return 0;
}

static int parse_bits(const char *s, unsigned int max, unsigned int *bits)
{
	unsigned long v = 0;
	const char *p;

	if (!*s || strlen(s) > 3)
		return -1;
	for (p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > max)
		return -1;
	*bits = (unsigned int)v;
	return 0;
}

/* Host bits set under the prefix: "10.0.0.1/8" is a typo for 10.0.0.0/8
 * or for 10.0.0.1/32; either way, refuse to guess. */
static bool host_bits_set(const __u8 addr[16], unsigned int bits)
{
	unsigned int i;

	for (i = bits; i < 128; i++)
		if (addr[i / 8] & (0x80 >> (i % 8)))
			return true;
	return false;
}

/* "a.b.c.d" or "a.b.c.d/n" or an IPv6 address (with "/n"), in `s`. */
static int parse_network(char *s, bool v6, struct ts_target *t, char *why, size_t size)
{
	char *slash = strchr(s, '/');
	unsigned int bits = v6 ? 128 : 32;
	char net[64];

	if (slash) {
		*slash = '\0';
		if (parse_bits(slash + 1, v6 ? 128 : 32, &bits))
			return fail(why, size, "bad prefix length '/%s': %s takes 0 to %d",
				    slash + 1, v6 ? "IPv6" : "IPv4", v6 ? 128 : 32);
	}
	if (v6) {
		if (inet_pton(AF_INET6, s, t->addr) != 1)
			return fail(why, size, "bad IPv6 address '%s'", s);
		t->bits = bits;
	} else {
		struct in_addr a;

		if (inet_pton(AF_INET, s, &a) != 1)
			return fail(why, size, "bad IPv4 address '%s'", s);
		ts_addr_v4_mapped(t->addr, a.s_addr);
		t->bits = 96 + bits;
		t->v4 = true;
	}
	if (host_bits_set(t->addr, t->bits)) {
		__u8 masked[16];
		unsigned int i;

		memcpy(masked, t->addr, 16);
		for (i = t->bits; i < 128; i++)
			masked[i / 8] &= (__u8) ~(0x80 >> (i % 8));
		ts_target_format_net(masked, t->bits, net, sizeof(net));
		return fail(why, size, "'%s/%u' has host bits set: write the network, %s", s, bits,
			    net);
	}
	t->kind = TS_TARGET_CIDR;
	return 0;
}

static bool valid_host(const char *h)
{
	size_t label = 0, n = strlen(h);
	bool letter = false;
	const char *p;

	if (!n || n > TS_HOST_MAX || h[0] == '.' || h[n - 1] == '.' || h[0] == '-')
		return false;
	for (p = h; *p; p++) {
		if (*p == '.') {
			if (!label || p[-1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-')
			return false;
		if (isalpha((unsigned char)*p))
			letter = true;
		if (++label > 63)
			return false;
	}
	/* All digits and dots is a mistyped IPv4 address, not a name. */
	return letter;
}

int ts_target_parse(const char *text, struct ts_target *t, char *why, size_t size)
{
	char buf[320], *ports = NULL;
	size_t n = strlen(text);

	memset(t, 0, sizeof(*t));
	t->port_lo = 1;
	t->port_hi = 65535;
	if (!strncmp(text, "unix:", 5)) {
		t->kind = TS_TARGET_UNIX;
		t->unix_path = text + 5;
		if (!t->unix_path[0])
			return fail(why, size, "'unix:' needs a socket path or @name");
		return 0;
	}
	if (!n)
		return fail(why, size, "empty network target");
	if (n >= sizeof(buf))
		return fail(why, size, "network target is longer than %zu bytes", sizeof(buf) - 1);
	memcpy(buf, text, n + 1);

	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close)
			return fail(why, size, "'%s': missing ']' after the IPv6 address", text);
		*close = '\0';
		if (close[1] == '/') {
			/* [2001:db8::]/32:443 */
			char *colon = strchr(close + 2, ':');

			if (colon) {
				*colon = '\0';
				ports = colon + 1;
			}
			memmove(close, close + 1, strlen(close + 1) + 1);
		} else if (close[1] == ':') {
			ports = close + 2;
		} else if (close[1]) {
			return fail(why, size, "'%s': expected ':PORT' or '/BITS' after ']'", text);
		}
		if (ports && parse_ports(ports, t, why, size))
			return -EINVAL;
		return parse_network(buf + 1, true, t, why, size);
	}
	if (strchr(buf, ':') != strrchr(buf, ':'))
		/* Two colons or more: a bare IPv6 address, which cannot carry a port. */
		return parse_network(buf, true, t, why, size);
	ports = strchr(buf, ':');
	if (ports) {
		*ports++ = '\0';
		if (parse_ports(ports, t, why, size))
			return -EINVAL;
	}
	if (strspn(buf, "0123456789./") == strlen(buf))
		return parse_network(buf, false, t, why, size);
	if (!valid_host(buf))
		return fail(why, size, "'%s' is neither an address nor a valid host name", buf);
	t->kind = TS_TARGET_HOST;
	memcpy(t->host, buf, strlen(buf) + 1);
	return 0;
}

void ts_target_format_net(const __u8 addr[16], unsigned int bits, char *buf, size_t size)
{
	static const __u8 v4_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char a[INET6_ADDRSTRLEN];

	if (bits >= 96 && !memcmp(addr, v4_prefix, 12)) {
		inet_ntop(AF_INET, addr + 12, a, sizeof(a));
		snprintf(buf, size, "%s/%u", a, bits - 96);
		return;
	}
	inet_ntop(AF_INET6, addr, a, sizeof(a));
	snprintf(buf, size, "%s/%u", a, bits);
}

static bool in_net(const __u8 addr[16], const char *net, unsigned int bits)
{
	__u8 n[16];
	unsigned int i;

	if (inet_pton(AF_INET6, net, n) != 1)
		return false;
	for (i = 0; i < bits; i++)
		if ((addr[i / 8] ^ n[i / 8]) & (0x80 >> (i % 8)))
			return false;
	return true;
}

bool ts_addr_forbidden_for_hosts(const __u8 addr[16])
{
	static const struct {
		const char *net;
		unsigned int bits;
	} forbidden[] = {
		{ "::ffff:127.0.0.0", 104 },        /* loopback */
		{ "::1", 128 },                     /* loopback */
		{ "::ffff:169.254.0.0", 112 },      /* link-local, metadata 169.254.169.254 */
		{ "fe80::", 10 },                   /* link-local */
		{ "fd00:ec2::254", 128 },           /* AWS metadata over IPv6 */
		{ "::ffff:100.100.100.200", 128 },  /* Alibaba Cloud metadata */
		{ "::ffff:0.0.0.0", 104 },          /* "this network" */
		{ "::", 128 },                      /* unspecified */
		{ "::ffff:224.0.0.0", 100 },        /* multicast */
		{ "ff00::", 8 },                    /* multicast */
	};
	size_t i;

	for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++)
		if (in_net(addr, forbidden[i].net, forbidden[i].bits))
			return true;
	return false;
}
