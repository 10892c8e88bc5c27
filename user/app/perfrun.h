/* perfrun.h - one run of hxs-perf: its options, its totals, its sockets, and the entry points
 * of the files that carry it out (the protocol itself: appperf.h).
 *
 *   user/bin/hxs-perf.c  options -> hxs_perf.o, main()
 *   perfrun.c            the global hxs_perf and its defaults
 *   perfloop.c           hxs_perf_server_setup(), hxs_perf_loop() -> dispatch()
 *   perftcp.c            stream / rr / crr / --bidir connections: hxs_perf_tcp_start(),
 *                        hxs_perf_tcp_accept(), hxs_perf_tcp_event() -> conn_step()
 *   perfudp.c            udp mode: hxs_perf_udp_client_*(), hxs_perf_udp_server_rx()
 *   perfreport.c         hxs_perf_report_client() (text or JSON), hxs_perf_report_server()
 * One thread: the whole run is the one global hxs_perf.
 */
#ifndef HXS_PERFRUN_H
#define HXS_PERFRUN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include "appnet.h"
#include "appperf.h"
#include "prog.h"

#define HXS_PERF_RX_CAP (256 * 1024)    /* receive scratch buffer */

/* Tags for epoll data that are not connections. */
#define HXS_PERF_TAG_LISTEN 1u
#define HXS_PERF_TAG_UDP    2u

struct hxs_perf_opts {
	bool server, json, reverse, bidir;
	const char *addr;
	int port;
	enum hxs_perf_mode mode;
	double secs;
	bool secs_given;
	uint64_t count;         /* -n: exact work (0: run for -t) */
	uint64_t seed;          /* --seed: the payload's seed base */
	bool seed_given;
	uint32_t msg_len;
	int conns;
};

/* UDP client: one socket per -P slot, one datagram in flight each. */
struct hxs_perf_uslot {
	int fd;
	uint64_t seq, sent_ns;
	uint64_t done;          /* answered datagrams */
};

struct hxs_perf_run {
	struct hxs_perf_opts o;
	/* Client totals. */
	struct {
		uint64_t bytes_sent, bytes_recv, txns, conns_done, retrans, udp_lost, udp_late;
		uint64_t errors, t_start, t_end;
		bool all_verified;
		uint64_t first_mismatch;
		struct hxs_hist hist;
		uint64_t peer_bytes, peer_retrans;
		/* --bidir, per direction: bytes the receiver got, and whether every stream verified */
		uint64_t peer_recv;
		bool out_ok, in_ok;
		uint64_t out_mismatch, in_mismatch;
	} res;
	/* Server totals. */
	struct {
		uint64_t accepted, closed, streams_ok, streams_bad, rr_txn_bytes, crr, udp_in,
			 udp_bad, errors;
	} srv;
	struct hxs_prog prog;
	struct hxs_appnet *an;
	int epfd, lfd, ufd;
	struct sockaddr_in6 dst;
	uint8_t *scratch;
	volatile sig_atomic_t stopping;
	uint64_t seed_base;
	int active;                     /* client: connections still running */
	uint64_t crr_started;           /* client, -n: crr connections started */
	int udp_slots_done;             /* client, -n: UDP sockets that have their count */
	bool client_stop;               /* client: -t elapsed, start no new work */
	uint64_t end_ns;                /* client: -t deadline */
	uint64_t accept_resume_ns;      /* server: accepts paused until (0: not paused) */
	struct hxs_perf_uslot *uslots;  /* udp client: o.conns slots */
	double cpu_start;               /* client: hxs_perf_cpu_seconds() at the start */
};
extern struct hxs_perf_run hxs_perf;

/* perfloop.c */
int  hxs_perf_server_setup(void);
int  hxs_perf_loop(void);
/* perftcp.c */
void hxs_perf_tcp_start(int slot);
void hxs_perf_tcp_accept(void);
void hxs_perf_tcp_event(uint64_t data);
/* perfudp.c */
int  hxs_perf_udp_client_setup(void);
void hxs_perf_udp_client_rx(int i);
void hxs_perf_udp_client_timeouts(void);
void hxs_perf_udp_server_rx(void);
/* perfreport.c */
double hxs_perf_cpu_seconds(void);
void hxs_perf_report_client(double dur);
void hxs_perf_report_server(void);

#endif
