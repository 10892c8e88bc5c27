/* test_tcp_pipe.c - RFC 6675 SetPipe(): the one-pass hxs_tcp_pipe() against the direct
 * per-chunk transcription of the RFC (IsLost() asked for every SMSS chunk of every hole),
 * kept here as the reference, on random scoreboards (also across the 2^32 wrap). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tcp/tcp_conn.h"

#define DUPTHRESH 3

static uint32_t ref_pipe(const struct hxs_tcp_conn *c)
{
	const struct hxs_sack_board *b = &c->sb;
	uint32_t pipe = 0, seq = c->snd_una;
	if (!b->n || !SEQ_LT(seq, b->high_sacked))
		return SEQ_DIFF(c->snd_max, c->snd_una);
	while (SEQ_LT(seq, b->high_sacked)) {
		uint32_t hs, hl;
		if (!hxs_sack__next_hole(b, seq, &hs, &hl))
			break;
		for (uint32_t s = hs; SEQ_LT(s, hs + hl);) {
			uint32_t l = SEQ_DIFF(hs + hl, s);
			if (l > c->mss)
				l = c->mss;
			if (!hxs_sack__is_lost(b, s, c->mss, DUPTHRESH))
				pipe += l;
			if (SEQ_LT(s, c->high_rxt))
				pipe += l;
			s += l;
		}
		seq = hs + hl;
	}
	if (SEQ_LT(b->high_sacked, c->snd_max))
		pipe += SEQ_DIFF(c->snd_max, b->high_sacked);
	return pipe;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
}

int main(void)
{
	static const uint32_t mss[] = { 1, 100, 536, 1000, 1448, 1460, 8960 };
	struct hxs_tcp_conn *c = calloc(1, sizeof(*c));
	int bad = 0, iters = 20000;
	uint64_t nonempty = 0;

	t_case("SetPipe one pass == per-chunk IsLost reference, 20k random scoreboards");
	for (int it = 0; it < iters && bad < 5; it++) {
		memset(c, 0, sizeof(*c));
		c->mss = mss[rnd(sizeof(mss) / sizeof(mss[0]))];
		/* a quarter of the runs straddle the 2^32 wrap */
		c->snd_una = rnd(4) ? rnd(UINT32_MAX) : 0u - rnd(64 * c->mss + 1);
		uint32_t win = 1 + rnd(rnd(2) ? 40 * c->mss : 1500 * c->mss);   /* up to ~2 MB of 1448 */
		c->snd_max = c->snd_una + win;
		hxs_sack__reset(&c->sb);
		int nblk = (int)rnd(50);
		for (int k = 0; k < nblk; k++) {
			struct hxs_sack_range r;
			uint32_t off = rnd(win), len = 1 + rnd(rnd(2) ? 3 * c->mss : win / 8 + 1);
			r.start = c->snd_una + off;
			r.end = r.start + (len < win - off ? len : win - off);
			hxs_sack__update(&c->sb, c->snd_una, &r, 1);
		}
		/* sometimes the cumulative ACK moves into the board */
		if (rnd(4) == 0) {
			uint32_t adv = rnd(win);
			c->snd_una += adv;
			hxs_sack__advance(&c->sb, c->snd_una);
		}
		switch (rnd(4)) {
		case 0: c->high_rxt = c->snd_una; break;
		case 1: c->high_rxt = c->snd_una - rnd(10000); break;
		default: c->high_rxt = c->snd_una + rnd(SEQ_DIFF(c->snd_max, c->snd_una) + 1); break;
		}
		nonempty += c->sb.n > 0;
		uint32_t want = ref_pipe(c), got = hxs_tcp_pipe(c);
		if (want != got) {
			bad++;
			CHECK_EQ(got, want);
			printf("#   una %u max %u mss %u high_rxt %u n %u\n", c->snd_una, c->snd_max, c->mss,
			       c->high_rxt, c->sb.n);
		}
	}
	CHECK(nonempty > (uint64_t)iters / 2, "only %llu boards had ranges", (unsigned long long)nonempty);
	free(c);
	return t_done();
}
