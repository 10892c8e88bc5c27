/* test_tcp_ack_rest.c - the rest of an ACK's processing run after the answer's segment
 * (tcp_ack_rest.c): the same segments, and the same state wherever it is read, as when it
 * runs at once.
 *
 * Scripted: one connection (tcp_harness.h) with timestamps and SACK, accepted from a
 * listener, runs a request/response exchange as the socket layer drives it: the peer's
 * answer goes in without the turn's tail (hxs_tcp__input() alone), the application reads it
 * and writes the next request, which goes at once (hxs_tcp__output(), the socket layer's
 * push), then the turn's tail (hxs_tcp__poll()). What comes first after an answer varies:
 * the next request (the rest runs in hxs_tcp_send_seg), tcp_info, another segment of the
 * peer in the same burst, the turn's tail and the delayed-ACK timer; a request of several
 * segments is acknowledged in part first (a pure ACK, the long way). Answers of 64 bytes, and
 * of 3000 (two segments: the ACK goes at once, from an output with nothing to send while the
 * rest is pending, which marks the application-limited phase from C.delivered).
 * Lossy link: two cores over netsim (0, 2, 5 % loss with duplication and reordering) in the
 * same order, A's requests of 1 to 20000 bytes, B's answers of as many.
 *
 * Each runs with BBR, CUBIC and NewReno, twice: cfg.ack_rest_now = 1 (the rest always at
 * once) and 0. Checked: the same segments in both runs (scripted: flags, sequence and
 * acknowledgment numbers relative to the ISS, window field, options with TSval relative to
 * the connection's offset, payload, time; lossy link: a hash of every frame's bytes and
 * time, their number), the same tcp_info wherever it was taken, the same counters; the rest
 * (with the answer's output, which had nothing to send) was left pending after most answers
 * in the second run and never in the first, and had run once the next request was on its
 * way and after the turn's tail.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hxs/hxs.h"
#include "tcp_harness.h"

#define PISN 5000u
#define ISS 1000000u
#define ROUNDS 60
#define MAXSEGS 1024
#define MAXINFO 64

struct norm {
	uint8_t flags, tos, ttl;
	uint32_t seq, ack, wnd, len, hlen;
	int has_ts, nsack;
	uint32_t tsval, tsecr;
	uint64_t t;
	uint8_t data[64];           /* the payload's first bytes (a request is a pattern) */
};

struct run {
	struct norm seg[MAXSEGS];
	int nseg;
	struct hxs_tcp_info info[MAXINFO];
	int ninfo;
	int pending_after_input;    /* answers after which the rest was pending */
	int pending_after_push;     /* of those, still pending after the next request went */
	int pending_after_tail;     /* pending after the turn's tail (hxs_tcp__poll) */
	int output_in_rest;         /* answers whose output (nothing to send) joined the rest */
	int answers;
	uint64_t mib[HXS_TCP_MIB__COUNT];
};

static uint32_t fixed_iss(void *arg, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	(void)arg;
	(void)laddr;
	(void)lport;
	(void)raddr;
	(void)rport;
	return ISS;
}

static struct ts *t;
static struct hxs_tcp_conn *c;
static uint32_t peer_ts = 100, our_tsval, peer_sent;
static uint32_t answer_len = 64;    /* the peer's answer to each request */

static void record(struct run *r)
{
	struct ts_seg s;

	while (ts_pop(t, &s)) {
		struct norm *n = &r->seg[r->nseg < MAXSEGS ? r->nseg : MAXSEGS - 1];

		memset(n, 0, sizeof(*n));
		n->flags = s.flags;
		n->tos = s.tos;
		n->ttl = s.ttl;
		n->seq = s.seq - ISS;
		n->ack = s.ack;
		n->wnd = s.wnd;
		n->len = s.len;
		n->hlen = s.hlen;
		n->has_ts = s.opt.has_ts;
		n->nsack = s.opt.nsack;
		n->tsval = s.opt.tsval - (c ? c->ts_offset : 0);
		n->tsecr = s.opt.tsecr;
		n->t = s.t;
		memcpy(n->data, s.data, s.len < sizeof(n->data) ? s.len : sizeof(n->data));
		if (s.opt.has_ts)
			our_tsval = s.opt.tsval;
		if (r->nseg < MAXSEGS)
			r->nseg++;
	}
}

/* The peer's segment: len bytes of data (0: a pure ACK) acknowledging ack, in without the
 * turn's tail; burst: in the same receive burst as the last one (no timers before it). */
static void peer_in_burst(uint64_t now, uint32_t ack, uint32_t len, int burst)
{
	static uint8_t data[4096];
	struct hxs_tcp_opts o;
	uint8_t buf[20 + 40 + sizeof(data)];

	memset(&o, 0, sizeof(o));
	o.has_ts = 1;
	o.tsval = ++peer_ts;
	o.tsecr = our_tsval;
	for (uint32_t i = 0; i < len; i++)
		data[i] = (uint8_t)(peer_sent + i);
	uint32_t n = ts_build(buf, &(const struct ts_pkt){ .flags = HXS_TH_ACK | (len ? HXS_TH_PSH : 0),
							   .seq = PISN + 1 + peer_sent, .ack = ack,
							   .wnd = 65535, .opt = &o, .data = data,
							   .len = len });
	if (!burst)
		ts_run_until(t, now);
	CHECK_EQ(hxs_tcp__input(t->tcp, TS_REMOTE, TS_LOCAL, buf, n, 0, now), 0);
	peer_sent += len;
}

static void peer_in(uint64_t now, uint32_t ack, uint32_t len)
{
	peer_in_burst(now, ack, len, 0);
}

static void info(struct run *r)
{
	if (r->ninfo < MAXINFO)
		hxs_tcp_conn__info(c, &r->info[r->ninfo++]);
}

static void script(const char *cc, int now_mode, struct run *r)
{
	struct hxs_tcp_cfg cfg;
	struct hxs_tcp_conn *l;
	struct hxs_tcp_opts o = ts_mss_opt(1460);
	struct ts_seg s;
	static uint8_t req[6000], got[4096];
	uint64_t now = 1000000;
	uint32_t sent = 0;            /* our bytes written */

	memset(r, 0, sizeof(*r));
	memset(&cfg, 0, sizeof(cfg));
	cfg.cc = cc;
	cfg.ack_rest_now = (uint8_t)now_mode;
	cfg.isn_hook = fixed_iss;
	t = ts_new(&cfg);
	c = NULL;
	peer_ts = 100;
	peer_sent = 0;
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &l), 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8), 0);
	o.has_ts = 1;
	o.tsval = peer_ts;
	o.sack_perm = 1;
	ts_syn(t, now, PISN, &o);
	CHECK(ts_pop(t, &s) && s.flags == (HXS_TH_SYN | HXS_TH_ACK) && s.seq == ISS, "SYN,ACK");
	our_tsval = s.opt.tsval;
	now += 300;
	peer_in(now, ISS + 1, 0);
	hxs_tcp__poll(t->tcp, now);
	CHECK_EQ(hxs_tcp_conn__accept(l, &c), 0);
	CHECK(c && c->state == HXS_TCPS_ESTABLISHED && c->ts_ok && c->sack_ok && c->rk.on,
	      "established with timestamps, SACK and RACK");
	record(r);

	for (int i = 0; i < ROUNDS; i++) {
		/* the request: 64 bytes, every seventh several segments */
		uint32_t n = i % 7 == 3 ? 5000 : 64;

		for (uint32_t k = 0; k < n; k++)
			req[k] = (uint8_t)(sent + k);
		CHECK_EQ(hxs_tcp_conn__send(c, req, n), (long)n);
		sent += n;
		hxs_tcp__output(c, now);      /* the socket layer's push */
		hxs_tcp__poll(t->tcp, now);   /* the turn's tail */
		record(r);

		/* the answer, after a round trip of 300-900 us; a request of several segments
		 * is acknowledged in part first (a pure ACK: the long way, no deferral) */
		now += 300 + (uint64_t)(i % 5) * 150;
		if (i % 7 == 3) {
			peer_in(now, c->snd_max - 2000, 0);
			hxs_tcp__poll(t->tcp, now);
			record(r);
			now += 100;
		}
		peer_in(now, c->snd_max, answer_len);
		r->answers++;
		int pending = c->ar_pprev != NULL;

		r->pending_after_input += pending;
		r->output_in_rest += c->ar_output;

		switch (i % 5) {
		case 1:                                 /* tcp_info first */
			info(r);
			break;
		case 2:         /* another segment of the peer in the same burst first */
			peer_in_burst(now, c->snd_max, 64, 1);
			break;
		case 3:                                 /* the turn's tail, then the delayed ACK */
			hxs_tcp__poll(t->tcp, now);
			r->pending_after_tail += c->ar_pprev != NULL;
			record(r);
			now += 50000;
			ts_run_until(t, now);
			record(r);
			info(r);
			break;
		default:
			break;
		}
		/* the application reads the answer; the next request goes at the loop's top */
		while (hxs_tcp_conn__recv(c, got, sizeof(got), 0) > 0)
			;
		if (i % 5 == 0) {
			/* the next request is this round's output: the rest must have run by the
			 * time it is on its way */
			for (uint32_t k = 0; k < 64; k++)
				req[k] = (uint8_t)(sent + k);
			CHECK_EQ(hxs_tcp_conn__send(c, req, 64), 64);
			sent += 64;
			hxs_tcp__output(c, now);
			r->pending_after_push += pending && c->ar_pprev != NULL;
			record(r);
			now += 200;
			peer_in(now, c->snd_max, 64);
			while (hxs_tcp_conn__recv(c, got, sizeof(got), 0) > 0)
				;
		}
		hxs_tcp__poll(t->tcp, now);
		record(r);
	}
	info(r);
	memcpy(r->mib, hxs_tcp__mib(t->tcp), sizeof(r->mib));
	hxs_tcp_conn__close(l);
	CHECK_EQ(ts_close_all(t, &c, 1), hxs_tcp__nconns(t->tcp));
	ts_free(t);
	t = NULL;
}


/* --- two cores over a lossy link, in the socket layer's order ------------------------------- */
/* Each step: the frames due go in (hxs_tcp__input() alone: one receive burst), each end's
 * application reads what came, writes what it owes and pushes it (hxs_tcp__output()), then
 * each end's turn tail (hxs_tcp__poll()). A sends requests of varying size, B answers each
 * with as many bytes once it has read the whole request. Every frame either core emits is
 * hashed as the link gets it. */
struct xrun {
	uint64_t hash, frames, deferred, done, now;
	uint64_t mib[2][HXS_TCP_MIB__COUNT];
};

struct xsim {
	struct netsim *ns;
	struct hxs_tcp *tcp[2];
	struct hxs_tcp_conn *c[2];
	uint64_t now;
	struct xrun *r;
};

struct xframe {
	uint32_t cap;
	uint8_t b[];
};

static struct xsim *xs_cur;

static uint8_t *x_alloc(void *ctx, uint32_t len, void **h)
{
	struct xframe *f = malloc(sizeof(*f) + len);

	(void)ctx;
	if (!f)
		return NULL;
	f->cap = len;
	*h = f;
	return f->b;
}

static void x_send(void *ctx, void *h, struct hxs_addr sa, struct hxs_addr da, uint32_t len,
		   uint8_t tos, uint8_t ttl)
{
	struct xframe *f = h;
	int port = (int)(intptr_t)ctx;
	uint64_t x = xs_cur->r->hash ^ ((uint64_t)port << 32 | (uint64_t)tos << 40 | len);

	(void)sa;
	(void)da;
	(void)ttl;
	x = (x ^ xs_cur->now) * 0x100000001b3ull;
	for (uint32_t i = 0; i < len; i++)
		x = (x ^ f->b[i]) * 0x100000001b3ull;
	xs_cur->r->hash = x;
	xs_cur->r->frames++;
	netsim_send(xs_cur->ns, port, f->b, len, xs_cur->now);
	free(f);
}

/* port: the receiving end */
static void x_rx(void *ctx, int port, const uint8_t *buf, size_t len, uint64_t now)
{
	struct xsim *x = ctx;
	int to = port;

	hxs_tcp__input(x->tcp[to], TS_LOCAL + (uint32_t)!port * 0x01000000u,
		       TS_LOCAL + (uint32_t)to * 0x01000000u, buf, (uint32_t)len, 0, now);
	if (x->c[to] && x->c[to]->ar_pprev)
		x->r->deferred++;
}

#define XREQS 400

static void xsim(const char *cc, double loss, uint64_t seed, int now_mode, struct xrun *r)
{
	static const struct hxs_tcp_tx_ops tx = { x_alloc, x_send, NULL };
	static const struct hxs_tcp_ev_ops ev = { 0 };
	static const uint32_t sizes[] = { 64, 64, 300, 64, 5000, 64, 64, 20000, 1, 64, 2900 };
	static uint8_t buf[32768];
	struct netsim_cfg nc;
	struct hxs_tcp_cfg cfg;
	struct xsim x;
	struct hxs_tcp_conn *l;
	uint64_t a_sent = 0, a_got = 0, b_got = 0, b_sent = 0, want = 0;

	memset(r, 0, sizeof(*r));
	memset(&nc, 0, sizeof(nc));
	for (int d = 0; d < 2; d++) {
		nc.dir[d].delay_us = 200;
		nc.dir[d].bandwidth_bps = 1000000000;
		nc.dir[d].loss = loss;
		nc.dir[d].dup = loss / 4;
		nc.dir[d].reorder = loss;
		nc.dir[d].reorder_us = 300;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.cc = cc;
	cfg.ack_rest_now = (uint8_t)now_mode;
	memset(&x, 0, sizeof(x));
	x.r = r;
	x.now = 1000000;
	xs_cur = &x;
	x.ns = netsim_new(&nc, seed);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(hxs_tcp__new(&x.tcp[i], &cfg, &tx, &ev, (void *)(intptr_t)i, x.now), 0);
	CHECK_EQ(hxs_tcp_conn__new(x.tcp[1], &l), 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8), 0);
	CHECK_EQ(hxs_tcp_conn__new(x.tcp[0], &x.c[0]), 0);
	CHECK_EQ(hxs_tcp_conn__connect(x.c[0], TS_LOCAL, TS_EPORT, TS_LOCAL + 0x01000000u,
				       TS_LPORT, 0), 0);
	hxs_tcp__output(x.c[0], x.now);
	while (r->done < XREQS && x.now < 120000000ull) {
		netsim_deliver(x.ns, x.now, x_rx, &x);
		if (!x.c[1])
			hxs_tcp_conn__accept(l, &x.c[1]);
		/* A: the next request once the last answer is in */
		if (x.c[0]->state == HXS_TCPS_ESTABLISHED) {
			long n;

			while ((n = hxs_tcp_conn__recv(x.c[0], buf, sizeof(buf), 0)) > 0)
				a_got += (uint64_t)n;
			if (a_got == want && a_sent == want) {
				uint32_t len = sizes[r->done % (sizeof(sizes) / sizeof(sizes[0]))];

				if (r->done)
					r->done++;
				else if (!want)
					r->done = 1;
				want += len;
			}
			if (a_sent < want) {
				n = hxs_tcp_conn__send(x.c[0], buf, (size_t)(want - a_sent));
				if (n > 0) {
					a_sent += (uint64_t)n;
					hxs_tcp__output(x.c[0], x.now);
				}
			}
		}
		/* B: answers what it has read */
		if (x.c[1]) {
			long n;

			while ((n = hxs_tcp_conn__recv(x.c[1], buf, sizeof(buf), 0)) > 0)
				b_got += (uint64_t)n;
			if (b_sent < b_got) {
				n = hxs_tcp_conn__send(x.c[1], buf, (size_t)(b_got - b_sent));
				if (n > 0) {
					b_sent += (uint64_t)n;
					hxs_tcp__output(x.c[1], x.now);
				}
			}
		}
		for (int i = 0; i < 2; i++)
			hxs_tcp__poll(x.tcp[i], x.now);
		uint64_t next = netsim_next(x.ns);
		for (int i = 0; i < 2; i++) {
			uint64_t d = hxs_tcp__next_deadline(x.tcp[i]);

			if (d < next)
				next = d;
		}
		if (next == UINT64_MAX)
			break;
		x.now = next > x.now ? next : x.now + 1;
	}
	r->now = x.now;
	for (int i = 0; i < 2; i++)
		memcpy(r->mib[i], hxs_tcp__mib(x.tcp[i]), sizeof(r->mib[i]));
	for (int i = 0; i < 2; i++)
		hxs_tcp__free(x.tcp[i]);
	netsim_free(x.ns);
	xs_cur = NULL;
}

static struct run at_once, later;
static struct xrun x_once, x_later;

static void t_case_cc(const char *cc, const char *what)
{
	static char names[16][160];     /* t_case() keeps the pointer until the next case */
	static unsigned k;
	char *name = names[k++ % 16];

	snprintf(name, 160, "%s: %s", cc, what);
	t_case(name);
}

int main(void)
{
	static const char *const ccs[] = { "bbr", "cubic", "newreno" };

	for (unsigned q = 0; q < 2 * sizeof(ccs) / sizeof(ccs[0]); q++) {
		const char *cc = ccs[q % 3];
		char ccname[32];

		answer_len = q < 3 ? 64 : 3000;
		snprintf(ccname, sizeof(ccname), "%s, %u-byte answers", ccs[q % 3], answer_len);
		script(cc, 1, &at_once);
		script(cc, 0, &later);
		cc = ccname;

		t_case_cc(cc, "the rest was left for later after most answers, never with ack_rest_now");
		CHECK_EQ(at_once.pending_after_input, 0);
		CHECK_EQ(at_once.output_in_rest, 0);
		if (answer_len == 64) {
			CHECK(later.pending_after_input >= later.answers / 2, "%d of %d answers",
			      later.pending_after_input, later.answers);
			CHECK(later.output_in_rest >= later.answers / 2,
			      "output in the rest after %d of %d", later.output_in_rest, later.answers);
		} else {
			/* the ACK's own output (nothing to send) ran the rest before its mark */
			CHECK_EQ(later.pending_after_input, 0);
			CHECK_EQ(later.output_in_rest, 0);
		}
		/* (CUBIC's on_idle_end has the write run it before the segment, tcp_user.c) */
		t_case_cc(cc, "the next request's write or segment ran the rest, so did the tail");
		CHECK_EQ(later.pending_after_push, 0);
		CHECK_EQ(later.pending_after_tail, 0);

		t_case_cc(cc, "the same segments");
		CHECK_EQ(later.nseg, at_once.nseg);
		CHECK(at_once.nseg > ROUNDS && at_once.nseg < MAXSEGS, "%d segments", at_once.nseg);
		for (int i = 0; i < at_once.nseg && i < later.nseg; i++) {
			const struct norm *a = &at_once.seg[i], *b = &later.seg[i];

			if (!CHECK(!memcmp(a, b, sizeof(*a)),
				   "segment %d: flags %#x/%#x seq %u/%u ack %u/%u wnd %u/%u len %u/%u "
				   "tsval %u/%u tsecr %u/%u t %llu/%llu", i, a->flags, b->flags, a->seq,
				   b->seq, a->ack, b->ack, a->wnd, b->wnd, a->len, b->len, a->tsval,
				   b->tsval, a->tsecr, b->tsecr, (unsigned long long)a->t,
				   (unsigned long long)b->t))
				break;
		}
		t_case_cc(cc, "the same tcp_info wherever it was read");
		CHECK_EQ(later.ninfo, at_once.ninfo);
		for (int i = 0; i < at_once.ninfo && i < later.ninfo; i++) {
			const struct hxs_tcp_info *a = &at_once.info[i], *b = &later.info[i];

			if (!CHECK(!memcmp(a, b, sizeof(*a)), "tcp_info %d: cwnd %u/%u rtt %u/%u "
				   "pacing %llu/%llu rate %llu/%llu", i, a->snd_cwnd, b->snd_cwnd,
				   a->rtt_us, b->rtt_us, (unsigned long long)a->pacing_rate,
				   (unsigned long long)b->pacing_rate, (unsigned long long)a->delivery_rate,
				   (unsigned long long)b->delivery_rate))
				break;
		}
		t_case_cc(cc, "the same counters (the header predictions, RACK's, the congestion control's)");
		for (int m = 0; m < HXS_TCP_MIB__COUNT; m++)
			if (!CHECK(at_once.mib[m] == later.mib[m], "%s %llu/%llu", hxs_tcp_mib_names[m],
				   (unsigned long long)at_once.mib[m], (unsigned long long)later.mib[m]))
				break;
	}
	for (unsigned k = 0; k < sizeof(ccs) / sizeof(ccs[0]); k++) {
		static const double losses[] = { 0, 0.02, 0.05 };

		for (unsigned j = 0; j < 3; j++) {
			static char what[96];

			xsim(ccs[k], losses[j], 7 + j, 1, &x_once);
			xsim(ccs[k], losses[j], 7 + j, 0, &x_later);
			snprintf(what, sizeof(what), "lossy link %.0f%%: every frame and counter the same",
				 losses[j] * 100);
			t_case_cc(ccs[k], what);
			CHECK_EQ(x_once.done, XREQS);
			CHECK_EQ(x_once.deferred, 0);
			CHECK(x_later.deferred > XREQS / 2, "%llu deferred",
			      (unsigned long long)x_later.deferred);
			CHECK_EQ(x_later.frames, x_once.frames);
			CHECK_EQ(x_later.hash, x_once.hash);
			CHECK_EQ(x_later.now, x_once.now);
			for (int i = 0; i < 2; i++)
				for (int m = 0; m < HXS_TCP_MIB__COUNT; m++)
					if (!CHECK(x_once.mib[i][m] == x_later.mib[i][m], "%c %s %llu/%llu",
						   'A' + i, hxs_tcp_mib_names[m],
						   (unsigned long long)x_once.mib[i][m],
						   (unsigned long long)x_later.mib[i][m]))
						break;
		}
	}
	return t_done();
}
