/* test_tcp_hystart_sim.c - HyStart++ (RFC 9406) in the two-core simulator (netsim, virtual
 * time): a bulk transfer through a bottleneck whose queue builds up.
 *
 * The path: 10 ms each way, 50 Mbit/s behind a 2 MiB tail-drop queue, no random loss,
 * duplication or reordering. BDP = 50 Mbit/s x 20 ms = 125000 bytes; the queue overflows when
 * more than BDP + 2 MiB = 2222152 bytes are in flight. A sends 8 MiB of a seeded pattern
 * (buffers of 8 MiB: only cwnd limits the flight), then shuts down; B reads and checks every
 * byte, then shuts down; both close, and the run ends when both cores are empty.
 *
 * Checked, for each run: the 8 MiB arrive exact, both cores end empty with every frame freed.
 *   HyStart++ on (CUBIC, NewReno): CSS is entered only once the pipe is full (cwnd above the
 *     BDP: the RTT grows with the queue); the initial slow start ends by delay (hs.state DONE)
 *     with ssthresh = cwnd below BDP + queue, before any loss; no frame is dropped at the
 *     queue in the whole run and nothing is retransmitted (TcpRetransSegs 0, drops 0).
 *   HyStart++ off (cfg.no_hystart, CUBIC): classic slow start doubles cwnd past BDP + queue:
 *     the queue drops frames, loss recovery retransmits them, ssthresh comes from the loss.
 * Seen here (each run prints a # line): CSS first at cwnd 214304, back to slow start within that round (the
 * later samples of a slow-start round find the queue drained: §4.2's spurious-exit test), CSS
 * again at 384444, five CSS rounds (x1.25 each) to ssthresh = cwnd = 1135956; with HyStart++
 * off the first loss comes at cwnd 4047505, 1402 frames dropped.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "tcp_harness.h"

#define XFER (8u << 20)
#define DELAY_US 10000
#define BW_BPS 50000000ull
#define QUEUE (2u << 20)
#define BDP ((uint32_t)(BW_BPS / 8 * 2 * DELAY_US / 1000000))

struct outcome {
	int done;                       /* B read all and both closed */
	uint64_t rcvd;                  /* bytes B read, all matching the pattern */
	int bad;                        /* pattern mismatches */
	double data_s;                  /* virtual time when B had read all XFER bytes */
	uint32_t css_cwnd;              /* cwnd when A's HyStart++ first entered CSS; 0: never */
	uint32_t exit_cwnd;             /* cwnd when ssthresh first became finite */
	uint32_t exit_ssthresh;
	uint8_t exit_state;             /* A's hs.state then */
	uint64_t retrans_at_exit;       /* A's TcpRetransSegs then */
	uint64_t retrans, drops;        /* A's TcpRetransSegs, the A -> B queue's drops: at the end */
	uint64_t frames_alloc, frames_freed;
	int conns_left;
};

static void run(const char *cc, int hystart, struct outcome *o)
{
	struct netsim_cfg nc;
	struct hxs_tcp_cfg cfg;
	struct hxs_tcp_conn *l, *a, *b = NULL;
	uint8_t buf[16384];
	uint64_t sent = 0;
	int a_shut = 0, b_shut = 0, a_closed = 0, b_closed = 0, seen_exit = 0;

	memset(o, 0, sizeof(*o));
	memset(&nc, 0, sizeof(nc));
	for (int d = 0; d < 2; d++) {
		nc.dir[d].delay_us = DELAY_US;
		nc.dir[d].bandwidth_bps = BW_BPS;
		nc.dir[d].queue_bytes = QUEUE;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.cc = cc;
	cfg.no_hystart = (uint8_t)!hystart;
	cfg.sndbuf = 8u << 20;          /* neither buffer limits the flight: cwnd does */
	cfg.rcvbuf = 8u << 20;
	struct sim *s = sim_new(&nc, 1, &cfg, NULL);
	CHECK(hxs_tcp_conn__new(s->tcp[1], &l) == 0);
	CHECK(hxs_tcp_conn__listen(l, 0, 80, 16) == 0);
	CHECK(hxs_tcp_conn__new(s->tcp[0], &a) == 0);
	CHECK(hxs_tcp_conn__connect(a, s->addr[0], TS_EPORT, s->addr[1], 80, 0) == 0);
	while (s->now < 300ull * 1000000) {
		if (!b && hxs_tcp_conn__accept(l, &b) != 0)
			b = NULL;
		/* A: the pattern, then FIN; EOF from B, then close */
		while (!a_closed && sent < XFER) {
			uint32_t n = XFER - sent < sizeof(buf) ? (uint32_t)(XFER - sent) : sizeof(buf);
			uint32_t space = hxs_tcp_conn__tx_space(a);
			long r;

			if (n > space)
				n = space;
			if (!n)
				break;
			pattern_fill(7, sent, buf, n);
			r = hxs_tcp_conn__send(a, buf, n);
			if (r <= 0)
				break;
			sent += (uint64_t)r;
		}
		if (sent == XFER && !a_shut) {
			hxs_tcp_conn__shutdown(a, SHUT_WR);
			a_shut = 1;
		}
		if (!a_closed && hxs_tcp_conn__recv(a, buf, sizeof(buf), 0) == 0) {
			hxs_tcp_conn__close(a);
			a_closed = 1;
		}
		/* B: reads and checks, then shuts down after the EOF and closes */
		for (long r; b && !b_closed && (r = hxs_tcp_conn__recv(b, buf, sizeof(buf), 0)) >= 0;) {
			if (r == 0) {
				if (!b_shut) {
					hxs_tcp_conn__shutdown(b, SHUT_WR);
					b_shut = 1;
				}
				hxs_tcp_conn__close(b);
				b_closed = 1;
				break;
			}
			if (pattern_check(7, o->rcvd, buf, (uint32_t)r) >= 0)
				o->bad++;
			o->rcvd += (uint64_t)r;
			if (o->rcvd == XFER)
				o->data_s = (double)s->now / 1e6;
		}
		if (!a_closed && !o->css_cwnd && a->cc.hs.state == HXS_HS_CSS)
			o->css_cwnd = a->cc.cwnd;
		if (!a_closed && !seen_exit && a->cc.ssthresh != UINT32_MAX) {
			seen_exit = 1;
			o->exit_cwnd = a->cc.cwnd;
			o->exit_ssthresh = a->cc.ssthresh;
			o->exit_state = a->cc.hs.state;
			o->retrans_at_exit = hxs_tcp__mib(s->tcp[0])[HXS_TCP_MIB_TcpRetransSegs];
		}
		if (a_closed && b_closed && l) {
			hxs_tcp_conn__close(l);
			l = NULL;
		}
		if (!sim_step(s, 300ull * 1000000))
			break;
	}
	o->done = a_closed && b_closed;
	o->retrans = hxs_tcp__mib(s->tcp[0])[HXS_TCP_MIB_TcpRetransSegs];
	o->drops = netsim_stats(s->ns, 0)->queue_drops;
	o->frames_alloc = s->frames_alloc;
	o->frames_freed = s->frames_freed;
	o->conns_left = (int)(hxs_tcp__nconns(s->tcp[0]) + hxs_tcp__nconns(s->tcp[1]));
	printf("#   %s, HyStart++ %s: CSS at cwnd %u, exit cwnd %u ssthresh %u state %u (retrans %llu then), "
	       "retrans %llu, queue drops %llu, data in at %.3f s, done at %.3f s\n", cc, hystart ? "on" : "off",
	       o->css_cwnd, o->exit_cwnd, o->exit_ssthresh, o->exit_state, (unsigned long long)o->retrans_at_exit,
	       (unsigned long long)o->retrans, (unsigned long long)o->drops, o->data_s, (double)s->now / 1e6);
	sim_free(s);
}

static void check_common(const struct outcome *o)
{
	CHECK(o->done, "the transfer did not complete");
	CHECK_EQ(o->rcvd, XFER);
	CHECK_EQ(o->bad, 0);
	CHECK_EQ(o->conns_left, 0);
	CHECK_EQ(o->frames_alloc, o->frames_freed);
}

static void check_hystart_exit(const struct outcome *o)
{
	/* RFC 9406 §4.2: CSS_ROUNDS rounds of CSS end in "ssthresh = cwnd", with no loss */
	CHECK(o->css_cwnd > BDP, "CSS at cwnd %u, before the pipe (BDP %u) was full", o->css_cwnd, BDP);
	CHECK_EQ(o->exit_state, HXS_HS_DONE);
	CHECK_EQ(o->exit_ssthresh, o->exit_cwnd);
	CHECK_EQ(o->retrans_at_exit, 0);
	CHECK(o->exit_cwnd > BDP && o->exit_cwnd < BDP + QUEUE,
	      "exit cwnd %u outside (BDP %u, BDP + queue %u)", o->exit_cwnd, BDP, BDP + QUEUE);
	/* and the whole transfer without a drop at the bottleneck */
	CHECK_EQ(o->drops, 0);
	CHECK_EQ(o->retrans, 0);
}

int main(void)
{
	struct outcome o;

	t_case("CUBIC, HyStart++ on: 8 MiB exact, slow start left by delay below BDP + queue, no drop, no retransmission");
	run("cubic", 1, &o);
	check_common(&o);
	check_hystart_exit(&o);

	t_case("NewReno, HyStart++ on: 8 MiB exact, slow start left by delay below BDP + queue, no drop, no retransmission");
	run("newreno", 1, &o);
	check_common(&o);
	check_hystart_exit(&o);

	t_case("CUBIC, HyStart++ off (cfg.no_hystart): 8 MiB exact; slow start overflows the queue, drops repaired");
	run("cubic", 0, &o);
	check_common(&o);
	CHECK(o.drops > 0, "classic slow start did not overflow the queue");
	CHECK(o.retrans > 0 && o.retrans_at_exit > 0, "retransmissions %llu (%llu at the exit)",
	      (unsigned long long)o.retrans, (unsigned long long)o.retrans_at_exit);
	CHECK_EQ(o.css_cwnd, 0);          /* HyStart++ never ran */
	CHECK(o.exit_state != HXS_HS_DONE);
	return t_done();
}
