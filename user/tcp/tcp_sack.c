/* tcp_sack.c - the sender's SACK scoreboard (RFC 2018 blocks, RFC 6675 §2-§4 queries).
 *
 *   ACK with SACK blocks -> hxs_sack__update() -> board_add() per block -> hxs_sack__advance()
 *   cumulative ACK       -> hxs_sack__advance()                 drop/trim at snd_una
 *   recovery             -> hxs_sack__is_lost() / hxs_sack__next_hole() / hxs_sack__any()
 *
 * r[0..n) are disjoint, non-adjacent and sorted in sequence space (modulo 2^32, compared
 * with tcp_seq.h relative to snd_una, so the board is correct across the 2^32 wrap).
 * When a new range would be the 33rd, the highest range is forgotten (RFC 6675 recovery
 * works from the bottom; forgetting a SACK only means a needless retransmission), and
 * high_sacked falls back to the end of the highest range kept.
 */
#include <string.h>

#include "tcp_sack.h"
#include "tcp_seq.h"

static void recompute_high(struct hxs_sack_board *b)
{
	if (b->n && SEQ_GT(b->r[b->n - 1].end, b->high_sacked))
		b->high_sacked = b->r[b->n - 1].end;
}

void hxs_sack__reset(struct hxs_sack_board *b)
{
	memset(b, 0, sizeof(*b));
}

/* Merges [s, e) in; returns bytes that were not SACKed before. */
static uint32_t board_add(struct hxs_sack_board *b, uint32_t s, uint32_t e)
{
	uint32_t i = 0, j, old = 0, added;

	/* first range that ends at or after s (ranges ending before s stay untouched) */
	while (i < b->n && SEQ_LT(b->r[i].end, s))
		i++;
	/* ranges i..j-1 overlap or touch [s, e): fold them in */
	for (j = i; j < b->n && SEQ_LEQ(b->r[j].start, e); j++) {
		old += SEQ_DIFF(b->r[j].end, b->r[j].start);
		s = SEQ_MIN(s, b->r[j].start);
		e = SEQ_MAX(e, b->r[j].end);
	}
	added = SEQ_DIFF(e, s) - old;
	if (j - i == 0) {
		/* a new range at index i */
		if (b->n == HXS_SACK_MAX_RANGES) {
			if (i == b->n)
				return 0;       /* it would be the highest: forgotten at once */
			b->n--;                  /* forget the highest to make room */
			b->sacked_bytes -= SEQ_DIFF(b->r[b->n].end, b->r[b->n].start);
			b->high_sacked = b->n ? b->r[b->n - 1].end : b->high_sacked;
		}
		memmove(&b->r[i + 1], &b->r[i], (b->n - i) * sizeof(b->r[0]));
		b->n++;
	} else if (j - i > 1) {
		memmove(&b->r[i + 1], &b->r[j], (b->n - j) * sizeof(b->r[0]));
		b->n -= j - i - 1;
	}
	b->r[i].start = s;
	b->r[i].end = e;
	b->sacked_bytes += added;
	return added;
}

uint32_t hxs_sack__update(struct hxs_sack_board *b, uint32_t snd_una,
			  const struct hxs_sack_range *blk, int nblk)
{
	uint32_t added = 0;
	int k;

	if (b->n == 0)
		b->high_sacked = snd_una;
	for (k = 0; k < nblk; k++) {
		uint32_t s = blk[k].start, e = blk[k].end;

		/* RFC 2883: a block at or below snd_una is a D-SACK: it reports a duplicate, not
		 * data held above the cumulative ACK; nothing to record. */
		if (SEQ_LEQ(e, snd_una) || SEQ_GEQ(s, e))
			continue;
		if (SEQ_LT(s, snd_una))
			s = snd_una;
		added += board_add(b, s, e);
		recompute_high(b);
	}
	hxs_sack__advance(b, snd_una);
	return added;
}

void hxs_sack__advance_slow(struct hxs_sack_board *b, uint32_t snd_una)
{
	uint32_t i = 0;

	while (i < b->n && SEQ_LEQ(b->r[i].end, snd_una)) {
		b->sacked_bytes -= SEQ_DIFF(b->r[i].end, b->r[i].start);
		i++;
	}
	if (i) {
		memmove(&b->r[0], &b->r[i], (b->n - i) * sizeof(b->r[0]));
		b->n -= i;
	}
	if (b->n && SEQ_LT(b->r[0].start, snd_una)) {
		b->sacked_bytes -= SEQ_DIFF(snd_una, b->r[0].start);
		b->r[0].start = snd_una;
	}
}

int hxs_sack__any(const struct hxs_sack_board *b, uint32_t seq, uint32_t len)
{
	uint32_t i, end = seq + len;

	for (i = 0; i < b->n && len; i++)
		if (SEQ_LT(b->r[i].start, end) && SEQ_GT(b->r[i].end, seq))
			return 1;
	return 0;
}

int hxs_sack__all(const struct hxs_sack_board *b, uint32_t seq, uint32_t len)
{
	uint32_t i, end = seq + len;

	/* ranges are merged when they touch, so a fully SACKed span lies in one range */
	for (i = 0; i < b->n; i++)
		if (SEQ_LEQ(b->r[i].start, seq) && SEQ_GEQ(b->r[i].end, end))
			return 1;
	return 0;
}

uint32_t hxs_sack__bytes_above(const struct hxs_sack_board *b, uint32_t seq)
{
	uint32_t i, sum = 0;

	for (i = 0; i < b->n; i++) {
		if (SEQ_GT(b->r[i].start, seq))
			sum += SEQ_DIFF(b->r[i].end, b->r[i].start);
		else if (SEQ_GT(b->r[i].end, seq + 1))
			sum += SEQ_DIFF(b->r[i].end, seq + 1);
	}
	return sum;
}

int hxs_sack__is_lost(const struct hxs_sack_board *b, uint32_t seq, uint32_t smss, uint32_t dupthresh)
{
	uint32_t i, discontig = 0;

	/* RFC 6675 §4 IsLost(SeqNum): "This routine returns whether the given sequence number
	 * is considered to be lost. The routine returns true when either DupThresh
	 * discontiguous SACKed sequences have arrived above 'SeqNum' or more than
	 * (DupThresh - 1) * SMSS bytes with sequence numbers greater than 'SeqNum' have been
	 * SACKed." Discontiguous sequences = disjoint ranges above SeqNum. */
	if (hxs_sack__bytes_above(b, seq) > (dupthresh - 1) * smss)
		return 1;
	for (i = 0; i < b->n; i++)
		if (SEQ_GT(b->r[i].end, seq + 1))
			discontig++;
	return discontig >= dupthresh;
}

int hxs_sack__next_hole(const struct hxs_sack_board *b, uint32_t seq, uint32_t *hole_start, uint32_t *hole_len)
{
	uint32_t i, cur = seq;

	/* RFC 6675 §4 NextSeg() rule 1: the first sequence not yet SACKed, below HighSACKed */
	for (i = 0; i < b->n; i++) {
		if (SEQ_LEQ(b->r[i].end, cur))
			continue;
		if (SEQ_LEQ(b->r[i].start, cur)) {
			cur = b->r[i].end;
			continue;
		}
		*hole_start = cur;
		*hole_len = SEQ_DIFF(b->r[i].start, cur);
		return 1;
	}
	return 0;
}
