/* test_tcp_demux.c - the demux by the XDP program's metadata (hxs_tcp__input_slot): a segment
 * whose {slot, gen} names a live connection with its 4-tuple is found by index
 * (HxsTcpDemuxBySlot); a stale gen, another connection's slot, a slot out of range or the
 * slot of a closed connection given again fall back to the 4-tuple hash
 * (HxsTcpDemuxSlotMiss) and still reach the right connection - or none. Driven through the
 * scripted harness; the test plays the socket layer that gives slots (on_tuple's add). */
#include <string.h>

#include "check.h"
#include "hxs/shared.h"
#include "tcp_harness.h"

#define PISN 1000u

static struct hxs_slot slots[4];

static uint64_t mib(struct ts *t, enum hxs_tcp_mib m)
{
	return hxs_tcp__mib(t->tcp)[m];
}

/* A connection from TS_REMOTE:rport accepted on l; its ISS in *iss. */
static struct hxs_tcp_conn *open_from(struct ts *t, struct hxs_tcp_conn *l, uint16_t rport,
				      uint32_t *iss)
{
	struct hxs_tcp_conn *c = NULL;
	struct ts_seg s;

	TS_IN(t, 0, .rport = rport, .flags = HXS_TH_SYN, .seq = PISN, .wnd = 65535);
	CHECK(ts_pop(t, &s), "no SYN,ACK");
	CHECK_EQ(s.flags, HXS_TH_SYN | HXS_TH_ACK);
	*iss = s.seq;
	TS_IN(t, 0, .rport = rport, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = s.seq + 1,
	      .wnd = 65535);
	CHECK_EQ(hxs_tcp_conn__accept(l, &c), 0);
	ts_clear(t);
	return c;
}

/* len bytes of data from TS_REMOTE:rport at sequence PISN + 1 + off, with metadata {slot, gen}
 * (slot HXS_SLOT_NONE: none, hxs_tcp__input). */
static void data_in(struct ts *t, uint16_t rport, uint32_t iss, uint32_t off, const void *d,
		    uint32_t len, uint32_t slot, uint32_t gen)
{
	uint8_t buf[20 + 40 + 256];
	uint32_t n = ts_build(buf, &(struct ts_pkt){ .rport = rport, .flags = HXS_TH_ACK | HXS_TH_PSH,
						       .seq = PISN + 1 + off, .ack = iss + 1,
						       .wnd = 65535, .data = d, .len = len });

	CHECK_EQ(hxs_tcp__input_slot(t->tcp, slot, gen, hxs_addr4(TS_REMOTE), hxs_addr4(TS_LOCAL), buf, n, 0, 1000), 0);
	hxs_tcp__poll(t->tcp, 1000);
}

/* Reads exactly what c holds and compares it with want (len bytes). */
static void expect_rx(struct hxs_tcp_conn *c, const char *want, uint32_t len)
{
	char got[256];
	long n = hxs_tcp_conn__recv(c, got, sizeof(got), 0);

	if (!len) {
		CHECK(n <= 0, "nothing to read, read %ld", n);
		return;
	}
	CHECK_EQ(n, (long)len);
	CHECK(n == (long)len && memcmp(got, want, len) == 0, "bytes differ");
}

static void test_demux(void)
{
	t_case("metadata: found by slot; stale gen, other slot, out of range fall back to the hash");
	struct ts *t = ts_new(NULL);
	struct hxs_tcp_conn *l, *c1, *c2;
	uint32_t iss1, iss2;
	uint64_t by, miss;

	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &l), 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 16), 0);
	c1 = open_from(t, l, TS_RPORT, &iss1);
	c2 = open_from(t, l, TS_RPORT + 1, &iss2);
	hxs_tcp_conn__set_slot(c1, &slots[1], 1, 5);
	hxs_tcp_conn__set_slot(c2, &slots[2], 2, 9);
	by = mib(t, HXS_TCP_MIB_HxsTcpDemuxBySlot);
	miss = mib(t, HXS_TCP_MIB_HxsTcpDemuxSlotMiss);

	/* right slot, right gen: by index */
	data_in(t, TS_RPORT, iss1, 0, "aaaa", 4, 1, 5);
	CHECK_EQ(mib(t, HXS_TCP_MIB_HxsTcpDemuxBySlot), by + 1);
	CHECK_EQ(mib(t, HXS_TCP_MIB_HxsTcpDemuxSlotMiss), miss);
	expect_rx(c1, "aaaa", 4);
	/* stale gen: the hash, still to c1 */
	data_in(t, TS_RPORT, iss1, 4, "bbbb", 4, 1, 4);
	CHECK_EQ(mib(t, HXS_TCP_MIB_HxsTcpDemuxBySlot), by + 1);
	CHECK_EQ(mib(t, HXS_TCP_MIB_HxsTcpDemuxSlotMiss), miss + 1);
	expect_rx(c1, "bbbb", 4);
	/* c2's slot and gen on c1's segment: the tuple differs, the hash finds c1 */
	data_in(t, TS_RPORT, iss1, 8, "cccc", 4, 2, 9);
	CHECK_EQ(mib(t, HXS_TCP_MIB_HxsTcpDemuxBySlot), by + 1);
	CHECK_EQ(mib(t, HXS_TCP_MIB_HxsTcpDemuxSlotMiss), miss + 2);
	expect_rx(c1, "cccc", 4);
	expect_rx(c2, NULL, 0);
	/* a slot beyond every one given */
	data_in(t, TS_RPORT, iss1, 12, "dddd", 4, 60000, 5);
	CHECK_EQ(mib(t, HXS_TCP_MIB_HxsTcpDemuxSlotMiss), miss + 3);
	expect_rx(c1, "dddd", 4);
	/* no metadata: the hash, neither counter moves */
	data_in(t, TS_RPORT, iss1, 16, "eeee", 4, HXS_SLOT_NONE, 0);
	CHECK_EQ(mib(t, HXS_TCP_MIB_HxsTcpDemuxBySlot), by + 1);
	CHECK_EQ(mib(t, HXS_TCP_MIB_HxsTcpDemuxSlotMiss), miss + 3);
	expect_rx(c1, "eeee", 4);
	/* c2 by its own slot */
	data_in(t, TS_RPORT + 1, iss2, 0, "ffff", 4, 2, 9);
	CHECK_EQ(mib(t, HXS_TCP_MIB_HxsTcpDemuxBySlot), by + 2);
	expect_rx(c2, "ffff", 4);
	expect_rx(c1, NULL, 0);

	struct hxs_tcp_conn *cs[] = { c1, c2, l };
	ts_close_all(t, cs, 3);
	ts_free(t);
}

static void test_reuse(void)
{
	t_case("a closed connection's slot given to a new one never delivers to the old tuple");
	struct ts *t = ts_new(NULL);
	struct hxs_tcp_conn *l, *c1, *c3;
	uint32_t iss1, iss3;
	uint64_t by, miss;
	struct ts_seg s;

	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &l), 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 16), 0);
	c1 = open_from(t, l, TS_RPORT, &iss1);
	hxs_tcp_conn__set_slot(c1, &slots[1], 1, 1);
	data_in(t, TS_RPORT, iss1, 0, "old!", 4, 1, 1);
	expect_rx(c1, "old!", 4);
	/* c1 leaves the table (RST), its slot goes to a new connection with the next gen */
	hxs_tcp_conn__abort(c1);
	hxs_tcp_conn__close(c1);
	hxs_tcp__poll(t->tcp, 1000);
	ts_clear(t);
	c3 = open_from(t, l, TS_RPORT + 2, &iss3);
	hxs_tcp_conn__set_slot(c3, &slots[1], 1, 2);
	by = mib(t, HXS_TCP_MIB_HxsTcpDemuxBySlot);
	miss = mib(t, HXS_TCP_MIB_HxsTcpDemuxSlotMiss);

	/* a late segment of c1 with its old {slot, gen}: the hash finds no connection, a RST
	 * answers it (RFC 9293 §3.10.7.1), c3 gets nothing */
	data_in(t, TS_RPORT, iss1, 4, "late", 4, 1, 1);
	CHECK_EQ(mib(t, HXS_TCP_MIB_HxsTcpDemuxBySlot), by);
	CHECK_EQ(mib(t, HXS_TCP_MIB_HxsTcpDemuxSlotMiss), miss + 1);
	CHECK(ts_pop(t, &s), "no RST for the closed connection's segment");
	CHECK(s.flags & HXS_TH_RST, "flags %#x", s.flags);
	CHECK_EQ(s.dport, TS_RPORT);
	expect_rx(c3, NULL, 0);
	/* c1's tuple with c3's current {slot, gen} (metadata not the program's): the tuple
	 * check refuses it, still no delivery to c3 */
	data_in(t, TS_RPORT, iss1, 8, "evil", 4, 1, 2);
	CHECK_EQ(mib(t, HXS_TCP_MIB_HxsTcpDemuxBySlot), by);
	CHECK_EQ(mib(t, HXS_TCP_MIB_HxsTcpDemuxSlotMiss), miss + 2);
	expect_rx(c3, NULL, 0);
	ts_clear(t);
	/* c3's own segment by the reused slot */
	data_in(t, TS_RPORT + 2, iss3, 0, "new!", 4, 1, 2);
	CHECK_EQ(mib(t, HXS_TCP_MIB_HxsTcpDemuxBySlot), by + 1);
	expect_rx(c3, "new!", 4);

	/* a connection that leaves the table leaves the slot table too */
	hxs_tcp_conn__abort(c3);
	data_in(t, TS_RPORT + 2, iss3, 4, "gone", 4, 1, 2);
	CHECK_EQ(mib(t, HXS_TCP_MIB_HxsTcpDemuxBySlot), by + 1);
	CHECK_EQ(mib(t, HXS_TCP_MIB_HxsTcpDemuxSlotMiss), miss + 3);
	struct hxs_tcp_conn *cs[] = { c3, l };
	ts_close_all(t, cs, 2);
	ts_free(t);
}

int main(void)
{
	test_demux();
	test_reuse();
	return t_done();
}
