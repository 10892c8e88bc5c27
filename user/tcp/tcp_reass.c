/* tcp_reass.c - receive side: in-order delivery and out-of-order reassembly.
 *
 * hxs_tcp__input() -> process_text() -> hxs_tcp_reass_held() (D-SACK), hxs_tcp_reass_insert()
 *                                        -> hxs_tcp_ring__reserve(), hxs_tcp_ring__write()
 * hxs_tcp_send_seg() -> hxs_tcp_reass_sack_blocks()
 * process_text() -> hxs_tcp_reass_fresh_end() (the range a held duplicate ACK reports first)
 * close, TIME-WAIT -> hxs_tcp_reass_clear()
 *
 * Out-of-order bytes are written straight into the receive ring at the offset they will have
 * once the hole before them fills, so reassembly needs no list of segments: memory is bounded
 * by SO_RCVBUF (we never accept bytes beyond the free space, which is what we advertised), a
 * fixed table of HXS_REASS_MAX ranges, and the out-of-order limits: ofo_conn_max bytes per
 * connection, ofo_max for the instance (the bytes of every connection's ranges). A segment
 * that would need one more range, or pass a limit, is dropped (TCPOFODrop; which limit in
 * HxsTcpOfoConnDrops / HxsTcpOfoStackDrops); the sender retransmits it later. So is one the
 * buffer memory cannot take (TCPOFODrop out of order, TCPRcvQDrop in order).
 */
#include <string.h>

#include "tcp_conn.h"

static void reass_remove(struct hxs_tcp_reass *q, uint32_t i)
{
	q->bytes -= SEQ_DIFF(q->r[i].end, q->r[i].start);
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
		q->bytes -= SEQ_DIFF(q->r[i].end, q->r[i].start);
		q->r[i].start = SEQ_MIN(q->r[i].start, s);
		q->r[i].end = SEQ_MAX(q->r[i].end, e);
		q->r[i].age = ++q->clock;
		while (i + 1 < q->n && SEQ_LEQ(q->r[i + 1].start, q->r[i].end)) {
			q->r[i].end = SEQ_MAX(q->r[i].end, q->r[i + 1].end);
			reass_remove(q, i + 1);
		}
		q->bytes += SEQ_DIFF(q->r[i].end, q->r[i].start);
		return 0;
	}
	if (q->n == HXS_REASS_MAX)
		return -1;
	memmove(&q->r[i + 1], &q->r[i], (q->n - i) * sizeof(q->r[0]));
	q->r[i].start = s;
	q->r[i].end = e;
	q->r[i].age = ++q->clock;
	q->n++;
	q->bytes += SEQ_DIFF(e, s);
	return 0;
}

/* Would reass_add(q, s, e) find room? */
static int reass_fits(const struct hxs_tcp_reass *q, uint32_t s, uint32_t e)
{
	uint32_t i = 0;
	if (q->n < HXS_REASS_MAX)
		return 1;
	while (i < q->n && SEQ_LT(q->r[i].end, s))
		i++;
	return i < q->n && SEQ_LEQ(q->r[i].start, e);
}

/* Bytes of [s, e) no range holds yet. */
static uint32_t reass_new_bytes(const struct hxs_tcp_reass *q, uint32_t s, uint32_t e)
{
	uint32_t n = SEQ_DIFF(e, s);
	for (uint32_t i = 0; i < q->n; i++) {
		uint32_t a = SEQ_MAX(q->r[i].start, s), b = SEQ_MIN(q->r[i].end, e);
		if (SEQ_LT(a, b))
			n -= SEQ_DIFF(b, a);
	}
	return n;
}

/* The ranges' bytes changed from `before`: the instance's total follows. */
static void ofo_account(struct hxs_tcp_conn *c, uint32_t before)
{
	c->tcp->ofo_bytes += c->reass.bytes;
	c->tcp->ofo_bytes -= before;
}

/* Out of order at seq (len bytes, within the window, off bytes after the ring's head):
 * 0 queued, -1 dropped. */
static int ofo_insert(struct hxs_tcp_conn *c, uint32_t seq, const uint8_t *p, uint32_t len,
		      uint32_t off)
{
	struct hxs_tcp *tcp = c->tcp;
	struct hxs_tcp_reass *q = &c->reass;
	uint32_t add = reass_new_bytes(q, seq, seq + len), before = q->bytes;
	if (!reass_fits(q, seq, seq + len))
		goto drop;
	if (add && q->bytes + add > tcp->cfg.ofo_conn_max) {
		MIB_INC(tcp, HxsTcpOfoConnDrops);
		goto drop;
	}
	if (add && tcp->ofo_bytes + add > tcp->cfg.ofo_max) {
		MIB_INC(tcp, HxsTcpOfoStackDrops);
		goto drop;
	}
	/* the bytes that have memory (a prefix, when the pool runs dry) */
	len = hxs_tcp_ring__reserve(tcp, &c->rcv, off, len);
	if (!len)
		goto drop;
	if (reass_add(q, seq, seq + len) < 0)
		goto drop;
	ofo_account(c, before);
	hxs_tcp_ring__write(&c->rcv, off, p, len);
	MIB_INC(tcp, TCPOFOQueue);
	return 0;
drop:
	MIB_INC(tcp, TCPOFODrop);
	return -1;
}

void hxs_tcp_reass_clear(struct hxs_tcp_conn *c)
{
	uint32_t before = c->reass.bytes;
	c->reass.n = 0;
	c->reass.bytes = 0;
	ofo_account(c, before);
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

	if (seq != c->rcv_nxt)
		return ofo_insert(c, seq, p, len, off);
	/* In order: what the buffer memory takes (all of it, short of mem_max). */
	uint32_t got = hxs_tcp_ring__reserve(c->tcp, r, off, len);
	if (!got) {
		MIB_INC(c->tcp, TCPRcvQDrop);
		return -1;
	}
	len = got;
	end = seq + len;
	hxs_tcp_ring__write(r, off, p, len);
	r->len += len;
	c->rcv_nxt = end;
	/* Pull in the ranges the new bytes reached. */
	struct hxs_tcp_reass *q = &c->reass;
	if (q->n) {
		uint32_t before = q->bytes;
		while (q->n && SEQ_LEQ(q->r[0].start, c->rcv_nxt)) {
			if (SEQ_GT(q->r[0].end, c->rcv_nxt)) {
				r->len += SEQ_DIFF(q->r[0].end, c->rcv_nxt);
				c->rcv_nxt = q->r[0].end;
			}
			reass_remove(q, 0);
		}
		ofo_account(c, before);
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

uint32_t hxs_tcp_reass_fresh_end(const struct hxs_tcp_conn *c)
{
	const struct hxs_tcp_reass *q = &c->reass;
	uint32_t best = 0;

	for (uint32_t i = 1; i < q->n; i++)
		if (q->r[i].age > q->r[best].age)
			best = i;
	return q->n ? q->r[best].end : c->rcv_nxt;
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
