/* test_tcp_claims.c - the README's TCP claims that no other test pins down, each asserted
 * exactly against one TCP core driven segment by segment (tests/unit/lib/tcp_harness.h): the
 * 536-byte default send MSS, TIME-WAIT reuse by sequence number without timestamps, the
 * challenge-ACK limits (one per 500 ms per connection, a random stack-wide budget each
 * second), the 120 s RTO cap, idle restart (and CUBIC's clock across idle periods), no cwnd
 * growth while the application leaves it unused (RFC 7661, RFC 9438 §5.8), what a received
 * D-SACK does, the 32-range out-of-order bound with TCPOFODrop, sender and receiver SWS
 * avoidance, the SACK scoreboard cleared on an RTO, the SYN/accept queue limits (somaxconn,
 * tcp_max_syn_backlog) and urgent data in line.
 *
 * Each case says the RFC section it checks. The peer is TS_REMOTE:TS_RPORT (+i), the stack
 * TS_LOCAL:TS_LPORT; the peer's ISN is PISN. */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "check.h"
#include "hxs/hxs.h"
#include "tcp_harness.h"
__attribute__((constructor)) static void unbuffer(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

#define MS 1000ull
#define S 1000000ull
#define PISN 1000u
#define TICK HXS_WHEEL_TICK_US

static const uint64_t *mib(struct ts *t) { return hxs_tcp__mib(t->tcp); }
#define MIBV(t, name) (mib(t)[HXS_TCP_MIB_##name])

static struct ts_seg last;

/* Pops one segment and checks flags, seq, ack (when ACK is set), payload length, checksum and
 * that its options parse; the segment stays in `last`. Evaluates to 1 if all matched. */
#define EXPECT(t, fl, sq, ak, ln)                                                         \
	({                                                                                \
		struct ts_seg _s;                                                         \
		int _ok = CHECK(ts_pop(t, &_s), "no segment emitted");                    \
		if (_ok) {                                                                \
			last = _s;                                                        \
			_ok &= CHECK_EQ(_s.flags, fl);                                    \
			_ok &= CHECK_EQ(_s.seq, (uint32_t)(sq));                          \
			if ((fl) & HXS_TH_ACK)                                            \
				_ok &= CHECK_EQ(_s.ack, (uint32_t)(ak));                  \
			_ok &= CHECK_EQ(_s.len, (uint32_t)(ln));                          \
			_ok &= CHECK(_s.csum_ok, "bad checksum");                         \
			_ok &= CHECK(_s.opt_ok, "bad options");                           \
		}                                                                         \
		_ok;                                                                      \
	})
#define EXPECT_NONE(t) CHECK_EQ(ts_pending(t), 0)

/* Active open to TS_REMOTE:rport from TS_LOCAL:TS_LPORT at `now`; the peer's SYN,ACK carries
 * `peer` (NULL: no options) and window 65535. */
static struct hxs_tcp_conn *active(struct ts *t, uint64_t now, uint16_t rport, const char *cc,
				   const struct hxs_tcp_opts *peer, uint32_t *iss)
{
	struct hxs_tcp_conn *c = NULL;

	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &c), 0);
	if (cc)
		CHECK_EQ(hxs_tcp_conn__set_cc(c, cc), 0);
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, TS_LPORT, TS_REMOTE, rport, now), 0);
	EXPECT(t, HXS_TH_SYN, last.seq, 0, 0);
	*iss = last.seq;
	TS_IN(t, now, .rport = rport, .flags = HXS_TH_SYN | HXS_TH_ACK, .seq = PISN, .ack = *iss + 1,
	      .wnd = 65535, .opt = peer);
	EXPECT(t, HXS_TH_ACK, *iss + 1, PISN + 1, 0);
	return c;
}

/* Aborts and closes c (if any), lets the core free what it released (a closed connection
 * waiting on the dirty list goes at the next poll), then frees the instance. */
static void done(struct ts *t, struct hxs_tcp_conn *c)
{
	uint64_t live = ts_close_all(t, &c, 1);

	CHECK_EQ(live, hxs_tcp__nconns(t->tcp));
	ts_free(t);
}

/* --- RFC 9293 §3.7.1: 536 without an MSS option ------------------------------------------ */
static void test_mss_default(void)
{
	static uint8_t d[4000];
	struct hxs_tcp_conn *l, *c = NULL;
	struct hxs_tcp_info info;
	struct hxs_tcp_opts o;
	uint32_t iss, off;
	struct ts *t;

	ts_fill(d, sizeof(d), 3);

	t_case("RFC 9293 §3.7.1: a SYN without MSS option -> send MSS 536; 2000 bytes go as 536, 536, 536, 392");
	t = ts_open(NULL);
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &l), 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8), 0);
	ts_syn(t, 0, PISN, NULL);
	EXPECT(t, HXS_TH_SYN | HXS_TH_ACK, last.seq, PISN + 1, 0);
	iss = last.seq;
	/* our own MSS is still offered (MTU 1500 - 40); what the peer did not offer is not sent */
	CHECK(last.opt.has_mss && last.opt.mss == 1460, "mss %u", last.opt.mss);
	CHECK(!last.opt.has_ts && !last.opt.sack_perm && !last.opt.has_ws);
	ts_ack(t, 0, PISN + 1, iss + 1);
	CHECK_EQ(hxs_tcp_conn__accept(l, &c), 0);
	hxs_tcp_conn__info(c, &info);
	CHECK_EQ(info.snd_mss, 536);
	CHECK_EQ(hxs_tcp_conn__setopt(c, HXS_TCP_O_NODELAY, 1), 0);
	CHECK_EQ(hxs_tcp_conn__send(c, d, 2000), 2000);
	ts_run_until(t, 1 * MS);
	off = 0;
	for (int i = 0; i < 4; i++) {
		uint32_t len = i < 3 ? 536 : 392;

		EXPECT(t, i < 3 ? HXS_TH_ACK : HXS_TH_ACK | HXS_TH_PSH, iss + 1 + off, PISN + 1, len);
		CHECK(!memcmp(last.data, d + off, len), "payload of segment %d", i);
		off += len;
	}
	EXPECT_NONE(t);
	hxs_tcp_conn__close(l);
	done(t, c);

	t_case("RFC 9293 §3.7.1: timestamps but no MSS option -> 536 less the 12 option bytes: 524-byte segments");
	t = ts_open(NULL);
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &l), 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8), 0);
	o = ts_mss_opt(0);
	o.has_ts = 1;
	o.tsval = 100;
	ts_syn(t, 0, PISN, &o);
	EXPECT(t, HXS_TH_SYN | HXS_TH_ACK, last.seq, PISN + 1, 0);
	iss = last.seq;
	CHECK(last.opt.has_ts && last.opt.tsecr == 100);
	o.tsval = 101;
	o.tsecr = last.opt.tsval;
	TS_IN(t, 0, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss + 1, .wnd = 65535, .opt = &o);
	CHECK_EQ(hxs_tcp_conn__accept(l, &c), 0);
	hxs_tcp_conn__info(c, &info);
	CHECK_EQ(info.snd_mss, 524);
	CHECK_EQ(hxs_tcp_conn__setopt(c, HXS_TCP_O_NODELAY, 1), 0);
	CHECK_EQ(hxs_tcp_conn__send(c, d, 1100), 1100);
	ts_run_until(t, 1 * MS);
	EXPECT(t, HXS_TH_ACK, iss + 1, PISN + 1, 524);
	EXPECT(t, HXS_TH_ACK, iss + 525, PISN + 1, 524);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1049, PISN + 1, 52);
	EXPECT_NONE(t);
	hxs_tcp_conn__close(l);
	done(t, c);

	t_case("RFC 9293 §3.7.1: SYN,ACK without MSS option (active open) -> 536-byte segments");
	t = ts_open(NULL);
	c = active(t, 0, TS_RPORT, NULL, NULL, &iss);
	hxs_tcp_conn__info(c, &info);
	CHECK_EQ(info.snd_mss, 536);
	CHECK_EQ(hxs_tcp_conn__setopt(c, HXS_TCP_O_NODELAY, 1), 0);
	CHECK_EQ(hxs_tcp_conn__send(c, d, 600), 600);
	ts_run_until(t, 1 * MS);
	EXPECT(t, HXS_TH_ACK, iss + 1, PISN + 1, 536);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 537, PISN + 1, 64);
	EXPECT_NONE(t);
	done(t, c);

	t_case("RFC 9293 §3.7.1: an MSS option of 0 counts as none (like Linux): send MSS 536");
	t = ts_open(NULL);
	o = ts_mss_opt(0);
	o.has_mss = 1;
	c = active(t, 0, TS_RPORT, NULL, &o, &iss);
	hxs_tcp_conn__info(c, &info);
	CHECK_EQ(info.snd_mss, 536);
	done(t, c);
}

/* --- RFC 9293 §3.6.1 / RFC 6191 §2: TIME-WAIT reopened by a higher sequence number --------- */
/* Pops what the stack sent and acknowledges all of it (window 65535); returns bytes acked. */
static uint32_t ack_all(struct ts *t, uint64_t now, uint32_t una)
{
	struct ts_seg s;
	uint32_t hi = una;

	while (ts_pop(t, &s))
		if (SEQ_GT(s.seq + s.len, hi))
			hi = s.seq + s.len;
	if (hi != una)
		ts_ack(t, now, PISN + 1, hi);
	return hi - una;
}

static void test_tw_reuse_seq(void)
{
	enum { N = 100000 };
	static uint8_t d[N];
	struct hxs_tcp_conn *l, *c;
	struct hxs_tcp_opts o = ts_mss_opt(1460);
	uint32_t iss, una, fin_seq, iss2;
	uint64_t now = 0;
	struct ts *t;

	t_case("RFC 6191 §2: TIME-WAIT without timestamps: a SYN at or below RCV.NXT is answered with an ACK (RFC 5961 §4.2), no reuse");
	t = ts_open(NULL);
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &l), 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8), 0);
	ts_syn(t, 0, PISN, &o);
	EXPECT(t, HXS_TH_SYN | HXS_TH_ACK, last.seq, PISN + 1, 0);
	iss = last.seq;
	CHECK(!last.opt.has_ts, "the peer offered no timestamps");
	ts_ack(t, 0, PISN + 1, iss + 1);
	CHECK_EQ(hxs_tcp_conn__accept(l, &c), 0);
	/* 100 kB from the stack, acknowledged as it goes: the old incarnation uses sequence
	 * numbers up to iss + 100001 (its FIN) */
	ts_fill(d, N, 9);
	CHECK_EQ(hxs_tcp_conn__send(c, d, N), N);
	una = iss + 1;
	for (int round = 0; round < 50 && una != iss + 1 + N; round++) {
		now += 1 * MS;
		ts_run_until(t, now);
		una += ack_all(t, now, una);
	}
	CHECK_EQ(una, iss + 1 + N);
	hxs_tcp_conn__close(c);                  /* active close from the passive side */
	now += 1 * MS;
	ts_run_until(t, now);
	fin_seq = iss + 1 + N;
	EXPECT(t, HXS_TH_FIN | HXS_TH_ACK, fin_seq, PISN + 1, 0);
	ts_fin(t, now, PISN + 1, fin_seq + 1);
	EXPECT(t, HXS_TH_ACK, fin_seq + 1, PISN + 2, 0);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 2);    /* TIME-WAIT + listener */
	ts_syn(t, now + 1 * MS, PISN + 2, &o);   /* = RCV.NXT: not above it */
	EXPECT(t, HXS_TH_ACK, fin_seq + 1, PISN + 2, 0);
	/* 500 ms later: a connection answers SYNs and pure ACKs it rejects once per 500 ms */
	ts_syn(t, now + 501 * MS, PISN - 5000, &o);
	EXPECT(t, HXS_TH_ACK, fin_seq + 1, PISN + 2, 0);
	EXPECT_NONE(t);
	CHECK_EQ(MIBV(t, TCPTimeWaitReuse), 0);
	CHECK_EQ(MIBV(t, TcpPassiveOpens), 1);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 2);

	t_case("RFC 6191 §2: TIME-WAIT without timestamps: a SYN above RCV.NXT reopens it, the new ISS above the old sequence space (RFC 9293 §3.6.1)");
	ts_syn(t, now + 502 * MS, PISN + 70000, &o);
	EXPECT(t, HXS_TH_SYN | HXS_TH_ACK, last.seq, PISN + 70001, 0);
	iss2 = last.seq;
	CHECK_EQ(MIBV(t, TCPTimeWaitReuse), 1);
	CHECK_EQ(MIBV(t, TcpPassiveOpens), 2);
	CHECK_EQ(MIBV(t, TW), 1);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 2);    /* SYN-RECEIVED + listener */
	/* MAY-2 (1): "assigns its initial sequence number for the new connection to be larger
	 * than the largest sequence number it used on the previous connection incarnation" */
	CHECK(SEQ_GT(iss2, fin_seq), "new ISS %u, old connection's FIN at %u", iss2, fin_seq);
	ts_ack(t, now + 4 * MS, PISN + 70001, iss2 + 1);
	if (CHECK_EQ(hxs_tcp_conn__accept(l, &c), 0)) {
		char b[8];

		ts_push(t, now + 5 * MS, PISN + 70001, iss2 + 1, "new", 3);
		CHECK_EQ(hxs_tcp_conn__recv(c, b, sizeof(b), 0), 3);
		CHECK(!memcmp(b, "new", 3));
	} else {
		c = NULL;
	}
	hxs_tcp_conn__close(l);
	done(t, c);

	t_case("RFC 9293 §3.6.1: TIME-WAIT on a port nobody listens on: a SYN above RCV.NXT gets an ACK (RFC 5961 §4.2), no reuse");
	t = ts_open(NULL);
	c = active(t, 0, TS_RPORT, NULL, &o, &iss);
	hxs_tcp_conn__close(c);
	ts_run_until(t, 1 * MS);
	EXPECT(t, HXS_TH_FIN | HXS_TH_ACK, iss + 1, PISN + 1, 0);
	ts_fin(t, 2 * MS, PISN + 1, iss + 2);
	EXPECT(t, HXS_TH_ACK, iss + 2, PISN + 2, 0);
	ts_syn(t, 3 * MS, PISN + 70000, &o);
	EXPECT(t, HXS_TH_ACK, iss + 2, PISN + 2, 0);
	CHECK_EQ(MIBV(t, TCPTimeWaitReuse), 0);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 1);
	done(t, NULL);
}

/* --- RFC 5961 §7: challenge ACKs, per connection and a randomized stack-wide budget -------- */

/* An in-window RST that is not at RCV.NXT (RFC 5961 §3.2 case 3) to connection i (peer port
 * TS_RPORT + i) at `now`. Returns 1 if exactly the challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT> of
 * that connection came back, 0 if nothing did, -1 for anything else. */
static int chack_rst(struct ts *t, uint64_t now, int i, uint32_t iss)
{
	struct ts_seg s;
	int r = 0;

	TS_IN(t, now, .rport = (uint16_t)(TS_RPORT + i), .flags = HXS_TH_RST, .seq = PISN + 2);
	if (ts_pop(t, &s))
		r = s.flags == HXS_TH_ACK && s.seq == iss + 1 && s.ack == PISN + 1 &&
		    s.dport == TS_RPORT + i ? 1 : -1;
	if (ts_pending(t))
		r = -1;
	ts_clear(t);
	return r;
}

/* n connections from peer ports TS_RPORT .. TS_RPORT + n - 1; their ISS into iss[]. */
static void open_n(struct ts *t, struct hxs_tcp_conn **c, uint32_t *iss, int n)
{
	struct hxs_tcp_opts o = ts_mss_opt(1460);

	for (int i = 0; i < n; i++)
		c[i] = active(t, 0, (uint16_t)(TS_RPORT + i), NULL, &o, &iss[i]);
}

static void close_n(struct ts *t, struct hxs_tcp_conn **c, int n)
{
	for (int i = 1; i < n; i++) {
		hxs_tcp_conn__abort(c[i]);
		hxs_tcp_conn__close(c[i]);
		ts_clear(t);                     /* its RST */
	}
	done(t, c[0]);
}

/* One in-window RST to each of n connections in the first half of the second that starts at
 * `sec`, in order; returns how many challenge ACKs came back, -1 if anything else did. */
static int chack_second(struct ts *t, uint64_t sec, uint32_t *iss, int n)
{
	int acks = 0, bad = 0;

	for (int i = 0; i < n; i++) {
		int r = chack_rst(t, sec + (uint64_t)i * (S / 2 / (uint64_t)n), i, iss[i]);
		acks += r > 0;
		bad += r < 0;
	}
	return bad ? -1 : acks;
}

static void test_challenge_ack_budget(void)
{
	static struct hxs_tcp_conn *c[1600];
	static uint32_t iss[1600];
	struct hxs_tcp_opts o = ts_mss_opt(1460);
	struct hxs_tcp_cfg cfg;
	uint64_t t0 = 10 * S;
	int a, b, lo, hi, sum, distinct;
	struct ts *t;

	t_case("RFC 5961 §7: one challenge ACK per 500 ms per connection (Linux's tcp_invalid_ratelimit), RST and SYN alike");
	t = ts_open(NULL);
	open_n(t, c, iss, 2);
	CHECK_EQ(chack_rst(t, t0, 0, iss[0]), 1);
	CHECK_EQ(chack_rst(t, t0 + 1 * MS, 0, iss[0]), 0);
	ts_syn(t, t0 + 2 * MS, PISN + 5, &o);
	EXPECT_NONE(t);
	CHECK_EQ(chack_rst(t, t0 + 500 * MS - 1, 0, iss[0]), 0);
	CHECK_EQ(MIBV(t, TCPChallengeACK), 1);
	CHECK_EQ(MIBV(t, TCPACKSkippedChallenge), 3);
	CHECK_EQ(MIBV(t, TCPSYNChallenge), 1);
	/* 500 ms after the last one sent, and the other connection's limit is its own */
	CHECK_EQ(chack_rst(t, t0 + 500 * MS, 0, iss[0]), 1);
	CHECK_EQ(chack_rst(t, t0 + 500 * MS + 1, 1, iss[1]), 1);
	CHECK_EQ(MIBV(t, TCPChallengeACK), 3);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(hxs_tcp_conn__state(c[i]), HXS_TCPS_ESTABLISHED);

	t_case("CVE-2016-5696: the challenge ACKs an attacker counts on its own connection do not depend on another connection's");
	/* second 20: 1000 RSTs on connection 0 alone; second 30: the same, and one in-window RST
	 * spoofed to connection 1 before them. With a shared count, 0 would see one less. */
	a = b = 0;
	for (int k = 0; k < 1000; k++)
		a += chack_rst(t, 20 * S + (uint64_t)k * MS, 0, iss[0]);
	CHECK_EQ(chack_rst(t, 30 * S, 1, iss[1]), 1);
	for (int k = 0; k < 1000; k++)
		b += chack_rst(t, 30 * S + 1 + (uint64_t)k * MS, 0, iss[0]);
	CHECK_EQ(a, 2);
	CHECK_EQ(b, 2);
	close_n(t, c, 2);

	t_case("RFC 5961 §7: the stack-wide budget is a random count each second in [n/2, n + n/2), n = challenge_ack_limit 10");
	memset(&cfg, 0, sizeof(cfg));
	cfg.challenge_ack_limit = 10;
	t = ts_open(&cfg);
	open_n(t, c, iss, 20);
	lo = 1000, hi = -1, sum = 0, distinct = 0;
	{
		int seen[20] = { 0 };

		for (int k = 0; k < 50; k++) {
			int n = chack_second(t, (100 + (uint64_t)k) * S, iss, 20);

			lo = n < lo ? n : lo;
			hi = n > hi ? n : hi;
			sum += n;
			if (n >= 0 && n < 20 && !seen[n]++)
				distinct++;
		}
	}
	printf("#   limit 10: per-second counts %d..%d, %d distinct, mean %.2f over 50 s\n", lo, hi,
	       distinct, sum / 50.0);
	CHECK(lo >= 5 && hi <= 14, "per-second counts %d..%d", lo, hi);
	CHECK(distinct >= 3, "only %d distinct counts in 50 s", distinct);
	CHECK_EQ(MIBV(t, TCPChallengeACK), (uint64_t)sum);
	CHECK_EQ(MIBV(t, TCPACKSkippedChallenge), 0);
	close_n(t, c, 20);

	t_case("RFC 5961 §7: the default budget, 1000: 500..1499 challenge ACKs a second from 1600 connections");
	t = ts_open(NULL);
	open_n(t, c, iss, 1600);
	lo = 100000, hi = -1;
	for (int k = 0; k < 3; k++) {
		int n = chack_second(t, (100 + (uint64_t)k * 2) * S, iss, 1600);

		lo = n < lo ? n : lo;
		hi = n > hi ? n : hi;
	}
	printf("#   limit 1000: per-second counts %d..%d over 3 s\n", lo, hi);
	CHECK(lo >= 500 && hi <= 1499, "per-second counts %d..%d", lo, hi);
	close_n(t, c, 1600);

	t_case("challenge_ack_limit UINT32_MAX: no stack-wide limit, only the connections' own");
	memset(&cfg, 0, sizeof(cfg));
	cfg.challenge_ack_limit = UINT32_MAX;
	t = ts_open(&cfg);
	open_n(t, c, iss, 20);
	for (int k = 0; k < 3; k++)
		CHECK_EQ(chack_second(t, (100 + (uint64_t)k) * S, iss, 20), 20);
	close_n(t, c, 20);
}

/* --- RFC 6298 §2.5: the 120 s maximum RTO ---------------------------------------------------- */
static void test_rto_cap(void)
{
	struct hxs_tcp_conn *c;
	struct hxs_tcp_info info;
	struct hxs_tcp_opts o = ts_mss_opt(1460);
	uint32_t iss, tsval;
	uint64_t prev;
	struct ts *t;

	t_case("RFC 6298 §5.5 backoff capped at 120 s (§2.5): 0.2 s doubling to 102.4 s, then 120 s; ETIMEDOUT after 15");
	t = ts_open(NULL);                            /* retries2 15 (default) */
	c = active(t, 0, TS_RPORT, NULL, &o, &iss);   /* RTT ~0: RTO at the 200 ms floor */
	CHECK_EQ(hxs_tcp_conn__send(c, "data", 4), 4);
	ts_run_until(t, 1 * MS);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1, PISN + 1, 4);
	prev = last.t;
	for (int i = 0; i < 15; i++) {
		uint64_t want = 200 * MS << i;

		if (want > 120 * S)
			want = 120 * S;
		ts_run_until(t, prev + want + 2 * TICK);
		if (!EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1, PISN + 1, 4))
			break;
		CHECK(last.t - prev >= want && last.t - prev <= want + 2 * TICK,
		      "retransmission %d after %llu us, want %llu", i + 1,
		      (unsigned long long)(last.t - prev), (unsigned long long)want);
		hxs_tcp_conn__info(c, &info);
		CHECK_EQ(info.retransmits, i + 1);
		/* the next timeout, as TCP_INFO reports it */
		CHECK_EQ(info.rto_us, (200 * MS << (i + 1)) > 120 * S ? 120 * S : 200 * MS << (i + 1));
		prev = last.t;
	}
	EXPECT_NONE(t);
	ts_run_until(t, prev + 120 * S - 1 * MS);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_ESTABLISHED);
	ts_run_until(t, prev + 120 * S + 2 * TICK);
	EXPECT_NONE(t);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_CLOSED);
	CHECK_EQ(hxs_tcp_conn__error(c), ETIMEDOUT);
	CHECK_EQ(MIBV(t, TCPTimeouts), 15);
	CHECK_EQ(MIBV(t, TCPAbortOnTimeout), 1);
	done(t, c);

	t_case("RFC 6298 §2.5: an RTT sample of 200 s gives RTO 120 s, not SRTT + 4 RTTVAR = 225 s");
	t = ts_open(NULL);
	o.has_ts = 1;
	o.tsval = 500;
	{
		struct hxs_tcp_conn *cc;

		CHECK_EQ(hxs_tcp_conn__new(t->tcp, &cc), 0);
		CHECK_EQ(hxs_tcp_conn__connect(cc, TS_LOCAL, TS_LPORT, TS_REMOTE, TS_RPORT, 0), 0);
		EXPECT(t, HXS_TH_SYN, last.seq, 0, 0);
		iss = last.seq;
		o.tsecr = last.opt.tsval;
		ts_synack(t, 0, PISN, iss + 1, &o);
		EXPECT(t, HXS_TH_ACK, iss + 1, PISN + 1, 0);
		c = cc;
	}
	CHECK_EQ(hxs_tcp_conn__send(c, "x", 1), 1);
	ts_run_until(t, 1 * MS);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1, PISN + 1, 1);
	CHECK_EQ(last.t, 0);                     /* sent at once (the poll at time 0) */
	tsval = last.opt.tsval;
	ts_run_until(t, 200 * S);                /* retransmissions meanwhile */
	ts_clear(t);
	/* RFC 7323 §4: the ACK echoes the first transmission's TSval: R = 200 s */
	o.tsval = 600;
	o.tsecr = tsval;
	TS_IN(t, 200 * S, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss + 2, .wnd = 65535,
	      .opt = &o);
	hxs_tcp_conn__info(c, &info);
	/* SRTT 1 us (the handshake), then R = 2e8: RTTVAR = (2e8 - 1) / 4, SRTT = (7 + 2e8) / 8 */
	CHECK_EQ(info.rtt_us, 25000000);
	CHECK_EQ(info.rttvar_us, 49999999);
	CHECK_EQ(info.rto_us, 120000000);
	CHECK_EQ(info.retransmits, 0);
	done(t, c);
}

/* --- RFC 5681 §4.1 idle restart; RFC 9438 §5.8 CUBIC's t excludes idle time ------------------ */
/* A connection (peer MSS 1000, no options) whose cwnd grew by slow start to 30 segments; the
 * last data went out at 11 ms, its RTO is the 200 ms floor. */
static struct hxs_tcp_conn *grown(struct ts *t, const char *cc, uint32_t *una)
{
	static uint8_t d[20000];
	struct hxs_tcp_opts o = ts_mss_opt(1000);
	struct hxs_tcp_conn *c;
	struct hxs_tcp_info info;
	uint32_t iss, u;

	c = active(t, 0, TS_RPORT, cc, &o, &iss);
	u = iss + 1;
	CHECK_EQ(hxs_tcp_conn__send(c, d, sizeof(d)), (long)sizeof(d));
	ts_run_until(t, 1 * MS);
	CHECK_EQ(ts_pending(t), 10);             /* IW 10 (RFC 6928) */
	ts_clear(t);
	/* one ACK per segment: +1 SMSS each (RFC 5681 §3.1 slow start) */
	for (uint32_t k = 1; k <= 10; k++)
		ts_ack(t, 11 * MS, PISN + 1, u + 1000 * k);
	CHECK_EQ(ts_pending(t), 10);
	ts_clear(t);
	for (uint32_t k = 11; k <= 20; k++)
		ts_ack(t, 21 * MS, PISN + 1, u + 1000 * k);
	EXPECT_NONE(t);
	hxs_tcp_conn__info(c, &info);
	CHECK_EQ(info.snd_cwnd, 30);
	CHECK_EQ(info.rto_us, 200000);
	*una = u + 20000;
	return c;
}

/* Bytes the stack sends at once after the application writes 40000 bytes at `when`. */
static uint32_t burst_after(struct ts *t, struct hxs_tcp_conn *c, uint64_t when)
{
	static uint8_t d[40000];
	struct ts_seg s;
	uint32_t n = 0;

	ts_run_until(t, when);
	CHECK_EQ(hxs_tcp_conn__send(c, d, sizeof(d)), (long)sizeof(d));
	hxs_tcp__poll(t->tcp, when);
	while (ts_pop(t, &s))
		n += s.len;
	return n;
}

static void test_idle_restart(void)
{
	static const char *const ccs[] = { "newreno", "cubic" };
	struct hxs_tcp_info info;
	struct hxs_tcp_conn *c;
	uint32_t una;
	struct ts *t;

	for (int k = 0; k < 2; k++) {
		t_case(k ? "RFC 5681 §4.1 (cubic): idle 200 ms = RTO: cwnd kept, 30 segments go at once"
			 : "RFC 5681 §4.1 (newreno): idle 200 ms = RTO: cwnd kept, 30 segments go at once");
		t = ts_open(NULL);
		c = grown(t, ccs[k], &una);
		CHECK_EQ(burst_after(t, c, 11 * MS + 200 * MS), 30000);
		hxs_tcp_conn__info(c, &info);
		CHECK_EQ(info.snd_cwnd, 30);
		done(t, c);

		t_case(k ? "RFC 5681 §4.1 (cubic): idle 1 us beyond the RTO: cwnd = IW, 10 segments go"
			 : "RFC 5681 §4.1 (newreno): idle 1 us beyond the RTO: cwnd = IW, 10 segments go");
		t = ts_open(NULL);
		c = grown(t, ccs[k], &una);
		CHECK_EQ(burst_after(t, c, 11 * MS + 200 * MS + 1), 10000);
		hxs_tcp_conn__info(c, &info);
		CHECK_EQ(info.snd_cwnd, 10);
		CHECK_EQ(info.snd_ssthresh, 0x7fffffff);   /* restart is not a congestion signal */
		done(t, c);
	}
}

/* One segment of 1000 bytes sent at `now` and acknowledged 10 ms later, while cwnd is far
 * larger (application-limited, RFC 7661 §3); *u is SND.UNA. Returns the time of the ACK. */
static uint64_t trickle_round(struct ts *t, struct hxs_tcp_conn *c, uint64_t now, uint32_t *u)
{
	static uint8_t d[1000];

	ts_run_until(t, now);
	CHECK_EQ(hxs_tcp_conn__send(c, d, 1000), 1000);
	hxs_tcp__poll(t->tcp, now);
	CHECK_EQ(ts_pending(t), 1);
	ts_clear(t);
	*u += 1000;
	ts_ack(t, now + 10 * MS, PISN + 1, *u);
	ts_clear(t);
	return now + 10 * MS;
}

/* A connection in congestion avoidance (cc "cubic" or "newreno", MSS 1000, SACK): 10
 * segments, the first lost, SACK recovery, all acknowledged at 21 ms; *u is SND.UNA then.
 * CUBIC leaves cwnd = ssthresh = 7000 (β 0.7), NewReno 5000 (FlightSize / 2). */
static struct hxs_tcp_conn *after_loss(struct ts *t, const char *cc, uint32_t *u)
{
	static uint8_t d[10000];
	struct hxs_tcp_opts o = ts_mss_opt(1000);
	struct hxs_tcp_conn *c;
	uint32_t iss;

	o.sack_perm = 1;
	c = active(t, 0, TS_RPORT, cc, &o, &iss);
	*u = iss + 1;
	CHECK_EQ(hxs_tcp_conn__send(c, d, 10000), 10000);
	ts_run_until(t, 1 * MS);
	ts_clear(t);
	for (uint32_t k = 2; k <= 4; k++) {
		struct hxs_tcp_opts s = ts_mss_opt(0);

		s.nsack = 1;
		s.sack[0].start = *u + 1000;
		s.sack[0].end = *u + 1000 * k;
		TS_IN(t, 11 * MS, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = *u, .wnd = 65535, .opt = &s);
	}
	CHECK_EQ(MIBV(t, TCPSackRecovery), 1);
	ts_clear(t);
	ts_ack(t, 21 * MS, PISN + 1, *u + 10000);  /* recovery over: cwnd = ssthresh */
	*u += 10000;
	return c;
}

/* CUBIC in congestion avoidance: a loss (SACK recovery) sets cwnd = ssthresh = 7000, then
 * rounds of as many full segments as cwnd allows (so cwnd is in use, RFC 9438 §5.8), each
 * acknowledged segment by segment 10 ms later; before round `idle_round` the application
 * waits `idle` more, or (trickle) sends one segment per 10 ms round trip for that long.
 * Records cwnd (bytes) after each round. */
static void cubic_rounds(uint64_t idle, int trickle, int idle_round, uint32_t *cwnd, int rounds)
{
	static uint8_t d[20000];
	struct hxs_tcp_conn *c;
	uint32_t u;
	uint64_t now;
	struct ts *t = ts_open(NULL);

	c = after_loss(t, "cubic", &u);
	CHECK_EQ(c->cc.cwnd, 7000);
	CHECK_EQ(c->cc.ssthresh, 7000);
	now = 21 * MS;
	for (int r = 0; r < rounds; r++) {
		uint32_t n = 0, len = c->cc.cwnd / 1000 * 1000;
		struct ts_seg s;

		if (!CHECK(len <= sizeof(d), "cwnd %u", c->cc.cwnd))
			len = sizeof(d);
		if (r == idle_round && trickle) {
			uint64_t end = now + idle;

			while (now < end)
				now = trickle_round(t, c, now, &u);
		} else if (r == idle_round) {
			now += idle;
		}
		ts_run_until(t, now);
		CHECK_EQ(hxs_tcp_conn__send(c, d, len), (long)len);
		hxs_tcp__poll(t->tcp, now);
		while (ts_pop(t, &s))
			n += s.len;
		CHECK_EQ(n, len);
		now += 10 * MS;
		for (uint32_t k = 1; k <= len / 1000; k++)
			ts_ack(t, now, PISN + 1, u + 1000 * k);
		ts_clear(t);
		u += len;
		cwnd[r] = c->cc.cwnd;
	}
	done(t, c);
}

static void test_cubic_idle(void)
{
	enum { R = 6 };
	uint32_t base[R], idle[R];
	int same = 1;

	t_case("RFC 9438 §5.8: t excludes idle periods: after 10 s idle CUBIC's cwnd grows as without the pause");
	cubic_rounds(0, 0, 3, base, R);
	cubic_rounds(10 * S, 0, 3, idle, R);
	for (int r = 0; r < R; r++) {
		printf("#   round %d: cwnd %u, with 10 s idle before round 3: %u\n", r, base[r], idle[r]);
		same &= base[r] == idle[r];
	}
	CHECK(same, "cwnd differs after the idle period");
	CHECK(base[R - 1] > 7000, "congestion avoidance grew cwnd (%u)", base[R - 1]);
}

/* --- RFC 7661, RFC 9438 §5.8: cwnd does not grow while the application leaves it unused ---- */
static void test_app_limited(void)
{
	static const char *const ccs[] = { "newreno", "cubic" };
	enum { R = 6 };
	uint32_t base[R], trickle[R], iss, u, cw;
	struct hxs_tcp_opts o = ts_mss_opt(1000);
	struct hxs_tcp_conn *c;
	uint64_t now;
	struct ts *t;
	int same = 1;

	for (int k = 0; k < 2; k++) {
		t_case(k ? "RFC 7661 §4.3 (cubic): slow start, one segment per round trip for 50 round trips: cwnd stays IW"
			 : "RFC 7661 §4.3 (newreno): slow start, one segment per round trip for 50 round trips: cwnd stays IW");
		t = ts_open(NULL);
		c = active(t, 0, TS_RPORT, ccs[k], &o, &iss);
		u = iss + 1;
		now = 1 * MS;
		for (int r = 0; r < 50; r++)
			now = trickle_round(t, c, now, &u);
		/* Linux's tcp_is_cwnd_limited(): in slow start cwnd may grow up to twice the
		 * largest flight (1000); IW 10000 is above that already */
		CHECK_EQ(c->cc.cwnd, 10000);
		CHECK_EQ(c->cc.ssthresh, UINT32_MAX);
		CHECK_EQ(c->bytes_acked, 50000);
		done(t, c);

		t_case(k ? "RFC 9438 §5.8 (cubic): congestion avoidance, one segment per round trip for 50 round trips: cwnd unchanged"
			 : "RFC 7661 §4.3 (newreno): congestion avoidance, one segment per round trip for 50 round trips: cwnd unchanged");
		t = ts_open(NULL);
		c = after_loss(t, ccs[k], &u);
		cw = k ? 7000 : 5000;
		CHECK_EQ(c->cc.cwnd, cw);
		CHECK_EQ(c->cc.ssthresh, cw);
		now = 21 * MS;
		for (int r = 0; r < 50; r++)
			now = trickle_round(t, c, now, &u);
		CHECK_EQ(c->cc.cwnd, cw);
		/* and cwnd in use again grows: a full window, acknowledged */
		{
			static uint8_t d[7000];
			struct ts_seg s;
			uint32_t n = 0;

			CHECK_EQ(hxs_tcp_conn__send(c, d, cw), (long)cw);
			hxs_tcp__poll(t->tcp, now);
			while (ts_pop(t, &s))
				n += s.len;
			CHECK_EQ(n, cw);
			for (uint32_t j = 1; j <= cw / 1000; j++)
				ts_ack(t, now + 10 * MS, PISN + 1, u + 1000 * j);
			CHECK(c->cc.cwnd > cw, "cwnd %u after a full window", c->cc.cwnd);
		}
		done(t, c);
	}

	t_case("RFC 9438 §5.8: t excludes application-limited periods: after 10 s of one segment per round trip CUBIC's cwnd grows as without them");
	cubic_rounds(0, 0, 3, base, R);
	cubic_rounds(10 * S, 1, 3, trickle, R);
	for (int r = 0; r < R; r++) {
		printf("#   round %d: cwnd %u, with 10 s application-limited before round 3: %u\n", r,
		       base[r], trickle[r]);
		same &= base[r] == trickle[r];
	}
	CHECK(same, "cwnd differs after the application-limited period");
}

/* --- RFC 6298 §2.3 with RFC 7323 §4 samples: old TSecr values ------------------------------ */

/* One byte sent at `now`, acknowledged at once with TSecr = its TSval - age_ms (a TSecr that
 * far in the past); returns SRTT as TCP_INFO reports it afterwards. */
static uint32_t old_tsecr_sample(struct ts *t, struct hxs_tcp_conn *c, uint64_t now, uint32_t iss,
				 uint32_t k, uint32_t age_ms, struct hxs_tcp_info *info)
{
	struct hxs_tcp_opts o = ts_mss_opt(0);

	ts_run_until(t, now);
	CHECK_EQ(hxs_tcp_conn__send(c, "x", 1), 1);
	hxs_tcp__poll(t->tcp, now);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, iss + 1 + k, PISN + 1, 1);
	o.has_ts = 1;
	o.tsval = 600 + k;
	o.tsecr = last.opt.tsval - age_ms;
	TS_IN(t, now, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss + 2 + k, .wnd = 65535, .opt = &o);
	hxs_tcp_conn__info(c, info);
	return info->rtt_us;
}

static void test_rtt_old_tsecr(void)
{
	struct hxs_tcp_opts o = ts_mss_opt(1460);
	struct hxs_tcp_conn *c;
	struct hxs_tcp_info info;
	uint32_t iss, prev = 0, r;
	uint64_t srtt, var;
	int exact = 1;
	struct ts *t;

	t_case("RFC 6298 §2.3: twenty samples R = 1.8e9 us (TSecr 30 min old): SRTT and RTTVAR as the RFC's formulas, no 32-bit overflow");
	t = ts_open(NULL);
	o.has_ts = 1;
	o.tsval = 500;
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &c), 0);
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, TS_LPORT, TS_REMOTE, TS_RPORT, 0), 0);
	EXPECT(t, HXS_TH_SYN, last.seq, 0, 0);
	iss = last.seq;
	o.tsecr = last.opt.tsval;
	ts_synack(t, 0, PISN, iss + 1, &o);
	EXPECT(t, HXS_TH_ACK, iss + 1, PISN + 1, 0);
	hxs_tcp_conn__info(c, &info);           /* the handshake's sample */
	srtt = info.rtt_us;
	var = info.rttvar_us;
	for (uint32_t k = 0; k < 20; k++) {
		uint64_t d;

		r = old_tsecr_sample(t, c, (k + 1) * S, iss, k, 1800000, &info);
		/* RFC 6298 §2.3 with alpha 1/8, beta 1/4, in exact integers */
		d = srtt > 1800000000u ? srtt - 1800000000u : 1800000000u - srtt;
		var = (3 * var + d) / 4;
		srtt = (7 * srtt + 1800000000u) / 8;
		if (k < 3 || k == 19)
			printf("#   sample %u: SRTT %u us (RFC: %llu), RTTVAR %u us (RFC: %llu)\n", k + 1, r,
			       (unsigned long long)srtt, info.rttvar_us, (unsigned long long)var);
		exact &= r == srtt && info.rttvar_us == var && r >= prev;
		prev = r;
	}
	CHECK(exact, "SRTT or RTTVAR differ from RFC 6298 §2.3");
	CHECK(prev > 1600000000u, "SRTT %u after twenty samples of 1.8e9", prev);
	CHECK_EQ(info.rto_us, 120 * S);

	t_case("RFC 7323 §4: a TSecr 2 h old (7.2e9 us, beyond 2^31 us) is no RTT sample (Linux's tcp_rtt_tsopt_us)");
	r = old_tsecr_sample(t, c, 30 * S, iss, 20, 7200000, &info);
	CHECK_EQ(r, prev);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_ESTABLISHED);
	done(t, c);
}

/* --- RFC 6582 §3.2: the recover gate 2 GiB after a loss ------------------------------------- */

/* Three duplicate ACKs of SND.UNA with data outstanding; 1 if the segment at SND.UNA was
 * retransmitted at once (fast retransmit). */
static int three_dupacks(struct ts *t, struct hxs_tcp_conn *c, uint64_t now)
{
	uint32_t una = c->snd_una;

	ts_clear(t);
	for (int k = 0; k < 3; k++)
		ts_ack(t, now, PISN + 1, una);
	while (ts_pending(t)) {
		struct ts_seg s;

		ts_pop(t, &s);
		if (s.seq == una && s.len == c->mss)
			return 1;
	}
	return 0;
}

static void test_recover_wrap(void)
{
	static uint8_t d[1 << 20];
	struct hxs_tcp_opts o = ts_mss_opt(TS_MTU_MAX - 40);
	struct hxs_tcp_cfg cfg;
	struct hxs_tcp_conn *c;
	uint32_t iss, start;
	uint64_t now = 1 * MS;
	struct ts *t;

	t_case("RFC 6582 §3.2 step 2: 2^31 + 2^28 bytes after a fast retransmit, three duplicate ACKs start the next one (no sequence-space wrap of recover)");
	memset(&cfg, 0, sizeof(cfg));
	cfg.mtu = TS_MTU_MAX;                    /* large segments: 2.4 GB in 270k */
	cfg.sndbuf = 4 << 20;
	t = ts_open(&cfg);
	o.has_ws = 1;
	o.ws = 6;
	c = active(t, 0, TS_RPORT, "newreno", &o, &iss);
	ts_ack(t, 0, PISN + 1, iss + 1);          /* the scaled window: 65535 << 6 */
	CHECK_EQ(hxs_tcp_conn__send(c, d, 5 * c->mss), (long)(5 * c->mss));
	hxs_tcp__poll(t->tcp, now);
	CHECK(three_dupacks(t, c, now), "first fast retransmit");
	CHECK_EQ(MIBV(t, TCPFastRetrans), 1);
	ts_ack(t, now, PISN + 1, c->snd_max);    /* recovery over */
	CHECK_EQ(c->recovery, HXS_REC_NONE);
	start = c->snd_una;
	/* the send ring kept full, everything sent acknowledged once per round */
	while (SEQ_DIFF(c->snd_una, start) < (1u << 31) + (1u << 28)) {
		now += 1 * MS;
		ts_run_until(t, now);
		while (hxs_tcp_conn__send(c, d, sizeof(d)) > 0)
			;
		hxs_tcp__poll(t->tcp, now);
		ts_clear(t);
		ts_ack(t, now, PISN + 1, c->snd_max);
		ts_clear(t);
	}
	CHECK_EQ(MIBV(t, TCPTimeouts), 0);
	now += 1 * MS;
	ts_run_until(t, now);
	while (hxs_tcp_conn__send(c, d, sizeof(d)) > 0)
		;
	hxs_tcp__poll(t->tcp, now);
	CHECK(SEQ_DIFF(c->snd_max, c->snd_una) >= 4 * c->mss, "in flight %u",
	      SEQ_DIFF(c->snd_max, c->snd_una));
	CHECK(three_dupacks(t, c, now), "no fast retransmit %u bytes after the last",
	      SEQ_DIFF(c->snd_una, start));
	CHECK_EQ(MIBV(t, TCPFastRetrans), 2);
	done(t, c);
}

/* --- RFC 6298 §3: Karn's algorithm for every kind of retransmission ------------------------ */

/* An ACK of SND.UNA u with the SACK blocks given (most recent first). */
static void sack_ack(struct ts *t, uint64_t now, uint32_t u, int n, const uint32_t (*b)[2])
{
	struct hxs_tcp_opts s = ts_mss_opt(0);

	s.nsack = (uint8_t)n;
	for (int i = 0; i < n; i++) {
		s.sack[i].start = b[i][0];
		s.sack[i].end = b[i][1];
	}
	TS_IN(t, now, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = u, .wnd = 65535, .opt = &s);
}

static void test_karn(void)
{
	static uint8_t d[20000];
	struct hxs_tcp_opts o = ts_mss_opt(1000);
	struct hxs_tcp_conn *c;
	struct hxs_tcp_info info;
	uint32_t iss, u, srtt0;
	struct ts_seg s;
	int found;
	struct ts *t;

	t_case("RFC 6298 §3 (Karn): data sent again when the peer reopens a window it had closed gives no RTT sample");
	t = ts_open(NULL);
	c = active(t, 0, TS_RPORT, NULL, &o, &iss);  /* no timestamps: RTT by timing */
	u = iss + 1;
	hxs_tcp_conn__info(c, &info);
	srtt0 = info.rtt_us;                     /* the handshake's sample */
	CHECK_EQ(hxs_tcp_conn__send(c, d, 2000), 2000);
	hxs_tcp__poll(t->tcp, 0);
	CHECK_EQ(ts_pending(t), 2);
	ts_clear(t);
	TS_IN(t, 10 * MS, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = u, .wnd = 0);
	ts_run_until(t, 1 * S);                  /* RTO finds the window closed; probes */
	ts_clear(t);
	ts_ack(t, 1 * S, PISN + 1, u);           /* the window opens: both segments again */
	CHECK(EXPECT(t, HXS_TH_ACK, u, PISN + 1, 1000), "retransmission of the first");
	ts_clear(t);
	ts_ack(t, 1 * S + 10 * MS, PISN + 1, u + 2000);
	hxs_tcp_conn__info(c, &info);
	CHECK_EQ(info.rtt_us, srtt0);            /* not (7 * SRTT + 1.01 s) / 8 */
	done(t, c);

	t_case("RFC 6298 §3 (Karn): new data timed during SACK recovery, then retransmitted by NextSeg(), gives no RTT sample");
	t = ts_open(NULL);
	o.sack_perm = 1;
	c = active(t, 0, TS_RPORT, NULL, &o, &iss);
	u = iss + 1;
	hxs_tcp_conn__info(c, &info);
	srtt0 = info.rtt_us;
	CHECK_EQ(hxs_tcp_conn__send(c, d, 16000), 16000);
	hxs_tcp__poll(t->tcp, 0);
	CHECK_EQ(ts_pending(t), 10);             /* IW: [u, u + 10000), timed from its first */
	ts_clear(t);
	/* [u, u + 1000) lost, the rest SACKed: two segments of limited transmit (RFC 3042),
	 * recovery (its retransmission ends that timing), then the last 4000 bytes; the first
	 * of them, [u + 12000, u + 13000), is timed from 10 ms */
	for (uint32_t k = 2; k <= 10; k++)
		sack_ack(t, 10 * MS, u, 1, (const uint32_t[][2]){ { u + 1000, u + 1000 * k } });
	CHECK_EQ(MIBV(t, TCPSackRecovery), 1);
	CHECK_EQ(c->snd_max, u + 16000);
	CHECK(c->rtt_timing && c->rtt_seq == u + 12000, "timing %d at %u", c->rtt_timing, c->rtt_seq - u);
	ts_clear(t);
	/* at 20 ms: the retransmission and [u + 12000, u + 13000) lost, all else SACKed:
	 * NextSeg() rule 1 sends the timed segment again */
	sack_ack(t, 20 * MS, u, 2,
		 (const uint32_t[][2]){ { u + 13000, u + 16000 }, { u + 1000, u + 12000 } });
	found = 0;
	while (ts_pop(t, &s))
		found |= s.seq == u + 12000 && s.len == 1000;
	CHECK(found, "the timed segment retransmitted");
	/* everything acknowledged at 30 ms: no 20 ms sample from the first transmission */
	ts_ack(t, 30 * MS, PISN + 1, u + 16000);
	CHECK_EQ(c->recovery, HXS_REC_NONE);
	hxs_tcp_conn__info(c, &info);
	CHECK_EQ(info.rtt_us, srtt0);
	done(t, c);
}

/* --- RFC 5681 §4.2: every second full-sized segment of the peer's size ---------------------- */
static void test_delack_peer_mss(void)
{
	static uint8_t d[1460];
	struct hxs_tcp_opts o = ts_mss_opt(1460);
	struct hxs_tcp_conn *l, *c = NULL;
	struct hxs_tcp_cfg cfg;
	struct ts_seg s;
	uint32_t iss;
	int acks = 0, bad = 0;
	struct ts *t;

	t_case("RFC 5681 §4.2: our MTU 9000, a peer sending 1460-byte segments: every second one is ACKed at once");
	memset(&cfg, 0, sizeof(cfg));
	cfg.mtu = 9000;
	t = ts_open(&cfg);
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &l), 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8), 0);
	ts_syn(t, 0, PISN, &o);
	EXPECT(t, HXS_TH_SYN | HXS_TH_ACK, last.seq, PISN + 1, 0);
	CHECK_EQ(last.opt.mss, 8960);                /* ours: 9000 - 40 */
	iss = last.seq;
	ts_ack(t, 0, PISN + 1, iss + 1);
	CHECK_EQ(hxs_tcp_conn__accept(l, &c), 0);
	/* 12 segments 1 ms apart: with the threshold from our own MSS (2 * 8960 bytes) none
	 * would be ACKed before the 40 ms timer */
	for (uint32_t k = 0; k < 12; k++) {
		ts_data(t, 10 * MS + k * MS, PISN + 1 + k * 1460, iss + 1, d, 1460);
		if (k % 2 && ts_pop(t, &s)) {
			acks++;
			bad += s.flags != HXS_TH_ACK || s.ack != PISN + 1 + (k + 1) * 1460;
		}
		bad += ts_pending(t) != 0;
		ts_clear(t);
	}
	CHECK_EQ(acks, 6);
	CHECK_EQ(bad, 0);
	CHECK_EQ(MIBV(t, DelayedACKs), 0);
	hxs_tcp_conn__close(l);
	done(t, c);
}

/* --- RFC 2883: a D-SACK received is counted and kept out of the scoreboard ------------------ */
static void test_dsack_received(void)
{
	static uint8_t d[5000];
	struct hxs_tcp_opts o = ts_mss_opt(1000), s;
	struct hxs_tcp_conn *c;
	struct hxs_tcp_info info;
	uint32_t iss, u;
	struct ts *t;

	/* RFC 6675's duplicate-ACK counting is what these two cases look at (RACK: tests/pkt/rack) */
	struct hxs_tcp_cfg rfc6675 = { .recovery = HXS_TCP_RECOVERY_SACK };

	t_case("RFC 2883 §4: a first SACK block below the cumulative ACK is a D-SACK: counted, not SACKed, nothing resent");
	t = ts_open(&rfc6675);
	o.sack_perm = 1;
	c = active(t, 0, TS_RPORT, NULL, &o, &iss);
	u = iss + 1;
	CHECK_EQ(hxs_tcp_conn__setopt(c, HXS_TCP_O_NODELAY, 1), 0);
	CHECK_EQ(hxs_tcp_conn__send(c, d, 5000), 5000);
	ts_run_until(t, 1 * MS);
	CHECK_EQ(ts_pending(t), 5);
	ts_clear(t);
	ts_ack(t, 10 * MS, PISN + 1, u + 2000);
	hxs_tcp_conn__info(c, &info);
	s = ts_mss_opt(0);
	s.nsack = 1;
	s.sack[0].start = u;                     /* [u, u+1000) lies below ACK u+2000 */
	s.sack[0].end = u + 1000;
	TS_IN(t, 11 * MS, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = u + 2000, .wnd = 65000, .opt = &s);
	CHECK_EQ(MIBV(t, TCPDSACKRecv), 1);
	CHECK_EQ(c->sb.n, 0);                    /* the scoreboard holds nothing */
	CHECK_EQ(c->dupacks, 0);                 /* not a duplicate ACK (window changed), no new SACK */
	EXPECT_NONE(t);
	CHECK_EQ(MIBV(t, TcpRetransSegs), 0);

	t_case("RFC 2883 §4: a first block inside the second is a D-SACK; the second block is SACK information");
	s.nsack = 2;
	s.sack[0].start = u + 3000;              /* duplicate, inside [u+3000, u+5000) */
	s.sack[0].end = u + 4000;
	s.sack[1].start = u + 3000;
	s.sack[1].end = u + 5000;
	TS_IN(t, 12 * MS, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = u + 2000, .wnd = 64000, .opt = &s);
	CHECK_EQ(MIBV(t, TCPDSACKRecv), 2);
	CHECK_EQ(c->sb.n, 1);
	CHECK_EQ(c->sb.r[0].start, u + 3000);
	CHECK_EQ(c->sb.r[0].end, u + 5000);
	CHECK_EQ(c->sb.sacked_bytes, 2000);
	CHECK_EQ(c->dupacks, 1);                 /* new SACK information (RFC 6675 §5) */
	EXPECT_NONE(t);                          /* no new data to send, no recovery */
	CHECK_EQ(MIBV(t, TCPSackRecovery), 0);
	CHECK_EQ(MIBV(t, TcpRetransSegs), 0);
	done(t, c);
}

/* --- out-of-order reassembly: 32 ranges, then TCPOFODrop ------------------------------------- */
static void test_ofo_bound(void)
{
	struct hxs_tcp_opts o = ts_mss_opt(1460);
	struct hxs_tcp_conn *c;
	uint32_t iss, base = PISN + 1;
	uint8_t b[8], got[8];
	struct ts *t;

	t_case("RFC 9293 §3.10.7.4 (segments beyond RCV.NXT held): 32 out-of-order ranges kept (TCPOFOQueue 32), the 33rd dropped (TCPOFODrop 1)");
	t = ts_open(NULL);
	o.sack_perm = 1;
	c = active(t, 0, TS_RPORT, NULL, &o, &iss);
	/* range k holds the byte at offset 2k + 1: holes at 0, 2, 4, ... */
	for (uint32_t k = 0; k < 33; k++) {
		b[0] = (uint8_t)('A' + k);
		ts_data(t, 1 * MS, base + 2 * k + 1, iss + 1, b, 1);
		EXPECT(t, HXS_TH_ACK, iss + 1, base, 0);   /* an immediate duplicate ACK */
		CHECK(last.opt.nsack >= 1);
		if (k < 32) {
			/* RFC 2018 §4: the first block holds the segment that triggered the ACK */
			CHECK_EQ(last.opt.sack[0].start, base + 2 * k + 1);
			CHECK_EQ(last.opt.sack[0].end, base + 2 * k + 2);
		} else {
			/* dropped: the blocks are the ranges still held, most recent first */
			CHECK_EQ(last.opt.sack[0].start, base + 63);
			CHECK_EQ(last.opt.sack[0].end, base + 64);
		}
	}
	CHECK_EQ(c->reass.n, 32);
	CHECK_EQ(MIBV(t, TCPOFOQueue), 32);
	CHECK_EQ(MIBV(t, TCPOFODrop), 1);

	t_case("RFC 9293 §3.10.7.4 at 32 ranges: bytes that merge two ranges are taken; a new range again only after");
	b[0] = '2';
	ts_data(t, 2 * MS, base + 2, iss + 1, b, 1);   /* joins [1,2) and [3,4) */
	EXPECT(t, HXS_TH_ACK, iss + 1, base, 0);
	CHECK_EQ(c->reass.n, 31);
	CHECK_EQ(MIBV(t, TCPOFOQueue), 33);
	b[0] = 'A' + 32;
	ts_data(t, 3 * MS, base + 65, iss + 1, b, 1);  /* the dropped one, resent: room now */
	EXPECT(t, HXS_TH_ACK, iss + 1, base, 0);
	CHECK_EQ(c->reass.n, 32);
	CHECK_EQ(MIBV(t, TCPOFOQueue), 34);
	b[0] = '!';
	ts_data(t, 4 * MS, base + 67, iss + 1, b, 1);  /* a 33rd range again */
	EXPECT(t, HXS_TH_ACK, iss + 1, base, 0);
	CHECK_EQ(MIBV(t, TCPOFODrop), 2);
	CHECK_EQ(MIBV(t, TCPOFOQueue), 34);

	t_case("RFC 5681 §4.2: filling the first hole delivers up to the next hole (bytes exact), ACKed at once");
	b[0] = '0';
	ts_data(t, 5 * MS, base, iss + 1, b, 1);
	EXPECT(t, HXS_TH_ACK, iss + 1, base + 4, 0);
	CHECK_EQ(hxs_tcp_conn__rx_avail(c), 4);
	CHECK_EQ(hxs_tcp_conn__recv(c, got, sizeof(got), 0), 4);
	CHECK(!memcmp(got, "0A2B", 4), "got %.4s", (char *)got);
	CHECK_EQ(c->reass.n, 31);
	done(t, c);
}

/* --- RFC 9293 §3.8.6.2: silly window syndrome avoidance ------------------------------------- */
static void test_sws_sender(void)
{
	static uint8_t d[10000];
	struct hxs_tcp_opts o = ts_mss_opt(1460);
	struct hxs_tcp_conn *c;
	uint32_t iss, u;
	uint64_t t_ack;
	struct ts *t;

	t_case("RFC 9293 §3.8.6.2.1 sender SWS: max window 2000, MSS 1460: less than a segment goes only at >= 1000 bytes (Fs = 1/2)");
	t = ts_open(NULL);
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &c), 0);
	CHECK_EQ(hxs_tcp_conn__connect(c, TS_LOCAL, TS_LPORT, TS_REMOTE, TS_RPORT, 0), 0);
	EXPECT(t, HXS_TH_SYN, last.seq, 0, 0);
	iss = last.seq;
	u = iss + 1;
	TS_IN(t, 0, .flags = HXS_TH_SYN | HXS_TH_ACK, .seq = PISN, .ack = iss + 1, .wnd = 2000, .opt = &o);
	EXPECT(t, HXS_TH_ACK, u, PISN + 1, 0);
	ts_fill(d, sizeof(d), 5);
	CHECK_EQ(hxs_tcp_conn__send(c, d, sizeof(d)), (long)sizeof(d));
	ts_run_until(t, 1 * MS);
	EXPECT(t, HXS_TH_ACK, u, PISN + 1, 1460);  /* "a maximum-sized segment can be sent" */
	EXPECT_NONE(t);                          /* 540 usable: < MSS and < 1000 */
	TS_IN(t, 10 * MS, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = u + 730, .wnd = 1270);
	EXPECT_NONE(t);                          /* the right edge did not move: still 540 */
	TS_IN(t, 11 * MS, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = u + 1460, .wnd = 999);
	EXPECT_NONE(t);                          /* 999 usable: one short of max window / 2 */
	TS_IN(t, 12 * MS, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = u + 1460, .wnd = 1000);
	EXPECT(t, HXS_TH_ACK, u + 1460, PISN + 1, 1000);
	CHECK(!memcmp(last.data, d + 1460, 1000));
	EXPECT_NONE(t);

	t_case("RFC 9293 §3.8.6.2.1 sender SWS: the override timeout (persist, one RTO) sends a 700-byte window");
	t_ack = 20 * MS;
	TS_IN(t, t_ack, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = u + 2460, .wnd = 700);
	EXPECT_NONE(t);
	ts_run_until(t, t_ack + 200 * MS - 1);
	EXPECT_NONE(t);
	ts_run_until(t, t_ack + 200 * MS + 2 * TICK);
	EXPECT(t, HXS_TH_ACK | HXS_TH_PSH, u + 2460, PISN + 1, 700);
	CHECK(last.t >= t_ack + 200 * MS, "sent %llu us after the ACK", (unsigned long long)(last.t - t_ack));
	CHECK(!memcmp(last.data, d + 2460, 700));
	EXPECT_NONE(t);
	done(t, c);
}

static void test_sws_receiver(void)
{
	static uint8_t d[8000], got[8000];
	struct hxs_tcp_cfg cfg;
	struct hxs_tcp_opts o = ts_mss_opt(1460);
	struct hxs_tcp_conn *c;
	uint32_t iss, base = PISN + 1, off;
	struct ts_seg s;
	struct ts *t;

	t_case("RFC 9293 §3.8.6.2.2 receiver SWS: 8000-byte buffer filled; the window reopens only by >= min(4000, MSS 1460)");
	memset(&cfg, 0, sizeof(cfg));
	cfg.rcvbuf = 8000;
	t = ts_open(&cfg);
	c = active(t, 0, TS_RPORT, NULL, &o, &iss);
	CHECK_EQ(last.wnd, 8000);                /* no window scale: the buffer as it is */
	ts_fill(d, sizeof(d), 1);
	for (off = 0; off < 8000; off += 1460) {
		uint32_t n = 8000 - off < 1460 ? 8000 - off : 1460;

		ts_data(t, 1 * MS, base + off, iss + 1, d + off, n);
	}
	ts_run_until(t, 100 * MS);
	while (ts_pop(t, &s))
		last = s;
	CHECK_EQ(last.ack, base + 8000);
	CHECK_EQ(last.wnd, 0);
	CHECK_EQ(hxs_tcp_conn__recv(c, got, 1000, 0), 1000);
	hxs_tcp__poll(t->tcp, 101 * MS);
	EXPECT_NONE(t);                          /* 1000 free: < 1460 */
	/* a window probe is answered with the window still closed */
	TS_IN(t, 102 * MS, .flags = HXS_TH_ACK, .seq = base + 7999, .ack = iss + 1, .wnd = 65535);
	EXPECT(t, HXS_TH_ACK, iss + 1, base + 8000, 0);
	CHECK_EQ(last.wnd, 0);
	CHECK_EQ(hxs_tcp_conn__recv(c, got + 1000, 459, 0), 459);
	hxs_tcp__poll(t->tcp, 103 * MS);
	EXPECT_NONE(t);                          /* 1459 free */
	CHECK_EQ(hxs_tcp_conn__recv(c, got + 1459, 1, 0), 1);
	hxs_tcp__poll(t->tcp, 104 * MS);
	EXPECT(t, HXS_TH_ACK, iss + 1, base + 8000, 0);   /* the window update */
	CHECK_EQ(last.wnd, 1460);
	CHECK(!memcmp(got, d, 1460));
	done(t, c);

	t_case("RFC 9293 §3.8.6.2.2 receiver SWS: a 2048-byte buffer reopens by half the buffer (1024 < MSS)");
	cfg.rcvbuf = 2048;
	t = ts_open(&cfg);
	c = active(t, 0, TS_RPORT, NULL, &o, &iss);
	CHECK_EQ(last.wnd, 2048);
	ts_data(t, 1 * MS, base, iss + 1, d, 1460);
	ts_data(t, 1 * MS, base + 1460, iss + 1, d + 1460, 588);
	ts_run_until(t, 100 * MS);
	while (ts_pop(t, &s))
		last = s;
	CHECK_EQ(last.ack, base + 2048);
	CHECK_EQ(last.wnd, 0);
	CHECK_EQ(hxs_tcp_conn__recv(c, got, 1023, 0), 1023);
	hxs_tcp__poll(t->tcp, 101 * MS);
	EXPECT_NONE(t);
	TS_IN(t, 101 * MS, .flags = HXS_TH_ACK, .seq = base + 2047, .ack = iss + 1, .wnd = 65535);
	EXPECT(t, HXS_TH_ACK, iss + 1, base + 2048, 0);
	CHECK_EQ(last.wnd, 0);                   /* 1023 free: still closed */
	CHECK_EQ(hxs_tcp_conn__recv(c, got, 1, 0), 1);
	hxs_tcp__poll(t->tcp, 102 * MS);
	EXPECT(t, HXS_TH_ACK, iss + 1, base + 2048, 0);
	CHECK_EQ(last.wnd, 1024);
	done(t, c);
}

/* --- RFC 2018 §8 / RFC 6675 §5.1: the scoreboard is cleared on an RTO ------------------------ */
static void test_sack_rto_clear(void)
{
	static uint8_t d[10000];
	struct hxs_tcp_opts o = ts_mss_opt(1000), s;
	struct hxs_tcp_conn *c;
	uint32_t iss, u;
	uint64_t t0;
	struct ts *t;

	t_case("RFC 2018 §8: an RTO clears the SACK scoreboard; the same block reported again is new information");
	/* RFC 6675 recovery: RACK keeps SACK marks at the RTO, as Linux (tcp_rack.c) */
	t = ts_open(&(struct hxs_tcp_cfg){ .recovery = HXS_TCP_RECOVERY_SACK });
	o.sack_perm = 1;
	c = active(t, 0, TS_RPORT, "newreno", &o, &iss);
	u = iss + 1;
	CHECK_EQ(hxs_tcp_conn__send(c, d, 10000), 10000);
	ts_run_until(t, 1 * MS);
	CHECK_EQ(ts_pending(t), 10);
	ts_clear(t);
	t0 = 1 * MS;
	s = ts_mss_opt(0);
	s.nsack = 1;
	s.sack[0].start = u + 5000;
	s.sack[0].end = u + 6000;
	TS_IN(t, 10 * MS, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = u, .wnd = 65535, .opt = &s);
	EXPECT_NONE(t);                          /* one duplicate ACK, nothing new to send */
	CHECK_EQ(c->sb.n, 1);
	CHECK_EQ(c->sb.sacked_bytes, 1000);
	CHECK_EQ(c->dupacks, 1);
	/* the RTO (200 ms floor) resends the first segment with cwnd 1 SMSS */
	ts_run_until(t, t0 + 200 * MS + 2 * TICK);
	EXPECT(t, HXS_TH_ACK, u, PISN + 1, 1000);
	EXPECT_NONE(t);
	CHECK_EQ(MIBV(t, TCPTimeouts), 1);
	CHECK_EQ(c->sb.n, 0);
	CHECK_EQ(c->sb.sacked_bytes, 0);
	CHECK_EQ(c->dupacks, 0);
	/* The same block again, the window changed (so not an RFC 5681 duplicate ACK): newly
	 * SACKed bytes make it a duplicate ACK (RFC 6675 §5), and limited transmit (RFC 3042)
	 * sends one more segment. A scoreboard kept across the RTO would see nothing new. */
	TS_IN(t, t0 + 210 * MS, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = u, .wnd = 60000, .opt = &s);
	CHECK_EQ(c->sb.n, 1);
	CHECK_EQ(c->dupacks, 1);
	EXPECT(t, HXS_TH_ACK, u + 1000, PISN + 1, 1000);
	EXPECT_NONE(t);
	done(t, c);
}

/* --- SYN queue and accept queue limits -------------------------------------------------------- */
static void handshake_ack(struct ts *t, uint16_t i, uint32_t iss)
{
	TS_IN(t, 0, .rport = (uint16_t)(TS_RPORT + i), .flags = HXS_TH_ACK, .seq = PISN + 1,
	      .ack = iss + 1, .wnd = 65535);
}

static void test_listen_limits(void)
{
	struct hxs_tcp_cfg cfg;
	struct hxs_tcp_conn *l, *c;
	uint32_t iss[8];
	int accepted = 0, synacks = 0;
	struct ts *t;

	t_case("RFC 9293 §3.10.7.2 LISTEN, somaxconn 3 caps listen(128): the queue holds backlog + 1 = 4 handshakes (the kernel's sk_acceptq_is_full), the 5th SYN is dropped (ListenOverflows, ListenDrops)");
	memset(&cfg, 0, sizeof(cfg));
	cfg.somaxconn = 3;
	t = ts_open(&cfg);
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &l), 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 128), 0);
	for (uint16_t i = 0; i < 4; i++) {
		CHECK(ts_syn_from(t, 0, PISN, i, &iss[i]), "SYN %u answered", i);
		handshake_ack(t, i, iss[i]);
	}
	CHECK_EQ(ts_syn_from(t, 0, PISN, 4, &iss[4]), 0);
	CHECK_EQ(MIBV(t, ListenOverflows), 1);
	CHECK_EQ(MIBV(t, ListenDrops), 1);
	while (hxs_tcp_conn__accept(l, &c) == 0) {
		accepted++;
		hxs_tcp_conn__abort(c);
		hxs_tcp_conn__close(c);
	}
	CHECK_EQ(accepted, 4);
	ts_clear(t);
	hxs_tcp_conn__close(l);
	ts_free(t);

	t_case("RFC 9293 §3.10.7.2 LISTEN, RFC 4987 §3.6: tcp_max_syn_backlog 2 caps the SYN queue under listen(128): the 3rd SYN is answered with a SYN cookie, no state kept (SyncookiesSent 1, no drop); its ACK opens the connection");
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_syn_backlog = 2;
	t = ts_open(&cfg);
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &l), 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 128), 0);
	CHECK(ts_syn_from(t, 0, PISN, 0, &iss[0]));
	CHECK(ts_syn_from(t, 0, PISN, 1, &iss[1]));
	CHECK(ts_syn_from(t, 0, PISN, 2, &iss[2]));
	CHECK_EQ(MIBV(t, SyncookiesSent), 1);
	CHECK_EQ(MIBV(t, ListenDrops), 0);
	CHECK_EQ(MIBV(t, ListenOverflows), 0);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 3);    /* the listener and the two queued */
	handshake_ack(t, 2, iss[2]);             /* the cookie comes back */
	CHECK_EQ(MIBV(t, SyncookiesRecv), 1);
	CHECK_EQ(hxs_tcp_conn__accept(l, &c), 0);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_ESTABLISHED);
	hxs_tcp_conn__abort(c);
	hxs_tcp_conn__close(c);
	handshake_ack(t, 0, iss[0]);             /* one leaves the SYN queue: room again */
	CHECK(ts_syn_from(t, 0, PISN, 3, &iss[3]));
	CHECK_EQ(MIBV(t, SyncookiesSent), 1);    /* queued, no cookie */
	ts_clear(t);
	hxs_tcp_conn__close(l);
	ts_free(t);

	t_case("RFC 9293 §3.10.7.2 LISTEN, default somaxconn 4096: listen(100000) queues 4096 + 1 connections, the 4098th is refused");
	memset(&cfg, 0, sizeof(cfg));
	cfg.sndbuf = cfg.rcvbuf = 2048;
	t = ts_open(&cfg);
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &l), 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 100000), 0);
	for (uint16_t i = 0; i < 4098; i++) {
		uint32_t s;

		if (ts_syn_from(t, 0, PISN, i, &s)) {
			synacks++;
			handshake_ack(t, i, s);
		}
	}
	CHECK_EQ(synacks, 4097);
	CHECK_EQ(MIBV(t, ListenOverflows), 1);
	CHECK_EQ(l->acceptq_len, 4097);
	accepted = 0;
	while (hxs_tcp_conn__accept(l, &c) == 0) {
		accepted++;
		hxs_tcp_conn__abort(c);          /* one RST each */
		hxs_tcp_conn__close(c);
		ts_run_until(t, t->now);         /* a turn: its flush returns the RST's frame */
		ts_clear(t);
	}
	CHECK_EQ(accepted, 4097);
	hxs_tcp_conn__close(l);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 0);
	ts_free(t);

	t_case("RFC 9293 §3.10.1 passive OPEN: listen(-1) means somaxconn, as in Linux (a negative backlog is taken as the largest)");
	memset(&cfg, 0, sizeof(cfg));
	cfg.somaxconn = 5;
	t = ts_open(&cfg);
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &l), 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, -1), 0);
	CHECK_EQ(l->backlog, 5);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 0), 0);    /* again: only the backlog */
	CHECK_EQ(l->backlog, 0);                                 /* 0 stays 0: the queue still holds one */
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, -5), 0);
	CHECK_EQ(l->backlog, 5);
	hxs_tcp_conn__close(l);
	ts_free(t);
}

/* --- RFC 9293 §3.8.5 / RFC 6093: urgent data is delivered in line ---------------------------- */
static void test_urgent_inline(void)
{
	struct hxs_tcp_opts o = ts_mss_opt(1460);
	struct hxs_tcp_conn *c;
	uint8_t b[8];
	uint32_t iss;
	struct ts *t;

	for (int inline_ = 0; inline_ < 2; inline_++) {
	t_case(inline_ ? "RFC 9293 3.8.5 / RFC 6093: SO_OOBINLINE: the read stops at the mark, the urgent byte stays in the stream, MSG_OOB says EINVAL"
		       : "RFC 9293 3.8.5 / RFC 6093: the pointer points past the urgent byte; the read stops at the mark, MSG_OOB returns the byte once, the stream steps over it");
	t = ts_open(NULL);
	c = active(t, 0, TS_RPORT, NULL, &o, &iss);
	CHECK_EQ(hxs_tcp_conn__setopt(c, HXS_TCP_O_OOBINLINE, inline_), 0);
	{
		uint8_t seg[24 + 4];
		uint32_t n = ts_build(seg, &(const struct ts_pkt){ .flags = HXS_TH_ACK | HXS_TH_URG | HXS_TH_PSH,
								   .seq = PISN + 1, .ack = iss + 1,
								   .wnd = 65535, .data = "ab!c", .len = 4 });
		/* urgent pointer 3: the urgent byte is '!' (RFC 9293 §3.8.5: points past it) */
		seg[18] = 0;
		seg[19] = 3;
		seg[16] = seg[17] = 0;
		{
			uint16_t cs = hxs_tcp_csum(TS_REMOTE, TS_LOCAL, seg, n);

			seg[16] = (uint8_t)(cs >> 8);
			seg[17] = (uint8_t)cs;
		}
		CHECK_EQ(ts_in_raw(t, 1 * MS, seg, n), 0);
	}
	CHECK_EQ(hxs_tcp_conn__rx_avail(c), 4);
	CHECK(hxs_tcp_conn__events(c) & EPOLLPRI);
	CHECK_EQ(hxs_tcp_conn__inq(c), inline_ ? 4 : 2);
	CHECK_EQ(hxs_tcp_conn__atmark(c), 0);
	CHECK_EQ(hxs_tcp_conn__recv(c, b, sizeof(b), 0), 2);
	CHECK(!memcmp(b, "ab", 2));
	CHECK_EQ(hxs_tcp_conn__atmark(c), 1);
	if (inline_) {
		CHECK_EQ(hxs_tcp_conn__recv_urg(c, b, 1, 0), -EINVAL);
		CHECK_EQ(hxs_tcp_conn__recv(c, b, sizeof(b), 0), 2);
		CHECK(!memcmp(b, "!c", 2));
	} else {
		CHECK_EQ(hxs_tcp_conn__recv_urg(c, b, 1, HXS_TCP_PEEK), 1);
		CHECK_EQ(hxs_tcp_conn__recv_urg(c, b, 1, 0), 1);
		CHECK_EQ(b[0], '!');
		CHECK(!(hxs_tcp_conn__events(c) & EPOLLPRI));
		CHECK_EQ(hxs_tcp_conn__recv_urg(c, b, 1, 0), -EINVAL);
		CHECK_EQ(hxs_tcp_conn__recv(c, b, sizeof(b), 0), 1);
		CHECK_EQ(b[0], 'c');
	}
	CHECK_EQ(hxs_tcp_conn__atmark(c), 0);
	CHECK_EQ(hxs_tcp_conn__rx_avail(c), 0);
	done(t, c);
	}
}

int main(void)
{
	test_mss_default();
	test_tw_reuse_seq();
	test_challenge_ack_budget();
	test_rto_cap();
	test_rtt_old_tsecr();
	test_recover_wrap();
	test_karn();
	test_idle_restart();
	test_cubic_idle();
	test_app_limited();
	test_delack_peer_mss();
	test_dsack_received();
	test_ofo_bound();
	test_sws_sender();
	test_sws_receiver();
	test_sack_rto_clear();
	test_listen_limits();
	test_urgent_inline();
	return t_done();
}
