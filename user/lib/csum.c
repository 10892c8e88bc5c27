/* csum.c - RFC 1071 Internet checksum: 16-byte vectors of 16-bit lanes, 64-bit accumulator.
 *
 *   hxs_csum_add()  -> sum_copy(no copy): from VEC_MIN bytes, 64-byte blocks of four 16-byte
 *                      vectors, each split into its two 16-bit halves per 32-bit lane and
 *                      added into 32-bit lane sums (carries deferred, §2(C)), then the lanes
 *                      into 64 bits
 *                   -> (x86-64: 32-byte steps, one add-with-carry chain each) 16-byte steps
 *                      of two 8-byte words, an 8-byte word, then the 4, 2, 1-byte tail
 *                      -> fold 64 -> 16 bits
 *   hxs_csum_copy() -> sum_copy(copy): the same loop storing every vector it loaded, so the
 *                      bytes are summed while they are copied (one pass, not a copy and a sum)
 *   hxs_csum_pseudo() (csum.h, inline) -> the IPv4 pseudo-header words
 *   hxs_csum_pseudo6() -> the IPv6 pseudo-header words
 *
 * The vectors are GCC/clang vector extensions: SSE2 on x86-64 (in every x86-64 CPU), NEON on
 * arm64, scalar code where neither exists; on x86-64 a CPU with AVX2 (asked once) gets the
 * block loop on 32-byte vectors for lengths of AVX2_MIN bytes and more (sum_copy_avx2()).
 */
#include <arpa/inet.h>
#include <string.h>

#include "csum.h"

typedef uint32_t v4u __attribute__((vector_size(16)));

/* Ones' complement addition in 64 bits: the carry out of bit 63 comes back in at bit 0. */
static inline uint64_t add_ac(uint64_t s, uint64_t w)
{
	s += w;
	return s + (s < w);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* s plus the four 8-byte words at p in one add-with-carry chain: each add's carry goes into
 * the next (adc), the last one's back in at bit 0, as add_ac() four times but one
 * instruction a word (a 64-byte datagram and its UDP header are most of a sum: 72 bytes) */
static inline uint64_t add4_ac(uint64_t s, const uint8_t *p)
{
	uint64_t a, b, c, d;

	memcpy(&a, p, 8);
	memcpy(&b, p + 8, 8);
	memcpy(&c, p + 16, 8);
	memcpy(&d, p + 24, 8);
	__asm__("addq %1, %0\n\tadcq %2, %0\n\tadcq %3, %0\n\tadcq %4, %0\n\tadcq $0, %0"
		: "+r"(s) : "r"(a), "r"(b), "r"(c), "r"(d) : "cc");
	return s;
}
#define HAVE_ADD4_AC 1
#endif

/* The sum of the four lanes of a 32-bit lane vector, each < 2^32: < 2^34, no carry lost. */
static inline uint64_t lanes(v4u v)
{
	return (uint64_t)v[0] + v[1] + v[2] + v[3];
}

/* Per block a lane of lo (of hi) takes the low (high) 16-bit halves of 4 words, each <= 0xffff:
 * at most 4 * 0xffff. 8192 blocks between flushes into 64 bits add < 2^31: no lane wraps. */
#define BLOCKS_PER_FLUSH 8192u
/* Shorter than this, no vector blocks (see sum_copy()) */
#define VEC_MIN 128u

static inline __attribute__((always_inline)) uint32_t
sum_copy(uint32_t sum, uint8_t *d, const uint8_t *p, uint32_t len, int copy)
{
	const v4u m = { 0xffff, 0xffff, 0xffff, 0xffff };
	uint64_t s = sum, a;
	const int vec = len >= VEC_MIN;

	/* RFC 1071 §2(B): in the host's byte order, a word's two 16-bit halves are the host-order
	 * 16-bit words of the data; the sum of them is the sum of the data's words. Blocks only
	 * from VEC_MIN bytes: below, one block's setup and lane sums cost more than the 16-byte
	 * steps below (a 64 B datagram's 72 bytes: 127 -> 80 instructions, callgrind). */
	while (vec && len >= 64) {
		uint32_t nb = len / 64 < BLOCKS_PER_FLUSH ? len / 64 : BLOCKS_PER_FLUSH;
		v4u lo = { 0 }, hi = { 0 };

		len -= nb * 64;
		while (nb--) {
			v4u v0, v1, v2, v3;

			memcpy(&v0, p, 16);
			memcpy(&v1, p + 16, 16);
			memcpy(&v2, p + 32, 16);
			memcpy(&v3, p + 48, 16);
			if (copy) {
				memcpy(d, &v0, 16);
				memcpy(d + 16, &v1, 16);
				memcpy(d + 32, &v2, 16);
				memcpy(d + 48, &v3, 16);
				d += 64;
			}
			lo += ((v0 & m) + (v1 & m)) + ((v2 & m) + (v3 & m));
			hi += ((v0 >> 16) + (v1 >> 16)) + ((v2 >> 16) + (v3 >> 16));
			p += 64;
		}
		s = add_ac(s, lanes(lo));
		s = add_ac(s, lanes(hi));
	}
	/* below a block (and all of a short datagram or header): a copy stores each word it
	 * loaded for the sum, no memcpy() call (a 64 B datagram's payload: 8 stores) */
#ifdef HAVE_ADD4_AC
	while (len >= 32) {
		s = add4_ac(s, p);
		if (copy) {
			memcpy(d, p, 32);
			d += 32;
		}
		p += 32;
		len -= 32;
	}
#endif
	/* 64-bit words, two a step, each carry added back at once (add_ac: an add and an add
	 * with carry on x86-64) */
	while (len >= 16) {
		uint64_t b;

		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		if (copy) {
			memcpy(d, &a, 8);
			memcpy(d + 8, &b, 8);
			d += 16;
		}
		s = add_ac(s, a);
		s = add_ac(s, b);
		p += 16;
		len -= 16;
	}
	if (len >= 8) {
		memcpy(&a, p, 8);
		if (copy) {
			memcpy(d, &a, 8);
			d += 8;
		}
		s = add_ac(s, a);
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		if (copy) {
			memcpy(d, &w, 4);
			d += 4;
		}
		s = add_ac(s, w);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		if (copy) {
			memcpy(d, &w, 2);
			d += 2;
		}
		s = add_ac(s, w);
		p += 2;
		len -= 2;
	}
	if (len) {
		/* the odd byte is the first byte of a word whose second byte is zero (§4.1) */
		uint8_t last[2] = { p[0], 0 };
		uint16_t w;
		if (copy)
			d[0] = p[0];
		memcpy(&w, last, 2);
		s = add_ac(s, w);
	}
	/* fold 64 -> 32 -> 16 bits: the 16-bit ones' complement sum is the same (§2(B)) */
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	return hxs_csum_fold32((uint32_t)s);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* The same block loop on 32-byte vectors, for CPUs with AVX2 (chosen at run time): half the
 * instructions per byte of the 16-byte loop. What is left below a block goes to sum_copy(). */
typedef uint32_t v8u __attribute__((vector_size(32)));

static __attribute__((target("avx2"))) uint32_t
sum_copy_avx2(uint32_t sum, uint8_t *d, const uint8_t *p, uint32_t len, int copy)
{
	const v8u m = { 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff };
	uint64_t s = sum;

	while (len >= 64) {
		/* a lane takes 2 halves of <= 0xffff a block: 8192 blocks stay below 2^30 */
		uint32_t nb = len / 64 < BLOCKS_PER_FLUSH ? len / 64 : BLOCKS_PER_FLUSH;
		v8u lo = { 0 }, hi = { 0 };

		len -= nb * 64;
		while (nb--) {
			v8u v0, v1;

			memcpy(&v0, p, 32);
			memcpy(&v1, p + 32, 32);
			if (copy) {
				memcpy(d, &v0, 32);
				memcpy(d + 32, &v1, 32);
				d += 64;
			}
			lo += (v0 & m) + (v1 & m);
			hi += (v0 >> 16) + (v1 >> 16);
			p += 64;
		}
		for (int i = 0; i < 8; i++)
			s += (uint64_t)lo[i] + hi[i];          /* < 2^34 a flush: no overflow */
	}
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return sum_copy((uint32_t)s, d, p, len, copy);
}

/* 1 when the CPU has AVX2 (asked once). Below AVX2_MIN bytes (headers, ACKs) the 16-byte loop
 * is as quick. */
#define AVX2_MIN 128
/* Relaxed atomics: two stacks of one process may ask first at once; both store the same
 * answer, and a race-free read keeps thread sanitizers quiet. */
static int avx2_state = -1;

static int avx2_ok(void)
{
	int st = __atomic_load_n(&avx2_state, __ATOMIC_RELAXED);

	if (st < 0) {
		__builtin_cpu_init();
		st = __builtin_cpu_supports("avx2") ? 1 : 0;
		__atomic_store_n(&avx2_state, st, __ATOMIC_RELAXED);
	}
	return st;
}

static void avx2_ok_force(int on)
{
	__atomic_store_n(&avx2_state, on, __ATOMIC_RELAXED);
}
#define WIDE(len) ((len) >= AVX2_MIN && avx2_ok())

int hxs_csum_wide(int on)
{
	int was = avx2_ok();

	if (on >= 0)
		avx2_ok_force(on && __builtin_cpu_supports("avx2"));
	return was;
}
#else
#define WIDE(len) 0
#define sum_copy_avx2 sum_copy

int hxs_csum_wide(int on)
{
	(void)on;
	return 0;
}
#endif

uint32_t hxs_csum_add(uint32_t sum, const void *data, uint32_t len)
{
	if (WIDE(len))
		return sum_copy_avx2(sum, NULL, data, len, 0);
	return sum_copy(sum, NULL, data, len, 0);
}

uint32_t hxs_csum_copy(uint32_t sum, void *dst, const void *src, uint32_t len)
{
	if (WIDE(len))
		return sum_copy_avx2(sum, dst, src, len, 1);
	return sum_copy(sum, dst, src, len, 1);
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
