/* siphash.c - SipHash-2-4, written from the paper (Aumasson & Bernstein 2012, §2).
 *
 *   hxs_siphash24() -> init (§2.1: v0..v3 from k0, k1 and the constants)
 *                   -> compression: per 8-byte word m, v3 ^= m, 2 x SIPROUND, v0 ^= m
 *                   -> last word: remaining bytes | (len mod 256) << 56
 *                   -> finalization: v2 ^= 0xff, 4 x SIPROUND, v0 ^ v1 ^ v2 ^ v3
 */
#include "siphash.h"

static inline uint64_t rotl64(uint64_t x, unsigned b) { return (x << b) | (x >> (64 - b)); }

static inline uint64_t load_le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
	       (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	       (uint64_t)p[7] << 56;
}

/* The paper's SipRound (Figure 2.1). */
#define SIPROUND(v0, v1, v2, v3)                                             \
	do {                                                                 \
		v0 += v1; v1 = rotl64(v1, 13); v1 ^= v0; v0 = rotl64(v0, 32); \
		v2 += v3; v3 = rotl64(v3, 16); v3 ^= v2;                      \
		v0 += v3; v3 = rotl64(v3, 21); v3 ^= v0;                      \
		v2 += v1; v1 = rotl64(v1, 17); v1 ^= v2; v2 = rotl64(v2, 32); \
	} while (0)

uint64_t hxs_siphash24(const uint8_t key[16], const void *msg, size_t len)
{
	const uint8_t *p = msg;
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	/* "somepseudorandomlygeneratedbytes" */
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
	uint64_t m, b = (uint64_t)(len & 0xff) << 56;
	size_t i, rest = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load_le64(p + i);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	for (i = 0; i < rest; i++)
		b |= (uint64_t)p[len - rest + i] << (8 * i);
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}
