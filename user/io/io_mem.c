/* io_mem.c - the in-memory link backend of io.h, for unit tests and the TCP simulation.
 *
 *   hxs_io_mem__pair(&a, &b) / hxs_io_mem__open(&io)     one fixed pool of frames per endpoint
 *   tx_alloc() -> tx_submit() -> flush() -> deliver()     pair: copied into the peer's pool,
 *                                                         queued on its RX FIFO
 *                                                         single: kept until hxs_io_mem__take()
 *   hxs_io_mem__inject() -> rx_burst() -> rx_release()    frames "from the wire"
 *   hxs_io_mem__take()                                    next flushed frame: its length, -EAGAIN
 *                                                         if none, -ENOSPC if it exceeds cap
 *
 * It behaves like a wire and like AF_XDP where the stack could tell: nothing leaves an
 * endpoint before flush() (the "kick"), frames are copied into the receiver's own pool (so each
 * endpoint's frames are conserved on their own: total = free + queued for RX + held by the
 * stack + queued for TX), and a receiver whose pool is empty drops the frame and counts it in
 * rx_dropped and fill_empty, as a dry fill ring would. No allocation after open; every frame
 * carries a state byte, and a frame handed back twice or in the wrong state aborts the program
 * (a stack bug that would leak or corrupt UMEM frames on AF_XDP).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"

enum mem_frame_state { MF_FREE, MF_RXQ, MF_HELD, MF_TXQ };

/* FIFO of frame indices; capacity = pool size, so it can never overflow. */
struct mem_fifo {
	uint32_t *slot;
	uint32_t head, tail;    /* free-running; count = tail - head */
};

struct mem_io {
	struct hxs_io io;
	struct mem_io *peer;
	uint32_t nframes;
	uint8_t *buf;           /* nframes * frame_size bytes */
	uint8_t *state;         /* enum mem_frame_state per frame */
	uint32_t *len;          /* length of a queued frame (RX or TX FIFO) */
	uint32_t *free_stack;
	uint32_t nfree;
	struct mem_fifo rxq;
	struct mem_fifo txq;
	uint32_t tx_flushed;    /* txq entries before this (free-running) index were flushed */
	struct hxs_io_stats st;
};

static struct mem_io *mem_of(struct hxs_io *io) { return (struct mem_io *)io; }

static void fifo_push(struct mem_io *m, struct mem_fifo *q, uint32_t idx)
{
	q->slot[q->tail++ % m->nframes] = idx;
}

static uint32_t fifo_pop(struct mem_io *m, struct mem_fifo *q)
{
	return q->slot[q->head++ % m->nframes];
}

static uint32_t fifo_count(const struct mem_fifo *q) { return q->tail - q->head; }

static __attribute__((noreturn)) void mem_misuse(const char *what, uint64_t handle, int state)
{
	fprintf(stderr, "hxs io_mem: %s: frame %llu in state %d\n", what,
		(unsigned long long)handle, state);
	abort();
}

/* Checks that f came from this endpoint and is held by the stack; returns its index. */
static uint32_t mem_held_index(struct mem_io *m, const struct hxs_frame *f, const char *what)
{
	if (f->handle >= m->nframes)
		mem_misuse(what, f->handle, -1);
	uint32_t idx = (uint32_t)f->handle;
	if (m->state[idx] != MF_HELD)
		mem_misuse(what, f->handle, m->state[idx]);
	return idx;
}

static void mem_put_free(struct mem_io *m, uint32_t idx)
{
	m->state[idx] = MF_FREE;
	m->free_stack[m->nfree++] = idx;
}

static int mem_get_free(struct mem_io *m, uint32_t *idx)
{
	if (!m->nfree)
		return -ENOBUFS;
	*idx = m->free_stack[--m->nfree];
	return 0;
}

static void mem_fill(struct mem_io *m, uint32_t idx, struct hxs_frame *f, uint32_t len)
{
	f->data = m->buf + (size_t)idx * m->io.frame_size;
	f->len = len;
	f->cap = m->io.frame_size;
	f->handle = idx;
	f->queue = 0;
	f->pad = 0;
}

/* Copies one frame into m's pool and queues it for rx_burst; a full pool drops it. */
static int mem_receive(struct mem_io *m, const void *data, uint32_t len)
{
	uint32_t idx;

	if (len > m->io.frame_size)
		return -EMSGSIZE;
	if (mem_get_free(m, &idx)) {
		m->st.rx_dropped++;
		m->st.fill_empty++;
		return -ENOBUFS;
	}
	memcpy(m->buf + (size_t)idx * m->io.frame_size, data, len);
	m->state[idx] = MF_RXQ;
	m->len[idx] = len;
	fifo_push(m, &m->rxq, idx);
	m->st.rx_frames++;
	m->st.rx_bytes += len;
	return 0;
}

static int mem_rx_burst(struct hxs_io *io, struct hxs_frame *f, int max)
{
	struct mem_io *m = mem_of(io);
	int n = 0;

	while (n < max && fifo_count(&m->rxq)) {
		uint32_t idx = fifo_pop(m, &m->rxq);
		m->state[idx] = MF_HELD;
		mem_fill(m, idx, &f[n], m->len[idx]);
		n++;
	}
	return n;
}

static void mem_rx_release(struct hxs_io *io, const struct hxs_frame *f, int n)
{
	struct mem_io *m = mem_of(io);

	for (int i = 0; i < n; i++)
		mem_put_free(m, mem_held_index(m, &f[i], "rx_release"));
}

static int mem_tx_alloc(struct hxs_io *io, struct hxs_frame *f, int n)
{
	struct mem_io *m = mem_of(io);
	int got = 0;
	uint32_t idx;

	while (got < n && !mem_get_free(m, &idx)) {
		m->state[idx] = MF_HELD;
		mem_fill(m, idx, &f[got], 0);
		got++;
	}
	return got;
}

static int mem_tx_submit(struct hxs_io *io, const struct hxs_frame *f, int n)
{
	struct mem_io *m = mem_of(io);

	for (int i = 0; i < n; i++) {
		uint32_t idx = mem_held_index(m, &f[i], "tx_submit");
		if (f[i].len > m->io.frame_size)
			mem_misuse("tx_submit: len > frame_size", f[i].handle, m->state[idx]);
		m->state[idx] = MF_TXQ;
		m->len[idx] = f[i].len;
		fifo_push(m, &m->txq, idx);
	}
	return n;
}

static void mem_tx_free(struct hxs_io *io, const struct hxs_frame *f, int n)
{
	struct mem_io *m = mem_of(io);

	for (int i = 0; i < n; i++)
		mem_put_free(m, mem_held_index(m, &f[i], "tx_free"));
}

/* Pair: moves every submitted frame to the peer now. Single: makes them visible to take(). */
static int mem_flush(struct hxs_io *io)
{
	struct mem_io *m = mem_of(io);
	int moved = 0;

	if (!fifo_count(&m->txq) || m->tx_flushed == m->txq.tail)
		return 0;
	m->st.tx_wakeups++;
	m->tx_flushed = m->txq.tail;
	if (!m->peer)
		return 0;
	while (fifo_count(&m->txq)) {
		uint32_t idx = fifo_pop(m, &m->txq);
		uint32_t len = m->len[idx];
		m->st.tx_frames++;
		m->st.tx_bytes += len;
		if (!mem_receive(m->peer, m->buf + (size_t)idx * m->io.frame_size, len))
			moved++;
		mem_put_free(m, idx);
	}
	return moved;
}

static int mem_poll_fd(const struct hxs_io *io) { return -1; }

static void mem_get_stats(const struct hxs_io *io, struct hxs_io_stats *st)
{
	const struct mem_io *m = (const struct mem_io *)io;

	*st = m->st;
	st->frames_total = m->nframes;
	st->frames_free = m->nfree;
	st->frames_rx_queued = fifo_count(&m->rxq);
	st->frames_tx_queued = fifo_count(&m->txq);
	st->frames_held = m->nframes - m->nfree - st->frames_rx_queued - st->frames_tx_queued;
}

static void mem_close(struct hxs_io *io)
{
	struct mem_io *m = mem_of(io);

	if (!m)
		return;
	if (m->peer)
		m->peer->peer = NULL;
	free(m->buf);
	free(m->len);
	free(m);
}

static const struct hxs_io_ops mem_ops = {
	.name = "mem",
	.rx_burst = mem_rx_burst,
	.rx_release = mem_rx_release,
	.tx_alloc = mem_tx_alloc,
	.tx_submit = mem_tx_submit,
	.tx_free = mem_tx_free,
	.flush = mem_flush,
	.poll_fd = mem_poll_fd,
	.get_stats = mem_get_stats,
	.close = mem_close,
};

/* One block for the per-frame tables: state bytes last so the u32 arrays stay aligned. */
static int mem_new(struct mem_io **out, uint32_t frames, uint32_t frame_size)
{
	struct mem_io *m;
	size_t tables;

	if (!frames || frame_size < 64 || frame_size > (1u << 20) || frames > (1u << 24))
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->buf = aligned_alloc(64, ((size_t)frames * frame_size + 63) & ~(size_t)63);
	if (!m->buf)
		goto free_m;
	tables = (size_t)frames * (4 * sizeof(uint32_t) + 1);
	m->len = calloc(1, tables);
	if (!m->len)
		goto free_buf;
	m->free_stack = m->len + frames;
	m->rxq.slot = m->free_stack + frames;
	m->txq.slot = m->rxq.slot + frames;
	m->state = (uint8_t *)(m->txq.slot + frames);
	m->nframes = frames;
	m->io.ops = &mem_ops;
	m->io.flags = HXS_IO_F_RX_TO_TX;
	m->io.frame_size = frame_size;
	m->io.nqueues = 1;
	/* Highest index on the bottom so frames are handed out 0, 1, 2... */
	for (uint32_t i = frames; i-- > 0;)
		mem_put_free(m, i);
	*out = m;
	return 0;

free_buf:
	free(m->buf);
free_m:
	free(m);
	return -ENOMEM;
}

int hxs_io_mem__open(struct hxs_io **io, uint32_t frames, uint32_t frame_size)
{
	struct mem_io *m;
	int err = mem_new(&m, frames, frame_size);

	if (err)
		return err;
	*io = &m->io;
	return 0;
}

int hxs_io_mem__pair(struct hxs_io **a, struct hxs_io **b, uint32_t frames, uint32_t frame_size)
{
	struct mem_io *ma, *mb;
	int err = mem_new(&ma, frames, frame_size);

	if (err)
		return err;
	err = mem_new(&mb, frames, frame_size);
	if (err)
		goto close_a;
	ma->peer = mb;
	mb->peer = ma;
	*a = &ma->io;
	*b = &mb->io;
	return 0;

close_a:
	mem_close(&ma->io);
	return err;
}

int hxs_io_mem__inject(struct hxs_io *io, const void *frame, uint32_t len)
{
	if (io->ops != &mem_ops)
		return -EINVAL;
	return mem_receive(mem_of(io), frame, len);
}

int hxs_io_mem__take(struct hxs_io *io, void *buf, uint32_t cap)
{
	struct mem_io *m = mem_of(io);
	uint32_t idx, len;

	if (io->ops != &mem_ops || m->peer)
		return -EINVAL;
	if (m->txq.head == m->tx_flushed)
		return -EAGAIN;
	if (m->len[m->txq.slot[m->txq.head % m->nframes]] > cap)
		return -ENOSPC;
	idx = fifo_pop(m, &m->txq);
	len = m->len[idx];
	memcpy(buf, m->buf + (size_t)idx * m->io.frame_size, len);
	m->st.tx_frames++;
	m->st.tx_bytes += len;
	mem_put_free(m, idx);
	return (int)len;
}
