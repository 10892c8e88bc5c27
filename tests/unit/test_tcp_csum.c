/* test_tcp_csum.c - the core's inline short sum (tcp/tcp_csum.h hxs_tcp_sum_short) against the
 * plain big-endian word sum and against hxs_csum_add(), whose partial sums the core joins it
 * with: every length below HXS_TCP_SUM_SHORT at every alignment 0..7, random bytes and
 * all-0xff bytes (every add carries), with a starting sum of 0, of a pseudo-header and of
 * 0xffff; the unfolded IPv4 pseudo-header against hxs_csum_pseudo(); and a segment built as
 * hxs_tcp_csum_split() builds it verifies to 0. */
#include <arpa/inet.h>
#include <string.h>

#include "check.h"
#include "csum_ref.h"
#include "lib/csum.h"
#include "tcp/tcp_csum.h"

int main(void)
{
	static uint8_t buf[HXS_TCP_SUM_SHORT + 16];
	uint64_t x = 88172645463325252ull;
	uint32_t inits[3] = { 0, hxs_csum_pseudo(0x0100000au, 0x0200000au, 6, 96), 0xffff };
	int bad = 0, n = 0;

	for (int fill = 0; fill < 2; fill++) {
		t_case(fill ? "hxs_tcp_sum_short: all-0xff bytes, lengths 0..127, alignments 0..7, "
			      "three starting sums: the reference sum and hxs_csum_add's"
			    : "hxs_tcp_sum_short: random bytes, lengths 0..127, alignments 0..7, "
			      "three starting sums: the reference sum and hxs_csum_add's");
		for (size_t i = 0; i < sizeof(buf); i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			buf[i] = fill ? 0xff : (uint8_t)x;
		}
		for (int k = 0; k < 3; k++)
			for (uint32_t off = 0; off < 8; off++)
				for (uint32_t len = 0; len < HXS_TCP_SUM_SHORT; len++) {
					uint32_t s = hxs_tcp_sum_short(inits[k], buf + off, len);
					uint32_t init_be = ntohs((uint16_t)inits[k]);

					n++;
					if ((s > 0xffff || ntohs(hxs_csum_fold(s)) != csum_ref(buf + off, len, init_be) ||
					     hxs_csum_fold(s) != hxs_csum_fold(hxs_csum_add(inits[k], buf + off, len))) &&
					    bad++ < 5)
						CHECK(0, "init %u off %u len %u", inits[k], off, len);
				}
		CHECK_EQ(bad, 0);
	}
	CHECK_EQ(n, 2 * 3 * 8 * (int)HXS_TCP_SUM_SHORT);

	t_case("hxs_tcp_pseudo4 (unfolded) as the start of hxs_tcp_sum_short gives what "
	       "hxs_csum_pseudo + hxs_csum_add give: 2000 random address pairs and lengths, "
	       "and the all-ones addresses");
	bad = 0;
	for (int i = 0; i < 2001; i++) {
		uint32_t src, dst, len;

		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		src = i == 2000 ? 0xffffffffu : (uint32_t)x;
		dst = i == 2000 ? 0xffffffffu : (uint32_t)(x >> 32);
		len = i == 2000 ? HXS_TCP_SUM_SHORT - 1 : (uint32_t)(x >> 20) % HXS_TCP_SUM_SHORT;
		for (uint32_t k = 0; k < len; k++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			buf[k] = i == 2000 ? 0xff : (uint8_t)x;
		}
		if (hxs_csum_fold(hxs_tcp_sum_short(hxs_tcp_pseudo4(src, dst, len), buf, len)) !=
		    hxs_csum_fold(hxs_csum_add(hxs_csum_pseudo(src, dst, 6, len), buf, len)) && bad++ < 5)
			CHECK(0, "src %#x dst %#x len %u", src, dst, len);
	}
	CHECK_EQ(bad, 0);

	t_case("a 96-byte segment summed as the core sends it (header inline, payload inline, "
	       "joined) carries a checksum that verifies to 0");
	{
		uint8_t seg[96];
		uint32_t ps = hxs_csum_pseudo(0x0100000au, 0x0200000au, 6, sizeof(seg));
		uint64_t ps4 = hxs_tcp_pseudo4(0x0100000au, 0x0200000au, sizeof(seg));

		for (size_t i = 0; i < sizeof(seg); i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			seg[i] = (uint8_t)x;
		}
		seg[16] = seg[17] = 0;
		uint16_t cs = hxs_csum_fold(hxs_csum_join(hxs_tcp_sum_short(ps4, seg, 32),
							  hxs_tcp_sum_short(0, seg + 32, 64), 0));
		memcpy(seg + 16, &cs, 2);
		CHECK_EQ(hxs_csum_fold(hxs_csum_add(ps, seg, sizeof(seg))), 0);
		CHECK_EQ(hxs_csum_fold(hxs_tcp_sum_short(ps, seg, sizeof(seg))), 0);
	}
	return t_done();
}
