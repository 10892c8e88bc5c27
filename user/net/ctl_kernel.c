/* stack_hw.c - hxs_stack__open(): a stack on a real interface, the kernel's control plane.
 *
 * hxs_stack__open() -> hxs_netif__open()      address, prefix, MAC, MTU (rtnetlink)
 *                   -> hxs_xdp__open()        attach (libxdp) or adopt (ip link) the program
 *                   -> hxs_xsk__open()        UMEM + one AF_XDP socket per queue, each put in
 *                                             the program's XSK map
 *                   -> epoll set over the xsk and netlink fds (hxs_stack__fd)
 *                   -> ephemeral range outside the kernel's ip_local_port_range
 * opts->bpf_obj is not used: xdp_ctl loads the program from its compiled-in skeleton.
 * close: sockets first (their bind entries go), then the AF_XDP sockets (the kernel clears
 * their XSK map entries), then hxs_xdp__close() (detaches only what it attached; an
 * operator's `ip link ... xdp obj` program stays exactly as it was), then netlink.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sock/sock.h"
#include "stack.h"
#include "stats/stats_pub.h"

#define HXS_XDP_PLAIN_MAX_MTU 3400  /* above it, attach the xdp.frags program */
#include "ctl/xdp_ctl.h"
#include "io/xsk.h"

/* The caches' clock in ns: the turn's one reading of CLOCK_MONOTONIC (0 lets netif read it
 * when the stack runs on another clock). */
static uint64_t hw_now_ns(const struct hxs_stack *st)
{
	return st->clock ? 0 : hxs_stack__now(st) * 1000u;
}

static int hw_route(struct hxs_stack *st, uint32_t dst, uint32_t *nh)
{
	return hxs_netif__route_at(st->nif, dst, nh, hw_now_ns(st));
}

static int hw_resolve(struct hxs_stack *st, uint32_t ip, uint8_t mac[6])
{
	return hxs_neigh__resolve_at(st->nif, ip, mac, hw_now_ns(st));
}

static void hw_neigh_cb(void *ctx, uint32_t ip, enum hxs_neigh_event ev, const uint8_t mac[6])
{
	hxs_stack__neigh_event(ctx, ip, ev, mac);
}

static int hw_poll(struct hxs_stack *st)
{
	int n = hxs_netif__poll(st->nif, hw_neigh_cb, st);

	return n > 0 ? n : 0;
}

static int hw_own_bind(struct hxs_stack *st, uint32_t addr, uint16_t port, uint8_t proto,
		       uint32_t owner, uint32_t flags)
{
	__u8 a[16];

	hxs_addr_v4(a, addr);
	return hxs_xdp__bind_add(st->xdp, a, port, proto, owner, flags);
}

static void hw_disown_bind(struct hxs_stack *st, uint32_t addr, uint16_t port, uint8_t proto)
{
	__u8 a[16];

	hxs_addr_v4(a, addr);
	hxs_xdp__bind_del(st->xdp, a, port, proto);
}

static int hw_own_conn(struct hxs_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
		       uint16_t rport, uint8_t proto, uint32_t conn_id)
{
	__u8 l[16], r[16];

	hxs_addr_v4(l, laddr);
	hxs_addr_v4(r, raddr);
	return hxs_xdp__conn_add(st->xdp, l, lport, r, rport, proto, conn_id);
}

static void hw_disown_conn(struct hxs_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
			   uint16_t rport, uint8_t proto)
{
	__u8 l[16], r[16];

	hxs_addr_v4(l, laddr);
	hxs_addr_v4(r, raddr);
	hxs_xdp__conn_del(st->xdp, l, lport, r, rport, proto);
}

static void hw_print_counters(const struct hxs_stack *st, FILE *fp, int all)
{
	static const char *const names[] = HXS_XDP_STAT_NAMES;
	struct hxs_io_stats s;
	__u64 v[HXS_XDP_STAT_MAX];

	st->io->ops->get_stats(st->io, &s);
	if (all || s.rx_ring_full)
		fprintf(fp, "%-24s %llu\n", "XskRxRingFull", (unsigned long long)s.rx_ring_full);
	if (all || s.fill_empty)
		fprintf(fp, "%-24s %llu\n", "XskFillEmpty", (unsigned long long)s.fill_empty);
	if (all || s.tx_ring_full)
		fprintf(fp, "%-24s %llu\n", "XskTxRingFull", (unsigned long long)s.tx_ring_full);
	if (hxs_xdp__stats(st->xdp, v))
		return;
	for (int i = 0; i < HXS_XDP_STAT_MAX; i++)
		if (all || v[i])
			fprintf(fp, "%-24s %llu\n", names[i], (unsigned long long)v[i]);
}

static void hw_close(struct hxs_stack *st)
{
	if (st->io)
		st->io->ops->close(st->io);
	st->io = NULL;
	if (st->xdp)
		hxs_xdp__close(st->xdp);
	st->xdp = NULL;
	if (st->nif)
		hxs_netif__close(st->nif);
	st->nif = NULL;
}

static const struct hxs_ctl_ops hw_ctl = {
	.route = hw_route,
	.resolve = hw_resolve,
	.poll = hw_poll,
	.own_bind = hw_own_bind,
	.disown_bind = hw_disown_bind,
	.own_conn = hw_own_conn,
	.disown_conn = hw_disown_conn,
	.print_counters = hw_print_counters,
	.close = hw_close,
};

/* Receive queues of the interface (/sys/class/net/IF/queues/rx-N). */
static uint32_t rx_queues(const char *ifname)
{
	char path[128];
	struct dirent *d;
	uint32_t n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	dir = opendir(path);
	if (!dir)
		return 1;
	while ((d = readdir(dir)))
		if (!strncmp(d->d_name, "rx-", 3))
			n++;
	closedir(dir);
	return n ? n : 1;
}

/* hxs's ephemeral range: HXS_PORT_RANGE="lo-hi" if set, else what lies above (or, failing
 * that, below) the kernel's net.ipv4.ip_local_port_range in this namespace. */
static int pick_port_range(struct hxs_stack *st)
{
	const char *env = getenv("HXS_PORT_RANGE");
	unsigned klo = 32768, khi = 60999, lo, hi;
	FILE *fp;

	if (env) {
		if (sscanf(env, "%u-%u", &lo, &hi) != 2 || !lo || lo > hi || hi > 65535)
			return -EINVAL;
		return hxs_stack__set_port_range(st, (uint16_t)lo, (uint16_t)hi);
	}
	fp = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (fp) {
		if (fscanf(fp, "%u %u", &klo, &khi) != 2) {
			klo = 32768;
			khi = 60999;
		}
		fclose(fp);
	}
	if (khi < 65535 - 255)
		return hxs_stack__set_port_range(st, (uint16_t)(khi + 1), 65535);
	if (klo > 1024 + 255)
		return hxs_stack__set_port_range(st, 1024, (uint16_t)(klo - 1));
	return -ERANGE;   /* the kernel took nearly every port: no room for hxs's own */
}

static int epoll_add(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (fd < 0)
		return 0;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int hxs_stack__open(struct hxs_stack **out, const struct hxs_stack_opts *opts)
{
	struct hxs_xdp_opts xo = { 0 };
	struct hxs_xsk_opts ko = HXS_XSK_OPTS_DEFAULT;
	struct hxs_stack *st;
	struct in_addr a;
	const char *name;
	int err;

	if (!opts || !opts->ifname)
		return -EINVAL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->ctl = &hw_ctl;
	st->own_io = 1;
	st->busy_poll = !!opts->busy_poll;
	st->reserve_kernel_ports = 1;
	err = hxs_stack__init(st);
	if (err)
		goto free_st;
	err = pick_port_range(st);
	if (err)
		goto free_st;

	err = hxs_netif__open(&st->nif, opts->ifname);
	if (err)
		goto free_st;
	if (!st->nif->addr) {
		err = -EADDRNOTAVAIL;
		goto close_nif;
	}
	st->addr = st->nif->addr;
	st->prefix_len = st->nif->prefix_len;
	st->mtu = st->nif->mtu;
	memcpy(st->mac, st->nif->mac, 6);

	xo.attach = opts->attach;
	xo.verbose = opts->verbose;
	/* veth (and most drivers) refuse a plain XDP program above ~3500 bytes of MTU: load the
	 * xdp.frags variant there. hxs itself still receives single frames only (its MTU is
	 * clamped to the AF_XDP frame below, so TCP peers never send more than one frame). */
	xo.frags = st->nif->mtu > HXS_XDP_PLAIN_MAX_MTU;
	err = hxs_xdp__open(&st->xdp, opts->ifname, &xo);
	if (err)
		goto close_nif;

	ko.nqueues = opts->queues ? opts->queues : rx_queues(opts->ifname);
	if (ko.nqueues > HXS_MAX_QUEUES)
		ko.nqueues = HXS_MAX_QUEUES;
	ko.frames = opts->frames ? opts->frames * ko.nqueues : 0;
	ko.xsks_map_fd = hxs_xdp__map_fd(st->xdp, HXS_MAP_XSKS);
	if (ko.xsks_map_fd < 0) {
		err = ko.xsks_map_fd;
		goto close_xdp;
	}
	if (opts->busy_poll)
		ko.busy_poll_us = 20;
	err = hxs_xsk__open(&st->io, opts->ifname, &ko);
	if (err)
		goto close_xdp;
	if (st->mtu > st->io->frame_size - 256 - HXS_ETH_HLEN)
		st->mtu = st->io->frame_size - 256 - HXS_ETH_HLEN;

	st->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (st->epfd < 0) {
		err = -errno;
		goto close_io;
	}
	err = epoll_add(st->epfd, st->io->ops->poll_fd(st->io));
	if (!err)
		err = epoll_add(st->epfd, st->nif->nl_fd);
	st->ctl_fd = st->nif->nl_fd;
	if (err)
		goto close_ep;

	a.s_addr = st->addr;
	snprintf(st->desc, sizeof(st->desc), "%s %s, %u queue(s), %s mode, %s", opts->ifname,
		 inet_ntoa(a), st->io->nqueues, hxs_xsk__mode(st->io), hxs_xdp__describe(st->xdp));
	if (opts->verbose)
		fprintf(stderr, "hxs: %s; ephemeral ports %u-%u\n", st->desc, st->eph_lo, st->eph_hi);
	/* Statistics for `hxs stat` / `hxs ss`: useful, not vital; the stack runs without. */
	name = opts->stats_name ? opts->stats_name : opts->ifname;
	err = hxs_stats_pub__open(&st->pub, st, NULL, name, opts->ifname);
	if (err)
		fprintf(stderr, "hxs: statistics region for %s: %s\n", name, strerror(-err));
	*out = st;
	return 0;

close_ep:
	close(st->epfd);
	st->epfd = -1;
close_io:
	st->io->ops->close(st->io);
	st->io = NULL;
close_xdp:
	hxs_xdp__close(st->xdp);
	st->xdp = NULL;
close_nif:
	hxs_netif__close(st->nif);
	st->nif = NULL;
free_st:
	hxs_socket__fini(st);
	hxs_socket__free_ports(st);
	free(st);
	return err;
}
