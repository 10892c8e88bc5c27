/* test_tcp_script.c - packetdrill-style scripts against one TCP core: inject a segment at a
 * time, assert the exact segments it emits (flags, seq, ack, window, options), the state and
 * the counters. Covers the transitions of RFC 9293's state diagram, RSTs in each state,
 * RFC 5961 challenge ACKs, PAWS, and every timer. The peer is TS_REMOTE:40000, the stack
 * TS_LOCAL:80 (listener) or TS_EPORT (active opens). */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "check.h"
#include "hxs/hxs.h"
#include "tcp_harness.h"
#pragma GCC diagnostic ignored "-Wformat-zero-length"
__attribute__((constructor)) static void unbuffer(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

#define MS 1000ull
#define S 1000000ull
#define PISN 1000u                     /* the peer's ISN */
#define TICK HXS_WHEEL_TICK_US

static const uint64_t *mib(struct ts *t) { return hxs_tcp__mib(t->tcp); }
#define MIBV(t, name) (mib(t)[HXS_TCP_MIB_##name])

/* The window field and options a segment must carry unless its EXPECT line states them (RFC
 * 6528's ISS and RFC 7323's TSval offset are the stack's secrets: the ISS is learnt from the
 * first SYN with EXPECT_ISS, a TSval never compared). A script sets them as the options are
 * agreed; mk() resets them to what a peer offering only MSS 1460 gets from a default stack:
 *   SYN       window 65535, MSS 1460, window scale 3 (256 KiB buffer), SACK permitted, TS
 *             with TSecr 0 (RFC 7323 §3.2)
 *   SYN,ACK   window 65535, MSS 1460 only (no option the peer did not offer)
 *   others    window 65535 (unscaled: nothing agreed), no options
 *   RST       window 0, no options (always) */
struct want {
	uint16_t wnd;
	struct hxs_tcp_opts opt;
	int tsecr_any;                  /* with has_ts: any TSecr */
};
static struct want want_syn, want_synack, want_seg;
static struct ts_seg last;

static void want_reset(void)
{
	memset(&want_syn, 0, sizeof(want_syn));
	want_syn.wnd = 65535;
	want_syn.opt = (struct hxs_tcp_opts){ .has_mss = 1, .mss = 1460, .has_ws = 1, .ws = 3,
					      .sack_perm = 1, .has_ts = 1 };
	memset(&want_synack, 0, sizeof(want_synack));
	want_synack.wnd = 65535;
	want_synack.opt = (struct hxs_tcp_opts){ .has_mss = 1, .mss = 1460 };
	memset(&want_seg, 0, sizeof(want_seg));
	want_seg.wnd = 65535;
}

#define OPT_FIELD(f) t_check(s->opt.f == o->f, file, line, "options." #f, "%lld != %lld", \
			     (long long)s->opt.f, (long long)o->f)
/* Pops one segment into `last` (zeroed if there is none) and checks every field: flags, seq
 * (unless iss: then stored there), ack (if ACK), window (wnd < 0: the default for its kind),
 * options (o NULL: the default), checksum. Returns 1 if all matched. */
static int expect_seg(struct ts *t, uint8_t fl, uint32_t sq, uint32_t ak, long wnd,
		      const struct hxs_tcp_opts *o, uint32_t *iss, const char *file, int line)
{
	const struct ts_seg *s = &last;
	const struct want *w;
	int tsecr_any = 0, ok;

	if (!t_check(ts_pop(t, &last), file, line, "ts_pop(t, &last)", "no segment emitted"))
		return 0;
	w = (s->flags & HXS_TH_RST) ? NULL : (s->flags & HXS_TH_SYN) ?
	    ((s->flags & HXS_TH_ACK) ? &want_synack : &want_syn) : &want_seg;
	if (wnd < 0)
		wnd = w ? w->wnd : 0;
	if (!o) {
		static const struct hxs_tcp_opts none;
		o = w ? &w->opt : &none;
		tsecr_any = w ? w->tsecr_any : 0;
	}
	ok = t_check(s->flags == fl, file, line, "flags", "%#x != %#x", s->flags, fl);
	if (iss)
		*iss = s->seq;
	else
		ok &= t_check(s->seq == sq, file, line, "seq", "%u != %u", s->seq, sq);
	if (fl & HXS_TH_ACK)
		ok &= t_check(s->ack == ak, file, line, "ack", "%u != %u", s->ack, ak);
	ok &= t_check(s->wnd == (uint32_t)wnd, file, line, "window", "%u != %ld", s->wnd, wnd);
	ok &= t_check(s->csum_ok, file, line, "checksum", "bad");
	ok &= t_check(s->opt_ok, file, line, "options", "malformed");
	ok &= OPT_FIELD(has_mss) && (!o->has_mss || OPT_FIELD(mss));
	ok &= OPT_FIELD(has_ws) && (!o->has_ws || OPT_FIELD(ws));
	ok &= OPT_FIELD(sack_perm);
	ok &= OPT_FIELD(has_ts) && (!o->has_ts || tsecr_any || OPT_FIELD(tsecr));
	ok &= OPT_FIELD(nsack);
	for (int i = 0; i < o->nsack && i < s->opt.nsack; i++) {
		ok &= OPT_FIELD(sack[i].start);
		ok &= OPT_FIELD(sack[i].end);
	}
	return ok;
}
/* A segment with the default window and options of its kind. */
#define EXPECT(t, fl, sq, ak) expect_seg(t, fl, sq, ak, -1, NULL, NULL, __FILE__, __LINE__)
/* With this window, the default options. */
#define EXPECT_W(t, fl, sq, ak, w) expect_seg(t, fl, sq, ak, w, NULL, NULL, __FILE__, __LINE__)
/* With this window and exactly these options, as designated initializers of struct
 * hxs_tcp_opts (none: no options; TSval never compared):
 *   EXPECT_WO(t, HXS_TH_ACK, seq, ack, 32768, .has_ts = 1, .tsecr = 5556) */
#define EXPECT_WO(t, fl, sq, ak, w, ...) \
	expect_seg(t, fl, sq, ak, w, &(const struct hxs_tcp_opts){ __VA_ARGS__ }, NULL, __FILE__, __LINE__)
/* The same with the options in a struct (built in a loop). */
#define EXPECT_OPTS(t, fl, sq, ak, w, o) expect_seg(t, fl, sq, ak, w, o, NULL, __FILE__, __LINE__)
/* The stack's SYN or SYN,ACK, its ISS learnt into *iss (the one sequence number a script
 * cannot know: RFC 6528). */
#define EXPECT_ISS(t, fl, ak, iss) expect_seg(t, fl, 0, ak, -1, NULL, iss, __FILE__, __LINE__)
#define EXPECT_NONE(t) CHECK_EQ(ts_pending(t), 0)

/* The RFC 6675 / RFC 6582 recovery, selected (RACK-TLP is the default with SACK). */
static struct ts *mk6675(void)
{
	struct hxs_tcp_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.recovery = HXS_TCP_RECOVERY_SACK;
	want_reset();
	return ts_new(&cfg);
}

static struct ts *mk(uint32_t retries2)
{
	struct hxs_tcp_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.retries2 = retries2;
	want_reset();
	return ts_new(&cfg);
}

/* A stack of this configuration; the expectations back to their defaults. */
static struct ts *mkcfg(const struct hxs_tcp_cfg *cfg)
{
	want_reset();
	return ts_new(cfg);
}

static struct hxs_tcp_opts mss_only(uint16_t mss)
{
	struct hxs_tcp_opts o;
	memset(&o, 0, sizeof(o));
	o.has_mss = 1;
	o.mss = mss;
	return o;
}

/* Passive open with a peer that offers only MSS 1460; returns the child and our ISS. */
static struct hxs_tcp_conn *passive(struct ts *t, uint64_t now, struct hxs_tcp_conn **lst, uint32_t *iss)
{
	struct hxs_tcp_conn *l, *c = NULL;
	struct hxs_tcp_opts o = mss_only(1460);
	CHECK(hxs_tcp_conn__new(t->tcp, &l) == 0);
	CHECK(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8) == 0);
	ts_syn(t, now, PISN, &o);
	EXPECT_ISS(t, HXS_TH_SYN | HXS_TH_ACK, PISN + 1, iss);
	ts_ack(t, now, PISN + 1, *iss + 1);
	EXPECT_NONE(t);
	CHECK(hxs_tcp_conn__accept(l, &c) == 0);
	*lst = l;
	return c;
}

/* Active open to TS_REMOTE:TS_RPORT from TS_LOCAL:TS_LPORT; the peer answers MSS 1460. */
static struct hxs_tcp_conn *active(struct ts *t, uint64_t now, uint32_t *iss)
{
	struct hxs_tcp_conn *c;
	struct hxs_tcp_opts o = mss_only(1460);
	CHECK(hxs_tcp_conn__new(t->tcp, &c) == 0);
	CHECK(hxs_tcp_conn__connect(c, TS_LOCAL, TS_LPORT, TS_REMOTE, TS_RPORT, now) == 0);
	EXPECT_ISS(t, HXS_TH_SYN, 0, iss);
	ts_synack(t, now, PISN, *iss + 1, &o);
	EXPECT(t, HXS_TH_ACK, *iss + 1, PISN + 1);
	return c;
}

static void test_passive_open(void)
{
	t_case("LISTEN -> SYN-RECEIVED -> ESTABLISHED: SYN,ACK with options, accept");
	struct ts *t = mk(0);
	struct hxs_tcp_conn *l, *c;
	struct hxs_tcp_opts o;
	memset(&o, 0, sizeof(o));
	o.has_mss = 1;
	o.mss = 1400;
	o.has_ws = 1;
	o.ws = 7;
	o.sack_perm = 1;
	o.has_ts = 1;
	o.tsval = 5555;
	CHECK(hxs_tcp_conn__new(t->tcp, &l) == 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8), 0);
	CHECK_EQ(t->listens, 1);
	CHECK_EQ(hxs_tcp_conn__accept(l, &c), -EAGAIN);
	ts_syn(t, 10 * MS, PISN, &o);
	uint32_t iss;
	/* SYN windows are not scaled; a 256 KiB buffer needs shift 3; every option offered back */
	want_synack.opt = (struct hxs_tcp_opts){ .has_mss = 1, .mss = 1460, .has_ws = 1, .ws = 3,
						 .sack_perm = 1, .has_ts = 1, .tsecr = 5555 };
	EXPECT_ISS(t, HXS_TH_SYN | HXS_TH_ACK, PISN + 1, &iss);
	CHECK_EQ(MIBV(t, TcpPassiveOpens), 1);
	CHECK_EQ(t->tuples, 1);
	/* A SYN costs a connection object, no buffer memory (allocated at ESTABLISHED). */
	struct hxs_tcp_conn *child = hxs_tcp_lookup(t->tcp, TS_LOCAL, TS_LPORT, TS_REMOTE, TS_RPORT);
	CHECK(child && !child->snd.cap && !child->rcv.cap && !child->snd.chunk);
	/* Handshake ACK with window 100 << 7. */
	o.has_ts = 1;
	o.tsval = 5556;
	o.tsecr = last.opt.tsval;
	TS_IN(t, 20 * MS, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss + 1, .wnd = 100,
	      .opt = &o);
	EXPECT_NONE(t);
	CHECK_EQ(hxs_tcp_conn__events(l), EPOLLIN);
	CHECK_EQ(hxs_tcp_conn__accept(l, &c), 0);
	CHECK(c == child && c->rcv.cap == 256 * 1024 && c->snd.cap == 256 * 1024);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_ESTABLISHED);
	CHECK_EQ(MIBV(t, TcpCurrEstab), 1);
	struct hxs_tcp_info info;
	hxs_tcp_conn__info(c, &info);
	CHECK_EQ(info.snd_wnd, 100 << 7);
	CHECK_EQ(info.snd_mss, 1400 - 12);     /* peer MSS less the timestamp option */
	CHECK_EQ(info.snd_cwnd, 10);           /* RFC 6928 IW10 */
	CHECK(hxs_tcp_conn__events(c) & EPOLLOUT);
	/* Data now carries TS and a scaled window. */
	CHECK_EQ(hxs_tcp_conn__send(c, "hello", 5), 5);
	ts_run_until(t, 20 * MS);
	EXPECT_WO(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1, PISN + 1, (256 * 1024) >> 3, .has_ts = 1, .tsecr = 5556);
	CHECK_EQ(last.len, 5);
	CHECK(!memcmp(last.data, "hello", 5));
	hxs_tcp_conn__close(c);
	hxs_tcp_conn__close(l);
	ts_free(t);
}

static void test_active_open(void)
{
	t_case("CLOSED -> SYN-SENT -> ESTABLISHED, the caller's local port, SYN options");
	struct ts *t = mk(0);
	struct hxs_tcp_conn *c;
	CHECK(hxs_tcp_conn__new(t->tcp, &c) == 0);
	CHECK_EQ(hxs_tcp_conn__send(c, "x", 1), -ENOTCONN);
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, 0, TS_REMOTE, TS_RPORT, 0), -EINVAL);
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, TS_EPORT, TS_REMOTE, TS_RPORT, 0), 0);
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, TS_EPORT, TS_REMOTE, TS_RPORT, 0), -EALREADY);
	uint32_t iss;
	EXPECT_ISS(t, HXS_TH_SYN, 0, &iss);
	uint16_t lport = last.sport;
	CHECK_EQ(lport, TS_EPORT);
	CHECK(last.opt.has_mss && last.opt.mss == 1460 && last.opt.has_ws && last.opt.sack_perm &&
	      last.opt.has_ts && last.opt.tsecr == 0);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_SYN_SENT);
	CHECK_EQ(hxs_tcp_conn__events(c) & EPOLLOUT, 0);
	struct hxs_tcp_opts o = mss_only(1460);
	TS_IN(t, 5 * MS, .lport = lport, .flags = HXS_TH_SYN | HXS_TH_ACK, .seq = PISN,
	      .ack = iss + 1, .wnd = 65535, .opt = &o);
	EXPECT(t, HXS_TH_ACK, iss + 1, PISN + 1);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_ESTABLISHED);
	CHECK_EQ(MIBV(t, TcpActiveOpens), 1);
	struct hxs_tcp_info info;
	hxs_tcp_conn__info(c, &info);
	CHECK_EQ(info.snd_mss, 1460);          /* peer offered no timestamps */
	CHECK_EQ(info.rtt_us, 5000);           /* SYN RTT sample */
	CHECK_EQ(last.wnd, 65535);             /* no window scaling agreed: 256 KiB capped */
	CHECK(hxs_tcp_conn__events(c) & EPOLLOUT);
	hxs_tcp_conn__abort(c);
	EXPECT(t, HXS_TH_RST | HXS_TH_ACK, iss + 1, PISN + 1);
	hxs_tcp_conn__close(c);
	uint64_t a, f;
	hxs_tcp__alloc_stats(t->tcp, &a, &f);
	CHECK_EQ(a, f);
	ts_free(t);

	t_case("SYN-SENT: bad ACK gets RST; RST,ACK -> ECONNREFUSED");
	t = mk(0);
	CHECK(hxs_tcp_conn__new(t->tcp, &c) == 0);
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, TS_LPORT, TS_REMOTE, TS_RPORT, 0), 0);
	EXPECT_ISS(t, HXS_TH_SYN, 0, &iss);
	ts_synack(t, 1 * MS, PISN, iss + 7, NULL);
	EXPECT(t, HXS_TH_RST, iss + 7, 0);     /* "<SEQ=SEG.ACK><CTL=RST>" */
	TS_IN(t, 1 * MS, .flags = HXS_TH_RST | HXS_TH_ACK, .ack = iss + 9);
	EXPECT_NONE(t);                         /* unacceptable ACK: ignored */
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_SYN_SENT);
	TS_IN(t, 2 * MS, .flags = HXS_TH_RST | HXS_TH_ACK, .ack = iss + 1);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_CLOSED);
	CHECK(hxs_tcp_conn__events(c) & EPOLLERR);
	CHECK_EQ(hxs_tcp_conn__error(c), ECONNREFUSED);
	CHECK_EQ(hxs_tcp_conn__error(c), 0);
	CHECK_EQ(MIBV(t, TcpAttemptFails), 1);
	CHECK_EQ(t->tuples, 0);
	hxs_tcp_conn__close(c);
	ts_free(t);
}

static void test_simultaneous_open(void)
{
	t_case("simultaneous open: SYN-SENT -> SYN-RECEIVED -> ESTABLISHED");
	struct ts *t = mk(0);
	struct hxs_tcp_conn *c;
	CHECK(hxs_tcp_conn__new(t->tcp, &c) == 0);
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, TS_LPORT, TS_REMOTE, TS_RPORT, 0), 0);
	uint32_t iss;
	EXPECT_ISS(t, HXS_TH_SYN, 0, &iss);
	struct hxs_tcp_opts o = mss_only(1460);
	ts_syn(t, 1 * MS, PISN, &o);
	/* "<SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>" */
	EXPECT(t, HXS_TH_SYN | HXS_TH_ACK, iss, PISN + 1);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_SYN_RECEIVED);
	ts_synack(t, 2 * MS, PISN, iss + 1, &o);
	/* Their SYN,ACK (figure 8 line 6) repeats their SYN and acknowledges ours: it
	 * establishes the connection, with nothing to answer. */
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_ESTABLISHED);
	EXPECT_NONE(t);
	ts_ack(t, 3 * MS, PISN + 1, iss + 1);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_ESTABLISHED);
	EXPECT_NONE(t);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	ts_free(t);

	t_case("SYN-RECEIVED -> FIN-WAIT-1: CLOSE queues the FIN until the handshake completes");
	t = mk(0);
	CHECK(hxs_tcp_conn__new(t->tcp, &c) == 0);
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, TS_LPORT, TS_REMOTE, TS_RPORT, 0), 0);
	EXPECT_ISS(t, HXS_TH_SYN, 0, &iss);
	ts_syn(t, 1 * MS, PISN, &o);
	EXPECT(t, HXS_TH_SYN | HXS_TH_ACK, iss, PISN + 1);
	CHECK_EQ(hxs_tcp_conn__shutdown(c, SHUT_WR), 0);
	ts_run_until(t, 2 * MS);
	EXPECT_NONE(t);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_SYN_RECEIVED);
	ts_ack(t, 3 * MS, PISN + 1, iss + 1);
	EXPECT(t, HXS_TH_FIN | HXS_TH_ACK, iss + 1, PISN + 1);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_FIN_WAIT_1);
	hxs_tcp_conn__abort(c);
	EXPECT(t, HXS_TH_RST | HXS_TH_ACK, iss + 2, PISN + 1);
	hxs_tcp_conn__close(c);

	t_case("SYN-SENT -> CLOSED on CLOSE: TCB deleted, nothing sent");
	CHECK(hxs_tcp_conn__new(t->tcp, &c) == 0);
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, TS_LPORT + 1, TS_REMOTE, TS_RPORT, 10 * MS), 0);
	EXPECT_ISS(t, HXS_TH_SYN, 0, &iss);
	hxs_tcp_conn__close(c);
	ts_run_until(t, 5 * S);
	EXPECT_NONE(t);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 0);
	uint64_t a, f;
	hxs_tcp__alloc_stats(t->tcp, &a, &f);
	CHECK_EQ(a, f);
	ts_free(t);
}

static void test_data_and_delack(void)
{
	t_case("data: delayed ACK at 40 ms, every 2nd full segment at once, OOO immediate with SACK");
	struct ts *t = mk(0);
	struct hxs_tcp_conn *l, *c;
	uint32_t iss;
	struct hxs_tcp_opts o = mss_only(1460);
	o.sack_perm = 1;
	CHECK(hxs_tcp_conn__new(t->tcp, &l) == 0);
	CHECK(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8) == 0);
	ts_syn(t, 0, PISN, &o);
	want_synack.opt.sack_perm = 1;
	EXPECT_ISS(t, HXS_TH_SYN | HXS_TH_ACK, PISN + 1, &iss);
	ts_ack(t, 0, PISN + 1, iss + 1);
	CHECK(hxs_tcp_conn__accept(l, &c) == 0);
	uint8_t d[1460];
	memset(d, 'a', sizeof(d));
	uint32_t s0 = PISN + 1;
	ts_data(t, 100 * MS, s0, iss + 1, d, 1460);
	EXPECT_NONE(t);
	ts_run_until(t, 140 * MS - 1);
	EXPECT_NONE(t);
	ts_run_until(t, 140 * MS + TICK);
	EXPECT(t, HXS_TH_ACK, iss + 1, s0 + 1460);
	CHECK(last.t >= 140 * MS && last.t <= 140 * MS + TICK, "delack at %llu", (unsigned long long)last.t);
	CHECK_EQ(MIBV(t, DelayedACKs), 1);
	/* Two full segments: the second is ACKed at once. */
	ts_data(t, 200 * MS, s0 + 1460, iss + 1, d, 1460);
	EXPECT_NONE(t);
	ts_data(t, 201 * MS, s0 + 2920, iss + 1, d, 1460);
	EXPECT(t, HXS_TH_ACK, iss + 1, s0 + 4380);
	/* A segment beyond a hole: immediate duplicate ACK carrying the SACK block. */
	ts_data(t, 300 * MS, s0 + 5840, iss + 1, d, 1460);
	EXPECT_WO(t, HXS_TH_ACK, iss + 1, s0 + 4380, 65535, .nsack = 1, .sack = { { s0 + 5840, s0 + 7300 } });
	/* Filling the hole: immediate ACK of everything. */
	ts_data(t, 301 * MS, s0 + 4380, iss + 1, d, 1460);
	EXPECT(t, HXS_TH_ACK, iss + 1, s0 + 7300);       /* no SACK block left */
	CHECK_EQ(hxs_tcp_conn__rx_avail(c), 5 * 1460);
	uint8_t buf[8000];
	CHECK_EQ(hxs_tcp_conn__recv(c, buf, 10, HXS_TCP_PEEK), 10);
	t_case("a read that cannot move the right edge (unscaled window at 65535) sends no update");
	/* the 256 KiB buffer had 7300 bytes; reading them frees room, but the window field
	 * (no scaling agreed) already says 65535: an update would repeat ack and window, a
	 * duplicate ACK to the peer */
	CHECK_EQ(hxs_tcp_conn__recv(c, buf, sizeof(buf), 0), 5 * 1460);
	CHECK_EQ(hxs_tcp_conn__recv(c, buf, sizeof(buf), 0), -EAGAIN);
	ts_run_until(t, 340 * MS);
	EXPECT_NONE(t);

	t_case("a duplicate segment is answered with a D-SACK block (RFC 2883)");
	ts_data(t, 350 * MS, s0 + 1460, iss + 1, d, 1460);
	EXPECT_WO(t, HXS_TH_ACK, iss + 1, s0 + 7300, 65535, .nsack = 1, .sack = { { s0 + 1460, s0 + 2920 } });
	CHECK_EQ(MIBV(t, TCPDSACKOldSent), 1);

	t_case("Nagle holds a small segment while data is unacked; TCP_NODELAY sends it");
	EXPECT_NONE(t);
	CHECK_EQ(hxs_tcp_conn__send(c, "aaaa", 4), 4);
	ts_run_until(t, 400 * MS);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1, s0 + 7300);
	CHECK_EQ(hxs_tcp_conn__send(c, "bbbb", 4), 4);
	ts_run_until(t, 401 * MS);
	EXPECT_NONE(t);
	ts_ack(t, 410 * MS, s0 + 7300, iss + 5);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 5, s0 + 7300);
	CHECK(!memcmp(last.data, "bbbb", 4));
	CHECK_EQ(hxs_tcp_conn__setopt(c, HXS_TCP_O_NODELAY, 1), 0);
	CHECK_EQ(hxs_tcp_conn__send(c, "cc", 2), 2);
	ts_run_until(t, 411 * MS);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 9, s0 + 7300);
	CHECK_EQ(hxs_tcp_conn__send(c, "dd", 2), 2);
	ts_run_until(t, 412 * MS);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 11, s0 + 7300);

	t_case("ACK of unsent data is answered and dropped; out-of-window segment gets an ACK");
	ts_ack(t, 420 * MS, s0 + 7300, iss + 100);
	EXPECT(t, HXS_TH_ACK, iss + 13, s0 + 7300);
	ts_data(t, 421 * MS, s0 + 7300 + 400000, iss + 13, d, 10);
	EXPECT(t, HXS_TH_ACK, iss + 13, s0 + 7300);
	CHECK_EQ(hxs_tcp_conn__rx_avail(c), 0);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	hxs_tcp_conn__close(l);
	ts_free(t);
}

static void test_close_paths(void)
{
	uint32_t iss;
	struct hxs_tcp_conn *c, *l;
	struct ts *t;

	t_case("active close: FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT -> CLOSED after 2 MSL");
	t = mk(0);
	c = active(t, 0, &iss);
	hxs_tcp_conn__close(c);
	ts_run_until(t, 1 * MS);
	EXPECT(t, HXS_TH_FIN | HXS_TH_ACK, iss + 1, PISN + 1);
	ts_ack(t, 2 * MS, PISN + 1, iss + 2);
	EXPECT_NONE(t);
	ts_fin(t, 3 * MS, PISN + 1, iss + 2);
	EXPECT(t, HXS_TH_ACK, iss + 2, PISN + 2);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 1);
	CHECK(!c->snd.cap && !c->rcv.cap && !c->snd.chunk && !c->rcv.chunk, "an orphan in TIME-WAIT keeps no buffers");
	/* A retransmitted FIN in TIME-WAIT is ACKed again and restarts 2 MSL. */
	ts_fin(t, 10 * S, PISN + 1, iss + 2);
	EXPECT(t, HXS_TH_ACK, iss + 2, PISN + 2);
	ts_run_until(t, 10 * S + 60 * S - 1 * MS);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 1);
	ts_run_until(t, 10 * S + 60 * S + TICK);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 0);
	CHECK_EQ(MIBV(t, TW), 1);
	CHECK_EQ(t->tuples, 0);
	uint64_t a, f;
	hxs_tcp__alloc_stats(t->tcp, &a, &f);
	CHECK_EQ(a, f);
	ts_free(t);

	t_case("FIN-WAIT-1 -> TIME-WAIT on FIN,ACK acknowledging our FIN");
	t = mk(0);
	c = active(t, 0, &iss);
	CHECK_EQ(hxs_tcp_conn__shutdown(c, SHUT_WR), 0);
	CHECK_EQ(hxs_tcp_conn__send(c, "x", 1), -EPIPE);
	ts_run_until(t, 1 * MS);
	EXPECT(t, HXS_TH_FIN | HXS_TH_ACK, iss + 1, PISN + 1);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_FIN_WAIT_1);
	ts_fin(t, 2 * MS, PISN + 1, iss + 2);
	EXPECT(t, HXS_TH_ACK, iss + 2, PISN + 2);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_TIME_WAIT);
	uint8_t b[4];
	CHECK_EQ(hxs_tcp_conn__recv(c, b, 4, 0), 0);
	hxs_tcp_conn__close(c);
	ts_free(t);

	t_case("simultaneous close: FIN-WAIT-1 -> CLOSING -> TIME-WAIT");
	t = mk(0);
	c = active(t, 0, &iss);
	hxs_tcp_conn__close(c);
	ts_run_until(t, 1 * MS);
	EXPECT(t, HXS_TH_FIN | HXS_TH_ACK, iss + 1, PISN + 1);
	ts_fin(t, 2 * MS, PISN + 1, iss + 1);
	EXPECT(t, HXS_TH_ACK, iss + 2, PISN + 2);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_CLOSING);
	ts_ack(t, 3 * MS, PISN + 2, iss + 2);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_TIME_WAIT);
	ts_run_until(t, 61 * S);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 0);
	ts_free(t);

	t_case("passive close: CLOSE-WAIT (EOF, EPOLLRDHUP) -> LAST-ACK -> CLOSED");
	t = mk(0);
	c = passive(t, 0, &l, &iss);
	TS_IN(t, 1 * MS, .flags = HXS_TH_FIN | HXS_TH_ACK, .seq = PISN + 1, .ack = iss + 1,
	      .wnd = 65535, .data = "zz", .len = 2);
	EXPECT(t, HXS_TH_ACK, iss + 1, PISN + 4);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_CLOSE_WAIT);
	CHECK((hxs_tcp_conn__events(c) & (EPOLLIN | EPOLLRDHUP)) == (EPOLLIN | EPOLLRDHUP));
	CHECK_EQ(hxs_tcp_conn__recv(c, b, 4, 0), 2);
	CHECK_EQ(hxs_tcp_conn__recv(c, b, 4, 0), 0);
	CHECK_EQ(hxs_tcp_conn__send(c, "q", 1), 1);       /* half-close: we may still send */
	ts_run_until(t, 2 * MS);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1, PISN + 4);
	hxs_tcp_conn__close(c);
	ts_run_until(t, 3 * MS);
	EXPECT(t, HXS_TH_FIN | HXS_TH_ACK, iss + 2, PISN + 4);
	ts_ack(t, 4 * MS, PISN + 4, iss + 3);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 1);   /* the listener */
	hxs_tcp_conn__close(l);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 0);
	CHECK_EQ(t->listens, 0);
	hxs_tcp__alloc_stats(t->tcp, &a, &f);
	CHECK_EQ(a, f);
	ts_free(t);

	t_case("close with unread data sends RST (TCPAbortOnClose); data after close -> RST");
	t = mk(0);
	c = passive(t, 0, &l, &iss);
	ts_push(t, 1 * MS, PISN + 1, iss + 1, "abc", 3);
	EXPECT_NONE(t);                         /* its ACK is delayed */
	hxs_tcp_conn__close(c);
	EXPECT(t, HXS_TH_RST | HXS_TH_ACK, iss + 1, PISN + 4);
	CHECK_EQ(MIBV(t, TCPAbortOnClose), 1);
	CHECK_EQ(MIBV(t, TcpEstabResets), 1);
	/* Orphaned FIN-WAIT-2 receiving data. */
	struct hxs_tcp_opts o = mss_only(1460);
	TS_IN(t, 2 * MS, .rport = TS_RPORT + 1, .flags = HXS_TH_SYN, .seq = PISN, .wnd = 65535,
	      .opt = &o);
	EXPECT_ISS(t, HXS_TH_SYN | HXS_TH_ACK, PISN + 1, &iss);
	TS_IN(t, 2 * MS, .rport = TS_RPORT + 1, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss + 1,
	      .wnd = 65535);
	CHECK(hxs_tcp_conn__accept(l, &c) == 0);
	hxs_tcp_conn__close(c);
	ts_run_until(t, 3 * MS);
	EXPECT(t, HXS_TH_FIN | HXS_TH_ACK, iss + 1, PISN + 1);
	TS_IN(t, 4 * MS, .rport = TS_RPORT + 1, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss + 2,
	      .wnd = 65535, .data = "late", .len = 4);
	EXPECT(t, HXS_TH_RST | HXS_TH_ACK, iss + 2, PISN + 1);
	CHECK_EQ(MIBV(t, TCPAbortOnData), 1);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 1);
	hxs_tcp_conn__close(l);
	hxs_tcp__alloc_stats(t->tcp, &a, &f);
	CHECK_EQ(a, f);
	ts_free(t);

	t_case("shut both ways (SHUT_WR, SHUT_RD), data in FIN-WAIT-2 -> RST, ECONNRESET");
	t = mk(0);
	c = active(t, 0, &iss);
	CHECK_EQ(hxs_tcp_conn__shutdown(c, SHUT_WR), 0);
	ts_run_until(t, 1 * MS);
	EXPECT(t, HXS_TH_FIN | HXS_TH_ACK, iss + 1, PISN + 1);
	ts_ack(t, 2 * MS, PISN + 1, iss + 2);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_FIN_WAIT_2);
	CHECK_EQ(hxs_tcp_conn__shutdown(c, SHUT_RD), 0);
	ts_push(t, 3 * MS, PISN + 1, iss + 2, "late", 4);
	EXPECT(t, HXS_TH_RST | HXS_TH_ACK, iss + 2, PISN + 1);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_CLOSED);
	CHECK_EQ(hxs_tcp_conn__error(c), ECONNRESET);
	hxs_tcp_conn__close(c);
	ts_free(t);

	t_case("orphaned FIN-WAIT-2 ends after tcp_fin_timeout (60 s)");
	t = mk(0);
	c = active(t, 0, &iss);
	hxs_tcp_conn__close(c);
	ts_run_until(t, 1 * MS);
	EXPECT(t, HXS_TH_FIN | HXS_TH_ACK, iss + 1, PISN + 1);
	ts_ack(t, 2 * MS, PISN + 1, iss + 2);
	ts_run_until(t, 59 * S);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 1);
	ts_run_until(t, 61 * S);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 0);
	ts_free(t);
}

/* One established connection in each state, then an exact RST. */
static void test_rst_states(void)
{
	static const struct {
		const char *name;
		int state;
		int err;
		uint32_t snd;            /* SND.NXT - ISS: 2 once our FIN is sent */
	} cases[] = {
		{ "RST in ESTABLISHED -> ECONNRESET", HXS_TCPS_ESTABLISHED, ECONNRESET, 1 },
		{ "RST in FIN-WAIT-1 -> ECONNRESET", HXS_TCPS_FIN_WAIT_1, ECONNRESET, 2 },
		{ "RST in FIN-WAIT-2 -> ECONNRESET", HXS_TCPS_FIN_WAIT_2, ECONNRESET, 2 },
		{ "RST in CLOSE-WAIT -> EPIPE (the kernel's tcp_reset())", HXS_TCPS_CLOSE_WAIT, EPIPE, 1 },
		{ "RST in CLOSING -> CLOSED", HXS_TCPS_CLOSING, 0, 2 },
		{ "RST in LAST-ACK -> CLOSED", HXS_TCPS_LAST_ACK, 0, 2 },
		{ "RST in TIME-WAIT -> CLOSED", HXS_TCPS_TIME_WAIT, 0, 2 },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t_case(cases[i].name);
		struct ts *t = mk(0);
		uint32_t iss, rn = PISN + 1;
		struct hxs_tcp_conn *c = active(t, 0, &iss);
		switch (cases[i].state) {
		case HXS_TCPS_FIN_WAIT_1:
			hxs_tcp_conn__shutdown(c, SHUT_WR);
			ts_run_until(t, 1 * MS);
			EXPECT(t, HXS_TH_FIN | HXS_TH_ACK, iss + 1, rn);
			break;
		case HXS_TCPS_FIN_WAIT_2:
			hxs_tcp_conn__shutdown(c, SHUT_WR);
			ts_run_until(t, 1 * MS);
			EXPECT(t, HXS_TH_FIN | HXS_TH_ACK, iss + 1, rn);
			ts_ack(t, 1 * MS, rn, iss + 2);
			break;
		case HXS_TCPS_CLOSE_WAIT:
			ts_fin(t, 1 * MS, rn, iss + 1);
			rn++;
			EXPECT(t, HXS_TH_ACK, iss + 1, rn);
			break;
		case HXS_TCPS_CLOSING:
			hxs_tcp_conn__shutdown(c, SHUT_WR);
			ts_run_until(t, 1 * MS);
			EXPECT(t, HXS_TH_FIN | HXS_TH_ACK, iss + 1, rn);
			ts_fin(t, 1 * MS, rn, iss + 1);
			rn++;
			EXPECT(t, HXS_TH_ACK, iss + 2, rn);
			break;
		case HXS_TCPS_LAST_ACK:
			ts_fin(t, 1 * MS, rn, iss + 1);
			rn++;
			EXPECT(t, HXS_TH_ACK, iss + 1, rn);
			hxs_tcp_conn__shutdown(c, SHUT_WR);
			ts_run_until(t, 1 * MS);
			EXPECT(t, HXS_TH_FIN | HXS_TH_ACK, iss + 1, rn);
			break;
		case HXS_TCPS_TIME_WAIT:
			hxs_tcp_conn__shutdown(c, SHUT_WR);
			ts_run_until(t, 1 * MS);
			EXPECT(t, HXS_TH_FIN | HXS_TH_ACK, iss + 1, rn);
			ts_fin(t, 1 * MS, rn, iss + 2);
			rn++;
			EXPECT(t, HXS_TH_ACK, iss + 2, rn);
			break;
		}
		ts_run_until(t, 2 * MS);
		CHECK_EQ(hxs_tcp_conn__state(c), cases[i].state);
		EXPECT_NONE(t);
		/* Out of window: dropped silently. */
		ts_rst(t, 3 * MS, rn + 1000000);
		EXPECT_NONE(t);
		/* In window, not exact: challenge ACK (RFC 5961 §3.2). */
		ts_rst(t, 4 * MS, rn + 10);
		EXPECT(t, HXS_TH_ACK, iss + cases[i].snd, rn);   /* <SEQ=SND.NXT> */
		CHECK_EQ(MIBV(t, TCPChallengeACK), 1);
		CHECK_EQ(hxs_tcp_conn__state(c), cases[i].state);
		/* Exact: reset. */
		ts_rst(t, 5 * MS, rn);
		EXPECT_NONE(t);
		CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_CLOSED);
		CHECK_EQ(hxs_tcp_conn__error(c), cases[i].err);
		CHECK_EQ(hxs_tcp__nconns(t->tcp), 0);
		uint8_t b[4];
		CHECK_EQ(hxs_tcp_conn__recv(c, b, 4, 0), 0);
		CHECK_EQ(hxs_tcp_conn__send(c, b, 4), -EPIPE);
		hxs_tcp_conn__close(c);
		uint64_t a, f;
		hxs_tcp__alloc_stats(t->tcp, &a, &f);
		CHECK_EQ(a, f);
		ts_free(t);
	}

	t_case("RST in SYN-RECEIVED (passive) returns to LISTEN silently");
	struct ts *t = mk(0);
	struct hxs_tcp_conn *l, *c;
	struct hxs_tcp_opts o = mss_only(1460);
	CHECK(hxs_tcp_conn__new(t->tcp, &l) == 0);
	CHECK(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8) == 0);
	uint32_t iss0;
	ts_syn(t, 0, PISN, &o);
	EXPECT_ISS(t, HXS_TH_SYN | HXS_TH_ACK, PISN + 1, &iss0);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 2);
	ts_rst(t, 1 * MS, PISN + 1);
	EXPECT_NONE(t);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 1);
	CHECK_EQ(hxs_tcp_conn__accept(l, &c), -EAGAIN);
	CHECK_EQ(hxs_tcp_conn__state(l), HXS_TCPS_LISTEN);

	t_case("LISTEN: RST ignored, ACK answered by RST, retransmitted SYN re-sends SYN,ACK");
	ts_rst(t, 2 * MS, 5);
	EXPECT_NONE(t);
	TS_IN(t, 2 * MS, .flags = HXS_TH_ACK, .seq = 5, .ack = 777, .wnd = 0);
	EXPECT(t, HXS_TH_RST, 777, 0);
	ts_syn(t, 3 * MS, PISN, &o);
	uint32_t iss;
	EXPECT_ISS(t, HXS_TH_SYN | HXS_TH_ACK, PISN + 1, &iss);
	ts_syn(t, 4 * MS, PISN, &o);
	EXPECT(t, HXS_TH_SYN | HXS_TH_ACK, iss, PISN + 1);
	/* A bad ACK in SYN-RECEIVED: "<SEQ=SEG.ACK><CTL=RST>". */
	ts_ack(t, 5 * MS, PISN + 1, iss + 50);
	EXPECT(t, HXS_TH_RST, iss + 50, 0);
	hxs_tcp_conn__close(l);
	EXPECT(t, HXS_TH_RST | HXS_TH_ACK, iss + 1, PISN + 1);   /* child reset on listener close */
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 0);
	ts_free(t);

	t_case("no connection: SYN -> RST,ACK <SEQ=0><ACK=SEG.SEQ+SEG.LEN>; ACK -> RST <SEQ=SEG.ACK>; RST -> nothing");
	t = mk(0);
	ts_syn(t, 0, PISN, &o);
	EXPECT(t, HXS_TH_RST | HXS_TH_ACK, 0, PISN + 1);
	CHECK_EQ(last.sport, TS_LPORT);
	CHECK_EQ(last.dport, TS_RPORT);
	ts_push(t, 0, PISN, 4242, "data", 4);
	EXPECT(t, HXS_TH_RST, 4242, 0);
	ts_rst(t, 0, PISN);
	EXPECT_NONE(t);
	CHECK_EQ(MIBV(t, TcpOutRsts), 2);
	ts_free(t);
}

static void test_rfc5961(void)
{
	t_case("SYN in ESTABLISHED -> challenge ACK (RFC 5961 §4), connection unchanged");
	struct ts *t = mk(0);
	uint32_t iss;
	struct hxs_tcp_conn *c = active(t, 0, &iss);
	struct hxs_tcp_opts o = mss_only(1460);
	ts_syn(t, 1 * MS, PISN + 500, &o);
	EXPECT(t, HXS_TH_ACK, iss + 1, PISN + 1);
	CHECK_EQ(MIBV(t, TCPSYNChallenge), 1);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_ESTABLISHED);

	t_case("challenge ACKs: at most one per 500 ms per connection (RFC 5961 §7, tcp_invalid_ratelimit)");
	ts_rst(t, 2 * MS, PISN + 3);
	EXPECT_NONE(t);                         /* 1 ms after the SYN's: suppressed */
	ts_rst(t, 501 * MS - 1, PISN + 4);
	EXPECT_NONE(t);
	CHECK_EQ(MIBV(t, TCPChallengeACK), 1);
	CHECK_EQ(MIBV(t, TCPACKSkippedChallenge), 2);
	ts_rst(t, 501 * MS, PISN + 4);          /* 500 ms after the last one sent */
	EXPECT(t, HXS_TH_ACK, iss + 1, PISN + 1);
	CHECK_EQ(MIBV(t, TCPChallengeACK), 2);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_ESTABLISHED);

	t_case("ACK too old (below SND.UNA - MAX.SND.WND) is dropped with an ACK (RFC 5961 §5)");
	ts_run_until(t, 1100 * MS);
	CHECK_EQ(hxs_tcp_conn__send(c, "abc", 3), 3);
	ts_run_until(t, 1200 * MS);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1, PISN + 1);
	ts_data(t, 1201 * MS, PISN + 1, iss - 70000, "zz", 2);
	EXPECT(t, HXS_TH_ACK, iss + 4, PISN + 1);
	CHECK_EQ(hxs_tcp_conn__rx_avail(c), 0);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	ts_free(t);
}

static void test_paws_and_tw_reuse(void)
{
	t_case("PAWS: a segment with an older TSval is dropped and ACKed (PAWSEstab)");
	struct ts *t = mk(0);
	struct hxs_tcp_conn *l, *c;
	struct hxs_tcp_opts o;
	memset(&o, 0, sizeof(o));
	o.has_mss = 1;
	o.mss = 1460;
	o.has_ts = 1;
	o.tsval = 1000;
	CHECK(hxs_tcp_conn__new(t->tcp, &l) == 0);
	CHECK(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8) == 0);
	ts_syn(t, 0, PISN, &o);
	uint32_t iss;
	want_synack.opt = (struct hxs_tcp_opts){ .has_mss = 1, .mss = 1460, .has_ts = 1, .tsecr = 1000 };
	EXPECT_ISS(t, HXS_TH_SYN | HXS_TH_ACK, PISN + 1, &iss);
	o.tsval = 1001;
	o.tsecr = last.opt.tsval;
	TS_IN(t, 0, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss + 1, .wnd = 65535, .opt = &o);
	CHECK(hxs_tcp_conn__accept(l, &c) == 0);
	o.tsval = 1010;
	TS_IN(t, 10 * MS, .flags = HXS_TH_ACK | HXS_TH_PSH, .seq = PISN + 1, .ack = iss + 1,
	      .wnd = 65535, .opt = &o, .data = "ab", .len = 2);
	ts_run_until(t, 60 * MS);
	EXPECT_WO(t, HXS_TH_ACK, iss + 1, PISN + 3, 65535, .has_ts = 1, .tsecr = 1010);
	o.tsval = 900;                          /* older than TS.Recent */
	TS_IN(t, 70 * MS, .flags = HXS_TH_ACK | HXS_TH_PSH, .seq = PISN + 3, .ack = iss + 1,
	      .wnd = 65535, .opt = &o, .data = "cd", .len = 2);
	/* dropped: TS.Recent stays 1010 */
	EXPECT_WO(t, HXS_TH_ACK, iss + 1, PISN + 3, 65535, .has_ts = 1, .tsecr = 1010);
	CHECK_EQ(MIBV(t, PAWSEstab), 1);
	CHECK_EQ(hxs_tcp_conn__rx_avail(c), 2);

	t_case("TIME-WAIT: a new SYN with a larger TSval reopens the connection (RFC 6191)");
	o.tsval = 1020;
	uint8_t b[8];
	CHECK_EQ(hxs_tcp_conn__recv(c, b, sizeof(b), 0), 2);
	hxs_tcp_conn__close(c);
	ts_run_until(t, 80 * MS);
	EXPECT_WO(t, HXS_TH_FIN | HXS_TH_ACK, iss + 1, PISN + 3, 65535, .has_ts = 1, .tsecr = 1010);
	o.tsecr = last.opt.tsval;
	TS_IN(t, 81 * MS, .flags = HXS_TH_FIN | HXS_TH_ACK, .seq = PISN + 3, .ack = iss + 2,
	      .wnd = 65535, .opt = &o);
	EXPECT_WO(t, HXS_TH_ACK, iss + 2, PISN + 4, 65535, .has_ts = 1, .tsecr = 1020);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 2);   /* TIME-WAIT + listener */
	/* An old SYN (smaller TSval) only gets an ACK. */
	o.tsval = 1015;
	o.tsecr = 0;
	ts_syn(t, 90 * MS, PISN + 100000, &o);
	EXPECT_WO(t, HXS_TH_ACK, iss + 2, PISN + 4, 65535, .has_ts = 1, .tsecr = 1020);
	o.tsval = 2000;
	ts_syn(t, 100 * MS, PISN + 100000, &o);
	/* RFC 1122 §4.2.2.13 (1): the new ISS is above everything the old connection sent -
	 * the old SND.NXT + 65535 + 2, as in Linux. */
	want_synack.opt.tsecr = 2000;           /* a new connection: TS.Recent is the new SYN's */
	EXPECT(t, HXS_TH_SYN | HXS_TH_ACK, iss + 2 + 65537, PISN + 100001);
	CHECK_EQ(MIBV(t, TCPTimeWaitReuse), 1);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 2);   /* new SYN-RECEIVED + listener */
	hxs_tcp_conn__close(l);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 0);
	ts_free(t);
}

static void test_rto(void)
{
	t_case("RTO: 200 ms floor, exponential backoff, ETIMEDOUT after retries2");
	struct ts *t = mk(3);
	uint32_t iss;
	struct hxs_tcp_conn *c = active(t, 0, &iss);   /* RTT ~0: RTO = 200 ms floor */
	CHECK_EQ(hxs_tcp_conn__send(c, "data", 4), 4);
	ts_run_until(t, 1 * MS);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1, PISN + 1);
	uint64_t t0 = last.t;
	uint64_t expect_at[] = { 200 * MS, 600 * MS, 1400 * MS };
	for (int i = 0; i < 3; i++) {
		ts_run_until(t, t0 + expect_at[i] + 2 * TICK);
		EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1, PISN + 1);
		CHECK_EQ(last.len, 4);
		CHECK(last.t >= t0 + expect_at[i] && last.t <= t0 + expect_at[i] + 2 * TICK,
		      "retransmission %d at +%llu us", i, (unsigned long long)(last.t - t0));
		struct hxs_tcp_info info;
		hxs_tcp_conn__info(c, &info);
		CHECK_EQ(info.retransmits, i + 1);
	}
	CHECK_EQ(MIBV(t, TCPTimeouts), 3);
	CHECK_EQ(MIBV(t, TcpRetransSegs), 3);
	ts_run_until(t, t0 + 3000 * MS + 2 * TICK);
	EXPECT_NONE(t);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_CLOSED);
	CHECK_EQ(hxs_tcp_conn__error(c), ETIMEDOUT);
	CHECK_EQ(MIBV(t, TCPAbortOnTimeout), 1);
	hxs_tcp_conn__close(c);
	ts_free(t);

	t_case("RTT samples: RFC 6298 SRTT/RTTVAR, 200 ms floor, then above the floor");
	t = mk(0);
	c = active(t, 0, &iss);
	CHECK_EQ(hxs_tcp_conn__setopt(c, HXS_TCP_O_NODELAY, 1), 0);
	struct hxs_tcp_info info;
	/* SYN sample ~0 us: SRTT 1, RTTVAR 0. Two more samples of R = 150 ms:
	 * 1: RTTVAR = (3*0 + 149999)/4 = 37499, SRTT = (7*1 + 150000)/8 = 18750, RTO floor 200 ms
	 * 2: RTTVAR = (3*37499 + 131250)/4 = 60936, SRTT = (7*18750 + 150000)/8 = 35156,
	 *    RTO = 35156 + 4*60936 = 278900 */
	static const uint32_t srtt[] = { 18750, 35156 }, var[] = { 37499, 60936 }, rto[] = { 200000, 278900 };
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(hxs_tcp_conn__send(c, "a", 1), 1);
		ts_run_until(t, t->now);
		EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1 + (uint32_t)i, PISN + 1);
		ts_ack(t, last.t + 150 * MS, PISN + 1, iss + 2 + (uint32_t)i);
		hxs_tcp_conn__info(c, &info);
		CHECK_EQ(info.rtt_us, srtt[i]);
		CHECK_EQ(info.rttvar_us, var[i]);
		CHECK_EQ(info.rto_us, rto[i]);
	}
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	ts_free(t);
}

static void test_syn_retries(void)
{
	t_case("SYN retries at 1, 3, 7, 15, 31, 63 s, then ETIMEDOUT at 127 s");
	struct ts *t = mk(0);
	struct hxs_tcp_conn *c;
	CHECK(hxs_tcp_conn__new(t->tcp, &c) == 0);
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, TS_LPORT, TS_REMOTE, TS_RPORT, 0), 0);
	uint32_t iss;
	EXPECT_ISS(t, HXS_TH_SYN, 0, &iss);
	uint64_t at[] = { 1, 3, 7, 15, 31, 63 };
	for (int i = 0; i < 6; i++) {
		ts_run_until(t, at[i] * S + 2 * TICK);
		EXPECT(t, HXS_TH_SYN, iss, 0);
		CHECK(last.t >= at[i] * S && last.t <= at[i] * S + 2 * TICK, "SYN %d at %llu", i,
		      (unsigned long long)last.t);
	}
	ts_run_until(t, 127 * S - 1 * MS);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_SYN_SENT);
	ts_run_until(t, 127 * S + 2 * TICK);
	EXPECT_NONE(t);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_CLOSED);
	CHECK_EQ(hxs_tcp_conn__error(c), ETIMEDOUT);
	CHECK_EQ(MIBV(t, TcpAttemptFails), 1);
	hxs_tcp_conn__close(c);

	t_case("SYN,ACK retries (synack_retries 5), then the embryonic connection is dropped");
	struct hxs_tcp_conn *l;
	struct hxs_tcp_opts o = mss_only(1460);
	CHECK(hxs_tcp_conn__new(t->tcp, &l) == 0);
	CHECK(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8) == 0);
	uint64_t t0 = 200 * S;
	uint32_t siss;
	ts_syn(t, t0, PISN, &o);
	EXPECT_ISS(t, HXS_TH_SYN | HXS_TH_ACK, PISN + 1, &siss);
	for (int i = 0; i < 5; i++) {
		ts_run_until(t, t0 + at[i] * S + 2 * TICK);
		EXPECT(t, HXS_TH_SYN | HXS_TH_ACK, siss, PISN + 1);    /* the same ISS again */
		CHECK(last.t >= t0 + at[i] * S && last.t <= t0 + at[i] * S + 2 * TICK, "SYN,ACK %d at %llu", i,
		      (unsigned long long)last.t);
	}
	ts_run_until(t, t0 + 63 * S + 2 * TICK);
	EXPECT_NONE(t);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 1);
	hxs_tcp_conn__close(l);
	ts_free(t);
}

static void test_persist(void)
{
	t_case("zero window: persist probes <SEQ=SND.UNA-1> with backoff; window opens -> data");
	struct ts *t = mk(3);                   /* answered probes never abort, even past retries2 */
	uint32_t iss;
	struct hxs_tcp_conn *c = active(t, 0, &iss);
	TS_IN(t, 1 * MS, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss + 1, .wnd = 0);
	CHECK_EQ(hxs_tcp_conn__send(c, "payload", 7), 7);
	ts_run_until(t, 2 * MS);
	EXPECT_NONE(t);
	uint64_t t0 = 1 * MS;                      /* the send was output at 1 ms */
	uint64_t at[] = { 200, 600, 1400, 3000 };     /* RTO 200 ms doubling */
	for (int i = 0; i < 4; i++) {
		ts_run_until(t, t0 + at[i] * MS + 2 * TICK);
		EXPECT(t, HXS_TH_ACK, iss, PISN + 1);
		CHECK_EQ(last.len, 0);
		CHECK(last.t >= t0 + at[i] * MS && last.t <= t0 + at[i] * MS + 2 * TICK,
		      "probe %d at +%llu", i, (unsigned long long)(last.t - t0));
		/* The peer answers each probe, still with a zero window. */
		TS_IN(t, last.t, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss + 1, .wnd = 0);
	}
	CHECK_EQ(MIBV(t, TCPWinProbe), 4);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_ESTABLISHED);
	TS_IN(t, 4 * S, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss + 1, .wnd = 1000);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1, PISN + 1);
	CHECK_EQ(last.len, 7);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	ts_free(t);

	t_case("zero window: retries2 unanswered probes -> ETIMEDOUT");
	t = mk(3);
	c = active(t, 0, &iss);
	TS_IN(t, 1 * MS, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss + 1, .wnd = 0);
	CHECK_EQ(hxs_tcp_conn__send(c, "payload", 7), 7);
	ts_run_until(t, 1 * MS + 200 * MS + 400 * MS + 800 * MS + 2 * TICK);
	for (int i = 0; i < 3; i++)
		EXPECT(t, HXS_TH_ACK, iss, PISN + 1);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_ESTABLISHED);
	ts_run_until(t, 1 * MS + 3000 * MS + 2 * TICK);
	EXPECT_NONE(t);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_CLOSED);
	CHECK_EQ(hxs_tcp_conn__error(c), ETIMEDOUT);
	hxs_tcp_conn__close(c);
	ts_free(t);

	t_case("zero window while data is in flight: the RTO hands over to the persist timer");
	t = mk(3);
	c = active(t, 0, &iss);
	CHECK_EQ(hxs_tcp_conn__send(c, "0123456789", 10), 10);
	ts_run_until(t, 1 * MS);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1, PISN + 1);
	/* ACK of the first 4 bytes closing the window. */
	TS_IN(t, 10 * MS, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss + 5, .wnd = 0);
	ts_run_until(t, 10 * MS + 200 * MS + 2 * TICK);
	EXPECT_NONE(t);                          /* no retransmission into a zero window */
	CHECK_EQ(MIBV(t, TCPTimeouts), 0);
	ts_run_until(t, 10 * MS + 400 * MS + 2 * TICK);
	EXPECT(t, HXS_TH_ACK, iss + 4, PISN + 1);   /* probe <SEQ=SND.UNA-1> */
	TS_IN(t, 500 * MS, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss + 5, .wnd = 100);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 5, PISN + 1);
	CHECK_EQ(last.len, 6);
	CHECK(!memcmp(last.data, "456789", 6));
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	ts_free(t);

	t_case("receiver: a full buffer advertises window 0; reading sends a window update");
	struct hxs_tcp_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.rcvbuf = 4096;
	t = mkcfg(&cfg);
	want_synack.wnd = 4096;
	struct hxs_tcp_conn *l;
	c = passive(t, 0, &l, &iss);
	uint8_t d[4096];
	memset(d, 'z', sizeof(d));
	ts_data(t, 1 * MS, PISN + 1, iss + 1, d, 1460);
	ts_data(t, 1 * MS, PISN + 1461, iss + 1, d, 1460);
	EXPECT_W(t, HXS_TH_ACK, iss + 1, PISN + 2921, 4096 - 2920);
	ts_data(t, 2 * MS, PISN + 2921, iss + 1, d, 1176);
	ts_run_until(t, 50 * MS);
	EXPECT_W(t, HXS_TH_ACK, iss + 1, PISN + 4097, 0);
	/* Beyond the window: not acceptable, ACKed, not stored. */
	ts_data(t, 60 * MS, PISN + 4097, iss + 1, d, 100);
	EXPECT_W(t, HXS_TH_ACK, iss + 1, PISN + 4097, 0);
	CHECK_EQ(hxs_tcp_conn__rx_avail(c), 4096);
	uint8_t b[4096];
	CHECK_EQ(hxs_tcp_conn__recv(c, b, 3000, 0), 3000);
	ts_run_until(t, 61 * MS);
	EXPECT_W(t, HXS_TH_ACK, iss + 1, PISN + 4097, 3000);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	hxs_tcp_conn__close(l);
	ts_free(t);

	/* §3.10.7.4: "If the RCV.WND is zero, no segments will be acceptable, but special
	 * allowance should be made to accept valid ACKs, URGs, and RSTs." A zero-window probe
	 * <SEQ=RCV.NXT-1> (Linux's and ours) or a retransmission of text we hold fails the
	 * acceptability test when our window is closed; the ACK it carries must still count.
	 * Ignoring it, two peers with closed windows whose ACKs ride on probes each waited for
	 * an RTO (and its cwnd collapse) to learn what the other had received. */
	t_case("RCV.WND = 0: the ACK of a probe <SEQ=RCV.NXT-1> or of old text is processed, the text and SEQ not");
	cfg.rcvbuf = 4096;
	t = mkcfg(&cfg);
	want_synack.wnd = 4096;
	c = passive(t, 0, &l, &iss);
	CHECK_EQ(hxs_tcp_conn__send(c, "hello", 5), 5);
	ts_run_until(t, 0);
	EXPECT_W(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1, PISN + 1, 4096);
	ts_data(t, 1 * MS, PISN + 1, iss + 1, d, 1460);
	ts_data(t, 1 * MS, PISN + 1461, iss + 1, d, 1460);
	EXPECT_W(t, HXS_TH_ACK, iss + 6, PISN + 2921, 4096 - 2920);
	ts_data(t, 2 * MS, PISN + 2921, iss + 1, d, 1176);
	ts_run_until(t, 50 * MS);
	EXPECT_W(t, HXS_TH_ACK, iss + 6, PISN + 4097, 0);
	want_seg.wnd = 0;                       /* the window stays closed from here on */
	/* Probes that acknowledge nothing new are not duplicate ACKs (RFC 5681 §2 counts them
	 * for loss, and these say nothing about loss): no fast retransmit of "hello". */
	for (int i = 0; i < 3; i++) {
		ts_ack(t, 60 * MS + (uint64_t)i * MS, PISN + 4096, iss + 1);
		EXPECT(t, HXS_TH_ACK, iss + 6, PISN + 4097);
	}
	CHECK_EQ(c->snd_una, iss + 1);
	/* a retransmission of text we hold, acknowledging "he": answered, ACK taken */
	ts_data(t, 70 * MS, PISN + 2921, iss + 3, d, 1176);
	EXPECT(t, HXS_TH_ACK, iss + 6, PISN + 4097);
	CHECK_EQ(c->snd_una, iss + 3);
	CHECK_EQ(hxs_tcp_conn__rx_avail(c), 4096);
	/* the probe acknowledging the rest: answered, ACK taken, the timer off */
	ts_ack(t, 80 * MS, PISN + 4096, iss + 6);
	EXPECT(t, HXS_TH_ACK, iss + 6, PISN + 4097);
	CHECK_EQ(c->snd_una, iss + 6);
	CHECK(!hxs_timer__armed(&c->t_rexmt));
	/* beyond RCV.NXT nothing was ever offered: answered, not processed */
	CHECK_EQ(hxs_tcp_conn__send(c, "world", 5), 5);
	ts_run_until(t, 90 * MS);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 6, PISN + 4097);
	ts_ack(t, 91 * MS, PISN + 4098, iss + 11);
	EXPECT(t, HXS_TH_ACK, iss + 11, PISN + 4097);
	CHECK_EQ(c->snd_una, iss + 6);
	ts_ack(t, 92 * MS, PISN + 4096, iss + 11);
	EXPECT(t, HXS_TH_ACK, iss + 11, PISN + 4097);
	CHECK_EQ(c->snd_una, iss + 11);
	ts_run_until(t, 3 * S);
	EXPECT_NONE(t);                         /* nothing left to retransmit */
	CHECK_EQ(MIBV(t, TCPTimeouts), 0);
	CHECK_EQ(MIBV(t, TcpRetransSegs), 0);
	CHECK_EQ(hxs_tcp_conn__rx_avail(c), 4096);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	hxs_tcp_conn__close(l);
	ts_free(t);

	/* The peer filled the window we offered with data we did not keep (lost, or more than
	 * the buffer held once the offer was rounded up to the window scale): its next ACKs
	 * carry SEG.SEQ = RCV.NXT + RCV.WND. Their acknowledgments must count ("special
	 * allowance should be made to accept valid ACKs", §3.10.7.4; Linux's tcp_sequence()
	 * takes SEG.SEQ up to the right edge). Dropping them left our data unacknowledged
	 * until RTOs collapsed cwnd and inflated the RTO, stalling an echo at 2% loss. */
	t_case("a pure ACK at the right edge of our window (SEG.SEQ = RCV.NXT + RCV.WND) is processed");
	cfg.rcvbuf = 4096;
	t = mkcfg(&cfg);
	want_synack.wnd = 4096;
	want_seg.wnd = 4096 - 2920;             /* every segment below: the window stays 1176 */
	c = passive(t, 0, &l, &iss);
	ts_data(t, 1 * MS, PISN + 1, iss + 1, d, 1460);
	ts_data(t, 1 * MS, PISN + 1461, iss + 1, d, 1460);
	EXPECT(t, HXS_TH_ACK, iss + 1, PISN + 2921);
	CHECK_EQ(hxs_tcp_conn__send(c, "hello", 5), 5);
	ts_run_until(t, 2 * MS);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1, PISN + 2921);
	/* the peer's 1176 bytes PISN+2921.. were lost; its ACK of "hello" comes after them */
	ts_ack(t, 3 * MS, PISN + 2921 + 1176, iss + 6);
	EXPECT_NONE(t);                          /* accepted: no duplicate ACK in answer */
	CHECK_EQ(c->snd_una, iss + 6);
	CHECK_EQ(hxs_tcp_conn__rx_avail(c), 2920);
	/* one byte past the edge is still outside: answered, not processed */
	CHECK_EQ(hxs_tcp_conn__send(c, "world", 5), 5);
	ts_run_until(t, 4 * MS);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 6, PISN + 2921);
	ts_ack(t, 5 * MS, PISN + 2921 + 1176 + 1, iss + 11);
	EXPECT(t, HXS_TH_ACK, iss + 11, PISN + 2921);
	CHECK_EQ(c->snd_una, iss + 6);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	hxs_tcp_conn__close(l);
	ts_free(t);
}

static void test_keepalive(void)
{
	t_case("keepalive: idle 10 s, probes every 2 s, 3 unanswered -> RST and ETIMEDOUT");
	struct ts *t = mk(0);
	uint32_t iss;
	struct hxs_tcp_conn *c = active(t, 0, &iss);
	CHECK_EQ(hxs_tcp_conn__setopt(c, HXS_TCP_O_KEEPIDLE, 10), 0);
	CHECK_EQ(hxs_tcp_conn__setopt(c, HXS_TCP_O_KEEPINTVL, 2), 0);
	CHECK_EQ(hxs_tcp_conn__setopt(c, HXS_TCP_O_KEEPCNT, 3), 0);
	CHECK_EQ(hxs_tcp_conn__setopt(c, HXS_TCP_O_KEEPALIVE, 1), 0);
	ts_run_until(t, 10 * S - 1 * MS);
	EXPECT_NONE(t);
	ts_run_until(t, 10 * S + 2 * TICK);
	EXPECT(t, HXS_TH_ACK, iss, PISN + 1);
	/* An answer resets the idle clock. */
	ts_ack(t, 11 * S, PISN + 1, iss + 1);
	ts_run_until(t, 21 * S - 1 * MS);
	EXPECT_NONE(t);
	uint64_t at[] = { 21, 23, 25 };
	for (int i = 0; i < 3; i++) {
		ts_run_until(t, at[i] * S + 2 * TICK);
		EXPECT(t, HXS_TH_ACK, iss, PISN + 1);
	}
	ts_run_until(t, 27 * S + 2 * TICK);
	EXPECT(t, HXS_TH_RST | HXS_TH_ACK, iss + 1, PISN + 1);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_CLOSED);
	CHECK_EQ(hxs_tcp_conn__error(c), ETIMEDOUT);
	CHECK_EQ(MIBV(t, TCPKeepAliveProbes), 4);
	hxs_tcp_conn__close(c);
	ts_free(t);
}

static void test_malformed(void)
{
	static const struct {
		const char *name;
		uint8_t opt[8];
		int optlen;
	} bad[] = {
		{ "option length 0", { 2, 0, 0, 0 }, 4 },
		{ "option length 1", { 1, 1, 8, 1 }, 4 },
		{ "option overruns the header", { 1, 1, 8, 10 }, 4 },
		{ "MSS with length 3", { 2, 3, 5, 1 }, 4 },
		{ "SACK with a partial block", { 1, 1, 5, 6, 0, 0, 0, 0 }, 8 },
		{ "kind without length byte at the end", { 1, 1, 1, 3 }, 4 },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t_case(bad[i].name);
		struct ts *t = mk(0);
		struct hxs_tcp_conn *l;
		CHECK(hxs_tcp_conn__new(t->tcp, &l) == 0);
		CHECK(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8) == 0);
		/* Exactly sized heap copy so ASan catches any read past the segment. */
		uint32_t n = 20 + (uint32_t)bad[i].optlen;
		uint8_t *seg = malloc(n);
		ts_build(seg, &(struct ts_pkt){ .flags = HXS_TH_SYN, .seq = PISN, .wnd = 65535,
						.rawopt = bad[i].opt, .rawlen = (uint32_t)bad[i].optlen });
		CHECK_EQ(ts_in_raw(t, 0, seg, n), -EINVAL);
		EXPECT_NONE(t);
		CHECK_EQ(MIBV(t, TCPOptErrs), 1);
		CHECK_EQ(MIBV(t, TcpInErrs), 1);
		CHECK_EQ(hxs_tcp__nconns(t->tcp), 1);
		free(seg);
		hxs_tcp_conn__close(l);
		ts_free(t);
	}
	t_case("bad checksum, short header, data offset beyond the segment: dropped");
	struct ts *t = mk(0);
	uint8_t seg[64];
	uint32_t n = ts_build(seg, &(struct ts_pkt){ .flags = HXS_TH_SYN, .seq = PISN, .wnd = 65535 });
	seg[16] ^= 1;
	CHECK_EQ(ts_in_raw(t, 0, seg, n), -EINVAL);
	CHECK_EQ(MIBV(t, TcpInCsumErrors), 1);
	CHECK_EQ(ts_in_raw(t, 0, seg, 19), -EINVAL);
	seg[16] ^= 1;
	seg[12] = 15 << 4;
	CHECK_EQ(ts_in_raw(t, 0, seg, n), -EINVAL);
	seg[12] = 4 << 4;
	CHECK_EQ(ts_in_raw(t, 0, seg, n), -EINVAL);
	EXPECT_NONE(t);
	CHECK_EQ(MIBV(t, TcpInErrs), 4);
	ts_free(t);
}

static void count_state(void *arg, struct hxs_tcp_conn *c)
{
	((int *)arg)[hxs_tcp_conn__state(c)]++;
}

static void test_mss_and_backlog(void)
{
	t_case("MSS clamped to the path MTU; segments no larger than the peer's MSS");
	struct hxs_tcp_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.mtu = 1000;
	struct ts *t = mkcfg(&cfg);
	struct hxs_tcp_conn *c;
	CHECK(hxs_tcp_conn__new(t->tcp, &c) == 0);
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, TS_LPORT, TS_REMOTE, TS_RPORT, 0), 0);
	uint32_t iss;
	want_syn.opt.mss = 1000 - 40;
	EXPECT_ISS(t, HXS_TH_SYN, 0, &iss);
	struct hxs_tcp_opts o = mss_only(500);
	ts_synack(t, 1 * MS, PISN, iss + 1, &o);
	EXPECT(t, HXS_TH_ACK, iss + 1, PISN + 1);
	uint8_t d[2000];
	memset(d, 1, sizeof(d));
	CHECK_EQ(hxs_tcp_conn__send(c, d, sizeof(d)), 2000);
	ts_run_until(t, 2 * MS);
	uint32_t seq = iss + 1;
	for (int i = 0; i < 4; i++) {
		EXPECT(t, i == 3 ? HXS_TH_ACK | HXS_TH_PSH : HXS_TH_ACK, seq, PISN + 1);
		CHECK_EQ(last.len, 500);
		seq += last.len;
	}
	EXPECT_NONE(t);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	ts_free(t);

	t_case("listen backlog, SYN cookies off (tcp_syncookies = 0): a full SYN queue drops the SYN, a full accept queue drops the handshake ACK (ListenOverflows)");
	{
		struct hxs_tcp_cfg nc;
		memset(&nc, 0, sizeof(nc));
		nc.no_syncookies = 1;   /* the drops themselves are the subject here */
		t = mkcfg(&nc);
	}
	struct hxs_tcp_conn *l;
	CHECK(hxs_tcp_conn__new(t->tcp, &l) == 0);
	/* Backlog 1: each queue holds 2, one more than the backlog, as the kernel's. */
	CHECK(hxs_tcp_conn__listen(l, 0, TS_LPORT, 1) == 0);
	o = mss_only(1460);
	uint32_t isn[3];
	/* SYN A, SYN B (SYN queue 2), ACK A (accept queue 1), SYN C, ACK B (accept queue 2),
	 * ACK C: accept queue full, dropped; SYN D: dropped. */
	for (int i = 0; i < 2; i++) {
		TS_IN(t, 0, .rport = (uint16_t)(TS_RPORT + i), .flags = HXS_TH_SYN, .seq = PISN,
		      .wnd = 65535, .opt = &o);
		EXPECT_ISS(t, HXS_TH_SYN | HXS_TH_ACK, PISN + 1, &isn[i]);
	}
	TS_IN(t, 0, .rport = TS_RPORT + 2, .flags = HXS_TH_SYN, .seq = PISN, .wnd = 65535,
	      .opt = &o);
	EXPECT_NONE(t);                          /* SYN queue full (backlog 1 + 1) */
	CHECK_EQ(MIBV(t, ListenDrops), 1);
	ts_ack(t, 0, PISN + 1, isn[0] + 1);
	TS_IN(t, 0, .rport = TS_RPORT + 2, .flags = HXS_TH_SYN, .seq = PISN, .wnd = 65535,
	      .opt = &o);
	EXPECT_ISS(t, HXS_TH_SYN | HXS_TH_ACK, PISN + 1, &isn[2]);
	TS_IN(t, 0, .rport = TS_RPORT + 1, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = isn[1] + 1,
	      .wnd = 65535);
	TS_IN(t, 0, .rport = TS_RPORT + 2, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = isn[2] + 1,
	      .wnd = 65535);
	CHECK_EQ(MIBV(t, ListenOverflows), 1);
	int states[HXS_TCPS__COUNT] = { 0 };
	hxs_tcp__foreach(t->tcp, count_state, states);
	CHECK(states[HXS_TCPS_LISTEN] == 1 && states[HXS_TCPS_ESTABLISHED] == 2 &&
	      states[HXS_TCPS_SYN_RECEIVED] == 1, "foreach: %d listen, %d established, %d syn-received",
	      states[HXS_TCPS_LISTEN], states[HXS_TCPS_ESTABLISHED], states[HXS_TCPS_SYN_RECEIVED]);
	TS_IN(t, 0, .rport = TS_RPORT + 3, .flags = HXS_TH_SYN, .seq = PISN, .wnd = 65535,
	      .opt = &o);
	EXPECT_NONE(t);
	CHECK_EQ(MIBV(t, ListenOverflows), 2);
	CHECK_EQ(MIBV(t, ListenDrops), 2);
	struct hxs_tcp_conn *c2, *c3;
	CHECK_EQ(hxs_tcp_conn__accept(l, &c), 0);
	CHECK_EQ(hxs_tcp_conn__accept(l, &c2), 0);
	CHECK_EQ(hxs_tcp_conn__accept(l, &c3), -EAGAIN);
	TS_IN(t, 1 * MS, .rport = TS_RPORT + 2, .flags = HXS_TH_ACK, .seq = PISN + 1,
	      .ack = isn[2] + 1, .wnd = 65535);
	CHECK_EQ(hxs_tcp_conn__accept(l, &c3), 0);
	hxs_tcp_conn__abort(c3);
	hxs_tcp_conn__close(c3);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 1), 0);    /* only changes the backlog */
	struct hxs_tcp_conn *l2;
	CHECK(hxs_tcp_conn__new(t->tcp, &l2) == 0);
	CHECK_EQ(hxs_tcp_conn__listen(l2, TS_LOCAL, TS_LPORT, 1), -EADDRINUSE);
	hxs_tcp_conn__close(l2);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	hxs_tcp_conn__abort(c2);
	hxs_tcp_conn__close(c2);
	hxs_tcp_conn__close(l);
	uint64_t a, f;
	hxs_tcp__alloc_stats(t->tcp, &a, &f);
	CHECK_EQ(a, f);
	ts_free(t);
}

/* Active open with a peer MSS of 1000, no timestamps, SACK as given; cc chosen. */
static struct hxs_tcp_conn *active1000(struct ts *t, int sack, const char *cc, uint32_t *iss)
{
	struct hxs_tcp_conn *c;
	struct hxs_tcp_opts o = mss_only(1000);
	o.sack_perm = (uint8_t)sack;
	CHECK(hxs_tcp_conn__new(t->tcp, &c) == 0);
	CHECK_EQ(hxs_tcp_conn__set_cc(c, cc), 0);
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, TS_LPORT, TS_REMOTE, TS_RPORT, 0), 0);
	EXPECT_ISS(t, HXS_TH_SYN, 0, iss);
	ts_synack(t, 0, PISN, *iss + 1, &o);
	EXPECT(t, HXS_TH_ACK, *iss + 1, PISN + 1);
	return c;
}

static void dupack(struct ts *t, uint64_t now, uint32_t ack, uint32_t sack_start, uint32_t sack_end)
{
	struct hxs_tcp_opts o;
	memset(&o, 0, sizeof(o));
	if (sack_end) {
		o.nsack = 1;
		o.sack[0].start = sack_start;
		o.sack[0].end = sack_end;
	}
	TS_IN(t, now, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = ack, .wnd = 65535,
	      .opt = sack_end ? &o : NULL);
}

static void test_recovery(void)
{
	t_case("SACK recovery (RFC 6675): IW10, 3 SACKed segments -> fast retransmit, cwnd = 0.7 flight (CUBIC), rescue retransmission");
	struct ts *t = mk6675();
	uint32_t iss;
	struct hxs_tcp_conn *c = active1000(t, 1, "cubic", &iss);
	uint8_t d[20000];
	memset(d, 'r', sizeof(d));
	CHECK_EQ(hxs_tcp_conn__send(c, d, 10000), 10000);
	ts_run_until(t, 1 * MS);
	for (int i = 0; i < 10; i++)
		EXPECT(t, i == 9 ? HXS_TH_ACK | HXS_TH_PSH : HXS_TH_ACK, iss + 1 + 1000u * (uint32_t)i, PISN + 1);
	EXPECT_NONE(t);                          /* IW10 (RFC 6928) */
	uint32_t u = iss + 1;
	struct hxs_tcp_info info;
	hxs_tcp_conn__info(c, &info);
	CHECK_EQ(info.ca_state, 0);              /* TCP_CA_Open */
	CHECK_EQ(info.reordering, 3);
	dupack(t, 20 * MS, u, u + 1000, u + 2000);
	hxs_tcp_conn__info(c, &info);
	CHECK_EQ(info.ca_state, 1);              /* TCP_CA_Disorder: SACKed data */
	CHECK_EQ(info.sacked, 1);
	dupack(t, 21 * MS, u, u + 1000, u + 3000);
	EXPECT_NONE(t);
	dupack(t, 22 * MS, u, u + 1000, u + 4000);
	EXPECT(t, HXS_TH_ACK, u, PISN + 1);      /* the first segment again */
	CHECK_EQ(last.len, 1000);
	EXPECT_NONE(t);                          /* pipe 7000 = cwnd 7000 */
	CHECK_EQ(MIBV(t, TCPFastRetrans), 1);
	CHECK_EQ(MIBV(t, TCPSackRecovery), 1);
	hxs_tcp_conn__info(c, &info);
	CHECK_EQ(info.snd_cwnd, 7);
	CHECK_EQ(info.snd_ssthresh, 7);
	CHECK_EQ(info.ca_state, 3);              /* TCP_CA_Recovery */
	CHECK_EQ(info.sacked, 3);
	/* Partial ACK up to the SACKed block: no hole left, no new data: rule (4) rescue
	 * retransmission of the last segment. */
	dupack(t, 30 * MS, u + 4000, 0, 0);
	EXPECT(t, HXS_TH_ACK, u + 9000, PISN + 1);
	CHECK_EQ(last.len, 1000);
	EXPECT_NONE(t);
	dupack(t, 40 * MS, u + 10000, 0, 0);
	EXPECT_NONE(t);
	hxs_tcp_conn__info(c, &info);
	CHECK_EQ(info.snd_cwnd, 7);              /* recovery over: cwnd = ssthresh */
	CHECK_EQ(info.ca_state, 0);
	CHECK_EQ(info.sacked, 0);
	CHECK_EQ(MIBV(t, TcpRetransSegs), 2);
	CHECK_EQ(MIBV(t, TCPTimeouts), 0);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	ts_free(t);

	t_case("SACK recovery: a lost retransmission is sent again once later data is SACKed 3 segments deep");
	t = mk6675();
	c = active1000(t, 1, "newreno", &iss);
	u = iss + 1;
	CHECK_EQ(hxs_tcp_conn__send(c, d, 20000), 20000);
	ts_run_until(t, 1 * MS);
	for (uint32_t i = 0; i < 10; i++)        /* IW10 */
		EXPECT(t, HXS_TH_ACK, u + 1000 * i, PISN + 1);
	EXPECT_NONE(t);
	for (uint32_t k = 2; k <= 4; k++)
		dupack(t, 20 * MS, u, u + 1000, u + 1000 * k);
	/* Limited transmit sent u + 10000 and u + 11000, then the fast retransmit. */
	EXPECT(t, HXS_TH_ACK, u + 10000, PISN + 1);
	EXPECT(t, HXS_TH_ACK, u + 11000, PISN + 1);
	EXPECT(t, HXS_TH_ACK, u, PISN + 1);
	EXPECT_NONE(t);
	/* More SACKs, the hole stays. cwnd = ssthresh = FlightSize 12000 / 2 = 6000; the pipe
	 * (RFC 6675 §4 SetPipe) is 12000 - SACKed - the lost hole + its retransmission, so from
	 * the SACK of u + 8000 on each SACKed segment lets one new segment go (u + 12000 on). */
	for (uint32_t k = 5; k <= 14; k++) {
		dupack(t, 21 * MS, u, u + 1000, u + 1000 * k);
		if (k >= 8) {
			EXPECT(t, HXS_TH_ACK, u + 12000 + 1000 * (k - 8), PISN + 1);
			CHECK_EQ(last.len, 1000);
		}
		EXPECT_NONE(t);
	}
	CHECK_EQ(MIBV(t, TCPLostRetransmit), 0);
	/* The first retransmission went out when snd_max was u + 12000: the SACK reaching
	 * u + 15000 shows it lost, so it goes again, and the last new segment after it. */
	dupack(t, 21 * MS, u, u + 1000, u + 15000);
	EXPECT(t, HXS_TH_ACK, u, PISN + 1);
	CHECK_EQ(last.len, 1000);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, u + 19000, PISN + 1);
	EXPECT_NONE(t);
	CHECK_EQ(MIBV(t, TCPLostRetransmit), 1);
	CHECK_EQ(MIBV(t, TCPTimeouts), 0);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	ts_free(t);

	t_case("NewReno (RFC 6582): 3 dupacks -> retransmit, inflate per dupack, partial ACK retransmits, full ACK deflates");
	t = mk(0);
	c = active1000(t, 0, "newreno", &iss);
	u = iss + 1;
	CHECK_EQ(hxs_tcp_conn__send(c, d, 20000), 20000);
	ts_run_until(t, 1 * MS);
	for (int i = 0; i < 10; i++)
		EXPECT(t, HXS_TH_ACK, u + 1000u * (uint32_t)i, PISN + 1);
	EXPECT_NONE(t);
	dupack(t, 20 * MS, u, 0, 0);
	dupack(t, 21 * MS, u, 0, 0);
	/* RFC 3042 limited transmit: one new segment for each of the first two dupacks. */
	EXPECT(t, HXS_TH_ACK, u + 10000, PISN + 1);
	EXPECT(t, HXS_TH_ACK, u + 11000, PISN + 1);
	dupack(t, 22 * MS, u, 0, 0);
	EXPECT(t, HXS_TH_ACK, u, PISN + 1);      /* fast retransmit */
	EXPECT_NONE(t);                          /* cwnd 6000 + 3000 < flight 12000 */
	hxs_tcp_conn__info(c, &info);
	CHECK_EQ(info.snd_ssthresh, 6);          /* FlightSize 12000 / 2 */
	CHECK_EQ(MIBV(t, TCPRenoRecovery), 1);
	for (int i = 0; i < 3; i++)
		dupack(t, 23 * MS, u, 0, 0);     /* cwnd 12000 */
	EXPECT_NONE(t);
	dupack(t, 24 * MS, u, 0, 0);             /* cwnd 13000: one new segment */
	EXPECT(t, HXS_TH_ACK, u + 12000, PISN + 1);
	/* Partial ACK (the 4th segment was lost too): retransmit it, cwnd = 13000 - 3000 +
	 * 1000 = 11000, flight 13000 - 3000 = 10000: one more new segment. */
	dupack(t, 30 * MS, u + 3000, 0, 0);
	EXPECT(t, HXS_TH_ACK, u + 3000, PISN + 1);
	EXPECT(t, HXS_TH_ACK, u + 13000, PISN + 1);
	EXPECT_NONE(t);
	/* Full ACK of everything sent before recovery (recover = u + 12000). */
	dupack(t, 40 * MS, u + 12000, 0, 0);
	hxs_tcp_conn__info(c, &info);
	/* min(ssthresh, max(FlightSize, SMSS) + SMSS) = min(6000, 2000 + 1000) */
	CHECK_EQ(info.snd_cwnd, 3);
	/* 2000 in flight (u + 12000 .. u + 14000), cwnd 3000: one new segment */
	EXPECT(t, HXS_TH_ACK, u + 14000, PISN + 1);
	CHECK_EQ(last.len, 1000);
	EXPECT_NONE(t);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	ts_free(t);
}

static void test_events(void)
{
	t_case("on_event: EPOLLOUT when connected, EPOLLIN on data, RDHUP on FIN, ERR|HUP on RST");
	struct ts *t = mk(0);
	struct hxs_tcp_conn *c;
	CHECK(hxs_tcp_conn__new(t->tcp, &c) == 0);
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, TS_LPORT, TS_REMOTE, TS_RPORT, 0), 0);
	uint32_t iss;
	EXPECT_ISS(t, HXS_TH_SYN, 0, &iss);
	int n0 = t->nevents;
	struct hxs_tcp_opts o = mss_only(1460);
	ts_synack(t, 1 * MS, PISN, iss + 1, &o);
	EXPECT(t, HXS_TH_ACK, iss + 1, PISN + 1);
	CHECK_EQ(t->nevents, n0 + 1);
	CHECK_EQ(t->events, EPOLLOUT);
	/* A pure ACK changes nothing: no event. */
	ts_ack(t, 2 * MS, PISN + 1, iss + 1);
	EXPECT_NONE(t);
	CHECK_EQ(t->nevents, n0 + 1);
	ts_push(t, 3 * MS, PISN + 1, iss + 1, "hi", 2);
	EXPECT_NONE(t);                         /* its ACK is delayed */
	CHECK_EQ(t->nevents, n0 + 2);
	CHECK_EQ(t->events, EPOLLOUT | EPOLLIN);
	uint8_t b[8];
	CHECK_EQ(hxs_tcp_conn__recv(c, b, sizeof(b), 0), 2);
	CHECK_EQ(t->events, EPOLLOUT);
	ts_fin(t, 4 * MS, PISN + 3, iss + 1);
	EXPECT(t, HXS_TH_ACK, iss + 1, PISN + 4);   /* a FIN is ACKed at once */
	CHECK_EQ(t->events, EPOLLOUT | EPOLLIN | EPOLLRDHUP);
	ts_rst(t, 5 * MS, PISN + 4);
	CHECK_EQ(t->events & (EPOLLERR | EPOLLHUP | EPOLLIN), EPOLLERR | EPOLLHUP | EPOLLIN);
	/* The stream ended with the FIN: reads say 0 and leave the error pending (SOCK_DONE
	 * before sk_err in the kernel's tcp_recvmsg). */
	CHECK_EQ(hxs_tcp_conn__recv(c, b, sizeof(b), 0), 0);
	CHECK_EQ(hxs_tcp_conn__fin_rcvd(c), 1);
	CHECK_EQ(hxs_tcp_conn__error(c), EPIPE);     /* after the FIN: tcp_reset's CLOSE-WAIT case */
	CHECK_EQ(t->events & EPOLLERR, 0);      /* reading SO_ERROR clears EPOLLERR */
	hxs_tcp_conn__close(c);

	t_case("on_event: a listener becomes readable when a child is established, not before");
	struct hxs_tcp_conn *l;
	CHECK(hxs_tcp_conn__new(t->tcp, &l) == 0);
	CHECK(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8) == 0);
	EXPECT_NONE(t);
	n0 = t->nevents;
	ts_syn(t, 10 * MS, PISN, &o);
	uint32_t liss;
	EXPECT_ISS(t, HXS_TH_SYN | HXS_TH_ACK, PISN + 1, &liss);
	CHECK_EQ(t->nevents, n0);
	ts_ack(t, 11 * MS, PISN + 1, liss + 1);
	CHECK_EQ(t->nevents, n0 + 1);
	CHECK_EQ(t->events, EPOLLIN);
	CHECK_EQ(hxs_tcp_conn__accept(l, &c), 0);
	CHECK_EQ(hxs_tcp_conn__events(l), 0);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	hxs_tcp_conn__close(l);
	ts_free(t);
}

static void test_syn_rto_reinit(void)
{
	struct hxs_tcp_info info;
	struct hxs_tcp_opts o = mss_only(1460);
	uint32_t iss;

	t_case("RFC 6298 §5.7: SYN retransmitted by the timer, no RTT sample -> RTO 3 s once established");
	struct ts *t = mk(0);
	struct hxs_tcp_conn *c;
	CHECK(hxs_tcp_conn__new(t->tcp, &c) == 0);
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, TS_LPORT, TS_REMOTE, TS_RPORT, 0), 0);
	EXPECT_ISS(t, HXS_TH_SYN, 0, &iss);
	ts_run_until(t, 1 * S + 2 * TICK);
	EXPECT(t, HXS_TH_SYN, iss, 0);
	ts_synack(t, 1100 * MS, PISN, iss + 1, &o);
	EXPECT(t, HXS_TH_ACK, iss + 1, PISN + 1);
	hxs_tcp_conn__info(c, &info);
	CHECK_EQ(info.rtt_us, 0);               /* Karn: the SYN was ambiguous */
	CHECK_EQ(info.rto_us, 3000000);
	CHECK_EQ(hxs_tcp_conn__send(c, "data", 4), 4);
	ts_run_until(t, 1100 * MS);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1, PISN + 1);
	uint64_t t0 = last.t;
	ts_run_until(t, t0 + 3 * S - 10 * MS);
	EXPECT_NONE(t);
	ts_run_until(t, t0 + 3 * S + 2 * TICK);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1, PISN + 1);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	ts_free(t);

	t_case("RFC 6298 §5.7: SYN,ACK retransmitted by the timer -> RTO 3 s once established");
	t = mk(0);
	struct hxs_tcp_conn *l;
	CHECK(hxs_tcp_conn__new(t->tcp, &l) == 0);
	CHECK(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8) == 0);
	ts_syn(t, 0, PISN, &o);
	EXPECT_ISS(t, HXS_TH_SYN | HXS_TH_ACK, PISN + 1, &iss);
	ts_run_until(t, 1 * S + 2 * TICK);
	EXPECT(t, HXS_TH_SYN | HXS_TH_ACK, iss, PISN + 1);
	ts_ack(t, 1100 * MS, PISN + 1, iss + 1);
	CHECK(hxs_tcp_conn__accept(l, &c) == 0);
	hxs_tcp_conn__info(c, &info);
	CHECK_EQ(info.rtt_us, 0);
	CHECK_EQ(info.rto_us, 3000000);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	hxs_tcp_conn__close(l);
	ts_free(t);
}

/* RFC 6298 §3: "The only case when TCP can safely take RTT samples from retransmitted segments
 * is when the TCP timestamp option is employed, since the timestamp option removes the
 * ambiguity regarding which instance of the data segment triggered the acknowledgment." A SYN
 * or SYN,ACK the timer resent is answered with the TSval of the copy that got through (RFC
 * 7323 §4.3), so the handshake still gives a sample, and §5.7's 3 s RTO (for when it gives
 * none) does not apply: like Linux (tcp_ack_update_rtt takes TSecr when Karn forbids the
 * timing). Without this, a connection whose SYN was refused by a full listen queue waited 3 s
 * for its first lost segment. */
static void test_syn_rtt_ts(void)
{
	struct hxs_tcp_info info;
	struct hxs_tcp_conn *c, *l;
	uint32_t iss;

	t_case("RFC 6298 §3: SYN retransmitted by the timer, TSecr of the SYN,ACK -> RTT sample, RTO 200 ms not 3 s");
	struct ts *t = mk(0);
	CHECK(hxs_tcp_conn__new(t->tcp, &c) == 0);
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, TS_LPORT, TS_REMOTE, TS_RPORT, 0), 0);
	EXPECT_ISS(t, HXS_TH_SYN, 0, &iss);
	uint32_t tsv0 = last.opt.tsval;
	ts_run_until(t, 1 * S + 2 * TICK);
	EXPECT(t, HXS_TH_SYN, iss, 0);
	uint32_t tsv1 = last.opt.tsval;
	CHECK_EQ(tsv1 - tsv0, (uint32_t)((last.t / MS)));     /* 1 ms timestamp clock */
	/* The SYN,ACK answers the second SYN (its TSecr), 10 ms after it left. */
	struct hxs_tcp_opts o = mss_only(1460);
	o.has_ts = 1;
	o.tsval = 7000;
	o.tsecr = tsv1;
	want_seg.opt = (struct hxs_tcp_opts){ .has_ts = 1, .tsecr = 7000 };
	ts_synack(t, last.t + 10 * MS, PISN, iss + 1, &o);
	EXPECT(t, HXS_TH_ACK, iss + 1, PISN + 1);
	hxs_tcp_conn__info(c, &info);
	CHECK_EQ(info.rtt_us, 10000);
	/* SRTT 10 ms + 4 x RTTVAR 5 ms = 30 ms, raised to the 200 ms floor (§2.4) */
	CHECK_EQ(info.rto_us, 200000);
	CHECK_EQ(hxs_tcp_conn__send(c, "data", 4), 4);
	ts_run_until(t, t->now);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1, PISN + 1);
	uint64_t t0 = last.t;
	ts_run_until(t, t0 + 200 * MS - 2 * TICK);
	EXPECT_NONE(t);
	ts_run_until(t, t0 + 200 * MS + 2 * TICK);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1, PISN + 1);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	ts_free(t);

	t_case("RFC 6298 §3: SYN,ACK retransmitted by the timer, TSecr of the handshake ACK -> RTT sample, RTO 200 ms");
	t = mk(0);
	CHECK(hxs_tcp_conn__new(t->tcp, &l) == 0);
	CHECK(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8) == 0);
	o = mss_only(1460);
	o.has_ts = 1;
	o.tsval = 5000;
	want_synack.opt = (struct hxs_tcp_opts){ .has_mss = 1, .mss = 1460, .has_ts = 1, .tsecr = 5000 };
	ts_syn(t, 0, PISN, &o);
	EXPECT_ISS(t, HXS_TH_SYN | HXS_TH_ACK, PISN + 1, &iss);
	ts_run_until(t, 1 * S + 2 * TICK);
	EXPECT(t, HXS_TH_SYN | HXS_TH_ACK, iss, PISN + 1);
	struct hxs_tcp_opts a = { .has_ts = 1, .tsval = 5001, .tsecr = last.opt.tsval };
	TS_IN(t, last.t + 10 * MS, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss + 1, .wnd = 65535,
	      .opt = &a);
	EXPECT_NONE(t);
	CHECK(hxs_tcp_conn__accept(l, &c) == 0);
	hxs_tcp_conn__info(c, &info);
	CHECK_EQ(info.rtt_us, 10000);
	CHECK_EQ(info.rto_us, 200000);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	hxs_tcp_conn__close(l);
	ts_free(t);
}

static void test_synack_karn(void)
{
	t_case("Karn: a SYN,ACK resent for a duplicate SYN gives no RTT sample at the handshake ACK");
	struct hxs_tcp_info info;
	struct hxs_tcp_opts o = mss_only(1460);
	struct ts *t = mk(0);
	struct hxs_tcp_conn *l, *c = NULL;
	CHECK(hxs_tcp_conn__new(t->tcp, &l) == 0);
	CHECK(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8) == 0);
	ts_syn(t, 0, PISN, &o);
	uint32_t iss;
	EXPECT_ISS(t, HXS_TH_SYN | HXS_TH_ACK, PISN + 1, &iss);
	ts_syn(t, 300 * MS, PISN, &o);
	EXPECT(t, HXS_TH_SYN | HXS_TH_ACK, iss, PISN + 1);
	ts_ack(t, 350 * MS, PISN + 1, iss + 1);
	CHECK(hxs_tcp_conn__accept(l, &c) == 0);
	hxs_tcp_conn__info(c, &info);
	CHECK_EQ(info.rtt_us, 0);               /* no sample: which SYN,ACK was acked is unknown */
	CHECK_EQ(info.rto_us, 1000000);         /* no timer expiry: the initial RTO stays */
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	hxs_tcp_conn__close(l);
	ts_free(t);
}

static uint32_t wrap_isn(void *arg, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	return 0xFFFFFFF0u;
}

static void test_seq_wrap(void)
{
	t_case("sequence numbers across 2^32: data, SACK and ACKs wrap on both sides");
	struct hxs_tcp_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.isn_hook = wrap_isn;
	struct ts *t = mkcfg(&cfg);
	struct hxs_tcp_conn *l, *c = NULL;
	struct hxs_tcp_opts o = mss_only(1460);
	o.sack_perm = 1;
	const uint32_t P = 0xFFFFFFF8u;        /* the peer's ISN: its data wraps after 7 bytes */
	CHECK(hxs_tcp_conn__new(t->tcp, &l) == 0);
	CHECK(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8) == 0);
	ts_syn(t, 0, P, &o);
	want_synack.opt.sack_perm = 1;
	EXPECT(t, HXS_TH_SYN | HXS_TH_ACK, 0xFFFFFFF0u, P + 1);
	ts_ack(t, 1 * MS, P + 1, 0xFFFFFFF1u);
	CHECK(hxs_tcp_conn__accept(l, &c) == 0);
	/* our 100 bytes span 0xFFFFFFF1 .. 0x55 */
	uint8_t out[100], in[300], got[300];
	for (int i = 0; i < 100; i++)
		out[i] = (uint8_t)(i * 7 + 1);
	for (int i = 0; i < 300; i++)
		in[i] = (uint8_t)(i * 13 + 5);
	CHECK_EQ(hxs_tcp_conn__setopt(c, HXS_TCP_O_NODELAY, 1), 0);
	CHECK_EQ(hxs_tcp_conn__send(c, out, 100), 100);
	ts_run_until(t, 2 * MS);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, 0xFFFFFFF1u, P + 1);
	CHECK_EQ(last.len, 100);
	CHECK(memcmp(last.data, out, 100) == 0);
	ts_ack(t, 3 * MS, P + 1, 0x55u);
	CHECK_EQ(c->snd_una, 0x55u);
	/* the peer's bytes 100..199 first (beyond the wrap, out of order): SACKed across 0 */
	uint32_t s1 = P + 1 + 100;              /* 0x5d */
	ts_data(t, 4 * MS, s1, 0x55u, in + 100, 100);
	EXPECT_WO(t, HXS_TH_ACK, 0x55u, P + 1, 65535, .nsack = 1, .sack = { { s1, s1 + 100 } });
	/* then 0..99 (starting below the wrap) fills the hole: one ACK for all 200 */
	ts_data(t, 5 * MS, P + 1, 0x55u, in, 100);
	EXPECT(t, HXS_TH_ACK, 0x55u, P + 1 + 200);       /* no SACK block left */
	ts_push(t, 6 * MS, P + 1 + 200, 0x55u, in + 200, 100);
	CHECK_EQ(hxs_tcp_conn__recv(c, got, sizeof(got), 0), 300);
	CHECK(memcmp(got, in, 300) == 0);
	/* close across the wrap: our FIN at 0x55, theirs at P + 301 */
	hxs_tcp_conn__close(c);
	ts_run_until(t, 60 * MS);
	EXPECT(t, HXS_TH_FIN | HXS_TH_ACK, 0x55u, P + 301);   /* acknowledging the pushed 100 too */
	CHECK_EQ(last.t, 6 * MS);
	EXPECT_NONE(t);
	ts_fin(t, 61 * MS, P + 301, 0x56u);
	EXPECT(t, HXS_TH_ACK, 0x56u, P + 302);
	CHECK_EQ(MIBV(t, TW), 0);
	hxs_tcp_conn__close(l);
	ts_free(t);
}

/* The datapath may have no frame for a segment (tx_alloc returns NULL: UMEM pool empty, or a
 * frame too small). The core counts TCPTxNoBufs, keeps the connection pending and sends on the
 * next turn; a RST for a segment without a connection is not retried (the peer's next
 * segment draws another). */
static void test_tx_nobufs(void)
{
	uint32_t iss;
	struct ts *t;
	struct hxs_tcp_conn *c, *l;
	uint8_t d[10 * 1460];

	t_case("no frame for data: TCPTxNoBufs, sent on the next turn at the same instant");
	t = mk(0);
	c = active(t, 0, &iss);
	CHECK_EQ(hxs_tcp_conn__setopt(c, HXS_TCP_O_NODELAY, 1), 0);
	t->fail_allocs = 1;
	CHECK_EQ(hxs_tcp_conn__send(c, "abc", 3), 3);
	ts_run_until(t, 1 * MS);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1, PISN + 1);
	CHECK_EQ(last.len, 3);
	CHECK_EQ(last.t, 0);                    /* the retry did not wait for a timer */
	CHECK_EQ(MIBV(t, TCPTxNoBufs), 1);
	CHECK_EQ(t->nobufs, 1);
	CHECK_EQ(MIBV(t, TcpRetransSegs), 0);   /* never sent before: not a retransmission */
	EXPECT_NONE(t);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	ts_free(t);

	t_case("a pool of 3 frames a turn: IW10 leaves in 4 turns, in order, TCPTxNoBufs 3");
	t = mk(0);
	c = active(t, 0, &iss);
	t->pool = 3;
	memset(d, 'p', sizeof(d));
	CHECK_EQ(hxs_tcp_conn__send(c, d, sizeof(d)), (long)sizeof(d));
	ts_run_until(t, 1 * MS);
	for (uint32_t i = 0; i < 10; i++) {
		EXPECT(t, i == 9 ? HXS_TH_ACK | HXS_TH_PSH : HXS_TH_ACK, iss + 1 + 1460 * i, PISN + 1);
		CHECK_EQ(last.len, 1460);
	}
	EXPECT_NONE(t);
	CHECK_EQ(MIBV(t, TCPTxNoBufs), 3);      /* turns 1-3 ran out after 3 frames each */
	CHECK_EQ(t->nobufs, 3);
	CHECK_EQ(MIBV(t, TcpOutSegs), 2 + 10);  /* SYN, handshake ACK, the data */
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	ts_free(t);

	t_case("no frame for an ACK: sent at the end of the same turn");
	t = mk(0);
	c = passive(t, 0, &l, &iss);
	t->fail_allocs = 1;
	ts_data(t, 1 * MS, PISN + 1 + 100, iss + 1, "x", 1);   /* out of order: ACK at once */
	EXPECT(t, HXS_TH_ACK, iss + 1, PISN + 1);
	CHECK_EQ(last.t, 1 * MS);
	CHECK_EQ(MIBV(t, TCPTxNoBufs), 1);
	EXPECT_NONE(t);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	hxs_tcp_conn__close(l);
	ts_free(t);

	t_case("no frame for a RST to a segment without a connection: counted, not retried");
	t = mk(0);
	t->fail_allocs = 1;
	ts_push(t, 0, PISN, 4242, "data", 4);
	EXPECT_NONE(t);
	CHECK_EQ(MIBV(t, TCPTxNoBufs), 1);
	CHECK_EQ(MIBV(t, TcpOutRsts), 0);
	ts_run_until(t, 10 * S);
	EXPECT_NONE(t);
	ts_push(t, 10 * S, PISN, 4242, "data", 4);
	EXPECT(t, HXS_TH_RST, 4242, 0);
	CHECK_EQ(MIBV(t, TcpOutRsts), 1);
	ts_free(t);
}

static void test_send_mss_sack(void)
{
	/* RFC 9293 §3.7.1: "if there are any IP or TCP Options to be sent in a packet, then the
	 * sender must decrease the size of the TCP data accordingly". With timestamps (12 bytes,
	 * in the MSS already) and n SACK blocks (4 + 8n bytes) a full segment carries 1448 -
	 * (4 + 8n) bytes, and header + options + data = 1480 = MTU - 20. */
	static const uint32_t holes[] = { 1, 3 };
	for (int k = 0; k < 2; k++) {
		t_case(k ? "send MSS with 3 SACK blocks and TS: 1420 bytes of data, segment = MTU - 20"
			 : "send MSS with 1 SACK block and TS: 1436 bytes of data, segment = MTU - 20");
		struct ts *t = mk(0);
		struct hxs_tcp_conn *l, *c;
		struct hxs_tcp_opts o = mss_only(1460);
		o.sack_perm = 1;
		o.has_ts = 1;
		o.tsval = 100;
		CHECK(hxs_tcp_conn__new(t->tcp, &l) == 0);
		CHECK(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8) == 0);
		ts_syn(t, 0, PISN, &o);
		uint32_t iss;
		want_synack.opt = (struct hxs_tcp_opts){ .has_mss = 1, .mss = 1460, .sack_perm = 1,
							 .has_ts = 1, .tsecr = 100 };
		EXPECT_ISS(t, HXS_TH_SYN | HXS_TH_ACK, PISN + 1, &iss);
		struct hxs_tcp_opts a;
		memset(&a, 0, sizeof(a));
		a.has_ts = 1;
		a.tsval = 101;
		a.tsecr = last.opt.tsval;
		TS_IN(t, 1 * MS, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss + 1, .wnd = 65535, .opt = &a);
		CHECK(hxs_tcp_conn__accept(l, &c) == 0);
		/* the peer's data beyond holes: holes[k] out-of-order ranges held; each duplicate
		 * ACK lists them, the most recent first (RFC 2018 §4) */
		struct hxs_tcp_opts x = { .has_ts = 1, .tsecr = 101 };
		for (uint32_t h = 0; h < holes[k]; h++) {
			TS_IN(t, 2 * MS, .flags = HXS_TH_ACK, .seq = PISN + 1 + 200 * (h + 1), .ack = iss + 1,
			      .wnd = 65535, .opt = &a, .data = "0123456789", .len = 10);
			x.nsack = (uint8_t)(h + 1);
			for (uint32_t j = 0; j <= h; j++) {
				x.sack[j].start = PISN + 1 + 200 * (h + 1 - j);
				x.sack[j].end = x.sack[j].start + 10;
			}
			EXPECT_OPTS(t, HXS_TH_ACK, iss + 1, PISN + 1, 65535, &x);
		}
		uint8_t d[3000];
		memset(d, 's', sizeof(d));
		CHECK_EQ(hxs_tcp_conn__send(c, d, sizeof(d)), 3000);
		ts_run_until(t, 3 * MS);
		uint32_t full = 1448 - (4 + 8 * holes[k]), seq = iss + 1;
		for (int i = 0; i < 2; i++) {
			EXPECT_OPTS(t, HXS_TH_ACK, seq, PISN + 1, 65535, &x);
			CHECK_EQ(last.len, full);
			CHECK_EQ(last.hlen + last.len, 1500 - 20);
			seq += last.len;
		}
		EXPECT_NONE(t);                     /* Nagle: the rest waits for the ACK */
		TS_IN(t, 4 * MS, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = seq, .wnd = 65535, .opt = &a);
		EXPECT_OPTS(t, HXS_TH_ACK | HXS_TH_PSH, seq, PISN + 1, 65535, &x);
		CHECK_EQ(last.len, 3000 - 2 * full);
		EXPECT_NONE(t);
		CHECK_EQ(t->oversize, 0);
		CHECK_EQ(MIBV(t, TCPTxNoBufs), 0);
		hxs_tcp_conn__abort(c);
		hxs_tcp_conn__close(c);
		hxs_tcp_conn__close(l);
		ts_free(t);
	}
}

int main(void)
{
	test_passive_open();
	test_active_open();
	test_simultaneous_open();
	test_data_and_delack();
	test_close_paths();
	test_rst_states();
	test_rfc5961();
	test_paws_and_tw_reuse();
	test_rto();
	test_syn_retries();
	test_syn_rto_reinit();
	test_synack_karn();
	test_syn_rtt_ts();
	test_seq_wrap();
	test_persist();
	test_keepalive();
	test_malformed();
	test_mss_and_backlog();
	test_recovery();
	test_send_mss_sack();
	test_tx_nobufs();
	test_events();
	return t_done();
}
