/* tcp_table.c - the instance's tables: connections by 4-tuple (a hash keyed with SipHash), by
 * slot id (the XDP program's demux metadata) and listeners by local port. Every entry and
 * exit of the 4-tuple table is reported through ev.on_tuple/on_listen.
 *
 * hxs_tcp__input() -> hxs_tcp_lookup_addr() / hxs_tcp_lookup_listener()
 * hxs_tcp__input_slot() -> hxs_tcp_lookup_slot() (inline, tcp_conn.h): by_slot[id], gen and
 *                          4-tuple compared (HxsTcpDemuxBySlot), else hxs_tcp_lookup_slot_miss()
 *                          -> hxs_tcp_lookup_addr() (HxsTcpDemuxSlotMiss)
 * on_tuple(ADD) -> hxs_tcp_conn__set_slot() -> hxs_tcp_fp_detach(), hxs_tcp_slot_insert()
 * connect / hxs_tcp_listen_input() -> hxs_tcp_hash_insert() -> on_tuple(ADD); a refused add
 *                              leaves the connection out (HxsTcpTupleRefused)
 * hxs_tcp_close_conn() -> hxs_tcp_hash_remove() -> on_tuple(DEL)
 * listen / close -> hxs_tcp_listener_insert() / hxs_tcp_listener_remove() -> on_listen
 * hxs_tcp__foreach(), hxs_tcp__nconns()   an `ss` listing and its count
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/siphash.h"
#include "hxs/shared.h"
#include "tcp_conn.h"

/* Bucket of a 4-tuple: SipHash-2-4 under the per-stack secret key, so a remote peer can
 * neither predict nor invert it to pile its tuples into one chain (an unkeyed mix is
 * invertible: O(n) lookups on demand). Twelve bytes cost one compression word, one final
 * word and the finalization: 8 SipRounds, a few tens of ns - small beside the rest of a
 * segment's input path, and the well-studied PRF rather than a home-made keyed mix. */
static uint32_t tuple_hash(const struct hxs_tcp *tcp, struct hxs_addr laddr, uint16_t lport,
			   struct hxs_addr raddr, uint16_t rport)
{
	if (hxs_addr_is4(laddr) && hxs_addr_is4(raddr)) {
		uint32_t m[3] = { hxs_addr_get4(laddr), hxs_addr_get4(raddr),
				  (uint32_t)lport << 16 | rport };
		return (uint32_t)hxs_siphash24(tcp->hkey, m, sizeof(m)) & tcp->hmask;
	}
	/* IPv6: the 36-byte tuple, the same PRF */
	uint8_t m[36];
	uint32_t ports = (uint32_t)lport << 16 | rport;
	memcpy(m, laddr.b, 16);
	memcpy(m + 16, raddr.b, 16);
	memcpy(m + 32, &ports, 4);
	return (uint32_t)hxs_siphash24(tcp->hkey, m, sizeof(m)) & tcp->hmask;
}

struct hxs_tcp_conn *hxs_tcp_lookup_addr(struct hxs_tcp *tcp, struct hxs_addr laddr, uint16_t lport,
				    struct hxs_addr raddr, uint16_t rport)
{
	struct hxs_tcp_conn *c = tcp->htab[tuple_hash(tcp, laddr, lport, raddr, rport)];
	for (; c; c = c->hnext)
		if (c->lport == lport && c->rport == rport && hxs_addr_eq(c->raddr, raddr) &&
		    hxs_addr_eq(c->laddr, laddr))
			return c;
	return NULL;
}

struct hxs_tcp_conn *hxs_tcp_lookup(struct hxs_tcp *tcp, uint32_t laddr, uint16_t lport,
				    uint32_t raddr, uint16_t rport)
{
	return hxs_tcp_lookup_addr(tcp, hxs_addr4(laddr), lport, hxs_addr4(raddr), rport);
}

/* The demux metadata names a slot, and the slot's gen says which connection it was given to
 * when the program read the conn entry: an id and gen that match an entry here are that
 * connection, unless the entry was removed and the slot given again meanwhile (then the gen
 * differs) or the metadata is not the program's (a driver that keeps none leaves older bytes:
 * hxs/shared.h). The 4-tuple is compared all the same - four compares instead of a SipHash -
 * so no metadata can deliver a segment to a connection it does not belong to; anything that
 * does not match goes to the hash, which is always right. The match is hxs_tcp_lookup_slot(),
 * inline in tcp_conn.h (every segment of a known connection takes it); this is the miss. */
struct hxs_tcp_conn *hxs_tcp_lookup_slot_miss(struct hxs_tcp *tcp, struct hxs_addr laddr,
					      uint16_t lport, struct hxs_addr raddr, uint16_t rport)
{
	MIB_INC(tcp, HxsTcpDemuxSlotMiss);
	return hxs_tcp_lookup_addr(tcp, laddr, lport, raddr, rport);
}

/* The table grows to the highest id given (ids are handed out lowest first, net/slots.c), in
 * powers of two: at most HXS_MAX_SLOTS pointers. */
int hxs_tcp_slot_insert(struct hxs_tcp_conn *c, uint32_t id, uint32_t gen)
{
	struct hxs_tcp *tcp = c->tcp;

	if (id == HXS_SLOT_NONE || id >= HXS_MAX_SLOTS)
		return -EINVAL;
	if (id >= tcp->nby_slot) {
		uint32_t n = tcp->nby_slot ? tcp->nby_slot : 64;
		struct hxs_tcp_conn **t;

		while (n <= id)
			n *= 2;
		t = realloc(tcp->by_slot, (size_t)n * sizeof(*t));
		if (!t)
			return -ENOMEM;
		memset(t + tcp->nby_slot, 0, (size_t)(n - tcp->nby_slot) * sizeof(*t));
		tcp->by_slot = t;
		tcp->nby_slot = n;
	}
	c->slot_id = id;
	c->slot_gen = gen;
	tcp->by_slot[id] = c;
	return 0;
}

void hxs_tcp_slot_remove(struct hxs_tcp_conn *c)
{
	struct hxs_tcp *tcp = c->tcp;

	if (c->slot_id < tcp->nby_slot && tcp->by_slot[c->slot_id] == c)
		tcp->by_slot[c->slot_id] = NULL;
	c->slot_id = HXS_SLOT_NONE;
	c->slot_gen = 0;
}

/* Here rather than in tcp_fastpath.c: the slot table is this file's, and tcp_fastpath.c
 * stays below it (no circle of calls). */
void hxs_tcp_conn__set_slot(struct hxs_tcp_conn *c, struct hxs_slot *slot, uint32_t id,
			    uint32_t gen)
{
	if (c->slot == slot && c->slot_id == id && c->slot_gen == gen)
		return;
	hxs_tcp_fp_detach(c);           /* the fast path starts over on the new slot */
	hxs_tcp_slot_remove(c);
	c->slot = slot;
	c->fp_n = 0;
	c->fp_ready = 0;
	/* without room in the table the connection is found by its 4-tuple, as without a slot */
	if (slot)
		(void)hxs_tcp_slot_insert(c, id, gen);
}

struct hxs_slot *hxs_tcp_conn__slot(const struct hxs_tcp_conn *c)
{
	return c->slot;
}

int hxs_tcp_addr_takes(struct hxs_addr bound, int v6only, struct hxs_addr a)
{
	if (hxs_addr_eq(bound, a))
		return 1;
	/* 0.0.0.0 takes IPv4; :: takes IPv6, and IPv4 too unless IPV6_V6ONLY (the kernel's
	 * dual-stack socket, RFC 3493 §5.3) */
	if (hxs_addr_is4(bound))
		return !hxs_addr_get4(bound) && hxs_addr_is4(a);
	return hxs_addr_is_any6(bound) && (!hxs_addr_is4(a) || !v6only);
}

int hxs_tcp_listener_takes(const struct hxs_tcp_conn *l, struct hxs_addr laddr)
{
	return hxs_tcp_addr_takes(l->laddr, l->v6only, laddr);
}

struct hxs_tcp_conn *hxs_tcp_lookup_listener(struct hxs_tcp *tcp, struct hxs_addr laddr, uint16_t lport)
{
	struct hxs_tcp_conn *any = NULL;
	for (struct hxs_tcp_conn *l = tcp->lhash[lport % HXS_TCP_LHASH]; l; l = l->hnext) {
		if (l->lport != lport)
			continue;
		if (hxs_addr_eq(l->laddr, laddr))
			return l;
		if (hxs_tcp_listener_takes(l, laddr))
			any = l;
	}
	return any;
}

int hxs_tcp_hash_insert(struct hxs_tcp_conn *c)
{
	struct hxs_tcp *tcp = c->tcp;
	uint32_t b = tuple_hash(tcp, c->laddr, c->lport, c->raddr, c->rport);
	/* The steering entry first: a connection the XDP map does not know would see its
	 * segments go to the kernel, so it must not exist in the table either. */
	int err = tcp->ev.on_tuple ? tcp->ev.on_tuple(tcp->ctx, c, HXS_TCP_TUPLE_ADD) : 0;
	if (err) {
		MIB_INC(tcp, HxsTcpTupleRefused);
		return err;
	}
	c->hnext = tcp->htab[b];
	tcp->htab[b] = c;
	c->in_table = 1;
	tcp->nconns++;
	return 0;
}

void hxs_tcp_hash_remove(struct hxs_tcp_conn *c)
{
	struct hxs_tcp *tcp = c->tcp;
	if (!c->in_table)
		return;
	struct hxs_tcp_conn **pp = &tcp->htab[tuple_hash(tcp, c->laddr, c->lport, c->raddr, c->rport)];
	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	}
	c->hnext = NULL;
	c->in_table = 0;
	tcp->nconns--;
	/* XDP takes nothing for it from now on, and no metadata finds it; the socket layer frees
	 * the slot in on_tuple */
	if (c->slot)
		__atomic_store_n(&c->slot->flags, 0, __ATOMIC_RELEASE);
	hxs_tcp_slot_remove(c);
	if (tcp->ev.on_tuple)
		tcp->ev.on_tuple(tcp->ctx, c, HXS_TCP_TUPLE_DEL);
	hxs_tcp_fp_detach(c);
}

void hxs_tcp_listener_insert(struct hxs_tcp_conn *l)
{
	struct hxs_tcp *tcp = l->tcp;
	struct hxs_tcp_conn **head = &tcp->lhash[l->lport % HXS_TCP_LHASH];
	l->hnext = *head;
	*head = l;
	tcp->nlisteners++;
	if (tcp->ev.on_listen)
		tcp->ev.on_listen(tcp->ctx, l, l->laddr, l->lport, 1);
}

void hxs_tcp_listener_remove(struct hxs_tcp_conn *l)
{
	struct hxs_tcp *tcp = l->tcp;
	struct hxs_tcp_conn **pp = &tcp->lhash[l->lport % HXS_TCP_LHASH];
	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == l) {
			*pp = l->hnext;
			tcp->nlisteners--;
			if (tcp->ev.on_listen)
				tcp->ev.on_listen(tcp->ctx, l, l->laddr, l->lport, 0);
			break;
		}
	}
	l->hnext = NULL;
}

uint32_t hxs_tcp__nconns(const struct hxs_tcp *tcp)
{
	return tcp->nconns + tcp->nlisteners;
}

void hxs_tcp__foreach(struct hxs_tcp *tcp, void (*fn)(void *arg, struct hxs_tcp_conn *c), void *arg)
{
	for (uint32_t i = 0; i < HXS_TCP_LHASH; i++)
		for (struct hxs_tcp_conn *l = tcp->lhash[i]; l; l = l->hnext)
			fn(arg, l);
	for (uint32_t i = 0; i <= tcp->hmask; i++)
		for (struct hxs_tcp_conn *c = tcp->htab[i]; c; c = c->hnext)
			fn(arg, c);
}
