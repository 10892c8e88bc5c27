/* tcp_conn.h - the TCP core's internals: connection state (RFC 9293 §3.3.1 TCB), the state
 * enum with its ordered predicates, the byte rings, option and segment structs, and the
 * functions the core's files call in each other. Not for the socket layer (that is tcp.h).
 *
 * File map:  tcp_input.c  (segment arrives, §3.10.7: parse, demux; tcp_input.h: between
 *                          the files of the input)   tcp_process.c (by state, the steps)
 *            tcp_listen.c (LISTEN, the passive open)   tcp_predict.c/.h (header prediction)
 *            tcp_fastpath_input.c (the ACKs XDP consumed)   tcp_fastpath.c (the slot, XDP's)
 *            tcp_output.c (what may go now)   tcp_seg.c (build and send one segment)
 *            tcp_timer_arm.c (RTO, arming the timers)   tcp_timer.c (the timers' expiry)
 *            tcp_recovery.c (fast retransmit, NewReno, SACK pipe/NextSeg)
 *            tcp_rack.c   (RACK-TLP, PRR, undo: the default with SACK)
 *            tcp_reass.c  (receive ring + out-of-order ranges)   tcp_buf.c (byte rings)
 *            tcp_mem.c    (buffer memory: chunk pool, limits, pressure)
 *            tcp_opt.c    (options parse/write)   tcp_table.c (4-tuple and listener tables)
 *            tcp_lifecycle.c (alloc, state, dirty list, events, listener queues, close)
 *            tcp_instance.c (new/free, poll, deadlines, MIB)
 *            tcp_user.c   (user calls §3.10.1-§3.10.6: open, send, receive, close, abort)
 *            tcp_ecn.c    (ECN, RFC 3168)   tcp_urg.c (urgent data, §3.8.5, RFC 6093)
 *            tcp_rate.c   (delivery-rate samples)   tcp_pacing.c (when the next segment may go)
 */
#ifndef HXS_TCP_CONN_H
#define HXS_TCP_CONN_H

#include <stdint.h>
#include <stddef.h>
#include <sys/epoll.h>

#include "tcp.h"
#include "tcp_cc.h"
#include "tcp_rate.h"
#include "tcp_sack.h"
#include "tcp_rack.h"
#include "tcp_seq.h"
#include "lib/timer_wheel.h"
#include "tcp_isn.h"

#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#endif

/* Ordered like the BSDs so "has reached" questions are comparisons. */
enum hxs_tcp_state {
	HXS_TCPS_CLOSED = 0,
	HXS_TCPS_LISTEN,
	HXS_TCPS_SYN_SENT,
	HXS_TCPS_SYN_RECEIVED,
	HXS_TCPS_ESTABLISHED,
	HXS_TCPS_CLOSE_WAIT,
	HXS_TCPS_FIN_WAIT_1,
	HXS_TCPS_CLOSING,
	HXS_TCPS_LAST_ACK,
	HXS_TCPS_FIN_WAIT_2,
	HXS_TCPS_TIME_WAIT,
	HXS_TCPS__COUNT
};

/* A SYN was received (the receive side is synchronized). */
#define HXS_TCPS_HAVERCVDSYN(s)    ((s) >= HXS_TCPS_SYN_RECEIVED)
/* The handshake completed at some point. */
#define HXS_TCPS_HAVEESTABLISHED(s) ((s) >= HXS_TCPS_ESTABLISHED)
/* The peer's FIN was received (no more data will arrive). */
#define HXS_TCPS_HAVERCVDFIN(s)                                                    \
	((s) == HXS_TCPS_CLOSE_WAIT || (s) == HXS_TCPS_CLOSING ||                  \
	 (s) == HXS_TCPS_LAST_ACK || (s) == HXS_TCPS_TIME_WAIT)
/* Our FIN was queued (the user closed or shut down writing). */
#define HXS_TCPS_HAVESENTFIN(s)    ((s) > HXS_TCPS_CLOSE_WAIT)
/* States in which received text is delivered (§3.10.7.4 seventh). */
#define HXS_TCPS_CANRCVDATA(s)                                                    \
	((s) == HXS_TCPS_ESTABLISHED || (s) == HXS_TCPS_FIN_WAIT_1 ||              \
	 (s) == HXS_TCPS_FIN_WAIT_2)

/* TCP header flags. */
#define HXS_TH_FIN 0x01
#define HXS_TH_SYN 0x02
#define HXS_TH_RST 0x04
#define HXS_TH_PSH 0x08
#define HXS_TH_ACK 0x10
#define HXS_TH_URG 0x20
#define HXS_TH_ECE 0x40
#define HXS_TH_CWR 0x80

#define HXS_TCP_HDR_LEN 20
#define HXS_TCP_MAX_OPT 40

/* --- options (tcp_opt.c) ------------------------------------------------------------------ */
#define HXS_TCPOPT_EOL       0
#define HXS_TCPOPT_NOP       1
#define HXS_TCPOPT_MSS       2
#define HXS_TCPOPT_WS        3
#define HXS_TCPOPT_SACK_PERM 4
#define HXS_TCPOPT_SACK      5
#define HXS_TCPOPT_TS        8

struct hxs_tcp_opts {
	uint8_t has_mss, has_ws, sack_perm, has_ts;
	uint16_t mss;
	uint8_t ws;
	uint8_t nsack;
	uint32_t tsval, tsecr;
	struct hxs_sack_range sack[4];
};
/* Parses the options area; 0, or -EINVAL if malformed (length 0/1, overrunning the area, a
 * known option with the wrong length). Never reads outside [p, p + len). */
int hxs_tcp_opt__parse(const uint8_t *p, uint32_t len, struct hxs_tcp_opts *o);
/* Writes options (NOP-padded to a multiple of 4); returns bytes written (<= 40). SACK blocks
 * beyond the room left are not written. */
uint32_t hxs_tcp_opt__write(uint8_t *p, const struct hxs_tcp_opts *o, int syn);

/* --- a parsed incoming segment -------------------------------------------------------------- */
struct hxs_tcp_seg {
	uint32_t seq, ack;
	uint32_t wnd;              /* raw 16-bit field */
	uint8_t flags;
	uint16_t sport, dport;     /* host order */
	struct hxs_addr saddr, daddr;
	const uint8_t *data;
	uint32_t len;              /* payload bytes */
	uint32_t optlen;           /* bytes of options */
	uint16_t up;               /* urgent pointer field, host order */
	uint8_t ecn;               /* the IP header's ECN field (HXS_IP_ECN_*) */
	uint8_t cookie_ok;         /* HXS_TCP_IN_COOKIE_OK */
	struct hxs_tcp_opts opt;
};
/* Sequence space a segment occupies (SYN and FIN count one each). */
static inline uint32_t hxs_tcp_seg_seqlen(const struct hxs_tcp_seg *s)
{
	return s->len + !!(s->flags & HXS_TH_SYN) + !!(s->flags & HXS_TH_FIN);
}

/* --- buffer memory (tcp_mem.c) ------------------------------------------------------------ */
/* Rings hold their bytes in chunks of HXS_TCP_CHUNK taken from the instance's pool when data
 * needs them and given back when it drains, so an idle connection holds no buffer memory. A
 * ring's chunk table (one pointer per chunk of its capacity) comes and goes with its first
 * and last chunk; tables come in size classes (powers of two from HXS_TCP_TAB_SLOTS slots)
 * and are cached like chunks. */
#define HXS_TCP_CHUNK_SHIFT 12
#define HXS_TCP_CHUNK       (1u << HXS_TCP_CHUNK_SHIFT)
#define HXS_TCP_TAB_SLOTS   64               /* the smallest table: a 256 KiB ring */
#define HXS_TCP_TAB_CLASSES 8                /* tables of 64 << k slots are cached (32 MiB) */

struct hxs_tcp_mem {
	void *free_chunks;         /* cached chunks, linked through their first word */
	void *free_tabs[HXS_TCP_TAB_CLASSES];  /* cached tables by size class, likewise */
	uint32_t nfree_chunks;
	uint64_t cached;           /* bytes of the cached chunks and tables */
	uint64_t bytes;            /* chunks and tables rings hold now */
	uint8_t pressure;          /* between mem_pressure and back below mem_low */
};
/* A chunk of HXS_TCP_CHUNK bytes for a ring, or NULL when mem_max would be passed (or malloc
 * failed). Enters pressure (TCPMemoryPressures) when the bytes held reach mem_pressure.
 * hxs_tcp_chunk_get() (inline, below struct hxs_tcp) takes a cached chunk when that changes
 * nothing else; hxs_tcp_chunk_get_slow() does all of it. */
uint8_t *hxs_tcp_chunk_get_slow(struct hxs_tcp *tcp);
void hxs_tcp_chunk_put(struct hxs_tcp *tcp, uint8_t *p);
/* A zeroed table of n slots, or NULL (as for chunks). */
uint8_t **hxs_tcp_tab_get(struct hxs_tcp *tcp, uint32_t n);
void hxs_tcp_tab_put(struct hxs_tcp *tcp, uint8_t **tab, uint32_t n);
/* Frees the cached chunks and tables (hxs_tcp__free, and when mem_cache shrinks). */
void hxs_tcp_mem_trim(struct hxs_tcp *tcp, uint64_t keep);
/* No chunk can be had without passing mem_max. */
int hxs_tcp_mem_exhausted(const struct hxs_tcp *tcp);

/* --- byte rings (tcp_buf.c) --------------------------------------------------------------- */
struct hxs_tcp_ring {
	uint8_t **chunk;           /* slot table, NULL while no chunk is held */
	uint32_t cap, head, len;   /* bytes [head, head+len) modulo cap are valid; cap 0: unset */
	uint32_t hi;               /* bytes from head that may hold data: len, or more when
	                            * out-of-order bytes were written beyond it */
	uint32_t nchunks;          /* chunks held */
	uint32_t backed;           /* every byte of [head, head + backed) has its chunk */
	struct hxs_tcp_ring *dnext, **dpprev;   /* on a drained list (dpprev != NULL) */
};
/* A ring that drains keeps its table and one chunk (the next bytes need no allocation) and
 * joins the instance's drained list; hxs_tcp_buf_sweep() gives them back between
 * HXS_TCP_BUF_KEEP_US and twice that later if the ring is still empty (at once under
 * memory pressure). */
#define HXS_TCP_BUF_KEEP_US 100000ull
/* Sets up the sweep's timer (hxs_tcp__new). */
void hxs_tcp_buf_init(struct hxs_tcp *tcp);
/* Sets the capacity; no memory is taken until hxs_tcp_ring__reserve(). */
void hxs_tcp_ring__init(struct hxs_tcp_ring *r, uint32_t cap);
/* Gives every chunk back and unsets the ring (cap 0). */
void hxs_tcp_ring__free(struct hxs_tcp *tcp, struct hxs_tcp_ring *r);
/* Makes sure the n bytes `off` bytes after head have memory; returns how many of them,
 * from off on, do (fewer when the pool refuses a chunk). */
uint32_t hxs_tcp_ring__reserve_slow(struct hxs_tcp *tcp, struct hxs_tcp_ring *r, uint32_t off, uint32_t n);
/* Appends n bytes, reserved before; returns n. */
uint32_t hxs_tcp_ring__append(struct hxs_tcp_ring *r, const void *p, uint32_t n);
/* Copies n bytes starting `off` bytes after head (written before: within len, or beyond it
 * where reassembly wrote). */
void hxs_tcp_ring__read(const struct hxs_tcp_ring *r, uint32_t off, void *p, uint32_t n);
/* hxs_tcp_ring__read() that also returns the RFC 1071 partial sum of the n bytes (as
 * hxs_csum_add(0, p, n) would), summed while they are copied. */
uint32_t hxs_tcp_ring__read_csum(const struct hxs_tcp_ring *r, uint32_t off, void *p, uint32_t n);
/* Writes n bytes at off (reserved before). */
void hxs_tcp_ring__write(struct hxs_tcp_ring *r, uint32_t off, const void *p, uint32_t n);
/* Drops n bytes at head; chunks that hold nothing any more go back to the pool. */
void hxs_tcp_ring__consume_slow(struct hxs_tcp *tcp, struct hxs_tcp_ring *r, uint32_t n);
/* Changes the capacity keeping the content; -EINVAL if the content does not fit, -ENOBUFS
 * if no memory. */
int hxs_tcp_ring__resize(struct hxs_tcp *tcp, struct hxs_tcp_ring *r, uint32_t cap);

/* --- out-of-order ranges (tcp_reass.c) ---------------------------------------------------- */
#define HXS_REASS_MAX 32
struct hxs_tcp_reass {
	struct { uint32_t start, end, age; } r[HXS_REASS_MAX]; /* sorted, disjoint, above rcv_nxt */
	uint32_t n;
	uint32_t clock;            /* bumps on every insert; the freshest range is SACKed first */
	uint32_t fin_seq;
	uint8_t has_fin;           /* a FIN arrived out of order at fin_seq */
	uint32_t bytes;            /* sum of the ranges' lengths (counted in tcp->ofo_bytes) */
};

/* --- the connection ------------------------------------------------------------------------- */
enum hxs_tcp_recovery { HXS_REC_NONE = 0, HXS_REC_NEWRENO, HXS_REC_SACK };

struct hxs_tcp_conn {
	struct hxs_tcp *tcp;
	struct hxs_tcp_conn *hnext;        /* 4-tuple hash chain, or listener list */
	struct hxs_tcp_conn *dnext;        /* dirty list (output pending) */
	struct hxs_tcp_conn *listener;     /* SYN_RECEIVED child: the listener it came from */
	struct hxs_tcp_conn *qnext;        /* SYN- or accept-queue link */
	struct hxs_tcp_conn **qpprev;      /* the link pointing at us: O(1) unlink */
	struct hxs_tcp_conn *tw_next;      /* TIME-WAIT list, oldest first (tcp->tw_head) */
	struct hxs_tcp_conn **tw_pprev;    /* NULL: not on it */
	void *user;                        /* the socket layer's pointer */
	uint32_t user_mark;                /* the socket layer's bits (hxs_tcp_conn__set_mark) */

	struct hxs_addr laddr, raddr;      /* IPv4 as ::ffff:a.b.c.d */
	uint16_t lport, rport;             /* host order */
	uint8_t state;
	uint8_t in_table : 1, dirty : 1, user_ref : 1, passive : 1, in_acceptq : 1,
		nodelay : 1, keepalive : 1, rd_shut : 1;
	uint8_t fin_queued : 1, ts_ok : 1, sack_ok : 1, ws_ok : 1, ack_now : 1,
		user_closed : 1, rtt_timing : 1, rcv_wnd_zero : 1;
	uint8_t dsack : 1;                 /* a D-SACK block is due (RFC 2883) */
	uint8_t ack_held : 1;              /* the due ACK waits for the end of the input batch */
	uint8_t ack_defer : 1;             /* the due ACK waits one poll: the user may answer */
	uint8_t v6only : 1;                /* a listener on :: takes IPv6 only (IPV6_V6ONLY) */
	uint8_t syn_rxt : 1;               /* our SYN or SYN,ACK was sent more than once (Karn) */
	uint8_t syn_rto : 1;               /* the timer expired awaiting the SYN's ACK (6298 §5.7) */
	uint8_t fin_rcvd : 1;              /* the peer's FIN was taken (the kernel's SOCK_DONE) */
	uint8_t invalid_acked : 1;         /* invalid_ack_at holds a time */
	uint8_t cwnd_limited : 1;          /* cwnd limited what was sent in this window (output) */
	uint8_t snd_wscale, rcv_wscale;
	uint8_t backoff;                   /* consecutive RTO expiries */
	uint8_t persist_shift, probes_out, keep_probes, recovery, rec_first, rescue_done;
	int soerror;                       /* pending error, positive errno */

	/* send sequence space (§3.3.1 Figure 3) */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
	uint32_t snd_buf_seq;              /* sequence number of sndbuf's first byte */
	/* receive sequence space (Figure 4) */
	uint32_t irs, rcv_nxt, rcv_adv;    /* rcv_adv: right edge last advertised */
	uint32_t last_ack_sent;
	uint32_t dsack_start, dsack_end;
	/* ACKs held to the end of the input batch (cfg.ack_batch, tcp_process.c ack_may_wait) */
	uint32_t dup_rcv_nxt;              /* RCV.NXT the duplicate ACKs below were for */
	uint16_t dup_acks_sent;            /* duplicate ACKs sent at once for dup_rcv_nxt */
	uint16_t segs_unacked;             /* data segments taken since the last ACK went */

	uint32_t mss;                      /* payload bytes a segment carries (SMSS less options) */
	uint32_t peer_mss, adv_mss, user_mss, rcv_mss;
	uint32_t ack_mss;                  /* the peer's segment size as measured (delayed ACK) */
	uint32_t last_seg_len;             /* a smaller segment's length, to see it twice */
	uint32_t sndbuf_size, rcvbuf_size;
	struct hxs_tcp_ring snd, rcv;
	struct hxs_tcp_reass reass;

	/* RFC 7323 */
	uint32_t ts_recent, ts_offset;
	uint64_t ts_recent_age;            /* us */

	/* RFC 6298 */
	uint32_t srtt_us, rttvar_us, rto_us;
	uint32_t rtt_seq;
	uint64_t rtt_start;

	/* congestion control and recovery */
	struct hxs_cc cc;
	struct hxs_sack_board sb;
	uint32_t dupacks, recover, high_rxt;
	uint32_t una_rxt_mark;             /* snd_max when the segment at snd_una was last retransmitted */
	uint64_t last_send;                /* for RFC 5681 §4.1 idle restart */
	struct hxs_rack rk;                /* RACK-TLP, PRR, undo (tcp_rack.c) */
	uint32_t max_flight;               /* most bytes in flight in this window, and the window: */
	uint32_t cwnd_usage_seq;           /* it ends when SND.UNA reaches this (RFC 7661 §4.3) */
	/* delivery rate and pacing (tcp_rate.c, tcp_pacing.c) */
	struct hxs_tcp_rate rate;
	uint64_t pace_next;                /* us: the next data segment may leave at this time */
	struct hxs_timer t_pace;           /* armed for pace_next while pacing holds data back */
	struct hxs_timer t_cork;           /* TCP_CORK's 200 ms ceiling on a held partial segment */
	uint8_t cork;                      /* TCP_CORK: partial segments wait (tcp_output.c) */
	uint8_t cork_push;                 /* the ceiling passed: what waits goes once */
	uint8_t pingpong;                  /* TCP_QUICKACK 0 (Linux's pingpong mode): reported
					    * only, hxs's delayed ACKs do not change with it */

	/* timers */
	struct hxs_timer t_rexmt, t_persist, t_delack, t_keep, t_2msl;
	uint64_t last_rcv;                 /* for keepalive idleness */
	uint32_t keep_idle_s, keep_intvl_s, keep_cnt;
	int linger_s;                      /* -1: off */

	/* listener */
	uint32_t backlog, synq_len, acceptq_len;
	uint8_t synq_pressure;             /* SYN queue filled up, not yet drained to half */
	uint64_t cookie_until;             /* cookie ACKs are checked until then (us) */
	struct hxs_tcp_conn *aq_head, *aq_tail, *sq_head;

	uint32_t ev_last;                  /* readiness last reported through on_event */
	uint64_t invalid_ack_at;           /* last challenge ACK or answer to an invalid segment */

	/* the XDP fast path (tcp_fastpath.c) */
	struct hxs_slot *slot;             /* shared with XDP; NULL: none */
	uint32_t slot_id, slot_gen;        /* its id and gen (tcp->by_slot), with slot */
	struct hxs_tcp_conn *fp_next, **fp_pprev;  /* tcp->fp_head: data in flight */
	uint16_t fp_n;                     /* the ack word's ACK count last taken */
	uint8_t fp_ready;                  /* the ack word was set to SND.UNA once */

	/* the rest of an ACK's processing, left until the answer is handed to tx.send (tcp_ack_rest.c) */
	struct hxs_tcp_conn *ar_next, **ar_pprev;  /* tcp->ar_head; ar_pprev: work pending */
	uint64_t ar_now;                   /* the ACK's time */
	uint32_t ar_acked, ar_rtt;         /* what process_ack() measured for it */
	uint32_t ar_ack, ar_tsecr;         /* its SEG.ACK, and TSecr (0: none) */
	uint8_t ar_output;                 /* the input's output (nothing to send) is in the rest */
	uint8_t ar_publish;                /* and its slot publish, no segment published since */

	/* tcp_info */
	uint64_t total_retrans, bytes_acked, bytes_received, segs_out, segs_in;
	uint64_t bytes_sent;                /* payload bytes sent, retransmissions included */

	/* --- ECN, RFC 3168 (tcp_ecn.c) --- */
	uint8_t ecn_ok : 1;                /* negotiated (or our SYN asked and no answer yet) */
	uint8_t ecn_demand_cwr : 1;        /* CE received: ECE on every segment until CWR */
	uint8_t ecn_queue_cwr : 1;         /* CWR goes on the next new data segment */
	uint8_t ecn_seen : 1;              /* an ECT or CE segment arrived (TCPI_OPT_ECN_SEEN) */
	uint8_t ecn_cwr : 1;               /* cwnd was reduced for ECE in this window */
	uint8_t ecn_syn_sent : 1;          /* our first SYN asked for ECN (ECE, CWR) */
	uint8_t tos;                       /* IP_TOS less the ECN field */
	uint8_t ttl;                       /* IP_TTL; 0: the IP layer's default (64) */
	/* TCP_USER_TIMEOUT (RFC 5482), tcp_timer.c: how long sent data may stay unacknowledged
	 * (and a zero window be probed) before the connection is aborted with ETIMEDOUT; 0: off
	 * (RTO count, tcp_retries2, decides). */
	uint32_t user_timeout_ms;
	uint64_t una_since;                /* the oldest unacknowledged data counts from here
					    * (first sent with nothing outstanding, or the last
					    * ACK of new data) */
	uint64_t probe_since;              /* the first zero-window probe timer fire of this
					    * closed window (Linux's icsk_probes_tstamp); 0 none */
	uint32_t ecn_high_seq;             /* the reduction's window ends when SND.UNA reaches it */
	uint32_t delivered_ce;             /* segments acknowledged by ACKs with ECE */

	/* --- urgent data, RFC 9293 §3.8.5 / RFC 6093 (tcp_urg.c) --- */
	uint8_t urg_mode : 1;              /* snd_up not yet acknowledged */
	uint8_t oobinline : 1;             /* SO_OOBINLINE */
	uint8_t urg_state;                 /* HXS_URG_*: the received urgent byte */
	uint8_t urg_byte;
	uint32_t snd_up;                   /* one past our urgent byte (RFC 6093 §4, as Linux) */
	uint32_t rcv_up;                   /* sequence number of the peer's urgent byte */

	/* --- path MTU, RFC 4821 / RFC 1191 (tcp_pmtu.c); MTUs are IP packet sizes --- */
	uint8_t mtup_on : 1;               /* probing (the kernel's icsk_mtup.enabled) */
	uint32_t pmtu;                     /* the kernel's route MTU; 0: the interface's */
	uint32_t mtup_low, mtup_high;      /* search range: known to work / not known to fail */
	uint32_t mtup_probe;               /* MTU of the probe in flight; 0: none */
	uint32_t mtup_probe_seq, mtup_probe_end;
	uint64_t mtup_ts;                  /* the search last moved (re-search after 10 min) */
};

/* urg_state: no urgent pointer; pointer known, byte not arrived; byte held; byte read. */
enum { HXS_URG_NONE = 0, HXS_URG_NOTYET, HXS_URG_VALID, HXS_URG_READ };
/* The ECN field (RFC 3168 §5). */
enum { HXS_IP_ECN_NOT_ECT = 0, HXS_IP_ECN_ECT1 = 1, HXS_IP_ECN_ECT0 = 2, HXS_IP_ECN_CE = 3 };

/* --- the stack --------------------------------------------------------------------------- */
struct hxs_tcp {
	struct hxs_tcp_cfg cfg;
	struct hxs_tcp_tx_ops tx;
	struct hxs_tcp_ev_ops ev;
	void *ctx;
	struct hxs_wheel wheel;
	struct hxs_tcp_conn **htab;
	uint32_t hmask;
	struct hxs_tcp_conn **by_slot;     /* connections by slot id (demux metadata), grown */
	uint32_t nby_slot;                 /* to the highest id seen; NULL entries: none */
	uint8_t hkey[16];                  /* SipHash key of the 4-tuple table (tuple_hash) */
	uint32_t nconns;
#define HXS_TCP_LHASH 256
	struct hxs_tcp_conn *lhash[HXS_TCP_LHASH];  /* listeners by local port */
	uint32_t nlisteners;
	struct hxs_tcp_conn *dirty_head;
	/* ACKs due now that input left to the next hxs_tcp__poll() (cfg.ack_batch: the end of
	 * the input batch) since the last one: hxs_tcp__acks_waiting() */
	uint32_t acks_waiting;
	uint8_t chack_key[16];             /* draws the challenge-ACK budget (tcp_seg.c) */
	uint64_t chack_second;             /* the second the budget is for */
	uint32_t chack_left;               /* challenge ACKs left in that second */
	uint8_t chack_valid;
	uint64_t now;                      /* last time given by the caller */
	uint64_t mib[HXS_TCP_MIB__COUNT];
	uint64_t conns_alloc, conns_freed;
	struct hxs_tcp_conn *tw_head, **tw_tail;  /* TIME-WAIT connections, oldest first */
	uint32_t ntw;
	uint64_t ofo_bytes;                /* out-of-order bytes held, every connection */
	struct hxs_tcp_mem mem;
	struct hxs_tcp_ring *drained[2];   /* rings that drained: this period's, the last one's */
	uint8_t drained_cur;
	struct hxs_timer t_sweep;          /* gives the last period's drained rings' memory back */
	uint64_t res[HXS_TCP_RES__COUNT];  /* hxs_tcp__res() */
	struct hxs_isn isn;
	uint64_t cookie_key[2][2];         /* SYN-cookie keys (struct hxs_cookie_secret's) */
	uint32_t cookie_cur;
	const struct hxs_tcp_timer_fns *timer_fns; /* expiry handlers (tcp_timer.c) */
	struct hxs_tcp_conn *fp_head;      /* connections with a slot and data in flight */
	struct hxs_tcp_conn *ar_head;      /* connections with an ACK's rest pending (tcp_ack_rest.c) */
	uint8_t fp_off;                    /* the fast path is off: F_FAST never set */
	uint8_t ecn;                       /* tcp_ecn in force: 0, 1, 2 (tcp_ecn.c) */
	uint8_t mtu_probing;               /* tcp_mtu_probing in force: 0, 1, 2 (tcp_pmtu.c) */
};

#define MIB_INC(tcp, m) ((tcp)->mib[HXS_TCP_MIB_##m]++)
#define MIB_DEC(tcp, m) ((tcp)->mib[HXS_TCP_MIB_##m]--)

/* Every segment that crosses into a new chunk comes here: a cached chunk, within mem_max and
 * not reaching mem_pressure (or already under pressure), is a pointer pop and the counts. */
static inline uint8_t *hxs_tcp_chunk_get(struct hxs_tcp *tcp)
{
	struct hxs_tcp_mem *m = &tcp->mem;
	uint8_t *p = m->free_chunks;
	uint64_t b = m->bytes + HXS_TCP_CHUNK;

	if (p && b <= tcp->cfg.mem_max && (m->pressure || b < tcp->cfg.mem_pressure)) {
		m->free_chunks = *(void **)p;
		m->nfree_chunks--;
		m->cached -= HXS_TCP_CHUNK;
		m->bytes = b;
		return p;
	}
	return hxs_tcp_chunk_get_slow(tcp);
}

/* The rings' fast paths (tcp_buf.c has the rest): a segment's bytes into chunks already
 * there, bytes acked or read without a chunk to give back. */
static inline uint32_t hxs_tcp_ring__reserve(struct hxs_tcp *tcp, struct hxs_tcp_ring *r,
					     uint32_t off, uint32_t n)
{
	/* the common case: bytes appended where chunks are (a ring holding data, or drained a
	 * moment ago) */
	uint32_t b = r->backed;
	if (off + n <= b)
		return n;
	/* the next common one: an append running past them into the chunk that starts there
	 * (hxs_tcp_ring__reserve_slow() gives the same result, and handles every other case) */
	if (off <= b && b < r->cap && r->chunk) {
		uint32_t pos = r->head + b;
		if (pos >= r->cap)
			pos -= r->cap;
		uint32_t k = r->cap - pos < HXS_TCP_CHUNK ? r->cap - pos : HXS_TCP_CHUNK;
		if (!(pos & (HXS_TCP_CHUNK - 1)) && off + n <= b + k) {
			uint8_t **slot = &r->chunk[pos >> HXS_TCP_CHUNK_SHIFT];
			if (!*slot && (*slot = hxs_tcp_chunk_get(tcp)))
				r->nchunks++;
			if (*slot) {
				r->backed = b + k < r->cap ? b + k : r->cap;
				return n;
			}
		}
	}
	return hxs_tcp_ring__reserve_slow(tcp, r, off, n);
}

static inline void hxs_tcp_ring__consume(struct hxs_tcp *tcp, struct hxs_tcp_ring *r, uint32_t n)
{
	if (n > r->len)
		n = r->len;
	uint32_t head = r->head + n;
	if (head >= r->cap)
		head -= r->cap;
	if (r->hi > n) {
		/* data stays: within the same chunk, no chunk is left behind */
		if (head >= r->head && (head >> HXS_TCP_CHUNK_SHIFT) == (r->head >> HXS_TCP_CHUNK_SHIFT)) {
			r->head = head;
			r->len -= n;
			r->hi -= n;
			r->backed = r->backed > n ? r->backed - n : 0;
			return;
		}
	} else if (n && r->nchunks == 1 && r->dpprev && !tcp->mem.pressure) {
		/* drained again while on the drained list, its one chunk kept: head moves to
		 * that chunk's start (the chunk of the last byte read) */
		uint32_t last = head ? head - 1 : r->cap - 1;
		r->head = last & ~(HXS_TCP_CHUNK - 1);
		r->backed = r->cap - r->head < HXS_TCP_CHUNK ? r->cap - r->head : HXS_TCP_CHUNK;
		r->len = 0;
		r->hi = 0;
		return;
	}
	hxs_tcp_ring__consume_slow(tcp, r, n);
}

/* Connections that count against max_conns (the table less TIME-WAIT). */
static inline uint32_t hxs_tcp_nconns_live(const struct hxs_tcp *tcp)
{
	return tcp->nconns - tcp->ntw;
}

/* tcp_table.c */
struct hxs_tcp_conn *hxs_tcp_lookup_addr(struct hxs_tcp *tcp, struct hxs_addr laddr, uint16_t lport,
					 struct hxs_addr raddr, uint16_t rport);
/* IPv4 (tests, tools) */
struct hxs_tcp_conn *hxs_tcp_lookup(struct hxs_tcp *tcp, uint32_t laddr, uint16_t lport,
				    uint32_t raddr, uint16_t rport);
struct hxs_tcp_conn *hxs_tcp_lookup_listener(struct hxs_tcp *tcp, struct hxs_addr laddr, uint16_t lport);
/* IP and TCP header bytes of c's segments: 40 for IPv4, 60 for IPv6 (40 before the peer is
 * known, as before IPv6). */
static inline uint32_t hxs_tcp_hdrs(const struct hxs_tcp_conn *c)
{
	return hxs_addr_is_any6(c->raddr) ? 40 : hxs_addr_iph_len(c->raddr) + 20;
}
/* Does listener l take segments to laddr (its own address, or its wildcard's family)? */
int hxs_tcp_listener_takes(const struct hxs_tcp_conn *l, struct hxs_addr laddr);
/* The same for a binding of address bound (v6only: IPV6_V6ONLY on a ::). */
int hxs_tcp_addr_takes(struct hxs_addr bound, int v6only, struct hxs_addr a);
/* Enters c into the table and tells on_tuple; 0, or on_tuple's error (c is left out). */
int hxs_tcp_hash_insert(struct hxs_tcp_conn *c);
/* Connections by slot id (tcp_table.c): the XDP program names a known connection's {slot, gen}
 * in the frame's metadata. insert: -ENOMEM leaves the connection to the hash; lookup_slot:
 * the connection holding slot id at gen if its 4-tuple is the segment's, else the hash's. */
int hxs_tcp_slot_insert(struct hxs_tcp_conn *c, uint32_t id, uint32_t gen);
void hxs_tcp_slot_remove(struct hxs_tcp_conn *c);
struct hxs_tcp_conn *hxs_tcp_lookup_slot_miss(struct hxs_tcp *tcp, struct hxs_addr laddr,
					      uint16_t lport, struct hxs_addr raddr, uint16_t rport);
/* inline: every segment of a known connection comes this way */
static inline struct hxs_tcp_conn *hxs_tcp_lookup_slot(struct hxs_tcp *tcp, uint32_t id, uint32_t gen,
						       const struct hxs_addr *laddr, uint16_t lport,
						       const struct hxs_addr *raddr, uint16_t rport)
{
	struct hxs_tcp_conn *c = id < tcp->nby_slot ? tcp->by_slot[id] : NULL;

	if (c && c->slot_gen == gen && c->in_table && c->lport == lport && c->rport == rport &&
	    !memcmp(c->raddr.b, raddr->b, 16) && !memcmp(c->laddr.b, laddr->b, 16)) {
		MIB_INC(tcp, HxsTcpDemuxBySlot);
		return c;
	}
	return hxs_tcp_lookup_slot_miss(tcp, *laddr, lport, *raddr, rport);
}
void hxs_tcp_hash_remove(struct hxs_tcp_conn *c);
void hxs_tcp_listener_insert(struct hxs_tcp_conn *l);
void hxs_tcp_listener_remove(struct hxs_tcp_conn *l);

/* tcp_lifecycle.c */
struct hxs_tcp_conn *hxs_tcp_conn_alloc(struct hxs_tcp *tcp);
/* Frees the object when nothing holds it any more: CLOSED, unowned, out of every list. */
void hxs_tcp_conn_maybe_free(struct hxs_tcp_conn *c);
/* Frees the object and its rings at once (hxs_tcp__free; hxs_tcp_conn_maybe_free). */
void hxs_tcp_conn_destroy(struct hxs_tcp_conn *c);
/* Also keeps the TIME-WAIT list: entering TIME-WAIT with max_tw entries held recycles the
 * oldest (TCPTimeWaitOverflow). */
void hxs_tcp_set_state(struct hxs_tcp_conn *c, uint8_t state);
/* May one more connection be made? 0, or -ENOBUFS counted: max_conns reached
 * (HxsTcpConnLimitDrops) or buffer memory under pressure (HxsTcpMemRefused). */
int hxs_tcp_admit(struct hxs_tcp *tcp);
/* Moves to CLOSED with an error (0 for none), cancels timers, unhashes, frees when unowned. */
void hxs_tcp_close_conn(struct hxs_tcp_conn *c, int err);
/* Puts c on the dirty list, which hxs_tcp__poll() drains (output, notify); inline: every
 * predicted segment of a batch comes here. */
static inline void hxs_tcp_mark_dirty(struct hxs_tcp_conn *c)
{
	if (c->dirty)
		return;
	c->dirty = 1;
	c->dnext = c->tcp->dirty_head;
	c->tcp->dirty_head = c;
}
/* The usual case of hxs_tcp_conn__events(), every notify of a data exchange: what the rest
 * comes to for an ESTABLISHED connection without error, urgent data, shutdown or FIN queued.
 * 1 and *m if it is that case. */
static inline int hxs_tcp_events_usual(const struct hxs_tcp_conn *c, uint32_t *m)
{
	if (c->state != HXS_TCPS_ESTABLISHED || c->soerror || c->urg_state != HXS_URG_NONE ||
	    c->rd_shut || c->fin_queued)
		return 0;
	*m = (c->rcv.len ? EPOLLIN : 0) |
	     (3ull * (c->snd.cap - c->snd.len) >= c->snd.cap ? EPOLLOUT : 0);
	return 1;
}
/* Tells the socket layer (ev.on_event) what c's readiness gained (every change without
 * cfg.notify_gains). Inline: most notifies of a data exchange find it unchanged. */
void hxs_tcp_notify_slow(struct hxs_tcp_conn *c);
/* hxs_tcp_notify() once the readiness m is known, and differs from the last told */
void hxs_tcp_notify_events(struct hxs_tcp_conn *c, uint32_t m);
static inline void hxs_tcp_notify(struct hxs_tcp_conn *c)
{
	uint32_t m;

	if (c->user_ref && hxs_tcp_events_usual(c, &m)) {
		if (m != c->ev_last)
			hxs_tcp_notify_events(c, m);
		return;
	}
	hxs_tcp_notify_slow(c);
}
uint32_t hxs_tcp_isn(struct hxs_tcp *tcp, struct hxs_addr laddr, uint16_t lport, struct hxs_addr raddr,
		     uint16_t rport, uint64_t now);
/* Options offered, window scale and MSS of a fresh connection. */
void hxs_tcp_conn_setup(struct hxs_tcp_conn *c);
/* Sets up the send and receive rings (at connect, or when a passive connection is
 * established); their memory comes as data needs it. 0. */
int hxs_tcp_conn_bufs(struct hxs_tcp_conn *c);
/* Receive buffer capacity (before the ring is set up: its configured size). */
static inline uint32_t hxs_tcp_rcv_cap(const struct hxs_tcp_conn *c)
{
	return c->rcv.cap ? c->rcv.cap : c->rcvbuf_size;
}
/* Child of a listener accepted into the accept queue. */
void hxs_tcp_acceptq_add(struct hxs_tcp_conn *l, struct hxs_tcp_conn *c);
/* A new SYN-RECEIVED child enters its listener's SYN queue. */
void hxs_tcp_synq_add(struct hxs_tcp_conn *l, struct hxs_tcp_conn *c);
/* Takes c out of its listener's SYN or accept queue in O(1) (counts adjusted, no notify). */
void hxs_tcp_queue_unlink(struct hxs_tcp_conn *c);
void hxs_tcp_child_unlink(struct hxs_tcp_conn *c);

/* tcp_syncookie.c */
/* The listener's SYN queue is full: answers the SYN with a cookie SYN-ACK. 0, or -1 when
 * cookies are off (the caller drops the SYN). */
int hxs_tcp_syncookie_syn(struct hxs_tcp_conn *l, const struct hxs_tcp_seg *s, uint64_t now);
/* An ACK to listener l without a connection: 1 if it carries a valid cookie (*o decoded), 0
 * if cookies are not in use there, -1 invalid (SyncookiesFailed). */
struct hxs_sc_opts;
int hxs_tcp_syncookie_ack(struct hxs_tcp_conn *l, const struct hxs_tcp_seg *s, uint64_t now,
			  struct hxs_sc_opts *o);
/* Cookies a listener sent stay acceptable this long after the last one (two periods). */
#define HXS_TCP_COOKIE_VALID_US (2ull * 64 * 1000000)

/* tcp_lifecycle.c: SYN queue pressure, on when it fills, off when it drains to half
 * (ev.on_synq). */
void hxs_tcp_synq_pressure(struct hxs_tcp_conn *l, int on);
/* The default secret, derived from cfg.isn_secret (hxs_tcp__new). */
void hxs_tcp_syncookie_init(struct hxs_tcp *tcp);

/* tcp_output.c */
/* Sends what the connection may send now (SYN, recovery retransmissions, data, FIN, ACK). */
void hxs_tcp_output(struct hxs_tcp_conn *c, uint64_t now);

/* tcp_seg.c */
/* Emits one segment of the connection: seq, flags, `len` payload bytes taken from the send
 * ring at seq (when len > 0). Returns 0 or -ENOBUFS. */
int hxs_tcp_send_seg(struct hxs_tcp_conn *c, uint32_t seq, uint8_t flags, uint32_t len, uint64_t now);
/* The most payload a data segment sent now may carry: c->mss less the SACK blocks it will
 * carry (RFC 9293 §3.7.1), so that header, options and data fit the MTU. Inline for the usual
 * case, no block due; hxs_tcp_send_mss_sack() (tcp_seg.c) counts them. */
uint32_t hxs_tcp_send_mss_sack(const struct hxs_tcp_conn *c);
static inline uint32_t hxs_tcp_send_mss(const struct hxs_tcp_conn *c)
{
	if (!c->sack_ok || !(c->dsack | c->reass.n))
		return c->mss ? c->mss : 1;
	return hxs_tcp_send_mss_sack(c);
}
/* The SEQ of a segment that carries no data (an ACK, a RST hxs sends on its own). RFC 9293
 * §3.10.7.4: a segment whose SEQ lies beyond RCV.NXT + RCV.WND is not acceptable, and its
 * receiver drops it without looking at its ACK field. Past the right edge of the peer's window
 * (a window it shrank, or data it refused when its memory ran out), an ACK sent at SND.MAX
 * would never count, and two ends waiting for each other's ACKs stall for good; as Linux's
 * tcp_acceptable_seq(), such an ACK goes at the right edge, SND.UNA + SND.WND (SND.UNA itself
 * for a zero window). Not in SYN-RECEIVED: SND.UNA is still ISS there, while the window of the
 * peer's SYN counts from the octet after our SYN (its RCV.NXT, ISS + 1 = SND.MAX), the one SEQ
 * it accepts when that window is zero. */
static inline uint32_t hxs_tcp_ack_seq(const struct hxs_tcp_conn *c)
{
	uint32_t edge = c->snd_una + c->snd_wnd;

	return SEQ_GT(c->snd_max, edge) && c->state != HXS_TCPS_SYN_RECEIVED ? edge : c->snd_max;
}
void hxs_tcp_send_ack(struct hxs_tcp_conn *c, uint64_t now);
void hxs_tcp_send_challenge_ack(struct hxs_tcp_conn *c, uint64_t now);
/* 1 if the connection answered a segment it rejected less than 500 ms ago (Linux's
 * tcp_invalid_ratelimit); otherwise 0, and the answer about to go is the new reference. */
int hxs_tcp_invalid_ack_limited(struct hxs_tcp_conn *c, uint64_t now);
void hxs_tcp_send_rst_conn(struct hxs_tcp_conn *c, uint64_t now);
void hxs_tcp_send_rst(struct hxs_tcp *tcp, struct hxs_addr saddr, struct hxs_addr daddr, uint16_t sport,
		      uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags);
uint16_t hxs_tcp_csum_addr(struct hxs_addr saddr, struct hxs_addr daddr, const uint8_t *p, uint32_t len);
/* The same, the addresses by reference (the input path, which has them in memory). */
uint16_t hxs_tcp_csum_ptr(const struct hxs_addr *saddr, const struct hxs_addr *daddr, const uint8_t *p,
			  uint32_t len);
/* The same for a segment of len bytes whose first hlen (even) are at p and whose remaining
 * bytes have the partial sum data_sum (hxs_tcp_ring__read_csum()). */
uint16_t hxs_tcp_csum_split(struct hxs_addr saddr, struct hxs_addr daddr, const uint8_t *p,
			    uint32_t hlen, uint32_t len, uint32_t data_sum);
/* IPv4 (tests, tools) */
uint16_t hxs_tcp_csum(uint32_t saddr, uint32_t daddr, const uint8_t *p, uint32_t len);
uint32_t hxs_tcp_rcv_window(struct hxs_tcp_conn *c);
/* RFC 7323 §5.4: a 1 ms timestamp clock, the connection's offset added. */
static inline uint32_t hxs_tcp_ts_now(const struct hxs_tcp_conn *c, uint64_t now)
{
	return (uint32_t)(now / 1000) + c->ts_offset;
}
/* Sequence number one past the last byte of data queued (excluding FIN). */
static inline uint32_t hxs_tcp_snd_end(const struct hxs_tcp_conn *c)
{
	return c->snd_buf_seq + c->snd.len;
}

/* Our FIN is all that is left to send: queued, every byte of data sent and acknowledged, the
 * FIN itself neither acknowledged nor in flight (it waits for the window, or was taken back by
 * an RTO that found the window closed). */
static inline int hxs_tcp_fin_waits(const struct hxs_tcp_conn *c)
{
	uint32_t end = hxs_tcp_snd_end(c);
	return c->fin_queued && c->snd_nxt == end && c->snd_una == end &&
	       (c->state == HXS_TCPS_FIN_WAIT_1 || c->state == HXS_TCPS_CLOSING ||
		c->state == HXS_TCPS_LAST_ACK);
}

/* tcp_timer_arm.c */
/* Binds the connection's timers to the instance's expiry handlers; the initial RTO. */
void hxs_tcp_timers_init(struct hxs_tcp_conn *c);
void hxs_tcp_timers_cancel(struct hxs_tcp_conn *c);
void hxs_tcp_rexmt_arm(struct hxs_tcp_conn *c, uint64_t now);
void hxs_tcp_rexmt_restart(struct hxs_tcp_conn *c, uint64_t now);
void hxs_tcp_persist_arm(struct hxs_tcp_conn *c, uint64_t now);
void hxs_tcp_delack_arm(struct hxs_tcp_conn *c, uint64_t now);
void hxs_tcp_keep_arm(struct hxs_tcp_conn *c, uint64_t now);
void hxs_tcp_timewait_start(struct hxs_tcp_conn *c, uint64_t now);
void hxs_tcp_timewait_shrink(struct hxs_tcp_conn *c);
void hxs_tcp_rtt_sample(struct hxs_tcp_conn *c, uint32_t rtt_us);
uint32_t hxs_tcp_rto_backed_off(const struct hxs_tcp_conn *c);
/* RFC 6298 §5.7 at the end of the handshake (RTO 3 s after a SYN timeout, no sample). */
void hxs_tcp_rto_syn_reinit(struct hxs_tcp_conn *c);

/* tcp_timer.c */
/* The expiry handlers of a connection's timers. hxs_tcp__new() hands them to the instance
 * (tcp->timer_fns) and hxs_tcp_timers_init() binds them from there, so the files that arm
 * timers need not name the handlers, which call back into them. */
#define HXS_TCP_CORK_US 200000u    /* TCP_CORK's ceiling (tcp(7)) */

struct hxs_tcp_timer_fns {
	hxs_timer_fn rexmt, persist, delack, keep, tw, rack, pace, cork;
};
extern const struct hxs_tcp_timer_fns hxs_tcp_timer_fns;

/* tcp_reass.c */
/* Places payload at seq into the receive ring; returns 1 if it extended rcv_nxt (in order),
 * 0 if it was queued out of order or was a duplicate, -1 if dropped: no room for a range or
 * over an out-of-order limit (TCPOFODrop), or no buffer memory (TCPRcvQDrop in order). */
int hxs_tcp_reass_insert(struct hxs_tcp_conn *c, uint32_t seq, const uint8_t *p, uint32_t len);
/* The end of the out-of-order range SACKed first (the freshest); RCV.NXT when none. */
uint32_t hxs_tcp_reass_fresh_end(const struct hxs_tcp_conn *c);
/* Forgets the out-of-order ranges (the connection closes or its buffers go). */
void hxs_tcp_reass_clear(struct hxs_tcp_conn *c);
/* SACK blocks to send (RFC 2018 §4: the block holding the latest segment first). */
int hxs_tcp_reass_sack_blocks(const struct hxs_tcp_conn *c, struct hxs_sack_range *out, int max);
/* The first part of [seq, end) already held out of order: sets [*os, *oe), returns 1; 0 if
 * none of it is held. */
int hxs_tcp_reass_held(const struct hxs_tcp_conn *c, uint32_t seq, uint32_t end, uint32_t *os,
		       uint32_t *oe);

/* tcp_ack_rest.c - the rest of an ACK's processing once the answer is handed to tx.send. */
/* process_ack() (tcp_process.c) leaves the rest of c's ACK s (the delivery-rate sample,
 * RACK-TLP, congestion control) pending: c joins tcp->ar_head. Inline: every answer of a
 * request/response exchange. */
static inline void hxs_tcp_ack_rest_defer(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s,
					  uint32_t acked, uint32_t rtt, uint64_t now)
{
	struct hxs_tcp *tcp = c->tcp;

	c->ar_acked = acked;
	c->ar_rtt = rtt;
	c->ar_now = now;
	c->ar_ack = s->ack;
	c->ar_tsecr = s->opt.has_ts ? s->opt.tsecr : 0;
	if (c->ar_pprev)
		return;
	c->ar_next = tcp->ar_head;
	if (tcp->ar_head)
		tcp->ar_head->ar_pprev = &c->ar_next;
	tcp->ar_head = c;
	c->ar_pprev = &tcp->ar_head;
}
/* Runs c's pending rest (it must be pending) and takes c off the list. */
void hxs_tcp_ack_rest_run(struct hxs_tcp_conn *c);
/* Runs every connection's pending rest. */
void hxs_tcp_ack_rest_all(struct hxs_tcp *tcp);
/* Takes c off the list without running its rest: c is being freed. */
void hxs_tcp_ack_rest_drop(struct hxs_tcp_conn *c);
/* Before anything reads what the rest of c's last ACK changes (RACK's records and timer,
 * cwnd, the pacing rate, the rate sampler's app-limited mark; tcp_ack_rest.c lists who
 * calls it): that rest runs now if it is still pending. Inline: the usual answer is no. */
static inline void hxs_tcp_ack_rest(struct hxs_tcp_conn *c)
{
	if (c->ar_pprev)
		hxs_tcp_ack_rest_run(c);
}

/* tcp_fastpath.c */
/* Writes what XDP judges by into the slot (no-op without one): flags, RCV.NXT, the right edge
 * advertised, TS.Recent, SND.MAX raised to snd_max if that is higher (a segment about to be
 * queued), SND.UNA into the ack word; joins the flight list when data is in flight. */
void hxs_tcp_fp_publish(struct hxs_tcp_conn *c, uint32_t snd_max);
/* The stack processed an ACK itself: SND.UNA into the ack word (compare-and-swap, never
 * backwards); wnd is the segment's raw window field. */
void hxs_tcp_fp_una(struct hxs_tcp_conn *c, uint16_t wnd);
/* On and off tcp->fp_head (idempotent); inline: every send and every turn's look. */
static inline void hxs_tcp_fp_link(struct hxs_tcp_conn *c)
{
	struct hxs_tcp *tcp = c->tcp;

	if (c->fp_pprev)
		return;
	c->fp_next = tcp->fp_head;
	if (tcp->fp_head)
		tcp->fp_head->fp_pprev = &c->fp_next;
	tcp->fp_head = c;
	c->fp_pprev = &tcp->fp_head;
}

static inline void hxs_tcp_fp_unlink(struct hxs_tcp_conn *c)
{
	if (!c->fp_pprev)
		return;
	*c->fp_pprev = c->fp_next;
	if (c->fp_next)
		c->fp_next->fp_pprev = c->fp_pprev;
	c->fp_next = NULL;
	c->fp_pprev = NULL;
}
/* The slot goes (the connection leaves the table): off the flight list, pointer cleared. */
void hxs_tcp_fp_detach(struct hxs_tcp_conn *c);

/* tcp_fastpath_input.c */
/* Progress XDP made for c, through the ACK processing (before a segment of c is processed,
 * and from hxs_tcp__fp_poll). Returns 1 if c is gone. */
int hxs_tcp_fp_pickup(struct hxs_tcp_conn *c, uint64_t now);
/* A stretch ACK XDP consumed (nacks of them): SEG.ACK = ack, SEG.WND = wnd (raw), SEG.SEQ =
 * RCV.NXT, timestamps from the slot; the fifth step of §3.10.7.4 (check_ack) and output.
 * Returns 1 if the connection is gone. */
int hxs_tcp_fp_ack_input(struct hxs_tcp_conn *c, uint32_t ack, uint16_t wnd, uint32_t tsval,
			 uint32_t tsecr, uint16_t nacks, uint64_t now);

/* tcp_ecn.c - ECN (RFC 3168). */
/* Active open: whether the SYN asks (tcp_ecn = 1). */
void hxs_tcp_ecn_connect(struct hxs_tcp_conn *c);
/* A SYN (passive: hxs_tcp_listen_input) or SYN,ACK / SYN (active: syn_sent_input) arrived. */
void hxs_tcp_ecn_syn_in(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s);
/* The ECN bits of a segment about to go: TCP flags added to *flags, the TOS byte returned. */
uint8_t hxs_tcp_ecn_out_slow(struct hxs_tcp_conn *c, uint32_t seq, uint8_t *flags, uint32_t len);
static inline uint8_t hxs_tcp_ecn_out(struct hxs_tcp_conn *c, uint32_t seq, uint8_t *flags,
				      uint32_t len)
{
	/* without ECN a segment other than a SYN has no ECN bits: the TOS byte as set */
	if (!c->ecn_ok && !(*flags & HXS_TH_SYN))
		return c->tos;
	return hxs_tcp_ecn_out_slow(c, seq, flags, len);
}
/* A segment with text arrived in a synchronized state: CWR, then the IP ECN field. */
void hxs_tcp_ecn_data_in(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s);
/* After the ACK processing: ECE and the congestion response (once per window). */
void hxs_tcp_ecn_ack_in_slow(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint32_t acked,
			     uint32_t newly_sacked, uint64_t now);
static inline void hxs_tcp_ecn_ack_in(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s,
				      uint32_t acked, uint32_t newly_sacked, uint64_t now)
{
	/* no reduction's window open and no ECN: nothing to do */
	if (c->ecn_cwr || c->ecn_ok)
		hxs_tcp_ecn_ack_in_slow(c, s, acked, newly_sacked, now);
}
/* cwnd was already reduced for ECN in this window: loss recovery starting now must not halve
 * it again (RFC 3168 §6.1.2). */
int hxs_tcp_ecn_reduced(const struct hxs_tcp_conn *c);

/* tcp_urg.c - urgent data. */
/* The sequence number of the first byte not yet read (the kernel's copied_seq): the receive
 * ring holds the bytes in order up to RCV.NXT, which counts the FIN once it is taken. */
static inline uint32_t hxs_tcp_copied_seq(const struct hxs_tcp_conn *c)
{
	return c->rcv_nxt - c->rcv.len - (c->fin_rcvd ? 1u : 0u);
}
/* The next byte read is the urgent mark (SIOCATMARK). */
static inline int hxs_tcp_urg_atmark(const struct hxs_tcp_conn *c)
{
	return c->urg_state != HXS_URG_NONE && c->rcv_up == hxs_tcp_copied_seq(c);
}
/* The urgent pointer and URG flag of a segment about to go (non-SYN): sets *up, adds URG. */
void hxs_tcp_urg_out_slow(struct hxs_tcp_conn *c, uint32_t seq, uint8_t *flags, uint16_t *up);
static inline void hxs_tcp_urg_out(struct hxs_tcp_conn *c, uint32_t seq, uint8_t *flags, uint16_t *up)
{
	if (c->urg_mode)
		hxs_tcp_urg_out_slow(c, seq, flags, up);
}
/* §3.10.7.4 sixth: the URG bit of an acceptable segment (before its text is taken). */
void hxs_tcp_urg_in(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s);
/* After the text: the urgent byte, once it is in order, is taken aside. */
void hxs_tcp_urg_fetch_slow(struct hxs_tcp_conn *c);
static inline void hxs_tcp_urg_fetch(struct hxs_tcp_conn *c)
{
	if (c->urg_state == HXS_URG_NOTYET)
		hxs_tcp_urg_fetch_slow(c);
}
/* SND.UNA moved: urgent mode ends once the urgent pointer is acknowledged. */
static inline void hxs_tcp_urg_acked(struct hxs_tcp_conn *c)
{
	if (c->urg_mode && !SEQ_LT(c->snd_una, c->snd_up))
		c->urg_mode = 0;
}
/* Bytes at the head of the receive ring a read may take now, and whether the first of them is
 * the urgent byte to step over (not SO_OOBINLINE): *skip = 1. */
uint32_t hxs_tcp_urg_readable_slow(const struct hxs_tcp_conn *c, uint32_t avail, int *skip);
static inline uint32_t hxs_tcp_urg_readable(const struct hxs_tcp_conn *c, uint32_t avail, int *skip)
{
	*skip = 0;
	if (c->urg_state == HXS_URG_NONE)
		return avail;
	return hxs_tcp_urg_readable_slow(c, avail, skip);
}
/* A read consumed up to the receive ring's head: forget the mark once passed. */
static inline void hxs_tcp_urg_consumed(struct hxs_tcp_conn *c)
{
	if (c->urg_state != HXS_URG_NONE && SEQ_GT(hxs_tcp_copied_seq(c), c->rcv_up))
		c->urg_state = HXS_URG_NONE;
}
/* tcp_rate.c */
/* A data segment [seq, seq + len) leaves now (new or again). */
void hxs_tcp_rate_sent(struct hxs_tcp_conn *c, uint32_t seq, uint32_t len, uint64_t now);
/* An acceptable ACK arrives (before SND.UNA moves; pipe: in flight before it): what it
 * newly SACKs and acknowledges is delivered, the rate sample begun. */
void hxs_tcp_rate_ack(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint32_t pipe, uint64_t now);
/* hxs_tcp_rate_ack() for an ACK without SACK blocks that acknowledged [una, ack), run
 * later (the ACK's rest, tcp_ack_rest.c: SND.UNA may have moved to ack already). */
void hxs_tcp_rate_ack_cum(struct hxs_tcp_conn *c, uint32_t una, uint32_t ack, uint32_t pipe,
			  uint64_t now);
/* After loss detection for that ACK (pipe: in flight now): the sample completed, the
 * algorithm's cong_control. */
void hxs_tcp_cc_ack(struct hxs_tcp_conn *c, uint32_t pipe, uint64_t now);
/* Output stopped (pipe: in flight; unsent: bytes waiting): marks an application-limited
 * phase when the application caused it. */
static inline void hxs_tcp_rate_app_limited_at(struct hxs_tcp_conn *c, uint32_t unsent,
					       uint32_t pipe)
{
	struct hxs_tcp_rate *r = &c->rate;

	/* §3.4: less than one SMSS waiting to be sent, the flight below cwnd, no loss being
	 * repaired: the application, not the network, limits the sending. */
	if (unsent >= c->mss || c->recovery)
		return;
	if (pipe >= c->cc.cwnd)
		return;
	/* "C.app_limited = (C.delivered + C.inflight) ? : 1" */
	r->app_limited = r->delivered + pipe ? r->delivered + pipe : 1;
}
static inline void hxs_tcp_rate_app_limited(struct hxs_tcp_conn *c, uint32_t pipe)
{
	uint32_t end = hxs_tcp_snd_end(c);

	hxs_tcp_rate_app_limited_at(c, SEQ_LT(c->snd_nxt, end) ? SEQ_DIFF(end, c->snd_nxt) : 0, pipe);
}
/* Whether cwnd is in use (RFC 7661 §4.3 "validated"; RFC 9438 §5.8): what was in flight when
 * cwnd limited the sending, tracked per window of data as Linux's tcp_cwnd_validate() does.
 * A window ends when SND.UNA passes the SND.NXT it began with; within one, a cwnd-limited
 * moment sticks, and otherwise the largest flight is kept. The algorithms grow cwnd only
 * while it is in use (hxs_tcp_recovery_on_ack: cc.app_limited). Output's end
 * (tcp_output.c), and an output an ACK's rest took over (tcp_ack_rest.c). */
static inline void hxs_tcp_cwnd_validate(struct hxs_tcp_conn *c, int limited, uint32_t flight)
{
	if (!SEQ_LT(c->snd_una, c->cwnd_usage_seq) || limited ||
	    (!c->cwnd_limited && flight > c->max_flight)) {
		c->cwnd_limited = (uint8_t)limited;
		c->max_flight = flight;
		c->cwnd_usage_seq = c->snd_nxt;
	}
}
void hxs_tcp_rate_free(struct hxs_tcp_conn *c);

/* tcp_pacing.c */
/* May a data segment leave now? 1, or 0 with the pacing timer armed for when it may. */
int hxs_tcp_pace_may_send(struct hxs_tcp_conn *c, uint64_t now);
/* A data segment of len bytes left now: the next one's earliest time moves on. */
void hxs_tcp_pace_sent(struct hxs_tcp_conn *c, uint32_t len, uint64_t now);
/* The rate the connection is paced at, bytes/s; 0: not paced. */
uint64_t hxs_tcp_pacing_rate(const struct hxs_tcp_conn *c);

/* tcp_pmtu.c - path MTU (RFC 4821 probing, the kernel's route MTU). */
/* The handshake fixed the options and the peer's MSS: search range and c->mss. */
void hxs_tcp_pmtu_init(struct hxs_tcp_conn *c);
/* The retransmission timer expired (before backoff counts it): black-hole detection. */
void hxs_tcp_pmtu_on_rto(struct hxs_tcp_conn *c);
/* After an ACK's processing: a probe acknowledged or lost. */
void hxs_tcp_pmtu_on_ack_slow(struct hxs_tcp_conn *c);
static inline void hxs_tcp_pmtu_on_ack(struct hxs_tcp_conn *c)
{
	if (c->mtup_probe)
		hxs_tcp_pmtu_on_ack_slow(c);
}
/* Sends a probe segment if one is due: 1 sent, 0 wait (send nothing else now), -1 none. */
int hxs_tcp_pmtu_probe_slow(struct hxs_tcp_conn *c, uint64_t now);
static inline int hxs_tcp_pmtu_probe(struct hxs_tcp_conn *c, uint64_t now)
{
	if (!c->mtup_on)
		return -1;              /* no probing (tcp_mtu_probing 0) */
	return hxs_tcp_pmtu_probe_slow(c, now);
}
/* The path MTU in force for c (tcp_info's pmtu). */
uint32_t hxs_tcp_pmtu_of(const struct hxs_tcp_conn *c);

/* tcp_recovery.c */
/* The ACK-processing part of loss recovery, hxs_tcp_recovery_on_ack() (inline, below the
 * RACK declarations: with RACK it hands over to hxs_tcp_rack_on_ack()); without RACK this:
 * called with the ACK's new data acked (bytes), whether it was a duplicate, and how many
 * bytes the SACK blocks newly covered. */
void hxs_tcp_recovery_on_ack_sack(struct hxs_tcp_conn *c, uint32_t acked, int dup,
				  uint32_t newly_sacked, uint32_t rtt_us, uint64_t now);
/* Sends what loss recovery allows (retransmissions first); called by output. */
void hxs_tcp_recovery_output(struct hxs_tcp_conn *c, uint64_t now);
/* hxs_tcp_pipe() without RACK (tcp_recovery.c): RFC 6675's pipe from the SACK scoreboard. */
uint32_t hxs_tcp_pipe_sack(const struct hxs_tcp_conn *c);
void hxs_tcp_recovery_on_rto(struct hxs_tcp_conn *c, uint64_t now);
/* Retransmits up to maxlen bytes at seq (one segment, with the FIN if it ends the stream);
 * returns the sequence space sent, or -1. */
int hxs_tcp_retransmit(struct hxs_tcp_conn *c, uint32_t seq, uint32_t maxlen, uint64_t now);
/* The same with PSH (HXS_TH_PSH) or 0: a segment sent with PSH keeps it (as Linux's skb). */
int hxs_tcp_retransmit_flags(struct hxs_tcp_conn *c, uint32_t seq, uint32_t maxlen, uint8_t psh,
			     uint64_t now);
/* Congestion control for an ACK of new data outside recovery (both recovery paths): cwnd
 * growth while in use, by the algorithm's on_ack (hxs_tcp_cc_grow_on_ack(), tcp_rack.c).
 * Inline: with BBR the usual ACK ends here. */
void hxs_tcp_cc_grow_on_ack(struct hxs_tcp_conn *c, uint32_t acked, uint32_t rtt_us, uint64_t now);
static inline __attribute__((always_inline)) void hxs_tcp_cc_grow(struct hxs_tcp_conn *c,
								   uint32_t acked, uint32_t rtt_us,
								   uint64_t now)
{
	/* RFC 6582 §3.2 step 2 compares the cumulative ACK with recover, in a sequence space
	 * that wraps: 2^31 bytes after a loss, SND.UNA > recover would turn false and shut fast
	 * retransmit out for the next 2^31. Once the ACK has passed recover the gate is open
	 * until the next loss sets it again, so recover may follow SND.UNA. */
	if (SEQ_GT(c->snd_una, c->recover))
		c->recover = c->snd_una - 1;
	/* An algorithm with cong_control (BBR) owns cwnd on every ACK and its on_ack is not
	 * called (tcp_cc.h); the rest only feeds on_ack (and caps what it grew). */
	if (!c->cc.ops->cong_control)
		hxs_tcp_cc_grow_on_ack(c, acked, rtt_us, now);
}

/* tcp_rack.c (README "Loss recovery") */
void hxs_tcp_rack_init(struct hxs_tcp_conn *c);              /* conn_alloc */
void hxs_tcp_rack_start(struct hxs_tcp_conn *c);             /* established: on with SACK */
void hxs_tcp_rack_stop(struct hxs_tcp_conn *c);              /* its timer off */
void hxs_tcp_rack_free(struct hxs_tcp_conn *c);              /* records freed */
/* A segment carrying [seq, seq + len) of sequence space (data, FIN) is sent. */
void hxs_tcp_rack_on_send(struct hxs_tcp_conn *c, uint32_t seq, uint32_t len, uint8_t flags,
			  uint64_t now);
/* An ACK's processing begins (its TSecr, 0 if none); then its valid SACK blocks, its D-SACK
 * blocks, and hxs_tcp_rack_on_ack() from hxs_tcp_recovery_on_ack(). Inline: every segment
 * with an ACK, the predicted ones too, starts here. */
static inline void hxs_tcp_rack_ack_begin(struct hxs_tcp_conn *c, uint32_t tsecr)
{
	struct hxs_rack *r = &c->rk;

	r->ack_tsecr = c->ts_ok ? tsecr : 0;
	r->ack_delivered = 0;
	r->ack_orig = 0;
	r->ack_dsack = 0;
	r->ack_dsack_tlp = 0;
	r->prior_fack = r->fack;
}
void hxs_tcp_rack_on_sack(struct hxs_tcp_conn *c, const struct hxs_sack_range *blk, int nblk);
void hxs_tcp_rack_on_dsack(struct hxs_tcp_conn *c, uint32_t start, uint32_t end);
void hxs_tcp_rack_on_ack(struct hxs_tcp_conn *c, uint32_t acked, int dup, uint32_t rtt_us,
			 uint64_t now);
/* tcp_recovery.c's entry for every ACK: the bytes in flight for the algorithm, then RACK-TLP
 * (tcp_rack.c) or, without RACK, RFC 5681/6582/6675 (tcp_recovery.c). Inline: the usual
 * ACK goes straight to RACK. */
static inline __attribute__((always_inline)) void hxs_tcp_recovery_on_ack(struct hxs_tcp_conn *c,
									   uint32_t acked, int dup,
									   uint32_t newly_sacked,
									   uint32_t rtt_us, uint64_t now)
{
	c->cc.flight = SEQ_DIFF(c->snd_max, c->snd_una);
	if (c->rk.on)
		hxs_tcp_rack_on_ack(c, acked, dup, rtt_us, now);
	else
		hxs_tcp_recovery_on_ack_sack(c, acked, dup, newly_sacked, rtt_us, now);
}
/* The next record at or after *i marked lost and not retransmitted (0: none, or F-RTO sends
 * new data first) / the highest record: its [seq, seq + len), whether it had PSH. */
int hxs_tcp_rack_next_lost(const struct hxs_tcp_conn *c, uint32_t *i, uint32_t *seq, uint32_t *len,
			   int *psh);
int hxs_tcp_rack_last(const struct hxs_tcp_conn *c, uint32_t *seq, uint32_t *len, int *psh);
/* For tcp_rack_timer.c: a PTO may be armed now; RACK_detect_loss_and_arm_timer() (marks
 * start fast recovery; 1 if any newly); PRR's cwnd for an ACK (or the timer's marks). */
static inline int hxs_tcp_rack_tlp_allowed(const struct hxs_tcp_conn *c)
{
	const struct hxs_rack *r = &c->rk;

	return c->snd_max != c->snd_una && !r->segs_sacked && !c->recovery && !r->in_loss &&
	       !r->tlp_on && c->snd_wnd && HXS_TCPS_HAVEESTABLISHED(c->state) &&
	       c->state != HXS_TCPS_TIME_WAIT;
}
int hxs_tcp_rack_detect(struct hxs_tcp_conn *c, uint64_t now, uint32_t *newly);
void hxs_tcp_rack_prr(struct hxs_tcp_conn *c, uint32_t delivered, int una_moved, uint32_t newly_lost);
/* tcp_rack_timer.c: the expiry of c->rk.t (bound through tcp->timer_fns->rack). */
void hxs_tcp_rack_fire(struct hxs_timer *t, uint64_t now);
/* End of output: the PTO after new data. */
void hxs_tcp_rack_sent(struct hxs_tcp_conn *c, uint64_t now);
void hxs_tcp_rack_on_rto(struct hxs_tcp_conn *c, uint64_t now);
/* What is in flight by RACK's marks: outstanding, less SACKed and lost, plus retransmitted.
 * Inline, as hxs_tcp_pipe(): every ACK asks twice and output once. */
static inline uint32_t hxs_tcp_rack_pipe(const struct hxs_tcp_conn *c)
{
	const struct hxs_rack *r = &c->rk;
	int64_t p = (int64_t)SEQ_DIFF(c->snd_max, c->snd_una) - r->sacked_b - r->lost_b +
		    r->retrans_b;

	return p > 0 ? (uint32_t)p : 0;
}

/* The data in flight (RFC 6675 "pipe"): RACK's marks when RACK runs, else the scoreboard. */
static inline uint32_t hxs_tcp_pipe(const struct hxs_tcp_conn *c)
{
	return c->rk.on ? hxs_tcp_rack_pipe(c) : hxs_tcp_pipe_sack(c);
}
/* A probe or RTO recovery is judged ACK by ACK (§7.4, RFC 5682 §3): XDP must leave them to
 * the stack. Inline: every slot publish asks. */
static inline int hxs_tcp_rack_needs_acks(const struct hxs_tcp_conn *c)
{
	return c->rk.on && (c->rk.tlp_on || c->rk.in_loss);
}


#endif
