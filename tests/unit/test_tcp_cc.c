/* test_tcp_cc.c - NewReno exact arithmetic; CUBIC against RFC 9438's formulas in double;
 * HyStart++'s RttThresh clamp, sample count and exits (RFC 9406 §4.2). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "tcp/tcp_cc.h"
/* check.h's CHECK(cond) without a message expands to an empty format string */

static void mk(struct hxs_cc *cc, const char *name, uint32_t mss)
{
	memset(cc, 0, sizeof(*cc));
	cc->mss = mss;
	hxs_cc__init(cc, hxs_cc_find(name), 0);
}

static void test_common(void)
{
	t_case("hxs_cc_find and the RFC 6928 initial window");
	CHECK(hxs_cc_find("newreno") == &hxs_cc_newreno);
	CHECK(hxs_cc_find("cubic") == &hxs_cc_cubic);
	CHECK(hxs_cc_find("bbr") == &hxs_cc_bbr);
	CHECK(hxs_cc_find("reno") == NULL);             /* Linux's name for NewReno: not ours */
	CHECK(hxs_cc_find("BBR") == NULL);              /* names are case-sensitive, as Linux */
	CHECK(hxs_cc_find(NULL) == NULL);
	CHECK_EQ(hxs_cc_initial_window(1460), 14600);   /* min(14600, max(2920, 14600)) */
	CHECK_EQ(hxs_cc_initial_window(1000), 10000);   /* min(10000, 14600) */
	CHECK_EQ(hxs_cc_initial_window(536), 5360);
	CHECK_EQ(hxs_cc_initial_window(9000), 18000);   /* max(18000, 14600) */
}

static void test_newreno(void)
{
	struct hxs_cc cc;
	int i;

	t_case("newreno: init, slow start with ABC L=2*SMSS");
	mk(&cc, "newreno", 1000);
	CHECK_EQ(cc.cwnd, 10000);
	CHECK_EQ(cc.ssthresh, UINT32_MAX);
	cc.ops->on_ack(&cc, 1000, 0, 1);
	CHECK_EQ(cc.cwnd, 11000);
	cc.ops->on_ack(&cc, 3000, 0, 2);        /* capped at 2*SMSS */
	CHECK_EQ(cc.cwnd, 13000);
	cc.ops->on_ack(&cc, 500, 0, 3);
	CHECK_EQ(cc.cwnd, 13500);

	t_case("newreno: congestion avoidance, +1 SMSS per cwnd of bytes acked");
	cc.cwnd = 20000;
	cc.ssthresh = 20000;
	for (i = 0; i < 19; i++)
		cc.ops->on_ack(&cc, 1000, 0, 10);
	CHECK_EQ(cc.cwnd, 20000);
	CHECK_EQ(cc.bytes_acked, 19000);
	cc.ops->on_ack(&cc, 1000, 0, 11);
	CHECK_EQ(cc.cwnd, 21000);
	CHECK_EQ(cc.bytes_acked, 0);
	for (i = 0; i < 20; i++)
		cc.ops->on_ack(&cc, 1000, 0, 12);
	CHECK_EQ(cc.cwnd, 21000);
	cc.ops->on_ack(&cc, 1500, 0, 13);
	CHECK_EQ(cc.cwnd, 22000);
	CHECK_EQ(cc.bytes_acked, 500);

	t_case("newreno: on_loss ssthresh = max(FlightSize/2, 2*SMSS), cwnd = ssthresh; exit deflates");
	cc.flight = 30000;
	cc.ops->on_loss(&cc, 20);
	CHECK_EQ(cc.ssthresh, 15000);
	CHECK_EQ(cc.cwnd, 15000);
	CHECK_EQ(cc.bytes_acked, 0);
	cc.cwnd += 3000 + 5000;                 /* the core's NewReno inflation */
	cc.ops->on_recovery_exit(&cc, 21);
	CHECK_EQ(cc.cwnd, 15000);
	cc.flight = 3000;
	cc.ops->on_loss(&cc, 22);
	CHECK_EQ(cc.ssthresh, 2000);
	CHECK_EQ(cc.cwnd, 2000);

	t_case("newreno: on_rto ssthresh = max(FlightSize/2, 2*SMSS), cwnd = 1 SMSS, then slow start");
	cc.cwnd = 60000;
	cc.flight = 50000;
	cc.ops->on_rto(&cc, 30);
	CHECK_EQ(cc.ssthresh, 25000);
	CHECK_EQ(cc.cwnd, 1000);
	cc.ops->on_ack(&cc, 1000, 0, 31);
	CHECK_EQ(cc.cwnd, 2000);
}

/* ---- CUBIC: the RFC 9438 formulas, computed here independently ---------------------------- */
#define C 0.4
#define BETA 0.7
static double ref_K(double wmax_seg, double cwnd_epoch_seg) { return cbrt((wmax_seg - cwnd_epoch_seg) / C); }
static double ref_W(double t, double K, double wmax_seg) { return C * pow(t - K, 3) + wmax_seg; }

/* A CUBIC sender at 100 segments of 1000 bytes that just saw its first loss at time 1 s. */
static void cubic_after_loss(struct hxs_cc *cc)
{
	mk(cc, "cubic", 1000);
	cc->cwnd = 100000;
	cc->flight = 100000;
	cc->ops->on_loss(cc, 1000000);
}

static void test_cubic_loss_k(void)
{
	struct hxs_cc cc;
	double wm[] = { 20, 100, 1000, 5000 };
	unsigned i;

	t_case("cubic: loss sets ssthresh = 0.7 * FlightSize, cwnd = ssthresh, W_max = cwnd (§4.6)");
	cubic_after_loss(&cc);
	CHECK_EQ(cc.ssthresh, 70000);
	CHECK_EQ(cc.cwnd, 70000);
	CHECK_EQ(cc.u.cubic.w_max, 100000);
	CHECK_EQ(cc.u.cubic.cwnd_prior, 100000);

	t_case("cubic: K = cbrt((W_max - cwnd_epoch) / C) at the first CA ACK (§4.2 eq. 2)");
	for (i = 0; i < sizeof(wm) / sizeof(wm[0]); i++) {
		double k;
		mk(&cc, "cubic", 1000);
		cc.cwnd = (uint32_t)(wm[i] * 1000);
		cc.flight = cc.cwnd;
		cc.ops->on_loss(&cc, 1000000);
		cc.ops->on_ack(&cc, 1000, 10000, 1000000);
		k = ref_K(wm[i], floor(wm[i] * 1000 * BETA) / 1000);
		CHECK(fabs(cc.u.cubic.k_us - k * 1e6) <= 1, "W_max %g: K %u us, RFC %.1f us", wm[i],
		      cc.u.cubic.k_us, k * 1e6);
	}
	/* the code's K for W_max 100, cwnd_epoch 70 segments: cbrt(30 / 0.4) = cbrt(75) s */
	cubic_after_loss(&cc);
	cc.ops->on_ack(&cc, 1000, 10000, 1000000);
	CHECK_EQ(cc.u.cubic.k_us, 4217163);
}

/* One ACK at time now; returns how much cwnd grew. */
static double one_ack(struct hxs_cc *cc, uint64_t now, uint32_t rtt)
{
	uint32_t before = cc->cwnd;
	cc->ops->on_ack(cc, 1000, rtt, now);
	return (double)cc->cwnd - before;
}

static void test_cubic_growth(void)
{
	struct hxs_cc cc;
	double ts[] = { 1.0, 3.0, 4.2, 5.0, 6.0, 7.5 };
	unsigned i;

	t_case("cubic: per-ACK growth (W_cubic(t+RTT) - cwnd) / cwnd in concave and convex regions (§4.4, §4.5)");
	for (i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		double K, target, want, got;
		uint32_t c0;

		cubic_after_loss(&cc);
		cc.ops->on_ack(&cc, 1000, 100000, 1000000);   /* epoch start at 1 s, SRTT 100 ms */
		K = cc.u.cubic.k_us / 1e6;
		CHECK(fabs(K - ref_K(100, 70)) < 1e-6);
		c0 = cc.cwnd;
		target = ref_W(ts[i] + 0.1, ref_K(100, 70), 100) * 1000;
		if (target > 1.5 * c0)
			target = 1.5 * c0;
		if (target < c0)
			target = c0;
		want = (target - c0) * 1000 / c0;
		got = one_ack(&cc, 1000000 + (uint64_t)(ts[i] * 1e6), 100000);
		CHECK(fabs(got - want) <= 1.5, "t=%g: grew %g, RFC %g", ts[i], got, want);
		/* §4.3 eq. 4: W_est = cwnd_epoch + alpha * acked / cwnd per ACK (alpha = 9/17 below
		 * cwnd_prior): 70000 after the epoch's first ACK + 9/17 * 1000 * 1000 / 70000, then
		 * + 9/17 * 1000 * 1000 / c0 at this one. It stays below W_cubic(t), so the cubic
		 * branch, not the Reno-friendly one, set cwnd (the growth checked above). */
		double west = 70000 + 9.0 / 17 * 1e6 / 70000 + 9.0 / 17 * 1e6 / c0;
		CHECK(fabs(cc.u.cubic.w_est - west) <= 1, "t=%g: W_est %u, RFC %g", ts[i], cc.u.cubic.w_est, west);
		CHECK(cc.u.cubic.w_est < ref_W(ts[i], ref_K(100, 70), 100) * 1000);
		CHECK(cc.cwnd != cc.u.cubic.w_est);
	}

	t_case("cubic: W_cubic(t) clipped at 1.5 * cwnd (§4.2)");
	cubic_after_loss(&cc);
	cc.ops->on_ack(&cc, 1000, 100000, 1000000);
	{
		/* t = 20 s: W_cubic(20.1 s) = 0.4 * (20.1 - 4.217)^3 + 100 = ~1703 segments, 24 times
		 * cwnd: clipped at 1.5 cwnd, an ACK of 1 SMSS grows cwnd by (1.5 cwnd - cwnd) * SMSS /
		 * cwnd = 500 bytes exactly (a clip at 2 cwnd would give 1000, none ~23000) */
		uint32_t c0 = cc.cwnd;
		one_ack(&cc, 1000000 + 20000000, 100000);
		CHECK_EQ(cc.cwnd, c0 + 500);
		c0 = cc.cwnd;
		one_ack(&cc, 1000000 + 20001000, 100000);      /* and again from the new cwnd */
		CHECK_EQ(cc.cwnd, c0 + 500);
	}
}

/* Drives a sender with one ACK per SMSS, cwnd/SMSS ACKs spread evenly over each RTT. */
static void drive(struct hxs_cc *cc, uint64_t *now, uint64_t until, uint32_t rtt)
{
	while (*now < until) {
		uint32_t n = cc->cwnd / cc->mss, i;
		for (i = 0; i < n; i++)
			cc->ops->on_ack(cc, cc->mss, rtt, *now + (uint64_t)rtt * i / n);
		*now += rtt;
	}
}

static void test_cubic_trajectory(void)
{
	struct hxs_cc cc;
	uint64_t now = 1000000;
	double K = ref_K(100, 70);

	t_case("cubic: with 100 ms RTT the window follows W_cubic and plateaus at W_max near t = K");
	cubic_after_loss(&cc);
	drive(&cc, &now, 1000000 + (uint64_t)(K * 1e6), 100000);
	/* W_cubic(K) = W_max: within 3% (an RTT of look-ahead and ACK granularity) */
	CHECK(fabs(cc.cwnd / 1000.0 - 100) < 3, "cwnd at K: %u", cc.cwnd);
	drive(&cc, &now, 1000000 + (uint64_t)((K + 2) * 1e6), 100000);
	{
		double w = ref_W(2, 0, 100);   /* t - K = 2 s */
		CHECK(fabs(cc.cwnd / 1000.0 - w) / w < 0.05, "cwnd %u vs W_cubic %g seg", cc.cwnd, w);
	}

	t_case("cubic: Reno-friendly region: short RTT, small W_max: cwnd follows W_est (§4.3 eq. 4)");
	mk(&cc, "cubic", 1000);
	cc.cwnd = 20000;
	cc.flight = 20000;
	cc.ops->on_loss(&cc, 1000000);       /* W_max 20 seg, cwnd 14 seg, K = cbrt(15) = 2.47 s */
	now = 1000000;
	drive(&cc, &now, 1000000 + 500000, 5000);   /* 100 RTTs of 5 ms */
	{
		/* W_est = W_max*β + α * t/RTT while below cwnd_prior, then +1 seg per RTT */
		double alpha = 3 * (1 - BETA) / (1 + BETA);
		double rtts_to_prior = (20 - 14) / alpha;
		double west = 20 + (100 - rtts_to_prior);
		/* the code is in the Reno-friendly region: cwnd is its own W_est, above W_cubic */
		CHECK_EQ(cc.cwnd, cc.u.cubic.w_est);
		CHECK(cc.u.cubic.w_est > ref_W(0.5, ref_K(20, 14), 20) * 1000, "W_est %u", cc.u.cubic.w_est);
		CHECK(fabs(cc.cwnd / 1000.0 - west) / west < 0.06, "cwnd %u vs W_est %g seg", cc.cwnd, west);
	}
}

static void test_cubic_fast_convergence_rto(void)
{
	struct hxs_cc cc, cc2;
	uint64_t now;

	t_case("cubic: fast convergence: a loss below the previous W_max sets W_max = cwnd * (1 + β) / 2 (§4.7)");
	cubic_after_loss(&cc);                 /* W_max = 100 seg */
	cc.cwnd = 80000;
	cc.flight = 80000;
	cc.ops->on_loss(&cc, 2000000);
	CHECK_EQ(cc.u.cubic.w_max, 68000);     /* 80 * 1.7 / 2 */
	CHECK_EQ(cc.u.cubic.w_last_max, 100000);
	CHECK_EQ(cc.ssthresh, 56000);
	CHECK_EQ(cc.cwnd, 56000);
	cc.cwnd = 120000;
	cc.flight = 110000;
	cc.ops->on_loss(&cc, 3000000);         /* above W_max: W_max = cwnd */
	CHECK_EQ(cc.u.cubic.w_max, 120000);
	CHECK_EQ(cc.ssthresh, 77000);          /* 0.7 * FlightSize */

	t_case("cubic: RTO: ssthresh = 0.7 * FlightSize, cwnd = 1 SMSS; the next epoch has K = 0, W_max = cwnd_epoch (§4.8)");
	cc.cwnd = 50000;
	cc.flight = 40000;
	cc.ops->on_rto(&cc, 4000000);
	CHECK_EQ(cc.ssthresh, 28000);
	CHECK_EQ(cc.cwnd, 1000);
	now = 4000000;
	while (cc.cwnd < cc.ssthresh)
		cc.ops->on_ack(&cc, 1000, 50000, now += 1000);   /* slow start */
	CHECK_EQ(cc.cwnd, 28000);
	cc.ops->on_ack(&cc, 1000, 50000, now += 1000);       /* first CA ACK: epoch */
	CHECK_EQ(cc.u.cubic.k_us, 0);
	CHECK_EQ(cc.u.cubic.w_max, 28000);

	t_case("cubic: the same ACK sequence gives the same windows (deterministic)");
	cubic_after_loss(&cc);
	cubic_after_loss(&cc2);
	now = 1000000;
	drive(&cc, &now, 9000000, 30000);
	now = 1000000;
	drive(&cc2, &now, 9000000, 30000);
	CHECK_EQ(cc.cwnd, cc2.cwnd);
	CHECK(memcmp(&cc.u.cubic, &cc2.u.cubic, sizeof(cc.u.cubic)) == 0);
}

/* HyStart++ (tcp_cc_hystart.c) driven as the core drives it: before each on_ack, SND.UNA
 * after the ACK, SND.NXT and the ACK's RTT sample; a cwnd-limited sender (SND.NXT = SND.UNA
 * + cwnd after each ACK), one ACK per 1000-byte segment. */
static void hs_ack(struct hxs_cc *cc, uint32_t rtt_us)
{
	cc->snd_una += 1000;
	cc->ack_rtt_us = rtt_us;
	cc->ops->on_ack(cc, 1000, 0, 0);
	cc->snd_nxt = cc->snd_una + cc->cwnd;
}

/* ACKs with this RTT until the round under way ends (the first call also begins round 1),
 * or slow start ends. */
static void hs_round(struct hxs_cc *cc, uint32_t rtt_us)
{
	int started = cc->hs.started;
	uint32_t w = cc->hs.window_end;

	for (int i = 0; i < 100000; i++) {
		hs_ack(cc, rtt_us);
		if (!started) {
			started = 1;
			w = cc->hs.window_end;
			continue;
		}
		if (cc->hs.window_end != w || cc->ssthresh != UINT32_MAX)
			return;
	}
}

static void hs_mk(struct hxs_cc *cc, const char *name, int on)
{
	mk(cc, name, 1000);
	cc->hystart_on = (uint8_t)on;
	hxs_cc__init(cc, cc->ops, 0);
	cc->snd_una = 1;
	cc->snd_nxt = 1 + cc->cwnd;
}

/* Round 1 at rtt1, round 2 at rtt2: the state after round 2. */
static int hs_two_rounds(const char *name, uint32_t rtt1, uint32_t rtt2)
{
	struct hxs_cc cc;

	hs_mk(&cc, name, 1);
	hs_round(&cc, rtt1);
	hs_round(&cc, rtt2);
	return cc.hs.state;
}

static void test_hystart(void)
{
	struct hxs_cc cc;

	t_case("hystart: RttThresh = lastRoundMinRTT / 8 between the clamps: 100 ms -> 12.5 ms");
	CHECK_EQ(hs_two_rounds("cubic", 100000, 112499), HXS_HS_SS);
	CHECK_EQ(hs_two_rounds("cubic", 100000, 112500), HXS_HS_CSS);
	t_case("hystart: RttThresh no less than MIN_RTT_THRESH 4 ms (20 ms / 8 = 2.5 ms)");
	CHECK_EQ(hs_two_rounds("cubic", 20000, 23999), HXS_HS_SS);
	CHECK_EQ(hs_two_rounds("newreno", 20000, 23999), HXS_HS_SS);
	CHECK_EQ(hs_two_rounds("cubic", 20000, 24000), HXS_HS_CSS);
	CHECK_EQ(hs_two_rounds("newreno", 20000, 24000), HXS_HS_CSS);
	t_case("hystart: RttThresh no more than MAX_RTT_THRESH 16 ms (200 ms / 8 = 25 ms)");
	CHECK_EQ(hs_two_rounds("cubic", 200000, 215999), HXS_HS_SS);
	CHECK_EQ(hs_two_rounds("cubic", 200000, 216000), HXS_HS_CSS);

	t_case("hystart: no test before N_RTT_SAMPLE = 8 samples in the round (ACKs without one add none)");
	hs_mk(&cc, "cubic", 1);
	hs_round(&cc, 100000);                  /* round 1: 10 ACKs, cwnd 20000 */
	for (int i = 0; i < 7; i++)
		hs_ack(&cc, 500000);
	for (int i = 0; i < 5; i++)
		hs_ack(&cc, 0);
	CHECK_EQ(cc.hs.samples, 7);
	CHECK_EQ(cc.hs.state, HXS_HS_SS);
	CHECK_EQ(cc.cwnd, 20000 + 12 * 1000);   /* slow start: every ACK grew by 1000 */
	hs_ack(&cc, 500000);                    /* the 8th sample */
	CHECK_EQ(cc.hs.state, HXS_HS_CSS);
	CHECK_EQ(cc.hs.css_baseline_us, 500000);
	CHECK_EQ(cc.cwnd, 20000 + 13 * 1000);   /* this ACK still grew as slow start */
	t_case("hystart: CSS grows by min(N, L*SMSS) / CSS_GROWTH_DIVISOR, remainder carried");
	hs_ack(&cc, 500000);
	CHECK_EQ(cc.cwnd, 33000 + 250);
	cc.snd_una += 3;                        /* 3 bytes: 0 now, carried */
	cc.ack_rtt_us = 500000;
	cc.ops->on_ack(&cc, 3, 0, 0);
	CHECK_EQ(cc.cwnd, 33250);
	CHECK_EQ(cc.hs.css_rem, 3);
	hs_ack(&cc, 500000);                    /* (1000 + 3) / 4 = 250, remainder 3 */
	CHECK_EQ(cc.cwnd, 33500);
	t_case("hystart: a loss in CSS ends HyStart++: the algorithm's ssthresh, then no CSS growth");
	cc.flight = 30000;
	cc.ops->on_loss(&cc, 0);
	CHECK_EQ(cc.ssthresh, 21000);           /* CUBIC: 0.7 * FlightSize */
	CHECK_EQ(cc.cwnd, 21000);
	hs_ack(&cc, 500000);
	CHECK_EQ(cc.hs.state, HXS_HS_CSS);      /* left as it was: not consulted any more */
	CHECK(cc.cwnd <= 21000 + 1000 / 21 + 1, "cwnd %u: congestion avoidance", cc.cwnd);

	t_case("hystart: off (cfg.no_hystart): the same delay rise leaves slow start alone");
	hs_mk(&cc, "cubic", 0);
	for (int i = 0; i < 10; i++)
		hs_ack(&cc, 100000);
	for (int i = 0; i < 20; i++)
		hs_ack(&cc, 200000);
	CHECK_EQ(cc.cwnd, 10000 + 30 * 1000);
	CHECK_EQ(cc.ssthresh, UINT32_MAX);
	CHECK_EQ(cc.hs.started, 0);

	t_case("hystart: CSS_ROUNDS rounds of CSS (the partial one counts), then ssthresh = cwnd");
	hs_mk(&cc, "newreno", 1);
	hs_round(&cc, 100000);
	hs_round(&cc, 120000);                  /* CSS from its 8th sample: partial round 1 */
	CHECK_EQ(cc.hs.state, HXS_HS_CSS);
	CHECK_EQ(cc.hs.css_rounds, 2);
	for (int r = 2; r <= 4; r++)
		hs_round(&cc, 121000);
	CHECK_EQ(cc.hs.css_rounds, 5);
	CHECK_EQ(cc.ssthresh, UINT32_MAX);
	hs_round(&cc, 121000);                  /* the 5th ends: congestion avoidance */
	CHECK_EQ(cc.hs.state, HXS_HS_DONE);
	CHECK_EQ(cc.ssthresh, cc.cwnd);
}

int main(void)
{
	test_common();
	test_newreno();
	test_cubic_loss_k();
	test_cubic_growth();
	test_cubic_trajectory();
	test_cubic_fast_convergence_rto();
	test_hystart();
	return t_done();
}
