/* tcp_sack.h - the sender's SACK scoreboard (RFC 6675 §2-§4): which bytes above snd_una the
 * receiver reported holding. A bounded, sorted set of disjoint [start, end) ranges in
 * sequence space; the TCP core feeds it the SACK blocks of each ACK and asks the RFC 6675
 * questions. Memory is fixed (HXS_SACK_MAX_RANGES); when full, the lowest ranges are kept
 * (they matter most for recovery) and the rest dropped, which only makes the sender more
 * conservative.
 */
#ifndef HXS_TCP_SACK_H
#define HXS_TCP_SACK_H

#include <stdint.h>

#define HXS_SACK_MAX_RANGES 32

struct hxs_sack_range {
	uint32_t start, end;        /* [start, end) */
};

struct hxs_sack_board {
	struct hxs_sack_range r[HXS_SACK_MAX_RANGES];
	uint32_t n;
	uint32_t sacked_bytes;      /* total bytes in r[] */
	uint32_t high_sacked;       /* highest end ever reported (valid when n > 0) */
};

void hxs_sack__reset(struct hxs_sack_board *b);
/* Records blocks from one ACK (already validated by the core: within [snd_una, snd_max]),
 * then drops everything at or below snd_una. Returns the number of bytes newly SACKed. */
uint32_t hxs_sack__update(struct hxs_sack_board *b, uint32_t snd_una,
			  const struct hxs_sack_range *blk, int nblk);
/* Drops ranges at or below a new snd_una. */
void hxs_sack__advance_slow(struct hxs_sack_board *b, uint32_t snd_una);
/* inline: every ACK of new data asks, the board is usually empty */
static inline void hxs_sack__advance(struct hxs_sack_board *b, uint32_t snd_una)
{
	if (b->n)
		hxs_sack__advance_slow(b, snd_una);
}
/* Is any byte of [seq, seq+len) SACKed? / Is all of it? */
int hxs_sack__any(const struct hxs_sack_board *b, uint32_t seq, uint32_t len);
int hxs_sack__all(const struct hxs_sack_board *b, uint32_t seq, uint32_t len);
/* Bytes SACKed strictly above seq (RFC 6675 IsLost: lost if >= (DupThresh-1)*SMSS+1 bytes or
 * DupThresh discontiguous SACKed segments above it). */
uint32_t hxs_sack__bytes_above(const struct hxs_sack_board *b, uint32_t seq);
/* RFC 6675 §4 IsLost(seq) with DupThresh and SMSS given. */
int hxs_sack__is_lost(const struct hxs_sack_board *b, uint32_t seq, uint32_t smss, uint32_t dupthresh);
/* First hole at or after seq below high_sacked: sets *hole_start and *hole_len, returns 1; 0 if none. */
int hxs_sack__next_hole(const struct hxs_sack_board *b, uint32_t seq, uint32_t *hole_start, uint32_t *hole_len);

#endif
