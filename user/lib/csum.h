/* csum.h - the Internet checksum (RFC 1071), one implementation for IPv4, UDP and TCP.
 * Pure functions (no I/O): the TCP core uses them too.
 *
 * Sums are of 16-bit words in the host's byte order: RFC 1071 §2(B) "the sum of 16-bit
 * integers can be computed in either byte order", so a folded sum stored with memcpy lands
 * in network order. hxs_csum_add() returns a partial sum (<= 0xffff) that can be fed back in;
 * hxs_csum_fold() complements it into the field's value. */
#ifndef HXS_CSUM_H
#define HXS_CSUM_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

/* Adds len bytes at data (any alignment, odd len padded with a zero byte) to sum. */
uint32_t hxs_csum_add(uint32_t sum, const void *data, uint32_t len);
/* Whether the 32-byte vector loop (x86-64 with AVX2) is used: on = 0 turns it off, 1 back on
 * where the CPU has it, -1 only asks. Returns the previous state. For tests of both loops. */
int hxs_csum_wide(int on);
/* hxs_csum_add(sum, src, len) that also copies the len bytes to dst (no overlap): one pass
 * over the data for a payload that is summed where it is copied. */
uint32_t hxs_csum_copy(uint32_t sum, void *dst, const void *src, uint32_t len);
/* Adds to sum a partial sum (<= 0xffff) of bytes that sit at an odd offset from the start of
 * what sum covers: their words straddle the caller's, so the part is byte-swapped first
 * (RFC 1071 §2(B): swapping every word's bytes swaps the sum's). */
static inline uint32_t hxs_csum_join(uint32_t sum, uint32_t part, int odd)
{
	if (odd)
		part = ((part << 8) | (part >> 8)) & 0xffff;
	sum += part;
	return (sum & 0xffff) + (sum >> 16);
}
/* A 32-bit partial sum folded to 16 bits: its high half added to its low half, the carry out
 * of that addition added back (RFC 1071 §4.1), in one 32-bit addition of the value and the
 * value with its halves swapped, whose high half is the folded sum (as the kernel's
 * csum_fold() does it). The same value as folding until nothing is above bit 15: 0 only
 * for 0, else the one value in 1..0xffff congruent to x modulo 0xffff. */
static inline uint32_t hxs_csum_fold32(uint32_t x)
{
	return (x + ((x << 16) | (x >> 16))) >> 16;
}
/* Ones' complement of the folded sum: the value to store (memcpy) in a checksum field, or 0
 * when verifying a packet that carries a correct checksum. */
static inline uint16_t hxs_csum_fold(uint32_t sum)
{
	return (uint16_t)~hxs_csum_fold32(sum);
}
/* hxs_csum_add(0, h, 20), inline: an IPv4 header without options, the one every datagram
 * hxs sends and most it receives carry (five 32-bit words, no loop, no tail). */
static inline uint32_t hxs_csum_ip4hdr(const void *h)
{
	uint32_t w[5];
	uint64_t s;

	memcpy(w, h, sizeof(w));
	s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];    /* < 2^35: no carry out of 64 bits */
	s = (s & 0xffffffffu) + (s >> 32);                  /* < 2^32 + 8 */
	s = (s & 0xffffffffu) + (s >> 32);                  /* < 2^32 */
	return hxs_csum_fold32((uint32_t)s);
}
/* Sum of the IPv4 pseudo-header (RFC 768, RFC 9293 §3.1), addresses in network order.
 * Inline (every datagram and segment asks, both ways): the addresses as 32-bit words, their
 * carries deferred and folded in at the end (RFC 1071 §2(C)). The zero byte and the protocol
 * are the 16-bit word proto in network order, as the length. */
static inline uint32_t hxs_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len)
{
	uint64_t s = (uint64_t)src + dst + htons(proto) + htons((uint16_t)len); /* < 2^34 */

	s = (s & 0xffffffffu) + (s >> 32);                  /* < 2^32 + 4 */
	s = (s & 0xffffffffu) + (s >> 32);                  /* < 2^32 */
	return hxs_csum_fold32((uint32_t)s);
}
/* Sum of the IPv6 pseudo-header (RFC 8200 §8.1): source, destination, the upper-layer length
 * as 32 bits, three zero bytes and the next header. */
uint32_t hxs_csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t proto,
			  uint32_t len);

#endif
