/* rawudp.c - the raw AF_XDP tools' ends and frames (how a tool uses them: rawudp.h).
 *
 * hxs_rawudp__open()     -> hxs_netif__open() -> hxs_xdp__open() (frags by MTU)
 *                        -> hxs_xsk__open() (into the program's XSK map; max_frame by MTU)
 *                        -> hxs_napi__thread() if asked -> hxs_xdp__bind_add(any IPv4, UDP port)
 * hxs_rawudp__close()    -> hxs_xdp__bind_del -> hxs_napi__unthread -> io close
 *                        -> hxs_xdp__close -> hxs_netif__close
 * hxs_rawudp__resolve()  -> hxs_neigh__resolve() / hxs_netif__poll() until resolved or 3 s
 * hxs_rawudp__build_hdr() -> hxs_csum_ip4hdr()
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/napi.h"
#include "ctl/netif.h"
#include "hxs/xdp.h"
#include "io/xsk.h"
#include "lib/csum.h"
#include "rawudp.h"

#define RESOLVE_NS  3000000000ull    /* the kernel's ARP gets this long */
#define RESOLVE_US  10000            /* between polls of its answer */

uint64_t hxs_rawudp__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int hxs_rawudp__open(struct hxs_rawudp *r, const struct hxs_rawudp_opts *o)
{
	struct hxs_xsk_opts ko = HXS_XSK_OPTS_DEFAULT;
	struct hxs_xdp_opts xo = { 0 };
	struct hxs_rawudp n = { .prog = o->prog, .ifname = o->ifname, .port = o->port };
	int err;

	err = hxs_netif__open(&n.nif, o->ifname);
	if (err) {
		fprintf(stderr, "%s: %s: %s\n", o->prog, o->ifname, strerror(-err));
		return err;
	}
	xo.frags = o->frags_above_mtu && n.nif->mtu > o->frags_above_mtu;
	err = hxs_xdp__open(&n.x, o->ifname, &xo);
	if (err) {
		fprintf(stderr, "%s: XDP on %s: %s\n", o->prog, o->ifname, strerror(-err));
		goto close_netif;
	}
	ko.xsks_map_fd = hxs_xdp__map_fd(n.x, HXS_MAP_XSKS);
	ko.busy_poll_us = 20;
	if (o->frames)
		ko.frames = o->frames;
	if (o->ring_size)
		ko.ring_size = o->ring_size;
	if (o->sg_above && n.nif->mtu + 14 > o->sg_above)
		ko.max_frame = n.nif->mtu + 14;
	err = hxs_xsk__open(&n.io, o->ifname, &ko);
	if (err) {
		fprintf(stderr, "%s: AF_XDP on %s: %s\n", o->prog, o->ifname, strerror(-err));
		goto close_xdp;
	}
	if (o->napi) {
		err = hxs_napi__thread(o->ifname, o->napi_cpu);
		if (err < 0) {
			fprintf(stderr, "%s: threaded NAPI on %s: %s\n", o->prog, o->ifname,
				strerror(-err));
			goto close_io;
		}
		n.threaded = true;
	}
	hxs_addr_v4(n.addr, htonl(INADDR_ANY));
	err = hxs_xdp__bind_add(n.x, n.addr, htons(o->port), IPPROTO_UDP, 1, 0);
	if (err) {
		fprintf(stderr, "%s: steering UDP %d: %s\n", o->prog, o->port, strerror(-err));
		goto unthread;
	}
	n.bound = true;
	*r = n;
	return 0;

unthread:
	if (n.threaded)
		hxs_napi__unthread(o->ifname);
close_io:
	n.io->ops->close(n.io);
close_xdp:
	hxs_xdp__close(n.x);
close_netif:
	hxs_netif__close(n.nif);
	return err;
}

void hxs_rawudp__close(struct hxs_rawudp *r)
{
	if (r->bound)
		hxs_xdp__bind_del(r->x, r->addr, htons(r->port), IPPROTO_UDP);
	if (r->threaded)
		hxs_napi__unthread(r->ifname);
	if (r->io)
		r->io->ops->close(r->io);
	if (r->x)
		hxs_xdp__close(r->x);
	if (r->nif)
		hxs_netif__close(r->nif);
	memset(r, 0, sizeof(*r));
}

int hxs_rawudp__resolve(struct hxs_rawudp *r, uint32_t ip, uint8_t mac[6])
{
	uint64_t t0 = hxs_rawudp__now_ns();
	char s[INET_ADDRSTRLEN];
	int err;

	/* The kernel resolves the peer (the XDP program passes ARP up to it). */
	while ((err = hxs_neigh__resolve(r->nif, ip, mac)) == -EAGAIN &&
	       hxs_rawudp__now_ns() - t0 < RESOLVE_NS) {
		hxs_netif__poll(r->nif, NULL, NULL);
		usleep(RESOLVE_US);
	}
	if (err)
		fprintf(stderr, "%s: cannot resolve %s: %s\n", r->prog,
			inet_ntop(AF_INET, &ip, s, sizeof(s)), strerror(-err));
	return err;
}

void hxs_rawudp__build_hdr(uint8_t *f, uint32_t len, const uint8_t smac[6], const uint8_t dmac[6],
			   uint32_t sip, uint32_t dip, uint16_t sport, uint16_t dport)
{
	uint8_t *ip = f + 14, *udp = ip + 20;
	uint16_t tot = htons((uint16_t)(len - 14)), ul = htons((uint16_t)(len - 34));
	uint16_t sp = htons(sport), dp = htons(dport), c;

	memset(f, 0, HXS_RAWUDP_HDR_LEN);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08;                     /* EtherType IPv4 */
	ip[0] = 0x45;                     /* version 4, 5 words */
	memcpy(ip + 2, &tot, 2);
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &sip, 4);
	memcpy(ip + 16, &dip, 4);
	c = hxs_csum_fold(hxs_csum_ip4hdr(ip));
	memcpy(ip + 10, &c, 2);
	memcpy(udp, &sp, 2);
	memcpy(udp + 2, &dp, 2);
	memcpy(udp + 4, &ul, 2);          /* checksum 0: none, allowed over IPv4 (RFC 768) */
}

bool hxs_rawudp__ours(const uint8_t *f, uint32_t len, uint16_t port)
{
	uint16_t dp;

	if (len < HXS_RAWUDP_HDR_LEN || f[12] != 0x08 || f[13] != 0x00 || f[14] != 0x45 ||
	    f[23] != IPPROTO_UDP)
		return false;
	memcpy(&dp, f + 36, 2);
	return ntohs(dp) == port;
}
