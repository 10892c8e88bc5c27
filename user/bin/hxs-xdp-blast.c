/* hxs-xdp-blast - the raw one-way AF_XDP ceiling of a link for bulk frames: how many bytes a
 * second the hxs datapath (XDP steering + the xsk backend, multi-buffer above one UMEM frame)
 * moves from one end to the other with no TCP, no socket layer and no payload written, for
 * `make bench` to hold the stream figures against.
 *
 *   sink:    hxs-xdp-blast -i IFACE --sink [-p PORT] [--napi-cpu CPU]
 *   blaster: hxs-xdp-blast -i IFACE -c PEER_IP [-p PORT] [-s BYTES] [-t SECONDS] [--json]
 *                          [--napi-cpu CPU]
 *
 * Both ends attach (or adopt) the hxs XDP program (its multi-buffer variant above ~3400 bytes
 * of MTU), open the xsk backend (multi-buffer when a frame exceeds one UMEM frame) and steer
 * UDP to PORT (sink) / PORT+1 (blaster). Both busy-spin; --napi-cpu makes the interface's
 * NAPI threaded and pins its thread (napi.h), as hxs-perf's option does, and then the loops
 * sched_yield() when idle.
 *   blaster: resolve the peer's MAC through the kernel, then for -t seconds: tx_alloc a batch,
 *            write the 42 header bytes of each frame (the payload is whatever the UMEM holds),
 *            tx_submit, flush; prints frames/s and Gbit/s sent (Ethernet frame bytes)
 *   sink:    rx_burst -> count frames and bytes of ours -> rx_release; at SIGINT/SIGTERM one
 *            line (JSON with --json) of the frames and bytes received between the first and
 *            the last frame, and that rate
 * A frame sent that the receive side could not take (ring full, no fill buffer) is dropped by
 * the kernel: the sink's rate is the ceiling, the blaster's the offered load.
 */
#include <arpa/inet.h>
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

#include "app/prog.h"
#include "ctl/napi.h"
#include "ctl/netif.h"
#include "hxs/xdp.h"
#include "io/xsk.h"

#define BATCH        64
#define HDR_LEN      42            /* Ethernet + IPv4 + UDP */
#define PLAIN_MAX    3400          /* above this MTU the xdp.frags program (stack_open.c) */
#define UMEM_ROOM    (4096 - 256)  /* a frame above this: multi-buffer (stack_open.c) */

static struct {
	const char *ifname, *peer;
	int port, size, napi_cpu;
	double secs;
	bool sink, json, napi;
} o = { .port = 5401, .size = 1514, .secs = 3 };

static volatile sig_atomic_t stop;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint16_t ip_csum(const uint8_t *h, int len)
{
	uint32_t s = 0;
	for (int i = 0; i < len; i += 2)
		s += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

/* Ethernet + IPv4 + UDP header of a frame of len bytes (UDP checksum 0: allowed for IPv4). */
static void build_hdr(uint8_t *f, int len, const uint8_t smac[6], const uint8_t dmac[6],
		      uint32_t sip, uint32_t dip, uint16_t sport, uint16_t dport)
{
	memset(f, 0, HDR_LEN);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08;
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	uint16_t tot = htons((uint16_t)(len - 14));
	memcpy(ip + 2, &tot, 2);
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &sip, 4);
	memcpy(ip + 16, &dip, 4);
	uint16_t c = ip_csum(ip, 20);
	memcpy(ip + 10, &c, 2);
	uint8_t *udp = ip + 20;
	uint16_t sp = htons(sport), dp = htons(dport), ul = htons((uint16_t)(len - 34));
	memcpy(udp, &sp, 2);
	memcpy(udp + 2, &dp, 2);
	memcpy(udp + 4, &ul, 2);
}

static bool ours(const uint8_t *f, uint32_t len, uint16_t port)
{
	uint16_t dp;
	if (len < HDR_LEN || f[12] != 0x08 || f[13] != 0x00 || f[14] != 0x45 || f[23] != IPPROTO_UDP)
		return false;
	memcpy(&dp, f + 36, 2);
	return ntohs(dp) == port;
}

struct ends {
	struct hxs_xdp *x;
	struct hxs_io *io;
	struct hxs_netif *nif;
	uint8_t addr[16];
	bool threaded;
};

static int open_ends(struct ends *e, uint16_t port)
{
	struct hxs_xsk_opts ko = HXS_XSK_OPTS_DEFAULT;
	struct hxs_xdp_opts xo = { 0 };
	int err;

	err = hxs_netif__open(&e->nif, o.ifname);
	if (err) {
		fprintf(stderr, "hxs-xdp-blast: %s: %s\n", o.ifname, strerror(-err));
		return err;
	}
	xo.frags = e->nif->mtu > PLAIN_MAX;
	err = hxs_xdp__open(&e->x, o.ifname, &xo);
	if (err) {
		fprintf(stderr, "hxs-xdp-blast: XDP on %s: %s\n", o.ifname, strerror(-err));
		return err;
	}
	ko.xsks_map_fd = hxs_xdp__map_fd(e->x, HXS_MAP_XSKS);
	ko.busy_poll_us = 20;
	if (e->nif->mtu + 14 > UMEM_ROOM)
		ko.max_frame = e->nif->mtu + 14;
	err = hxs_xsk__open(&e->io, o.ifname, &ko);
	if (err) {
		fprintf(stderr, "hxs-xdp-blast: AF_XDP on %s: %s\n", o.ifname, strerror(-err));
		return err;
	}
	if (o.napi) {
		err = hxs_napi__thread(o.ifname, o.napi_cpu);
		if (err < 0) {
			fprintf(stderr, "hxs-xdp-blast: threaded NAPI on %s: %s\n", o.ifname, strerror(-err));
			return err;
		}
		e->threaded = true;
	}
	hxs_addr_v4(e->addr, htonl(INADDR_ANY));
	err = hxs_xdp__bind_add(e->x, e->addr, htons(port), IPPROTO_UDP, 1, 0);
	if (err)
		fprintf(stderr, "hxs-xdp-blast: steering UDP %d: %s\n", port, strerror(-err));
	return err;
}

static void close_ends(struct ends *e, uint16_t port)
{
	if (e->threaded)
		hxs_napi__unthread(o.ifname);
	if (e->x)
		hxs_xdp__bind_del(e->x, e->addr, htons(port), IPPROTO_UDP);
	if (e->io)
		e->io->ops->close(e->io);
	hxs_xdp__close(e->x);
	hxs_netif__close(e->nif);
}

static int sink(void)
{
	struct ends e = { 0 };
	struct hxs_frame f[BATCH];
	uint64_t frames = 0, bytes = 0, t_first = 0, t_last = 0;
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
		uint64_t t = now_ns();
		for (int i = 0; i < n; i++)
			if (ours(f[i].data, f[i].len, (uint16_t)o.port)) {
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
		       "\"frames\":%llu,\"bytes\":%llu,\"duration_s\":%.3f,\"rx_pps\":%.0f,"
		       "\"rx_gbps\":%.3f}\n", hxs_xsk__mode(e.io), o.napi ? "true" : "false",
		       (unsigned long long)frames, (unsigned long long)bytes, secs,
		       secs > 0 ? (double)frames / secs : 0, gbps);
	else
		printf("hxs-xdp-blast: received %llu frames, %llu bytes in %.2f s = %.3f Gbit/s\n",
		       (unsigned long long)frames, (unsigned long long)bytes, secs, gbps);
out:
	close_ends(&e, (uint16_t)o.port);
	return err ? 1 : 0;
}

static int blast(void)
{
	struct ends e = { 0 };
	struct hxs_frame f[BATCH];
	uint8_t hdr[HDR_LEN], pmac[6];
	struct in_addr pa;
	uint16_t sport = (uint16_t)(o.port + 1);
	uint64_t tx = 0, t0, t1, t_end;
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
	t0 = now_ns();
	while ((err = hxs_neigh__resolve(e.nif, pa.s_addr, pmac)) == -EAGAIN && now_ns() - t0 < 3000000000ull) {
		hxs_netif__poll(e.nif, NULL, NULL);
		usleep(10000);
	}
	if (err) {
		fprintf(stderr, "hxs-xdp-blast: cannot resolve %s: %s\n", o.peer, strerror(-err));
		goto out;
	}
	build_hdr(hdr, o.size, e.nif->mac, pmac, e.nif->addr, pa.s_addr, sport, (uint16_t)o.port);
	t0 = now_ns();
	t_end = t0 + (uint64_t)(o.secs * 1e9);
	while (!stop && now_ns() < t_end) {
		int n = e.io->ops->tx_alloc(e.io, f, BATCH), k;
		for (int i = 0; i < n; i++) {
			memcpy(f[i].data, hdr, HDR_LEN);
			f[i].len = (uint32_t)o.size;
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
	t1 = now_ns();
	double secs = (double)(t1 - t0) / 1e9;
	double gbps = secs > 0 ? (double)tx * (double)o.size * 8 / secs / 1e9 : 0;
	if (o.json)
		printf("{\"mode\":\"xdp-blast\",\"xsk_mode\":\"%s\",\"napi_threaded\":%s,"
		       "\"frame_bytes\":%d,\"frames\":%llu,\"duration_s\":%.3f,\"tx_pps\":%.0f,"
		       "\"tx_gbps\":%.3f}\n", hxs_xsk__mode(e.io), o.napi ? "true" : "false", o.size,
		       (unsigned long long)tx, secs, secs > 0 ? (double)tx / secs : 0, gbps);
	else
		printf("hxs-xdp-blast: sent %llu %d-byte frames in %.2f s = %.3f Gbit/s\n",
		       (unsigned long long)tx, o.size, secs, gbps);
out:
	close_ends(&e, sport);
	return err ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hxs-xdp-blast -i IFACE --sink [-p PORT] [--json] [--napi-cpu CPU]\n"
		   "       hxs-xdp-blast -i IFACE -c PEER_IP [-p PORT] [-s BYTES] [-t SECONDS] [--json]\n"
		   "                     [--napi-cpu CPU]\n"
		   "  -p PORT   UDP port of the sink (the blaster uses PORT+1); default 5401\n"
		   "  -s BYTES  Ethernet frame size, headers included; default 1514\n"
		   "  -t S      seconds of sending; default 3\n"
		   "  --napi-cpu CPU  threaded NAPI on IFACE, its thread on CPU (or any)\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "sink", no_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'J' },
		{ "napi-cpu", required_argument, NULL, 'N' },
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
		case 'N':
			o.napi = true;
			o.napi_cpu = strcmp(optarg, "any") ? atoi(optarg) : -1;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!o.ifname || (!o.sink && !o.peer) || o.port <= 0 || o.port >= 65534 ||
	    o.size < HDR_LEN || o.size > 65535) {
		usage(stderr);
		return 2;
	}
	hxs_prog__catch_stop(&stop, HXS_PROG_RESTART);
	return o.sink ? sink() : blast();
}
