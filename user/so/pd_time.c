/* pd_time.c - virtual time for the packetdrill target, and the two threads around it.
 *
 * pd_lock()        pd->mu; a thread that held the clock (returned from a wait) lets go;
 *                  then pd_settle(): whoever enters lets woken waiters settle first
 * pd_turn()        hxs_stack__poll(st, 0) until quiet -> pd_drain() (packets out, stamped
 *                  now) -> gen++ and wake the waiters if anything changed
 * pd_settle()      the main thread waits (real time, bounded) until every waiter has seen
 *                  the last change (waits again) and no returned call still holds the clock
 * pd_step()        one step of the driver: now = the next stack or waiter deadline (not past
 *                  a limit), a turn there, settle
 * pd_advance()     steps up to a time (usleep; gettimeofday moves 1 us)
 * pd_wait()        a blocking call waits: on the second thread, sleep on pd->cv until gen
 *                  moves; on the main thread, pd_step() (nobody else would move time)
 * pd_block()       try / wait / try ... for every blocking call
 *
 * Who moves time: the thread that runs packetdrill's timeline. That is the main thread,
 * except while a call marked blocking waits for its start time: packetdrill's second thread
 * sleeps (usleep) and spins on the clock itself before it makes the call, with the main
 * thread waiting for it to block. So usleep and gettimeofday move time on either thread;
 * only a blocking call's wait differs: on the second thread it sleeps, as the main thread
 * will move time, on the main thread it moves time itself (nobody else would).
 *
 * Why gettimeofday moves time: packetdrill sleeps (usleep) until 20 us before an event and
 * spins on the clock for the rest (and spins 250 us before the first event); a clock that
 * never moved would spin for ever. A caller that reads the clock more than PD_SPIN_READS
 * times in a row, with no other call in between, is spinning: each further read is 1 us.
 * Fewer reads move nothing, so the times of events do not depend on how often packetdrill
 * happens to read the clock (its verbose mode reads it more).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "pd.h"

static pid_t self(void)
{
	return gettid();
}

void pd_trace(struct pd *pd, const char *fmt, ...)
{
	va_list ap;

	if (!pd->trace)
		return;
	fprintf(stderr, "hxs-pd %llu.%06llu [%d] ", (unsigned long long)(pd->now - PD_EPOCH_US) / 1000000,
		(unsigned long long)(pd->now - PD_EPOCH_US) % 1000000, (int)self());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

uint64_t pd_clock(void *u)
{
	return ((struct pd *)u)->now;
}

static int settled(const struct pd *pd, pid_t me)
{
	if (pd->hold && pd->hold != me)
		return 0;
	for (const struct pd_waiter *w = pd->waiters; w; w = w->next)
		if (w->seen != pd->gen)
			return 0;
	return 1;
}

void pd_settle(struct pd *pd)
{
	pid_t me = self();
	struct timespec end;

	if (settled(pd, me))
		return;
	clock_gettime(CLOCK_REALTIME, &end);
	end.tv_sec += PD_SETTLE_MS / 1000;
	while (!settled(pd, me)) {
		if (pthread_cond_timedwait(&pd->settle_cv, &pd->mu, &end) == ETIMEDOUT) {
			/* a bug of ours or a thread stuck elsewhere: go on rather than hang */
			fprintf(stderr, "hxs-packetdrill: the blocking call's thread did not settle in %d ms;"
				" going on\n", PD_SETTLE_MS);
			pd->hold = 0;
			return;
		}
	}
}

static void enter(struct pd *pd)
{
	pid_t me = self();

	pthread_mutex_lock(&pd->mu);
	if (pd->hold == me) {
		pd->hold = 0;
		pthread_cond_broadcast(&pd->settle_cv);
	}
	pd_settle(pd);
}

void pd_lock(struct pd *pd)
{
	enter(pd);
	pd->clock_reads = 0;
}

void pd_unlock(struct pd *pd)
{
	pthread_mutex_unlock(&pd->mu);
}

static void bump(struct pd *pd)
{
	pd->gen++;
	if (pd->waiters)
		pthread_cond_broadcast(&pd->cv);
}

void pd_turn(struct pd *pd, int changed)
{
	int events = 0;

	/* a turn takes in at most a few RX batches: turn until the stack is quiet, and take
	 * what each turn sent at once, so a burst never runs the link's pool dry */
	for (int i = 0; i < 64; i++) {
		int n = hxs_stack__poll(pd->st, 0);

		events += pd_drain(pd);
		if (n <= 0)
			break;
		events += n;
	}
	if (changed || events)
		bump(pd);
}

/* The next time anything is due: a stack deadline or a waiter's own. */
static uint64_t next_due(const struct pd *pd)
{
	uint64_t next = hxs_stack__next_deadline(pd->st);

	for (const struct pd_waiter *w = pd->waiters; w; w = w->next)
		if (w->deadline < next)
			next = w->deadline;
	return next;
}

int pd_step(struct pd *pd, uint64_t limit)
{
	uint64_t next = next_due(pd);

	/* A deadline is a change even when the turn sends nothing (a connection given up, a
	 * TIME-WAIT ended): waiters look again before time moves on. */
	if (next <= pd->now) {
		/* due already (output pending, a timer the wheel rounds): a turn now */
		pd_turn(pd, 1);
		pd_settle(pd);
		next = next_due(pd);
		if (next <= pd->now)
			next = pd->now + 1;
	}
	if (next > limit)
		return -ETIME;
	pd->now = next;
	pd_turn(pd, 1);
	pd_settle(pd);
	return 0;
}

void pd_advance(struct pd *pd, uint64_t t)
{
	pd_settle(pd);
	while (pd->now < t)
		if (pd_step(pd, t))
			pd->now = t;    /* nothing due on the way: the clock just moves */
}

int pd_usleep(void *u, useconds_t us)
{
	struct pd *pd = u;

	pd_lock(pd);
	pd_advance(pd, pd->now + us);
	pd_trace(pd, "usleep %u", (unsigned)us);
	pd_unlock(pd);
	return 0;
}

int pd_gettimeofday(void *u, struct timeval *tv, struct timezone *tz)
{
	struct pd *pd = u;

	(void)tz;
	enter(pd);
	if (++pd->clock_reads > PD_SPIN_READS)
		pd_advance(pd, pd->now + 1);
	tv->tv_sec = (time_t)(pd->now / 1000000);
	tv->tv_usec = (suseconds_t)(pd->now % 1000000);
	pd_unlock(pd);
	return 0;
}

int pd_wait(struct pd *pd, uint64_t deadline, uint64_t horizon)
{
	struct pd_waiter w, **pp;

	if (self() == pd->main_tid) {
		/* nobody else moves time: this call does, one deadline at a time */
		if (!pd_step(pd, deadline < horizon ? deadline : horizon))
			return 0;
		if (deadline <= horizon) {
			pd->now = deadline;
			return 0;
		}
		fprintf(stderr, "hxs-packetdrill: a blocking call on packetdrill's main thread would wait"
			" for ever (nothing happens in the stack for %llu s of virtual time); a script"
			" marks a call that blocks with a time range (+0...1 read(...))\n",
			(unsigned long long)(PD_HORIZON_US / 1000000));
		return -EDEADLK;
	}
	w.deadline = deadline;
	w.seen = pd->gen;
	w.next = pd->waiters;
	pd->waiters = &w;
	pthread_cond_broadcast(&pd->settle_cv);
	while (pd->gen == w.seen)
		pthread_cond_wait(&pd->cv, &pd->mu);
	for (pp = &pd->waiters; *pp; pp = &(*pp)->next)
		if (*pp == &w) {
			*pp = w.next;
			break;
		}
	return 0;
}

void pd_waited(struct pd *pd)
{
	if (self() != pd->main_tid)
		pd->hold = self();
}

long pd_block(struct pd *pd, int nonblock, int64_t timeo_us, pd_try_fn try_fn, void *arg)
{
	uint64_t deadline = timeo_us > 0 ? pd->now + (uint64_t)timeo_us : UINT64_MAX;
	uint64_t horizon = pd->now + PD_HORIZON_US;
	int waited = 0;
	long r;

	for (;;) {
		int err;

		r = try_fn(pd, arg);
		/* what the call made the stack send goes out now, as from a kernel syscall */
		pd_turn(pd, r != -EAGAIN);
		if (r != -EAGAIN || nonblock || timeo_us < 0 || pd->now >= deadline)
			break;
		err = pd_wait(pd, deadline, horizon);
		waited = 1;
		if (err) {
			r = err;
			break;
		}
	}
	if (waited)
		pd_waited(pd);
	return r;
}
