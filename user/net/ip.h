/* ip.h - IPv4 input and output, Internet checksums.
 *
 * Input:  hxs_eth_input() -> hxs_ip_input() -> st->l4[proto].input (UDP, TCP; stack.h)
 * Output, for UDP and TCP alike:
 *
 *   struct hxs_ip_tx tx;
 *   int err = hxs_ip_tx_alloc(st, &tx, dst, IPPROTO_TCP, l4_len);  route + a TX frame
 *   if (err) return err;                  -ENETUNREACH (no route), -EMSGSIZE (l4_len + 20
 *                                         exceeds the MTU), -EAGAIN (no free TX frame now)
 *   build the L4 header and payload at tx.l4 (tx.l4_len bytes); tx.src is the source
 *   address to put in the pseudo-header; tx.owner = &sk->txo to hear of neighbour errors
 *   err = hxs_ip_tx_send(st, &tx);        IPv4 header (ID, TTL 64, DF, checksum) + Ethernet;
 *                                         sent in this batch, or queued while the next hop
 *                                         is resolved; the frame is consumed even on error
 *   or hxs_ip_tx_abort(st, &tx);          give the frame back unsent
 *
 * A queued frame whose neighbour fails or does not resolve within HXS_NEIGH_TIMEOUT_US is
 * dropped (IpOutDiscards, HxsNeighFailedDrops) and EHOSTUNREACH is reported to tx.owner
 * through its error callback: this layer never names the socket behind it.
 */
#ifndef HXS_IP_H
#define HXS_IP_H

#include <stdint.h>

#include "ctl/netif.h"
#include "io/io.h"
#include "lib/csum.h"

struct hxs_stack;

/* Whoever sent a frame that may wait for its next hop (a socket embeds one): error() runs when
 * the frame is dropped unsent, with a positive errno (EHOSTUNREACH). */
struct hxs_tx_owner {
	void (*error)(struct hxs_tx_owner *o, int err);
};

#define HXS_ETH_HLEN   14
#define HXS_IP_HLEN    20
#define HXS_UDP_HLEN   8
#define HXS_IP_TTL     64

/* A received IPv4 datagram, as handed to L4. Addresses in network order. */
struct hxs_ip_rx {
	const uint8_t *iph;         /* IPv4 header */
	const uint8_t *l4;          /* L4 header */
	uint32_t l4_len;            /* from the IP total length (padding excluded) */
	uint32_t src, dst;
	uint8_t proto;
	uint8_t tos;
	uint16_t pad;
	const struct hxs_frame *frame;
};

struct hxs_ip_tx {
	struct hxs_frame f;         /* the TX frame */
	uint8_t *l4;                /* where the L4 header goes */
	uint32_t l4_len;
	uint32_t src, dst, nexthop; /* network order */
	uint8_t proto;
	uint8_t tos;
	uint8_t ttl;                /* 0: HXS_IP_TTL */
	uint8_t pad;
	struct hxs_tx_owner *owner; /* told EHOSTUNREACH if the neighbour never resolves */
};

int hxs_ip_tx_alloc(struct hxs_stack *st, struct hxs_ip_tx *tx, uint32_t dst, uint8_t proto,
		    uint32_t l4_len);
int hxs_ip_tx_send(struct hxs_stack *st, struct hxs_ip_tx *tx);
void hxs_ip_tx_abort(struct hxs_stack *st, struct hxs_ip_tx *tx);
/* Largest L4 length one frame carries to dst's interface (MTU - 20). */
uint32_t hxs_ip_max_l4(const struct hxs_stack *st);

/* Input from eth.c. The frame stays owned by the caller. */
void hxs_ip_input(struct hxs_stack *st, const struct hxs_frame *f, const uint8_t *iph, uint32_t len);
/* Input from the poll loop (eth.c). */
void hxs_eth_input(struct hxs_stack *st, const struct hxs_frame *f);
/* Frees every frame waiting on a neighbour (stack closing). */
void hxs_ip__drop_pending(struct hxs_stack *st);
/* Forgets o on every frame waiting for a neighbour (its owner is going away). */
void hxs_stack__forget_owner(struct hxs_stack *st, struct hxs_tx_owner *o);
/* Neighbour event (from netlink, or a test on the static control plane). */
void hxs_stack__neigh_event(struct hxs_stack *st, uint32_t ip, enum hxs_neigh_event ev,
			    const uint8_t mac[6]);

/* Internet checksum (RFC 1071): hxs_csum_add / hxs_csum_fold / hxs_csum_pseudo, csum.h. */

#endif
