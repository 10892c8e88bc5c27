/* test_tcp_jumbo.c - TCP through whole stacks on a multi-buffer link at MTU 9000.
 *
 * Two stacks (twostack) on an in-memory link whose buffers are 4096 bytes, with multi-buffer
 * on (io_mem max_frags 3, as xsk.c with XDP_USE_SG): a 9014-byte frame crosses as a chain of
 * three buffers and is gathered on the other side. Checked: the MSS follows the MTU (8960,
 * not the 4 KiB buffer), 4 MiB each way arrive byte-exact, the segments really went out as
 * chains (tx_multibuf on one end == rx_multibuf on the other, and most frames are full-size),
 * and every frame comes back to its pool. Without multi-buffer the fixture refuses MTU 9000,
 * as hxs_stack__open() would clamp it.
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

#define XFER (4u << 20)

static uint64_t vnow = 1000000;
static uint64_t vclock(void *ctx) { (void)ctx; return vnow; }

static struct hxs_io_stats io_stats(struct hxs_io *io)
{
	struct hxs_io_stats s;

	io->ops->get_stats(io, &s);
	return s;
}

int main(void)
{
	static const struct twostack_cfg two = {
		.ip_a = "10.7.1.1", .ip_b = "10.7.1.2", .mac_a = { 2, 0, 0, 0, 8, 1 },
		.mac_b = { 2, 0, 0, 0, 8, 2 }, .mtu = 9000, .frames = 1024, .frame_size = 4096,
		.max_frags = 3, .clock = vclock,
	};
	struct twostack w;
	struct twostream_end a = { .total = XFER, .chunk = 65536, .seed_tx = 21, .seed_rx = 22 },
			     b = { .total = XFER, .chunk = 65536, .seed_tx = 22, .seed_rx = 21 };
	int lfd, mss = 0, turns;
	socklen_t ml = sizeof(mss);

	t_case("MTU 9000 needs the multi-buffer link: refused on single 4 KiB buffers");
	{
		struct twostack_cfg bad = two;

		bad.max_frags = 0;
		CHECK_EQ(twostack_open(&w, &bad), -EINVAL);
		bad.max_frags = 2;                       /* 8192 - 14 < 9000 */
		CHECK_EQ(twostack_open(&w, &bad), -EINVAL);
	}

	t_case("two stacks at MTU 9000 on 4096-byte buffers, 3 per frame at most");
	CHECK_EQ(twostack_open(&w, &two), 0);
	if (!w.a || !w.b)
		return t_done();
	CHECK_EQ(w.ia->frame_size, 3 * 4096);
	CHECK_EQ(twostream_connect(&w, 7200, 0, &vnow, &lfd, &a, &b), 0);
	if (b.fd < 0)
		return t_done();

	t_case("the MSS follows the MTU: 9000 - 40 = 8960 (RFC 9293 section 3.7.1), not the buffer");
	/* TCP_MAXSEG says what a segment carries: 8960 less the 12 bytes of timestamps */
	CHECK_EQ(hxs_getsockopt(w.a, a.fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &ml), 0);
	CHECK_EQ(mss, 8960 - 12);

	t_case("4 MiB each way at once: byte exact, segments sent and received as buffer chains");
	turns = twostream_run(&w, &a, &b, &vnow, 2000000);
	CHECK(twostream_done(&a, &b), "after %d turns", turns);
	struct hxs_io_stats sa = io_stats(w.ia), sb = io_stats(w.ib);
	/* 4 MiB in 8960-byte segments is 469 full frames each way at least */
	CHECK(sa.tx_multibuf >= XFER / 8960, "A sent %llu chains", (unsigned long long)sa.tx_multibuf);
	CHECK(sb.tx_multibuf >= XFER / 8960, "B sent %llu chains", (unsigned long long)sb.tx_multibuf);
	/* every byte came in a gathered chain of full segments: ceil(4 MiB / 8948) at least;
	 * no more chains arrive than were sent (the link may drop when a fill ring runs short) */
	CHECK(sb.rx_multibuf >= (XFER + 8947) / 8948 && sb.rx_multibuf <= sa.tx_multibuf,
	      "B received %llu chains", (unsigned long long)sb.rx_multibuf);
	CHECK(sa.rx_multibuf >= (XFER + 8947) / 8948 && sa.rx_multibuf <= sb.tx_multibuf,
	      "A received %llu chains", (unsigned long long)sa.rx_multibuf);
	CHECK_EQ(sa.rx_multibuf_dropped + sb.rx_multibuf_dropped, 0);
	printf("#   A: tx %llu frames %llu chains, rx %llu chains; B: tx %llu chains, rx %llu chains; %d turns\n",
	       (unsigned long long)sa.tx_frames, (unsigned long long)sa.tx_multibuf,
	       (unsigned long long)sa.rx_multibuf, (unsigned long long)sb.tx_multibuf,
	       (unsigned long long)sb.rx_multibuf, turns);

	t_case("closed: every frame and slab back in its pool");
	CHECK_EQ(hxs_close(w.a, a.fd), 0);
	CHECK_EQ(hxs_close(w.b, b.fd), 0);
	CHECK_EQ(hxs_close(w.b, lfd), 0);
	twostack_pump(&w, 8);
	twostack_close_stacks(&w);
	CHECK(twostack_frames_back(&w));
	twostack_close_links(&w);
	return t_done();
}
