/* test_tcp_bbr.c - BBR, delivery-rate samples and pacing: two TCP cores over the deterministic
 * link (netsim) in virtual time, A sending a stream to B (verified byte for byte).
 *
 * Checked: BBR fills a clean link (goodput near the bottleneck rate, the STARTUP -> DRAIN ->
 * PROBE_BW path taken, the bw estimate near the link rate); under 1 % and 5 % random loss BBR
 * keeps several times CUBIC's goodput (same link, same seeds); the gaps between A's data
 * segments in PROBE_BW match the pacing rate the core paced at; PROBE_RTT comes after the
 * 10 s min-RTT window and holds in flight to 4 segments; CUBIC with the stack's pacing on is
 * paced at 120 % of cwnd / SRTT (names and errors: test_tcp_cc.c, tests/pkt/cc/).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tcp_harness.h"

struct bulk {
	/* in */
	const char *cc;
	uint64_t bw_bps, delay_us;
	double loss;
	uint64_t seed;
	uint64_t xfer;              /* bytes A sends */
	uint64_t max_us;            /* give up after */
	uint8_t pacing;             /* the stack's pacing setting */
	uint8_t timed;              /* run for max_us and measure (else: until xfer arrived) */
	uint64_t rcvd;
	/* out */
	int ok;
	double secs;                /* when B had every byte */
	double mbps;                /* goodput */
	uint8_t modes_seen;         /* bit per BBR mode observed */
	uint64_t probe_rtt_at;      /* first time seen in PROBE_RTT (us), 0: never */
	uint32_t probe_rtt_max_flight; /* the most in flight while PROBE_RTT held cwnd */
	uint64_t bw_est;            /* BBR's max bw filter at the end, bytes/s */
	uint64_t pacing_rate;       /* A's rate at the end */
	/* pacing check: A's data segments in PROBE_BW with gain 1 */
	uint64_t gap_bytes, gap_us; /* sum of segment bytes and of the time they spanned */
	uint64_t gap_rate_sum, gap_n; /* the pacing rates they were sent at */
	uint64_t retrans;
	uint8_t max_cycle_idx;      /* bit per PROBE_BW phase seen */
};

static void bulk_run(struct bulk *b)
{
	struct netsim_cfg nc;
	struct hxs_tcp_cfg cfg;
	struct sim *s;
	struct hxs_tcp_conn *l, *a, *bc = NULL;
	uint64_t sent = 0, rcvd = 0, last_tx = 0, last_nxt = 0;
	uint8_t buf[65536];
	int ok = 1, bad = 0;

	memset(&nc, 0, sizeof(nc));
	for (int d = 0; d < 2; d++) {
		nc.dir[d].delay_us = b->delay_us;
		nc.dir[d].bandwidth_bps = b->bw_bps;
		nc.dir[d].queue_bytes = 1024 * 1024;
		nc.dir[d].loss = b->loss;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.cc = b->cc;
	cfg.pacing = b->pacing;
	cfg.sndbuf = 4u << 20;
	cfg.rcvbuf = 4u << 20;
	s = sim_new(&nc, b->seed, &cfg, NULL);
	ok &= CHECK(hxs_tcp_conn__new(s->tcp[1], &l) == 0);
	ok &= CHECK(hxs_tcp_conn__listen(l, 0, 80, 16) == 0);
	ok &= CHECK(hxs_tcp_conn__new(s->tcp[0], &a) == 0);
	ok &= CHECK(hxs_tcp_conn__connect(a, s->addr[0], TS_EPORT, s->addr[1], 80, 0) == 0);
	b->secs = -1;
	while (s->now < b->max_us && (b->timed || rcvd < b->xfer)) {
		if (!bc)
			hxs_tcp_conn__accept(l, &bc);
		while (sent < b->xfer) {
			uint64_t want = b->xfer - sent;
			uint32_t n = hxs_tcp_conn__tx_space(a);
			if (n > sizeof(buf))
				n = sizeof(buf);
			if (n > want)
				n = (uint32_t)want;
			if (!n)
				break;
			pattern_fill(b->seed, sent, buf, n);
			long r = hxs_tcp_conn__send(a, buf, n);
			if (r <= 0)
				break;
			sent += (uint64_t)r;
		}
		while (bc) {
			long r = hxs_tcp_conn__recv(bc, buf, sizeof(buf), 0);
			if (r <= 0)
				break;
			if (pattern_check(b->seed, rcvd, buf, (uint32_t)r) >= 0)
				bad = 1;
			rcvd += (uint64_t)r;
		}
		if (a->cc.ops == &hxs_cc_bbr) {
			const struct hxs_bbr *m = &a->cc.u.bbr;

			b->modes_seen |= (uint8_t)(1u << m->mode);
			b->max_cycle_idx |= (uint8_t)(1u << m->cycle_idx);
			if (m->mode == 3) {
				uint32_t fl = SEQ_DIFF(a->snd_max, a->snd_una);

				if (!b->probe_rtt_at)
					b->probe_rtt_at = s->now;
				if (m->probe_rtt_done_stamp && fl > b->probe_rtt_max_flight)
					b->probe_rtt_max_flight = fl;
			}
			/* new data A sent since the last step, in steady PROBE_BW at gain 1 */
			if (m->mode == 2 && m->pacing_gain == 256 && SEQ_GT(a->snd_max, last_nxt) &&
			    last_tx && a->segs_out > 1000 && !a->recovery) {
				b->gap_bytes += SEQ_DIFF(a->snd_max, last_nxt);
				b->gap_us += s->now - last_tx;
				b->gap_rate_sum += a->cc.pacing_rate;
				b->gap_n++;
			}
		}
		if (a->cc.ops != &hxs_cc_bbr && b->pacing && SEQ_GT(a->snd_max, last_nxt) && last_tx &&
		    a->segs_out > 1000 && !a->recovery && a->cc.cwnd >= a->cc.ssthresh) {
			b->gap_bytes += SEQ_DIFF(a->snd_max, last_nxt);
			b->gap_us += s->now - last_tx;
			b->gap_rate_sum += hxs_tcp_pacing_rate(a);
			b->gap_n++;
		}
		if (SEQ_GT(a->snd_max, last_nxt) || !last_tx) {
			last_nxt = a->snd_max;
			last_tx = s->now;
		}
		if (!sim_step(s, b->max_us))
			break;
	}
	b->secs = (double)s->now / 1e6;
	b->rcvd = rcvd;
	b->mbps = b->secs > 0 ? (double)rcvd * 8 / b->secs / 1e6 : 0;
	if (a->cc.ops == &hxs_cc_bbr)
		b->bw_est = a->cc.u.bbr.bw[0].v;
	b->pacing_rate = a->cc.pacing_rate;
	b->retrans = hxs_tcp__mib(s->tcp[0])[HXS_TCP_MIB_TcpRetransSegs];
	ok &= CHECK(!bad, "pattern mismatch");
	if (!b->timed)
		ok &= CHECK_EQ(rcvd, b->xfer);
	if (getenv("BBR_DEBUG"))
		printf("#   %s loss %.2f: %.3f s %.1f Mbit/s modes %#x bw %.1f Mbit/s pacing %.1f Mbit/s "
		       "retrans %llu cwnd %u min_rtt %u\n", b->cc, b->loss, b->secs, b->mbps,
		       b->modes_seen, b->bw_est * 8 / 1e6, b->pacing_rate * 8 / 1e6,
		       (unsigned long long)b->retrans, a->cc.cwnd,
		       a->cc.ops == &hxs_cc_bbr ? a->cc.u.bbr.min_rtt_us : 0);
	hxs_tcp_conn__abort(a);
	if (bc)
		hxs_tcp_conn__abort(bc);
	hxs_tcp_conn__close(a);
	if (bc)
		hxs_tcp_conn__close(bc);
	hxs_tcp_conn__close(l);
	sim_free(s);
	b->ok = ok;
}

/* Goodput of cc over the same lossy link and seeds, Mbit/s, median of 3 seeds. */
static double lossy(const char *cc, double loss)
{
	double v[3], t;

	for (int i = 0; i < 3; i++) {
		struct bulk b = { .cc = cc, .bw_bps = 100000000, .delay_us = 5000, .loss = loss,
				  .seed = 100 + (uint64_t)i, .xfer = 1ull << 40, .max_us = 10000000,
				  .timed = 1 };
		bulk_run(&b);
		CHECK(b.ok);
		v[i] = b.mbps;
	}
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2 - i; j++)
			if (v[j] > v[j + 1]) {
				t = v[j];
				v[j] = v[j + 1];
				v[j + 1] = t;
			}
	printf("#   %s at %.0f %% loss: %.1f %.1f %.1f Mbit/s\n", cc, loss * 100, v[0], v[1], v[2]);
	return v[1];
}

int main(void)
{
	struct bulk b;
	double bbr, cubic;

	t_case("BBR on a clean 100 Mbit/s, 10 ms link: STARTUP, DRAIN, PROBE_BW (every phase); goodput >= 90 % of the link");
	b = (struct bulk){ .cc = "bbr", .bw_bps = 100000000, .delay_us = 5000, .seed = 1,
			   .xfer = 40u << 20, .max_us = 60000000 };
	bulk_run(&b);
	CHECK(b.ok);
	CHECK(b.mbps >= 90, "%.1f Mbit/s", b.mbps);
	CHECK_EQ(b.modes_seen & 7, 7);
	CHECK_EQ(b.max_cycle_idx, 0xff);
	CHECK(b.bw_est * 8 >= 90000000ull && b.bw_est * 8 <= 101000000ull, "bw %llu B/s",
	      (unsigned long long)b.bw_est);
	CHECK_EQ(b.retrans, 0);

	t_case("BBR paces: A's data in PROBE_BW at gain 1 leaves at its pacing rate (within 10 %)");
	CHECK(b.gap_n > 100 && b.gap_us > 0, "%llu steps", (unsigned long long)b.gap_n);
	if (b.gap_n && b.gap_us) {
		double sent = (double)b.gap_bytes * 1e6 / (double)b.gap_us;
		double paced = (double)b.gap_rate_sum / (double)b.gap_n;

		CHECK(sent >= 0.9 * paced && sent <= 1.1 * paced, "sent at %.0f B/s, paced at %.0f B/s",
		      sent, paced);
	}

	t_case("PROBE_RTT after the 10 s min-RTT window: at most 4 segments in flight while it holds");
	b = (struct bulk){ .cc = "bbr", .bw_bps = 50000000, .delay_us = 5000, .seed = 2,
			   .xfer = 1ull << 40, .max_us = 12000000, .timed = 1 };
	bulk_run(&b);
	CHECK(b.ok);
	CHECK(b.modes_seen & 8, "modes %#x", b.modes_seen);
	CHECK(b.probe_rtt_at >= 10000000 && b.probe_rtt_at <= 11000000, "PROBE_RTT at %llu us",
	      (unsigned long long)b.probe_rtt_at);
	CHECK(b.probe_rtt_max_flight > 0 && b.probe_rtt_max_flight <= 4 * 1448,
	      "%u bytes in flight", b.probe_rtt_max_flight);
	CHECK(b.mbps >= 40, "%.1f Mbit/s", b.mbps);

	t_case("1 % random loss: BBR's goodput >= 80 % of the link and >= 3x CUBIC's (median of 3 seeds)");
	bbr = lossy("bbr", 0.01);
	cubic = lossy("cubic", 0.01);
	CHECK(bbr >= 80 && bbr >= 3 * cubic, "bbr %.1f cubic %.1f", bbr, cubic);

	t_case("5 % random loss: BBR's goodput >= 60 % of the link and >= 5x CUBIC's (median of 3 seeds)");
	bbr = lossy("bbr", 0.05);
	cubic = lossy("cubic", 0.05);
	CHECK(bbr >= 60 && bbr >= 5 * cubic, "bbr %.1f cubic %.1f", bbr, cubic);

	/* 120 % of cwnd / SRTT: cwnd itself then holds the sending to about 1/1.2 of the rate */
	t_case("CUBIC with the stack's pacing on: paced at 120 % of cwnd / SRTT in congestion avoidance, sent at 70-105 % of it");
	b = (struct bulk){ .cc = "cubic", .bw_bps = 100000000, .delay_us = 5000, .seed = 3,
			   .loss = 0.001, .xfer = 1ull << 40, .max_us = 10000000, .timed = 1, .pacing = 1 };
	bulk_run(&b);
	CHECK(b.ok);
	CHECK(b.gap_n > 100, "%llu steps", (unsigned long long)b.gap_n);
	if (b.gap_n && b.gap_us) {
		double sent = (double)b.gap_bytes * 1e6 / (double)b.gap_us;
		double paced = (double)b.gap_rate_sum / (double)b.gap_n;

		CHECK(sent >= 0.7 * paced && sent <= 1.05 * paced, "sent at %.0f B/s, paced at %.0f B/s",
		      sent, paced);
	}
	CHECK(b.pacing_rate == 0, "CUBIC sets no rate of its own");
	return t_done();
}
