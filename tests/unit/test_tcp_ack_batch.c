/* test_tcp_ack_batch.c - duplicate ACKs held to the end of an input batch (cfg.ack_batch):
 * the stack hands a turn's segments to hxs_tcp__input() and then calls hxs_tcp__poll(); the
 * duplicate ACKs of out-of-order segments go as one at the poll, with the exceptions
 * tcp_process.c ack_may_wait() names: every ACK_BATCH_SEGS (44) segments, a gap filled, the
 * first three for one RCV.NXT, a segment that does not extend the range SACKed first. In-order
 * data's ACK (every second full-sized segment) waits for the poll too, as one cumulative ACK
 * (inorder_ack_may_wait(): again every ACK_BATCH_SEGS segments); a batch with less than two
 * full segments unacknowledged leaves it to the delayed-ACK timer. Without ack_batch each ACK
 * goes at once.
 *
 * The segments of a batch go in here with hxs_tcp__input() and no poll between them (the
 * harness's ts_data() polls after each segment: a batch of one).
 */
#include <string.h>

#include "check.h"
#include "tcp_harness.h"

#define PISN 1000u
#define MSS 1460u

static uint8_t d[MSS];

/* One data segment of the peer's, no poll after it. */
static void in_data(struct ts *t, uint64_t now, uint32_t seq, uint32_t ack)
{
	uint8_t buf[20 + 40 + MSS];
	uint32_t n = ts_build(buf, &(const struct ts_pkt){ .flags = HXS_TH_ACK, .seq = seq,
							    .ack = ack, .wnd = 65535, .data = d,
							    .len = MSS });

	hxs_tcp__input(t->tcp, TS_REMOTE, TS_LOCAL, buf, n, 0, now);
}

/* Takes every captured segment; returns how many were pure ACKs, the last one in *last. */
static int acks(struct ts *t, struct ts_seg *last)
{
	struct ts_seg s;
	int n = 0;

	while (ts_pop(t, &s)) {
		CHECK_EQ(s.len, 0);
		CHECK_EQ(s.flags, HXS_TH_ACK);
		*last = s;
		n++;
	}
	return n;
}

/* A passive open with SACK and window scaling; the accepted connection in *cp, our ISS in *iss. */
static struct ts *open_conn(int batch, struct hxs_tcp_conn **cp, uint32_t *iss)
{
	struct hxs_tcp_cfg cfg;
	struct hxs_tcp_conn *l;
	struct hxs_tcp_opts o = ts_mss_opt(MSS);
	struct ts_seg s;
	struct ts *t;

	memset(&cfg, 0, sizeof(cfg));
	cfg.ack_batch = (uint8_t)batch;
	t = ts_open(&cfg);
	o.sack_perm = 1;
	o.has_ws = 1;                   /* our 256 KiB window: batches beyond 64 KiB fit */
	o.ws = 7;
	CHECK(hxs_tcp_conn__new(t->tcp, &l) == 0);
	CHECK(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8) == 0);
	ts_syn(t, 0, PISN, &o);
	CHECK(ts_pop(t, &s));
	CHECK_EQ(s.flags, HXS_TH_SYN | HXS_TH_ACK);
	*iss = s.seq;
	ts_ack(t, 0, PISN + 1, *iss + 1);
	CHECK(hxs_tcp_conn__accept(l, cp) == 0);
	CHECK_EQ(ts_pending(t), 0);
	return t;
}

static void test_in_order(void)
{
	struct hxs_tcp_conn *c;
	struct ts_seg last;
	uint32_t iss, s0 = PISN + 1;
	struct ts *t;

	t_case("without ack_batch: in order, an ACK every second segment, at once");
	t = open_conn(0, &c, &iss);
	for (uint32_t i = 0; i < 10; i++)
		in_data(t, 1000, s0 + i * MSS, iss + 1);
	CHECK_EQ(acks(t, &last), 5);
	CHECK_EQ(last.ack, s0 + 10 * MSS);
	hxs_tcp__poll(t->tcp, 1000);
	CHECK_EQ(ts_pending(t), 0);
	ts_free(t);

	t_case("ack_batch: in order, one cumulative ACK for the batch at the poll");
	t = open_conn(1, &c, &iss);
	for (uint32_t i = 0; i < 10; i++)
		in_data(t, 1000, s0 + i * MSS, iss + 1);
	CHECK_EQ(ts_pending(t), 0);
	CHECK_EQ(hxs_tcp_conn__inq(c), 10 * MSS);
	hxs_tcp__poll(t->tcp, 1000);
	CHECK_EQ(acks(t, &last), 1);
	CHECK_EQ(last.ack, s0 + 10 * MSS);

	t_case("ack_batch: a batch of one full segment waits for the delayed ACK, the next is ACKed");
	in_data(t, 2000, s0 + 10 * MSS, iss + 1);
	hxs_tcp__poll(t->tcp, 2000);
	CHECK_EQ(ts_pending(t), 0);
	in_data(t, 3000, s0 + 11 * MSS, iss + 1);
	hxs_tcp__poll(t->tcp, 3000);
	CHECK_EQ(acks(t, &last), 1);
	CHECK_EQ(last.ack, s0 + 12 * MSS);

	t_case("ack_batch: 60 in order in one batch: an ACK at the 44th, one at the poll");
	for (uint32_t i = 12; i < 72; i++)
		in_data(t, 4000, s0 + i * MSS, iss + 1);
	CHECK_EQ(acks(t, &last), 1);
	CHECK_EQ(last.ack, s0 + 56 * MSS);
	hxs_tcp__poll(t->tcp, 4000);
	CHECK_EQ(acks(t, &last), 1);
	CHECK_EQ(last.ack, s0 + 72 * MSS);

	t_case("ack_batch: an out-of-order segment after held in-order ones is ACKed at once");
	in_data(t, 5000, s0 + 72 * MSS, iss + 1);
	in_data(t, 5000, s0 + 73 * MSS, iss + 1);
	CHECK_EQ(ts_pending(t), 0);
	in_data(t, 5000, s0 + 75 * MSS, iss + 1);     /* 74 lost */
	CHECK_EQ(acks(t, &last), 1);
	CHECK_EQ(last.ack, s0 + 74 * MSS);
	CHECK_EQ(last.opt.nsack, 1);
	hxs_tcp__poll(t->tcp, 5000);
	CHECK_EQ(ts_pending(t), 0);
	ts_free(t);
}

static void test_out_of_order(void)
{
	struct hxs_tcp_conn *c;
	struct ts_seg last;
	uint32_t iss, s0 = PISN + 1;
	struct ts *t;

	t_case("ack_batch: beyond a hole, three duplicate ACKs at once, then one at the poll");
	t = open_conn(1, &c, &iss);
	/* segment 0 is lost; 1..10 arrive in one batch */
	for (uint32_t i = 1; i <= 10; i++)
		in_data(t, 1000, s0 + i * MSS, iss + 1);
	CHECK_EQ(acks(t, &last), 3);
	CHECK_EQ(last.ack, s0);
	CHECK_EQ(last.opt.nsack, 1);
	CHECK_EQ(last.opt.sack[0].end, s0 + 4 * MSS);
	hxs_tcp__poll(t->tcp, 1000);
	CHECK_EQ(acks(t, &last), 1);
	CHECK_EQ(last.ack, s0);
	CHECK_EQ(last.opt.sack[0].start, s0 + MSS);
	CHECK_EQ(last.opt.sack[0].end, s0 + 11 * MSS);

	t_case("ack_batch: the next batch for the same RCV.NXT: no more at once");
	for (uint32_t i = 11; i <= 12; i++)
		in_data(t, 2000, s0 + i * MSS, iss + 1);
	CHECK_EQ(ts_pending(t), 0);
	hxs_tcp__poll(t->tcp, 2000);
	CHECK_EQ(acks(t, &last), 1);
	CHECK_EQ(last.opt.sack[0].end, s0 + 13 * MSS);

	t_case("ack_batch: 60 more beyond the hole in one batch: an ACK at the 44th, one at the poll");
	for (uint32_t i = 13; i < 73; i++)
		in_data(t, 2500, s0 + i * MSS, iss + 1);
	CHECK_EQ(acks(t, &last), 1);
	CHECK_EQ(last.opt.sack[0].end, s0 + 57 * MSS);
	hxs_tcp__poll(t->tcp, 2500);
	CHECK_EQ(acks(t, &last), 1);
	CHECK_EQ(last.opt.sack[0].end, s0 + 73 * MSS);

	t_case("ack_batch: a segment starting a second range is ACKed at once, its growth held");
	/* segment 73 lost; 74..77 arrive: the new range's first segment goes at once (with the
	 * first range's whole extent as the second block), the rest wait for the poll */
	for (uint32_t i = 74; i < 78; i++)
		in_data(t, 2700, s0 + i * MSS, iss + 1);
	CHECK_EQ(acks(t, &last), 1);
	CHECK_EQ(last.opt.nsack, 2);
	CHECK_EQ(last.opt.sack[0].start, s0 + 74 * MSS);
	CHECK_EQ(last.opt.sack[0].end, s0 + 75 * MSS);
	CHECK_EQ(last.opt.sack[1].start, s0 + MSS);
	CHECK_EQ(last.opt.sack[1].end, s0 + 73 * MSS);
	hxs_tcp__poll(t->tcp, 2700);
	CHECK_EQ(acks(t, &last), 1);
	CHECK_EQ(last.opt.sack[0].end, s0 + 78 * MSS);

	t_case("ack_batch: a segment into an older hole is ACKed at once");
	in_data(t, 2800, s0 + 73 * MSS, iss + 1);
	CHECK_EQ(acks(t, &last), 1);
	CHECK_EQ(last.ack, s0);
	CHECK_EQ(last.opt.sack[0].start, s0 + MSS);
	CHECK_EQ(last.opt.sack[0].end, s0 + 78 * MSS);
	hxs_tcp__poll(t->tcp, 2800);
	CHECK_EQ(ts_pending(t), 0);

	t_case("ack_batch: the retransmission filling the gap is ACKed at once");
	in_data(t, 3000, s0, iss + 1);
	CHECK_EQ(acks(t, &last), 1);
	CHECK_EQ(last.ack, s0 + 78 * MSS);
	CHECK_EQ(last.opt.nsack, 0);
	hxs_tcp__poll(t->tcp, 3000);
	CHECK_EQ(ts_pending(t), 0);
	ts_free(t);

	t_case("without ack_batch: every segment beyond a hole is ACKed at once");
	t = open_conn(0, &c, &iss);
	for (uint32_t i = 1; i <= 10; i++)
		in_data(t, 1000, s0 + i * MSS, iss + 1);
	CHECK_EQ(acks(t, &last), 10);
	ts_free(t);
}

int main(void)
{
	memset(d, 'x', sizeof(d));
	test_in_order();
	test_out_of_order();
	return t_done();
}
