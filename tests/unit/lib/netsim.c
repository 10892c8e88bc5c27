/* netsim.c - deterministic two-port link simulator in virtual time (see netsim.h).
 *
 *   netsim_send() -> MTU -> queue admission (tail drop) -> serialisation (busy_until)
 *                 -> loss roll -> dup roll -> reorder roll -> [corrupt roll per copy]
 *                 -> heap_push(deliver time, seq)
 *   netsim_deliver() -> heap_pop() while top <= now -> cb() -> free frame
 *
 * cb() gets the caller's `now` (not the frame's due time) so the stack's clock never runs
 * backwards; drive with now = netsim_next() to deliver every frame at its exact time.
 * Counters: sent + duplicated = delivered + lost + queue_drops + oversize + in_flight, per
 * direction.
 *
 * Determinism: each direction draws from its own xoshiro256** stream seeded by splitmix64
 * from (seed, direction); the corruption rolls are drawn only when corruption is configured,
 * so a link without it draws the same stream as before it existed; pending frames sit in a binary min-heap keyed by (deliver time,
 * sequence number), so frames due at the same time come out in the order they were queued.
 * Memory is bounded: at most NETSIM_MAX_FRAMES frames in flight (beyond that a send counts as
 * a queue drop), each frame one allocation freed on delivery or in netsim_free().
 */
#include <stdlib.h>
#include <string.h>

#include "netsim.h"

#define NETSIM_MAX_FRAMES (1u << 18)

struct frame {
	uint64_t t;                 /* delivery time, us */
	uint64_t seq;               /* tie-break: FIFO among equal times */
	int to_port;
	int dir;
	size_t len;
	uint8_t data[];
};

struct dir_state {
	struct netsim_dir_cfg cfg;
	uint64_t rng[4];            /* xoshiro256** state */
	uint64_t busy_until;        /* us: when the bottleneck finishes what it has queued */
	struct netsim_stats st;
};

struct netsim {
	struct dir_state d[2];
	struct frame **heap;
	size_t n, cap;
	uint64_t seq;
};

/* --- PRNG: splitmix64 to seed, xoshiro256** to draw (Blackman & Vigna) ------------------- */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t xoshiro_next(uint64_t s[4])
{
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* Uniform in [0, 1) with 53 bits. */
static double rnd01(struct dir_state *d)
{
	return (double)(xoshiro_next(d->rng) >> 11) * 0x1.0p-53;
}

/* A Bernoulli draw; always consumes one number so streams do not shift with probabilities. */
static int roll(struct dir_state *d, double p)
{
	double u = rnd01(d);

	return p > 0 && u < p;
}

/* --- heap ---------------------------------------------------------------------------------- */
static int before(const struct frame *a, const struct frame *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static int heap_push(struct netsim *ns, struct frame *f)
{
	size_t i;

	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 256;
		struct frame **h = realloc(ns->heap, cap * sizeof(*h));

		if (!h)
			return -1;
		ns->heap = h;
		ns->cap = cap;
	}
	for (i = ns->n++; i > 0 && before(f, ns->heap[(i - 1) / 2]); i = (i - 1) / 2)
		ns->heap[i] = ns->heap[(i - 1) / 2];
	ns->heap[i] = f;
	return 0;
}

static struct frame *heap_pop(struct netsim *ns)
{
	struct frame *top = ns->heap[0], *last = ns->heap[--ns->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= ns->n)
			break;
		if (c + 1 < ns->n && before(ns->heap[c + 1], ns->heap[c]))
			c++;
		if (!before(ns->heap[c], last))
			break;
		ns->heap[i] = ns->heap[c];
		i = c;
	}
	if (ns->n)
		ns->heap[i] = last;
	return top;
}

/* --- API ---------------------------------------------------------------------------------- */
struct netsim *netsim_new(const struct netsim_cfg *cfg, uint64_t seed)
{
	struct netsim *ns = calloc(1, sizeof(*ns));
	int i, k;

	if (!ns)
		return NULL;
	for (i = 0; i < 2; i++) {
		uint64_t x = seed ^ (0x6a09e667f3bcc909ull * (uint64_t)(i + 1));

		ns->d[i].cfg = cfg->dir[i];
		for (k = 0; k < 4; k++)
			ns->d[i].rng[k] = splitmix64(&x);
	}
	return ns;
}

void netsim_free(struct netsim *ns)
{
	if (!ns)
		return;
	while (ns->n)
		free(heap_pop(ns));
	free(ns->heap);
	free(ns);
}

void netsim_set_dir(struct netsim *ns, int dir, const struct netsim_dir_cfg *cfg)
{
	ns->d[dir & 1].cfg = *cfg;
}

const struct netsim_stats *netsim_stats(const struct netsim *ns, int dir)
{
	return &ns->d[dir & 1].st;
}

/* Serialisation time of len bytes at bps, rounded up to a whole us. */
static uint64_t ser_us(size_t len, uint64_t bps)
{
	if (!bps)
		return 0;
	return ((uint64_t)len * 8 * 1000000 + bps - 1) / bps;
}

static int enqueue(struct netsim *ns, int dir, const void *buf, size_t len, uint64_t t)
{
	struct dir_state *d = &ns->d[dir];
	struct frame *f;
	int bad = 0;

	if (ns->n >= NETSIM_MAX_FRAMES)
		return -1;
	f = malloc(sizeof(*f) + len);
	if (!f)
		return -1;
	f->t = t;
	f->seq = ns->seq++;
	f->dir = dir;
	f->to_port = !dir;
	f->len = len;
	memcpy(f->data, buf, len);
	if (d->cfg.corrupt > 0 && len) {
		/* two draws per copy, always both: whether, and which bit */
		uint64_t bit;

		bad = roll(d, d->cfg.corrupt);
		bit = xoshiro_next(d->rng) % (len * 8);
		if (bad)
			f->data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	if (heap_push(ns, f)) {
		free(f);
		return -1;
	}
	d->st.corrupted += (uint64_t)bad;
	ns->d[dir].st.in_flight++;
	return 0;
}

int netsim_send(struct netsim *ns, int port, const void *buf, size_t len, uint64_t now)
{
	int dir = port & 1;
	struct dir_state *d = &ns->d[dir];
	const struct netsim_dir_cfg *c = &d->cfg;
	uint64_t start, t;
	int lost, dup, reord;

	d->st.sent++;
	if (c->mtu && len > c->mtu) {
		d->st.oversize++;
		return -1;
	}
	start = d->busy_until > now ? d->busy_until : now;
	/* Tail drop: the bytes still waiting for the wire (backlog time at the link rate),
	 * plus this frame, must fit in the queue. */
	if (c->queue_bytes && c->bandwidth_bps) {
		uint64_t backlog = (start - now) * c->bandwidth_bps / 8000000;

		if (backlog + len > c->queue_bytes) {
			d->st.queue_drops++;
			return -1;
		}
	}
	d->busy_until = start + ser_us(len, c->bandwidth_bps);
	t = d->busy_until + c->delay_us;
	/* Rolls in a fixed order, each always drawn, so a run is a pure function of the seed. */
	lost = roll(d, c->loss);
	dup = roll(d, c->dup);
	reord = roll(d, c->reorder);
	if (reord && c->reorder_us) {
		t += 1 + xoshiro_next(d->rng) % c->reorder_us;
		d->st.reordered++;
	} else if (reord) {
		reord = 0;
	}
	if (lost) {
		d->st.lost++;
		return 0;
	}
	if (enqueue(ns, dir, buf, len, t)) {
		d->st.queue_drops++;
		return -1;
	}
	if (dup && enqueue(ns, dir, buf, len, t) == 0)
		d->st.duplicated++;
	return 0;
}

uint64_t netsim_next(const struct netsim *ns)
{
	return ns->n ? ns->heap[0]->t : UINT64_MAX;
}

int netsim_deliver(struct netsim *ns, uint64_t now, netsim_rx_fn cb, void *ctx)
{
	int count = 0;

	while (ns->n && ns->heap[0]->t <= now) {
		struct frame *f = heap_pop(ns);
		struct dir_state *d = &ns->d[f->dir];

		d->st.in_flight--;
		d->st.delivered++;
		d->st.bytes_delivered += f->len;
		count++;
		/* the callback may send: new frames go into the heap, never into f */
		cb(ctx, f->to_port, f->data, f->len, now);
		free(f);
	}
	return count;
}
