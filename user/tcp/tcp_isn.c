/* tcp_isn.c - RFC 6528 initial sequence numbers.
 *
 *   hxs_isn() -> tuple_bytes() -> hxs_siphash24() = F; + now_us / 4 = M
 *   hxs_isn_addr() -> hxs_isn() for IPv4, the 16-byte tuple hashed the same way for IPv6
 */
#include <string.h>

#include "tcp_isn.h"

void hxs_isn_init(struct hxs_isn *isn, const uint8_t key[16])
{
	memcpy(isn->key, key, sizeof(isn->key));
}

uint32_t hxs_isn(const struct hxs_isn *isn, uint32_t saddr, uint16_t sport, uint32_t daddr,
		 uint16_t dport, uint64_t now_us)
{
	uint8_t m[12];
	uint32_t f, tick;

	/* fixed serialisation, independent of host byte order */
	m[0] = (uint8_t)saddr; m[1] = (uint8_t)(saddr >> 8);
	m[2] = (uint8_t)(saddr >> 16); m[3] = (uint8_t)(saddr >> 24);
	m[4] = (uint8_t)sport; m[5] = (uint8_t)(sport >> 8);
	m[6] = (uint8_t)daddr; m[7] = (uint8_t)(daddr >> 8);
	m[8] = (uint8_t)(daddr >> 16); m[9] = (uint8_t)(daddr >> 24);
	m[10] = (uint8_t)dport; m[11] = (uint8_t)(dport >> 8);
	/* RFC 6528 §3: "F() is a pseudorandom function (PRF) of the connection-id and some
	 * secret data ... F() MUST NOT be computable from the outside" - SipHash-2-4 keyed
	 * with the 128-bit secret, truncated to 32 bits. */
	f = (uint32_t)hxs_siphash24(isn->key, m, sizeof(m));
	/* RFC 6528 §3: "M is the 4 microsecond timer" (wraps modulo 2^32 as ISNs do) */
	tick = (uint32_t)(now_us / 4);
	return tick + f;        /* "ISN = M + F(localip, localport, remoteip, remoteport, secretkey)" */
}

uint32_t hxs_isn_addr(const struct hxs_isn *isn, struct hxs_addr saddr, uint16_t sport,
		      struct hxs_addr daddr, uint16_t dport, uint64_t now_us)
{
	uint8_t m[36];

	if (hxs_addr_is4(saddr) && hxs_addr_is4(daddr))
		return hxs_isn(isn, hxs_addr_get4(saddr), sport, hxs_addr_get4(daddr), dport, now_us);
	memcpy(m, saddr.b, 16);
	m[16] = (uint8_t)sport; m[17] = (uint8_t)(sport >> 8);
	memcpy(m + 18, daddr.b, 16);
	m[34] = (uint8_t)dport; m[35] = (uint8_t)(dport >> 8);
	return (uint32_t)(now_us / 4) + (uint32_t)hxs_siphash24(isn->key, m, sizeof(m));
}
