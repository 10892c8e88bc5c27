/* hxs-xdp-blast - the raw one-way AF_XDP ceiling of a link for bulk frames: how many bytes a
 * second the hxs datapath (XDP steering + the xsk backend, multi-buffer above one UMEM frame)
 * moves from one end to the other with no TCP, no socket layer and no payload written, for
 * `make bench` to hold the stream figures against. With --payload both ends also do the least
 * any stack carrying hxs-perf's stream does per byte: the blaster writes hxs-perf's payload
 * sequence (hxs_perf_fill(), the generator the stream sender runs) into each frame and sums it
 * into the UDP checksum; the sink verifies the checksum and every payload byte
 * (hxs_perf_verify()). That is the one-core ceiling of the stream workload itself over this
 * datapath.
 *
 *   sink:    hxs-xdp-blast -i IFACE --sink [-p PORT] [--napi-cpu CPU] [--payload]
 *   blaster: hxs-xdp-blast -i IFACE -c PEER_IP [-p PORT] [-s BYTES] [-t SECONDS] [--json]
 *                          [--napi-cpu CPU] [--payload]
 *
 * Both ends attach (or adopt) the hxs XDP program (its multi-buffer variant above ~3400 bytes
 * of MTU), open the xsk backend (multi-buffer when a frame exceeds one UMEM frame) and steer
 * UDP to PORT (sink) / PORT+1 (blaster) (app/rawudp.h, which also builds the frames'
 * headers). Both busy-spin; --napi-cpu makes the interface's NAPI threaded and pins its
 * thread (napi.h), as hxs-perf's option does, and then the loops sched_yield() when idle.
 *   blaster: resolve the peer's MAC through the kernel, then for -t seconds: tx_alloc a batch,
 *            write the 42 header bytes of each frame (the payload is whatever the UMEM holds),
 *            tx_submit, flush; prints frames/s and Gbit/s sent (Ethernet frame bytes)
 *            (--payload: the payload's first 8 bytes are its offset in the sequence, little
 *            endian, the rest is the sequence from there; UDP checksum set)
 *   sink:    rx_burst -> count frames and bytes of ours (--payload: verify the checksum and
 *            the bytes; a frame that differs is counted apart, not as received) ->
 *            rx_release; at SIGINT/SIGTERM one
 *            line (JSON with --json) of the frames and bytes received between the first and
 *            the last frame, and that rate
 * A frame sent that the receive side could not take (ring full, no fill buffer) is dropped by
 * the kernel: the sink's rate is the ceiling, the blaster's the offered load.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/appperf.h"
#include "app/prog.h"
#include "app/rawudp.h"
#include "ctl/netif.h"
#include "io/xsk.h"
#include "lib/csum.h"

#define BATCH        64
#define HDR_LEN      HXS_RAWUDP_HDR_LEN
#define PLAIN_MAX    3400          /* above this MTU the xdp.frags program (stack_open.c) */
#define UMEM_ROOM    (4096 - 256)  /* a frame above this: multi-buffer (stack_open.c) */
#define PAY_SEED     0x68787362u   /* --payload: the sequence both ends agree on */
#define OFF_LEN      8             /* --payload: the offset field in front of the sequence */

static struct {
	const char *ifname, *peer;
	int port, size, napi_cpu;
	double secs;
	bool sink, json, napi, payload;
} o = { .port = 5401, .size = 1514, .secs = 3 };

static volatile sig_atomic_t stop;

/* The ends of one side: UDP port steered to them; multi-buffer program and sockets by MTU. */
static int open_ends(struct hxs_rawudp *e, uint16_t port)
{
	struct hxs_rawudp_opts ro = { .prog = "hxs-xdp-blast", .ifname = o.ifname, .port = port,
				      .frags_above_mtu = PLAIN_MAX, .sg_above = UMEM_ROOM,
				      .napi = o.napi, .napi_cpu = o.napi_cpu };

	return hxs_rawudp__open(e, &ro);
}

/* --payload, blaster: the offset, then the sequence from it, then the UDP checksum over both
 * (psum: the pseudo and UDP headers' sum). The frame is o.size bytes, its header written. */
static void payload_write(uint8_t *fr, uint64_t off, uint32_t psum)
{
	uint8_t *pay = fr + HDR_LEN;
	uint32_t len = (uint32_t)o.size - HDR_LEN - OFF_LEN;
	uint64_t le = htole64(off);
	uint16_t c;

	memcpy(pay, &le, OFF_LEN);
	hxs_perf_fill(PAY_SEED, off, pay + OFF_LEN, len);
	c = hxs_csum_fold(hxs_csum_add(psum, pay, len + OFF_LEN));
	if (!c)
		c = 0xffff;               /* RFC 768: a computed 0 is sent as all ones */
	memcpy(fr + 40, &c, 2);
}

/* --payload, sink: whether the frame's UDP checksum verifies and its sequence bytes are those
 * at the offset it carries. */
static bool payload_ok(const uint8_t *fr, uint32_t len)
{
	uint32_t sip, dip, sum, ulen;
	uint16_t w;
	uint64_t le;

	/* the UDP length, not the frame's: a link may pad a short frame (60 bytes on Ethernet) */
	memcpy(&w, fr + 38, 2);
	ulen = ntohs(w);
	if (ulen < 8 + OFF_LEN || ulen > len - 34)
		return false;
	memcpy(&sip, fr + 26, 4);
	memcpy(&dip, fr + 30, 4);
	sum = hxs_csum_pseudo(sip, dip, IPPROTO_UDP, ulen);
	if (hxs_csum_fold(hxs_csum_add(sum, fr + 34, ulen)))
		return false;
	memcpy(&le, fr + HDR_LEN, OFF_LEN);
	return hxs_perf_verify(PAY_SEED, le64toh(le), fr + HDR_LEN + OFF_LEN,
			       ulen - 8 - OFF_LEN) == UINT64_MAX;
}

static int sink(void)
{
	struct hxs_rawudp e = { 0 };
	struct hxs_frame f[BATCH];
	uint64_t frames = 0, bytes = 0, bad = 0, t_first = 0, t_last = 0;
	int err = open_ends(&e, (uint16_t)o.port);

	if (err)
		goto out;
	printf("hxs-xdp-blast: sinking UDP %d on %s (%s mode, frames up to %u bytes)\n", o.port,
	       o.ifname, hxs_xsk__mode(e.io), e.io->frame_size);
	fflush(stdout);
	while (!stop) {
		int n = e.io->ops->rx_burst(e.io, f, BATCH);
		if (n <= 0) {
			if (o.napi)
				sched_yield();
			continue;
		}
		uint64_t t = hxs_rawudp__now_ns();
		for (int i = 0; i < n; i++)
			if (hxs_rawudp__ours(f[i].data, f[i].len, (uint16_t)o.port)) {
				if (o.payload && !payload_ok(f[i].data, f[i].len)) {
					bad++;
					continue;
				}
				frames++;
				bytes += f[i].len;
			}
		if (!t_first)
			t_first = t;
		t_last = t;
		e.io->ops->rx_release(e.io, f, n);
	}
	double secs = t_last > t_first ? (double)(t_last - t_first) / 1e9 : 0;
	double gbps = secs > 0 ? (double)bytes * 8 / secs / 1e9 : 0;
	if (o.json)
		printf("{\"mode\":\"xdp-blast-sink\",\"xsk_mode\":\"%s\",\"napi_threaded\":%s,"
		       "\"payload\":%s,\"frames\":%llu,\"bytes\":%llu,\"bad_frames\":%llu,"
		       "\"duration_s\":%.3f,\"rx_pps\":%.0f,\"rx_gbps\":%.3f}\n", hxs_xsk__mode(e.io),
		       o.napi ? "true" : "false", o.payload ? "true" : "false",
		       (unsigned long long)frames, (unsigned long long)bytes, (unsigned long long)bad,
		       secs, secs > 0 ? (double)frames / secs : 0, gbps);
	else
		printf("hxs-xdp-blast: received %llu frames, %llu bytes in %.2f s = %.3f Gbit/s"
		       " (%llu frames with a wrong payload)\n", (unsigned long long)frames,
		       (unsigned long long)bytes, secs, gbps, (unsigned long long)bad);
	if (bad)
		err = -EPROTO;
out:
	hxs_rawudp__close(&e);
	return err ? 1 : 0;
}

static int blast(void)
{
	struct hxs_rawudp e = { 0 };
	struct hxs_frame f[BATCH];
	uint8_t hdr[HDR_LEN], pmac[6];
	struct in_addr pa;
	uint16_t sport = (uint16_t)(o.port + 1);
	uint64_t tx = 0, off = 0, t0, t1, t_end;
	uint32_t psum = 0;
	int err;

	if (inet_pton(AF_INET, o.peer, &pa) != 1) {
		fprintf(stderr, "hxs-xdp-blast: bad peer address %s\n", o.peer);
		return 2;
	}
	err = open_ends(&e, sport);
	if (err)
		goto out;
	if ((uint32_t)o.size > e.io->frame_size || o.size > (int)e.nif->mtu + 14) {
		fprintf(stderr, "hxs-xdp-blast: %d-byte frames do not fit (MTU %u, frames up to %u)\n",
			o.size, e.nif->mtu, e.io->frame_size);
		err = -EMSGSIZE;
		goto out;
	}
	err = hxs_rawudp__resolve(&e, pa.s_addr, pmac);
	if (err)
		goto out;
	hxs_rawudp__build_hdr(hdr, (uint32_t)o.size, e.nif->mac, pmac, e.nif->addr, pa.s_addr, sport,
			      (uint16_t)o.port);
	/* the pseudo header and the UDP header (checksum field 0) are the same in every frame */
	psum = hxs_csum_pseudo(e.nif->addr, pa.s_addr, IPPROTO_UDP, (uint32_t)o.size - 34);
	psum = hxs_csum_add(psum, hdr + 34, 8);
	t0 = hxs_rawudp__now_ns();
	t_end = t0 + (uint64_t)(o.secs * 1e9);
	while (!stop && hxs_rawudp__now_ns() < t_end) {
		int n = e.io->ops->tx_alloc(e.io, f, BATCH), k;
		for (int i = 0; i < n; i++) {
			memcpy(f[i].data, hdr, HDR_LEN);
			f[i].len = (uint32_t)o.size;
			if (o.payload) {
				payload_write(f[i].data, off, psum);
				off += (uint64_t)o.size - HDR_LEN - OFF_LEN;
			}
		}
		k = n > 0 ? e.io->ops->tx_submit(e.io, f, n) : 0;
		if (k < n)
			e.io->ops->tx_free(e.io, f + k, n - k);
		tx += (uint64_t)(k > 0 ? k : 0);
		e.io->ops->flush(e.io);
		/* frames that came back to us (none expected) go back to the fill ring */
		int r = e.io->ops->rx_burst(e.io, f, BATCH);
		if (r > 0)
			e.io->ops->rx_release(e.io, f, r);
		if (n <= 0 && o.napi)
			sched_yield();
	}
	t1 = hxs_rawudp__now_ns();
	double secs = (double)(t1 - t0) / 1e9;
	double gbps = secs > 0 ? (double)tx * (double)o.size * 8 / secs / 1e9 : 0;
	if (o.json)
		printf("{\"mode\":\"xdp-blast\",\"xsk_mode\":\"%s\",\"napi_threaded\":%s,"
		       "\"payload\":%s,\"frame_bytes\":%d,\"frames\":%llu,\"duration_s\":%.3f,"
		       "\"tx_pps\":%.0f,\"tx_gbps\":%.3f}\n", hxs_xsk__mode(e.io),
		       o.napi ? "true" : "false", o.payload ? "true" : "false", o.size,
		       (unsigned long long)tx, secs, secs > 0 ? (double)tx / secs : 0, gbps);
	else
		printf("hxs-xdp-blast: sent %llu %d-byte frames in %.2f s = %.3f Gbit/s\n",
		       (unsigned long long)tx, o.size, secs, gbps);
out:
	hxs_rawudp__close(&e);
	return err ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hxs-xdp-blast -i IFACE --sink [-p PORT] [--json] [--napi-cpu CPU] [--payload]\n"
		   "       hxs-xdp-blast -i IFACE -c PEER_IP [-p PORT] [-s BYTES] [-t SECONDS] [--json]\n"
		   "                     [--napi-cpu CPU] [--payload]\n"
		   "  -p PORT   UDP port of the sink (the blaster uses PORT+1); default 5401\n"
		   "  -s BYTES  Ethernet frame size, headers included; default 1514\n"
		   "  -t S      seconds of sending; default 3\n"
		   "  --napi-cpu CPU  threaded NAPI on IFACE, its thread on CPU (or any)\n"
		   "  --payload  blaster: hxs-perf's payload sequence and the UDP checksum in every\n"
		   "             frame; sink: verify it (a wrong frame fails the run)\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "sink", no_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'J' },
		{ "napi-cpu", required_argument, NULL, 'N' },
		{ "payload", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "i:c:p:s:t:h", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o.ifname = optarg; break;
		case 'c': o.peer = optarg; break;
		case 'p': o.port = atoi(optarg); break;
		case 's': o.size = atoi(optarg); break;
		case 't': o.secs = atof(optarg); break;
		case 'S': o.sink = true; break;
		case 'J': o.json = true; break;
		case 'P': o.payload = true; break;
		case 'N':
			o.napi = true;
			o.napi_cpu = strcmp(optarg, "any") ? atoi(optarg) : -1;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!o.ifname || (!o.sink && !o.peer) || o.port <= 0 || o.port >= 65534 ||
	    o.size < HDR_LEN + (o.payload ? OFF_LEN : 0) || o.size > 65535) {
		usage(stderr);
		return 2;
	}
	hxs_prog__catch_stop(&stop, HXS_PROG_RESTART);
	return o.sink ? sink() : blast();
}
