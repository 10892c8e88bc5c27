/* test_tcp_table.c - the TCP instance's table: keyed 4-tuple hash, SYN/accept queues,
 * writability rule. Driven through the scripted harness (one stack, captured output). */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "check.h"
#include "tcp_harness.h"

#define NCONN 64

struct order {
	uint16_t lport[NCONN];
	int n;
};

static void record(void *arg, struct hxs_tcp_conn *c)
{
	struct order *o = arg;
	uint32_t la, ra;
	uint16_t lp, rp;
	hxs_tcp_conn__tuple(c, &la, &lp, &ra, &rp);
	if (o->n < NCONN)
		o->lport[o->n] = lp;
	o->n++;
}

/* Opens NCONN connections with fixed tuples and returns the table's walk order (bucket
 * order, so it shows where the hash put each tuple). */
static void walk_order(uint8_t secret_byte, struct order *o)
{
	struct hxs_tcp_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	memset(cfg.isn_secret, secret_byte, sizeof(cfg.isn_secret));
	struct ts *t = ts_new(&cfg);
	struct hxs_tcp_conn *c[NCONN];
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < NCONN; i++) {
		CHECK(hxs_tcp_conn__new(t->tcp, &c[i]) == 0);
		CHECK_EQ(hxs_tcp_conn__connect(c[i], TS_LOCAL, (uint16_t)(1000 + i), TS_REMOTE, TS_RPORT, 0), 0);
		ts_clear(t);
	}
	for (int i = 0; i < NCONN; i++) {
		uint32_t la, ra;
		uint16_t lp, rp;
		hxs_tcp_conn__tuple(c[i], &la, &lp, &ra, &rp);
		CHECK_EQ(lp, 1000 + i);
	}
	hxs_tcp__foreach(t->tcp, record, o);
	for (int i = 0; i < NCONN; i++) {
		hxs_tcp_conn__abort(c[i]);
		hxs_tcp_conn__close(c[i]);
	}
	ts_free(t);
}

static void test_keyed_hash(void)
{
	t_case("4-tuple hash is keyed: the bucket layout of fixed tuples depends on the secret");
	struct order a, b, a2;
	walk_order(0x11, &a);
	walk_order(0x22, &b);
	walk_order(0x11, &a2);
	CHECK_EQ(a.n, NCONN);
	CHECK_EQ(b.n, NCONN);
	CHECK(memcmp(a.lport, a2.lport, sizeof(a.lport)) == 0, "same secret, same layout");
	CHECK(memcmp(a.lport, b.lport, sizeof(a.lport)) != 0, "layout independent of the secret");
}

#define PISN 1000u

static uint32_t syn_from(struct ts *t, uint64_t now, uint16_t rport)
{
	struct hxs_tcp_opts o;
	struct ts_seg s;
	memset(&o, 0, sizeof(o));
	o.has_mss = 1;
	o.mss = 1460;
	TS_IN(t, now, .rport = rport, .flags = HXS_TH_SYN, .seq = PISN, .wnd = 65535, .opt = &o);
	CHECK(ts_pop(t, &s), "no SYN,ACK");
	CHECK_EQ(s.flags, HXS_TH_SYN | HXS_TH_ACK);
	return s.seq;
}

static uint16_t accept_port(struct hxs_tcp_conn *l)
{
	struct hxs_tcp_conn *c;
	uint32_t la, ra;
	uint16_t lp, rp;
	if (hxs_tcp_conn__accept(l, &c))
		return 0;
	hxs_tcp_conn__tuple(c, &la, &lp, &ra, &rp);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	return rp;
}

static void test_queues(void)
{
	t_case("SYN and accept queues: children leave from the middle in any order");
	struct ts *t = ts_new(NULL);
	struct hxs_tcp_conn *l;
	uint32_t iss[6];
	CHECK(hxs_tcp_conn__new(t->tcp, &l) == 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 16), 0);
	for (int i = 1; i <= 5; i++)
		iss[i] = syn_from(t, 0, (uint16_t)(5000 + i));
	/* complete 3, then 1 (SYN queue: head is 5, so both are from the middle / tail) */
	TS_IN(t, 1000, .rport = 5003, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss[3] + 1,
	      .wnd = 65535);
	TS_IN(t, 1000, .rport = 5001, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss[1] + 1,
	      .wnd = 65535);
	/* RST kills 4 while in the SYN queue */
	TS_IN(t, 1000, .rport = 5004, .flags = HXS_TH_RST, .seq = PISN + 1);
	TS_IN(t, 1000, .rport = 5005, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss[5] + 1,
	      .wnd = 65535);
	TS_IN(t, 1000, .rport = 5002, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss[2] + 1,
	      .wnd = 65535);
	CHECK_EQ(l->synq_len, 0);
	CHECK_EQ(l->acceptq_len, 4);
	/* RST kills 5 in the middle of the accept queue (3 1 5 2), then 2 at its tail */
	TS_IN(t, 1000, .rport = 5005, .flags = HXS_TH_RST, .seq = PISN + 1);
	TS_IN(t, 1000, .rport = 5002, .flags = HXS_TH_RST, .seq = PISN + 1);
	CHECK_EQ(l->acceptq_len, 2);
	/* a new child queues behind the remaining ones: the tail was kept right */
	iss[4] = syn_from(t, 2000, 5004);
	TS_IN(t, 2000, .rport = 5004, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss[4] + 1,
	      .wnd = 65535);
	CHECK_EQ(accept_port(l), 5003);
	CHECK_EQ(accept_port(l), 5001);
	CHECK_EQ(accept_port(l), 5004);
	CHECK_EQ(accept_port(l), 0);
	CHECK_EQ(l->acceptq_len, 0);
	CHECK_EQ(l->synq_len, 0);
	hxs_tcp_conn__close(l);
	uint64_t a, f;
	hxs_tcp__alloc_stats(t->tcp, &a, &f);
	ts_run_until(t, 200000000ull);
	hxs_tcp__alloc_stats(t->tcp, &a, &f);
	CHECK_EQ(a, f);
	ts_free(t);
}

static void test_writable(void)
{
	t_case("EPOLLOUT only once a third of the send buffer is free (sk_stream_is_writeable)");
	struct ts *t = ts_new(NULL);
	struct hxs_tcp_conn *l, *c;
	CHECK(hxs_tcp_conn__new(t->tcp, &l) == 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 4), 0);
	uint32_t iss = syn_from(t, 0, TS_RPORT);
	ts_ack(t, 1000, PISN + 1, iss + 1);
	CHECK_EQ(hxs_tcp_conn__accept(l, &c), 0);
	CHECK_EQ(hxs_tcp_conn__setopt(c, HXS_TCP_O_SNDBUF, 30000), 0);
	CHECK(hxs_tcp_conn__events(c) & EPOLLOUT);
	static uint8_t buf[40000];
	CHECK_EQ(hxs_tcp_conn__send(c, buf, sizeof(buf)), 30000);
	CHECK_EQ(hxs_tcp_conn__send(c, buf, 1), -EAGAIN);
	ts_run_until(t, 2000);
	ts_clear(t);
	CHECK(!(hxs_tcp_conn__events(c) & EPOLLOUT));
	CHECK(!(t->events & EPOLLOUT));
	/* 1460 bytes free: still not writable */
	ts_ack(t, 3000, PISN + 1, iss + 1 + 1460);
	CHECK_EQ(hxs_tcp_conn__tx_space(c), 1460);
	CHECK(!(hxs_tcp_conn__events(c) & EPOLLOUT));
	CHECK(!(t->events & EPOLLOUT));
	/* 9999 free: one byte short of a third */
	ts_ack(t, 4000, PISN + 1, iss + 1 + 9999);
	CHECK(!(hxs_tcp_conn__events(c) & EPOLLOUT));
	/* 10000 free = 30000 / 3: writable, and on_event says so */
	ts_ack(t, 5000, PISN + 1, iss + 1 + 10000);
	CHECK(hxs_tcp_conn__events(c) & EPOLLOUT);
	CHECK(t->events & EPOLLOUT);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	hxs_tcp_conn__close(l);
	ts_free(t);
}

int main(void)
{
	test_keyed_hash();
	test_queues();
	test_writable();
	return t_done();
}
