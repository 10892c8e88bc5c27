/* perftcp.c - hxs-perf's TCP connections (stream, rr, crr, stream --bidir), both ends.
 *
 * hxs_perf_tcp_start(slot) -> conn_new() -> hxs_appnet_connect() -> conn_step()
 * hxs_perf_tcp_accept()    -> conn_new() -> conn_step()
 * hxs_perf_tcp_event(data) -> conn_step(c): advance c's state machine until it would block
 *   stream sender:   SEND -> TRAILER -> (shutdown WR) REPORT_IN -> DRAIN -> conn_free()
 *   stream receiver: RECV (hxs_perf_rx_feed) -> EOF -> finish_recv() -> REPORT_OUT -> closed
 *   stream --bidir:  BIDIR -> bidir_step() -> bidir_tx() PAYLOAD -> END -> WAIT -> REPORT,
 *                    and bidir_rx() verifies until the end mark, trailer + report, EOF
 *   rr/crr client:   CONNECTING -> REQ -> RESP (resp_read) -> REQ ... -> DRAIN -> closed
 *   rr/crr server:   HDR -> ECHO -> closed (crr: after one message)
 * record_stream() / record_bidir() -> hxs_perf.res / hxs_perf.srv
 * conn_free() -> crr: hxs_perf_tcp_start() of the same slot
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "perfrun.h"

#define GEN_CAP     (128 * 1024)      /* stream sender's payload window */

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
	bool next_ready;        /* rr client: buf holds request txn + 1 already (filled while
	                         * waiting for txn's response, off the exchange's path) */
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
	char who[128], msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	peer_str(c, who, sizeof(who));
	fprintf(stderr, "hxs-perf: %s %s (%s): %s\n", c->server ? "server" : "client", who,
		c->state == C_HDR ? "header" : hxs_perf_mode_name(c->h.mode), msg);
	if (c->server)
		hxs_perf.srv.errors++;
	else
		hxs_perf.res.errors++;
}

static void set_events(struct conn *c, uint32_t want)
{
	struct hxs_event ev = { .events = want, .data = (uint64_t)(uintptr_t)c };

	if (want == c->evmask)
		return;
	if (hxs_appnet_epoll_ctl(hxs_perf.an, hxs_perf.epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
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

static void conn_free(struct conn *c, bool reset)
{
	struct hxs_appnet_tcpinfo ti;

	if (!c->server && hxs_appnet_tcpinfo(hxs_perf.an, c->fd, &ti) == 0)
		hxs_perf.res.retrans += ti.total_retrans;
	hxs_appnet_epoll_ctl(hxs_perf.an, hxs_perf.epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (reset)
		hxs_appnet_abort(hxs_perf.an, c->fd);
	hxs_appnet_close(hxs_perf.an, c->fd);
	if (c->server) {
		hxs_perf.srv.closed++;
	} else {
		hxs_perf.active--;
		/* crr: the next connection of this slot */
		if (!reset && c->h.mode == HXS_PERF_CRR && !hxs_perf.client_stop && !hxs_perf.stopping)
			hxs_perf_tcp_start(c->slot);
	}
	free(c->buf);
	free(c);
}

/* Sends c->buf[off..len). Returns 1 when all is out, 0 when it would block, -errno. */
static int out_flush(struct conn *c)
{
	ssize_t n;

	while (c->off < c->len) {
		n = hxs_appnet_send(hxs_perf.an, c->fd, c->buf + c->off, c->len - c->off);
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
	ssize_t n = hxs_appnet_recv(hxs_perf.an, c->fd, buf, len);

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

		ok ? hxs_perf.srv.streams_ok++ : hxs_perf.srv.streams_bad++;
		printf("hxs-perf: stream %s %llu bytes in %.2f s, %s\n", c->sender ? "sent" : "received",
		       (unsigned long long)(c->sender ? c->sent : c->rx.off),
		       (double)((c->sender ? c->report.duration_us * 1000 : c->t1_ns - c->t0_ns)) / 1e9,
		       ok ? "verified by the receiver" : "NOT verified");
		fflush(stdout);
		return;
	}
	if (c->sender) {
		hxs_perf.res.bytes_sent += c->sent;
		hxs_perf.res.bytes_recv += c->report.bytes;
		if (!c->report.ok || c->report.bytes != c->sent) {
			hxs_perf.res.all_verified = false;
			if (c->report.mismatch < hxs_perf.res.first_mismatch)
				hxs_perf.res.first_mismatch = c->report.mismatch;
		}
	} else {
		hxs_perf.res.bytes_recv += c->rx.off;
		hxs_perf.res.peer_bytes += c->trailer.bytes;
		hxs_perf.res.peer_retrans += c->trailer.retransmits;
		if (!c->report.ok) {
			hxs_perf.res.all_verified = false;
			if (c->rx.mismatch < hxs_perf.res.first_mismatch)
				hxs_perf.res.first_mismatch = c->rx.mismatch;
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

		n = hxs_appnet_recv(hxs_perf.an, c->fd, hxs_perf.scratch, want < HXS_PERF_RX_CAP ? (size_t)want : HXS_PERF_RX_CAP);
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return 0;
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EPIPE;
		if (hxs_perf_verify(c->h.seed, c->txn * c->h.msg_len + c->echoed, hxs_perf.scratch,
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
		     (c->server || !hxs_perf.o.count || c->brx.off == hxs_perf.o.count);
	bool out_ok = c->have_report && c->report.ok && c->report.bytes == c->sent;

	if (c->recorded)
		return;
	c->recorded = true;
	if (c->server) {
		in_ok ? hxs_perf.srv.streams_ok++ : hxs_perf.srv.streams_bad++;
		out_ok ? hxs_perf.srv.streams_ok++ : hxs_perf.srv.streams_bad++;
		printf("hxs-perf: bidir stream sent %llu bytes (%s), received %llu bytes (%s)\n",
		       (unsigned long long)c->sent, out_ok ? "verified by the receiver" : "NOT verified",
		       (unsigned long long)c->brx.off, in_ok ? "verified" : "NOT verified");
		fflush(stdout);
		return;
	}
	hxs_perf.res.bytes_sent += c->sent;
	hxs_perf.res.peer_recv += c->have_report ? c->report.bytes : 0;
	hxs_perf.res.bytes_recv += c->brx.off;
	hxs_perf.res.peer_bytes += c->have_trailer ? c->trailer.bytes : 0;
	hxs_perf.res.peer_retrans += c->have_trailer ? c->trailer.retransmits : 0;
	if (!out_ok) {
		hxs_perf.res.out_ok = false;
		if (c->have_report && c->report.mismatch < hxs_perf.res.out_mismatch)
			hxs_perf.res.out_mismatch = c->report.mismatch;
	}
	if (!in_ok) {
		hxs_perf.res.in_ok = false;
		if (c->brx.mismatch < hxs_perf.res.in_mismatch)
			hxs_perf.res.in_mismatch = c->brx.mismatch;
	}
	if (!in_ok || !out_ok)
		hxs_perf.res.all_verified = false;
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
			if ((c->limit ? c->sent >= c->limit : now >= c->deadline_ns) || hxs_perf.stopping) {
				c->t1_ns = now;
				t.bytes = c->sent;
				t.duration_us = (c->t1_ns - c->t0_ns) / 1000;
				if (hxs_appnet_tcpinfo(hxs_perf.an, c->fd, &ti) == 0)
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
		n = hxs_appnet_send(hxs_perf.an, c->fd, c->buf + c->off, c->len - c->off);
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
			hxs_appnet_shutdown(hxs_perf.an, c->fd, SHUT_WR);
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
	n = hxs_appnet_recv(hxs_perf.an, c->fd, hxs_perf.scratch, HXS_PERF_RX_CAP);
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
	if (hxs_perf_bidir_rx_feed(&c->brx, hxs_perf.scratch, (size_t)n)) {
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
			if (!c->server && hxs_perf.o.count && c->brx.off != hxs_perf.o.count)
				fail(c, "server sent %llu bytes, not the %llu asked for",
				     (unsigned long long)c->brx.off, (unsigned long long)hxs_perf.o.count);
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
		hxs_perf.res.all_verified = false;
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
			n = hxs_appnet_getsockopt(hxs_perf.an, c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
			if (n < 0)
				err = (int)-n;
			if (err) {
				fail(c, "connect to %s:%d: %s", hxs_perf.o.addr, hxs_perf.o.port, strerror(err));
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
				if (begin_bidir(c, (uint64_t)(hxs_perf.o.secs * 1e9), hxs_perf.o.count))
					goto nomem;
			} else if (c->h.mode == HXS_PERF_STREAM) {
				if (begin_stream(c, !(c->h.flags & HXS_PERF_F_REVERSE), (uint64_t)(hxs_perf.o.secs * 1e9),
						 hxs_perf.o.count))
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
					hxs_perf.srv.crr++;
			}
			break;
		case C_SEND:
			if (c->off == c->len) {
				if ((c->limit ? c->sent >= c->limit : hxs_appnet_now_ns() >= c->deadline_ns) ||
				    hxs_perf.stopping) {
					struct hxs_perf_trailer t = { 0 };

					c->t1_ns = hxs_appnet_now_ns();
					t.bytes = c->sent;
					t.duration_us = (c->t1_ns - c->t0_ns) / 1000;
					if (hxs_appnet_tcpinfo(hxs_perf.an, c->fd, &ti) == 0)
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
			n = hxs_appnet_send(hxs_perf.an, c->fd, c->buf + c->off, c->len - c->off);
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
			hxs_appnet_shutdown(hxs_perf.an, c->fd, SHUT_WR);
			c->ctl_got = 0;
			c->state = C_REPORT_IN;
			break;
		case C_REPORT_IN:
			err = ctl_read(c, sizeof(struct hxs_perf_report));
			if (err == 0)
				return true;
			if (err < 0) {
				hxs_perf.res.bytes_sent += c->server ? 0 : c->sent;
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
			n = conn_recv(c, hxs_perf.scratch, HXS_PERF_RX_CAP);
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
			hxs_perf_rx_feed(&c->rx, hxs_perf.scratch, (size_t)n);
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
				/* rr: the request is all sent (buf is free) and the read above
				 * kicked it; the next one is made now, while the answer travels,
				 * not between this answer and that request */
				if (c->h.mode == HXS_PERF_RR && !c->next_ready) {
					hxs_perf_fill(c->h.seed, (c->txn + 1) * c->h.msg_len, c->buf,
						      c->h.msg_len);
					c->next_ready = true;
				}
				set_events(c, EPOLLIN);
				return true;
			}
			hxs_hist_add(&hxs_perf.res.hist, hxs_appnet_now_ns() - c->t0_ns);
			hxs_perf.res.txns++;
			c->txn++;
			if (c->h.mode == HXS_PERF_CRR || hxs_perf.client_stop || hxs_perf.stopping ||
			    (hxs_perf.o.count && c->txn >= hxs_perf.o.count)) {
				if (c->h.mode == HXS_PERF_CRR)
					hxs_perf.res.conns_done++;
				else
					hxs_appnet_shutdown(hxs_perf.an, c->fd, SHUT_WR);
				c->state = C_DRAIN;
				break;
			}
			if (!c->next_ready)
				fill_request(c, c->buf);
			c->next_ready = false;
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
			hxs_perf.srv.rr_txn_bytes += (uint64_t)n;
			c->len = (size_t)n;
			c->off = 0;
			break;
		case C_BIDIR:
			return bidir_step(c);
		case C_DRAIN:
			n = conn_recv(c, hxs_perf.scratch, 64);
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
		hxs_perf.res.all_verified = false;
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
	if (hxs_appnet_epoll_ctl(hxs_perf.an, hxs_perf.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

/* --- client ------------------------------------------------------------------------------- */
void hxs_perf_tcp_start(int slot)
{
	struct conn *c;
	int fd, err, one = 1;

	if (hxs_perf.o.count && hxs_perf.o.mode == HXS_PERF_CRR && hxs_perf.crr_started >= hxs_perf.o.count)
		return;         /* -n: every connection of the run was started */
	hxs_perf.crr_started++;
	fd = hxs_appnet_socket(hxs_perf.an, SOCK_STREAM | SOCK_NONBLOCK);
	if (fd < 0) {
		fprintf(stderr, "hxs-perf: socket: %s\n", strerror(-fd));
		hxs_perf.res.errors++;
		return;
	}
	hxs_appnet_setsockopt(hxs_perf.an, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = conn_new(fd, false, C_CONNECTING, EPOLLOUT);
	if (!c) {
		hxs_appnet_close(hxs_perf.an, fd);
		hxs_perf.res.errors++;
		return;
	}
	c->slot = slot;
	c->peer = hxs_perf.dst;
	c->h.mode = (uint8_t)hxs_perf.o.mode;
	c->h.flags = hxs_perf.o.reverse ? HXS_PERF_F_REVERSE : hxs_perf.o.bidir ? HXS_PERF_F_BIDIR : 0;
	c->h.msg_len = hxs_perf.o.mode == HXS_PERF_STREAM ? 0 : hxs_perf.o.msg_len;
	c->h.duration_ms = (uint32_t)(hxs_perf.o.secs * 1000);
	c->h.bytes = hxs_perf.o.mode == HXS_PERF_STREAM ? hxs_perf.o.count : 0;
	c->h.seed = hxs_perf.seed_base + (uint64_t)slot * 0x100000001ull + hxs_perf.res.conns_done;
	c->t0_ns = hxs_appnet_now_ns();
	hxs_perf.active++;
	err = hxs_appnet_connect(hxs_perf.an, fd, &hxs_perf.dst);
	if (err && err != -EINPROGRESS) {
		fail(c, "connect to %s:%d: %s", hxs_perf.o.addr, hxs_perf.o.port, strerror(-err));
		conn_free(c, true);
		return;
	}
	if (!err)
		conn_step(c);
}

/* --- server ------------------------------------------------------------------------------- */
void hxs_perf_tcp_accept(void)
{
	struct sockaddr_in6 peer;
	struct conn *c;
	int fd, i, one = 1;

	for (i = 0; i < 64; i++) {
		fd = hxs_appnet_accept(hxs_perf.an, hxs_perf.lfd, &peer, SOCK_NONBLOCK);
		if (fd == -EMFILE || fd == -ENFILE || fd == -ENOMEM || fd == -ENOBUFS) {
			/* the listener stays readable: stop watching it for 100 ms, not spin */
			fprintf(stderr, "hxs-perf: accept: %s; pausing accepts for 100 ms\n", strerror(-fd));
			if (hxs_appnet_epoll_ctl(hxs_perf.an, hxs_perf.epfd, EPOLL_CTL_DEL, hxs_perf.lfd, NULL) == 0)
				hxs_perf.accept_resume_ns = hxs_appnet_now_ns() + 100000000ull;
			return;
		}
		if (fd < 0) {
			if (fd != -EAGAIN && fd != -EWOULDBLOCK && fd != -ECONNABORTED)
				fprintf(stderr, "hxs-perf: accept: %s\n", strerror(-fd));
			return;
		}
		hxs_appnet_setsockopt(hxs_perf.an, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = conn_new(fd, true, C_HDR, EPOLLIN);
		if (!c) {
			hxs_appnet_close(hxs_perf.an, fd);
			continue;
		}
		hxs_perf.srv.accepted++;
		c->peer = peer;
		conn_step(c);
	}
}


/* An epoll event whose data is a connection: advance it. */
void hxs_perf_tcp_event(uint64_t data)
{
	conn_step((struct conn *)(uintptr_t)data);
}
