/* neigh.c - the next hop of an outgoing frame, both families: Ethernet header, neighbour
 * resolved or the frame queued while the kernel resolves it.
 *
 *   hxs_ip_tx_send() (ip.c) / hxs_ip6_tx_send() (ip6.c) -> hxs_ip__xmit()
 *       -> a cached destination's frame (tx->dc_hit): its next hop's address -> TX batch
 *       -> resolved: Ethernet header -> TX batch (-> dst_fill(): the sender's cache)
 *       \-> unresolved: pending queue (neigh_pend_add), bounded, with a timeout
 *   neighbour event (hxs_stack__neigh_event / neigh6_event) -> neigh_pend_flush() (send) |
 *       neigh_pend_fail() (drop, EHOSTUNREACH to each frame's owner->error())
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <linux/if_ether.h>

#include "ip.h"
#include "stack.h"

/* Next hops are keyed by 16 bytes, IPv4 as the IPv4-mapped address ::ffff:a.b.c.d (RFC 4291
 * §2.5.5.2), so one queue serves both families. */
static void key4(uint32_t ip, uint8_t k[16])
{
	memset(k, 0, 10);
	k[10] = k[11] = 0xff;
	memcpy(k + 12, &ip, 4);
}

static int key_is4(const uint8_t k[16], uint32_t *ip)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (memcmp(k, pfx, 12))
		return 0;
	memcpy(ip, k + 12, 4);
	return 1;
}

static int key_resolve(struct hxs_stack *st, const uint8_t k[16], uint8_t mac[6])
{
	uint32_t ip;

	return key_is4(k, &ip) ? hxs_stack__resolve(st, ip, mac) : hxs_stack__resolve6(st, k, mac);
}

static struct hxs_neigh_pend *neigh_pend_find(struct hxs_stack *st, const uint8_t k[16])
{
	for (int i = 0; i < HXS_NEIGH_PENDING; i++)
		if (st->pend[i].used && !memcmp(st->pend[i].ip, k, 16))
			return &st->pend[i];
	return NULL;
}

static struct hxs_neigh_pend *neigh_pend_free_slot(struct hxs_stack *st)
{
	for (int i = 0; i < HXS_NEIGH_PENDING; i++)
		if (!st->pend[i].used)
			return &st->pend[i];
	return NULL;
}

static void neigh_pend_release(struct hxs_stack *st, struct hxs_neigh_pend *np)
{
	hxs_wheel__cancel(&st->wheel, &np->timer);
	memset(np->ip, 0, 16);
	np->used = 0;
	np->n = 0;
	st->npend--;
}

static void out_discard(struct hxs_stack *st, const uint8_t k[16])
{
	uint32_t ip;

	st->mib.v[key_is4(k, &ip) ? HXS_MIB_IP_OUT_DISCARDS : HXS_MIB_IP6_OUT_DISCARDS]++;
}

/* Resolution failed or timed out: drop the queue, tell the owners. */
static void neigh_pend_fail(struct hxs_stack *st, struct hxs_neigh_pend *np)
{
	for (int i = 0; i < np->n; i++) {
		st->io->ops->tx_free(st->io, &np->f[i], 1);
		out_discard(st, np->ip);
		st->mib.v[HXS_MIB_NEIGH_FAILED_DROPS]++;
		if (np->owner[i])
			np->owner[i]->error(np->owner[i], EHOSTUNREACH);
	}
	neigh_pend_release(st, np);
}

/* The frames carry their EtherType already (hxs_ip__xmit); the addresses go in now. */
static void neigh_pend_flush(struct hxs_stack *st, struct hxs_neigh_pend *np, const uint8_t mac[6])
{
	for (int i = 0; i < np->n; i++) {
		memcpy(np->f[i].data, mac, 6);
		memcpy(np->f[i].data + 6, st->mac, 6);
		hxs_stack__tx(st, &np->f[i]);
	}
	neigh_pend_release(st, np);
}

static void neigh_pend_timeout(struct hxs_timer *t, uint64_t now)
{
	struct hxs_neigh_pend *np = (struct hxs_neigh_pend *)((char *)t - offsetof(struct hxs_neigh_pend, timer));
	struct hxs_stack *st = np->st;
	uint8_t mac[6];

	(void)now;
	/* the answer may have come without a notification we saw: ask once more */
	if (key_resolve(st, np->ip, mac) == 0)
		neigh_pend_flush(st, np, mac);
	else
		neigh_pend_fail(st, np);
}

static int neigh_pend_add(struct hxs_stack *st, struct hxs_ip_tx *tx, const uint8_t k[16])
{
	struct hxs_neigh_pend *np = neigh_pend_find(st, k);

	if (!np) {
		np = neigh_pend_free_slot(st);
		if (!np)
			goto drop;
		memcpy(np->ip, k, 16);
		np->used = 1;
		np->n = 0;
		st->npend++;
		np->st = st;
		hxs_timer__init(&np->timer, neigh_pend_timeout);
		hxs_wheel__arm(&st->wheel, &np->timer, hxs_stack__now(st) + HXS_NEIGH_TIMEOUT_US);
	}
	if (np->n == HXS_NEIGH_QLEN)
		goto drop;
	np->f[np->n] = tx->f;
	np->owner[np->n] = tx->owner;
	np->n++;
	st->mib.v[HXS_MIB_NEIGH_QUEUED]++;
	return 0;
drop:
	/* like the kernel's neighbour queue (unres_qlen): the frame is dropped, not the call */
	st->io->ops->tx_free(st->io, &tx->f, 1);
	out_discard(st, k);
	st->mib.v[HXS_MIB_NEIGH_QUEUE_DROPS]++;
	return 0;
}

static void neigh_key_event(struct hxs_stack *st, const uint8_t k[16], enum hxs_neigh_event ev,
			    const uint8_t mac[6])
{
	struct hxs_neigh_pend *np = st->npend ? neigh_pend_find(st, k) : NULL;

	if (!np)
		return;
	if (ev == HXS_NEIGH_RESOLVED)
		neigh_pend_flush(st, np, mac);
	else
		neigh_pend_fail(st, np);
}

void hxs_stack__neigh_event(struct hxs_stack *st, uint32_t ip, enum hxs_neigh_event ev,
			    const uint8_t mac[6])
{
	uint8_t k[16];

	hxs_stack__dst_changed(st);
	if (!ip)
		return;
	key4(ip, k);
	neigh_key_event(st, k, ev, mac);
}

void hxs_stack__neigh6_event(struct hxs_stack *st, const uint8_t ip[16], enum hxs_neigh_event ev,
			     const uint8_t mac[6])
{
	hxs_stack__dst_changed(st);
	neigh_key_event(st, ip, ev, mac);
}

void hxs_stack__forget_owner(struct hxs_stack *st, struct hxs_tx_owner *o)
{
	for (int i = 0; i < HXS_NEIGH_PENDING; i++)
		for (int j = 0; j < st->pend[i].n; j++)
			if (st->pend[i].owner[j] == o)
				st->pend[i].owner[j] = NULL;
}

void hxs_ip__drop_pending(struct hxs_stack *st)
{
	for (int i = 0; i < HXS_NEIGH_PENDING; i++)
		if (st->pend[i].used) {
			for (int j = 0; j < st->pend[i].n; j++)
				st->io->ops->tx_free(st->io, &st->pend[i].f[j], 1);
			neigh_pend_release(st, &st->pend[i]);
		}
}

/* The next hop resolved at once: the sender's cached destination (hxs_ip_tx_alloc_dst) keeps
 * what the lookups answered, under the generation they ran in. */
static void dst_fill(struct hxs_stack *st, const struct hxs_ip_tx *tx, const uint8_t mac[6])
{
	struct hxs_ip_dst *d = tx->dc;

	if (tx->v6) {
		memcpy(d->daddr, tx->dst6, 16);
		memcpy(d->src6, tx->src6, 16);
		d->hop_limit = tx->hop_limit;
	} else {
		key4(tx->dst, d->daddr);
	}
	memcpy(d->mac, mac, 6);
	d->gen = tx->dc_gen;
	d->left = HXS_IP_DST_USES;
	d->expires = hxs_stack__now(st) + HXS_IP_DST_TTL_US;
}

int hxs_ip__xmit(struct hxs_stack *st, struct hxs_ip_tx *tx, const uint8_t nh[16], uint16_t ethertype)
{
	uint16_t type = htons(ethertype);
	uint8_t mac[6];
	int err;

	memcpy(tx->f.data + 12, &type, 2);
	if (tx->dc_hit) {
		memcpy(tx->f.data, tx->dc->mac, 6);
		memcpy(tx->f.data + 6, st->mac, 6);
		hxs_stack__tx(st, &tx->f);
		return 0;
	}
	/* frames for a next hop already waiting keep their order behind the queue */
	if (st->npend && neigh_pend_find(st, nh))
		return neigh_pend_add(st, tx, nh);
	err = key_resolve(st, nh, mac);
	if (err == -EAGAIN)
		return neigh_pend_add(st, tx, nh);
	if (err) {
		st->io->ops->tx_free(st->io, &tx->f, 1);
		out_discard(st, nh);
		st->mib.v[HXS_MIB_NEIGH_FAILED_DROPS]++;
		return err;
	}
	memcpy(tx->f.data, mac, 6);
	memcpy(tx->f.data + 6, st->mac, 6);
	if (tx->dc)
		dst_fill(st, tx, mac);
	hxs_stack__tx(st, &tx->f);
	return 0;
}
