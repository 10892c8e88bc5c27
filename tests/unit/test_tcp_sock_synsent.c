/* test_tcp_sock_synsent.c - sending, then shutting down or closing, while the connection is
 * still in SYN-SENT, through the public hxs_* API: two whole stacks (hxs_stack__open_io)
 * joined by the in-memory link, in virtual time.
 *
 * A non-blocking client with a send buffer larger than the transfer connects, at once sends
 * 2 MiB (all taken: RFC 9293 §3.10.2 queues SENDs in SYN-SENT) and calls shutdown(SHUT_WR),
 * or close(), before the SYN,ACK can arrive. Checked: the listener accepts, the server reads
 * the 2 MiB byte-exact and then EOF, and the client's side ends (EOF read, or the orphan
 * gone). Before the fix, CLOSE in SYN-SENT deleted the TCB with the data queued: the
 * listener never accepted (the SYN,ACK met CLOSED and was reset). And the orphan such a
 * close() leaves, refused by a RST,ACK, is freed once and not touched after.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "io/io.h"
#include "sock/sock.h"
#include "open/stack_open.h"
#include "twostack.h"

#define IP_A "10.9.1.1"
#define IP_B "10.9.1.2"
#define N (2u << 20)

static uint64_t vnow = 5000000;
static struct twostack world;
static struct hxs_stack *sa, *sb;

static uint64_t clock_fn(void *ctx)
{
	return vnow;
}

/* Both stacks turn, 100 us pass. */
static void step(void)
{
	twostack_pump(&world, 1);
	vnow += 100;
}

static uint64_t ctr(struct hxs_stack *st, const char *name)
{
	uint64_t v = 0;

	CHECK((hxs_stack__counter(st, name, &v)) == (0), "%s", name);
	return v;
}

static void run(uint16_t port, int use_close)
{
	static uint8_t out[N], in[N];
	struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = inet_addr(IP_B) };
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(port) };
	int big = 8 << 20, l, c, s = -1, a_eof = 0, b_eof = 0;
	size_t got = 0;
	uint8_t tmp[16384];

	for (uint32_t i = 0; i < N; i++)
		out[i] = (uint8_t)((i + port) * 2654435761u >> 13);
	l = hxs_socket(sb, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK(l >= 0, "socket %d", l);
	CHECK_EQ(hxs_bind(sb, l, (struct sockaddr *)&any, sizeof(any)), 0);
	CHECK_EQ(hxs_listen(sb, l, 4), 0);
	c = hxs_socket(sa, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK(c >= 0, "socket %d", c);
	CHECK_EQ(hxs_setsockopt(sa, c, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)), 0);
	CHECK_EQ(hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b)), -EINPROGRESS);
	/* still SYN-SENT: nothing has turned since the SYN left */
	CHECK_EQ(hxs_send(sa, c, out, N, 0), (ssize_t)N);
	if (use_close)
		CHECK_EQ(hxs_close(sa, c), 0);
	else
		CHECK_EQ(hxs_shutdown(sa, c, SHUT_WR), 0);
	for (int k = 0; k < 200000 && !(b_eof && (use_close || a_eof)); k++) {
		step();
		if (s < 0)
			s = hxs_accept4(sb, l, NULL, NULL, SOCK_NONBLOCK);
		for (ssize_t r; s >= 0 && !b_eof && (r = hxs_recv(sb, s, tmp, sizeof(tmp), 0)) != -EAGAIN;) {
			CHECK(r >= 0, "recv %zd", r);
			if (r <= 0) {
				b_eof = r == 0;
				if (b_eof)
					CHECK_EQ(hxs_shutdown(sb, s, SHUT_WR), 0);
				break;
			}
			if (got + (size_t)r <= N)
				memcpy(in + got, tmp, (size_t)r);
			got += (size_t)r;
		}
		if (!use_close && !a_eof) {
			ssize_t r = hxs_recv(sa, c, tmp, sizeof(tmp), 0);

			CHECK(r == 0 || r == -EAGAIN, "client recv %zd", r);
			a_eof = r == 0;
		}
	}
	CHECK(s >= 0, "the listener never accepted");
	CHECK_EQ(got, (size_t)N);
	CHECK(got == N && !memcmp(out, in, N), "the stream differs");
	CHECK(b_eof, "no EOF after the data");
	if (!use_close) {
		CHECK(a_eof, "the client never read the server's FIN");
		CHECK_EQ(hxs_close(sa, c), 0);
	}
	if (s >= 0)
		CHECK_EQ(hxs_close(sb, s), 0);
	CHECK_EQ(hxs_close(sb, l), 0);
	for (int k = 0; k < 10000; k++)
		step();
	/* both ends closed: neither stack holds an established connection */
	CHECK_EQ(ctr(sa, "TcpCurrEstab"), 0);
	CHECK_EQ(ctr(sb, "TcpCurrEstab"), 0);
}

/* close() in SYN-SENT with data queued leaves an orphan (the user's reference gone); a
 * RST,ACK from a port nobody listens on then closes it (§3.10.7.3: "connection reset",
 * ECONNREFUSED) and frees it inside the input path: nothing may touch it after that (the
 * fuzzer found a read of the freed connection's state there; ASan aborts on it). */
static void refused(uint16_t port)
{
	static uint8_t out[4096];
	struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = inet_addr(IP_B) };
	uint64_t fails = ctr(sa, "TcpAttemptFails"), rsts = ctr(sb, "TcpOutRsts");
	int c = hxs_socket(sa, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	CHECK(c >= 0, "socket %d", c);
	CHECK_EQ(hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b)), -EINPROGRESS);
	CHECK_EQ(hxs_send(sa, c, out, sizeof(out), 0), (ssize_t)sizeof(out));
	CHECK_EQ(hxs_close(sa, c), 0);
	for (int k = 0; k < 1000; k++)
		step();
	CHECK_EQ(ctr(sb, "TcpOutRsts") - rsts, 1);
	CHECK_EQ(ctr(sa, "TcpAttemptFails") - fails, 1);
	CHECK_EQ(ctr(sa, "TcpCurrEstab"), 0);
}

int main(void)
{
	static const struct twostack_cfg two = {
		.ip_a = IP_A, .ip_b = IP_B, .mac_a = { 2, 0, 0, 0, 9, 1 }, .mac_b = { 2, 0, 0, 0, 9, 2 },
		.frames = 1024, .frame_size = 2048, .clock = clock_fn,
	};
	struct hxs_io_stats st;

	CHECK_EQ(twostack_open(&world, &two), 0);
	if (!world.a || !world.b)
		return t_done();
	sa = world.a;
	sb = world.b;

	t_case("send 2 MiB then shutdown(SHUT_WR) in SYN-SENT: accepted, 2 MiB exact, then EOF both ways");
	run(7201, 0);
	t_case("send 2 MiB then close() in SYN-SENT: accepted, 2 MiB exact, then EOF");
	run(7202, 1);
	t_case("every connect answered: 2 active opens, 2 passive opens, no failed attempt, no reset");
	CHECK_EQ(ctr(sa, "TcpActiveOpens"), 2);
	CHECK_EQ(ctr(sb, "TcpPassiveOpens"), 2);
	CHECK_EQ(ctr(sa, "TcpAttemptFails"), 0);
	CHECK_EQ(ctr(sa, "TcpOutRsts") + ctr(sb, "TcpOutRsts"), 0);
	t_case("send then close() in SYN-SENT, refused by a RST,ACK: the orphan closes once, no use after free");
	refused(7203);

	twostack_close_stacks(&world);
	world.ia->ops->get_stats(world.ia, &st);
	CHECK_EQ(st.frames_held, 0);
	world.ib->ops->get_stats(world.ib, &st);
	CHECK_EQ(st.frames_held, 0);
	twostack_close_links(&world);
	return t_done();
}
