/* test_tcp_limits.c - the TCP core's resource limits (README "Limits"), each driven to its
 * edge on one core segment by segment (tests/unit/lib/tcp_harness.h), asserting the exact
 * outcome there: the counter, the gauge of hxs_tcp__res(), the error the caller sees, the
 * segment (or none) that goes out, and the buffer memory held before and after.
 *
 *   max_conns          a SYN dropped (ListenDrops, HxsTcpConnLimitDrops), connect -ENOBUFS
 *   max_tw             the oldest TIME-WAIT recycled (TCPTimeWaitOverflow)
 *   SYN queue          a SYN dropped (TCPReqQFullDrop, ListenDrops)
 *   ofo_conn_max/_max  an out-of-order segment dropped (TCPOFODrop + HxsTcpOfo*Drops)
 *   buffer memory      none while idle, one chunk kept a period after draining, none after
 *   mem_pressure       windows clamped, new connections refused (HxsTcpMemRefused)
 *   mem_max            in-order data dropped (TCPRcvQDrop), send -EAGAIN (HxsTcpSndMemFails),
 *                      an orphan reset (TCPAbortOnMemory)
 *   on_tuple refused   connect fails with its error, a SYN is dropped (HxsTcpTupleRefused)
 *
 * The peer is TS_REMOTE:TS_RPORT (+i), the stack TS_LOCAL:TS_LPORT; the peer's ISN is PISN. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "hxs/hxs.h"
#include "hxs/shared.h"
#include "tcp_harness.h"
__attribute__((constructor)) static void unbuffer(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

#define MS 1000ull
#define S 1000000ull
#define PISN 1000u
#define CH HXS_TCP_CHUNK
#define TAB (HXS_TCP_TAB_SLOTS * sizeof(uint8_t *))     /* the table of a ring <= 256 KiB */

#define MIBV(t, name) (hxs_tcp__mib((t)->tcp)[HXS_TCP_MIB_##name])
#define RES(t, name) (hxs_tcp__res((t)->tcp)[HXS_TCP_RES_##name])

static struct ts_seg last;

/* Pops one segment and checks its flags, seq, ack (with ACK) and payload length. */
#define EXPECT(t, fl, sq, ak, ln)                                                         \
	({                                                                                \
		struct ts_seg _s;                                                         \
		int _ok = CHECK(ts_pop(t, &_s), "no segment emitted");                    \
		if (_ok) {                                                                \
			last = _s;                                                        \
			_ok &= CHECK_EQ(_s.flags, fl);                                    \
			_ok &= CHECK_EQ(_s.seq, (uint32_t)(sq));                          \
			if ((fl) & HXS_TH_ACK)                                            \
				_ok &= CHECK_EQ(_s.ack, (uint32_t)(ak));                  \
			_ok &= CHECK_EQ(_s.len, (uint32_t)(ln));                          \
		}                                                                         \
		_ok;                                                                      \
	})

/* Active open TS_LOCAL:TS_LPORT -> TS_REMOTE:rport at `now`; the peer offers MSS 1460 and
 * window 65535, no other option. */
static struct hxs_tcp_conn *active(struct ts *t, uint64_t now, uint16_t rport, uint32_t *iss)
{
	struct hxs_tcp_opts o = ts_mss_opt(1460);
	struct hxs_tcp_conn *c = NULL;

	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &c), 0);
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, TS_LPORT, TS_REMOTE, rport, now), 0);
	EXPECT(t, HXS_TH_SYN, last.seq, 0, 0);
	*iss = last.seq;
	TS_IN(t, now, .rport = rport, .flags = HXS_TH_SYN | HXS_TH_ACK, .seq = PISN, .ack = *iss + 1,
	      .wnd = 65535, .opt = &o);
	EXPECT(t, HXS_TH_ACK, *iss + 1, PISN + 1, 0);
	return c;
}

/* Aborts and closes the connections given, lets the core free them, checks that nothing
 * leaked (objects, out-of-order bytes, buffer memory), frees the instance. */
static void done(struct ts *t, struct hxs_tcp_conn **cs, int n)
{
	uint64_t live = ts_close_all(t, cs, n);

	CHECK_EQ(live, hxs_tcp__nconns(t->tcp));
	CHECK_EQ(RES(t, HxsTcpOfoBytes), 0);
	CHECK_EQ(RES(t, HxsTcpBufBytes), 0);
	ts_free(t);
}

/* --- defaults ------------------------------------------------------------------------------ */
static void test_defaults(void)
{
	struct hxs_tcp_cfg l;
	struct ts *t = ts_open(NULL);

	t_case("limits: defaults (196608 connections, 65536 TIME-WAIT: together the XDP conn map's 262144; 1 MiB / 64 MiB out of order, 256/384/512 MiB memory, 4 MiB cache), shown by hxs_tcp__res()");
	memset(&l, 0, sizeof(l));
	hxs_tcp__limits(t->tcp, &l);
	CHECK_EQ(l.max_conns, 196608);
	CHECK_EQ(l.max_tw, 65536);
	CHECK_EQ(l.max_conns + l.max_tw, HXS_MAX_CONNS);
	CHECK_EQ(l.ofo_conn_max, 1u << 20);
	CHECK_EQ(l.ofo_max, 64ull << 20);
	CHECK_EQ(l.mem_low, 256ull << 20);
	CHECK_EQ(l.mem_pressure, 384ull << 20);
	CHECK_EQ(l.mem_max, 512ull << 20);
	CHECK_EQ(l.mem_cache, 4u << 20);
	CHECK_EQ(RES(t, HxsTcpConnsMax), 196608);
	CHECK_EQ(RES(t, HxsTcpTimeWaitMax), 65536);
	CHECK_EQ(RES(t, HxsTcpOfoMax), 64ull << 20);
	CHECK_EQ(RES(t, HxsTcpOfoConnMax), 1u << 20);
	CHECK_EQ(RES(t, HxsTcpMemLow), 256ull << 20);
	CHECK_EQ(RES(t, HxsTcpMemPressure), 384ull << 20);
	CHECK_EQ(RES(t, HxsTcpMemMax), 512ull << 20);
	CHECK_EQ(RES(t, HxsTcpConns) + RES(t, HxsTcpTimeWait) + RES(t, HxsTcpBufBytes), 0);
	CHECK(!strcmp(hxs_tcp_res_names[HXS_TCP_RES_HxsTcpBufBytes], "HxsTcpBufBytes"));

	t_case("limits: set on a live instance; a memory limit alone sets the others in proportion (3/4, then 2/3)");
	memset(&l, 0, sizeof(l));
	l.mem_max = 3 << 20;
	l.max_tw = 7;
	hxs_tcp__set_limits(t->tcp, &l);
	memset(&l, 0, sizeof(l));
	hxs_tcp__limits(t->tcp, &l);
	CHECK_EQ(l.mem_max, 3u << 20);
	CHECK_EQ(l.mem_pressure, (3u << 20) / 4 * 3);
	CHECK_EQ(l.mem_low, (3u << 20) / 4 * 3 / 3 * 2);
	CHECK_EQ(l.max_tw, 7);
	CHECK_EQ(l.max_conns, 196608);
	CHECK_EQ(RES(t, HxsTcpTimeWaitMax), 7);
	ts_free(t);
}

/* --- max_conns ------------------------------------------------------------------------------- */
static void test_max_conns(void)
{
	struct hxs_tcp_cfg cfg;
	struct hxs_tcp_conn *l, *c;
	uint32_t iss[3];
	struct ts *t;

	t_case("max_conns 2: two SYNs answered; the third dropped, no segment (ListenDrops 1, HxsTcpConnLimitDrops 1)");
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_conns = 2;
	t = ts_open(&cfg);
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &l), 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8), 0);
	CHECK(ts_syn_from(t, t->now, PISN, 0, &iss[0]));
	CHECK(ts_syn_from(t, t->now, PISN, 1, &iss[1]));
	CHECK_EQ(RES(t, HxsTcpConns), 2);
	CHECK_EQ(ts_syn_from(t, t->now, PISN, 2, &iss[2]), 0);
	CHECK_EQ(MIBV(t, ListenDrops), 1);
	CHECK_EQ(MIBV(t, HxsTcpConnLimitDrops), 1);
	CHECK_EQ(MIBV(t, TcpPassiveOpens), 2);
	CHECK_EQ(RES(t, HxsTcpConns), 2);

	t_case("max_conns 2: connect says -ENOBUFS, sends nothing (HxsTcpConnLimitDrops 2); once a connection goes, the same c connects");
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &c), 0);
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, TS_EPORT, TS_REMOTE, 5000, 0), -ENOBUFS);
	CHECK_EQ(MIBV(t, HxsTcpConnLimitDrops), 2);
	CHECK_EQ(MIBV(t, TcpActiveOpens), 0);
	CHECK_EQ(ts_pending(t), 0);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_CLOSED);
	/* the peer resets its first attempt: the child in SYN-RECEIVED goes */
	TS_IN(t, 0, .rport = TS_RPORT, .flags = HXS_TH_RST, .seq = PISN + 1);
	CHECK_EQ(RES(t, HxsTcpConns), 1);
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, TS_EPORT, TS_REMOTE, 5000, 0), 0);
	EXPECT(t, HXS_TH_SYN, last.seq, 0, 0);
	CHECK_EQ(RES(t, HxsTcpConns), 2);
	CHECK_EQ(MIBV(t, HxsTcpConnLimitDrops), 2);
	hxs_tcp_conn__close(l);
	done(t, &c, 1);
}

/* --- max_tw --------------------------------------------------------------------------------- */
/* Active open from TS_LPORT to TS_RPORT+i, then an active close through FIN-WAIT to TIME-WAIT. */
static void into_time_wait(struct ts *t, uint16_t i)
{
	uint32_t iss;
	struct hxs_tcp_conn *c = active(t, t->now, (uint16_t)(TS_RPORT + i), &iss);

	hxs_tcp_conn__close(c);
	hxs_tcp__poll(t->tcp, t->now);
	EXPECT(t, HXS_TH_FIN | HXS_TH_ACK, iss + 1, PISN + 1, 0);
	TS_IN(t, t->now, .rport = (uint16_t)(TS_RPORT + i), .flags = HXS_TH_FIN | HXS_TH_ACK,
	      .seq = PISN + 1, .ack = iss + 2, .wnd = 65535);
	EXPECT(t, HXS_TH_ACK, iss + 2, PISN + 2, 0);
}

static void test_max_tw(void)
{
	struct hxs_tcp_cfg cfg;
	struct ts *t;

	t_case("max_tw 2: a third connection entering TIME-WAIT recycles the oldest (TCPTimeWaitOverflow 1): its 4-tuple leaves the table");
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_tw = 2;
	t = ts_open(&cfg);
	into_time_wait(t, 0);
	t->now += 1 * MS;
	into_time_wait(t, 1);
	CHECK_EQ(RES(t, HxsTcpTimeWait), 2);
	CHECK_EQ(RES(t, HxsTcpConns), 0);          /* TIME-WAIT is not counted in max_conns */
	CHECK_EQ(MIBV(t, TCPTimeWaitOverflow), 0);
	t->now += 1 * MS;
	into_time_wait(t, 2);
	CHECK_EQ(MIBV(t, TCPTimeWaitOverflow), 1);
	CHECK_EQ(RES(t, HxsTcpTimeWait), 2);
	CHECK(!hxs_tcp_lookup(t->tcp, TS_LOCAL, TS_LPORT, TS_REMOTE, TS_RPORT), "the oldest is gone");
	CHECK(hxs_tcp_lookup(t->tcp, TS_LOCAL, TS_LPORT, TS_REMOTE, TS_RPORT + 1));
	CHECK(hxs_tcp_lookup(t->tcp, TS_LOCAL, TS_LPORT, TS_REMOTE, TS_RPORT + 2));
	CHECK_EQ(t->tuples, 2);
	CHECK_EQ(ts_pending(t), 0);                /* recycling sends nothing */

	t_case("max_tw 2: the two left expire after 2 MSL; nothing is held");
	ts_run_until(t, t->now + 61 * S);
	CHECK_EQ(RES(t, HxsTcpTimeWait), 0);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 0);
	CHECK_EQ(t->tuples, 0);
	CHECK_EQ(MIBV(t, TCPTimeWaitOverflow), 1);
	done(t, NULL, 0);
}

/* --- SYN-RECEIVED per listener ---------------------------------------------------------------- */
static void test_syn_queue(void)
{
	struct hxs_tcp_cfg cfg;
	struct hxs_tcp_conn *l;
	uint32_t iss[3];
	struct ts *t;

	t_case("SYN-RECEIVED per listener, SYN cookies off (tcp_syncookies = 0): tcp_max_syn_backlog 2, the third SYN is dropped (TCPReqQFullDrop 1, ListenDrops 1)");
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_syn_backlog = 2;
	cfg.no_syncookies = 1;
	t = ts_open(&cfg);
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &l), 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 128), 0);
	CHECK(ts_syn_from(t, t->now, PISN, 0, &iss[0]));
	CHECK(ts_syn_from(t, t->now, PISN, 1, &iss[1]));
	CHECK_EQ(ts_syn_from(t, t->now, PISN, 2, &iss[2]), 0);
	CHECK_EQ(l->synq_len, 2);
	CHECK_EQ(MIBV(t, TCPReqQFullDrop), 1);
	CHECK_EQ(MIBV(t, ListenDrops), 1);
	CHECK_EQ(MIBV(t, HxsTcpConnLimitDrops), 0);
	CHECK_EQ(MIBV(t, SyncookiesSent), 0);
	hxs_tcp_conn__close(l);
	done(t, NULL, 0);

	t_case("SYN-RECEIVED per listener, SYN cookies on (the default): tcp_max_syn_backlog 2, the third and fourth SYNs get cookie SYN-ACKs and hold nothing (SyncookiesSent 2, no drop)");
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_syn_backlog = 2;
	t = ts_open(&cfg);
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &l), 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 128), 0);
	CHECK(ts_syn_from(t, t->now, PISN, 0, &iss[0]));
	CHECK(ts_syn_from(t, t->now, PISN, 1, &iss[1]));
	CHECK(ts_syn_from(t, t->now, PISN, 2, &iss[2]));
	CHECK(ts_syn_from(t, t->now, PISN, 3, &iss[2]));
	CHECK_EQ(l->synq_len, 2);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 3);
	CHECK_EQ(MIBV(t, SyncookiesSent), 2);
	CHECK_EQ(MIBV(t, TCPReqQFullDrop), 0);
	CHECK_EQ(MIBV(t, ListenDrops), 0);
	hxs_tcp_conn__close(l);
	done(t, NULL, 0);
}

/* --- out-of-order bytes ------------------------------------------------------------------------ */
static void test_ofo(void)
{
	static uint8_t d[2000];
	struct hxs_tcp_cfg cfg;
	struct hxs_tcp_conn *c[2];
	uint32_t iss[2], base = PISN + 1;
	struct ts *t;

	ts_fill(d, sizeof(d), 1);
	t_case("ofo_conn_max 3000: three 1000-byte ranges held (HxsTcpOfoBytes 3000); a fourth dropped (TCPOFODrop 1, HxsTcpOfoConnDrops 1)");
	memset(&cfg, 0, sizeof(cfg));
	cfg.ofo_conn_max = 3000;
	cfg.ofo_max = 5000;
	t = ts_open(&cfg);
	c[0] = active(t, 0, TS_RPORT, &iss[0]);
	for (int k = 0; k < 3; k++) {
		ts_data(t, 0, base + 1000 + 2000 * k, iss[0] + 1, d, 1000);
		EXPECT(t, HXS_TH_ACK, iss[0] + 1, base, 0);   /* duplicate ACK at once */
	}
	CHECK_EQ(c[0]->reass.bytes, 3000);
	CHECK_EQ(RES(t, HxsTcpOfoBytes), 3000);
	ts_data(t, 0, base + 7000, iss[0] + 1, d, 1000);
	EXPECT(t, HXS_TH_ACK, iss[0] + 1, base, 0);
	CHECK_EQ(MIBV(t, TCPOFODrop), 1);
	CHECK_EQ(MIBV(t, HxsTcpOfoConnDrops), 1);
	CHECK_EQ(MIBV(t, TCPOFOQueue), 3);
	CHECK_EQ(c[0]->reass.n, 3);
	CHECK_EQ(RES(t, HxsTcpOfoBytes), 3000);

	t_case("ofo_conn_max 3000: bytes already held add nothing (taken); bytes joining two ranges add 1000 (dropped, HxsTcpOfoConnDrops 2)");
	ts_data(t, 0, base + 1000, iss[0] + 1, d, 1000);
	EXPECT(t, HXS_TH_ACK, iss[0] + 1, base, 0);
	CHECK_EQ(MIBV(t, TCPOFODrop), 1);
	CHECK_EQ(RES(t, HxsTcpOfoBytes), 3000);
	ts_data(t, 0, base + 2000, iss[0] + 1, d, 1000);
	EXPECT(t, HXS_TH_ACK, iss[0] + 1, base, 0);
	CHECK_EQ(MIBV(t, HxsTcpOfoConnDrops), 2);
	CHECK_EQ(MIBV(t, TCPOFODrop), 2);
	CHECK_EQ(c[0]->reass.n, 3);

	t_case("ofo_max 5000: another connection holds 2000 (stack 5000, the limit is inclusive); one byte more is dropped (HxsTcpOfoStackDrops 1)");
	c[1] = active(t, 0, TS_RPORT + 1, &iss[1]);
#define DATA1(sq, n) TS_IN(t, 0, .rport = TS_RPORT + 1, .flags = HXS_TH_ACK, .seq = (sq),      \
			     .ack = iss[1] + 1, .wnd = 65535, .data = d, .len = (n))
	DATA1(base + 1000, 1000);
	DATA1(base + 3000, 1000);
	CHECK_EQ(RES(t, HxsTcpOfoBytes), 5000);
	DATA1(base + 5000, 1);
	CHECK_EQ(MIBV(t, HxsTcpOfoStackDrops), 1);
	CHECK_EQ(MIBV(t, TCPOFODrop), 3);
	CHECK_EQ(c[1]->reass.bytes, 2000);
	ts_clear(t);

	t_case("out-of-order bytes leave the count when the hole fills (in order now) and when a connection goes");
	ts_data(t, 0, base, iss[0] + 1, d, 1000);
	EXPECT(t, HXS_TH_ACK, iss[0] + 1, base + 2000, 0);
	CHECK_EQ(c[0]->reass.bytes, 2000);
	CHECK_EQ(RES(t, HxsTcpOfoBytes), 4000);
	CHECK_EQ(hxs_tcp_conn__rx_avail(c[0]), 2000);
	hxs_tcp_conn__abort(c[1]);
	CHECK_EQ(RES(t, HxsTcpOfoBytes), 2000);
	hxs_tcp_conn__close(c[1]);
	c[1] = NULL;
	done(t, c, 2);
}

/* --- buffer memory comes and goes with the data ------------------------------------------------- */
static void test_buffer_memory(void)
{
	static uint8_t d[10000], got[10000];
	struct hxs_tcp_conn *c;
	uint32_t iss, base = PISN + 1;
	uint64_t t0;
	struct ts *t;

	ts_fill(d, sizeof(d), 5);
	t_case("buffer memory: an established idle connection holds none (HxsTcpBufBytes 0)");
	t = ts_open(NULL);
	c = active(t, 0, TS_RPORT, &iss);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_ESTABLISHED);
	CHECK_EQ(RES(t, HxsTcpBufBytes), 0);
	CHECK(c->rcv.cap == 256 * 1024 && !c->rcv.chunk && !c->snd.chunk);

	t_case("buffer memory: 3000 bytes received take one chunk and the table (4608); read, they stay one period, then go (0)");
	ts_data(t, 0, base, iss + 1, d, 1500);
	ts_data(t, 0, base + 1500, iss + 1, d + 1500, 1500);
	ts_clear(t);
	CHECK_EQ(RES(t, HxsTcpBufBytes), CH + TAB);
	CHECK_EQ(hxs_tcp_conn__recv(c, got, sizeof(got), 0), 3000);
	CHECK(!memcmp(got, d, 3000));
	CHECK_EQ(RES(t, HxsTcpBufBytes), CH + TAB);   /* drained: kept for the next bytes */
	t0 = t->now;
	ts_run_until(t, t0 + HXS_TCP_BUF_KEEP_US + 1 * MS);
	CHECK_EQ(RES(t, HxsTcpBufBytes), CH + TAB);
	ts_run_until(t, t0 + 2 * HXS_TCP_BUF_KEEP_US + 1 * MS);
	CHECK_EQ(RES(t, HxsTcpBufBytes), 0);
	CHECK(!c->rcv.chunk);
	ts_clear(t);

	t_case("buffer memory: 10000 bytes sent take three chunks (12800); acked, one stays, then none; the cache keeps what went (12800)");
	CHECK_EQ(hxs_tcp_conn__setopt(c, HXS_TCP_O_NODELAY, 1), 0);
	CHECK_EQ(hxs_tcp_conn__send(c, d, sizeof(d)), (long)sizeof(d));
	CHECK_EQ(RES(t, HxsTcpBufBytes), 3 * CH + TAB);
	hxs_tcp__poll(t->tcp, t->now);
	for (uint32_t off = 0; off < sizeof(d); off += 1460)
		EXPECT(t, HXS_TH_ACK | (off + 1460 >= sizeof(d) ? HXS_TH_PSH : 0), iss + 1 + off, base + 3000,
		       off + 1460 <= sizeof(d) ? 1460 : sizeof(d) - off);
	ts_ack(t, t->now, base + 3000, iss + 1 + (uint32_t)sizeof(d));
	CHECK_EQ(RES(t, HxsTcpBufBytes), CH + TAB);
	t0 = t->now;
	ts_run_until(t, t0 + 2 * HXS_TCP_BUF_KEEP_US + 1 * MS);
	CHECK_EQ(RES(t, HxsTcpBufBytes), 0);
	CHECK_EQ(RES(t, HxsTcpBufCached), 3 * CH + TAB);
	done(t, &c, 1);
}

/* --- memory pressure ------------------------------------------------------------------------------ */
static void test_mem_pressure(void)
{
	static uint8_t d[1000], got[20000];
	struct hxs_tcp_cfg cfg;
	struct hxs_tcp_conn *c, *c2 = NULL, *l;
	uint32_t iss, base = PISN + 1, siss;
	struct ts *t;

	t_case("mem_pressure 32 KiB: 40000 bytes held (10 chunks + table) enter pressure once (TCPMemoryPressures 1, HxsTcpMemUnderPressure 1)");
	memset(&cfg, 0, sizeof(cfg));
	cfg.rcvbuf = 60000;
	cfg.no_ws = 1;                   /* window fields in bytes */
	cfg.mem_low = 16384;
	cfg.mem_pressure = 32768;
	cfg.mem_max = 65536;
	t = ts_open(&cfg);
	c = active(t, 0, TS_RPORT, &iss);
	CHECK_EQ(last.wnd, 60000);
	for (uint32_t k = 0; k < 40; k++)
		ts_data(t, 0, base + 1000 * k, iss + 1, d, 1000);
	ts_clear(t);
	CHECK_EQ(RES(t, HxsTcpBufBytes), 10 * CH + TAB);
	CHECK_EQ(MIBV(t, TCPMemoryPressures), 1);
	CHECK_EQ(RES(t, HxsTcpMemUnderPressure), 1);

	t_case("mem_pressure: reading 20000 frees 4 chunks, still above mem_low; the window update offers 20000 (right edge kept), not the 40000 free");
	CHECK_EQ(hxs_tcp_conn__recv(c, got, 20000, 0), 20000);
	CHECK_EQ(RES(t, HxsTcpBufBytes), 6 * CH + TAB);
	CHECK_EQ(RES(t, HxsTcpMemUnderPressure), 1);
	CHECK_EQ(hxs_tcp_rcv_window(c), 20000);
	hxs_tcp__poll(t->tcp, t->now);
	EXPECT(t, HXS_TH_ACK, iss + 1, base + 40000, 0);
	CHECK_EQ(last.wnd, 20000);

	t_case("mem_pressure: a new connection is refused: connect -ENOBUFS, a SYN dropped (HxsTcpMemRefused 2, ListenDrops 1)");
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &c2), 0);
	CHECK_EQ(hxs_tcp_conn__connect(c2, TS_LOCAL, TS_EPORT, TS_REMOTE, 5000, 0), -ENOBUFS);
	CHECK_EQ(MIBV(t, HxsTcpMemRefused), 1);
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &l), 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, 81, 8), 0);
	TS_IN(t, 0, .rport = TS_RPORT + 9, .lport = 81, .flags = HXS_TH_SYN, .seq = PISN, .wnd = 65535);
	CHECK_EQ(ts_pending(t), 0);
	CHECK_EQ(MIBV(t, HxsTcpMemRefused), 2);
	CHECK_EQ(MIBV(t, ListenDrops), 1);

	t_case("mem_pressure: reading the rest drains the ring; under pressure nothing is kept (HxsTcpBufBytes 0), pressure ends; connect works again");
	CHECK_EQ(hxs_tcp_conn__recv(c, got, 20000, 0), 20000);
	CHECK_EQ(RES(t, HxsTcpBufBytes), 0);
	CHECK_EQ(RES(t, HxsTcpMemUnderPressure), 0);
	CHECK_EQ(MIBV(t, TCPMemoryPressures), 1);
	CHECK_EQ(hxs_tcp_conn__connect(c2, TS_LOCAL, TS_EPORT, TS_REMOTE, 5000, 0), 0);
	TS_IN(t, 0, .rport = TS_RPORT + 9, .lport = 81, .flags = HXS_TH_SYN, .seq = PISN, .wnd = 65535);
	{
		struct ts_seg s;
		int synacks = 0;

		while (ts_pop(t, &s))
			if (s.flags == (HXS_TH_SYN | HXS_TH_ACK) && s.sport == 81) {
				synacks++;
				siss = s.seq;
			}
		CHECK_EQ(synacks, 1);
		(void)siss;
	}
	hxs_tcp_conn__close(l);
	{
		struct hxs_tcp_conn *cs[2] = { c, c2 };
		done(t, cs, 2);
	}
}

/* --- mem_max ---------------------------------------------------------------------------------------- */
static void test_mem_max(void)
{
	static uint8_t d[12288], got[12288];
	struct hxs_tcp_cfg cfg;
	struct hxs_tcp_conn *c;
	uint32_t iss, base = PISN + 1;
	struct ts *t;

	ts_fill(d, sizeof(d), 9);
	t_case("mem_max (table + 3 chunks): 12 segments of 1024 fill it; the 13th in order is dropped (TCPRcvQDrop 1), ACKed at 12288");
	memset(&cfg, 0, sizeof(cfg));
	cfg.mem_max = TAB + 3 * CH;
	cfg.mem_pressure = cfg.mem_max;
	t = ts_open(&cfg);
	c = active(t, 0, TS_RPORT, &iss);
	for (uint32_t k = 0; k < 12; k++)
		ts_data(t, 0, base + 1024 * k, iss + 1, d + 1024 * k, 1024);
	ts_clear(t);
	CHECK_EQ(RES(t, HxsTcpBufBytes), TAB + 3 * CH);
	ts_data(t, 0, base + 12288, iss + 1, d, 1024);
	EXPECT(t, HXS_TH_ACK, iss + 1, base + 12288, 0);
	CHECK_EQ(MIBV(t, TCPRcvQDrop), 1);
	CHECK_EQ(hxs_tcp_conn__rx_avail(c), 12288);

	t_case("mem_max: send takes nothing (-EAGAIN, HxsTcpSndMemFails 1); the data read back is exact");
	CHECK_EQ(hxs_tcp_conn__send(c, d, 100), -EAGAIN);
	CHECK_EQ(MIBV(t, HxsTcpSndMemFails), 1);
	CHECK_EQ(hxs_tcp_conn__recv(c, got, sizeof(got), 0), 12288);
	CHECK(!memcmp(got, d, sizeof(got)));
	CHECK_EQ(RES(t, HxsTcpBufBytes), 0);      /* drained under pressure: nothing kept */

	t_case("mem_max: an orphan with 12288 bytes outstanding uses it all up; its retransmission timer resets it (TCPAbortOnMemory 1) and its memory goes");
	CHECK_EQ(hxs_tcp_conn__setopt(c, HXS_TCP_O_NODELAY, 1), 0);
	CHECK_EQ(hxs_tcp_conn__send(c, d, sizeof(d)), (long)sizeof(d));
	CHECK_EQ(RES(t, HxsTcpBufBytes), TAB + 3 * CH);
	hxs_tcp_conn__close(c);                    /* FIN queued behind the data: an orphan */
	hxs_tcp__poll(t->tcp, t->now);
	ts_clear(t);
	ts_run_until(t, 3 * S);
	EXPECT(t, HXS_TH_RST | HXS_TH_ACK, iss + 1 + 12288 + 1, base + 12288, 0);
	CHECK_EQ(MIBV(t, TCPAbortOnMemory), 1);
	CHECK_EQ(MIBV(t, TCPTimeouts), 0);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 0);
	CHECK_EQ(RES(t, HxsTcpBufBytes), 0);
	done(t, NULL, 0);
}

/* --- the steering entry refused --------------------------------------------------------------------- */
static void test_tuple_refused(void)
{
	struct hxs_tcp_conn *c, *l;
	uint32_t iss;
	uint64_t a, f;
	struct ts *t;

	t_case("on_tuple refuses the add: connect returns its error (-E2BIG), sends nothing, leaves no entry (HxsTcpTupleRefused 1); c connects later");
	t = ts_open(NULL);
	t->tuple_err = -E2BIG;
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &c), 0);
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, TS_EPORT, TS_REMOTE, 5000, 0), -E2BIG);
	CHECK_EQ(MIBV(t, HxsTcpTupleRefused), 1);
	CHECK_EQ(MIBV(t, TcpActiveOpens), 0);
	CHECK_EQ(ts_pending(t), 0);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 0);
	CHECK(!hxs_tcp_lookup(t->tcp, TS_LOCAL, TS_EPORT, TS_REMOTE, 5000));
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_CLOSED);
	CHECK_EQ(t->tuples, 0);
	t->tuple_err = 0;
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, TS_EPORT, TS_REMOTE, 5000, 0), 0);
	EXPECT(t, HXS_TH_SYN, last.seq, 0, 0);
	CHECK_EQ(t->tuples, 1);

	t_case("on_tuple refuses the add: a SYN to a listener is dropped (no SYN,ACK, ListenDrops 1, HxsTcpTupleRefused 2), its object freed");
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &l), 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8), 0);
	t->tuple_err = -E2BIG;
	CHECK_EQ(ts_syn_from(t, t->now, PISN, 0, &iss), 0);
	CHECK_EQ(MIBV(t, ListenDrops), 1);
	CHECK_EQ(MIBV(t, HxsTcpTupleRefused), 2);
	CHECK_EQ(MIBV(t, TcpPassiveOpens), 0);
	CHECK_EQ(l->synq_len, 0);
	hxs_tcp__alloc_stats(t->tcp, &a, &f);
	CHECK_EQ(a - f, 2);                        /* c and l */
	t->tuple_err = 0;
	CHECK(ts_syn_from(t, t->now, PISN, 0, &iss));
	hxs_tcp_conn__close(l);
	done(t, &c, 1);
}

int main(void)
{
	test_defaults();
	test_max_conns();
	test_max_tw();
	test_syn_queue();
	test_ofo();
	test_buffer_memory();
	test_mem_pressure();
	test_mem_max();
	test_tuple_refused();
	return t_done();
}
