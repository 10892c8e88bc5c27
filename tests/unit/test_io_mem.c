/* test_io_mem.c - the in-memory link backend: conservation of frames, pool exhaustion,
 * inject/take, pair delivery order, rx-to-tx reuse. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

/* check.h's CHECK(cond) without a message passes "" as the format. */
#include "check.h"
#include "io/io.h"

static struct hxs_io_stats stats(struct hxs_io *io)
{
	struct hxs_io_stats st;
	io->ops->get_stats(io, &st);
	return st;
}

/* Writes a recognisable frame of len bytes: first 4 bytes the sequence number. */
static void stamp(uint8_t *p, uint32_t len, uint32_t seq)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seq * 31 + i);
	if (len >= 4)
		memcpy(p, &seq, 4);
}

static int stamped(const uint8_t *p, uint32_t len, uint32_t seq)
{
	uint32_t s;
	if (len >= 4) {
		memcpy(&s, p, 4);
		if (s != seq)
			return 0;
	}
	for (uint32_t i = 4; i < len; i++)
		if (p[i] != (uint8_t)(seq * 31 + i))
			return 0;
	return 1;
}

static void test_pair_order_and_conservation(void)
{
	struct hxs_io *a, *b;
	struct hxs_frame f[64];
	uint32_t next_rx = 0;

	t_case("pair: frames arrive in order, byte-exact, only after flush");
	CHECK_EQ(hxs_io_mem__pair(&a, &b, 32, 2048), 0);
	CHECK_EQ(a->frame_size, 2048);
	CHECK(a->flags & HXS_IO_F_RX_TO_TX);
	for (uint32_t round = 0; round < 20; round++) {
		int n = a->ops->tx_alloc(a, f, 10);
		CHECK_EQ(n, 10);
		for (int i = 0; i < n; i++) {
			f[i].len = 60 + (round * 10 + i) % 1400;
			CHECK(f[i].cap == 2048);
			stamp(f[i].data, f[i].len, round * 10 + i);
		}
		CHECK_EQ(a->ops->tx_submit(a, f, n), n);
		/* Nothing crosses before the kick. */
		CHECK_EQ(b->ops->rx_burst(b, f, 64), 0);
		CHECK_EQ(a->ops->flush(a), n);
		/* Receive in two bursts to check the FIFO across calls. */
		int got = b->ops->rx_burst(b, f, 4);
		CHECK_EQ(got, 4);
		got += b->ops->rx_burst(b, f + 4, 64);
		CHECK_EQ(got, 10);
		for (int i = 0; i < got; i++, next_rx++) {
			CHECK_EQ(f[i].len, 60 + next_rx % 1400);
			CHECK(stamped(f[i].data, f[i].len, next_rx), "frame %u", next_rx);
		}
		struct hxs_io_stats sb = stats(b);
		CHECK_EQ(sb.frames_free, 32 - 10);
		CHECK_EQ(sb.frames_held, 10);
		CHECK_EQ(sb.frames_rx_queued, 0);
		b->ops->rx_release(b, f, got);
	}
	struct hxs_io_stats sa = stats(a), sb = stats(b);
	CHECK_EQ(sa.tx_frames, 200);
	CHECK_EQ(sb.rx_frames, 200);
	CHECK_EQ(sa.tx_wakeups, 20);
	CHECK_EQ(sa.frames_total, 32);
	CHECK_EQ(sa.frames_free, 32);
	CHECK_EQ(sb.frames_free, 32);
	CHECK_EQ(sb.rx_dropped, 0);
	a->ops->close(a);
	b->ops->close(b);
}

static void test_exhaustion(void)
{
	struct hxs_io *a, *b;
	struct hxs_frame f[16], g[16];

	t_case("pool exhaustion gives short counts, receiver overflow drops and counts");
	CHECK_EQ(hxs_io_mem__pair(&a, &b, 8, 256), 0);
	CHECK_EQ(a->ops->tx_alloc(a, f, 5), 5);
	CHECK_EQ(a->ops->tx_alloc(a, g, 5), 3);
	CHECK_EQ(a->ops->tx_alloc(a, g + 3, 1), 0);
	CHECK_EQ(stats(a).frames_free, 0);
	a->ops->tx_free(a, g, 3);
	CHECK_EQ(stats(a).frames_free, 3);
	/* b holds 6 of its 8 frames in the stack, so 2 of 5 fit. */
	CHECK_EQ(b->ops->tx_alloc(b, g, 6), 6);
	for (int i = 0; i < 5; i++) {
		f[i].len = 100;
		stamp(f[i].data, 100, i);
	}
	CHECK_EQ(a->ops->tx_submit(a, f, 5), 5);
	CHECK_EQ(a->ops->flush(a), 2);
	struct hxs_io_stats sb = stats(b);
	CHECK_EQ(sb.rx_dropped, 3);
	CHECK_EQ(sb.fill_empty, 3);
	CHECK_EQ(sb.frames_free, 0);
	CHECK_EQ(stats(a).frames_free, 8);
	struct hxs_frame r[8];
	CHECK_EQ(b->ops->rx_burst(b, r, 8), 2);
	CHECK(stamped(r[0].data, 100, 0) && stamped(r[1].data, 100, 1));
	b->ops->rx_release(b, r, 2);
	b->ops->tx_free(b, g, 6);
	CHECK_EQ(stats(b).frames_free, 8);
	a->ops->close(a);
	b->ops->close(b);
}

static void test_inject_take(void)
{
	struct hxs_io *io;
	struct hxs_frame f[8];
	uint8_t buf[512], out[512];

	t_case("single endpoint: inject -> rx_burst, tx -> flush -> take, rx frame reused for tx");
	CHECK_EQ(hxs_io_mem__open(&io, 4, 512), 0);
	CHECK_EQ(hxs_io_mem__take(io, out, sizeof(out)), -EAGAIN);
	for (uint32_t i = 0; i < 5; i++) {
		stamp(buf, 64 + i, i);
		int rc = hxs_io_mem__inject(io, buf, 64 + i);
		CHECK_EQ(rc, i < 4 ? 0 : -ENOBUFS);
	}
	CHECK_EQ(hxs_io_mem__inject(io, buf, 513), -EMSGSIZE);
	CHECK_EQ(stats(io).rx_dropped, 1);
	CHECK_EQ(io->ops->rx_burst(io, f, 8), 4);
	for (uint32_t i = 0; i < 4; i++) {
		CHECK_EQ(f[i].len, 64 + i);
		CHECK(stamped(f[i].data, f[i].len, i));
	}
	/* Echo two of them in place (HXS_IO_F_RX_TO_TX), release the others. */
	f[0].data[4] ^= 0xff;
	CHECK_EQ(io->ops->tx_submit(io, f, 2), 2);
	io->ops->rx_release(io, f + 2, 2);
	CHECK_EQ(stats(io).frames_free, 2);
	CHECK_EQ(stats(io).frames_tx_queued, 2);
	CHECK_EQ(stats(io).frames_held, 0);
	CHECK_EQ(hxs_io_mem__take(io, out, sizeof(out)), -EAGAIN);   /* not flushed yet */
	CHECK_EQ(io->ops->flush(io), 0);
	CHECK_EQ(hxs_io_mem__take(io, out, 10), -ENOSPC);
	CHECK_EQ(hxs_io_mem__take(io, out, sizeof(out)), 64);
	stamp(buf, 64, 0);
	buf[4] ^= 0xff;
	CHECK(memcmp(out, buf, 64) == 0);
	CHECK_EQ(hxs_io_mem__take(io, out, sizeof(out)), 65);
	CHECK(stamped(out, 65, 1));
	CHECK_EQ(hxs_io_mem__take(io, out, sizeof(out)), -EAGAIN);
	struct hxs_io_stats st = stats(io);
	CHECK_EQ(st.frames_free, 4);
	CHECK_EQ(st.tx_frames, 2);
	CHECK_EQ(st.tx_bytes, 129);
	CHECK_EQ(st.rx_frames, 4);
	CHECK_EQ(io->ops->poll_fd(io), -1);
	io->ops->close(io);
}

/* Random mix of every operation; after each step total == free + queued + held. */
static void test_conservation_random(void)
{
	struct hxs_io *a, *b;
	struct hxs_frame held_a[64], held_b[64], f[64];
	int nha = 0, nhb = 0;
	uint64_t seed = 12345;

	t_case("random operation mix conserves frames on both endpoints");
	CHECK_EQ(hxs_io_mem__pair(&a, &b, 48, 128), 0);
	for (int step = 0; step < 20000; step++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		unsigned r = (unsigned)(seed >> 33);
		int side = r & 1, op = (r >> 1) % 6, k = (int)((r >> 4) % 9);
		struct hxs_io *io = side ? b : a;
		struct hxs_frame *h = side ? held_b : held_a;
		int *nh = side ? &nhb : &nha;
		switch (op) {
		case 0: /* alloc */
			if (k > 64 - *nh)
				k = 64 - *nh;
			*nh += io->ops->tx_alloc(io, h + *nh, k);
			break;
		case 1: /* submit the last k held */
		case 2: /* free the last k held */
			if (k > *nh)
				k = *nh;
			for (int i = 0; i < k; i++)
				h[*nh - k + i].len = 60;
			if (op == 1)
				CHECK_EQ(io->ops->tx_submit(io, h + *nh - k, k), k);
			else
				io->ops->tx_free(io, h + *nh - k, k);
			*nh -= k;
			break;
		case 3:
			io->ops->flush(io);
			break;
		case 4: { /* receive and hold */
			if (k > 64 - *nh)
				k = 64 - *nh;
			int n = io->ops->rx_burst(io, f, k);
			memcpy(h + *nh, f, (size_t)n * sizeof(f[0]));
			*nh += n;
			break;
		}
		case 5: /* release the first k held (in a different order than received) */
			if (k > *nh)
				k = *nh;
			io->ops->rx_release(io, h, k);
			memmove(h, h + k, (size_t)(*nh - k) * sizeof(h[0]));
			*nh -= k;
			break;
		}
	}
	/* Drain: flush both, receive everything, hand back everything held. */
	a->ops->flush(a);
	b->ops->flush(b);
	a->ops->tx_free(a, held_a, nha);
	b->ops->tx_free(b, held_b, nhb);
	int n;
	while ((n = a->ops->rx_burst(a, f, 64)) > 0)
		a->ops->rx_release(a, f, n);
	while ((n = b->ops->rx_burst(b, f, 64)) > 0)
		b->ops->rx_release(b, f, n);
	struct hxs_io_stats sa = stats(a), sb = stats(b);
	CHECK_EQ(sa.frames_free, 48);
	CHECK_EQ(sb.frames_free, 48);
	CHECK(sa.tx_frames > 1000, "%llu", (unsigned long long)sa.tx_frames);
	CHECK_EQ(sa.tx_frames, sb.rx_frames + sb.rx_dropped);
	CHECK_EQ(sb.tx_frames, sa.rx_frames + sa.rx_dropped);
	a->ops->close(a);
	b->ops->close(b);
}

static void test_bad_args(void)
{
	struct hxs_io *io = NULL;

	t_case("invalid sizes are rejected");
	CHECK_EQ(hxs_io_mem__open(&io, 0, 2048), -EINVAL);
	CHECK_EQ(hxs_io_mem__open(&io, 8, 16), -EINVAL);
	CHECK(io == NULL);
}

int main(void)
{
	test_pair_order_and_conservation();
	test_exhaustion();
	test_inject_take();
	test_conservation_random();
	test_bad_args();
	return t_done();
}
