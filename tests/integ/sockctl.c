/* sockctl.c - a scripted hxs process for integration tests: one stack on -i IFACE, driven by
 * one command a line on stdin, one answer a line on stdout ("ok ..." or "err ERRNO_NAME ...").
 * Between commands the stack keeps running (timers, ACKs, TIME_WAIT, statistics), so a test
 * can look at a live process from outside (hxs stat/ss, bpftool, the kernel's bind()).
 *
 *   sockctl -i IFACE [-a auto|native|skb|existing]      prints "ready ..." once the stack runs
 *
 *   socket tcp|udp           -> ok FD             (blocking; 20 s SO_RCVTIMEO/SO_SNDTIMEO)
 *   bind FD PORT             -> ok                (0.0.0.0:PORT; SO_REUSEADDR set)
 *   listen FD                -> ok
 *   connect FD IP PORT       -> ok LOCALPORT
 *   accept FD                -> ok NEWFD PEERIP:PEERPORT
 *   send FD N                -> ok N              N bytes of the stream pattern (below)
 *   recv FD N                -> ok N              exactly N bytes, each checked against it
 *   info FD                  -> ok state=.. rtt_us=.. rttvar_us=.. cwnd=.. mss=.. segs_out=..
 *                               segs_in=.. bytes_acked=.. bytes_received=.. total_retrans=..
 *   name FD                  -> ok IP:PORT
 *   close FD                 -> ok
 *   quit                     -> ok, then the stack is closed and the process exits 0
 * SIGINT/SIGTERM end it as quit does (the stack detaches what it attached).
 *
 * Stream pattern: byte at offset o of a connection's stream (each direction counted on its
 * own) is (o * 131 + 7) & 0xff, so an echo peer's bytes are checked on the way back.
 *
 * main() -> hxs_prog__open_stack() -> loop { line on stdin? run_cmd() : hxs_stack__poll(20) }
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hxs/hxs.h"
#include "app/prog.h"

#define MAX_FDS 1024
#define CHUNK   65536

static volatile sig_atomic_t stop;
static struct hxs_stack *st;
static uint64_t tx_off[MAX_FDS], rx_off[MAX_FDS];

static uint8_t pat(uint64_t o)
{
	return (uint8_t)(o * 131 + 7);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void say_err(int err, const char *what)
{
	const char *name = strerrorname_np(-err);

	say("err %s %s", name ? name : "?", what);
}

static int fd_arg(const char *s)
{
	int fd = s ? atoi(s) : -1;

	return fd >= 0 && fd < MAX_FDS ? fd : -1;
}

static int cmd_socket(const char *kind)
{
	struct timeval tv = { .tv_sec = 20 };
	int type = kind && !strcmp(kind, "udp") ? SOCK_DGRAM : SOCK_STREAM;
	int fd = hxs_socket(st, AF_INET, type, 0), one = 1;

	if (fd < 0)
		return fd;
	if (fd >= MAX_FDS) {
		hxs_close(st, fd);
		return -EMFILE;
	}
	hxs_setsockopt(st, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	hxs_setsockopt(st, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	hxs_setsockopt(st, fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	tx_off[fd] = rx_off[fd] = 0;
	say("ok %d", fd);
	return 0;
}

static int cmd_connect(int fd, const char *ip, const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET }, l;
	socklen_t len = sizeof(l);
	int err;

	if (!ip || !port || inet_pton(AF_INET, ip, &a.sin_addr) != 1)
		return -EINVAL;
	a.sin_port = htons((uint16_t)atoi(port));
	err = hxs_connect(st, fd, (struct sockaddr *)&a, sizeof(a));
	if (!err)
		err = hxs_getsockname(st, fd, (struct sockaddr *)&l, &len);
	if (!err)
		say("ok %u", ntohs(l.sin_port));
	return err;
}

static int cmd_send(int fd, long n)
{
	static uint8_t buf[CHUNK];
	long done = 0;

	while (done < n) {
		size_t k = n - done < CHUNK ? (size_t)(n - done) : CHUNK;
		ssize_t r;

		for (size_t i = 0; i < k; i++)
			buf[i] = pat(tx_off[fd] + i);
		r = hxs_send(st, fd, buf, k, 0);
		if (r < 0)
			return (int)r;
		tx_off[fd] += (uint64_t)r;
		done += r;
	}
	say("ok %ld", done);
	return 0;
}

static int cmd_recv(int fd, long n)
{
	static uint8_t buf[CHUNK];
	long done = 0;

	while (done < n) {
		size_t k = n - done < CHUNK ? (size_t)(n - done) : CHUNK;
		ssize_t r = hxs_recv(st, fd, buf, k, 0);

		if (r < 0)
			return (int)r;
		if (r == 0) {
			say("err EOF after %ld of %ld bytes", done, n);
			return 1;
		}
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != pat(rx_off[fd] + (uint64_t)i)) {
				say("err EBADMSG byte at offset %llu is %u, not %u",
				    (unsigned long long)(rx_off[fd] + (uint64_t)i), buf[i],
				    pat(rx_off[fd] + (uint64_t)i));
				return 1;
			}
		rx_off[fd] += (uint64_t)r;
		done += r;
	}
	say("ok %ld", done);
	return 0;
}

static int cmd_info(int fd)
{
	struct hxs_tcp_info ti;
	socklen_t len = sizeof(ti);
	int err = hxs_getsockopt(st, fd, IPPROTO_TCP, TCP_INFO, &ti, &len);

	if (err)
		return err;
	say("ok state=%u rtt_us=%u rttvar_us=%u cwnd=%u mss=%u segs_out=%llu segs_in=%llu "
	    "bytes_acked=%llu bytes_received=%llu total_retrans=%llu",
	    ti.state, ti.rtt_us, ti.rttvar_us, ti.snd_cwnd, ti.snd_mss,
	    (unsigned long long)ti.segs_out, (unsigned long long)ti.segs_in,
	    (unsigned long long)ti.bytes_acked, (unsigned long long)ti.bytes_received,
	    (unsigned long long)ti.total_retrans);
	return 0;
}

static int cmd_name(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	char ip[INET_ADDRSTRLEN];
	int err = hxs_getsockname(st, fd, (struct sockaddr *)&a, &len);

	if (err)
		return err;
	inet_ntop(AF_INET, &a.sin_addr, ip, sizeof(ip));
	say("ok %s:%u", ip, ntohs(a.sin_port));
	return 0;
}

/* Runs one command line; 1 when it was quit. */
static int run_cmd(char *line)
{
	char *argv[8] = { 0 }, *save = NULL;
	int argc = 0, err = 0, fd;

	for (char *t = strtok_r(line, " \t\r", &save); t && argc < 8; t = strtok_r(NULL, " \t\r", &save))
		argv[argc++] = t;
	if (!argc)
		return 0;
	fd = fd_arg(argv[1]);
	if (!strcmp(argv[0], "quit")) {
		say("ok");
		return 1;
	} else if (!strcmp(argv[0], "socket")) {
		err = cmd_socket(argv[1]);
	} else if (fd < 0) {
		err = -EBADF;
	} else if (!strcmp(argv[0], "bind")) {
		struct sockaddr_in a = { .sin_family = AF_INET };

		a.sin_port = htons((uint16_t)(argv[2] ? atoi(argv[2]) : 0));
		err = hxs_bind(st, fd, (struct sockaddr *)&a, sizeof(a));
		if (!err)
			say("ok");
	} else if (!strcmp(argv[0], "listen")) {
		err = hxs_listen(st, fd, 128);
		if (!err)
			say("ok");
	} else if (!strcmp(argv[0], "connect")) {
		err = cmd_connect(fd, argv[2], argv[3]);
	} else if (!strcmp(argv[0], "accept")) {
		struct sockaddr_in a;
		socklen_t len = sizeof(a);
		char ip[INET_ADDRSTRLEN];
		int c = hxs_accept(st, fd, (struct sockaddr *)&a, &len);

		if (c >= MAX_FDS) {
			hxs_close(st, c);
			c = -EMFILE;
		}
		err = c < 0 ? c : 0;
		if (c >= 0) {
			tx_off[c] = rx_off[c] = 0;
			inet_ntop(AF_INET, &a.sin_addr, ip, sizeof(ip));
			say("ok %d %s:%u", c, ip, ntohs(a.sin_port));
		}
	} else if (!strcmp(argv[0], "send")) {
		err = cmd_send(fd, argv[2] ? atol(argv[2]) : 0);
	} else if (!strcmp(argv[0], "recv")) {
		err = cmd_recv(fd, argv[2] ? atol(argv[2]) : 0);
	} else if (!strcmp(argv[0], "info")) {
		err = cmd_info(fd);
	} else if (!strcmp(argv[0], "name")) {
		err = cmd_name(fd);
	} else if (!strcmp(argv[0], "close")) {
		err = hxs_close(st, fd);
		if (!err)
			say("ok");
	} else {
		say("err EINVAL unknown command %s", argv[0]);
	}
	if (err < 0)
		say_err(err, argv[0]);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		HXS_PROG_OPT_IFACE, HXS_PROG_OPT_ATTACH, { NULL, 0, NULL, 0 },
	};
	struct hxs_prog p = { .name = "sockctl", .port = -1 };
	static char line[4096];
	size_t used = 0;
	int c, quit = 0;

	while ((c = getopt_long(argc, argv, "i:a:", lopts, NULL)) != -1)
		if (hxs_prog__opt(&p, c, optarg) <= 0) {
			fprintf(stderr, "usage: sockctl -i IFACE [-a MODE]\n");
			return 2;
		}
	if (!p.stack.ifname) {
		fprintf(stderr, "usage: sockctl -i IFACE [-a MODE]\n");
		return 2;
	}
	hxs_prog__catch_stop(&stop, HXS_PROG_NO_SIGPIPE);
	if (hxs_prog__open_stack(&p, &st))
		return 1;
	hxs_prog__ready(&p, NULL, "%s", hxs_stack__describe(st));

	while (!stop && !quit) {
		struct pollfd in = { .fd = 0, .events = POLLIN };
		char *nl;

		if (poll(&in, 1, 0) > 0) {
			ssize_t r = read(0, line + used, sizeof(line) - 1 - used);

			if (r <= 0)
				break;          /* stdin closed: the test is gone */
			used += (size_t)r;
			line[used] = 0;
			while (!quit && (nl = strchr(line, '\n'))) {
				*nl = 0;
				quit = run_cmd(line);
				used -= (size_t)(nl + 1 - line);
				memmove(line, nl + 1, used + 1);
			}
			if (used == sizeof(line) - 1)
				used = 0;       /* a line longer than the buffer: dropped */
			continue;
		}
		c = hxs_stack__poll(st, 20);
		if (c < 0 && c != -EINTR)
			break;
	}
	hxs_prog__close_stack(st, 1);
	return 0;
}
