/* pd_init.c - packetdrill_interface_init(): the packetdrill target's one exported symbol.
 *
 * packetdrill_interface_init(flags, ifc)   on packetdrill's main thread, once:
 *   parse_flags()          --so_flags: "local_ip=A gateway_ip=G netmask_ip=M prefix6=N
 *                          mtu=N trace" (spaces or commas between; every key optional;
 *                          local_ip and gateway_ip take an IPv4 or an IPv6 address and
 *                          set that family's, prefix6 the IPv6 on-link prefix length)
 *   hxs_io_mem__open()     one end of the in-memory Ethernet link (the other end is us)
 *   hxs_stack__open_io()   the stack at local_ip/prefix with the static control plane: the
 *                          gateway its only neighbour, so packetdrill's remote addresses
 *                          (192.0.2.0/24, off-link) go through it; the same for IPv6 (both
 *                          families always: the script's --ip_version picks what it sends,
 *                          ipv4-mapped-ipv6 is IPv4 on the wire to AF_INET6 sockets)
 *   hxs_stack__set_cc()    CUBIC, the algorithm the scripts' windows are CUBIC's (unless HXS_CC)
 *   hxs_stack__set_clock() the virtual clock (pd_time.c), before any timer is armed
 *   hxs_fdtab__new()       kernel fd numbers for the script's sockets
 *   *ifc = { pd_socket, ... }
 * pd_free()                at packetdrill's exit: what is left of the table (packetdrill has
 *                          closed the script's fds with libc's close() by then, so most
 *                          entries are stale and their hxs sockets just go), the stack, the link
 *
 * Defaults are the addresses scripts/packetdrill.sh gives packetdrill: local 192.168.0.2 in
 * 192.168.0.0/16 behind gateway 192.168.0.1, MTU 1500; IPv6 fd3d:fa7b:d17d::2 in packetdrill's
 * fd3d:fa7b:d17d::/48 behind gateway fd3d:fa7b:d17d:8888::1 (packetdrill's IPv6 remote end,
 * 2001:db8::1, is off-link). packetdrill does not tell the library its --ip_version or its
 * addresses, and picks a random local address in its prefix unless it is given --local_ip:
 * run packetdrill with --local_ip equal to the stack's (netdev_send says so when a packet
 * is addressed elsewhere).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/io.h"
#include "open/stack_open.h"
#include "pd.h"

static const uint8_t stack_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t gateway_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static __attribute__((noreturn)) void die(const char *what, int err)
{
	fprintf(stderr, "hxs-packetdrill: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static int parse_addr(const char *v, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, v, &a) != 1)
		return -EINVAL;
	*out = a.s_addr;
	return 0;
}

/* An IPv4 address into out4, an IPv6 one into out6. */
static int parse_addr46(const char *v, uint32_t *out4, uint8_t out6[16])
{
	return inet_pton(AF_INET6, v, out6) == 1 ? 0 : parse_addr(v, out4);
}

static int prefix_of(uint32_t mask)
{
	uint32_t m = ntohl(mask);
	int n = 0;

	while (m & 0x80000000u) {
		n++;
		m <<= 1;
	}
	return m ? -EINVAL : n;
}

static void parse_flags(struct pd *pd, const char *flags, uint32_t *gw, uint8_t gw6[16])
{
	char *copy = strdup(flags ? flags : ""), *save = NULL, *tok;
	uint32_t mask;
	int n;

	if (!copy)
		die("flags", ENOMEM);
	for (tok = strtok_r(copy, " ,", &save); tok; tok = strtok_r(NULL, " ,", &save)) {
		char *v = strchr(tok, '=');
		int err = 0;

		if (v)
			*v++ = '\0';
		if (!strcmp(tok, "trace") && !v) {
			pd->trace = 1;
		} else if (v && !strcmp(tok, "local_ip")) {
			err = parse_addr46(v, &pd->cfg.addr, pd->cfg.addr6);
		} else if (v && !strcmp(tok, "gateway_ip")) {
			err = parse_addr46(v, gw, gw6);
		} else if (v && !strcmp(tok, "prefix6")) {
			n = atoi(v);
			err = n < 1 || n > 128 ? -EINVAL : 0;
			pd->cfg.prefix6_len = (uint8_t)n;
		} else if (v && !strcmp(tok, "netmask_ip")) {
			err = parse_addr(v, &mask);
			n = err ? -EINVAL : prefix_of(mask);
			err = n < 0 ? n : 0;
			if (!err)
				pd->cfg.prefix_len = (uint8_t)n;
		} else if (v && !strcmp(tok, "mtu")) {
			n = atoi(v);
			err = n < 576 || n > PD_FRAME_SIZE - 14 ? -EINVAL : 0;
			pd->cfg.mtu = (uint32_t)n;
		} else {
			err = -EINVAL;
		}
		if (err) {
			fprintf(stderr, "hxs-packetdrill: --so_flags: bad '%s%s%s' (keys: local_ip="
				" gateway_ip= netmask_ip= prefix6= mtu= trace)\n", tok, v ? "=" : "", v ? v : "");
			exit(1);
		}
	}
	free(copy);
}

static void pd_free(void *u)
{
	struct pd *pd = u;

	pthread_mutex_lock(&pd->mu);
	hxs_fdtab__free(pd->fds, pd_drop, pd);
	hxs_stack__close(pd->st);
	pd->io->ops->close(pd->io);
	pd_out_free(pd);
	pthread_mutex_unlock(&pd->mu);
	pthread_cond_destroy(&pd->cv);
	pthread_cond_destroy(&pd->settle_cv);
	pthread_mutex_destroy(&pd->mu);
	free(pd);
}

__attribute__((visibility("default")))
void packetdrill_interface_init(const char *flags, struct pd_interface *ifc)
{
	struct pd *pd = calloc(1, sizeof(*pd));
	uint32_t gw = 0;
	uint8_t gw6[16];
	int err;

	if (!pd)
		die("init", ENOMEM);
	pthread_mutex_init(&pd->mu, NULL);
	pthread_cond_init(&pd->cv, NULL);
	pthread_cond_init(&pd->settle_cv, NULL);
	pd->now = PD_EPOCH_US;
	pd->main_tid = gettid();
	pd->out_tail = &pd->out_head;
	parse_addr("192.168.0.2", &pd->cfg.addr);
	parse_addr("192.168.0.1", &gw);
	pd->cfg.prefix_len = 16;
	pd->cfg.mtu = 1500;
	inet_pton(AF_INET6, "fd3d:fa7b:d17d::2", pd->cfg.addr6);
	inet_pton(AF_INET6, "fd3d:fa7b:d17d:8888::1", gw6);
	pd->cfg.prefix6_len = 48;
	parse_flags(pd, flags, &gw, gw6);
	memcpy(pd->cfg.mac, stack_mac, 6);
	memcpy(pd->gw_mac, gateway_mac, 6);
	pd->cfg.gateway = gw;
	pd->cfg.n_neigh = 1;
	pd->cfg.neigh[0].ip = gw;
	memcpy(pd->cfg.neigh[0].mac, gateway_mac, 6);
	memcpy(pd->cfg.gateway6, gw6, 16);
	pd->cfg.n_neigh6 = 1;
	memcpy(pd->cfg.neigh6[0].ip, gw6, 16);
	memcpy(pd->cfg.neigh6[0].mac, gateway_mac, 6);

	err = hxs_io_mem__open(&pd->io, PD_FRAMES, PD_FRAME_SIZE);
	if (err)
		die("in-memory link", err);
	err = hxs_stack__open_io(&pd->st, pd->io, &pd->cfg);
	if (err)
		die("stack", err);
	/* The scripts state CUBIC's and NewReno's windows (as Linux's own packetdrill scripts
	 * assume its default, CUBIC): CUBIC unless HXS_CC names another; a script on another
	 * algorithm sets TCP_CONGESTION (tests/pkt/cc/). */
	if (!getenv("HXS_CC")) {
		err = hxs_stack__set_cc(pd->st, "cubic");
		if (err)
			die("congestion control", err);
	}
	/* ... and a 256 KiB buffer's windows and window scale (3), the core's own default:
	 * hxs's sockets elsewhere take 4 / 6 MiB, Linux's autotuning maximum */
	err = hxs_stack__set_tcp_bufs(pd->st, 256 * 1024, 256 * 1024);
	if (err)
		die("TCP buffers", err);
	err = hxs_stack__set_clock(pd->st, pd_clock, pd);
	if (err)
		die("virtual clock", err);
	err = hxs_fdtab__new(&pd->fds, 0, pd_drop, pd);
	if (err)
		die("fd table", err);

	memset(ifc, 0, sizeof(*ifc));
	ifc->userdata = pd;
	ifc->free = pd_free;
	ifc->socket = pd_socket;
	ifc->bind = pd_bind;
	ifc->listen = pd_listen;
	ifc->accept = pd_accept;
	ifc->connect = pd_connect;
	ifc->read = pd_read;
	ifc->readv = pd_readv;
	ifc->recv = pd_recv;
	ifc->recvfrom = pd_recvfrom;
	ifc->recvmsg = pd_recvmsg;
	ifc->write = pd_write;
	ifc->writev = pd_writev;
	ifc->send = pd_send;
	ifc->sendto = pd_sendto;
	ifc->sendmsg = pd_sendmsg;
	ifc->fcntl = pd_fcntl;
	ifc->ioctl = pd_ioctl;
	ifc->close = pd_close;
	ifc->shutdown = pd_shutdown;
	ifc->getsockopt = pd_getsockopt;
	ifc->setsockopt = pd_setsockopt;
	ifc->poll = pd_poll;
	ifc->netdev_send = pd_netdev_send;
	ifc->netdev_receive = pd_netdev_receive;
	ifc->usleep = pd_usleep;
	ifc->gettimeofday = pd_gettimeofday;
	ifc->epoll_create = pd_epoll_create;
	ifc->epoll_ctl = pd_epoll_ctl;
	ifc->epoll_wait = pd_epoll_wait;
	ifc->pipe = pd_pipe;
	ifc->splice = pd_splice;
}
