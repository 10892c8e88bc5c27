/* xsk.c - the AF_XDP backend of io.h (see xsk.h for the choices it makes).
 *
 *   hxs_xsk__open() -> mmap UMEM -> xsk_umem__create() -> xsk_socket__create_shared() per
 *                      queue (XDP_USE_NEED_WAKEUP, program load inhibited) -> read back
 *                      XDP_OPTIONS -> busy-poll options -> XSK map -> fill_refill()
 *   rx_burst()   -> nothing on any queue (rx_due()): return -> per queue: peek RX ring
 *                   -> hand frames out (rx_meta(): the program's
 *                   struct hxs_xdp_meta in front of the frame) -> release -> fill_refill()
 *                   (nothing received and the fill ring wants a wake-up: one recvfrom()
 *                   per queue)
 *   tx_alloc()   -> free stack (comp_reap() first when it runs short)
 *   tx_submit()  -> per run of one queue: reserve TX ring -> descriptors -> submit
 *   flush()      -> one sendto() kick per queue with unsent descriptors, when the TX
 *                   ring asks for a wake-up -> comp_reap() (after the kick)
 *
 * Multi-buffer (hxs_xsk_opts.max_frame above one frame): the UMEM gets a second region of
 * "slabs", each K adjacent frames (K * frame_size >= max_frame). The fill ring gets single
 * frames only; a packet the kernel splits over several of them (descriptors with
 * XDP_PKT_CONTD, Documentation/networking/af_xdp.rst "Multi-Buffer Support") is copied into a
 * slab as it is read and handed out as one contiguous frame (rx_gather()). tx_alloc() hands
 * out slabs, whose frames are adjacent: tx_submit() describes a frame longer than one UMEM
 * frame as a chain of descriptors (XDP_PKT_CONTD on all but the last), one per UMEM frame it
 * spans, with no copy; the kernel completes each descriptor, the slab is free after the last.
 *
 * Frame accounting: every UMEM frame is in exactly one place, kept in a state byte per frame
 * and four counters: FREE (the free stack), FILL (fill ring, or the kernel's, or the RX
 * ring), HELD (the stack has it), TX (TX ring, the kernel's, or the completion ring). A
 * frame handed back in the wrong state aborts the program: that is a stack bug that would
 * otherwise leak UMEM or hand one buffer to two owners.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "hxs/shared.h"
#include "lib/cgwin.h"
#include "xsk.h"

#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)          /* uapi if_xdp.h, Linux 6.6 */
#endif
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)             /* uapi if_xdp.h, Linux 6.6 */
#endif
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9         /* uapi if_xdp.h, Linux 6.17 */
#endif

enum xframe_state { XF_FREE, XF_FILL, XF_HELD, XF_TX };

struct xq {
	struct xsk_socket *xsk;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	uint32_t qid;
	int fd;
	uint32_t in_fill;           /* frames given to this queue's fill ring, not yet back */
	uint32_t in_tx;             /* frames on this queue's TX side, not yet completed */
	int dropping_chain;         /* inside a multi-buffer chain being dropped */
	uint64_t rx_slab;           /* slab a chain is being gathered into (NO_SLAB: none) */
	uint32_t rx_len;            /* bytes gathered so far */
	struct hxs_frame rx_head;   /* the chain's first descriptor's metadata */
};

#define NO_SLAB UINT64_MAX

struct xsk_io {
	struct hxs_io io;
	struct xsk_umem *umem;
	uint8_t *area;
	size_t area_size;
	uint32_t nframes;
	uint32_t shift;             /* log2(frame_size) */
	uint32_t ring_size;
	uint32_t fill_target;       /* frames kept in each fill ring */
	uint32_t tx_budget;         /* frames the kernel sends per kick in copy mode */
	uint64_t *free_stack;       /* single frames' base addresses */
	uint32_t nfree, nfill, nheld, ntx;  /* nfree: single frames; the others count objects
	                                     * (a single frame or a slab) */
	uint32_t slab_k;            /* UMEM frames per slab; 0: no multi-buffer */
	uint32_t nslabs, nslab_free;
	uint64_t slab_start;        /* UMEM address of the first slab (= nframes frames) */
	uint64_t *slab_stack;       /* free slabs' base addresses */
	uint8_t *slab_pending;      /* per slab: descriptors not completed yet */
	uint8_t *state;             /* enum xframe_state per frame */
	uint32_t next_q;
	int busy_poll;
	int epfd;
	struct hxs_io_stats st;
	struct xq q[];
};

static struct xsk_io *xio(struct hxs_io *io) { return (struct xsk_io *)io; }
static const struct xsk_io *cxio(const struct hxs_io *io) { return (const struct xsk_io *)io; }

static __attribute__((noreturn)) void xsk_misuse(const char *what, uint64_t addr, int state)
{
	fprintf(stderr, "hxs xsk: %s: frame address %llu in state %d\n", what,
		(unsigned long long)addr, state);
	abort();
}

static int is_slab(const struct xsk_io *x, uint64_t addr) { return addr >= x->slab_start; }

/* The base address of the object (single frame or slab) holding addr, and its state's index
 * (a slab's state is its first frame's). */
static uint64_t obj_base(const struct xsk_io *x, uint64_t addr, uint64_t *idx)
{
	uint64_t i = addr >> x->shift;

	if (i >= x->nframes && x->slab_k)
		i = x->nframes + (i - x->nframes) / x->slab_k * x->slab_k;
	*idx = i;
	return i << x->shift;
}

/* Moves the object holding addr from state `from` to `to`; returns its base address.
 * Inline: every frame sent or received takes two moves. */
static inline __attribute__((always_inline)) uint64_t frame_move(struct xsk_io *x, uint64_t addr, int from, int to, const char *what)
{
	uint64_t i, base = obj_base(x, addr, &i);
	uint64_t n = x->nframes + (uint64_t)x->nslabs * x->slab_k;

	if (i >= n || x->state[i] != from)
		xsk_misuse(what, addr, i < n ? x->state[i] : -1);
	x->state[i] = (uint8_t)to;
	return base;
}

static uint32_t slab_index(const struct xsk_io *x, uint64_t base)
{
	return (uint32_t)(((base - x->slab_start) >> x->shift) / x->slab_k);
}

static void frame_free(struct xsk_io *x, uint64_t base)
{
	if (is_slab(x, base))
		x->slab_stack[x->nslab_free++] = base;
	else
		x->free_stack[x->nfree++] = base;
}

/* --- completion and fill rings ---------------------------------------------------------- */

static void comp_reap(struct xsk_io *x, struct xq *q)
{
	uint32_t idx, n;

	if (!q->in_tx)
		return;
	n = xsk_ring_cons__peek(&q->comp, x->ring_size, &idx);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr = *xsk_ring_cons__comp_addr(&q->comp, idx + i);
		if (is_slab(x, addr)) {
			/* one completion per descriptor: the slab is free after its last */
			uint64_t j, base = obj_base(x, addr, &j);
			uint32_t s = slab_index(x, base);
			if (!x->slab_pending[s])
				xsk_misuse("completion: slab with no descriptor out", addr, x->state[j]);
			if (--x->slab_pending[s])
				continue;
		}
		frame_free(x, frame_move(x, addr, XF_TX, XF_FREE, "completion"));
		x->ntx--;
	}
	if (n) {
		xsk_ring_cons__release(&q->comp, n);
		q->in_tx -= n;
	}
}

static void fill_refill(struct xsk_io *x, struct xq *q)
{
	uint32_t want, idx;

	if (q->in_fill >= x->fill_target)
		return;
	want = x->fill_target - q->in_fill;
	if (want > x->nfree)
		want = x->nfree;
	if (!want)
		return;
	if (xsk_ring_prod__reserve(&q->fill, want, &idx) != want)
		return;     /* cannot happen: in_fill <= fill_target <= ring size */
	for (uint32_t i = 0; i < want; i++) {
		uint64_t base = x->free_stack[--x->nfree];
		frame_move(x, base, XF_FREE, XF_FILL, "fill");
		*xsk_ring_prod__fill_addr(&q->fill, idx + i) = base;
	}
	xsk_ring_prod__submit(&q->fill, want);
	q->in_fill += want;
	x->nfill += want;
}

/* --- RX --------------------------------------------------------------------------------- */

/* struct hxs_xdp_meta, when the program put it in front of the frame: the descriptor does
 * not say (copy mode copies data_meta..data_end and points the descriptor at data, so the
 * metadata ends at the descriptor's address; measured on veth, tests/bpf/test_xdp_meta_xsk.c).
 * The magic is cleared once read: the chunk goes back to the fill ring, and a later frame the
 * program gave no metadata must not find this frame's. */
static void rx_meta(struct xsk_io *x, uint64_t addr, uint64_t base, struct hxs_frame *fr)
{
	struct hxs_xdp_meta m;
	uint8_t *p;

	fr->meta = fr->mflags = 0;
	fr->pad = 0;
	fr->slot = fr->gen = 0;
	if (addr - base < sizeof(m))
		return;
	p = x->area + addr - sizeof(m);
	memcpy(&m, p, sizeof(m));
	if (m.magic != HXS_META_MAGIC)
		return;
	memset(p, 0, sizeof(m.magic));
	fr->meta = 1;
	fr->mflags = m.flags;
	fr->slot = m.slot;
	fr->gen = m.gen;
}

/* One descriptor of a chain (or the first after one) when slabs exist: copied into the slab
 * at the chain's current length, its UMEM frame freed at once. The last descriptor
 * (no XDP_PKT_CONTD) hands the slab out as one frame at *out; returns 1 then, else 0. A chain
 * that finds no free slab or outgrows one is dropped whole (rx_multibuf_dropped). */
static int rx_gather(struct xsk_io *x, struct xq *q, uint32_t qi, const struct xdp_desc *d,
		     struct hxs_frame *out)
{
	uint64_t base = frame_move(x, d->addr, XF_FILL, XF_FREE, "rx chain");
	int contd = d->options & XDP_PKT_CONTD;

	if (q->rx_slab == NO_SLAB && !q->dropping_chain) {
		if (!x->nslab_free) {
			q->dropping_chain = 1;
		} else {
			q->rx_slab = x->slab_stack[--x->nslab_free];
			frame_move(x, q->rx_slab, XF_FREE, XF_FILL, "rx slab");
			x->nfill++;         /* given to the receive side until the chain ends */
			q->rx_len = 0;
			rx_meta(x, d->addr, base, &q->rx_head);
		}
	}
	if (q->rx_slab != NO_SLAB && q->rx_len + d->len > x->io.frame_size) {
		frame_free(x, frame_move(x, q->rx_slab, XF_FILL, XF_FREE, "rx slab"));
		x->nfill--;
		q->rx_slab = NO_SLAB;
		q->dropping_chain = 1;
	}
	if (q->rx_slab != NO_SLAB) {
		memcpy(x->area + q->rx_slab + q->rx_len, x->area + d->addr, d->len);
		q->rx_len += d->len;
	}
	frame_free(x, base);
	if (contd)
		return 0;
	if (q->dropping_chain) {
		x->st.rx_multibuf_dropped++;
		q->dropping_chain = 0;
		return 0;
	}
	frame_move(x, q->rx_slab, XF_FILL, XF_HELD, "rx slab");
	x->nfill--;
	x->nheld++;
	*out = q->rx_head;
	out->data = x->area + q->rx_slab;
	out->len = q->rx_len;
	out->cap = x->io.frame_size;
	out->handle = q->rx_slab;
	out->queue = qi;
	x->st.rx_frames++;
	x->st.rx_bytes += q->rx_len;
	x->st.rx_multibuf++;
	q->rx_slab = NO_SLAB;
	return 1;
}

static __attribute__((noinline)) int rx_burst_queues(struct xsk_io *x, struct hxs_frame *f, int max)
{
	struct hxs_io *io = &x->io;
	uint32_t nq = io->nqueues, qi = x->next_q;
	int got = 0;

	/* the queues round-robin from next_q (no division: a busy loop looks here every turn) */
	for (uint32_t k = 0; k < nq && got < max; k++, qi = qi + 1 == nq ? 0 : qi + 1) {
		struct xq *q = &x->q[qi];
		uint32_t idx, n = xsk_ring_cons__peek(&q->rx, (uint32_t)(max - got), &idx);

		for (uint32_t i = 0; i < n; i++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&q->rx, idx + i);
			int contd = d->options & XDP_PKT_CONTD;
			q->in_fill--;
			x->nfill--;
			if (x->slab_k && (contd || q->rx_slab != NO_SLAB || q->dropping_chain)) {
				got += rx_gather(x, q, qi, d, &f[got]);
				continue;
			}
			if (contd || q->dropping_chain) {
				/* A frame of a multi-buffer packet: drop the whole chain. */
				frame_free(x, frame_move(x, d->addr, XF_FILL, XF_FREE, "rx chain"));
				if (!contd)
					x->st.rx_multibuf_dropped++;
				q->dropping_chain = !!contd;
				continue;
			}
			uint64_t base = frame_move(x, d->addr, XF_FILL, XF_HELD, "rx");
			struct hxs_frame *fr = &f[got++];
			fr->data = x->area + d->addr;
			fr->len = d->len;
			fr->cap = (uint32_t)((base + io->frame_size) - d->addr);
			fr->handle = base;
			fr->queue = qi;
			rx_meta(x, d->addr, base, fr);
			x->nheld++;
			x->st.rx_frames++;
			x->st.rx_bytes += d->len;
		}
		if (n)
			xsk_ring_cons__release(&q->rx, n);
		fill_refill(x, q);
	}
	x->next_q = x->next_q + 1 < nq ? x->next_q + 1 : 0;
	if (got)
		return got;
	/* Nothing arrived: drive the kernel only when it asked (XDP_USE_NEED_WAKEUP: the fill
	 * ring's flag is up when a zero-copy driver ran dry). Not once per turn of a busy loop:
	 * a syscall per empty turn cost more than it bought, and the copy-mode path (the veth
	 * here) never raises the flag, its NAPI runs from the sender's softirq. */
	for (uint32_t i = 0; i < nq; i++) {
		struct xq *q = &x->q[i];
		if (xsk_ring_prod__needs_wakeup(&q->fill)) {
			recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
			x->st.rx_wakeups++;
		}
	}
	return 0;
}

/* Whether rx_burst_queues() has work on q: a descriptor on its RX ring (the producer read as
 * xsk_ring_cons__peek() reads it), frames for its fill ring (fill_refill()'s test), or a fill
 * ring that asks for a wake-up. */
static inline int rx_due(const struct xsk_io *x, struct xq *q)
{
	return xsk_cons_nb_avail(&q->rx, 1) || (q->in_fill < x->fill_target && x->nfree) ||
	       xsk_ring_prod__needs_wakeup(&q->fill);
}

/* A busy loop looks here every turn, and most looks find nothing: those only read each
 * queue's RX producer and fill-ring state (and turn next_q as a full look does). */
static int xsk_rx_burst(struct hxs_io *io, struct hxs_frame *f, int max)
{
	struct xsk_io *x = xio(io);
	uint32_t nq = io->nqueues;

	for (uint32_t i = 0; i < nq; i++)
		if (rx_due(x, &x->q[i]))
			return rx_burst_queues(x, f, max);
	x->next_q = x->next_q + 1 < nq ? x->next_q + 1 : 0;
	return 0;
}

static void xsk_rx_release(struct hxs_io *io, const struct hxs_frame *f, int n)
{
	struct xsk_io *x = xio(io);

	for (int i = 0; i < n; i++)
		frame_free(x, frame_move(x, f[i].handle, XF_HELD, XF_FREE, "rx_release"));
	/* (a released slab goes back to the slab stack; fill rings take single frames) */
	x->nheld -= (uint32_t)n;
	/* Put them back to work at once if a fill ring is short (pool smaller than rings). */
	for (uint32_t qi = 0; qi < io->nqueues; qi++)
		if (x->q[qi].in_fill < x->fill_target / 2)
			fill_refill(x, &x->q[qi]);
}

/* --- TX --------------------------------------------------------------------------------- */

/* One single frame from a free stack that has one (a request/response exchange's answer, an
 * ACK: one per call), without the batch's reaping and slab choice below. */
static inline int tx_alloc_one(struct xsk_io *x, struct hxs_frame *f)
{
	uint64_t base = x->free_stack[--x->nfree];

	frame_move(x, base, XF_FREE, XF_HELD, "tx_alloc");
	f->data = x->area + base;
	f->len = 0;
	f->cap = x->io.frame_size;
	f->handle = base;
	f->queue = 0;
	f->meta = f->mflags = 0;
	f->pad = 0;
	f->slot = f->gen = 0;
	x->nheld++;
	return 1;
}

static __attribute__((noinline)) int tx_alloc_many(struct xsk_io *x, struct hxs_frame *f, int n)
{
	struct hxs_io *io = &x->io;
	int got = 0;

	uint32_t *avail = x->slab_k ? &x->nslab_free : &x->nfree;
	uint64_t *stack = x->slab_k ? x->slab_stack : x->free_stack;

	if (*avail < (uint32_t)n)
		for (uint32_t qi = 0; qi < io->nqueues; qi++)
			comp_reap(x, &x->q[qi]);
	while (got < n && *avail) {
		uint64_t base = stack[--*avail];
		frame_move(x, base, XF_FREE, XF_HELD, "tx_alloc");
		f[got].data = x->area + base;
		f[got].len = 0;
		f[got].cap = io->frame_size;
		f[got].handle = base;
		f[got].queue = 0;
		f[got].meta = f[got].mflags = 0;
		f[got].pad = 0;
		f[got].slot = f[got].gen = 0;
		got++;
	}
	x->nheld += (uint32_t)got;
	return got;
}

static int xsk_tx_alloc(struct hxs_io *io, struct hxs_frame *f, int n)
{
	struct xsk_io *x = xio(io);

	if (n == 1 && !x->slab_k && x->nfree)
		return tx_alloc_one(x, f);
	return tx_alloc_many(x, f, n);
}

static void xsk_tx_free(struct hxs_io *io, const struct hxs_frame *f, int n)
{
	xsk_rx_release(io, f, n);
}

/* One sendto() when the TX ring asks for it. Returns 1 when the kernel stopped early with
 * descriptors left (copy mode sends at most its TX budget per call: EAGAIN), else 0/-errno. */
static int kick_tx(struct xsk_io *x, struct xq *q)
{
	if (!xsk_ring_prod__needs_wakeup(&q->tx))
		return 0;
	x->st.tx_wakeups++;
	hxs_cgwin__kick();                  /* make CGWIN=1 only (lib/cgwin.h) */
	if (sendto(q->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
		return 0;
	if (errno == EAGAIN)
		return 1;
	/* EBUSY: kernel busy; ENOBUFS: no memory; ENETDOWN: link down. The descriptors stay
	 * queued for the next flush. */
	if (errno == EBUSY || errno == ENOBUFS || errno == ENETDOWN)
		return 0;
	return -errno;
}

/* Descriptors a frame needs: one per UMEM frame its bytes span (a slab's frames are
 * adjacent); checks that the frame's object holds all of its bytes. */
static uint32_t tx_descs(struct xsk_io *x, const struct hxs_frame *fr)
{
	uint64_t addr = (uint64_t)(fr->data - x->area);
	uint64_t size = is_slab(x, fr->handle) ? x->io.frame_size : (uint64_t)1 << x->shift;
	uint64_t off = addr & (((uint64_t)1 << x->shift) - 1);

	/* data may sit anywhere in its frame, but the frame must hold all of it. */
	if (addr < fr->handle || addr + fr->len > fr->handle + size)
		xsk_misuse("tx_submit: data outside its frame", addr, XF_HELD);
	if (fr->len <= ((uint64_t)1 << x->shift) - off)
		return 1;
	return (uint32_t)((off + fr->len + ((uint64_t)1 << x->shift) - 1) >> x->shift);
}

/* One frame whose bytes sit in one UMEM frame (a datagram, an ACK: what a request/response
 * exchange sends, one per call) on a ring with room: one descriptor, without the batch's run
 * and chain bookkeeping below. Returns 0 when the frame needs that (a chain, a full ring). */
static inline int tx_one(struct xsk_io *x, const struct hxs_frame *fr)
{
	struct xq *q = &x->q[fr->queue < x->io.nqueues ? fr->queue : 0];
	uint64_t addr = (uint64_t)(fr->data - x->area), chunk = (uint64_t)1 << x->shift, base;
	uint64_t size = is_slab(x, fr->handle) ? x->io.frame_size : chunk;
	struct xdp_desc *d;
	uint32_t idx;

	if ((addr & (chunk - 1)) + fr->len > chunk || xsk_prod_nb_free(&q->tx, 1) < 1)
		return 0;
	if (addr < fr->handle || addr + fr->len > fr->handle + size)
		xsk_misuse("tx_submit: data outside its frame", addr, XF_HELD);
	base = frame_move(x, fr->handle, XF_HELD, XF_TX, "tx_submit");
	if (xsk_ring_prod__reserve(&q->tx, 1, &idx) != 1)
		xsk_misuse("tx_submit: ring room went away", addr, XF_TX);   /* single producer */
	d = xsk_ring_prod__tx_desc(&q->tx, idx);
	d->addr = addr;
	d->len = fr->len;
	d->options = 0;
	if (is_slab(x, base))
		x->slab_pending[slab_index(x, base)] = 1;
	xsk_ring_prod__submit(&q->tx, 1);
	q->in_tx++;
	x->ntx++;
	x->nheld--;
	x->st.tx_frames++;
	x->st.tx_bytes += fr->len;
	return 1;
}

static __attribute__((noinline)) int tx_submit_many(struct xsk_io *x, const struct hxs_frame *f, int n)
{
	struct hxs_io *io = &x->io;
	uint32_t chunk = (uint32_t)1 << x->shift;
	int done = 0;

	while (done < n) {
		uint32_t qi = f[done].queue < io->nqueues ? f[done].queue : 0;
		struct xq *q = &x->q[qi];
		uint32_t run = 1, need, idx, nf = 0, nd = 0;

		while (done + (int)run < n && (f[done + run].queue < io->nqueues ? f[done + run].queue : 0) == qi)
			run++;
		need = run;
		if (x->slab_k)
			for (uint32_t i = 0, s = 0; i < run; i++, need = s)
				s += tx_descs(x, &f[done + i]);
		uint32_t room = xsk_prod_nb_free(&q->tx, need);
		if (room < need) {
			/* Ring full: let the kernel drain it, then take what fits. */
			kick_tx(x, q);
			comp_reap(x, q);
			room = xsk_prod_nb_free(&q->tx, need);
		}
		/* whole frames only: a chain cut short would stall the kernel's TX */
		while (nf < run) {
			uint32_t k = x->slab_k ? tx_descs(x, &f[done + nf]) : 1;
			if (nd + k > room)
				break;
			nd += k;
			nf++;
		}
		if (!nf || xsk_ring_prod__reserve(&q->tx, nd, &idx) != nd) {
			x->st.tx_ring_full++;
			break;
		}
		for (uint32_t i = 0; i < nf; i++) {
			const struct hxs_frame *fr = &f[done + i];
			uint64_t addr = (uint64_t)(fr->data - x->area);
			uint32_t left = fr->len, k = 0;
			uint64_t base = frame_move(x, fr->handle, XF_HELD, XF_TX, "tx_submit");

			if (!x->slab_k && (addr < base || addr + fr->len > base + io->frame_size))
				xsk_misuse("tx_submit: data outside its frame", addr, XF_HELD);
			do {
				/* one descriptor per UMEM frame spanned, XDP_PKT_CONTD on all
				 * but the packet's last (af_xdp.rst, "Multi-Buffer Support") */
				uint32_t room_here = chunk - (uint32_t)(addr & (chunk - 1));
				uint32_t l = left < room_here ? left : room_here;
				struct xdp_desc *d = xsk_ring_prod__tx_desc(&q->tx, idx++);
				d->addr = addr;
				d->len = l;
				left -= l;
				addr += l;
				d->options = left ? XDP_PKT_CONTD : 0;
				k++;
			} while (left);
			if (is_slab(x, base))
				x->slab_pending[slab_index(x, base)] = (uint8_t)k;
			if (k > 1)
				x->st.tx_multibuf++;
			x->st.tx_bytes += fr->len;
		}
		xsk_ring_prod__submit(&q->tx, nd);
		q->in_tx += nd;
		x->ntx += nf;
		x->nheld -= nf;
		x->st.tx_frames += nf;
		done += (int)nf;
		if (nf < run) {
			x->st.tx_ring_full++;
			break;
		}
	}
	return done;
}

static int xsk_tx_submit(struct hxs_io *io, const struct hxs_frame *f, int n)
{
	struct xsk_io *x = xio(io);

	if (n == 1 && tx_one(x, f))
		return 1;
	return tx_submit_many(x, f, n);
}

static __attribute__((noinline)) int flush_queues(struct xsk_io *x)
{
	struct hxs_io *io = &x->io;
	int err = 0;

	for (uint32_t qi = 0; qi < io->nqueues; qi++) {
		struct xq *q = &x->q[qi];
		/* Kick only while the kernel has descriptors it has not consumed yet; one kick
		 * normally, more only when copy mode's per-call budget (x->tx_budget frames)
		 * stopped it with descriptors left (or a full completion ring did: EAGAIN
		 * too). Completions are reaped after the first kick, and before each further
		 * one: whether to kick is the TX ring's state, not theirs, and a
		 * request/response exchange's answer leaves without waiting for the reaping
		 * of the last one's. */
		/* Zero copy: the kick only schedules the driver's NAPI, which then needs room in
		 * the completion ring, and nothing kicks again before the next flush: reap
		 * first there. */
		if (x->io.flags & HXS_IO_F_ZEROCOPY)
			comp_reap(x, q);
		for (uint32_t k = 0; q->in_tx && k * x->tx_budget <= x->ring_size; k++) {
			if (xsk_prod_nb_free(&q->tx, x->ring_size) >= x->ring_size)
				break;
			int e = kick_tx(x, q);
			if (e < 0 && !err)
				err = e;
			if (e != 1)
				break;
			comp_reap(x, q);
		}
		comp_reap(x, q);
	}
	return err;
}

static int xsk_flush(struct hxs_io *io)
{
	struct xsk_io *x = xio(io);

	if (!x->ntx)            /* nothing on any TX side: no queue's in_tx is above 0 */
		return 0;
	return flush_queues(x);
}

/* --- misc ops --------------------------------------------------------------------------- */

/* Several queues: one epoll set over their sockets, made on the first ask. While an epoll
 * instance watches an AF_XDP socket the kernel runs its wake-up callback for every frame it
 * frees after sending and every receive batch, so a caller that never sleeps on it (a busy
 * loop, stack.h io_fd_lazy) never asks and the sockets stay unwatched. */
static int xsk_poll_fd(struct hxs_io *io)
{
	struct xsk_io *x = xio(io);

	if (io->nqueues == 1)
		return x->q[0].fd;
	if (x->epfd < 0) {
		int fd = epoll_create1(EPOLL_CLOEXEC);

		if (fd < 0)
			return -errno;
		for (uint32_t i = 0; i < io->nqueues; i++) {
			struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };

			if (epoll_ctl(fd, EPOLL_CTL_ADD, x->q[i].fd, &ev)) {
				int e = -errno;

				close(fd);
				return e;
			}
		}
		x->epfd = fd;
	}
	return x->epfd;
}

static void xsk_get_stats(const struct hxs_io *io, struct hxs_io_stats *st)
{
	const struct xsk_io *x = cxio(io);

	*st = x->st;
	st->frames_total = x->nframes + x->nslabs;
	st->frames_free = x->nfree + x->nslab_free;
	st->frames_rx_queued = x->nfill;
	st->frames_tx_queued = x->ntx;
	st->frames_held = x->nheld;
	for (uint32_t qi = 0; qi < io->nqueues; qi++) {
		struct xdp_statistics xs;
		socklen_t len = sizeof(xs);
		memset(&xs, 0, sizeof(xs));
		if (getsockopt(x->q[qi].fd, SOL_XDP, XDP_STATISTICS, &xs, &len))
			continue;
		st->rx_dropped += xs.rx_dropped + xs.rx_invalid_descs;
		st->rx_ring_full += xs.rx_ring_full;
		st->fill_empty += xs.rx_fill_ring_empty_descs;
	}
}

static uint64_t xsk_tx_queued(const struct hxs_io *io)
{
	return cxio(io)->ntx;
}

static void xsk_close(struct hxs_io *io)
{
	struct xsk_io *x = xio(io);

	if (!x)
		return;
	for (uint32_t qi = 0; qi < io->nqueues; qi++)
		if (x->q[qi].xsk)
			xsk_socket__delete(x->q[qi].xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->area)
		munmap(x->area, x->area_size);
	if (x->epfd >= 0)
		close(x->epfd);
	free(x->free_stack);
	free(x->slab_stack);
	free(x);
}

static const struct hxs_io_ops xsk_ops = {
	.name = "xsk",
	.rx_burst = xsk_rx_burst,
	.rx_release = xsk_rx_release,
	.tx_alloc = xsk_tx_alloc,
	.tx_submit = xsk_tx_submit,
	.tx_free = xsk_tx_free,
	.flush = xsk_flush,
	.poll_fd = xsk_poll_fd,
	.get_stats = xsk_get_stats,
	.tx_queued = xsk_tx_queued,
	.close = xsk_close,
};

int hxs_xsk__fd(const struct hxs_io *io, uint32_t i)
{
	if (io->ops != &xsk_ops || i >= io->nqueues)
		return -EINVAL;
	return cxio(io)->q[i].fd;
}

uint32_t hxs_xsk__queue_id(const struct hxs_io *io, uint32_t i)
{
	return io->ops == &xsk_ops && i < io->nqueues ? cxio(io)->q[i].qid : 0;
}

const char *hxs_xsk__mode(const struct hxs_io *io)
{
	return io->flags & HXS_IO_F_ZEROCOPY ? "zero-copy" : "copy";
}

/* --- open ------------------------------------------------------------------------------- */

static int is_pow2(uint32_t v) { return v && !(v & (v - 1)); }

static int sock_opt(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val)) ? -errno : 0;
}

/* Busy polling and an explicit TX budget are asked for, so a refusal is an error. In copy
 * mode without an explicit budget, the budget is raised to the ring size so one kick sends a
 * whole batch (the kernel's default is 32); a kernel without XDP_MAX_TX_SKB_BUDGET keeps 32
 * and flush() kicks again while it returns EAGAIN. */
static int tune_socket(struct xsk_io *x, const struct hxs_xsk_opts *o, int fd, int zc)
{
	int err = 0;

	x->tx_budget = 32;
	if (!zc && !o->tx_budget && !sock_opt(fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, (int)x->ring_size))
		x->tx_budget = x->ring_size;

	if (o->busy_poll_us) {
		err = sock_opt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, 1);
		if (!err)
			err = sock_opt(fd, SOL_SOCKET, SO_BUSY_POLL, (int)o->busy_poll_us);
		if (!err)
			err = sock_opt(fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET,
				       o->busy_poll_budget ? (int)o->busy_poll_budget : 64);
	}
	if (!err && o->tx_budget) {
		err = sock_opt(fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, (int)o->tx_budget);
		if (!err)
			x->tx_budget = o->tx_budget;
	}
	return err;
}

int hxs_xsk__open(struct hxs_io **out, const char *ifname, const struct hxs_xsk_opts *opts)
{
	static const struct hxs_xsk_opts dflt = HXS_XSK_OPTS_DEFAULT;
	const struct hxs_xsk_opts *o = opts ? opts : &dflt;
	uint32_t nq = o->nqueues, frame_size = o->frame_size ? o->frame_size : 4096;
	uint32_t ring = o->ring_size ? o->ring_size : 2048;
	uint32_t frames = o->frames ? o->frames : 4096 * nq;
	uint32_t slab_k = o->max_frame > frame_size ? (o->max_frame + frame_size - 1) / frame_size : 0;
	uint32_t nslabs = slab_k ? (o->slabs ? o->slabs : frames / 2) : 0;
	uint64_t nchunks;
	struct xsk_io *x;
	int err, any_qid = 0, zc = -1;

	if (!ifname || !nq || nq > HXS_MAX_QUEUES || (frame_size != 2048 && frame_size != 4096) ||
	    !is_pow2(ring) || frames < 2 * nq || o->headroom >= frame_size / 2 ||
	    slab_k > HXS_XSK_MAX_FRAGS || (slab_k && nslabs < 2))
		return -EINVAL;
	nchunks = frames + (uint64_t)nslabs * slab_k;
	x = calloc(1, sizeof(*x) + nq * sizeof(x->q[0]));
	if (!x)
		return -ENOMEM;
	x->epfd = -1;
	x->io.ops = &xsk_ops;
	x->io.frame_size = slab_k ? slab_k * frame_size : frame_size;
	x->io.flags = HXS_IO_F_RX_TO_TX | (slab_k ? HXS_IO_F_MULTIBUF : 0);
	x->nframes = frames;
	x->slab_k = slab_k;
	x->nslabs = nslabs;
	x->slab_start = (uint64_t)frames * frame_size;
	x->shift = (uint32_t)__builtin_ctz(frame_size);
	x->ring_size = ring;
	x->busy_poll = o->busy_poll_us > 0;
	/* Half the pool for receiving, the rest for frames in the stack and in transmission. */
	x->fill_target = frames / (2 * nq) < ring ? frames / (2 * nq) : ring;
	for (uint32_t i = 0; i < nq; i++)
		any_qid |= (int)o->queues[i];
	for (uint32_t i = 0; i < nq; i++) {
		x->q[i].qid = any_qid ? o->queues[i] : i;
		x->q[i].fd = -1;
		x->q[i].rx_slab = NO_SLAB;
	}

	x->free_stack = malloc((size_t)frames * sizeof(uint64_t) + nchunks);
	x->slab_stack = malloc((size_t)nslabs * (sizeof(uint64_t) + 1) + 1);
	if (!x->free_stack || !x->slab_stack) {
		err = -ENOMEM;
		goto close_x;
	}
	x->state = (uint8_t *)(x->free_stack + frames);
	x->slab_pending = (uint8_t *)(x->slab_stack + nslabs);
	memset(x->state, XF_FREE, nchunks);
	memset(x->slab_pending, 0, nslabs);
	for (uint32_t i = frames; i-- > 0;)
		frame_free(x, (uint64_t)i << x->shift);
	for (uint32_t i = nslabs; i-- > 0;)
		frame_free(x, x->slab_start + ((uint64_t)i * slab_k << x->shift));
	x->area_size = (size_t)nchunks << x->shift;
	x->area = mmap(NULL, x->area_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		err = -errno;
		goto close_x;
	}
	struct xsk_umem_config ucfg = {
		.fill_size = ring,
		.comp_size = ring,
		.frame_size = frame_size,
		.frame_headroom = o->headroom,
		.flags = 0,
	};
	err = xsk_umem__create(&x->umem, x->area, x->area_size, &x->q[0].fill, &x->q[0].comp, &ucfg);
	if (err) {
		x->umem = NULL;
		goto close_x;
	}
	struct xsk_socket_config scfg = {
		.rx_size = ring,
		.tx_size = ring,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_USE_NEED_WAKEUP | (o->use_sg || slab_k ? XDP_USE_SG : 0) |
			      (o->mode == HXS_XSK_MODE_COPY ? XDP_COPY :
			       o->mode == HXS_XSK_MODE_ZEROCOPY ? XDP_ZEROCOPY : 0),
	};
	for (uint32_t i = 0; i < nq; i++) {
		struct xq *q = &x->q[i];
		struct xdp_options xo = { 0 };
		socklen_t len = sizeof(xo);

		/* The kernel unbinds a closed socket's queue asynchronously (deferred pool
		 * release), so a queue closed a moment ago reads EBUSY for a while: retry for up
		 * to a second. A queue that another live socket holds still fails with EBUSY. */
		for (int tries = 0;; tries++) {
			err = xsk_socket__create_shared(&q->xsk, ifname, q->qid, x->umem, &q->rx,
							&q->tx, &q->fill, &q->comp, &scfg);
			if (err != -EBUSY || tries == 100)
				break;
			usleep(10000);
		}
		if (err) {
			q->xsk = NULL;
			goto close_x;
		}
		x->io.nqueues = i + 1;      /* close() deletes the sockets made so far */
		q->fd = xsk_socket__fd(q->xsk);
		if (getsockopt(q->fd, SOL_XDP, XDP_OPTIONS, &xo, &len)) {
			err = -errno;
			goto close_x;
		}
		int qzc = !!(xo.flags & XDP_OPTIONS_ZEROCOPY);
		if (zc >= 0 && qzc != zc) {
			/* Mixed modes would make HXS_IO_F_ZEROCOPY a lie for some queues. */
			err = -EXDEV;
			goto close_x;
		}
		zc = qzc;
		err = tune_socket(x, o, q->fd, qzc);
		if (err)
			goto close_x;
		if (o->xsks_map_fd >= 0) {
			err = xsk_socket__update_xskmap(q->xsk, o->xsks_map_fd);
			if (err)
				goto close_x;
		}
	}
	if (zc > 0)
		x->io.flags |= HXS_IO_F_ZEROCOPY;
	for (uint32_t i = 0; i < nq; i++)
		fill_refill(x, &x->q[i]);
	*out = &x->io;
	return 0;

close_x:
	xsk_close(&x->io);
	return err < 0 ? err : -err;
}
