/* rawudp.h - what the raw AF_XDP tools (hxs-xdp-pingpong, hxs-xdp-blast) have in common: one
 * interface's ends (netif, the hxs XDP program, the xsk backend, a UDP port steered to it,
 * threaded NAPI if asked) and the Ethernet + IPv4 + UDP frames they send and recognise.
 *
 *   struct hxs_rawudp r = { 0 };
 *   struct hxs_rawudp_opts o = { .prog = "hxs-xdp-blast", .ifname = "veth0", .port = 5401,
 *                                .frags_above_mtu = 3400, .sg_above = 4096 - 256 };
 *   hxs_rawudp__open(&r, &o)                 netif, XDP program, AF_XDP sockets, UDP steered
 *   hxs_rawudp__resolve(&r, ip, mac)         the kernel resolves the peer (3 s at most)
 *   hxs_rawudp__build_hdr(f, len, ...)       the 42 header bytes of a len-byte frame
 *   r.io->ops->rx_burst(...) ... hxs_rawudp__ours(f, len, port)
 *   hxs_rawudp__close(&r)                    safe on a zeroed or failed-to-open r
 *
 * Errors go to stderr as "PROG: what: why"; functions return 0 or a negative errno.
 */
#ifndef HXS_APP_RAWUDP_H
#define HXS_APP_RAWUDP_H

#include <stdbool.h>
#include <stdint.h>

#define HXS_RAWUDP_HDR_LEN 42         /* Ethernet + IPv4 (no options) + UDP */

struct hxs_rawudp_opts {
	const char *prog;             /* the program's name: the prefix of its error lines */
	const char *ifname;
	uint16_t port;                /* the UDP port steered to the sockets (host order) */
	uint32_t frags_above_mtu;     /* > 0: the multi-buffer XDP program when the MTU is above */
	uint32_t sg_above;            /* > 0: multi-buffer xsk when MTU + 14 is above this */
	uint32_t frames, ring_size;   /* UMEM frames and ring entries; 0: the xsk defaults */
	bool napi;                    /* threaded NAPI on the interface while open */
	int napi_cpu;                 /* its threads' CPU (-1: any) */
};

struct hxs_rawudp {
	struct hxs_netif *nif;
	struct hxs_xdp *x;
	struct hxs_io *io;
	const char *prog, *ifname;
	uint8_t addr[16];             /* the steered address: any IPv4 */
	uint16_t port;
	bool bound, threaded;
};

/* Opens r's ends as o says; on failure nothing stays open and r is as before. */
int hxs_rawudp__open(struct hxs_rawudp *r, const struct hxs_rawudp_opts *o);
/* Undoes what open did, in reverse; r is zeroed. */
void hxs_rawudp__close(struct hxs_rawudp *r);
/* The peer's MAC for IPv4 ip (network order), asking the kernel and waiting up to 3 s. */
int hxs_rawudp__resolve(struct hxs_rawudp *r, uint32_t ip, uint8_t mac[6]);

/* Writes the HXS_RAWUDP_HDR_LEN header bytes of a len-byte Ethernet frame (no FCS): IPv4
 * without options, TTL 64, ID 0, its checksum; UDP checksum 0. Addresses in network order,
 * ports in host order. The payload bytes f[42..len) are not touched. */
void hxs_rawudp__build_hdr(uint8_t *f, uint32_t len, const uint8_t smac[6], const uint8_t dmac[6],
			   uint32_t sip, uint32_t dip, uint16_t sport, uint16_t dport);
/* Whether f (len bytes) is an IPv4 (no options) UDP frame to port (host order). */
bool hxs_rawudp__ours(const uint8_t *f, uint32_t len, uint16_t port);
/* CLOCK_MONOTONIC in ns. */
uint64_t hxs_rawudp__now_ns(void);

#endif
