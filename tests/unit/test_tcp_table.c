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

int main(void)
{
	test_keyed_hash();
	return t_done();
}
