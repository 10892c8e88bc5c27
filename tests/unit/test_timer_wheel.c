/* test_timer_wheel.c - the hierarchical timing wheel against a reference model. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
/* check.h's CHECK(cond) without a message expands to an empty format string */
#include "lib/timer_wheel.h"

#define container_of(p, T, m) ((T *)((char *)(p) - offsetof(T, m)))
#define TICK HXS_WHEEL_TICK_US

static uint64_t roundup_tick(uint64_t us) { return (us + TICK - 1) / TICK * TICK; }

/* splitmix64: the test's own deterministic PRNG */
static uint64_t rng_state = 0x1234567;
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* --- simple cases ------------------------------------------------------------------------ */
struct rec {
	struct hxs_timer t;
	int id;
	uint64_t fired_at;
	int fired;
};
static int order[64], norder;

static void rec_fire(struct hxs_timer *t, uint64_t now)
{
	struct rec *r = container_of(t, struct rec, t);
	r->fired++;
	r->fired_at = now;
	order[norder++] = r->id;
}

/* Drives the wheel with run(next()) until empty or `until`. */
static void drive(struct hxs_wheel *w, uint64_t until)
{
	uint64_t n;
	while ((n = hxs_wheel__next(w)) != UINT64_MAX && n <= until)
		hxs_wheel__run(w, n);
	hxs_wheel__run(w, until);
}

static void test_order(void)
{
	struct hxs_wheel w;
	struct rec r[8];
	/* deadlines spanning levels 0..4, given out of order */
	uint64_t exp[8] = { 5000000, 100, 64, 1, 70000, 300000000, 4096 * 64 + 3, 65 };
	int want[8] = { 3, 2, 7, 1, 4, 6, 0, 5 };
	int i;

	t_case("timers fire in deadline order, never early, at most one tick late");
	hxs_wheel__init(&w, 0);
	norder = 0;
	for (i = 0; i < 8; i++) {
		hxs_timer__init(&r[i].t, rec_fire);
		r[i].id = i;
		r[i].fired = 0;
		hxs_wheel__arm(&w, &r[i].t, exp[i]);
	}
	CHECK_EQ(w.count, 8);
	drive(&w, 400000000);
	CHECK_EQ(norder, 8);
	for (i = 0; i < 8 && i < norder; i++)
		CHECK_EQ(order[i], want[i]);
	for (i = 0; i < 8; i++) {
		CHECK_EQ(r[i].fired, 1);
		CHECK(r[i].fired_at >= exp[i], "timer %d fired early at %llu < %llu", i,
		      (unsigned long long)r[i].fired_at, (unsigned long long)exp[i]);
		CHECK(r[i].fired_at - exp[i] < TICK, "timer %d late by %llu", i,
		      (unsigned long long)(r[i].fired_at - exp[i]));
		CHECK(!hxs_timer__armed(&r[i].t));
	}
	CHECK_EQ(w.count, 0);
	CHECK(hxs_wheel__next(&w) == UINT64_MAX);
}

static void test_not_early_exact(void)
{
	struct hxs_wheel w;
	struct rec r;
	uint64_t now;

	t_case("run(now) with now one us before the deadline does not fire; at the deadline's tick it does");
	hxs_wheel__init(&w, 1000);
	hxs_timer__init(&r.t, rec_fire);
	r.fired = 0;
	norder = 0;
	r.id = 0;
	hxs_wheel__arm(&w, &r.t, 1000 + 3 * 64 * 64 * 64 + 17);   /* level 3 */
	for (now = 1000; now < 1000 + 3 * 64 * 64 * 64 + 17; now += 997)
		hxs_wheel__run(&w, now);
	hxs_wheel__run(&w, 1000 + 3 * 64 * 64 * 64 + 16);
	CHECK_EQ(r.fired, 0);
	CHECK(hxs_wheel__next(&w) <= roundup_tick(1000 + 3 * 64 * 64 * 64 + 17));
	hxs_wheel__run(&w, roundup_tick(1000 + 3 * 64 * 64 * 64 + 17) - 1);
	CHECK_EQ(r.fired, 0);
	CHECK_EQ(hxs_wheel__next(&w), roundup_tick(1000 + 3 * 64 * 64 * 64 + 17));
	CHECK_EQ(hxs_wheel__run(&w, roundup_tick(1000 + 3 * 64 * 64 * 64 + 17)), 1);
	CHECK_EQ(r.fired, 1);

	t_case("a deadline already past fires on the next run; a deadline on a tick boundary fires exactly");
	hxs_wheel__arm(&w, &r.t, 5);
	CHECK_EQ(hxs_wheel__run(&w, roundup_tick(1000 + 3 * 64 * 64 * 64 + 17)), 1);
	CHECK_EQ(r.fired, 2);
	now = roundup_tick(1000 + 3 * 64 * 64 * 64 + 17) + 640;
	hxs_wheel__arm(&w, &r.t, now);
	CHECK_EQ(hxs_wheel__run(&w, now - 1), 0);
	CHECK_EQ(hxs_wheel__run(&w, now), 1);
	CHECK_EQ(r.fired_at, now);
}

static void test_cancel(void)
{
	struct hxs_wheel w;
	struct rec r[3];
	int i;

	t_case("cancel removes an armed timer; cancelling an idle timer is a no-op; re-arm moves");
	hxs_wheel__init(&w, 0);
	norder = 0;
	for (i = 0; i < 3; i++) {
		hxs_timer__init(&r[i].t, rec_fire);
		r[i].id = i;
		r[i].fired = 0;
	}
	hxs_wheel__cancel(&w, &r[0].t);          /* idle */
	CHECK_EQ(w.count, 0);
	hxs_wheel__arm(&w, &r[0].t, 1000);
	hxs_wheel__arm(&w, &r[1].t, 1000);       /* same slot */
	hxs_wheel__arm(&w, &r[2].t, 1000000);
	hxs_wheel__cancel(&w, &r[0].t);
	CHECK(!hxs_timer__armed(&r[0].t));
	hxs_wheel__cancel(&w, &r[0].t);
	CHECK_EQ(w.count, 2);
	hxs_wheel__arm(&w, &r[2].t, 500);        /* re-arm earlier: moves from level 2 to 0 */
	CHECK_EQ(w.count, 2);
	drive(&w, 2000000);
	CHECK_EQ(norder, 2);
	CHECK_EQ(order[0], 2);
	CHECK_EQ(order[1], 1);
	CHECK_EQ(r[0].fired, 0);
	CHECK_EQ(w.count, 0);
	for (i = 0; i < HXS_WHEEL_LEVELS; i++)
		CHECK_EQ(w.occupied[i], 0);
}

/* --- callbacks that re-arm / cancel ------------------------------------------------------- */
struct periodic {
	struct hxs_timer t;
	struct hxs_wheel *w;
	uint64_t period, last;
	int n, max;
	int late;
};
static void periodic_fire(struct hxs_timer *t, uint64_t now)
{
	struct periodic *p = container_of(t, struct periodic, t);
	if (now < t->expires || now - t->expires >= TICK)
		p->late++;
	p->n++;
	p->last = now;
	if (p->n < p->max)
		hxs_wheel__arm(p->w, t, t->expires + p->period);
}

struct killer {
	struct hxs_timer t;
	struct hxs_wheel *w;
	struct rec *victim;
	struct rec *now_timer;
};
static void killer_fire(struct hxs_timer *t, uint64_t now)
{
	struct killer *k = container_of(t, struct killer, t);
	order[norder++] = 100;
	hxs_wheel__cancel(k->w, &k->victim->t);
	hxs_wheel__arm(k->w, &k->now_timer->t, now);   /* due now: fires in this same run */
}

static void test_callbacks(void)
{
	struct hxs_wheel w;
	struct periodic p;
	struct killer k;
	struct rec victim, nowt;

	t_case("a callback re-arms its own timer (periodic, 1000 periods, deadlines exact)");
	hxs_wheel__init(&w, 0);
	hxs_timer__init(&p.t, periodic_fire);
	p.w = &w;
	p.period = 333;
	p.n = 0;
	p.max = 1000;
	p.late = 0;
	hxs_wheel__arm(&w, &p.t, 333);
	drive(&w, 1000000);
	CHECK_EQ(p.n, 1000);
	CHECK_EQ(p.late, 0);
	CHECK_EQ(p.last, roundup_tick(333000));
	CHECK_EQ(w.count, 0);

	t_case("a callback cancels a timer of its own slot and arms one due now, which fires in the same run");
	hxs_wheel__init(&w, 0);
	norder = 0;
	hxs_timer__init(&k.t, killer_fire);
	hxs_timer__init(&victim.t, rec_fire);
	hxs_timer__init(&nowt.t, rec_fire);
	victim.id = 1;
	victim.fired = 0;
	nowt.id = 2;
	nowt.fired = 0;
	k.w = &w;
	k.victim = &victim;
	k.now_timer = &nowt;
	hxs_wheel__arm(&w, &victim.t, 640);      /* same tick as the killer */
	hxs_wheel__arm(&w, &k.t, 640);           /* head of the slot: fires first */
	CHECK_EQ(hxs_wheel__run(&w, 640), 2);
	CHECK_EQ(norder, 2);
	CHECK_EQ(order[0], 100);
	CHECK_EQ(order[1], 2);
	CHECK_EQ(victim.fired, 0);
	CHECK_EQ(nowt.fired, 1);
	CHECK_EQ(nowt.fired_at, 640);
	CHECK_EQ(w.count, 0);
}

/* --- 100k random timers against a reference --------------------------------------------- */
#define NT 100000
struct rt {
	struct hxs_timer t;
	uint32_t id;
	uint32_t gen;
	int ref_armed;
	uint64_t ref_expires;
	long armed_run;             /* runs completed when last armed */
};
static struct rt *rts;
static uint64_t prev_run_now, cur_run_now;
static long nruns;
static long fires, bad_early, bad_late, bad_unarmed, bad_order;
static uint64_t last_fire_tick;

/* Reference: a binary min-heap of (rounded deadline, id, gen) with lazy deletion. */
struct hent { uint64_t key; uint32_t id, gen; };
static struct hent *heap;
static size_t hn, hcap;
static void hpush(uint64_t key, uint32_t id, uint32_t gen)
{
	size_t i;
	if (hn == hcap) {
		hcap = hcap ? 2 * hcap : 1024;
		heap = realloc(heap, hcap * sizeof(*heap));
	}
	i = hn++;
	while (i && heap[(i - 1) / 2].key > key) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = (struct hent){ key, id, gen };
}
static void hpop(void)
{
	struct hent last = heap[--hn];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= hn)
			break;
		if (c + 1 < hn && heap[c + 1].key < heap[c].key)
			c++;
		if (heap[c].key >= last.key)
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (hn)
		heap[i] = last;
}
/* Earliest rounded deadline of a timer armed in the reference, UINT64_MAX if none. */
static uint64_t ref_min(void)
{
	while (hn) {
		struct rt *r = &rts[heap[0].id];
		if (r->ref_armed && r->gen == heap[0].gen)
			return heap[0].key;
		hpop();
	}
	return UINT64_MAX;
}

static void ref_arm(struct hxs_wheel *w, struct rt *r, uint64_t expires)
{
	hxs_wheel__arm(w, &r->t, expires);
	r->ref_armed = 1;
	r->ref_expires = expires;
	r->armed_run = nruns;
	r->gen++;
	hpush(roundup_tick(expires), r->id, r->gen);
}

static void rt_fire(struct hxs_timer *t, uint64_t now)
{
	struct rt *r = container_of(t, struct rt, t);
	fires++;
	if (!r->ref_armed)
		bad_unarmed++;
	if (now < r->ref_expires)
		bad_early++;
	/* late = it was already due at the previous run() */
	if (r->armed_run < nruns && roundup_tick(r->ref_expires) <= prev_run_now)
		bad_late++;
	if (roundup_tick(r->ref_expires) < last_fire_tick)
		bad_order++;
	last_fire_tick = roundup_tick(r->ref_expires);
	r->ref_armed = 0;
	r->gen++;
	(void)cur_run_now;
}

static uint64_t rand_delay(void)
{
	/* log-uniform up to 2^34 us (~4.8 h): exercises every level in use */
	unsigned bits = (unsigned)(rnd() % 35);
	return rnd() & ((UINT64_C(1) << bits) - 1);
}

static void test_random(void)
{
	struct hxs_wheel w;
	uint64_t now = 123456789, armed_ref = 0;
	long bad_next = 0, bad_left = 0, bad_count = 0, steps = 0;
	uint32_t i;

	t_case("100k random timers with cancels and re-arms match a reference model");
	rts = calloc(NT, sizeof(*rts));
	hxs_wheel__init(&w, now);
	prev_run_now = now - 1;
	for (i = 0; i < NT; i++) {
		rts[i].id = i;
		hxs_timer__init(&rts[i].t, rt_fire);
		ref_arm(&w, &rts[i], now + rand_delay());
	}
	/* time advances; at each step random cancels/re-arms, then a run() */
	while (ref_min() != UINT64_MAX || w.count) {
		uint64_t nx = hxs_wheel__next(&w), rm = ref_min();
		int k;

		steps++;
		if (nx > rm)
			bad_next++;           /* next() must never be later than the real earliest */
		for (k = 0; k < 3; k++) {
			struct rt *r = &rts[rnd() % NT];
			switch (rnd() % 4) {
			case 0:
				hxs_wheel__cancel(&w, &r->t);
				r->ref_armed = 0;
				r->gen++;
				break;
			case 1:
				if (steps < 200000)
					ref_arm(&w, r, now + rand_delay());
				break;
			default:
				break;
			}
		}
		/* advance: mostly to next(), sometimes a random jump past it */
		nx = hxs_wheel__next(&w);
		if (nx == UINT64_MAX)
			nx = now + 1000;
		if (rnd() % 4 == 0)
			now = (nx > now ? nx : now) + rnd() % 100000;
		else if (nx > now)
			now = nx;
		else
			now += 1;
		cur_run_now = now;
		hxs_wheel__run(&w, now);
		prev_run_now = now;
		nruns++;
		if (ref_min() <= now)
			bad_left++;           /* something due was left unfired */
		armed_ref = 0;
		if (steps % 5000 == 0) {
			for (i = 0; i < NT; i++)
				armed_ref += rts[i].ref_armed;
			if (armed_ref != w.count)
				bad_count++;
		}
	}
	CHECK(fires >= NT / 2, "fires %ld", fires);
	CHECK_EQ(bad_early, 0);
	CHECK_EQ(bad_late, 0);
	CHECK_EQ(bad_unarmed, 0);
	CHECK_EQ(bad_order, 0);
	CHECK_EQ(bad_next, 0);
	CHECK_EQ(bad_left, 0);
	CHECK_EQ(bad_count, 0);
	CHECK_EQ(w.count, 0);
	for (i = 0; i < NT; i++)
		CHECK(!rts[i].ref_armed && !hxs_timer__armed(&rts[i].t));
	free(rts);
	free(heap);
}

static void test_far(void)
{
	struct hxs_wheel w;
	struct rec r;

	t_case("a deadline beyond the top level's range still fires on time");
	hxs_wheel__init(&w, 0);
	hxs_timer__init(&r.t, rec_fire);
	r.fired = 0;
	norder = 0;
	/* 64^6 ticks of 64 us = 2^42 us; go past it */
	hxs_wheel__arm(&w, &r.t, (UINT64_C(1) << 43) + 12345);
	drive(&w, (UINT64_C(1) << 43) + 12344);
	CHECK_EQ(r.fired, 0);
	drive(&w, (UINT64_C(1) << 44));
	CHECK_EQ(r.fired, 1);
	CHECK_EQ(r.fired_at, roundup_tick((UINT64_C(1) << 43) + 12345));
}

/* --- lazy arm and cancel --------------------------------------------------------------------- */
static void lazy_rec(struct rec *r, int id)
{
	hxs_timer__init(&r->t, rec_fire);
	r->id = id;
	r->fired = 0;
	r->fired_at = 0;
}

static void test_lazy(void)
{
	struct hxs_wheel w;
	struct rec a, b, c, d, e;

	t_case("lazy arm and cancel: fire at the latest deadline, never early, never when cancelled");
	hxs_wheel__init(&w, 0);
	norder = 0;
	/* a moved later without leaving its place: fires once, at the new deadline */
	lazy_rec(&a, 0);
	hxs_wheel__arm_lazy(&w, &a.t, 1000);
	hxs_wheel__arm_lazy(&w, &a.t, 5000);
	CHECK_EQ(a.t.placed, 1000);
	CHECK_EQ(a.t.expires, 5000);
	CHECK(hxs_timer__armed(&a.t));
	/* b cancelled lazily: not armed, still placed, never fires, leaves at its place */
	lazy_rec(&b, 1);
	hxs_wheel__arm_lazy(&w, &b.t, 2000);
	hxs_wheel__cancel_lazy(&w, &b.t);
	CHECK(!hxs_timer__armed(&b.t));
	CHECK_EQ(w.count, 2);
	/* c cancelled lazily, then armed again later: fires once, at the second deadline */
	lazy_rec(&c, 2);
	hxs_wheel__arm_lazy(&w, &c.t, 3000);
	hxs_wheel__cancel_lazy(&w, &c.t);
	hxs_wheel__arm_lazy(&w, &c.t, 7000);
	CHECK(hxs_timer__armed(&c.t));
	/* d armed lazily earlier than its place: it moves, fires at the earlier deadline */
	lazy_rec(&d, 3);
	hxs_wheel__arm_lazy(&w, &d.t, 9000);
	hxs_wheel__arm_lazy(&w, &d.t, 4000);
	CHECK_EQ(d.t.placed, 4000);
	/* e on an upper level moved far later: the cascade follows the new deadline */
	lazy_rec(&e, 4);
	hxs_wheel__arm_lazy(&w, &e.t, 300000);
	hxs_wheel__arm_lazy(&w, &e.t, 2000003);
	CHECK_EQ(w.count, 5);
	drive(&w, 3999);
	CHECK_EQ(norder, 0);
	CHECK_EQ(w.count, 4);                 /* b left the wheel at its place (2000) */
	CHECK_EQ(b.fired, 0);
	CHECK(!hxs_timer__armed(&b.t) && b.t.pprev == NULL);
	drive(&w, 2100000);
	CHECK_EQ(norder, 4);
	CHECK_EQ(order[0], 3);
	CHECK_EQ(order[1], 0);
	CHECK_EQ(order[2], 2);
	CHECK_EQ(order[3], 4);
	CHECK_EQ(a.fired, 1);
	CHECK_EQ(a.fired_at, roundup_tick(5000));
	CHECK_EQ(b.fired, 0);
	CHECK_EQ(c.fired, 1);
	CHECK_EQ(c.fired_at, roundup_tick(7000));
	CHECK_EQ(d.fired, 1);
	CHECK_EQ(d.fired_at, roundup_tick(4000));
	CHECK_EQ(e.fired, 1);
	CHECK_EQ(e.fired_at, roundup_tick(2000003));
	CHECK_EQ(w.count, 0);
	CHECK_EQ(hxs_wheel__next(&w), UINT64_MAX);
	/* a hard cancel takes a lazily cancelled timer out at once (before it is freed) */
	hxs_wheel__arm_lazy(&w, &b.t, 2200000);
	hxs_wheel__cancel_lazy(&w, &b.t);
	CHECK_EQ(w.count, 1);
	hxs_wheel__cancel(&w, &b.t);
	CHECK_EQ(w.count, 0);
	CHECK(b.t.pprev == NULL && !hxs_timer__armed(&b.t));
	/* and a hard arm of a lazily cancelled one arms it */
	hxs_wheel__arm_lazy(&w, &b.t, 2300000);
	hxs_wheel__cancel_lazy(&w, &b.t);
	hxs_wheel__arm(&w, &b.t, 2400000);
	CHECK(hxs_timer__armed(&b.t));
	drive(&w, 2500000);
	CHECK_EQ(b.fired, 1);
	CHECK_EQ(b.fired_at, roundup_tick(2400000));
}

/* Random arms and cancels, hard and lazy, against a model of what each timer's owner expects:
 * a timer fires only while armed, never before its latest deadline, within one tick after it;
 * next() is never later than the earliest deadline armed; armed() says what the model says. */
#define LN 512
struct lt {
	struct hxs_timer t;
	int armed;              /* the model */
	uint64_t deadline;
	long fires;
};
static long lz_bad_fire, lz_early, lz_late;
static uint64_t lz_prev;         /* the run before this one */

static void lt_fire(struct hxs_timer *t, uint64_t now)
{
	struct lt *x = container_of(t, struct lt, t);

	x->fires++;
	if (!x->armed)
		lz_bad_fire++;
	else if (now < x->deadline)
		lz_early++;
	else if (roundup_tick(x->deadline) + TICK <= lz_prev)
		lz_late++;                  /* due at the run before, within its tick */
	x->armed = 0;
}

static void test_lazy_random(void)
{
	static struct lt x[LN];
	struct hxs_wheel w;
	long bad_next = 0, bad_left = 0, bad_armed = 0, total = 0;
	uint64_t now = 987654321;

	t_case("random hard and lazy arms and cancels: no early, late or cancelled fire; next() never late");
	hxs_wheel__init(&w, now);
	lz_bad_fire = lz_early = lz_late = 0;
	lz_prev = now;
	for (int i = 0; i < LN; i++) {
		hxs_timer__init(&x[i].t, lt_fire);
		x[i].armed = 0;
		x[i].fires = 0;
	}
	for (int step = 0; step < 200000; step++) {
		uint64_t min = UINT64_MAX, nx;

		for (int k = 0; k < 4; k++) {
			struct lt *t = &x[rnd() % LN];
			/* mostly near deadlines, as TCP's: up to ~1 s, a few far */
			uint64_t d = rnd() % 8 ? rnd() % 300000 : rnd() % 100000000;

			switch (rnd() % 6) {
			case 0:
				hxs_wheel__arm(&w, &t->t, now + d);
				t->armed = 1;
				t->deadline = now + d;
				break;
			case 1:
			case 2:
				hxs_wheel__arm_lazy(&w, &t->t, now + d);
				t->armed = 1;
				t->deadline = now + d;
				break;
			case 3:
				hxs_wheel__cancel(&w, &t->t);
				t->armed = 0;
				break;
			case 4:
				hxs_wheel__cancel_lazy(&w, &t->t);
				t->armed = 0;
				break;
			default:
				break;
			}
		}
		for (int i = 0; i < LN; i++) {
			if (x[i].armed && x[i].deadline < min)
				min = x[i].deadline;
			if (x[i].armed != hxs_timer__armed(&x[i].t))
				bad_armed++;
		}
		nx = hxs_wheel__next(&w);
		if (min != UINT64_MAX && nx > roundup_tick(min))
			bad_next++;
		/* advance: to next(), or a random step (a loop turn that ends early) */
		if (rnd() % 3 == 0 || nx == UINT64_MAX || nx <= now)
			now += rnd() % 5000 + 1;
		else
			now = nx;
		hxs_wheel__run(&w, now);
		lz_prev = now;
		for (int i = 0; i < LN; i++)
			if (x[i].armed && roundup_tick(x[i].deadline) + TICK <= now)
				bad_left++;
	}
	for (int i = 0; i < LN; i++) {
		total += x[i].fires;
		hxs_wheel__cancel(&w, &x[i].t);
	}
	CHECK(total > 10000, "fires %ld", total);
	CHECK_EQ(lz_bad_fire, 0);
	CHECK_EQ(lz_early, 0);
	CHECK_EQ(lz_late, 0);
	CHECK_EQ(bad_next, 0);
	CHECK_EQ(bad_left, 0);
	CHECK_EQ(bad_armed, 0);
	CHECK_EQ(w.count, 0);
	CHECK_EQ(hxs_wheel__next(&w), UINT64_MAX);
}

int main(void)
{
	test_order();
	test_not_early_exact();
	test_cancel();
	test_callbacks();
	test_random();
	test_far();
	test_lazy();
	test_lazy_random();
	return t_done();
}
