/* test_tcp_dst.c - TCP's cached destinations (tcp_sock.c: struct hxs_ip_dst per destination,
 * hxs_ip_tx_route_dst in ip.c) follow every change of the control plane: a segment after a
 * neighbour's new address goes to that address, after a deleted neighbour it waits for the
 * resolution, and a change nobody reported is seen once HXS_IP_DST_TTL_US of turn time passed.
 * Two whole stacks on the in-memory link (twostack.h; static control planes, whose
 * hxs_ctl_static__set_* stand for the kernel's notifications), virtual time. B's Ethernet
 * input discards a frame not sent to its MAC (EthInDiscards): where A's segment went is read
 * from B's counters and from what B's socket receives.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

#include "check.h"
#include "io/io.h"
#include "net/ip.h"
#include "net/stack.h"
#include "sock/sock.h"
#include "open/stack_open.h"
#include "twostack.h"

#define IP_A "10.9.2.1"
#define IP_B "10.9.2.2"
static const uint8_t MAC_B[6] = { 2, 0, 0, 0, 9, 2 };
static const uint8_t MAC_ELSE[6] = { 2, 0, 0, 0, 9, 0x41 };   /* nobody's */

static uint64_t vnow = 5000000;
static struct twostack world;
static struct hxs_stack *sa, *sb;

static uint64_t clock_fn(void *ctx)
{
	(void)ctx;
	return vnow;
}

/* Both stacks turn, 100 us pass. */
static void step(void)
{
	twostack_pump(&world, 1);
	vnow += 100;
}

static void steps(int n)
{
	for (int i = 0; i < n; i++)
		step();
}

static uint64_t mib(struct hxs_stack *st, int i)
{
	return st->mib.v[i];
}

/* What s has received now (non-blocking): its length, the bytes in buf. */
static ssize_t take(int s, char *buf, size_t cap)
{
	ssize_t r = hxs_recv(sb, s, buf, cap - 1, 0);

	if (r >= 0)
		buf[r] = 0;
	return r;
}

/* A sends msg on c, 2 ms of turns: B's socket s has it (1), or B discarded it (0). */
static int sent_through(int c, int s, const char *msg)
{
	char buf[64];
	uint64_t d0 = mib(sb, HXS_MIB_ETH_IN_DISCARDS);
	ssize_t r;

	CHECK_EQ(hxs_send(sa, c, msg, strlen(msg), 0), (ssize_t)strlen(msg));
	steps(20);
	r = take(s, buf, sizeof(buf));
	if (r == (ssize_t)strlen(msg) && !strcmp(buf, msg)) {
		CHECK_EQ(mib(sb, HXS_MIB_ETH_IN_DISCARDS), d0);
		return 1;
	}
	CHECK(r == -EAGAIN, "B got %zd bytes", r);
	CHECK(mib(sb, HXS_MIB_ETH_IN_DISCARDS) > d0, "neither received nor discarded by B");
	return 0;
}

/* The retransmission of what B did not take arrives within 2 s (RTO), exactly once. */
static void arrives_late(int s, const char *msg)
{
	char buf[64];
	ssize_t r = -EAGAIN;

	for (int i = 0; i < 20000 && r == -EAGAIN; i++) {
		step();
		r = take(s, buf, sizeof(buf));
	}
	CHECK_EQ(r, (ssize_t)strlen(msg));
	CHECK(r > 0 && !strcmp(buf, msg), "got \"%s\"", r > 0 ? buf : "");
}

static void set_mac_quietly(struct hxs_stack *st, uint32_t ip, const uint8_t mac[6])
{
	/* the table changes behind the stack's back: no hxs_stack__dst_changed() */
	for (unsigned i = 0; i < st->scfg.n_neigh; i++)
		if (st->scfg.neigh[i].ip == ip)
			memcpy(st->scfg.neigh[i].mac, mac, 6);
}

int main(void)
{
	static const struct twostack_cfg two = {
		.ip_a = IP_A, .ip_b = IP_B, .mac_a = { 2, 0, 0, 0, 9, 1 }, .mac_b = { 2, 0, 0, 0, 9, 2 },
		.frames = 256, .frame_size = 2048, .clock = clock_fn,
	};
	struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = htons(7301),
				 .sin_addr.s_addr = inet_addr(IP_B) };
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(7301) };
	uint32_t ip_b = inet_addr(IP_B);
	int l, c, s = -1, one = 1;

	CHECK_EQ(twostack_open(&world, &two), 0);
	if (!world.a || !world.b)
		return t_done();
	sa = world.a;
	sb = world.b;

	t_case("a connection, segments both ways: each end's next hop is cached after the first");
	l = hxs_socket(sb, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_bind(sb, l, (struct sockaddr *)&any, sizeof(any)), 0);
	CHECK_EQ(hxs_listen(sb, l, 4), 0);
	c = hxs_socket(sa, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	/* every send a segment at once (Nagle would hold one while the last waits for B's
	 * delayed ACK) */
	CHECK_EQ(hxs_setsockopt(sa, c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	CHECK_EQ(hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b)), -EINPROGRESS);
	steps(20);
	s = hxs_accept4(sb, l, NULL, NULL, SOCK_NONBLOCK);
	CHECK(s >= 0, "accept %d", s);
	if (s < 0)
		return t_done();
	CHECK_EQ(sent_through(c, s, "one"), 1);
	CHECK_EQ(sent_through(c, s, "two"), 1);

	t_case("a neighbour's new address (as RTM_NEWNEIGH) takes the next segment, not the cached one");
	CHECK_EQ(hxs_ctl_static__set_neigh(sa, ip_b, MAC_ELSE), 0);
	CHECK_EQ(sent_through(c, s, "three"), 0);
	t_case("... and the right one again: the retransmission arrives");
	CHECK_EQ(hxs_ctl_static__set_neigh(sa, ip_b, MAC_B), 0);
	arrives_late(s, "three");
	CHECK_EQ(sent_through(c, s, "four"), 1);

	t_case("a deleted neighbour (RTM_DELNEIGH): the next segment waits for the resolution, then goes");
	{
		uint64_t q = mib(sa, HXS_MIB_NEIGH_QUEUED);
		char buf[64];

		CHECK_EQ(hxs_ctl_static__set_neigh(sa, ip_b, NULL), 0);
		CHECK_EQ(hxs_send(sa, c, "five", 4, 0), 4);
		steps(2);
		CHECK_EQ(mib(sa, HXS_MIB_NEIGH_QUEUED), q + 1);
		CHECK_EQ(take(s, buf, sizeof(buf)), -EAGAIN);
		CHECK_EQ(hxs_ctl_static__set_neigh(sa, ip_b, MAC_B), 0);
		hxs_stack__neigh_event(sa, ip_b, HXS_NEIGH_RESOLVED, MAC_B);
		steps(2);
		CHECK_EQ(take(s, buf, sizeof(buf)), 4);
		CHECK(!strcmp(buf, "five"), "got \"%s\"", buf);
	}

	t_case("a change nobody reported: the cached address until HXS_IP_DST_TTL_US of turn time passed, then the new one");
	CHECK_EQ(sent_through(c, s, "six"), 1);
	set_mac_quietly(sa, ip_b, MAC_ELSE);
	CHECK_EQ(sent_through(c, s, "seven"), 1);     /* cached: the table was not read */
	steps(HXS_IP_DST_TTL_US / 100);
	CHECK_EQ(sent_through(c, s, "eight"), 0);
	set_mac_quietly(sa, ip_b, MAC_B);
	vnow += HXS_IP_DST_TTL_US;
	arrives_late(s, "eight");

	t_case("B's answers meanwhile went to A's one address");
	{
		char buf[16];
		uint64_t d0 = mib(sa, HXS_MIB_ETH_IN_DISCARDS);

		CHECK_EQ(hxs_send(sb, s, "back", 4, 0), 4);
		steps(20);
		CHECK_EQ(hxs_recv(sa, c, buf, sizeof(buf), 0), 4);
		CHECK_EQ(mib(sa, HXS_MIB_ETH_IN_DISCARDS), d0);
	}

	CHECK_EQ(hxs_close(sa, c), 0);
	CHECK_EQ(hxs_close(sb, s), 0);
	CHECK_EQ(hxs_close(sb, l), 0);
	steps(1000);
	twostack_close(&world);
	return t_done();
}
