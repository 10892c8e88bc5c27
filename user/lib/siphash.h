/* siphash.h - SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012):
 * a keyed 64-bit PRF for short inputs (ISNs, port offsets, hash-table keys). */
#ifndef HXS_SIPHASH_H
#define HXS_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 of msg under a 128-bit key; key bytes and message words are little-endian,
 * as in the paper (so the paper's test vectors apply byte for byte). */
uint64_t hxs_siphash24(const uint8_t key[16], const void *msg, size_t len);

#endif
