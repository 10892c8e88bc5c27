/* csum.h - the Internet checksum (RFC 1071), one implementation for IPv4, UDP and TCP.
 * Pure functions (no I/O): the TCP core uses them too.
 *
 * Sums are of 16-bit words in the host's byte order: RFC 1071 §2(B) "the sum of 16-bit
 * integers can be computed in either byte order", so a folded sum stored with memcpy lands
 * in network order. hxs_csum_add() returns a partial sum (<= 0xffff) that can be fed back in;
 * hxs_csum_fold() complements it into the field's value. */
#ifndef HXS_CSUM_H
#define HXS_CSUM_H

#include <stdint.h>
#include <string.h>

/* Adds len bytes at data (any alignment, odd len padded with a zero byte) to sum. */
uint32_t hxs_csum_add(uint32_t sum, const void *data, uint32_t len);
/* Ones' complement of the folded sum: the value to store (memcpy) in a checksum field, or 0
 * when verifying a packet that carries a correct checksum. */
static inline uint16_t hxs_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}
/* hxs_csum_add(0, h, 20), inline: an IPv4 header without options, the one every datagram
 * hxs sends and most it receives carry (five 32-bit words, no loop, no tail). */
static inline uint32_t hxs_csum_ip4hdr(const void *h)
{
	uint32_t w[5];
	uint64_t s;

	memcpy(w, h, sizeof(w));
	s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];    /* < 2^35: no carry out of 64 bits */
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}
/* Sum of the IPv4 pseudo-header (RFC 768, RFC 9293 §3.1), addresses in network order. */
uint32_t hxs_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len);
/* Sum of the IPv6 pseudo-header (RFC 8200 §8.1): source, destination, the upper-layer length
 * as 32 bits, three zero bytes and the next header. */
uint32_t hxs_csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t proto,
			  uint32_t len);

#endif
