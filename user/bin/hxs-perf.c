/* hxs-perf - the same network workloads on hxs and on kernel sockets (--kernel), so either
 * stack can be measured against the other and any pairing of the two interoperates.
 *
 *   server: hxs-perf -s [-i IFACE] [-p PORT] [--kernel] [--busy-poll] [--napi-cpu CPU]
 *   client: hxs-perf -c ADDR [-i IFACE] [-p PORT] -m stream|rr|crr|udp [-t S] [-n COUNT]
 *                    [-l BYTES] [-P CONNS] [--reverse | --bidir] [--seed N] [--json] [--kernel]
 *                    [--busy-poll] [--napi-cpu CPU]
 *
 * -t runs for a time (a measurement: make bench); -n runs an exact amount of work, so a test
 * can check the counts: stream COUNT payload bytes per connection, rr COUNT transactions per
 * connection, crr COUNT connections in all, udp COUNT answered datagrams per socket; -t is
 * then the time limit (default 60 s), and not finishing within it is an error. --seed fixes
 * the payload's seed (connection slot i gets seed + i * 0x100000001, crr adds its count), so
 * two runs send and verify the same byte streams.
 *
 * Wire protocol and payload: user/appperf.h. One thread, non-blocking sockets, one event loop:
 *   main() -> run_server() | run_client() -> loop() -> hxs_appnet_epoll_wait()
 *     -> conn_step(c): advance c's state machine until the socket would block
 *          stream sender:   SEND -> TRAILER -> (shutdown WR) REPORT_IN -> DRAIN -> closed
 *          stream receiver: RECV (verify) -> EOF -> REPORT_OUT -> closed
 *          stream --bidir:  BIDIR, both ends: bidir_tx() PAYLOAD -> END (mark + trailer) ->
 *                           WAIT (peer's trailer in) -> REPORT -> shutdown WR, and bidir_rx()
 *                           verifies until the end mark, takes trailer + report, then EOF
 *          rr/crr client:   CONNECTING -> REQ -> RESP -> REQ ... -> DRAIN -> closed
 *          rr/crr server:   HDR -> ECHO -> closed (crr: after one message)
 *     -> udp_step(): echo (server) / send, match sequence numbers, retry on timeout (client)
 * Exit status: 0 when every connection completed and verified, 1 otherwise (stderr says why).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include "app/appnet.h"
#include "app/appperf.h"
#include "app/prog.h"

#define GEN_CAP     (128 * 1024)      /* stream sender's payload window */
#define RX_CAP      (256 * 1024)      /* receive scratch buffer */
#define MAX_EVENTS  256
#define UDP_TIMEOUT_NS (200ull * 1000000ull)
#define GRACE_NS    (15ull * 1000000000ull) /* after -t: how long the end may take */

enum cstate {
	C_CONNECTING,   /* client: connect() in progress */
	C_HDR,          /* server: reading the connection header */
	C_HDR_OUT,      /* client: sending header (+ first request for rr/crr) */
	C_SEND,         /* stream sender: payload */
	C_TRAILER,      /* stream sender: trailer, then shutdown(SHUT_WR) */
	C_REPORT_IN,    /* stream sender: reading the receiver's report */
	C_RECV,         /* stream receiver: payload + trailer until EOF */
	C_REPORT_OUT,   /* stream receiver: sending the report, then close */
	C_REQ,          /* rr/crr client: sending a request */
	C_RESP,         /* rr/crr client: reading the response */
	C_ECHO,         /* rr/crr server: echoing */
	C_DRAIN,        /* waiting for EOF, then close */
	C_BIDIR,        /* stream --bidir: sending and verifying at once (c->tx, c->brx) */
};

enum bidir_tx {
	TX_PAYLOAD,     /* payload until the limit or deadline */
	TX_END,         /* end mark + trailer going out */
	TX_WAIT,        /* waiting for the peer's trailer, to report on what arrived */
	TX_REPORT,      /* report going out, then shutdown(SHUT_WR) */
	TX_DONE,
};

struct conn {
	int fd;
	int slot;               /* client: index of this connection slot */
	enum cstate state;
	uint32_t evmask;
	bool server;
	bool sender;            /* stream: this end writes the payload */
	struct hxs_perf_hdr h;
	uint8_t ctl[64];        /* header / trailer / report being read */
	size_t ctl_got;
	uint8_t *buf;           /* out queue: header, trailer, report, request, echo, payload */
	size_t cap, len, off;
	uint64_t sent;          /* stream payload bytes written */
	uint64_t deadline_ns;   /* stream sender: stop sending */
	uint64_t limit;         /* stream sender: payload bytes to write (0: until deadline_ns) */
	uint64_t t0_ns, t1_ns;  /* first / last payload byte; rr: request start; crr: connect */
	uint64_t echoed, txn;
	struct hxs_perf_rx rx;
	struct hxs_perf_trailer trailer;
	struct hxs_perf_report report;
	bool have_trailer, have_report;
	uint64_t retrans;
	enum bidir_tx tx;       /* --bidir: the outbound direction */
	struct hxs_perf_bidir_rx brx; /* --bidir: the inbound direction */
	bool rx_eof, recorded;
	struct sockaddr_in6 peer;
};

static struct opts {
	bool server, json, reverse, bidir;
	const char *addr;
	int port;
	enum hxs_perf_mode mode;
	double secs;
	bool secs_given;
	uint64_t count;         /* -n: exact work (0: run for -t) */
	uint64_t seed;          /* --seed: the payload's seed base */
	bool seed_given;
	uint32_t msg_len;
	int conns;
} o = { .port = HXS_PERF_PORT, .mode = HXS_PERF_STREAM, .secs = 5, .msg_len = 64, .conns = 1 };

/* Client totals. */
static struct {
	uint64_t bytes_sent, bytes_recv, txns, conns_done, retrans, udp_lost, udp_late;
	uint64_t errors, t_start, t_end;
	bool all_verified;
	uint64_t first_mismatch;
	struct hxs_hist hist;
	uint64_t peer_bytes, peer_retrans;
	/* --bidir, per direction: bytes the receiver got, and whether every stream verified */
	uint64_t peer_recv;
	bool out_ok, in_ok;
	uint64_t out_mismatch, in_mismatch;
} res;

/* This process's CPU time (user + system) in seconds. */
static double cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}
static double cpu_start;

/* Server totals. */
static struct {
	uint64_t accepted, closed, streams_ok, streams_bad, rr_txn_bytes, crr, udp_in, udp_bad,
		 errors;
} srv;

static struct hxs_prog prog = { .name = "hxs-perf", .port = HXS_PERF_PORT };
static struct hxs_appnet *an;
static int epfd, lfd = -1, ufd = -1;
static struct sockaddr_in6 dst;
static uint8_t *scratch;
static volatile sig_atomic_t stopping;
static uint64_t seed_base;
static int active;              /* client: connections still running */
static uint64_t crr_started;    /* client, -n: crr connections started */
static int udp_slots_done;      /* client, -n: UDP sockets that have their count */
static bool client_stop;        /* client: -t elapsed, start no new work */
static uint64_t end_ns;         /* client: -t deadline */
static uint64_t accept_resume_ns; /* server: accepts paused until (0: not paused) */

/* Tags for epoll data that are not connections. */
#define TAG_LISTEN 1u
#define TAG_UDP    2u

static const char *mode_name(int m)
{
	switch (m) {
	case HXS_PERF_STREAM: return "stream";
	case HXS_PERF_RR: return "rr";
	case HXS_PERF_CRR: return "crr";
	case HXS_PERF_UDP: return "udp";
	default: return "?";
	}
}

static void peer_str(struct conn *c, char *s, size_t n)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	hxs_appnet_ntop(&c->peer, ip, sizeof(ip));
	snprintf(s, n, "connection %d %s %s:%u", c->fd, c->server ? "from" : "to", ip,
		 ntohs(c->peer.sin6_port));
}

/* A failure of one connection: counted, and said on stderr. */
static void fail(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct conn *c, const char *fmt, ...)
{
	char who[64], msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	peer_str(c, who, sizeof(who));
	fprintf(stderr, "hxs-perf: %s %s (%s): %s\n", c->server ? "server" : "client", who,
		c->state == C_HDR ? "header" : mode_name(c->h.mode), msg);
	if (c->server)
		srv.errors++;
	else
		res.errors++;
}

static void set_events(struct conn *c, uint32_t want)
{
	struct hxs_event ev = { .events = want, .data = (uint64_t)(uintptr_t)c };

	if (want == c->evmask)
		return;
	if (hxs_appnet_epoll_ctl(an, epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->evmask = want;
}

static int buf_reserve(struct conn *c, size_t cap)
{
	uint8_t *b;

	if (c->cap >= cap)
		return 0;
	b = realloc(c->buf, cap);
	if (!b)
		return -ENOMEM;
	c->buf = b;
	c->cap = cap;
	return 0;
}

static void start_client_conn(int slot);

static void conn_free(struct conn *c, bool reset)
{
	struct hxs_appnet_tcpinfo ti;

	if (!c->server && hxs_appnet_tcpinfo(an, c->fd, &ti) == 0)
		res.retrans += ti.total_retrans;
	hxs_appnet_epoll_ctl(an, epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (reset)
		hxs_appnet_abort(an, c->fd);
	hxs_appnet_close(an, c->fd);
	if (c->server) {
		srv.closed++;
	} else {
		active--;
		/* crr: the next connection of this slot */
		if (!reset && c->h.mode == HXS_PERF_CRR && !client_stop && !stopping)
			start_client_conn(c->slot);
	}
	free(c->buf);
	free(c);
}

/* Sends c->buf[off..len). Returns 1 when all is out, 0 when it would block, -errno. */
static int out_flush(struct conn *c)
{
	ssize_t n;

	while (c->off < c->len) {
		n = hxs_appnet_send(an, c->fd, c->buf + c->off, c->len - c->off);
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return 0;
		if (n < 0)
			return (int)n;
		c->off += (size_t)n;
	}
	return 1;
}

/* out_flush(); when it would block, waits for EPOLLOUT. */
static int out_send(struct conn *c)
{
	int err = out_flush(c);

	if (err == 0)
		set_events(c, EPOLLOUT);
	return err;
}

/* Makes p[0..n) (an encoded control message) the out queue, with room behind it for more. */
static int out_set(struct conn *c, const void *p, size_t n, size_t room)
{
	if (buf_reserve(c, n + room))
		return -ENOMEM;
	memcpy(c->buf, p, n);
	c->len = n;
	c->off = 0;
	return 0;
}

/* hxs_appnet_recv(); when it would block, waits for EPOLLIN and returns -EAGAIN. */
static ssize_t conn_recv(struct conn *c, void *buf, size_t len)
{
	ssize_t n = hxs_appnet_recv(an, c->fd, buf, len);

	if (n == -EAGAIN || n == -EWOULDBLOCK) {
		set_events(c, EPOLLIN);
		return -EAGAIN;
	}
	return n;
}

/* Reads exactly want bytes into c->ctl. 1: complete, 0: would block (waiting for EPOLLIN),
 * -EPIPE: EOF before. */
static int ctl_read(struct conn *c, size_t want)
{
	ssize_t n;

	while (c->ctl_got < want) {
		n = conn_recv(c, c->ctl + c->ctl_got, want - c->ctl_got);
		if (n == -EAGAIN)
			return 0;
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EPIPE;
		c->ctl_got += (size_t)n;
	}
	return 1;
}

static void fill_request(struct conn *c, uint8_t *p)
{
	hxs_perf_fill(c->h.seed, c->txn * c->h.msg_len, p, c->h.msg_len);
}

/* Stream: this end starts sending payload, for duration_ns or, with limit, limit bytes. */
static int begin_send(struct conn *c, uint64_t duration_ns, uint64_t limit)
{
	if (buf_reserve(c, GEN_CAP))
		return -ENOMEM;
	c->sender = true;
	c->len = c->off = 0;
	c->sent = 0;
	c->t0_ns = hxs_appnet_now_ns();
	c->deadline_ns = c->t0_ns + duration_ns;
	c->limit = limit;
	c->state = C_SEND;
	return 0;
}

static void begin_recv(struct conn *c)
{
	hxs_perf_rx_init(&c->rx, c->h.seed);
	c->sender = false;
	c->state = C_RECV;
}

/* Stream, once the header is through: this end sends (for duration_ns or limit bytes), or it
 * verifies. */
static int begin_stream(struct conn *c, bool send, uint64_t duration_ns, uint64_t limit)
{
	if (send)
		return begin_send(c, duration_ns, limit);
	begin_recv(c);
	return 0;
}

/* Receiver at EOF: judge the stream and queue the report. */
static int finish_recv(struct conn *c)
{
	struct hxs_perf_report r = { 0 }, w;
	int err = hxs_perf_rx_finish(&c->rx, &c->trailer);

	c->t1_ns = c->t1_ns ? c->t1_ns : hxs_appnet_now_ns();
	r.bytes = c->rx.off;
	r.mismatch = c->rx.mismatch;
	r.duration_us = (c->t1_ns - (c->t0_ns ? c->t0_ns : c->t1_ns)) / 1000;
	c->have_trailer = err == 0;
	r.ok = err == 0 && c->rx.mismatch == UINT64_MAX && c->trailer.bytes == c->rx.off;
	if (err)
		fail(c, "stream ended without a valid trailer after %llu bytes (peer misbehaves)",
		     (unsigned long long)c->rx.off);
	else if (c->rx.mismatch != UINT64_MAX)
		fail(c, "payload mismatch at byte offset %llu: data corrupted",
		     (unsigned long long)c->rx.mismatch);
	else if (c->trailer.bytes != c->rx.off)
		fail(c, "sender says it sent %llu bytes, %llu arrived",
		     (unsigned long long)c->trailer.bytes, (unsigned long long)c->rx.off);
	c->report = r;
	c->have_report = true;
	hxs_perf_report_encode(&w, &r);
	c->state = C_REPORT_OUT;
	return out_set(c, &w, sizeof(w), 0);
}

static void record_stream(struct conn *c)
{
	if (c->server) {
		bool ok = c->sender ? c->have_report && c->report.ok && c->report.bytes == c->sent
				    : c->report.ok;

		ok ? srv.streams_ok++ : srv.streams_bad++;
		printf("hxs-perf: stream %s %llu bytes in %.2f s, %s\n", c->sender ? "sent" : "received",
		       (unsigned long long)(c->sender ? c->sent : c->rx.off),
		       (double)((c->sender ? c->report.duration_us * 1000 : c->t1_ns - c->t0_ns)) / 1e9,
		       ok ? "verified by the receiver" : "NOT verified");
		fflush(stdout);
		return;
	}
	if (c->sender) {
		res.bytes_sent += c->sent;
		res.bytes_recv += c->report.bytes;
		if (!c->report.ok || c->report.bytes != c->sent) {
			res.all_verified = false;
			if (c->report.mismatch < res.first_mismatch)
				res.first_mismatch = c->report.mismatch;
		}
	} else {
		res.bytes_recv += c->rx.off;
		res.peer_bytes += c->trailer.bytes;
		res.peer_retrans += c->trailer.retransmits;
		if (!c->report.ok) {
			res.all_verified = false;
			if (c->rx.mismatch < res.first_mismatch)
				res.first_mismatch = c->rx.mismatch;
		}
	}
}

/* rr/crr client: reads what has arrived of the echo and checks it against the request.
 * Also called while the request is still going out, so a message larger than the socket
 * buffers cannot deadlock the two ends. 1: whole echo in, 0: would block, -EPIPE: EOF,
 * -EPROTO: the echo differs from the request, other -errno. */
static int resp_read(struct conn *c)
{
	ssize_t n;

	while (c->echoed < c->h.msg_len) {
		uint64_t want = c->h.msg_len - c->echoed;

		n = hxs_appnet_recv(an, c->fd, scratch, want < RX_CAP ? (size_t)want : RX_CAP);
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return 0;
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EPIPE;
		if (hxs_perf_verify(c->h.seed, c->txn * c->h.msg_len + c->echoed, scratch,
				    (size_t)n) != UINT64_MAX)
			return -EPROTO;
		c->echoed += (uint64_t)n;
	}
	return 1;
}

/* --bidir: this end sends its direction's sequence (the client seed's, the server
 * hxs_perf_bidir_seed()'s) for duration_ns or limit bytes, and verifies the other one. */
static int begin_bidir(struct conn *c, uint64_t duration_ns, uint64_t limit)
{
	uint64_t in_seed = c->server ? c->h.seed : hxs_perf_bidir_seed(c->h.seed);

	if (begin_send(c, duration_ns, limit))
		return -ENOMEM;
	hxs_perf_bidir_rx_init(&c->brx, in_seed);
	c->tx = TX_PAYLOAD;
	c->state = C_BIDIR;
	return 0;
}

static uint64_t bidir_out_seed(const struct conn *c)
{
	return c->server ? hxs_perf_bidir_seed(c->h.seed) : c->h.seed;
}

/* --bidir: both directions of one connection, counted once whether it ended well or not. */
static void record_bidir(struct conn *c)
{
	bool in_ok = c->have_trailer && c->brx.mismatch == UINT64_MAX &&
		     (c->server || !o.count || c->brx.off == o.count);
	bool out_ok = c->have_report && c->report.ok && c->report.bytes == c->sent;

	if (c->recorded)
		return;
	c->recorded = true;
	if (c->server) {
		in_ok ? srv.streams_ok++ : srv.streams_bad++;
		out_ok ? srv.streams_ok++ : srv.streams_bad++;
		printf("hxs-perf: bidir stream sent %llu bytes (%s), received %llu bytes (%s)\n",
		       (unsigned long long)c->sent, out_ok ? "verified by the receiver" : "NOT verified",
		       (unsigned long long)c->brx.off, in_ok ? "verified" : "NOT verified");
		fflush(stdout);
		return;
	}
	res.bytes_sent += c->sent;
	res.peer_recv += c->have_report ? c->report.bytes : 0;
	res.bytes_recv += c->brx.off;
	res.peer_bytes += c->have_trailer ? c->trailer.bytes : 0;
	res.peer_retrans += c->have_trailer ? c->trailer.retransmits : 0;
	if (!out_ok) {
		res.out_ok = false;
		if (c->have_report && c->report.mismatch < res.out_mismatch)
			res.out_mismatch = c->report.mismatch;
	}
	if (!in_ok) {
		res.in_ok = false;
		if (c->brx.mismatch < res.in_mismatch)
			res.in_mismatch = c->brx.mismatch;
	}
	if (!in_ok || !out_ok)
		res.all_verified = false;
}

/* --bidir, outbound: one step. 1: progress; 0: nothing to do now (*want_out: the socket is
 * full); -errno: broken. */
static int bidir_tx(struct conn *c, bool *want_out)
{
	struct hxs_perf_trailer t = { 0 }, tw;
	struct hxs_perf_report r = { 0 }, rw;
	struct hxs_appnet_tcpinfo ti;
	uint64_t now;
	ssize_t n;
	int err;

	switch (c->tx) {
	case TX_PAYLOAD:
		if (c->off == c->len) {
			now = hxs_appnet_now_ns();
			if ((c->limit ? c->sent >= c->limit : now >= c->deadline_ns) || stopping) {
				c->t1_ns = now;
				t.bytes = c->sent;
				t.duration_us = (c->t1_ns - c->t0_ns) / 1000;
				if (hxs_appnet_tcpinfo(an, c->fd, &ti) == 0)
					t.retransmits = ti.total_retrans;
				c->buf[0] = hxs_perf_end_mark(bidir_out_seed(c), c->sent);
				hxs_perf_trailer_encode(&tw, &t);
				memcpy(c->buf + 1, &tw, sizeof(tw));   /* fits the payload window */
				c->len = 1 + sizeof(tw);
				c->off = 0;
				c->tx = TX_END;
				return 1;
			}
			c->len = GEN_CAP;
			if (c->limit && c->limit - c->sent < GEN_CAP)
				c->len = (size_t)(c->limit - c->sent);
			hxs_perf_fill(bidir_out_seed(c), c->sent, c->buf, c->len);
			c->off = 0;
		}
		n = hxs_appnet_send(an, c->fd, c->buf + c->off, c->len - c->off);
		if (n == -EAGAIN || n == -EWOULDBLOCK) {
			*want_out = true;
			return 0;
		}
		if (n < 0)
			return (int)n;
		c->off += (size_t)n;
		c->sent += (uint64_t)n;
		return 1;
	case TX_END:
	case TX_REPORT:
		err = out_flush(c);
		if (err <= 0) {
			*want_out = err == 0;
			return err;
		}
		if (c->tx == TX_END) {
			c->tx = TX_WAIT;
		} else {
			hxs_appnet_shutdown(an, c->fd, SHUT_WR);
			c->tx = TX_DONE;
		}
		return 1;
	case TX_WAIT:
		if (!c->have_trailer)
			return 0;
		r.ok = c->brx.mismatch == UINT64_MAX;   /* the trailer checked the byte count */
		r.bytes = c->brx.off;
		r.mismatch = c->brx.mismatch;
		r.duration_us = (hxs_appnet_now_ns() - c->t0_ns) / 1000;
		hxs_perf_report_encode(&rw, &r);
		if (out_set(c, &rw, sizeof(rw), 0))
			return -ENOMEM;
		c->tx = TX_REPORT;
		return 1;
	case TX_DONE:
		break;
	}
	return 0;
}

/* --bidir, inbound: one read. 1: progress; 0: nothing arrived, or EOF already seen; -EPROTO:
 * the stream is wrong (said on stderr); other -errno: broken. */
static int bidir_rx(struct conn *c)
{
	ssize_t n;
	int err;

	if (c->rx_eof)
		return 0;
	n = hxs_appnet_recv(an, c->fd, scratch, RX_CAP);
	if (n == -EAGAIN || n == -EWOULDBLOCK)
		return 0;
	if (n < 0)
		return (int)n;
	if (n == 0) {
		c->rx_eof = true;
		if (!c->have_trailer) {
			fail(c, "inbound stream ended without end mark and trailer after %llu bytes",
			     (unsigned long long)c->brx.off);
			return -EPROTO;
		}
		if (hxs_perf_bidir_rx_report(&c->brx, &c->report)) {
			fail(c, "peer closed without a valid report on the %llu bytes it was sent",
			     (unsigned long long)c->sent);
			return -EPROTO;
		}
		c->have_report = true;
		return 1;
	}
	if (hxs_perf_bidir_rx_feed(&c->brx, scratch, (size_t)n)) {
		if (c->brx.mismatch != UINT64_MAX)
			fail(c, "payload mismatch at byte offset %llu: data corrupted",
			     (unsigned long long)c->brx.mismatch);
		else
			fail(c, "bytes after the peer's report (peer misbehaves)");
		return -EPROTO;
	}
	if (!c->have_trailer && (err = hxs_perf_bidir_rx_trailer(&c->brx, &c->trailer)) != -EAGAIN) {
		if (err) {
			fail(c, "bad trailer after %llu payload bytes (says %llu)",
			     (unsigned long long)c->brx.off, (unsigned long long)c->trailer.bytes);
			return -EPROTO;
		}
		c->have_trailer = true;
	}
	return 1;
}

/* --bidir: advances both directions until neither can. Returns false when c was freed. */
static bool bidir_step(struct conn *c)
{
	bool want_out;
	int tx, rx;

	for (;;) {
		want_out = false;
		tx = bidir_tx(c, &want_out);
		if (tx < 0) {
			fail(c, "connection broken: %s", strerror(-tx));
			goto reset;
		}
		rx = bidir_rx(c);
		if (rx == -EPROTO)
			goto reset;
		if (rx < 0) {
			fail(c, "connection broken: %s", strerror(-rx));
			goto reset;
		}
		if (c->tx == TX_DONE && c->rx_eof) {
			if (!c->report.ok || c->report.bytes != c->sent)
				fail(c, "receiver got %llu of %llu bytes, %s",
				     (unsigned long long)c->report.bytes, (unsigned long long)c->sent,
				     c->report.mismatch != UINT64_MAX ? "payload mismatch" : "verification failed");
			if (!c->server && o.count && c->brx.off != o.count)
				fail(c, "server sent %llu bytes, not the %llu asked for",
				     (unsigned long long)c->brx.off, (unsigned long long)o.count);
			record_bidir(c);
			conn_free(c, false);
			return false;
		}
		if (!tx && !rx) {
			set_events(c, (want_out ? EPOLLOUT : 0) | (c->rx_eof ? 0 : EPOLLIN));
			return true;
		}
	}
reset:
	record_bidir(c);
	if (!c->server)
		res.all_verified = false;
	conn_free(c, true);
	return false;
}

/* Advances c until it would block. Returns false when c was freed. */
static bool conn_step(struct conn *c)
{
	struct hxs_perf_hdr w;
	struct hxs_perf_trailer tw;
	struct hxs_appnet_tcpinfo ti;
	ssize_t n;
	int err;
	socklen_t l;

	for (;;) {
		switch (c->state) {
		case C_CONNECTING: /* writable: the connect finished, one way or the other */
			l = sizeof(err);
			n = hxs_appnet_getsockopt(an, c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
			if (n < 0)
				err = (int)-n;
			if (err) {
				fail(c, "connect to %s:%d: %s", o.addr, o.port, strerror(err));
				goto reset;
			}
			hxs_perf_hdr_encode(&w, &c->h);
			if (out_set(c, &w, sizeof(w), c->h.msg_len > 64 ? c->h.msg_len : 64))
				goto nomem;
			if (c->h.mode == HXS_PERF_RR || c->h.mode == HXS_PERF_CRR) {
				fill_request(c, c->buf + c->len);   /* first request rides along */
				c->len += c->h.msg_len;
				if (c->h.mode == HXS_PERF_RR)
					c->t0_ns = hxs_appnet_now_ns();
			}
			c->state = C_HDR_OUT;
			break;
		case C_HDR_OUT:
			err = out_flush(c);
			if (err < 0)
				goto broken;
			if (!err) {
				if (c->h.mode != HXS_PERF_STREAM && (err = resp_read(c)) < 0)
					goto resp_err;
				set_events(c, c->h.mode != HXS_PERF_STREAM ? EPOLLIN | EPOLLOUT : EPOLLOUT);
				return true;
			}
			if (c->h.mode == HXS_PERF_STREAM && (c->h.flags & HXS_PERF_F_BIDIR)) {
				if (begin_bidir(c, (uint64_t)(o.secs * 1e9), o.count))
					goto nomem;
			} else if (c->h.mode == HXS_PERF_STREAM) {
				if (begin_stream(c, !(c->h.flags & HXS_PERF_F_REVERSE), (uint64_t)(o.secs * 1e9),
						 o.count))
					goto nomem;
			} else {
				c->state = C_RESP;
			}
			break;
		case C_HDR:
			err = ctl_read(c, sizeof(struct hxs_perf_hdr));
			if (err == 0)
				return true;
			if (err < 0) {
				fail(c, err == -EPIPE ? "short header: the peer closed after %zu of %zu bytes"
					 : "reading the header failed (%zu of %zu bytes)",
				     c->ctl_got, sizeof(struct hxs_perf_hdr));
				goto reset;
			}
			if (hxs_perf_hdr_decode(&c->h, (struct hxs_perf_hdr *)c->ctl)) {
				fail(c, "bad header (magic %08x, version %u, mode %u, length %u): not an hxs-perf peer",
				     c->h.magic, c->h.version, c->h.mode, c->h.msg_len);
				goto reset;
			}
			if (c->h.mode == HXS_PERF_STREAM && (c->h.flags & HXS_PERF_F_BIDIR)) {
				if (begin_bidir(c, (uint64_t)c->h.duration_ms * 1000000ull, c->h.bytes))
					goto nomem;
			} else if (c->h.mode == HXS_PERF_STREAM) {
				if (begin_stream(c, c->h.flags & HXS_PERF_F_REVERSE,
						 (uint64_t)c->h.duration_ms * 1000000ull, c->h.bytes))
					goto nomem;
			} else {
				if (buf_reserve(c, c->h.msg_len < 65536 ? 65536 : c->h.msg_len))
					goto nomem;
				c->len = c->off = 0;
				c->echoed = 0;
				c->state = C_ECHO;
				if (c->h.mode == HXS_PERF_CRR)
					srv.crr++;
			}
			break;
		case C_SEND:
			if (c->off == c->len) {
				if ((c->limit ? c->sent >= c->limit : hxs_appnet_now_ns() >= c->deadline_ns) ||
				    stopping) {
					struct hxs_perf_trailer t = { 0 };

					c->t1_ns = hxs_appnet_now_ns();
					t.bytes = c->sent;
					t.duration_us = (c->t1_ns - c->t0_ns) / 1000;
					if (hxs_appnet_tcpinfo(an, c->fd, &ti) == 0)
						t.retransmits = ti.total_retrans;
					hxs_perf_trailer_encode(&tw, &t);
					out_set(c, &tw, sizeof(tw), 0);  /* fits the payload window */
					c->state = C_TRAILER;
					break;
				}
				c->len = GEN_CAP;
				if (c->limit && c->limit - c->sent < GEN_CAP)
					c->len = (size_t)(c->limit - c->sent);
				hxs_perf_fill(c->h.seed, c->sent, c->buf, c->len);
				c->off = 0;
			}
			n = hxs_appnet_send(an, c->fd, c->buf + c->off, c->len - c->off);
			if (n == -EAGAIN || n == -EWOULDBLOCK) {
				set_events(c, EPOLLOUT);
				return true;
			}
			if (n < 0) {
				err = (int)n;
				goto broken;
			}
			c->off += (size_t)n;
			c->sent += (uint64_t)n;
			break;
		case C_TRAILER:
			err = out_send(c);
			if (err < 0)
				goto broken;
			if (!err)
				return true;
			hxs_appnet_shutdown(an, c->fd, SHUT_WR);
			c->ctl_got = 0;
			c->state = C_REPORT_IN;
			break;
		case C_REPORT_IN:
			err = ctl_read(c, sizeof(struct hxs_perf_report));
			if (err == 0)
				return true;
			if (err < 0) {
				res.bytes_sent += c->server ? 0 : c->sent;
				fail(c, "no report from the receiver after %llu bytes sent: %s",
				     (unsigned long long)c->sent, err == -EPIPE ? "connection closed" : strerror(-err));
				goto reset;
			}
			if (hxs_perf_report_decode(&c->report, (struct hxs_perf_report *)c->ctl)) {
				fail(c, "malformed report from the receiver (peer misbehaves)");
				goto reset;
			}
			c->have_report = true;
			if (!c->report.ok || c->report.bytes != c->sent)
				fail(c, "receiver got %llu of %llu bytes, %s", (unsigned long long)c->report.bytes,
				     (unsigned long long)c->sent,
				     c->report.mismatch != UINT64_MAX ? "payload mismatch" : "verification failed");
			record_stream(c);
			c->state = C_DRAIN;
			break;
		case C_RECV:
			n = conn_recv(c, scratch, RX_CAP);
			if (n == -EAGAIN)
				return true;
			if (n < 0) {
				err = (int)n;
				goto broken;
			}
			if (n == 0) {
				if (finish_recv(c))
					goto nomem;
				break;
			}
			if (!c->t0_ns)
				c->t0_ns = hxs_appnet_now_ns();
			hxs_perf_rx_feed(&c->rx, scratch, (size_t)n);
			break;
		case C_REPORT_OUT:
			err = out_send(c);
			if (err < 0)
				goto broken;
			if (!err)
				return true;
			record_stream(c);
			conn_free(c, false);
			return false;
		case C_REQ:
			err = out_flush(c);
			if (err < 0)
				goto broken;
			if (!err) {
				if ((err = resp_read(c)) < 0)
					goto resp_err;
				set_events(c, EPOLLIN | EPOLLOUT);
				return true;
			}
			c->state = C_RESP;
			break;
		case C_RESP:
			err = resp_read(c);   /* the echo must be the request, byte for byte */
			if (err < 0)
				goto resp_err;
			if (err == 0) {
				set_events(c, EPOLLIN);
				return true;
			}
			hxs_hist_add(&res.hist, hxs_appnet_now_ns() - c->t0_ns);
			res.txns++;
			c->txn++;
			if (c->h.mode == HXS_PERF_CRR || client_stop || stopping ||
			    (o.count && c->txn >= o.count)) {
				if (c->h.mode == HXS_PERF_CRR)
					res.conns_done++;
				else
					hxs_appnet_shutdown(an, c->fd, SHUT_WR);
				c->state = C_DRAIN;
				break;
			}
			fill_request(c, c->buf);
			c->len = c->h.msg_len;
			c->off = 0;
			c->echoed = 0;
			c->t0_ns = hxs_appnet_now_ns();
			c->state = C_REQ;
			break;
		case C_ECHO:
			if (c->off < c->len) {
				err = out_send(c);
				if (err < 0)
					goto broken;
				if (!err)
					return true;
				c->len = c->off = 0;
				if (c->h.mode == HXS_PERF_CRR && c->echoed == c->h.msg_len) {
					conn_free(c, false);   /* crr: the server closes first */
					return false;
				}
			}
			n = conn_recv(c, c->buf, c->h.mode == HXS_PERF_CRR ? c->h.msg_len - c->echoed : c->cap);
			if (n == -EAGAIN)
				return true;
			if (n < 0) {
				err = (int)n;
				goto broken;
			}
			if (n == 0) {
				if (c->h.mode == HXS_PERF_CRR) {
					fail(c, "peer closed after %llu of %u request bytes",
					     (unsigned long long)c->echoed, c->h.msg_len);
					goto reset;
				}
				conn_free(c, false);
				return false;
			}
			c->echoed += (uint64_t)n;
			srv.rr_txn_bytes += (uint64_t)n;
			c->len = (size_t)n;
			c->off = 0;
			break;
		case C_BIDIR:
			return bidir_step(c);
		case C_DRAIN:
			n = conn_recv(c, scratch, 64);
			if (n == -EAGAIN)
				return true;
			if (n > 0) {
				fail(c, "%zd unexpected bytes after the end of the exchange", n);
				goto reset;
			}
			if (n < 0) {
				err = (int)n;
				goto broken;
			}
			conn_free(c, false);
			return false;
		}
	}
resp_err:
	if (err == -EPROTO) {
		fail(c, "wrong echo in transaction %llu (peer misbehaves)", (unsigned long long)c->txn);
		goto reset;
	}
	if (err == -EPIPE) {
		fail(c, "peer closed during transaction %llu after %llu of %u response bytes",
		     (unsigned long long)c->txn, (unsigned long long)c->echoed, c->h.msg_len);
		goto reset;
	}
	goto broken;
nomem:
	fail(c, "out of memory");
	goto reset;
broken:
	fail(c, "connection broken: %s", strerror(-err));
reset:
	if (!c->server)
		res.all_verified = false;
	conn_free(c, true);
	return false;
}

static struct conn *conn_new(int fd, bool server, enum cstate st, uint32_t events)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct hxs_event ev = { .events = events };

	if (!c)
		return NULL;
	c->fd = fd;
	c->server = server;
	c->state = st;
	c->evmask = events;
	ev.data = (uint64_t)(uintptr_t)c;
	if (hxs_appnet_epoll_ctl(an, epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

/* --- client ------------------------------------------------------------------------------- */
static void start_client_conn(int slot)
{
	struct conn *c;
	int fd, err, one = 1;

	if (o.count && o.mode == HXS_PERF_CRR && crr_started >= o.count)
		return;         /* -n: every connection of the run was started */
	crr_started++;
	fd = hxs_appnet_socket(an, SOCK_STREAM | SOCK_NONBLOCK);
	if (fd < 0) {
		fprintf(stderr, "hxs-perf: socket: %s\n", strerror(-fd));
		res.errors++;
		return;
	}
	hxs_appnet_setsockopt(an, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = conn_new(fd, false, C_CONNECTING, EPOLLOUT);
	if (!c) {
		hxs_appnet_close(an, fd);
		res.errors++;
		return;
	}
	c->slot = slot;
	c->peer = dst;
	c->h.mode = (uint8_t)o.mode;
	c->h.flags = o.reverse ? HXS_PERF_F_REVERSE : o.bidir ? HXS_PERF_F_BIDIR : 0;
	c->h.msg_len = o.mode == HXS_PERF_STREAM ? 0 : o.msg_len;
	c->h.duration_ms = (uint32_t)(o.secs * 1000);
	c->h.bytes = o.mode == HXS_PERF_STREAM ? o.count : 0;
	c->h.seed = seed_base + (uint64_t)slot * 0x100000001ull + res.conns_done;
	c->t0_ns = hxs_appnet_now_ns();
	active++;
	err = hxs_appnet_connect(an, fd, &dst);
	if (err && err != -EINPROGRESS) {
		fail(c, "connect to %s:%d: %s", o.addr, o.port, strerror(-err));
		conn_free(c, true);
		return;
	}
	if (!err)
		conn_step(c);
}

/* UDP client: one socket per -P slot, one datagram in flight each. */
struct uslot {
	int fd;
	uint64_t seq, sent_ns;
	uint64_t done;          /* answered datagrams */
};
static struct uslot *uslots;

static int udp_send(int i)
{
	struct uslot *u = &uslots[i];
	struct hxs_perf_dgram *d = (struct hxs_perf_dgram *)scratch;
	ssize_t n;

	memset(scratch, 0, o.msg_len);
	u->seq++;
	u->sent_ns = hxs_appnet_now_ns();
	d->magic = htonl(HXS_PERF_DGRAM_MAGIC);
	d->conn = htonl((uint32_t)i);
	d->seq = htobe64(u->seq);
	d->sent_ns = htobe64(u->sent_ns);
	n = hxs_appnet_sendto(an, u->fd, scratch, o.msg_len, &dst);
	if (n < 0 && n != -EAGAIN) {
		fprintf(stderr, "hxs-perf: udp send: %s\n", strerror((int)-n));
		res.errors++;
		return (int)n;
	}
	return 0;
}

static void udp_client_rx(int i)
{
	struct uslot *u = &uslots[i];
	struct hxs_perf_dgram *d = (struct hxs_perf_dgram *)scratch;
	struct sockaddr_in6 from;
	ssize_t n;

	for (;;) {
		n = hxs_appnet_recvfrom(an, u->fd, scratch, RX_CAP, &from);
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return;
		if (n < 0) {
			fprintf(stderr, "hxs-perf: udp receive: %s\n", strerror((int)-n));
			res.errors++;
			return;
		}
		if ((size_t)n != o.msg_len || ntohl(d->magic) != HXS_PERF_DGRAM_MAGIC ||
		    ntohl(d->conn) != (uint32_t)i) {
			fprintf(stderr, "hxs-perf: udp: malformed echo of %zd bytes (peer misbehaves)\n", n);
			res.errors++;
			res.all_verified = false;
			continue;
		}
		if (be64toh(d->seq) != u->seq) {  /* answer to a request we gave up on */
			res.udp_late++;
			continue;
		}
		hxs_hist_add(&res.hist, hxs_appnet_now_ns() - u->sent_ns);
		res.txns++;
		res.bytes_recv += (uint64_t)n;
		u->done++;
		if (o.count && u->done == o.count)
			udp_slots_done++;
		if (!client_stop && !stopping && !(o.count && u->done >= o.count))
			udp_send(i);
		else
			u->seq++;   /* nothing more outstanding */
	}
}

static int udp_client_setup(void)
{
	struct hxs_event ev;
	int i, fd, err;

	if (o.msg_len < sizeof(struct hxs_perf_dgram) || o.msg_len > 65507) {
		fprintf(stderr, "hxs-perf: udp messages are %zu..65507 bytes\n", sizeof(struct hxs_perf_dgram));
		return -EINVAL;
	}
	uslots = calloc((size_t)o.conns, sizeof(*uslots));
	if (!uslots)
		return -ENOMEM;
	for (i = 0; i < o.conns; i++) {
		fd = hxs_appnet_socket(an, SOCK_DGRAM | SOCK_NONBLOCK);
		if (fd < 0)
			return fd;
		uslots[i].fd = fd;
		ev.events = EPOLLIN;
		ev.data = ((uint64_t)i << 8) | TAG_UDP;
		err = hxs_appnet_epoll_ctl(an, epfd, EPOLL_CTL_ADD, fd, &ev);
		if (err)
			return err;
		err = udp_send(i);
		if (err)
			return err;
	}
	return 0;
}

/* Requests unanswered for UDP_TIMEOUT_NS are lost: count and send the next. */
static void udp_client_timeouts(void)
{
	uint64_t now = hxs_appnet_now_ns();
	int i;

	for (i = 0; i < o.conns; i++)
		if (now - uslots[i].sent_ns > UDP_TIMEOUT_NS && !client_stop &&
		    !(o.count && uslots[i].done >= o.count)) {
			res.udp_lost++;
			udp_send(i);
		}
}

/* --- server ------------------------------------------------------------------------------- */
static void on_accept(void)
{
	struct sockaddr_in6 peer;
	struct conn *c;
	int fd, i, one = 1;

	for (i = 0; i < 64; i++) {
		fd = hxs_appnet_accept(an, lfd, &peer, SOCK_NONBLOCK);
		if (fd == -EMFILE || fd == -ENFILE || fd == -ENOMEM || fd == -ENOBUFS) {
			/* the listener stays readable: stop watching it for 100 ms, not spin */
			fprintf(stderr, "hxs-perf: accept: %s; pausing accepts for 100 ms\n", strerror(-fd));
			if (hxs_appnet_epoll_ctl(an, epfd, EPOLL_CTL_DEL, lfd, NULL) == 0)
				accept_resume_ns = hxs_appnet_now_ns() + 100000000ull;
			return;
		}
		if (fd < 0) {
			if (fd != -EAGAIN && fd != -EWOULDBLOCK && fd != -ECONNABORTED)
				fprintf(stderr, "hxs-perf: accept: %s\n", strerror(-fd));
			return;
		}
		hxs_appnet_setsockopt(an, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = conn_new(fd, true, C_HDR, EPOLLIN);
		if (!c) {
			hxs_appnet_close(an, fd);
			continue;
		}
		srv.accepted++;
		c->peer = peer;
		conn_step(c);
	}
}

static void udp_server_rx(void)
{
	struct hxs_perf_dgram *d = (struct hxs_perf_dgram *)scratch;
	struct sockaddr_in6 from;
	ssize_t n;
	int i;

	for (i = 0; i < 64; i++) {
		n = hxs_appnet_recvfrom(an, ufd, scratch, RX_CAP, &from);
		if (n < 0)
			return;
		if ((size_t)n < sizeof(*d) || ntohl(d->magic) != HXS_PERF_DGRAM_MAGIC) {
			srv.udp_bad++;
			continue;
		}
		srv.udp_in++;
		hxs_appnet_sendto(an, ufd, scratch, (size_t)n, &from);
	}
}

static int server_setup(void)
{
	struct sockaddr_in6 sin;
	struct hxs_event ev = { .events = EPOLLIN };
	int one = 1, err;

	hxs_appnet_any(&sin, (uint16_t)o.port);     /* both families (dual-stack ::) */
	lfd = hxs_appnet_socket(an, SOCK_STREAM | SOCK_NONBLOCK);
	if (lfd == -EPROTONOSUPPORT) {
		/* A stack without TCP yet still serves the udp mode. */
		fprintf(stderr, "hxs-perf: this stack has no TCP (%s): serving udp only\n",
			strerror(-lfd));
	} else if (lfd < 0) {
		return lfd;
	} else {
		hxs_appnet_setsockopt(an, lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if ((err = hxs_appnet_bind(an, lfd, &sin)) || (err = hxs_appnet_listen(an, lfd, 1024)))
			return err;
		ev.data = TAG_LISTEN;
		if ((err = hxs_appnet_epoll_ctl(an, epfd, EPOLL_CTL_ADD, lfd, &ev)))
			return err;
	}
	ufd = hxs_appnet_socket(an, SOCK_DGRAM | SOCK_NONBLOCK);
	if (ufd < 0)
		return ufd;
	if ((err = hxs_appnet_bind(an, ufd, &sin)))
		return err;
	ev.data = TAG_UDP;
	return hxs_appnet_epoll_ctl(an, epfd, EPOLL_CTL_ADD, ufd, &ev);
}

/* --- event loop --------------------------------------------------------------------------- */
static void dispatch(const struct hxs_event *e)
{
	if (e->data == TAG_LISTEN) {
		on_accept();
		return;
	}
	if ((e->data & 0xff) == TAG_UDP && e->data < 4096 * 256) {
		if (o.server)
			udp_server_rx();
		else
			udp_client_rx((int)(e->data >> 8));
		return;
	}
	conn_step((struct conn *)(uintptr_t)e->data);
}

static int loop(void)
{
	struct hxs_event evs[MAX_EVENTS];
	uint64_t now;
	int n, i;

	for (;;) {
		n = hxs_appnet_epoll_wait(an, epfd, evs, MAX_EVENTS, o.server ? 200 : 20);
		if (hxs_prog__wait_failed(&prog, n))
			return n;
		for (i = 0; i < n; i++)
			dispatch(&evs[i]);
		if (o.server) {
			if (stopping)
				return 0;
			if (accept_resume_ns && hxs_appnet_now_ns() >= accept_resume_ns) {
				struct hxs_event ev = { .events = EPOLLIN, .data = TAG_LISTEN };

				if (hxs_appnet_epoll_ctl(an, epfd, EPOLL_CTL_ADD, lfd, &ev) == 0)
					accept_resume_ns = 0;
			}
			continue;
		}
		now = hxs_appnet_now_ns();
		if (o.count && !client_stop && !stopping && now >= end_ns) {
			fprintf(stderr, "hxs-perf: -n %llu not done within -t %.0f s\n",
				(unsigned long long)o.count, o.secs);
			res.errors++;
			res.all_verified = false;
		}
		if (o.count && !client_stop &&
		    (o.mode == HXS_PERF_UDP ? udp_slots_done == o.conns : active == 0)) {
			client_stop = true;     /* -n: all the work is done */
			res.t_end = now;
		}
		if (!client_stop && (now >= end_ns || stopping)) {
			client_stop = true;
			res.t_end = now;
		}
		if (o.mode == HXS_PERF_UDP) {
			udp_client_timeouts();
			if (client_stop)
				return 0;
			continue;
		}
		if (client_stop && active == 0)
			return 0;
		if (now > end_ns + GRACE_NS) {
			fprintf(stderr, "hxs-perf: %d connection(s) did not finish %.0f s after the run: peer stalled\n",
				active, (double)GRACE_NS / 1e9);
			res.errors += (uint64_t)active;
			res.all_verified = false;
			return -ETIMEDOUT;
		}
	}
}

/* --- output ------------------------------------------------------------------------------- */
static void report_client(double dur)
{
	bool stream = o.mode == HXS_PERF_STREAM;
	uint64_t bytes = stream ? res.bytes_recv + (o.bidir ? res.peer_recv : 0) : res.txns * o.msg_len * 2;
	double gbps = dur > 0 ? (double)bytes * 8 / dur / 1e9 : 0;
	double tps = dur > 0 ? (double)res.txns / dur : 0;
	double cps = o.mode == HXS_PERF_CRR && dur > 0 ? (double)res.conns_done / dur : 0;
	double p50 = hxs_hist_quantile(&res.hist, 0.50) / 1e3, p99 = hxs_hist_quantile(&res.hist, 0.99) / 1e3;
	double p999 = hxs_hist_quantile(&res.hist, 0.999) / 1e3;
	double mean = res.hist.count ? (double)res.hist.sum_ns / (double)res.hist.count / 1e3 : 0;
	uint64_t retrans = stream && o.reverse ? res.peer_retrans : res.retrans;
	bool verified = res.all_verified && res.errors == 0 &&
			(stream ? res.bytes_recv > 0 : res.txns > 0);
	double cpu = dur > 0 ? (cpu_seconds() - cpu_start) / dur * 100 : 0;

	if (o.json) {
		printf("{\"mode\":\"%s\",\"stack\":\"%s\",\"direction\":\"%s\",\"conns\":%d,\"msg_len\":%u,"
		       "\"duration_s\":%.3f,\"bytes\":%llu,\"throughput_gbps\":%.3f,"
		       "\"transactions\":%llu,\"transactions_per_s\":%.1f,\"connections_per_s\":%.1f,"
		       "\"latency_us\":{\"p50\":%.2f,\"p99\":%.2f,\"p999\":%.2f,\"mean\":%.2f},"
		       "\"retransmits\":%llu,\"verified\":%s,\"errors\":%llu,"
		       "\"cpu_percent\":%.1f,\"busy_poll\":%s,\"count\":%llu,\"seed\":%llu",
		       mode_name(o.mode), hxs_appnet__name(an),
		       stream && !o.bidir ? (o.reverse ? "server-to-client" : "client-to-server") : "both",
		       o.conns, stream ? 0 : o.msg_len, dur, (unsigned long long)bytes, gbps,
		       (unsigned long long)res.txns, tps, cps, p50, p99, p999, mean,
		       (unsigned long long)retrans, verified ? "true" : "false",
		       (unsigned long long)res.errors, cpu, an->busy_poll ? "true" : "false",
		       (unsigned long long)o.count, (unsigned long long)seed_base);
		if (stream && o.bidir)
			printf(",\"client_to_server\":{\"sent\":%llu,\"received\":%llu,\"verified\":%s,"
			       "\"first_mismatch\":%lld,\"retransmits\":%llu},"
			       "\"server_to_client\":{\"sent\":%llu,\"received\":%llu,\"verified\":%s,"
			       "\"first_mismatch\":%lld,\"retransmits\":%llu}",
			       (unsigned long long)res.bytes_sent, (unsigned long long)res.peer_recv,
			       verified && res.out_ok ? "true" : "false",
			       res.out_mismatch == UINT64_MAX ? -1LL : (long long)res.out_mismatch,
			       (unsigned long long)res.retrans,
			       (unsigned long long)res.peer_bytes, (unsigned long long)res.bytes_recv,
			       verified && res.in_ok ? "true" : "false",
			       res.in_mismatch == UINT64_MAX ? -1LL : (long long)res.in_mismatch,
			       (unsigned long long)res.peer_retrans);
		else if (stream)
			printf(",\"sender\":{\"side\":\"%s\",\"bytes\":%llu,\"retransmits\":%llu},"
			       "\"receiver\":{\"side\":\"%s\",\"bytes\":%llu,\"verified\":%s,\"first_mismatch\":%lld}",
			       o.reverse ? "server" : "client",
			       (unsigned long long)(o.reverse ? res.peer_bytes : res.bytes_sent),
			       (unsigned long long)retrans, o.reverse ? "client" : "server",
			       (unsigned long long)res.bytes_recv, verified ? "true" : "false",
			       res.first_mismatch == UINT64_MAX ? -1LL : (long long)res.first_mismatch);
		if (o.mode == HXS_PERF_UDP)
			printf(",\"udp_lost\":%llu,\"udp_late\":%llu", (unsigned long long)res.udp_lost,
			       (unsigned long long)res.udp_late);
		printf("}\n");
		fflush(stdout);
		return;
	}
	printf("hxs-perf: %s on %s, %d connection%s, %.2f s\n", mode_name(o.mode), hxs_appnet__describe(an),
	       o.conns, o.conns == 1 ? "" : "s", dur);
	if (stream && o.bidir) {
		printf("  client -> server: %llu bytes sent, %llu received, %llu retransmits, %s\n",
		       (unsigned long long)res.bytes_sent, (unsigned long long)res.peer_recv,
		       (unsigned long long)res.retrans,
		       verified && res.out_ok ? "every byte verified" : "VERIFICATION FAILED");
		printf("  server -> client: %llu bytes sent, %llu received, %llu retransmits, %s\n",
		       (unsigned long long)res.peer_bytes, (unsigned long long)res.bytes_recv,
		       (unsigned long long)res.peer_retrans,
		       verified && res.in_ok ? "every byte verified" : "VERIFICATION FAILED");
		printf("  throughput %.3f Gbit/s (both directions)\n", gbps);
	} else if (stream) {
		printf("  sender (%s):   %llu bytes, %llu retransmits\n", o.reverse ? "server" : "client",
		       (unsigned long long)(o.reverse ? res.peer_bytes : res.bytes_sent),
		       (unsigned long long)retrans);
		printf("  receiver (%s): %llu bytes, %s\n", o.reverse ? "client" : "server",
		       (unsigned long long)res.bytes_recv,
		       verified ? "every byte verified" : "VERIFICATION FAILED");
		printf("  throughput %.3f Gbit/s\n", gbps);
	} else {
		printf("  %llu transactions, %.1f/s", (unsigned long long)res.txns, tps);
		if (o.mode == HXS_PERF_CRR)
			printf(", %.1f connections/s", cps);
		if (o.mode == HXS_PERF_UDP)
			printf(", %llu lost, %llu late", (unsigned long long)res.udp_lost,
			       (unsigned long long)res.udp_late);
		printf("\n  latency us: p50 %.1f  p99 %.1f  p999 %.1f  mean %.1f\n", p50, p99, p999, mean);
		if (o.mode != HXS_PERF_UDP)
			printf("  retransmits %llu\n", (unsigned long long)retrans);
	}
	printf("  client CPU %.0f%%%s\n", cpu, an->busy_poll ? " (busy polling)" : "");
	if (res.errors)
		printf("  %llu error(s)\n", (unsigned long long)res.errors);
	fflush(stdout);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: hxs-perf -s [-i IFACE] [-p PORT] [--kernel] [--busy-poll] [--napi-cpu CPU]\n"
		"       hxs-perf -c ADDR [-i IFACE] [-p PORT] -m stream|rr|crr|udp [-t SECONDS] [-n COUNT]\n"
		"                [-l BYTES] [-P CONNS] [--reverse | --bidir] [--seed N] [--json] [--kernel]\n"
		"                [--busy-poll] [--napi-cpu CPU]\n"
		"  -i IFACE     interface hxs runs on (not needed with --kernel)\n"
		"  --napi-cpu CPU  threaded NAPI on IFACE while running, its threads on CPU (or\n"
		"               any); --kernel: IFACE needs NAPI (GRO on); a busy loop yields when idle\n"
		"  -p PORT      TCP and UDP port (default %d)\n"
		"  -t SECONDS   run time (default 5); with -n the time limit (default 60)\n"
		"  -n COUNT     exact work instead of a time: stream bytes per connection, rr\n"
		"               transactions per connection, crr connections, udp datagrams per socket\n"
		"  -l BYTES     rr/crr/udp message size (default 64)\n"
		"  -P CONNS     concurrent connections (default 1)\n"
		"  --reverse    stream: the server sends, the client verifies\n"
		"  --bidir      stream: both send at once on each connection, each verifies what it\n"
		"               receives (-n: COUNT bytes each way)\n"
		"  --seed N     the payload's seed (default: from the clock and pid): two runs with\n"
		"               the same N send the same bytes\n"
		"  --json       one JSON object on stdout\n", HXS_PERF_PORT);
	exit(2);
}

static int parse_mode(const char *s)
{
	if (!strcmp(s, "stream")) return HXS_PERF_STREAM;
	if (!strcmp(s, "rr")) return HXS_PERF_RR;
	if (!strcmp(s, "crr")) return HXS_PERF_CRR;
	if (!strcmp(s, "udp")) return HXS_PERF_UDP;
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		HXS_PROG_OPT_KERNEL,
		HXS_PROG_OPT_BUSY_POLL,
		HXS_PROG_OPT_NAPI_CPU,
		{ "reverse", no_argument, NULL, 'R' },
		{ "bidir", no_argument, NULL, 'B' },
		{ "json", no_argument, NULL, 'J' },
		{ "seed", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	double dur;
	int opt, err, i, m;

	while ((opt = getopt_long(argc, argv, "sc:i:p:m:t:n:l:P:vh", lopts, NULL)) != -1) {
		if (hxs_prog__opt(&prog, opt, optarg) > 0)  /* -i -p -v --kernel --busy-poll */
			continue;
		switch (opt) {
		case 's': o.server = true; break;
		case 'c': o.addr = optarg; break;
		case 'm':
			if ((m = parse_mode(optarg)) < 0)
				usage();
			o.mode = m;
			break;
		case 't': o.secs = atof(optarg); o.secs_given = true; break;
		case 'n': o.count = strtoull(optarg, NULL, 10); if (!o.count) usage(); break;
		case 'l': o.msg_len = (uint32_t)atol(optarg); break;
		case 'P': o.conns = atoi(optarg); break;
		case 'R': o.reverse = true; break;
		case 'B': o.bidir = true; break;
		case 'J': o.json = true; break;
		case 'S': o.seed = strtoull(optarg, NULL, 0); o.seed_given = true; break;
		default: usage();
		}
	}
	o.port = (int)prog.port;        /* as atoi() reads it */
	if (o.count && !o.secs_given)
		o.secs = 60;
	if (o.server == !!o.addr || optind != argc || o.port <= 0 || o.port > 65535 || o.conns < 1 ||
	    o.conns > 4096 || !(o.secs > 0) || o.msg_len == 0 || o.msg_len > HXS_PERF_MAX_MSG ||
	    (!prog.kernel && !prog.stack.ifname) ||
	    (o.bidir && (o.mode != HXS_PERF_STREAM || o.reverse || o.server)))
		usage();
	if (!o.server && hxs_appnet_parse_addr(o.addr, (uint16_t)o.port, &dst)) {
		fprintf(stderr, "hxs-perf: %s is not an IPv4 address\n", o.addr);
		return 2;
	}
	hxs_prog__raise_nofile();
	hxs_prog__catch_stop(&stopping, HXS_PROG_NO_SIGPIPE);
	scratch = malloc(RX_CAP);
	if (!scratch)
		return 1;

	if (hxs_prog__open_appnet(&prog, &an))
		return 1;
	epfd = hxs_appnet_epoll_create(an);
	if (epfd < 0) {
		fprintf(stderr, "hxs-perf: epoll_create: %s\n", strerror(-epfd));
		hxs_appnet__close(an, NULL);
		return 1;
	}
	if (o.server) {
		const char *ip = "[::]";

		err = server_setup();
		if (err) {
			fprintf(stderr, "hxs-perf: server on port %d: %s\n", o.port, strerror(-err));
			goto out;
		}
		hxs_prog__ready(&prog, "server", "%s:%d %s (%s)", ip, o.port,
				lfd >= 0 ? "tcp+udp" : "udp", hxs_appnet__describe(an));
		err = loop();
		printf("hxs-perf: server connections accepted %llu closed %llu, streams verified %llu "
		       "failed %llu, crr %llu, udp echoed %llu malformed %llu, errors %llu\n",
		       (unsigned long long)srv.accepted, (unsigned long long)srv.closed,
		       (unsigned long long)srv.streams_ok, (unsigned long long)srv.streams_bad,
		       (unsigned long long)srv.crr, (unsigned long long)srv.udp_in,
		       (unsigned long long)srv.udp_bad, (unsigned long long)srv.errors);
		fflush(stdout);
		goto out;
	}

	hxs_hist_init(&res.hist);
	res.all_verified = true;
	res.first_mismatch = UINT64_MAX;
	res.out_ok = res.in_ok = true;
	res.out_mismatch = res.in_mismatch = UINT64_MAX;
	seed_base = o.seed_given ? o.seed : hxs_appnet_now_ns() ^ ((uint64_t)getpid() << 32);
	res.t_start = hxs_appnet_now_ns();
	cpu_start = cpu_seconds();
	end_ns = res.t_start + (uint64_t)(o.secs * 1e9);
	if (o.mode == HXS_PERF_UDP) {
		err = udp_client_setup();
		if (err) {
			fprintf(stderr, "hxs-perf: udp client: %s\n", strerror(-err));
			res.errors++;
			goto out;
		}
	} else {
		for (i = 0; i < o.conns; i++)
			start_client_conn(i);
	}
	err = loop();
	if (!res.t_end)
		res.t_end = hxs_appnet_now_ns();
	dur = (double)(res.t_end - res.t_start) / 1e9;
	if (o.mode == HXS_PERF_STREAM)  /* until the last byte arrived, not until -t */
		dur = (double)(hxs_appnet_now_ns() - res.t_start) / 1e9;
	report_client(dur);
	if (o.mode != HXS_PERF_STREAM && res.txns == 0) {
		fprintf(stderr, "hxs-perf: no transaction completed\n");
		err = err ? err : -EIO;
	}
	if (o.mode == HXS_PERF_STREAM && !res.bytes_recv) {
		fprintf(stderr, "hxs-perf: no payload arrived\n");
		err = err ? err : -EIO;
	}
out:
	if (uslots)
		for (i = 0; i < o.conns; i++)
			if (uslots[i].fd > 0)
				hxs_appnet_close(an, uslots[i].fd);
	if (lfd >= 0)
		hxs_appnet_close(an, lfd);
	if (ufd >= 0)
		hxs_appnet_close(an, ufd);
	hxs_appnet_epoll_close(an, epfd);
	hxs_appnet__close(an, o.json ? stderr : stdout);   /* JSON: one object on stdout */
	free(scratch);
	if (err || res.errors || (!o.server && !res.all_verified))
		return 1;
	return 0;
}
