/* test_tcp_sack.c - the SACK scoreboard: merging, wrap-around, bounds, RFC 6675 queries. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "tcp/tcp_sack.h"
/* check.h's CHECK(cond) without a message expands to an empty format string */

static uint32_t upd(struct hxs_sack_board *b, uint32_t una, uint32_t s, uint32_t e)
{
	struct hxs_sack_range r = { s, e };
	return hxs_sack__update(b, una, &r, 1);
}

static void test_merge(uint32_t base, const char *name)
{
	struct hxs_sack_board b;
	uint32_t hs = 0, hl = 0;

	t_case(name);
	hxs_sack__reset(&b);
	CHECK_EQ(upd(&b, base, base + 3000, base + 4000), 1000);
	CHECK_EQ(upd(&b, base, base + 1000, base + 2000), 1000);   /* below: sorted first */
	CHECK_EQ(b.n, 2);
	CHECK_EQ(b.r[0].start, base + 1000);
	CHECK_EQ(b.r[1].start, base + 3000);
	CHECK_EQ(upd(&b, base, base + 3500, base + 4500), 500);    /* overlap: only new bytes */
	CHECK_EQ(upd(&b, base, base + 3000, base + 4500), 0);      /* duplicate report */
	CHECK_EQ(upd(&b, base, base + 2000, base + 3000), 1000);   /* fills the gap: one range */
	CHECK_EQ(b.n, 1);
	CHECK_EQ(b.r[0].start, base + 1000);
	CHECK_EQ(b.r[0].end, base + 4500);
	CHECK_EQ(b.sacked_bytes, 3500);
	CHECK_EQ(b.high_sacked, base + 4500);
	CHECK_EQ(upd(&b, base, base + 6000, base + 7000), 1000);
	CHECK_EQ(upd(&b, base, base + 500, base + 8000), 3000);    /* swallows both */
	CHECK_EQ(b.n, 1);
	CHECK_EQ(b.sacked_bytes, 7500);
	CHECK(hxs_sack__all(&b, base + 500, 7500));
	CHECK(!hxs_sack__all(&b, base + 499, 2));
	CHECK(hxs_sack__any(&b, base + 499, 2));
	CHECK(!hxs_sack__any(&b, base, 500));
	CHECK(hxs_sack__next_hole(&b, base, &hs, &hl));
	CHECK_EQ(hs, base);
	CHECK_EQ(hl, 500);
	CHECK(!hxs_sack__next_hole(&b, base + 500, &hs, &hl));
	/* cumulative ACK into the middle of the range trims it */
	hxs_sack__advance(&b, base + 1000);
	CHECK_EQ(b.n, 1);
	CHECK_EQ(b.r[0].start, base + 1000);
	CHECK_EQ(b.sacked_bytes, 7000);
	/* a D-SACK below snd_una is ignored; a block straddling it is clipped */
	CHECK_EQ(upd(&b, base + 1000, base + 100, base + 900), 0);
	CHECK_EQ(b.sacked_bytes, 7000);
	hxs_sack__advance(&b, base + 8000);
	CHECK_EQ(b.n, 0);
	CHECK_EQ(b.sacked_bytes, 0);
	CHECK_EQ(upd(&b, base + 8000, base + 7000, base + 9000), 1000);
	CHECK_EQ(b.r[0].start, base + 8000);
}

static void test_bounded(void)
{
	struct hxs_sack_board b;
	uint32_t i, sum = 0, una = 0xfffff000u;

	t_case("bounded: 100 disjoint blocks keep the 32 lowest, bytes and high_sacked consistent");
	hxs_sack__reset(&b);
	for (i = 0; i < 100; i++)            /* from the top down: each new block is lower */
		upd(&b, una, una + (100 - i) * 2000, una + (100 - i) * 2000 + 1000);
	CHECK_EQ(b.n, HXS_SACK_MAX_RANGES);
	for (i = 0; i < b.n; i++) {
		CHECK_EQ(b.r[i].start, una + (i + 1) * 2000);
		sum += b.r[i].end - b.r[i].start;
	}
	CHECK_EQ(b.sacked_bytes, sum);
	CHECK_EQ(b.high_sacked, b.r[b.n - 1].end);
	/* a block above everything is forgotten when full */
	CHECK_EQ(upd(&b, una, una + 500000, una + 501000), 0);
	CHECK_EQ(b.n, HXS_SACK_MAX_RANGES);
	/* a block joining two ranges frees a slot */
	CHECK_EQ(upd(&b, una, una + 3000, una + 4000), 1000);
	CHECK_EQ(b.n, HXS_SACK_MAX_RANGES - 1);
}

static void test_islost(void)
{
	struct hxs_sack_board b;
	uint32_t una = 4294966000u, mss = 1000, hs, hl;

	t_case("IsLost (RFC 6675 §4): > (DupThresh-1)*SMSS bytes above, or DupThresh ranges above");
	hxs_sack__reset(&b);
	upd(&b, una, una + 1000, una + 3000);           /* 2 segments above una */
	CHECK(!hxs_sack__is_lost(&b, una, mss, 3));
	CHECK_EQ(hxs_sack__bytes_above(&b, una), 2000);
	upd(&b, una, una + 3000, una + 3001);           /* one byte more: 2001 > 2000 */
	CHECK(hxs_sack__is_lost(&b, una, mss, 3));
	CHECK(!hxs_sack__is_lost(&b, una + 1000, mss, 3));   /* SACKed itself: 2000 above 1000 */
	hxs_sack__reset(&b);
	upd(&b, una, una + 1000, una + 1100);           /* three small discontiguous blocks */
	upd(&b, una, una + 2000, una + 2100);
	CHECK(!hxs_sack__is_lost(&b, una, mss, 3));
	upd(&b, una, una + 3000, una + 3100);
	CHECK(hxs_sack__is_lost(&b, una, mss, 3));
	CHECK(!hxs_sack__is_lost(&b, una + 1500, mss, 3));
	CHECK_EQ(hxs_sack__bytes_above(&b, una + 1050), 49 + 100 + 100);

	t_case("next_hole walks the holes below high_sacked, across the 2^32 wrap");
	CHECK(hxs_sack__next_hole(&b, una, &hs, &hl));
	CHECK_EQ(hs, una);
	CHECK_EQ(hl, 1000);
	CHECK(hxs_sack__next_hole(&b, una + 1000, &hs, &hl));
	CHECK_EQ(hs, una + 1100);
	CHECK_EQ(hl, 900);
	CHECK(hxs_sack__next_hole(&b, una + 2050, &hs, &hl));
	CHECK_EQ(hs, una + 2100);
	CHECK_EQ(hl, 900);
	CHECK(!hxs_sack__next_hole(&b, una + 3000, &hs, &hl));
	/* The board crossed 2^32 (una = 2^32 - 1296): its ranges are [2^32 - 296, 2^32 - 196),
	 * [704, 804), [1704, 1804), kept in sequence order although the first is numerically
	 * the largest; a board sorted or bounded by plain integers fails here. */
	CHECK_EQ(b.n, 3);
	CHECK_EQ(b.r[0].start, 4294967000u);
	CHECK_EQ(b.r[1].start, 704u);
	CHECK_EQ(b.r[2].end, 1804u);
	CHECK_EQ(b.high_sacked, 1804u);
	CHECK_EQ(hxs_sack__bytes_above(&b, una), 300);
}

/* random blocks on a 40-segment grid (at most 20 ranges: never full) vs a byte bitmap */
static uint64_t rs = 99;
static uint32_t rnd(void)
{
	rs = rs * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rs >> 33);
}

static void test_random(void)
{
	enum { SEG = 100, NSEG = 40, W = SEG * NSEG };
	static uint8_t bm[W];
	struct hxs_sack_board b;
	uint32_t una0 = 0xffffff00u, una = una0;
	long bad = 0, iter;

	t_case("random blocks and ACKs against a byte bitmap: bytes, any/all, bytes_above, holes");
	hxs_sack__reset(&b);
	memset(bm, 0, sizeof(bm));
	for (iter = 0; iter < 20000; iter++) {
		uint32_t off = una - una0, s, e, i, ref = 0, added, before = 0;
		struct hxs_sack_range blk[3];
		int k, nb = 1 + (int)(rnd() % 3);

		if (off >= W - SEG) {            /* restart the window */
			hxs_sack__reset(&b);
			memset(bm, 0, sizeof(bm));
			una = una0 = una0 + 12345;
			off = 0;
		}
		for (i = off; i < W; i++)
			before += bm[i];
		for (k = 0; k < nb; k++) {
			s = (rnd() % NSEG) * SEG;
			e = s + (1 + rnd() % 3) * SEG;
			if (e > W)
				e = W;
			blk[k].start = una0 + s;
			blk[k].end = una0 + e;
			for (i = (s > off ? s : off); i < e; i++)
				bm[i] = 1;
		}
		added = hxs_sack__update(&b, una, blk, nb);
		for (i = off; i < W; i++)
			ref += bm[i];
		if (added != ref - before)
			bad++;           /* update() returns exactly the newly SACKed bytes */
		ref = 0;
		if (rnd() % 4 == 0) {
			uint32_t adv = (rnd() % 3) * SEG;
			if (off + adv < W - SEG)
				una += adv;
			hxs_sack__advance(&b, una);
		}
		off = una - una0;
		for (i = off; i < W; i++)
			ref += bm[i];
		if (b.sacked_bytes != ref)
			bad++;
		/* queries at a few random points */
		for (k = 0; k < 4; k++) {
			uint32_t q = off + rnd() % (W - off), len = 1 + rnd() % 300, anyr = 0, allr = 1, above = 0;
			uint32_t hs = 0, hl = 0, rh = 0, rl = 0, hi = 0;
			int got, want = 0;

			if (q + len > W)
				len = W - q;
			for (i = q; i < q + len; i++) {
				anyr |= bm[i];
				allr &= bm[i];
			}
			for (i = q + 1; i < W; i++)
				above += bm[i];
			if (hxs_sack__any(&b, una0 + q, len) != (int)anyr)
				bad++;
			if (hxs_sack__all(&b, una0 + q, len) != (int)allr)
				bad++;
			if (hxs_sack__bytes_above(&b, una0 + q) != above)
				bad++;
			for (i = W; i > off; i--)
				if (bm[i - 1]) {
					hi = i;
					break;
				}
			for (i = q; i < hi; i++)
				if (!bm[i]) {
					rh = i;
					while (i < hi && !bm[i])
						i++;
					rl = i - rh;
					want = 1;
					break;
				}
			got = hxs_sack__next_hole(&b, una0 + q, &hs, &hl);
			if (got != want || (want && (hs != una0 + rh || hl != rl)))
				bad++;
		}
	}
	CHECK_EQ(bad, 0);
}

int main(void)
{
	test_merge(1000, "merge, overlap, adjacency, trim at snd_una, D-SACK ignored");
	test_merge(0xfffffc00u, "the same across the 2^32 wrap-around");
	test_bounded();
	test_islost();
	test_random();
	return t_done();
}
