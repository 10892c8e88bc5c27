/* test_netsim.c - the deterministic link simulator: timing, loss, dup, reorder, MTU,
 * corruption, conservation. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "netsim.h"
/* check.h's CHECK(cond) without a message expands to an empty format string */

struct trace {
	uint64_t hash;              /* FNV-1a over (port, now, len, bytes) of every delivery */
	uint64_t n, bytes;
	uint64_t last_id[2];        /* highest frame id seen per receiving port */
	uint64_t out_of_order;
	uint64_t times[8];
	int ntimes;
	struct netsim *echo;        /* if set, port 1 echoes every frame back */
};

static void fnv(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n--)
		*h = (*h ^ *b++) * 0x100000001b3ull;
}

static void rx(void *ctx, int port, const uint8_t *buf, size_t len, uint64_t now)
{
	struct trace *tr = ctx;
	uint64_t id;

	fnv(&tr->hash, &port, sizeof(port));
	fnv(&tr->hash, &now, sizeof(now));
	fnv(&tr->hash, &len, sizeof(len));
	fnv(&tr->hash, buf, len);
	tr->n++;
	tr->bytes += len;
	if (tr->ntimes < 8)
		tr->times[tr->ntimes++] = now;
	memcpy(&id, buf, sizeof(id));
	if (id < tr->last_id[port & 1])
		tr->out_of_order++;
	else
		tr->last_id[port & 1] = id;
	if (tr->echo && port == 1)
		netsim_send(tr->echo, 1, buf, len, now);
}

static int conserved(const struct netsim *ns, int dir)
{
	const struct netsim_stats *s = netsim_stats(ns, dir);
	return s->sent + s->duplicated == s->delivered + s->lost + s->queue_drops + s->oversize +
	       s->in_flight;
}

/* Sends n frames (8-byte id + filler) one every `gap` us from port 0, delivering as time
 * passes; drains at the end. Returns how often conservation held at checkpoints. */
static long run_stream(struct netsim *ns, struct trace *tr, uint64_t n, uint64_t gap, size_t len,
		       long *checks)
{
	uint8_t buf[1500];
	uint64_t i, now = 0, t;
	long ok = 0;

	memset(buf, 0xab, sizeof(buf));
	*checks = 0;
	for (i = 0; i < n; i++) {
		now = i * gap;
		netsim_deliver(ns, now, rx, tr);
		memcpy(buf, &i, sizeof(i));
		netsim_send(ns, 0, buf, len, now);
		if (i % 997 == 0) {
			(*checks)++;
			ok += conserved(ns, 0) && conserved(ns, 1);
		}
	}
	while ((t = netsim_next(ns)) != UINT64_MAX)
		netsim_deliver(ns, t, rx, tr);
	return ok;
}

static struct netsim_cfg lossy_cfg(void)
{
	struct netsim_cfg c;
	memset(&c, 0, sizeof(c));
	c.dir[0] = (struct netsim_dir_cfg){ .delay_us = 5000, .bandwidth_bps = 100000000,
					    .queue_bytes = 200000, .loss = 0.05, .dup = 0.02,
					    .reorder = 0.03, .reorder_us = 3000 };
	c.dir[1] = c.dir[0];
	return c;
}

static void test_determinism(void)
{
	struct netsim_cfg c = lossy_cfg();
	struct trace a = { .hash = 0xcbf29ce484222325ull }, b = a, d = a;
	struct netsim *n1 = netsim_new(&c, 42), *n2 = netsim_new(&c, 42), *n3 = netsim_new(&c, 43);
	long checks;

	t_case("same seed gives the same delivery trace; another seed a different one");
	run_stream(n1, &a, 20000, 50, 700, &checks);
	run_stream(n2, &b, 20000, 50, 700, &checks);
	run_stream(n3, &d, 20000, 50, 700, &checks);
	CHECK(a.n > 15000, "delivered %llu", (unsigned long long)a.n);
	CHECK_EQ(a.n, b.n);
	CHECK(a.hash == b.hash, "trace hashes differ");
	CHECK(memcmp(netsim_stats(n1, 0), netsim_stats(n2, 0), sizeof(struct netsim_stats)) == 0);
	CHECK(a.hash != d.hash, "seed 43 gave the same trace as seed 42");
	netsim_free(n1);
	netsim_free(n2);
	netsim_free(n3);
}

static void test_loss_rate(void)
{
	struct netsim_cfg c;
	struct trace tr = { .hash = 0 };
	struct netsim *ns;
	const struct netsim_stats *s;
	long checks, ok;
	double sd;

	t_case("loss rate over 100k frames within 5 sigma of 5%; conservation holds throughout");
	memset(&c, 0, sizeof(c));
	c.dir[0] = (struct netsim_dir_cfg){ .delay_us = 100, .loss = 0.05 };
	ns = netsim_new(&c, 7);
	ok = run_stream(ns, &tr, 100000, 10, 100, &checks);
	s = netsim_stats(ns, 0);
	sd = sqrt(100000 * 0.05 * 0.95);
	CHECK(fabs((double)s->lost - 5000) < 5 * sd, "lost %llu", (unsigned long long)s->lost);
	CHECK_EQ(s->sent, 100000);
	CHECK_EQ(s->delivered + s->lost, 100000);
	CHECK_EQ(tr.n, s->delivered);
	CHECK_EQ(s->bytes_delivered, s->delivered * 100);
	CHECK_EQ(s->in_flight, 0);
	CHECK_EQ(s->queue_drops, 0);
	CHECK_EQ(ok, checks);
	CHECK_EQ(tr.out_of_order, 0);        /* no reordering configured: FIFO */
	netsim_free(ns);
}

static void test_timing(void)
{
	struct netsim_cfg c;
	struct trace tr = { .hash = 0 };
	struct netsim *ns;
	uint8_t buf[1000] = { 0 };
	uint64_t t;
	int i;

	t_case("bandwidth and delay: 1000-byte frames at 8 Mbit/s + 1 ms arrive at 2, 3, 4 ms exactly");
	memset(&c, 0, sizeof(c));
	c.dir[0] = (struct netsim_dir_cfg){ .delay_us = 1000, .bandwidth_bps = 8000000 };
	ns = netsim_new(&c, 1);
	for (i = 0; i < 3; i++) {
		uint64_t id = (uint64_t)i;
		memcpy(buf, &id, 8);
		CHECK_EQ(netsim_send(ns, 0, buf, sizeof(buf), 0), 0);
	}
	CHECK_EQ(netsim_next(ns), 2000);
	CHECK_EQ(netsim_deliver(ns, 1999, rx, &tr), 0);
	while ((t = netsim_next(ns)) != UINT64_MAX)
		CHECK_EQ(netsim_deliver(ns, t, rx, &tr), 1);
	CHECK_EQ(tr.ntimes, 3);
	CHECK_EQ(tr.times[0], 2000);
	CHECK_EQ(tr.times[1], 3000);
	CHECK_EQ(tr.times[2], 4000);
	/* the link idles, then a frame sent at 10 ms starts at once */
	CHECK_EQ(netsim_send(ns, 0, buf, 500, 10000), 0);
	CHECK_EQ(netsim_next(ns), 10000 + 500 + 1000);
	netsim_free(ns);

	t_case("tail drop: a 2500-byte queue takes two 1000-byte frames sent together, drops three");
	ns = netsim_new(&c, 1);
	c.dir[0].queue_bytes = 2500;
	netsim_set_dir(ns, 0, &c.dir[0]);
	for (i = 0; i < 5; i++)
		netsim_send(ns, 0, buf, sizeof(buf), 0);
	CHECK_EQ(netsim_stats(ns, 0)->queue_drops, 3);
	CHECK_EQ(netsim_stats(ns, 0)->in_flight, 2);
	/* after the first frame left the queue (1 ms), there is room again */
	CHECK_EQ(netsim_send(ns, 0, buf, sizeof(buf), 1000), 0);
	CHECK(conserved(ns, 0));
	netsim_free(ns);                      /* frames still pending: freed here (ASan checks) */
}

static void test_dup_reorder(void)
{
	struct netsim_cfg c;
	struct trace tr = { .hash = 0 };
	struct netsim *ns;
	const struct netsim_stats *s;
	long checks, ok;

	t_case("duplication and reordering rates over 100k frames; reordered frames arrive out of order");
	memset(&c, 0, sizeof(c));
	c.dir[0] = (struct netsim_dir_cfg){ .delay_us = 1000, .dup = 0.1, .reorder = 0.2,
					    .reorder_us = 500 };
	ns = netsim_new(&c, 99);
	ok = run_stream(ns, &tr, 100000, 10, 64, &checks);
	s = netsim_stats(ns, 0);
	CHECK(fabs((double)s->duplicated - 10000) < 5 * sqrt(100000 * 0.1 * 0.9),
	      "dup %llu", (unsigned long long)s->duplicated);
	CHECK(fabs((double)s->reordered - 20000) < 5 * sqrt(100000 * 0.2 * 0.8),
	      "reordered %llu", (unsigned long long)s->reordered);
	CHECK_EQ(s->delivered, 100000 + s->duplicated);
	CHECK_EQ(tr.n, s->delivered);
	CHECK(tr.out_of_order > 1000, "out of order %llu", (unsigned long long)tr.out_of_order);
	CHECK_EQ(ok, checks);
	CHECK(conserved(ns, 0));
	netsim_free(ns);
}

static void test_echo(void)
{
	struct netsim_cfg c = lossy_cfg();
	struct trace tr = { .hash = 0 };
	struct netsim *ns;
	const struct netsim_stats *s0, *s1;
	long checks;

	t_case("a callback may send: port 1 echoes; both directions conserve frames, none left");
	ns = netsim_new(&c, 5);
	tr.echo = ns;
	run_stream(ns, &tr, 10000, 100, 300, &checks);
	s0 = netsim_stats(ns, 0);
	s1 = netsim_stats(ns, 1);
	CHECK_EQ(s1->sent, s0->delivered);
	CHECK(s1->delivered > 0);
	CHECK_EQ(tr.n, s0->delivered + s1->delivered);
	CHECK_EQ(s0->in_flight + s1->in_flight, 0);
	CHECK(conserved(ns, 0) && conserved(ns, 1));
	CHECK(netsim_next(ns) == UINT64_MAX);
	netsim_free(ns);
}

/* Counts delivered frames by how many bits differ from all-0xab. */
struct bits {
	uint64_t frames, clean, one_bit, more;
};

static void rx_bits(void *ctx, int port, const uint8_t *buf, size_t len, uint64_t now)
{
	struct bits *b = ctx;
	int d = 0;

	(void)port;
	(void)now;
	for (size_t i = 0; i < len; i++)
		d += __builtin_popcount((unsigned)(buf[i] ^ 0xab));
	b->frames++;
	if (d == 0)
		b->clean++;
	else if (d == 1)
		b->one_bit++;
	else
		b->more++;
}

static void test_mtu_corrupt(void)
{
	struct netsim_cfg c;
	struct netsim *ns;
	const struct netsim_stats *s;
	struct bits b = { 0 };
	uint8_t buf[1500];
	uint64_t t;

	t_case("MTU: a frame up to the MTU is carried, a larger one dropped and counted");
	memset(&c, 0, sizeof(c));
	memset(buf, 0xab, sizeof(buf));
	c.dir[0] = (struct netsim_dir_cfg){ .mtu = 1000, .delay_us = 10 };
	ns = netsim_new(&c, 3);
	CHECK_EQ(netsim_send(ns, 0, buf, 1000, 0), 0);
	CHECK_EQ(netsim_send(ns, 0, buf, 1001, 0), -1);
	CHECK_EQ(netsim_send(ns, 1, buf, 1500, 0), 0);        /* dir[1] has no MTU */
	s = netsim_stats(ns, 0);
	CHECK_EQ(s->oversize, 1);
	CHECK_EQ(s->in_flight, 1);
	CHECK(conserved(ns, 0) && conserved(ns, 1));
	while ((t = netsim_next(ns)) != UINT64_MAX)
		netsim_deliver(ns, t, rx_bits, &b);
	CHECK_EQ(b.frames, 2);
	CHECK_EQ(s->delivered, 1);
	CHECK_EQ(s->bytes_delivered, 1000);
	netsim_free(ns);

	t_case("corruption: one bit flipped in 10% of 100k frames (duplicates too), the rest intact");
	memset(&c, 0, sizeof(c));
	c.dir[0] = (struct netsim_dir_cfg){ .delay_us = 10, .dup = 0.05, .corrupt = 0.1 };
	ns = netsim_new(&c, 11);
	memset(&b, 0, sizeof(b));
	for (uint64_t i = 0; i < 100000; i++) {
		netsim_deliver(ns, i * 5, rx_bits, &b);
		netsim_send(ns, 0, buf, 64 + i % 200, i * 5);
	}
	while ((t = netsim_next(ns)) != UINT64_MAX)
		netsim_deliver(ns, t, rx_bits, &b);
	s = netsim_stats(ns, 0);
	CHECK(fabs((double)s->corrupted - 0.1 * (double)s->delivered) <
	      5 * sqrt((double)s->delivered * 0.1 * 0.9), "corrupted %llu of %llu",
	      (unsigned long long)s->corrupted, (unsigned long long)s->delivered);
	CHECK_EQ(b.one_bit, s->corrupted);                /* exactly one bit, in those only */
	CHECK_EQ(b.more, 0);
	CHECK_EQ(b.clean + b.one_bit, s->delivered);
	CHECK_EQ(s->delivered, 100000 + s->duplicated);
	CHECK(conserved(ns, 0));
	netsim_free(ns);

	t_case("an MTU no frame exceeds leaves the delivery trace as it is without one");
	{
		struct netsim_cfg c1 = lossy_cfg(), c2 = lossy_cfg();
		struct trace a = { .hash = 0xcbf29ce484222325ull }, d = a;
		struct netsim *n1, *n2;
		long checks;

		c2.dir[0].mtu = c2.dir[1].mtu = 700;          /* not exceeded: no effect */
		n1 = netsim_new(&c1, 42);
		n2 = netsim_new(&c2, 42);
		run_stream(n1, &a, 5000, 50, 700, &checks);
		run_stream(n2, &d, 5000, 50, 700, &checks);
		CHECK(a.hash == d.hash, "an MTU that is not exceeded changed the trace");
		netsim_free(n1);
		netsim_free(n2);
	}
}

int main(void)
{
	test_determinism();
	test_loss_rate();
	test_timing();
	test_dup_reorder();
	test_echo();
	test_mtu_corrupt();
	return t_done();
}
