/* slots.c - the connection slots the stack shares with the XDP program (struct hxs_slot,
 * layout and writers in hxs/shared.h): who gets which one.
 *
 * hxs_stack__open() -> hxs_xdp__slots() (mmap of HXS_MAP_SLOTS) -> hxs_stack__slots_init()
 * hxs_stack__open_io() -> calloc'd slots (the static control plane's stand-in reads them)
 *                      -> hxs_stack__slots_init()
 * TCP's glue, a 4-tuple enters the table -> hxs_stack__slot_get(): a free id off the stack,
 *     its gen bumped (never 0), the slot zeroed with gen set -> conn entry {slot, gen}
 * the 4-tuple leaves -> hxs_stack__slot_put(): gen 0 and flags 0 (XDP takes nothing), free
 *
 * Slot 0 is the header (struct hxs_slot_hdr): magic, the loop's sleeping flag, fast_off.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stack.h"

int hxs_stack__slots_init(struct hxs_stack *st, struct hxs_slot *mem, uint32_t n, int owned)
{
	struct hxs_slot_hdr *h;

	if (!mem || n < 2)
		return -EINVAL;
	st->slot_free = calloc(n, sizeof(*st->slot_free));
	st->slot_gen = calloc(n, sizeof(*st->slot_gen));
	if (!st->slot_free || !st->slot_gen) {
		free(st->slot_free);
		free(st->slot_gen);
		st->slot_free = st->slot_gen = NULL;
		return -ENOMEM;
	}
	/* A program adopted from an earlier process may hold its slots: none of them is ours,
	 * and its conn entries (if any were left) name gens we never hand out again only by
	 * chance, so start from a clean table. */
	memset(mem, 0, (size_t)n * sizeof(*mem));
	st->slots = mem;
	st->nslots = n;
	st->slots_owned = (uint8_t)!!owned;
	/* lowest ids handed out first: pushed highest first */
	st->nslot_free = 0;
	for (uint32_t i = n - 1; i >= 1; i--)
		st->slot_free[st->nslot_free++] = i;
	h = (struct hxs_slot_hdr *)&mem[0];
	__atomic_store_n(&h->fast_off, st->fast_off, __ATOMIC_RELAXED);
	__atomic_store_n(&h->sleeping, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&h->magic, HXS_SLOT_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

void hxs_stack__slots_fini(struct hxs_stack *st)
{
	if (st->slots_owned)
		free(st->slots);
	free(st->slot_free);
	free(st->slot_gen);
	st->slots = NULL;
	st->slot_free = st->slot_gen = NULL;
	st->nslots = st->nslot_free = 0;
	st->slots_owned = 0;
}

struct hxs_slot *hxs_stack__slot_get(struct hxs_stack *st, uint32_t *id, uint32_t *gen)
{
	struct hxs_slot *s;
	uint32_t i, g;

	*id = HXS_SLOT_NONE;
	*gen = 0;
	if (!st->slots || st->fast_off || !st->nslot_free)
		return NULL;
	i = st->slot_free[--st->nslot_free];
	g = st->slot_gen[i] + 1;
	if (!g)
		g = 1;              /* gen 0 means free */
	st->slot_gen[i] = g;
	s = &st->slots[i];
	/* nothing XDP judges by may survive from the last owner: flags first (0: take nothing),
	 * then the rest, gen last */
	__atomic_store_n(&s->flags, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->ack, 0, __ATOMIC_RELAXED);
	s->snd_max = s->rcv_nxt = s->rcv_adv = s->ts_recent = 0;
	s->tsval = s->tsecr = 0;
	s->nacks_total = 0;
	__atomic_store_n(&s->gen, g, __ATOMIC_RELEASE);
	*id = i;
	*gen = g;
	return s;
}

void hxs_stack__slot_put(struct hxs_stack *st, uint32_t id)
{
	if (!st->slots || id == HXS_SLOT_NONE || id >= st->nslots)
		return;
	__atomic_store_n(&st->slots[id].flags, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&st->slots[id].gen, 0, __ATOMIC_RELEASE);
	st->slot_free[st->nslot_free++] = id;
}

struct hxs_slot_hdr *hxs_stack__slot_hdr(const struct hxs_stack *st)
{
	return st->slots ? (struct hxs_slot_hdr *)&st->slots[0] : NULL;
}

void hxs_stack__fastpath(struct hxs_stack *st, int on)
{
	struct hxs_slot_hdr *h = hxs_stack__slot_hdr(st);

	st->fast_off = (uint8_t)!on;
	if (h)
		__atomic_store_n(&h->fast_off, (uint32_t)st->fast_off, __ATOMIC_RELEASE);
}
