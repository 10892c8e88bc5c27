/* tcp_pmtu.c - path MTU: packetization-layer discovery (RFC 4821, as Linux's tcp_mtu_probing)
 * and the MTU the kernel learned from ICMP "fragmentation needed" (RFC 1191).
 *
 * hxs sends every segment with DF, and ICMP goes to the kernel, so a path with a smaller MTU
 * is a black hole unless the sender finds out itself. Two ways in:
 *   hxs_tcp_set_mss() (tcp_process.c)  -> hxs_tcp_pmtu_init()   handshake: search range, MSS
 *   rexmt_fire() (tcp_timer.c)         -> hxs_tcp_pmtu_on_rto()  black-hole detection: the
 *                                         MSS drops to the search's floor (tcp_base_mss)
 *   output_data() (tcp_output.c)       -> hxs_tcp_pmtu_probe()   one probe segment, half-way
 *                                         between what works and what may not
 *   process_ack() (tcp_process.c)      -> hxs_tcp_pmtu_on_ack()  probe acknowledged: the floor
 *                                         rises to it; probe lost: the ceiling comes down
 *   hxs_tcp__pmtu_update()             the kernel's route exception (the socket layer reads
 *                                         it, see net/ctl_kernel.c) lowers or raises c->pmtu
 *
 * tcp_mtu_probing defaults to 0 as in Linux: ICMP is read through the kernel (the route
 * exception, net/ctl_kernel.c), so classic PMTUD (RFC 1191) works without it. 1 was tried as
 * the default and left: under 10% random loss (tests/unit/test_tcp_sim.c, seeds 3003 and
 * 3007) repeated timeouts shrink the MSS step by step and two transfers did not finish.
 *
 * MTUs here are IP packet sizes; mtu_to_mss()/mss_to_mtu() convert with the 40 bytes of IPv4
 * and TCP headers and the timestamp option every segment carries, as Linux's
 * tcp_mtu_to_mss()/tcp_mss_to_mtu().
 */
#include <errno.h>

#include "tcp_conn.h"

#define BASE_MSS      1024       /* tcp_base_mss: the floor after a black hole */
#define MSS_FLOOR     48         /* tcp_mtu_probe_floor */
#define PROBE_THRESH  8          /* tcp_probe_threshold: the search ends when the range is smaller */
#define PROBE_INTERVAL_US (600ull * 1000000)  /* tcp_probe_interval: search again after 10 min */
#define RETRIES1      3          /* tcp_retries1: RTOs before the path is suspected */
#define RTO_MIN_US    200000u
#define REORDERING    3          /* tcp_reordering: segments that must follow a probe */

static uint32_t optlen(const struct hxs_tcp_conn *c)
{
	return c->ts_ok ? 12u : 0u;
}

/* The largest segment the peer takes and we offer (the kernel's mss_clamp), no options. */
static uint32_t mss_clamp(const struct hxs_tcp_conn *c)
{
	return c->peer_mss < c->adv_mss ? c->peer_mss : c->adv_mss;
}

static uint32_t mtu_to_mss(const struct hxs_tcp_conn *c, uint32_t mtu)
{
	uint32_t h = hxs_tcp_hdrs(c);
	uint32_t m = mtu > h ? mtu - h : 0;
	if (m > mss_clamp(c))
		m = mss_clamp(c);
	m = m > optlen(c) ? m - optlen(c) : 0;
	return m < MSS_FLOOR ? MSS_FLOOR : m;
}

static uint32_t mss_to_mtu(const struct hxs_tcp_conn *c, uint32_t mss)
{
	return mss + hxs_tcp_hdrs(c) + optlen(c);
}

/* The path MTU in force: the kernel's (hxs_tcp__pmtu_update), else the interface's. */
static uint32_t path_mtu(const struct hxs_tcp_conn *c)
{
	return c->pmtu ? c->pmtu : c->tcp->cfg.mtu;
}

/* Linux's tcp_sync_mss(): the MSS from the path MTU, and while probing no more than the
 * search's floor. */
static void sync_mss(struct hxs_tcp_conn *c)
{
	uint32_t mtu = path_mtu(c);
	if (c->mtup_high > mtu)
		c->mtup_high = mtu;
	if (c->mtup_on && c->mtup_low < mtu)
		mtu = c->mtup_low;
	c->mss = mtu_to_mss(c, mtu);
	c->cc.mss = c->mss;
}

void hxs_tcp_pmtu_init(struct hxs_tcp_conn *c)
{
	/* Linux's tcp_mtup_init(): probing from the start only with tcp_mtu_probing = 2 */
	c->mtup_on = c->tcp->mtu_probing > 1;
	c->mtup_high = mss_clamp(c) + 40;
	c->mtup_low = mss_to_mtu(c, BASE_MSS);
	c->mtup_probe = 0;
	c->mtup_ts = c->tcp->now;
	sync_mss(c);
}

/* RFC 4821 §7.5 "a full-stop timeout": the kernel's tcp_write_timeout() suspects a black
 * hole once the head of the queue has waited as long as tcp_retries1 (3) RTOs would take at
 * the minimum RTO (tcp_model_timeout: (2^(3+1) - 1) * 200 ms = 3 s). The wait is modelled
 * from the RTO schedule: the k-th expiry comes rto * (2^k - 1) after the first send. */
void hxs_tcp_pmtu_on_rto(struct hxs_tcp_conn *c)
{
	uint32_t k = c->backoff + 1u;             /* this expiry, counted from one */
	uint64_t waited = (uint64_t)c->rto_us * ((1ull << (k < 30 ? k : 30)) - 1);
	if (c->mtup_probe) {
		/* the probe was not acknowledged: too big (RFC 4821 §7.6.2) */
		if (SEQ_LT(c->snd_una, c->mtup_probe_end)) {
			c->mtup_high = c->mtup_probe - 1;
			MIB_INC(c->tcp, TCPMTUPFail);
		}
		c->mtup_probe = 0;
	}
	if (!c->tcp->mtu_probing || waited < (uint64_t)((2u << RETRIES1) - 1) * RTO_MIN_US)
		return;
	if (!c->mtup_on) {
		c->mtup_on = 1;
		c->mtup_ts = c->tcp->now;
	} else {
		/* Linux's tcp_mtu_probing(): half the floor's MSS, at most tcp_base_mss */
		uint32_t mss = mtu_to_mss(c, c->mtup_low) >> 1;
		if (mss > BASE_MSS)
			mss = BASE_MSS;
		if (mss < MSS_FLOOR)
			mss = MSS_FLOOR;
		c->mtup_low = mss_to_mtu(c, mss);
	}
	uint32_t old = c->mss;
	sync_mss(c);
	if (c->mss < old)
		MIB_INC(c->tcp, HxsTcpMtuBlackHole);
}

void hxs_tcp_pmtu_on_ack_slow(struct hxs_tcp_conn *c)
{
	if (!c->mtup_probe)
		return;
	if (!SEQ_LT(c->snd_una, c->mtup_probe_end)) {
		/* Linux's tcp_mtup_probe_success(): the floor rises to the probe; cwnd keeps its
		 * bytes (the kernel scales its packet count by old/new size). */
		c->mtup_low = c->mtup_probe;
		c->mtup_probe = 0;
		c->mtup_ts = c->tcp->now;
		sync_mss(c);
		MIB_INC(c->tcp, TCPMTUPSuccess);
	} else if (c->recovery && c->snd_una == c->mtup_probe_seq) {
		/* loss recovery started with the probe the first segment missing: the probe
		 * was too big (Linux's tcp_mtup_probe_failed()); recovery resends its bytes in
		 * segments of the current size */
		c->mtup_high = c->mtup_probe - 1;
		c->mtup_probe = 0;
		MIB_INC(c->tcp, TCPMTUPFail);
	}
}

/* Linux's tcp_mtu_check_reprobe(): a search that ended starts again after 10 minutes (the
 * path may have grown). */
static void check_reprobe(struct hxs_tcp_conn *c, uint64_t now)
{
	if (now - c->mtup_ts < PROBE_INTERVAL_US)
		return;
	c->mtup_high = mss_clamp(c) + 40;
	if (c->mtup_high > path_mtu(c))
		c->mtup_high = path_mtu(c);
	c->mtup_low = mss_to_mtu(c, c->mss);
	c->mtup_ts = now;
}

int hxs_tcp_pmtu_probe_slow(struct hxs_tcp_conn *c, uint64_t now)
{
	uint32_t mss = c->mss;
	/* Linux's tcp_mtu_probe(): probe only in the open state, with cwnd of at least 11
	 * segments, no probe out, no SACK blocks to send, new data only */
	if (!c->mtup_on || c->mtup_probe || c->recovery || c->cc.cwnd < 11 * mss ||
	    c->reass.n || c->dsack || c->snd_nxt != c->snd_max || c->urg_mode)
		return -1;
	uint32_t psize = mtu_to_mss(c, (c->mtup_high + c->mtup_low) >> 1);
	/* RFC 4821 §7.7: the search ends when the range is smaller than the threshold */
	if (psize > mtu_to_mss(c, c->mtup_high) || c->mtup_high - c->mtup_low < PROBE_THRESH ||
	    psize <= mss) {
		check_reprobe(c, now);
		return -1;
	}
	/* RFC 4821 §7.4: enough data behind the probe for loss to be told by duplicate ACKs */
	uint32_t need = psize + (REORDERING + 1) * mss;
	uint32_t end = hxs_tcp_snd_end(c);
	uint32_t avail = SEQ_LT(c->snd_nxt, end) ? SEQ_DIFF(end, c->snd_nxt) : 0;
	if (avail < need || c->snd_wnd < need)
		return -1;
	if (SEQ_GT(c->snd_nxt + need, c->snd_una + c->snd_wnd))
		return 0;                          /* wait for the window */
	uint32_t flight = SEQ_DIFF(c->snd_nxt, c->snd_una);
	if (flight + 2 * mss > c->cc.cwnd)
		return flight ? 0 : -1;            /* wait for cwnd to drain, never stall */
	if (hxs_tcp_send_seg(c, c->snd_nxt, HXS_TH_ACK, psize, now) < 0)
		return 0;
	c->mtup_probe = mss_to_mtu(c, psize);
	c->mtup_probe_seq = c->snd_nxt;
	c->mtup_probe_end = c->snd_nxt + psize;
	c->snd_nxt += psize;
	c->snd_max = c->snd_nxt;
	if (!hxs_timer__armed(&c->t_rexmt))
		hxs_tcp_rexmt_arm(c, now);
	hxs_wheel__cancel(&c->tcp->wheel, &c->t_persist);
	MIB_INC(c->tcp, HxsTcpMtuProbes);
	return 1;
}

/* Linux's tcp_v4_mtu_reduced() and tcp_current_mss() following the route's MTU. */
static void pmtu_set(struct hxs_tcp_conn *c, uint32_t mtu, uint64_t now)
{
	uint32_t old = c->mss;
	if (mtu >= c->tcp->cfg.mtu)
		mtu = 0;                           /* back to the interface's */
	if (mtu && mtu < 68)
		mtu = 68;                          /* RFC 791: every host takes 68 */
	c->pmtu = mtu;
	sync_mss(c);
	if (c->mss < old && SEQ_LT(c->snd_una, c->snd_nxt) && !c->recovery) {
		/* Linux's tcp_simple_retransmit(): what is in flight was too big and is lost;
		 * send it again in the new size, cwnd untouched (no congestion was seen) */
		c->snd_nxt = c->snd_una;
		c->rtt_timing = 0;
		hxs_tcp_mark_dirty(c);
		(void)now;
	}
}

int hxs_tcp__pmtu_update(struct hxs_tcp *tcp, uint32_t raddr, uint32_t mtu, uint64_t now)
{
	return hxs_tcp__pmtu_update_addr(tcp, hxs_addr4(raddr), mtu, now);
}

int hxs_tcp__pmtu_update_addr(struct hxs_tcp *tcp, struct hxs_addr raddr, uint32_t mtu, uint64_t now)
{
	int n = 0;
	tcp->now = now;
	hxs_tcp_ack_rest_all(tcp);      /* the ACKs' rests with the MSS they came with */
	for (uint32_t b = 0; b <= tcp->hmask; b++)
		for (struct hxs_tcp_conn *c = tcp->htab[b]; c; c = c->hnext)
			if (hxs_addr_eq(c->raddr, raddr) && HXS_TCPS_HAVEESTABLISHED(c->state) &&
			    c->state != HXS_TCPS_TIME_WAIT && path_mtu(c) != (mtu ? mtu : tcp->cfg.mtu)) {
				pmtu_set(c, mtu, now);
				MIB_INC(tcp, HxsTcpPmtuUpdates);
				n++;
			}
	return n;
}

int hxs_tcp__set_mtu_probing(struct hxs_tcp *tcp, int v)
{
	if (v < 0 || v > 2)
		return -EINVAL;
	tcp->mtu_probing = (uint8_t)v;
	return 0;
}

int hxs_tcp__mtu_probing(const struct hxs_tcp *tcp)
{
	return tcp->mtu_probing;
}

uint32_t hxs_tcp_pmtu_of(const struct hxs_tcp_conn *c)
{
	return path_mtu(c);
}
