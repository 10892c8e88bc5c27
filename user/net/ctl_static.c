/* ctl_static.c - the control plane of a stack on a caller's io (hxs_stack__open_io): what
 * netlink would have said, from a struct hxs_netif_static, and no XDP program to steer.
 *
 * hxs_stack__route()   -> static_route()    on-link by prefix, else the gateway
 * hxs_stack__resolve() -> static_resolve()  the table's neighbours; others stay pending until
 *                                           a test calls hxs_stack__neigh_event()
 * own/disown bind and conn                  nothing to install: the in-memory link delivers
 *                                           every frame to the stack
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "stack.h"

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

static void static_disown_conns(struct hxs_stack *st, uint32_t laddr, uint8_t proto)
{
}

static void static_close(struct hxs_stack *st) { }

const struct hxs_ctl_ops hxs_ctl_static = {
	.route = static_route,
	.resolve = static_resolve,
	.poll = static_poll,
	.own_bind = static_own_bind,
	.disown_bind = static_disown_bind,
	.own_conn = static_own_conn,
	.disown_conn = static_disown_conn,
	.disown_conns = static_disown_conns,
	.close = static_close,
};
