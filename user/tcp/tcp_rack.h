/* tcp_rack.h - the sender's record of each segment in flight and the loss detection and
 * recovery built on it (tcp_rack.c): RACK-TLP (RFC 8985), Proportional Rate Reduction (RFC
 * 6937), undo of spurious retransmissions (F-RTO RFC 5682, Eifel RFC 3522, D-SACK RFC 3708).
 * The connection holds a struct hxs_rack; only tcp_rack.c reads or writes its fields.
 */
#ifndef HXS_TCP_RACK_H
#define HXS_TCP_RACK_H

#include <stdint.h>

#include "lib/timer_wheel.h"

/* Loss recovery of a connection (cfg.recovery, hxs_tcp_conn__set_recovery, HXS_RECOVERY). */
enum hxs_tcp_recovery_mode {
	HXS_TCP_RECOVERY_RACK = 0,  /* RACK-TLP with SACK (Linux's tcp_recovery = 1); default */
	HXS_TCP_RECOVERY_SACK = 1,  /* RFC 6675 with SACK, RFC 6582 NewReno without */
};

/* One segment as sent: [seq, end), the time of its last transmission, what is known of it. */
struct hxs_txseg {
	uint32_t seq, end;
	uint64_t xmit;             /* us */
	uint8_t fl;
};
#define HXS_TXS_SACKED  0x01       /* the receiver holds it (SACK) */
#define HXS_TXS_LOST    0x02       /* marked lost (RACK, RTO): needs a retransmission */
#define HXS_TXS_RETRANS 0x04       /* a retransmission of it is in flight */
#define HXS_TXS_EVER    0x08       /* it was retransmitted at some point */
#define HXS_TXS_PSH     0x10       /* sent with PSH: so is a retransmission */
#define HXS_TXS_MARKS   (HXS_TXS_SACKED | HXS_TXS_LOST | HXS_TXS_RETRANS)

struct hxs_rack {
	/* the segments in [snd_una, snd_max), in sequence order: a ring of records */
	struct hxs_txseg *s;
	uint32_t cap, head, n;
	uint32_t sacked_b, lost_b, retrans_b;   /* bytes SACKED; LOST; RETRANS (in flight) */
	uint32_t segs_sacked;                   /* records SACKED (RACK.segs_sacked) */
	uint8_t on;                /* RACK-TLP runs this connection's recovery */
	uint8_t mode;              /* enum hxs_tcp_recovery_mode asked for */
	/* RFC 8985 §6.1 */
	uint64_t xmit_ts;          /* RACK.xmit_ts */
	uint32_t end_seq;          /* RACK.end_seq */
	uint32_t rtt;              /* RACK.rtt */
	uint32_t min_rtt;          /* RACK.min_RTT (0: none) */
	uint32_t fack;             /* RACK.fack */
	uint8_t reord;             /* RACK.reordering_seen */
	uint8_t advanced;          /* RACK.xmit_ts moved since the last detect_loss */
	uint8_t valid;             /* RACK.xmit_ts is set (a segment was delivered) */
	uint8_t dsack_round_on;
	uint8_t reo_wnd_mult, reo_wnd_persist;
	uint32_t dsack_round;      /* RACK.dsack_round */
	/* RFC 8985 §7 */
	uint8_t tlp_on, tlp_retrans;
	uint32_t tlp_end;          /* TLP.end_seq (valid while tlp_on) */
	/* RFC 6937 */
	uint32_t prr_delivered, prr_out, recover_fs;
	/* RTO recovery (RFC 8985 "RTO recovery", F-RTO RFC 5682) */
	uint8_t in_loss, frto;
	uint32_t loss_high;        /* SND.MAX when the RTO fired */
	/* undo (RFC 3522, RFC 3708, RFC 5682) */
	uint8_t undo_ok;
	uint32_t undo_marker;      /* SND.UNA when the episode began */
	uint32_t undo_retrans;     /* retransmitted bytes not yet reported duplicate by D-SACK */
	uint32_t undo_cwnd, undo_ssthresh;
	uint32_t retrans_tsval;    /* TSval of the episode's first retransmission (Eifel) */
	uint8_t retrans_ts_set;
	/* what the ACK being processed brought (hxs_tcp_rack_ack_begin) */
	uint32_t ack_tsecr;
	uint32_t ack_delivered;    /* bytes newly SACKed or cumulatively acked (DeliveredData) */
	uint8_t ack_orig;          /* it covered data never retransmitted, sent before an RTO */
	uint8_t ack_dsack;         /* it carried a D-SACK block */
	uint8_t ack_dsack_tlp;     /* ... reporting the TLP retransmission */
	uint8_t frto_new;          /* RFC 5682 step 2b: new data goes before retransmissions */
	uint32_t prior_fack;       /* RACK.fack before this ACK */
	/* the RACK reordering timer or the TLP's PTO (one at a time) */
	struct hxs_timer t;
	uint8_t t_tlp;             /* armed as the PTO */
};

#endif
