/* test_tcp_ring.c - the chunked byte ring (user/tcp/tcp_buf.c) against a plain model: random
 * appends, writes beyond the end (as reassembly places out-of-order bytes), the end moved
 * over written bytes (a hole filled), reads and consumes, for capacities that are and are not
 * a multiple of the chunk. After every operation: every byte reads back as the model has it,
 * a random stretch read with hxs_tcp_ring__read_csum() has the model's bytes and their RFC 1071
 * sum, every byte that may hold data has its chunk, the `backed` promise holds, and the instance's
 * HxsTcpBufBytes is exactly the chunks and table held. At the end the ring drains and, a sweep
 * later, nothing is held. ASan checks every access. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/csum.h"
#include "tcp/tcp.h"
#include "tcp/tcp_conn.h"

static uint8_t *no_alloc(void *ctx, uint32_t len, void **h) { (void)ctx; (void)len; (void)h; return NULL; }
static void no_send(void *ctx, void *h, struct hxs_addr s, struct hxs_addr d, uint32_t len, uint8_t tos, uint8_t ttl) { (void)ctx; (void)h; (void)s; (void)d; (void)len; (void)tos; (void)ttl; }

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
}

/* The model: byte and "written" flag by position (head-relative offsets map to positions
 * exactly as the ring's do). */
struct model {
	uint8_t *b, *w;
	uint32_t cap, head, len, hi;
};

static uint32_t mpos(const struct model *m, uint32_t off) { return (m->head + off) % m->cap; }

static uint64_t held_bytes(const struct hxs_tcp_ring *r)
{
	uint32_t ns = (r->cap + HXS_TCP_CHUNK - 1) / HXS_TCP_CHUNK, slots = HXS_TCP_TAB_SLOTS;
	while (slots < ns)
		slots <<= 1;
	return r->chunk ? (uint64_t)r->nchunks * HXS_TCP_CHUNK + slots * sizeof(uint8_t *) : 0;
}

/* Everything the ring promises, against the model; 1 if all holds. */
static int consistent(struct hxs_tcp *tcp, const struct hxs_tcp_ring *r, const struct model *m)
{
	static uint8_t got[1 << 16];
	int ok = 1;
	ok &= CHECK_EQ(r->len, m->len);
	ok &= CHECK(r->hi >= m->hi, "hi %u < %u", r->hi, m->hi);
	ok &= CHECK(r->backed <= r->cap);
	for (uint32_t off = 0; off < r->cap && ok; off++) {
		uint32_t pos = (r->head + off) % r->cap;
		uint8_t *ch = r->chunk ? r->chunk[pos / HXS_TCP_CHUNK] : NULL;
		if (off < r->backed)
			ok &= CHECK(ch != NULL, "offset %u below backed %u has no chunk", off, r->backed);
		if (m->w[mpos(m, off)])
			ok &= CHECK(ch != NULL, "written offset %u has no chunk", off);
	}
	/* every written byte reads back (in order ones and those beyond the end alike) */
	for (uint32_t off = 0; off < m->cap && ok; off++) {
		uint32_t p = mpos(m, off);
		if (!m->w[p])
			continue;
		hxs_tcp_ring__read(r, off, got, 1);
		ok &= CHECK_EQ(got[0], m->b[p]);
	}
	if (m->len) {
		uint32_t n = m->len < sizeof(got) ? m->len : (uint32_t)sizeof(got);
		hxs_tcp_ring__read(r, 0, got, n);
		for (uint32_t i = 0; i < n && ok; i++)
			ok &= CHECK_EQ(got[i], m->b[mpos(m, i)]);
	}
	/* a read of a random stretch of the in-order bytes (any offset, so pieces of odd length
	 * at chunk ends and the wrap) that also sums them: the same bytes, and the sum of them */
	if (m->len && ok) {
		static uint8_t want[1 << 16];
		uint32_t off = rnd(m->len), n = 1 + rnd(m->len - off);
		uint32_t sum;

		if (n > sizeof(got))
			n = (uint32_t)sizeof(got);
		memset(got, 0, n);
		for (uint32_t i = 0; i < n; i++)
			want[i] = m->b[mpos(m, off + i)];
		sum = hxs_tcp_ring__read_csum(r, off, got, n);
		ok &= CHECK(memcmp(got, want, n) == 0, "read_csum bytes at %u+%u", off, n);
		ok &= CHECK(hxs_csum_fold(sum) == hxs_csum_fold(hxs_csum_add(0, want, n)),
			    "read_csum sum at %u+%u", off, n);
	}
	ok &= CHECK_EQ(hxs_tcp__res(tcp)[HXS_TCP_RES_HxsTcpBufBytes], held_bytes(r));
	return ok;
}

static void run(uint32_t cap, int ops, int pressure)
{
	struct hxs_tcp_tx_ops tx = { no_alloc, no_send, NULL };
	struct hxs_tcp_cfg cfg = { 0 };
	struct hxs_tcp_ring r;
	struct model m = { .cap = cap };
	struct hxs_tcp *tcp;
	uint64_t now = 0;
	uint8_t buf[6000];
	int ok = 1;

	if (pressure) {
		cfg.mem_low = 1;
		cfg.mem_pressure = 1;      /* the first chunk enters pressure: nothing kept */
	}
	CHECK_EQ(hxs_tcp__new(&tcp, &cfg, &tx, NULL, NULL, 0), 0);
	m.b = calloc(cap, 1);
	m.w = calloc(cap, 1);
	hxs_tcp_ring__init(&r, cap);
	for (int op = 0; op < ops && ok; op++) {
		uint32_t k = rnd(10), room = cap - m.len, n, off;
		if (k < 4) {                                   /* append */
			n = rnd((room < sizeof(buf) ? room : (uint32_t)sizeof(buf)) + 1);
			for (uint32_t i = 0; i < n; i++)
				buf[i] = (uint8_t)rnd(256);
			ok &= CHECK_EQ(hxs_tcp_ring__reserve(tcp, &r, m.len, n), n);
			hxs_tcp_ring__append(&r, buf, n);
			for (uint32_t i = 0; i < n; i++) {
				m.b[mpos(&m, m.len + i)] = buf[i];
				m.w[mpos(&m, m.len + i)] = 1;
			}
			m.len += n;
			if (m.hi < m.len)
				m.hi = m.len;
		} else if (k < 6 && room > 1) {                /* out of order, beyond the end */
			off = m.len + 1 + rnd(room - 1);
			n = 1 + rnd(cap - off < 3000 ? cap - off : 3000);
			for (uint32_t i = 0; i < n; i++)
				buf[i] = (uint8_t)rnd(256);
			ok &= CHECK_EQ(hxs_tcp_ring__reserve(tcp, &r, off, n), n);
			hxs_tcp_ring__write(&r, off, buf, n);
			for (uint32_t i = 0; i < n; i++) {
				m.b[mpos(&m, off + i)] = buf[i];
				m.w[mpos(&m, off + i)] = 1;
			}
			if (m.hi < off + n)
				m.hi = off + n;
		} else if (k < 7) {                            /* a hole fills: the end moves on */
			while (m.len < cap && m.w[mpos(&m, m.len)])
				m.len++;
			r.len = m.len;
		} else if (k < 9) {                            /* read and consume */
			n = rnd(m.len + 1);
			hxs_tcp_ring__consume(tcp, &r, n);
			for (uint32_t i = 0; i < n; i++)
				m.w[mpos(&m, i)] = 0;
			m.head = mpos(&m, n);
			m.len -= n;
			m.hi = m.hi > n ? m.hi - n : 0;
			/* the ring may restart head when it drains: follow it (positions are the
			 * ring's business, offsets are what must agree) */
			if (!m.hi && r.head != m.head)
				m.head = r.head;
		} else {                                       /* time passes: the sweep */
			now += HXS_TCP_BUF_KEEP_US / 2;
			hxs_tcp__poll(tcp, now);
		}
		ok &= consistent(tcp, &r, &m);
	}
	/* drain everything (holes filled by fiat, as the peer's retransmissions would) */
	memset(m.w, 0, cap);
	m.hi = 0;
	r.len = r.hi;
	hxs_tcp_ring__consume(tcp, &r, r.len);
	ok &= CHECK_EQ(r.len + r.hi, 0);
	if (pressure)
		ok &= CHECK_EQ(hxs_tcp__res(tcp)[HXS_TCP_RES_HxsTcpBufBytes], 0);
	else
		ok &= CHECK(r.nchunks <= 1, "%u chunks kept after draining", r.nchunks);
	/* timers at their times, as a stack's loop runs them, for two sweep periods */
	for (uint64_t until = now + 2 * HXS_TCP_BUF_KEEP_US + 1000, d;
	     (d = hxs_tcp__next_deadline(tcp)) <= until;)
		hxs_tcp__poll(tcp, d > now ? (now = d) : now);
	ok &= CHECK_EQ(hxs_tcp__res(tcp)[HXS_TCP_RES_HxsTcpBufBytes], 0);
	ok &= CHECK(!r.chunk && !r.nchunks);
	hxs_tcp_ring__free(tcp, &r);
	hxs_tcp__free(tcp);
	free(m.b);
	free(m.w);
	(void)ok;
}

int main(void)
{
	t_case("ring 16 KiB (4 chunks): 1500 random appends, out-of-order writes, fills, consumes, sweeps agree with the model");
	run(16384, 1500, 0);
	t_case("ring 10000 bytes (last chunk partial): the same");
	run(10000, 1500, 0);
	t_case("ring 2048 bytes (less than a chunk): the same");
	run(2048, 2000, 0);
	t_case("ring 40000 bytes under memory pressure (a drained ring keeps nothing): the same");
	run(40000, 600, 1);
	return t_done();
}
