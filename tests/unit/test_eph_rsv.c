/* test_eph_rsv.c - an ephemeral port is reserved with the kernel once: the kernel socket
 * that holds it outlives the connection (socket.c's kept reservations) and the next connect()
 * on that port takes it without a socket/bind/close; the kernel stays off the port the whole
 * time; another address or SO_REUSEADDR on the port, a range change and the stack's close
 * give it back. UDP ports are not kept. Two stacks on the in-memory link on 127.0.0.1 and 127.0.0.2 (addresses of
 * lo, so the kernel reservations are real binds), virtual time; stack A reserves kernel ports
 * as hxs_stack__open() does. The connections never complete (the stacks drop 127/8 from
 * the wire): a connect() that is closed gives its port back as a finished connection does. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "net/stack.h"
#include "sock/sock.h"
#include "twostack.h"

#define EPH 61987               /* the one-port range: above any ip_local_port_range default */

static uint64_t vnow = 3000000;
static uint64_t vclock(void *ctx) { (void)ctx; return vnow; }

static const struct twostack_cfg two = {
	.ip_a = "127.0.0.1", .ip_b = "127.0.0.2", .mac_a = { 2, 0, 0, 0, 9, 1 },
	.mac_b = { 2, 0, 0, 0, 9, 2 }, .frames = 256, .frame_size = 2048, .clock = vclock,
};
static struct twostack ts;

static void pump_ms(unsigned ms)
{
	for (unsigned i = 0; i < ms * 10; i++) {
		twostack_pump(&ts, 1);
		vnow += 100;
	}
}

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = addr };
	return a;
}

/* What a kernel program binding 127.0.0.1:port (TCP, or UDP) now gets: 0 or -errno. */
static int kernel_try_type(int type, uint16_t port)
{
	struct sockaddr_in a = sin_of(htonl(INADDR_LOOPBACK), port);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return -errno;
	r = bind(fd, (struct sockaddr *)&a, sizeof(a)) ? -errno : 0;
	close(fd);
	return r;
}

static int kernel_try(uint16_t port)
{
	return kernel_try_type(SOCK_STREAM, port);
}

static int kept_fd(struct hxs_stack *st)
{
	struct hxs_eph_rsv *r = st->sockets->eph_rsv;

	return r ? r[0].fd : -1;
}

/* A connect() from A (its SYN goes unanswered: 127/8 is not routed between stacks), then
 * close: the attempt ends and the port goes back. Returns the kernel fd A's socket held. */
static int one_conn(struct sockaddr_in *bl)
{
	int c, kfd;

	c = hxs_socket(ts.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_connect(ts.a, c, (struct sockaddr *)bl, sizeof(*bl)), -EINPROGRESS);
	CHECK_EQ(ntohs(hxs_sock__get(ts.a, c)->lport), EPH);
	kfd = hxs_sock__get(ts.a, c)->kfd;
	CHECK(kfd >= 0, "kfd %d", kfd);
	CHECK_EQ(kernel_try(EPH), -EADDRINUSE);
	pump_ms(1);
	CHECK_EQ(hxs_close(ts.a, c), 0);
	pump_ms(1);
	CHECK(!hxs_sock__port_chain(ts.a, IPPROTO_TCP, htons(EPH)), "port still held");
	return kfd;
}

int main(void)
{
	struct sockaddr_in bl, any;
	int kfd, kfd2, u;

	CHECK_EQ(twostack_open(&ts, &two), 0);
	ts.a->reserve_kernel_ports = 1;
	CHECK_EQ(hxs_stack__set_port_range(ts.a, EPH, EPH), 0);
	bl = sin_of(ts.addr_b, 7500);

	t_case("a connection's ephemeral port: a kernel socket holds it; once the connection is gone the socket is kept, the kernel still off the port");
	CHECK_EQ(kernel_try(EPH), 0);
	kfd = one_conn(&bl);
	CHECK_EQ(kept_fd(ts.a), kfd);
	CHECK_EQ(kernel_try(EPH), -EADDRINUSE);

	t_case("the next connect on that port takes the kept kernel socket (no new one), and keeps it again after");
	kfd2 = one_conn(&bl);
	CHECK_EQ(kfd2, kfd);
	CHECK_EQ(kept_fd(ts.a), kfd);

	t_case("a bind of the port on another address (INADDR_ANY) closes the kept socket and reserves its own");
	any = sin_of(0, EPH);
	u = hxs_socket(ts.a, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(hxs_bind(ts.a, u, (struct sockaddr *)&any, sizeof(any)), 0);
	CHECK(hxs_sock__get(ts.a, u)->kfd >= 0, "kfd %d", hxs_sock__get(ts.a, u)->kfd);
	CHECK_EQ(kept_fd(ts.a), -1);
	CHECK_EQ(kernel_try(EPH), -EADDRINUSE);
	hxs_close(ts.a, u);
	CHECK(kept_fd(ts.a) >= 0, "kept %d", kept_fd(ts.a));

	t_case("UDP ports are not kept: the kernel binds the port again once the hxs socket is closed");
	{
		struct sockaddr_in peer = sin_of(ts.addr_b, 9);
		int d = hxs_socket(ts.a, AF_INET, SOCK_DGRAM, 0);

		CHECK_EQ(hxs_sendto(ts.a, d, "x", 1, 0, (struct sockaddr *)&peer, sizeof(peer)), 1);
		CHECK_EQ(ntohs(hxs_sock__get(ts.a, d)->lport), EPH);
		CHECK_EQ(kernel_try_type(SOCK_DGRAM, EPH), -EADDRINUSE);
		hxs_close(ts.a, d);
		CHECK_EQ(kernel_try_type(SOCK_DGRAM, EPH), 0);
	}

	t_case("a range change gives the kept ports back to the kernel");
	CHECK_EQ(hxs_stack__set_port_range(ts.a, EPH + 1, EPH + 1), 0);
	CHECK_EQ(kept_fd(ts.a), -1);
	CHECK_EQ(kernel_try(EPH), 0);

	t_case("the stack's close gives them back too");
	CHECK_EQ(hxs_stack__set_port_range(ts.a, EPH, EPH), 0);
	one_conn(&bl);
	CHECK(kept_fd(ts.a) >= 0, "kept %d", kept_fd(ts.a));
	CHECK_EQ(kernel_try(EPH), -EADDRINUSE);
	twostack_close(&ts);
	CHECK_EQ(kernel_try(EPH), 0);
	return t_done();
}
