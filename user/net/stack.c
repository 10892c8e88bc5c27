/* stack.c - the stack object and its run loop; the static control plane of open_io.
 *
 * hxs_stack__poll() -> stack_turn(): rx_burst -> hxs_eth_input() (per frame) -> rx_release
 *                                    -> hxs_wheel__run() -> hxs_tcp_sock__poll() (TCP timers,
 *                                       pending output) -> ctl->poll() (neighbour events)
 *                                    -> hxs_stack__tx_flush()
 *                   -> idle: busy-poll, or sleep in epoll_wait(2) on the io and netlink fds
 *                      until the next timer or TCP deadline or the caller's timeout
 * hxs_stack__open() (stack_hw.c) and hxs_stack__open_io() (here) differ only in the control
 * plane (struct hxs_ctl_ops) and who owns the io.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "sock/sock.h"
#include "stack.h"
#include "stats/stats_pub.h"
#include "sock/tcp_sock.h"

/* --- static control plane ----------------------------------------------------------------- */
static int static_route(struct hxs_stack *st, uint32_t dst, uint32_t *nh)
{
	uint32_t mask = st->scfg.prefix_len ? htonl(~0u << (32 - st->scfg.prefix_len)) : 0;

	if ((dst & mask) == (st->addr & mask)) {
		*nh = dst;
		return 0;
	}
	if (!st->scfg.gateway)
		return -ENETUNREACH;
	*nh = st->scfg.gateway;
	return 0;
}

static int static_resolve(struct hxs_stack *st, uint32_t ip, uint8_t mac[6])
{
	for (unsigned i = 0; i < st->scfg.n_neigh; i++)
		if (st->scfg.neigh[i].ip == ip) {
			memcpy(mac, st->scfg.neigh[i].mac, 6);
			return 0;
		}
	return -EAGAIN;
}

static int static_poll(struct hxs_stack *st) { return 0; }

static int static_own_bind(struct hxs_stack *st, uint32_t addr, uint16_t port, uint8_t proto,
			   uint32_t owner, uint32_t flags)
{
	return 0;
}

static void static_disown_bind(struct hxs_stack *st, uint32_t addr, uint16_t port, uint8_t proto)
{
}

static int static_own_conn(struct hxs_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
			   uint16_t rport, uint8_t proto, uint32_t conn_id)
{
	return 0;
}

static void static_disown_conn(struct hxs_stack *st, uint32_t laddr, uint16_t lport,
			       uint32_t raddr, uint16_t rport, uint8_t proto)
{
}

static void static_close(struct hxs_stack *st) { }

static const struct hxs_ctl_ops static_ctl = {
	.route = static_route,
	.resolve = static_resolve,
	.poll = static_poll,
	.own_bind = static_own_bind,
	.disown_bind = static_disown_bind,
	.own_conn = static_own_conn,
	.disown_conn = static_disown_conn,
	.close = static_close,
};

/* --- common --------------------------------------------------------------------------------- */
static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t read_clock(const struct hxs_stack *st)
{
	return st->clock ? st->clock(st->clock_ctx) : mono_us();
}

/* Inside a turn every packet, timer and route lookup sees the time the turn started: one
 * clock read per turn, not one per segment. */
uint64_t hxs_stack__now(const struct hxs_stack *st)
{
	return st->in_turn ? st->turn_now : read_clock(st);
}

int hxs_stack__set_clock(struct hxs_stack *st, uint64_t (*clock)(void *ctx), void *ctx)
{
	/* The wheel's ticks count from its start time: armed timers would expire against the
	 * other clock. Only an idle wheel may change clocks. */
	if (st->wheel.count)
		return -EBUSY;
	st->clock = clock;
	st->clock_ctx = ctx;
	hxs_wheel__init(&st->wheel, hxs_stack__now(st));
	return 0;
}

int hxs_stack__set_port_range(struct hxs_stack *st, uint16_t lo, uint16_t hi)
{
	if (!lo || lo > hi)
		return -EINVAL;
	st->eph_lo = lo;
	st->eph_hi = hi;
	st->port_sel.lo = lo;
	st->port_sel.hi = hi;
	return 0;
}

void hxs_stack__set_tcp_input(struct hxs_stack *st, hxs_l4_input_fn fn, void *ctx)
{
	st->tcp_input = fn;
	st->tcp_ctx = ctx;
}

void hxs_stack__set_tcp_fini(struct hxs_stack *st, void (*fini)(void *ctx, struct hxs_stack *st))
{
	st->tcp_fini = fini;
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
		};
		for (size_t i = 0; i < sizeof(io) / sizeof(io[0]); i++)
			fprintf(fp, "%-24s %llu\n", io[i].name, (unsigned long long)io[i].v);
	}
	if (all || s.rx_dropped)
		fprintf(fp, "%-24s %llu\n", "HxsIoRxDropped", (unsigned long long)s.rx_dropped);
	if (st->ctl->print_counters)
		st->ctl->print_counters(st, fp, all);
}

int hxs_stack__counter(const struct hxs_stack *st, const char *name, uint64_t *val)
{
	return hxs_counters__get(st->ctr, st->nctr, name, val);
}

int hxs_stack__route(struct hxs_stack *st, uint32_t dst, uint32_t *nexthop)
{
	return st->ctl->route(st, dst, nexthop);
}

int hxs_stack__resolve(struct hxs_stack *st, uint32_t ip, uint8_t mac[6])
{
	return st->ctl->resolve(st, ip, mac);
}

int hxs_stack__own_bind(struct hxs_stack *st, uint32_t addr, uint16_t port, uint8_t proto,
			uint32_t owner, uint32_t flags)
{
	return st->ctl->own_bind(st, addr, port, proto, owner, flags);
}

void hxs_stack__disown_bind(struct hxs_stack *st, uint32_t addr, uint16_t port, uint8_t proto)
{
	st->ctl->disown_bind(st, addr, port, proto);
}

int hxs_stack__own_conn(struct hxs_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
			uint16_t rport, uint8_t proto, uint32_t conn_id)
{
	return st->ctl->own_conn(st, laddr, lport, raddr, rport, proto, conn_id);
}

void hxs_stack__disown_conn(struct hxs_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
			    uint16_t rport, uint8_t proto)
{
	st->ctl->disown_conn(st, laddr, lport, raddr, rport, proto);
}

static void tx_submit(struct hxs_stack *st)
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

int hxs_stack__init(struct hxs_stack *st)
{
	int err;

	st->epfd = -1;
	st->ctl_fd = -1;
	st->eph_lo = HXS_EPH_LO_DEFAULT;
	st->eph_hi = HXS_EPH_HI_DEFAULT;
	hxs_wheel__init(&st->wheel, hxs_stack__now(st));
	st->ctr[0] = (struct hxs_counter_table){ hxs_mib_names, st->mib.v, HXS_MIB_MAX };
	st->nctr = 1;
	err = hxs_socket__init(st);
	if (err)
		return err;
	/* TCP sockets (tcp_sock.c); the core is made with the first one */
	return hxs_sock__register_proto(st, SOCK_STREAM, &hxs_tcp_sock_ops);
}

int hxs_stack__open_io(struct hxs_stack **out, struct hxs_io *io, const struct hxs_netif_static *cfg)
{
	struct hxs_stack *st;
	int err;

	if (!io || !cfg || !cfg->addr || cfg->n_neigh > HXS_STATIC_NEIGH_MAX)
		return -EINVAL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->ctl = &static_ctl;
	st->io = io;
	st->scfg = *cfg;
	st->addr = cfg->addr;
	st->prefix_len = cfg->prefix_len;
	memcpy(st->mac, cfg->mac, 6);
	st->mtu = cfg->mtu ? cfg->mtu : 1500;
	if (st->mtu > io->frame_size - HXS_ETH_HLEN)
		st->mtu = io->frame_size - HXS_ETH_HLEN;
	err = hxs_stack__init(st);
	if (err) {
		free(st);
		return err;
	}
	struct in_addr a = { .s_addr = st->addr };
	snprintf(st->desc, sizeof(st->desc), "%s link, %s/%u, mtu %u", io->ops->name, inet_ntoa(a),
		 st->prefix_len, st->mtu);
	*out = st;
	return 0;
}

void hxs_stack__close(struct hxs_stack *st)
{
	if (!st)
		return;
	hxs_stats_pub__close(st->pub);
	st->pub = NULL;
	hxs_epoll__close_all(st);
	hxs_socket__fini(st);
	if (st->tcp_fini)
		st->tcp_fini(st->tcp_ctx, st);
	hxs_socket__free_ports(st);
	hxs_ip__drop_pending(st);
	hxs_stack__tx_flush(st);
	if (st->epfd >= 0)
		close(st->epfd);
	st->ctl->close(st);
	free(st);
}

#define HXS_TX_WAIT_US 1000    /* longest sleep while TX frames are out for completion */

/* One pass over everything that may have work. Returns the number of events. */
static int stack_turn(struct hxs_stack *st)
{
	struct hxs_frame f[HXS_RX_BATCH];
	int events = 0, n, batches = 0;
	uint8_t outer = st->in_turn;
	uint64_t now = read_clock(st);

	st->turn_now = now;
	st->in_turn = 1;
	do {
		n = st->io->ops->rx_burst(st->io, f, HXS_RX_BATCH);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++)
			hxs_eth_input(st, &f[i]);
		st->io->ops->rx_release(st->io, f, n);
		events += n;
	} while (n == HXS_RX_BATCH && ++batches < 4);
	events += hxs_wheel__run(&st->wheel, now);
	events += hxs_tcp_sock__poll(st, now);       /* TCP timers and pending output */
	/* netlink is read when it signalled, while next hops wait, and every HXS_CTL_POLL_US:
	 * not a syscall per turn of a busy loop */
	if (st->ctl_due || st->npend || now >= st->ctl_next) {
		st->ctl_due = 0;
		st->ctl_next = now + HXS_CTL_POLL_US;
		events += st->ctl->poll(st);
	}
	hxs_stats_pub__tick(st->pub, now, events);
	hxs_stack__tx_flush(st);
	st->in_turn = outer;
	return events;
}

int hxs_stack__poll(struct hxs_stack *st, int timeout_ms)
{
	uint64_t deadline = UINT64_MAX;
	int events;

	/* A zero timeout (the busy-polling caller's case) reads no clock here: the turn does. */
	if (timeout_ms > 0)
		deadline = hxs_stack__now(st) + (uint64_t)timeout_ms * 1000;
	for (;;) {
		uint64_t now, next, until;

		events = stack_turn(st);
		if (events || timeout_ms == 0)
			return events;
		now = st->turn_now;
		if (now >= deadline)
			return 0;
		next = hxs_wheel__next(&st->wheel);
		if (hxs_tcp_sock__deadline(st) < next)
			next = hxs_tcp_sock__deadline(st);
		until = next < deadline ? next : deadline;
		if (st->busy_poll)
			continue;
		if (st->epfd < 0)
			return 0;       /* in-memory link: nothing to sleep on, the caller drives time */
		/* Frames still on the TX side come back through the completion ring, which wakes
		 * no fd: while some are out, sleep at most HXS_TX_WAIT_US so a sender waiting for
		 * one does not wait for unrelated traffic. */
		{
			struct hxs_io_stats s0;

			st->io->ops->get_stats(st->io, &s0);
			if (s0.frames_tx_queued && until > now + HXS_TX_WAIT_US)
				until = now + HXS_TX_WAIT_US;
		}
		{
			struct epoll_event ev[4];
			uint64_t wait_ms = until == UINT64_MAX ? 0 : ((until > now ? until - now : 0) + 999) / 1000;
			int ms = until == UINT64_MAX ? -1 : (int)(wait_ms > 60000 ? 60000 : wait_ms);
			int r = epoll_wait(st->epfd, ev, 4, ms);

			if (r < 0 && errno != EINTR)
				return -errno;
			if (r < 0)
				return -EINTR;
			for (int i = 0; i < r; i++)
				if (ev[i].data.fd == st->ctl_fd)
					st->ctl_due = 1;
		}
	}
}

int hxs_stack__fd(const struct hxs_stack *st)
{
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
