/* io_mem.c - the in-memory link backend of io.h, for unit tests and the TCP simulation.
 *
 *   hxs_io_mem__pair_opts(&a, &b, o) / __open_opts(&io, o)   per endpoint: a frame pool, a
 *                     fill, an RX, a TX and a completion ring (o->ring_size each), an eventfd
 *   rx_burst()     -> RX ring -> frames held by the stack -> fill_refill() -> wake_clear()
 *   rx_release()   -> free stack (-> fill_refill() when the fill ring is below half)
 *   tx_alloc()     -> free stack (comp_reap() first when it runs short)
 *   tx_submit()    -> TX ring; a prefix of the array when the ring is full (tx_ring_full)
 *   flush()        -> comp_reap() -> TX ring -> pair: mem_deliver() into the peer, then the
 *                                               completion ring
 *                                            -> alone: the wire ring
 *   hxs_io_mem__inject() -> mem_deliver()    a frame "from the wire"
 *   hxs_io_mem__take()   -> wire ring -> completion ring
 *   mem_deliver()  -> a frame from the receiver's fill ring -> copy -> its RX ring -> eventfd
 *
 * It behaves like one AF_XDP socket of xsk.c wherever the stack could tell:
 * - nothing leaves an endpoint before flush() (the kick), and a frame's completion comes
 *   back later than the flush that sent it: at the next flush(), or a tx_alloc() that runs
 *   short, reaps it (alone: only once the wire took it). Until then it counts as queued for
 *   TX, as on AF_XDP where completions come when the kernel or the NIC is done;
 * - the TX ring is bounded: tx_submit() takes what fits; the "kernel" takes a descriptor off
 *   it only with a completion slot for it, so frames the wire has not taken hold the ring;
 * - a frame is received into a frame the receiver put on its fill ring (fill_target of them,
 *   refilled from its free frames by rx_burst/rx_release as xsk.c does); an empty fill ring
 *   drops the frame (rx_dropped, fill_empty), a full RX ring too (rx_ring_full), a frame
 *   larger than frame_size too (rx_dropped), as the kernel's xsk receive path counts them;
 * - multi-buffer (max_frags > 1), as xsk.c with max_frame: a frame longer than one buffer
 *   (buf_size) is received as a chain of buffers from the fill ring (as many as it needs, at
 *   most max_frags, else dropped), which rx_burst() gathers into a slab of max_frags
 *   adjacent buffers (none free: the chain is dropped, rx_multibuf_dropped); tx_alloc()
 *   hands out slabs, and a slab takes one TX ring entry and one completion per buffer its
 *   bytes span. io.frame_size is the slab's size; without multi-buffer a frame longer than
 *   one buffer is dropped (rx_dropped) as the kernel does without XDP_USE_SG;
 * - the eventfd (poll_fd()) is readable while frames wait on the RX ring, as an AF_XDP
 *   socket polls readable, so a stack on the link sleeps in epoll_wait() like on AF_XDP.
 * Every frame has a state byte; a frame handed back twice or in the wrong state aborts the
 * program (a stack bug that would leak or corrupt UMEM frames on AF_XDP). Frames are
 * conserved per endpoint: total == free + queued for RX (fill + RX rings) + queued for TX
 * (TX, wire and completion rings) + held by the stack. Nothing is allocated after open.
 *
 * Threads: the rings between the stack and the wire are single-producer single-consumer
 * with acquire/release indices, like AF_XDP's, so one thread may run the stack while another
 * is its wire (inject, take) or the peer's stack (whose flush delivers here).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "io.h"

enum mem_frame_state { MF_FREE, MF_FILL, MF_RXQ, MF_HELD, MF_TXQ };

/* One ring of frame indices, one producer and one consumer (possibly two threads). */
struct mem_ring {
	uint32_t *slot;
	uint32_t mask;
	uint32_t prod, cons;    /* free-running */
};

/* Counters the delivering side (peer's flush, inject) moves, read by the stack's thread. */
struct mem_in_stats {
	uint64_t rx_frames, rx_bytes, rx_dropped, fill_empty, rx_ring_full;
};

struct mem_io {
	struct hxs_io io;
	struct mem_io *peer;
	uint32_t nframes;       /* single buffers, then nslabs slabs: indices 0..nobj-1 */
	uint32_t nslabs, nobj;
	uint32_t tx_objs;       /* objects in MF_TXQ (a slab may hold several TX entries) */
	uint32_t buf_size;      /* bytes per buffer (io.frame_size without multi-buffer) */
	uint32_t max_frags;     /* buffers per slab / per frame on the link; 1: no multi-buffer */
	uint32_t *slab_stack, nslab_free;
	uint8_t *pending;       /* per object: TX descriptors not completed yet */
	uint8_t *contd;         /* per buffer on the RX ring: more of its frame follows */
	uint32_t rx_slab;       /* slab a chain is gathered into (UINT32_MAX: none) */
	uint32_t rx_len;
	int dropping_chain;
	uint32_t ring_size;
	uint32_t fill_target;
	uint8_t *buf;           /* nframes * frame_size bytes */
	uint8_t *state;         /* enum mem_frame_state per frame */
	uint32_t *len;          /* length of a queued frame */
	uint32_t *off;          /* where its data starts in its frame (TX) */
	uint32_t *free_stack;
	uint32_t nfree;
	struct mem_ring fill;   /* stack -> deliverer: empty frames to receive into */
	struct mem_ring rx;     /* deliverer -> stack */
	struct mem_ring tx;     /* stack -> flush */
	struct mem_ring wire;   /* flush -> take (endpoint alone) */
	struct mem_ring comp;   /* flush (pair) or take (alone) -> stack */
	int efd;                /* eventfd, -1 without */
	int wake;               /* efd signalled since the stack last found the RX ring empty */
	struct mem_in_stats in; /* moved with atomics by the delivering side */
	struct hxs_io_stats st; /* the stack side's own */
};

static struct mem_io *mem_of(struct hxs_io *io) { return (struct mem_io *)io; }

/* --- rings -------------------------------------------------------------------------------- */

static uint32_t ring_count(const struct mem_ring *r)
{
	return __atomic_load_n(&r->prod, __ATOMIC_SEQ_CST) - __atomic_load_n(&r->cons, __ATOMIC_ACQUIRE);
}

static uint32_t ring_room(const struct mem_ring *r) { return r->mask + 1 - ring_count(r); }

/* Producer only, after ring_room() said there is room. */
static void ring_push(struct mem_ring *r, uint32_t v)
{
	uint32_t p = __atomic_load_n(&r->prod, __ATOMIC_RELAXED);

	r->slot[p & r->mask] = v;
	__atomic_store_n(&r->prod, p + 1, __ATOMIC_SEQ_CST);
}

/* Consumer only, after ring_count() said there is an entry. */
static uint32_t ring_peek(const struct mem_ring *r)
{
	return r->slot[__atomic_load_n(&r->cons, __ATOMIC_RELAXED) & r->mask];
}

static void ring_pop(struct mem_ring *r)
{
	__atomic_store_n(&r->cons, __atomic_load_n(&r->cons, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}

/* --- frames ------------------------------------------------------------------------------- */

static __attribute__((noreturn)) void mem_misuse(const char *what, uint64_t handle, int state)
{
	fprintf(stderr, "hxs io_mem: %s: frame %llu in state %d\n", what,
		(unsigned long long)handle, state);
	abort();
}

static void mem_move(struct mem_io *m, uint32_t idx, int from, int to, const char *what)
{
	if (idx >= m->nobj || m->state[idx] != from)
		mem_misuse(what, idx, idx < m->nobj ? m->state[idx] : -1);
	m->state[idx] = (uint8_t)to;
}

/* Checks that f came from this endpoint and is held by the stack; returns its index. */
static uint32_t mem_held_index(struct mem_io *m, const struct hxs_frame *f, const char *what)
{
	if (f->handle >= m->nobj)
		mem_misuse(what, f->handle, -1);
	if (m->state[f->handle] != MF_HELD)
		mem_misuse(what, f->handle, m->state[f->handle]);
	return (uint32_t)f->handle;
}

static int is_slab(const struct mem_io *m, uint32_t idx) { return idx >= m->nframes; }

/* A slab is max_frags adjacent buffers after the single ones. */
static uint8_t *mem_frame(struct mem_io *m, uint32_t idx)
{
	size_t b = is_slab(m, idx) ? m->nframes + (size_t)(idx - m->nframes) * m->max_frags : idx;

	return m->buf + b * m->buf_size;
}

static uint32_t obj_size(const struct mem_io *m, uint32_t idx)
{
	return is_slab(m, idx) ? m->io.frame_size : m->buf_size;
}

static void mem_put_free(struct mem_io *m, uint32_t idx, int from, const char *what)
{
	mem_move(m, idx, from, MF_FREE, what);
	if (is_slab(m, idx))
		m->slab_stack[m->nslab_free++] = idx;
	else
		m->free_stack[m->nfree++] = idx;
}

static void mem_hand_out(struct mem_io *m, uint32_t idx, struct hxs_frame *f, uint32_t len)
{
	f->data = mem_frame(m, idx);
	f->len = len;
	f->cap = obj_size(m, idx);
	f->handle = idx;
	f->queue = 0;
	f->meta = f->mflags = 0;
	f->pad = 0;
	f->slot = f->gen = 0;
}

/* Keeps fill_target frames on the fill ring, as far as free frames go. */
static void fill_refill(struct mem_io *m)
{
	uint32_t have = ring_count(&m->fill);

	while (have < m->fill_target && m->nfree) {
		uint32_t idx = m->free_stack[--m->nfree];
		mem_move(m, idx, MF_FREE, MF_FILL, "fill");
		ring_push(&m->fill, idx);
		have++;
	}
}

/* Completions the wire or the peer posted: their frames are free again. */
static void comp_reap(struct mem_io *m)
{
	uint32_t n = ring_count(&m->comp);

	while (n--) {
		uint32_t idx = ring_peek(&m->comp);
		ring_pop(&m->comp);
		if (!m->pending[idx])
			mem_misuse("completion without a descriptor out", idx, m->state[idx]);
		if (!--m->pending[idx]) {   /* one completion per buffer: free after the last */
			mem_put_free(m, idx, MF_TXQ, "completion");
			m->tx_objs--;
		}
	}
}

/* --- the eventfd: readable while the RX ring holds frames -------------------------------- */

static void wake_signal(struct mem_io *m)
{
	if (m->efd >= 0 && !__atomic_exchange_n(&m->wake, 1, __ATOMIC_SEQ_CST))
		eventfd_write(m->efd, 1);
}

/* The stack found the RX ring empty: reset the eventfd, then look again, so a frame that
 * arrived meanwhile leaves it readable (the deliverer pushes before it signals). */
static void wake_clear(struct mem_io *m)
{
	eventfd_t v;

	if (m->efd < 0 || !__atomic_load_n(&m->wake, __ATOMIC_SEQ_CST))
		return;
	__atomic_store_n(&m->wake, 0, __ATOMIC_SEQ_CST);
	eventfd_read(m->efd, &v);
	if (ring_count(&m->rx)) {
		__atomic_store_n(&m->wake, 1, __ATOMIC_SEQ_CST);
		eventfd_write(m->efd, 1);
	}
}

/* --- receive side ------------------------------------------------------------------------- */

static void in_inc(uint64_t *c, uint64_t v) { __atomic_fetch_add(c, v, __ATOMIC_RELAXED); }

/* Copies one frame into a frame of m's fill ring and queues it on m's RX ring (the delivering
 * thread). The order of the checks is the kernel's copy-mode receive: size, fill, RX ring. */
static int mem_deliver(struct mem_io *m, const uint8_t *data, uint32_t len)
{
	uint32_t nb = len ? (len + m->buf_size - 1) / m->buf_size : 1;

	if (nb > m->max_frags) {
		in_inc(&m->in.rx_dropped, 1);
		return -EMSGSIZE;
	}
	if (ring_count(&m->fill) < nb) {
		in_inc(&m->in.rx_dropped, 1);
		in_inc(&m->in.fill_empty, 1);
		return -ENOBUFS;
	}
	if (ring_room(&m->rx) < nb) {
		in_inc(&m->in.rx_ring_full, 1);
		return -ENOBUFS;
	}
	for (uint32_t i = 0, left = len; i < nb; i++) {
		uint32_t idx = ring_peek(&m->fill), l = left < m->buf_size ? left : m->buf_size;
		ring_pop(&m->fill);
		mem_move(m, idx, MF_FILL, MF_RXQ, "deliver");
		memcpy(mem_frame(m, idx), data + (len - left), l);
		m->len[idx] = l;
		m->contd[idx] = i + 1 < nb;     /* XDP_PKT_CONTD */
		left -= l;
		ring_push(&m->rx, idx);
	}
	in_inc(&m->in.rx_frames, 1);
	in_inc(&m->in.rx_bytes, len);
	wake_signal(m);
	return 0;
}

/* One buffer of a chain (or the first after one): copied into the slab, as xsk.c's
 * rx_gather(); returns 1 with the slab handed out at *out when it ends the frame. */
static int rx_gather(struct mem_io *m, uint32_t idx, struct hxs_frame *out)
{
	int contd = m->contd[idx];

	if (m->rx_slab == UINT32_MAX && !m->dropping_chain) {
		if (!m->nslab_free) {
			m->dropping_chain = 1;
		} else {
			m->rx_slab = m->slab_stack[--m->nslab_free];
			mem_move(m, m->rx_slab, MF_FREE, MF_RXQ, "rx slab");
			m->rx_len = 0;
		}
	}
	if (m->rx_slab != UINT32_MAX) {
		memcpy(mem_frame(m, m->rx_slab) + m->rx_len, mem_frame(m, idx), m->len[idx]);
		m->rx_len += m->len[idx];
	}
	mem_put_free(m, idx, MF_HELD, "rx chain");
	if (contd)
		return 0;
	if (m->dropping_chain) {
		m->st.rx_multibuf_dropped++;
		m->dropping_chain = 0;
		return 0;
	}
	mem_move(m, m->rx_slab, MF_RXQ, MF_HELD, "rx slab");
	mem_hand_out(m, m->rx_slab, out, m->rx_len);
	m->st.rx_multibuf++;
	m->rx_slab = UINT32_MAX;
	return 1;
}

static int mem_rx_burst(struct hxs_io *io, struct hxs_frame *f, int max)
{
	struct mem_io *m = mem_of(io);
	uint32_t avail = ring_count(&m->rx);
	int n = 0;

	while (n < max && avail) {
		uint32_t idx = ring_peek(&m->rx);
		ring_pop(&m->rx);
		mem_move(m, idx, MF_RXQ, MF_HELD, "rx");
		avail--;
		if (m->contd[idx] || m->rx_slab != UINT32_MAX || m->dropping_chain) {
			n += rx_gather(m, idx, &f[n]);
			continue;
		}
		mem_hand_out(m, idx, &f[n++], m->len[idx]);
	}
	fill_refill(m);
	if (!avail)
		wake_clear(m);
	return n;
}

static void mem_rx_release(struct hxs_io *io, const struct hxs_frame *f, int n)
{
	struct mem_io *m = mem_of(io);

	for (int i = 0; i < n; i++)
		mem_put_free(m, mem_held_index(m, &f[i], "rx_release"), MF_HELD, "rx_release");
	/* as xsk.c: put them back to work at once when the fill ring is below half */
	if (ring_count(&m->fill) < m->fill_target / 2)
		fill_refill(m);
}

/* --- transmit side ------------------------------------------------------------------------ */

static int mem_tx_alloc(struct hxs_io *io, struct hxs_frame *f, int n)
{
	struct mem_io *m = mem_of(io);
	int got = 0;

	uint32_t *avail = m->nslabs ? &m->nslab_free : &m->nfree;
	uint32_t *stack = m->nslabs ? m->slab_stack : m->free_stack;

	if (*avail < (uint32_t)n)
		comp_reap(m);
	while (got < n && *avail) {
		uint32_t idx = stack[--*avail];
		mem_move(m, idx, MF_FREE, MF_HELD, "tx_alloc");
		mem_hand_out(m, idx, &f[got++], 0);
	}
	return got;
}

static int mem_tx_submit(struct hxs_io *io, const struct hxs_frame *f, int n)
{
	struct mem_io *m = mem_of(io);
	uint32_t room = ring_room(&m->tx);
	int k = 0;

	for (; k < n; k++) {
		uint32_t idx = mem_held_index(m, &f[k], "tx_submit");
		const uint8_t *base = mem_frame(m, idx);
		/* data may sit anywhere in its frame, but the frame must hold all of it */
		if (f[k].data < base || (size_t)(f[k].data - base) + f[k].len > obj_size(m, idx))
			mem_misuse("tx_submit: data outside its frame", f[k].handle, MF_HELD);
		uint32_t off = (uint32_t)(f[k].data - base);
		/* one TX ring entry (descriptor) per buffer the bytes span; whole frames only */
		uint32_t nd = f[k].len ? (off % m->buf_size + f[k].len + m->buf_size - 1) / m->buf_size : 1;
		if (nd > room)
			break;
		room -= nd;
		m->off[idx] = off;
		m->len[idx] = f[k].len;
		m->pending[idx] = (uint8_t)nd;
		if (nd > 1)
			m->st.tx_multibuf++;
		mem_move(m, idx, MF_HELD, MF_TXQ, "tx_submit");
		m->tx_objs++;
		while (nd--)
			ring_push(&m->tx, idx);
	}
	if (k < n)
		m->st.tx_ring_full++;
	return k;
}

static void mem_tx_free(struct hxs_io *io, const struct hxs_frame *f, int n)
{
	mem_rx_release(io, f, n);
}

/* Frames taken off the TX ring whose completion the stack has not reaped. */
static uint32_t mem_outstanding(const struct mem_io *m)
{
	/* the wire first: a frame take() moves meanwhile (completion pushed before it leaves
	 * the wire) is then counted once or twice, never missed */
	uint32_t w = ring_count(&m->wire);

	return w + ring_count(&m->comp);
}

/* Pair: delivers every frame on the TX ring to the peer now. Alone: moves them to the wire.
 * Returns the number the peer accepted. */
static int mem_flush(struct hxs_io *io)
{
	struct mem_io *m = mem_of(io);
	uint32_t n;
	int moved = 0;

	comp_reap(m);
	n = ring_count(&m->tx);
	if (!n)
		return 0;
	m->st.tx_wakeups++;
	while (n-- && mem_outstanding(m) < m->ring_size) {
		uint32_t idx = ring_peek(&m->tx);

		ring_pop(&m->tx);
		/* a chain's later descriptors: their completion only (the first carried it all) */
		if (m->peer && m->off[idx] == UINT32_MAX) {
			ring_push(&m->comp, idx);
			continue;
		}
		if (!m->peer && m->pending[idx] > 1) {
			/* alone: the wire takes the frame once; its other entries complete with it */
			uint32_t more = m->pending[idx] - 1;
			for (uint32_t i = 0; i < more && n; i++, n--)
				ring_pop(&m->tx);
			m->pending[idx] = 1;
		}
		m->st.tx_frames++;
		m->st.tx_bytes += m->len[idx];
		if (m->peer) {
			if (!mem_deliver(m->peer, mem_frame(m, idx) + m->off[idx], m->len[idx]))
				moved++;
			if (m->pending[idx] > 1)
				m->off[idx] = UINT32_MAX;   /* later entries: completions only */
			ring_push(&m->comp, idx);
		} else {
			ring_push(&m->wire, idx);
		}
	}
	return moved;
}

/* --- misc ops ----------------------------------------------------------------------------- */

static int mem_poll_fd(struct hxs_io *io) { return ((const struct mem_io *)io)->efd; }

static void mem_get_stats(const struct hxs_io *io, struct hxs_io_stats *st)
{
	const struct mem_io *m = (const struct mem_io *)io;

	*st = m->st;
	st->rx_frames = __atomic_load_n(&m->in.rx_frames, __ATOMIC_RELAXED);
	st->rx_bytes = __atomic_load_n(&m->in.rx_bytes, __ATOMIC_RELAXED);
	st->rx_dropped = __atomic_load_n(&m->in.rx_dropped, __ATOMIC_RELAXED);
	st->fill_empty = __atomic_load_n(&m->in.fill_empty, __ATOMIC_RELAXED);
	st->rx_ring_full = __atomic_load_n(&m->in.rx_ring_full, __ATOMIC_RELAXED);
	st->frames_total = m->nobj;
	st->frames_free = m->nfree + m->nslab_free;
	st->frames_rx_queued = ring_count(&m->fill) + ring_count(&m->rx) + (m->rx_slab != UINT32_MAX);
	st->frames_tx_queued = m->tx_objs;
	st->frames_held = m->nobj - st->frames_free - st->frames_rx_queued - st->frames_tx_queued;
}

static void mem_close(struct hxs_io *io)
{
	struct mem_io *m = mem_of(io);

	if (!m)
		return;
	if (m->peer)
		m->peer->peer = NULL;
	if (m->efd >= 0)
		close(m->efd);
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

/* --- open --------------------------------------------------------------------------------- */

static int is_pow2(uint32_t v) { return v && !(v & (v - 1)); }

static void ring_init(struct mem_ring *r, uint32_t *slot, uint32_t size)
{
	r->slot = slot;
	r->mask = size - 1;
}

/* One block for the per-frame tables and the rings: state bytes last so the u32 arrays
 * stay aligned. */
static int mem_new(struct mem_io **out, const struct hxs_io_mem_opts *o)
{
	uint32_t frames = o->frames ? o->frames : 4096, fs = o->frame_size ? o->frame_size : 4096;
	uint32_t ring = o->ring_size ? o->ring_size : 2048;
	uint32_t fill = o->fill_target ? o->fill_target : frames / 2 < ring ? frames / 2 : ring;
	uint32_t k = o->max_frags > 1 ? o->max_frags : 1;
	uint32_t nslabs = k > 1 ? (o->slabs ? o->slabs : frames / 2) : 0;
	size_t nbufs = frames + (size_t)nslabs * k, nobj = (size_t)frames + nslabs;
	struct mem_io *m;
	uint32_t *t;
	int err = -ENOMEM;

	/* HXS_XSK_MAX_FRAGS (16): the AF_XDP backend's limit, which the kernel's is behind */
	if (frames > (1u << 24) || fs < 64 || fs > (1u << 20) || !is_pow2(ring) ||
	    ring > (1u << 20) || fill > ring || fill > frames || k > 16 || nslabs > (1u << 24) ||
	    (k > 1 && nslabs < 1))
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->efd = -1;
	m->buf = aligned_alloc(64, (nbufs * fs + 63) & ~(size_t)63);
	if (!m->buf)
		goto free_m;
	t = calloc(1, nobj * (3 * sizeof(uint32_t) + 3) + (size_t)nslabs * sizeof(uint32_t) +
		   (size_t)ring * 5 * sizeof(uint32_t));
	if (!t)
		goto free_buf;
	m->len = t;
	m->off = t + nobj;
	m->free_stack = m->off + nobj;
	m->slab_stack = m->free_stack + nobj;
	t = m->slab_stack + nslabs;
	ring_init(&m->fill, t, ring);
	ring_init(&m->rx, t + ring, ring);
	ring_init(&m->tx, t + 2 * (size_t)ring, ring);
	ring_init(&m->wire, t + 3 * (size_t)ring, ring);
	ring_init(&m->comp, t + 4 * (size_t)ring, ring);
	m->state = (uint8_t *)(t + 5 * (size_t)ring);
	m->pending = m->state + nobj;
	m->contd = m->pending + nobj;
	if (!o->no_poll_fd) {
		m->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (m->efd < 0) {
			err = -errno;
			goto free_tables;
		}
	}
	m->nframes = frames;
	m->nslabs = nslabs;
	m->nobj = (uint32_t)nobj;
	m->buf_size = fs;
	m->max_frags = k;
	m->rx_slab = UINT32_MAX;
	m->ring_size = ring;
	m->fill_target = fill;
	m->io.ops = &mem_ops;
	m->io.flags = HXS_IO_F_RX_TO_TX | (k > 1 ? HXS_IO_F_MULTIBUF : 0);
	m->io.frame_size = fs * k;
	m->io.nqueues = 1;
	/* Highest index on the bottom so frames are handed out 0, 1, 2... */
	for (uint32_t i = frames; i-- > 0;) {
		m->state[i] = MF_FREE;
		m->free_stack[m->nfree++] = i;
	}
	for (uint32_t i = (uint32_t)nobj; i-- > frames;) {
		m->state[i] = MF_FREE;
		m->slab_stack[m->nslab_free++] = i;
	}
	fill_refill(m);
	*out = m;
	return 0;

free_tables:
	free(m->len);
free_buf:
	free(m->buf);
free_m:
	free(m);
	return err;
}

int hxs_io_mem__open_opts(struct hxs_io **io, const struct hxs_io_mem_opts *o)
{
	static const struct hxs_io_mem_opts dflt;
	struct mem_io *m;
	int err = mem_new(&m, o ? o : &dflt);

	if (err)
		return err;
	*io = &m->io;
	return 0;
}

int hxs_io_mem__pair_opts(struct hxs_io **a, struct hxs_io **b, const struct hxs_io_mem_opts *o)
{
	static const struct hxs_io_mem_opts dflt;
	struct mem_io *ma, *mb;
	int err = mem_new(&ma, o ? o : &dflt);

	if (err)
		return err;
	err = mem_new(&mb, o ? o : &dflt);
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

int hxs_io_mem__open(struct hxs_io **io, uint32_t frames, uint32_t frame_size)
{
	struct hxs_io_mem_opts o = { .frames = frames, .frame_size = frame_size, .no_poll_fd = 1 };

	if (!frames)
		return -EINVAL;
	return hxs_io_mem__open_opts(io, &o);
}

int hxs_io_mem__pair(struct hxs_io **a, struct hxs_io **b, uint32_t frames, uint32_t frame_size)
{
	struct hxs_io_mem_opts o = { .frames = frames, .frame_size = frame_size, .no_poll_fd = 1 };

	if (!frames)
		return -EINVAL;
	return hxs_io_mem__pair_opts(a, b, &o);
}

int hxs_io_mem__inject(struct hxs_io *io, const void *frame, uint32_t len)
{
	if (io->ops != &mem_ops)
		return -EINVAL;
	return mem_deliver(mem_of(io), frame, len);
}

int hxs_io_mem__take(struct hxs_io *io, void *buf, uint32_t cap)
{
	struct mem_io *m = mem_of(io);
	uint32_t idx, len;

	if (io->ops != &mem_ops || m->peer)
		return -EINVAL;
	if (!ring_count(&m->wire))
		return -EAGAIN;
	idx = ring_peek(&m->wire);
	len = m->len[idx];
	if (len > cap)
		return -ENOSPC;
	memcpy(buf, mem_frame(m, idx) + m->off[idx], len);
	/* Completion first, then off the wire: flush() on the stack's thread bounds wire +
	 * completion entries by the ring size, and must never count the frame in neither ring.
	 * Popped first, a flush in between saw room for one more: the completion ring, full,
	 * took one entry more than it holds and overwrote a pending completion (a reap then
	 * found a frame with no descriptor out and aborted). */
	ring_push(&m->comp, idx);       /* the frame is the stack's again from here */
	ring_pop(&m->wire);
	return (int)len;
}
