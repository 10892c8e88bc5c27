/* appperf.c - hxs-perf's protocol messages, payload sequence and latency histogram.
 *
 * hxs_perf_fill()/hxs_perf_verify() -> hxs_perf_word() (splitmix64 of seed and word index)
 * hxs_perf_rx_feed() -> verify all but the held-back tail -> hxs_perf_rx_finish() -> trailer
 * hxs_perf_bidir_rx_feed() -> verify up to the end mark -> tail (trailer, report)
 * hxs_hist_add() -> bucket_of() ; hxs_hist_quantile() -> walk buckets
 * hxs_perf_mode_name() -> the mode's name, as -m takes it
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "appperf.h"

const char *hxs_perf_mode_name(int m)
{
	switch (m) {
	case HXS_PERF_STREAM: return "stream";
	case HXS_PERF_RR: return "rr";
	case HXS_PERF_CRR: return "crr";
	case HXS_PERF_UDP: return "udp";
	default: return "?";
	}
}

void hxs_perf_hdr_encode(struct hxs_perf_hdr *w, const struct hxs_perf_hdr *h)
{
	memset(w, 0, sizeof(*w));
	w->magic = htobe32(HXS_PERF_MAGIC);
	w->version = HXS_PERF_VERSION;
	w->mode = h->mode;
	w->flags = htobe16(h->flags);
	w->msg_len = htobe32(h->msg_len);
	w->duration_ms = htobe32(h->duration_ms);
	w->seed = htobe64(h->seed);
	w->bytes = htobe64(h->bytes);
}

int hxs_perf_hdr_decode(struct hxs_perf_hdr *h, const struct hxs_perf_hdr *w)
{
	memset(h, 0, sizeof(*h));
	h->magic = be32toh(w->magic);
	h->version = w->version;
	h->mode = w->mode;
	h->flags = be16toh(w->flags);
	h->msg_len = be32toh(w->msg_len);
	h->duration_ms = be32toh(w->duration_ms);
	h->seed = be64toh(w->seed);
	h->bytes = be64toh(w->bytes);
	if (h->magic != HXS_PERF_MAGIC || h->version != HXS_PERF_VERSION)
		return -EPROTO;
	if (h->mode < HXS_PERF_STREAM || h->mode > HXS_PERF_CRR)
		return -EPROTO;
	if ((h->flags & HXS_PERF_F_BIDIR) &&
	    (h->mode != HXS_PERF_STREAM || (h->flags & HXS_PERF_F_REVERSE)))
		return -EPROTO;
	if ((h->mode == HXS_PERF_RR || h->mode == HXS_PERF_CRR) &&
	    (h->msg_len == 0 || h->msg_len > HXS_PERF_MAX_MSG))
		return -EPROTO;
	return 0;
}

void hxs_perf_trailer_encode(struct hxs_perf_trailer *w, const struct hxs_perf_trailer *t)
{
	memset(w, 0, sizeof(*w));
	w->magic = htobe32(HXS_PERF_TRAILER_MAGIC);
	w->bytes = htobe64(t->bytes);
	w->retransmits = htobe64(t->retransmits);
	w->duration_us = htobe64(t->duration_us);
}

int hxs_perf_trailer_decode(struct hxs_perf_trailer *t, const struct hxs_perf_trailer *w)
{
	t->magic = be32toh(w->magic);
	t->pad = 0;
	t->bytes = be64toh(w->bytes);
	t->retransmits = be64toh(w->retransmits);
	t->duration_us = be64toh(w->duration_us);
	return t->magic == HXS_PERF_TRAILER_MAGIC ? 0 : -EPROTO;
}

void hxs_perf_report_encode(struct hxs_perf_report *w, const struct hxs_perf_report *r)
{
	memset(w, 0, sizeof(*w));
	w->magic = htobe32(HXS_PERF_REPORT_MAGIC);
	w->ok = r->ok;
	w->bytes = htobe64(r->bytes);
	w->mismatch = htobe64(r->mismatch);
	w->duration_us = htobe64(r->duration_us);
}

int hxs_perf_report_decode(struct hxs_perf_report *r, const struct hxs_perf_report *w)
{
	memset(r, 0, sizeof(*r));
	r->magic = be32toh(w->magic);
	r->ok = w->ok;
	r->bytes = be64toh(w->bytes);
	r->mismatch = be64toh(w->mismatch);
	r->duration_us = be64toh(w->duration_us);
	return r->magic == HXS_PERF_REPORT_MAGIC && r->ok <= 1 ? 0 : -EPROTO;
}

uint64_t hxs_perf_word(uint64_t seed, uint64_t index)
{
	/* splitmix64 finaliser over seed + (index + 1) * golden ratio: a bijective mix, so
	 * neighbouring words are unrelated and no state is carried between them. */
	uint64_t z = seed + (index + 1) * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The payload byte at offset off: byte off % 8 (little-endian) of word off / 8. */
static inline uint8_t payload_byte(uint64_t seed, uint64_t off)
{
	return (uint8_t)(hxs_perf_word(seed, off >> 3) >> (8 * (off & 7)));
}

void hxs_perf_fill(uint64_t seed, uint64_t off, void *buf, size_t len)
{
	uint8_t *p = buf;
	uint64_t w;

	while (len && (off & 7)) {
		*p++ = payload_byte(seed, off);
		off++, len--;
	}
	while (len >= 8) {
		w = htole64(hxs_perf_word(seed, off >> 3));
		memcpy(p, &w, 8);
		p += 8, off += 8, len -= 8;
	}
	while (len) {
		*p++ = payload_byte(seed, off);
		off++, len--;
	}
}

uint64_t hxs_perf_verify(uint64_t seed, uint64_t off, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t w, got;
	size_t i;

	while (len && (off & 7)) {
		if (*p != payload_byte(seed, off))
			return off;
		p++, off++, len--;
	}
	while (len >= 8) {
		w = htole64(hxs_perf_word(seed, off >> 3));
		memcpy(&got, p, 8);
		if (got != w) {
			for (i = 0; i < 8 && p[i] == ((uint8_t *)&w)[i]; i++)
				;
			return off + i;
		}
		p += 8, off += 8, len -= 8;
	}
	while (len) {
		if (*p != payload_byte(seed, off))
			return off;
		p++, off++, len--;
	}
	return UINT64_MAX;
}

void hxs_perf_rx_init(struct hxs_perf_rx *rx, uint64_t seed)
{
	memset(rx, 0, sizeof(*rx));
	rx->seed = seed;
	rx->mismatch = UINT64_MAX;
}

static void rx_verify(struct hxs_perf_rx *rx, const uint8_t *d, size_t n)
{
	uint64_t bad;

	if (rx->mismatch == UINT64_MAX) {
		bad = hxs_perf_verify(rx->seed, rx->off, d, n);
		if (bad != UINT64_MAX)
			rx->mismatch = bad;
	}
	rx->off += n;
}

void hxs_perf_rx_feed(struct hxs_perf_rx *rx, const uint8_t *data, size_t len)
{
	const size_t H = sizeof(rx->hold);
	size_t out;

	if (rx->held + len <= H) {
		memcpy(rx->hold + rx->held, data, len);
		rx->held += (uint32_t)len;
		return;
	}
	/* Of held + len bytes, all but the last H are payload now. */
	out = rx->held + len - H;
	if (out <= rx->held) {
		rx_verify(rx, rx->hold, out);
		memmove(rx->hold, rx->hold + out, rx->held - out);
		memcpy(rx->hold + rx->held - out, data, len);
	} else {
		rx_verify(rx, rx->hold, rx->held);
		rx_verify(rx, data, out - rx->held);
		memcpy(rx->hold, data + (out - rx->held), H);
	}
	rx->held = (uint32_t)H;
}

int hxs_perf_rx_finish(struct hxs_perf_rx *rx, struct hxs_perf_trailer *t)
{
	if (rx->held != sizeof(rx->hold))
		return -EPROTO;
	return hxs_perf_trailer_decode(t, (const struct hxs_perf_trailer *)rx->hold);
}

uint64_t hxs_perf_bidir_seed(uint64_t seed)
{
	return hxs_perf_word(seed, UINT64_MAX);   /* unrelated to every word of seed's sequence */
}

uint8_t hxs_perf_end_mark(uint64_t seed, uint64_t off)
{
	return (uint8_t)~payload_byte(seed, off);
}

void hxs_perf_bidir_rx_init(struct hxs_perf_bidir_rx *rx, uint64_t seed)
{
	memset(rx, 0, sizeof(*rx));
	rx->seed = seed;
	rx->mismatch = UINT64_MAX;
}

int hxs_perf_bidir_rx_feed(struct hxs_perf_bidir_rx *rx, const uint8_t *data, size_t len)
{
	uint64_t bad;
	size_t n;

	if (rx->mismatch != UINT64_MAX)
		return -EPROTO;
	if (!rx->ended) {
		bad = hxs_perf_verify(rx->seed, rx->off, data, len);
		if (bad == UINT64_MAX) {
			rx->off += len;
			return 0;
		}
		n = (size_t)(bad - rx->off);
		rx->off = bad;
		if (data[n] != hxs_perf_end_mark(rx->seed, bad)) {
			rx->mismatch = bad;
			return -EPROTO;
		}
		rx->ended = true;
		data += n + 1;
		len -= n + 1;
	}
	if (len > sizeof(rx->tail) - rx->tail_len)
		return -EPROTO;
	memcpy(rx->tail + rx->tail_len, data, len);
	rx->tail_len += (uint32_t)len;
	return 0;
}

int hxs_perf_bidir_rx_trailer(const struct hxs_perf_bidir_rx *rx, struct hxs_perf_trailer *t)
{
	if (rx->tail_len < sizeof(*t))
		return -EAGAIN;
	if (hxs_perf_trailer_decode(t, (const struct hxs_perf_trailer *)rx->tail))
		return -EPROTO;
	return t->bytes == rx->off ? 0 : -EPROTO;
}

int hxs_perf_bidir_rx_report(const struct hxs_perf_bidir_rx *rx, struct hxs_perf_report *r)
{
	if (rx->tail_len < sizeof(rx->tail))
		return -EAGAIN;
	return hxs_perf_report_decode(r, (const struct hxs_perf_report *)
				      (rx->tail + sizeof(struct hxs_perf_trailer)));
}

void hxs_hist_init(struct hxs_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min_ns = UINT64_MAX;
}

static unsigned bucket_of(uint64_t v)
{
	unsigned msb, sub;

	if (v < HXS_HIST_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);           /* >= 4 */
	sub = (unsigned)(v >> (msb - 4)) & (HXS_HIST_SUB - 1);
	return (msb - 3) * HXS_HIST_SUB + sub;
}

/* Largest value that falls into bucket i. */
static uint64_t bucket_top(unsigned i)
{
	unsigned msb, sub;

	if (i < HXS_HIST_SUB)
		return i;
	msb = i / HXS_HIST_SUB + 3;
	sub = i % HXS_HIST_SUB;
	return (((uint64_t)(HXS_HIST_SUB + sub) + 1) << (msb - 4)) - 1;
}

void hxs_hist_add(struct hxs_hist *h, uint64_t ns)
{
	h->b[bucket_of(ns)]++;
	h->count++;
	h->sum_ns += ns;
	if (ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

uint64_t hxs_hist_quantile(const struct hxs_hist *h, double q)
{
	uint64_t want, seen = 0, top;
	unsigned i;

	if (!h->count)
		return 0;
	want = (uint64_t)(q * (double)h->count);
	if (want >= h->count)
		want = h->count - 1;
	for (i = 0; i < HXS_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > want) {
			top = bucket_top(i);
			return top > h->max_ns ? h->max_ns : top;
		}
	}
	return h->max_ns;
}
