/* test_appperf.c - hxs-perf's payload sequence, stream receiver, messages and histogram. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "app/appperf.h"

static uint8_t big[1 << 16], other[1 << 16];

int main(void)
{
	struct hxs_perf_hdr h = { .mode = HXS_PERF_RR, .flags = HXS_PERF_F_REVERSE, .msg_len = 64,
				  .duration_ms = 1500, .seed = 0x1122334455667788ull,
				  .bytes = 0x0102030405060708ull }, w, d;
	struct hxs_perf_trailer t = { .bytes = 12345, .retransmits = 7, .duration_us = 99 }, tw, td;
	struct hxs_perf_report r = { .ok = 1, .bytes = 42, .mismatch = UINT64_MAX }, rw, rd;
	struct hxs_perf_rx rx;
	struct hxs_perf_bidir_rx brx;
	struct hxs_hist hist;
	uint64_t off, i;
	size_t n, step;

	t_case("fill at any offset equals the same bytes of one long fill");
	hxs_perf_fill(9, 0, big, sizeof(big));
	for (off = 0; off < 40; off++) {
		hxs_perf_fill(9, off, other, 1000 + off % 9);
		CHECK(!memcmp(other, big + off, 1000 + off % 9), "offset %llu", (unsigned long long)off);
	}
	CHECK(big[0] == (uint8_t)hxs_perf_word(9, 0), "byte 0 is the low byte of word 0");
	CHECK(big[9] == (uint8_t)(hxs_perf_word(9, 1) >> 8), "byte 9 is byte 1 of word 1");

	t_case("different seeds give different payloads");
	hxs_perf_fill(10, 0, other, sizeof(other));
	CHECK(memcmp(other, big, sizeof(big)) != 0, "%s", "does not hold");

	t_case("verify finds the first wrong byte, at aligned and unaligned offsets");
	CHECK(hxs_perf_verify(9, 0, big, sizeof(big)) == UINT64_MAX, "%s", "does not hold");
	CHECK(hxs_perf_verify(9, 3, big + 3, 5000) == UINT64_MAX, "%s", "does not hold");
	memcpy(other, big, sizeof(big));
	other[4097] ^= 0x10;
	CHECK_EQ(hxs_perf_verify(9, 0, other, sizeof(other)), 4097);
	CHECK_EQ(hxs_perf_verify(9, 5, other + 5, 8000), 4097);
	other[4097] ^= 0x10;
	other[2] ^= 1;
	CHECK_EQ(hxs_perf_verify(9, 1, other + 1, 100), 2);

	t_case("receiver verifies payload fed in odd pieces and finds the trailer at the end");
	for (step = 1; step < 200; step += 37) {
		uint8_t stream[3000 + sizeof(tw)];

		hxs_perf_fill(5, 0, stream, 3000);
		t.bytes = 3000;
		hxs_perf_trailer_encode(&tw, &t);
		memcpy(stream + 3000, &tw, sizeof(tw));
		hxs_perf_rx_init(&rx, 5);
		for (i = 0; i < sizeof(stream); i += n) {
			n = sizeof(stream) - i < step ? sizeof(stream) - i : step;
			hxs_perf_rx_feed(&rx, stream + i, n);
		}
		CHECK_EQ(rx.off, 3000);
		CHECK(rx.mismatch == UINT64_MAX, "step %zu", step);
		CHECK_EQ(hxs_perf_rx_finish(&rx, &td), 0);
		CHECK_EQ(td.bytes, 3000);
		CHECK_EQ(td.retransmits, 7);
	}

	t_case("receiver reports a corrupted byte and a missing trailer");
	hxs_perf_rx_init(&rx, 9);
	memcpy(other, big, 5000);
	other[1234] ^= 0xff;
	hxs_perf_rx_feed(&rx, other, 5000);
	CHECK_EQ(rx.mismatch, 1234);
	CHECK_EQ(hxs_perf_rx_finish(&rx, &td), -EPROTO);   /* last 32 bytes are payload */
	hxs_perf_rx_init(&rx, 9);
	hxs_perf_rx_feed(&rx, big, 10);
	CHECK_EQ(hxs_perf_rx_finish(&rx, &td), -EPROTO);   /* short */

	t_case("header, trailer and report round-trip in network byte order");
	hxs_perf_hdr_encode(&w, &h);
	CHECK(((uint8_t *)&w)[0] == 'H' && ((uint8_t *)&w)[3] == 'P', "magic is \"HXSP\" on the wire");
	CHECK_EQ(hxs_perf_hdr_decode(&d, &w), 0);
	CHECK_EQ(d.mode, HXS_PERF_RR);
	CHECK_EQ(d.flags, HXS_PERF_F_REVERSE);
	CHECK_EQ(d.msg_len, 64);
	CHECK_EQ(d.duration_ms, 1500);
	CHECK(d.seed == h.seed, "%s", "does not hold");
	CHECK(d.bytes == h.bytes, "%s", "does not hold");
	CHECK_EQ(((uint8_t *)&w)[24], 0x01);   /* bytes, big-endian, after the seed */
	t.bytes = 12345;
	hxs_perf_trailer_encode(&tw, &t);
	CHECK_EQ(hxs_perf_trailer_decode(&td, &tw), 0);
	CHECK_EQ(td.bytes, 12345);
	hxs_perf_report_encode(&rw, &r);
	CHECK_EQ(hxs_perf_report_decode(&rd, &rw), 0);
	CHECK_EQ(rd.bytes, 42);
	CHECK(rd.ok == 1 && rd.mismatch == UINT64_MAX, "%s", "does not hold");

	t_case("bad headers are refused");
	hxs_perf_hdr_encode(&w, &h);
	((uint8_t *)&w)[0] = 'G';
	CHECK_EQ(hxs_perf_hdr_decode(&d, &w), -EPROTO);
	hxs_perf_hdr_encode(&w, &h);
	w.version = 9;
	CHECK_EQ(hxs_perf_hdr_decode(&d, &w), -EPROTO);
	h.mode = 77;
	hxs_perf_hdr_encode(&w, &h);
	CHECK_EQ(hxs_perf_hdr_decode(&d, &w), -EPROTO);
	h.mode = HXS_PERF_RR;
	h.msg_len = 0;
	hxs_perf_hdr_encode(&w, &h);
	CHECK_EQ(hxs_perf_hdr_decode(&d, &w), -EPROTO);
	CHECK_EQ(hxs_perf_report_decode(&rd, (struct hxs_perf_report *)&tw), -EPROTO);

	t_case("bidir header: the flag round-trips; with --reverse or outside stream it is refused");
	h.mode = HXS_PERF_STREAM;
	h.flags = HXS_PERF_F_BIDIR;
	hxs_perf_hdr_encode(&w, &h);
	CHECK_EQ(((uint8_t *)&w)[7], HXS_PERF_F_BIDIR);   /* flags, big-endian, low byte last */
	CHECK_EQ(hxs_perf_hdr_decode(&d, &w), 0);
	CHECK_EQ(d.flags, HXS_PERF_F_BIDIR);
	h.flags = HXS_PERF_F_BIDIR | HXS_PERF_F_REVERSE;
	hxs_perf_hdr_encode(&w, &h);
	CHECK_EQ(hxs_perf_hdr_decode(&d, &w), -EPROTO);
	h.flags = HXS_PERF_F_BIDIR;
	h.mode = HXS_PERF_RR;
	h.msg_len = 64;
	hxs_perf_hdr_encode(&w, &h);
	CHECK_EQ(hxs_perf_hdr_decode(&d, &w), -EPROTO);

	t_case("bidir: the way back has its own sequence; the end mark never equals the payload");
	CHECK(hxs_perf_bidir_seed(9) != 9, "%s", "does not hold");
	hxs_perf_fill(hxs_perf_bidir_seed(9), 0, other, sizeof(other));
	CHECK(memcmp(other, big, sizeof(big)) != 0, "%s", "does not hold");
	for (off = 0; off < 4096; off++)
		if (hxs_perf_end_mark(9, off) == big[off])
			break;
	CHECK_EQ(off, 4096);

	t_case("bidir receiver: payload, end mark, trailer, report in odd pieces");
	for (step = 1; step < 300; step += 29) {
		uint8_t stream[3000 + 1 + HXS_PERF_BIDIR_TAIL];

		hxs_perf_fill(5, 0, stream, 3000);
		stream[3000] = hxs_perf_end_mark(5, 3000);
		t.bytes = 3000;
		hxs_perf_trailer_encode(&tw, &t);
		memcpy(stream + 3001, &tw, sizeof(tw));
		r.bytes = 2999;
		hxs_perf_report_encode(&rw, &r);
		memcpy(stream + 3001 + sizeof(tw), &rw, sizeof(rw));
		hxs_perf_bidir_rx_init(&brx, 5);
		for (i = 0; i < sizeof(stream); i += n) {
			n = sizeof(stream) - i < step ? sizeof(stream) - i : step;
			CHECK_EQ(hxs_perf_bidir_rx_feed(&brx, stream + i, n), 0);
			if (i + n < 3001 + sizeof(tw))
				CHECK_EQ(hxs_perf_bidir_rx_trailer(&brx, &td), -EAGAIN);
			if (i + n < sizeof(stream))
				CHECK_EQ(hxs_perf_bidir_rx_report(&brx, &rd), -EAGAIN);
		}
		CHECK_EQ(brx.off, 3000);
		CHECK(brx.ended && brx.mismatch == UINT64_MAX, "step %zu", step);
		CHECK_EQ(hxs_perf_bidir_rx_trailer(&brx, &td), 0);
		CHECK_EQ(td.bytes, 3000);
		CHECK_EQ(hxs_perf_bidir_rx_report(&brx, &rd), 0);
		CHECK_EQ(rd.bytes, 2999);
		CHECK_EQ(hxs_perf_bidir_rx_feed(&brx, stream, 1), -EPROTO);   /* nothing after it */
	}

	t_case("bidir receiver: a corrupted byte, a trailer with the wrong count");
	hxs_perf_bidir_rx_init(&brx, 9);
	memcpy(other, big, 5000);
	other[1234] ^= 0xff;   /* the complement: the end mark itself, then payload as "trailer" */
	CHECK_EQ(hxs_perf_bidir_rx_feed(&brx, other, 1234 + 1 + sizeof(tw)), 0);
	CHECK_EQ(brx.off, 1234);
	CHECK_EQ(hxs_perf_bidir_rx_trailer(&brx, &td), -EPROTO);
	hxs_perf_bidir_rx_init(&brx, 9);
	other[1234] = big[1234] ^ 0x01;
	CHECK_EQ(hxs_perf_bidir_rx_feed(&brx, other, 5000), -EPROTO);
	CHECK_EQ(brx.mismatch, 1234);
	hxs_perf_bidir_rx_init(&brx, 9);
	memcpy(other, big, 100);
	other[100] = hxs_perf_end_mark(9, 100);
	t.bytes = 101;
	hxs_perf_trailer_encode(&tw, &t);
	memcpy(other + 101, &tw, sizeof(tw));
	CHECK_EQ(hxs_perf_bidir_rx_feed(&brx, other, 101 + sizeof(tw)), 0);
	CHECK_EQ(hxs_perf_bidir_rx_trailer(&brx, &td), -EPROTO);

	t_case("histogram quantiles are within 1/16 of the true value");
	hxs_hist_init(&hist);
	for (i = 1; i <= 100000; i++)
		hxs_hist_add(&hist, i * 100);   /* 100 ns .. 10 ms, uniform */
	CHECK_EQ(hist.count, 100000);
	{
		uint64_t p50 = hxs_hist_quantile(&hist, 0.5), p99 = hxs_hist_quantile(&hist, 0.99);

		CHECK(p50 >= 5000000 && p50 <= 5000000 + 5000000 / 16, "p50 %llu", (unsigned long long)p50);
		CHECK(p99 >= 9900000 && p99 <= 9900000 + 9900000 / 16, "p99 %llu", (unsigned long long)p99);
		CHECK_EQ(hxs_hist_quantile(&hist, 1.0), 10000000);
	}
	hxs_hist_init(&hist);
	CHECK_EQ(hxs_hist_quantile(&hist, 0.5), 0);
	hxs_hist_add(&hist, 3);
	hxs_hist_add(&hist, 7);
	CHECK_EQ(hxs_hist_quantile(&hist, 0.0), 3);
	CHECK_EQ(hxs_hist_quantile(&hist, 0.99), 7);
	return t_done();
}
