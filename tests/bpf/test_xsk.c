/* test_xsk.c - the AF_XDP backend (user/xsk.c) on a real veth with the hxs XDP program.
 *
 * Without arguments (the bpf tier, as root): a private network namespace with one veth pair
 * xa <-> xb; the hxs program on xa steers UDP port 7777 to our socket. Frames are written
 * and captured on xb with AF_PACKET, so every byte is under the test's control:
 *   zero-copy asked on veth fails with -EOPNOTSUPP (never a silent fallback); auto reports
 *   copy mode; N frames in -> rx_burst byte-exact; N frames out -> captured byte-exact, with
 *   no more sendto() kicks than flushes that had frames to send; frames echoed in place
 *   (rx -> tx); a tiny pool exhausts with short counts; after draining every frame is back
 *   (free + fill ring == total, nothing held or in flight).
 * Every wait is a condition (poll() on the socket, a counter, a captured frame) with a
 * deadline of seconds, never a fixed sleep.
 *
 * With -i IF (driven by tests/integ/test_xsk.sh in a topo_pair namespace):
 *   test_xsk -i IF -p PORT -n N -P PEER_PORT
 *   attaches/adopts the hxs program, binds UDP PORT, resolves the kernel peer (its address
 *   from the interface's subnet: the only neighbour, passed with -a) through hxs_netif, prints
 *   "ready", receives N datagrams from the kernel peer and checks their payload pattern
 *   (payload i: 4-byte index, then bytes (i + j) & 0xff, length 4 + (i * 37) % 1397),
 *   printing "rx K" as they come (the sender keeps at most a window in flight by that, not
 *   by sleeping), sends N datagrams with the same pattern to PEER_PORT built by hand
 *   (Ethernet/IPv4/UDP, checksums computed) with no more kicks than flushes, and checks
 *   frames are conserved.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "xdp_test.h"
#include "ctl/netif.h"
#include "hxs/xdp.h"
#include "io/xsk.h"

#define PORT 7777
#define DEADLINE_MS 10000       /* any single wait; generous: the machine may be loaded */

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t csum_add(uint32_t s, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)(b[n - 1] << 8);
	return s;
}

/* UDP checksum over the pseudo-header (RFC 768), host order result folded. */
static uint16_t udp_csum(uint32_t saddr, uint32_t daddr, const uint8_t *udp, uint16_t len)
{
	uint8_t ph[12];
	memcpy(ph, &saddr, 4);
	memcpy(ph + 4, &daddr, 4);
	ph[8] = 0;
	ph[9] = IPPROTO_UDP;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	uint16_t c = csum_fold(csum_add(csum_add(0, ph, 12), udp, len));
	return c ? c : 0xffff;
}

static uint32_t payload_len(uint32_t i) { return 4 + (i * 37) % 1397; }

static void payload_fill(uint8_t *p, uint32_t i)
{
	uint32_t len = payload_len(i);
	for (uint32_t j = 4; j < len; j++)
		p[j] = (uint8_t)(i + j);
	memcpy(p, &i, 4);
}

/* Writes Ethernet/IPv4/UDP with payload i; returns the frame length. */
static uint32_t build_udp(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6], uint32_t saddr,
			  uint32_t daddr, uint16_t sport, uint16_t dport, uint32_t i)
{
	uint32_t plen = payload_len(i);
	struct ethhdr *eth = (struct ethhdr *)f;
	struct iphdr *ip = (struct iphdr *)(f + 14);
	struct udphdr *udp = (struct udphdr *)(f + 34);

	memcpy(eth->h_dest, dmac, 6);
	memcpy(eth->h_source, smac, 6);
	eth->h_proto = htons(ETH_P_IP);
	memset(ip, 0, 20);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons((uint16_t)(20 + 8 + plen));
	ip->id = htons((uint16_t)i);
	ip->frag_off = htons(IP_DF);
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = saddr;
	ip->daddr = daddr;
	ip->check = htons(csum_fold(csum_add(0, ip, 20)));
	udp->source = htons(sport);
	udp->dest = htons(dport);
	udp->len = htons((uint16_t)(8 + plen));
	udp->check = 0;
	payload_fill(f + 42, i);
	udp->check = htons(udp_csum(saddr, daddr, (uint8_t *)udp, (uint16_t)(8 + plen)));
	return 42 + plen;
}

static struct hxs_io_stats io_stats(struct hxs_io *io)
{
	struct hxs_io_stats st;
	io->ops->get_stats(io, &st);
	return st;
}

static int conserved(struct hxs_io *io)
{
	struct hxs_io_stats s = io_stats(io);
	return s.frames_total ==
	       s.frames_free + s.frames_rx_queued + s.frames_tx_queued + s.frames_held;
}

/* Flushes until every transmitted frame has completed (or the deadline passes). */
static void drain_tx(struct hxs_io *io)
{
	uint64_t t0 = now_ms();
	while (io_stats(io).frames_tx_queued && now_ms() - t0 < DEADLINE_MS) {
		io->ops->flush(io);
		usleep(1000);
	}
}

/* Waits until the socket has something to receive (or the deadline passes). */
static void wait_rx(struct hxs_io *io, uint64_t t0)
{
	struct pollfd p = { .fd = io->ops->poll_fd(io), .events = POLLIN };
	int left = (int)(DEADLINE_MS - (now_ms() - t0));

	if (left > 0)
		poll(&p, 1, left < 100 ? left : 100);
}

/* Waits until the program's counter s has grown past before (or the deadline passes). */
static __u64 wait_xdp_stat(struct hxs_xdp *xdp, int s, __u64 before)
{
	__u64 v[HXS_XDP_STAT_MAX] = { 0 };
	uint64_t t0 = now_ms();

	while (!hxs_xdp__stats(xdp, v) && v[s] <= before && now_ms() - t0 < DEADLINE_MS)
		usleep(1000);
	return v[s];
}

/* Next frame captured on fd that is not outgoing and is UDP to dport; length or -1. */
static int capture_udp(int fd, uint8_t *buf, size_t cap, uint16_t dport, int timeout_ms)
{
	uint64_t t0 = now_ms();
	while ((int)(now_ms() - t0) < timeout_ms) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0)
			continue;
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, cap, 0, (struct sockaddr *)&from, &fl);
		if (n < 42 || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		if (buf[12] == 0x08 && buf[13] == 0x00 && buf[23] == IPPROTO_UDP &&
		    ((buf[36] << 8) | buf[37]) == dport)
			return (int)n;
	}
	return -1;
}

/* ------------------------------------------------------------------------------------ */

static int self_contained(void)
{
	uint8_t amac[6], bmac[6], frame[2048], got[2048];
	uint32_t saddr = inet_addr("10.77.9.1"), daddr = inet_addr("10.77.9.2");
	struct hxs_xsk_opts o = HXS_XSK_OPTS_DEFAULT;
	struct hxs_frame f[256];
	struct hxs_io *io = NULL;
	struct hxs_xdp *xdp = NULL;
	const int N = 300;
	int err;

	if (geteuid())
		T_SKIP_ALL("needs root");
	/* as root nothing here may be missing: a failure, not a skip */
	if (veth_netns(amac, bmac))
		return t_done();

	t_case("hxs program attached on xa, UDP port bound");
	err = hxs_xdp__open(&xdp, "xa", NULL);
	CHECK_EQ(err, 0);
	if (err)
		return t_done();
	uint8_t any[16];
	hxs_addr_v4(any, 0);
	CHECK_EQ(hxs_xdp__bind_add(xdp, any, htons(PORT), IPPROTO_UDP, 1, 0), 0);

	t_case("zero-copy asked on veth is refused with -EOPNOTSUPP, not silently turned into copy");
	o.mode = HXS_XSK_MODE_ZEROCOPY;
	err = hxs_xsk__open(&io, "xa", &o);
	CHECK_EQ(err, -EOPNOTSUPP);
	printf("# zero-copy on veth: %s\n", strerror(-err));
	if (!err)
		io->ops->close(io);

	t_case("auto mode opens, reports copy mode, primes the fill ring");
	o.mode = HXS_XSK_MODE_AUTO;
	o.frames = 1024;
	o.ring_size = 512;
	o.xsks_map_fd = hxs_xdp__map_fd(xdp, HXS_MAP_XSKS);
	CHECK(o.xsks_map_fd >= 0);
	err = hxs_xsk__open(&io, "xa", &o);
	CHECK_EQ(err, 0);
	if (err)
		return t_done();
	CHECK(strcmp(hxs_xsk__mode(io), "copy") == 0);
	CHECK(!(io->flags & HXS_IO_F_ZEROCOPY));
	CHECK(io->flags & HXS_IO_F_RX_TO_TX);
	printf("# xsk mode: %s\n", hxs_xsk__mode(io));
	struct hxs_io_stats st = io_stats(io);
	CHECK_EQ(st.frames_total, 1024);
	CHECK_EQ(st.frames_rx_queued, 512);
	CHECK_EQ(st.frames_free, 512);
	CHECK(conserved(io));
	CHECK(hxs_xsk__fd(io, 0) >= 0);
	CHECK_EQ(hxs_xsk__queue_id(io, 0), 0);
	CHECK_EQ(io->ops->poll_fd(io), hxs_xsk__fd(io, 0));

	int pfd = packet_socket("xb");
	CHECK(pfd >= 0);

	t_case("frames sent to the bound port arrive through rx_burst byte-exact");
	int rx = 0, bad = 0;
	uint64_t t0 = now_ms();
	for (int i = 0; i < N; i++) {
		uint32_t len = build_udp(frame, amac, bmac, saddr, daddr, 5555, PORT, (uint32_t)i);
		if (send(pfd, frame, len, 0) != (ssize_t)len)
			bad++;
		/* Keep the socket buffer small: receive as we go. */
		int n = io->ops->rx_burst(io, f, 256);
		for (int k = 0; k < n; k++, rx++) {
			uint32_t l = build_udp(frame, amac, bmac, saddr, daddr, 5555, PORT, (uint32_t)rx);
			if (f[k].len != l || memcmp(f[k].data, frame, l))
				bad++;
		}
		io->ops->rx_release(io, f, n);
	}
	t0 = now_ms();
	while (rx < N && now_ms() - t0 < DEADLINE_MS) {
		int n = io->ops->rx_burst(io, f, 256);
		for (int k = 0; k < n; k++, rx++) {
			uint32_t l = build_udp(frame, amac, bmac, saddr, daddr, 5555, PORT, (uint32_t)rx);
			if (f[k].len != l || memcmp(f[k].data, frame, l))
				bad++;
		}
		io->ops->rx_release(io, f, n);
		if (!n)
			wait_rx(io, t0);
	}
	CHECK_EQ(rx, N);
	CHECK_EQ(bad, 0);
	CHECK(conserved(io));
	__u64 xs[HXS_XDP_STAT_MAX];
	CHECK_EQ(hxs_xdp__stats(xdp, xs), 0);
	CHECK_EQ(xs[HXS_XDP_UDP_STEERED], N);
	CHECK_EQ(io_stats(io).rx_frames, N);

	t_case("a frame to an unbound port goes to the kernel, not to the socket");
	uint32_t len = build_udp(frame, amac, bmac, saddr, daddr, 5555, PORT + 1, 0);
	__u64 passed = xs[HXS_XDP_PASSED];
	send(pfd, frame, len, 0);
	/* the program's verdict is counted before the frame moves on: once XdpPassed grew by
	 * one, that frame is with the kernel and can no longer reach the socket */
	CHECK_EQ(wait_xdp_stat(xdp, HXS_XDP_PASSED, passed), passed + 1);
	CHECK_EQ(io->ops->rx_burst(io, f, 256), 0);
	CHECK_EQ(io_stats(io).rx_frames, N);

	t_case("frames built in tx_alloc'd buffers leave on the wire byte-exact, one kick per flush");
	int sent = 0, flushes = 0;
	bad = 0;
	while (sent < N) {
		int want = N - sent < 64 ? N - sent : 64;
		int n = io->ops->tx_alloc(io, f, want);
		CHECK_EQ(n, want);
		for (int k = 0; k < n; k++)
			f[k].len = build_udp(f[k].data, bmac, amac, daddr, saddr, PORT, 6000,
					     (uint32_t)(sent + k));
		int acc = io->ops->tx_submit(io, f, n);
		CHECK_EQ(acc, n);
		CHECK_EQ(io->ops->flush(io), 0);
		flushes++;
		for (int k = 0; k < n; k++) {
			int l = capture_udp(pfd, got, sizeof(got), 6000, DEADLINE_MS);
			uint32_t want_len = build_udp(frame, bmac, amac, daddr, saddr, PORT, 6000,
						      (uint32_t)(sent + k));
			if (l != (int)want_len || memcmp(got, frame, want_len))
				bad++;
		}
		sent += n;
	}
	CHECK_EQ(bad, 0);
	drain_tx(io);
	st = io_stats(io);
	CHECK_EQ(st.tx_frames, N);
	CHECK_EQ(st.frames_tx_queued, 0);
	/* README: "one sendto kick per flush, none per packet"; every frame was on the wire
	 * before the next batch, so the drain's flushes had nothing left to kick for */
	CHECK(st.tx_wakeups >= 1 && st.tx_wakeups <= (uint64_t)flushes, "%llu kicks, %d flushes",
	      (unsigned long long)st.tx_wakeups, flushes);
	printf("# tx kicks for %d frames in %d flushes: %llu\n", N, flushes,
	       (unsigned long long)st.tx_wakeups);

	t_case("received frames echoed in place (rx -> tx, MACs swapped)");
	for (int i = 0; i < 20; i++) {
		len = build_udp(frame, amac, bmac, saddr, daddr, 5555, PORT, (uint32_t)i);
		send(pfd, frame, len, 0);
	}
	rx = 0;
	t0 = now_ms();
	while (rx < 20 && now_ms() - t0 < DEADLINE_MS) {
		int n = io->ops->rx_burst(io, f, 256);
		for (int k = 0; k < n; k++) {
			uint8_t tmp[6];
			memcpy(tmp, f[k].data, 6);
			memcpy(f[k].data, f[k].data + 6, 6);
			memcpy(f[k].data + 6, tmp, 6);
			f[k].data[37] = 0x71;   /* UDP dst port 7777 -> 6001 (0x1771), checksum not checked by AF_PACKET */
			f[k].data[36] = 0x17;
		}
		CHECK_EQ(io->ops->tx_submit(io, f, n), n);
		io->ops->flush(io);
		rx += n;
		if (!n)
			wait_rx(io, t0);
	}
	CHECK_EQ(rx, 20);
	bad = 0;
	for (int i = 0; i < 20; i++) {
		int l = capture_udp(pfd, got, sizeof(got), 0x1771, DEADLINE_MS);
		uint32_t want_len = build_udp(frame, amac, bmac, saddr, daddr, 5555, PORT, (uint32_t)i);
		if (l != (int)want_len || memcmp(got, bmac, 6) || memcmp(got + 6, amac, 6) ||
		    memcmp(got + 38, frame + 38, want_len - 38))
			bad++;
	}
	CHECK_EQ(bad, 0);
	drain_tx(io);

	t_case("after draining every frame is back: free + fill ring == total");
	st = io_stats(io);
	CHECK_EQ(st.frames_held, 0);
	CHECK_EQ(st.frames_tx_queued, 0);
	CHECK_EQ(st.frames_rx_queued, 512);
	CHECK_EQ(st.frames_free + st.frames_rx_queued, st.frames_total);
	CHECK_EQ(st.rx_dropped, 0);
	io->ops->close(io);

	t_case("tiny pool: tx_alloc gives short counts, frames come back after completion");
	o.frames = 64;
	o.ring_size = 64;
	err = hxs_xsk__open(&io, "xa", &o);
	CHECK_EQ(err, 0);
	if (err)
		return t_done();
	st = io_stats(io);
	CHECK_EQ(st.frames_rx_queued, 32);
	CHECK_EQ(io->ops->tx_alloc(io, f, 50), 32);
	CHECK_EQ(io->ops->tx_alloc(io, f + 32, 1), 0);
	for (int k = 0; k < 32; k++)
		f[k].len = build_udp(f[k].data, bmac, amac, daddr, saddr, PORT, 6002, (uint32_t)k);
	CHECK_EQ(io->ops->tx_submit(io, f, 32), 32);
	CHECK(conserved(io));
	CHECK_EQ(io_stats(io).frames_tx_queued, 32);
	drain_tx(io);
	CHECK_EQ(io_stats(io).frames_free, 32);
	CHECK_EQ(io->ops->tx_alloc(io, f, 50), 32);
	io->ops->tx_free(io, f, 32);
	CHECK_EQ(io_stats(io).frames_free, 32);
	io->ops->close(io);

	t_case("frame larger than a UMEM frame: kernel drops it without SG, chain dropped whole with SG");
	/* 2048-byte frames hold at most 2048 - 256 bytes; a 2800-byte frame does not fit. */
	CHECK_EQ(system("ip link set xa mtu 3000 && ip link set xb mtu 3000"), 0);
	for (int sg = 0; sg <= 1; sg++) {
		o.frames = 256;
		o.ring_size = 128;
		o.frame_size = 2048;
		o.use_sg = sg;
		err = hxs_xsk__open(&io, "xa", &o);
		CHECK(err == 0, "use_sg %d: %d", sg, err);
		if (err)
			return t_done();
		uint8_t big[3000];
		memset(big, 0xab, sizeof(big));
		len = build_udp(big, amac, bmac, saddr, daddr, 5555, PORT, 1);  /* headers */
		struct iphdr *bip = (struct iphdr *)(big + 14);
		bip->tot_len = htons(2800 - 14);
		bip->check = 0;
		bip->check = htons(csum_fold(csum_add(0, bip, 20)));
		((struct udphdr *)(big + 34))->len = htons(2800 - 34);
		((struct udphdr *)(big + 34))->check = 0;
		CHECK_EQ(send(pfd, big, 2800, 0), 2800);
		len = build_udp(frame, amac, bmac, saddr, daddr, 5555, PORT, 7);
		send(pfd, frame, len, 0);
		rx = 0;
		t0 = now_ms();
		while (rx < 1 && now_ms() - t0 < DEADLINE_MS) {
			int n = io->ops->rx_burst(io, f, 256);
			for (int k = 0; k < n; k++)
				if (f[k].len != len || memcmp(f[k].data, frame, len))
					bad++;
			io->ops->rx_release(io, f, n);
			rx += n;
			if (!n)
				wait_rx(io, t0);
		}
		CHECK(rx == 1, "the small frame after the big one, use_sg %d: %d", sg, rx);
		CHECK_EQ(bad, 0);
		st = io_stats(io);
		CHECK_EQ(st.rx_multibuf_dropped, sg ? 1 : 0);
		CHECK_EQ(st.rx_dropped, sg ? 0 : 1);
		CHECK_EQ(st.frames_free + st.frames_rx_queued, 256);
		io->ops->close(io);
	}
	t_case("multi-buffer (max_frame): a 2800-byte frame gathered whole on RX, sent as a chain on TX");
	/* 2048-byte UMEM frames, max_frame 3000: slabs of two frames (4096 bytes). The kernel
	 * splits the received frame over two fill-ring frames (XDP_PKT_CONTD); TX describes the
	 * slab as two descriptors. The peer's packet socket sees both directions byte-exact. */
	o.frames = 256;
	o.ring_size = 128;
	o.frame_size = 2048;
	o.use_sg = 0;
	o.max_frame = 3000;
	err = hxs_xsk__open(&io, "xa", &o);
	CHECK(err == 0, "max_frame: %d", err);
	if (err)
		return t_done();
	CHECK_EQ(io->frame_size, 4096);
	CHECK(io->flags & HXS_IO_F_MULTIBUF);
	CHECK_EQ(io_stats(io).frames_total, 256 + 128);
	{
		uint8_t big[3000], got2[4096];
		memset(big, 0xab, sizeof(big));
		for (int k = 42; k < 2800; k++)
			big[k] = (uint8_t)(k * 7);
		build_udp(big, amac, bmac, saddr, daddr, 5555, PORT, 1);
		struct iphdr *bip = (struct iphdr *)(big + 14);
		bip->tot_len = htons(2800 - 14);
		bip->check = 0;
		bip->check = htons(csum_fold(csum_add(0, bip, 20)));
		((struct udphdr *)(big + 34))->len = htons(2800 - 34);
		((struct udphdr *)(big + 34))->check = 0;
		for (int k = 42; k < 2800; k++)
			big[k] = (uint8_t)(k * 7);
		CHECK_EQ(send(pfd, big, 2800, 0), 2800);
		rx = 0;
		bad = 0;
		t0 = now_ms();
		while (rx < 1 && now_ms() - t0 < DEADLINE_MS) {
			int n = io->ops->rx_burst(io, f, 256);
			for (int k = 0; k < n; k++)
				if (f[k].len != 2800 || memcmp(f[k].data, big, 2800))
					bad++;
			rx += n;
			if (!n)
				wait_rx(io, t0);
			else if (rx == 1)
				CHECK_EQ(f[0].cap, 4096);
			if (n)
				io->ops->rx_release(io, f, n);
		}
		CHECK_EQ(rx, 1);
		CHECK_EQ(bad, 0);
		st = io_stats(io);
		CHECK_EQ(st.rx_multibuf, 1);
		CHECK_EQ(st.rx_multibuf_dropped, 0);
		CHECK_EQ(st.rx_dropped, 0);

		/* TX: the same bytes back towards the peer, from a slab, as two descriptors */
		CHECK_EQ(io->ops->tx_alloc(io, f, 1), 1);
		CHECK_EQ(f[0].cap, 4096);
		memcpy(f[0].data, big, 2800);
		memcpy(f[0].data, bmac, 6);
		memcpy(f[0].data + 6, amac, 6);
		((struct udphdr *)(f[0].data + 34))->dest = htons(6009);
		f[0].len = 2800;
		CHECK_EQ(io->ops->tx_submit(io, f, 1), 1);
		CHECK_EQ(io->ops->flush(io), 0);
		int l = capture_udp(pfd, got2, sizeof(got2), 6009, DEADLINE_MS);
		CHECK_EQ(l, 2800);
		CHECK(l == 2800 && !memcmp(got2 + 42, big + 42, 2800 - 42), "payload differs");
		drain_tx(io);
		st = io_stats(io);
		CHECK_EQ(st.tx_multibuf, 1);
		CHECK_EQ(st.frames_tx_queued, 0);
		CHECK(conserved(io));
		CHECK_EQ(st.frames_free + st.frames_rx_queued, 256 + 128);
	}
	io->ops->close(io);
	o.max_frame = 0;

	o.frame_size = 0;
	o.use_sg = 0;
	CHECK_EQ(system("ip link set xa mtu 1500 && ip link set xb mtu 1500"), 0);

	t_case("busy-poll options accepted; frames still arrive");
	o.frames = 1024;
	o.ring_size = 512;
	o.busy_poll_us = 20;
	err = hxs_xsk__open(&io, "xa", &o);
	CHECK_EQ(err, 0);
	if (err)
		return t_done();
	for (int i = 0; i < 10; i++) {
		len = build_udp(frame, amac, bmac, saddr, daddr, 5555, PORT, (uint32_t)i);
		send(pfd, frame, len, 0);
	}
	rx = 0;
	t0 = now_ms();
	while (rx < 10 && now_ms() - t0 < DEADLINE_MS) {
		int n = io->ops->rx_burst(io, f, 256);
		io->ops->rx_release(io, f, n);
		rx += n;
		if (!n)
			wait_rx(io, t0);
	}
	CHECK_EQ(rx, 10);
	uint64_t wk = io_stats(io).rx_wakeups;
	CHECK_EQ(io->ops->rx_burst(io, f, 256), 0);
	/* copy mode never raises the fill ring's need_wakeup: an empty poll makes no syscall */
	CHECK_EQ(io_stats(io).rx_wakeups, wk);
	io->ops->close(io);
	o.busy_poll_us = 0;
	close(pfd);
	hxs_xdp__close(xdp);

	t_case("two queues share one UMEM: frames arrive on both, any queue transmits");
	if (system("ip link add xc numtxqueues 2 numrxqueues 2 type veth peer name xd "
		   "numtxqueues 2 numrxqueues 2 && ip link set xc up && ip link set xd up")) {
		CHECK(0, "cannot create 2-queue veth");
		return t_done();
	}
	get_mac("xc", amac);
	get_mac("xd", bmac);
	err = hxs_xdp__open(&xdp, "xc", NULL);
	CHECK_EQ(err, 0);
	if (err)
		return t_done();
	CHECK_EQ(hxs_xdp__bind_add(xdp, any, htons(PORT), IPPROTO_UDP, 1, 0), 0);
	o.nqueues = 2;
	o.frames = 2048;
	o.xsks_map_fd = hxs_xdp__map_fd(xdp, HXS_MAP_XSKS);
	err = hxs_xsk__open(&io, "xc", &o);
	CHECK_EQ(err, 0);
	if (err)
		return t_done();
	CHECK_EQ(io->nqueues, 2);
	CHECK_EQ(hxs_xsk__queue_id(io, 1), 1);
	CHECK(hxs_xsk__fd(io, 0) != hxs_xsk__fd(io, 1));
	CHECK(io->ops->poll_fd(io) >= 0 && io->ops->poll_fd(io) != hxs_xsk__fd(io, 0));
	CHECK_EQ(io_stats(io).frames_rx_queued, 1024);   /* 512 in each fill ring */
	pfd = packet_socket("xd");
	int per_q[2] = { 0, 0 };
	bad = 0;
	for (int i = 0; i < 200; i++) {
		/* Different source ports: the flow hash spreads them over xd's TX queues, which
		 * veth maps to the same-numbered receive queues of xc. */
		len = build_udp(frame, amac, bmac, saddr, daddr, (uint16_t)(5000 + i), PORT, (uint32_t)i);
		send(pfd, frame, len, 0);
	}
	rx = 0;
	t0 = now_ms();
	while (rx < 200 && now_ms() - t0 < DEADLINE_MS) {
		int n = io->ops->rx_burst(io, f, 256);
		for (int k = 0; k < n; k++) {
			uint32_t i;
			memcpy(&i, f[k].data + 42, 4);
			uint32_t l = build_udp(frame, amac, bmac, saddr, daddr, (uint16_t)(5000 + i), PORT, i);
			if (i >= 200 || f[k].len != l || memcmp(f[k].data, frame, l) || f[k].queue > 1)
				bad++;
			else
				per_q[f[k].queue]++;
		}
		io->ops->rx_release(io, f, n);
		rx += n;
		if (!n)
			wait_rx(io, t0);
	}
	CHECK_EQ(rx, 200);
	CHECK_EQ(bad, 0);
	CHECK(per_q[0] > 0 && per_q[1] > 0, "queue 0: %d, queue 1: %d", per_q[0], per_q[1]);
	printf("# per queue: %d + %d\n", per_q[0], per_q[1]);
	int n2 = io->ops->tx_alloc(io, f, 2);
	CHECK_EQ(n2, 2);
	for (int k = 0; k < n2; k++) {
		f[k].len = build_udp(f[k].data, bmac, amac, daddr, saddr, PORT, 6003, (uint32_t)k);
		f[k].queue = (uint32_t)k;   /* one on each queue */
	}
	CHECK_EQ(io->ops->tx_submit(io, f, n2), 2);
	CHECK_EQ(io->ops->flush(io), 0);
	CHECK(capture_udp(pfd, got, sizeof(got), 6003, DEADLINE_MS) > 0);
	CHECK(capture_udp(pfd, got, sizeof(got), 6003, DEADLINE_MS) > 0);
	drain_tx(io);
	st = io_stats(io);
	CHECK_EQ(st.frames_held + st.frames_tx_queued, 0);
	CHECK_EQ(st.frames_free + st.frames_rx_queued, 2048);
	io->ops->close(io);
	close(pfd);
	hxs_xdp__close(xdp);
	return t_done();
}

/* ------------------------------------------------------------------------------------ */

struct resolve_wait {
	uint32_t ip;
	int done;
	uint8_t mac[6];
};

static void on_neigh(void *ctx, uint32_t ip, enum hxs_neigh_event ev, const uint8_t mac[6])
{
	struct resolve_wait *w = ctx;
	if (ip != w->ip)
		return;
	w->done = ev == HXS_NEIGH_RESOLVED ? 1 : -1;
	if (mac)
		memcpy(w->mac, mac, 6);
}

static int against_kernel_peer(const char *ifname, int port, int n_dgrams, int peer_port,
			       const char *peer)
{
	struct hxs_xsk_opts o = HXS_XSK_OPTS_DEFAULT;
	struct hxs_netif *nif;
	struct hxs_xdp *xdp;
	struct hxs_io *io;
	struct hxs_frame f[64];
	struct resolve_wait w = { .ip = inet_addr(peer) };

	t_case("netif, XDP program, xsk socket, bind");
	if (hxs_netif__open(&nif, ifname) || hxs_xdp__open(&xdp, ifname, NULL)) {
		CHECK(0, "open netif/xdp on %s", ifname);
		return t_done();
	}
	o.xsks_map_fd = hxs_xdp__map_fd(xdp, HXS_MAP_XSKS);
	int err = hxs_xsk__open(&io, ifname, &o);
	CHECK_EQ(err, 0);
	if (err)
		return t_done();
	uint8_t any[16];
	hxs_addr_v4(any, 0);
	CHECK_EQ(hxs_xdp__bind_add(xdp, any, htons((uint16_t)port), IPPROTO_UDP, 1, 0), 0);
	printf("# xsk mode: %s; %s\n", hxs_xsk__mode(io), hxs_xdp__describe(xdp));

	t_case("kernel peer's MAC resolved through the kernel");
	int rc = hxs_neigh__resolve(nif, w.ip, w.mac);
	if (rc == 0)
		w.done = 1;
	uint64_t t0 = now_ms();
	while (!w.done && now_ms() - t0 < DEADLINE_MS) {
		struct pollfd p = { .fd = nif->nl_fd, .events = POLLIN };
		poll(&p, 1, 50);
		hxs_netif__poll(nif, on_neigh, &w);
	}
	CHECK_EQ(w.done, 1);
	printf("ready\n");
	fflush(stdout);

	t_case("datagrams from the kernel peer received byte-exact");
	int rx = 0, bad = 0, dup = 0;
	uint8_t exp[1500];
	uint8_t *seen = calloc((size_t)n_dgrams, 1);
	t0 = now_ms();
	while (rx < n_dgrams && now_ms() - t0 < 3 * DEADLINE_MS) {
		int n = io->ops->rx_burst(io, f, 64);
		for (int k = 0; k < n; k++) {
			const uint8_t *d = f[k].data;
			struct iphdr *ip = (struct iphdr *)(d + 14);
			uint32_t plen = f[k].len - 42, idx = 0;
			if (f[k].len >= 46)
				memcpy(&idx, d + 42, 4);
			if (idx < (uint32_t)n_dgrams)
				payload_fill(exp, idx);
			/* A header with a correct checksum sums to 0xffff: its complement is 0. */
			int ok = f[k].len >= 46 && idx < (uint32_t)n_dgrams &&
				 ip->protocol == IPPROTO_UDP && plen == payload_len(idx) &&
				 !memcmp(d + 42, exp, plen) && csum_fold(csum_add(0, ip, 20)) == 0 &&
				 csum_fold(csum_add(csum_add(0, d + 34, 8 + plen),
						    (uint8_t[]){ 0, IPPROTO_UDP, (uint8_t)((8 + plen) >> 8),
								 (uint8_t)(8 + plen) }, 4) +
					   csum_add(0, &ip->saddr, 8)) == 0;
			if (ok)
				seen[idx]++;
			if (!ok)
				bad++;
			rx++;
		}
		io->ops->rx_release(io, f, n);
		if (n) {
			printf("rx %d\n", rx);    /* progress: the sender's window moves on */
			fflush(stdout);
			t0 = now_ms();          /* the deadline is for a stall, not for all N */
		} else {
			struct pollfd p = { .fd = io->ops->poll_fd(io), .events = POLLIN };
			poll(&p, 1, 100);
		}
	}
	for (int i = 0; i < n_dgrams; i++)
		dup += seen[i] != 1;
	free(seen);
	CHECK_EQ(rx, n_dgrams);
	CHECK_EQ(bad, 0);
	CHECK_EQ(dup, 0);   /* each index exactly once */

	t_case("hand-built datagrams sent to the kernel peer, no more kicks than flushes");
	int sent = 0, flushes = 0;
	while (sent < n_dgrams) {
		int chunk = n_dgrams - sent < 64 ? n_dgrams - sent : 64;
		int n = io->ops->tx_alloc(io, f, chunk);
		for (int k = 0; k < n; k++)
			f[k].len = build_udp(f[k].data, w.mac, nif->mac, nif->addr, w.ip,
					     (uint16_t)port, (uint16_t)peer_port, (uint32_t)(sent + k));
		int acc = io->ops->tx_submit(io, f, n);
		io->ops->tx_free(io, f + acc, n - acc);
		io->ops->flush(io);
		flushes += acc > 0;
		sent += acc;
		if (acc < n)
			usleep(1000);
	}
	drain_tx(io);
	struct hxs_io_stats st = io_stats(io);
	CHECK_EQ(st.tx_frames, n_dgrams);
	CHECK(st.tx_wakeups >= 1 && st.tx_wakeups <= (uint64_t)flushes, "%llu kicks, %d flushes",
	      (unsigned long long)st.tx_wakeups, flushes);
	printf("# tx kicks: %llu for %d frames in %d flushes\n", (unsigned long long)st.tx_wakeups,
	       n_dgrams, flushes);

	t_case("no frame leaked: free + fill ring == total, none held or in flight");
	CHECK_EQ(st.frames_held, 0);
	CHECK_EQ(st.frames_tx_queued, 0);
	CHECK_EQ(st.frames_free + st.frames_rx_queued, st.frames_total);
	printf("# frames_total %llu free %llu fill %llu\n", (unsigned long long)st.frames_total,
	       (unsigned long long)st.frames_free, (unsigned long long)st.frames_rx_queued);
	hxs_xdp__bind_del(xdp, any, htons((uint16_t)port), IPPROTO_UDP);
	io->ops->close(io);
	hxs_xdp__close(xdp);
	hxs_netif__close(nif);
	return t_done();
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *peer = NULL;
	int port = PORT, n = 100, peer_port = 9000, c;

	while ((c = getopt(argc, argv, "i:p:n:P:a:")) != -1) {
		switch (c) {
		case 'i': ifname = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 'P': peer_port = atoi(optarg); break;
		case 'a': peer = optarg; break;
		default: return 2;
		}
	}
	if (!ifname)
		return self_contained();
	if (!peer)
		return 2;
	return against_kernel_peer(ifname, port, n, peer_port, peer);
}
