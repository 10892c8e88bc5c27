/* tcp_csum.h - the RFC 1071 sum of the core's short byte runs, inline: a sent segment's
 * header (tcp_seg.c hxs_tcp_csum_split), a short received segment (hxs_tcp_csum_ptr) and a
 * short payload copied into its frame (tcp_buf.c hxs_tcp_ring__read_csum). The same partial
 * sum, in the same host byte order, as lib/csum.c's hxs_csum_add(), which takes the long ones:
 * for a 32 to 128-byte run, its call, block set-up and tail handling cost about as much as the
 * words themselves (a 64-byte request: 97 instructions against about 40 here).
 */
#ifndef HXS_TCP_CSUM_H
#define HXS_TCP_CSUM_H

#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>

/* Below this, hxs_tcp_sum_short() rather than hxs_csum_add() (whose vector blocks start at
 * 128 bytes) */
#define HXS_TCP_SUM_SHORT 128u

/* The IPv4 pseudo-header of a TCP segment of len bytes (RFC 9293 §3.1: source, destination,
 * zero and protocol, TCP length), unfolded: the 32-bit address words summed whole (RFC 1071
 * §2(C): a wider sum folds to the same 16 bits), in the host byte order of the words. A start
 * for hxs_tcp_sum_short(), which folds; hxs_csum_pseudo() folded. */
static inline uint64_t hxs_tcp_pseudo4(uint32_t src, uint32_t dst, uint32_t len)
{
	return (uint64_t)src + dst + htons(6) + htons((uint16_t)len);
}

/* hxs_csum_add(sum, p, n) for a short n, sum any start below 2^63 (a partial sum, or
 * hxs_tcp_pseudo4()): 8-byte words, each carry added back at once (RFC 1071 §2(C)), the last
 * 1..7 bytes as one more word padded with zeros; folded to 16 bits. */
static inline uint32_t hxs_tcp_sum_short(uint64_t sum, const uint8_t *p, uint32_t n)
{
	uint64_t s = sum, w;

	/* four words a step: an add and an add-with-carry each on x86-64, one loop test */
	for (; n >= 32; p += 32, n -= 32) {
		uint64_t a, b, c, d;

		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		memcpy(&c, p + 16, 8);
		memcpy(&d, p + 24, 8);
		s += a;
		s += s < a;
		s += b;
		s += s < b;
		s += c;
		s += s < c;
		s += d;
		s += s < d;
	}
	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		s += w;
		s += s < w;
	}
	if (n) {
		/* the bytes at their offsets in a zeroed word: in either byte order, the
		 * words they make with the zeros are the data's (an odd last byte is the first
		 * of a word whose second is zero) */
		uint8_t b[8] = { 0 };

		for (uint32_t i = 0; i < n; i++)
			b[i] = p[i];
		memcpy(&w, b, 8);
		s += w;
		s += s < w;
	}
	/* 64 -> 32 bits: twice, the second leaves less than 2^32 */
	s = (s >> 32) + (s & 0xffffffffu);
	s = (s >> 32) + (s & 0xffffffffu);
	/* 32 -> 16 bits in one addition, as lib/csum.h hxs_csum_fold32(): the high half of the
	 * value plus the value with its halves swapped is the sum of the halves with the carry
	 * out of it added back (RFC 1071 §4.1) */
	uint32_t x = (uint32_t)s;

	return (x + ((x << 16) | (x >> 16))) >> 16;
}

#endif
