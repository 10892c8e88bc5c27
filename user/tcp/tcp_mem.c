/* tcp_mem.c - the instance's buffer memory: a pool of fixed-size chunks the rings take when
 * data needs them and give back when it drains, the tables that index a ring's chunks, and
 * the limits on the whole (the kernel's tcp_mem triple: low, pressure, max).
 *
 * hxs_tcp_ring__reserve() -> hxs_tcp_tab_get(), hxs_tcp_chunk_get() (inline, tcp_conn.h: a
 *     cached chunk) -> hxs_tcp_chunk_get_slow() -> cache, else malloc
 * hxs_tcp_ring__consume() / __free() -> hxs_tcp_chunk_put(), hxs_tcp_tab_put() -> cache
 *                                       (up to mem_cache bytes), else free
 * hxs_tcp__free(), hxs_tcp__set_limits() -> hxs_tcp_mem_trim()
 *
 * mem.bytes counts what rings hold (chunks and tables), not the cache. Reaching mem_pressure
 * enters pressure (counted once in TCPMemoryPressures, as the kernel's tcp_enter_memory_pressure
 * does) until the bytes held fall below mem_low: meanwhile windows offered are clamped
 * (tcp_seg.c) and new connections refused (hxs_tcp_admit). Nothing is handed out beyond
 * mem_max: the caller drops the segment or takes fewer bytes. Taking a cached chunk costs a
 * pointer pop, so a segment's path never reaches malloc in steady state.
 */
#include <stdlib.h>

#include "tcp_conn.h"

/* Size class of a table of n slots: 64 << class slots; HXS_TCP_TAB_CLASSES for larger ones,
 * which are made to measure and not cached. */
static uint32_t tab_class(uint32_t n, uint32_t *slots)
{
	uint32_t k = 0, sz = HXS_TCP_TAB_SLOTS;
	while (sz < n && k < HXS_TCP_TAB_CLASSES) {
		sz <<= 1;
		k++;
	}
	*slots = k < HXS_TCP_TAB_CLASSES ? sz : n;
	return k;
}

static uint64_t tab_bytes(uint32_t slots)
{
	return (uint64_t)slots * sizeof(uint8_t *);
}

static int would_pass_max(const struct hxs_tcp *tcp, uint64_t more)
{
	return tcp->mem.bytes + more > tcp->cfg.mem_max;
}

static void held_more(struct hxs_tcp *tcp, uint64_t n)
{
	struct hxs_tcp_mem *m = &tcp->mem;
	m->bytes += n;
	if (!m->pressure && m->bytes >= tcp->cfg.mem_pressure) {
		m->pressure = 1;
		MIB_INC(tcp, TCPMemoryPressures);
	}
}

static void held_less(struct hxs_tcp *tcp, uint64_t n)
{
	struct hxs_tcp_mem *m = &tcp->mem;
	m->bytes -= n;
	if (m->pressure && m->bytes < tcp->cfg.mem_low)
		m->pressure = 0;
}

int hxs_tcp_mem_exhausted(const struct hxs_tcp *tcp)
{
	return would_pass_max(tcp, HXS_TCP_CHUNK);
}

uint8_t *hxs_tcp_chunk_get_slow(struct hxs_tcp *tcp)
{
	struct hxs_tcp_mem *m = &tcp->mem;
	uint8_t *p;
	if (would_pass_max(tcp, HXS_TCP_CHUNK))
		return NULL;
	if (m->free_chunks) {
		p = m->free_chunks;
		m->free_chunks = *(void **)p;
		m->nfree_chunks--;
		m->cached -= HXS_TCP_CHUNK;
	} else {
		p = malloc(HXS_TCP_CHUNK);
		if (!p)
			return NULL;
	}
	held_more(tcp, HXS_TCP_CHUNK);
	return p;
}

void hxs_tcp_chunk_put(struct hxs_tcp *tcp, uint8_t *p)
{
	struct hxs_tcp_mem *m = &tcp->mem;
	held_less(tcp, HXS_TCP_CHUNK);
	if (m->cached + HXS_TCP_CHUNK > tcp->cfg.mem_cache) {
		free(p);
		return;
	}
	*(void **)p = m->free_chunks;
	m->free_chunks = p;
	m->nfree_chunks++;
	m->cached += HXS_TCP_CHUNK;
}

uint8_t **hxs_tcp_tab_get(struct hxs_tcp *tcp, uint32_t n)
{
	struct hxs_tcp_mem *m = &tcp->mem;
	uint32_t slots, k = tab_class(n, &slots);
	uint8_t **t;
	if (would_pass_max(tcp, tab_bytes(slots)))
		return NULL;
	if (k < HXS_TCP_TAB_CLASSES && m->free_tabs[k]) {
		/* a cached table is all NULL but its link word */
		t = m->free_tabs[k];
		m->free_tabs[k] = *(void **)t;
		t[0] = NULL;
		m->cached -= tab_bytes(slots);
	} else {
		t = calloc(slots, sizeof(*t));
		if (!t)
			return NULL;
	}
	held_more(tcp, tab_bytes(slots));
	return t;
}

void hxs_tcp_tab_put(struct hxs_tcp *tcp, uint8_t **t, uint32_t n)
{
	struct hxs_tcp_mem *m = &tcp->mem;
	uint32_t slots, k = tab_class(n, &slots);
	held_less(tcp, tab_bytes(slots));
	/* Only empty tables come back (every slot NULL): a cached one is ready as it is. */
	if (k == HXS_TCP_TAB_CLASSES || m->cached + tab_bytes(slots) > tcp->cfg.mem_cache) {
		free(t);
		return;
	}
	*(void **)t = m->free_tabs[k];
	m->free_tabs[k] = t;
	m->cached += tab_bytes(slots);
}

void hxs_tcp_mem_trim(struct hxs_tcp *tcp, uint64_t keep)
{
	struct hxs_tcp_mem *m = &tcp->mem;
	for (uint32_t k = HXS_TCP_TAB_CLASSES; k-- > 0;) {
		while (m->free_tabs[k] && m->cached > keep) {
			void *t = m->free_tabs[k];
			m->free_tabs[k] = *(void **)t;
			m->cached -= tab_bytes((uint32_t)HXS_TCP_TAB_SLOTS << k);
			free(t);
		}
	}
	while (m->free_chunks && m->cached > keep) {
		void *p = m->free_chunks;
		m->free_chunks = *(void **)p;
		m->nfree_chunks--;
		m->cached -= HXS_TCP_CHUNK;
		free(p);
	}
}
