/* appperf.h - hxs-perf's wire protocol, its seeded payload and its latency histogram.
 *
 * Every TCP connection starts with one struct hxs_perf_hdr from the client (all fields
 * big-endian). Then, by mode:
 *   stream: the sender (client, or server with HXS_PERF_F_REVERSE) writes the payload
 *           sequence for duration_ms (or exactly `bytes` bytes when that is not 0), then one
 *           struct hxs_perf_trailer, then half-closes.
 *           The receiver verifies every payload byte as it arrives (holding back the last
 *           sizeof(trailer) bytes, which are the trailer once EOF comes), then answers one
 *           struct hxs_perf_report and closes.
 *   rr:     msg_len-byte requests, each echoed back byte for byte; the client half-closes
 *           when done, the server closes on EOF.
 *   stream with HXS_PERF_F_BIDIR: both ends send and verify at once on the one connection.
 *           Each direction carries its own payload sequence (seed from the client to the
 *           server, hxs_perf_bidir_seed(seed) back) for duration_ms or exactly `bytes` bytes,
 *           then one end mark byte, one struct hxs_perf_trailer, and - once this end has the
 *           peer's trailer - one struct hxs_perf_report on the direction it received; then it
 *           half-closes. The end mark is the complement of the payload byte at that offset, so
 *           the receiver sees where the payload ends without waiting for EOF (which cannot
 *           come before the report).
 *   crr:    one msg_len-byte request echoed, then the server closes; the client reads EOF.
 * UDP (same port): datagrams of struct hxs_perf_dgram header + padding to msg_len, echoed.
 *
 * Payload: byte at offset o is byte (o % 8) (little-endian) of hxs_perf_word(seed, o / 8),
 * a splitmix64 hash: any offset can be produced or checked without state, 8 bytes at a time.
 */
#ifndef HXS_APPPERF_H
#define HXS_APPPERF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HXS_PERF_MAGIC        0x48585350u   /* "HXSP": connection header */
#define HXS_PERF_TRAILER_MAGIC 0x48585354u  /* "HXST": end of a stream */
#define HXS_PERF_REPORT_MAGIC 0x48585352u   /* "HXSR": receiver's report */
#define HXS_PERF_DGRAM_MAGIC  0x48585355u   /* "HXSU": UDP request/response */
#define HXS_PERF_VERSION      1
#define HXS_PERF_PORT         5201
#define HXS_PERF_MAX_MSG      (1u << 20)

enum hxs_perf_mode {
	HXS_PERF_STREAM = 1,
	HXS_PERF_RR,
	HXS_PERF_CRR,
	HXS_PERF_UDP,
};
/* "stream", "rr", "crr", "udp"; "?" for anything else. */
const char *hxs_perf_mode_name(int m);
#define HXS_PERF_F_REVERSE   (1u << 0)       /* stream: the server sends */
#define HXS_PERF_F_BIDIR     (1u << 1)       /* stream: both send, both verify */

struct hxs_perf_hdr {
	uint32_t magic;
	uint8_t  version;
	uint8_t  mode;
	uint16_t flags;
	uint32_t msg_len;       /* rr/crr request and response size */
	uint32_t duration_ms;   /* stream --reverse: how long the server sends */
	uint64_t seed;          /* payload sequence of this connection */
	uint64_t bytes;         /* stream: payload bytes the sender writes; 0: for duration_ms */
} __attribute__((packed));
_Static_assert(sizeof(struct hxs_perf_hdr) == 32, "hxs_perf_hdr is 32 bytes on the wire");

struct hxs_perf_trailer {
	uint32_t magic;
	uint32_t pad;
	uint64_t bytes;         /* payload bytes the sender wrote */
	uint64_t retransmits;   /* sender's TCP_INFO total_retrans */
	uint64_t duration_us;   /* sender's time from first to last payload byte */
} __attribute__((packed));
_Static_assert(sizeof(struct hxs_perf_trailer) == 32, "hxs_perf_trailer is 32 bytes");

struct hxs_perf_report {
	uint32_t magic;
	uint8_t  ok;            /* 1: every byte matched and the count equals the trailer's */
	uint8_t  pad[3];
	uint64_t bytes;         /* payload bytes received */
	uint64_t mismatch;      /* first bad offset (UINT64_MAX: none) */
	uint64_t duration_us;   /* receiver's time from first to last payload byte */
} __attribute__((packed));
_Static_assert(sizeof(struct hxs_perf_report) == 32, "hxs_perf_report is 32 bytes");

struct hxs_perf_dgram {
	uint32_t magic;
	uint32_t conn;          /* client socket index */
	uint64_t seq;
	uint64_t sent_ns;       /* client's clock, echoed */
} __attribute__((packed));

/* Host <-> wire (big-endian) for the three control messages; decode checks magic and, for the
 * header, version, mode and sizes: -EPROTO when they are wrong. */
void hxs_perf_hdr_encode(struct hxs_perf_hdr *w, const struct hxs_perf_hdr *h);
int  hxs_perf_hdr_decode(struct hxs_perf_hdr *h, const struct hxs_perf_hdr *w);
void hxs_perf_trailer_encode(struct hxs_perf_trailer *w, const struct hxs_perf_trailer *t);
int  hxs_perf_trailer_decode(struct hxs_perf_trailer *t, const struct hxs_perf_trailer *w);
void hxs_perf_report_encode(struct hxs_perf_report *w, const struct hxs_perf_report *r);
int  hxs_perf_report_decode(struct hxs_perf_report *r, const struct hxs_perf_report *w);

uint64_t hxs_perf_word(uint64_t seed, uint64_t index);
/* Fills buf with the payload bytes at [off, off + len). */
void hxs_perf_fill(uint64_t seed, uint64_t off, void *buf, size_t len);
/* Checks buf against the payload at [off, off + len); returns the offset of the first wrong
 * byte, or UINT64_MAX when all match. */
uint64_t hxs_perf_verify(uint64_t seed, uint64_t off, const void *buf, size_t len);

/* A receiver's verifying state: feeds payload through, holding back the last
 * sizeof(struct hxs_perf_trailer) bytes, which turn out to be the trailer at EOF. */
struct hxs_perf_rx {
	uint64_t seed;
	uint64_t off;           /* payload bytes verified so far */
	uint64_t mismatch;      /* first bad offset or UINT64_MAX */
	uint8_t  hold[sizeof(struct hxs_perf_trailer)];
	uint32_t held;
};
void hxs_perf_rx_init(struct hxs_perf_rx *rx, uint64_t seed);
void hxs_perf_rx_feed(struct hxs_perf_rx *rx, const uint8_t *data, size_t len);
/* At EOF: decodes the held-back trailer; -EPROTO when it is short or not a trailer. */
int  hxs_perf_rx_finish(struct hxs_perf_rx *rx, struct hxs_perf_trailer *t);

/* Bidirectional stream: the seed of the server-to-client payload, and the end mark byte that
 * follows the payload of one direction (never equal to the payload byte at off). */
uint64_t hxs_perf_bidir_seed(uint64_t seed);
uint8_t  hxs_perf_end_mark(uint64_t seed, uint64_t off);

/* A bidirectional receiver: verifies payload until the end mark, then collects the trailer and
 * the report that follow it (HXS_PERF_BIDIR_TAIL bytes in all); nothing may follow them. */
#define HXS_PERF_BIDIR_TAIL (sizeof(struct hxs_perf_trailer) + sizeof(struct hxs_perf_report))
struct hxs_perf_bidir_rx {
	uint64_t seed;
	uint64_t off;           /* payload bytes verified so far */
	uint64_t mismatch;      /* first bad offset or UINT64_MAX */
	bool     ended;         /* the end mark arrived */
	uint8_t  tail[HXS_PERF_BIDIR_TAIL];
	uint32_t tail_len;
};
void hxs_perf_bidir_rx_init(struct hxs_perf_bidir_rx *rx, uint64_t seed);
/* -EPROTO: a payload byte differs (rx->mismatch says where), or bytes after the report. */
int  hxs_perf_bidir_rx_feed(struct hxs_perf_bidir_rx *rx, const uint8_t *data, size_t len);
/* The trailer once it is in: 0, -EAGAIN (not yet), -EPROTO (no trailer, or its byte count is
 * not the payload that arrived). */
int  hxs_perf_bidir_rx_trailer(const struct hxs_perf_bidir_rx *rx, struct hxs_perf_trailer *t);
/* The report once it is in: 0, -EAGAIN, -EPROTO. */
int  hxs_perf_bidir_rx_report(const struct hxs_perf_bidir_rx *rx, struct hxs_perf_report *r);

/* Log-linear latency histogram in nanoseconds: 16 sub-buckets per power of two (worst error
 * 1/16), fixed size, no allocation. */
#define HXS_HIST_SUB 16
#define HXS_HIST_BUCKETS (64 * HXS_HIST_SUB)
struct hxs_hist {
	uint64_t count, sum_ns, min_ns, max_ns;
	uint64_t b[HXS_HIST_BUCKETS];
};
void hxs_hist_init(struct hxs_hist *h);
void hxs_hist_add(struct hxs_hist *h, uint64_t ns);
/* Value at quantile q (0..1): the upper edge of its bucket, clamped to max. 0 when empty. */
uint64_t hxs_hist_quantile(const struct hxs_hist *h, double q);

#endif
