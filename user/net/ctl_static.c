/* ctl_static.c - the control plane of a stack on a caller's io (hxs_stack__open_io): what
 * netlink would have said, from a struct hxs_netif_static, and the entries the XDP program's
 * maps would hold, kept and checked since nothing steers.
 *
 * hxs_stack__route()   -> static_route()    on-link by prefix, else the gateway
 * hxs_stack__resolve() -> static_resolve()  the table's neighbours; others stay pending until
 *                                           a test calls hxs_stack__neigh_event()
 * hxs_stack__route6()/resolve6() -> static_route6()/static_resolve6(): the same for IPv6
 * hxs_ctl_static__set_neigh()/_set_neigh6()/_set_gateway() -> the table changed, as netlink
 *                         would tell -> hxs_stack__dst_changed() (cached destinations stale)
 * own_bind             -> refused with the errno of scfg.refuse[] (a port the kernel's map
 *                         would not give), else the entry added or its owner/flags replaced
 *                         (the kernel's map update, BPF_ANY)
 * own_conn             -> refused with the errno of scfg.refuse_conn[] (a 4-tuple with that
 *                         local or remote port: the kernel's map full), else the 4-tuple
 *                         added; a second own of a live one aborts
 * disown_bind/_conn    -> the entry removed; one not held aborts
 * disown_conns         -> every 4-tuple of that local address and protocol removed
 * rx_xdp               -> fp_standin.c: the XDP program's ACK fast path on the slots of
 *                         hxs_ctl_static__attach() (plain memory), by this table's {slot, gen}
 * close                -> an entry still held aborts: the stack lost track of it (on the
 *                         kernel's control plane it would steer traffic to nobody)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack.h"

struct static_bind {
	struct hxs_addr addr;
	uint32_t owner, flags;
	uint16_t port;
	uint8_t proto;
};

struct static_conn {
	struct hxs_addr laddr, raddr;
	uint32_t slot, gen;
	uint16_t lport, rport;
	uint8_t proto;
};

struct static_state {
	struct static_bind *b;
	struct static_conn *c;
	unsigned nb, capb, nc, capc;
};

static __attribute__((noreturn, format(printf, 1, 2))) void static_imbalance(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hxs ctl_static: own/disown out of balance: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

static struct static_state *state(struct hxs_stack *st)
{
	if (!st->ctl_state)
		st->ctl_state = calloc(1, sizeof(struct static_state));
	return st->ctl_state;
}

/* Room for one more of n entries of size sz in *arr (capacity *cap): 0 or -ENOMEM. */
static int grow(void **arr, unsigned n, unsigned *cap, size_t sz)
{
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*arr, (size_t)(*cap ? *cap * 2 : 16) * sz);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = *cap ? *cap * 2 : 16;
	return 0;
}

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

/* IPv6: link-local destinations and the global address's prefix are on-link, the rest goes
 * to gateway6 */
static int static_route6(struct hxs_stack *st, const uint8_t dst[16], uint8_t nh[16],
			 uint8_t *hop_limit)
{
	static const uint8_t zero[16];
	unsigned plen = st->scfg.prefix6_len, bytes = plen / 8, bits = plen % 8;
	int onlink = dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80;

	if (!onlink && memcmp(st->addr6, zero, 16) && plen <= 128) {
		onlink = !memcmp(dst, st->addr6, bytes) &&
			 (!bits || !((dst[bytes] ^ st->addr6[bytes]) & (0xff00 >> bits)));
	}
	*hop_limit = st->scfg.hop_limit6;
	if (onlink) {
		memcpy(nh, dst, 16);
		return 0;
	}
	if (!memcmp(st->scfg.gateway6, zero, 16))
		return -ENETUNREACH;
	memcpy(nh, st->scfg.gateway6, 16);
	return 0;
}

static int static_resolve6(struct hxs_stack *st, const uint8_t ip[16], uint8_t mac[6])
{
	for (unsigned i = 0; i < st->scfg.n_neigh6 && i < HXS_STATIC_NEIGH_MAX; i++)
		if (!memcmp(st->scfg.neigh6[i].ip, ip, 16)) {
			memcpy(mac, st->scfg.neigh6[i].mac, 6);
			return 0;
		}
	return -EAGAIN;
}

static int static_poll(struct hxs_stack *st) { return 0; }

/* The table changes as the kernel's would; the stack hears of it as of a notification. */
int hxs_ctl_static__set_neigh(struct hxs_stack *st, uint32_t ip, const uint8_t mac[6])
{
	struct hxs_netif_static *c = &st->scfg;
	unsigned i;

	for (i = 0; i < c->n_neigh && c->neigh[i].ip != ip; i++)
		;
	if (!mac) {
		if (i < c->n_neigh)
			c->neigh[i] = c->neigh[--c->n_neigh];
	} else {
		if (i == c->n_neigh && c->n_neigh == HXS_STATIC_NEIGH_MAX)
			return -ENOSPC;
		if (i == c->n_neigh)
			c->n_neigh++;
		c->neigh[i].ip = ip;
		memcpy(c->neigh[i].mac, mac, 6);
	}
	hxs_stack__dst_changed(st);
	return 0;
}

int hxs_ctl_static__set_neigh6(struct hxs_stack *st, const uint8_t ip[16], const uint8_t mac[6])
{
	struct hxs_netif_static *c = &st->scfg;
	unsigned i;

	for (i = 0; i < c->n_neigh6 && memcmp(c->neigh6[i].ip, ip, 16); i++)
		;
	if (!mac) {
		if (i < c->n_neigh6)
			c->neigh6[i] = c->neigh6[--c->n_neigh6];
	} else {
		if (i == c->n_neigh6 && c->n_neigh6 == HXS_STATIC_NEIGH_MAX)
			return -ENOSPC;
		if (i == c->n_neigh6)
			c->n_neigh6++;
		memcpy(c->neigh6[i].ip, ip, 16);
		memcpy(c->neigh6[i].mac, mac, 6);
	}
	hxs_stack__dst_changed(st);
	return 0;
}

void hxs_ctl_static__set_gateway(struct hxs_stack *st, uint32_t gw)
{
	st->scfg.gateway = gw;
	hxs_stack__dst_changed(st);
}

static struct static_bind *bind_find(struct static_state *s, struct hxs_addr addr, uint16_t port,
				     uint8_t proto)
{
	for (unsigned i = 0; i < s->nb; i++)
		if (hxs_addr_eq(s->b[i].addr, addr) && s->b[i].port == port && s->b[i].proto == proto)
			return &s->b[i];
	return NULL;
}

static int static_own_bind(struct hxs_stack *st, struct hxs_addr addr, uint16_t port, uint8_t proto,
			   uint32_t owner, uint32_t flags)
{
	struct static_state *s = state(st);
	struct static_bind *b;

	if (!s)
		return -ENOMEM;
	for (unsigned i = 0; i < st->scfg.n_refuse && i < HXS_STATIC_REFUSE_MAX; i++)
		if (st->scfg.refuse[i].port == port && st->scfg.refuse[i].proto == proto)
			return -st->scfg.refuse[i].err;
	b = bind_find(s, addr, port, proto);
	if (!b) {
		if (grow((void **)&s->b, s->nb, &s->capb, sizeof(*s->b)))
			return -ENOMEM;
		b = &s->b[s->nb++];
		b->addr = addr;
		b->port = port;
		b->proto = proto;
	}
	b->owner = owner;
	b->flags = flags;
	return 0;
}

static const char *addr_str(struct hxs_addr a, char *buf, size_t n)
{
	if (hxs_addr_is4(a)) {
		uint32_t ip = hxs_addr_get4(a);
		return inet_ntop(AF_INET, &ip, buf, (socklen_t)n);
	}
	return inet_ntop(AF_INET6, a.b, buf, (socklen_t)n);
}

static void static_disown_bind(struct hxs_stack *st, struct hxs_addr addr, uint16_t port, uint8_t proto)
{
	struct static_state *s = st->ctl_state;
	struct static_bind *b = s ? bind_find(s, addr, port, proto) : NULL;
	char a[INET6_ADDRSTRLEN];

	if (!b)
		static_imbalance("disown of bind %s:%u/%u, not owned", addr_str(addr, a, sizeof(a)),
				 ntohs(port), proto);
	*b = s->b[--s->nb];
}

static struct static_conn *conn_find(struct static_state *s, struct hxs_addr laddr, uint16_t lport,
				     struct hxs_addr raddr, uint16_t rport, uint8_t proto)
{
	for (unsigned i = 0; i < s->nc; i++) {
		struct static_conn *c = &s->c[i];
		if (hxs_addr_eq(c->laddr, laddr) && c->lport == lport && hxs_addr_eq(c->raddr, raddr) &&
		    c->rport == rport && c->proto == proto)
			return c;
	}
	return NULL;
}

static void conn_name(char *buf, size_t n, struct hxs_addr laddr, uint16_t lport,
		      struct hxs_addr raddr, uint16_t rport, uint8_t proto)
{
	char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];

	snprintf(buf, n, "%s:%u-%s:%u/%u", addr_str(laddr, l, sizeof(l)), ntohs(lport),
		 addr_str(raddr, r, sizeof(r)), ntohs(rport), proto);
}

static int static_own_conn(struct hxs_stack *st, struct hxs_addr laddr, uint16_t lport, struct hxs_addr raddr,
			   uint16_t rport, uint8_t proto, uint32_t slot, uint32_t gen)
{
	struct static_state *s = state(st);
	struct static_conn *c;
	char name[80];

	if (!s)
		return -ENOMEM;
	for (unsigned i = 0; i < st->scfg.n_refuse_conn && i < HXS_STATIC_REFUSE_MAX; i++) {
		const struct hxs_static_refusal *r = &st->scfg.refuse_conn[i];
		if (r->proto == proto && (r->port == lport || r->port == rport))
			return -r->err;
	}
	if (conn_find(s, laddr, lport, raddr, rport, proto)) {
		/* on the kernel's map the second add replaces the first, and the first one's
		 * disown would then delete the live connection's entry */
		conn_name(name, sizeof(name), laddr, lport, raddr, rport, proto);
		static_imbalance("conn %s owned twice", name);
	}
	if (grow((void **)&s->c, s->nc, &s->capc, sizeof(*s->c)))
		return -ENOMEM;
	c = &s->c[s->nc++];
	*c = (struct static_conn){ .laddr = laddr, .raddr = raddr, .slot = slot, .gen = gen,
				   .lport = lport, .rport = rport, .proto = proto };
	return 0;
}

static void static_disown_conn(struct hxs_stack *st, struct hxs_addr laddr, uint16_t lport,
			       struct hxs_addr raddr, uint16_t rport, uint8_t proto)
{
	struct static_state *s = st->ctl_state;
	struct static_conn *c = s ? conn_find(s, laddr, lport, raddr, rport, proto) : NULL;
	char name[80];

	if (!c) {
		conn_name(name, sizeof(name), laddr, lport, raddr, rport, proto);
		static_imbalance("disown of conn %s, not owned", name);
	}
	*c = s->c[--s->nc];
}

static void static_disown_conns(struct hxs_stack *st, struct hxs_addr laddr, uint8_t proto)
{
	struct static_state *s = st->ctl_state;

	for (unsigned i = 0; s && i < s->nc;) {
		if (hxs_addr_eq(s->c[i].laddr, laddr) && s->c[i].proto == proto)
			s->c[i] = s->c[--s->nc];
		else
			i++;
	}
}

static void static_close(struct hxs_stack *st)
{
	struct static_state *s = st->ctl_state;
	char name[80];

	if (!s)
		return;
	if (s->nb) {
		char a[INET6_ADDRSTRLEN];
		static_imbalance("%u bind entries left at close, the first %s:%u/%u", s->nb,
				 addr_str(s->b[0].addr, a, sizeof(a)), ntohs(s->b[0].port), s->b[0].proto);
	}
	if (s->nc) {
		struct static_conn *c = &s->c[0];
		conn_name(name, sizeof(name), c->laddr, c->lport, c->raddr, c->rport, c->proto);
		static_imbalance("%u conn entries left at close, the first %s", s->nc, name);
	}
	free(s->b);
	free(s->c);
	free(s);
	st->ctl_state = NULL;
}

void hxs_ctl_static__owned(const struct hxs_stack *st, unsigned *binds, unsigned *conns)
{
	const struct static_state *s = st->ctl_state;

	*binds = s ? s->nb : 0;
	*conns = s ? s->nc : 0;
}

/* Sets, replaces or (err 0) lifts the refusal of (proto, port) in tab (n entries). */
static int refusal_set(struct hxs_static_refusal *tab, unsigned *n, uint8_t proto, uint16_t port,
		       int err)
{
	unsigned i;

	if (err < 0)
		return -EINVAL;
	for (i = 0; i < *n; i++)
		if (tab[i].port == port && tab[i].proto == proto)
			break;
	if (!err) {
		if (i < *n)
			tab[i] = tab[--*n];
		return 0;
	}
	if (i == *n) {
		if (*n == HXS_STATIC_REFUSE_MAX)
			return -ENOSPC;
		++*n;
	}
	tab[i].port = port;
	tab[i].proto = proto;
	tab[i].err = err;
	return 0;
}

int hxs_ctl_static__refuse(struct hxs_stack *st, uint8_t proto, uint16_t port, int err)
{
	return refusal_set(st->scfg.refuse, &st->scfg.n_refuse, proto, port, err);
}

int hxs_ctl_static__refuse_conn(struct hxs_stack *st, uint8_t proto, uint16_t port, int err)
{
	return refusal_set(st->scfg.refuse_conn, &st->scfg.n_refuse_conn, proto, port, err);
}

static int static_conn_slot(struct hxs_stack *st, struct hxs_addr laddr, uint16_t lport,
			    struct hxs_addr raddr, uint16_t rport, uint8_t proto, uint32_t *slot,
			    uint32_t *gen)
{
	struct static_state *s = st->ctl_state;
	struct static_conn *c = s ? conn_find(s, laddr, lport, raddr, rport, proto) : NULL;

	if (!c)
		return -ENOENT;
	*slot = c->slot;
	*gen = c->gen;
	return 0;
}

int hxs_ctl_static__attach(struct hxs_stack *st)
{
	static const char *const names[] = HXS_XDP_STAT_NAMES;
	struct hxs_slot *mem = calloc(HXS_STATIC_SLOTS, sizeof(*mem));
	int err;

	if (!mem)
		return -ENOMEM;
	err = hxs_stack__slots_init(st, mem, HXS_STATIC_SLOTS, 1);
	if (err) {
		free(mem);
		return err;
	}
	return hxs_stack__add_counters(st, &(struct hxs_counter_table){ names, st->xdp_sim,
									 HXS_XDP_STAT_MAX });
}

const struct hxs_ctl_ops hxs_ctl_static = {
	.rx_xdp = hxs_fp_standin_rx,
	.conn_slot = static_conn_slot,
	.route = static_route,
	.resolve = static_resolve,
	.route6 = static_route6,
	.resolve6 = static_resolve6,
	.poll = static_poll,
	.own_bind = static_own_bind,
	.disown_bind = static_disown_bind,
	.own_conn = static_own_conn,
	.disown_conn = static_disown_conn,
	.disown_conns = static_disown_conns,
	.close = static_close,
};
