/* tcp_harness.h - test harnesses for the TCP core.
 *
 * Scripted (packetdrill-like): one stack, segments injected at chosen times, every segment
 * the stack emits captured and parsed so a test asserts its exact fields.
 *   struct ts *t = ts_new(&cfg);
 *   ts_syn(t, now, seq, &opts);  ts_ack(t, now, seq, ack);      peer -> stack, common shapes
 *   TS_IN(t, now, .flags = HXS_TH_ACK, .seq = s, .ack = a, .wnd = 0);   any other segment
 *   struct ts_seg s; ts_pop(t, &s);                               stack -> peer, in order
 *   ts_run_until(t, now);                                        fire timers up to now
 *
 * Simulator: two stacks joined by netsim (tests/unit/lib/netsim.h) in virtual time.
 *
 * Both hand the core frames as the AF_XDP datapath does (sock/tcp_sock.c tx_alloc()):
 *   - a frame holds at most MTU - 20 bytes of TCP segment (hxs_ip_max_l4()); a bigger request
 *     is refused (NULL, counted in `oversize`), and the core counts TCPTxNoBufs;
 *   - frames come from a pool of `pool` frames (production: TS_POOL_FRAMES); a frame handed
 *     out stays taken until the turn's flush (hxs_tcp__poll's tx.flush, the stack's TX kick:
 *     the completion returns it), so a turn that emits more than the pool gets NULL
 *     (counted in `nobufs`); `fail_allocs` refuses the next N allocations outright;
 *   - a stack that keeps asking within one instant without progress (a connection marked
 *     dirty forever, e.g. a segment larger than the frame) is a livelock: the scripted
 *     harness aborts, the simulator stops and sets `stalled`.
 * Nothing captured is ever dropped or cut: the capture queue aborts the program when a test
 * leaves more than TS_QCAP segments unread, and a payload always fits ts_seg.data.
 */
#ifndef HXS_TCP_HARNESS_H
#define HXS_TCP_HARNESS_H

#include <stdint.h>

#include "netsim.h"
#include "tcp/tcp.h"
#include "tcp/tcp_conn.h"

#define TS_LOCAL  0x0100000au        /* 10.0.0.1 in network order */
#define TS_REMOTE 0x0200000au        /* 10.0.0.2 */
#define TS_QCAP 1024                 /* captured segments a test may leave unread */
#define TS_MTU_MAX 9000              /* the largest MTU a harness stack may have */
/* The production TX pool: xsk.c keeps min(frames / 2, ring) of a queue's 4096 UMEM frames in
 * the fill ring, which leaves 2048 for frames the stack holds or transmits. */
#define TS_POOL_FRAMES 2048
/* Turns at one instant that a stack may need to drain its pending output (each turn
 * sends up to a pool of frames): beyond this, it is not draining but spinning. */
#define TS_SPIN_LIMIT 100000

struct ts_seg {
	uint8_t flags;
	uint8_t tos;                     /* the TOS byte the core gave tx.send (ECN field) */
	uint8_t ttl;                     /* the TTL it gave (0: the IP layer's default, 64) */
	uint32_t seq, ack, wnd;          /* wnd: raw 16-bit field */
	uint16_t sport, dport;
	uint32_t saddr, daddr;
	uint32_t len;                    /* payload */
	uint32_t hlen;                   /* header with options (data offset * 4) */
	uint8_t data[TS_MTU_MAX - 40];
	int csum_ok, opt_ok;
	struct hxs_tcp_opts opt;
	uint8_t optraw[40];              /* the options as written (hlen - 20 bytes) */
	uint64_t t;                      /* time emitted */
	/* The connection of its 4-tuple when it was emitted (conn 0: none in the table). */
	int conn;
	uint32_t conn_mss, conn_peer_mss;   /* its c->mss (send MSS) and the peer's MSS option */
	int conn_ts, conn_sack;             /* timestamps and SACK agreed */
};

struct ts {
	struct hxs_tcp *tcp;
	uint64_t now;
	struct ts_seg *q;                /* TS_QCAP entries, a ring */
	int head, n;
	uint32_t mtu;                    /* the stack's IP MTU: frames hold mtu - 20 bytes */
	uint32_t pool, in_tx;            /* frames in the pool; taken since the last flush */
	uint32_t fail_allocs;            /* refuse this many allocations next */
	uint64_t oversize, nobufs;       /* allocations refused: too large, no frame */
	uint64_t frames_alloc, frames_sent;
	uint32_t events;                 /* last mask from on_event */
	int nevents;
	int tuples;                      /* on_tuple adds minus removes */
	int tuple_err;                   /* on_tuple refuses adds with this (negative errno) */
	int listens;
};

struct ts *ts_new(const struct hxs_tcp_cfg *cfg);
void ts_free(struct ts *t);
#define TS_RPORT 40000
#define TS_LPORT 80
/* The local port of the tests' active opens: the core takes the port its caller chose (the
 * socket layer picks an RFC 6056 ephemeral one), here one of hxs's ephemeral range. */
#define TS_EPORT 61000

/* A segment from the peer, TS_REMOTE:rport -> TS_LOCAL:lport, as a script states it. Every
 * field is what goes on the wire, zero included, except the ports (0: TS_RPORT, TS_LPORT). */
struct ts_pkt {
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t wnd;                    /* the raw 16-bit field */
	const struct hxs_tcp_opts *opt;  /* options written by hxs_tcp_opt__write, or NULL */
	const uint8_t *rawopt;           /* or rawlen option bytes as they are (malformed ones) */
	uint32_t rawlen;                 /* a multiple of 4 */
	const void *data;
	uint32_t len;
	uint16_t rport, lport;
};
/* Writes p (header, options, payload, checksum) into buf; returns its length. */
uint32_t ts_build(uint8_t *buf, const struct ts_pkt *p);
/* Builds p and injects it at `now` (see ts_in_raw). */
int ts_inject(struct ts *t, uint64_t now, const struct ts_pkt *p);
#define TS_IN(t, now, ...) ts_inject(t, now, &(const struct ts_pkt){ __VA_ARGS__ })
/* The shapes scripts repeat, TS_RPORT -> TS_LPORT, no options unless given, window 65535
 * (a RST: 0). */
int ts_syn(struct ts *t, uint64_t now, uint32_t seq, const struct hxs_tcp_opts *o);
int ts_synack(struct ts *t, uint64_t now, uint32_t seq, uint32_t ack, const struct hxs_tcp_opts *o);
int ts_ack(struct ts *t, uint64_t now, uint32_t seq, uint32_t ack);
/* ACK carrying len bytes of data; ts_push sets PSH too. */
int ts_data(struct ts *t, uint64_t now, uint32_t seq, uint32_t ack, const void *d, uint32_t len);
int ts_push(struct ts *t, uint64_t now, uint32_t seq, uint32_t ack, const void *d, uint32_t len);
/* FIN,ACK without data. */
int ts_fin(struct ts *t, uint64_t now, uint32_t seq, uint32_t ack);
/* RST without ACK. */
int ts_rst(struct ts *t, uint64_t now, uint32_t seq);
/* Raw bytes as the TCP segment (for malformed headers/options): timers run up to now, the
 * segment goes in, then a poll. */
int ts_in_raw(struct ts *t, uint64_t now, const uint8_t *seg, uint32_t len);
/* Runs timers and output for every deadline <= until. */
void ts_run_until(struct ts *t, uint64_t until);
/* Pops the oldest captured segment; 0 if none (s is then zeroed, never stale). */
int ts_pop(struct ts *t, struct ts_seg *s);
int ts_pending(const struct ts *t);
void ts_clear(struct ts *t);

/* --- what the scripted tests share ------------------------------------------------------- */
/* ts_new of cfg, or of an all-zero configuration (the core's defaults) when cfg is NULL. */
struct ts *ts_open(const struct hxs_tcp_cfg *cfg);
/* Options with only an MSS of mss (mss 0: no option at all). */
struct hxs_tcp_opts ts_mss_opt(uint16_t mss);
/* A SYN from TS_REMOTE:TS_RPORT + i at `now`, ISN isn, MSS 1460, window 65535. Takes every
 * segment emitted; 1 if one was the SYN,ACK answering it (its ISS in *iss), else 0. */
int ts_syn_from(struct ts *t, uint64_t now, uint32_t isn, uint16_t i, uint32_t *iss);
/* Aborts and closes the n connections of cs (NULL entries skipped), polls so the core frees
 * what they released, discards what they sent. Returns the connection objects still
 * allocated: a test compares it with hxs_tcp__nconns() to catch a leak. */
uint64_t ts_close_all(struct ts *t, struct hxs_tcp_conn **cs, int n);
/* n bytes of the test pattern of `seed`. */
void ts_fill(uint8_t *p, uint32_t n, uint32_t seed);

/* --- simulator ------------------------------------------------------------------------- */
struct sim_port {
	struct sim *s;
	int port;
	uint32_t mtu;                    /* the stack's IP MTU: frames hold mtu - 20 bytes */
	uint32_t pool, in_tx;            /* frames in the pool; taken this step (until the flush) */
	uint64_t oversize, nobufs;       /* allocations refused: too large, no frame */
	uint64_t rejected;               /* segments hxs_tcp__input() refused (-EINVAL) */
	uint64_t sack_data;              /* segments sent with data and SACK blocks */
	uint32_t max_l4;                 /* the largest segment sent */
};

struct sim {
	struct netsim *ns;
	struct hxs_tcp *tcp[2];
	struct sim_port port[2];
	uint32_t addr[2];
	uint64_t now;
	uint64_t frames_alloc, frames_freed, frames_sent;
	uint64_t spins;                  /* steps in a row that did not advance `now` */
	int stalled;                     /* sim_step gave up: a stack spun TS_SPIN_LIMIT steps */
};

/* cfg_b (optional) configures stack B differently. Each stack's frames hold its MTU - 20
 * bytes; the link (nc) is given the path's L4 limit, min(MTU A, MTU B) - 20, unless nc sets
 * an MTU of its own (netsim carries TCP segments without an IP header). Pools: production. */
struct sim *sim_new(const struct netsim_cfg *nc, uint64_t seed, const struct hxs_tcp_cfg *cfg,
		    const struct hxs_tcp_cfg *cfg_b);
void sim_free(struct sim *s);
/* One step (one turn of each stack): deliver frames due now, poll both stacks (the poll's
 * flush returns the step's frames to the pools), then advance `now` to the next event
 * (netsim delivery or stack deadline), never beyond `limit`. Returns 0 when nothing is
 * pending at all, or when the stacks spin without time moving (then `stalled` is set). */
int sim_step(struct sim *s, uint64_t limit);

/* Pseudo-random byte stream: byte i of stream `seed`. */
void pattern_fill(uint64_t seed, uint64_t off, uint8_t *p, uint32_t n);
/* Returns the first offset that differs, or -1. */
long pattern_check(uint64_t seed, uint64_t off, const uint8_t *p, uint32_t n);

#endif
