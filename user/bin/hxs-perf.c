/* hxs-perf - the same network workloads on hxs and on kernel sockets (--kernel), so either
 * stack can be measured against the other and any pairing of the two interoperates.
 *
 *   server: hxs-perf -s [-i IFACE] [-p PORT] [--kernel] [--busy-poll] [--napi-cpu CPU]
 *   client: hxs-perf -c ADDR [-i IFACE] [-p PORT] -m stream|rr|crr|udp [-t S] [-n COUNT]
 *                    [-l BYTES] [-P CONNS] [--reverse | --bidir] [--seed N] [--json] [--kernel]
 *                    [--busy-poll] [--napi-cpu CPU]
 *
 * -t runs for a time (a measurement: make bench); -n runs an exact amount of work, so a test
 * can check the counts: stream COUNT payload bytes per connection, rr COUNT transactions per
 * connection, crr COUNT connections in all, udp COUNT answered datagrams per socket; -t is
 * then the time limit (default 60 s), and not finishing within it is an error. --seed fixes
 * the payload's seed (connection slot i gets seed + i * 0x100000001, crr adds its count), so
 * two runs send and verify the same byte streams.
 *
 * Wire protocol and payload: user/app/appperf.h; the run itself: user/app/perfrun.h (loop:
 * perfloop.c, TCP modes: perftcp.c, udp: perfudp.c, output: perfreport.c). One thread,
 * non-blocking sockets, one event loop:
 *   main() -> hxs_perf_server_setup() | hxs_perf_tcp_start() / hxs_perf_udp_client_setup()
 *     -> hxs_perf_loop() -> hxs_appnet_epoll_wait()
 *     -> hxs_perf_tcp_event() -> conn_step(c): advance c's state machine until the socket would block
 *          stream sender:   SEND -> TRAILER -> (shutdown WR) REPORT_IN -> DRAIN -> closed
 *          stream receiver: RECV (verify) -> EOF -> REPORT_OUT -> closed
 *          stream --bidir:  BIDIR, both ends: bidir_tx() PAYLOAD -> END (mark + trailer) ->
 *                           WAIT (peer's trailer in) -> REPORT -> shutdown WR, and bidir_rx()
 *                           verifies until the end mark, takes trailer + report, then EOF
 *          rr/crr client:   CONNECTING -> REQ -> RESP -> REQ ... -> DRAIN -> closed
 *          rr/crr server:   HDR -> ECHO -> closed (crr: after one message)
 *     -> hxs_perf_udp_*(): echo (server) / send, match sequence numbers, retry on timeout (client)
 * Exit status: 0 when every connection completed and verified, 1 otherwise (stderr says why).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/appnet.h"
#include "app/appperf.h"
#include "app/perfrun.h"
#include "app/prog.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: hxs-perf -s [-i IFACE] [-p PORT] [--kernel] [--busy-poll] [--napi-cpu CPU]\n"
		"       hxs-perf -c ADDR [-i IFACE] [-p PORT] -m stream|rr|crr|udp [-t SECONDS] [-n COUNT]\n"
		"                [-l BYTES] [-P CONNS] [--reverse | --bidir] [--seed N] [--json] [--kernel]\n"
		"                [--busy-poll] [--napi-cpu CPU]\n"
		"  -i IFACE     interface hxs runs on (not needed with --kernel)\n"
		"  --napi-cpu CPU  threaded NAPI on IFACE while running, its threads on CPU (or\n"
		"               any); --kernel: IFACE needs NAPI (GRO on); a busy loop yields when idle\n"
		"  -p PORT      TCP and UDP port (default %d)\n"
		"  -t SECONDS   run time (default 5); with -n the time limit (default 60)\n"
		"  -n COUNT     exact work instead of a time: stream bytes per connection, rr\n"
		"               transactions per connection, crr connections, udp datagrams per socket\n"
		"  -l BYTES     rr/crr/udp message size (default 64)\n"
		"  -P CONNS     concurrent connections (default 1)\n"
		"  --reverse    stream: the server sends, the client verifies\n"
		"  --bidir      stream: both send at once on each connection, each verifies what it\n"
		"               receives (-n: COUNT bytes each way)\n"
		"  --seed N     the payload's seed (default: from the clock and pid): two runs with\n"
		"               the same N send the same bytes\n"
		"  --json       one JSON object on stdout\n", HXS_PERF_PORT);
	exit(2);
}

static int parse_mode(const char *s)
{
	if (!strcmp(s, "stream")) return HXS_PERF_STREAM;
	if (!strcmp(s, "rr")) return HXS_PERF_RR;
	if (!strcmp(s, "crr")) return HXS_PERF_CRR;
	if (!strcmp(s, "udp")) return HXS_PERF_UDP;
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		HXS_PROG_OPT_KERNEL,
		HXS_PROG_OPT_BUSY_POLL,
		HXS_PROG_OPT_NAPI_CPU,
		{ "reverse", no_argument, NULL, 'R' },
		{ "bidir", no_argument, NULL, 'B' },
		{ "json", no_argument, NULL, 'J' },
		{ "seed", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	double dur;
	int opt, err, i, m;

	while ((opt = getopt_long(argc, argv, "sc:i:p:m:t:n:l:P:vh", lopts, NULL)) != -1) {
		if (hxs_prog__opt(&hxs_perf.prog, opt, optarg) > 0)  /* -i -p -v --kernel --busy-poll */
			continue;
		switch (opt) {
		case 's': hxs_perf.o.server = true; break;
		case 'c': hxs_perf.o.addr = optarg; break;
		case 'm':
			if ((m = parse_mode(optarg)) < 0)
				usage();
			hxs_perf.o.mode = m;
			break;
		case 't': hxs_perf.o.secs = atof(optarg); hxs_perf.o.secs_given = true; break;
		case 'n': hxs_perf.o.count = strtoull(optarg, NULL, 10); if (!hxs_perf.o.count) usage(); break;
		case 'l': hxs_perf.o.msg_len = (uint32_t)atol(optarg); break;
		case 'P': hxs_perf.o.conns = atoi(optarg); break;
		case 'R': hxs_perf.o.reverse = true; break;
		case 'B': hxs_perf.o.bidir = true; break;
		case 'J': hxs_perf.o.json = true; break;
		case 'S': hxs_perf.o.seed = strtoull(optarg, NULL, 0); hxs_perf.o.seed_given = true; break;
		default: usage();
		}
	}
	hxs_perf.o.port = (int)hxs_perf.prog.port;        /* as atoi() reads it */
	if (hxs_perf.o.count && !hxs_perf.o.secs_given)
		hxs_perf.o.secs = 60;
	if (hxs_perf.o.server == !!hxs_perf.o.addr || optind != argc || hxs_perf.o.port <= 0 || hxs_perf.o.port > 65535 || hxs_perf.o.conns < 1 ||
	    hxs_perf.o.conns > 4096 || !(hxs_perf.o.secs > 0) || hxs_perf.o.msg_len == 0 || hxs_perf.o.msg_len > HXS_PERF_MAX_MSG ||
	    (!hxs_perf.prog.kernel && !hxs_perf.prog.stack.ifname) ||
	    (hxs_perf.o.bidir && (hxs_perf.o.mode != HXS_PERF_STREAM || hxs_perf.o.reverse || hxs_perf.o.server)))
		usage();
	if (!hxs_perf.o.server && hxs_appnet_parse_addr(hxs_perf.o.addr, (uint16_t)hxs_perf.o.port, &hxs_perf.dst)) {
		fprintf(stderr, "hxs-perf: %s is not an IPv4 address\n", hxs_perf.o.addr);
		return 2;
	}
	hxs_prog__raise_nofile();
	hxs_prog__catch_stop(&hxs_perf.stopping, HXS_PROG_NO_SIGPIPE);
	hxs_perf.scratch = malloc(HXS_PERF_RX_CAP);
	if (!hxs_perf.scratch)
		return 1;

	if (hxs_prog__open_appnet(&hxs_perf.prog, &hxs_perf.an))
		return 1;
	hxs_perf.epfd = hxs_appnet_epoll_create(hxs_perf.an);
	if (hxs_perf.epfd < 0) {
		fprintf(stderr, "hxs-perf: epoll_create: %s\n", strerror(-hxs_perf.epfd));
		hxs_appnet__close(hxs_perf.an, NULL);
		return 1;
	}
	if (hxs_perf.o.server) {
		const char *ip = "[::]";

		err = hxs_perf_server_setup();
		if (err) {
			fprintf(stderr, "hxs-perf: server on port %d: %s\n", hxs_perf.o.port, strerror(-err));
			goto out;
		}
		hxs_prog__ready(&hxs_perf.prog, "server", "%s:%d %s (%s)", ip, hxs_perf.o.port,
				hxs_perf.lfd >= 0 ? "tcp+udp" : "udp", hxs_appnet__describe(hxs_perf.an));
		err = hxs_perf_loop();
		hxs_perf_report_server();
		goto out;
	}

	hxs_hist_init(&hxs_perf.res.hist);
	hxs_perf.res.all_verified = true;
	hxs_perf.res.first_mismatch = UINT64_MAX;
	hxs_perf.res.out_ok = hxs_perf.res.in_ok = true;
	hxs_perf.res.out_mismatch = hxs_perf.res.in_mismatch = UINT64_MAX;
	hxs_perf.seed_base = hxs_perf.o.seed_given ? hxs_perf.o.seed : hxs_appnet_now_ns() ^ ((uint64_t)getpid() << 32);
	hxs_perf.res.t_start = hxs_appnet_now_ns();
	hxs_perf.cpu_start = hxs_perf_cpu_seconds();
	hxs_perf.end_ns = hxs_perf.res.t_start + (uint64_t)(hxs_perf.o.secs * 1e9);
	if (hxs_perf.o.mode == HXS_PERF_UDP) {
		err = hxs_perf_udp_client_setup();
		if (err) {
			fprintf(stderr, "hxs-perf: udp client: %s\n", strerror(-err));
			hxs_perf.res.errors++;
			goto out;
		}
	} else {
		for (i = 0; i < hxs_perf.o.conns; i++)
			hxs_perf_tcp_start(i);
	}
	err = hxs_perf_loop();
	if (!hxs_perf.res.t_end)
		hxs_perf.res.t_end = hxs_appnet_now_ns();
	dur = (double)(hxs_perf.res.t_end - hxs_perf.res.t_start) / 1e9;
	if (hxs_perf.o.mode == HXS_PERF_STREAM)  /* until the last byte arrived, not until -t */
		dur = (double)(hxs_appnet_now_ns() - hxs_perf.res.t_start) / 1e9;
	hxs_perf_report_client(dur);
	if (hxs_perf.o.mode != HXS_PERF_STREAM && hxs_perf.res.txns == 0) {
		fprintf(stderr, "hxs-perf: no transaction completed\n");
		err = err ? err : -EIO;
	}
	if (hxs_perf.o.mode == HXS_PERF_STREAM && !hxs_perf.res.bytes_recv) {
		fprintf(stderr, "hxs-perf: no payload arrived\n");
		err = err ? err : -EIO;
	}
out:
	if (hxs_perf.uslots)
		for (i = 0; i < hxs_perf.o.conns; i++)
			if (hxs_perf.uslots[i].fd > 0)
				hxs_appnet_close(hxs_perf.an, hxs_perf.uslots[i].fd);
	if (hxs_perf.lfd >= 0)
		hxs_appnet_close(hxs_perf.an, hxs_perf.lfd);
	if (hxs_perf.ufd >= 0)
		hxs_appnet_close(hxs_perf.an, hxs_perf.ufd);
	hxs_appnet_epoll_close(hxs_perf.an, hxs_perf.epfd);
	hxs_appnet__close(hxs_perf.an, hxs_perf.o.json ? stderr : stdout);   /* JSON: one object on stdout */
	free(hxs_perf.scratch);
	if (err || hxs_perf.res.errors || (!hxs_perf.o.server && !hxs_perf.res.all_verified))
		return 1;
	return 0;
}
