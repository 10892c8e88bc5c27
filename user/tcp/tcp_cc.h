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
 *   every ACK               ->   cong_control(cc, rs, now)       (optional; the model-based
 *        algorithms, BBR) after the core's loss detection, in and out of recovery, with the
 *        ACK's delivery-rate sample (tcp_rate.c, draft-cheng-iccrg-delivery-rate-estimation).
 *        An algorithm with cong_control owns cwnd on every ACK (its on_ack is not called,
 *        as Linux calls cong_control instead of cong_avoid and PRR) and may set
 *        cc->pacing_rate; on_loss then only notes the event (cwnd as the algorithm wants).
 *
 * Pacing (tcp_pacing.c): cc->pacing_rate, bytes per second, is the rate the core spaces the
 * connection's segments at; 0 lets the core derive one from cwnd / SRTT when the stack's
 * pacing setting asks for it (Linux's tcp_update_pacing_rate()), or not pace at all.
 */
#ifndef HXS_TCP_CC_H
#define HXS_TCP_CC_H

#include <stdint.h>

struct hxs_cc;

/* A delivery-rate sample (draft-cheng-iccrg-delivery-rate-estimation §3.3, Linux's struct
 * rate_sample), in bytes and microseconds, built by the core for each ACK (tcp_rate.c). */
struct hxs_rate_sample {
	uint64_t prior_delivered;   /* C.delivered when the newest packet acked was sent */
	uint64_t prior_time;        /* C.delivered_time then (us); 0: no packet timed */
	int64_t delivered;          /* bytes delivered over the interval; -1: no sample */
	int64_t interval_us;        /* max(send_elapsed, ack_elapsed); -1: no valid sample */
	uint32_t send_elapsed, ack_elapsed;
	uint32_t rtt_us;            /* RTT of the newest packet acked, never retransmitted; 0: none */
	uint32_t acked_sacked;      /* bytes this ACK newly acked or SACKed */
	uint32_t losses;            /* bytes newly taken as lost (retransmitted) since the last ACK */
	uint32_t prior_in_flight;   /* bytes in flight (pipe) before this ACK */
	uint32_t in_flight;         /* and after it */
	uint64_t c_delivered;       /* C.delivered after this ACK (bytes, ever) */
	uint64_t c_delivered_time;  /* C.delivered_time (us) */
	uint8_t is_app_limited;     /* the newest packet acked was sent application-limited */
	uint8_t in_recovery;        /* the core is in fast recovery after this ACK */
	uint8_t has_data;           /* a packet with rate information was delivered */
};

struct hxs_cc_ops {
	const char *name;
	void (*init)(struct hxs_cc *cc, uint64_t now);
	void (*on_ack)(struct hxs_cc *cc, uint32_t acked, uint32_t rtt_us, uint64_t now);
	void (*on_loss)(struct hxs_cc *cc, uint64_t now);
	void (*on_recovery_exit)(struct hxs_cc *cc, uint64_t now);
	void (*on_rto)(struct hxs_cc *cc, uint64_t now);
	/* Optional: the application writes after idle_us in which nothing was sent or queued. */
	void (*on_idle_end)(struct hxs_cc *cc, uint64_t idle_us, uint64_t now);
	/* Optional: every ACK, with its rate sample; replaces on_ack (see above). */
	void (*cong_control)(struct hxs_cc *cc, const struct hxs_rate_sample *rs, uint64_t now);
	/* Optional: the sending resumes after the application let the flight drain (Linux's
	 * CA_EVENT_TX_START), with data in flight or not. */
	void (*on_tx_start)(struct hxs_cc *cc, uint64_t now);
};

/* BBR v1 (tcp_cc_bbr.c): the model of draft-ietf-ccwg-bbr as Linux's tcp_bbr.c keeps it. */
struct hxs_bbr_sample { uint32_t round; uint64_t v; };
struct hxs_bbr {
	struct hxs_bbr_sample bw[3];   /* windowed max of the delivery rate (bytes/s), by round */
	uint64_t next_rtt_delivered;   /* C.delivered that ends the current round */
	uint64_t full_bw;              /* bytes/s: the max bw when STARTUP last grew 25 % */
	uint64_t min_rtt_stamp;        /* us: when min_rtt_us was taken */
	uint64_t probe_rtt_done_stamp; /* us: PROBE_RTT may end after this; 0 unset */
	uint64_t cycle_stamp;          /* us: when the current gain-cycle phase began */
	uint64_t ack_epoch_stamp;      /* us: start of the ACK-aggregation epoch */
	uint64_t rng;                  /* xorshift state, seeded by init's time */
	uint32_t min_rtt_us;           /* UINT32_MAX: none yet */
	uint32_t rtt_cnt;              /* packet-timed round trips */
	uint32_t prior_cwnd;           /* cwnd before recovery or PROBE_RTT */
	uint32_t ack_epoch_acked;      /* bytes acked in this aggregation epoch */
	uint32_t extra_acked[2];       /* max excess acked, two windows of 5 rounds */
	uint16_t pacing_gain, cwnd_gain; /* x256 */
	uint8_t mode, cycle_idx, full_bw_cnt, extra_acked_win_rtts, extra_acked_win_idx;
	uint8_t full_bw_reached : 1, round_start : 1, packet_conservation : 1,
		probe_rtt_round_done : 1, idle_restart : 1, prev_recovery : 1, has_seen_rtt : 1;
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

/* HyStart++ (RFC 9406, tcp_cc_hystart.c) for CUBIC and NewReno: the round and the RTTs. */
enum { HXS_HS_SS, HXS_HS_CSS, HXS_HS_DONE };
struct hxs_hystart {
	uint32_t window_end;        /* §4.2 windowEnd: the round ends when SND.UNA reaches it */
	uint32_t last_min_us;       /* lastRoundMinRTT; UINT32_MAX: infinity */
	uint32_t cur_min_us;        /* currentRoundMinRTT; UINT32_MAX: infinity */
	uint32_t css_baseline_us;   /* cssBaselineMinRtt; UINT32_MAX: infinity */
	uint16_t samples;           /* rttSampleCount */
	uint8_t state;              /* HXS_HS_SS (slow start), _CSS (Conservative Slow Start),
	                             * _DONE (left to congestion avoidance) */
	uint8_t css_rounds;         /* rounds in CSS, the partial first one included */
	uint8_t css_rem;            /* remainder of the CSS growth division (bytes) */
	uint8_t started;            /* the first round has begun */
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
	uint32_t srtt_us;           /* SRTT of the core's microsecond samples (tcp_rate.c), kept
	                             * current; 0: no sample */
	uint64_t pacing_rate;       /* bytes/s the algorithm wants to pace at; 0: its own none */
	uint8_t mark_app_limited;   /* set by cong_control: take the flight as application-
	                             * limited (BBR's PROBE_RTT: its low samples are no news) */
	uint8_t hystart_on;         /* set by the core before init (the stack's setting, not
	                             * changed by init): slow start is HyStart++'s */
	uint32_t snd_una, snd_nxt;  /* set by the core before on_ack: SND.UNA after this ACK and
	                             * SND.NXT (the highest sent, a retransmission's rewind aside) */
	uint32_t ack_rtt_us;        /* set by the core before on_ack: this ACK's microsecond RTT
	                             * sample (tcp_rate.c, Karn); 0: none */
	struct hxs_hystart hs;      /* the window-based algorithms' slow start (tcp_cc_hystart.c) */
	union {
		struct hxs_cubic cubic;
		struct hxs_bbr bbr;
	} u;
};

extern const struct hxs_cc_ops hxs_cc_newreno;
extern const struct hxs_cc_ops hxs_cc_cubic;
extern const struct hxs_cc_ops hxs_cc_bbr;
/* "newreno", "cubic" or "bbr" -> ops; NULL if unknown. */
const struct hxs_cc_ops *hxs_cc_find(const char *name);
/* Initial window, RFC 6928: min(10*MSS, max(2*MSS, 14600)). */
uint32_t hxs_cc_initial_window(uint32_t mss);

/* Helpers the algorithms share (tcp_cc.c). */
#define HXS_CC_MAX_CWND (1u << 30)          /* cwnd never grows past 1 GiB */
/* RFC 5681 §3.1 slow start with RFC 3465 ABC, L = 2*SMSS per ACK: cwnd += min(acked,
 * 2*SMSS * cc->acks). */
void hxs_cc_slow_start(struct hxs_cc *cc, uint32_t acked);
/* The slow-start growth of one ACK that acked `acked` bytes: min(acked, L), L = 2*SMSS per ACK
 * it stands for (RFC 3465 §2.3). */
uint32_t hxs_cc_ss_increment(const struct hxs_cc *cc, uint32_t acked);
/* HyStart++ (RFC 9406, tcp_cc_hystart.c). _init from an algorithm's init; hxs_cc_hystart()
 * from on_ack while cwnd < ssthresh: 1 when it took the ACK (grew cwnd, or not while
 * cc->app_limited, and may set ssthresh = cwnd), 0 when classic slow start applies (HyStart++
 * off, or not the initial slow start). */
void hxs_cc_hystart_init(struct hxs_cc *cc);
int hxs_cc_hystart(struct hxs_cc *cc, uint32_t acked);
/* RFC 5681 §3.1 congestion avoidance by byte counting (RFC 3465 §2.1): +SMSS per cwnd acked. */
void hxs_cc_reno_ca(struct hxs_cc *cc, uint32_t acked);
/* RFC 5681 §3.1 eq. (4): max(FlightSize / 2, 2*SMSS). */
uint32_t hxs_cc_reno_ssthresh(const struct hxs_cc *cc);
/* Sets cc->ops and calls its init (cwnd = IW, ssthresh = UINT32_MAX); mss must be set. */
void hxs_cc__init(struct hxs_cc *cc, const struct hxs_cc_ops *ops, uint64_t now);

#endif
