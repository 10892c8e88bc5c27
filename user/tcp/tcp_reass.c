/* tcp_reass.c - receive side: in-order delivery and out-of-order reassembly.
 *
 * hxs_tcp__input() -> process_text() -> hxs_tcp_reass_held() (D-SACK), hxs_tcp_reass_insert()
 * hxs_tcp_send_seg() -> hxs_tcp_reass_sack_blocks()
 *
 * Out-of-order bytes are written straight into the receive ring at the offset they will have
 * once the hole before them fills, so reassembly needs no allocation: memory is bounded by
 * SO_RCVBUF (we never accept bytes beyond the free space, which is what we advertised) and a
 * fixed table of HXS_REASS_MAX ranges. A segment that would need one more range is dropped
 * (TCPOFODrop); the sender retransmits it later.
 */
#include <string.h>

#include "tcp_conn.h"

static void reass_remove(struct hxs_tcp_reass *q, uint32_t i)
{
	memmove(&q->r[i], &q->r[i + 1], (q->n - i - 1) * sizeof(q->r[0]));
	q->n--;
}

/* Adds [s, e) to the sorted set, merging; returns -1 if the table is full. */
static int reass_add(struct hxs_tcp_reass *q, uint32_t s, uint32_t e)
{
	uint32_t i = 0;
	while (i < q->n && SEQ_LT(q->r[i].end, s))
		i++;
	/* r[i] is the first range that ends at or after s: it may touch or overlap. */
	if (i < q->n && SEQ_LEQ(q->r[i].start, e)) {
		q->r[i].start = SEQ_MIN(q->r[i].start, s);
		q->r[i].end = SEQ_MAX(q->r[i].end, e);
		q->r[i].age = ++q->clock;
		while (i + 1 < q->n && SEQ_LEQ(q->r[i + 1].start, q->r[i].end)) {
			q->r[i].end = SEQ_MAX(q->r[i].end, q->r[i + 1].end);
			reass_remove(q, i + 1);
		}
		return 0;
	}
	if (q->n == HXS_REASS_MAX)
		return -1;
	memmove(&q->r[i + 1], &q->r[i], (q->n - i) * sizeof(q->r[0]));
	q->r[i].start = s;
	q->r[i].end = e;
	q->r[i].age = ++q->clock;
	q->n++;
	return 0;
}

int hxs_tcp_reass_insert(struct hxs_tcp_conn *c, uint32_t seq, const uint8_t *p, uint32_t len)
{
	struct hxs_tcp_ring *r = &c->rcv;
	uint32_t room = r->cap - r->len;
	uint32_t end = seq + len;
	/* Trim what we already have and what lies beyond the window. */
	if (SEQ_LT(seq, c->rcv_nxt)) {
		uint32_t cut = SEQ_DIFF(c->rcv_nxt, seq);
		if (cut >= len)
			return 0;
		p += cut;
		seq = c->rcv_nxt;
	}
	if (SEQ_GT(end, c->rcv_nxt + room))
		end = c->rcv_nxt + room;
	if (!SEQ_LT(seq, end))
		return 0;
	len = SEQ_DIFF(end, seq);
	uint32_t off = r->len + SEQ_DIFF(seq, c->rcv_nxt);

	if (seq != c->rcv_nxt) {
		if (reass_add(&c->reass, seq, end) < 0) {
			MIB_INC(c->tcp, TCPOFODrop);
			return -1;
		}
		hxs_tcp_ring__write(r, off, p, len);
		MIB_INC(c->tcp, TCPOFOQueue);
		return 0;
	}
	hxs_tcp_ring__write(r, off, p, len);
	r->len += len;
	c->rcv_nxt = end;
	/* Pull in the ranges the new bytes reached. */
	struct hxs_tcp_reass *q = &c->reass;
	while (q->n && SEQ_LEQ(q->r[0].start, c->rcv_nxt)) {
		if (SEQ_GT(q->r[0].end, c->rcv_nxt)) {
			r->len += SEQ_DIFF(q->r[0].end, c->rcv_nxt);
			c->rcv_nxt = q->r[0].end;
		}
		reass_remove(q, 0);
	}
	return 1;
}

int hxs_tcp_reass_sack_blocks(const struct hxs_tcp_conn *c, struct hxs_sack_range *out, int max)
{
	/* RFC 2018 §4: "The first SACK block (i.e., the one immediately following the kind and
	 * length fields in the option) MUST specify the contiguous block of data containing the
	 * segment which triggered this ACK"; the others repeat the most recent ones. */
	const struct hxs_tcp_reass *q = &c->reass;
	uint8_t used[HXS_REASS_MAX] = { 0 };
	int n = 0;
	while (n < max && (uint32_t)n < q->n) {
		int best = -1;
		for (uint32_t i = 0; i < q->n; i++)
			if (!used[i] && (best < 0 || q->r[i].age > q->r[best].age))
				best = (int)i;
		used[best] = 1;
		out[n].start = q->r[best].start;
		out[n].end = q->r[best].end;
		n++;
	}
	return n;
}

int hxs_tcp_reass_held(const struct hxs_tcp_conn *c, uint32_t seq, uint32_t end, uint32_t *os,
		       uint32_t *oe)
{
	const struct hxs_tcp_reass *q = &c->reass;
	for (uint32_t i = 0; i < q->n; i++) {
		if (SEQ_LEQ(q->r[i].end, seq))
			continue;
		if (SEQ_GEQ(q->r[i].start, end))
			break;
		*os = SEQ_MAX(seq, q->r[i].start);
		*oe = SEQ_MIN(end, q->r[i].end);
		return 1;
	}
	return 0;
}
