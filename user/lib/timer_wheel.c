/* timer_wheel.c - hierarchical timing wheel (Varghese & Lauck scheme 7).
 *
 *   hxs_wheel__arm() -> wheel_place()                   O(1): pick level by distance
 *   hxs_wheel__run() (inline in timer_wheel.h: nothing due before hint, return)
 *   -> hxs_wheel__run_due() -> next_event_tick() -> cascade() -> wheel_place()   move down a level
 *                                         -> fire level-0 slot (callbacks may arm/cancel)
 *   hxs_wheel__next() -> next_event_tick()               bitmap rotate + ctz per level
 *
 * Ticks: a deadline of `expires` us belongs to tick e = ceil(expires / 64), so e*64 >= expires
 * and a timer fired at tick e is never early. Level L (0..5) has slots of 64^L ticks; a
 * timer with distance d = e - now_tick sits on the lowest level with d < 64^(L+1), in slot
 * (e >> 6L) & 63. Slot k of level L is "cascaded" (its timers re-placed by their exact
 * deadline, hence onto a lower level) when the wheel reaches tick k * 64^L, which is <= e;
 * level-0 slots fire at their exact tick. So every timer ends on level 0 and fires at tick e:
 * at most one tick (64 us) after its deadline, whatever level it started on.
 *
 * A callback that re-arms its own timer at or before `now` fires again in the same run(),
 * as the contract (fire every timer due at or before now) requires: re-arm into the future.
 *
 * hint is a tick no event comes before: wheel_place() lowers it to the tick its timer's slot
 * fires or cascades at, run() sets it to the next event it found; a cancel leaves it (early
 * is allowed). A run() that ends before it has nothing to do but move now_tick, and next()
 * returns it, with no scan of the levels - what most turns of a busy loop come to.
 *
 * now_tick is the last tick processed: every timer with e <= now_tick has fired, except those
 * armed since with a deadline already past, which wait in level-0 slot now_tick & 63 (no
 * future timer maps there: level 0 holds e in [now_tick + 1, now_tick + 63]) and fire at the
 * start of the next run().
 */
#include <stddef.h>
#include <stdint.h>

#include "timer_wheel.h"

#define LVL_SHIFT(l) ((unsigned)(l) * HXS_WHEEL_BITS)
#define SLOT_MASK ((uint64_t)HXS_WHEEL_SLOTS - 1)
/* Largest distance the top level can hold; farther timers are parked there and re-placed
 * at each cascade until they come within range. */
#define MAX_DIST ((UINT64_C(1) << LVL_SHIFT(HXS_WHEEL_LEVELS)) - 1)

static uint64_t expires_to_tick(uint64_t expires)
{
	return expires / HXS_WHEEL_TICK_US + (expires % HXS_WHEEL_TICK_US != 0);
}

static uint64_t rotr64(uint64_t x, unsigned r)
{
	r &= 63;
	return r ? (x >> r) | (x << (64 - r)) : x;
}

void hxs_wheel__init(struct hxs_wheel *w, uint64_t now)
{
	unsigned l, s;

	/* every tick before now is processed; timers due at or before now wait in the overdue slot */
	w->now_tick = now / HXS_WHEEL_TICK_US;
	w->count = 0;
	w->hint = UINT64_MAX;
	for (l = 0; l < HXS_WHEEL_LEVELS; l++) {
		w->occupied[l] = 0;
		for (s = 0; s < HXS_WHEEL_SLOTS; s++)
			w->slot[l][s] = NULL;
	}
}

void hxs_timer__init(struct hxs_timer *t, hxs_timer_fn fn)
{
	t->next = NULL;
	t->pprev = NULL;
	t->expires = 0;
	t->placed = 0;
	t->fn = fn;
	t->off = 0;
}

/* If pprev is a slot head of this wheel, its (level, slot) index; else -1. */
static long slot_index(const struct hxs_wheel *w, struct hxs_timer **pprev)
{
	uintptr_t base = (uintptr_t)&w->slot[0][0], p = (uintptr_t)pprev;

	if (p < base || p >= base + sizeof(w->slot))
		return -1;
	return (long)((p - base) / sizeof(w->slot[0][0]));
}

static void unlink_timer(struct hxs_wheel *w, struct hxs_timer *t)
{
	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	else {
		long i = slot_index(w, t->pprev);
		/* Last of its slot (it was the head and had no successor): slot now empty. */
		if (i >= 0 && w->slot[i / HXS_WHEEL_SLOTS][i % HXS_WHEEL_SLOTS] == NULL)
			w->occupied[i / HXS_WHEEL_SLOTS] &= ~(UINT64_C(1) << (i % HXS_WHEEL_SLOTS));
	}
	t->next = NULL;
	t->pprev = NULL;
	if (!--w->count)
		w->hint = UINT64_MAX;
}

/* Puts an unlinked timer on the level its distance from now_tick calls for. */
static void wheel_place(struct hxs_wheel *w, struct hxs_timer *t)
{
	uint64_t e = expires_to_tick(t->placed), d;
	unsigned l;
	struct hxs_timer **head;
	uint64_t s;

	if (e < w->now_tick)
		e = w->now_tick;        /* already due: the overdue slot, fired by the next run() */
	d = e - w->now_tick;
	if (d > MAX_DIST) {
		d = MAX_DIST;
		e = w->now_tick + d;
	}
	for (l = 0; l < HXS_WHEEL_LEVELS - 1; l++)
		if ((d >> LVL_SHIFT(l + 1)) == 0)
			break;
	s = (e >> LVL_SHIFT(l)) & SLOT_MASK;
	/* the tick this slot fires (level 0) or cascades at: e rounded down to the level's
	 * granularity, after now_tick since d >= 64^l, and the first such since d < 64^(l+1) */
	if (((e >> LVL_SHIFT(l)) << LVL_SHIFT(l)) < w->hint)
		w->hint = (e >> LVL_SHIFT(l)) << LVL_SHIFT(l);
	head = &w->slot[l][s];
	t->next = *head;
	if (t->next)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
	w->occupied[l] |= UINT64_C(1) << s;
	w->count++;
}

void hxs_wheel__arm(struct hxs_wheel *w, struct hxs_timer *t, uint64_t expires)
{
	if (t->pprev)
		unlink_timer(w, t);
	t->expires = t->placed = expires;
	t->off = 0;
	wheel_place(w, t);
}

void hxs_wheel__remove(struct hxs_wheel *w, struct hxs_timer *t)
{
	unlink_timer(w, t);
	t->off = 0;
}

/* Smallest tick at which something happens: now_tick itself if an overdue timer waits in
 * its slot, else the first tick after now_tick where a level-0 slot fires or an occupied
 * upper slot cascades. UINT64_MAX if the wheel is empty. */
static uint64_t next_event_tick(const struct hxs_wheel *w)
{
	uint64_t best = UINT64_MAX, base = w->now_tick + 1;
	unsigned l;

	if (w->occupied[0] & (UINT64_C(1) << (w->now_tick & SLOT_MASK)))
		return w->now_tick;
	for (l = 0; l < HXS_WHEEL_LEVELS; l++) {
		uint64_t occ = w->occupied[l], k0, k, gran = UINT64_C(1) << LVL_SHIFT(l);

		if (!occ)
			continue;
		k0 = (base + gran - 1) >> LVL_SHIFT(l);         /* first boundary >= base */
		k = k0 + (uint64_t)__builtin_ctzll(rotr64(occ, (unsigned)(k0 & SLOT_MASK)));
		if (k > (UINT64_MAX >> LVL_SHIFT(l)))
			continue;
		if ((k << LVL_SHIFT(l)) < best)
			best = k << LVL_SHIFT(l);
	}
	return best;
}

/* Re-places every timer of one upper slot; they land on lower levels (or, for a timer a full
 * revolution away, a higher one). The list is detached first so nothing is seen twice. */
static void cascade(struct hxs_wheel *w, unsigned l, unsigned s)
{
	struct hxs_timer *t = w->slot[l][s], *n;

	w->slot[l][s] = NULL;
	w->occupied[l] &= ~(UINT64_C(1) << s);
	for (; t; t = n) {
		n = t->next;
		t->next = NULL;
		t->pprev = NULL;
		w->count--;
		if (t->off) {
			t->off = 0;     /* cancelled lazily: leaves the wheel now */
			continue;
		}
		t->placed = t->expires;   /* a lazy re-arm moved the deadline on */
		wheel_place(w, t);
	}
}

/* Fires the level-0 slot of now_tick one timer at a time: a callback may cancel others in
 * this slot or arm new ones due now (they land in this same slot and fire in this loop). */
static int fire_slot(struct hxs_wheel *w, uint64_t now)
{
	struct hxs_timer **head = &w->slot[0][w->now_tick & SLOT_MASK];
	int fired = 0;

	while (*head) {
		struct hxs_timer *t = *head;

		unlink_timer(w, t);
		if (t->off) {
			t->off = 0;     /* cancelled lazily: leaves the wheel now */
			continue;
		}
		if (expires_to_tick(t->expires) > w->now_tick) {
			/* re-armed lazily to a later deadline: a later slot (never this one) */
			t->placed = t->expires;
			wheel_place(w, t);
			continue;
		}
		fired++;
		t->fn(t, now);
	}
	return fired;
}

/* The slot is empty on most runs: that test without fire_slot()'s call. */
static inline int fire_current(struct hxs_wheel *w, uint64_t now)
{
	return w->slot[0][w->now_tick & SLOT_MASK] ? fire_slot(w, now) : 0;
}

int hxs_wheel__run_due(struct hxs_wheel *w, uint64_t now)
{
	uint64_t target = now / HXS_WHEEL_TICK_US;
	int fired = 0;

	if (target < w->now_tick)
		return 0;               /* time went backwards: nothing can be due */
	/* timers armed since the last run with a deadline already processed */
	fired += fire_current(w, now);
	if (target < w->hint) {
		w->now_tick = target;   /* nothing before hint: no tick up to target has work */
		return fired;
	}
	while (w->now_tick < target) {
		uint64_t ev = next_event_tick(w), tick;
		unsigned l;

		if (ev > target) {
			w->now_tick = target;
			w->hint = ev;
			break;
		}
		w->now_tick = tick = ev;
		for (l = HXS_WHEEL_LEVELS - 1; l > 0; l--) {
			uint64_t s = (tick >> LVL_SHIFT(l)) & SLOT_MASK;

			if ((tick & ((UINT64_C(1) << LVL_SHIFT(l)) - 1)) == 0 &&
			    (w->occupied[l] & (UINT64_C(1) << s)))
				cascade(w, l, (unsigned)s);
		}
		fired += fire_current(w, now);
	}
	if (w->hint <= w->now_tick)
		w->hint = next_event_tick(w);   /* ended on an event's tick: the next one */
	return fired;
}

uint64_t hxs_wheel__next(const struct hxs_wheel *w)
{
	uint64_t ev = w->hint > w->now_tick ? w->hint : next_event_tick(w);

	if (ev == UINT64_MAX || ev > UINT64_MAX / HXS_WHEEL_TICK_US)
		return UINT64_MAX;
	return ev * HXS_WHEEL_TICK_US;
}
