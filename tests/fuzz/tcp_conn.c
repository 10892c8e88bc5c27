/* tcp_conn.c - libFuzzer target: the TCP core (user/tcp/) with a live connection table, fed a
 * sequence of segments and user calls in virtual time.
 *
 * One input is one run of one stack (10.0.0.1) against a peer (10.0.0.2, ports 40000..40003):
 *   config (8 bytes)  MTU, buffer sizes, options offered, congestion control, the ISS the
 *                     stack picks (isn_hook: a base, then each connection its own), the
 *                     peer's ISN and timestamp clock, MSL, challenge-ACK limit, SYN backlog
 *   records           a header byte: low 4 bits the operation, high 4 bits how far virtual
 *                     time moves first (dt_us[]; due timers run on the way), then the
 *                     operation's own bytes:
 *     SEG    a segment from the peer: tuple, flags, sequence and acknowledgment numbers
 *            (relative to what the stack last said on that tuple, or absolute), window,
 *            payload length, options (made up from the tuple's state, or raw bytes), a
 *            bad checksum on request
 *     ECHO   the peer answers the stack's last segment on a tuple as a TCP would (SYN ->
 *            SYN,ACK; SYN,ACK -> ACK; data/FIN -> ACK), with data and FIN if asked
 *     user   connect, accept, send, recv (and peek), shutdown, close (linger 0), abort,
 *            setsockopt, status (TCP_INFO, events, SO_ERROR, getsockopt, an immediate
 *            output), closing and reopening the listener on port 80
 *
 * Checked, beyond "no crash" under ASan/UBSan:
 *   every segment the core emits (tx_send):
 *     - fits the frame it asked for, and the frame fits the MTU (IP header + TCP <= MTU);
 *     - checksum right (RFC 9293 §3.1), data offset within the segment, options parse;
 *     - flags: no URG (the fuzzer never sends MSG_OOB), no CWR, ECE only on a SYN,ACK (the
 *       fuzzer's segments arrive Not-ECT: no CE to echo, RFC 3168), never SYN with FIN or RST, ACK on every
 *       segment but an initial SYN or a RST, no data on SYN or RST;
 *     - MSS/WS/SACK-permitted only on SYNs (RFC 9293 §3.7.1, RFC 7323 §2.2, RFC 2018 §2);
 *       an advertised MSS no larger than MTU - 40;
 *     - payload + options <= the MSS the peer announced (RFC 9293 §3.7.1 Eff.snd.MSS; a
 *       payload of 64 bytes may exceed a smaller one, set_mss's floor);
 *     - payload bytes are the ones the application wrote at that stream offset
 *       (app_byte(seq - ISS - 1)), and lie inside what the application wrote;
 *     - data never beyond the right edge of the largest window the peer advertised on
 *       the tuple (in segments that may move it: no RST, an ACK within [ISS, SND.NXT]),
 *       but for one byte of a zero-window probe (RFC 9293 §3.8.6.1);
 *     - the window's right edge never moves left (RFC 9293 §3.8.6: shrinking is
 *       "strongly discouraged"; hxs never does it; a retransmitted SYN,ACK, whose window
 *       cannot be scaled, is left out);
 *     - no RST in answer to a RST (RFC 9293 §3.10.7);
 *   data read (recv, peek) equals what the peer sent at those sequence numbers
 *   (peer_byte(IRS + 1 + offset)), but for urgent bytes: the peer's URG segments carry the
 *   pointer past their payload (0 without one), and without SO_OOBINLINE a byte such a
 *   pointer marked (RFC 6093 §4: the one before it; SEG.SEQ for 0) may be missing from the
 *   stream, as Linux's recv steps over it - no other byte may; status answers agree
 *   (TCP_INFO's rcv_queue with what is readable, EPOLLIN when it is, TCP_NODELAY as set);
 *   after every record, for every connection in the table: SND.UNA <= SND.NXT <= SND.MAX,
 *   SND.MAX at or beyond everything it ever sent,
 *   rings within capacity, out-of-order ranges sorted, disjoint, after RCV.NXT and inside
 *   the receive buffer, cwnd > 0 once established, listener queues within their limits;
 *   every frame the core allocated was sent; timers that keep coming due at one time fail;
 *   at the end (everything the application holds aborted and closed, then 2 h of silence):
 *   the table is empty (no orphan lives forever without the peer), every connection object
 *   freed, every 4-tuple and listener added was removed, TcpCurrEstab is 0.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "hxs/hxs.h"
#include "lib/bytes.h"
#include "tcp/tcp_conn.h"

#define LOCAL   0x0100000au        /* 10.0.0.1, network order */
#define REMOTE  0x0200000au        /* 10.0.0.2 */
#define RPORT   40000              /* peer ports RPORT + 0..3 */
#define LPORT   80                 /* the listener */
#define CPORT   81                 /* a closed port */
#define EPORT   61000              /* local ports of active opens, EPORT + peer */
#define NSLOT   8                  /* connections the application holds */
#define NTUP    32
#define NURG    16                 /* urgent pointers the peer sends per tuple */

/* FUZZ_TRACE=1 in the environment prints every segment both ways (reading a reproducer). */
static int trace = -1;

static void trace_seg(const char *dir, uint64_t now, const uint8_t *p, uint32_t len)
{
	if (trace < 0)
		trace = getenv("FUZZ_TRACE") != NULL;
	if (!trace)
		return;
	uint32_t doff = (uint32_t)(p[12] >> 4) * 4;
	fprintf(stderr, "%10.6f %s %u>%u [%c%c%c%c%c%c] seq %u ack %u win %u len %u opt %u urp %u\n",
		(double)now / 1e6, dir, hxs_rd16(p), hxs_rd16(p + 2), p[13] & HXS_TH_SYN ? 'S' : '.',
		p[13] & HXS_TH_FIN ? 'F' : '.', p[13] & HXS_TH_RST ? 'R' : '.',
		p[13] & HXS_TH_PSH ? 'P' : '.', p[13] & HXS_TH_ACK ? 'A' : '.',
		p[13] & HXS_TH_URG ? 'U' : '.', hxs_rd32(p + 4), hxs_rd32(p + 8), hxs_rd16(p + 14),
		doff <= len ? len - doff : 0, doff - 20, hxs_rd16(p + 18));
}

static const uint64_t dt_us[16] = {
	0, 50, 200, 1000, 5000, 20000, 40000, 100000, 200000, 500000, 1000000, 3000000,
	10000000, 60000000, 300000000, 3600000000ull,
};

/* The byte the peer sends at sequence number seq, and the byte the application writes at
 * stream offset off: a sequence where neighbours differ, so a shifted copy shows. */
static uint8_t peer_byte(uint32_t seq)
{
	return (uint8_t)(seq * 0x9du + (seq >> 11));
}

static uint8_t app_byte(uint64_t off)
{
	return (uint8_t)(off * 0x3bu + (off >> 9) + 7);
}

/* What the harness knows of one 4-tuple, from both directions. */
struct tup {
	uint16_t lport, rport;
	uint8_t used;
	/* the stack's side, from what it emitted */
	uint8_t st_flags, st_has_ack, st_ts, st_syn_seen, st_have_edge;
	uint32_t st_iss, st_nxt, st_ack, st_tsval, st_edge;
	/* the peer's side, from what the harness sent */
	uint8_t pe_have_edge, pe_ts;
	uint32_t pe_edge, pe_isn;
	/* the bytes the peer's URG segments pointed at (RFC 6093 §4: the pointer is one past
	 * the urgent byte; 0 points at SEG.SEQ itself, as Linux reads it): the only bytes a
	 * reader without SO_OOBINLINE may find missing from the stream */
	uint32_t pe_urg[NURG];
	uint8_t pe_nurg;
};

struct slot {
	struct hxs_tcp_conn *c;
	uint64_t sent, rcvd;           /* bytes the application wrote / read */
	uint64_t skipped;              /* urgent bytes the stream stepped over (no OOBINLINE) */
};

struct run {
	struct hxs_tcp *tcp;
	struct hxs_tcp_cfg cfg;
	uint64_t now;
	uint32_t peer_isn, peer_ts_base;
	uint64_t frames_alloc, frames_sent;
	int tuples, listens;
	int in_rst;                    /* inside the input of a RST segment */
	uint64_t rst_out;              /* RSTs emitted */
	struct tup t[NTUP];
	struct slot s[NSLOT];
	struct hxs_tcp_conn *listener;
	uint32_t iss_base, nisn;
};

static struct tup *tup_get(struct run *r, uint16_t lport, uint16_t rport)
{
	struct tup *free_one = NULL;
	for (int i = 0; i < NTUP; i++) {
		if (r->t[i].used && r->t[i].lport == lport && r->t[i].rport == rport)
			return &r->t[i];
		if (!r->t[i].used && !free_one)
			free_one = &r->t[i];
	}
	FZ_CHECK(free_one, "more than %d tuples", NTUP);
	memset(free_one, 0, sizeof(*free_one));
	free_one->used = 1;
	free_one->lport = lport;
	free_one->rport = rport;
	free_one->pe_isn = r->peer_isn + (uint32_t)(rport - RPORT) * 0x20000000u +
			   (lport == LPORT ? 0 : 0x1000u);
	return free_one;
}

/* --- the core's output ------------------------------------------------------------------ */
struct frame {
	uint32_t cap;
	uint8_t b[];
};

static uint8_t *tx_alloc(void *ctx, uint32_t len, void **h)
{
	struct run *r = ctx;
	/* The datapath's frames hold MTU + Ethernet; a segment beyond MTU - 20 cannot go. */
	FZ_CHECK(len + 20 <= r->cfg.mtu, "a %u-byte segment asked for with MTU %u", len, r->cfg.mtu);
	struct frame *f = malloc(sizeof(*f) + len);
	f->cap = len;
	r->frames_alloc++;
	*h = f;
	return f->b;
}

static void check_emitted(struct run *r, const uint8_t *p, uint32_t len, uint32_t saddr, uint32_t daddr)
{
	FZ_CHECK(len >= 20, "%u-byte segment", len);
	trace_seg("out", r->now, p, len);
	FZ_CHECK(saddr == LOCAL && daddr == REMOTE, "addresses %08x -> %08x", saddr, daddr);
	FZ_CHECK(hxs_tcp_csum(saddr, daddr, p, len) == 0, "bad checksum on a segment we send");
	uint16_t sport = hxs_rd16(p), dport = hxs_rd16(p + 2);
	uint32_t seq = hxs_rd32(p + 4), ack = hxs_rd32(p + 8);
	uint32_t doff = (uint32_t)(p[12] >> 4) * 4;
	uint8_t fl = p[13];
	uint32_t wnd = hxs_rd16(p + 14);
	FZ_CHECK(doff >= 20 && doff <= len, "data offset %u in %u bytes", doff, len);
	FZ_CHECK((p[12] & 0x0f) == 0, "reserved bits set");
	struct hxs_tcp_opts o;
	FZ_CHECK(hxs_tcp_opt__parse(p + 20, doff - 20, &o) == 0, "our options do not parse");
	uint32_t plen = len - doff, olen = doff - 20;
	int syn = !!(fl & HXS_TH_SYN), rst = !!(fl & HXS_TH_RST);
	FZ_CHECK(!(fl & HXS_TH_URG), "flags %#x", fl);     /* the harness sends no MSG_OOB */
	/* RFC 3168 §6.1.2: CWR goes on "the first new data packet" after a reduction, as
	 * Linux's tcp_ecn_send() sets it only on a segment with data */
	FZ_CHECK(!(fl & HXS_TH_CWR) || (plen && !syn), "CWR on flags %#x, %u bytes", fl, plen);
	FZ_CHECK(!(fl & HXS_TH_ECE) || (fl & (HXS_TH_SYN | HXS_TH_ACK)) == (HXS_TH_SYN | HXS_TH_ACK),
		 "ECE on flags %#x", fl);
	FZ_CHECK(!(syn && (fl & (HXS_TH_FIN | HXS_TH_RST))), "flags %#x", fl);
	FZ_CHECK((fl & HXS_TH_ACK) || rst || fl == HXS_TH_SYN, "no ACK on flags %#x", fl);
	FZ_CHECK(!plen || !(syn || rst), "%u bytes of data on flags %#x", plen, fl);
	if (!syn)
		FZ_CHECK(!o.has_mss && !o.has_ws && !o.sack_perm, "SYN-only option on flags %#x", fl);
	else
		FZ_CHECK(o.has_mss && o.mss <= r->cfg.mtu - 40, "SYN's MSS %u (MTU %u)", o.mss, r->cfg.mtu);
	if (rst) {
		r->rst_out++;
		FZ_CHECK(!r->in_rst, "a RST answered with a RST (RFC 9293 §3.10.7)");
	}

	struct tup *t = tup_get(r, sport, dport);
	if (syn) {
		/* a new incarnation on this tuple, or a retransmitted SYN */
		if (!t->st_syn_seen || t->st_iss != seq) {
			t->st_have_edge = 0;
			t->pe_have_edge = 0;
		}
		t->st_syn_seen = 1;
		t->st_iss = seq;
		t->st_ts = o.has_ts;
	}
	uint32_t end = seq + plen + (uint32_t)syn + !!(fl & HXS_TH_FIN);
	if (!rst && (!t->st_nxt || SEQ_GT(end, t->st_nxt) || syn))
		t->st_nxt = end;
	if (fl & HXS_TH_ACK) {
		t->st_has_ack = 1;
		t->st_ack = ack;
	}
	if (o.has_ts)
		t->st_tsval = o.tsval;
	t->st_flags = fl;

	struct hxs_tcp_conn *c = hxs_tcp_lookup(r->tcp, saddr, sport, daddr, dport);
	if (c && (fl & HXS_TH_ACK) && !rst) {
		/* RFC 9293 §3.8.6: the right edge of the window we offer never moves left. */
		/* A SYN's window is never scaled (RFC 7323 §2.2): a SYN,ACK retransmitted after
		 * a scaled ACK says less, but it is an old duplicate to the peer, whose window
		 * stays. Only the first SYN,ACK sets the edge the later segments keep. */
		uint32_t edge = ack + (syn ? wnd : wnd << c->rcv_wscale);
		if (t->st_have_edge && !syn)
			FZ_CHECK(SEQ_GEQ(edge, t->st_edge), "window shrank: edge %u after %u", edge, t->st_edge);
		if (!t->st_have_edge || (!syn && SEQ_GT(edge, t->st_edge)))
			t->st_edge = edge;
		t->st_have_edge = 1;
	}
	if (!plen)
		return;
	FZ_CHECK(c, "%u bytes of data from no connection", plen);
	/* RFC 9293 §3.7.1: Eff.snd.MSS = SendMSS + 20 - TCPhdrsize, the options counted; a
	 * peer MSS so small that not even 64 bytes fit is overridden (set_mss's floor, as
	 * Linux's tcp_min_snd_mss). */
	FZ_CHECK(plen + olen <= c->peer_mss || plen <= 64,
		 "%u bytes + %u of options, the peer's MSS is %u", plen, olen, c->peer_mss);
	FZ_CHECK(SEQ_GEQ(seq, c->iss + 1) && SEQ_LEQ(seq + plen, hxs_tcp_snd_end(c)),
		 "data [%u, %u) outside what was written [%u, %u)", seq, seq + plen, c->iss + 1,
		 hxs_tcp_snd_end(c));
	uint64_t off = SEQ_DIFF(seq, c->iss + 1);
	for (uint32_t i = 0; i < plen; i++)
		FZ_CHECK(p[doff + i] == app_byte(off + i), "byte %u of a segment at offset %llu", i,
			 (unsigned long long)off);
	if (t->pe_have_edge)
		FZ_CHECK(SEQ_LEQ(seq + plen, t->pe_edge + 1),
			 "data up to %u beyond the peer's window edge %u", seq + plen, t->pe_edge);
}

static void tx_send(void *ctx, void *h, struct hxs_addr sa, struct hxs_addr da, uint32_t len,
		    uint8_t tos, uint8_t ttl)
{
	uint32_t saddr = hxs_addr_get4(sa), daddr = hxs_addr_get4(da);
	struct run *r = ctx;
	(void)ttl;
	struct frame *f = h;
	/* RFC 3168 §6.1.1, §6.1.4: the TOS is Not-ECT, or ECT(0) on a segment with data (a
	 * connection whose SYN asked for ECN); never CE or ECT(1), no DSCP (no IP_TOS here) */
	FZ_CHECK(tos == 0 || (tos == 2 && len > (uint32_t)(f->b[12] >> 4) * 4), "TOS %#x", tos);
	FZ_CHECK(len <= f->cap, "%u bytes sent in a %u-byte frame", len, f->cap);
	r->frames_sent++;
	check_emitted(r, f->b, len, saddr, daddr);
	free(f);
}

static void ev_event(void *ctx, struct hxs_tcp_conn *c, uint32_t mask)
{
	(void)ctx;
	(void)c;
	FZ_CHECK(!(mask & ~(uint32_t)(EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP | EPOLLERR | EPOLLPRI)),
		 "event mask %#x", mask);
}

static int ev_tuple(void *ctx, struct hxs_tcp_conn *c, int add)
{
	struct run *r = ctx;
	(void)c;
	r->tuples += add ? 1 : -1;
	FZ_CHECK(r->tuples >= 0, "a 4-tuple removed twice");
	return 0;                           /* the fuzzed table never refuses a 4-tuple */
}

static void ev_listen(void *ctx, struct hxs_tcp_conn *l, struct hxs_addr a, uint16_t p, int add)
{
	struct run *r = ctx;
	(void)l;
	(void)a;
	(void)p;
	r->listens += add ? 1 : -1;
	FZ_CHECK(r->listens >= 0 && r->listens <= 1, "%d listeners", r->listens);
}

static uint32_t isn_hook(void *arg, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	struct run *r = arg;
	(void)laddr;
	(void)raddr;
	/* Each connection its own ISS, as RFC 6528's clock gives: a new incarnation of a
	 * tuple must be told from a retransmitted SYN by its sequence number. */
	return r->iss_base + (uint32_t)(rport - RPORT) * 0x40000000u + (lport == LPORT ? 0 : 0x100000u) +
	       r->nisn++ * 0x01000001u;
}

/* --- invariants of the table ----------------------------------------------------------- */
static void check_conn(void *arg, struct hxs_tcp_conn *c)
{
	struct run *r = arg;
	FZ_CHECK(c->state < HXS_TCPS__COUNT && c->state != HXS_TCPS_CLOSED, "state %u in the table", c->state);
	if (c->state == HXS_TCPS_LISTEN) {
		/* Full is "more than backlog", as Linux's sk_acceptq_is_full(): backlog + 1 fit. */
		FZ_CHECK(c->acceptq_len <= c->backlog + 1u, "accept queue %u > backlog %u + 1", c->acceptq_len,
			 c->backlog);
		FZ_CHECK(c->synq_len <= r->tcp->cfg.max_syn_backlog, "SYN queue %u", c->synq_len);
		return;
	}
	FZ_CHECK(SEQ_LEQ(c->snd_una, c->snd_nxt) && SEQ_LEQ(c->snd_nxt, c->snd_max),
		 "SND.UNA %u SND.NXT %u SND.MAX %u", c->snd_una, c->snd_nxt, c->snd_max);
	FZ_CHECK(SEQ_LEQ(c->snd_max, hxs_tcp_snd_end(c) + 1), "SND.MAX %u past the data %u + FIN",
		 c->snd_max, hxs_tcp_snd_end(c));
	FZ_CHECK(c->snd.len <= c->snd.cap && c->rcv.len <= c->rcv.cap, "ring over capacity");
	/* SND.MAX covers everything this connection ever sent: a segment beyond it (data
	 * retransmitted past what was sent before) would have the peer acknowledge more than
	 * we think we sent. */
	for (int i = 0; i < NTUP; i++) {
		struct tup *t = &r->t[i];
		if (t->used && t->lport == c->lport && t->rport == c->rport && t->st_syn_seen &&
		    t->st_iss == c->iss)
			FZ_CHECK(SEQ_LEQ(t->st_nxt, c->snd_max), "sent up to %u, SND.MAX %u", t->st_nxt,
				 c->snd_max);
	}
	if (HXS_TCPS_HAVEESTABLISHED(c->state))
		FZ_CHECK(c->cc.cwnd > 0, "cwnd 0 in state %u", c->state);
	FZ_CHECK(c->reass.n <= HXS_REASS_MAX, "%u out-of-order ranges", c->reass.n);
	if (!HXS_TCPS_HAVERCVDSYN(c->state))
		return;
	for (uint32_t i = 0; i < c->reass.n; i++) {
		uint32_t s = c->reass.r[i].start, e = c->reass.r[i].end;
		FZ_CHECK(SEQ_LT(s, e), "empty range [%u, %u)", s, e);
		FZ_CHECK(SEQ_GT(s, c->rcv_nxt), "range [%u, %u) not after RCV.NXT %u", s, e, c->rcv_nxt);
		FZ_CHECK(SEQ_DIFF(e, c->rcv_nxt) <= c->rcv.cap - c->rcv.len,
			 "range [%u, %u) beyond the buffer (RCV.NXT %u, room %u)", s, e, c->rcv_nxt,
			 c->rcv.cap - c->rcv.len);
		if (i)
			FZ_CHECK(SEQ_LT(c->reass.r[i - 1].end, s), "ranges %u and %u overlap or touch", i - 1, i);
	}
}

static void check_table(struct run *r)
{
	hxs_tcp__foreach(r->tcp, check_conn, r);
	FZ_CHECK(r->frames_alloc == r->frames_sent, "%llu frames allocated, %llu sent",
		 (unsigned long long)r->frames_alloc, (unsigned long long)r->frames_sent);
}

/* Runs due timers up to `until` in order, then the output of what is pending. */
static void run_until(struct run *r, uint64_t until)
{
	for (int guard = 0;; guard++) {
		FZ_CHECK(guard < 1000000, "timers keep coming due at %llu", (unsigned long long)r->now);
		uint64_t d = hxs_tcp__next_deadline(r->tcp);
		if (d > until)
			break;
		if (d > r->now)
			r->now = d;
		hxs_tcp__poll(r->tcp, r->now);
	}
	if (until > r->now)
		r->now = until;
	hxs_tcp__poll(r->tcp, r->now);
}

/* --- the peer ------------------------------------------------------------------------- */
struct peerseg {
	struct tup *t;
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t wnd;
	uint8_t opt[40];
	uint32_t olen;
	uint32_t dlen;
	int bad_csum;
};

static void peer_send(struct run *r, const struct peerseg *ps)
{
	uint32_t olen = ps->olen & ~3u, n = 20 + olen + ps->dlen;
	uint8_t *p = malloc(n);       /* exactly sized: ASan sees any read past the segment */
	hxs_wr16(p, ps->t->rport);
	hxs_wr16(p + 2, ps->t->lport);
	hxs_wr32(p + 4, ps->seq);
	hxs_wr32(p + 8, ps->ack);
	p[12] = (uint8_t)((20 + olen) / 4 << 4);
	p[13] = ps->flags;
	hxs_wr16(p + 14, ps->wnd);
	hxs_wr16(p + 16, 0);
	hxs_wr16(p + 18, 0);
	if (ps->flags & HXS_TH_URG) {
		/* the pointer a sender's MSG_OOB puts on its last segment: past the payload (0
		 * without one); remembered, or URG left off once NURG pointers were sent */
		uint16_t up = (uint16_t)(ps->dlen > 0xFFFF ? 0xFFFF : ps->dlen);
		if (ps->t->pe_nurg < NURG) {
			ps->t->pe_urg[ps->t->pe_nurg++] = ps->seq + (up ? up - 1u : 0u);
			hxs_wr16(p + 18, up);
		} else {
			p[13] &= (uint8_t)~HXS_TH_URG;
		}
	}
	memcpy(p + 20, ps->opt, olen);
	uint32_t first = ps->seq + !!(ps->flags & HXS_TH_SYN);
	for (uint32_t i = 0; i < ps->dlen; i++)
		p[20 + olen + i] = peer_byte(first + i);
	hxs_wr16(p + 16, (uint16_t)(hxs_tcp_csum(REMOTE, LOCAL, p, n) ^ (ps->bad_csum ? 0x5a5a : 0)));

	/* The largest right edge the peer offered on this tuple (the window scale is the
	 * one the connection agreed; before that, the largest there is). Only from segments
	 * that may move the window (RFC 9293 §3.10.7.4: an ACK in [ISS, SND.NXT], no RST), so
	 * the "largest" of sequence numbers is taken within one stretch of sequence space. */
	if ((ps->flags & HXS_TH_ACK) && !(ps->flags & HXS_TH_RST) && ps->t->st_syn_seen &&
	    SEQ_GEQ(ps->ack, ps->t->st_iss) && SEQ_LEQ(ps->ack, ps->t->st_nxt)) {
		struct hxs_tcp_conn *c = hxs_tcp_lookup(r->tcp, LOCAL, ps->t->lport, REMOTE, ps->t->rport);
		uint32_t sh = (ps->flags & HXS_TH_SYN) ? 0 : c && c->ws_ok ? c->snd_wscale : 14;
		uint32_t edge = ps->ack + ((uint32_t)ps->wnd << sh);
		if (!ps->t->pe_have_edge || SEQ_GT(edge, ps->t->pe_edge))
			ps->t->pe_edge = edge;
		ps->t->pe_have_edge = 1;
	}
	trace_seg(" in", r->now, p, n);
	r->in_rst = !!(ps->flags & HXS_TH_RST);
	int rc = hxs_tcp__input(r->tcp, REMOTE, LOCAL, p, n, 0, r->now);
	r->in_rst = 0;
	FZ_CHECK(rc == 0 || rc == -EINVAL, "input returned %d", rc);
	if (ps->bad_csum)
		FZ_CHECK(rc == -EINVAL, "a bad checksum was taken");
	free(p);
	hxs_tcp__poll(r->tcp, r->now);
}

/* Options a peer would send: on a SYN the MSS (given), SACK-permitted (sel bit 0), window
 * scale (bit 1, the shift sel >> 3) and timestamps (bit 2); on other segments timestamps
 * when the peer's SYN had them, and SACK blocks. */
static uint32_t auto_opts(struct run *r, struct tup *t, int syn, uint8_t sel, uint16_t mss,
			  const struct hxs_sack_range *sack, int nsack, uint8_t *out)
{
	struct hxs_tcp_opts o;
	memset(&o, 0, sizeof(o));
	int ts = syn ? !!(sel & 4) : t->pe_ts;
	if (syn) {
		o.has_mss = 1;
		o.mss = mss;
		o.sack_perm = !!(sel & 1);
		o.has_ws = !!(sel & 2);
		o.ws = (uint8_t)(sel >> 3);
		t->pe_ts = (uint8_t)ts;
	}
	if (ts) {
		o.has_ts = 1;
		o.tsval = r->peer_ts_base + (uint32_t)(r->now / 1000);
		o.tsecr = t->st_tsval;
	}
	o.nsack = (uint8_t)nsack;
	for (int i = 0; i < nsack; i++)
		o.sack[i] = sack[i];
	return hxs_tcp_opt__write(out, &o, syn);
}

static uint16_t lport_of(uint8_t kind, uint8_t peer)
{
	switch (kind & 3) {
	case 0: return LPORT;
	case 1: return (uint16_t)(EPORT + peer);
	case 2: return CPORT;
	default: return (uint16_t)(EPORT + ((peer + 1) & 3));
	}
}

static uint32_t payload_len(uint8_t l)
{
	return l < 200 ? l : 200u + (l - 200u) * 32u;
}

static void op_seg(struct run *r, struct fz *in)
{
	struct peerseg ps;
	memset(&ps, 0, sizeof(ps));
	uint8_t sel = fz_u8(in);
	uint8_t peer = sel & 3;
	struct tup *t = tup_get(r, lport_of(sel >> 2, peer), (uint16_t)(RPORT + peer));
	ps.t = t;
	ps.flags = fz_u8(in);
	uint32_t expect = t->st_has_ack ? t->st_ack : t->pe_isn;
	switch (sel >> 4 & 3) {
	case 0: ps.seq = expect + (uint32_t)(int8_t)fz_u8(in); break;
	case 1: ps.seq = expect + (uint32_t)(int16_t)fz_u16(in); break;
	case 2: ps.seq = fz_u32(in); break;
	default: ps.seq = expect + (uint32_t)fz_u16(in) * 16u; break;
	}
	switch (sel >> 6) {
	case 0: ps.ack = t->st_nxt + (uint32_t)(int8_t)fz_u8(in); break;
	case 1: ps.ack = t->st_nxt + (uint32_t)(int16_t)fz_u16(in); break;
	case 2: ps.ack = fz_u32(in); break;
	default: ps.ack = t->st_iss + 1 + fz_u16(in); break;
	}
	uint8_t w = fz_u8(in);
	ps.wnd = (uint16_t)(w << 8 | w);
	ps.dlen = payload_len(fz_u8(in));
	uint8_t os = fz_u8(in);
	ps.bad_csum = os >> 7;
	switch (os & 3) {
	case 0:
		break;
	case 1:
	case 2: {
		struct hxs_sack_range sack[4];
		int nsack = 0;
		uint8_t sb = 0;
		uint16_t mss = 0;
		if (ps.flags & HXS_TH_SYN) {
			sb = fz_u8(in);
			mss = fz_u16(in);
		} else {
			nsack = (os >> 2 & 7) % 5;
		}
		for (int i = 0; i < nsack; i++) {
			sack[i].start = ps.ack + (uint32_t)fz_u16(in);
			sack[i].end = sack[i].start + fz_u16(in);
		}
		ps.olen = auto_opts(r, t, !!(ps.flags & HXS_TH_SYN), sb, mss, sack, nsack, ps.opt);
		break;
	}
	default: {
		size_t got;
		const uint8_t *raw = fz_bytes(in, (size_t)(os >> 2 & 15) * 4 > 40 ? 40 : (size_t)(os >> 2 & 15) * 4, &got);
		memcpy(ps.opt, raw, got);
		ps.olen = (uint32_t)got;
		break;
	}
	}
	peer_send(r, &ps);
}

/* The peer answers the stack's last segment on a tuple the way a TCP would. */
static void op_echo(struct run *r, struct fz *in)
{
	uint8_t e = fz_u8(in);
	uint8_t peer = e & 3;
	struct tup *t = tup_get(r, lport_of(e >> 2 & 1, peer), (uint16_t)(RPORT + peer));
	struct peerseg ps;
	memset(&ps, 0, sizeof(ps));
	ps.t = t;
	ps.wnd = 65535;
	if (t->st_flags == HXS_TH_SYN) {
		/* SYN -> SYN,ACK with the options a Linux peer offers (MSS from the byte). */
		ps.flags = HXS_TH_SYN | HXS_TH_ACK;
		ps.seq = t->pe_isn;
		ps.ack = t->st_iss + 1;
		ps.olen = auto_opts(r, t, 1, (uint8_t)(t->st_ts ? 0x3f : 0x3b), (uint16_t)(536 + (e >> 3) * 64), NULL, 0, ps.opt);
	} else {
		ps.flags = HXS_TH_ACK | ((e & 0x80) ? HXS_TH_FIN : 0);
		ps.seq = t->st_has_ack ? t->st_ack : t->pe_isn + 1;
		ps.ack = t->st_nxt;
		ps.dlen = (t->st_flags & HXS_TH_SYN) ? 0 : (uint32_t)(e >> 3 & 15) * 100u;
		ps.olen = auto_opts(r, t, 0, 0, 0, NULL, 0, ps.opt);
	}
	peer_send(r, &ps);
}

/* --- the application ------------------------------------------------------------------- */
static struct slot *slot_free(struct run *r)
{
	for (int i = 0; i < NSLOT; i++)
		if (!r->s[i].c)
			return &r->s[i];
	return NULL;
}

static struct slot *slot_pick(struct run *r, uint8_t b)
{
	for (int i = 0; i < NSLOT; i++) {
		struct slot *s = &r->s[(b + i) % NSLOT];
		if (s->c)
			return s;
	}
	return NULL;
}

static void op_connect(struct run *r, struct fz *in)
{
	uint8_t b = fz_u8(in);
	struct slot *s = slot_free(r);
	struct hxs_tcp_conn *c;
	if (!s || hxs_tcp_conn__new(r->tcp, &c))
		return;
	uint8_t peer = b & 3;
	if (b & 0x04)
		hxs_tcp_conn__setopt(c, HXS_TCP_O_NODELAY, 1);
	if (b & 0x08)
		hxs_tcp_conn__setopt(c, HXS_TCP_O_MAXSEG, 300);
	if (b & 0x10)
		hxs_tcp_conn__setopt(c, HXS_TCP_O_RCVBUF, 2048);
	if (b & 0x20)
		hxs_tcp_conn__setopt(c, HXS_TCP_O_LINGER, 0);
	if (b & 0x40) {
		hxs_tcp_conn__setopt(c, HXS_TCP_O_KEEPALIVE, 1);
		hxs_tcp_conn__setopt(c, HXS_TCP_O_KEEPIDLE, 1);
		hxs_tcp_conn__setopt(c, HXS_TCP_O_KEEPINTVL, 1);
	}
	if (b & 0x80)
		FZ_CHECK(hxs_tcp_conn__set_cc(c, "newreno") == 0, "newreno unknown");
	int rc = hxs_tcp_conn__connect(c, LOCAL, (uint16_t)(EPORT + peer), REMOTE, (uint16_t)(RPORT + peer), r->now);
	if (rc) {
		FZ_CHECK(rc == -EADDRNOTAVAIL || rc == -ENOMEM, "connect: %d", rc);
		hxs_tcp_conn__close(c);
		return;
	}
	s->c = c;
	s->sent = s->rcvd = s->skipped = 0;
}

static void op_accept(struct run *r)
{
	struct slot *s = slot_free(r);
	struct hxs_tcp_conn *c;
	if (!s || !r->listener)
		return;
	int rc = hxs_tcp_conn__accept(r->listener, &c);
	FZ_CHECK(rc == 0 || rc == -EAGAIN, "accept: %d", rc);
	if (rc)
		return;
	s->c = c;
	s->sent = s->rcvd = s->skipped = 0;
}

static void op_send(struct run *r, struct fz *in)
{
	uint8_t b = fz_u8(in);
	struct slot *s = slot_pick(r, b);
	if (!s)
		return;
	uint32_t k = b >> 3, len = k * k * 64u;
	uint8_t *buf = malloc(len ? len : 1);
	for (uint32_t i = 0; i < len; i++)
		buf[i] = app_byte(s->sent + i);
	long n = hxs_tcp_conn__send(s->c, buf, len);
	free(buf);
	FZ_CHECK(n <= (long)len, "send took %ld of %u", n, len);
	if (n > 0)
		s->sent += (uint64_t)n;
}

/* Did the peer send an urgent pointer at byte seq of tuple t? */
static int urg_at(const struct tup *t, uint32_t seq)
{
	for (int i = 0; i < t->pe_nurg; i++)
		if (t->pe_urg[i] == seq)
			return 1;
	return 0;
}

static void op_recv(struct run *r, struct fz *in)
{
	uint8_t b = fz_u8(in);
	struct slot *s = slot_pick(r, b);
	if (!s)
		return;
	uint32_t len = (uint32_t)(b >> 3 & 15) * 1024u + 1;
	unsigned flags = (b & 0x80) ? HXS_TCP_PEEK : 0;
	uint8_t *buf = malloc(len);
	long n = hxs_tcp_conn__recv(s->c, buf, len, flags);
	FZ_CHECK(n <= (long)len, "recv gave %ld of %u", n, len);
	struct tup *t = tup_get(r, s->c->lport, s->c->rport);
	uint64_t pos = s->rcvd + s->skipped;     /* stream offset of buf[0] */
	for (long i = 0; i < n; i++, pos++) {
		/* Without SO_OOBINLINE the urgent byte is not data: the stream steps over it
		 * (Linux's tcp_recvmsg; RFC 9293 §3.8.5 leaves delivery to the interface). */
		while (!s->c->oobinline && buf[i] != peer_byte(s->c->irs + 1 + (uint32_t)pos) &&
		       urg_at(t, s->c->irs + 1 + (uint32_t)pos))
			pos++;
		FZ_CHECK(buf[i] == peer_byte(s->c->irs + 1 + (uint32_t)pos),
			 "byte %llu of the stream (%llu read)", (unsigned long long)pos,
			 (unsigned long long)(s->rcvd + (uint64_t)i));
	}
	free(buf);
	if (n > 0 && !flags) {
		s->skipped = pos - s->rcvd - (uint64_t)n;
		s->rcvd += (uint64_t)n;
	}
}

/* What the socket layer asks between calls (TCP_INFO, poll, SO_ERROR), and a write pushed
 * out at once as it does: the answers agree with each other. */
static void op_status(struct run *r, struct slot *s)
{
	struct hxs_tcp_info info;
	hxs_tcp_conn__info(s->c, &info);
	uint32_t avail = hxs_tcp_conn__rx_avail(s->c), ev = hxs_tcp_conn__events(s->c);
	FZ_CHECK(info.rcv_queue == avail, "TCP_INFO rcv_queue %u, readable %u", info.rcv_queue, avail);
	/* Linux's tcp_poll(): when the next byte is the urgent mark and SO_OOBINLINE is off,
	 * that byte does not make the socket readable ("target++"); EPOLLPRI says it is there. */
	FZ_CHECK(!avail || (ev & EPOLLIN) || (avail == 1 && (ev & EPOLLPRI) && hxs_tcp_urg_atmark(s->c)),
		 "%u bytes readable, events %#x", avail, ev);
	FZ_CHECK(info.snd_queue <= s->c->snd.cap || !s->c->snd.cap, "snd_queue %u, buffer %u",
		 info.snd_queue, s->c->snd.cap);
	FZ_CHECK(hxs_tcp_conn__error(s->c) >= 0, "SO_ERROR negative");
	int v;
	for (int o = HXS_TCP_O_NODELAY; o <= HXS_TCP_O_LINGER; o++)
		hxs_tcp_conn__getopt(s->c, (enum hxs_tcp_opt)o, &v);
	FZ_CHECK(hxs_tcp_conn__getopt(s->c, HXS_TCP_O_NODELAY, &v) == 0 && v == (int)s->c->nodelay,
		 "TCP_NODELAY reads %d", v);
	hxs_tcp__output(s->c, r->now);
}

static void op_close(struct run *r, struct fz *in, int abort)
{
	uint8_t b = fz_u8(in);
	struct slot *s = slot_pick(r, b);
	if (!s)
		return;
	if (abort)
		hxs_tcp_conn__abort(s->c);
	else if (b & 8)
		hxs_tcp_conn__setopt(s->c, HXS_TCP_O_LINGER, 0);
	hxs_tcp_conn__close(s->c);
	s->c = NULL;
}

static void op_setopt(struct run *r, struct fz *in)
{
	uint8_t b = fz_u8(in), v = fz_u8(in);
	struct slot *s = slot_pick(r, b);
	if (!s)
		return;
	static const int vals[8] = { 0, 1, 2, 100, 536, 2048, 65536, -1 };
	hxs_tcp_conn__setopt(s->c, (enum hxs_tcp_opt)((b >> 3) % 9), vals[v & 7]);
}

static void op_listener(struct run *r, struct fz *in)
{
	uint8_t b = fz_u8(in);
	if (r->listener) {
		hxs_tcp_conn__close(r->listener);
		r->listener = NULL;
		return;
	}
	if (hxs_tcp_conn__new(r->tcp, &r->listener))
		return;
	if (b & 1)
		hxs_tcp_conn__setopt(r->listener, HXS_TCP_O_RCVBUF, 4096);
	if (b & 2)
		hxs_tcp_conn__setopt(r->listener, HXS_TCP_O_NODELAY, 1);
	FZ_CHECK(hxs_tcp_conn__listen(r->listener, 0, LPORT, b >> 4) == 0, "listen");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t mtus[4] = { 1500, 576, 9000, 1280 };
	static const uint32_t bufs[4] = { 0, 4096, 16384, 65536 };
	struct fz in = FZ_INIT(data, size);
	struct run *r = calloc(1, sizeof(*r));

	uint8_t c0 = fz_u8(&in);
	r->cfg.mtu = mtus[c0 & 3];
	r->cfg.no_sack = c0 >> 2 & 1;
	r->cfg.no_ts = c0 >> 3 & 1;
	r->cfg.no_ws = c0 >> 4 & 1;
	r->cfg.cc = (c0 >> 5 & 1) ? "newreno" : "cubic";
	r->cfg.sndbuf = r->cfg.rcvbuf = bufs[c0 >> 6];
	r->iss_base = fz_u32(&in);
	r->peer_isn = r->iss_base ^ 0x80000000u;
	uint8_t c5 = fz_u8(&in), c6 = fz_u8(&in), c7 = fz_u8(&in);
	r->peer_ts_base = (uint32_t)c5 << 24;
	r->cfg.challenge_ack_limit = c5 & 0x0f;
	r->cfg.max_syn_backlog = c6 & 7;
	r->cfg.msl_ms = (uint32_t)c7 * 200u;
	r->cfg.isn_hook = isn_hook;
	r->cfg.isn_hook_arg = r;
	static const struct hxs_tcp_tx_ops tx = { tx_alloc, tx_send, NULL };
	static const struct hxs_tcp_ev_ops ev = { ev_event, ev_tuple, ev_listen };
	r->now = 1000000;
	if (trace < 0)
		trace = getenv("FUZZ_TRACE") != NULL;
	FZ_CHECK(hxs_tcp__new(&r->tcp, &r->cfg, &tx, &ev, r, r->now) == 0, "new");
	r->cfg.mtu = r->tcp->cfg.mtu;       /* defaults filled in */
	FZ_CHECK(hxs_tcp_conn__new(r->tcp, &r->listener) == 0, "conn new");
	FZ_CHECK(hxs_tcp_conn__listen(r->listener, 0, LPORT, (c6 >> 3) + 1) == 0, "listen");

	while (fz_more(&in)) {
		uint8_t h = fz_u8(&in);
		if (trace > 0) {
			static const char *const names[16] = { "seg", "seg", "seg", "seg", "echo", "echo",
				"connect", "accept", "send", "recv", "shutdown/status", "close", "abort",
				"setopt", "listener", "seg" };
			fprintf(stderr, "  -- +%llu us, %s\n", (unsigned long long)dt_us[h >> 4], names[h & 15]);
		}
		run_until(r, r->now + dt_us[h >> 4]);
		switch (h & 15) {
		case 0: case 1: case 2: case 3: case 15:
			op_seg(r, &in);
			break;
		case 4: case 5:
			op_echo(r, &in);
			break;
		case 6: op_connect(r, &in); break;
		case 7: op_accept(r); break;
		case 8: op_send(r, &in); break;
		case 9: op_recv(r, &in); break;
		case 10: {
			uint8_t b = fz_u8(&in);
			struct slot *s = slot_pick(r, b);
			if (s && (b & 0x80))
				op_status(r, s);
			else if (s)
				hxs_tcp_conn__shutdown(s->c, (b >> 3) % 3);
			break;
		}
		case 11: op_close(r, &in, 0); break;
		case 12: op_close(r, &in, 1); break;
		case 13: op_setopt(r, &in); break;
		case 14: op_listener(r, &in); break;
		}
		run_until(r, r->now);
		check_table(r);
	}

	/* The application lets go of everything; then two hours without a word from the peer. */
	for (int i = 0; i < NSLOT; i++)
		if (r->s[i].c) {
			hxs_tcp_conn__abort(r->s[i].c);
			hxs_tcp_conn__close(r->s[i].c);
		}
	if (r->listener)
		hxs_tcp_conn__close(r->listener);
	run_until(r, r->now + 2 * 3600ull * 1000000);
	check_table(r);
	FZ_CHECK(hxs_tcp__nconns(r->tcp) == 0, "%u connections still in the table after 2 h of silence",
		 hxs_tcp__nconns(r->tcp));
	uint64_t a, f;
	hxs_tcp__alloc_stats(r->tcp, &a, &f);
	FZ_CHECK(a == f, "%llu connections allocated, %llu freed", (unsigned long long)a, (unsigned long long)f);
	FZ_CHECK(r->tuples == 0 && r->listens == 0, "%d tuples, %d listeners left in the maps", r->tuples, r->listens);
	FZ_CHECK(hxs_tcp__mib(r->tcp)[HXS_TCP_MIB_TcpCurrEstab] == 0, "TcpCurrEstab %llu",
		 (unsigned long long)hxs_tcp__mib(r->tcp)[HXS_TCP_MIB_TcpCurrEstab]);
	if (trace)
		for (int m = 0; m < HXS_TCP_MIB__COUNT; m++)
			if (hxs_tcp__mib(r->tcp)[m])
				fprintf(stderr, "  %s %llu\n", hxs_tcp_mib_names[m],
					(unsigned long long)hxs_tcp__mib(r->tcp)[m]);
	hxs_tcp__free(r->tcp);
	free(r);
	return 0;
}
