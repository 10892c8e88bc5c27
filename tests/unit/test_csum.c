/* test_csum.c - RFC 1071 checksum (csum.h) against the plain big-endian word sum, for every
 * length 0..300 at every alignment, all-0xff data (maximal carries), lengths past the vector
 * loops' lane flushes, the fused copy+sum (bytes, sum, nothing written beyond) and sums of
 * pieces joined at odd and even offsets; all of it with the 16-byte loop, then again with the
 * 32-byte one where the CPU has AVX2. */
#include <arpa/inet.h>
#include <string.h>

#include "check.h"
#include "csum_ref.h"
#include "lib/csum.h"

static void run_all(void)
{
	static uint8_t buf[4096 + 8];
	uint64_t x = 88172645463325252ull;
	int bad = 0;

	t_case("hxs_csum_add: every length 0..300 at alignments 0..7 equals the reference");
	for (size_t i = 0; i < sizeof(buf); i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
	for (uint32_t off = 0; off < 8; off++)
		for (uint32_t len = 0; len <= 300; len++)
			if (ntohs(hxs_csum_fold(hxs_csum_add(0, buf + off, len))) != csum_ref(buf + off, len, 0) &&
			    bad++ < 5)
				CHECK(0, "off %u len %u", off, len);

	t_case("hxs_csum_add: 4 KiB of 0xff (every add carries) and a zero-length sum");
	memset(buf, 0xff, sizeof(buf));
	CHECK_EQ(ntohs(hxs_csum_fold(hxs_csum_add(0, buf, 4096))), csum_ref(buf, 4096, 0));
	CHECK_EQ(ntohs(hxs_csum_fold(hxs_csum_add(0, buf + 1, 4095))), csum_ref(buf + 1, 4095, 0));
	CHECK_EQ(hxs_csum_fold(hxs_csum_add(0, buf, 0)), 0xffff);

	t_case("hxs_csum_add: lengths 301..4096 (step 7) at alignments 0..15 equal the reference");
	for (size_t i = 0; i < sizeof(buf); i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
	for (uint32_t off = 0; off < 16; off++)
		for (uint32_t len = 301; len + off <= 4096; len += 7)
			if (ntohs(hxs_csum_fold(hxs_csum_add(0, buf + off, len))) != csum_ref(buf + off, len, 0) &&
			    bad++ < 5)
				CHECK(0, "off %u len %u", off, len);
	CHECK_EQ(bad, 0);

	t_case("hxs_csum_add: 1 MiB + 13 of 0xff and of random bytes (several lane flushes)");
	{
		static uint8_t big[(1u << 20) + 16];
		uint32_t n = (1u << 20) + 13;

		memset(big, 0xff, sizeof(big));
		CHECK_EQ(ntohs(hxs_csum_fold(hxs_csum_add(0, big, n))), csum_ref(big, n, 0));
		CHECK_EQ(ntohs(hxs_csum_fold(hxs_csum_add(0xffff, big + 3, n))), csum_ref(big + 3, n, 0xffff));
		for (size_t i = 0; i < sizeof(big); i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			big[i] = (uint8_t)x;
		}
		CHECK_EQ(ntohs(hxs_csum_fold(hxs_csum_add(0, big + 1, n))), csum_ref(big + 1, n, 0));
	}

	t_case("hxs_csum_copy: every length 0..300 and 301..2100, source and destination alignments "
	       "0..15: same sum as hxs_csum_add, same bytes, nothing written outside");
	{
		static uint8_t dst[2200 + 64];
		uint32_t lens = 0;

		for (size_t i = 0; i < sizeof(buf); i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			buf[i] = (uint8_t)x;
		}
		for (uint32_t so = 0; so < 16; so++)
			for (uint32_t dof = 0; dof < 16; dof++)
				for (uint32_t len = 0; len <= 2100; len += len < 300 ? 1 : 13) {
					uint32_t sum = (so * 16 + dof + len) & 0xffff, got;

					memset(dst, 0xa5, sizeof(dst));
					got = hxs_csum_copy(sum, dst + 16 + dof, buf + so, len);
					lens++;
					if (got != hxs_csum_add(sum, buf + so, len) ||
					    ntohs(hxs_csum_fold(got)) != csum_ref(buf + so, len, ntohs((uint16_t)sum)) ||
					    memcmp(dst + 16 + dof, buf + so, len) != 0) {
						if (bad++ < 5)
							CHECK(0, "src %u dst %u len %u", so, dof, len);
						continue;
					}
					for (uint32_t i = 0; i < sizeof(dst); i++)
						if ((i < 16 + dof || i >= 16 + dof + len) && dst[i] != 0xa5) {
							if (bad++ < 5)
								CHECK(0, "byte %u written (src %u dst %u len %u)",
								      i, so, dof, len);
							break;
						}
				}
		CHECK_EQ(bad, 0);
		CHECK_EQ(lens, 16u * 16u * (301u + 138u));   /* 0..300, then 313..2094 step 13 */
	}

	t_case("hxs_csum_join: a buffer summed in two pieces split at every offset (odd ones "
	       "byte-swapped) equals the sum of the whole");
	for (uint32_t len = 0; len <= 200; len++)
		for (uint32_t cut = 0; cut <= len; cut++) {
			uint32_t a = hxs_csum_add(0x1234, buf + 5, cut);
			uint32_t b = hxs_csum_add(0, buf + 5 + cut, len - cut);

			if (hxs_csum_fold(hxs_csum_join(a, b, cut & 1)) !=
			    hxs_csum_fold(hxs_csum_add(0x1234, buf + 5, len)) && bad++ < 5)
				CHECK(0, "len %u cut %u", len, cut);
		}
	CHECK_EQ(bad, 0);

	t_case("hxs_csum_ip4hdr: 20 bytes at alignments 0..7, random and all-0xff, equals hxs_csum_add");
	for (uint32_t off = 0; off < 8; off++) {
		uint8_t h[28];

		for (int k = 0; k < 200; k++) {
			for (size_t i = 0; i < sizeof(h); i++) {
				x ^= x << 13; x ^= x >> 7; x ^= x << 17;
				h[i] = k == 0 ? 0xff : k == 1 ? 0 : (uint8_t)x;
			}
			if (hxs_csum_ip4hdr(h + off) != hxs_csum_add(0, h + off, 20) && bad++ < 5)
				CHECK(0, "off %u case %d", off, k);
		}
	}
	CHECK_EQ(bad, 0);

	t_case("chained: pseudo-header + header + data, and a packet with its checksum verifies to 0");
	uint8_t seg[64];
	for (int i = 0; i < 64; i++)
		seg[i] = (uint8_t)(i * 37 + 11);
	seg[16] = seg[17] = 0;
	uint32_t src = htonl(0x0a4d0001), dst = htonl(0x0a4d0002);
	uint32_t ps = hxs_csum_pseudo(src, dst, 6, 61);
	uint32_t ps_be = 0x0a4d + 0x0001 + 0x0a4d + 0x0002 + 6 + 61;
	uint16_t cs = hxs_csum_fold(hxs_csum_add(hxs_csum_add(ps, seg, 20), seg + 20, 41));
	CHECK_EQ(ntohs(cs), csum_ref(seg, 61, ps_be));
	memcpy(seg + 16, &cs, 2);
	CHECK_EQ(hxs_csum_fold(hxs_csum_add(ps, seg, 61)), 0);

	t_case("IPv4 pseudo-header (hxs_csum_pseudo, inline): the same value as the 12 bytes laid out and summed (hxs_csum_add), for addresses with every carry (0xffffffff), zero ones and others, protocols 0, 6, 17, 255, lengths 0..65535");
	{
		uint32_t as[] = { 0, 0xffffffffu, htonl(0x0a000002), htonl(0xfffe0001), htonl(0x8000ffff) };
		uint8_t protos[] = { 0, 6, 17, 255 };
		uint32_t lens[] = { 0, 8, 72, 0xfffe, 0xffff };
		uint8_t ph[12];
		int wrong = 0;

		for (unsigned i = 0; i < 5; i++)
			for (unsigned j = 0; j < 5; j++)
				for (unsigned k = 0; k < 4; k++)
					for (unsigned l = 0; l < 5; l++) {
						memcpy(ph, &as[i], 4);
						memcpy(ph + 4, &as[j], 4);
						ph[8] = 0;
						ph[9] = protos[k];
						ph[10] = (uint8_t)(lens[l] >> 8);
						ph[11] = (uint8_t)lens[l];
						if (hxs_csum_pseudo(as[i], as[j], protos[k], lens[l]) !=
						    hxs_csum_add(0, ph, 12) && wrong++ < 5)
							CHECK(0, "src %08x dst %08x proto %u len %u", as[i], as[j],
							      protos[k], lens[l]);
					}
		CHECK_EQ(wrong, 0);
	}

	t_case("IPv6 pseudo-header (RFC 8200 §8.1): 16-byte addresses, 32-bit length, next header");
	{
		uint8_t s6[16], d6[16], ph[40];
		uint32_t lens[] = { 0, 61, 65535, 70000 };   /* 70000: the length's upper 16 bits */

		for (int i = 0; i < 16; i++) {
			s6[i] = (uint8_t)(0xfd + i * 29);
			d6[i] = (uint8_t)(0x20 + i * 71);
		}
		for (unsigned k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
			uint32_t ps6 = hxs_csum_pseudo6(s6, d6, 17, lens[k]);
			uint32_t be_sum = 0;

			/* the reference: the 40-byte pseudo-header laid out and summed big-endian */
			memcpy(ph, s6, 16);
			memcpy(ph + 16, d6, 16);
			ph[32] = (uint8_t)(lens[k] >> 24); ph[33] = (uint8_t)(lens[k] >> 16);
			ph[34] = (uint8_t)(lens[k] >> 8); ph[35] = (uint8_t)lens[k];
			ph[36] = ph[37] = ph[38] = 0; ph[39] = 17;
			be_sum = (uint16_t)~csum_ref(ph, 40, 0);
			CHECK_EQ(ntohs(hxs_csum_fold(hxs_csum_add(ps6, seg, 61))), csum_ref(seg, 61, be_sum));
		}
	}
}

int main(void)
{
	int wide = hxs_csum_wide(-1);

	/* the 16-byte loop everywhere, then (where the CPU has AVX2) the 32-byte loop from
	 * AVX2_MIN bytes on */
	hxs_csum_wide(0);
	CHECK_EQ(hxs_csum_wide(-1), 0);
	run_all();
	if (wide) {
		hxs_csum_wide(1);
		CHECK_EQ(hxs_csum_wide(-1), 1);
		run_all();
	}
	return t_done();
}
