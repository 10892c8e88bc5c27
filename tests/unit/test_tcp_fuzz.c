/* test_tcp_fuzz.c - seeded random segments and user calls against the TCP core under
 * ASan/UBSan: no crash, no out-of-bounds read of a segment (each is an exactly sized heap
 * copy), every segment the stack emits well-formed (checksum, options in the canonical form
 * hxs_tcp_opt__write gives and allowed for its kind, SACK blocks, payload within the send MSS
 * and, with its options, within the peer's MSS: RFC 9293 §3.7.1), and the bookkeeping holds
 * afterwards (table empty after aborting everything, every connection object freed, every
 * frame handed out sent). Also option write/parse round trips. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "tcp_harness.h"
#pragma GCC diagnostic ignored "-Wformat-zero-length"

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static void test_opt_roundtrip(void)
{
	t_case("options: write then parse gives the same values (SYN and data segments)");
	uint8_t buf[40];
	struct hxs_tcp_opts o, p;
	memset(&o, 0, sizeof(o));
	o.has_mss = 1;
	o.mss = 1234;
	o.has_ws = 1;
	o.ws = 9;
	o.sack_perm = 1;
	o.has_ts = 1;
	o.tsval = 0xdeadbeef;
	o.tsecr = 0x01020304;
	uint32_t n = hxs_tcp_opt__write(buf, &o, 1);
	CHECK_EQ(n % 4, 0);
	CHECK_EQ(n, 20);
	CHECK_EQ(hxs_tcp_opt__parse(buf, n, &p), 0);
	CHECK(p.has_mss && p.mss == 1234 && p.has_ws && p.ws == 9 && p.sack_perm && p.has_ts &&
	      p.tsval == 0xdeadbeef && p.tsecr == 0x01020304);
	memset(&o, 0, sizeof(o));
	o.has_ts = 1;
	o.tsval = 7;
	o.nsack = 4;
	for (int i = 0; i < 4; i++) {
		o.sack[i].start = 1000u * (uint32_t)i;
		o.sack[i].end = 1000u * (uint32_t)i + 500;
	}
	n = hxs_tcp_opt__write(buf, &o, 0);
	CHECK_EQ(n, 12 + 4 + 3 * 8);           /* with timestamps only 3 blocks fit */
	CHECK_EQ(hxs_tcp_opt__parse(buf, n, &p), 0);
	CHECK_EQ(p.nsack, 3);
	CHECK(p.sack[2].start == 2000 && p.sack[2].end == 2500);
	o.has_ts = 0;
	n = hxs_tcp_opt__write(buf, &o, 0);
	CHECK_EQ(n, 4 + 4 * 8);
	CHECK_EQ(hxs_tcp_opt__parse(buf, n, &p), 0);
	CHECK_EQ(p.nsack, 4);

	t_case("options: window scale above 14 is used as 14 (RFC 7323 §2.3); unknown kinds skipped");
	uint8_t ws[] = { 3, 3, 20, 1, 99, 4, 0xaa, 0xbb, 0, 0 };
	CHECK_EQ(hxs_tcp_opt__parse(ws, sizeof(ws), &p), 0);
	CHECK(p.has_ws && p.ws == 14);
}

/* RFC 1071 written the plain way: big-endian 16-bit words, pseudo-header first. */
static uint16_t ref_csum(uint32_t saddr, uint32_t daddr, const uint8_t *p, uint32_t len)
{
	const uint8_t *s = (const uint8_t *)&saddr, *d = (const uint8_t *)&daddr;
	uint32_t sum = (uint32_t)(s[0] << 8 | s[1]) + (uint32_t)(s[2] << 8 | s[3]) +
		       (uint32_t)(d[0] << 8 | d[1]) + (uint32_t)(d[2] << 8 | d[3]) + 6 + len;
	for (uint32_t i = 0; i < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | (i + 1 < len ? p[i + 1] : 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void test_csum(void)
{
	t_case("checksum equals a plain RFC 1071 sum for every length 0..1600 and odd offsets");
	static uint8_t buf[1700];
	int bad = 0;
	for (uint32_t len = 0; len <= 1600; len++) {
		for (uint32_t i = 0; i < len + 1; i++)
			buf[i] = (uint8_t)rnd();
		uint32_t sa = rnd(), da = rnd();
		uint32_t off = len & 7;      /* unaligned starts too */
		memmove(buf + off, buf, len);
		if (hxs_tcp_csum(sa, da, buf + off, len) != ref_csum(sa, da, buf + off, len))
			bad++;
	}
	CHECK_EQ(bad, 0);
	/* All-ones data (carry folding) and a segment whose checksum field makes it verify. */
	memset(buf, 0xff, 1600);
	CHECK_EQ(hxs_tcp_csum(0xffffffffu, 0xffffffffu, buf, 1600), ref_csum(0xffffffffu, 0xffffffffu, buf, 1600));
	uint8_t seg[64];
	uint32_t n = ts_build(seg, &(struct ts_pkt){ .rport = 1, .lport = 2, .flags = HXS_TH_SYN, .seq = 7,
						 .wnd = 100, .data = "abc", .len = 3 });
	CHECK_EQ(hxs_tcp_csum(TS_REMOTE, TS_LOCAL, seg, n), 0);
	CHECK_EQ(ref_csum(TS_REMOTE, TS_LOCAL, seg, n), 0);
}

/* What every emitted segment must satisfy, counted by failure. */
static struct {
	uint64_t n, csum, opt, canon, rst, syn, kind, ts, sack, len, nodata;
	uint64_t n_rst, n_syn, n_ts, n_sack, n_data;    /* how many of each kind were seen */
} sc;

static int pop_checked(struct ts *t, struct ts_seg *s)
{
	if (!ts_pop(t, s))
		return 0;
	sc.n++;
	sc.csum += !s->csum_ok;
	if (!s->opt_ok) {
		sc.opt++;
		return 1;
	}
	int syn = !!(s->flags & HXS_TH_SYN);
	uint32_t optlen = s->hlen - 20;
	uint8_t canon[40];
	/* exactly the bytes our writer makes of these values: no stray kind, padding or length */
	if (hxs_tcp_opt__write(canon, &s->opt, syn) != optlen || memcmp(canon, s->optraw, optlen))
		sc.canon++;
	sc.n_ts += s->opt.has_ts;
	sc.n_sack += s->opt.nsack > 0;
	sc.n_data += s->len > 0;
	sc.n_rst += !!(s->flags & HXS_TH_RST);
	sc.n_syn += syn;
	if (s->flags & HXS_TH_RST) {
		/* §3.10.7.1 / §3.10.5: RSTs carry no options, window 0, no data */
		sc.rst += s->hlen != 20 || s->wnd != 0 || s->len != 0;
		return 1;
	}
	if (syn) {
		/* RFC 9293 §3.7.1 (MUST-14): the MSS option on every SYN; no SACK blocks yet */
		sc.syn += !s->opt.has_mss || s->opt.nsack || s->len;
	} else {
		/* SYN-only options never elsewhere (RFC 7323 §2.2, RFC 2018 §2) */
		sc.kind += s->opt.has_mss || s->opt.has_ws || s->opt.sack_perm;
		/* RFC 7323 §3.2: once agreed, "MUST be sent in every non-<RST> segment" */
		sc.ts += s->conn && s->opt.has_ts != !!s->conn_ts;
		int bad = s->opt.nsack > (s->opt.has_ts ? 3 : 4) || (s->opt.nsack && s->conn && !s->conn_sack);
		for (int i = 0; i < s->opt.nsack; i++) {
			const struct hxs_sack_range *r = &s->opt.sack[i];
			bad |= !SEQ_LT(r->start, r->end);
			/* only the first block may be a D-SACK (RFC 2883 §4); the others lie above
			 * the cumulative ACK (RFC 2018 §4) */
			bad |= i > 0 && !SEQ_GT(r->start, s->ack);
		}
		sc.sack += bad;
	}
	if (s->len) {
		if (!s->conn) {
			sc.nodata++;
		} else {
			/* RFC 9293 §3.7.1: data + options within Eff.snd.MSS = min(peer MSS, MTU - 40),
			 * or within the core's floor of 64 bytes of data (beside a timestamp) when
			 * the peer offered less */
			uint32_t eff = s->conn_peer_mss < t->mtu - 40 ? s->conn_peer_mss : t->mtu - 40;
			uint32_t floor = 64 + (s->conn_ts ? 12 : 0);
			sc.len += s->len > s->conn_mss || s->len + optlen > (eff > floor ? eff : floor);
		}
	}
	return 1;
}

static void test_fuzz(void)
{
	t_case("200000 random segments and user calls: no crash, bookkeeping consistent");
	struct hxs_tcp_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.rcvbuf = 8192;
	cfg.sndbuf = 8192;
	struct ts *t = ts_new(&cfg);
	struct hxs_tcp_conn *l, *conns[16] = { 0 };
	int nc = 0;
	uint32_t nconnect = 0;             /* active opens take local ports TS_EPORT + 0..3999 */
	CHECK(hxs_tcp_conn__new(t->tcp, &l) == 0);
	CHECK(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8) == 0);
	uint32_t seqbase[4] = { 1000, 5000, 100000, 0xfffff000u };
	uint64_t now = 0;
	uint8_t data[1600];
	memset(data, 'f', sizeof(data));
	for (int it = 0; it < 200000; it++) {
		now += rnd() % 20000;
		uint32_t r = rnd() % 100;
		if (r < 70) {
			/* A segment: mostly near plausible sequence numbers, learnt from output. */
			struct ts_seg s;
			uint32_t ack = rnd(), seq = seqbase[rnd() % 4] + (rnd() % 3000) - 1500;
			if (pop_checked(t, &s)) {
				ack = s.seq + (rnd() % 3 ? s.len + !!(s.flags & (HXS_TH_SYN | HXS_TH_FIN)) : 0);
				seq = s.ack + (rnd() % 4 ? 0 : rnd() % 3000);
				seqbase[rnd() % 4] = seq;
			}
			uint8_t fl = (uint8_t)(rnd() % 4 ? HXS_TH_ACK : 0);
			uint32_t x = rnd() % 20;
			if (x == 0) fl |= HXS_TH_SYN;
			if (x == 1) fl |= HXS_TH_RST;
			if (x == 2) fl |= HXS_TH_FIN;
			if (x == 3) fl = (uint8_t)rnd();
			uint32_t olen = rnd() % 3 ? 0 : (rnd() % 11) * 4;
			uint32_t dlen = rnd() % 3 ? 0 : rnd() % 1500;
			uint16_t wnd = (uint16_t)(rnd() % 4 ? 65535 : rnd() % 65536);
			uint16_t rport = (uint16_t)(TS_RPORT + rnd() % 3);
			uint8_t opt[40];
			for (uint32_t i = 0; i < olen; i++) {
				uint32_t k = rnd() % 10;
				opt[i] = k < 6 ? (uint8_t)"\x01\x02\x03\x04\x05\x08"[k] : (uint8_t)rnd();
			}
			if (olen && rnd() % 2) {
				/* half of them well formed, so handshakes agree on SACK and timestamps
				 * (TSval mostly rising) and later segments get past PAWS */
				struct hxs_tcp_opts o;
				memset(&o, 0, sizeof(o));
				o.has_mss = !!(fl & HXS_TH_SYN);
				o.mss = (uint16_t)(rnd() % 1600);
				o.has_ws = o.has_mss && rnd() % 2;
				o.ws = (uint8_t)(rnd() % 16);
				o.sack_perm = o.has_mss && rnd() % 4;
				o.has_ts = rnd() % 4 != 0;
				o.tsval = (uint32_t)(now / 1000) - (rnd() % 8 ? 0 : rnd() % 100);
				o.tsecr = rnd();
				o.nsack = o.has_mss ? 0 : (uint8_t)(rnd() % 4);
				for (int i = 0; i < o.nsack; i++) {
					o.sack[i].start = ack + rnd() % 6000;
					o.sack[i].end = o.sack[i].start + 1 + rnd() % 3000;
				}
				olen = hxs_tcp_opt__write(opt, &o, o.has_mss);
			}
			/* Exactly sized heap copy so ASan catches any read past the segment. */
			uint32_t n = 20 + olen + dlen;
			uint8_t *seg = malloc(n);
			ts_build(seg, &(struct ts_pkt){ .rport = rport, .flags = fl, .seq = seq, .ack = ack,
							.wnd = wnd, .rawopt = opt, .rawlen = olen,
							.data = data, .len = dlen });
			ts_in_raw(t, now, seg, n);
			free(seg);
		} else if (r < 75) {
			struct hxs_tcp_conn *c;
			if (nc < 16 && hxs_tcp_conn__accept(l, &c) == 0)
				conns[nc++] = c;
		} else if (r < 80 && nc < 16) {
			struct hxs_tcp_conn *c;
			if (hxs_tcp_conn__new(t->tcp, &c) == 0) {
				uint16_t lport = (uint16_t)(TS_EPORT + nconnect++ % 4000);
				if (hxs_tcp_conn__connect(c, TS_LOCAL, lport, TS_REMOTE, (uint16_t)(TS_RPORT + rnd() % 3), now) == 0)
					conns[nc++] = c;
				else
					hxs_tcp_conn__close(c);
			}
		} else if (nc) {
			int i = (int)(rnd() % (uint32_t)nc);
			struct hxs_tcp_conn *c = conns[i];
			uint8_t b[3000];
			switch (rnd() % 8) {
			case 0: case 1: hxs_tcp_conn__send(c, data, rnd() % 3000 > 1600 ? 1600 : rnd() % 1600); break;
			case 2: case 3: hxs_tcp_conn__recv(c, b, sizeof(b), 0); break;
			case 4: hxs_tcp_conn__shutdown(c, (int)(rnd() % 3)); break;
			case 5: hxs_tcp_conn__setopt(c, HXS_TCP_O_NODELAY, (int)(rnd() % 2)); break;
			case 6: hxs_tcp_conn__events(c); hxs_tcp_conn__error(c); break;
			case 7:
				if (rnd() % 2)
					hxs_tcp_conn__abort(c);
				hxs_tcp_conn__close(c);
				conns[i] = conns[--nc];
				break;
			}
		}
		ts_run_until(t, now);
		while (ts_pending(t) > 32) {
			struct ts_seg s;
			pop_checked(t, &s);
		}
	}
	CHECK(hxs_tcp__mib(t->tcp)[HXS_TCP_MIB_TcpInSegs] > 100000);
	{
		struct ts_seg s;
		while (pop_checked(t, &s))
			;
	}
	if (getenv("FUZZ_MIB"))
		for (int m = 0; m < HXS_TCP_MIB__COUNT; m++)
			printf("#   %s %llu\n", hxs_tcp_mib_names[m], (unsigned long long)hxs_tcp__mib(t->tcp)[m]);
	for (int i = 0; i < nc; i++) {
		hxs_tcp_conn__abort(conns[i]);
		hxs_tcp_conn__close(conns[i]);
	}
	hxs_tcp_conn__close(l);
	/* Whatever lingers (TIME-WAIT, FIN-WAIT) ends on its own within minutes. */
	ts_run_until(t, now + 3600ull * 1000000);
	CHECK_EQ(hxs_tcp__nconns(t->tcp), 0);
	CHECK_EQ(t->tuples, 0);
	uint64_t a, f;
	hxs_tcp__alloc_stats(t->tcp, &a, &f);
	CHECK_EQ(a, f);
	CHECK_EQ(t->frames_alloc, t->frames_sent);
	CHECK_EQ(hxs_tcp__mib(t->tcp)[HXS_TCP_MIB_TcpCurrEstab], 0);
	CHECK_EQ(t->oversize, 0);

	t_case("every segment the fuzzed stack emitted is well-formed");
	{
		struct ts_seg s;
		while (pop_checked(t, &s))       /* what the final timers sent */
			;
	}
	CHECK_EQ(sc.n, t->frames_sent);        /* all of them were checked */
	CHECK(sc.n > 50000, "only %llu segments", (unsigned long long)sc.n);
	CHECK_EQ(sc.csum, 0);
	CHECK_EQ(sc.opt, 0);
	CHECK_EQ(sc.canon, 0);
	CHECK_EQ(sc.rst, 0);
	CHECK_EQ(sc.syn, 0);
	CHECK_EQ(sc.kind, 0);
	CHECK_EQ(sc.ts, 0);
	CHECK_EQ(sc.sack, 0);
	CHECK_EQ(sc.len, 0);
	CHECK_EQ(sc.nodata, 0);
	printf("#   %llu segments checked: %llu RST, %llu SYN, %llu with TS, %llu with SACK, %llu with data\n",
	       (unsigned long long)sc.n, (unsigned long long)sc.n_rst, (unsigned long long)sc.n_syn,
	       (unsigned long long)sc.n_ts, (unsigned long long)sc.n_sack, (unsigned long long)sc.n_data);
	/* each rule above had segments to judge */
	CHECK(sc.n_rst && sc.n_syn && sc.n_ts && sc.n_sack && sc.n_data);
	ts_free(t);
}

int main(void)
{
	test_opt_roundtrip();
	test_csum();
	test_fuzz();
	return t_done();
}
