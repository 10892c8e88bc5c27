/* twostack.c - two whole stacks on the in-memory link (how a test uses them: twostack.h).
 *
 * twostack_open() -> hxs_io_mem__pair() -> hxs_stack__open_io(A), (B) with a static
 *                    netif each (the other end as the one known neighbour)
 *                 -> hxs_stack__set_clock(A), (B)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io.h"
#include "open/stack_open.h"
#include "twostack.h"

/* What netlink would say of one end: its address and MAC, the other end as a neighbour. */
static void netif_of(struct hxs_netif_static *n, uint32_t addr, const uint8_t mac[6],
		     uint32_t mtu, uint32_t peer, const uint8_t peer_mac[6])
{
	memset(n, 0, sizeof(*n));
	n->addr = addr;
	n->prefix_len = 24;
	n->mtu = mtu;
	memcpy(n->mac, mac, 6);
	n->n_neigh = 1;
	n->neigh[0].ip = peer;
	memcpy(n->neigh[0].mac, peer_mac, 6);
}

int twostack_open(struct twostack *ts, const struct twostack_cfg *cfg)
{
	struct hxs_netif_static ca, cb;
	int err;

	memset(ts, 0, sizeof(*ts));
	/* What the AF_XDP backend would accept (xsk.c): frames of 2048 or 4096 bytes, and an
	 * MTU that fits one beside the 256 bytes of headroom hxs_stack__open() keeps (it clamps
	 * the MTU there; a test asking for more would get less without knowing). */
	uint32_t mtu = cfg->mtu ? cfg->mtu : 1500;
	if ((cfg->frame_size != 2048 && cfg->frame_size != 4096) || cfg->frames < 2 ||
	    (cfg->max_frags > 1 ? mtu > cfg->max_frags * cfg->frame_size - 14
				: mtu > cfg->frame_size - 256 - 14))
		return -EINVAL;
	ts->addr_a = inet_addr(cfg->ip_a);
	ts->addr_b = inet_addr(cfg->ip_b);
	netif_of(&ca, ts->addr_a, cfg->mac_a, cfg->mtu, ts->addr_b, cfg->mac_b);
	netif_of(&cb, ts->addr_b, cfg->mac_b, cfg->mtu, ts->addr_a, cfg->mac_a);
	struct hxs_io_mem_opts mo = { .frames = cfg->frames, .frame_size = cfg->frame_size,
				      .max_frags = cfg->max_frags, .no_poll_fd = 1 };
	err = hxs_io_mem__pair_opts(&ts->ia, &ts->ib, &mo);
	if (err) {
		ts->ia = ts->ib = NULL;
		return err;
	}
	err = hxs_stack__open_io(&ts->a, ts->ia, &ca);
	if (!err)
		err = hxs_stack__open_io(&ts->b, ts->ib, &cb);
	if (!err && cfg->clock)
		err = hxs_stack__set_clock(ts->a, cfg->clock, cfg->clock_ctx);
	if (!err && cfg->clock)
		err = hxs_stack__set_clock(ts->b, cfg->clock,
					   cfg->clock_ctx_b ? cfg->clock_ctx_b : cfg->clock_ctx);
	if (err)
		twostack_close(ts);
	return err;
}

static void pump_one(struct hxs_stack *st, const char *name)
{
	int r = hxs_stack__poll(st, 0);

	if (r < 0) {
		fprintf(stderr, "twostack: poll of stack %s: %s\n", name, strerror(-r));
		abort();
	}
}

void twostack_pump(struct twostack *ts, int turns)
{
	for (int i = 0; i < turns; i++) {
		pump_one(ts->a, "A");
		pump_one(ts->b, "B");
	}
}

void twostack_close_stacks(struct twostack *ts)
{
	if (ts->a)
		hxs_stack__close(ts->a);
	if (ts->b)
		hxs_stack__close(ts->b);
	ts->a = ts->b = NULL;
}

void twostack_close_links(struct twostack *ts)
{
	if (ts->ia)
		ts->ia->ops->close(ts->ia);
	if (ts->ib)
		ts->ib->ops->close(ts->ib);
	ts->ia = ts->ib = NULL;
}

void twostack_close(struct twostack *ts)
{
	twostack_close_stacks(ts);
	twostack_close_links(ts);
}

int twostack_frames_back(struct twostack *ts)
{
	struct hxs_io *ios[2] = { ts->ia, ts->ib };
	int ok = 1;

	for (int i = 0; i < 2; i++) {
		struct hxs_io_stats s;

		ios[i]->ops->get_stats(ios[i], &s);
		if (s.frames_held || s.frames_tx_queued ||
		    s.frames_free + s.frames_rx_queued != s.frames_total) {
			printf("#   %c's link end: %llu frames held, %llu queued for TX, %llu free, "
			       "%llu in RX, %llu in all\n", 'A' + i,
			       (unsigned long long)s.frames_held, (unsigned long long)s.frames_tx_queued,
			       (unsigned long long)s.frames_free, (unsigned long long)s.frames_rx_queued,
			       (unsigned long long)s.frames_total);
			ok = 0;
		}
	}
	return ok;
}
