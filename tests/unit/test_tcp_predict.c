/* test_tcp_predict.c - header prediction (tcp_predict.h header_predicted()): the in-order data
 * segment of a receiver with nothing in flight takes the short path, counted in
 * HxsTcpHeaderPredicted, and every condition that must send a segment the long way does; the
 * second kind (data_ack_predicted()): in-order data that acknowledges new data of ours takes
 * hxs_tcp_conn_input_data_ack(), counted in HxsTcpHeaderPredictedAck, with the ACK's full effect.
 *
 * One scripted connection (tcp_harness.h) with timestamps and SACK, accepted from a listener.
 * The peer sends 1000-byte segments; each case checks the counter moved (or did not) and what
 * the segment did: RCV.NXT, the ACK emitted, the window taken. At the end every byte the
 * connection took in order is read back and compared with what the peer sent.
 */
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "hxs/hxs.h"
#include "tcp_harness.h"

#define PISN 1000u
#define SEG 1000u
#define NOW 1000000ull

static struct ts *t;
static struct hxs_tcp_conn *c;
static uint32_t iss, tsval = 200, our_ts;
static uint8_t stream[64 * SEG];      /* what the peer sends, by offset from PISN + 1 */

static uint64_t predicted(void)
{
	return hxs_tcp__mib(t->tcp)[HXS_TCP_MIB_HxsTcpHeaderPredicted];
}

static uint64_t predicted_ack(void)
{
	return hxs_tcp__mib(t->tcp)[HXS_TCP_MIB_HxsTcpHeaderPredictedAck];
}

/* A segment from the peer at stream offset off: flags, window field, TSval (0: no
 * timestamp option), SACK block count (a block below SND.UNA if 1). */
static void seg(uint8_t flags, uint32_t off, uint32_t ack, uint16_t wnd, uint32_t tsv, int sack,
		uint32_t len)
{
	struct hxs_tcp_opts o;

	memset(&o, 0, sizeof(o));
	o.has_ts = tsv != 0;
	o.tsval = tsv;
	o.tsecr = our_ts;
	if (sack) {
		o.nsack = 1;
		o.sack[0].start = iss - 100;
		o.sack[0].end = iss - 50;
	}
	TS_IN(t, NOW, .flags = flags, .seq = PISN + 1 + off, .ack = ack, .wnd = wnd,
	      .opt = (tsv || sack) ? &o : NULL, .data = stream + off, .len = len);
}

/* The next in-order segment the way header prediction expects it. */
static void good(uint32_t off, uint16_t wnd)
{
	seg(HXS_TH_ACK, off, iss + 1, wnd, ++tsval, 0, SEG);
}

/* A case: the segment given must not be predicted; RCV.NXT then must be rcv_after. */
#define NOT_PREDICTED(what, rcv_after, stmt)                                               \
	do {                                                                               \
		uint64_t _before = predicted();                                                 \
		t_case("not predicted: " what);                                            \
		stmt;                                                                      \
		CHECK_EQ(predicted(), _before);                                                 \
		CHECK_EQ(c->rcv_nxt, (uint32_t)(rcv_after));                               \
	} while (0)

static void drain(void)
{
	struct ts_seg s;

	while (ts_pop(t, &s))
		;
}

int main(void)
{
	struct hxs_tcp_conn *l;
	struct hxs_tcp_opts o = ts_mss_opt(1460);
	struct ts_seg s;
	uint32_t rcv;

	for (uint32_t i = 0; i < sizeof(stream); i++)
		stream[i] = (uint8_t)(i * 7 + i / 251);
	t = ts_open(NULL);
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &l), 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8), 0);
	o.has_ts = 1;
	o.tsval = tsval;
	o.sack_perm = 1;
	ts_syn(t, NOW, PISN, &o);
	CHECK(ts_pop(t, &s) && s.flags == (HXS_TH_SYN | HXS_TH_ACK), "SYN,ACK");
	iss = s.seq;
	our_ts = s.opt.tsval;
	seg(HXS_TH_ACK, 0, iss + 1, 65535, ++tsval, 0, 0);
	CHECK_EQ(hxs_tcp_conn__accept(l, &c), 0);
	CHECK(c != NULL && c->state == HXS_TCPS_ESTABLISHED && c->ts_ok && c->sack_ok,
	      "established with timestamps and SACK");
	drain();

	t_case("predicted: two in-order segments; the second is ACKed (RFC 5681 §4.2)");
	good(0, 65535);
	CHECK_EQ(predicted(), 1);
	CHECK_EQ(c->rcv_nxt, PISN + 1 + SEG);
	CHECK_EQ(ts_pending(t), 0);            /* the first waits for the delayed ACK */
	good(SEG, 65535);
	CHECK_EQ(predicted(), 2);
	CHECK(ts_pop(t, &s) && s.flags == HXS_TH_ACK && s.ack == PISN + 1 + 2 * SEG && !s.len,
	      "ACK of both: flags %#x ack %u", s.flags, s.ack);
	/* TS.Recent from the first predicted segment: RFC 7323 §4.3 takes TSval only from a
	 * segment at or below Last.ACK.sent (the second one is beyond it) */
	CHECK_EQ(s.opt.tsecr, tsval - 1);
	drain();
	rcv = 2 * SEG;

	t_case("predicted: PSH does not stop it");
	seg(HXS_TH_ACK | HXS_TH_PSH, rcv, iss + 1, 65535, ++tsval, 0, SEG);
	CHECK_EQ(predicted(), 3);
	rcv += SEG;
	CHECK_EQ(c->rcv_nxt, PISN + 1 + rcv);
	drain();

	NOT_PREDICTED("out of order (SEG.SEQ > RCV.NXT)", PISN + 1 + rcv,
		      seg(HXS_TH_ACK, rcv + SEG, iss + 1, 65535, ++tsval, 0, SEG));
	CHECK(ts_pop(t, &s) && s.ack == PISN + 1 + rcv && s.opt.nsack == 1, "duplicate ACK with SACK");
	drain();
	NOT_PREDICTED("the segment filling the hole (ranges held)", PISN + 1 + rcv + 2 * SEG,
		      good(rcv, 65535));
	rcv += 2 * SEG;
	drain();
	t_case("predicted again once the hole is filled");
	good(rcv, 65535);
	CHECK_EQ(predicted(), 4);
	rcv += SEG;
	drain();

	NOT_PREDICTED("the window changed", PISN + 1 + rcv + SEG, good(rcv, 60000));
	CHECK_EQ(c->snd_wnd, 60000);
	rcv += SEG;
	NOT_PREDICTED("TSval older than TS.Recent (PAWS drops it)", PISN + 1 + rcv,
		      seg(HXS_TH_ACK, rcv, iss + 1, 60000, tsval - 10, 0, SEG));
	drain();
	NOT_PREDICTED("no timestamp option on a connection with timestamps", PISN + 1 + rcv + SEG,
		      seg(HXS_TH_ACK, rcv, iss + 1, 60000, 0, 0, SEG));
	rcv += SEG;
	NOT_PREDICTED("SACK blocks in the segment", PISN + 1 + rcv + SEG,
		      seg(HXS_TH_ACK, rcv, iss + 1, 60000, ++tsval, 1, SEG));
	rcv += SEG;
	NOT_PREDICTED("ECE", PISN + 1 + rcv + SEG,
		      seg(HXS_TH_ACK | HXS_TH_ECE, rcv, iss + 1, 60000, ++tsval, 0, SEG));
	rcv += SEG;
	NOT_PREDICTED("CWR", PISN + 1 + rcv + SEG,
		      seg(HXS_TH_ACK | HXS_TH_CWR, rcv, iss + 1, 60000, ++tsval, 0, SEG));
	rcv += SEG;
	NOT_PREDICTED("no data (a pure ACK)", PISN + 1 + rcv,
		      seg(HXS_TH_ACK, rcv, iss + 1, 60000, ++tsval, 0, 0));
	NOT_PREDICTED("the ACK bit off (dropped, fifth step)", PISN + 1 + rcv,
		      seg(0, rcv, 0, 60000, ++tsval, 0, SEG));
	drain();

	t_case("predicted with the new window");
	good(rcv, 60000);
	rcv += SEG;
	CHECK_EQ(predicted(), 5);
	drain();

	/* data of ours in flight: SEG.ACK = SND.UNA is then a segment the fifth step must see */
	CHECK_EQ(hxs_tcp_conn__send(c, "abcdefghij", 10), 10);
	ts_run_until(t, NOW);
	CHECK(ts_pop(t, &s) && s.len == 10 && s.seq == iss + 1, "our 10 bytes sent");
	drain();
	NOT_PREDICTED("our data in flight (SND.UNA < SND.MAX)", PISN + 1 + rcv + SEG,
		      good(rcv, 60000));
	rcv += SEG;
	CHECK_EQ(predicted_ack(), 0);
	NOT_PREDICTED("SEG.ACK acknowledges new data", PISN + 1 + rcv + SEG,
		      seg(HXS_TH_ACK, rcv, iss + 11, 60000, ++tsval, 0, SEG));
	rcv += SEG;
	t_case("predicted, second kind: in-order data acknowledging all our data in flight");
	CHECK_EQ(predicted_ack(), 1);
	CHECK_EQ(c->snd_una, iss + 11);
	CHECK_EQ(c->snd_max, iss + 11);
	CHECK_EQ(c->rk.n, 0);                  /* RACK's record of the 10 bytes gone */
	CHECK_EQ(c->rate.n, 0);                /* and the delivery-rate one */
	drain();

	/* a request/response turn: our 10 bytes out, the peer's answer acknowledges them */
	t_case("predicted, second kind: an answer that acknowledges part of our data");
	CHECK_EQ(hxs_tcp_conn__send(c, "0123456789", 10), 10);
	ts_run_until(t, NOW);
	CHECK(ts_pop(t, &s) && s.len == 10 && s.seq == iss + 11, "our 10 more bytes sent");
	drain();
	seg(HXS_TH_ACK | HXS_TH_PSH, rcv, iss + 15, 60000, ++tsval, 0, SEG);
	rcv += SEG;
	CHECK_EQ(predicted_ack(), 2);
	CHECK_EQ(c->rcv_nxt, PISN + 1 + rcv);
	CHECK_EQ(c->snd_una, iss + 15);
	CHECK_EQ(c->rk.n, 1);                  /* the rest, 6 bytes, still in flight */
	CHECK(hxs_timer__armed(&c->t_rexmt), "retransmission timer on for the rest");
	drain();
	{
		uint64_t before = predicted_ack();

		t_case("not predicted, second kind: out of order, ranges held, beyond SND.MAX; "
		       "predicted with a D-SACK block, which the fifth step takes");
		seg(HXS_TH_ACK, rcv + SEG, iss + 17, 60000, ++tsval, 0, SEG);   /* a hole */
		CHECK_EQ(predicted_ack(), before);
		CHECK_EQ(c->snd_una, iss + 17);        /* its ACK taken the long way */
		drain();
		good(rcv, 60000);                      /* fills the hole: ranges held */
		rcv += 2 * SEG;
		CHECK_EQ(predicted_ack(), before);
		drain();
		uint64_t dsack = hxs_tcp__mib(t->tcp)[HXS_TCP_MIB_TCPDSACKRecv];
		seg(HXS_TH_ACK, rcv, iss + 19, 60000, ++tsval, 1, SEG);         /* D-SACK */
		rcv += SEG;
		CHECK_EQ(predicted_ack(), ++before);
		CHECK_EQ(c->snd_una, iss + 19);
		CHECK_EQ(hxs_tcp__mib(t->tcp)[HXS_TCP_MIB_TCPDSACKRecv], dsack + 1);
		drain();
		seg(HXS_TH_ACK, rcv, iss + 100, 60000, ++tsval, 0, SEG);        /* > SND.MAX */
		CHECK_EQ(predicted_ack(), before);
		CHECK_EQ(c->rcv_nxt, PISN + 1 + rcv);  /* dropped (RFC 5961 §5.2), challenge ACK */
		drain();
		seg(HXS_TH_ACK, rcv, iss + 21, 60000, ++tsval, 0, SEG);         /* the rest */
		rcv += SEG;
		CHECK_EQ(predicted_ack(), before + 1);
		CHECK_EQ(c->snd_una, iss + 21);
		CHECK(!hxs_timer__armed(&c->t_rexmt), "retransmission timer off: all acknowledged");
		drain();
	}
	t_case("predicted once all is acknowledged");
	seg(HXS_TH_ACK, rcv, iss + 21, 60000, ++tsval, 0, SEG);
	rcv += SEG;
	CHECK_EQ(predicted(), 6);
	drain();

	NOT_PREDICTED("URG", PISN + 1 + rcv + SEG,
		      seg(HXS_TH_ACK | HXS_TH_URG, rcv, iss + 21, 60000, ++tsval, 0, SEG));
	rcv += SEG;
	drain();

	/* every byte taken in order, exactly as sent (the urgent byte read inline or not is the
	 * urgent tests' concern: read up to it) */
	{
		static uint8_t got[sizeof(stream)];
		long n = hxs_tcp_conn__recv(c, got, rcv - SEG, 0);

		t_case("the bytes the predicted and the other segments delivered, in order");
		CHECK_EQ(n, (long)(rcv - SEG));
		CHECK(n > 0 && !memcmp(got, stream, (size_t)n), "payload");
	}

	NOT_PREDICTED("a FIN with the data", PISN + 1 + rcv + SEG + 1,
		      seg(HXS_TH_ACK | HXS_TH_FIN, rcv, iss + 21, 60000, ++tsval, 0, SEG));
	CHECK_EQ(c->state, HXS_TCPS_CLOSE_WAIT);
	drain();

	hxs_tcp_conn__close(l);
	CHECK_EQ(ts_close_all(t, &c, 1), hxs_tcp__nconns(t->tcp));
	ts_free(t);
	return t_done();
}
