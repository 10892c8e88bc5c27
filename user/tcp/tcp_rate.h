/* tcp_rate.h - delivery-rate estimation (draft-cheng-iccrg-delivery-rate-estimation), the
 * sender's per-segment records of what was in flight when each segment left.
 *
 * A record per data segment sent, in sequence order (a ring that grows as the flight does):
 * its range, when it was (last) sent, and the connection's C.delivered, C.delivered_time,
 * C.first_sent_time and app-limited state at that moment (draft §3.1 "P.delivered" ...).
 * A retransmission refreshes the records it covers (Linux's tcp_rate_skb_sent() on the skb
 * sent again). On each ACK the records it newly acknowledges or SACKs are delivered (§3.2)
 * and the newest of them gives the rate sample (§3.3). Sizes in bytes, time in us.
 */
#ifndef HXS_TCP_RATE_H
#define HXS_TCP_RATE_H

#include <stdint.h>

#include "tcp_cc.h"

struct hxs_rate_rec {
	uint32_t seq, end;             /* [seq, end) */
	uint64_t tx_time;              /* P.sent_time: its last transmission */
	uint64_t first_tx_time;        /* P.first_sent_time */
	uint64_t delivered_time;       /* P.delivered_time */
	uint64_t delivered;            /* P.delivered */
	uint8_t app_limited;           /* P.is_app_limited */
	uint8_t sacked;                /* delivered by a SACK block already */
	uint8_t retrans;               /* sent more than once (no RTT sample from it) */
};

#define HXS_RATE_MAX_RECS 65536u   /* beyond this many segments in flight, none is timed */

struct hxs_tcp_rate {
	struct hxs_rate_rec *rec;      /* ring of cap records, n of them from head */
	uint32_t cap, head, n;
	uint64_t delivered;            /* C.delivered: bytes acked or SACKed, ever */
	uint64_t delivered_time;       /* C.delivered_time */
	uint64_t first_tx_time;        /* C.first_sent_time */
	uint64_t app_limited;          /* C.app_limited: the C.delivered that ends it; 0: not */
	uint64_t newest_tx;            /* tx_time of the sample's packet (choosing the newest) */
	uint32_t newest_end;
	uint32_t min_rtt_us;           /* smallest rs.rtt_us seen (Linux's tcp_min_rtt); 0: none */
	uint32_t srtt_us;              /* rs.rtt_us smoothed (RFC 6298 weights), us-exact */
	uint64_t last_rate;            /* bytes/s of the last valid sample (tcpi_delivery_rate) */
	uint8_t last_rate_app_limited;
	uint64_t retrans_seen;         /* c->total_retrans when the last sample was made */
	struct hxs_rate_sample rs;     /* the sample the current ACK builds */
};

#endif
