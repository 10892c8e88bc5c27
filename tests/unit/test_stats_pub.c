/* test_stats_pub.c - a stack on the in-memory link publishes into its statistics region what
 * `hxs stat` / `hxs ss` show: exact MIB and I/O counters after a known exchange, socket records
 * (addresses, ports, state) that appear and go with their descriptors, and the 100 ms cadence.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "hxs/hxs.h"
#include "io/io.h"
#include "open/stack_open.h"
#include "stats/stats_pub.h"
#include "hxs/stats.h"
#include "twostack.h"

static uint64_t vnow = 1000000;
static uint64_t vclock(void *ctx) { return vnow; }

static uint64_t counter(struct hxs_shm_view *v, const char *name)
{
	static struct hxs_shm_counter c[HXS_SHM_MAX_COUNTERS];
	int n = hxs_shm_view__counters(v, c, HXS_SHM_MAX_COUNTERS);
	for (int i = 0; i < n; i++)
		if (strcmp(c[i].name, name) == 0)
			return c[i].val;
	return UINT64_MAX;
}

static const struct twostack_cfg two = {
	.ip_a = "10.0.0.1", .ip_b = "10.0.0.2", .mac_a = { 2, 0, 0, 0, 0, 1 },
	.mac_b = { 2, 0, 0, 0, 0, 2 }, .mtu = 1500, .frames = 256, .frame_size = 2048,
	.clock = vclock,
};

int main(void)
{
	struct twostack ts;
	struct hxs_stack *a, *b;
	struct hxs_stats_pub *pub = NULL;
	struct hxs_shm_view *v = NULL;
	struct hxs_shm_conn_info ci;
	char dir[PATH_MAX], buf[64];
	const char *t = getenv("TMPDIR");
	int sa, sb;

	snprintf(dir, sizeof(dir), "%s/hxs-pub-test.XXXXXX", t && *t ? t : P_tmpdir);
	if (!mkdtemp(dir))
		return 1;

	t_case("two stacks on the in-memory link; B publishes");
	CHECK_EQ(twostack_open(&ts, &two), 0);
	if (!ts.a || !ts.b)
		return t_done();
	a = ts.a;
	b = ts.b;
	CHECK_EQ(hxs_stats_pub__open(&pub, b, dir, "memlink", "mem0"), 0);
	if (!pub)
		return t_done();
	CHECK_EQ(hxs_shm_view__open(&v, hxs_stats_pub__path(pub)), 0);
	if (!v)
		return t_done();

	t_case("sockets: a bound UDP socket shows as UNCONN with its port");
	sb = hxs_socket(b, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(7000) };
	CHECK_EQ(hxs_bind(b, sb, (struct sockaddr *)&sin, sizeof(sin)), 0);
	sa = hxs_socket(a, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	sin.sin_addr.s_addr = ts.addr_b;
	CHECK_EQ(hxs_connect(a, sa, (struct sockaddr *)&sin, sizeof(sin)), 0);
	hxs_stats_pub__tick(pub, vnow, -1);
	CHECK_EQ(hxs_shm_view__conn(v, (unsigned)sb, &ci), 1);
	CHECK_EQ(ci.state, HXS_SHM_UNCONN);
	CHECK_EQ(ci.proto, IPPROTO_UDP);
	CHECK_EQ(ntohs(ci.lport), 7000);
	CHECK_EQ(ci.laddr[10], 0xff);

	t_case("counters: exact after three datagrams (Stack, Xsk groups)");
	for (int i = 0; i < 3; i++)
		CHECK_EQ(hxs_send(a, sa, "hello", 5, 0), 5);
	twostack_pump(&ts, 4);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(hxs_recv(b, sb, buf, sizeof(buf), 0), 5);
	/* not yet due: the region still holds the values of the first publish, and since the turn
	 * did work a timer waits for the end of the period */
	vnow += HXS_SHM_PUBLISH_US / 2;
	hxs_stats_pub__tick(pub, vnow, 3);
	CHECK_EQ(counter(v, "UdpInDatagrams"), 0);
	CHECK_EQ(hxs_wheel__next(&b->wheel) <= vnow + HXS_SHM_PUBLISH_US / 2 + HXS_WHEEL_TICK_US, 1);
	hxs_stack__poll(b, 0);  /* the wheel runs at the same time: too early for the timer */
	CHECK_EQ(counter(v, "UdpInDatagrams"), 0);
	/* the stack goes idle: only its wheel runs (hxs_stack__poll on the in-memory link) */
	vnow += HXS_SHM_PUBLISH_US / 2 + HXS_WHEEL_TICK_US;
	hxs_stack__poll(b, 0);
	CHECK_EQ(counter(v, "UdpInDatagrams"), 3);
	CHECK_EQ(counter(v, "IpInReceives"), 3);
	CHECK_EQ(counter(v, "HxsIoRxFrames"), 3);
	CHECK_EQ(counter(v, "UdpNoPorts"), 0);
	CHECK(hxs_shm_view__hdr(v)->updated_us > vnow - HXS_WHEEL_TICK_US * 2);
	/* that turn's only event was our timer: nothing re-armed, an idle stack stays asleep */
	hxs_stats_pub__tick(pub, vnow, 1);
	CHECK_EQ(hxs_wheel__next(&b->wheel), UINT64_MAX);

	t_case("a closed descriptor's slot is freed at once with hxs_stats_pub__sock");
	CHECK_EQ(hxs_close(b, sb), 0);
	CHECK_EQ(hxs_shm_view__conn(v, (unsigned)sb, &ci), 1);
	hxs_stats_pub__sock(pub, sb);
	CHECK_EQ(hxs_shm_view__conn(v, (unsigned)sb, &ci), 0);

	t_case("TCP: Recv-Q/Send-Q of an accepted connection are published exactly");
	{
		struct sockaddr_in tb = { .sin_family = AF_INET, .sin_port = htons(7100), .sin_addr.s_addr = ts.addr_b };
		static char data[1000];
		int l = hxs_socket(b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), c, s = -1;

		CHECK_EQ(hxs_bind(b, l, (struct sockaddr *)&tb, sizeof(tb)), 0);
		CHECK_EQ(hxs_listen(b, l, 4), 0);
		c = hxs_socket(a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		CHECK_EQ(hxs_connect(a, c, (struct sockaddr *)&tb, sizeof(tb)), -EINPROGRESS);
		for (int i = 0; i < 8 && s < 0; i++) {
			hxs_stack__poll(a, 0);
			hxs_stack__poll(b, 0);
			s = hxs_accept(b, l, NULL, NULL);
		}
		CHECK(s >= 0, "accept %d", s);
		memset(data, 'q', sizeof(data));
		CHECK_EQ(hxs_send(a, c, data, 1000, 0), 1000);
		twostack_pump(&ts, 4);
		CHECK_EQ(hxs_send(b, s, data, 700, 0), 700);   /* not yet acked: B has not turned */
		hxs_stats_pub__sock(pub, s);
		CHECK_EQ(hxs_shm_view__conn(v, (unsigned)s, &ci), 1);
		CHECK_EQ(ci.proto, IPPROTO_TCP);
		CHECK_EQ(ci.state, HXS_SHM_ESTAB);
		CHECK_EQ(ci.rcv_queue, 1000);
		CHECK_EQ(ci.snd_queue, 700);
		hxs_close(a, c);
		hxs_close(b, s);
		hxs_close(b, l);
	}

	t_case("close unlinks the region");
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s", hxs_stats_pub__path(pub));
	hxs_stats_pub__close(pub);
	CHECK(access(path, F_OK) != 0);
	hxs_shm_view__close(v);
	hxs_close(a, sa);
	twostack_close(&ts);
	rmdir(dir);
	return t_done();
}
