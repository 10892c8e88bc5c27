/* stack_open.c - a stack assembled from its layers: the one place that knows them all.
 *
 * hxs_stack__open()    -> hxs_netif__open()       address, prefix, MAC, MTU (rtnetlink)
 *                      -> hxs_xdp__open()         attach (libxdp) or adopt (ip link) the program
 *                      -> hxs_xsk__open()         UMEM + one AF_XDP socket per queue, each put in
 *                                                 the program's XSK map
 *                      -> hxs_napi__thread()      opts->napi_thread: the interface's NAPI
 *                                                 threaded and pinned (busy loop then yields)
 *                      -> stack_assemble()        (below), control plane hxs_ctl_kernel
 *                      -> the loop sleeps on the xsk and netlink fds (hxs_stack__watch_fd;
 *                                                 a busy loop: the xsk fd only once the
 *                                                 application asks for hxs_stack__fd())
 *                      -> ephemeral range outside the kernel's ip_local_port_range
 *                      -> hxs_stats_pub__open()   the region `hxs stat`/`hxs ss` read, a poller
 * hxs_stack__open_io() -> stack_assemble() on the caller's io, control plane hxs_ctl_static
 *                      -> the loop sleeps on the io's fd if it has one (hxs_stack__watch_fd)
 * stack_assemble()     -> hxs_stack__init()       net: clock, wheel, counters
 *                      -> hxs_socket__init()      sock: descriptors, ports, epoll
 *                      -> hxs_udp__attach()       SOCK_DGRAM + the IPPROTO_UDP input
 *                      -> hxs_tcp_sock__attach()  SOCK_STREAM (the core comes with the first socket
 *                                                 or the first segment)
 * hxs_stack__close()   -> statistics, threaded NAPI off (if open turned it on), epoll
 *                         instances, every socket (TCP sends its RSTs), what TCP kept past
 *                         its descriptors, the socket table, then the net layer:
 *                         pending frames, TX batch, the control plane (AF_XDP sockets, the XDP
 *                         program if hxs attached it, netlink)
 * opts->bpf_obj is not used: xdp_ctl loads the program from its compiled-in skeleton.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/napi.h"
#include "ctl/pmtu_watch.h"
#include "hxs/xdp.h"
#include "io/xsk.h"
#include "net/ip.h"
#include "sock/sock.h"
#include "stack_open.h"
#include "sock/tcp_sock.h"
#include "stats/stats_pub.h"

#define HXS_XDP_PLAIN_MAX_MTU 3400  /* above it, attach the xdp.frags program */

/* A stack and what only the assembly holds. st comes first: hxs_stack__close() gets it back
 * from the public pointer. */
struct stack_box {
	struct hxs_stack st;
	struct hxs_stats_pub *pub;          /* NULL on open_io, or when the region failed */
	char napi_if[IF_NAMESIZE];          /* made threaded by open (napi_thread); "": no */
};

static struct stack_box *box_of(struct hxs_stack *st)
{
	return (struct stack_box *)st;
}

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

/* HXS_FASTPATH=0 turns the XDP ACK fast path off (any other value, or none, leaves it on). */
static void pick_fastpath(struct hxs_stack *st, int off)
{
	const char *env = getenv("HXS_FASTPATH");

	if (off || (env && !strcmp(env, "0")))
		hxs_stack__fastpath(st, 0);
}

/* A setting 0, 1 or 2 from the environment: -1 unset, -EINVAL malformed. */
static int env_012(const char *name)
{
	const char *env = getenv(name);

	if (!env)
		return -1;
	if (strlen(env) != 1 || env[0] < '0' || env[0] > '2')
		return -EINVAL;
	return env[0] - '0';
}

/* HXS_ECN=0|1|2 sets the stack's tcp_ecn (hxs_stack__set_ecn); unset: Linux's default 2.
 * HXS_MTU_PROBING=0|1|2 its tcp_mtu_probing (hxs_stack__set_mtu_probing); unset: Linux's 0. */
static int pick_ecn(struct hxs_stack *st)
{
	int v = env_012("HXS_ECN"), err = 0;

	if (v != -1)
		err = v < 0 ? v : hxs_stack__set_ecn(st, v);
	v = env_012("HXS_MTU_PROBING");
	if (!err && v != -1)
		err = v < 0 ? v : hxs_stack__set_mtu_probing(st, v);
	return err;
}

/* HXS_CC names TCP's default congestion control (an unknown name is an error, as a mistyped
 * setting should be); HXS_PACING=1 paces every connection. */
static int pick_cc(struct hxs_stack *st)
{
	const char *cc = getenv("HXS_CC"), *pacing = getenv("HXS_PACING");

	if (pacing && !strcmp(pacing, "1"))
		hxs_stack__set_pacing(st, 1);
	return cc && *cc ? hxs_stack__set_cc(st, cc) : 0;
}

/* The slots of the program's HXS_MAP_SLOTS and its doorbell in the loop's epoll set. Without
 * them (an older program adopted) the stack runs without the fast path. The ephemeral-port
 * table (HXS_MAP_EPH) too: without it every connection is steered by its conn entry. */
static void kernel_slots(struct hxs_stack *st)
{
	struct hxs_slot *slots;
	__u32 n;
	int fd;

	if (hxs_xdp__eph(st->xdp, &st->eph))
		st->eph = NULL;
	if (hxs_xdp__slots(st->xdp, &slots, &n) || hxs_stack__slots_init(st, slots, n, 0))
		return;
	fd = hxs_xdp__wake_fd(st->xdp);
	if (fd >= 0 && !hxs_stack__watch_fd(st, fd, 0))
		st->wake_fd = fd;
}

static int stats_poll(void *ctx, uint64_t now, int events)
{
	hxs_stats_pub__tick(ctx, now, events);
	return 0;
}

/* Everything both constructors share; st->ctl, io, address, MAC and MTU are set. */
static int stack_assemble(struct hxs_stack *st)
{
	int err = hxs_stack__init(st);

	if (!err)
		err = hxs_socket__init(st);
	if (!err)
		err = hxs_udp__attach(st);
	if (!err)
		err = hxs_tcp_sock__attach(st);
	return err;
}

/* The socket layer down, then the net layer (and with it the control plane and io). */
static void stack_disassemble(struct hxs_stack *st)
{
	struct stack_box *b = box_of(st);

	if (b->pub) {
		hxs_stack__del_poller(st, b->pub);
		hxs_stats_pub__close(b->pub);
		b->pub = NULL;
	}
	if (b->napi_if[0]) {
		/* while XDP is still attached: without NAPI instances the write is refused */
		hxs_napi__unthread(b->napi_if);
		b->napi_if[0] = '\0';
	}
	st->closing = 1;
	if (st->sockets) {
		hxs_epoll__close_all(st);
		hxs_socket__close_all(st);
		hxs_tcp_sock__fini(st);
		hxs_socket__fini(st);
	}
	hxs_stack__fini(st);
}

int hxs_stack__open_io(struct hxs_stack **out, struct hxs_io *io, const struct hxs_netif_static *cfg)
{
	struct stack_box *b;
	struct hxs_stack *st;
	struct in_addr a;
	int err;

	if (!io || !cfg || !cfg->addr || cfg->n_neigh > HXS_STATIC_NEIGH_MAX ||
	    cfg->n_neigh6 > HXS_STATIC_NEIGH_MAX || cfg->prefix6_len > 128 ||
	    cfg->n_refuse > HXS_STATIC_REFUSE_MAX)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	st = &b->st;
	st->ctl = &hxs_ctl_static;
	st->io = io;
	st->scfg = *cfg;
	st->addr = cfg->addr;
	st->prefix_len = cfg->prefix_len;
	memcpy(st->addr6, cfg->addr6, 16);
	memcpy(st->ll6, cfg->ll6, 16);
	st->prefix6_len = cfg->prefix6_len;
	memcpy(st->mac, cfg->mac, 6);
	st->mtu = cfg->mtu ? cfg->mtu : 1500;
	if (st->mtu > io->frame_size - HXS_ETH_HLEN)
		st->mtu = io->frame_size - HXS_ETH_HLEN;
	err = stack_assemble(st);
	pick_fastpath(st, 0);
	if (!err)
		err = pick_ecn(st);
	if (!err)
		err = pick_cc(st);
	if (!err)
		err = hxs_ctl_static__attach(st);
	/* the loop sleeps on the io's fd when it has one (io_mem's eventfd) */
	if (!err)
		err = hxs_stack__watch_fd(st, io->ops->poll_fd(io), 0);
	if (err) {
		stack_disassemble(st);
		free(b);
		return err;
	}
	a.s_addr = st->addr;
	snprintf(st->desc, sizeof(st->desc), "%s link, %s/%u, mtu %u", io->ops->name, inet_ntoa(a),
		 st->prefix_len, st->mtu);
	*out = st;
	return 0;
}

int hxs_stack__open(struct hxs_stack **out, const struct hxs_stack_opts *opts)
{
	struct hxs_xdp_opts xo = { 0 };
	struct hxs_xsk_opts ko = HXS_XSK_OPTS_DEFAULT;
	struct stack_box *b;
	struct hxs_stack *st;
	struct in_addr a;
	const char *name;
	int err;

	if (!opts || !opts->ifname)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	st = &b->st;
	st->ctl = &hxs_ctl_kernel;
	st->busy_poll = !!opts->busy_poll;
	st->reserve_kernel_ports = 1;
	/* a handshake's or FIN's ACK waits a turn for the application's answer (tcp.h) */
	st->ack_defer = !(getenv("HXS_ACK_DEFER") && !strcmp(getenv("HXS_ACK_DEFER"), "0"));
	err = stack_assemble(st);
	if (err)
		goto disassemble;
	err = pick_port_range(st);
	if (err)
		goto disassemble;

	err = hxs_netif__open(&st->nif, opts->ifname);
	if (err)
		goto disassemble;
	if (!st->nif->addr) {
		err = -EADDRNOTAVAIL;
		goto disassemble;
	}
	st->addr = st->nif->addr;
	st->prefix_len = st->nif->prefix_len;
	memcpy(st->addr6, st->nif->addr6, 16);
	memcpy(st->ll6, st->nif->ll6, 16);
	st->prefix6_len = st->nif->prefix6_len;
	hxs_netif__set_neigh6_cb(st->nif, hxs_ctl_kernel__neigh6_cb, st);
	st->mtu = st->nif->mtu;
	memcpy(st->mac, st->nif->mac, 6);
	/* ICMP "fragmentation needed" about our TCP segments kept by the kernel (needs
	 * CAP_NET_RAW; without it PMTU rests on probing alone, RFC 4821) */
	st->pmtu_fd = hxs_pmtu_watch__open();
	if (st->pmtu_fd < 0) {
		if (opts->verbose)
			fprintf(stderr, "hxs: no path MTU watcher: %s\n", strerror(-st->pmtu_fd));
		st->pmtu_fd = -1;
	}

	xo.attach = opts->attach;
	xo.verbose = opts->verbose;
	/* veth (and most drivers) refuse a plain XDP program above ~3500 bytes of MTU: load the
	 * xdp.frags variant there. Frames larger than one AF_XDP frame travel as multi-buffer
	 * chains (XDP_USE_SG) when the kernel allows it, else the MTU is clamped below. */
	xo.frags = st->nif->mtu > HXS_XDP_PLAIN_MAX_MTU;
	err = hxs_xdp__open(&st->xdp, opts->ifname, &xo);
	if (err)
		goto disassemble;

	ko.nqueues = opts->queues ? opts->queues : rx_queues(opts->ifname);
	if (ko.nqueues > HXS_MAX_QUEUES)
		ko.nqueues = HXS_MAX_QUEUES;
	ko.frames = opts->frames ? opts->frames * ko.nqueues : 0;
	ko.xsks_map_fd = hxs_xdp__map_fd(st->xdp, HXS_MAP_XSKS);
	if (ko.xsks_map_fd < 0) {
		err = ko.xsks_map_fd;
		goto disassemble;
	}
	if (opts->busy_poll)
		ko.busy_poll_us = 20;
	/* a frame above one UMEM frame (4096 - XDP_PACKET_HEADROOM): multi-buffer */
	const char *mb_env = getenv("HXS_MULTIBUF");
	if (st->mtu + HXS_ETH_HLEN > 4096 - 256 && !opts->no_multibuf &&
	    !(mb_env && !strcmp(mb_env, "0")))
		ko.max_frame = st->mtu + HXS_ETH_HLEN;
	err = hxs_xsk__open(&st->io, opts->ifname, &ko);
	if (err && ko.max_frame) {
		fprintf(stderr, "hxs: %s: AF_XDP multi-buffer (XDP_USE_SG) refused: %s; "
			"single frames, MTU clamped to %u\n", opts->ifname, strerror(-err),
			4096 - 256 - HXS_ETH_HLEN);
		ko.max_frame = 0;
		err = hxs_xsk__open(&st->io, opts->ifname, &ko);
	}
	if (err)
		goto disassemble;
	if (st->io->flags & HXS_IO_F_MULTIBUF) {
		if (st->mtu > st->io->frame_size - HXS_ETH_HLEN)
			st->mtu = st->io->frame_size - HXS_ETH_HLEN;
		if (opts->verbose)
			fprintf(stderr, "hxs: AF_XDP multi-buffer: frames up to %u bytes\n",
				st->io->frame_size);
	} else if (st->mtu > st->io->frame_size - 256 - HXS_ETH_HLEN) {
		st->mtu = st->io->frame_size - 256 - HXS_ETH_HLEN;
	}

	if (opts->napi_thread) {
		/* The XDP program is attached, so the veth has its NAPI instances now. */
		err = strlen(opts->ifname) < sizeof(b->napi_if) ?
		      hxs_napi__thread(opts->ifname, opts->napi_cpu) : -EINVAL;
		if (err < 0) {
			fprintf(stderr, "hxs: %s: threaded NAPI on CPU %d: %s\n", opts->ifname,
				opts->napi_cpu, strerror(-err));
			goto disassemble;
		}
		strcpy(b->napi_if, opts->ifname);
		/* a NAPI thread may share our CPU: a busy loop gives it the CPU when idle */
		st->busy_yield = st->busy_poll;
	}
	/* a busy loop never sleeps on the xsk fd: it joins the loop's set only if the
	 * application asks for hxs_stack__fd() (stack.h, io_fd_lazy) */
	err = 0;
	if (st->busy_poll)
		st->io_fd_lazy = 1;
	else
		err = hxs_stack__watch_fd(st, st->io->ops->poll_fd(st->io), 0);
	if (!err)
		err = hxs_stack__watch_fd(st, st->nif->nl_fd, 1);
	if (err)
		goto disassemble;
	pick_fastpath(st, opts->no_fastpath);
	err = pick_cc(st);
	if (err)
		goto disassemble;
	kernel_slots(st);
	err = pick_ecn(st);
	if (err)
		goto disassemble;

	a.s_addr = st->addr;
	snprintf(st->desc, sizeof(st->desc), "%s %s, %u queue(s), %s mode, %s", opts->ifname,
		 inet_ntoa(a), st->io->nqueues, hxs_xsk__mode(st->io), hxs_xdp__describe(st->xdp));
	if (opts->verbose)
		fprintf(stderr, "hxs: %s; ephemeral ports %u-%u\n", st->desc, st->eph_lo, st->eph_hi);
	/* Statistics for `hxs stat` / `hxs ss`: useful, not vital; the stack runs without. */
	name = opts->stats_name ? opts->stats_name : opts->ifname;
	err = hxs_stats_pub__open(&b->pub, st, NULL, name, opts->ifname);
	if (!err && hxs_stack__add_poller(st, &(struct hxs_poller){ stats_poll, NULL, b->pub })) {
		hxs_stats_pub__close(b->pub);
		err = -ENOSPC;
	}
	if (err) {
		b->pub = NULL;
		fprintf(stderr, "hxs: statistics region for %s: %s\n", name, strerror(-err));
	}
	*out = st;
	return 0;

disassemble:
	/* the control plane's close (hxs_ctl_kernel) closes what was opened: io, XDP, netlink */
	stack_disassemble(st);
	free(b);
	return err;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The kernel keeps a closed socket's connection retransmitting after its process exits; a
 * stack that goes away takes its connections with it. So before it does, it runs on until
 * the connections the application already closed have their data and FIN acknowledged, at
 * most HXS_CLOSE_DRAIN_MS (environment; default 2000, 0: no wait). Without it a client that
 * writes, closes and exits lost its last segments to one dropped frame: the peer got a RST
 * instead (a stack on a simulated clock does not wait: its time only moves when the test
 * moves it). */
static void stack_drain(struct hxs_stack *st)
{
	const char *env = getenv("HXS_CLOSE_DRAIN_MS");
	uint64_t ms = env && *env ? strtoull(env, NULL, 10) : HXS_CLOSE_DRAIN_MS, end;

	if (!ms || st->clock || !st->sockets || !hxs_tcp_sock__owing(st))
		return;
	end = mono_ms() + ms;
	while (hxs_tcp_sock__owing(st) && mono_ms() < end)
		hxs_stack__poll(st, 10);
}

void hxs_stack__close(struct hxs_stack *st)
{
	if (!st)
		return;
	stack_drain(st);
	stack_disassemble(st);
	free(box_of(st));
}
