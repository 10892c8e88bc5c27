/* test_tcp_frames.c - TCP through whole stacks when the link's frame pool runs dry.
 *
 * Two stacks (twostack: hxs_stack__open_io on each end of the in-memory link) with 16 frames
 * per end instead of thousands; both send 256 KiB at once through the public socket API and
 * verify every byte. The frames a turn needs (TX segments, and the peer's segments waiting
 * in the RX queue or held while a batch is processed) outnumber the pool, so the glue's
 * tx_alloc() finds none even after reaping completions: it counts HxsTcpTxNoFrame, the core
 * counts TCPTxNoBufs and keeps the connection pending. Checked: the transfer completes byte
 * exact, each refusal is counted once in both counters (no segment is refused for its size),
 * the frames all come back, and nothing is left open.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "hxs/hxs.h"
#include "io/io.h"
#include "net/stack.h"
#include "tcp_harness.h"
#include "twostream.h"

#define XFER (256u << 10)
#define POOL 16

static uint64_t vnow = 1000000;
static uint64_t vclock(void *ctx) { (void)ctx; return vnow; }

static uint64_t ctr(struct hxs_stack *st, const char *name)
{
	uint64_t v = 0;

	CHECK(hxs_stack__counter(st, name, &v) == 0, "%s", name);
	return v;
}

int main(void)
{
	static const struct twostack_cfg two = {
		.ip_a = "10.7.0.1", .ip_b = "10.7.0.2", .mac_a = { 2, 0, 0, 0, 7, 1 },
		.mac_b = { 2, 0, 0, 0, 7, 2 }, .mtu = 1500, .frames = POOL, .frame_size = 2048,
		.clock = vclock,
	};
	struct twostack w;
	struct twostream_end a = { .total = XFER, .chunk = 16384, .seed_tx = 11, .seed_rx = 12 },
			     b = { .total = XFER, .chunk = 16384, .seed_tx = 12, .seed_rx = 11 };
	int lfd, turns;

	t_case("the fixture refuses frames and MTUs the AF_XDP datapath would not run with");
	{
		struct twostack_cfg bad = two;

		bad.frame_size = 1600;                   /* xsk.c: 2048 or 4096 */
		CHECK_EQ(twostack_open(&w, &bad), -EINVAL);
		bad.frame_size = 2048;
		bad.mtu = 2048 - 256 - 14 + 1;           /* beyond the frame with its headroom */
		CHECK_EQ(twostack_open(&w, &bad), -EINVAL);
		CHECK(!w.a && !w.b && !w.ia && !w.ib);
	}

	t_case("two stacks, 16 frames per end of the link");
	CHECK_EQ(twostack_open(&w, &two), 0);
	if (!w.a || !w.b)
		return t_done();
	CHECK_EQ(twostream_connect(&w, 7100, 1, &vnow, &lfd, &a, &b), 0);
	if (b.fd < 0)
		return t_done();

	t_case("256 KiB each way at once through 16 frames: byte exact, HxsTcpTxNoFrame == TCPTxNoBufs > 0");
	/* 100 us of virtual time a turn; 600 s is far beyond what the transfer needs even with
	 * every refused segment waiting for an RTO. */
	turns = twostream_run(&w, &a, &b, &vnow, 6000000);
	CHECK(twostream_done(&a, &b), "after %d turns", turns);
	struct hxs_stack *st[2] = { w.a, w.b };
	uint64_t noframe = 0;
	for (int i = 0; i < 2; i++) {
		/* every segment fits its frame (MTU 1500, frames of 2048): each NULL from the glue's
		 * tx_alloc is one without a frame, and the core counts each one */
		CHECK_EQ(ctr(st[i], "TCPTxNoBufs"), ctr(st[i], "HxsTcpTxNoFrame"));
		noframe += ctr(st[i], "HxsTcpTxNoFrame");
		printf("#   %c: HxsTcpTxNoFrame %llu, TcpRetransSegs %llu\n", 'A' + i,
		       (unsigned long long)ctr(st[i], "HxsTcpTxNoFrame"),
		       (unsigned long long)ctr(st[i], "TcpRetransSegs"));
	}
	CHECK(noframe > 0, "the pool never ran dry: the test does not test what it says");
	printf("#   %d turns, %.3f s virtual\n", turns, turns / 1e4);

	t_case("closed: no connection left, every frame back in its pool");
	CHECK_EQ(hxs_close(w.a, a.fd), 0);
	CHECK_EQ(hxs_close(w.b, b.fd), 0);
	CHECK_EQ(hxs_close(w.b, lfd), 0);
	twostack_pump(&w, 8);
	CHECK_EQ(ctr(w.a, "TcpCurrEstab"), 0);
	CHECK_EQ(ctr(w.b, "TcpCurrEstab"), 0);
	twostack_close_stacks(&w);
	/* The fill rings keep their frames (as an AF_XDP socket's do); none is held by a stack
	 * or waits on a transmit ring, and every frame is accounted for. */
	CHECK(twostack_frames_back(&w));
	twostack_close_links(&w);
	return t_done();
}
