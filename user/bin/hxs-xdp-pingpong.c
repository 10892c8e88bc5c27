/* hxs-xdp-pingpong - the raw AF_XDP ceiling of a link, without TCP or a socket layer: what
 * the hxs datapath (XDP steering + the xsk backend) allows at best, for `make bench` to hold
 * the stack's figures against.
 *
 *   reflector: hxs-xdp-pingpong -i IFACE --reflect [-p PORT]
 *   client:    hxs-xdp-pingpong -i IFACE -c PEER_IP [-p PORT] [-t SECONDS] [--json]
 *
 * Both ends attach (or adopt) the hxs XDP program, open one AF_XDP socket per receive queue
 * through the xsk backend (xsk.h), and steer UDP to PORT (reflector) / PORT+1 (client) there
 * (app/rawudp.h, which also builds the frames' headers).
 * Everything busy-spins on the rings; nothing sleeps.
 *   client: resolve the peer's MAC through the kernel (netif.h), then
 *     ping-pong (-t s): one 64-byte frame in flight; send, spin until its echo, take the round
 *                       trip (CLOCK_MONOTONIC) into a histogram; lost after 20 ms, resent
 *     rate (-t s):      up to RATE_WINDOW frames in flight, batches of HXS_BATCH: frames sent
 *                       and echoed per second
 *   reflector: rx_burst -> swap MACs, addresses, ports in place -> tx_submit (zero copy when
 *              the backend allows RX->TX, else copied) -> flush
 * Output: human lines, or one JSON object (--json) with rtt_us percentiles, roundtrips_per_s,
 * tx_pps, rx_pps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
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

#define FRAME_LEN     64          /* Ethernet frame without FCS */
#define HXS_BATCH     64
#define RATE_WINDOW   512
#define LOST_NS       (20ull * 1000000ull)   /* a lost frame stalls the ping-pong this long */
#define PP_MAGIC      0x70696e67u /* "ping" */

struct pp_payload {
	uint32_t magic;
	uint64_t seq;
	uint64_t ts_ns;
} __attribute__((packed));
_Static_assert(HXS_RAWUDP_HDR_LEN + sizeof(struct pp_payload) <= FRAME_LEN, "frame fits 64 bytes");

static struct {
	const char *ifname, *peer;
	int port;
	double secs;
	bool reflect, json;
} o = { .port = 5301, .secs = 3 };

static volatile sig_atomic_t stop;

/* Ethernet + IPv4 + UDP + payload template (rawudp.h: UDP checksum 0). */
static void build_frame(uint8_t *f, const uint8_t smac[6], const uint8_t dmac[6], uint32_t sip,
			uint32_t dip, uint16_t sport, uint16_t dport)
{
	memset(f, 0, FRAME_LEN);
	hxs_rawudp__build_hdr(f, FRAME_LEN, smac, dmac, sip, dip, sport, dport);
}

/* The payload of a frame that is one of ours to port, or NULL. */
static struct pp_payload *our_payload(uint8_t *f, uint32_t len, uint16_t port)
{
	if (len < HXS_RAWUDP_HDR_LEN + sizeof(struct pp_payload) || !hxs_rawudp__ours(f, len, port))
		return NULL;
	struct pp_payload *p = (struct pp_payload *)(f + HXS_RAWUDP_HDR_LEN);
	return p->magic == PP_MAGIC ? p : NULL;
}

static void swap(uint8_t *a, uint8_t *b, int n)
{
	uint8_t t[6];
	memcpy(t, a, (size_t)n);
	memcpy(a, b, (size_t)n);
	memcpy(b, t, (size_t)n);
}

/* The ends of one side: UDP port steered to them; 4096 UMEM frames, rings of 1024. */
static int open_ends(struct hxs_rawudp *e, uint16_t port)
{
	struct hxs_rawudp_opts ro = { .prog = "hxs-xdp-pingpong", .ifname = o.ifname, .port = port,
				      .frames = 4096, .ring_size = 1024 };

	return hxs_rawudp__open(e, &ro);
}

/* Sends frames f[0..n) until all are taken; frees what the ring refuses at the end. */
static int submit_all(struct hxs_io *io, struct hxs_frame *f, int n)
{
	int done = 0, tries = 0;
	while (done < n && tries++ < 1000) {
		int k = io->ops->tx_submit(io, f + done, n - done);
		done += k > 0 ? k : 0;
		io->ops->flush(io);
	}
	if (done < n)
		io->ops->tx_free(io, f + done, n - done);
	return done;
}

static int reflect(void)
{
	struct hxs_rawudp e = { 0 };
	struct hxs_frame rx[HXS_BATCH], tx[HXS_BATCH];
	uint64_t echoed = 0;
	int err = open_ends(&e, (uint16_t)o.port);

	if (err)
		goto out;
	bool in_place = e.io->flags & HXS_IO_F_RX_TO_TX;
	printf("hxs-xdp-pingpong: reflecting UDP %d on %s (%s mode, %s)\n", o.port, o.ifname,
	       hxs_xsk__mode(e.io), in_place ? "in place" : "copied");
	fflush(stdout);
	while (!stop) {
		int n = e.io->ops->rx_burst(e.io, rx, HXS_BATCH), k = 0, rel = 0;
		struct hxs_frame keep[HXS_BATCH];
		if (n <= 0) {
			e.io->ops->flush(e.io);
			continue;
		}
		for (int i = 0; i < n; i++) {
			uint8_t *f = rx[i].data;
			if (!our_payload(f, rx[i].len, (uint16_t)o.port)) {
				keep[rel++] = rx[i];
				continue;
			}
			swap(f, f + 6, 6);            /* MACs */
			swap(f + 26, f + 30, 4);      /* IPv4 addresses: header checksum unchanged */
			swap(f + 34, f + 36, 2);      /* UDP ports: checksum (0 or not) unchanged */
			if (in_place) {
				tx[k++] = rx[i];
			} else {
				struct hxs_frame t;
				if (e.io->ops->tx_alloc(e.io, &t, 1) == 1) {
					memcpy(t.data, f, rx[i].len);
					t.len = rx[i].len;
					tx[k++] = t;
				}
				keep[rel++] = rx[i];
			}
		}
		if (rel)
			e.io->ops->rx_release(e.io, keep, rel);
		echoed += (uint64_t)submit_all(e.io, tx, k);
	}
	printf("hxs-xdp-pingpong: echoed %llu frames\n", (unsigned long long)echoed);
out:
	hxs_rawudp__close(&e);
	return err ? 1 : 0;
}

static int client(void)
{
	static struct hxs_hist hist;
	struct hxs_rawudp e = { 0 };
	struct hxs_frame f[HXS_BATCH];
	uint8_t tmpl[FRAME_LEN], pmac[6];
	struct in_addr pa;
	uint16_t sport = (uint16_t)(o.port + 1);
	uint64_t seq = 0, lost = 0, rtts = 0, t_end, t0, t1, tx = 0, echoed = 0, echo_total = 0;
	int err;

	if (inet_pton(AF_INET, o.peer, &pa) != 1) {
		fprintf(stderr, "hxs-xdp-pingpong: bad peer address %s\n", o.peer);
		return 2;
	}
	err = open_ends(&e, sport);
	if (err)
		goto out;
	err = hxs_rawudp__resolve(&e, pa.s_addr, pmac);
	if (err)
		goto out;
	build_frame(tmpl, e.nif->mac, pmac, e.nif->addr, pa.s_addr, sport, (uint16_t)o.port);
	hxs_hist_init(&hist);

	/* ping-pong: one frame in flight */
	t0 = hxs_rawudp__now_ns();
	t_end = t0 + (uint64_t)(o.secs * 1e9);
	while (!stop && hxs_rawudp__now_ns() < t_end) {
		struct hxs_frame t;
		if (e.io->ops->tx_alloc(e.io, &t, 1) != 1) {
			e.io->ops->flush(e.io);
			continue;
		}
		memcpy(t.data, tmpl, FRAME_LEN);
		t.len = FRAME_LEN;
		struct pp_payload *p = (struct pp_payload *)(t.data + HXS_RAWUDP_HDR_LEN);
		p->magic = PP_MAGIC;
		p->seq = ++seq;
		uint64_t ts = hxs_rawudp__now_ns();
		p->ts_ns = ts;
		if (submit_all(e.io, &t, 1) != 1)
			continue;
		bool got = false;
		while (!got && !stop) {
			int n = e.io->ops->rx_burst(e.io, f, HXS_BATCH);
			uint64_t now = hxs_rawudp__now_ns();
			for (int i = 0; i < n; i++) {
				struct pp_payload *q = our_payload(f[i].data, f[i].len, sport);
				if (q && q->seq == seq) {
					hxs_hist_add(&hist, now - q->ts_ns);
					rtts++;
					got = true;
				}
			}
			if (n > 0)
				e.io->ops->rx_release(e.io, f, n);
			if (!got && now - ts > LOST_NS) {
				lost++;
				break;
			}
		}
	}
	t1 = hxs_rawudp__now_ns();
	double pp_secs = (double)(t1 - t0) / 1e9;

	/* packet rate: a window of frames in flight */
	t0 = hxs_rawudp__now_ns();
	t_end = t0 + (uint64_t)(o.secs * 1e9);
	uint64_t last_progress = t0;
	while (!stop && hxs_rawudp__now_ns() < t_end) {
		uint64_t inflight = tx - echoed;
		if (inflight + HXS_BATCH <= RATE_WINDOW) {
			int n = e.io->ops->tx_alloc(e.io, f, HXS_BATCH);
			for (int i = 0; i < n; i++) {
				memcpy(f[i].data, tmpl, FRAME_LEN);
				f[i].len = FRAME_LEN;
				struct pp_payload *p = (struct pp_payload *)(f[i].data + HXS_RAWUDP_HDR_LEN);
				p->magic = PP_MAGIC;
				p->seq = 0;
				p->ts_ns = 0;
			}
			if (n > 0)
				tx += (uint64_t)submit_all(e.io, f, n);
			else
				e.io->ops->flush(e.io);
		}
		int n = e.io->ops->rx_burst(e.io, f, HXS_BATCH);
		uint64_t now = hxs_rawudp__now_ns();
		for (int i = 0; i < n; i++)
			if (our_payload(f[i].data, f[i].len, sport)) {
				echoed++;
				echo_total++;
			}
		if (n > 0) {
			e.io->ops->rx_release(e.io, f, n);
			last_progress = now;
		} else if (now - last_progress > LOST_NS) {
			echoed = tx;        /* the window's frames are lost: open it again */
			last_progress = now;
		}
	}
	t1 = hxs_rawudp__now_ns();
	double rate_secs = (double)(t1 - t0) / 1e9;
	double rtp = pp_secs > 0 ? (double)rtts / pp_secs : 0;
	double txpps = rate_secs > 0 ? (double)tx / rate_secs : 0;
	double echo_pps = rate_secs > 0 ? (double)echo_total / rate_secs : 0;
	double p50 = hxs_hist_quantile(&hist, 0.5) / 1e3, p99 = hxs_hist_quantile(&hist, 0.99) / 1e3;
	double p999 = hxs_hist_quantile(&hist, 0.999) / 1e3;
	double mean = hist.count ? (double)hist.sum_ns / (double)hist.count / 1e3 : 0;

	if (o.json)
		printf("{\"mode\":\"xdp-pingpong\",\"frame_bytes\":%d,\"xsk_mode\":\"%s\",\"busy_poll\":true,"
		       "\"duration_s\":%.3f,\"roundtrips\":%llu,\"roundtrips_per_s\":%.1f,\"lost\":%llu,"
		       "\"rtt_us\":{\"p50\":%.2f,\"p99\":%.2f,\"p999\":%.2f,\"mean\":%.2f},"
		       "\"rate_window\":%d,\"tx_pps\":%.0f,\"echo_pps\":%.0f}\n",
		       FRAME_LEN, hxs_xsk__mode(e.io), pp_secs, (unsigned long long)rtts, rtp,
		       (unsigned long long)lost, p50, p99, p999, mean, RATE_WINDOW, txpps, echo_pps);
	else
		printf("hxs-xdp-pingpong: %d-byte frames, %s mode, busy spinning\n"
		       "  ping-pong: %llu round trips in %.2f s = %.0f/s, rtt p50 %.2f us p99 %.2f us "
		       "p999 %.2f us mean %.2f us, %llu lost\n"
		       "  rate: %.0f frames/s sent, %.0f/s echoed (window %d)\n",
		       FRAME_LEN, hxs_xsk__mode(e.io), (unsigned long long)rtts, pp_secs, rtp, p50, p99,
		       p999, mean, (unsigned long long)lost, txpps, echo_pps, RATE_WINDOW);
	err = rtts ? 0 : -ETIMEDOUT;
	if (!rtts)
		fprintf(stderr, "hxs-xdp-pingpong: no echo came back from %s\n", o.peer);
out:
	hxs_rawudp__close(&e);
	return err ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hxs-xdp-pingpong -i IFACE --reflect [-p PORT]\n"
		   "       hxs-xdp-pingpong -i IFACE -c PEER_IP [-p PORT] [-t SECONDS] [--json]\n"
		   "  -p PORT   UDP port the reflector serves (client uses PORT+1); default 5301\n"
		   "  -t S      seconds of ping-pong, then as many of packet rate; default 3\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "reflect", no_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "i:c:p:t:h", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o.ifname = optarg; break;
		case 'c': o.peer = optarg; break;
		case 'p': o.port = atoi(optarg); break;
		case 't': o.secs = atof(optarg); break;
		case 'R': o.reflect = true; break;
		case 'J': o.json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!o.ifname || (!o.reflect && !o.peer) || o.port <= 0 || o.port >= 65535) {
		usage(stderr);
		return 2;
	}
	hxs_prog__catch_stop(&stop, HXS_PROG_RESTART);   /* as signal() */
	return o.reflect ? reflect() : client();
}
