/* timer_wheel.h - hierarchical timing wheel: O(1) arm and cancel, no scan of idle timers.
 *
 * Time is an absolute uint64_t in microseconds, always passed in by the caller (the stack
 * core reads no clock). Timers are intrusive: embed a struct hxs_timer in the object it
 * belongs to and recover the object with container_of in the callback.
 *
 *   hxs_wheel__init(&w, now);
 *   hxs_timer__init(&c->rto_timer, rto_fire);
 *   hxs_wheel__arm(&w, &c->rto_timer, now + rto);    re-arming an armed timer moves it
 *   hxs_wheel__cancel(&w, &c->rto_timer);            cancelling an idle timer is a no-op
 *   hxs_wheel__run(&w, now);                          fires every timer with expires <= now
 *   hxs_wheel__next(&w);                              earliest deadline, UINT64_MAX if none
 *
 * A timer fires at or after its deadline, never before; the wheel's resolution (tick) only
 * rounds deadlines up. Callbacks may arm or cancel any timer, including their own.
 *
 * Lazy variants, for timers that are set and stopped far more often than they expire (a
 * retransmission timer restarted by every ACK, stopped when all is acknowledged): the timer
 * keeps its place in the wheel, and the wheel checks the deadline when that place comes up,
 * as Linux does for its retransmission timer.
 *   hxs_wheel__arm_lazy(&w, t, when)   as arm(); O(1) without touching the wheel when t is
 *                                       placed at or before `when` (it moves on when due)
 *   hxs_wheel__cancel_lazy(&w, t)      as cancel() for armed() and firing; t stays placed
 *                                       until its place comes up (next() may be early)
 * hxs_wheel__cancel() removes a timer whichever way it was set (before freeing it).
 */
#ifndef HXS_TIMER_WHEEL_H
#define HXS_TIMER_WHEEL_H

#include <stdint.h>

struct hxs_timer;
typedef void (*hxs_timer_fn)(struct hxs_timer *t, uint64_t now);

struct hxs_timer {
	struct hxs_timer *next;
	struct hxs_timer **pprev;   /* NULL when not in the wheel */
	uint64_t expires;           /* the deadline */
	uint64_t placed;            /* the deadline its place was chosen by (<= expires) */
	hxs_timer_fn fn;
	uint8_t off;                /* cancelled lazily: still placed, not armed */
};

#define HXS_WHEEL_BITS   6                       /* 64 slots a level */
#define HXS_WHEEL_SLOTS  (1u << HXS_WHEEL_BITS)
#define HXS_WHEEL_LEVELS 6                       /* 64^6 ticks: years at 64 us a tick */
#define HXS_WHEEL_TICK_US 64                     /* resolution */

struct hxs_wheel {
	uint64_t now_tick;                       /* ticks processed up to */
	uint32_t count;                          /* timers in slots: armed ones, and lazily
	                                          * cancelled ones not yet reached */
	uint64_t hint;                           /* no event before this tick (a lower bound,
	                                          * exact until a cancel): run() and next()
	                                          * skip the level scan while it holds */
	uint64_t occupied[HXS_WHEEL_LEVELS];     /* bit per non-empty slot, for a fast next() */
	struct hxs_timer *slot[HXS_WHEEL_LEVELS][HXS_WHEEL_SLOTS];
};

void hxs_wheel__init(struct hxs_wheel *w, uint64_t now);
void hxs_timer__init(struct hxs_timer *t, hxs_timer_fn fn);
static inline int hxs_timer__armed(const struct hxs_timer *t) { return t->pprev != 0 && !t->off; }
void hxs_wheel__arm(struct hxs_wheel *w, struct hxs_timer *t, uint64_t expires);
void hxs_wheel__remove(struct hxs_wheel *w, struct hxs_timer *t);
/* Inline: most cancels (output's, every call) find the timer idle. */
static inline void hxs_wheel__cancel(struct hxs_wheel *w, struct hxs_timer *t)
{
	if (t->pprev)
		hxs_wheel__remove(w, t);
}
/* Inline: they are on the per-segment path of the TCP core. */
static inline void hxs_wheel__arm_lazy(struct hxs_wheel *w, struct hxs_timer *t, uint64_t expires)
{
	if (t->pprev && t->placed <= expires) {
		t->expires = expires;
		t->off = 0;
		return;
	}
	hxs_wheel__arm(w, t, expires);
}
static inline void hxs_wheel__cancel_lazy(struct hxs_wheel *w, struct hxs_timer *t)
{
	(void)w;
	if (t->pprev)
		t->off = 1;
}
/* Fires every timer whose deadline is <= now; returns how many fired. */
int hxs_wheel__run_due(struct hxs_wheel *w, uint64_t now);
/* Inline: most calls (a loop turn's) find nothing due - nothing waits in the current slot
 * and hint is later - and only move the wheel's time; hxs_wheel__run_due() does the rest. */
static inline int hxs_wheel__run(struct hxs_wheel *w, uint64_t now)
{
	uint64_t target = now / HXS_WHEEL_TICK_US;

	if (target >= w->now_tick && target < w->hint &&
	    !w->slot[0][w->now_tick & (HXS_WHEEL_SLOTS - 1)]) {
		w->now_tick = target;
		return 0;
	}
	return hxs_wheel__run_due(w, now);
}
/* Earliest time at which run() would fire something (may be a little early for timers on
 * upper levels, never late); UINT64_MAX when nothing is armed. */
uint64_t hxs_wheel__next(const struct hxs_wheel *w);

#endif
