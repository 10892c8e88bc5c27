/* addr.h - an IP address of either family in 16 bytes: IPv6 as it is, IPv4 as the
 * IPv4-mapped address ::ffff:a.b.c.d (RFC 4291 §2.5.5.2), the form of the XDP maps' keys and
 * of a dual-stack socket's peers. Passed by value; pure helpers.
 *
 *   struct hxs_addr a = hxs_addr4(ip);            IPv4, network order
 *   if (hxs_addr_is4(a)) ip = hxs_addr_get4(a);
 *   hxs_addr_eq(a, b), hxs_addr_is_any(a) (:: or 0.0.0.0), hxs_addr_iph_len(a) (20 or 40)
 */
#ifndef HXS_ADDR_H
#define HXS_ADDR_H

#include <stdint.h>
#include <string.h>

struct hxs_addr {
	uint8_t b[16];
};

static inline struct hxs_addr hxs_addr4(uint32_t ip)
{
	struct hxs_addr a = { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff } };

	memcpy(a.b + 12, &ip, 4);
	return a;
}

static inline struct hxs_addr hxs_addr6(const uint8_t b[16])
{
	struct hxs_addr a;

	memcpy(a.b, b, 16);
	return a;
}

static inline int hxs_addr_is4(struct hxs_addr a)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return !memcmp(a.b, pfx, 12);
}

/* The IPv4 address of an IPv4(-mapped) address, network order. */
static inline uint32_t hxs_addr_get4(struct hxs_addr a)
{
	uint32_t ip;

	memcpy(&ip, a.b + 12, 4);
	return ip;
}

static inline int hxs_addr_eq(struct hxs_addr a, struct hxs_addr b)
{
	return !memcmp(a.b, b.b, 16);
}

/* :: (the IPv6 wildcard) */
static inline int hxs_addr_is_any6(struct hxs_addr a)
{
	static const uint8_t z[16];

	return !memcmp(a.b, z, 16);
}

/* :: or 0.0.0.0 (as ::ffff:0.0.0.0): a wildcard of either family */
static inline int hxs_addr_is_any(struct hxs_addr a)
{
	return hxs_addr_is_any6(a) || (hxs_addr_is4(a) && !hxs_addr_get4(a));
}

/* The IP header in front of a transport segment to or from a: 20 (IPv4) or 40 (IPv6). */
static inline uint32_t hxs_addr_iph_len(struct hxs_addr a)
{
	return hxs_addr_is4(a) ? 20 : 40;
}

#endif
