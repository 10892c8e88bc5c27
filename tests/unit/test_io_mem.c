/* test_io_mem.c - the in-memory link backend against what xsk.c's AF_XDP sockets do: frames
 * conserved per endpoint, delivered in order and byte-exact only after flush, completions
 * that come back after the flush, bounded TX/RX rings (short tx_submit, rx_ring_full), the
 * fill ring (fill_empty), the eventfd that is readable exactly while frames wait, a wire on
 * another thread, and misuse that aborts. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* poll(2) on the endpoint's eventfd without waiting: 1 readable, 0 not. */
static int readable(struct hxs_io *io)
{
	struct pollfd p = { .fd = io->ops->poll_fd(io), .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void test_pair_order_and_conservation(void)
{
	struct hxs_io *a, *b;
	struct hxs_frame f[64];
	uint32_t next_rx = 0;

	t_case("pair: frames arrive in order, byte-exact, only after flush; fill ring is half the pool");
	CHECK_EQ(hxs_io_mem__pair(&a, &b, 32, 2048), 0);
	CHECK_EQ(a->frame_size, 2048);
	CHECK(a->flags & HXS_IO_F_RX_TO_TX);
	CHECK_EQ(a->ops->poll_fd(a), -1);   /* the first constructors: no fd, the caller turns */
	CHECK_EQ(stats(b).frames_rx_queued, 16);
	CHECK_EQ(stats(b).frames_free, 16);
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
		/* The completions come back later than the flush that sent them. */
		CHECK_EQ(stats(a).frames_tx_queued, 10);
		/* Receive in two bursts to check the FIFO across calls. */
		int got = b->ops->rx_burst(b, f, 4);
		CHECK_EQ(got, 4);
		got += b->ops->rx_burst(b, f + 4, 64);
		CHECK_EQ(got, 10);
		for (int i = 0; i < got; i++, next_rx++) {
			CHECK_EQ(f[i].len, 60 + next_rx % 1400);
			CHECK(stamped(f[i].data, f[i].len, next_rx), "frame %u", next_rx);
		}
		/* b refilled its fill ring from its free frames */
		struct hxs_io_stats sb = stats(b);
		CHECK_EQ(sb.frames_free, 32 - 16 - 10);
		CHECK_EQ(sb.frames_held, 10);
		CHECK_EQ(sb.frames_rx_queued, 16);
		b->ops->rx_release(b, f, got);
	}
	struct hxs_io_stats sa = stats(a), sb = stats(b);
	CHECK_EQ(sa.tx_frames, 200);
	CHECK_EQ(sb.rx_frames, 200);
	CHECK_EQ(sa.tx_wakeups, 20);
	CHECK_EQ(sa.frames_total, 32);
	CHECK_EQ(sa.frames_tx_queued, 10);
	CHECK_EQ(a->ops->flush(a), 0);      /* nothing to send: reaps the last completions */
	sa = stats(a);
	CHECK_EQ(sa.frames_tx_queued, 0);
	CHECK_EQ(sa.frames_free, 16);
	CHECK_EQ(sa.tx_wakeups, 20);
	CHECK_EQ(sb.frames_free, 16);
	CHECK_EQ(sb.rx_dropped, 0);
	a->ops->close(a);
	b->ops->close(b);
}

static void test_exhaustion(void)
{
	struct hxs_io *a, *b;
	struct hxs_frame f[16], g[16];

	t_case("pool exhaustion gives short counts; an empty fill ring drops and counts");
	CHECK_EQ(hxs_io_mem__pair(&a, &b, 8, 256), 0);
	/* 4 of a's 8 frames sit on its fill ring: 4 for the stack */
	CHECK_EQ(a->ops->tx_alloc(a, f, 3), 3);
	CHECK_EQ(a->ops->tx_alloc(a, g, 5), 1);
	CHECK_EQ(a->ops->tx_alloc(a, g + 1, 1), 0);
	CHECK_EQ(stats(a).frames_free, 0);
	a->ops->tx_free(a, g, 1);
	CHECK_EQ(stats(a).frames_free, 1);
	/* b's stack takes its 4 free frames: only the 4 on its fill ring can receive */
	CHECK_EQ(b->ops->tx_alloc(b, g, 6), 4);
	for (int i = 0; i < 3; i++) {
		f[i].len = 100;
		stamp(f[i].data, 100, (uint32_t)i);
	}
	CHECK_EQ(a->ops->tx_submit(a, f, 3), 3);
	CHECK_EQ(a->ops->flush(a), 3);
	CHECK_EQ(stats(a).frames_tx_queued, 3);    /* completions come later than the flush */
	CHECK_EQ(stats(a).frames_free, 1);
	CHECK_EQ(a->ops->tx_alloc(a, f, 1), 1);    /* enough free frames: nothing reaped */
	CHECK_EQ(stats(a).frames_tx_queued, 3);
	CHECK_EQ(a->ops->tx_alloc(a, f + 1, 2), 2);  /* short: the completions reaped first */
	CHECK_EQ(stats(a).frames_tx_queued, 0);
	CHECK_EQ(stats(a).frames_free, 1);
	a->ops->tx_free(a, f + 2, 1);
	f[0].len = f[1].len = 100;
	stamp(f[0].data, 100, 3);
	stamp(f[1].data, 100, 4);
	CHECK_EQ(a->ops->tx_submit(a, f, 2), 2);
	CHECK_EQ(a->ops->flush(a), 1);              /* b's fill ring had 1 left: the 5th is dropped */
	struct hxs_io_stats sb = stats(b);
	CHECK_EQ(sb.rx_dropped, 1);
	CHECK_EQ(sb.fill_empty, 1);
	CHECK_EQ(sb.rx_ring_full, 0);
	CHECK_EQ(sb.rx_frames, 4);
	CHECK_EQ(sb.frames_free, 0);
	CHECK_EQ(sb.frames_held, 4);
	struct hxs_frame r[8];
	CHECK_EQ(b->ops->rx_burst(b, r, 8), 4);
	for (int i = 0; i < 4; i++)
		CHECK(stamped(r[i].data, 100, (uint32_t)i), "frame %d", i);
	b->ops->rx_release(b, r, 4);
	b->ops->tx_free(b, g, 4);
	CHECK_EQ(stats(b).frames_free, 4);
	CHECK_EQ(stats(b).frames_rx_queued, 4);
	a->ops->close(a);
	b->ops->close(b);
}

static void test_tx_ring_bounded(void)
{
	struct hxs_io_mem_opts o = { .frames = 64, .frame_size = 256, .ring_size = 8, .no_poll_fd = 1 };
	struct hxs_io *a, *b;
	struct hxs_frame f[16];

	t_case("pair: a full TX ring takes a prefix (tx_ring_full), the rest stays the caller's");
	CHECK_EQ(hxs_io_mem__pair_opts(&a, &b, &o), 0);
	CHECK_EQ(a->ops->tx_alloc(a, f, 12), 12);
	for (int i = 0; i < 12; i++) {
		f[i].len = 64;
		stamp(f[i].data, 64, (uint32_t)i);
	}
	CHECK_EQ(a->ops->tx_submit(a, f, 12), 8);
	CHECK_EQ(stats(a).tx_ring_full, 1);
	CHECK_EQ(stats(a).frames_held, 4);
	CHECK_EQ(a->ops->tx_submit(a, f + 8, 4), 0);
	CHECK_EQ(stats(a).tx_ring_full, 2);
	CHECK_EQ(a->ops->flush(a), 8);
	CHECK_EQ(a->ops->tx_submit(a, f + 8, 4), 4);
	CHECK_EQ(stats(a).tx_ring_full, 2);
	CHECK_EQ(a->ops->flush(a), 0);      /* b's fill ring (8) is empty: dropped */
	CHECK_EQ(stats(b).fill_empty, 4);
	{
		struct hxs_frame r[16];
		int n = b->ops->rx_burst(b, r, 16);
		CHECK_EQ(n, 8);
		for (int i = 0; i < n; i++)
			CHECK(stamped(r[i].data, 64, (uint32_t)i));
		b->ops->rx_release(b, r, n);
	}
	a->ops->close(a);
	b->ops->close(b);
}

static void test_alone_wire(void)
{
	struct hxs_io_mem_opts o = { .frames = 32, .frame_size = 256, .ring_size = 4, .no_poll_fd = 1 };
	struct hxs_io *io;
	struct hxs_frame f[16];
	uint8_t out[256];

	t_case("alone: the wire holds flushed frames until taken; untaken frames hold the TX ring");
	CHECK_EQ(hxs_io_mem__open_opts(&io, &o), 0);
	CHECK_EQ(stats(io).frames_rx_queued, 4);           /* fill target: min(32 / 2, 4) */
	CHECK_EQ(io->ops->tx_alloc(io, f, 12), 12);
	for (int i = 0; i < 12; i++) {
		f[i].len = 70;
		stamp(f[i].data, 70, (uint32_t)i);
	}
	CHECK_EQ(io->ops->tx_submit(io, f, 12), 4);
	CHECK_EQ(hxs_io_mem__take(io, out, sizeof(out)), -EAGAIN);   /* not flushed yet */
	CHECK_EQ(io->ops->flush(io), 0);
	CHECK_EQ(io->ops->tx_submit(io, f + 4, 8), 4);
	/* 4 on the wire use every completion slot: the kick moves nothing */
	CHECK_EQ(io->ops->flush(io), 0);
	CHECK_EQ(io->ops->tx_submit(io, f + 8, 4), 0);
	CHECK_EQ(stats(io).tx_ring_full, 3);
	CHECK_EQ(stats(io).tx_frames, 4);
	CHECK_EQ(stats(io).frames_tx_queued, 8);
	CHECK_EQ(hxs_io_mem__take(io, out, 10), -ENOSPC);
	CHECK_EQ(hxs_io_mem__take(io, out, sizeof(out)), 70);
	CHECK(stamped(out, 70, 0));
	CHECK_EQ(stats(io).frames_tx_queued, 8);           /* completed, not reaped */
	CHECK_EQ(io->ops->flush(io), 0);                   /* reaps 1, moves 1 */
	CHECK_EQ(stats(io).tx_frames, 5);
	CHECK_EQ(stats(io).frames_tx_queued, 7);
	CHECK_EQ(io->ops->tx_submit(io, f + 8, 4), 1);
	for (uint32_t i = 1; i < 9; i++) {
		CHECK_EQ(hxs_io_mem__take(io, out, sizeof(out)), 70);
		CHECK(stamped(out, 70, i), "frame %u", i);
		io->ops->flush(io);
	}
	CHECK_EQ(hxs_io_mem__take(io, out, sizeof(out)), -EAGAIN);
	io->ops->tx_free(io, f + 9, 3);
	CHECK_EQ(stats(io).frames_tx_queued, 0);
	CHECK_EQ(stats(io).frames_held, 0);
	CHECK_EQ(stats(io).tx_frames, 9);
	CHECK_EQ(stats(io).tx_bytes, 9 * 70);
	io->ops->close(io);
}

static void test_inject_rx_rings(void)
{
	struct hxs_io_mem_opts o = { .frames = 16, .frame_size = 512, .ring_size = 4 };
	struct hxs_io *io;
	struct hxs_frame f[8];
	uint8_t buf[600], out[512];

	t_case("alone: inject fills the RX ring from the fill ring: fill_empty, rx_ring_full, EMSGSIZE");
	CHECK_EQ(hxs_io_mem__open_opts(&io, &o), 0);
	for (uint32_t i = 0; i < 5; i++) {
		stamp(buf, 64 + i, i);
		CHECK_EQ(hxs_io_mem__inject(io, buf, 64 + i), i < 4 ? 0 : -ENOBUFS);
	}
	CHECK_EQ(stats(io).fill_empty, 1);
	CHECK_EQ(stats(io).rx_dropped, 1);
	CHECK_EQ(io->ops->rx_burst(io, f, 1), 1);          /* refills 4 from the free frames */
	CHECK_EQ(hxs_io_mem__inject(io, buf, 64), 0);      /* RX ring: 4 of 4 again */
	CHECK_EQ(hxs_io_mem__inject(io, buf, 64), -ENOBUFS);
	CHECK_EQ(stats(io).rx_ring_full, 1);
	CHECK_EQ(stats(io).fill_empty, 1);
	CHECK_EQ(hxs_io_mem__inject(io, buf, 513), -EMSGSIZE);
	CHECK_EQ(stats(io).rx_dropped, 2);
	CHECK_EQ(stats(io).rx_frames, 5);
	CHECK_EQ(io->ops->rx_burst(io, f + 1, 8), 4);
	for (uint32_t i = 0; i < 4; i++) {
		CHECK_EQ(f[i].len, 64 + i);
		CHECK(stamped(f[i].data, f[i].len, i));
	}

	t_case("alone: a received frame sent back in place, from an offset in its frame");
	f[0].data += 10;
	f[0].len -= 10;
	f[0].data[0] ^= 0xff;
	CHECK_EQ(io->ops->tx_submit(io, f, 2), 2);
	io->ops->rx_release(io, f + 2, 3);
	CHECK_EQ(stats(io).frames_held, 0);
	CHECK_EQ(io->ops->flush(io), 0);
	CHECK_EQ(hxs_io_mem__take(io, out, sizeof(out)), 54);
	stamp(buf, 64, 0);
	buf[10] ^= 0xff;
	CHECK(memcmp(out, buf + 10, 54) == 0);
	CHECK_EQ(hxs_io_mem__take(io, out, sizeof(out)), 65);
	CHECK(stamped(out, 65, 1));
	CHECK_EQ(hxs_io_mem__take(io, out, sizeof(out)), -EAGAIN);
	io->ops->flush(io);
	CHECK_EQ(stats(io).frames_held, 0);
	CHECK_EQ(stats(io).frames_tx_queued, 0);
	CHECK_EQ(stats(io).frames_free + stats(io).frames_rx_queued, 16);
	io->ops->close(io);
}

static void test_poll_fd(void)
{
	struct hxs_io *a, *b;
	struct hxs_frame f[8];
	uint8_t buf[100] = { 1 };

	t_case("eventfd: readable exactly while frames wait on the RX ring");
	CHECK_EQ(hxs_io_mem__pair_opts(&a, &b, &(struct hxs_io_mem_opts){ .frames = 64, .frame_size = 512 }), 0);
	CHECK(a->ops->poll_fd(a) >= 0 && b->ops->poll_fd(b) >= 0 && a->ops->poll_fd(a) != b->ops->poll_fd(b));
	CHECK_EQ(readable(b), 0);
	CHECK_EQ(a->ops->tx_alloc(a, f, 2), 2);
	f[0].len = f[1].len = 60;
	CHECK_EQ(a->ops->tx_submit(a, f, 2), 2);
	CHECK_EQ(readable(b), 0);                  /* not before the kick */
	CHECK_EQ(a->ops->flush(a), 2);
	CHECK_EQ(readable(b), 1);
	CHECK_EQ(readable(a), 0);
	CHECK_EQ(b->ops->rx_burst(b, f, 1), 1);
	CHECK_EQ(readable(b), 1);                  /* one still waits */
	CHECK_EQ(b->ops->rx_burst(b, f + 1, 1), 1);
	CHECK_EQ(readable(b), 0);
	CHECK_EQ(b->ops->rx_burst(b, f + 2, 1), 0);
	CHECK_EQ(readable(b), 0);
	b->ops->rx_release(b, f, 2);
	CHECK_EQ(hxs_io_mem__inject(b, buf, sizeof(buf)), 0);
	CHECK_EQ(readable(b), 1);
	CHECK_EQ(b->ops->rx_burst(b, f, 8), 1);
	CHECK_EQ(readable(b), 0);
	b->ops->rx_release(b, f, 1);
	a->ops->close(a);
	b->ops->close(b);
}

/* --- a wire on another thread --------------------------------------------------------------- */

enum { WIRE_N = 20000 };

struct wire {
	struct hxs_io *io;
	uint32_t retries;       /* inject found no room and tried again */
	int bad;                /* take: frames out of order or corrupted */
	uint32_t taken;
};

static void *injector(void *arg)
{
	struct wire *w = arg;
	uint8_t buf[300];

	for (uint32_t i = 0; i < WIRE_N; i++) {
		uint32_t len = 60 + i % 200;
		stamp(buf, len, i);
		while (hxs_io_mem__inject(w->io, buf, len) == -ENOBUFS) {
			w->retries++;
			sched_yield();
		}
	}
	return NULL;
}

static void *taker(void *arg)
{
	struct wire *w = arg;
	uint8_t buf[300];

	while (w->taken < WIRE_N) {
		int n = hxs_io_mem__take(w->io, buf, sizeof(buf));
		if (n == -EAGAIN) {
			sched_yield();
			continue;
		}
		if (n != (int)(60 + w->taken % 200) || !stamped(buf, (uint32_t)n, w->taken))
			w->bad++;
		__atomic_store_n(&w->taken, w->taken + 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_wire_thread(void)
{
	struct hxs_io_mem_opts o = { .frames = 64, .frame_size = 512, .ring_size = 16 };
	struct wire w = { 0 };
	struct hxs_frame f[32];
	pthread_t th;
	uint32_t next = 0, sent = 0, timeouts = 0, lost = 0;

	t_case("wire thread injects 20000 frames; this thread sleeps on the eventfd: all in order, no lost wake-up");
	CHECK_EQ(hxs_io_mem__open_opts(&w.io, &o), 0);
	CHECK_EQ(pthread_create(&th, NULL, injector, &w), 0);
	while (next < WIRE_N && timeouts < 3) {
		int n = w.io->ops->rx_burst(w.io, f, 32);
		if (!n) {
			struct pollfd p = { .fd = w.io->ops->poll_fd(w.io), .events = POLLIN };
			/* a lost wake-up would leave frames waiting with the fd not readable */
			if (poll(&p, 1, 10000) == 0)
				timeouts++;
			continue;
		}
		for (int i = 0; i < n; i++, next++)
			lost += f[i].len != 60 + next % 200 || !stamped(f[i].data, f[i].len, next);
		w.io->ops->rx_release(w.io, f, n);
	}
	pthread_join(th, NULL);
	CHECK_EQ(timeouts, 0);
	CHECK_EQ(next, WIRE_N);
	CHECK_EQ(lost, 0);
	CHECK_EQ(stats(w.io).rx_frames, WIRE_N);
	CHECK_EQ(stats(w.io).rx_dropped + stats(w.io).rx_ring_full, w.retries);

	t_case("wire thread takes 20000 frames this thread sends: all in order, every frame completed");
	w.taken = 0;
	CHECK_EQ(pthread_create(&th, NULL, taker, &w), 0);
	/* until the wire took all: frames wait on the TX ring while the wire's are not taken */
	for (int spins = 0; __atomic_load_n(&w.taken, __ATOMIC_RELAXED) < WIRE_N && spins < 50000000; spins++) {
		int want = WIRE_N - sent < 32 ? (int)(WIRE_N - sent) : 32;
		int n = w.io->ops->tx_alloc(w.io, f, want), k;
		for (int i = 0; i < n; i++) {
			f[i].len = 60 + (sent + (uint32_t)i) % 200;
			stamp(f[i].data, f[i].len, sent + (uint32_t)i);
		}
		k = w.io->ops->tx_submit(w.io, f, n);
		w.io->ops->tx_free(w.io, f + k, n - k);
		sent += (uint32_t)k;
		w.io->ops->flush(w.io);
		if (!k)
			sched_yield();
	}
	pthread_join(th, NULL);
	w.io->ops->flush(w.io);
	CHECK_EQ(sent, WIRE_N);
	CHECK_EQ(w.taken, WIRE_N);
	CHECK_EQ(w.bad, 0);
	CHECK_EQ(stats(w.io).tx_frames, WIRE_N);
	CHECK_EQ(stats(w.io).frames_tx_queued, 0);
	CHECK_EQ(stats(w.io).frames_held, 0);
	w.io->ops->close(w.io);
}

/* Random mix of every operation; after each step total == free + queued + held. */
static void test_conservation_random(void)
{
	struct hxs_io_mem_opts o = { .frames = 48, .frame_size = 128, .ring_size = 16, .fill_target = 12 };
	struct hxs_io *a, *b;
	struct hxs_frame held_a[64], held_b[64], f[64];
	int nha = 0, nhb = 0;
	uint64_t seed = 12345;

	t_case("random operation mix conserves frames on both endpoints");
	CHECK_EQ(hxs_io_mem__pair_opts(&a, &b, &o), 0);
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
		case 1: { /* submit the last k held: what the ring takes leaves the held set */
			if (k > *nh)
				k = *nh;
			for (int i = 0; i < k; i++)
				h[*nh - k + i].len = 60;
			int n = io->ops->tx_submit(io, h + *nh - k, k);
			CHECK(n >= 0 && n <= k);
			memmove(h + *nh - k, h + *nh - k + n, (size_t)(k - n) * sizeof(h[0]));
			*nh -= n;
			break;
		}
		case 2: /* free the last k held */
			if (k > *nh)
				k = *nh;
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
		struct hxs_io_stats s = stats(io);
		if (s.frames_held != (uint64_t)*nh) {
			CHECK_EQ(s.frames_held, *nh);
			break;
		}
	}
	/* Drain: hand back everything held, flush both twice (send, then reap), receive all. */
	a->ops->tx_free(a, held_a, nha);
	b->ops->tx_free(b, held_b, nhb);
	for (int i = 0; i < 2; i++) {
		a->ops->flush(a);
		b->ops->flush(b);
	}
	int n;
	while ((n = a->ops->rx_burst(a, f, 64)) > 0)
		a->ops->rx_release(a, f, n);
	while ((n = b->ops->rx_burst(b, f, 64)) > 0)
		b->ops->rx_release(b, f, n);
	struct hxs_io_stats sa = stats(a), sb = stats(b);
	CHECK_EQ(sa.frames_free + sa.frames_rx_queued, 48);
	CHECK_EQ(sb.frames_free + sb.frames_rx_queued, 48);
	CHECK_EQ(sa.frames_rx_queued, 12);
	CHECK(sa.tx_frames > 1000, "%llu", (unsigned long long)sa.tx_frames);
	CHECK(sa.tx_ring_full > 0 && sb.fill_empty > 0, "ring full %llu, fill empty %llu",
	      (unsigned long long)sa.tx_ring_full, (unsigned long long)sb.fill_empty);
	CHECK_EQ(sa.tx_frames, sb.rx_frames + sb.rx_dropped + sb.rx_ring_full);
	CHECK_EQ(sb.tx_frames, sa.rx_frames + sa.rx_dropped + sa.rx_ring_full);
	a->ops->close(a);
	b->ops->close(b);
}

/* Runs fn in a child; 1 if it died of SIGABRT (what io_mem does on misuse). */
static int aborts(void (*fn)(void))
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		/* keep the child's abort message off the test's output */
		if (!freopen("/dev/null", "w", stderr))
			_exit(2);
		fn();
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 0;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void release_twice(void)
{
	struct hxs_io *io;
	struct hxs_frame f[1];

	hxs_io_mem__open(&io, 8, 256);
	hxs_io_mem__inject(io, "0123456789", 10);
	io->ops->rx_burst(io, f, 1);
	io->ops->rx_release(io, f, 1);
	io->ops->rx_release(io, f, 1);
}

static void submit_past_frame(void)
{
	struct hxs_io *io;
	struct hxs_frame f[1];

	hxs_io_mem__open(&io, 8, 256);
	io->ops->tx_alloc(io, f, 1);
	f[0].data += 200;
	f[0].len = 57;
	io->ops->tx_submit(io, f, 1);
}

static void test_misuse_and_args(void)
{
	struct hxs_io *io = NULL;

	t_case("misuse aborts: a frame released twice, data past the end of its frame");
	CHECK_EQ(aborts(release_twice), 1);
	CHECK_EQ(aborts(submit_past_frame), 1);

	t_case("invalid sizes are rejected");
	CHECK_EQ(hxs_io_mem__open(&io, 0, 2048), -EINVAL);
	CHECK_EQ(hxs_io_mem__open(&io, 8, 16), -EINVAL);
	CHECK_EQ(hxs_io_mem__open_opts(&io, &(struct hxs_io_mem_opts){ .ring_size = 100 }), -EINVAL);
	CHECK_EQ(hxs_io_mem__open_opts(&io, &(struct hxs_io_mem_opts){ .ring_size = 8, .fill_target = 9 }), -EINVAL);
	CHECK_EQ(hxs_io_mem__open_opts(&io, &(struct hxs_io_mem_opts){ .frames = 4, .fill_target = 5 }), -EINVAL);
	CHECK(io == NULL);

	t_case("defaults are xsk.c's: 4096 frames of 4096 bytes, 2048 on the fill ring, an fd");
	CHECK_EQ(hxs_io_mem__open_opts(&io, NULL), 0);
	CHECK_EQ(io->frame_size, 4096);
	CHECK_EQ(stats(io).frames_total, 4096);
	CHECK_EQ(stats(io).frames_rx_queued, 2048);
	CHECK(io->ops->poll_fd(io) >= 0);
	io->ops->close(io);
}

/* Multi-buffer (max_frags): as xsk.c with max_frame, a frame longer than one buffer travels
 * as a chain of buffers from the receiver's fill ring and comes out whole, in a slab. */
static void test_multibuf(void)
{
	struct hxs_io *a, *b, *io;
	struct hxs_frame f[16], g[16];
	static const uint32_t lens[4] = { 100, 2048, 2049, 6144 };
	const struct hxs_io_mem_opts o = { .frames = 32, .frame_size = 2048, .max_frags = 3,
					   .slabs = 4, .no_poll_fd = 1 };

	t_case("multi-buffer pair: frames of 1, 2 and 3 buffers arrive whole and byte-exact");
	CHECK_EQ(hxs_io_mem__pair_opts(&a, &b, &o), 0);
	CHECK_EQ(a->frame_size, 3 * 2048);
	CHECK(a->flags & HXS_IO_F_MULTIBUF);
	CHECK_EQ(stats(a).frames_total, 32 + 4);
	CHECK_EQ(stats(b).frames_rx_queued, 16);
	CHECK_EQ(a->ops->tx_alloc(a, f, 4), 4);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(f[i].cap, 6144);
		f[i].len = lens[i];
		stamp(f[i].data, f[i].len, 500 + (uint32_t)i);
	}
	CHECK_EQ(a->ops->tx_submit(a, f, 4), 4);
	CHECK_EQ(stats(a).tx_multibuf, 2);          /* 2049 and 6144 span more than a buffer */
	CHECK_EQ(a->ops->flush(a), 4);
	int n = b->ops->rx_burst(b, g, 16);
	CHECK_EQ(n, 4);
	for (int i = 0; i < n; i++) {
		CHECK_EQ(g[i].len, lens[i]);
		CHECK(stamped(g[i].data, g[i].len, 500 + (uint32_t)i), "frame %d", i);
		CHECK_EQ(g[i].cap, lens[i] > 2048 ? 6144 : 2048);
	}
	struct hxs_io_stats sb = stats(b);
	CHECK_EQ(sb.rx_multibuf, 2);
	CHECK_EQ(sb.rx_frames, 4);
	CHECK_EQ(sb.frames_held, 4);                /* two single buffers and two slabs */
	CHECK_EQ(sb.frames_rx_queued, 16);          /* refilled: 1 + 1 + 2 + 3 buffers taken */
	CHECK_EQ(sb.frames_free + sb.frames_rx_queued + sb.frames_held, 36);
	/* a gathered frame goes back out in place, as a chain again (a reaps its completions
	 * first: its four slabs are still out until then, and a chain needs one) */
	CHECK_EQ(a->ops->flush(a), 0);
	CHECK_EQ(stats(a).frames_tx_queued, 0);
	g[3].data += 10;
	g[3].len -= 10;
	CHECK_EQ(b->ops->tx_submit(b, &g[3], 1), 1);
	CHECK_EQ(b->ops->flush(b), 1);
	CHECK_EQ(a->ops->rx_burst(a, f, 16), 1);
	CHECK_EQ(f[0].len, 6134);
	CHECK_EQ(stats(a).rx_multibuf, 1);
	a->ops->rx_release(a, f, 1);
	b->ops->rx_release(b, g, 3);
	/* each buffer of a chain completes on its own; the slab is free after the last */
	CHECK_EQ(a->ops->flush(a), 0);
	CHECK_EQ(b->ops->flush(b), 0);
	CHECK_EQ(stats(a).frames_tx_queued, 0);
	CHECK_EQ(stats(b).frames_tx_queued, 0);
	CHECK_EQ(stats(a).frames_free + stats(a).frames_rx_queued, 36);
	CHECK_EQ(stats(b).frames_free + stats(b).frames_rx_queued, 36);

	t_case("multi-buffer: a receiver with no free slab drops the chain whole, the next frame arrives");
	CHECK_EQ(a->ops->tx_alloc(a, f, 4), 4);
	for (int i = 0; i < 4; i++) {
		f[i].len = 5000;
		stamp(f[i].data, f[i].len, 600 + (uint32_t)i);
	}
	CHECK_EQ(a->ops->tx_submit(a, f, 4), 4);
	CHECK_EQ(a->ops->flush(a), 4);
	CHECK_EQ(b->ops->rx_burst(b, g, 16), 4);    /* b now holds its 4 slabs */
	CHECK_EQ(a->ops->tx_alloc(a, f, 2), 2);     /* a's completions came back: slabs again */
	f[0].len = 5000;
	stamp(f[0].data, 5000, 700);
	f[1].len = 60;
	stamp(f[1].data, 60, 701);
	CHECK_EQ(a->ops->tx_submit(a, f, 2), 2);
	CHECK_EQ(a->ops->flush(a), 2);
	CHECK_EQ(b->ops->rx_burst(b, g + 4, 12), 1);
	CHECK_EQ(g[4].len, 60);
	CHECK(stamped(g[4].data, 60, 701));
	CHECK_EQ(stats(b).rx_multibuf_dropped, 1);
	b->ops->rx_release(b, g, 5);
	CHECK_EQ(stats(b).frames_free + stats(b).frames_rx_queued, 36);
	a->ops->flush(a);
	a->ops->close(a);
	b->ops->close(b);

	t_case("multi-buffer: TX ring counted in buffers; fill ring short of a chain; beyond max_frags");
	struct hxs_io_mem_opts o2 = o;
	o2.ring_size = 4;
	o2.fill_target = 2;
	CHECK_EQ(hxs_io_mem__open_opts(&io, &o2), 0);
	CHECK_EQ(io->ops->tx_alloc(io, f, 2), 2);
	f[0].len = f[1].len = 6144;
	CHECK_EQ(io->ops->tx_submit(io, f, 2), 1);  /* 3 entries taken, 3 more do not fit in 4 */
	CHECK_EQ(stats(io).tx_ring_full, 1);
	io->ops->tx_free(io, f + 1, 1);
	io->ops->flush(io);
	uint8_t buf[8192];
	CHECK_EQ(hxs_io_mem__take(io, buf, sizeof(buf)), 6144);
	memset(buf, 0x5a, sizeof(buf));
	CHECK_EQ(hxs_io_mem__inject(io, buf, 4097), -ENOBUFS);    /* 3 buffers, 2 on the fill ring */
	CHECK_EQ(stats(io).fill_empty, 1);
	CHECK_EQ(hxs_io_mem__inject(io, buf, 4096), 0);
	CHECK_EQ(io->ops->rx_burst(io, g, 16), 1);
	CHECK_EQ(g[0].len, 4096);
	io->ops->rx_release(io, g, 1);
	CHECK_EQ(hxs_io_mem__inject(io, buf, 6145), -EMSGSIZE);   /* 4 buffers > max_frags */
	CHECK_EQ(stats(io).rx_dropped, 2);
	io->ops->flush(io);
	CHECK_EQ(stats(io).frames_free + stats(io).frames_rx_queued, 36);
	io->ops->close(io);
	CHECK_EQ(hxs_io_mem__open_opts(&io, &(struct hxs_io_mem_opts){ .max_frags = 17 }), -EINVAL);

	t_case("no multi-buffer: a frame longer than one buffer is dropped (no XDP_USE_SG)");
	CHECK_EQ(hxs_io_mem__open(&io, 8, 2048), 0);
	CHECK(!(io->flags & HXS_IO_F_MULTIBUF));
	CHECK_EQ(hxs_io_mem__inject(io, buf, 2049), -EMSGSIZE);
	io->ops->close(io);
}

int main(void)
{
	test_pair_order_and_conservation();
	test_exhaustion();
	test_tx_ring_bounded();
	test_alone_wire();
	test_inject_rx_rings();
	test_poll_fd();
	test_wire_thread();
	test_conservation_random();
	test_misuse_and_args();
	test_multibuf();
	return t_done();
}
