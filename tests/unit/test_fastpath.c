/* test_fastpath.c - the XDP ACK fast path, stack side, end to end: two whole stacks on the
 * static control plane (hxs_stack__open_io), each on its own in-memory endpoint, joined by a
 * wire this test runs (delay, seeded loss), in virtual time. The stand-in for XDP
 * (net/fp_standin.c) judges every received frame by hxs/fastpath.h and consumes pure ACKs
 * into the connection's slot; the core takes their progress back (tcp_fastpath.c).
 *
 * Each run: A connects to B, A sends 2 MiB and B 512 KiB of a seeded pattern at the same
 * time, both read everything, shut down, close; the run ends when both stacks hold no
 * connection. Checked per run: both received streams byte-exact (compared with the pattern),
 * and identical between the fast path on and off (the whole stream kept and compared);
 * fast path on: XdpAckFastPath > 0 on A (the bulk sender), HxsTcpFastPathAcks > 0 and never
 * more than XdpAckFastPath, TcpInSegs of A below what it is with the fast path off; fast path
 * off (hxs_stack__set_fastpath 0): XdpAckFastPath, XdpAckDeclined and HxsTcpFastPathAcks 0.
 * Loss 0, 1 and 5 %; every slot back at the end (HxsTcpSlots 0), no conn entry left. The
 * stand-in's demux metadata: on, segments are found by slot (HxsTcpDemuxBySlot), none misses;
 * off, none names a slot.
 * The same again with BBR, the stack's default (the veth tests run it): streams byte-exact and
 * identical on and off, ACKs consumed at 0 % loss, none when off. (With BBR at 1-5 % loss the
 * scoreboard is rarely empty, so XDP may take no ACK at all: no count asserted there.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "io/io.h"
#include "net/stack.h"
#include "open/stack_open.h"

#define A_TO_B (2u << 20)
#define B_TO_A (512u << 10)
#define DELAY_US 2000
#define QMAX 8192

static uint64_t vnow = 1000000;
static uint64_t clock_fn(void *ctx) { (void)ctx; return vnow; }

struct pkt {
	uint64_t due;
	uint32_t len;
	uint8_t data[2048];
};

struct dir {
	struct pkt *q;              /* FIFO: constant delay keeps it ordered */
	unsigned head, n;
	uint64_t sent, lost;
};

static uint64_t rng;
static double frand(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (double)(rng >> 11) / (double)(1ull << 53);
}

static uint8_t pat(uint64_t seed, uint64_t off)
{
	uint64_t x = (off / 8 + 1) * 0x9e3779b97f4a7c15ull ^ seed;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return (uint8_t)(x >> (8 * (off % 8)));
}

static void netif_of(struct hxs_netif_static *n, const char *ip, uint8_t last, const char *peer,
		     uint8_t peer_last)
{
	memset(n, 0, sizeof(*n));
	n->addr = inet_addr(ip);
	n->prefix_len = 24;
	n->mtu = 1500;
	memcpy(n->mac, (uint8_t[]){ 2, 0, 0, 0, 7, last }, 6);
	n->n_neigh = 1;
	n->neigh[0].ip = inet_addr(peer);
	memcpy(n->neigh[0].mac, (uint8_t[]){ 2, 0, 0, 0, 7, peer_last }, 6);
}

/* Frames A's stack flushed onto the wire, each lost with probability loss, else due later. */
static void wire_take(struct hxs_io *from, struct dir *d, double loss)
{
	for (;;) {
		struct pkt *p = &d->q[(d->head + d->n) % QMAX];
		int len;

		if (d->n == QMAX)
			abort();
		len = hxs_io_mem__take(from, p->data, sizeof(p->data));
		if (len < 0)
			return;
		d->sent++;
		if (frand() < loss) {
			d->lost++;
			continue;
		}
		p->len = (uint32_t)len;
		p->due = vnow + DELAY_US;
		d->n++;
	}
}

static void wire_give(struct hxs_io *to, struct dir *d)
{
	while (d->n && d->q[d->head].due <= vnow) {
		/* a full RX ring drops it, as the kernel would */
		hxs_io_mem__inject(to, d->q[d->head].data, d->q[d->head].len);
		d->head = (d->head + 1) % QMAX;
		d->n--;
	}
}

static uint64_t ctr(struct hxs_stack *st, const char *name)
{
	uint64_t v = 0;

	CHECK_EQ(hxs_stack__counter(st, name, &v), 0);
	return v;
}

struct end {
	struct hxs_stack *st;
	int fd;
	uint64_t sent, rcvd, want_tx, want_rx, seed_tx, seed_rx;
	uint8_t *got;               /* the whole received stream */
	int shut, eof, bad;
};

static void end_io(struct end *e)
{
	uint8_t buf[16384];

	while (e->fd >= 0 && e->sent < e->want_tx) {
		size_t n = e->want_tx - e->sent < sizeof(buf) ? e->want_tx - e->sent : sizeof(buf);
		ssize_t r;

		for (size_t i = 0; i < n; i++)
			buf[i] = pat(e->seed_tx, e->sent + i);
		r = hxs_send(e->st, e->fd, buf, n, 0);
		if (r <= 0)
			break;
		e->sent += (uint64_t)r;
	}
	if (e->fd >= 0 && e->sent == e->want_tx && !e->shut) {
		CHECK_EQ(hxs_shutdown(e->st, e->fd, SHUT_WR), 0);
		e->shut = 1;
	}
	while (e->fd >= 0 && !e->eof) {
		ssize_t r = hxs_recv(e->st, e->fd, buf, sizeof(buf), 0);

		if (r == 0)
			e->eof = 1;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++) {
			if (e->rcvd + (uint64_t)i >= e->want_rx ||
			    buf[i] != pat(e->seed_rx, e->rcvd + (uint64_t)i))
				e->bad = 1;
			if (e->rcvd + (uint64_t)i < e->want_rx)
				e->got[e->rcvd + (uint64_t)i] = buf[i];
		}
		e->rcvd += (uint64_t)r;
	}
}

struct result {
	uint8_t *got_a, *got_b;     /* what A and B received */
	uint64_t fp_a, declined_a, core_a, insegs_a, fp_b;
	uint64_t by_a, miss_a, by_b, miss_b, insegs_b;   /* demux by the stand-in's metadata */
	int ok;
};

static void run(const char *cc, double loss, int fast, uint64_t seed, struct result *res)
{
	struct hxs_netif_static ca, cb;
	struct hxs_io *ia, *ib;
	struct hxs_stack *sa, *sb;
	struct dir ab = { 0 }, ba = { 0 };
	struct end A = { 0 }, B = { 0 };
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(5001) };
	int l, ok = 1;
	uint64_t limit;
	unsigned binds, conns;

	rng = seed;
	ab.q = calloc(QMAX, sizeof(*ab.q));
	ba.q = calloc(QMAX, sizeof(*ba.q));
	netif_of(&ca, "10.7.0.1", 1, "10.7.0.2", 2);
	netif_of(&cb, "10.7.0.2", 2, "10.7.0.1", 1);
	ok &= CHECK_EQ(hxs_io_mem__open(&ia, 1024, 2048), 0);
	ok &= CHECK_EQ(hxs_io_mem__open(&ib, 1024, 2048), 0);
	ok &= CHECK_EQ(hxs_stack__open_io(&sa, ia, &ca), 0);
	ok &= CHECK_EQ(hxs_stack__open_io(&sb, ib, &cb), 0);
	hxs_stack__set_clock(sa, clock_fn, NULL);
	hxs_stack__set_clock(sb, clock_fn, NULL);
	hxs_stack__set_fastpath(sa, fast);
	hxs_stack__set_fastpath(sb, fast);
	/* CUBIC, whose loss response empties the scoreboard between losses: the counts below
	 * compare the ACKs XDP could take. BBR keeps sending through loss, so its scoreboard is
	 * rarely empty at 1-5 % and XDP declines most ACKs (F_FAST needs an empty one). */
	ok &= CHECK_EQ(hxs_stack__set_cc(sa, cc), 0);
	ok &= CHECK_EQ(hxs_stack__set_cc(sb, cc), 0);
	/* 256 KiB buffers: the 2 MiB would fit a default (4 MiB) send buffer whole, and the
	 * streams go out in sends of what the buffer takes */
	ok &= CHECK_EQ(hxs_stack__set_tcp_bufs(sa, 256 * 1024, 256 * 1024), 0);
	ok &= CHECK_EQ(hxs_stack__set_tcp_bufs(sb, 256 * 1024, 256 * 1024), 0);

	l = hxs_socket(sb, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ok &= CHECK_EQ(hxs_bind(sb, l, (struct sockaddr *)&addr, sizeof(addr)), 0);
	ok &= CHECK_EQ(hxs_listen(sb, l, 4), 0);
	A.st = sa;
	B.st = sb;
	A.fd = hxs_socket(sa, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	B.fd = -1;
	addr.sin_addr.s_addr = inet_addr("10.7.0.2");
	ok &= CHECK_EQ(hxs_connect(sa, A.fd, (struct sockaddr *)&addr, sizeof(addr)), -EINPROGRESS);
	A.want_tx = B.want_rx = A_TO_B;
	B.want_tx = A.want_rx = B_TO_A;
	A.seed_tx = B.seed_rx = seed * 2 + 1;
	B.seed_tx = A.seed_rx = seed * 2 + 2;
	A.got = calloc(1, B_TO_A);
	B.got = calloc(1, A_TO_B);

	limit = vnow + 600ull * 1000000;
	while (vnow < limit) {
		uint64_t next;

		if (B.fd == -1) {
			int fd = hxs_accept4(sb, l, NULL, NULL, SOCK_NONBLOCK);

			if (fd >= 0)
				B.fd = fd;
		}
		end_io(&A);
		if (B.fd >= 0)
			end_io(&B);
		if (A.eof && A.shut && A.fd >= 0) {
			hxs_close(sa, A.fd);
			A.fd = -2;
		}
		if (B.eof && B.shut && B.fd >= 0) {
			hxs_close(sb, B.fd);
			B.fd = -2;
			hxs_close(sb, l);
			l = -1;
		}
		hxs_stack__poll(sa, 0);
		wire_take(ia, &ab, loss);
		wire_give(ib, &ab);
		hxs_stack__poll(sb, 0);
		wire_take(ib, &ba, loss);
		wire_give(ia, &ba);
		if (A.fd == -2 && B.fd == -2 && !ab.n && !ba.n && !ctr(sa, "HxsTcpConns") &&
		    !ctr(sb, "HxsTcpConns") && !ctr(sa, "HxsTcpTimeWait") && !ctr(sb, "HxsTcpTimeWait"))
			break;
		/* the next thing that happens: a frame due, or a stack's deadline */
		next = hxs_stack__next_deadline(sa);
		if (hxs_stack__next_deadline(sb) < next)
			next = hxs_stack__next_deadline(sb);
		if (ab.n && ab.q[ab.head].due < next)
			next = ab.q[ab.head].due;
		if (ba.n && ba.q[ba.head].due < next)
			next = ba.q[ba.head].due;
		vnow = next > vnow ? (next == UINT64_MAX ? vnow + 1000 : next) : vnow + 10;
	}
	ok &= CHECK(A.fd == -2 && B.fd == -2, "A fd %d eof %d shut %d rcvd %llu, B fd %d eof %d shut %d rcvd %llu, t %llu us",
		    A.fd, A.eof, A.shut, (unsigned long long)A.rcvd, B.fd, B.eof, B.shut,
		    (unsigned long long)B.rcvd, (unsigned long long)vnow);
	ok &= CHECK_EQ(A.rcvd, B_TO_A);
	ok &= CHECK_EQ(B.rcvd, A_TO_B);
	ok &= CHECK(!A.bad && !B.bad, "pattern mismatch");
	if (loss > 0)
		ok &= CHECK(ab.lost > 0 && ba.lost > 0);
	res->fp_a = ctr(sa, "XdpAckFastPath");
	res->declined_a = ctr(sa, "XdpAckDeclined");
	res->core_a = ctr(sa, "HxsTcpFastPathAcks");
	res->insegs_a = ctr(sa, "TcpInSegs");
	res->fp_b = ctr(sb, "XdpAckFastPath");
	res->by_a = ctr(sa, "HxsTcpDemuxBySlot");
	res->miss_a = ctr(sa, "HxsTcpDemuxSlotMiss");
	res->by_b = ctr(sb, "HxsTcpDemuxBySlot");
	res->miss_b = ctr(sb, "HxsTcpDemuxSlotMiss");
	res->insegs_b = ctr(sb, "TcpInSegs");
	ok &= CHECK_EQ(ctr(sa, "HxsTcpSlots"), 0);
	ok &= CHECK_EQ(ctr(sb, "HxsTcpSlots"), 0);
	hxs_ctl_static__owned(sa, &binds, &conns);
	ok &= CHECK_EQ(conns, 0);
	hxs_ctl_static__owned(sb, &binds, &conns);
	ok &= CHECK_EQ(conns, 0);
	hxs_stack__close(sa);
	hxs_stack__close(sb);
	ia->ops->close(ia);
	ib->ops->close(ib);
	free(ab.q);
	free(ba.q);
	res->got_a = A.got;
	res->got_b = B.got;
	res->ok = ok;
}

static void compare(const char *cc, double loss, uint64_t seed, int counts)
{
	struct result on, off;

	run(cc, loss, 1, seed, &on);
	run(cc, loss, 0, seed, &off);
	CHECK(on.ok && off.ok);
	CHECK(!memcmp(on.got_a, off.got_a, B_TO_A), "A's stream differs on/off");
	CHECK(!memcmp(on.got_b, off.got_b, A_TO_B), "B's stream differs on/off");
	if (counts) {
		CHECK(on.fp_a > 0, "XdpAckFastPath %llu", (unsigned long long)on.fp_a);
		CHECK(on.core_a > 0 && on.core_a <= on.fp_a, "HxsTcpFastPathAcks %llu of %llu",
		      (unsigned long long)on.core_a, (unsigned long long)on.fp_a);
		CHECK(on.insegs_a < off.insegs_a, "TcpInSegs on %llu off %llu",
		      (unsigned long long)on.insegs_a, (unsigned long long)off.insegs_a);
	}
	CHECK(on.core_a <= on.fp_a, "HxsTcpFastPathAcks %llu of %llu",
	      (unsigned long long)on.core_a, (unsigned long long)on.fp_a);
	CHECK_EQ(off.fp_a, 0);
	CHECK_EQ(off.fp_b, 0);
	CHECK_EQ(off.declined_a, 0);
	CHECK_EQ(off.core_a, 0);
	/* the demux metadata: on, every segment of a connection with a slot is found by it,
	 * none misses; only what arrives while no connection holds the tuple (B: the SYN
	 * before its child exists, at loss also segments after it left) goes by the hash.
	 * Off, no connection has a slot: the metadata names none. */
	CHECK_EQ(on.miss_a, 0);
	CHECK_EQ(on.miss_b, 0);
	CHECK(on.by_b > 0 && on.by_b <= on.insegs_b && on.insegs_b - on.by_b <= (loss > 0 ? 10 : 1),
	      "B: HxsTcpDemuxBySlot %llu of TcpInSegs %llu", (unsigned long long)on.by_b,
	      (unsigned long long)on.insegs_b);
	CHECK(on.by_a > 0 && on.by_a <= on.insegs_a && on.insegs_a - on.by_a <= (loss > 0 ? 10 : 0),
	      "A: HxsTcpDemuxBySlot %llu of TcpInSegs %llu", (unsigned long long)on.by_a,
	      (unsigned long long)on.insegs_a);
	CHECK_EQ(off.by_a + off.by_b + off.miss_a + off.miss_b, 0);
	printf("#   %s, loss %.0f%%: A XdpAckFastPath %llu declined %llu HxsTcpFastPathAcks %llu "
	       "TcpInSegs %llu (off: %llu); B XdpAckFastPath %llu\n", cc, loss * 100,
	       (unsigned long long)on.fp_a, (unsigned long long)on.declined_a,
	       (unsigned long long)on.core_a, (unsigned long long)on.insegs_a,
	       (unsigned long long)off.insegs_a, (unsigned long long)on.fp_b);
	printf("#   demux by slot: A %llu of %llu, B %llu of %llu\n", (unsigned long long)on.by_a,
	       (unsigned long long)on.insegs_a, (unsigned long long)on.by_b, (unsigned long long)on.insegs_b);
	free(on.got_a);
	free(on.got_b);
	free(off.got_a);
	free(off.got_b);
}

int main(void)
{
	static const double losses[] = { 0, 0.01, 0.05 };
	static char names[6][200];

	for (unsigned i = 0; i < sizeof(losses) / sizeof(losses[0]); i++) {
		snprintf(names[i], sizeof(names[i]), "cubic, loss %.0f%%: 2 MiB A->B and 512 KiB B->A byte-exact with the fast path on and off, "
			 "identical streams; on: XDP stand-in consumed ACKs, the core took them", losses[i] * 100);
		t_case(names[i]);
		compare("cubic", losses[i], 17 + i, 1);
	}
	for (unsigned i = 0; i < sizeof(losses) / sizeof(losses[0]); i++) {
		snprintf(names[3 + i], sizeof(names[3 + i]), "bbr (the default), loss %.0f%%: both streams byte-exact and "
			 "identical with the fast path on and off%s", losses[i] * 100,
			 i == 0 ? "; on: XDP stand-in consumed ACKs, the core took them" : "");
		t_case(names[3 + i]);
		compare("bbr", losses[i], 29 + i, i == 0);
	}
	return t_done();
}
