/* stack.c - the stack object: its clock, registrations, counters, TX batch and the calls into
 * its control plane. What ip.c and the layers above use between turns; the loop is loop.c.
 *
 * hxs_stack__now()            the turn's time (one clock read per turn), else the clock
 * hxs_stack__time_hold()/_release() -> a call outside a turn (a datagram's send) sees one
 *                             time: one clock read for all its lookups
 * hxs_stack__tx() -> batch of HXS_TX_BATCH -> tx_submit() -> io tx_submit (+ flush when full)
 * hxs_stack__route()/resolve()/own_*()/disown_*() -> st->ctl (ctl_kernel.c, ctl_static.c)
 * hxs_stack__set_l4()/add_poller()/add_counters()  what the layers above register
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stack.h"

/* --- common --------------------------------------------------------------------------------- */
static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t hxs_stack__clock(const struct hxs_stack *st)
{
	return st->clock ? st->clock(st->clock_ctx) : mono_us();
}

/* Inside a turn every packet, timer and route lookup sees the time the turn started: one
 * clock read per turn, not one per segment. */
uint64_t hxs_stack__now(const struct hxs_stack *st)
{
	if (!st->in_turn)
		return hxs_stack__clock(st);
	if (st->now_unread) {
		/* the turn's one read, on its first use (loop.c: a turn that needs no time
		 * reads none); the stack is the caller's to change, the const is the view's */
		struct hxs_stack *w = (struct hxs_stack *)st;

		w->turn_now = hxs_stack__clock(st);
		w->now_unread = 0;
	}
	return st->turn_now;
}

int hxs_stack__time_hold(struct hxs_stack *st)
{
	if (st->in_turn)
		return 0;
	/* Read, not the last turn's time even on a busy loop: the caller may have worked for
	 * seconds since, and a timer armed now (a next hop's pending queue) must not fire early. */
	st->turn_now = hxs_stack__clock(st);
	st->in_turn = 1;
	return 1;
}

void hxs_stack__time_release(struct hxs_stack *st, int held)
{
	if (held)
		st->in_turn = 0;
}

int hxs_stack__set_clock(struct hxs_stack *st, uint64_t (*clock)(void *ctx), void *ctx)
{
	/* The wheel's ticks count from its start time: armed timers would expire against the
	 * other clock. Only an idle wheel may change clocks (a lazily cancelled timer still holds
	 * its slot and counts: callers set the clock before any connection exists). */
	if (st->wheel.count)
		return -EBUSY;
	st->clock = clock;
	st->clock_ctx = ctx;
	hxs_wheel__init(&st->wheel, hxs_stack__now(st));
	return 0;
}

void hxs_stack__set_l4(struct hxs_stack *st, uint8_t proto, hxs_l4_input_fn fn, void *ctx)
{
	st->l4[proto].input = fn;
	st->l4[proto].ctx = fn ? ctx : NULL;
}

void hxs_stack__set_l4v6(struct hxs_stack *st, uint8_t proto, hxs_l4_input_fn fn, void *ctx)
{
	st->l4v6[proto].input = fn;
	st->l4v6[proto].ctx = fn ? ctx : NULL;
}

int hxs_stack__add_poller(struct hxs_stack *st, const struct hxs_poller *p)
{
	if (st->npollers == HXS_POLLERS_MAX)
		return -ENOSPC;
	st->pollers[st->npollers++] = *p;
	return 0;
}

void hxs_stack__del_poller(struct hxs_stack *st, void *ctx)
{
	for (unsigned i = 0; i < st->npollers; i++)
		if (st->pollers[i].ctx == ctx) {
			memmove(&st->pollers[i], &st->pollers[i + 1],
				(st->npollers - i - 1) * sizeof(st->pollers[0]));
			st->npollers--;
			return;
		}
}

int hxs_stack__add_counters(struct hxs_stack *st, const struct hxs_counter_table *t)
{
	if (st->nctr == HXS_COUNTER_TABLES)
		return -ENOSPC;
	st->ctr[st->nctr++] = *t;
	return 0;
}

void hxs_stack__print_counters(const struct hxs_stack *st, FILE *fp, int all)
{
	struct hxs_io_stats s;

	hxs_counters__print(fp, st->ctr, st->nctr, all);
	st->io->ops->get_stats(st->io, &s);
	{
		/* Frame accounting: Total == Free + RxQueued + TxQueued + Held at any time; at
		 * exit Held must be 0 or the stack leaked frames. */
		const struct { const char *name; uint64_t v; } io[] = {
			{ "HxsIoRxFrames", s.rx_frames },         { "HxsIoTxFrames", s.tx_frames },
			{ "HxsIoFramesTotal", s.frames_total },   { "HxsIoFramesFree", s.frames_free },
			{ "HxsIoFramesRxQueued", s.frames_rx_queued },
			{ "HxsIoFramesTxQueued", s.frames_tx_queued },
			{ "HxsIoFramesHeld", s.frames_held },
			{ "HxsIoTxWakeups", s.tx_wakeups },       { "HxsIoRxWakeups", s.rx_wakeups },
		};
		for (size_t i = 0; i < sizeof(io) / sizeof(io[0]); i++)
			fprintf(fp, "%-24s %llu\n", io[i].name, (unsigned long long)io[i].v);
	}
	if (all || s.rx_dropped)
		fprintf(fp, "%-24s %llu\n", "HxsIoRxDropped", (unsigned long long)s.rx_dropped);
	/* multi-buffer frames (HXS_IO_F_MULTIBUF): gathered on receive, sent as chains */
	if (all || (st->io->flags & HXS_IO_F_MULTIBUF)) {
		fprintf(fp, "%-24s %llu\n", "HxsIoRxMultibuf", (unsigned long long)s.rx_multibuf);
		fprintf(fp, "%-24s %llu\n", "HxsIoTxMultibuf", (unsigned long long)s.tx_multibuf);
	}
	if (st->ctl->print_counters)
		st->ctl->print_counters(st, fp, all);
}

int hxs_stack__counter(const struct hxs_stack *st, const char *name, uint64_t *val)
{
	return hxs_counters__get(st->ctr, st->nctr, name, val);
}

void hxs_stack__dst_changed(struct hxs_stack *st)
{
	if (++st->dst_gen == 0)
		st->dst_gen = 1;
}

int hxs_stack__route(struct hxs_stack *st, uint32_t dst, uint32_t *nexthop)
{
	/* the limited broadcast is on the link, whatever the routes say (RFC 1122 3.3.6) */
	if (dst == INADDR_BROADCAST) {
		*nexthop = dst;
		return 0;
	}
	return st->ctl->route(st, dst, nexthop);
}

int hxs_stack__resolve(struct hxs_stack *st, uint32_t ip, uint8_t mac[6])
{
	return st->ctl->resolve(st, ip, mac);
}

int hxs_stack__route6(struct hxs_stack *st, const uint8_t dst[16], uint8_t nexthop[16],
		      uint8_t *hop_limit)
{
	if (!st->ctl->route6)
		return -ENETUNREACH;
	return st->ctl->route6(st, dst, nexthop, hop_limit);
}

int hxs_stack__resolve6(struct hxs_stack *st, const uint8_t ip[16], uint8_t mac[6])
{
	if (!st->ctl->resolve6)
		return -EHOSTUNREACH;
	return st->ctl->resolve6(st, ip, mac);
}

int hxs_stack__own_bind(struct hxs_stack *st, struct hxs_addr addr, uint16_t port, uint8_t proto,
			uint32_t owner, uint32_t flags)
{
	return st->ctl->own_bind(st, addr, port, proto, owner, flags);
}

void hxs_stack__disown_bind(struct hxs_stack *st, struct hxs_addr addr, uint16_t port, uint8_t proto)
{
	st->ctl->disown_bind(st, addr, port, proto);
}

int hxs_stack__own_conn(struct hxs_stack *st, struct hxs_addr laddr, uint16_t lport, struct hxs_addr raddr,
			uint16_t rport, uint8_t proto, uint32_t slot, uint32_t gen)
{
	return st->ctl->own_conn(st, laddr, lport, raddr, rport, proto, slot, gen);
}

void hxs_stack__disown_conn(struct hxs_stack *st, struct hxs_addr laddr, uint16_t lport, struct hxs_addr raddr,
			    uint16_t rport, uint8_t proto)
{
	st->ctl->disown_conn(st, laddr, lport, raddr, rport, proto);
}

int hxs_stack__own_eph(struct hxs_stack *st, struct hxs_addr addr, uint16_t port)
{
	struct hxs_eph_val *e;
	uint32_t w[4];

	if (!st->eph)
		return -EOPNOTSUPP;
	if (hxs_addr_is_any(addr))
		return -EINVAL;
	e = &st->eph[ntohs(port)];
	/* One entry per port: a port held on another address already (an IPv4 and an IPv6
	 * connect, or two source addresses, both picking it) keeps its holder, whose
	 * connections may have no conn entry; the newcomer is refused, so it gets one
	 * (tcp_sock.c on_tuple: eph_held fails for it). disown_eph clears only its own. */
	for (int i = 0; i < 4; i++)
		if (__atomic_load_n(&e->addr[i], __ATOMIC_RELAXED)) {
			if (hxs_stack__eph_held(st, addr, port))
				return 0;
			return -EBUSY;
		}
	memcpy(w, addr.b, 16);
	/* word by word, as the program reads them (shared.h: a racing frame matches the old
	 * address, the new one, or neither) */
	for (int i = 0; i < 4; i++)
		__atomic_store_n(&e->addr[i], w[i], __ATOMIC_RELEASE);
	return 0;
}

int hxs_stack__eph_held(const struct hxs_stack *st, struct hxs_addr addr, uint16_t port)
{
	uint32_t w[4];

	if (!st->eph)
		return 0;
	memcpy(w, addr.b, 16);
	for (int i = 0; i < 4; i++)
		if (__atomic_load_n(&st->eph[ntohs(port)].addr[i], __ATOMIC_RELAXED) != w[i])
			return 0;
	return !hxs_addr_is_any(addr);
}

void hxs_stack__disown_eph(struct hxs_stack *st, struct hxs_addr addr, uint16_t port)
{
	if (!hxs_stack__eph_held(st, addr, port))
		return;
	for (int i = 0; i < 4; i++)
		__atomic_store_n(&st->eph[ntohs(port)].addr[i], 0, __ATOMIC_RELEASE);
}

void hxs_stack__disown_conns(struct hxs_stack *st, uint8_t proto)
{
	static const uint8_t zero[16];

	st->ctl->disown_conns(st, hxs_addr4(st->addr), proto);
	if (memcmp(st->addr6, zero, 16))
		st->ctl->disown_conns(st, hxs_addr6(st->addr6), proto);
	if (memcmp(st->ll6, zero, 16))
		st->ctl->disown_conns(st, hxs_addr6(st->ll6), proto);
}

int hxs_stack__cookie_secret(struct hxs_stack *st, const struct hxs_cookie_secret *s)
{
	return st->ctl->cookie_secret ? st->ctl->cookie_secret(st, s) : 0;
}

static inline __attribute__((always_inline)) void tx_submit(struct hxs_stack *st)
{
	int n, m;

	if (!st->ntx)
		return;
	n = st->io->ops->tx_submit(st->io, st->txb, st->ntx);
	if (n < 0)
		n = 0;
	if (n < st->ntx) {
		/* the TX ring took a prefix: kick it (reaps completions) and offer the rest again */
		st->io->ops->flush(st->io);
		m = st->io->ops->tx_submit(st->io, st->txb + n, st->ntx - n);
		n += m > 0 ? m : 0;
	}
	if (n < st->ntx) {
		/* still full: dropped, as a full qdisc would */
		st->io->ops->tx_free(st->io, st->txb + n, st->ntx - n);
		st->mib.v[HXS_MIB_IP_OUT_DISCARDS] += (uint64_t)(st->ntx - n);
	}
	st->ntx = 0;
}

void hxs_stack__tx(struct hxs_stack *st, const struct hxs_frame *f)
{
	st->txb[st->ntx++] = *f;
	if (st->ntx == HXS_TX_BATCH) {
		tx_submit(st);
		st->io->ops->flush(st->io);
	}
}

void hxs_stack__tx_flush(struct hxs_stack *st)
{
	tx_submit(st);
	st->io->ops->flush(st->io);
}
