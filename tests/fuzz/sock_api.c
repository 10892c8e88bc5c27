/* sock_api.c - libFuzzer target: two whole hxs stacks talking TCP through the socket API,
 * over a wire the fuzzer controls, in virtual time.
 *
 * A (10.0.0.1) and B (10.0.0.2) are each a stack on its own in-memory link end
 * (hxs_stack__open_io); the harness is the wire between them: it takes the frames one
 * stack sent and delivers, drops, duplicates, holds back or corrupts each as the input
 * says. B listens on port 80. Every socket is non-blocking. Byte 0 picks the MTU
 * (1500/576/9000... as the frame size allows) and small or default buffers. Then records,
 * a header byte (low 4 bits the operation, high 4 bits a time step, dt_us[]) and its bytes:
 *   CONNECT  a new socket on A (TCP_NODELAY, small SO_RCVBUF/SO_SNDBUF, SO_LINGER 0 as
 *            asked) connects to B:80;   ACCEPT on B
 *   SEND     on a socket of either side, a stream offset's bytes (app_byte below)
 *   RECV     on a socket, peek or not: the bytes must be the other side's at those offsets
 *   SHUTDOWN, CLOSE, STATUS (SO_ERROR, TCP_INFO, poll readiness), EPOLL (epoll_wait on each
 *            side's epoll set with every socket in it)
 *   WIRE     a turn of both stacks, then up to 16 frames of one direction, each delivered /
 *            dropped / duplicated / held back (until RELEASE) / one bit flipped
 *   RELEASE  the held-back frames delivered (out of order by now)
 *   TURN     both stacks polled
 * Finally, "healing": the wire delivers everything, time moves in steps of 200 ms for up to
 * 10 minutes while both sides read all they can.
 *
 * Checked:
 *   every byte read is the byte the other side wrote at that offset of that connection
 *   (the connection is known by A's port), and no side reads more than was written;
 *   every call returns what the kernel's would (a result or an errno from its list);
 *   liveness: after healing, every connection whose two sockets are still open, with no
 *   error and no shutdown, has delivered everything written in both directions (a stall,
 *   e.g. segments that no longer fit the MTU retried forever, fails here);
 *   each io layer's frame accounting after every record and all frames back after close;
 *   the static control plane's own/disown balance (it aborts otherwise).
 * getrandom() is the harness's (fixed bytes), so one input always runs the same way.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "hxs/hxs.h"
#include "io/io.h"
#include "net/stack.h"
#include "open/stack_open.h"

#define NFRAMES 256
#define FSIZE   4096
#define NSOCK   6                  /* sockets per side the harness tracks */
#define NHOLD   32

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	(void)flags;
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = (uint8_t)(i * 29 + 3);
	return (ssize_t)len;
}

static uint64_t vnow;
static uint64_t vclock(void *ctx)
{
	(void)ctx;
	return vnow;
}

static const uint64_t dt_us[16] = {
	0, 0, 0, 0, 100, 1000, 10000, 40000, 100000, 200000, 500000, 1000000, 3000000, 10000000,
	60000000, 300000000,
};

/* Byte off of the stream of connection `port` (A's port) in direction dir (0: A to B). */
static uint8_t app_byte(uint16_t port, int dir, uint64_t off)
{
	return (uint8_t)(off * 0x3bu + (off >> 10) + port * 7u + (unsigned)dir * 101u);
}

struct sk {
	int fd;                    /* -1: free */
	uint16_t port;             /* A's port of the connection (0 until known) */
	int conn;                  /* its entry in run.conns, -1 until known */
	uint64_t sent, rcvd;       /* stream offsets written / read */
	uint8_t shut_wr, shut_rd, err, eof;
};

struct side {
	struct hxs_io *io;
	struct hxs_stack *st;
	struct sk s[NSOCK];
	int epfd;
	uint32_t addr;
};

struct held {
	uint8_t *f;
	uint32_t len;
	int to;                    /* 0: to A, 1: to B */
};

struct run {
	struct side side[2];       /* 0: A, 1: B */
	int lfd;
	struct held hold[NHOLD];
	int nhold;
	/* what each connection had written, per direction, even after the writer closed: the
	 * reader checks against it. A's connect makes the entry; B's accepted socket takes the
	 * latest entry of its peer's port (a port may come back for a new connection). */
	struct { uint16_t port; uint64_t sent[2]; } conns[256];
	int nconns;
};

static int conn_new(struct run *r, uint16_t port)
{
	FZ_CHECK(r->nconns < 256, "too many connections");
	r->conns[r->nconns].port = port;
	r->conns[r->nconns].sent[0] = r->conns[r->nconns].sent[1] = 0;
	return r->nconns++;
}

static int conn_latest(struct run *r, uint16_t port)
{
	for (int i = r->nconns - 1; i >= 0; i--)
		if (r->conns[i].port == port)
			return i;
	return -1;
}

static void check_frames(struct side *sd)
{
	struct hxs_io_stats s;
	sd->io->ops->get_stats(sd->io, &s);
	FZ_CHECK(s.frames_total == s.frames_free + s.frames_rx_queued + s.frames_tx_queued + s.frames_held,
		 "frames: %llu total, %llu free + %llu rx + %llu tx + %llu held",
		 (unsigned long long)s.frames_total, (unsigned long long)s.frames_free,
		 (unsigned long long)s.frames_rx_queued, (unsigned long long)s.frames_tx_queued,
		 (unsigned long long)s.frames_held);
}

static void turn(struct run *r)
{
	for (int i = 0; i < 2; i++) {
		int rc = hxs_stack__poll(r->side[i].st, 0);
		FZ_CHECK(rc >= 0, "poll: %d", rc);
	}
}

/* The connection's key, A's port: A's own port after connect, B's peer port after accept. */
static void learn_port(struct run *r, int side, struct sk *k)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int rc = side == 0 ? hxs_getsockname(r->side[0].st, k->fd, (struct sockaddr *)&a, &al)
			   : hxs_getpeername(r->side[1].st, k->fd, (struct sockaddr *)&a, &al);
	FZ_CHECK(rc == 0 && a.sin_port, "%s: %d", side ? "getpeername" : "getsockname", rc);
	k->port = ntohs(a.sin_port);
	k->conn = side == 0 ? conn_new(r, k->port) : conn_latest(r, k->port);
	FZ_CHECK(k->conn >= 0, "B accepted port %u, which A never connected from", k->port);
}

/* --- the wire ---------------------------------------------------------------------------- */
static void deliver(struct run *r, int to, const uint8_t *f, uint32_t len)
{
	int rc = hxs_io_mem__inject(r->side[to].io, f, len);
	FZ_CHECK(rc == 0 || rc == -ENOBUFS, "inject: %d", rc);
}

static void release_held(struct run *r)
{
	for (int i = 0; i < r->nhold; i++) {
		deliver(r, r->hold[i].to, r->hold[i].f, r->hold[i].len);
		free(r->hold[i].f);
	}
	r->nhold = 0;
}

/* FUZZ_TRACE=1: every TCP segment the wire carries (reading a reproducer). */
static int wire_trace;

/* Moves up to max frames from side `from` to the other, each as one action says (acts:
 * max bytes, all taken from the input whether or not that many frames wait; NULL: deliver). */
static int wire(struct run *r, int from, int max, const uint8_t *acts)
{
	uint8_t *buf = malloc(FSIZE);
	int moved = 0;
	for (; moved < max; moved++) {
		int n = hxs_io_mem__take(r->side[from].io, buf, FSIZE);
		if (n < 0) {
			FZ_CHECK(n == -EAGAIN, "take: %d", n);
			break;
		}
		uint8_t act = acts ? acts[moved] : 0;
		if (wire_trace && n >= 54 && buf[23] == IPPROTO_TCP) {
			const uint8_t *th = buf + 14 + (buf[14] & 15) * 4;
			fprintf(stderr, "%10.6f %c>%c %u>%u [%02x] seq %u ack %u win %u len %d act %u\n",
				(double)vnow / 1e6, "AB"[from], "AB"[!from], th[0] << 8 | th[1], th[2] << 8 | th[3],
				th[13], (uint32_t)th[4] << 24 | (uint32_t)th[5] << 16 | (uint32_t)th[6] << 8 | th[7],
				(uint32_t)th[8] << 24 | (uint32_t)th[9] << 16 | (uint32_t)th[10] << 8 | th[11],
				th[14] << 8 | th[15], n - 14 - (buf[14] & 15) * 4 - (th[12] >> 4) * 4, act & 7);
		}
		switch (act & 7) {
		case 0: case 1: case 2:
			deliver(r, !from, buf, (uint32_t)n);
			break;
		case 3:                 /* lost */
			break;
		case 4:
			deliver(r, !from, buf, (uint32_t)n);
			deliver(r, !from, buf, (uint32_t)n);
			break;
		case 5:
			if (r->nhold < NHOLD) {
				r->hold[r->nhold].f = malloc((size_t)n);
				memcpy(r->hold[r->nhold].f, buf, (size_t)n);
				r->hold[r->nhold].len = (uint32_t)n;
				r->hold[r->nhold++].to = !from;
			}
			break;
		default:                /* one bit flipped: a checksum must catch it (or MAC/IP) */
			buf[(uint32_t)(act >> 3) * 37u % (uint32_t)n] ^= (uint8_t)(1u << (act & 7));
			deliver(r, !from, buf, (uint32_t)n);
			break;
		}
	}
	free(buf);
	return moved;
}

/* --- the application ------------------------------------------------------------------------ */
static struct sk *sk_pick(struct run *r, int side, uint8_t b)
{
	for (int i = 0; i < NSOCK; i++) {
		struct sk *k = &r->side[side].s[(b + i) % NSOCK];
		if (k->fd >= 0)
			return k;
	}
	return NULL;
}

static struct sk *sk_free(struct side *sd)
{
	for (int i = 0; i < NSOCK; i++)
		if (sd->s[i].fd < 0)
			return &sd->s[i];
	return NULL;
}

static void sk_add(struct side *sd, struct sk *k, int fd)
{
	memset(k, 0, sizeof(*k));
	k->fd = fd;
	k->conn = -1;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP };
	struct hxs_event hev = { .events = ev.events, .data = (uint64_t)fd };
	FZ_CHECK(hxs_epoll_ctl(sd->st, sd->epfd, EPOLL_CTL_ADD, fd, &hev) == 0, "epoll_ctl add");
}

static void op_connect(struct run *r, uint8_t b)
{
	struct side *a = &r->side[0];
	struct sk *k = sk_free(a);
	if (!k)
		return;
	int fd = hxs_socket(a->st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	FZ_CHECK(fd >= 0, "socket: %d", fd);
	int one = 1, small = 4096;
	if (b & 1)
		hxs_setsockopt(a->st, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (b & 2)
		hxs_setsockopt(a->st, fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	if (b & 4)
		hxs_setsockopt(a->st, fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	if (b & 8) {
		struct linger l = { 1, 0 };
		hxs_setsockopt(a->st, fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(80), .sin_addr.s_addr = r->side[1].addr };
	int rc = hxs_connect(a->st, fd, (struct sockaddr *)&to, sizeof(to));
	FZ_CHECK(rc == -EINPROGRESS || rc == -EADDRNOTAVAIL || rc == -EAGAIN || rc == -ENOBUFS ||
		 rc == -ENOMEM, "connect: %d", rc);
	if (rc != -EINPROGRESS) {
		hxs_close(a->st, fd);
		return;
	}
	sk_add(a, k, fd);
	learn_port(r, 0, k);
}

static void op_accept(struct run *r, uint8_t b)
{
	struct side *bs = &r->side[1];
	struct sk *k = sk_free(bs);
	if (!k)
		return;
	int fd = hxs_accept4(bs->st, r->lfd, NULL, NULL, SOCK_NONBLOCK);
	FZ_CHECK(fd >= 0 || fd == -EAGAIN, "accept: %d", fd);
	if (fd < 0)
		return;
	if (b & 1) {
		int one = 1;
		hxs_setsockopt(bs->st, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	sk_add(bs, k, fd);
	learn_port(r, 1, k);
}

static int send_err_ok(ssize_t n)
{
	return n == -EAGAIN || n == -EPIPE || n == -ECONNRESET || n == -ETIMEDOUT || n == -ENOTCONN ||
	       n == -ECONNREFUSED || n == -EHOSTUNREACH;
}

static void op_send(struct run *r, int side, uint8_t b)
{
	struct sk *k = sk_pick(r, side, b);
	if (!k)
		return;
	uint32_t q = b >> 3 & 15, len = q * q * 256u;       /* up to 56 KiB */
	uint8_t *buf = malloc(len ? len : 1);
	for (uint32_t i = 0; i < len; i++)
		buf[i] = app_byte(k->port, side, k->sent + i);
	ssize_t n = hxs_send(r->side[side].st, k->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	free(buf);
	if (n < 0) {
		FZ_CHECK(send_err_ok(n), "send: %zd", n);
		if (n != -EAGAIN)
			k->err = 1;
		return;
	}
	FZ_CHECK((uint32_t)n <= len, "send took %zd of %u", n, len);
	k->sent += (uint64_t)n;
	r->conns[k->conn].sent[side] = k->sent;
}

static ssize_t sk_recv(struct run *r, int side, struct sk *k, uint8_t b);

static void op_recv(struct run *r, int side, uint8_t b)
{
	struct sk *k = sk_pick(r, side, b);
	if (k)
		sk_recv(r, side, k, b);
}

static ssize_t sk_recv(struct run *r, int side, struct sk *k, uint8_t b)
{
	uint32_t cap = (uint32_t)(b >> 3 & 15) * 4096u + 1;
	int peek = b >> 7;
	uint8_t *buf = malloc(cap);
	ssize_t n = hxs_recv(r->side[side].st, k->fd, buf, cap, MSG_DONTWAIT | (peek ? MSG_PEEK : 0));
	if (n < 0) {
		FZ_CHECK(n == -EAGAIN || n == -ECONNRESET || n == -ETIMEDOUT || n == -ENOTCONN ||
			 n == -ECONNREFUSED || n == -EHOSTUNREACH, "recv: %zd", n);
		if (n != -EAGAIN && n != -ENOTCONN)
			k->err = 1;
		free(buf);
		return n;
	}
	if (n == 0 && cap)
		k->eof = 1;
	if (n > 0) {
		uint64_t written = r->conns[k->conn].sent[!side];
		FZ_CHECK(k->rcvd + (uint64_t)n <= written, "read up to %llu, the other side wrote %llu",
			 (unsigned long long)(k->rcvd + (uint64_t)n), (unsigned long long)written);
		for (ssize_t i = 0; i < n; i++)
			FZ_CHECK(buf[i] == app_byte(k->port, !side, k->rcvd + (uint64_t)i),
				 "byte %llu of connection %u (%s) is wrong",
				 (unsigned long long)(k->rcvd + (uint64_t)i), k->port, side ? "A to B" : "B to A");
		if (!peek)
			k->rcvd += (uint64_t)n;
	}
	free(buf);
	return n;
}

static void op_close(struct run *r, int side, uint8_t b, int shutdown_only)
{
	struct sk *k = sk_pick(r, side, b);
	if (!k)
		return;
	struct hxs_stack *st = r->side[side].st;
	if (shutdown_only) {
		int how = (b >> 3) % 3, rc = hxs_shutdown(st, k->fd, how);
		FZ_CHECK(rc == 0 || rc == -ENOTCONN, "shutdown: %d", rc);
		if (rc == 0 && how != SHUT_RD)
			k->shut_wr = 1;
		if (rc == 0 && how != SHUT_WR)
			k->shut_rd = 1;
		return;
	}
	if (b & 8) {
		struct linger l = { 1, 0 };
		hxs_setsockopt(st, k->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	FZ_CHECK(hxs_close(st, k->fd) == 0, "close");
	k->fd = -1;
}

static void op_status(struct run *r, int side, uint8_t b)
{
	struct sk *k = sk_pick(r, side, b);
	if (!k)
		return;
	struct hxs_stack *st = r->side[side].st;
	int e = 0;
	socklen_t el = sizeof(e);
	FZ_CHECK(hxs_getsockopt(st, k->fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e >= 0, "SO_ERROR");
	if (e)
		k->err = 1;
	struct hxs_tcp_info ti;
	socklen_t tl = sizeof(ti);
	FZ_CHECK(hxs_getsockopt(st, k->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0, "TCP_INFO");
	int ev = hxs_poll_events(st, k->fd);
	FZ_CHECK(ev >= 0, "poll events %d", ev);
	if (ti.rcv_queue)
		FZ_CHECK(ev & EPOLLIN, "%u bytes queued, not readable (%#x)", ti.rcv_queue, ev);
}

static void op_epoll(struct run *r, int side)
{
	struct side *sd = &r->side[side];
	struct hxs_event evs[NSOCK];
	int n = hxs_epoll_wait(sd->st, sd->epfd, evs, NSOCK, 0);
	FZ_CHECK(n >= 0 && n <= NSOCK, "epoll_wait: %d", n);
	for (int i = 0; i < n; i++) {
		int found = 0;
		for (int j = 0; j < NSOCK; j++)
			found |= (uint64_t)sd->s[j].fd == evs[i].data;
		FZ_CHECK(found, "epoll reports fd %llu, which is not open", (unsigned long long)evs[i].data);
	}
}

/* --- healing and the liveness check ------------------------------------------------------- */
/* Reads everything readable on every socket; returns bytes read. */
static uint64_t drain_reads(struct run *r)
{
	uint64_t got = 0;
	for (int side = 0; side < 2; side++)
		for (int i = 0; i < NSOCK; i++) {
			struct sk *k = &r->side[side].s[i];
			ssize_t n;
			while (k->fd >= 0 && (n = sk_recv(r, side, k, 15 << 3)) > 0)
				got += (uint64_t)n;
		}
	return got;
}

/* A perfect wire from now on, time moving to each next deadline, for up to 10 minutes. */
static void heal(struct run *r)
{
	uint64_t end = vnow + 600000000ull;
	release_held(r);
	for (int guard = 0; guard < 100000; guard++) {
		turn(r);
		int moved = wire(r, 0, NFRAMES, NULL) + wire(r, 1, NFRAMES, NULL);
		uint64_t got = drain_reads(r);
		if (moved || got)
			continue;
		uint64_t d = hxs_stack__next_deadline(r->side[0].st), d1 = hxs_stack__next_deadline(r->side[1].st);
		if (d1 < d)
			d = d1;
		if (d >= end)
			return;
		vnow = d > vnow ? d : vnow + 1;
	}
	FZ_CHECK(0, "healing did not settle");
}

static void check_liveness(struct run *r)
{
	for (int i = 0; i < NSOCK; i++) {
		struct sk *a = &r->side[0].s[i];
		if (a->fd < 0 || !a->port || a->err || a->shut_wr || a->shut_rd || a->eof)
			continue;
		for (int j = 0; j < NSOCK; j++) {
			struct sk *b = &r->side[1].s[j];
			if (b->fd < 0 || b->conn != a->conn || b->err || b->shut_wr || b->shut_rd || b->eof)
				continue;
			int e = 0;
			socklen_t el = sizeof(e);
			hxs_getsockopt(r->side[0].st, a->fd, SOL_SOCKET, SO_ERROR, &e, &el);
			int e2 = 0;
			hxs_getsockopt(r->side[1].st, b->fd, SOL_SOCKET, SO_ERROR, &e2, &el);
			if (e || e2)
				continue;
			FZ_CHECK(b->rcvd == a->sent && a->rcvd == b->sent,
				 "connection %u stalled: A wrote %llu, B read %llu; B wrote %llu, A read %llu",
				 a->port, (unsigned long long)a->sent, (unsigned long long)b->rcvd,
				 (unsigned long long)b->sent, (unsigned long long)a->rcvd);
		}
	}
}

static void open_side(struct run *r, int i, uint32_t mtu)
{
	static const uint8_t mac[2][6] = { { 2, 0, 0, 0, 0, 1 }, { 2, 0, 0, 0, 0, 2 } };
	struct side *sd = &r->side[i];
	struct hxs_netif_static cfg = { .prefix_len = 24, .mtu = mtu, .n_neigh = 1 };
	sd->addr = inet_addr(i ? "10.0.0.2" : "10.0.0.1");
	cfg.addr = sd->addr;
	memcpy(cfg.mac, mac[i], 6);
	cfg.neigh[0].ip = inet_addr(i ? "10.0.0.1" : "10.0.0.2");
	memcpy(cfg.neigh[0].mac, mac[!i], 6);
	FZ_CHECK(hxs_io_mem__open(&sd->io, NFRAMES, FSIZE) == 0, "io_mem");
	FZ_CHECK(hxs_stack__open_io(&sd->st, sd->io, &cfg) == 0, "stack");
	hxs_stack__set_clock(sd->st, vclock, NULL);
	sd->epfd = hxs_epoll_create(sd->st);
	FZ_CHECK(sd->epfd >= 0, "epoll_create");
	for (int k = 0; k < NSOCK; k++)
		sd->s[k].fd = -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t mtus[4] = { 1500, 576, 4000, 1280 };
	struct fz in = FZ_INIT(data, size);
	struct run *r = calloc(1, sizeof(*r));
	wire_trace = getenv("FUZZ_TRACE") != NULL;
	uint8_t c0 = fz_u8(&in);
	vnow = 1000000;
	open_side(r, 0, mtus[c0 & 3]);
	open_side(r, 1, mtus[c0 >> 2 & 3]);
	struct hxs_stack *b = r->side[1].st;
	r->lfd = hxs_socket(b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in la = { .sin_family = AF_INET, .sin_port = htons(80) };
	if (c0 & 0x10) {
		int small = 4096;
		hxs_setsockopt(b, r->lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	}
	FZ_CHECK(r->lfd >= 0 && hxs_bind(b, r->lfd, (struct sockaddr *)&la, sizeof(la)) == 0 &&
		 hxs_listen(b, r->lfd, 4) == 0, "listener");

	while (fz_more(&in)) {
		uint8_t h = fz_u8(&in);
		if (dt_us[h >> 4]) {
			vnow += dt_us[h >> 4];
			turn(r);
		}
		uint8_t x = fz_u8(&in);
		int side = x >> 7;
		switch (h & 15) {
		case 0: op_connect(r, x); break;
		case 1: op_accept(r, x); break;
		case 2: case 3: op_send(r, side, x); break;
		case 4: case 5: op_recv(r, side, x); break;
		case 6: op_close(r, side, x, 1); break;
		case 7: op_close(r, side, x, 0); break;
		case 8: op_status(r, side, x); break;
		case 9: op_epoll(r, side); break;
		case 10: case 11: case 12: {
			uint8_t acts[16] = { 0 };
			size_t got;
			int n = (x >> 1 & 15) + 1;
			memcpy(acts, fz_bytes(&in, (size_t)n, &got), got);
			turn(r);                /* what arrived is taken in, what is due goes out */
			wire(r, x & 1, n, acts);
			break;
		}
		case 13:
			release_held(r);
			break;
		default:
			turn(r);
			break;
		}
		check_frames(&r->side[0]);
		check_frames(&r->side[1]);
	}

	heal(r);
	if (getenv("FUZZ_TRACE"))       /* reading a reproducer */
		for (int i = 0; i < 2; i++)
			for (int k = 0; k < NSOCK; k++) {
				struct sk *x = &r->side[i].s[k];
				if (x->fd >= 0)
					fprintf(stderr, "%c fd %d port %u wrote %llu read %llu%s%s%s%s\n", "AB"[i],
						x->fd, x->port, (unsigned long long)x->sent,
						(unsigned long long)x->rcvd, x->err ? " err" : "",
						x->eof ? " eof" : "", x->shut_wr ? " shut_wr" : "",
						x->shut_rd ? " shut_rd" : "");
			}
	check_liveness(r);

	for (int i = 0; i < 2; i++)
		for (int k = 0; k < NSOCK; k++)
			if (r->side[i].s[k].fd >= 0)
				hxs_close(r->side[i].st, r->side[i].s[k].fd);
	hxs_close(b, r->lfd);
	for (int i = 0; i < 2; i++)
		hxs_epoll_close(r->side[i].st, r->side[i].epfd);
	for (int i = 0; i < 2; i++) {
		struct side *sd = &r->side[i];
		hxs_stack__close(sd->st);
		uint8_t *buf = malloc(FSIZE);
		while (hxs_io_mem__take(sd->io, buf, FSIZE) >= 0)
			;
		free(buf);
		sd->io->ops->flush(sd->io);
		struct hxs_io_stats s;
		sd->io->ops->get_stats(sd->io, &s);
		FZ_CHECK(s.frames_held == 0 && s.frames_tx_queued == 0 &&
			 s.frames_total == s.frames_free + s.frames_rx_queued,
			 "after close: %llu held, %llu queued for TX", (unsigned long long)s.frames_held,
			 (unsigned long long)s.frames_tx_queued);
		sd->io->ops->close(sd->io);
	}
	for (int i = 0; i < r->nhold; i++)
		free(r->hold[i].f);
	free(r);
	return 0;
}
