/* test_tcp_rack_sim.c - RACK-TLP (RFC 8985, the default with SACK) against the RFC 6675
 * recovery it replaces, two TCP cores over the deterministic link (netsim), in virtual time.
 *
 * One stream A -> B of 4 MiB per run (B's data checked byte for byte against the pattern,
 * both ends closed cleanly), 10 ms one way, 100 Mbit/s, 256 KiB queue. The same seeds run with
 * cfg.recovery = rack and = sack; per scenario the sums over the seeds are compared:
 *   - random loss 1 % and 5 % both ways (1 % of frames also held back 0..3 ms): fewer RTOs
 *     (TCPTimeouts) with RACK-TLP, whose probes repair tail losses;
 *   - reordering only (5 % of frames held back up to 4 ms, no loss): fewer spurious
 *     retransmissions with RACK (its time window waits for reordered segments where three
 *     SACKed segments start RFC 6675 recovery) - counted by the receiver as duplicate data
 *     (the D-SACK blocks it sends, TCPDSACKOldSent), nothing being duplicated by the link.
 * The numbers are printed; the test asserts the comparisons and the exact byte streams.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "tcp_harness.h"

#define XFER (4u << 20)
#define SEEDS 6

struct run_res {
	int ok;
	uint64_t rto, retrans, spurious, probes, undo, vus;
};

static void one(double loss, double reorder, uint64_t reorder_us, int mode, uint64_t seed,
		struct run_res *res)
{
	struct netsim_cfg nc;
	struct hxs_tcp_cfg cfg;
	struct hxs_tcp_conn *l, *a, *b = NULL;
	uint8_t buf[16384];
	uint64_t sent = 0, rcvd = 0;
	int shut = 0, eof = 0, closed_a = 0, closed_b = 0, bad = 0;

	memset(&nc, 0, sizeof(nc));
	for (int d = 0; d < 2; d++) {
		nc.dir[d].delay_us = 10000;
		nc.dir[d].bandwidth_bps = 100000000;
		nc.dir[d].queue_bytes = 256 * 1024;
		nc.dir[d].loss = loss;
		nc.dir[d].reorder = reorder;
		nc.dir[d].reorder_us = reorder_us;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.sndbuf = 1 << 20;
	cfg.rcvbuf = 1 << 20;
	cfg.recovery = (uint8_t)mode;
	struct sim *s = sim_new(&nc, seed, &cfg, NULL);
	int ok = CHECK(hxs_tcp_conn__new(s->tcp[1], &l) == 0);
	ok &= CHECK(hxs_tcp_conn__listen(l, 0, 80, 4) == 0);
	ok &= CHECK(hxs_tcp_conn__new(s->tcp[0], &a) == 0);
	ok &= CHECK(hxs_tcp_conn__connect(a, s->addr[0], TS_EPORT, s->addr[1], 80, 0) == 0);
	while (s->now < 600ull * 1000000) {
		if (!b && hxs_tcp_conn__accept(l, &b) < 0)
			b = NULL;
		while (!closed_a && sent < XFER) {
			uint32_t n = XFER - sent < sizeof(buf) ? (uint32_t)(XFER - sent) : sizeof(buf);
			uint32_t space = hxs_tcp_conn__tx_space(a);

			if (n > space)
				n = space;
			if (!n)
				break;
			pattern_fill(seed, sent, buf, n);
			long r = hxs_tcp_conn__send(a, buf, n);
			if (r <= 0)
				break;
			sent += (uint64_t)r;
		}
		if (sent == XFER && !shut) {
			hxs_tcp_conn__shutdown(a, SHUT_WR);
			shut = 1;
		}
		while (b && !eof) {
			long r = hxs_tcp_conn__recv(b, buf, sizeof(buf), 0);

			if (r > 0) {
				if (pattern_check(seed, rcvd, buf, (uint32_t)r) >= 0)
					bad = 1;
				rcvd += (uint64_t)r;
				continue;
			}
			if (r == 0) {
				eof = 1;
				/* the statistics before the connections go */
				const uint64_t *ma = hxs_tcp__mib(s->tcp[0]), *mb = hxs_tcp__mib(s->tcp[1]);
				res->rto = ma[HXS_TCP_MIB_TCPTimeouts];
				res->retrans = ma[HXS_TCP_MIB_TcpRetransSegs];
				res->probes = ma[HXS_TCP_MIB_TCPLossProbes];
				res->undo = ma[HXS_TCP_MIB_TCPDSACKUndo] + ma[HXS_TCP_MIB_TCPSpuriousRTOs] +
					    ma[HXS_TCP_MIB_TCPFullUndo] + ma[HXS_TCP_MIB_TCPPartialUndo] +
					    ma[HXS_TCP_MIB_TCPLossUndo];
				res->spurious = mb[HXS_TCP_MIB_TCPDSACKOldSent];
				res->vus = s->now;
				if (getenv("SIM_MIB"))
					for (int i = 0; i < 2; i++)
						for (int m = 0; m < HXS_TCP_MIB__COUNT; m++)
							if (hxs_tcp__mib(s->tcp[i])[m])
								printf("#   %c %s %llu\n", 'A' + i, hxs_tcp_mib_names[m],
								       (unsigned long long)hxs_tcp__mib(s->tcp[i])[m]);
				hxs_tcp_conn__close(b);
				closed_b = 1;
			}
			break;
		}
		if (eof && !closed_a && hxs_tcp_conn__state(a) >= HXS_TCPS_FIN_WAIT_2) {
			hxs_tcp_conn__close(a);
			closed_a = 1;
			hxs_tcp_conn__close(l);
		}
		if (!sim_step(s, 600ull * 1000000))
			break;
	}
	ok &= CHECK(eof && closed_a && closed_b, "seed %llu mode %d: eof %d, %llu of %u bytes at %.1f s",
		    (unsigned long long)seed, mode, eof, (unsigned long long)rcvd, XFER, s->now / 1e6);
	ok &= CHECK_EQ(rcvd, XFER);
	ok &= CHECK(!bad, "seed %llu mode %d: the byte stream differs", (unsigned long long)seed, mode);
	ok &= CHECK(!s->stalled, "the stacks spun");
	for (int i = 0; i < 2; i++)
		ok &= CHECK_EQ(hxs_tcp__nconns(s->tcp[i]), 0);
	sim_free(s);
	res->ok = ok;
}

static void scenario(const char *name, double loss, double reorder, uint64_t reorder_us, int rto_cmp,
		     int spur_cmp)
{
	struct run_res sum[2];
	static char titles[8][200];
	static int nt;
	char *title = titles[nt++ % 8];

	snprintf(title, sizeof(titles[0]), "%s: 4 MiB x %d seeds, RACK-TLP vs RFC 6675: %s, streams exact",
		 name, SEEDS, rto_cmp ? "fewer RTOs" : "fewer spurious retransmissions");
	t_case(title);
	memset(sum, 0, sizeof(sum));
	for (int m = 0; m < 2; m++) {
		sum[m].ok = 1;
		for (uint64_t k = 0; k < (getenv("SIM_MIB") ? 1 : SEEDS); k++) {
			struct run_res r;

			memset(&r, 0, sizeof(r));
			one(loss, reorder, reorder_us, m, 4200 + k, &r);
			sum[m].ok &= r.ok;
			sum[m].rto += r.rto;
			sum[m].retrans += r.retrans;
			sum[m].spurious += r.spurious;
			sum[m].probes += r.probes;
			sum[m].undo += r.undo;
			sum[m].vus += r.vus;
		}
		printf("#   %-5s RTOs %llu, retransmitted %llu, spurious (D-SACKed) %llu, loss probes %llu, undone %llu, %.2f s mean\n",
		       m ? "6675" : "RACK", (unsigned long long)sum[m].rto,
		       (unsigned long long)sum[m].retrans, (unsigned long long)sum[m].spurious,
		       (unsigned long long)sum[m].probes, (unsigned long long)sum[m].undo,
		       sum[m].vus / 1e6 / SEEDS);
	}
	CHECK(sum[0].ok && sum[1].ok, "a transfer failed");
	if (rto_cmp)
		CHECK(sum[0].rto < sum[1].rto, "RTOs: RACK %llu, RFC 6675 %llu",
		      (unsigned long long)sum[0].rto, (unsigned long long)sum[1].rto);
	if (spur_cmp)
		CHECK(sum[0].spurious < sum[1].spurious, "spurious: RACK %llu, RFC 6675 %llu",
		      (unsigned long long)sum[0].spurious, (unsigned long long)sum[1].spurious);
}

int main(void)
{
	scenario("1% random loss", 0.01, 0.01, 3000, 1, 0);
	scenario("5% random loss", 0.05, 0.01, 3000, 1, 0);
	scenario("reordering (5% of frames up to 4 ms late), no loss", 0.0, 0.05, 4000, 0, 1);
	return t_done();
}
