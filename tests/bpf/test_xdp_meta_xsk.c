/* test_xdp_meta_xsk.c - on a real veth (copy-mode AF_XDP): the XDP program's struct
 * hxs_xdp_meta arrives in the RX UMEM frame right in front of the data (at the descriptor's
 * address - sizeof(meta)), frame by frame, and a pure ACK of a slotted connection is
 * consumed before it reaches the socket.
 *
 * Why it can work (net/xdp/xsk.c, __xsk_rcv(), copy mode): the kernel copies from
 * data_meta, not data, to the new UMEM buffer's data - meta_len, and the RX descriptor
 * points at data; nothing on the socket or UMEM asks for it, and the descriptor does not
 * say how long the metadata is (the reader knows its size and checks the magic). veth runs
 * the program with metadata support (its xdp_buff is prepared with meta valid).
 *
 * main(): private network namespace (unshare: gone when the test exits, whatever happens)
 *   with veth xa <-> xb; hxs program attached on xa; AF_XDP socket (copy) on xa queue 0;
 *   frames written on xb with AF_PACKET:
 *   - 64 UDP datagrams whose source port alternates between 4-tuples with a conn entry
 *     {slot, gen} (each its own) and ones steered by the wildcard bind only (slot 0): each
 *     received frame must carry its own tuple's values, so metadata left behind in a reused
 *     UMEM frame by an earlier datagram would show;
 *   - a pure ACK of a TCP connection with a fast-path slot: consumed in XDP (never received,
 *     XdpAckFastPath +1, the slot's ack word moved); then a data segment of it: received,
 *     metadata reason "not pure", the slot and gen, l4 offset 34.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "check.h"
#include "xdp_test.h"
#include "hxs/fastpath.h"
#include "hxs/xdp.h"
#include "io/xsk.h"

#define PORT 7777
#define NUDP 64
#define DEADLINE_MS 10000
enum { TSLOT = 9, TGEN = 3, TLPORT = 40000, TRPORT = 443 };


/* Ethernet + IPv4 (checksummed) 10.77.9.1 -> 10.77.9.2, then l4len bytes the caller fills
 * at f + 34. Returns the frame length. */
static size_t ip_frame(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6], uint8_t proto,
		       size_t l4len)
{
	uint32_t s = 0;

	memset(f, 0, 34 + l4len);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	put16(f + 12, ETH_P_IP);
	f[14] = 0x45;
	put16(f + 16, (uint16_t)(20 + l4len));
	f[22] = 64;
	f[23] = proto;
	put32(f + 26, 0x0a4d0901);
	put32(f + 30, 0x0a4d0902);
	for (int i = 14; i < 34; i += 2)
		s += (uint32_t)(f[i] << 8 | f[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	put16(f + 24, (uint16_t)~s);
	return 34 + l4len;
}

/* UDP sport -> PORT, 8 payload bytes (checksum 0: none, RFC 768) */
static size_t udp_frame(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6], uint16_t sport,
			uint32_t i)
{
	size_t n = ip_frame(f, dmac, smac, IPPROTO_UDP, 16);

	put16(f + 34, sport);
	put16(f + 36, PORT);
	put16(f + 38, 16);
	put32(f + 42, i);
	return n;
}

static size_t tcp_frame(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6], uint8_t flags,
			uint32_t seq, uint32_t ack, int payload)
{
	size_t n = ip_frame(f, dmac, smac, IPPROTO_TCP, 20 + (size_t)payload);

	put16(f + 34, TRPORT);
	put16(f + 36, TLPORT);
	put32(f + 38, seq);
	put32(f + 42, ack);
	f[46] = 5 << 4;
	f[47] = flags;
	put16(f + 48, 1000);
	return n;
}

/* sport 6000 + j: j < 4 has a conn entry {100 + j, 1000 + j}; j >= 4 only the bind */
static uint16_t sport_of(uint32_t i) { return (uint16_t)(6000 + i % 8); }

int main(void)
{
	uint8_t amac[6], bmac[6], frame[256], l4[16], r4[16], any[16];
	struct hxs_xsk_opts o = HXS_XSK_OPTS_DEFAULT;
	struct hxs_frame f[64];
	struct hxs_io *io = NULL;
	struct hxs_xdp *xdp = NULL;
	struct hxs_slot *slots;
	__u64 st0[HXS_XDP_STAT_MAX], st1[HXS_XDP_STAT_MAX];
	size_t slots_len = (size_t)HXS_MAX_SLOTS * sizeof(struct hxs_slot);
	int err, pfd, rx = 0, udp_ok = 0, bad = 0, tcp_seen = 0;

	if (geteuid())
		T_SKIP_ALL("needs root");
	if (veth_netns(amac, bmac))
		return t_done();

	t_case("hxs program on xa; conn entries with slots; copy-mode AF_XDP socket on queue 0");
	err = hxs_xdp__open(&xdp, "xa", NULL);
	if (!CHECK_EQ(err, 0))
		return t_done();
	printf("# %s\n", hxs_xdp__describe(xdp));
	hxs_addr_v4(l4, htonl(0x0a4d0902));
	hxs_addr_v4(r4, htonl(0x0a4d0901));
	hxs_addr_v4(any, 0);
	CHECK_EQ(hxs_xdp__bind_add(xdp, any, htons(PORT), IPPROTO_UDP, 1, 0), 0);
	for (uint32_t j = 0; j < 4; j++) {
		struct hxs_conn_key k = { .lport = htons(PORT), .rport = htons(sport_of(j)),
					  .proto = IPPROTO_UDP };
		struct hxs_conn_val v = { .slot = 100 + j, .gen = 1000 + j };

		memcpy(k.laddr, l4, 16);
		memcpy(k.raddr, r4, 16);
		CHECK_EQ(bpf_map_update_elem(hxs_xdp__map_fd(xdp, HXS_MAP_CONNS), &k, &v, BPF_ANY), 0);
	}
	{
		struct hxs_conn_key k = { .lport = htons(TLPORT), .rport = htons(TRPORT),
					  .proto = IPPROTO_TCP };
		struct hxs_conn_val v = { .slot = TSLOT, .gen = TGEN };

		memcpy(k.laddr, l4, 16);
		memcpy(k.raddr, r4, 16);
		CHECK_EQ(bpf_map_update_elem(hxs_xdp__map_fd(xdp, HXS_MAP_CONNS), &k, &v, BPF_ANY), 0);
	}
	slots = mmap(NULL, slots_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		     hxs_xdp__map_fd(xdp, HXS_MAP_SLOTS), 0);
	if (!CHECK(slots != MAP_FAILED, "mmap hxs_slots: %s", strerror(errno)))
		return t_done();
	slots[TSLOT] = (struct hxs_slot){ .gen = TGEN, .flags = HXS_SLOT_F_FAST | HXS_SLOT_F_RST,
					  .snd_max = 5000, .rcv_nxt = 9000, .rcv_adv = 9000 + 65535,
					  .ack = HXS_SLOT_ACK(1000, 100, 0) };
	o.mode = HXS_XSK_MODE_AUTO;
	o.frames = 256;
	o.ring_size = 128;      /* room for all NUDP + 1 frames sent before the first receive */
	o.xsks_map_fd = hxs_xdp__map_fd(xdp, HXS_MAP_XSKS);
	err = hxs_xsk__open(&io, "xa", &o);
	if (!CHECK_EQ(err, 0))
		return t_done();
	CHECK(strcmp(hxs_xsk__mode(io), "copy") == 0, "mode %s", hxs_xsk__mode(io));
	printf("# xsk mode: %s, UMEM headroom %u\n", hxs_xsk__mode(io), o.headroom);
	pfd = packet_socket("xb");
	CHECK(pfd >= 0);
	CHECK_EQ(hxs_xdp__stats(xdp, st0), 0);

	t_case("a pure ACK of a slotted connection is consumed in XDP on the veth");
	{
		size_t n = tcp_frame(frame, amac, bmac, 0x10, 9000, 2000, 0);
		uint64_t t0 = now_ms();

		CHECK_EQ(send(pfd, frame, n, 0), (ssize_t)n);
		while (!hxs_xdp__stats(xdp, st1) && st1[HXS_XDP_IN_RECEIVES] == st0[HXS_XDP_IN_RECEIVES] &&
		       now_ms() - t0 < DEADLINE_MS)
			usleep(1000);
		CHECK_EQ(st1[HXS_XDP_ACK_FAST_PATH] - st0[HXS_XDP_ACK_FAST_PATH], 1);
		CHECK_EQ(__atomic_load_n(&slots[TSLOT].ack, __ATOMIC_ACQUIRE), HXS_SLOT_ACK(2000, 1000, 1));
	}

	t_case("UDP datagrams and a TCP data segment arrive with their own metadata in front");
	{
		size_t n = tcp_frame(frame, amac, bmac, 0x18, 9000, 2000, 10);

		CHECK_EQ(send(pfd, frame, n, 0), (ssize_t)n);
	}
	for (uint32_t i = 0; i < NUDP; i++) {
		size_t n = udp_frame(frame, amac, bmac, sport_of(i), i);

		CHECK_EQ(send(pfd, frame, n, 0), (ssize_t)n);
	}
	for (uint64_t t0 = now_ms(); rx < NUDP + 1 && now_ms() - t0 < DEADLINE_MS;) {
		int got = io->ops->rx_burst(io, f, 64);

		for (int k = 0; k < got; k++, rx++) {
			struct hxs_xdp_meta m;
			const uint8_t *d = f[k].data;

			memcpy(&m, d - sizeof(m), sizeof(m));
			if (rx == 0)
				printf("# first frame: chunk 0x%llx, data (descriptor address) at chunk + "
				       "%u, metadata at data - %zu: magic %08x slot %u gen %u l3 %u l4 %u "
				       "reason %u\n", (unsigned long long)f[k].handle,
				       io->frame_size - f[k].cap, sizeof(m), m.magic, m.slot, m.gen,
				       m.l3_off, m.l4_off, m.reason);
			if (d[23] == IPPROTO_TCP) {
				tcp_seen++;
				/* the backend read it into the frame and cleared the magic */
				CHECK_EQ(f[k].meta, 1);
				CHECK_EQ(f[k].slot, TSLOT);
				CHECK_EQ(f[k].gen, TGEN);
				CHECK_EQ(f[k].mflags, 0);
				CHECK_EQ(m.magic, 0);
				CHECK_EQ(m.slot, TSLOT);
				CHECK_EQ(m.gen, TGEN);
				CHECK_EQ(m.l3_off, 14);
				CHECK_EQ(m.l4_off, 34);
				CHECK_EQ(m.reason, HXS_FP_NOT_PURE);
				continue;
			}
			uint16_t sp = (uint16_t)(d[34] << 8 | d[35]);
			uint32_t j = sp - 6000u, want_slot = j < 4 ? 100 + j : 0, want_gen = j < 4 ? 1000 + j : 0;

			if (f[k].meta == 1 && f[k].slot == want_slot && f[k].gen == want_gen &&
			    !f[k].mflags && m.magic == 0 && m.slot == want_slot && m.gen == want_gen &&
			    m.l3_off == 14 && m.l4_off == 34 && m.reason == HXS_FP_NO_SLOT && !m.flags)
				udp_ok++;
			else if (bad++ < 5)
				printf("# sport %u: magic %08x slot %u gen %u l3 %u l4 %u reason %u\n", sp,
				       m.magic, m.slot, m.gen, m.l3_off, m.l4_off, m.reason);
		}
		io->ops->rx_release(io, f, got);
		if (!got) {
			struct pollfd p = { .fd = io->ops->poll_fd(io), .events = POLLIN };

			poll(&p, 1, 100);
		}
	}
	CHECK_EQ(rx, NUDP + 1);
	CHECK_EQ(tcp_seen, 1);
	CHECK_EQ(udp_ok, NUDP);
	CHECK_EQ(bad, 0);
	CHECK_EQ(hxs_xdp__stats(xdp, st1), 0);
	CHECK_EQ(st1[HXS_XDP_UDP_STEERED] - st0[HXS_XDP_UDP_STEERED], NUDP);
	CHECK_EQ(st1[HXS_XDP_TCP_STEERED] - st0[HXS_XDP_TCP_STEERED], 1);
	CHECK_EQ(st1[HXS_XDP_ACK_DECLINED] - st0[HXS_XDP_ACK_DECLINED], 1);
	printf("# %d frames received, %d UDP with their tuple's metadata\n", rx, udp_ok);

	close(pfd);
	io->ops->close(io);
	munmap(slots, slots_len);
	hxs_xdp__close(xdp);
	return t_done();
}
