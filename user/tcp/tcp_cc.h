/* tcp_cc.h - the congestion-control interface (RFC 5681 shape) and its algorithms.
 *
 * The TCP core owns loss detection and recovery (RFC 6675 / RFC 6582); an algorithm only
 * decides cwnd and ssthresh, told of events through these hooks. All sizes in bytes, time in
 * microseconds (passed in; nothing reads a clock).
 *
 *   core                         algorithm
 *   ACK advances snd_una    ->   on_ack(cc, acked_bytes, rtt_us or 0, now)   (not in recovery)
 *        with cc->app_limited set by the core: cwnd was not in use (RFC 7661, RFC 9438 §5.8),
 *        and on_ack must not grow it then
 *   loss detected (3 dupacks / SACK) -> on_loss(cc, now)       sets ssthresh, cwnd
 *        on_loss sets ssthresh and cwnd = ssthresh and nothing else: the RFC 6582 §3.2
 *        "ssthresh + 3*SMSS" and per-dupack inflation, or RFC 6675 pipe, are the core's.
 *        cc->flight must be current before on_loss / on_rto (both use FlightSize).
 *   recovery ends           ->   on_recovery_exit(cc, now)
 *   RTO fires               ->   on_rto(cc, now)                 ssthresh, cwnd = 1 MSS (RFC 5681 §3.1)
 *   data after a pause      ->   on_idle_end(cc, idle_us, now)   (optional) nothing was in flight
 *        or queued for idle_us; idle restart (RFC 5681 §4.1) is the core's: cwnd = min(cwnd, IW).
 */
#ifndef HXS_TCP_CC_H
#define HXS_TCP_CC_H

#include <stdint.h>

struct hxs_cc;

struct hxs_cc_ops {
	const char *name;
	void (*init)(struct hxs_cc *cc, uint64_t now);
	void (*on_ack)(struct hxs_cc *cc, uint32_t acked, uint32_t rtt_us, uint64_t now);
	void (*on_loss)(struct hxs_cc *cc, uint64_t now);
	void (*on_recovery_exit)(struct hxs_cc *cc, uint64_t now);
	void (*on_rto)(struct hxs_cc *cc, uint64_t now);
	/* Optional: the application writes after idle_us in which nothing was sent or queued. */
	void (*on_idle_end)(struct hxs_cc *cc, uint64_t idle_us, uint64_t now);
};

struct hxs_cubic {                  /* RFC 9438 state */
	uint64_t epoch_start;       /* us; 0 = no epoch */
	uint32_t w_max;             /* bytes */
	uint32_t w_last_max;        /* for fast convergence (§4.7) */
	uint32_t k_us;              /* K (§4.2) in us */
	uint32_t w_est;             /* Reno-friendly estimate (§4.3), bytes */
	uint32_t cwnd_prior;        /* cwnd at the last congestion event */
	uint32_t min_rtt_us;
	uint32_t ack_acc;           /* remainder of the W_est growth division (§4.3) */
	uint32_t srtt_us;           /* smoothed RTT from on_ack samples, for W_cubic(t+RTT) (§4.2) */
	uint64_t last_ack;          /* us; the last on_ack (application-limited time, §5.8) */
};

struct hxs_cc {
	const struct hxs_cc_ops *ops;
	uint32_t cwnd;              /* bytes */
	uint32_t ssthresh;          /* bytes; UINT32_MAX until the first loss */
	uint32_t mss;               /* SMSS, set by the core before init */
	uint32_t flight;            /* bytes in flight (FlightSize), kept current by the core */
	uint32_t bytes_acked;       /* RFC 3465 appropriate byte counting accumulator (CA) */
	uint8_t app_limited;        /* set by the core before on_ack: cwnd is not in use, no growth */
	uint16_t acks;              /* set by the core before on_ack: the ACKs this one stands for
	                             * (a stretch of ACKs XDP consumed); 0 or 1: one */
	union {
		struct hxs_cubic cubic;
	} u;
};

extern const struct hxs_cc_ops hxs_cc_newreno;
extern const struct hxs_cc_ops hxs_cc_cubic;
/* "newreno" or "cubic" -> ops; NULL if unknown. */
const struct hxs_cc_ops *hxs_cc_find(const char *name);
/* Initial window, RFC 6928: min(10*MSS, max(2*MSS, 14600)). */
uint32_t hxs_cc_initial_window(uint32_t mss);

/* Helpers the algorithms share (tcp_cc.c). */
#define HXS_CC_MAX_CWND (1u << 30)          /* cwnd never grows past 1 GiB */
/* RFC 5681 §3.1 slow start with RFC 3465 ABC, L = 2*SMSS per ACK: cwnd += min(acked,
 * 2*SMSS * cc->acks). */
void hxs_cc_slow_start(struct hxs_cc *cc, uint32_t acked);
/* RFC 5681 §3.1 congestion avoidance by byte counting (RFC 3465 §2.1): +SMSS per cwnd acked. */
void hxs_cc_reno_ca(struct hxs_cc *cc, uint32_t acked);
/* RFC 5681 §3.1 eq. (4): max(FlightSize / 2, 2*SMSS). */
uint32_t hxs_cc_reno_ssthresh(const struct hxs_cc *cc);
/* Sets cc->ops and calls its init (cwnd = IW, ssthresh = UINT32_MAX); mss must be set. */
void hxs_cc__init(struct hxs_cc *cc, const struct hxs_cc_ops *ops, uint64_t now);

#endif
