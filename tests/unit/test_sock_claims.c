/* test_sock_claims.c - the README's socket-level claims through the public hxs_* API, with
 * exact outcomes: one whole stack (hxs_stack__open_io) on an unpaired in-memory link, the
 * test playing the peer frame by frame (it takes every frame the stack sends and injects the
 * answers it builds), in virtual time.
 *
 * Covers: UDP sockets never see ECONNREFUSED (an ICMP port unreachable changes nothing);
 * -ETIMEDOUT from hxs_connect after the SYN retries (non-blocking and blocking) and from
 * recv after the data retransmissions; SO_SNDBUF bounds what send takes, doubled and
 * clamped like Linux; SO_SNDTIMEO bounds a blocking send; TCP_MAXSEG sets the MSS offered in
 * the SYN (or SYN,ACK) and the size of the segments sent.
 *
 * The clock: vnow, moved by the test; while `tick` is set every read of the clock moves it
 * by `tick` us, so a blocking call's own loop sees time pass (nothing else runs meanwhile:
 * the peer stays silent for the call's duration).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/time.h>

#include "check.h"
#include "io/io.h"
#include "lib/bytes.h"
#include "lib/csum.h"
#include "net/stack.h"
#include "open/stack_open.h"
#include "tcp/tcp_conn.h"
#include "tcp_harness.h"
__attribute__((constructor)) static void unbuffer(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

#define MS 1000ull
#define S 1000000ull
#define PISN 5000u                        /* the peer's ISN */

static uint64_t vnow = 10 * S, tick;
static uint64_t vclock(void *ctx)
{
	(void)ctx;
	vnow += tick;
	return vnow;
}

static struct hxs_io *io;
static struct hxs_stack *st;

static const uint8_t MAC_US[6] = { 0x02, 0, 0, 0, 8, 1 };
static const uint8_t MAC_PEER[6] = { 0x02, 0, 0, 0, 8, 2 };
#define IP_US   "10.8.0.1"
#define IP_PEER "10.8.0.2"
static uint32_t ip4(const char *s) { return inet_addr(s); }

static uint64_t ctr(const char *name)
{
	uint64_t v = 0;

	CHECK(hxs_stack__counter(st, name, &v) == 0, "%s", name);
	return v;
}

/* --- frames ------------------------------------------------------------------------------- */
/* Ethernet + IPv4 header from the peer to us; returns a pointer to the L4 header. */
static uint8_t *ip_hdr(uint8_t *f, uint8_t proto, uint32_t l4len)
{
	uint8_t *ip = f + 14;
	uint32_t src = ip4(IP_PEER), dst = ip4(IP_US);
	uint16_t w;

	memcpy(f, MAC_US, 6);
	memcpy(f + 6, MAC_PEER, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	hxs_wr16(ip + 2, (uint16_t)(20 + l4len));
	ip[6] = 0x40;                             /* DF */
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	w = hxs_csum_fold(hxs_csum_add(0, ip, 20));
	memcpy(ip + 10, &w, 2);
	return ip + 20;
}

struct pkt {
	uint16_t sport, dport;               /* host order */
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t wnd;
	const struct hxs_tcp_opts *opt;
	const void *data;
	uint32_t len;
};

/* Builds the peer's TCP segment as a frame, injects it and turns the stack once. */
static void inject_tcp(const struct pkt *p)
{
	uint8_t f[2048], optb[40];
	uint32_t olen = p->opt ? hxs_tcp_opt__write(optb, p->opt, !!(p->flags & HXS_TH_SYN)) : 0;
	uint32_t tlen = 20 + olen + p->len;
	uint8_t *t = ip_hdr(f, IPPROTO_TCP, tlen);

	memset(t, 0, 20);
	hxs_wr16(t, p->sport);
	hxs_wr16(t + 2, p->dport);
	hxs_wr32(t + 4, p->seq);
	hxs_wr32(t + 8, p->ack);
	t[12] = (uint8_t)(((20 + olen) / 4) << 4);
	t[13] = p->flags;
	hxs_wr16(t + 14, p->wnd);
	memcpy(t + 20, optb, olen);
	if (p->len)
		memcpy(t + 20 + olen, p->data, p->len);
	hxs_wr16(t + 16, hxs_tcp_csum(ip4(IP_PEER), ip4(IP_US), t, tlen));
	CHECK_EQ(hxs_io_mem__inject(io, f, 34 + tlen), 0);
	hxs_stack__poll(st, 0);
}
#define TCP_IN(...) inject_tcp(&(const struct pkt){ __VA_ARGS__ })

/* A frame the stack sent, parsed. */
struct seg {
	uint64_t t;                          /* vnow when taken */
	uint8_t proto, flags;
	uint16_t sport, dport, wnd;          /* host order */
	uint32_t seq, ack, len;              /* len: L4 payload */
	int csum_ok, opt_ok;
	struct hxs_tcp_opts opt;
	uint8_t raw[2048];                   /* the whole frame */
	uint32_t rawlen;
	const uint8_t *data;                 /* into raw */
};

#define QMAX 256
static struct seg q[QMAX];
static int qn, qhead, qlost;

static void parse(struct seg *s)
{
	const uint8_t *ip = s->raw + 14, *l4;
	uint32_t ihl = (uint32_t)(ip[0] & 15) * 4, tot = hxs_rd16(ip + 2), l4len, doff;
	uint32_t src, dst;

	s->proto = ip[9];
	l4 = ip + ihl;
	l4len = tot - ihl;
	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	s->sport = hxs_rd16(l4);
	s->dport = hxs_rd16(l4 + 2);
	if (s->proto != IPPROTO_TCP) {
		s->len = l4len - 8;
		s->data = l4 + 8;
		return;
	}
	s->seq = hxs_rd32(l4 + 4);
	s->ack = hxs_rd32(l4 + 8);
	doff = (uint32_t)(l4[12] >> 4) * 4;
	s->flags = l4[13];
	s->wnd = hxs_rd16(l4 + 14);
	s->csum_ok = hxs_tcp_csum(src, dst, l4, l4len) == 0;
	s->opt_ok = doff >= 20 && doff <= l4len && hxs_tcp_opt__parse(l4 + 20, doff - 20, &s->opt) == 0;
	s->len = l4len - doff;
	s->data = l4 + doff;
}

/* Moves every frame the stack flushed into the queue. */
static void collect(void)
{
	for (;;) {
		struct seg *s = &q[(qhead + qn) % QMAX];
		int n;

		if (qn == QMAX) {
			uint8_t sink[2048];

			while (hxs_io_mem__take(io, sink, sizeof(sink)) >= 0)
				qlost++;
			return;
		}
		n = hxs_io_mem__take(io, s->raw, sizeof(s->raw));
		if (n < 0)
			return;
		memset(&s->opt, 0, sizeof(s->opt));
		s->rawlen = (uint32_t)n;
		s->t = vnow;
		parse(s);
		qn++;
	}
}

static int pop(struct seg *s)
{
	collect();
	if (!qn)
		return 0;
	*s = q[qhead];
	s->data = s->raw + (q[qhead].data - q[qhead].raw);
	qhead = (qhead + 1) % QMAX;
	qn--;
	return 1;
}

static int pending(void)
{
	collect();
	return qn;
}

static void drop_all(void)
{
	collect();
	qn = 0;
}

/* Runs the stack until vnow reaches `until`, a turn every `step` us, collecting frames. */
static void run_until(uint64_t until, uint64_t step)
{
	while (vnow < until) {
		vnow = vnow + step < until ? vnow + step : until;
		hxs_stack__poll(st, 0);
		collect();
	}
}

static struct seg last;
#define EXPECT(fl, sq, ak, ln)                                                                 \
	({                                                                                     \
		int _ok = CHECK(pop(&last), "no frame sent");                                  \
		if (_ok) {                                                                     \
			_ok &= CHECK_EQ(last.proto, IPPROTO_TCP);                              \
			_ok &= CHECK_EQ(last.flags, fl);                                       \
			_ok &= CHECK_EQ(last.seq, (uint32_t)(sq));                             \
			if ((fl) & HXS_TH_ACK)                                                 \
				_ok &= CHECK_EQ(last.ack, (uint32_t)(ak));                     \
			_ok &= CHECK_EQ(last.len, (uint32_t)(ln));                             \
			_ok &= CHECK(last.csum_ok && last.opt_ok, "checksum or options");      \
		}                                                                              \
		_ok;                                                                           \
	})
#define EXPECT_NONE() CHECK_EQ(pending(), 0)

static struct sockaddr_in sin_of(const char *ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = ip4(ip) };
	return a;
}

/* A non-blocking TCP socket connected to the peer's port 80: the SYN taken, a SYN,ACK with
 * MSS `mss` only (no timestamps, SACK or window scale) and window 65535 injected, our ACK
 * taken. opt (or NULL) is set on the socket before connect. Returns the fd, *iss, *lport. */
static int connected(uint16_t mss, int level, int name, int val, uint32_t *iss, uint16_t *lport,
		     struct seg *syn)
{
	struct sockaddr_in peer = sin_of(IP_PEER, 80);
	struct hxs_tcp_opts o = ts_mss_opt(mss);
	int fd = hxs_socket(st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	CHECK(fd >= 0, "socket %d", fd);
	if (name)
		CHECK_EQ(hxs_setsockopt(st, fd, level, name, &val, sizeof(val)), 0);
	CHECK_EQ(hxs_connect(st, fd, (struct sockaddr *)&peer, sizeof(peer)), -EINPROGRESS);
	hxs_stack__poll(st, 0);
	if (EXPECT(HXS_TH_SYN, last.seq, 0, 0)) {
		*iss = last.seq;
		*lport = last.sport;
		if (syn)
			*syn = last;
	}
	TCP_IN(.sport = 80, .dport = *lport, .flags = HXS_TH_SYN | HXS_TH_ACK, .seq = PISN, .ack = *iss + 1,
	       .wnd = 65535, .opt = &o);
	EXPECT(HXS_TH_ACK, *iss + 1, PISN + 1, 0);
	CHECK_EQ(hxs_connect(st, fd, (struct sockaddr *)&peer, sizeof(peer)), 0);
	return fd;
}

/* Closes fd with a RST (SO_LINGER 0) and drops what was sent. */
static void reset_close(int fd)
{
	struct linger lg = { 1, 0 };

	hxs_setsockopt(st, fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	hxs_close(st, fd);
	hxs_stack__poll(st, 0);
	drop_all();
}

/* --- UDP: never ECONNREFUSED ---------------------------------------------------------------- */
/* ICMP destination unreachable, port unreachable (RFC 792, RFC 1122 §3.2.2.1), from the peer,
 * quoting the IP header and first 8 bytes of the datagram in `orig` (a frame we sent). */
static void inject_port_unreach(const struct seg *orig)
{
	uint8_t f[2048], *ic;
	uint16_t w;

	ic = ip_hdr(f, IPPROTO_ICMP, 8 + 20 + 8);
	memset(ic, 0, 8);
	ic[0] = 3;
	ic[1] = 3;
	memcpy(ic + 8, orig->raw + 14, 28);
	w = hxs_csum_fold(hxs_csum_add(0, ic, 36));
	memcpy(ic + 2, &w, 2);
	CHECK_EQ(hxs_io_mem__inject(io, f, 14 + 20 + 36), 0);
	hxs_stack__poll(st, 0);
}

static void test_udp_no_econnrefused(void)
{
	struct sockaddr_in peer = sin_of(IP_PEER, 9), me = sin_of("0.0.0.0", 7000);
	struct timeval tv = { .tv_sec = 0, .tv_usec = 50000 };
	uint64_t unknown = ctr("IpInUnknownProtos"), uerr = ctr("UdpInErrors"), t0;
	struct hxs_event ev[4], e = { .events = EPOLLIN | EPOLLOUT, .data = 7 };
	char buf[64];
	int fd, v, ep, n;
	socklen_t vl = sizeof(v);

	t_case("RFC 1122 §4.1.3.3 left to the kernel: a connected UDP socket gets ICMP port unreachable: recv EAGAIN, SO_ERROR 0, send works");
	fd = hxs_socket(st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_bind(st, fd, (struct sockaddr *)&me, sizeof(me)), 0);
	CHECK_EQ(hxs_connect(st, fd, (struct sockaddr *)&peer, sizeof(peer)), 0);
	CHECK_EQ(hxs_send(st, fd, "ping", 4, 0), 4);
	hxs_stack__poll(st, 0);
	if (CHECK(pop(&last), "datagram sent")) {
		CHECK_EQ(last.proto, IPPROTO_UDP);
		CHECK_EQ(last.dport, 9);
		CHECK_EQ(last.len, 4);
		inject_port_unreach(&last);
	}
	/* the kernel's own UDP would now fail the next call with ECONNREFUSED (RFC 1122
	 * §4.1.3.3); hxs leaves ICMP to the kernel: it is not a protocol the stack takes */
	CHECK_EQ(ctr("IpInUnknownProtos"), unknown + 1);
	CHECK_EQ(ctr("UdpInErrors"), uerr);
	CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), -EAGAIN);
	CHECK_EQ(hxs_getsockopt(st, fd, SOL_SOCKET, SO_ERROR, &v, &vl), 0);
	CHECK_EQ(v, 0);
	ep = hxs_epoll_create(st);
	CHECK_EQ(hxs_epoll_ctl(st, ep, EPOLL_CTL_ADD, fd, &e), 0);
	n = hxs_epoll_wait(st, ep, ev, 4, 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(ev[0].events, (uint32_t)EPOLLOUT);        /* no EPOLLERR */
	CHECK_EQ(hxs_send(st, fd, "again", 5, 0), 5);
	hxs_stack__poll(st, 0);
	if (CHECK(pop(&last), "second datagram sent")) {
		CHECK_EQ(last.len, 5);
		inject_port_unreach(&last);
	}

	t_case("RFC 1122 §4.1.3.3 left to the kernel: a blocking UDP recv after ICMP port unreachable times out with EAGAIN (SO_RCVTIMEO 50 ms)");
	CHECK_EQ(hxs_set_nonblock(st, fd, false), 0);
	CHECK_EQ(hxs_setsockopt(st, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	t0 = vnow;
	tick = 100;
	CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), -EAGAIN);
	tick = 0;
	CHECK(vnow - t0 >= 50000 && vnow - t0 <= 51000, "waited %llu us", (unsigned long long)(vnow - t0));
	CHECK_EQ(hxs_send(st, fd, "third", 5, 0), 5);
	hxs_stack__poll(st, 0);
	CHECK_EQ(pending(), 1);
	drop_all();

	t_case("RFC 1122 §4.1.3.3 left to the kernel: an unconnected UDP socket's sendto after ICMP port unreachable still succeeds");
	{
		int u = hxs_socket(st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

		CHECK_EQ(hxs_sendto(st, u, "x", 1, 0, (struct sockaddr *)&peer, sizeof(peer)), 1);
		hxs_stack__poll(st, 0);
		if (CHECK(pop(&last)))
			inject_port_unreach(&last);
		CHECK_EQ(hxs_sendto(st, u, "y", 1, 0, (struct sockaddr *)&peer, sizeof(peer)), 1);
		CHECK_EQ(hxs_recvfrom(st, u, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
		vl = sizeof(v);
		CHECK_EQ(hxs_getsockopt(st, u, SOL_SOCKET, SO_ERROR, &v, &vl), 0);
		CHECK_EQ(v, 0);
		CHECK_EQ(ctr("IpInUnknownProtos"), unknown + 3);
		hxs_close(st, u);
	}
	hxs_epoll_close(st, ep);
	hxs_close(st, fd);
	hxs_stack__poll(st, 0);
	drop_all();
}

/* --- ETIMEDOUT ------------------------------------------------------------------------------ */
static void test_etimedout(void)
{
	/* RFC 6298 §5.5 backoff from the 1 s initial RTO (§2.1), syn_retries 6 as in Linux */
	static const uint64_t gap[7] = { 0, 1 * S, 2 * S, 4 * S, 8 * S, 16 * S, 32 * S };
	struct sockaddr_in peer = sin_of(IP_PEER, 80);
	uint64_t t0, prev = 0, fails;
	uint32_t iss = 0;
	int fd, n = 0;

	t_case("RFC 6298 §5.5 SYN backoff: non-blocking hxs_connect, no answer: SYNs 1, 2, 4, 8, 16, 32 s apart; EALREADY, then ETIMEDOUT 64 s after the last");
	fd = hxs_socket(st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	fails = ctr("TcpAttemptFails");
	t0 = vnow;
	CHECK_EQ(hxs_connect(st, fd, (struct sockaddr *)&peer, sizeof(peer)), -EINPROGRESS);
	hxs_stack__poll(st, 0);
	/* a turn every ms: each timer fires up to 1 ms late, and the next is armed from there */
	run_until(t0 + 64 * S, 1 * MS);
	while (pop(&last)) {
		if (n == 0) {
			iss = last.seq;
			prev = t0;
		}
		if (n < 7) {
			CHECK_EQ(last.flags, HXS_TH_SYN);
			CHECK_EQ(last.seq, iss);
			CHECK(last.t - prev >= gap[n] && last.t - prev <= gap[n] + 1 * MS,
			      "SYN %d %llu us after the one before", n, (unsigned long long)(last.t - prev));
			prev = last.t;
		}
		n++;
	}
	CHECK_EQ(n, 7);
	run_until(prev + 64 * S - 1 * MS, 1 * MS);
	EXPECT_NONE();
	CHECK_EQ(hxs_connect(st, fd, (struct sockaddr *)&peer, sizeof(peer)), -EALREADY);
	run_until(prev + 64 * S + 1 * MS, 1 * MS);
	EXPECT_NONE();
	CHECK_EQ(hxs_connect(st, fd, (struct sockaddr *)&peer, sizeof(peer)), -ETIMEDOUT);
	CHECK_EQ(ctr("TcpAttemptFails"), fails + 1);
	{
		int v = -1;
		socklen_t vl = sizeof(v);

		/* the error was reported once, by connect */
		CHECK_EQ(hxs_getsockopt(st, fd, SOL_SOCKET, SO_ERROR, &v, &vl), 0);
		CHECK_EQ(v, 0);
	}
	/* a new attempt on the same socket starts afresh, as in the kernel */
	CHECK_EQ(hxs_connect(st, fd, (struct sockaddr *)&peer, sizeof(peer)), -EINPROGRESS);
	hxs_close(st, fd);
	hxs_stack__poll(st, 0);
	drop_all();

	t_case("RFC 9293 §3.8.3: a blocking hxs_connect on an attempt that runs out of SYN retries during the call: ETIMEDOUT");
	fd = hxs_socket(st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	t0 = vnow;
	CHECK_EQ(hxs_connect(st, fd, (struct sockaddr *)&peer, sizeof(peer)), -EINPROGRESS);
	run_until(t0 + 64 * S, 1 * MS);
	n = 0;
	while (pop(&last))
		n++, prev = last.t;               /* the 7th SYN */
	CHECK_EQ(n, 7);
	run_until(prev + 64 * S - 100 * MS, 1 * MS);
	CHECK_EQ(hxs_set_nonblock(st, fd, false), 0);
	/* the kernel's inet_stream_connect(): a blocking call while connecting waits for the
	 * outcome (here: the last SYN timeout, 100 ms away) and reports it */
	tick = 100;
	CHECK_EQ(hxs_connect(st, fd, (struct sockaddr *)&peer, sizeof(peer)), -ETIMEDOUT);
	tick = 0;
	CHECK(vnow - prev >= 64 * S && vnow - prev <= 64 * S + 1 * MS, "returned %llu us after the last SYN",
	      (unsigned long long)(vnow - prev));
	CHECK_EQ(ctr("TcpAttemptFails"), fails + 2);
	hxs_close(st, fd);
	hxs_stack__poll(st, 0);
	drop_all();

	t_case("RFC 9293 §3.8.3 R2: established, the peer silent: after 15 retransmissions recv says ETIMEDOUT once, then EOF; send EPIPE");
	{
		uint64_t aborts = ctr("TCPAbortOnTimeout");
		uint16_t lport = 0;
		char buf[16];

		fd = connected(1460, 0, 0, 0, &iss, &lport, NULL);
		CHECK_EQ(hxs_send(st, fd, "lost", 4, 0), 4);
		t0 = vnow;
		/* RTO 1 s (no RTT sample without a handshake delay: SRTT 1 us -> 200 ms floor),
		 * doubling to the 120 s cap: done within 925 s */
		run_until(t0 + 924 * S, 10 * MS);
		CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), -EAGAIN);
		run_until(t0 + 926 * S, 10 * MS);
		n = 0;
		while (pop(&last))
			n += last.flags == (HXS_TH_ACK | HXS_TH_PSH) && last.seq == iss + 1 && last.len == 4;
		CHECK_EQ(n, 16);                 /* the first transmission and 15 retransmissions */
		CHECK_EQ(ctr("TCPAbortOnTimeout"), aborts + 1);
		CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), -ETIMEDOUT);
		CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), 0);
		CHECK_EQ(hxs_send(st, fd, "x", 1, 0), -EPIPE);
		hxs_close(st, fd);
		hxs_stack__poll(st, 0);
		drop_all();
	}
}

/* --- SO_SNDBUF ------------------------------------------------------------------------------ */
static void test_sndbuf(void)
{
	static uint8_t big[5u << 20];
	uint32_t iss;
	uint16_t lport;
	int fd, v, segs = 0;
	socklen_t vl = sizeof(v);

	t_case("SO_SNDBUF 10000 reads back 20000 (doubled, as Linux) and a send takes exactly 20000 bytes, then EAGAIN");
	fd = connected(1460, SOL_SOCKET, SO_SNDBUF, 10000, &iss, &lport, NULL);
	CHECK_EQ(hxs_getsockopt(st, fd, SOL_SOCKET, SO_SNDBUF, &v, &vl), 0);
	CHECK_EQ(v, 20000);
	CHECK_EQ(hxs_send(st, fd, big, sizeof(big), 0), 20000);
	CHECK_EQ(hxs_send(st, fd, big, sizeof(big), 0), -EAGAIN);
	hxs_stack__poll(st, 0);
	while (pop(&last))
		segs++;
	CHECK_EQ(segs, 10);                      /* IW 10 x 1460 = 14600 in flight */

	t_case("SO_SNDBUF: an ACK of 14600 bytes frees exactly that much");
	TCP_IN(.sport = 80, .dport = lport, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss + 1 + 14600,
	       .wnd = 65535);
	CHECK_EQ(hxs_send(st, fd, big, sizeof(big), 0), 14600);
	CHECK_EQ(hxs_send(st, fd, big, 1, 0), -EAGAIN);
	reset_close(fd);

	t_case("SO_SNDBUF 1 is raised to the minimum 4608 (SOCK_MIN_SNDBUF): a send takes 4608");
	fd = connected(1460, SOL_SOCKET, SO_SNDBUF, 1, &iss, &lport, NULL);
	vl = sizeof(v);
	CHECK_EQ(hxs_getsockopt(st, fd, SOL_SOCKET, SO_SNDBUF, &v, &vl), 0);
	CHECK_EQ(v, 4608);
	CHECK_EQ(hxs_send(st, fd, big, sizeof(big), 0), 4608);
	reset_close(fd);

	t_case("SO_SNDBUF not set: getsockopt says what a send takes (the stack's default, 4 MiB as Linux's tcp_wmem[2])");
	fd = connected(1460, 0, 0, 0, &iss, &lport, NULL);
	vl = sizeof(v);
	CHECK_EQ(hxs_getsockopt(st, fd, SOL_SOCKET, SO_SNDBUF, &v, &vl), 0);
	CHECK_EQ(hxs_send(st, fd, big, sizeof(big), 0), v);
	CHECK_EQ(v, 4u << 20);
	reset_close(fd);
}

/* --- SO_SNDTIMEO ---------------------------------------------------------------------------- */
static void test_sndtimeo(void)
{
	static uint8_t big[100000];
	struct timeval tv = { .tv_sec = 0, .tv_usec = 250000 }, neg = { .tv_sec = -1, .tv_usec = 0 };
	uint64_t t0;
	uint32_t iss;
	uint16_t lport;
	int fd;

	t_case("SO_SNDTIMEO 250 ms: a blocking send of 100000 into a 16384-byte buffer returns 16384 after 250 ms");
	fd = connected(1460, SOL_SOCKET, SO_SNDBUF, 8192, &iss, &lport, NULL);
	CHECK_EQ(hxs_setsockopt(st, fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	CHECK_EQ(hxs_set_nonblock(st, fd, false), 0);
	t0 = vnow;
	tick = 100;
	CHECK_EQ(hxs_send(st, fd, big, sizeof(big), 0), 16384);
	tick = 0;
	CHECK(vnow - t0 >= 250000 && vnow - t0 <= 251000, "returned after %llu us",
	      (unsigned long long)(vnow - t0));

	t_case("SO_SNDTIMEO 250 ms: with the buffer still full a blocking send says EAGAIN after 250 ms");
	t0 = vnow;
	tick = 100;
	CHECK_EQ(hxs_send(st, fd, big, sizeof(big), 0), -EAGAIN);
	tick = 0;
	CHECK(vnow - t0 >= 250000 && vnow - t0 <= 251000, "returned after %llu us",
	      (unsigned long long)(vnow - t0));

	t_case("SO_SNDTIMEO negative: a blocking send does not wait (EAGAIN at once, as Linux)");
	CHECK_EQ(hxs_setsockopt(st, fd, SOL_SOCKET, SO_SNDTIMEO, &neg, sizeof(neg)), 0);
	t0 = vnow;
	tick = 100;
	CHECK_EQ(hxs_send(st, fd, big, sizeof(big), 0), -EAGAIN);
	tick = 0;
	CHECK(vnow - t0 <= 1000, "returned after %llu us", (unsigned long long)(vnow - t0));
	reset_close(fd);
}

/* --- TCP_MAXSEG ----------------------------------------------------------------------------- */
static void test_maxseg(void)
{
	static uint8_t d[3000];
	struct hxs_tcp_info ti;
	struct seg syn;
	uint32_t iss;
	uint16_t lport;
	int fd, v, one = 1;
	socklen_t vl = sizeof(v), tl = sizeof(ti);

	for (uint32_t i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)(i * 13);

	t_case("RFC 9293 §3.7.1: no TCP_MAXSEG: the SYN offers MSS 1460 (MTU 1500 - 40)");
	fd = connected(1460, 0, 0, 0, &iss, &lport, &syn);
	CHECK(syn.opt.has_mss && syn.opt.mss == 1460, "mss %u", syn.opt.mss);
	reset_close(fd);

	t_case("RFC 9293 §3.7.1: TCP_MAXSEG 1000 before connect: the SYN offers MSS 1000; the peer's 1460 is cut to 1000");
	fd = connected(1460, IPPROTO_TCP, TCP_MAXSEG, 1000, &iss, &lport, &syn);
	CHECK(syn.opt.has_mss && syn.opt.mss == 1000, "mss %u", syn.opt.mss);
	CHECK_EQ(hxs_getsockopt(st, fd, IPPROTO_TCP, TCP_MAXSEG, &v, &vl), 0);
	CHECK_EQ(v, 1000);
	CHECK_EQ(hxs_getsockopt(st, fd, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
	CHECK_EQ(ti.snd_mss, 1000);
	CHECK_EQ(ti.rcv_mss, 1000);

	t_case("TCP_MAXSEG 1000: 2500 bytes leave as segments of 1000, 1000, 500");
	CHECK_EQ(hxs_setsockopt(st, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	CHECK_EQ(hxs_send(st, fd, d, 2500, 0), 2500);
	hxs_stack__poll(st, 0);
	EXPECT(HXS_TH_ACK, iss + 1, PISN + 1, 1000);
	CHECK(!memcmp(last.data, d, 1000));
	EXPECT(HXS_TH_ACK, iss + 1001, PISN + 1, 1000);
	EXPECT(HXS_TH_ACK | HXS_TH_PSH, iss + 2001, PISN + 1, 500);
	CHECK(!memcmp(last.data, d + 2000, 500));
	EXPECT_NONE();
	reset_close(fd);

	t_case("TCP_MAXSEG below 88 is EINVAL (TCP_MIN_MSS)");
	fd = hxs_socket(st, AF_INET, SOCK_STREAM, 0);
	v = 87;
	CHECK_EQ(hxs_setsockopt(st, fd, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof(v)), -EINVAL);
	v = 88;
	CHECK_EQ(hxs_setsockopt(st, fd, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof(v)), 0);
	hxs_close(st, fd);

	t_case("RFC 9293 §3.7.1: TCP_MAXSEG 700 on a listener: the SYN,ACK offers 700 and the accepted socket sends 700-byte segments");
	{
		struct sockaddr_in me = sin_of("0.0.0.0", 8080);
		struct hxs_tcp_opts o = ts_mss_opt(1460);
		int l = hxs_socket(st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), c;

		v = 700;
		CHECK_EQ(hxs_setsockopt(st, l, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof(v)), 0);
		CHECK_EQ(hxs_bind(st, l, (struct sockaddr *)&me, sizeof(me)), 0);
		CHECK_EQ(hxs_listen(st, l, 4), 0);
		TCP_IN(.sport = 40000, .dport = 8080, .flags = HXS_TH_SYN, .seq = PISN, .wnd = 65535, .opt = &o);
		if (EXPECT(HXS_TH_SYN | HXS_TH_ACK, last.seq, PISN + 1, 0)) {
			iss = last.seq;
			CHECK(last.opt.has_mss && last.opt.mss == 700, "mss %u", last.opt.mss);
		}
		TCP_IN(.sport = 40000, .dport = 8080, .flags = HXS_TH_ACK, .seq = PISN + 1, .ack = iss + 1,
		       .wnd = 65535);
		c = hxs_accept4(st, l, NULL, NULL, SOCK_NONBLOCK);
		CHECK(c >= 0, "accept %d", c);
		CHECK_EQ(hxs_setsockopt(st, c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
		CHECK_EQ(hxs_send(st, c, d, 1500, 0), 1500);
		hxs_stack__poll(st, 0);
		EXPECT(HXS_TH_ACK, iss + 1, PISN + 1, 700);
		EXPECT(HXS_TH_ACK, iss + 701, PISN + 1, 700);
		EXPECT(HXS_TH_ACK | HXS_TH_PSH, iss + 1401, PISN + 1, 100);
		EXPECT_NONE();
		reset_close(c);
		hxs_close(st, l);
		hxs_stack__poll(st, 0);
		drop_all();
	}
}

int main(void)
{
	struct hxs_netif_static cfg = { .addr = ip4(IP_US), .prefix_len = 24, .mtu = 1500, .n_neigh = 1 };
	struct hxs_io_stats s;

	memcpy(cfg.mac, MAC_US, 6);
	cfg.neigh[0].ip = ip4(IP_PEER);
	memcpy(cfg.neigh[0].mac, MAC_PEER, 6);

	t_case("a stack on an unpaired in-memory link, the test as its peer");
	CHECK_EQ(hxs_io_mem__open(&io, 256, 2048), 0);
	CHECK_EQ(hxs_stack__open_io(&st, io, &cfg), 0);
	if (!st)
		return t_done();
	CHECK_EQ(hxs_stack__set_clock(st, vclock, NULL), 0);

	test_udp_no_econnrefused();
	test_etimedout();
	test_sndbuf();
	test_sndtimeo();
	test_maxseg();

	t_case("no frame lost by the test's queue; every frame back in the pool at the end");
	CHECK_EQ(qlost, 0);
	hxs_stack__close(st);
	drop_all();
	io->ops->get_stats(io, &s);
	/* The fill ring keeps its frames (as an AF_XDP socket's does); none is held by the stack
	 * and the accounting adds up. */
	CHECK_EQ(s.frames_held, 0);
	CHECK_EQ(s.frames_tx_queued, 0);
	CHECK_EQ(s.frames_free + s.frames_rx_queued, s.frames_total);
	io->ops->close(io);
	return t_done();
}
