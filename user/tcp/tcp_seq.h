/* tcp_seq.h - TCP sequence-number arithmetic (RFC 9293 §3.4), modulo 2^32.
 * The one place these comparisons are defined; every TCP file uses them. */
#ifndef HXS_TCP_SEQ_H
#define HXS_TCP_SEQ_H

#include <stdint.h>

#define SEQ_LT(a, b)  ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b)  ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)
/* a <= x < b, modulo 2^32 (RFC 9293 §3.4 "acceptable" tests are written with these). */
#define SEQ_IN(x, a, b) (SEQ_LEQ((a), (x)) && SEQ_LT((x), (b)))
#define SEQ_MAX(a, b) (SEQ_GT((a), (b)) ? (a) : (b))
#define SEQ_MIN(a, b) (SEQ_LT((a), (b)) ? (a) : (b))
/* Bytes from a up to b (b at or after a). */
#define SEQ_DIFF(b, a) ((uint32_t)((uint32_t)(b) - (uint32_t)(a)))

#endif
