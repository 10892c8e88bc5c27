/* tcp_buf.c - byte rings for the send and receive buffers (SO_SNDBUF / SO_RCVBUF bounded),
 * their bytes in chunks of the instance's pool (tcp_mem.c) held only while data needs them.
 *
 * send():       hxs_tcp_ring__reserve() -> chunks for the new bytes, then __append()
 * output:       hxs_tcp_ring__read_csum() (the payload copied into the frame and summed in
 *               the same pass; retransmissions read the same bytes again until acked)
 * reassembly:   hxs_tcp_ring__reserve() + __write(), which places out-of-order bytes beyond
 *               `len` at their final offset
 * ACK / recv(): hxs_tcp_ring__consume() -> chunks left without data -> hxs_tcp_chunk_put();
 *               a ring that drains keeps one chunk and its table on the drained list
 * t_sweep:      sweep_fire() -> a period later, a ring still empty gives them back, so an
 *               idle connection holds no buffer memory (a busy one takes no chunk per segment)
 *
 * The ring's capacity is what it may hold (the window offered is computed from it), not what
 * it holds: a position p (0 <= p < cap) lives in chunk p >> HXS_TCP_CHUNK_SHIFT of the table.
 * `hi` bounds the bytes from head that may hold data (len, or the far end of out-of-order
 * bytes), so consume() knows which chunks only hold bytes nobody will read again.
 */
#include <errno.h>
#include <string.h>

#include "lib/csum.h"

#include "tcp_conn.h"
#include "tcp_csum.h"

static uint32_t nslots(uint32_t cap)
{
	return (cap + HXS_TCP_CHUNK - 1) >> HXS_TCP_CHUNK_SHIFT;
}

void hxs_tcp_ring__init(struct hxs_tcp_ring *r, uint32_t cap)
{
	memset(r, 0, sizeof(*r));
	r->cap = cap;
}

/* Position of the byte `off` after head (off <= cap, head < cap). */
static uint32_t ring_pos(const struct hxs_tcp_ring *r, uint32_t off)
{
	uint32_t p = r->head + off;
	return p >= r->cap ? p - r->cap : p;
}

/* Bytes from pos to the end of its chunk (or of the ring). */
static uint32_t run(const struct hxs_tcp_ring *r, uint32_t pos)
{
	uint32_t end = (pos | (HXS_TCP_CHUNK - 1)) + 1;
	return (end < r->cap ? end : r->cap) - pos;
}

/* hxs_tcp_ring__read() from pos on, run by run (a copy over a chunk's end, or the ring's) */
static __attribute__((noinline)) void read_runs(const struct hxs_tcp_ring *r, uint32_t pos, uint8_t *d,
						 uint32_t n)
{
	while (n) {
		uint32_t k = run(r, pos);
		if (k > n)
			k = n;
		memcpy(d, r->chunk[pos >> HXS_TCP_CHUNK_SHIFT] + (pos & (HXS_TCP_CHUNK - 1)), k);
		d += k;
		n -= k;
		pos += k;
		if (pos == r->cap)
			pos = 0;
	}
}

void hxs_tcp_ring__read(const struct hxs_tcp_ring *r, uint32_t off, void *p, uint32_t n)
{
	uint32_t pos = ring_pos(r, off);
	/* all in one run (a short read): one copy */
	if (n > run(r, pos)) {
		read_runs(r, pos, p, n);
		return;
	}
	if (n)
		memcpy(p, r->chunk[pos >> HXS_TCP_CHUNK_SHIFT] + (pos & (HXS_TCP_CHUNK - 1)), n);
}

/* hxs_tcp_ring__read_csum() from pos on, run by run */
static __attribute__((noinline)) uint32_t read_csum_runs(const struct hxs_tcp_ring *r, uint32_t pos,
							  uint8_t *d, uint32_t n)
{
	uint32_t sum = 0, done = 0;
	while (n) {
		uint32_t k = run(r, pos);
		if (k > n)
			k = n;
		/* a piece after an odd-length one starts mid-word: its sum is joined byte-swapped */
		sum = hxs_csum_join(sum, hxs_csum_copy(0, d,
						       r->chunk[pos >> HXS_TCP_CHUNK_SHIFT] +
						       (pos & (HXS_TCP_CHUNK - 1)), k), done & 1);
		d += k;
		n -= k;
		done += k;
		pos += k;
		if (pos == r->cap)
			pos = 0;
	}
	return sum;
}

uint32_t hxs_tcp_ring__read_csum(const struct hxs_tcp_ring *r, uint32_t off, void *p, uint32_t n)
{
	uint32_t pos = ring_pos(r, off);
	/* a short payload in one run (a request, an answer): copied, then summed where it landed
	 * (tcp_csum.h) */
	if (n >= HXS_TCP_SUM_SHORT || n > run(r, pos))
		return read_csum_runs(r, pos, p, n);
	memcpy(p, r->chunk[pos >> HXS_TCP_CHUNK_SHIFT] + (pos & (HXS_TCP_CHUNK - 1)), n);
	return hxs_tcp_sum_short(0, p, n);
}

/* hxs_tcp_ring__write() from pos on, run by run */
static __attribute__((noinline)) void write_runs(struct hxs_tcp_ring *r, uint32_t pos, const uint8_t *s,
						  uint32_t n)
{
	while (n) {
		uint32_t k = run(r, pos);
		if (k > n)
			k = n;
		memcpy(r->chunk[pos >> HXS_TCP_CHUNK_SHIFT] + (pos & (HXS_TCP_CHUNK - 1)), s, k);
		s += k;
		n -= k;
		pos += k;
		if (pos == r->cap)
			pos = 0;
	}
}

void hxs_tcp_ring__write(struct hxs_tcp_ring *r, uint32_t off, const void *p, uint32_t n)
{
	uint32_t pos = ring_pos(r, off);
	if (off + n > r->hi)
		r->hi = off + n;
	/* all in one run (a short write): one copy */
	if (n > run(r, pos)) {
		write_runs(r, pos, p, n);
		return;
	}
	if (n)
		memcpy(r->chunk[pos >> HXS_TCP_CHUNK_SHIFT] + (pos & (HXS_TCP_CHUNK - 1)), p, n);
}

uint32_t hxs_tcp_ring__append(struct hxs_tcp_ring *r, const void *p, uint32_t n)
{
	hxs_tcp_ring__write(r, r->len, p, n);
	r->len += n;
	return n;
}

/* hxs_tcp_ring__reserve_slow()'s general case: every chunk of [off, off + n) not yet
 * backed. */
static __attribute__((noinline)) uint32_t reserve_walk(struct hxs_tcp *tcp, struct hxs_tcp_ring *r,
							uint32_t off, uint32_t n)
{
	uint32_t from, end = off + n, pos, done;
	if (!r->chunk) {
		r->chunk = hxs_tcp_tab_get(tcp, nslots(r->cap));
		if (!r->chunk)
			return 0;
	}
	/* every byte of [head, head + backed) has its chunk: the look starts past them */
	from = off < r->backed ? r->backed : off;
	pos = ring_pos(r, from);
	while (from < end) {
		uint8_t **slot = &r->chunk[pos >> HXS_TCP_CHUNK_SHIFT];
		uint32_t k = run(r, pos);
		if (!*slot) {
			*slot = hxs_tcp_chunk_get(tcp);
			if (!*slot)
				break;
			r->nchunks++;
		}
		from += k;
		pos += k;
		if (pos == r->cap)
			pos = 0;
	}
	done = (from < end ? from : end) - off;
	if (!r->nchunks) {
		hxs_tcp_tab_put(tcp, r->chunk, nslots(r->cap));
		r->chunk = NULL;
	} else if (done && off <= r->backed && off + done > r->backed) {
		/* contiguous with what was backed: now up to the end of the last byte's chunk */
		uint32_t last = ring_pos(r, off + done - 1);
		uint32_t b = off + done + run(r, last) - 1;
		r->backed = b < r->cap ? b : r->cap;
	}
	return done;
}

uint32_t hxs_tcp_ring__reserve_slow(struct hxs_tcp *tcp, struct hxs_tcp_ring *r, uint32_t off, uint32_t n)
{
	uint32_t end = off + n;
	if (!n)
		return 0;
	/* the usual call: an append running past the backed bytes into the one chunk after
	 * them (reserve_walk() gives the same result; it also handles the pool's refusal) */
	if (r->chunk && off <= r->backed && end > r->backed && r->backed < r->cap) {
		uint32_t pos = ring_pos(r, r->backed), k = run(r, pos);
		if (end <= r->backed + k) {
			uint8_t **slot = &r->chunk[pos >> HXS_TCP_CHUNK_SHIFT];
			if (!*slot && (*slot = hxs_tcp_chunk_get(tcp)))
				r->nchunks++;
			if (*slot) {
				/* to the end of that chunk, which may hold head (wrapped) */
				r->backed = r->backed + k < r->cap ? r->backed + k : r->cap;
				return n;
			}
		}
	}
	return reserve_walk(tcp, r, off, n);
}

static void slot_put(struct hxs_tcp *tcp, struct hxs_tcp_ring *r, uint32_t i)
{
	if (!r->chunk[i])
		return;
	hxs_tcp_chunk_put(tcp, r->chunk[i]);
	r->chunk[i] = NULL;
	r->nchunks--;
}

/* Gives every chunk back, starting at the slot of position `from` (where they sit, usually),
 * and the table with the last. */
static void put_all(struct hxs_tcp *tcp, struct hxs_tcp_ring *r, uint32_t from)
{
	uint32_t n = nslots(r->cap), i = from >> HXS_TCP_CHUNK_SHIFT;
	r->backed = 0;
	if (!r->chunk)
		return;
	for (uint32_t k = 0; k < n && r->nchunks; k++) {
		slot_put(tcp, r, i);
		if (++i == n)
			i = 0;
	}
	hxs_tcp_tab_put(tcp, r->chunk, n);
	r->chunk = NULL;
}

/* Does the chunk of slot i hold a byte of [head, head + hi)? */
static int slot_live(const struct hxs_tcp_ring *r, uint32_t i)
{
	uint32_t a = i << HXS_TCP_CHUNK_SHIFT;
	uint32_t b = a + HXS_TCP_CHUNK < r->cap ? a + HXS_TCP_CHUNK : r->cap;
	if (a <= r->head && r->head < b)
		return 1;
	/* the slot does not contain head: it is one stretch of offsets from head */
	uint32_t rel = a >= r->head ? a - r->head : a + r->cap - r->head;
	return rel < r->hi;
}

static void drained_unlink(struct hxs_tcp_ring *r)
{
	if (!r->dpprev)
		return;
	*r->dpprev = r->dnext;
	if (r->dnext)
		r->dnext->dpprev = r->dpprev;
	r->dnext = NULL;
	r->dpprev = NULL;
}

/* The ring is empty: keep the table and the chunk of the last byte read (head moves to its
 * start), give the others back, and wait on the drained list for the sweep. */
static void drained(struct hxs_tcp *tcp, struct hxs_tcp_ring *r, uint32_t last_pos)
{
	uint32_t ns = nslots(r->cap), keep = last_pos >> HXS_TCP_CHUNK_SHIFT, i = keep;
	if (tcp->mem.pressure) {
		put_all(tcp, r, last_pos);
		r->head = 0;
		return;
	}
	/* the other chunks go: those of the bytes just consumed lie right behind the kept one,
	 * so the walk goes backwards from it and ends with the last of them (a stale chunk
	 * beyond the data, rarely, makes it go round); forwards, it went round the whole table
	 * (cap / HXS_TCP_CHUNK slots) on every drain */
	for (uint32_t k = 1; k < ns && r->nchunks > 1; k++) {
		i = i ? i - 1 : ns - 1;
		slot_put(tcp, r, i);
	}
	r->head = keep << HXS_TCP_CHUNK_SHIFT;
	r->backed = run(r, r->head);
	if (r->dpprev)
		return;
	r->dnext = tcp->drained[tcp->drained_cur];
	if (r->dnext)
		r->dnext->dpprev = &r->dnext;
	r->dpprev = &tcp->drained[tcp->drained_cur];
	*r->dpprev = r;
	if (!hxs_timer__armed(&tcp->t_sweep))
		hxs_wheel__arm(&tcp->wheel, &tcp->t_sweep, tcp->now + HXS_TCP_BUF_KEEP_US);
}

/* The sweep: every ring that joined the drained list a period ago and is still empty gives
 * its memory back; the rings of this period wait for the next. */
static void sweep_fire(struct hxs_timer *t, uint64_t now)
{
	struct hxs_tcp *tcp = container_of(t, struct hxs_tcp, t_sweep);
	struct hxs_tcp_ring **old = &tcp->drained[tcp->drained_cur ^ 1];
	while (*old) {
		struct hxs_tcp_ring *r = *old;
		drained_unlink(r);
		if (!r->len && !r->hi)
			put_all(tcp, r, r->head);
	}
	tcp->drained_cur ^= 1;
	if (tcp->drained[tcp->drained_cur ^ 1])
		hxs_wheel__arm(&tcp->wheel, &tcp->t_sweep, now + HXS_TCP_BUF_KEEP_US);
}

void hxs_tcp_buf_init(struct hxs_tcp *tcp)
{
	hxs_timer__init(&tcp->t_sweep, sweep_fire);
}

void hxs_tcp_ring__consume_slow(struct hxs_tcp *tcp, struct hxs_tcp_ring *r, uint32_t n)
{
	uint32_t old = r->head;
	if (n > r->len)
		n = r->len;
	if (!n)
		return;
	r->head = ring_pos(r, n);
	r->len -= n;
	r->hi = r->hi > n ? r->hi - n : 0;
	r->backed = r->backed > n ? r->backed - n : 0;
	if (!r->hi) {
		/* Nothing left, in order or beyond. */
		drained(tcp, r, ring_pos(r, r->cap - 1));
		return;
	}
	/* The chunks the consumed bytes lay in, from the one of the old head on: a chunk goes
	 * when nothing of it lies in [head, head + hi) any more. */
	uint32_t i = old >> HXS_TCP_CHUNK_SHIFT, last = (r->head >> HXS_TCP_CHUNK_SHIFT), ns = nslots(r->cap);
	for (;;) {
		if (r->chunk[i] && !slot_live(r, i))
			slot_put(tcp, r, i);
		if (i == last)
			break;
		if (++i == ns)
			i = 0;
	}
	if (!r->nchunks) {
		hxs_tcp_tab_put(tcp, r->chunk, ns);
		r->chunk = NULL;
	}
}

void hxs_tcp_ring__free(struct hxs_tcp *tcp, struct hxs_tcp_ring *r)
{
	drained_unlink(r);
	put_all(tcp, r, r->head);
	memset(r, 0, sizeof(*r));
}

int hxs_tcp_ring__resize(struct hxs_tcp *tcp, struct hxs_tcp_ring *r, uint32_t cap)
{
	struct hxs_tcp_ring nr;
	if (r->len > cap || !cap)
		return -EINVAL;
	hxs_tcp_ring__init(&nr, cap);
	if (hxs_tcp_ring__reserve(tcp, &nr, 0, r->len) < r->len) {
		put_all(tcp, &nr, 0);
		return -ENOBUFS;
	}
	/* the new ring starts at position 0: offsets are positions, chunk by chunk */
	for (uint32_t off = 0; off < r->len; off += HXS_TCP_CHUNK) {
		uint32_t k = r->len - off < HXS_TCP_CHUNK ? r->len - off : HXS_TCP_CHUNK;
		hxs_tcp_ring__read(r, off, nr.chunk[off >> HXS_TCP_CHUNK_SHIFT], k);
	}
	nr.len = nr.hi = r->len;
	drained_unlink(r);
	put_all(tcp, r, r->head);
	*r = nr;
	return 0;
}
