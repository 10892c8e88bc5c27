/* ctl_kernel.c - the kernel's control plane behind a stack on a real interface
 * (hxs_stack__open): routes and neighbours from rtnetlink (ctl/netif.c), steering entries in
 * the XDP program's maps (ctl/xdp_ctl.c).
 *
 * hxs_stack__route()/resolve()    -> hw_route()/hw_resolve()  netif caches, the turn's clock
 * hxs_stack__route6()/resolve6()  -> hw_route6()/hw_resolve6() (ctl/netif6.c)
 * stack_turn() -> ctl->poll()     -> hxs_netif__poll() -> hxs_stack__neigh_event()
 *                                 -> any notification read -> hxs_stack__dst_changed()
 *                                    (IPv6: hxs_ctl_kernel__neigh6_cb -> neigh6_event)
 * hxs_stack__own_bind()/own_conn()/disown_*() -> hxs_xdp__bind_*() / hxs_xdp__conn_*()
 * the loop woke on the doorbell -> wake_drain -> hxs_xdp__wake_drain()
 * hxs_stack__fini() -> ctl->close -> io, then hxs_xdp__close() (detaches only what it
 *                      attached), then netlink
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/pmtu_watch.h"
#include "hxs/xdp.h"
#include "ip.h"
#include "stack.h"

/* The caches' clock in ns: the turn's one reading of CLOCK_MONOTONIC (0 lets netif read it
 * when the stack runs on another clock). */
static uint64_t hw_now_ns(const struct hxs_stack *st)
{
	return st->clock ? 0 : hxs_stack__now(st) * 1000u;
}

static int hw_route(struct hxs_stack *st, uint32_t dst, uint32_t *nh)
{
	return hxs_netif__route_at(st->nif, dst, nh, hw_now_ns(st));
}

static int hw_resolve(struct hxs_stack *st, uint32_t ip, uint8_t mac[6])
{
	return hxs_neigh__resolve_at(st->nif, ip, mac, hw_now_ns(st));
}

static void hw_neigh_cb(void *ctx, uint32_t ip, enum hxs_neigh_event ev, const uint8_t mac[6])
{
	hxs_stack__neigh_event(ctx, ip, ev, mac);
}

static int hw_route6(struct hxs_stack *st, const uint8_t dst[16], uint8_t nh[16], uint8_t *hl)
{
	return hxs_netif__route6_at(st->nif, dst, nh, hl, hw_now_ns(st));
}

static int hw_resolve6(struct hxs_stack *st, const uint8_t ip[16], uint8_t mac[6])
{
	return hxs_neigh6__resolve_at(st->nif, ip, mac, hw_now_ns(st));
}

void hxs_ctl_kernel__neigh6_cb(void *ctx, const uint8_t ip[16], int ev, const uint8_t mac[6])
{
	hxs_stack__neigh6_event(ctx, ip, (enum hxs_neigh_event)ev, mac);
}

/* An ICMP "fragmentation needed" reached the kernel about a segment to daddr: the MTU the
 * kernel's route keeps now (its rules applied to the ICMP's figure) goes to TCP. */
static void hw_pmtu_cb(void *ctx, uint32_t daddr, uint32_t icmp_mtu)
{
	struct hxs_stack *st = ctx;
	uint32_t mtu = 0;

	(void)icmp_mtu;
	if (hxs_netif__route_mtu(st->nif, daddr, &mtu) || !st->pmtu_fn)
		return;
	st->pmtu_events++;
	st->pmtu_fn(st->pmtu_ctx, daddr, mtu);
}

static int hw_poll(struct hxs_stack *st)
{
	int n = hxs_netif__poll(st->nif, hw_neigh_cb, st);

	/* a route, neighbour, address or link changed: cached destinations are stale */
	if (st->nif->gen != st->nif_gen) {
		st->nif_gen = st->nif->gen;
		hxs_stack__dst_changed(st);
	}

	/* IPv6 addresses come and go (DAD finishing, a new prefix): the stack follows */
	memcpy(st->addr6, st->nif->addr6, 16);
	memcpy(st->ll6, st->nif->ll6, 16);
	st->prefix6_len = st->nif->prefix6_len;

	if (st->pmtu_fd >= 0)
		hxs_pmtu_watch__drain(st->pmtu_fd, hw_pmtu_cb, st);
	return n > 0 ? n : 0;
}

/* The maps key addresses as hxs_addr does (16 bytes, IPv4 as ::ffff:a.b.c.d) */
static int hw_own_bind(struct hxs_stack *st, struct hxs_addr addr, uint16_t port, uint8_t proto,
		       uint32_t owner, uint32_t flags)
{
	return hxs_xdp__bind_add(st->xdp, addr.b, port, proto, owner, flags);
}

static void hw_disown_bind(struct hxs_stack *st, struct hxs_addr addr, uint16_t port, uint8_t proto)
{
	hxs_xdp__bind_del(st->xdp, addr.b, port, proto);
}

static int hw_own_conn(struct hxs_stack *st, struct hxs_addr laddr, uint16_t lport,
		       struct hxs_addr raddr, uint16_t rport, uint8_t proto, uint32_t slot, uint32_t gen)
{
	return hxs_xdp__conn_add(st->xdp, laddr.b, lport, raddr.b, rport, proto, slot, gen);
}

static void hw_disown_conn(struct hxs_stack *st, struct hxs_addr laddr, uint16_t lport,
			   struct hxs_addr raddr, uint16_t rport, uint8_t proto)
{
	hxs_xdp__conn_del(st->xdp, laddr.b, lport, raddr.b, rport, proto);
}

static void hw_disown_conns(struct hxs_stack *st, struct hxs_addr laddr, uint8_t proto)
{
	hxs_xdp__conn_flush(st->xdp, laddr.b, proto);
}

static int hw_cookie_secret(struct hxs_stack *st, const struct hxs_cookie_secret *s)
{
	return hxs_xdp__cookie_set(st->xdp, s);
}

static void hw_print_counters(const struct hxs_stack *st, FILE *fp, int all)
{
	static const char *const names[] = HXS_XDP_STAT_NAMES;
	struct hxs_io_stats s;
	__u64 v[HXS_XDP_STAT_MAX];

	st->io->ops->get_stats(st->io, &s);
	if (all || s.rx_ring_full)
		fprintf(fp, "%-24s %llu\n", "XskRxRingFull", (unsigned long long)s.rx_ring_full);
	if (all || s.fill_empty)
		fprintf(fp, "%-24s %llu\n", "XskFillEmpty", (unsigned long long)s.fill_empty);
	if (all || s.tx_ring_full)
		fprintf(fp, "%-24s %llu\n", "XskTxRingFull", (unsigned long long)s.tx_ring_full);
	if (hxs_xdp__stats(st->xdp, v))
		return;
	for (int i = 0; i < HXS_XDP_STAT_MAX; i++)
		if (all || v[i])
			fprintf(fp, "%-24s %llu\n", names[i], (unsigned long long)v[i]);
}

static void hw_wake_drain(struct hxs_stack *st)
{
	hxs_xdp__wake_drain(st->xdp);
}

static void hw_close(struct hxs_stack *st)
{
	if (st->io)
		st->io->ops->close(st->io);
	st->io = NULL;
	st->eph = NULL;                 /* unmapped by hxs_xdp__close() */
	if (st->xdp)
		hxs_xdp__close(st->xdp);
	st->xdp = NULL;
	if (st->nif)
		hxs_netif__close(st->nif);
	st->nif = NULL;
	if (st->pmtu_fd >= 0)
		close(st->pmtu_fd);
	st->pmtu_fd = -1;
}

const struct hxs_ctl_ops hxs_ctl_kernel = {
	.route = hw_route,
	.resolve = hw_resolve,
	.route6 = hw_route6,
	.resolve6 = hw_resolve6,
	.poll = hw_poll,
	.own_bind = hw_own_bind,
	.disown_bind = hw_disown_bind,
	.own_conn = hw_own_conn,
	.disown_conn = hw_disown_conn,
	.disown_conns = hw_disown_conns,
	.cookie_secret = hw_cookie_secret,
	.wake_drain = hw_wake_drain,
	.print_counters = hw_print_counters,
	.close = hw_close,
};
