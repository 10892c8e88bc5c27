/* loop.c - the stack's run loop and its life: init, the turn, the sleep, fini.
 *
 * hxs_stack__poll() -> stack_turn(): rx_burst (a busy loop's lazy look: only that, into
 *                                    st->rx_batch, up to HXS_BUSY_LAZY times in a row while
 *                                    nothing arrives) -> turn_run(): the turn's one clock read
 *                                    -> [ctl->rx_xdp: the static control plane's
 *                                    stand-in for the XDP program, which may consume a pure
 *                                    ACK] -> hxs_eth_input() (per frame) -> rx_release
 *                                    (an early return's last batch: in the next turn)
 *                                    -> hxs_wheel__run() -> ctl->poll() (neighbour events)
 *                                    -> pollers (TCP timers and pending output, statistics)
 *                                    -> hxs_stack__tx_flush()
 *                                    (a busy loop's turn of datagrams, or of TCP messages'
 *                                    ends, returns before its tail: it runs in the next)
 *                   -> idle: busy-poll, or sleep in epoll_wait(2) on the io and netlink fds
 *                      until the next timer or poller deadline (hxs_stack__next_deadline) or
 *                      the caller's timeout. With connection slots (slots.c) the sleep
 *                      follows the doorbell protocol (sleep_begin): hdr.sleeping set by
 *                      atomic exchange, the deadlines looked at once more (TCP's says "now"
 *                      when XDP took ACK progress it has not run), then epoll_wait with the
 *                      doorbell's fd in the set; on waking sleeping is cleared and the
 *                      doorbell drained.
 * hxs_stack__poll_woken() -> the caller's own loop woke on the stack's fd: which of its fds
 *                   did is looked at (epoll_wait, no wait) as the sleep above does -> a turn
 * hxs_stack__fini() -> pending frames dropped -> TX batch out -> ctl->close (io, XDP, netlink)
 * hxs_stack__open() and hxs_stack__open_io() (user/open/) differ only in the control plane
 * (struct hxs_ctl_ops: ctl_kernel.c, ctl_static.c) and who owns the io.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include "ip.h"
#include "lib/cgwin.h"
#include "stack.h"

int hxs_stack__init(struct hxs_stack *st)
{
	/* the IPv4 ID key (ip.c): unpredictable to anyone outside */
	if (getrandom(st->ip_id_key, sizeof(st->ip_id_key), 0) != (ssize_t)sizeof(st->ip_id_key)) {
		uint64_t x = hxs_stack__clock(st) * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)st;

		memcpy(st->ip_id_key, &x, sizeof(x));
	}
	st->epfd = -1;
	st->dst_gen = 1;                /* 0 is an empty struct hxs_ip_dst's */
	st->ctl_fd = -1;
	st->wake_fd = -1;
	st->pmtu_fd = -1;
	st->eph_lo = HXS_EPH_LO_DEFAULT;
	st->eph_hi = HXS_EPH_HI_DEFAULT;
	hxs_wheel__init(&st->wheel, hxs_stack__now(st));
	st->ctr[0] = (struct hxs_counter_table){ hxs_mib_names, st->mib.v, HXS_MIB_MAX };
	st->nctr = 1;
	return 0;
}

void hxs_stack__set_pmtu_cb(struct hxs_stack *st, void (*fn)(void *ctx, uint32_t raddr, uint32_t mtu),
			    void *ctx)
{
	st->pmtu_fn = fn;
	st->pmtu_ctx = ctx;
}

int hxs_stack__watch_fd(struct hxs_stack *st, int fd, int ctl)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (fd < 0)
		return 0;
	if (st->epfd < 0) {
		st->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (st->epfd < 0)
			return -errno;
	}
	if (epoll_ctl(st->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	if (ctl)
		st->ctl_fd = fd;
	return 0;
}

void hxs_stack__fini(struct hxs_stack *st)
{
	if (st->nrx_held && st->io)
		st->io->ops->rx_release(st->io, st->rx_batch, st->nrx_held);
	st->nrx_held = 0;
	hxs_ip__drop_pending(st);
	if (st->io)
		hxs_stack__tx_flush(st);
	if (st->epfd >= 0)
		close(st->epfd);
	st->epfd = -1;
	st->ctl->close(st);
	hxs_stack__slots_fini(st);
}

#define HXS_TX_WAIT_US 1000    /* longest sleep while TX frames are out for completion */

/* stack_turn() -> turn_run(): one pass over everything that may have work (n: frames a lazy
 * look already took into st->rx_batch; -1: look first). Returns the number of events, or
 * -EDEADLK (stack_turn) when called from inside a turn of the same stack (its clock callback polling it): a turn
 * inside a turn would run with the outer one's time, frames and TX batch.
 * The RX ring is looked at before the clock is read. lazy (the busy loop, right after a full
 * turn): when nothing arrived, the turn ends there - no clock read, no timers, no pollers,
 * no flush - for up to HXS_BUSY_LAZY turns in a row; the next one is a full turn again. The
 * work a lazy turn leaves (timers due, ACK progress XDP made, TX completions) waits at most
 * that many looks at an empty ring.
 * The clock is read when something first asks for the turn's time (hxs_stack__now()). A lazy
 * turn whose frames needed no time and sent nothing (datagrams queued for sockets) returns
 * with them at once: the application's wait ends without the timers, control plane, pollers
 * and flush, which the next turn runs even if nothing arrives (tail_owed; lazy_turns full) -
 * the one at the start of the application's next wait (a full turn), after its answer left -
 * and even if frames arrive again (never two such returns in a row). So does a lazy turn
 * whose frames read the clock only for what L4 calls a message's end (st->rx_msg: a request
 * or response of a TCP request/response exchange, which the application answers at once):
 * its answer leaves before the tail (the TCP poller's pass over the connection, the flush),
 * which then runs after the kick, off the exchange's critical path. */
static __attribute__((noinline)) int turn_run(struct hxs_stack *st, int lazy, int n)
{
	struct hxs_frame *f = st->rx_batch;
	int events = 0, batches = 0, owed;
	uint64_t now;

	st->turning = 1;
	if (n < 0) {
		if (st->nrx_held) {
			st->io->ops->rx_release(st->io, f, st->nrx_held);
			st->nrx_held = 0;
		}
		n = st->io->ops->rx_burst(st->io, f, HXS_RX_BATCH);
		hxs_cgwin__rx(n);                   /* make CGWIN=1 only (lib/cgwin.h) */
		if (n <= 0 && lazy && st->lazy_turns < HXS_BUSY_LAZY) {
			st->lazy_turns++;
			st->turning = 0;
			return 0;
		}
	}
	st->lazy_turns = 0;
	st->in_turn = 1;
	st->now_unread = 1;
	st->rx_msg = st->rx_tail = 0;
	while (n > 0) {
		for (int i = 0; i < n; i++)
			if (!st->ctl->rx_xdp || !st->ctl->rx_xdp(st, &f[i]))
				hxs_eth_input(st, &f[i]);
		events += n;
		if (n < HXS_RX_BATCH || ++batches == 4)
			break;
		st->io->ops->rx_release(st->io, f, n);
		n = st->io->ops->rx_burst(st->io, f, HXS_RX_BATCH);
	}
	/* f[0..n): the last batch, not released yet */
	/* not twice in a row: under a flood every look finds frames, and the owed tail (the
	 * clock, timers, control plane, pollers, flush) must still run */
	if (events && lazy && (st->now_unread || st->rx_msg) && !st->rx_tail && !st->ntx &&
	    !st->tail_owed) {
		st->nrx_held = n > 0 ? n : 0;       /* released by the next turn */
		st->tail_owed = 1;
		st->lazy_turns = HXS_BUSY_LAZY;     /* the next look is a full turn */
		st->owed_events += events;
		st->now_unread = 0;
		st->in_turn = 0;
		st->turning = 0;
		return events;
	}
	if (n > 0)
		st->io->ops->rx_release(st->io, f, n);
	now = hxs_stack__now(st);
	owed = st->owed_events;             /* returned already; the pollers count them */
	st->owed_events = 0;
	st->tail_owed = 0;
	events += hxs_wheel__run(&st->wheel, now);
	/* netlink is read when it signalled, while next hops wait, and every HXS_CTL_POLL_US:
	 * not a syscall per turn of a busy loop */
	if (st->ctl_due || st->npend || now >= st->ctl_next) {
		st->ctl_due = 0;
		st->ctl_next = now + HXS_CTL_POLL_US;
		events += st->ctl->poll(st);
	}
	/* TCP timers and pending output, then statistics (which count this turn's events) */
	for (unsigned i = 0; i < st->npollers; i++)
		events += st->pollers[i].poll(st->pollers[i].ctx, now, events + owed);
	hxs_stack__tx_flush(st);
	st->in_turn = 0;
	st->turning = 0;
	return events;
}

/* A lazy look (lazy, fewer than HXS_BUSY_LAZY in a row, no batch held: a turn that holds one
 * is followed by a full turn) is the RX ring and nothing else: here, without turn_run()'s
 * frame, and it goes on there only when frames came. */
static inline int stack_turn(struct hxs_stack *st, int lazy)
{
	int n;

	if (st->turning)
		return -EDEADLK;
	if (!lazy || st->lazy_turns >= HXS_BUSY_LAZY || st->nrx_held)
		return turn_run(st, lazy, -1);
	n = st->io->ops->rx_burst(st->io, st->rx_batch, HXS_RX_BATCH);
	hxs_cgwin__rx(n);                   /* make CGWIN=1 only (lib/cgwin.h) */
	if (n <= 0) {
		st->lazy_turns++;
		return 0;
	}
	return turn_run(st, lazy, n);
}

/* The rest of a busy loop's lazy looks, back to back (stack_poll: nothing it decides from the
 * turn's time changes while that time stands, and lazy looks do not move it): the events of
 * the turn of the first look that found frames, or 0 when none did (the next turn is full). */
static int busy_looks(struct hxs_stack *st)
{
	while (st->lazy_turns < HXS_BUSY_LAZY && !st->nrx_held) {
		int n = st->io->ops->rx_burst(st->io, st->rx_batch, HXS_RX_BATCH);

		hxs_cgwin__rx(n);               /* make CGWIN=1 only (lib/cgwin.h) */
		if (n > 0)
			return turn_run(st, 1, n);
		st->lazy_turns++;
	}
	return 0;
}

uint64_t hxs_stack__next_deadline(const struct hxs_stack *st)
{
	uint64_t next = hxs_wheel__next(&st->wheel);

	for (unsigned i = 0; i < st->npollers; i++) {
		uint64_t d;

		if (!st->pollers[i].deadline)
			continue;
		d = st->pollers[i].deadline(st->pollers[i].ctx);
		if (d < next)
			next = d;
	}
	return next;
}

/* The loop is about to sleep: tell XDP (hdr.sleeping = 1, an atomic exchange and so a full
 * barrier) and look once more, after it, for work that arrived through the slots: either
 * this look sees an ACK XDP consumed, or XDP sees the flag and rings the doorbell. Returns 1
 * if the loop may sleep until `until`, 0 if a turn is due now (sleeping cleared again). */
static int sleep_begin(struct hxs_stack *st, uint64_t now, uint64_t *until)
{
	struct hxs_slot_hdr *h = hxs_stack__slot_hdr(st);
	uint64_t next;

	if (!h)
		return 1;
	__atomic_exchange_n(&h->sleeping, 1, __ATOMIC_SEQ_CST);
	next = hxs_stack__next_deadline(st);
	if (next <= now) {
		__atomic_store_n(&h->sleeping, 0, __ATOMIC_RELAXED);
		return 0;
	}
	if (next < *until)
		*until = next;
	return 1;
}

/* What epoll_wait said of the stack's set: netlink is read in the next turn (ctl_due), not at
 * its next HXS_CTL_POLL_US. Returns 1 if the doorbell rang. */
static int woken_by(struct hxs_stack *st, const struct epoll_event *ev, int n)
{
	int rang = 0;

	for (int i = 0; i < n; i++) {
		if (ev[i].data.fd == st->ctl_fd)
			st->ctl_due = 1;
		if (ev[i].data.fd == st->wake_fd)
			rang = 1;
	}
	return rang;
}

static void sleep_end(struct hxs_stack *st, int rang)
{
	struct hxs_slot_hdr *h = hxs_stack__slot_hdr(st);

	if (h)
		__atomic_store_n(&h->sleeping, 0, __ATOMIC_RELAXED);
	if (rang && st->ctl->wake_drain)
		st->ctl->wake_drain(st);
}

/* epoll_wait until `until` (UINT64_MAX: no limit, 60 s at most at a time). A sleep shorter
 * than a millisecond - a pacing deadline (TCP's tcp_pacing.c) is tens of us away - goes to
 * the microsecond with epoll_pwait2(2) (Linux 5.11): epoll_wait(2)'s milliseconds, rounded
 * up, would hold a paced sender to one burst a millisecond. Longer sleeps (and a kernel
 * without epoll_pwait2) take epoll_wait's milliseconds, rounded up. */
static int loop_wait(struct hxs_stack *st, struct epoll_event *ev, int n, uint64_t now, uint64_t until)
{
	uint64_t us = until == UINT64_MAX ? 0 : (until > now ? until - now : 0);
	int r;

	if (us > 60000000ull)
		us = 60000000ull;
	if (until != UINT64_MAX && us < 1000 && !st->no_pwait2) {
		struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };

		r = epoll_pwait2(st->epfd, ev, n, &ts, NULL);
		if (r >= 0 || errno != ENOSYS)
			return r;
		st->no_pwait2 = 1;
	}
	return epoll_wait(st->epfd, ev, n, until == UINT64_MAX ? -1 : (int)((us + 999) / 1000));
}

static int stack_poll(struct hxs_stack *st, int timeout_ms, int lazy);

int hxs_stack__poll(struct hxs_stack *st, int timeout_ms)
{
	return stack_poll(st, timeout_ms, 0);
}

int hxs_stack__poll_again(struct hxs_stack *st, int timeout_ms)
{
	return stack_poll(st, timeout_ms, 1);
}

/* lazy: the first turn may already be a lazy one (hxs_stack__poll_again) */
static int stack_poll(struct hxs_stack *st, int timeout_ms, int lazy)
{
	uint64_t deadline = UINT64_MAX;
	int events;

	lazy = lazy && st->busy_poll;

	/* No clock read of its own: the caller's timeout counts from the first turn's. */
	for (;;) {
		uint64_t now, next, until;

		events = stack_turn(st, lazy);
		if (events || timeout_ms == 0)
			return events;
		now = st->turn_now;
		if (timeout_ms > 0 && deadline == UINT64_MAX)
			deadline = now + (uint64_t)timeout_ms * 1000;
		if (now >= deadline)
			return 0;
		if (st->busy_poll) {
			lazy = 1;
			if (st->busy_yield) {
				sched_yield();      /* a NAPI thread on our CPU runs now */
				continue;
			}
			events = busy_looks(st);
			if (events)
				return events;
			continue;
		}
		lazy = 0;
		if (st->epfd < 0)
			return 0;       /* in-memory link: nothing to sleep on, the caller drives time */
		next = hxs_stack__next_deadline(st);
		until = next < deadline ? next : deadline;
		/* Frames still on the TX side come back through the completion ring, which wakes
		 * no fd: while some are out, sleep at most HXS_TX_WAIT_US so a sender waiting for
		 * one does not wait for unrelated traffic. */
		{
			uint64_t txq;

			if (st->io->ops->tx_queued) {
				txq = st->io->ops->tx_queued(st->io);   /* no XDP_STATISTICS syscall */
			} else {
				struct hxs_io_stats s0;

				st->io->ops->get_stats(st->io, &s0);
				txq = s0.frames_tx_queued;
			}
			if (txq && until > now + HXS_TX_WAIT_US)
				until = now + HXS_TX_WAIT_US;
		}
		if (!sleep_begin(st, now, &until))
			continue;
		{
			struct epoll_event ev[4];
			int r = loop_wait(st, ev, 4, now, until), e = errno;

			sleep_end(st, woken_by(st, ev, r));
			if (r < 0 && e != EINTR)
				return -e;
			if (r < 0)
				return -EINTR;
		}
	}
}

/* A loop of the caller's own slept on hxs_stack__fd() and woke: which of the stack's fds
 * woke it is looked at (one epoll_wait that does not wait), as the stack's own sleep does,
 * so this turn reads netlink at once and drains the doorbell. A turn of hxs_stack__poll(st,
 * 0) would leave a netlink event unread until the next HXS_CTL_POLL_US, and the caller's
 * set would report the stack's fd again at once: a spin of up to that long per event. */
int hxs_stack__poll_woken(struct hxs_stack *st)
{
	struct epoll_event ev[4];
	int r;

	if (st->epfd >= 0 && !st->turning) {
		r = epoll_wait(st->epfd, ev, 4, 0);
		if (r > 0 && woken_by(st, ev, r) && st->ctl->wake_drain)
			st->ctl->wake_drain(st);
	}
	return stack_poll(st, 0, 0);
}

uint64_t hxs_stack__turn_time(const struct hxs_stack *st)
{
	return st->turn_now;
}

/* A caller that asks for the fd may sleep on it: a busy-polling stack's io fd joins the set
 * now (the one write through the const pointer: the set is the caller's to wait on). */
int hxs_stack__fd(const struct hxs_stack *st)
{
	struct hxs_stack *w = (struct hxs_stack *)st;

	if (w->io_fd_lazy) {
		int fd = w->io->ops->poll_fd(w->io);

		if (fd >= 0 && !hxs_stack__watch_fd(w, fd, 0))
			w->io_fd_lazy = 0;
	}
	return st->epfd;
}

const char *hxs_stack__describe(const struct hxs_stack *st)
{
	return st->desc;
}

uint32_t hxs_stack__addr(const struct hxs_stack *st)
{
	return st->addr;
}
