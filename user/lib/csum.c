/* csum.c - RFC 1071 Internet checksum with a 64-bit accumulator.
 *
 *   hxs_csum_add() -> 16-byte blocks: four 32-bit words into four 64-bit sums, carries
 *                     deferred (§2(C)), then added with end-around carry
 *                  -> 8, 4, 2, 1-byte tail -> fold 64 -> 16 bits
 *   hxs_csum_pseudo() -> the IPv4 pseudo-header words
 *   hxs_csum_pseudo6() -> the IPv6 pseudo-header words
 */
#include <arpa/inet.h>
#include <string.h>

#include "csum.h"

/* Ones' complement addition in 64 bits: the carry out of bit 63 comes back in at bit 0. */
static inline uint64_t add_ac(uint64_t s, uint64_t w)
{
	s += w;
	return s + (s < w);
}

uint32_t hxs_csum_add(uint32_t sum, const void *data, uint32_t len)
{
	const uint8_t *p = data;
	uint64_t s = sum, a, s0 = 0, s1 = 0, s2 = 0, s3 = 0;

	/* 32-bit words into four 64-bit sums: a word's carries pile up in the upper half
	 * instead of coming around at once (§2(C) "deferred carries"); with no chain from one
	 * add to the next the compiler may do them side by side. 2^32 words before a sum
	 * could overflow: more than len can count. */
	while (len >= 16) {
		uint32_t w[4];

		memcpy(w, p, 16);
		s0 += w[0];
		s1 += w[1];
		s2 += w[2];
		s3 += w[3];
		p += 16;
		len -= 16;
	}
	s = add_ac(s, s0);
	s = add_ac(s, s1);
	s = add_ac(s, s2);
	s = add_ac(s, s3);
	while (len >= 8) {
		memcpy(&a, p, 8);
		s = add_ac(s, a);
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		s = add_ac(s, w);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		s = add_ac(s, w);
		p += 2;
		len -= 2;
	}
	if (len) {
		/* the odd byte is the first byte of a word whose second byte is zero (§4.1) */
		uint8_t last[2] = { p[0], 0 };
		uint16_t w;
		memcpy(&w, last, 2);
		s = add_ac(s, w);
	}
	/* fold 64 -> 32 -> 16 bits: the 16-bit ones' complement sum is the same (§2(B)) */
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

uint32_t hxs_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len)
{
	uint64_t s = 0;

	s += (src & 0xffff) + (src >> 16);
	s += (dst & 0xffff) + (dst >> 16);
	s += htons(proto);
	s += htons((uint16_t)len);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

uint32_t hxs_csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t proto,
			  uint32_t len)
{
	uint8_t tail[8];
	uint32_t n = htonl(len);
	uint32_t s;

	/* RFC 8200 §8.1: Upper-Layer Packet Length (32 bits), zero (24 bits), Next Header */
	memcpy(tail, &n, 4);
	tail[4] = tail[5] = tail[6] = 0;
	tail[7] = proto;
	s = hxs_csum_add(0, src, 16);
	s = hxs_csum_add(s, dst, 16);
	return hxs_csum_add(s, tail, 8);
}
